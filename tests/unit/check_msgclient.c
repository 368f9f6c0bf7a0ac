/* proxy/msgclient.c, the client side of the CoAP message layer, driven datagram by datagram
 * (RFC 7252 s4, s5.2, s5.3.2, s5.4, s5.9; RFC 7641 s3, s4 for Observe registrations). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msgclient.h"
#include "recording_net.h"
#include "run_suite.h"

#define MS 1000000ull
#define S (1000 * MS)
static hcp_msgclient_t *mc;

static void setup(void)
{
    hcp_msgclient_config_t cfg = {
        .max_datagram = 1152, .ack_timeout_ns = 2 * S, .ack_random_factor = 1.5,
        .max_retransmit = 4, .random = counter_random, .send = record,
    };

    nsent = 0;
    next_random = 1;
    mc = hcp_msgclient_new(&cfg);
    ck_assert_ptr_nonnull(mc);
}

static void teardown(void)
{
    hcp_msgclient_free(mc);
}

static hcp_coap_peer_t server(uint8_t n)
{
    hcp_coap_peer_t p = { .len = 16 };

    p.bytes[0] = 2;
    p.bytes[7] = n;
    return p;
}

static const uint8_t token[4] = { 0xde, 0xad, 0xbe, 0xef };
static int user_a, user_b;

/* A GET /x to server 1, with Observe: 0 as a registration (RFC 7641 s3.1) when |observe|: its
 * Message ID. */
static uint16_t send_to_1(bool observe, bool confirmable, void *user, hcp_msgclient_request_t **out)
{
    hcm_coap_msg_t get = { .code = 1 };
    hcp_coap_peer_t p = server(1);
    hcp_msgclient_request_t *req;

    hcm_coap_msg_add(&get, 11, (hcm_bytes_t){ (const uint8_t *)"x", 1 });
    if (observe) {
        hcm_coap_msg_add(&get, HCM_OPT_OBSERVE, (hcm_bytes_t){ (const uint8_t *)"", 0 });
        req = hcp_msgclient_observe(mc, &p, confirmable, token, sizeof token, &get, user, 0);
    } else {
        req = hcp_msgclient_send(mc, &p, confirmable, token, sizeof token, &get, user, 0);
    }
    ck_assert_ptr_nonnull(req);
    if (out != NULL)
        *out = req;
    return (uint16_t)(sent[nsent - 1].dgram[2] << 8 | sent[nsent - 1].dgram[3]);
}

static uint16_t send_get(bool confirmable, void *user, hcp_msgclient_request_t **out)
{
    return send_to_1(false, confirmable, user, out);
}

/* A datagram from server |n|, given as hex with "MM" standing for |mid| and "TT" for the token. */
static hcp_msgclient_action_t from_server(uint8_t n, const char *hex, uint16_t mid, uint64_t now,
                                          hcp_msgclient_event_t *ev)
{
    uint8_t dgram[256];
    size_t len = 0;
    unsigned byte;
    hcp_coap_peer_t p = server(n);

    for (const char *c = hex; *c != '\0';) {
        if (*c == ' ') {
            c++;
        } else if (strncmp(c, "MM", 2) == 0) {
            dgram[len++] = (uint8_t)(mid >> 8);
            dgram[len++] = (uint8_t)mid;
            c += 2;
        } else if (strncmp(c, "TT", 2) == 0) {
            memcpy(dgram + len, token, sizeof token);
            len += sizeof token;
            c += 2;
        } else {
            ck_assert_int_eq(sscanf(c, "%2x", &byte), 1);
            dgram[len++] = (uint8_t)byte;
            c += 2;
        }
    }
    return hcp_msgclient_receive(mc, &p, dgram, len, now, ev);
}

static void expect_sent_empty(size_t i, enum hcm_coap_type type, uint16_t mid)
{
    ck_assert_uint_lt(i, nsent);
    ck_assert_uint_eq(sent[i].len, 4);
    ck_assert_uint_eq(sent[i].dgram[0] >> 4 & 3, type);
    ck_assert_uint_eq(sent[i].dgram[2] << 8 | sent[i].dgram[3], mid);
}

START_TEST(piggybacked_response)
{
    uint16_t mid = send_get(true, &user_a, NULL);
    hcp_msgclient_event_t ev;

    ck_assert_uint_eq(sent[0].dgram[0], 0x44); /* CON, token of 4 */
    ck_assert_int_eq(from_server(1, "64 45 MM TT ff 6f6b", mid, S, &ev), HCP_MSGCLIENT_RESPONSE);
    ck_assert_ptr_eq(ev.user, &user_a);
    ck_assert_uint_eq(ev.msg.code, 0x45);
    ck_assert_uint_eq(ev.msg.payload.len, 2);
    hcp_msgclient_tick(mc, 100 * S); /* nothing left to retransmit */
    ck_assert_uint_eq(nsent, 1);
}
END_TEST

/* s5.3.2: an ACK with another Message ID is not the response; the matching one is. */
START_TEST(ack_with_another_mid_is_ignored)
{
    uint16_t mid = send_get(true, &user_a, NULL);
    hcp_msgclient_event_t ev;

    ck_assert_int_eq(from_server(1, "64 45 MM TT ff 6f6b", (uint16_t)(mid + 1), S, &ev),
                     HCP_MSGCLIENT_DONE);
    ck_assert_int_eq(from_server(2, "64 45 MM TT ff 6f6b", mid, S, &ev), HCP_MSGCLIENT_DONE);
    ck_assert_int_eq(from_server(1, "64 45 MM TT ff 6f6b", mid, S, &ev), HCP_MSGCLIENT_RESPONSE);
}
END_TEST

START_TEST(piggybacked_response_with_another_token_is_ignored)
{
    uint16_t mid = send_get(true, &user_a, NULL);
    hcp_msgclient_event_t ev;

    ck_assert_int_eq(from_server(1, "64 45 MM 01020304", mid, S, &ev), HCP_MSGCLIENT_DONE);
    ck_assert_int_eq(from_server(1, "64 45 MM TT", mid, S, &ev), HCP_MSGCLIENT_RESPONSE);
}
END_TEST

/* s5.2.2: empty ACK, then a CON response, acknowledged; a duplicate of it is acknowledged again
 * but not handed over twice (s4.5). */
START_TEST(separate_response_and_its_duplicate)
{
    uint16_t mid = send_get(true, &user_a, NULL);
    hcp_msgclient_event_t ev;

    ck_assert_int_eq(from_server(1, "60 00 MM", mid, S, &ev), HCP_MSGCLIENT_ACKED);
    ck_assert_ptr_eq(ev.user, &user_a);
    hcp_msgclient_tick(mc, 50 * S); /* acknowledged: not retransmitted */
    ck_assert_uint_eq(nsent, 1);
    ck_assert_int_eq(from_server(1, "44 45 MM TT ff 6f6b", 0x7777, 60 * S, &ev),
                     HCP_MSGCLIENT_RESPONSE);
    ck_assert_ptr_eq(ev.user, &user_a);
    expect_sent_empty(1, HCM_ACK, 0x7777);
    ck_assert_int_eq(from_server(1, "44 45 MM TT ff 6f6b", 0x7777, 62 * S, &ev),
                     HCP_MSGCLIENT_DONE);
    expect_sent_empty(2, HCM_ACK, 0x7777);
    /* After EXCHANGE_LIFETIME it matches nothing any more: Reset. */
    ck_assert_int_eq(from_server(1, "44 45 MM TT ff 6f6b", 0x7777, 400 * S, &ev),
                     HCP_MSGCLIENT_DONE);
    expect_sent_empty(3, HCM_RST, 0x7777);
}
END_TEST

/* The empty ACK was lost: the CON response acknowledges the request too. */
START_TEST(separate_response_without_the_empty_ack)
{
    send_get(true, &user_a, NULL);
    hcp_msgclient_event_t ev;

    ck_assert_int_eq(from_server(1, "44 45 MM TT", 0x1234, S, &ev), HCP_MSGCLIENT_RESPONSE);
    hcp_msgclient_tick(mc, 50 * S);
    ck_assert_uint_eq(nsent, 2); /* the request and the ACK; no retransmission */
}
END_TEST

START_TEST(non_request_and_non_response)
{
    hcp_msgclient_event_t ev;

    send_get(false, &user_b, NULL);
    ck_assert_uint_eq(sent[0].dgram[0] >> 4 & 3, HCM_NON);
    hcp_msgclient_tick(mc, 10 * S);
    ck_assert_uint_eq(nsent, 1);
    ck_assert_int_eq(from_server(1, "54 45 MM TT", 0x4321, 11 * S, &ev), HCP_MSGCLIENT_RESPONSE);
    ck_assert_ptr_eq(ev.user, &user_b);
    ck_assert_uint_eq(nsent, 1); /* a NON is not acknowledged */
}
END_TEST

/* s4.2: ACK_TIMEOUT x (1 to 1.5), doubled each time, MAX_RETRANSMIT times; then a timeout. */
START_TEST(retransmissions_then_timeout)
{
    uint64_t now = 0, first;

    send_get(true, &user_a, NULL);
    first = hcp_msgclient_next_deadline(mc);
    ck_assert_uint_ge(first, 2 * S);
    ck_assert_uint_le(first, 3 * S);
    for (int i = 1; i <= 4; i++) {
        now = hcp_msgclient_next_deadline(mc);
        hcp_msgclient_tick(mc, now);
        ck_assert_uint_eq(nsent, 1 + (size_t)i);
        ck_assert_mem_eq(sent[i].dgram, sent[0].dgram, sent[0].len);
        ck_assert_ptr_null(hcp_msgclient_next_timeout(mc));
    }
    hcp_msgclient_tick(mc, hcp_msgclient_next_deadline(mc));
    ck_assert_ptr_eq(hcp_msgclient_next_timeout(mc), &user_a);
    ck_assert_ptr_null(hcp_msgclient_next_timeout(mc));
    ck_assert_uint_eq(hcp_msgclient_next_deadline(mc), UINT64_MAX);
}
END_TEST

START_TEST(reset_rejects_the_request)
{
    uint16_t mid = send_get(true, &user_a, NULL);
    hcp_msgclient_event_t ev;

    ck_assert_int_eq(from_server(1, "70 00 MM", mid, S, &ev), HCP_MSGCLIENT_REJECTED);
    ck_assert_ptr_eq(ev.user, &user_a);
    ck_assert_ptr_nonnull(ev.note);
}
END_TEST

/* s5.4.1, s5.4.3: what a response's options do to it. */
static const struct {
    const char *clause;
    const char *options_hex; /* after the token */
    hcp_msgclient_action_t action;
    unsigned nopts_left;
} option_rows[] = {
    { "s5.4.1 an unrecognized elective option is ignored", "e1 fcdb 01",
      HCP_MSGCLIENT_RESPONSE, 0 },
    { "s5.4.1 an unrecognized critical option rejects the response", "e1 fcdc 01",
      HCP_MSGCLIENT_REJECTED, 0 },
    { "s5.4.3 a Max-Age of 5 bytes is ignored", "d5 01 0102030405", HCP_MSGCLIENT_RESPONSE, 0 },
    { "s5.4.3 an ETag of 0 bytes is ignored", "40", HCP_MSGCLIENT_RESPONSE, 0 },
    { "s5.4.3 a Content-Format of 3 bytes is ignored", "c3 000000", HCP_MSGCLIENT_RESPONSE, 0 },
    { "s5.4.3 a Block2 of 4 bytes rejects it", "d4 0a 00000000", HCP_MSGCLIENT_REJECTED, 0 },
    { "s5.4.5 a repeated Max-Age: the first stays", "d1 01 0a 01 0b", HCP_MSGCLIENT_RESPONSE, 1 },
};

START_TEST(response_options)
{
    char hex[128];
    uint16_t mid = send_get(true, &user_a, NULL);
    hcp_msgclient_event_t ev;

    snprintf(hex, sizeof hex, "64 45 MM TT %s", option_rows[_i].options_hex);
    ck_assert_msg(from_server(1, hex, mid, S, &ev) == option_rows[_i].action, "%s",
                  option_rows[_i].clause);
    if (option_rows[_i].action == HCP_MSGCLIENT_RESPONSE)
        ck_assert_uint_eq(ev.msg.nopts, option_rows[_i].nopts_left);
}
END_TEST

/* A CON response with an unrecognized critical option is rejected with a Reset (s5.4.1). */
START_TEST(rejected_con_response_is_reset)
{
    hcp_msgclient_event_t ev;

    send_get(true, &user_a, NULL);
    ck_assert_int_eq(from_server(1, "44 45 MM TT d4 0a 00000000", 0x2222, S, &ev),
                     HCP_MSGCLIENT_REJECTED);
    expect_sent_empty(1, HCM_RST, 0x2222);
}
END_TEST

/* s5.9: a response of a reserved class (1, 3, 6, 7) is not a response. */
START_TEST(reserved_class_rejects)
{
    uint16_t mid = send_get(true, &user_a, NULL);
    hcp_msgclient_event_t ev;

    ck_assert_int_eq(from_server(1, "64 e1 MM TT", mid, S, &ev), HCP_MSGCLIENT_REJECTED);
}
END_TEST

/* What matches no request. */
static const struct {
    const char *clause;
    const char *hex;
    bool is_reset;
} stray_rows[] = {
    { "s3 version 2 is ignored", "a4 45 MM TT", false },
    { "s5.3.2 a CON response that matches no request is Reset", "44 45 MM 01020304", true },
    { "s4.3 a NON response that matches none is ignored", "54 45 MM 01020304", false },
    { "s4.3 an Empty CON (a ping) is Reset", "40 00 MM", true },
    { "s4.2 a request from the server is Reset", "44 01 MM TT", true },
    { "s4.2 a malformed CON is Reset", "4f 45 MM", true },
    { "s4.2 a stray ACK is ignored", "60 00 MM", false },
};

START_TEST(stray_datagrams)
{
    hcp_msgclient_event_t ev;

    ck_assert_int_eq(from_server(1, stray_rows[_i].hex, 0x3333, S, &ev), HCP_MSGCLIENT_DONE);
    if (stray_rows[_i].is_reset)
        expect_sent_empty(0, HCM_RST, 0x3333);
    else
        ck_assert_msg(nsent == 0, "%s", stray_rows[_i].clause);
}
END_TEST

START_TEST(cancelled_request_matches_nothing)
{
    hcp_msgclient_request_t *req;
    uint16_t mid = send_get(true, &user_a, &req);
    hcp_msgclient_event_t ev;
    hcp_msgclient_stats_t st;

    hcp_msgclient_cancel(mc, req);
    hcp_msgclient_tick(mc, 100 * S);
    ck_assert_uint_eq(nsent, 1);
    ck_assert_int_eq(from_server(1, "64 45 MM TT", mid, S, &ev), HCP_MSGCLIENT_DONE);
    ck_assert_int_eq(from_server(1, "54 45 MM TT", mid + 1, S, &ev), HCP_MSGCLIENT_DONE);
    ck_assert_int_eq(from_server(1, "44 45 MM TT", mid + 2, S, &ev), HCP_MSGCLIENT_DONE);
    expect_sent_empty(1, HCM_RST, (uint16_t)(mid + 2));
    ck_assert_int_eq(from_server(1, "60 00 MM", mid, S, &ev),
                     HCP_MSGCLIENT_DONE); /* not a response */
    hcp_msgclient_stats(mc, &st);
    ck_assert_uint_eq(st.requests, 0);
    ck_assert_uint_eq(st.late, 3); /* the piggybacked, the NON and the CON response */
}
END_TEST

START_TEST(message_ids_are_distinct)
{
    hcp_msgclient_event_t ev;
    uint16_t a = send_get(true, &user_a, NULL);
    uint16_t b;

    next_random = sent[0].dgram[2]; /* the generator would give the same Message ID again */
    b = send_get(true, &user_b, NULL);
    ck_assert_uint_ne(a, b);
    ck_assert_int_eq(from_server(1, "60 00 MM", b, S, &ev), HCP_MSGCLIENT_ACKED);
    ck_assert_ptr_eq(ev.user, &user_b);
}
END_TEST

/* ---- Observe (RFC 7641) ----------------------------------------------------------------------
 * Datagrams from the server carry Observe as "61 NN" (option 6, 1 byte) or "63 NNNNNN" (3 bytes)
 * right after the token. */

static uint16_t send_observe(bool confirmable, void *user, hcp_msgclient_request_t **out)
{
    return send_to_1(true, confirmable, user, out);
}

/* A registration answered with a piggybacked notification of Observe |first| at 1 s. */
static void registered(uint32_t first, hcp_msgclient_request_t **out)
{
    char hex[64];
    hcp_msgclient_event_t ev;
    uint16_t mid = send_observe(true, &user_a, out);

    snprintf(hex, sizeof hex, "64 45 MM TT 63 %06x ff 6f6b", (unsigned)first);
    ck_assert_int_eq(from_server(1, hex, mid, S, &ev), HCP_MSGCLIENT_NOTIFICATION);
    ck_assert_uint_eq(ev.observe, first);
    nsent = 0;
}

static hcp_msgclient_stats_t stats(void)
{
    hcp_msgclient_stats_t st;

    hcp_msgclient_stats(mc, &st);
    return st;
}

/* One datagram of a scripted exchange after registered(): what it is, from server 1 at |now_s|
 * seconds, and what comes of it: the action, the Observe value delivered, and the empty message
 * sent back for its Message ID (ACK, RST, or none: -1). */
typedef struct step {
    const char *hex;
    uint16_t mid;
    unsigned now_s;
    hcp_msgclient_action_t action;
    uint32_t observe;
    int reply;
} step_t;

/* Plays |steps| up to the one without hex, failing with |clause| and the step's index. */
static void play(const char *clause, const step_t *steps)
{
    hcp_msgclient_event_t ev;

    for (size_t i = 0; steps[i].hex != NULL; i++) {
        size_t before = nsent;
        ck_assert_msg(from_server(1, steps[i].hex, steps[i].mid, steps[i].now_s * S, &ev) ==
                          steps[i].action, "%s: step %zu", clause, i);
        if (steps[i].action == HCP_MSGCLIENT_NOTIFICATION) {
            ck_assert_ptr_eq(ev.user, &user_a);
            ck_assert_msg(ev.observe == steps[i].observe, "%s: step %zu", clause, i);
        }
        ck_assert_msg(nsent == before + (steps[i].reply >= 0), "%s: step %zu", clause, i);
        if (steps[i].reply >= 0)
            expect_sent_empty(before, (enum hcm_coap_type)steps[i].reply, steps[i].mid);
    }
}

#define NOTIFIED HCP_MSGCLIENT_NOTIFICATION
#define DROPPED HCP_MSGCLIENT_DONE
#define NO_REPLY (-1)

/* s3.2: the registration's answer, with Observe, is a notification; the request stays held, its
 * token still matched, and nothing is retransmitted. */
START_TEST(rfc7641_3_2_first_response_with_observe_keeps_the_request)
{
    uint16_t mid = send_observe(true, &user_a, NULL);
    hcp_msgclient_event_t ev;

    ck_assert_uint_eq(sent[0].len, 11); /* CON GET, token, Observe: 0, Uri-Path "x" */
    ck_assert_mem_eq(sent[0].dgram + 8, "\x60\x51\x78", 3);
    ck_assert_int_eq(from_server(1, "64 45 MM TT 61 05 ff 6f6b", mid, S, &ev),
                     HCP_MSGCLIENT_NOTIFICATION);
    ck_assert_ptr_eq(ev.user, &user_a);
    ck_assert_uint_eq(ev.observe, 5);
    ck_assert_uint_eq(ev.msg.payload.len, 2);
    ck_assert_uint_eq(stats().requests, 1);
    ck_assert_uint_eq(stats().observations, 1);
    ck_assert_uint_eq(stats().notifications, 1);
    hcp_msgclient_tick(mc, 100 * S);
    ck_assert_uint_eq(nsent, 1);
    ck_assert_int_eq(from_server(1, "54 45 MM TT 61 06", 0x5000, 2 * S, &ev),
                     HCP_MSGCLIENT_NOTIFICATION);
    ck_assert_ptr_eq(ev.user, &user_a);
}
END_TEST

/* s4.5, RFC 7252 s5.2.2: a notification in a CON is acknowledged and delivered. The empty ACK
 * of the registration was lost: the CON notification acknowledges it (no retransmission). */
START_TEST(rfc7641_4_5_con_notification_acked_and_delivered)
{
    hcp_msgclient_event_t ev;

    send_observe(true, &user_a, NULL);
    ck_assert_int_eq(from_server(1, "44 45 MM TT 61 07 ff 6869", 0x5001, S, &ev),
                     HCP_MSGCLIENT_NOTIFICATION);
    ck_assert_ptr_eq(ev.user, &user_a);
    ck_assert_uint_eq(ev.observe, 7);
    ck_assert_uint_eq(ev.msg.payload.len, 2);
    ck_assert_uint_eq(nsent, 2);
    expect_sent_empty(1, HCM_ACK, 0x5001);
    hcp_msgclient_tick(mc, 100 * S);
    ck_assert_uint_eq(nsent, 2);
    ck_assert_int_eq(from_server(1, "44 45 MM TT 61 08", 0x5002, 101 * S, &ev),
                     HCP_MSGCLIENT_NOTIFICATION);
    expect_sent_empty(2, HCM_ACK, 0x5002);
}
END_TEST

/* Notifications after a registration answered with Observe |first| at 1 s, datagram by datagram,
 * then the counts they leave. */
static const struct {
    const char *clause;
    uint32_t first;
    step_t steps[5];
    uint64_t notifications, duplicates, stale;
} notification_rows[] = {
    /* RFC 7252 s4.5: a CON notification received again is acknowledged again and delivered once,
     * for EXCHANGE_LIFETIME: even after 128 s, when its value alone would pass for newer. */
    { "rfc7252_4_5_duplicate_con_notification_reacked_not_redelivered", 5,
      { { "44 45 MM TT 61 06", 0x5001, 2, NOTIFIED, 6, HCM_ACK },
        { "44 45 MM TT 61 06", 0x5001, 5, DROPPED, 0, HCM_ACK },
        { "44 45 MM TT 61 06", 0x5001, 140, DROPPED, 0, HCM_ACK } },
      2, 2, 0 },
    /* RFC 7641 s4.5: a NON notification is delivered, not acknowledged; received again within
     * NON_LIFETIME (RFC 7252 s4.5, s4.8.2) it is ignored, even after 128 s. */
    { "rfc7641_4_5_non_notification_delivered", 5,
      { { "54 45 MM TT 61 06", 0x5001, 2, NOTIFIED, 6, NO_REPLY },
        { "54 45 MM TT 61 06", 0x5001, 140, DROPPED, 0, NO_REPLY } },
      2, 1, 0 },
    /* s3.4: older than the newest delivered (or as old): not delivered, a CON one still
     * acknowledged; a newer one after it is delivered. */
    { "rfc7641_3_4_older_notification_not_delivered", 5,
      { { "44 45 MM TT 61 07", 0x5001, 2, NOTIFIED, 7, HCM_ACK },
        { "44 45 MM TT 61 06", 0x5002, 3, DROPPED, 0, HCM_ACK },
        { "54 45 MM TT 61 07", 0x5003, 3, DROPPED, 0, NO_REPLY },
        { "54 45 MM TT 61 08", 0x5004, 4, NOTIFIED, 8, NO_REPLY } },
      3, 0, 2 },
    /* s3.4: 24-bit serial numbers: 1 is newer than 2^24 - 2, 2^24 - 3 older than 1, and a jump
     * of more than 2^23 forward is older. */
    { "rfc7641_3_4_wrap_around_accepted", 0xfffffe,
      { { "54 45 MM TT 61 01", 0x5001, 2, NOTIFIED, 1, NO_REPLY },
        { "54 45 MM TT 63 fffffd", 0x5002, 3, DROPPED, 0, NO_REPLY },
        { "54 45 MM TT 63 900000", 0x5003, 4, DROPPED, 0, NO_REPLY } },
      2, 0, 2 },
    /* s3.4: more than 128 s after the newest delivered any value is newer (the server may have
     * restarted its count); 119 s after, an older one is still dropped; the newest is then 9 at
     * 130 s, and 8 a second later is older. */
    { "rfc7641_3_4_after_128_s_any_value_is_newer", 10,
      { { "54 45 MM TT 61 09", 0x5001, 120, DROPPED, 0, NO_REPLY },
        { "54 45 MM TT 61 09", 0x5002, 130, NOTIFIED, 9, NO_REPLY },
        { "54 45 MM TT 61 08", 0x5003, 131, DROPPED, 0, NO_REPLY } },
      2, 0, 2 },
};

START_TEST(notifications)
{
    const char *clause = notification_rows[_i].clause;

    registered(notification_rows[_i].first, NULL);
    play(clause, notification_rows[_i].steps);
    ck_assert_msg(stats().notifications == notification_rows[_i].notifications, "%s", clause);
    ck_assert_msg(stats().duplicates == notification_rows[_i].duplicates, "%s", clause);
    ck_assert_msg(stats().stale == notification_rows[_i].stale, "%s", clause);
    ck_assert_uint_eq(stats().requests, 1);
}
END_TEST

/* s3.2: a response without Observe is the server's last word: delivered as the response, the
 * request over; a notification for the token after it matches nothing and is Reset (s3.6). */
START_TEST(rfc7641_3_2_response_without_observe_ends_it)
{
    hcp_msgclient_event_t ev;

    registered(5, NULL);
    ck_assert_int_eq(from_server(1, "44 45 MM TT ff 6279 65", 0x5001, 2 * S, &ev),
                     HCP_MSGCLIENT_RESPONSE);
    ck_assert_ptr_eq(ev.user, &user_a);
    expect_sent_empty(0, HCM_ACK, 0x5001);
    ck_assert_uint_eq(stats().requests, 0);
    ck_assert_uint_eq(stats().observations, 0);
    ck_assert_int_eq(from_server(1, "44 45 MM TT 61 06", 0x5002, 3 * S, &ev),
                     HCP_MSGCLIENT_DONE);
    expect_sent_empty(1, HCM_RST, 0x5002);
}
END_TEST

/* s4.2: an error ends the observation, with or without an Observe option (which s4.2 says it
 * does not carry). */
static const struct {
    const char *hex;
    uint8_t code;
} error_rows[] = {
    { "54 84 MM TT", 0x84 },       /* 4.04 */
    { "54 a3 MM TT 61 06", 0xa3 }, /* 5.03 with an Observe option all the same */
};

START_TEST(rfc7641_4_2_error_response_ends_it)
{
    hcp_msgclient_event_t ev;

    registered(5, NULL);
    ck_assert_int_eq(from_server(1, error_rows[_i].hex, 0x5001, 2 * S, &ev),
                     HCP_MSGCLIENT_RESPONSE);
    ck_assert_uint_eq(ev.msg.code, error_rows[_i].code);
    ck_assert_uint_eq(stats().requests, 0);
    ck_assert_uint_eq(stats().observations, 0);
}
END_TEST

/* RFC 7252 s5.4.3: an Observe of 4 bytes is not recognized, an elective option ignored: the
 * response is one without Observe, the last (RFC 7641 s3.2). */
START_TEST(rfc7252_5_4_3_observe_of_4_bytes_ends_it)
{
    uint16_t mid = send_observe(true, &user_a, NULL);
    hcp_msgclient_event_t ev;

    ck_assert_int_eq(from_server(1, "64 45 MM TT 64 00000005", mid, S, &ev),
                     HCP_MSGCLIENT_RESPONSE);
    ck_assert_uint_eq(ev.msg.nopts, 0);
    ck_assert_uint_eq(stats().observations, 0);
}
END_TEST

/* RFC 7252 s4.2: the server Resets the registration: it is over. */
START_TEST(rfc7641_3_1_reset_registration_is_over)
{
    uint16_t mid = send_observe(true, &user_a, NULL);
    hcp_msgclient_event_t ev;

    ck_assert_int_eq(from_server(1, "70 00 MM", mid, S, &ev), HCP_MSGCLIENT_REJECTED);
    ck_assert_ptr_eq(ev.user, &user_a);
    ck_assert_uint_eq(stats().observations, 0);
}
END_TEST

/* s3.6: after a cancel, the client forgets the observation; the next notification, CON or NON,
 * is answered with a Reset, which ends the server's registration (s4.2). A NON response without
 * Observe that matches nothing is still ignored (RFC 7252 s4.3). */
static const struct {
    const char *hex;
    bool is_reset;
} cancel_rows[] = {
    { "44 45 MM TT 61 06", true },
    { "54 45 MM TT 61 06", true },
    { "54 45 MM TT", false },
};

START_TEST(rfc7641_3_6_cancel_then_notification_is_reset)
{
    hcp_msgclient_request_t *req;
    hcp_msgclient_event_t ev;

    registered(5, &req);
    hcp_msgclient_cancel(mc, req);
    ck_assert_uint_eq(stats().observations, 0);
    ck_assert_int_eq(from_server(1, cancel_rows[_i].hex, 0x5001, 2 * S, &ev),
                     HCP_MSGCLIENT_DONE);
    if (cancel_rows[_i].is_reset)
        expect_sent_empty(0, HCM_RST, 0x5001);
    else
        ck_assert_uint_eq(nsent, 0);
}
END_TEST

/* A plain request is over with its response, Observe option or not; and a registration must say
 * Observe: 0. */
/* s3.3.1: a re-registration goes out again with the same token and a fresh Message ID, is
 * retransmitted until acknowledged, and its answer is the next notification (s4.1: the server
 * renews the entry it holds for that token). A plain request cannot be re-registered. */
START_TEST(rfc7641_3_3_1_reregistration_same_token_new_mid)
{
    hcp_msgclient_request_t *req, *plain;
    hcp_msgclient_event_t ev;
    uint16_t mid;

    registered(3, &req);
    ck_assert(hcp_msgclient_reregister(mc, req, 70 * S));
    ck_assert_uint_eq(nsent, 1);
    mid = (uint16_t)(sent[0].dgram[2] << 8 | sent[0].dgram[3]);
    ck_assert_uint_eq(sent[0].dgram[0], 0x44); /* CON, the token of the registration */
    ck_assert_mem_eq(sent[0].dgram + 4, token, sizeof token);
    ck_assert_mem_eq(sent[0].dgram + 8, "\x60\x51\x78", 3); /* Observe: 0, Uri-Path "x" */
    hcp_msgclient_tick(mc, 74 * S); /* unacknowledged: retransmitted with its Message ID */
    ck_assert_uint_eq(nsent, 2);
    ck_assert_uint_eq(sent[1].dgram[2] << 8 | sent[1].dgram[3], mid);
    ck_assert(!hcp_msgclient_reregister(mc, req, 74 * S)); /* not while it waits for its ACK */
    ck_assert_uint_eq(nsent, 2);
    ck_assert_int_eq(from_server(1, "64 45 MM TT 61 04 ff 6f6b", mid, 75 * S, &ev),
                     HCP_MSGCLIENT_NOTIFICATION);
    ck_assert_uint_eq(ev.observe, 4);
    hcp_msgclient_tick(mc, 100 * S);
    ck_assert_uint_eq(nsent, 2);
    ck_assert_uint_eq(stats().observations, 1);
    send_get(true, &user_b, &plain);
    ck_assert(!hcp_msgclient_reregister(mc, plain, 101 * S));
}
END_TEST

/* s3.3.1, RFC 7252 s4.2: a re-registration the server never acknowledges times out after
 * MAX_RETRANSMIT retransmissions, and that ends the observation; re-registering again meanwhile
 * does not start it over. */
START_TEST(rfc7641_3_3_1_unanswered_reregistration_times_out)
{
    hcp_msgclient_request_t *req;
    uint64_t t = 70 * S;

    registered(3, &req);
    ck_assert(hcp_msgclient_reregister(mc, req, t));
    for (int i = 0; i < 40 && hcp_msgclient_next_deadline(mc) != UINT64_MAX; i++) {
        t = hcp_msgclient_next_deadline(mc);
        hcp_msgclient_tick(mc, t);
        if (hcp_msgclient_next_deadline(mc) == 0)
            break;
        ck_assert(!hcp_msgclient_reregister(mc, req, t));
    }
    ck_assert_uint_eq(nsent, 1 + 4); /* the re-registration and MAX_RETRANSMIT more */
    ck_assert_ptr_eq(hcp_msgclient_next_timeout(mc), &user_a);
    ck_assert_uint_eq(stats().observations, 0);
}
END_TEST

START_TEST(plain_request_ends_with_a_response_carrying_observe)
{
    uint16_t mid = send_get(true, &user_a, NULL);
    hcp_msgclient_event_t ev;
    hcm_coap_msg_t get = { .code = 1 };
    hcp_coap_peer_t p = server(1);

    ck_assert_int_eq(from_server(1, "64 45 MM TT 61 05", mid, S, &ev), HCP_MSGCLIENT_RESPONSE);
    ck_assert_uint_eq(stats().requests, 0);
    ck_assert_uint_eq(stats().notifications, 0);
    ck_assert_ptr_null(hcp_msgclient_observe(mc, &p, true, token, sizeof token, &get, NULL, 0));
    hcm_coap_msg_add(&get, HCM_OPT_OBSERVE, (hcm_bytes_t){ (const uint8_t *)"\x01", 1 });
    ck_assert_ptr_null(hcp_msgclient_observe(mc, &p, true, token, sizeof token, &get, NULL, 0));
}
END_TEST

static Suite *msgclient_suite(void)
{
    Suite *s = suite_create("msgclient");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, piggybacked_response);
    tcase_add_test(tc, ack_with_another_mid_is_ignored);
    tcase_add_test(tc, piggybacked_response_with_another_token_is_ignored);
    tcase_add_test(tc, separate_response_and_its_duplicate);
    tcase_add_test(tc, separate_response_without_the_empty_ack);
    tcase_add_test(tc, non_request_and_non_response);
    tcase_add_test(tc, retransmissions_then_timeout);
    tcase_add_test(tc, reset_rejects_the_request);
    tcase_add_loop_test(tc, response_options, 0, HCM_COUNTOF(option_rows));
    tcase_add_test(tc, rejected_con_response_is_reset);
    tcase_add_test(tc, reserved_class_rejects);
    tcase_add_loop_test(tc, stray_datagrams, 0, HCM_COUNTOF(stray_rows));
    tcase_add_test(tc, cancelled_request_matches_nothing);
    tcase_add_test(tc, message_ids_are_distinct);
    tcase_add_test(tc, rfc7641_3_2_first_response_with_observe_keeps_the_request);
    tcase_add_test(tc, rfc7641_4_5_con_notification_acked_and_delivered);
    tcase_add_loop_test(tc, notifications, 0, HCM_COUNTOF(notification_rows));
    tcase_add_test(tc, rfc7641_3_2_response_without_observe_ends_it);
    tcase_add_loop_test(tc, rfc7641_4_2_error_response_ends_it, 0, HCM_COUNTOF(error_rows));
    tcase_add_test(tc, rfc7252_5_4_3_observe_of_4_bytes_ends_it);
    tcase_add_test(tc, rfc7641_3_1_reset_registration_is_over);
    tcase_add_loop_test(tc, rfc7641_3_6_cancel_then_notification_is_reset, 0,
                        HCM_COUNTOF(cancel_rows));
    tcase_add_test(tc, rfc7641_3_3_1_reregistration_same_token_new_mid);
    tcase_add_test(tc, rfc7641_3_3_1_unanswered_reregistration_times_out);
    tcase_add_test(tc, plain_request_ends_with_a_response_carrying_observe);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(msgclient_suite());
}

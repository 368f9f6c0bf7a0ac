/* proxy/msglayer.c, the server side of the CoAP message layer, driven datagram by datagram: what
 * it delivers, what it sends, and when (RFC 7252 s4, s5.2, s11.3; RFC 9175 s2.4). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msglayer.h"
#include "recording_net.h"
#include "run_suite.h"

#define MS 1000000ull
#define S (1000 * MS)
#define PIGGYBACK (500 * MS)

static hcp_msglayer_t *ml;
static hcp_msglayer_config_t cfg;

static void setup_with(unsigned amplification, size_t max_entries, size_t max_bytes)
{
    nsent = 0;
    next_random = 1;
    cfg = (hcp_msglayer_config_t){
        .piggyback_ns = PIGGYBACK, .max_entries = max_entries, .max_bytes = max_bytes,
        .amplification = amplification, .max_datagram = 1152,
        .random = counter_random, .send = record,
    };
    ml = hcp_msglayer_new(&cfg);
    ck_assert_ptr_nonnull(ml);
}

static void setup(void)
{
    setup_with(0, 1000, 1 << 20);
}

static void teardown(void)
{
    hcp_msglayer_free(ml);
    ml = NULL;
}

static hcp_coap_peer_t peer(uint8_t n)
{
    hcp_coap_peer_t p = { .len = 16 };

    p.bytes[0] = 2; /* AF_INET, port 5683, 10.0.0.n */
    p.bytes[2] = 0x16;
    p.bytes[3] = 0x33;
    p.bytes[4] = 10;
    p.bytes[7] = n;
    return p;
}

/* A request: |type| CON or NON, GET /x with |mid| and token 0xa1 0xa2 (|extra| more bytes of
 * Uri-Path make it longer). */
static size_t request(uint8_t *dgram, enum hcm_coap_type type, uint16_t mid, size_t extra)
{
    hcm_coap_header_t h = { .type = (uint8_t)type, .mid = mid, .token_len = 2,
                            .token = { 0xa1, 0xa2 } };
    static const uint8_t path[64] = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
    hcm_coap_msg_t m = { .code = 1, .nopts = 1 };

    m.opts[0] = (hcm_option_t){ .number = 11, .value = { path, 1 + extra } };
    return hcm_coap_encode(&h, &m, dgram, 256);
}

static hcp_msglayer_action_t receive(uint8_t who, const uint8_t *dgram, size_t len, uint64_t now,
                                     hcp_msglayer_event_t *ev)
{
    hcp_coap_peer_t p = peer(who);

    return hcp_msglayer_receive(ml, &p, dgram, len, now, ev);
}

/* Delivers a fresh request and returns its exchange. */
static hcp_msglayer_exchange_t *deliver(uint8_t who, enum hcm_coap_type type, uint16_t mid,
                                        uint64_t now)
{
    uint8_t dgram[256];
    hcp_msglayer_event_t ev;

    ck_assert_int_eq(receive(who, dgram, request(dgram, type, mid, 0), now, &ev),
                     HCP_MSGLAYER_REQUEST);
    ck_assert_int_eq(ev.header.mid, mid);
    ck_assert_uint_eq(ev.msg.code, 1);
    return ev.exchange;
}

static const hcm_coap_msg_t content = { .code = 2 << 5 | 5,
                                        .payload = { (const uint8_t *)"hello", 5 } };

/* The |i|th datagram sent, decoded. */
static hcm_coap_header_t sent_header(size_t i, hcm_coap_msg_t *msg)
{
    hcm_coap_header_t h;
    hcm_coap_msg_t m;

    ck_assert_uint_lt(i, nsent);
    ck_assert_int_eq(hcm_coap_decode((hcm_bytes_t){ sent[i].dgram, sent[i].len }, &h, &m, NULL),
                     HCM_WIRE_MESSAGE);
    if (msg != NULL)
        *msg = m;
    return h;
}

static void expect_empty(size_t i, enum hcm_coap_type type, uint16_t mid)
{
    hcm_coap_msg_t m;
    hcm_coap_header_t h = sent_header(i, &m);

    ck_assert_uint_eq(sent[i].len, 4);
    ck_assert_int_eq(h.type, type);
    ck_assert_int_eq(h.mid, mid);
    ck_assert_uint_eq(m.code, 0);
}

/* ---- RFC 7252 s5.2: piggybacked and separate answers ----------------------------------------- */

START_TEST(answer_within_the_wait_is_piggybacked)
{
    hcp_msglayer_exchange_t *x = deliver(1, HCM_CON, 0x1000, 0);
    hcm_coap_msg_t m;
    hcm_coap_header_t h;

    hcp_msglayer_tick(ml, PIGGYBACK - 1);
    ck_assert_uint_eq(nsent, 0);
    ck_assert_int_eq(hcp_msglayer_answer(ml, x, &content, PIGGYBACK - 1), 0);
    ck_assert_uint_eq(nsent, 1);
    h = sent_header(0, &m);
    ck_assert_int_eq(h.type, HCM_ACK);
    ck_assert_int_eq(h.mid, 0x1000);
    ck_assert_uint_eq(h.token_len, 2);
    ck_assert_uint_eq(h.token[1], 0xa2);
    ck_assert_uint_eq(m.code, content.code);
    ck_assert_uint_eq(m.payload.len, 5);
    hcp_msglayer_tick(ml, 10 * S); /* nothing left to send: no retransmission of an ACK */
    ck_assert_uint_eq(nsent, 1);
}
END_TEST

START_TEST(late_answer_is_one_empty_ack_then_a_con)
{
    hcp_msglayer_exchange_t *x = deliver(1, HCM_CON, 0x1000, 0);
    hcm_coap_header_t h;

    ck_assert_uint_eq(hcp_msglayer_next_deadline(ml), PIGGYBACK);
    hcp_msglayer_tick(ml, PIGGYBACK);
    ck_assert_uint_eq(nsent, 1);
    expect_empty(0, HCM_ACK, 0x1000);
    ck_assert_int_eq(hcp_msglayer_answer(ml, x, &content, S), 0);
    ck_assert_uint_eq(nsent, 2);
    h = sent_header(1, NULL);
    ck_assert_int_eq(h.type, HCM_CON);
    ck_assert_int_ne(h.mid, 0x1000);
    ck_assert_uint_eq(h.token[0], 0xa1);
}
END_TEST

/* s4.2: retransmitted at a random timeout from 2 to 3 s, doubling, MAX_RETRANSMIT (4) times. */
START_TEST(separate_con_is_retransmitted_then_given_up)
{
    hcp_msglayer_exchange_t *x = deliver(1, HCM_CON, 0x1000, 0);
    hcp_msglayer_stats_t st;
    uint64_t now = PIGGYBACK, first;

    hcp_msglayer_tick(ml, now);
    ck_assert_int_eq(hcp_msglayer_answer(ml, x, &content, now), 0);
    first = hcp_msglayer_next_deadline(ml) - now;
    ck_assert_uint_ge(first, 2 * S);
    ck_assert_uint_le(first, 3 * S);
    for (int i = 1; i <= 4; i++) {
        now = hcp_msglayer_next_deadline(ml);
        hcp_msglayer_tick(ml, now);
        ck_assert_uint_eq(nsent, 2 + (size_t)i);
        ck_assert_mem_eq(sent[nsent - 1].dgram, sent[1].dgram, sent[1].len);
        ck_assert_uint_eq(hcp_msglayer_next_deadline(ml) - now, first << i);
    }
    hcp_msglayer_tick(ml, hcp_msglayer_next_deadline(ml));
    ck_assert_uint_eq(nsent, 6);
    hcp_msglayer_stats(ml, &st);
    ck_assert_uint_eq(st.retransmissions, 4);
    ck_assert_uint_eq(st.give_ups, 1);
}
END_TEST

/* A CON from peer 1 answered after the piggyback wait: the answer goes as a separate CON, and
 * |ack| becomes the empty ACK of its Message ID. */
static void answer_separately(uint8_t ack[4])
{
    hcp_msglayer_exchange_t *x = deliver(1, HCM_CON, 0x1000, 0);
    hcm_coap_header_t h;

    hcp_msglayer_tick(ml, PIGGYBACK);
    hcp_msglayer_answer(ml, x, &content, PIGGYBACK);
    h = sent_header(1, NULL);
    ack[0] = 0x60;
    ack[1] = 0;
    ack[2] = (uint8_t)(h.mid >> 8);
    ack[3] = (uint8_t)h.mid;
}

START_TEST(ack_of_the_separate_con_stops_retransmissions)
{
    uint8_t ack[4];
    hcp_msglayer_event_t ev;

    answer_separately(ack);
    ck_assert_int_eq(receive(2, ack, 4, S, &ev), HCP_MSGLAYER_DONE); /* another peer: not the ACK */
    ck_assert_uint_lt(hcp_msglayer_next_deadline(ml), 4 * S);
    ck_assert_int_eq(receive(1, ack, 4, S, &ev), HCP_MSGLAYER_DONE);
    ck_assert_uint_gt(hcp_msglayer_next_deadline(ml),
                      100 * S); /* only the entry's expiry is left */
    hcp_msglayer_tick(ml, 60 * S);
    ck_assert_uint_eq(nsent, 2);
}
END_TEST

START_TEST(non_is_answered_with_a_non)
{
    hcp_msglayer_exchange_t *x = deliver(1, HCM_NON, 0x2000, 0);
    hcm_coap_header_t h;

    hcp_msglayer_tick(ml, 5 * S); /* no ACK for a NON */
    ck_assert_uint_eq(nsent, 0);
    ck_assert_int_eq(hcp_msglayer_answer(ml, x, &content, 5 * S), 0);
    h = sent_header(0, NULL);
    ck_assert_int_eq(h.type, HCM_NON);
    ck_assert_int_ne(h.mid, 0x2000);
    hcp_msglayer_tick(ml, 20 * S); /* never retransmitted */
    ck_assert_uint_eq(nsent, 1);
}
END_TEST

START_TEST(abandon_acknowledges_a_con_once)
{
    hcp_msglayer_exchange_t *x = deliver(1, HCM_CON, 0x1000, 0);

    hcp_msglayer_abandon(ml, x, 100 * MS);
    ck_assert_uint_eq(nsent, 1);
    expect_empty(0, HCM_ACK, 0x1000);
    hcp_msglayer_tick(ml, S);
    ck_assert_uint_eq(nsent, 1);
}
END_TEST

/* ---- RFC 7252 s4.5: duplicates --------------------------------------------------------------- */

START_TEST(duplicate_con_gets_the_same_answer_and_is_not_delivered)
{
    hcp_msglayer_exchange_t *x = deliver(1, HCM_CON, 0x1000, 0);
    uint8_t dgram[256];
    size_t len = request(dgram, HCM_CON, 0x1000, 0);
    hcp_msglayer_event_t ev;
    hcp_msglayer_stats_t st;

    hcp_msglayer_answer(ml, x, &content, 100 * MS);
    ck_assert_int_eq(receive(1, dgram, len, 2500 * MS, &ev), HCP_MSGLAYER_DONE);
    ck_assert_uint_eq(nsent, 2);
    ck_assert_uint_eq(sent[1].len, sent[0].len);
    ck_assert_mem_eq(sent[1].dgram, sent[0].dgram, sent[0].len);
    /* Still a duplicate just before EXCHANGE_LIFETIME (247 s), a new request after it. */
    ck_assert_int_eq(receive(1, dgram, len, 100 * MS + 247 * S - 1, &ev), HCP_MSGLAYER_DONE);
    hcp_msglayer_tick(ml, 100 * MS + 247 * S);
    ck_assert_int_eq(receive(1, dgram, len, 100 * MS + 247 * S, &ev), HCP_MSGLAYER_REQUEST);
    hcp_msglayer_stats(ml, &st);
    ck_assert_uint_eq(st.duplicates, 2);
}
END_TEST

START_TEST(duplicate_while_waiting)
{
    uint8_t dgram[256];
    size_t len = request(dgram, HCM_CON, 0x1000, 0);
    hcp_msglayer_event_t ev;

    deliver(1, HCM_CON, 0x1000, 0);
    ck_assert_int_eq(receive(1, dgram, len, 100 * MS, &ev), HCP_MSGLAYER_DONE);
    ck_assert_uint_eq(nsent, 0); /* the answer may still be piggybacked */
    hcp_msglayer_tick(ml, PIGGYBACK);
    ck_assert_int_eq(receive(1, dgram, len, 2 * S, &ev), HCP_MSGLAYER_DONE);
    ck_assert_uint_eq(nsent, 2); /* the empty ACK, and again for the duplicate */
    expect_empty(1, HCM_ACK, 0x1000);
}
END_TEST

START_TEST(duplicate_non_is_ignored_for_non_lifetime)
{
    hcp_msglayer_exchange_t *x = deliver(1, HCM_NON, 0x2000, 0);
    uint8_t dgram[256];
    size_t len = request(dgram, HCM_NON, 0x2000, 0);
    hcp_msglayer_event_t ev;

    hcp_msglayer_answer(ml, x, &content, 0);
    ck_assert_int_eq(receive(1, dgram, len, S, &ev), HCP_MSGLAYER_DONE);
    ck_assert_uint_eq(nsent, 1);
    hcp_msglayer_tick(ml, 145 * S);
    ck_assert_int_eq(receive(1, dgram, len, 145 * S, &ev), HCP_MSGLAYER_REQUEST);
}
END_TEST

START_TEST(same_mid_from_two_peers_is_two_requests)
{
    deliver(1, HCM_CON, 0x1000, 0);
    deliver(2, HCM_CON, 0x1000, 0);
}
END_TEST

/* ---- RFC 7252 s3, s4.2, s4.3: what is not a request ----------------------------------------- */

static const struct {
    const char *clause;
    const char *hex;
    bool is_reset; /* else ignored: nothing sent */
} not_request_rows[] = {
    { "s3 version 2", "82 01 1234 a1a2", false },
    { "s3 a datagram of 3 bytes", "40 01 12", false },
    { "s4.2 a malformed CON (token length 9) is Reset", "49 01 1234 010203040506070809", true },
    { "s4.3 a malformed NON is ignored", "59 01 1234 010203040506070809", false },
    { "s4.2 an ACK carrying a GET is not a request", "62 01 1234 a1a2", false },
    { "s4.2 a stray empty ACK", "60 00 1234", false },
    { "s4.2 a stray Reset", "70 00 1234", false },
    { "s4.3 an Empty CON (a ping) is Reset", "40 00 1234", true },
    { "s5.3.2 a CON 2.05 that matches nothing is Reset", "42 45 1234 a1a2", true },
    { "s4.3 a NON 2.05 is ignored", "52 45 1234 a1a2", false },
    { "s12.1 a CON of reserved class 7 is Reset", "42 e1 1234 a1a2", true },
};

START_TEST(what_is_not_a_request)
{
    uint8_t dgram[64];
    size_t len = 0;
    unsigned byte;
    hcp_msglayer_event_t ev;

    for (const char *p = not_request_rows[_i].hex; *p != '\0'; p++)
        if (*p != ' ' && sscanf(p, "%2x", &byte) == 1)
            dgram[len++] = (uint8_t)byte, p++;
    ck_assert_msg(receive(1, dgram, len, 0, &ev) == HCP_MSGLAYER_DONE, "%s",
                  not_request_rows[_i].clause);
    if (not_request_rows[_i].is_reset) {
        ck_assert_msg(nsent == 1, "%s: %zu sent", not_request_rows[_i].clause, nsent);
        expect_empty(0, HCM_RST, 0x1234);
    } else {
        ck_assert_msg(nsent == 0, "%s: %zu sent", not_request_rows[_i].clause, nsent);
    }
    hcp_msglayer_tick(ml, 300 * S);
    ck_assert_uint_eq(nsent, not_request_rows[_i].is_reset ? 1 : 0);
}
END_TEST

/* ---- RFC 7252 s11.3, RFC 9175 s2.4: amplification --------------------------------------------- */

START_TEST(unverified_peer_gets_at_most_three_times_its_bytes)
{
    hcp_msglayer_exchange_t *x;
    uint8_t dgram[256], big[400];
    size_t len = request(dgram, HCM_CON, 0x1000, 20);
    hcm_coap_msg_t answer = { .code = 2 << 5 | 5, .payload = { big, sizeof big } };
    hcp_msglayer_event_t ev;

    memset(big, 'b', sizeof big);
    ck_assert_int_eq(receive(1, dgram, len, 0, &ev), HCP_MSGLAYER_REQUEST);
    ck_assert(!ev.is_verified);
    x = ev.exchange;
    ck_assert_uint_eq(hcp_msglayer_answer_room(ml, x), 3 * len);
    ck_assert_int_eq(hcp_msglayer_answer(ml, x, &answer, 0), -1);
    ck_assert_uint_eq(nsent, 0);
    answer.payload.len = 3 * len - 10; /* header 4, token 2, 0xff: fits */
    ck_assert_int_eq(hcp_msglayer_answer(ml, x, &answer, 0), 0);
    ck_assert_uint_le(sent[0].len, 3 * len);
}
END_TEST

START_TEST(unverified_separate_answer_stops_at_the_budget)
{
    hcp_msglayer_exchange_t *x;
    uint8_t dgram[256], body[50];
    size_t len = request(dgram, HCM_CON, 0x1000, 20), total = 0;
    hcm_coap_msg_t answer = { .code = 2 << 5 | 5, .payload = { body, sizeof body } };
    hcp_msglayer_event_t ev;

    memset(body, 'b', sizeof body);
    receive(1, dgram, len, 0, &ev);
    x = ev.exchange;
    hcp_msglayer_tick(ml, PIGGYBACK);
    ck_assert_int_eq(hcp_msglayer_answer(ml, x, &answer, PIGGYBACK), 0);
    for (int i = 0; i < 10; i++)
        hcp_msglayer_tick(ml, hcp_msglayer_next_deadline(ml) < 200 * S
                                  ? hcp_msglayer_next_deadline(ml) : 200 * S);
    for (size_t i = 0; i < nsent; i++)
        total += sent[i].len;
    ck_assert_uint_le(total, 3 * len);
    ck_assert_uint_lt(nsent, 6); /* fewer than the four retransmissions a verified peer gets */
}
END_TEST

START_TEST(echo_verifies_the_peer)
{
    hcp_msglayer_exchange_t *x = deliver(1, HCM_CON, 0x1000, 0);
    uint8_t echo[8], dgram[256];
    hcm_coap_header_t h = { .type = HCM_CON, .mid = 0x1001, .token_len = 1, .token = { 7 } };
    hcm_coap_msg_t m = { .code = 1 };
    hcp_msglayer_event_t ev;
    size_t echo_len = hcp_msglayer_echo_challenge(ml, x, echo, 0), len;

    ck_assert_uint_eq(echo_len, 8);
    hcp_msglayer_abandon(ml, x, 0);
    /* A wrong value does not verify; the one given does, once. */
    echo[0] ^= 1;
    hcm_coap_msg_add(&m, 252, (hcm_bytes_t){ echo, echo_len });
    len = hcm_coap_encode(&h, &m, dgram, sizeof dgram);
    ck_assert_int_eq(receive(1, dgram, len, S, &ev), HCP_MSGLAYER_REQUEST);
    ck_assert(!ev.is_verified);
    hcp_msglayer_abandon(ml, ev.exchange, S);
    echo[0] ^= 1; /* the right value, in a request of another MID */
    h.mid = 0x1002;
    len = hcm_coap_encode(&h, &m, dgram, sizeof dgram);
    ck_assert_int_eq(receive(1, dgram, len, 2 * S, &ev), HCP_MSGLAYER_REQUEST);
    ck_assert(ev.is_verified);
    ck_assert_uint_eq(hcp_msglayer_answer_room(ml, ev.exchange), 1152);
    /* Another peer is not verified by it. */
    ck_assert_int_eq(receive(2, dgram, len, 2 * S, &ev), HCP_MSGLAYER_REQUEST);
    ck_assert(!ev.is_verified);
}
END_TEST

START_TEST(ack_verifies_the_peer)
{
    hcp_msglayer_exchange_t *x;
    uint8_t ack[4];
    hcp_msglayer_event_t ev;

    answer_separately(ack);
    receive(1, ack, 4, S, &ev);
    x = deliver(1, HCM_CON, 0x1001, 2 * S);
    ck_assert_uint_eq(hcp_msglayer_answer_room(ml, x), 1152);
}
END_TEST

/* ---- limits ------------------------------------------------------------------------------------ */

START_TEST(full_layer_refuses_with_5_03)
{
    uint8_t dgram[256];
    size_t len = request(dgram, HCM_CON, 0x1003, 0);
    hcp_msglayer_exchange_t *a = deliver(1, HCM_CON, 0x1001, 0);
    hcp_msglayer_event_t ev;
    hcm_coap_msg_t m;
    hcp_msglayer_stats_t st;

    deliver(1, HCM_CON, 0x1002, 0);
    ck_assert_int_eq(receive(1, dgram, len, 0, &ev), HCP_MSGLAYER_DONE);
    ck_assert_ptr_nonnull(ev.note);
    ck_assert_int_eq(sent_header(0, &m).type, HCM_ACK);
    ck_assert_uint_eq(m.code, 5 << 5 | 3);
    /* An answered entry makes room: it is evicted, the oldest first. */
    hcp_msglayer_answer(ml, a, &content, 0);
    ck_assert_int_eq(receive(1, dgram, len, 0, &ev), HCP_MSGLAYER_REQUEST);
    hcp_msglayer_stats(ml, &st);
    ck_assert_uint_eq(st.evictions, 1);
    ck_assert_uint_eq(st.refused, 1);
    ck_assert_uint_eq(st.entries, 2);
}
END_TEST

START_TEST(bytes_limit_evicts_the_oldest_answers)
{
    hcp_msglayer_stats_t st;

    for (uint16_t mid = 0; mid < 20; mid++)
        hcp_msglayer_answer(ml, deliver(1, HCM_NON, mid, mid), &content, mid);
    hcp_msglayer_stats(ml, &st);
    ck_assert_uint_le(st.bytes, 100);
    ck_assert_uint_gt(st.evictions, 0);
    ck_assert_uint_eq(st.entries * sent[0].len, st.bytes);
}
END_TEST

static void setup_unverified(void)
{
    setup_with(3, 1000, 1 << 20);
}

static void setup_small(void)
{
    setup_with(0, 2, 1 << 20);
}

static void setup_few_bytes(void)
{
    setup_with(0, 1000, 100);
}

/* failed_construction_leaves_nothing asks for more memory than there is: under AddressSanitizer
 * (its documented hook for defaults; ASAN_OPTIONS still has the last word) that is a NULL, as it
 * is without, not an abort. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}

/* A layer that cannot get all its memory is no layer, and leaves nothing behind (proxy.h's
 * constructor contract): the tables it got first are given back, none of its empty queues
 * walked. No datagram buffer can be SIZE_MAX bytes. */
START_TEST(failed_construction_leaves_nothing)
{
    hcp_msglayer_config_t big = {
        .piggyback_ns = PIGGYBACK, .max_entries = 1000, .max_bytes = 1 << 20,
        .max_datagram = SIZE_MAX, .random = counter_random, .send = record,
    };

    ck_assert_ptr_null(hcp_msglayer_new(&big));
}
END_TEST

static Suite *msglayer_suite(void)
{
    Suite *s = suite_create("msglayer");
    TCase *tc = tcase_create("exchanges");
    TCase *amp = tcase_create("amplification");
    TCase *lim = tcase_create("limits");
    TCase *lim2 = tcase_create("bytes");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, answer_within_the_wait_is_piggybacked);
    tcase_add_test(tc, late_answer_is_one_empty_ack_then_a_con);
    tcase_add_test(tc, separate_con_is_retransmitted_then_given_up);
    tcase_add_test(tc, ack_of_the_separate_con_stops_retransmissions);
    tcase_add_test(tc, non_is_answered_with_a_non);
    tcase_add_test(tc, abandon_acknowledges_a_con_once);
    tcase_add_test(tc, duplicate_con_gets_the_same_answer_and_is_not_delivered);
    tcase_add_test(tc, duplicate_while_waiting);
    tcase_add_test(tc, duplicate_non_is_ignored_for_non_lifetime);
    tcase_add_test(tc, same_mid_from_two_peers_is_two_requests);
    tcase_add_loop_test(tc, what_is_not_a_request, 0, HCM_COUNTOF(not_request_rows));
    tcase_add_test(tc, failed_construction_leaves_nothing);
    suite_add_tcase(s, tc);
    tcase_add_checked_fixture(amp, setup_unverified, teardown);
    tcase_add_test(amp, unverified_peer_gets_at_most_three_times_its_bytes);
    tcase_add_test(amp, unverified_separate_answer_stops_at_the_budget);
    tcase_add_test(amp, echo_verifies_the_peer);
    tcase_add_test(amp, ack_verifies_the_peer);
    suite_add_tcase(s, amp);
    tcase_add_checked_fixture(lim, setup_small, teardown);
    tcase_add_test(lim, full_layer_refuses_with_5_03);
    suite_add_tcase(s, lim);
    tcase_add_checked_fixture(lim2, setup_few_bytes, teardown);
    tcase_add_test(lim2, bytes_limit_evicts_the_oldest_answers);
    suite_add_tcase(s, lim2);
    return s;
}

int main(void)
{
    return run_suite(msglayer_suite());
}

/* hcm_coap_decode(), hcm_coap_encode(), hcm_option_info() and hcm_coap_screen_options()
 * (mapping/wire.c): the CoAP datagram format of RFC 7252 s3 and the option rules of s5.4. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hcm.h"
#include "run_suite.h"

#define MAX_DGRAM 2048

/* |hex| (spaces ignored) into |out|: the number of bytes. */
static size_t unhex(const char *hex, uint8_t *out)
{
    size_t n = 0;
    unsigned byte;

    while (*hex != '\0') {
        if (*hex == ' ') {
            hex++;
            continue;
        }
        ck_assert_int_eq(sscanf(hex, "%2x", &byte), 1);
        out[n++] = (uint8_t)byte;
        hex += 2;
    }
    return n;
}

/* A decoded message as text: "T mid token code|num:hex,num:hex|payload-hex". */
static void describe(const hcm_coap_header_t *h, const hcm_coap_msg_t *m, char *out, size_t size)
{
    size_t used = 0;

    used += (size_t)snprintf(out + used, size - used, "%u %04x ", h->type, h->mid);
    for (size_t i = 0; i < h->token_len; i++)
        used += (size_t)snprintf(out + used, size - used, "%02x", h->token[i]);
    used += (size_t)snprintf(out + used, size - used, " %u.%02u|", m->code >> 5, m->code & 31);
    for (size_t i = 0; i < m->nopts; i++) {
        used += (size_t)snprintf(out + used, size - used, "%s%u:", i ? "," : "", m->opts[i].number);
        for (size_t j = 0; j < m->opts[i].value.len && used < size; j++)
            used += (size_t)snprintf(out + used, size - used, "%02x", m->opts[i].value.p[j]);
    }
    used += (size_t)snprintf(out + used, size - used, "|");
    for (size_t i = 0; i < m->payload.len && used < size; i++)
        used += (size_t)snprintf(out + used, size - used, "%02x", m->payload.p[i]);
}

/* ---- decoding: one row per rule of RFC 7252 s3 and s4.1 ------------------------------------- */

static const struct {
    const char *clause;
    const char *hex;
    hcm_wire_verdict_t verdict;
    const char *message; /* describe()'s text when the verdict is MESSAGE */
} decode_rows[] = {
    { "s3 a GET with a token, Uri-Path and no payload", "42 01 1234 abcd b3 666f6f",
      HCM_WIRE_MESSAGE, "0 1234 abcd 0.01|11:666f6f|" },
    { "s3 a 2.05 with Content-Format 0 and a payload", "61 45 0001 07 c0 ff 6869",
      HCM_WIRE_MESSAGE, "2 0001 07 2.05|12:|6869" },
    { "s4.1 an Empty ACK", "60 00 beef", HCM_WIRE_MESSAGE, "2 beef  0.00||" },
    { "s4.1 an Empty RST", "70 00 0102", HCM_WIRE_MESSAGE, "3 0102  0.00||" },
    { "s3 a delta of 13 (one extended byte): option 60", "40 02 0001 d1 2f 05",
      HCM_WIRE_MESSAGE, "0 0001  0.02|60:05|" },
    { "s3 a delta of 14 (two extended bytes): option 292", "40 02 0001 e0 0017",
      HCM_WIRE_MESSAGE, "0 0001  0.02|292:|" },
    { "s3 a length of 13 (one extended byte): 13 bytes",
      "40 02 0001 bd 00 41414141414141414141414141", HCM_WIRE_MESSAGE,
      "0 0001  0.02|11:41414141414141414141414141|" },
    { "s5.4.5 a repeated option keeps its order", "40 01 0001 b1 61 01 62 01 63",
      HCM_WIRE_MESSAGE, "0 0001  0.01|11:61,11:62,11:63|" },
    { "s3 a datagram of 3 bytes is ignored", "40 01 00", HCM_WIRE_IGNORE, NULL },
    { "s3 version 2 is ignored", "80 01 0001", HCM_WIRE_IGNORE, NULL },
    { "s3 version 0 is ignored", "00 01 0001", HCM_WIRE_IGNORE, NULL },
    { "s3 a token length of 9 is a format error", "49 01 0001 010203040506070809",
      HCM_WIRE_MALFORMED, NULL },
    { "s3 a token past the end", "44 01 0001 0102", HCM_WIRE_MALFORMED, NULL },
    { "s3 a payload marker with no payload", "40 01 0001 ff", HCM_WIRE_MALFORMED, NULL },
    { "s3.1 delta nibble 15 that is not the payload marker", "40 01 0001 f1 00",
      HCM_WIRE_MALFORMED, NULL },
    { "s3.1 length nibble 15", "40 01 0001 bf", HCM_WIRE_MALFORMED, NULL },
    { "s3.1 an extended delta byte missing", "40 01 0001 d0", HCM_WIRE_MALFORMED, NULL },
    { "s3.1 a value past the end", "40 01 0001 b3 6162", HCM_WIRE_MALFORMED, NULL },
    { "s3.1 option number past 65535", "40 01 0001 e0 ffff e0 ffff", HCM_WIRE_MALFORMED, NULL },
    { "s4.1 an Empty message with a token", "61 00 0001 aa", HCM_WIRE_MALFORMED, NULL },
    { "s4.1 an Empty message with bytes after the header", "60 00 0001 ff 00",
      HCM_WIRE_MALFORMED, NULL },
};

START_TEST(decode_follows_the_format)
{
    uint8_t dgram[MAX_DGRAM];
    size_t len = unhex(decode_rows[_i].hex, dgram);
    hcm_coap_header_t hdr;
    hcm_coap_msg_t msg;
    const char *why = NULL;
    char text[512];
    hcm_wire_verdict_t verdict = hcm_coap_decode((hcm_bytes_t){ dgram, len }, &hdr, &msg, &why);

    ck_assert_msg(verdict == decode_rows[_i].verdict, "%s: verdict %d", decode_rows[_i].clause,
                  verdict);
    if (verdict == HCM_WIRE_MALFORMED)
        ck_assert_msg(why != NULL && why[0] != '\0', "%s: no reason", decode_rows[_i].clause);
    if (verdict != HCM_WIRE_MESSAGE)
        return;
    describe(&hdr, &msg, text, sizeof text);
    ck_assert_msg(strcmp(text, decode_rows[_i].message) == 0, "%s: %s", decode_rows[_i].clause,
                  text);
}
END_TEST

START_TEST(malformed_keeps_the_header_for_a_reset)
{
    uint8_t dgram[MAX_DGRAM];
    size_t len = unhex("40 01 abcd bf", dgram);
    hcm_coap_header_t hdr;
    hcm_coap_msg_t msg;

    ck_assert_int_eq(hcm_coap_decode((hcm_bytes_t){ dgram, len }, &hdr, &msg, NULL),
                     HCM_WIRE_MALFORMED);
    ck_assert_int_eq(hdr.type, HCM_CON);
    ck_assert_int_eq(hdr.mid, 0xabcd);
}
END_TEST

START_TEST(more_options_than_held_is_malformed)
{
    uint8_t dgram[MAX_DGRAM] = { 0x40, 0x01, 0, 1 };
    size_t len = 4;
    hcm_coap_header_t hdr;
    hcm_coap_msg_t msg;

    for (int i = 0; i <= HCM_MAX_OPTIONS; i++)
        dgram[len++] = i == 0 ? 0xb0 : 0x00; /* Uri-Path, then 64 more empty ones */
    ck_assert_int_eq(hcm_coap_decode((hcm_bytes_t){ dgram, len }, &hdr, &msg, NULL),
                     HCM_WIRE_MALFORMED);
    len--;
    ck_assert_int_eq(hcm_coap_decode((hcm_bytes_t){ dgram, len }, &hdr, &msg, NULL),
                     HCM_WIRE_MESSAGE);
    ck_assert_uint_eq(msg.nopts, HCM_MAX_OPTIONS);
}
END_TEST

/* ---- encoding --------------------------------------------------------------------------------- */

/* Every well-formed row encodes back to the bytes it was decoded from: the encoder writes the
 * shortest delta and length forms (s3.1), as every row does. */
START_TEST(encode_inverts_decode)
{
    uint8_t dgram[MAX_DGRAM], again[MAX_DGRAM];
    size_t len = unhex(decode_rows[_i].hex, dgram);
    hcm_coap_header_t hdr;
    hcm_coap_msg_t msg;

    if (decode_rows[_i].verdict != HCM_WIRE_MESSAGE)
        return;
    ck_assert_int_eq(hcm_coap_decode((hcm_bytes_t){ dgram, len }, &hdr, &msg, NULL),
                     HCM_WIRE_MESSAGE);
    ck_assert_uint_eq(hcm_coap_encode(&hdr, &msg, again, sizeof again), len);
    ck_assert_mem_eq(again, dgram, len);
}
END_TEST

/* Option deltas and lengths at each boundary of the nibble forms: 12/13, 268/269, and the largest
 * length, 65804. */
START_TEST(encode_round_trips_every_form)
{
    static const uint16_t numbers[] = { 12, 25, 268, 269, 537, 65535 };
    static const size_t lengths[] = { 0, 12, 13, 268, 269, 1034 };
    static uint8_t value[1034], dgram[8192];
    hcm_coap_header_t hdr = { .type = HCM_NON, .token_len = 8, .mid = 0xfffe,
                              .token = { 1, 2, 3, 4, 5, 6, 7, 8 } }, got_hdr;
    hcm_coap_msg_t msg = { .code = 0x45 }, got;
    size_t len;

    memset(value, 0x5a, sizeof value);
    for (size_t i = 0; i < HCM_COUNTOF(numbers); i++)
        ck_assert_int_eq(hcm_coap_msg_add(&msg, numbers[i], (hcm_bytes_t){ value, lengths[i] }), 0);
    msg.payload = (hcm_bytes_t){ value, 7 };
    len = hcm_coap_encode(&hdr, &msg, dgram, sizeof dgram);
    ck_assert_uint_gt(len, 0);
    ck_assert_int_eq(hcm_coap_decode((hcm_bytes_t){ dgram, len }, &got_hdr, &got, NULL),
                     HCM_WIRE_MESSAGE);
    ck_assert_mem_eq(&got_hdr, &hdr, sizeof hdr);
    ck_assert_uint_eq(got.nopts, msg.nopts);
    for (size_t i = 0; i < msg.nopts; i++) {
        ck_assert_uint_eq(got.opts[i].number, msg.opts[i].number);
        ck_assert_uint_eq(got.opts[i].value.len, msg.opts[i].value.len);
    }
    ck_assert_uint_eq(got.payload.len, 7);
    /* One byte short of room, anywhere, is 0. */
    for (size_t room = 0; room < len; room += 97)
        ck_assert_uint_eq(hcm_coap_encode(&hdr, &msg, dgram, room), 0);
    ck_assert_uint_eq(hcm_coap_encode(&hdr, &msg, dgram, len - 1), 0);
}
END_TEST

START_TEST(encode_refuses_what_cannot_be_sent)
{
    uint8_t dgram[64];
    hcm_coap_header_t hdr = { .token_len = 9 };
    hcm_coap_msg_t msg = { .code = 1 };

    ck_assert_uint_eq(hcm_coap_encode(&hdr, &msg, dgram, sizeof dgram), 0);
    hdr.token_len = 0;
    msg.nopts = 2; /* out of order: the delta would be negative */
    msg.opts[0] = (hcm_option_t){ .number = 11 };
    msg.opts[1] = (hcm_option_t){ .number = 3 };
    ck_assert_uint_eq(hcm_coap_encode(&hdr, &msg, dgram, sizeof dgram), 0);
}
END_TEST

/* ---- the option table and RFC 7252 s5.4 ------------------------------------------------------ */

START_TEST(table_is_sorted_and_complete)
{
    static const uint16_t known[] = { 1, 3, 4, 5, 6, 7, 8, 9, 11, 12, 14, 15, 16, 17, 20, 23, 27,
                                      28, 35, 39, 60, 252, 258, 292 };
    uint16_t previous = 0;

    for (uint32_t n = 0; n <= UINT16_MAX; n++) {
        const hcm_option_info_t *info = hcm_option_info((uint16_t)n);
        if (info == NULL)
            continue;
        ck_assert_uint_eq(info->number, n);
        ck_assert_uint_gt(n, previous);
        ck_assert_uint_le(info->min_len, info->max_len);
        previous = (uint16_t)n;
    }
    for (size_t i = 0; i < HCM_COUNTOF(known); i++)
        ck_assert_ptr_nonnull(hcm_option_info(known[i]));
    ck_assert_ptr_null(hcm_option_info(19)); /* Q-Block1 (RFC 9177): not implemented */
    ck_assert_str_eq(hcm_option_info(16)->name, "Hop-Limit");
}
END_TEST

/* Each row: the options of a message ("num:len" each; the value is zeros) and what screening
 * leaves ("num:len,..." ) or, for a refused message, "bad N". */
static const struct {
    const char *clause;
    const char *options;
    const char *after;
} screen_rows[] = {
    { "s5.4.1 recognized options stay", "11:3,12:1,17:2", "11:3,12:1,17:2" },
    { "s5.4.1 an unknown elective option is dropped", "11:3,65000:1", "11:3" },
    { "s5.4.1 an unknown critical option refuses the message", "11:3,65001:1", "bad 65001" },
    { "s5.4.1 Q-Block2 (critical, not implemented) refuses it", "31:1", "bad 31" },
    { "s5.4.3 a Max-Age of 5 bytes (elective) is dropped", "14:5,12:0", "12:0" },
    { "s5.4.3 an ETag of 0 bytes is dropped", "4:0", "" },
    { "s5.4.3 an ETag of 9 bytes is dropped", "4:9,4:1", "4:1" },
    { "s5.4.3 a Content-Format of 3 bytes is dropped", "12:3", "" },
    { "s5.4.3 an Accept of 3 bytes (critical) refuses it", "17:3", "bad 17" },
    { "s5.4.3 a Uri-Port of 3 bytes (critical) refuses it", "7:3", "bad 7" },
    { "s5.4.3 a Block2 of 4 bytes (critical) refuses it", "23:4", "bad 23" },
    { "s5.4.3 a Hop-Limit of 2 bytes (elective) is dropped", "16:2", "" },
    { "s5.4.5 a second Max-Age is dropped, the first stays", "14:1,14:1", "14:1" },
    { "s5.4.5 a second Uri-Host (critical) refuses it", "3:1,3:1", "bad 3" },
    { "s5.4.5 repeatable options stay repeated", "11:1,11:2,15:1,15:1", "11:1,11:2,15:1,15:1" },
};

static void parse_options(const char *text, hcm_coap_msg_t *msg)
{
    static const uint8_t zeros[2048];
    unsigned number, len;
    int used;

    memset(msg, 0, sizeof *msg);
    while (sscanf(text, "%u:%u%n", &number, &len, &used) == 2) {
        ck_assert_int_eq(hcm_coap_msg_add(msg, (uint16_t)number, (hcm_bytes_t){ zeros, len }), 0);
        text += used + (text[used] == ',');
    }
}

START_TEST(screen_applies_s5_4)
{
    hcm_coap_msg_t msg, before;
    char text[256] = "";
    size_t used = 0;
    uint16_t bad = 0;

    parse_options(screen_rows[_i].options, &msg);
    before = msg;
    if (hcm_coap_screen_options(&msg, &bad) < 0) {
        snprintf(text, sizeof text, "bad %u", bad);
        ck_assert_mem_eq(&msg, &before, sizeof msg);
    } else {
        for (size_t i = 0; i < msg.nopts; i++)
            used += (size_t)snprintf(text + used, sizeof text - used, "%s%u:%zu", i ? "," : "",
                                     msg.opts[i].number, msg.opts[i].value.len);
    }
    ck_assert_msg(strcmp(text, screen_rows[_i].after) == 0, "%s: %s", screen_rows[_i].clause,
                  text);
}
END_TEST

static Suite *wire_suite(void)
{
    Suite *s = suite_create("wire");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, decode_follows_the_format, 0, HCM_COUNTOF(decode_rows));
    tcase_add_test(tc, malformed_keeps_the_header_for_a_reset);
    tcase_add_test(tc, more_options_than_held_is_malformed);
    tcase_add_loop_test(tc, encode_inverts_decode, 0, HCM_COUNTOF(decode_rows));
    tcase_add_test(tc, encode_round_trips_every_form);
    tcase_add_test(tc, encode_refuses_what_cannot_be_sent);
    tcase_add_test(tc, table_is_sorted_and_complete);
    tcase_add_loop_test(tc, screen_applies_s5_4, 0, HCM_COUNTOF(screen_rows));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(wire_suite());
}

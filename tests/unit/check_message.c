/* hcm_coap_msg_add(), _add_uint(), _find() and hcm_uint_decode() (mapping/message.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hcm.h"
#include "run_suite.h"

static hcm_bytes_t bytes(const char *s)
{
    return (hcm_bytes_t){ .p = (const uint8_t *)s, .len = strlen(s) };
}

/* RFC 7252 s3.1: options in number order; s5.4.5: repeated options keep their order. Each row
 * adds options in the given order (number and a tag naming the instance) and expects them back
 * in the order of |sorted|. */
#define MAX_STEPS 8

static const struct {
    struct {
        uint16_t number;
        const char *tag;
    } added[MAX_STEPS];
    const char *sorted[MAX_STEPS];
} sort_rows[] = {
    { { { 11, "p1" }, { 11, "p2" }, { 3, "h" } }, { "h", "p1", "p2" } },
    { { { 15, "q1" }, { 12, "cf" }, { 11, "p1" }, { 15, "q2" }, { 3, "h" } },
      { "h", "p1", "cf", "q1", "q2" } },
    { { { 60, "s1" }, { 1, "m1" }, { 258, "nr" }, { 1, "m2" }, { 4, "e" } },
      { "m1", "m2", "e", "s1", "nr" } },
    { { { 11, "a" }, { 11, "b" }, { 11, "c" }, { 11, "d" } }, { "a", "b", "c", "d" } },
    { { { 65535, "z" }, { 0, "zero" } }, { "zero", "z" } },
};

START_TEST(add_keeps_sorted_and_stable)
{
    hcm_coap_msg_t msg = { 0 };
    size_t n = 0;

    for (; n < MAX_STEPS && sort_rows[_i].added[n].tag != NULL; n++)
        ck_assert_int_eq(hcm_coap_msg_add(&msg, sort_rows[_i].added[n].number,
                                          bytes(sort_rows[_i].added[n].tag)), 0);
    ck_assert_uint_eq(msg.nopts, n);
    for (size_t j = 0; j < n; j++) {
        ck_assert_uint_eq(msg.opts[j].value.len, strlen(sort_rows[_i].sorted[j]));
        ck_assert_mem_eq(msg.opts[j].value.p, sort_rows[_i].sorted[j], msg.opts[j].value.len);
        if (j > 0)
            ck_assert_uint_le(msg.opts[j - 1].number, msg.opts[j].number);
    }
}
END_TEST

START_TEST(add_full_message)
{
    hcm_coap_msg_t msg = { 0 };
    uint8_t buf[64];
    hcm_arena_t arena;

    hcm_arena_init(&arena, buf, sizeof(buf));
    for (size_t j = 0; j < HCM_MAX_OPTIONS; j++)
        ck_assert_int_eq(hcm_coap_msg_add(&msg, (uint16_t)(HCM_MAX_OPTIONS - j), bytes("x")), 0);
    ck_assert_int_eq(hcm_coap_msg_add(&msg, 1, bytes("y")), HCM_ENOSPACE);
    ck_assert_int_eq(hcm_coap_msg_add_uint(&msg, &arena, 12, 1), HCM_ENOSPACE);
    ck_assert_uint_eq(msg.nopts, HCM_MAX_OPTIONS);
    ck_assert_uint_eq(msg.opts[0].number, 1);
    ck_assert_uint_eq(msg.opts[HCM_MAX_OPTIONS - 1].number, HCM_MAX_OPTIONS);
}
END_TEST

/* RFC 7252 s3.2: uint values in network byte order, in as few bytes as possible, 0 empty. */
static const struct {
    uint32_t value;
    const char *wire;
    size_t len;
} uint_rows[] = {
    { 0, "", 0 },
    { 1, "\x01", 1 },
    { 60, "\x3c", 1 },
    { 255, "\xff", 1 },
    { 256, "\x01\x00", 2 },
    { 11050, "\x2b\x2a", 2 },
    { 65535, "\xff\xff", 2 },
    { 65536, "\x01\x00\x00", 3 },
    { 0xffffff, "\xff\xff\xff", 3 },
    { 0x1000000, "\x01\x00\x00\x00", 4 },
    { 0xffffffff, "\xff\xff\xff\xff", 4 },
};

START_TEST(add_uint_shortest)
{
    _Alignas(8) uint8_t buf[8];
    hcm_arena_t arena;
    hcm_coap_msg_t msg = { 0 };
    uint32_t back = 1234;

    hcm_arena_init(&arena, buf, sizeof(buf));
    ck_assert_int_eq(hcm_coap_msg_add_uint(&msg, &arena, 14, uint_rows[_i].value), 0);
    ck_assert_uint_eq(msg.nopts, 1);
    ck_assert_uint_eq(msg.opts[0].number, 14);
    ck_assert_uint_eq(msg.opts[0].value.len, uint_rows[_i].len);
    ck_assert_ptr_nonnull(msg.opts[0].value.p);
    ck_assert_mem_eq(msg.opts[0].value.p, uint_rows[_i].wire, uint_rows[_i].len);
    ck_assert_int_eq(hcm_uint_decode(msg.opts[0].value, &back), 0);
    ck_assert_uint_eq(back, uint_rows[_i].value);
}
END_TEST

START_TEST(add_uint_needs_arena)
{
    hcm_arena_t arena;
    hcm_coap_msg_t msg = { 0 };

    hcm_arena_init(&arena, NULL, 0);
    ck_assert_int_eq(hcm_coap_msg_add_uint(&msg, &arena, 12, 50), HCM_ENOSPACE);
    ck_assert_uint_eq(msg.nopts, 0);
    ck_assert_int_eq(hcm_coap_msg_add_uint(&msg, &arena, 12, 0), 0); /* empty: no bytes */
    ck_assert_uint_eq(msg.nopts, 1);
}
END_TEST

/* Receivers accept leading zeros (RFC 7252 s3.2); no uint option is longer than 4 bytes. */
static const struct {
    const char *wire;
    size_t len;
    int err;
    uint32_t value;
} decode_rows[] = {
    { "", 0, 0, 0 },
    { "\x00", 1, 0, 0 },
    { "\x00\x01", 2, 0, 1 },
    { "\x00\x00\x00\x3c", 4, 0, 60 },
    { "\x12\x34\x56", 3, 0, 0x123456 },
    { "\xff\xff\xff\xff", 4, 0, 0xffffffff },
    { "\x00\x00\x00\x00\x01", 5, HCM_EBADRESPONSE, 0 },
    { "\x01\x02\x03\x04\x05\x06\x07\x08", 8, HCM_EBADRESPONSE, 0 },
};

START_TEST(uint_decode)
{
    hcm_bytes_t v = { .p = (const uint8_t *)decode_rows[_i].wire, .len = decode_rows[_i].len };
    uint32_t out = 777;

    ck_assert_int_eq(hcm_uint_decode(v, &out), decode_rows[_i].err);
    ck_assert_uint_eq(out, decode_rows[_i].err == 0 ? decode_rows[_i].value : 777);
}
END_TEST

START_TEST(find_first_instance)
{
    hcm_coap_msg_t msg = { 0 };

    ck_assert_ptr_null(hcm_coap_msg_find(&msg, 11));
    hcm_coap_msg_add(&msg, 15, bytes("q"));
    hcm_coap_msg_add(&msg, 11, bytes("first"));
    hcm_coap_msg_add(&msg, 11, bytes("second"));
    hcm_coap_msg_add(&msg, 3, bytes("h"));
    ck_assert_ptr_eq(hcm_coap_msg_find(&msg, 11), &msg.opts[1]);
    ck_assert_mem_eq(hcm_coap_msg_find(&msg, 11)->value.p, "first", 5);
    ck_assert_ptr_eq(hcm_coap_msg_find(&msg, 3), &msg.opts[0]);
    ck_assert_ptr_eq(hcm_coap_msg_find(&msg, 15), &msg.opts[3]);
    ck_assert_ptr_null(hcm_coap_msg_find(&msg, 12));
    ck_assert_ptr_null(hcm_coap_msg_find(&msg, 1));
    ck_assert_ptr_null(hcm_coap_msg_find(&msg, 60));
}
END_TEST

/* A copy lives in its own bytes: option values, then the payload when asked for; without it the
 * payload stays a view of the source's. */
START_TEST(copy_into_own_bytes)
{
    hcm_coap_msg_t msg = { .code = 0x45, .payload = bytes("body") }, out;
    uint8_t buf[32];
    char src[] = "ab";

    hcm_coap_msg_add(&msg, 11, bytes(src));
    hcm_coap_msg_add(&msg, 6, bytes(""));
    hcm_coap_msg_add(&msg, 15, bytes("q=1"));
    ck_assert_uint_eq(hcm_coap_msg_size(&msg, true), 2 + 3 + 4);
    ck_assert_uint_eq(hcm_coap_msg_size(&msg, false), 2 + 3);
    memset(buf, 0xee, sizeof buf);
    hcm_coap_msg_copy(&out, buf, &msg, true);
    src[0] = 'X'; /* the copy does not follow its source */
    ck_assert_uint_eq(out.code, 0x45);
    ck_assert_uint_eq(out.nopts, 3);
    ck_assert_uint_eq(out.opts[0].number, 6);
    ck_assert_uint_eq(out.opts[0].value.len, 0);
    ck_assert_uint_eq(out.opts[1].number, 11);
    ck_assert_mem_eq(out.opts[1].value.p, "ab", 2);
    ck_assert_mem_eq(out.opts[2].value.p, "q=1", 3);
    ck_assert_ptr_eq(out.payload.p, buf + 5);
    ck_assert_mem_eq(buf, "abq=1body", 9);
    ck_assert_uint_eq(buf[9], 0xee); /* nothing past hcm_coap_msg_size() */
    hcm_coap_msg_copy(&out, buf, &msg, false);
    ck_assert_ptr_eq(out.payload.p, msg.payload.p);
    ck_assert_uint_eq(out.payload.len, 4);
}
END_TEST

static Suite *message_suite(void)
{
    Suite *s = suite_create("message");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, add_keeps_sorted_and_stable, 0, HCM_COUNTOF(sort_rows));
    tcase_add_test(tc, add_full_message);
    tcase_add_loop_test(tc, add_uint_shortest, 0, HCM_COUNTOF(uint_rows));
    tcase_add_test(tc, add_uint_needs_arena);
    tcase_add_loop_test(tc, uint_decode, 0, HCM_COUNTOF(decode_rows));
    tcase_add_test(tc, find_first_instance);
    tcase_add_test(tc, copy_into_own_bytes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(message_suite());
}

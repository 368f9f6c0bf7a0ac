/* Answers kept for their Block2 transfer (proxy/block2.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "block2.h"
#include "run_suite.h"

#define SEC 1000000000ull

static int released[16];

static void release(void *answer)
{
    released[*(int *)answer]++;
}

static int answers[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

static hcp_block2_key_t key(const char *client, const char *options)
{
    return (hcp_block2_key_t){(const uint8_t *)client, strlen(client),
                              (const uint8_t *)options, strlen(options)};
}

static void setup(void)
{
    memset(released, 0, sizeof released);
}

/* RFC 7959 s2.4: the blocks after the first come from the answer kept under the request. */
START_TEST(rfc7959_2_4_later_blocks_from_the_kept_answer)
{
    hcp_block2_limits_t limits = {.max_answers = 4, .max_bytes = 1000, .idle_ns = 93 * SEC};
    hcp_block2_t *s = hcp_block2_new(&limits, release);
    hcp_block2_key_t a = key("c1", "uri-a"), b = key("c1", "uri-b"), other = key("c2", "uri-a");

    ck_assert_int_eq(hcp_block2_keep(s, &a, &answers[1], 100, SEC), 0);
    ck_assert_int_eq(hcp_block2_keep(s, &b, &answers[2], 100, SEC), 0);
    ck_assert_ptr_eq(hcp_block2_find(s, &a, 2 * SEC), &answers[1]);
    ck_assert_ptr_eq(hcp_block2_find(s, &b, 2 * SEC), &answers[2]);
    ck_assert_ptr_null(hcp_block2_find(s, &other, 2 * SEC)); /* another client's request */
    hcp_block2_drop(s, &a);
    ck_assert_int_eq(released[1], 1);
    ck_assert_ptr_null(hcp_block2_find(s, &a, 2 * SEC));
    ck_assert_int_eq(hcp_block2_keep(s, &b, &answers[3], 100, SEC), 0); /* replaces */
    ck_assert_int_eq(released[2], 1);
    ck_assert_uint_eq(hcp_block2_count(s), 1);
    hcp_block2_free(s);
    ck_assert_int_eq(released[3], 1);
}
END_TEST

/* Bounded in count, in bytes and in time; the oldest goes first. */
START_TEST(limits_count_bytes_idle)
{
    hcp_block2_limits_t limits = {.max_answers = 2, .max_bytes = 250, .idle_ns = 10 * SEC};
    hcp_block2_t *s = hcp_block2_new(&limits, release);
    hcp_block2_key_t k1 = key("c", "1"), k2 = key("c", "2"), k3 = key("c", "3");

    hcp_block2_keep(s, &k1, &answers[1], 100, 1 * SEC);
    hcp_block2_keep(s, &k2, &answers[2], 100, 2 * SEC);
    hcp_block2_keep(s, &k3, &answers[3], 100, 3 * SEC); /* count: 1 goes */
    ck_assert_int_eq(released[1], 1);
    ck_assert_ptr_nonnull(hcp_block2_find(s, &k2, 4 * SEC)); /* 2 is now the newest in use */
    hcp_block2_keep(s, &k1, &answers[4], 200, 5 * SEC); /* bytes: 3 and 2 go */
    ck_assert_int_eq(released[3], 1);
    ck_assert_int_eq(released[2], 1);
    hcp_block2_keep(s, &k2, &answers[5], 1000, 6 * SEC); /* alone over the budget: still kept */
    ck_assert_ptr_eq(hcp_block2_find(s, &k2, 6 * SEC), &answers[5]);
    ck_assert_ptr_null(hcp_block2_find(s, &k2, 17 * SEC)); /* idle */
    ck_assert_int_eq(released[5], 1);
    ck_assert_uint_eq(hcp_block2_count(s), 0);
    hcp_block2_free(s);
}
END_TEST

static Suite *block2_suite(void)
{
    Suite *s = suite_create("block2");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, rfc7959_2_4_later_blocks_from_the_kept_answer);
    tcase_add_test(tc, limits_count_bytes_idle);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(block2_suite());
}

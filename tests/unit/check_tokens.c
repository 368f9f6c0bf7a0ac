/* hcp_tokens_*: the tokens of the requests to CoAP servers and the table that finds a request by
 * an answer's token (proxy/tokens.h). */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "tokens.h"

START_TEST(a_token_finds_its_owner)
{
    hcp_tokens_t t;
    int a, b;
    uint8_t ta[HCP_TOKENS_LEN], tb[HCP_TOKENS_LEN];
    uint32_t ia, ib;

    hcp_tokens_init(&t);
    ia = hcp_tokens_take(&t, &a, 0x11111111u);
    ib = hcp_tokens_take(&t, &b, 0x22222222u);
    ck_assert_uint_ne(ia, 0);
    ck_assert_uint_ne(ib, 0);
    ck_assert_uint_ne(ia, ib);
    hcp_tokens_write(&t, ia, ta);
    hcp_tokens_write(&t, ib, tb);
    ck_assert_ptr_eq(hcp_tokens_owner(&t, ta, sizeof ta), &a);
    ck_assert_ptr_eq(hcp_tokens_owner(&t, tb, sizeof tb), &b);
    hcp_tokens_fini(&t);
}
END_TEST

START_TEST(a_token_of_another_length_finds_nothing)
{
    hcp_tokens_t t;
    int a;
    uint8_t token[HCP_TOKENS_LEN];

    hcp_tokens_init(&t);
    hcp_tokens_write(&t, hcp_tokens_take(&t, &a, 7), token);
    ck_assert_ptr_null(hcp_tokens_owner(&t, token, 4));
    ck_assert_ptr_null(hcp_tokens_owner(&t, token, 0));
    hcp_tokens_fini(&t);
}
END_TEST

/* A late answer to a freed slot, or to a request a later one of the same transfer replaced
 * (RFC 9175 s4), finds no owner; the slot's new owner is not mistaken for the old one. */
START_TEST(a_stale_token_finds_nothing)
{
    hcp_tokens_t t;
    int a, b;
    uint8_t old[HCP_TOKENS_LEN], renewed[HCP_TOKENS_LEN], reused[HCP_TOKENS_LEN];
    uint32_t ia, ib;

    hcp_tokens_init(&t);
    ia = hcp_tokens_take(&t, &a, 1);
    hcp_tokens_write(&t, ia, old);
    hcp_tokens_renew(&t, ia, 2);
    hcp_tokens_write(&t, ia, renewed);
    ck_assert_ptr_null(hcp_tokens_owner(&t, old, sizeof old));
    ck_assert_ptr_eq(hcp_tokens_owner(&t, renewed, sizeof renewed), &a);
    hcp_tokens_free(&t, ia);
    ck_assert_ptr_null(hcp_tokens_owner(&t, renewed, sizeof renewed));
    ib = hcp_tokens_take(&t, &b, 3);
    ck_assert_uint_eq(ib, ia); /* the freed slot is the next one taken */
    hcp_tokens_write(&t, ib, reused);
    ck_assert_ptr_null(hcp_tokens_owner(&t, renewed, sizeof renewed));
    ck_assert_ptr_eq(hcp_tokens_owner(&t, reused, sizeof reused), &b);
    hcp_tokens_fini(&t);
}
END_TEST

/* A slot index beyond the table (a forged token) finds nothing. */
START_TEST(a_token_beyond_the_table_finds_nothing)
{
    hcp_tokens_t t;
    const uint8_t forged[HCP_TOKENS_LEN] = {0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 1};

    hcp_tokens_init(&t);
    ck_assert_ptr_null(hcp_tokens_owner(&t, forged, sizeof forged));
    hcp_tokens_fini(&t);
}
END_TEST

/* The table grows past its first size, and every owner stays found. */
START_TEST(many_owners_each_found)
{
    enum { N = 1000 };
    static int owners[N];
    static uint8_t tokens[N][HCP_TOKENS_LEN];
    hcp_tokens_t t;

    hcp_tokens_init(&t);
    for (uint32_t i = 0; i < N; i++)
        hcp_tokens_write(&t, hcp_tokens_take(&t, &owners[i], i * 2654435761u), tokens[i]);
    for (uint32_t i = 0; i < N; i++)
        ck_assert_ptr_eq(hcp_tokens_owner(&t, tokens[i], HCP_TOKENS_LEN), &owners[i]);
    hcp_tokens_fini(&t);
}
END_TEST

static Suite *tokens_suite(void)
{
    Suite *s = suite_create("tokens");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, a_token_finds_its_owner);
    tcase_add_test(tc, a_token_of_another_length_finds_nothing);
    tcase_add_test(tc, a_stale_token_finds_nothing);
    tcase_add_test(tc, a_token_beyond_the_table_finds_nothing);
    tcase_add_test(tc, many_owners_each_found);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(tokens_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

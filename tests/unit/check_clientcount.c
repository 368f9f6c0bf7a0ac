/* Exchanges in flight per client address (proxy/clientcount.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "clientcount.h"
#include "run_suite.h"

static hcp_clientcount_key_t v4(uint8_t last)
{
    return (hcp_clientcount_key_t){.bytes = {4, 192, 0, 2, last}, .len = 5};
}

START_TEST(counts_per_client)
{
    hcp_clientcount_t *c = hcp_clientcount_new();
    hcp_clientcount_key_t a = v4(1), b = v4(2);
    hcp_clientcount_key_t a6 = {.bytes = {6, 0x20, 0x01, [16] = 1}, .len = 17};

    for (int i = 0; i < 3; i++)
        ck_assert(hcp_clientcount_add(c, &a));
    ck_assert(hcp_clientcount_add(c, &b));
    ck_assert(hcp_clientcount_add(c, &a6));
    ck_assert_uint_eq(hcp_clientcount_get(c, &a), 3);
    ck_assert_uint_eq(hcp_clientcount_get(c, &b), 1);
    ck_assert_uint_eq(hcp_clientcount_get(c, &a6), 1);
    ck_assert_uint_eq(hcp_clientcount_clients(c), 3);
    hcp_clientcount_remove(c, &b);
    ck_assert_uint_eq(hcp_clientcount_get(c, &b), 0);
    ck_assert_uint_eq(hcp_clientcount_clients(c), 2);
    hcp_clientcount_remove(c, &b); /* nothing in flight: nothing happens */
    ck_assert_uint_eq(hcp_clientcount_get(c, &a), 3);
    hcp_clientcount_free(c);
}
END_TEST

/* 100,000 clients each with one exchange, then all ended: nothing stays behind. */
START_TEST(memory_follows_what_is_in_flight)
{
    hcp_clientcount_t *c = hcp_clientcount_new();
    hcp_clientcount_key_t k = {.bytes = {4}, .len = 5};

    for (uint32_t i = 0; i < 100000; i++) {
        memcpy(k.bytes + 1, &i, 4);
        ck_assert(hcp_clientcount_add(c, &k));
    }
    ck_assert_uint_eq(hcp_clientcount_clients(c), 100000);
    for (uint32_t i = 0; i < 100000; i++) {
        memcpy(k.bytes + 1, &i, 4);
        ck_assert_uint_eq(hcp_clientcount_get(c, &k), 1);
        hcp_clientcount_remove(c, &k);
    }
    ck_assert_uint_eq(hcp_clientcount_clients(c), 0);
    hcp_clientcount_free(c);
}
END_TEST

static Suite *clientcount_suite(void)
{
    Suite *s = suite_create("clientcount");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, counts_per_client);
    tcase_add_test(tc, memory_follows_what_is_in_flight);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(clientcount_suite());
}

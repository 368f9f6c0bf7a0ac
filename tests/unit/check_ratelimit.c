/* The per-client token buckets of http.rate_limit (proxy/ratelimit.c). */
#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>

#include "ratelimit.h"
#include "run_suite.h"

#define SEC 1000000000ull

static void v4(const char *text, uint8_t out[4])
{
    ck_assert_int_eq(inet_pton(AF_INET, text, out), 1);
}

/* A client gets |rate| requests at once, then one more per 1/rate s, never more than |rate|. */
START_TEST(burst_then_refill)
{
    hcp_ratelimit_t *rl = hcp_ratelimit_new(5);
    uint8_t a[4];
    int served = 0;

    v4("192.0.2.1", a);
    for (int i = 0; i < 10; i++)
        served += hcp_ratelimit_take(rl, AF_INET, a, 100 * SEC);
    ck_assert_int_eq(served, 5);
    ck_assert(!hcp_ratelimit_take(rl, AF_INET, a, 100 * SEC + SEC / 10));
    ck_assert(hcp_ratelimit_take(rl, AF_INET, a, 100 * SEC + SEC / 5)); /* 1/5 s: one token */
    ck_assert(!hcp_ratelimit_take(rl, AF_INET, a, 100 * SEC + SEC / 5));
    served = 0;
    for (int i = 0; i < 10; i++) /* an hour later: a full bucket, not 18,000 tokens */
        served += hcp_ratelimit_take(rl, AF_INET, a, 3700 * SEC);
    ck_assert_int_eq(served, 5);
    hcp_ratelimit_free(rl);
}
END_TEST

/* One client's flood does not touch another's bucket, nor an IPv6 one's. */
START_TEST(clients_apart)
{
    hcp_ratelimit_t *rl = hcp_ratelimit_new(2);
    uint8_t a[4], b[4], c[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};

    v4("192.0.2.1", a);
    v4("192.0.2.2", b);
    for (int i = 0; i < 100; i++)
        hcp_ratelimit_take(rl, AF_INET, a, SEC);
    ck_assert(!hcp_ratelimit_take(rl, AF_INET, a, SEC));
    ck_assert(hcp_ratelimit_take(rl, AF_INET, b, SEC));
    ck_assert(hcp_ratelimit_take(rl, AF_INET6, c, SEC));
    ck_assert(hcp_ratelimit_take(rl, AF_INET6, c, SEC));
    ck_assert(!hcp_ratelimit_take(rl, AF_INET6, c, SEC));
    hcp_ratelimit_free(rl);
}
END_TEST

/* A hundred thousand source addresses, 25 times the table, pass through it: each new one is
 * served (a full bucket), and the latest, whose slot nothing has taken since, keeps its empty
 * bucket. */
START_TEST(many_sources_cost_no_memory)
{
    hcp_ratelimit_t *rl = hcp_ratelimit_new(1);
    uint32_t last = 0;

    for (uint32_t i = 0; i < 100000; i++) {
        last = htonl(0x0a000000u + i);
        ck_assert(hcp_ratelimit_take(rl, AF_INET, &last, SEC));
    }
    ck_assert(!hcp_ratelimit_take(rl, AF_INET, &last, SEC));
    hcp_ratelimit_free(rl);
}
END_TEST

static Suite *ratelimit_suite(void)
{
    Suite *s = suite_create("ratelimit");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, burst_then_refill);
    tcase_add_test(tc, clients_apart);
    tcase_add_test(tc, many_sources_cost_no_memory);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(ratelimit_suite());
}

/* hcp_nstart_*: RFC 7252 s4.7's NSTART rule for one CoAP server (proxy/nstart.h): which request
 * goes next, and what ends a request's outstanding time. */
#include <check.h>
#include <stdlib.h>

#include "nstart.h"

#define COUNTOF(a) (sizeof(a) / sizeof((a)[0]))

#define NREQS 6

typedef struct fixture {
    hcp_nstart_t ns;
    hcp_nstart_req_t reqs[NREQS];
} fixture_t;

static void setup(fixture_t *f, unsigned limit)
{
    *f = (fixture_t){0};
    hcp_nstart_init(&f->ns, limit);
}

/* The index of the request hcp_nstart_next() gives, -1 for none. */
static int next_index(fixture_t *f)
{
    hcp_nstart_req_t *req = hcp_nstart_next(&f->ns);

    return req == NULL ? -1 : (int)(req - f->reqs);
}

/* Takes and sends the next request; its index. */
static int send_next(fixture_t *f)
{
    int i = next_index(f);

    if (i >= 0)
        hcp_nstart_sent(&f->ns, &f->reqs[i]);
    return i;
}

START_TEST(nothing_waiting_gives_nothing)
{
    fixture_t f;

    setup(&f, 1);
    ck_assert_int_eq(next_index(&f), -1);
    ck_assert_uint_eq(f.ns.outstanding, 0);
}
END_TEST

START_TEST(oldest_first_up_to_nstart)
{
    fixture_t f;

    setup(&f, 2);
    for (int i = 0; i < 4; i++)
        hcp_nstart_wait(&f.ns, &f.reqs[i], false);
    ck_assert_int_eq(send_next(&f), 0);
    ck_assert_int_eq(send_next(&f), 1);
    ck_assert_int_eq(next_index(&f), -1); /* two outstanding: no room */
    ck_assert_uint_eq(f.ns.outstanding, 2);
    ck_assert_uint_eq(f.ns.waiting.length, 2);
    ck_assert(hcp_nstart_is_waiting(&f.reqs[2]));
    ck_assert(!hcp_nstart_is_waiting(&f.reqs[0]));
}
END_TEST

/* Every way a sent request's outstanding time ends makes room for the next, exactly once. */
static const hcp_nstart_end_t ends[] = {HCP_NSTART_ACKED, HCP_NSTART_ANSWERED, HCP_NSTART_RESET,
                                        HCP_NSTART_TIMED_OUT, HCP_NSTART_CANCELLED};

START_TEST(each_end_makes_room_once)
{
    fixture_t f;

    setup(&f, 1);
    for (int i = 0; i < 3; i++)
        hcp_nstart_wait(&f.ns, &f.reqs[i], false);
    ck_assert_int_eq(send_next(&f), 0);
    ck_assert_int_eq(next_index(&f), -1);
    hcp_nstart_end(&f.ns, &f.reqs[0], ends[_i]);
    ck_assert_uint_eq(f.ns.outstanding, 0);
    hcp_nstart_end(&f.ns, &f.reqs[0], ends[_i]); /* a second report changes nothing */
    ck_assert_uint_eq(f.ns.outstanding, 0);
    ck_assert_int_eq(send_next(&f), 1);
    ck_assert_int_eq(next_index(&f), -1);
}
END_TEST

/* An ACK ends the outstanding time; the separate response that follows makes no more room. */
START_TEST(response_after_ack_counts_once)
{
    fixture_t f;

    setup(&f, 2);
    for (int i = 0; i < 3; i++)
        hcp_nstart_wait(&f.ns, &f.reqs[i], false);
    ck_assert_int_eq(send_next(&f), 0);
    ck_assert_int_eq(send_next(&f), 1);
    hcp_nstart_end(&f.ns, &f.reqs[0], HCP_NSTART_ACKED);
    hcp_nstart_end(&f.ns, &f.reqs[0], HCP_NSTART_ANSWERED);
    ck_assert_uint_eq(f.ns.outstanding, 1); /* request 1 still is */
    ck_assert_int_eq(send_next(&f), 2);
    ck_assert_int_eq(next_index(&f), -1);
}
END_TEST

START_TEST(cancelled_while_waiting_never_goes)
{
    fixture_t f;

    setup(&f, 1);
    for (int i = 0; i < 3; i++)
        hcp_nstart_wait(&f.ns, &f.reqs[i], false);
    hcp_nstart_end(&f.ns, &f.reqs[1], HCP_NSTART_CANCELLED);
    ck_assert(!hcp_nstart_is_waiting(&f.reqs[1]));
    ck_assert_uint_eq(f.ns.waiting.length, 2);
    ck_assert_int_eq(send_next(&f), 0);
    hcp_nstart_end(&f.ns, &f.reqs[0], HCP_NSTART_ANSWERED);
    ck_assert_int_eq(send_next(&f), 2);
    ck_assert_uint_eq(f.ns.outstanding, 1);
}
END_TEST

/* Ends other than a cancellation leave a waiting request where it is: it was never sent. */
START_TEST(other_ends_of_a_waiting_request_change_nothing)
{
    fixture_t f;

    setup(&f, 1);
    hcp_nstart_wait(&f.ns, &f.reqs[0], false);
    hcp_nstart_end(&f.ns, &f.reqs[0], ends[_i]);
    ck_assert(hcp_nstart_is_waiting(&f.reqs[0]));
    ck_assert_uint_eq(f.ns.outstanding, 0);
    ck_assert_int_eq(next_index(&f), 0);
}
END_TEST

/* The next request of a transfer under way goes before those that came later. */
START_TEST(first_goes_before_the_others)
{
    fixture_t f;

    setup(&f, 1);
    hcp_nstart_wait(&f.ns, &f.reqs[0], false);
    hcp_nstart_wait(&f.ns, &f.reqs[1], false);
    ck_assert_int_eq(send_next(&f), 0);
    hcp_nstart_end(&f.ns, &f.reqs[0], HCP_NSTART_ANSWERED);
    hcp_nstart_wait(&f.ns, &f.reqs[0], true);
    ck_assert_int_eq(send_next(&f), 0);
    hcp_nstart_end(&f.ns, &f.reqs[0], HCP_NSTART_ANSWERED);
    ck_assert_int_eq(send_next(&f), 1);
}
END_TEST

/* A request that could not be sent is not reported as sent, and takes no room. */
START_TEST(a_request_not_sent_takes_no_room)
{
    fixture_t f;

    setup(&f, 1);
    hcp_nstart_wait(&f.ns, &f.reqs[0], false);
    hcp_nstart_wait(&f.ns, &f.reqs[1], false);
    ck_assert_int_eq(next_index(&f), 0); /* taken, then failed: no hcp_nstart_sent() */
    ck_assert_int_eq(send_next(&f), 1);
    ck_assert_uint_eq(f.ns.outstanding, 1);
}
END_TEST

/* A transport that cannot see ACKs: at a quiet moment every request sent before counts no more,
 * and a late end of one of them does not free room that a newer request holds. */
START_TEST(quiet_moment_starts_a_new_epoch)
{
    fixture_t f;

    setup(&f, 2);
    for (int i = 0; i < 5; i++)
        hcp_nstart_wait(&f.ns, &f.reqs[i], false);
    ck_assert_int_eq(send_next(&f), 0);
    ck_assert_int_eq(send_next(&f), 1);
    ck_assert_int_eq(next_index(&f), -1);
    hcp_nstart_quiet(&f.ns);
    ck_assert_uint_eq(f.ns.outstanding, 0);
    ck_assert_int_eq(send_next(&f), 2);
    hcp_nstart_end(&f.ns, &f.reqs[0], HCP_NSTART_ANSWERED); /* of the epoch before */
    ck_assert_uint_eq(f.ns.outstanding, 1);
    ck_assert_int_eq(send_next(&f), 3);
    ck_assert_int_eq(next_index(&f), -1);
    hcp_nstart_end(&f.ns, &f.reqs[2], HCP_NSTART_TIMED_OUT);
    ck_assert_int_eq(send_next(&f), 4);
}
END_TEST

/* The epoch never becomes 0, which marks a request as not counted. */
START_TEST(epoch_wraps_past_zero)
{
    fixture_t f;

    setup(&f, 1);
    f.ns.epoch = UINT32_MAX;
    hcp_nstart_quiet(&f.ns);
    ck_assert_uint_ne(f.ns.epoch, 0);
    hcp_nstart_wait(&f.ns, &f.reqs[0], false);
    ck_assert_int_eq(send_next(&f), 0);
    ck_assert_uint_eq(f.ns.outstanding, 1);
    hcp_nstart_end(&f.ns, &f.reqs[0], HCP_NSTART_ANSWERED);
    ck_assert_uint_eq(f.ns.outstanding, 0);
}
END_TEST

static Suite *nstart_suite(void)
{
    Suite *s = suite_create("nstart");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, nothing_waiting_gives_nothing);
    tcase_add_test(tc, oldest_first_up_to_nstart);
    tcase_add_loop_test(tc, each_end_makes_room_once, 0, COUNTOF(ends));
    tcase_add_test(tc, response_after_ack_counts_once);
    tcase_add_test(tc, cancelled_while_waiting_never_goes);
    tcase_add_loop_test(tc, other_ends_of_a_waiting_request_change_nothing, 0,
                        COUNTOF(ends) - 1);
    tcase_add_test(tc, first_goes_before_the_others);
    tcase_add_test(tc, a_request_not_sent_takes_no_room);
    tcase_add_test(tc, quiet_moment_starts_a_new_epoch);
    tcase_add_test(tc, epoch_wraps_past_zero);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(nstart_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

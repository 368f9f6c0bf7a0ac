/* hcp_queue_*: the FIFO in which exchanges wait for NSTART room (proxy/queue.h). */
#include <check.h>
#include <stdlib.h>

#include "hcm.h"
#include "queue.h"

typedef struct item {
    int id;
    hcp_queue_link_t link;
} item_t;

static int id_of(const hcp_queue_link_t *link)
{
    return link == NULL ? -1 : ((const item_t *)(const void *)((const char *)link - offsetof(item_t, link)))->id;
}

START_TEST(empty_queue_pops_nothing)
{
    hcp_queue_t q;

    hcp_queue_init(&q);
    ck_assert(hcp_queue_is_empty(&q));
    ck_assert_uint_eq(q.length, 0);
    ck_assert_ptr_null(hcp_queue_pop(&q));
}
END_TEST

START_TEST(pops_in_push_order)
{
    hcp_queue_t q;
    item_t items[5] = {{.id = 0}, {.id = 1}, {.id = 2}, {.id = 3}, {.id = 4}};

    hcp_queue_init(&q);
    for (int i = 0; i < 5; i++)
        hcp_queue_push(&q, &items[i].link);
    ck_assert_uint_eq(q.length, 5);
    for (int i = 0; i < 5; i++) {
        hcp_queue_link_t *link = hcp_queue_pop(&q);
        ck_assert_int_eq(id_of(link), i);
        ck_assert(!hcp_queue_link_is_queued(link));
    }
    ck_assert(hcp_queue_is_empty(&q));
    ck_assert_ptr_null(hcp_queue_pop(&q));
}
END_TEST

/* Rows: which of five queued items leave before the rest is popped, and the order that remains.
 * Removing the first, a middle, the last, and all of them covers every link the sentinel has. */
static const struct {
    int removed[5];
    int nremoved;
    int remaining[5];
    int nremaining;
} removal_rows[] = {
    {{0}, 1, {1, 2, 3, 4}, 4},
    {{2}, 1, {0, 1, 3, 4}, 4},
    {{4}, 1, {0, 1, 2, 3}, 4},
    {{1, 3}, 2, {0, 2, 4}, 3},
    {{4, 0, 2, 1, 3}, 5, {0}, 0},
};

START_TEST(removal_from_anywhere_keeps_the_order)
{
    hcp_queue_t q;
    item_t items[5] = {{.id = 0}, {.id = 1}, {.id = 2}, {.id = 3}, {.id = 4}};

    hcp_queue_init(&q);
    for (int i = 0; i < 5; i++)
        hcp_queue_push(&q, &items[i].link);
    for (int i = 0; i < removal_rows[_i].nremoved; i++) {
        hcp_queue_link_t *link = &items[removal_rows[_i].removed[i]].link;
        hcp_queue_remove(&q, link);
        ck_assert(!hcp_queue_link_is_queued(link));
    }
    ck_assert_uint_eq(q.length, (size_t)removal_rows[_i].nremaining);
    for (int i = 0; i < removal_rows[_i].nremaining; i++)
        ck_assert_int_eq(id_of(hcp_queue_pop(&q)), removal_rows[_i].remaining[i]);
    ck_assert(hcp_queue_is_empty(&q));
}
END_TEST

/* A removed item can be queued again, at the back. */
START_TEST(a_removed_item_can_return)
{
    hcp_queue_t q;
    item_t a = {.id = 1}, b = {.id = 2};

    hcp_queue_init(&q);
    ck_assert(!hcp_queue_link_is_queued(&a.link));
    hcp_queue_push(&q, &a.link);
    hcp_queue_push(&q, &b.link);
    ck_assert(hcp_queue_link_is_queued(&a.link));
    hcp_queue_remove(&q, &a.link);
    hcp_queue_push(&q, &a.link);
    ck_assert_int_eq(id_of(hcp_queue_pop(&q)), 2);
    ck_assert_int_eq(id_of(hcp_queue_pop(&q)), 1);
    ck_assert_ptr_null(hcp_queue_pop(&q));
}
END_TEST

/* Many items through one queue, interleaving pushes and pops: a FIFO in steady state. */
/* A continuation of an exchange already under way goes before those still waiting for a turn. */
START_TEST(push_front_is_popped_first)
{
    hcp_queue_t q;
    item_t items[4] = {{.id = 0}, {.id = 1}, {.id = 2}, {.id = 3}};
    static const int order[4] = {3, 2, 0, 1};

    hcp_queue_init(&q);
    hcp_queue_push_front(&q, &items[2].link); /* into an empty queue */
    hcp_queue_push(&q, &items[0].link);
    hcp_queue_push(&q, &items[1].link);
    hcp_queue_push_front(&q, &items[3].link);
    ck_assert_uint_eq(q.length, 4);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(id_of(hcp_queue_pop(&q)), order[i]);
    ck_assert(hcp_queue_is_empty(&q));
}
END_TEST

START_TEST(steady_state_keeps_fifo_order)
{
    enum { N = 10000 };
    hcp_queue_t q;
    item_t *items = calloc(N, sizeof *items);
    int next_out = 0;

    ck_assert_ptr_nonnull(items);
    hcp_queue_init(&q);
    for (int i = 0; i < N; i++) {
        items[i].id = i;
        hcp_queue_push(&q, &items[i].link);
        if (i % 3 == 2)
            ck_assert_int_eq(id_of(hcp_queue_pop(&q)), next_out++);
    }
    ck_assert_uint_eq(q.length, (size_t)(N - next_out));
    while (!hcp_queue_is_empty(&q))
        ck_assert_int_eq(id_of(hcp_queue_pop(&q)), next_out++);
    ck_assert_int_eq(next_out, N);
    free(items);
}
END_TEST

static Suite *queue_suite(void)
{
    Suite *s = suite_create("queue");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, empty_queue_pops_nothing);
    tcase_add_test(tc, pops_in_push_order);
    tcase_add_loop_test(tc, removal_from_anywhere_keeps_the_order, 0, HCM_COUNTOF(removal_rows));
    tcase_add_test(tc, a_removed_item_can_return);
    tcase_add_test(tc, push_front_is_popped_first);
    tcase_add_test(tc, steady_state_keeps_fifo_order);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(queue_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

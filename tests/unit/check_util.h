/* What the mapping/ suites share: options written as rows (opt_t, OPT()), a message built from
 * them and compared with them, header lists compared, and the arena-exhaustion run. */
#ifndef HCPROXY_TESTS_CHECK_UTIL_H
#define HCPROXY_TESTS_CHECK_UTIL_H

#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hcm.h"

/* A CoAP option as a test row writes it; a list of them ends at the first number 0 or at its
 * array's size. */
typedef struct opt {
    uint16_t number;
    const char *value;
    size_t len;
} opt_t;

/* An option from a string literal, NULs included (uint values as their bytes, RFC 7252 s3.2). */
#define OPT(n, s) { (n), (s), sizeof(s) - 1 }

/* How many options of |opts| (an array of |max|) the row has. */
static inline size_t opts_count(const opt_t *opts, size_t max)
{
    size_t n = 0;

    while (n < max && opts[n].number != 0)
        n++;
    return n;
}

/* |msg| emptied, then given |code| and the options of |opts| (an array of |max|). */
static inline void msg_of_opts(hcm_coap_msg_t *msg, uint8_t code, const opt_t *opts, size_t max)
{
    memset(msg, 0, sizeof(*msg));
    msg->code = code;
    for (size_t i = 0; i < opts_count(opts, max); i++) {
        hcm_bytes_t v = { .p = (const uint8_t *)opts[i].value, .len = opts[i].len };

        ck_assert_int_eq(hcm_coap_msg_add(msg, opts[i].number, v), 0);
    }
}

/* |msg| has exactly the options of |want| (an array of |max|), in that order. */
static inline void check_opts(const hcm_coap_msg_t *msg, const opt_t *want, size_t max)
{
    size_t n = opts_count(want, max);

    ck_assert_uint_eq(msg->nopts, n);
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(msg->opts[i].number, want[i].number);
        ck_assert_uint_eq(msg->opts[i].value.len, want[i].len);
        if (want[i].len > 0)
            ck_assert_mem_eq(msg->opts[i].value.p, want[i].value, want[i].len);
    }
}

/* |got| (|ngot| of them) are exactly the headers of |want| (an array of |max| ending at the first
 * NULL name), names and values, in that order. */
static inline void check_headers(const hcm_header_t *got, size_t ngot, const hcm_header_t *want,
                                 size_t max)
{
    size_t n = 0;

    for (; n < max && want[n].name != NULL; n++) {
        ck_assert_uint_gt(ngot, n);
        ck_assert_str_eq(got[n].name, want[n].name);
        ck_assert_str_eq(got[n].value, want[n].value);
    }
    ck_assert_uint_eq(ngot, n);
}

/* The arena-exhaustion run (after nghttp2's TEST_FAILMALLOC_RUN): |call|, an int expression that
 * allocates from |arena| (an hcm_arena_t * the macro declares), runs with an arena of every size
 * from 0 up until it gives |ok|; |size| (a size_t the caller declared) is then the smallest size
 * that is enough. Every smaller arena must fail cleanly: |call| gives HCM_ENOSPACE (never a crash,
 * never another error), |clean| holds (the call left no partial result), the arena claims no more
 * than its size, and no size reaches |limit|. Each arena is a malloc()ed buffer of exactly its
 * size, so that valgrind or ASan see a write past it. */
#define ARENA_EXHAUSTION_RUN_IF(size, limit, arena, call, ok, clean)                               \
    for ((size) = 0;; (size)++) {                                                                 \
        void *arena_buf_ = malloc((size) > 0 ? (size) : 1);                                       \
        hcm_arena_t arena_storage_, *arena = &arena_storage_;                                     \
        int arena_got_;                                                                           \
                                                                                                  \
        hcm_arena_init(arena, arena_buf_, (size));                                                \
        arena_got_ = (call);                                                                      \
        free(arena_buf_);                                                                         \
        if (arena_got_ == (ok))                                                                   \
            break;                                                                                \
        ck_assert_int_eq(arena_got_, HCM_ENOSPACE);                                               \
        ck_assert(clean);                                                                         \
        ck_assert_uint_le(arena_storage_.used, (size));                                           \
        ck_assert_uint_lt((size), (limit));                                                       \
    }

/* The usual case: |call| gives 0 on success, and what it fills is not looked at on failure. */
#define ARENA_EXHAUSTION_RUN(size, limit, arena, call)                                            \
    ARENA_EXHAUSTION_RUN_IF(size, limit, arena, call, 0, true)

/* hcm_response_to_http() of |in| in an arena of |size| bytes (at most 4096) whose strings last
 * until the next call. */
static inline int map_response(const hcm_coap_msg_t *in, const hcm_resp_ctx_t *ctx, size_t size,
                               hcm_http_resp_t *out)
{
    static _Alignas(8) uint8_t buf[4096];
    hcm_arena_t arena;

    ck_assert_uint_le(size, sizeof buf);
    hcm_arena_init(&arena, buf, size);
    return hcm_response_to_http(in, ctx, &arena, out);
}

/* The runs of the mapping calls that several suites make: HTTP request -> CoAP (check_headers,
 * check_request), CoAP response -> HTTP (check_response, check_location), CoAP request -> origin
 * (check_origin_request, check_origin_url). */
static inline void check_request_exhaustion(const hcm_http_req_t *in, size_t limit)
{
    hcm_target_t target;
    hcm_coap_msg_t out;
    size_t need;

    ARENA_EXHAUSTION_RUN(need, limit, arena, hcm_request_to_coap(in, arena, &target, &out, NULL));
}

static inline void check_response_exhaustion(const hcm_coap_msg_t *in, const hcm_resp_ctx_t *ctx,
                                             size_t limit)
{
    hcm_http_resp_t out;
    size_t need;

    ARENA_EXHAUSTION_RUN(need, limit, arena, hcm_response_to_http(in, ctx, arena, &out));
}

static inline void check_origin_exhaustion(const hcm_coap_msg_t *in, const char *route_base,
                                           size_t route_skip, size_t limit)
{
    hcm_origin_req_t out;
    size_t need;

    ARENA_EXHAUSTION_RUN(need, limit, arena,
                         hcm_coap_to_origin(in, route_base, route_skip, arena, &out));
}

/* A loop test |name| over |rows| (each with err, route_base and route_skip; |message_of| builds
 * its CoAP request): every row that maps gets its exhaustion run, bounded by the suite's
 * ARENA_SIZE. */
#define ORIGIN_EXHAUSTION_TEST(name, rows, message_of)                                            \
    START_TEST(name)                                                                              \
    {                                                                                             \
        hcm_coap_msg_t in;                                                                        \
                                                                                                  \
        message_of(&(rows)[_i], &in);                                                             \
        if ((rows)[_i].err == 0)                                                                  \
            check_origin_exhaustion(&in, (rows)[_i].route_base, (rows)[_i].route_skip,           \
                                    ARENA_SIZE);                                                  \
    }                                                                                             \
    END_TEST

/* A loop test |name| over |rows| (each with err; |fill| builds its CoAP response, |ctx_of| the
 * request it answers): every row that maps gets its exhaustion run, bounded by the suite's
 * ARENA_SIZE. */
#define RESPONSE_EXHAUSTION_TEST(name, rows, fill, ctx_of)                                        \
    START_TEST(name)                                                                              \
    {                                                                                             \
        hcm_resp_ctx_t ctx = ctx_of(&(rows)[_i]);                                                 \
        hcm_coap_msg_t in;                                                                        \
                                                                                                  \
        fill(&in, &(rows)[_i]);                                                                   \
        if ((rows)[_i].err == 0)                                                                  \
            check_response_exhaustion(&in, &ctx, ARENA_SIZE);                                     \
    }                                                                                             \
    END_TEST

#endif

/* Block-wise transfers to CoAP servers (proxy/upblock.c), driven response by response: each test
 * plays the server, reading t->request as the request sent and answering it. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "run_suite.h"
#include "upblock.h"

#define CODE(c, dd) ((uint8_t)((c) << 5 | (dd)))

static const uint8_t tag[HCP_UPBLOCK_TAG_LEN] = {1, 2, 3, 4};
static const hcp_upblock_limits_t limits = {.szx = 6, .max_payload = 1024, .max_response = 65536};
static uint8_t data[1 << 17];
/* Option values a test's response points at; each response is built anew. */
static uint8_t block1_buf[3], block2_buf[3], etag_buf[8], cf_buf[2], size_buf[4];

static void setup(void)
{
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i % 251);
}

/* A uint option value in |buf|, as short as it can be (RFC 7252 s3.2). */
static hcp_upblock_value_t uint_value(uint8_t *buf, uint32_t n)
{
    size_t len = n > 0xFFFF ? 3 : n > 0xFF ? 2 : n > 0 ? 1 : 0;

    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(n >> (8 * (len - 1 - i)));
    return (hcp_upblock_value_t){.present = true, .p = buf, .len = len};
}

static uint32_t block(uint32_t num, int more, unsigned szx)
{
    return num << 4 | (uint32_t)more << 3 | szx;
}

static hcp_upblock_response_t response(uint8_t code)
{
    return (hcp_upblock_response_t){.code = code};
}

/* Block2 block |num| (of |szx|) of a |total|-byte body starting at data[0], with ETag |etag|. */
static hcp_upblock_response_t block2_response(uint32_t num, unsigned szx, size_t total, uint8_t etag)
{
    size_t size = (size_t)16 << szx, offset = num * size;
    size_t len = offset >= total ? 0 : total - offset < size ? total - offset : size;
    hcp_upblock_response_t r = response(CODE(2, 5));

    r.block2 = uint_value(block2_buf, block(num, offset + size < total, szx));
    etag_buf[0] = etag;
    r.etag = (hcp_upblock_value_t){.present = true, .p = etag_buf, .len = 1};
    cf_buf[0] = 42;
    r.content_format = (hcp_upblock_value_t){.present = true, .p = cf_buf, .len = 1};
    r.payload = data + offset;
    r.payload_len = len;
    return r;
}

/* The Block2 NUM the current request asks for. */
static uint32_t asked_num(const hcp_upblock_t *t)
{
    ck_assert(t->request.has_block2);
    return t->request.block2 >> 4;
}

/* The body gathered: all |total| bytes from data[0]. */
static void check_body(hcp_upblock_t *t, size_t total)
{
    uint8_t *body;
    size_t len;

    ck_assert(hcp_upblock_take_body(t, &body, &len));
    ck_assert_uint_eq(len, total);
    ck_assert(memcmp(body, data, total) == 0);
    free(body);
}

/* Plays a server that answers every Block2 request from a |total|-byte body in blocks of |szx|;
 * returns the number of requests it answered and the last step. */
static hcp_upblock_step_t serve_block2(hcp_upblock_t *t, size_t total, unsigned szx, int *requests)
{
    hcp_upblock_step_t step;

    *requests = 0;
    do {
        uint32_t num = t->request.has_block2 ? asked_num(t) : 0;
        hcp_upblock_response_t r = block2_response(num, szx, total, 7);
        (*requests)++;
        step = hcp_upblock_on_response(t, &r);
    } while (step == HCP_UPBLOCK_SEND && *requests < 10000);
    return step;
}

/* One answer to the request hcproxy sends, and the step it leads to. The answer is block |num|
 * (SZX |szx|, ETag 1) of a |total|-byte body when |total| is not 0, else a bare |code|; then
 * changed where a field says so. An answer with neither ends the list. */
typedef struct answer {
    uint8_t code;
    size_t total;
    uint32_t num;
    unsigned szx;
    bool has_block1, has_block2;
    uint32_t block1, block2;
    bool block2_of_4_bytes; /* a Block2 option of 4 bytes, longer than it can be */
    uint32_t size2;         /* 0: none */
    size_t payload_len;     /* 0: the block's */
    uint8_t content_format; /* 0: the block's (42) */
    hcp_upblock_step_t want;
} answer_t;

#define BLOCK1(num, more, szx) .has_block1 = true, .block1 = (num) << 4 | (more) << 3 | (szx)
#define BLOCK2(num, more, szx) .has_block2 = true, .block2 = (num) << 4 | (more) << 3 | (szx)
#define MAX_ANSWERS 2

/* A test: the request (a body of |body_len|), answered in order; an exchange that ends on an
 * answer of the server's own is left with no gathered body. */
typedef struct exchange {
    const char *name;
    size_t body_len;
    answer_t answers[MAX_ANSWERS];
} exchange_t;

static const exchange_t exchanges[] = {
    { "rfc7959_2_2_a_block_with_more_that_is_short_is_malformed", 0,
      { { .total = 1000, .szx = 4, .payload_len = 200, .want = HCP_UPBLOCK_MALFORMED } } },
    /* RFC 7252 s5.4.3: a critical option of a length it cannot have rejects the response; SZX 7
     * is BERT, which hcproxy never offered (RFC 8323 s6). */
    { "rfc7959_2_2_a_block_option_of_4_bytes_is_malformed", 0,
      { { .code = CODE(2, 5), .block2_of_4_bytes = true, .want = HCP_UPBLOCK_MALFORMED } } },
    { "rfc7959_2_2_a_block_option_of_szx_7_is_malformed", 0,
      { { .code = CODE(2, 5), BLOCK2(0, 1, 7), .want = HCP_UPBLOCK_MALFORMED } } },
    { "rfc7959_2_4_a_block_other_than_the_one_asked_for_is_malformed", 0,
      { { .total = 1000, .szx = 4, .want = HCP_UPBLOCK_SEND },
        { .total = 1000, .num = 2, .szx = 4, .want = HCP_UPBLOCK_MALFORMED } } },
    /* An error in the middle of a Block2 transfer is the answer: its own payload, nothing
     * gathered. */
    { "rfc7959_2_4_an_error_during_the_transfer_is_the_answer", 0,
      { { .total = 1000, .szx = 4, .want = HCP_UPBLOCK_SEND },
        { .code = CODE(5, 3), .want = HCP_UPBLOCK_DONE } } },
    /* One representation has one Content-Format: blocks that differ are not one body. */
    { "rfc7959_2_4_blocks_of_another_content_format_are_malformed", 0,
      { { .total = 1000, .szx = 4, .want = HCP_UPBLOCK_SEND },
        { .total = 1000, .num = 1, .szx = 4, .content_format = 50,
          .want = HCP_UPBLOCK_MALFORMED } } },
    /* ... and at once when Size2 announces more than the limit; within it the transfer goes on. */
    { "rfc7959_4_size2_over_the_limit_stops_at_once", 0,
      { { .total = 100000, .szx = 6, .size2 = 100000, .want = HCP_UPBLOCK_TOO_LARGE } } },
    { "rfc7959_4_size2_within_the_limit_goes_on", 0,
      { { .total = 100000, .szx = 6, .size2 = 60000, .want = HCP_UPBLOCK_SEND } } },
    { "rfc7959_2_5_an_acknowledgement_of_another_block_is_malformed", 3000,
      { { .code = CODE(2, 31), BLOCK1(1, 1, 6), .want = HCP_UPBLOCK_MALFORMED } } },
    /* An error to a block ends the upload: it is the answer. */
    { "rfc7959_2_5_an_error_to_a_block_is_the_answer", 3000,
      { { .code = CODE(4, 3), .want = HCP_UPBLOCK_DONE } } },
    /* A body that cannot go in smaller blocks than asked for, or a 4.13 that asks for nothing:
     * 413. */
    { "rfc7959_2_9_3_a_4_13_that_cannot_be_met_is_the_answer", 200,
      { { .code = CODE(4, 13), BLOCK1(0, 0, 6), .want = HCP_UPBLOCK_DONE } } },
    { "rfc7959_2_9_3_a_4_13_that_asks_for_nothing_is_the_answer", 200,
      { { .code = CODE(4, 13), .want = HCP_UPBLOCK_DONE } } },
};

static hcp_upblock_response_t response_of(const answer_t *a)
{
    static const uint8_t four[4] = {0, 0, 0, 0};
    hcp_upblock_response_t r =
        a->total > 0 ? block2_response(a->num, a->szx, a->total, 1) : response(a->code);

    if (a->has_block1)
        r.block1 = uint_value(block1_buf, a->block1);
    if (a->has_block2)
        r.block2 = uint_value(block2_buf, a->block2);
    if (a->block2_of_4_bytes)
        r.block2 = (hcp_upblock_value_t){.present = true, .p = four, .len = sizeof four};
    if (a->size2 != 0)
        r.size2 = uint_value(size_buf, a->size2);
    if (a->payload_len != 0)
        r.payload_len = a->payload_len;
    if (a->content_format != 0)
        cf_buf[0] = a->content_format;
    return r;
}

START_TEST(exchange)
{
    const exchange_t *ex = &exchanges[_i];
    hcp_upblock_t t = {0};
    hcp_upblock_step_t step = HCP_UPBLOCK_SEND;
    uint8_t *body;
    size_t len;

    hcp_upblock_start(&t, &limits, ex->body_len, tag);
    for (size_t i = 0; i < MAX_ANSWERS && (ex->answers[i].code | ex->answers[i].total) != 0;
         i++) {
        hcp_upblock_response_t r = response_of(&ex->answers[i]);

        step = hcp_upblock_on_response(&t, &r);
        ck_assert_msg(step == ex->answers[i].want, "%s, answer %zu: step %d, want %d", ex->name,
                      i, step, ex->answers[i].want);
    }
    if (step == HCP_UPBLOCK_DONE)
        ck_assert(!hcp_upblock_take_body(&t, &body, &len));
    hcp_upblock_reset(&t);
}
END_TEST

START_TEST(a_small_request_goes_whole_and_its_answer_is_taken)
{
    hcp_upblock_t t = {0};
    hcp_upblock_response_t r = response(CODE(2, 5));
    uint8_t *body;
    size_t len;

    hcp_upblock_start(&t, &limits, 100, tag);
    ck_assert(!t.request.has_block1 && !t.request.has_block2 && !t.request.has_size1);
    ck_assert(!t.request.has_request_tag && !t.request.has_echo);
    ck_assert_uint_eq(t.request.offset, 0);
    ck_assert_uint_eq(t.request.len, 100);
    ck_assert_int_eq(hcp_upblock_on_response(&t, &r), HCP_UPBLOCK_DONE);
    ck_assert(!hcp_upblock_take_body(&t, &body, &len)); /* the response's own payload */
    hcp_upblock_reset(&t);
}
END_TEST

/* RFC 7959 s2.4: a smaller configured block size is asked for with Block2 NUM 0. */
START_TEST(rfc7959_2_4_early_negotiation_asks_for_the_configured_size)
{
    hcp_upblock_t t = {0};
    hcp_upblock_limits_t small = limits;

    small.szx = 2;
    hcp_upblock_start(&t, &small, 0, tag);
    ck_assert(t.request.has_block2);
    ck_assert_uint_eq(t.request.block2, block(0, 0, 2));
    hcp_upblock_reset(&t);
}
END_TEST

START_TEST(rfc7959_2_4_an_answer_in_blocks_is_gathered_in_order)
{
    hcp_upblock_t t = {0};
    int requests;

    hcp_upblock_start(&t, &limits, 0, tag);
    ck_assert_int_eq(serve_block2(&t, 400, 2, &requests), HCP_UPBLOCK_DONE);
    ck_assert_int_eq(requests, 7); /* 6 blocks of 64 and one of 16 */
    check_body(&t, 400);
    hcp_upblock_reset(&t);
}
END_TEST

/* The continuations of a request sent whole repeat it, body and all (RFC 8132 s2.3.2). */
START_TEST(rfc7959_2_4_continuations_of_a_whole_request_repeat_its_body)
{
    hcp_upblock_t t = {0};
    hcp_upblock_response_t r = block2_response(0, 4, 1000, 1);

    hcp_upblock_start(&t, &limits, 30, tag);
    ck_assert_int_eq(hcp_upblock_on_response(&t, &r), HCP_UPBLOCK_SEND);
    ck_assert_uint_eq(t.request.block2, block(1, 0, 4));
    ck_assert(!t.request.has_block1 && !t.request.has_size1 && !t.request.has_request_tag);
    ck_assert_uint_eq(t.request.offset, 0);
    ck_assert_uint_eq(t.request.len, 30);
    hcp_upblock_reset(&t);
}
END_TEST

/* RFC 7959 s2.4: a block of another representation restarts the transfer from block 0. */
START_TEST(rfc7959_2_4_a_changed_etag_restarts_the_transfer)
{
    hcp_upblock_t t = {0};
    hcp_upblock_response_t r = block2_response(0, 4, 1000, 1);
    int n;

    hcp_upblock_start(&t, &limits, 0, tag);
    ck_assert_int_eq(hcp_upblock_on_response(&t, &r), HCP_UPBLOCK_SEND);
    r = block2_response(1, 4, 1000, 7);
    ck_assert_int_eq(hcp_upblock_on_response(&t, &r), HCP_UPBLOCK_SEND);
    ck_assert_uint_eq(asked_num(&t), 0);
    ck_assert_int_eq(serve_block2(&t, 1000, 4, &n), HCP_UPBLOCK_DONE);
    ck_assert_int_eq(n, 4);
    check_body(&t, 1000);
    hcp_upblock_reset(&t);
}
END_TEST

/* ... a bounded number of times: an ETag that changes on every block ends in CHANGED. */
START_TEST(rfc7959_2_4_an_etag_changing_on_every_block_gives_up)
{
    hcp_upblock_t t = {0};
    hcp_upblock_step_t step;
    uint8_t etag = 0;
    int requests = 0;

    hcp_upblock_start(&t, &limits, 0, tag);
    do {
        hcp_upblock_response_t r = block2_response(t.request.has_block2 ? asked_num(&t) : 0, 4,
                                                   1000, ++etag);
        requests++;
        step = hcp_upblock_on_response(&t, &r);
    } while (step == HCP_UPBLOCK_SEND && requests < 1000);
    ck_assert_int_eq(step, HCP_UPBLOCK_CHANGED);
    ck_assert_int_eq(requests, 2 * (HCP_UPBLOCK_MAX_RESTARTS + 1));
    hcp_upblock_reset(&t);
}
END_TEST

/* A body that never ends stops as soon as what arrived passes max_response (64 KiB here): after
 * 65 blocks of 1 KiB, not when the exchange times out. */
START_TEST(rfc7959_2_4_an_endless_body_stops_at_the_limit)
{
    hcp_upblock_t t = {0};
    hcp_upblock_step_t step;
    int requests = 0;

    hcp_upblock_start(&t, &limits, 0, tag);
    do {
        uint32_t num = t.request.has_block2 ? asked_num(&t) : 0;
        hcp_upblock_response_t r = block2_response(num, 6, sizeof data, 1);
        requests++;
        step = hcp_upblock_on_response(&t, &r);
    } while (step == HCP_UPBLOCK_SEND && requests < 1000);
    ck_assert_int_eq(step, HCP_UPBLOCK_TOO_LARGE);
    ck_assert_int_eq(requests, 65);
    ck_assert_uint_le(t.len, limits.max_response);
    hcp_upblock_reset(&t);
}
END_TEST

/* A body of exactly max_response bytes is taken. */
START_TEST(rfc7959_2_4_a_body_of_exactly_the_limit_is_taken)
{
    hcp_upblock_t t = {0};
    int n;

    hcp_upblock_start(&t, &limits, 0, tag);
    ck_assert_int_eq(serve_block2(&t, limits.max_response, 6, &n), HCP_UPBLOCK_DONE);
    check_body(&t, limits.max_response);
    hcp_upblock_reset(&t);
}
END_TEST

/* RFC 8323 s6: over TCP, BERT blocks (SZX 7) carry any multiple of 1024 bytes; NUM counts
 * 1024-byte units. Over UDP, SZX 7 is malformed. */
START_TEST(rfc8323_6_bert_blocks_are_gathered_over_reliable_transports)
{
    hcp_upblock_t t = {0};
    hcp_upblock_limits_t tcp = limits;
    hcp_upblock_response_t r = response(CODE(2, 5));

    tcp.bert = true;
    hcp_upblock_start(&t, &tcp, 0, tag);
    r.block2 = uint_value(block2_buf, block(0, 1, 7));
    r.payload = data;
    r.payload_len = 3072;
    ck_assert_int_eq(hcp_upblock_on_response(&t, &r), HCP_UPBLOCK_SEND);
    ck_assert_uint_eq(t.request.block2, block(3, 0, 7));
    r.block2 = uint_value(block2_buf, block(3, 0, 7));
    r.payload = data + 3072;
    r.payload_len = 100;
    ck_assert_int_eq(hcp_upblock_on_response(&t, &r), HCP_UPBLOCK_DONE);
    check_body(&t, 3172);
    r.block2 = uint_value(block2_buf, block(0, 1, 7));
    r.payload_len = 1000; /* not a multiple of 1024 */
    hcp_upblock_start(&t, &tcp, 0, tag);
    ck_assert_int_eq(hcp_upblock_on_response(&t, &r), HCP_UPBLOCK_MALFORMED);
    r.payload_len = 1024;
    hcp_upblock_start(&t, &limits, 0, tag);
    ck_assert_int_eq(hcp_upblock_on_response(&t, &r), HCP_UPBLOCK_MALFORMED);
    hcp_upblock_reset(&t);
}
END_TEST

/* Plays a server that answers 2.31 to every Block1 block with M set and |last| to the last one;
 * checks each block against the body. Returns the step after the last block's answer. */
static hcp_upblock_step_t serve_block1(hcp_upblock_t *t, size_t total, uint8_t last, int *blocks)
{
    hcp_upblock_step_t step;
    size_t expected_offset = 0;

    *blocks = 0;
    do {
        const hcp_upblock_request_t *q = &t->request;
        unsigned szx = q->block1 & 7;
        int more = (q->block1 & 8) != 0;
        hcp_upblock_response_t r = response(more ? CODE(2, 31) : last);

        ck_assert(q->has_block1 && q->has_size1 && q->has_request_tag);
        ck_assert_uint_eq(q->size1, total);
        ck_assert_uint_eq(q->offset, expected_offset);
        ck_assert_uint_eq(q->offset, (size_t)(q->block1 >> 4) << (szx + 4));
        ck_assert_int_eq(more, q->offset + q->len < total);
        ck_assert(!more || q->len == (size_t)16 << szx);
        expected_offset += q->len;
        r.block1 = uint_value(block1_buf, q->block1);
        (*blocks)++;
        step = hcp_upblock_on_response(t, &r);
    } while (step == HCP_UPBLOCK_SEND && t->request.has_block1 && *blocks < 10000);
    ck_assert_uint_eq(expected_offset, total);
    return step;
}

/* The upload as serve_block1() plays it from where |t| stands: the block sent now is |first|,
 * |nblocks| blocks go up in all, and a 2.04 to the last is the answer. */
static void check_upload(hcp_upblock_t *t, size_t total, uint32_t first, int nblocks)
{
    int blocks;

    ck_assert_uint_eq(t->request.block1, first);
    ck_assert_int_eq(serve_block1(t, total, CODE(2, 4), &blocks), HCP_UPBLOCK_DONE);
    ck_assert_int_eq(blocks, nblocks);
}

START_TEST(rfc7959_2_5_a_large_body_goes_up_in_block1_blocks_in_order)
{
    hcp_upblock_t t = {0};

    hcp_upblock_start(&t, &limits, 3000, tag);
    ck_assert(t.request.has_block1);
    check_upload(&t, 3000, block(0, 1, 6), 3);
    hcp_upblock_reset(&t);
}
END_TEST

/* Blocks never outgrow what one message can carry beside the request's options. */
START_TEST(rfc7252_4_6_blocks_fit_the_room_the_options_leave)
{
    hcp_upblock_t t = {0};
    hcp_upblock_limits_t tight = limits;

    tight.max_payload = 1000;
    hcp_upblock_start(&t, &tight, 1000, tag);
    check_upload(&t, 1000, block(0, 1, 5), 2);
    hcp_upblock_reset(&t);
}
END_TEST

/* RFC 7959 s2.5: a 2.31 with a smaller SZX asks for smaller blocks from there on. */
START_TEST(rfc7959_2_5_the_server_asks_for_smaller_blocks)
{
    hcp_upblock_t t = {0};
    hcp_upblock_response_t r = response(CODE(2, 31));

    hcp_upblock_start(&t, &limits, 3000, tag);
    r.block1 = uint_value(block1_buf, block(0, 1, 4)); /* 256 bytes from now on */
    ck_assert_int_eq(hcp_upblock_on_response(&t, &r), HCP_UPBLOCK_SEND);
    ck_assert_uint_eq(t.request.block1, block(4, 1, 4));
    ck_assert_uint_eq(t.request.offset, 1024);
    ck_assert_uint_eq(t.request.len, 256);
    /* serve_block1 checks the offsets from 0: play the rest by hand. */
    while (t.request.has_block1 && (t.request.block1 & 8)) {
        r.block1 = uint_value(block1_buf, t.request.block1);
        ck_assert_int_eq(hcp_upblock_on_response(&t, &r), HCP_UPBLOCK_SEND);
    }
    ck_assert_uint_eq(t.request.offset + t.request.len, 3000);
    r = response(CODE(2, 4));
    r.block1 = uint_value(block1_buf, t.request.block1);
    ck_assert_int_eq(hcp_upblock_on_response(&t, &r), HCP_UPBLOCK_DONE);
    hcp_upblock_reset(&t);
}
END_TEST

/* RFC 7959 s2.10, s3.2: Block1 up, then Block2 down; the continuations carry the Request-Tag and
 * no body. */
START_TEST(rfc7959_2_10_block1_up_then_block2_down)
{
    hcp_upblock_t t = {0};
    hcp_upblock_response_t r;
    int n;

    hcp_upblock_start(&t, &limits, 3000, tag);
    for (int i = 0; i < 2; i++) {
        r = response(CODE(2, 31));
        r.block1 = uint_value(block1_buf, t.request.block1);
        ck_assert_int_eq(hcp_upblock_on_response(&t, &r), HCP_UPBLOCK_SEND);
    }
    r = block2_response(0, 6, 5000, 7);
    r.code = CODE(2, 4);
    r.block1 = uint_value(block1_buf, t.request.block1);
    ck_assert_int_eq(hcp_upblock_on_response(&t, &r), HCP_UPBLOCK_SEND);
    ck_assert(!t.request.has_block1 && !t.request.has_size1);
    ck_assert(t.request.has_request_tag);
    ck_assert_uint_eq(t.request.len, 0);
    ck_assert_uint_eq(t.request.block2, block(1, 0, 6));
    ck_assert_int_eq(serve_block2(&t, 5000, 6, &n), HCP_UPBLOCK_DONE);
    check_body(&t, 5000);
    hcp_upblock_reset(&t);
}
END_TEST

/* RFC 7959 s2.9.3, RFC 8075 s8.3: a 4.13 with Block1 to a request sent whole asks for the body
 * in blocks of that size. */
START_TEST(rfc7959_2_9_3_a_4_13_with_block1_has_the_body_sent_in_blocks)
{
    hcp_upblock_t t = {0};
    hcp_upblock_response_t r = response(CODE(4, 13));

    r.block1 = uint_value(block1_buf, block(0, 0, 2));
    r.size1 = uint_value(size_buf, 1);
    hcp_upblock_start(&t, &limits, 200, tag);
    ck_assert(!t.request.has_block1);
    ck_assert_int_eq(hcp_upblock_on_response(&t, &r), HCP_UPBLOCK_SEND);
    check_upload(&t, 200, block(0, 1, 2), 4);
    hcp_upblock_reset(&t);
}
END_TEST

/* ... with Size1 alone, in the largest blocks within it. */
START_TEST(rfc7959_2_9_3_a_4_13_with_size1_has_the_body_sent_in_blocks)
{
    hcp_upblock_t t = {0};
    hcp_upblock_response_t r = response(CODE(4, 13));

    r.size1 = uint_value(size_buf, 300);
    hcp_upblock_start(&t, &limits, 1000, tag);
    ck_assert_int_eq(hcp_upblock_on_response(&t, &r), HCP_UPBLOCK_SEND);
    ck_assert_uint_eq(t.request.block1, block(0, 1, 4)); /* 256 bytes */
    hcp_upblock_reset(&t);
}
END_TEST

/* A 4.13 to a Block1 block asking for smaller ones restarts the body in them, under a new
 * Request-Tag; one asking for no smaller ones is the answer. Each restart is smaller: bounded. */
START_TEST(rfc7959_2_9_3_a_4_13_during_an_upload_restarts_it_smaller)
{
    hcp_upblock_t t = {0};
    hcp_upblock_response_t r = response(CODE(2, 31));
    int blocks;

    hcp_upblock_start(&t, &limits, 3000, tag);
    r.block1 = uint_value(block1_buf, t.request.block1);
    ck_assert_int_eq(hcp_upblock_on_response(&t, &r), HCP_UPBLOCK_SEND);
    r = response(CODE(4, 13));
    r.block1 = uint_value(block1_buf, block(1, 0, 5));
    ck_assert_int_eq(hcp_upblock_on_response(&t, &r), HCP_UPBLOCK_SEND);
    ck_assert_uint_eq(t.request.block1, block(0, 1, 5));
    ck_assert_uint_eq(t.request.offset, 0);
    ck_assert(memcmp(t.request_tag, tag, sizeof tag) != 0);
    r.block1 = uint_value(block1_buf, block(0, 0, 5)); /* the same size again: the answer */
    ck_assert_int_eq(hcp_upblock_on_response(&t, &r), HCP_UPBLOCK_DONE);
    hcp_upblock_start(&t, &limits, 3000, tag);
    ck_assert_int_eq(serve_block1(&t, 3000, CODE(2, 4), &blocks), HCP_UPBLOCK_DONE);
    hcp_upblock_reset(&t);
}
END_TEST

/* RFC 9175 s2.3: a 4.01 with Echo is answered by the same request with the Echo value, once. */
START_TEST(rfc9175_2_3_echo_is_sent_back_once)
{
    static const uint8_t echo[4] = {0x5e, 0xc0, 0x11, 0xe0};
    hcp_upblock_t t = {0};
    hcp_upblock_response_t r = response(CODE(4, 1));

    r.echo = (hcp_upblock_value_t){.present = true, .p = echo, .len = sizeof echo};
    hcp_upblock_start(&t, &limits, 3000, tag);
    ck_assert_int_eq(hcp_upblock_on_response(&t, &r), HCP_UPBLOCK_SEND);
    ck_assert(t.request.has_echo);
    ck_assert_uint_eq(t.echo_len, 4);
    ck_assert(memcmp(t.echo, echo, 4) == 0);
    ck_assert_uint_eq(t.request.block1, block(0, 1, 6)); /* the same block again */
    ck_assert_int_eq(hcp_upblock_on_response(&t, &r), HCP_UPBLOCK_DONE);
    hcp_upblock_reset(&t);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("upblock");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, a_small_request_goes_whole_and_its_answer_is_taken);
    tcase_add_loop_test(tc, exchange, 0, sizeof exchanges / sizeof exchanges[0]);
    tcase_add_test(tc, rfc7959_2_4_early_negotiation_asks_for_the_configured_size);
    tcase_add_test(tc, rfc7959_2_4_an_answer_in_blocks_is_gathered_in_order);
    tcase_add_test(tc, rfc7959_2_4_continuations_of_a_whole_request_repeat_its_body);
    tcase_add_test(tc, rfc7959_2_4_a_changed_etag_restarts_the_transfer);
    tcase_add_test(tc, rfc7959_2_4_an_etag_changing_on_every_block_gives_up);
    tcase_add_test(tc, rfc7959_2_4_an_endless_body_stops_at_the_limit);
    tcase_add_test(tc, rfc8323_6_bert_blocks_are_gathered_over_reliable_transports);
    tcase_add_test(tc, rfc7959_2_4_a_body_of_exactly_the_limit_is_taken);
    tcase_add_test(tc, rfc7959_2_5_a_large_body_goes_up_in_block1_blocks_in_order);
    tcase_add_test(tc, rfc7252_4_6_blocks_fit_the_room_the_options_leave);
    tcase_add_test(tc, rfc7959_2_5_the_server_asks_for_smaller_blocks);
    tcase_add_test(tc, rfc7959_2_10_block1_up_then_block2_down);
    tcase_add_test(tc, rfc7959_2_9_3_a_4_13_with_block1_has_the_body_sent_in_blocks);
    tcase_add_test(tc, rfc7959_2_9_3_a_4_13_with_size1_has_the_body_sent_in_blocks);
    tcase_add_test(tc, rfc7959_2_9_3_a_4_13_during_an_upload_restarts_it_smaller);
    tcase_add_test(tc, rfc9175_2_3_echo_is_sent_back_once);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(suite());
}

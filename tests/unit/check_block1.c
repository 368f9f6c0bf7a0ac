/* Block1 reassembly of CoAP clients' uploads (proxy/block1.c), driven block by block. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "block1.h"
#include "run_suite.h"

#define SEC 1000000000ull

static const hcp_block1_limits_t limits = {.max_body = 4096, .max_transfers = 4,
                                           .idle_ns = 93 * SEC};
static uint8_t data[8192];

/* Block |num| of size 16 << szx of a body of |total| bytes from |client| with |token|. */
static hcp_block1_piece_t block(const char *client, const char *token, uint32_t num,
                                unsigned szx, size_t total)
{
    size_t size = (size_t)16 << szx, offset = (size_t)num * size;
    size_t len = offset >= total ? 0 : total - offset < size ? total - offset : size;

    return (hcp_block1_piece_t){
        .client = (const uint8_t *)client, .client_len = strlen(client),
        .token = (const uint8_t *)token, .token_len = strlen(token),
        .options = (const uint8_t *)"\xb5hello", .options_len = 6,
        .num = num, .more = offset + size < total, .szx = szx,
        .payload = data + offset, .payload_len = len,
    };
}

static void setup(void)
{
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i % 251);
}

/* The whole body, once, after the last block; every block before it is a 2.31. */
static void upload(hcp_block1_t *t, const char *client, const char *token, size_t total,
                   unsigned szx)
{
    uint8_t *body = NULL;
    size_t len = 0, size = (size_t)16 << szx, n = total == 0 ? 1 : (total + size - 1) / size;

    for (uint32_t num = 0; num + 1 < n; num++) {
        hcp_block1_piece_t p = block(client, token, num, szx, total);
        ck_assert_int_eq(hcp_block1_offer(t, &p, SEC, &body, &len), HCP_BLOCK1_CONTINUE);
    }
    hcp_block1_piece_t last = block(client, token, (uint32_t)n - 1, szx, total);
    ck_assert_int_eq(hcp_block1_offer(t, &last, SEC, &body, &len), HCP_BLOCK1_COMPLETE);
    ck_assert_uint_eq(len, total);
    ck_assert(memcmp(body, data, total) == 0);
    free(body);
}

/* RFC 7959 s4: Size1 is optional; without it the body is the same. */
START_TEST(rfc7959_2_5_whole_body_without_size1)
{
    hcp_block1_t *t = hcp_block1_new(&limits);

    upload(t, "a", "tok1", 3000, 6);
    upload(t, "a", "tok1", 1024, 6); /* exactly one full block, then an empty last one */
    upload(t, "a", "tok1", 16, 0);
    ck_assert_uint_eq(hcp_block1_count(t), 0);
    hcp_block1_free(t);
}
END_TEST

/* Two uploads from one client with different tokens never mix. */
START_TEST(rfc7959_2_5_interleaved_uploads_stay_apart)
{
    hcp_block1_t *t = hcp_block1_new(&limits);
    uint8_t *body = NULL;
    size_t len = 0;
    hcp_block1_piece_t a0 = block("c", "A", 0, 6, 2000), b0 = block("c", "B", 0, 6, 1500);
    hcp_block1_piece_t a1 = block("c", "A", 1, 6, 2000), b1 = block("c", "B", 1, 6, 1500);

    ck_assert_int_eq(hcp_block1_offer(t, &a0, SEC, &body, &len), HCP_BLOCK1_CONTINUE);
    ck_assert_int_eq(hcp_block1_offer(t, &b0, SEC, &body, &len), HCP_BLOCK1_CONTINUE);
    ck_assert_int_eq(hcp_block1_offer(t, &b1, SEC, &body, &len), HCP_BLOCK1_COMPLETE);
    ck_assert_uint_eq(len, 1500);
    free(body);
    ck_assert_int_eq(hcp_block1_offer(t, &a1, SEC, &body, &len), HCP_BLOCK1_COMPLETE);
    ck_assert_uint_eq(len, 2000);
    ck_assert(memcmp(body, data, 2000) == 0);
    free(body);
    hcp_block1_free(t);
}
END_TEST

/* s2.4: a client may take a new token for each block; the transfer follows it. */
START_TEST(rfc7959_2_4_new_token_per_block)
{
    hcp_block1_t *t = hcp_block1_new(&limits);
    uint8_t *body = NULL;
    size_t len = 0;
    hcp_block1_piece_t p0 = block("c", "t0", 0, 6, 2500), p1 = block("c", "t1", 1, 6, 2500);
    hcp_block1_piece_t p2 = block("c", "t2", 2, 6, 2500);

    ck_assert_int_eq(hcp_block1_offer(t, &p0, SEC, &body, &len), HCP_BLOCK1_CONTINUE);
    ck_assert_int_eq(hcp_block1_offer(t, &p1, SEC, &body, &len), HCP_BLOCK1_CONTINUE);
    ck_assert_int_eq(hcp_block1_offer(t, &p2, SEC, &body, &len), HCP_BLOCK1_COMPLETE);
    ck_assert_uint_eq(len, 2500);
    free(body);
    hcp_block1_free(t);
}
END_TEST

/* s2.9.2: a block no transfer waits for, or one after a gap, is 4.08, and nothing is delivered. */
START_TEST(rfc7959_2_9_2_missing_block_is_incomplete)
{
    hcp_block1_t *t = hcp_block1_new(&limits);
    uint8_t *body = NULL;
    size_t len = 0;
    hcp_block1_piece_t p0 = block("c", "x", 0, 6, 4000), p2 = block("c", "x", 2, 6, 4000);
    hcp_block1_piece_t p3 = block("c", "x", 3, 6, 4000);

    ck_assert_int_eq(hcp_block1_offer(t, &p3, SEC, &body, &len), HCP_BLOCK1_INCOMPLETE);
    ck_assert_int_eq(hcp_block1_offer(t, &p0, SEC, &body, &len), HCP_BLOCK1_CONTINUE);
    ck_assert_int_eq(hcp_block1_offer(t, &p2, SEC, &body, &len), HCP_BLOCK1_INCOMPLETE);
    ck_assert_uint_eq(hcp_block1_count(t), 0);
    ck_assert_int_eq(hcp_block1_offer(t, &p3, SEC, &body, &len), HCP_BLOCK1_INCOMPLETE);
    hcp_block1_free(t);
}
END_TEST

/* Another client's block, or the same client's with other options, continues nothing. */
START_TEST(rfc7959_2_5_blocks_of_another_request_continue_nothing)
{
    hcp_block1_t *t = hcp_block1_new(&limits);
    uint8_t *body = NULL;
    size_t len = 0;
    hcp_block1_piece_t p0 = block("c", "x", 0, 6, 2000), other = block("d", "y", 1, 6, 2000);
    hcp_block1_piece_t opts = block("c", "z", 1, 6, 2000);

    opts.options = (const uint8_t *)"\xb5world";
    ck_assert_int_eq(hcp_block1_offer(t, &p0, SEC, &body, &len), HCP_BLOCK1_CONTINUE);
    ck_assert_int_eq(hcp_block1_offer(t, &other, SEC, &body, &len), HCP_BLOCK1_INCOMPLETE);
    ck_assert_int_eq(hcp_block1_offer(t, &opts, SEC, &body, &len), HCP_BLOCK1_INCOMPLETE);
    ck_assert_uint_eq(hcp_block1_count(t), 1);
    hcp_block1_free(t);
}
END_TEST

/* s2.9.3: over the limit by Size1 at once, or by what arrived, 4.13; no Size1 is allocated. */
START_TEST(rfc7959_2_9_3_too_large)
{
    hcp_block1_t *t = hcp_block1_new(&limits);
    uint8_t *body = NULL;
    size_t len = 0;
    hcp_block1_piece_t p = block("c", "x", 0, 6, 8192);

    p.size1 = 4294967295u;
    ck_assert_int_eq(hcp_block1_offer(t, &p, SEC, &body, &len), HCP_BLOCK1_TOO_LARGE);
    ck_assert_uint_eq(hcp_block1_count(t), 0);
    p.size1 = 0;
    for (uint32_t num = 0; num < 4; num++) {
        p = block("c", "x", num, 6, 8192);
        ck_assert_int_eq(hcp_block1_offer(t, &p, SEC, &body, &len), HCP_BLOCK1_CONTINUE);
    }
    p = block("c", "x", 4, 6, 8192);
    ck_assert_int_eq(hcp_block1_offer(t, &p, SEC, &body, &len), HCP_BLOCK1_TOO_LARGE);
    ck_assert_uint_eq(hcp_block1_count(t), 0);
    hcp_block1_free(t);
}
END_TEST

/* SZX 7 (BERT) and a short block that says "more" are malformed. */
START_TEST(rfc7959_2_2_malformed_blocks)
{
    hcp_block1_t *t = hcp_block1_new(&limits);
    uint8_t *body = NULL;
    size_t len = 0;
    hcp_block1_piece_t p = block("c", "x", 0, 6, 3000);

    p.szx = 7;
    ck_assert_int_eq(hcp_block1_offer(t, &p, SEC, &body, &len), HCP_BLOCK1_MALFORMED);
    p = block("c", "x", 0, 6, 3000);
    p.payload_len = 100;
    ck_assert_int_eq(hcp_block1_offer(t, &p, SEC, &body, &len), HCP_BLOCK1_MALFORMED);
    ck_assert_uint_eq(hcp_block1_count(t), 0);
    hcp_block1_free(t);
}
END_TEST

/* s2.5: the client may move to a smaller block size mid-transfer. */
START_TEST(rfc7959_2_5_smaller_blocks_mid_transfer)
{
    hcp_block1_t *t = hcp_block1_new(&limits);
    uint8_t *body = NULL;
    size_t len = 0;
    hcp_block1_piece_t p0 = block("c", "x", 0, 6, 1100); /* 1024 bytes */
    hcp_block1_piece_t p1 = block("c", "x", 16, 2, 1100); /* 64-byte blocks from offset 1024 */
    hcp_block1_piece_t p2 = block("c", "x", 17, 2, 1100);

    ck_assert_int_eq(hcp_block1_offer(t, &p0, SEC, &body, &len), HCP_BLOCK1_CONTINUE);
    ck_assert_int_eq(hcp_block1_offer(t, &p1, SEC, &body, &len), HCP_BLOCK1_CONTINUE);
    ck_assert_int_eq(hcp_block1_offer(t, &p2, SEC, &body, &len), HCP_BLOCK1_COMPLETE);
    ck_assert_uint_eq(len, 1100);
    ck_assert(memcmp(body, data, 1100) == 0);
    free(body);
    hcp_block1_free(t);
}
END_TEST

/* A full table answers 5.03; an idle transfer is dropped and its slot serves again. */
START_TEST(limits_transfers_and_idle_time)
{
    hcp_block1_t *t = hcp_block1_new(&limits);
    uint8_t *body = NULL;
    size_t len = 0;
    const char *tokens[] = {"a", "b", "c", "d"};
    hcp_block1_piece_t p;

    for (size_t i = 0; i < 4; i++) {
        p = block("c", tokens[i], 0, 6, 3000);
        ck_assert_int_eq(hcp_block1_offer(t, &p, SEC, &body, &len), HCP_BLOCK1_CONTINUE);
    }
    p = block("d", "e", 0, 6, 3000);
    ck_assert_int_eq(hcp_block1_offer(t, &p, SEC, &body, &len), HCP_BLOCK1_BUSY);
    ck_assert_int_eq(hcp_block1_offer(t, &p, 94 * SEC, &body, &len), HCP_BLOCK1_CONTINUE);
    ck_assert_uint_eq(hcp_block1_count(t), 1);
    p = block("c", "a", 1, 6, 3000); /* expired with the other three */
    ck_assert_int_eq(hcp_block1_offer(t, &p, 94 * SEC, &body, &len), HCP_BLOCK1_INCOMPLETE);
    hcp_block1_free(t);
}
END_TEST

static Suite *block1_suite(void)
{
    Suite *s = suite_create("block1");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, rfc7959_2_5_whole_body_without_size1);
    tcase_add_test(tc, rfc7959_2_5_interleaved_uploads_stay_apart);
    tcase_add_test(tc, rfc7959_2_4_new_token_per_block);
    tcase_add_test(tc, rfc7959_2_9_2_missing_block_is_incomplete);
    tcase_add_test(tc, rfc7959_2_5_blocks_of_another_request_continue_nothing);
    tcase_add_test(tc, rfc7959_2_9_3_too_large);
    tcase_add_test(tc, rfc7959_2_2_malformed_blocks);
    tcase_add_test(tc, rfc7959_2_5_smaller_blocks_mid_transfer);
    tcase_add_test(tc, limits_transfers_and_idle_time);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(block1_suite());
}

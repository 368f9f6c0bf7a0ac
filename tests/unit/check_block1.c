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

/* One block offered at a time, and what hcp_block1_offer() must answer. A block is block |num|
 * of size 16 << szx of a |total|-byte body, changed where a field says so. */
typedef struct step {
    const char *client, *token;
    uint32_t num;
    unsigned szx;
    size_t total;
    hcp_block1_verdict_t want;
    uint64_t at;         /* seconds; 0: 1 s */
    const char *options; /* the other options, when not those of block() */
    uint32_t size1;
    unsigned wire_szx;  /* the SZX the block says it has, when not |szx| */
    size_t payload_len; /* a payload of this length, when not 0 */
    bool counted;       /* afterwards, |count| transfers wait */
    size_t count;
} step_t;

/* STEP(client, token, num, szx, total, want[, more designated fields]): |want| opens the
 * variadic part, so that a step with nothing more passes no empty __VA_ARGS__. */
#define STEP(client_, token_, num_, szx_, total_, ...)                                             \
    { .client = (client_), .token = (token_), .num = (num_), .szx = (szx_), .total = (total_),    \
      .want = __VA_ARGS__ }
#define COUNT(n) .counted = true, .count = (n)
#define MAX_STEPS 8

/* A test: steps offered in order to a new table. On HCP_BLOCK1_COMPLETE the body must be the
 * whole |total| bytes. */
typedef struct script {
    const char *name;
    step_t steps[MAX_STEPS];
} script_t;

static const script_t scripts[] = {
    /* Two uploads from one client with different tokens never mix. */
    { "rfc7959_2_5_interleaved_uploads_stay_apart",
      { STEP("c", "A", 0, 6, 2000, HCP_BLOCK1_CONTINUE),
        STEP("c", "B", 0, 6, 1500, HCP_BLOCK1_CONTINUE),
        STEP("c", "B", 1, 6, 1500, HCP_BLOCK1_COMPLETE),
        STEP("c", "A", 1, 6, 2000, HCP_BLOCK1_COMPLETE) } },
    /* s2.4: a client may take a new token for each block; the transfer follows it. */
    { "rfc7959_2_4_new_token_per_block",
      { STEP("c", "t0", 0, 6, 2500, HCP_BLOCK1_CONTINUE),
        STEP("c", "t1", 1, 6, 2500, HCP_BLOCK1_CONTINUE),
        STEP("c", "t2", 2, 6, 2500, HCP_BLOCK1_COMPLETE) } },
    /* s2.9.2: a block no transfer waits for, or one after a gap, is 4.08, and nothing is
     * delivered. */
    { "rfc7959_2_9_2_missing_block_is_incomplete",
      { STEP("c", "x", 3, 6, 4000, HCP_BLOCK1_INCOMPLETE),
        STEP("c", "x", 0, 6, 4000, HCP_BLOCK1_CONTINUE),
        STEP("c", "x", 2, 6, 4000, HCP_BLOCK1_INCOMPLETE, COUNT(0)),
        STEP("c", "x", 3, 6, 4000, HCP_BLOCK1_INCOMPLETE) } },
    /* Another client's block, or the same client's with other options, continues nothing. */
    { "rfc7959_2_5_blocks_of_another_request_continue_nothing",
      { STEP("c", "x", 0, 6, 2000, HCP_BLOCK1_CONTINUE),
        STEP("d", "y", 1, 6, 2000, HCP_BLOCK1_INCOMPLETE),
        STEP("c", "z", 1, 6, 2000, HCP_BLOCK1_INCOMPLETE, .options = "\xb5world", COUNT(1)) } },
    /* s2.9.3: over the limit by Size1 at once, or by what arrived, 4.13; no Size1 is allocated. */
    { "rfc7959_2_9_3_too_large",
      { STEP("c", "x", 0, 6, 8192, HCP_BLOCK1_TOO_LARGE, .size1 = 4294967295u, COUNT(0)),
        STEP("c", "x", 0, 6, 8192, HCP_BLOCK1_CONTINUE),
        STEP("c", "x", 1, 6, 8192, HCP_BLOCK1_CONTINUE),
        STEP("c", "x", 2, 6, 8192, HCP_BLOCK1_CONTINUE),
        STEP("c", "x", 3, 6, 8192, HCP_BLOCK1_CONTINUE),
        STEP("c", "x", 4, 6, 8192, HCP_BLOCK1_TOO_LARGE, COUNT(0)) } },
    /* SZX 7 (BERT) and a short block that says "more" are malformed. */
    { "rfc7959_2_2_malformed_blocks",
      { STEP("c", "x", 0, 6, 3000, HCP_BLOCK1_MALFORMED, .wire_szx = 7),
        STEP("c", "x", 0, 6, 3000, HCP_BLOCK1_MALFORMED, .payload_len = 100, COUNT(0)) } },
    /* s2.5: the client may move to a smaller block size mid-transfer: 1024 bytes, then 64-byte
     * blocks from offset 1024. */
    { "rfc7959_2_5_smaller_blocks_mid_transfer",
      { STEP("c", "x", 0, 6, 1100, HCP_BLOCK1_CONTINUE),
        STEP("c", "x", 16, 2, 1100, HCP_BLOCK1_CONTINUE),
        STEP("c", "x", 17, 2, 1100, HCP_BLOCK1_COMPLETE) } },
    /* A full table answers 5.03; an idle transfer is dropped and its slot serves again; the
     * transfer "a" expired with the other three. */
    { "limits_transfers_and_idle_time",
      { STEP("c", "a", 0, 6, 3000, HCP_BLOCK1_CONTINUE),
        STEP("c", "b", 0, 6, 3000, HCP_BLOCK1_CONTINUE),
        STEP("c", "c", 0, 6, 3000, HCP_BLOCK1_CONTINUE),
        STEP("c", "d", 0, 6, 3000, HCP_BLOCK1_CONTINUE),
        STEP("d", "e", 0, 6, 3000, HCP_BLOCK1_BUSY),
        STEP("d", "e", 0, 6, 3000, HCP_BLOCK1_CONTINUE, .at = 94, COUNT(1)),
        STEP("c", "a", 1, 6, 3000, HCP_BLOCK1_INCOMPLETE, .at = 94) } },
};

/* The block a step offers. */
static hcp_block1_piece_t piece_of(const step_t *step)
{
    hcp_block1_piece_t p = block(step->client, step->token, step->num, step->szx, step->total);

    if (step->options != NULL)
        p.options = (const uint8_t *)step->options;
    p.size1 = step->size1;
    if (step->wire_szx != 0)
        p.szx = step->wire_szx;
    if (step->payload_len != 0)
        p.payload_len = step->payload_len;
    return p;
}

START_TEST(script)
{
    const script_t *sc = &scripts[_i];
    hcp_block1_t *t = hcp_block1_new(&limits);

    for (size_t i = 0; i < MAX_STEPS && sc->steps[i].client != NULL; i++) {
        const step_t *step = &sc->steps[i];
        hcp_block1_piece_t p = piece_of(step);
        uint8_t *body = NULL;
        size_t len = 0;
        hcp_block1_verdict_t got =
            hcp_block1_offer(t, &p, (step->at > 0 ? step->at : 1) * SEC, &body, &len);

        ck_assert_msg(got == step->want, "%s, step %zu: %d, want %d", sc->name, i, got,
                      step->want);
        if (got == HCP_BLOCK1_COMPLETE) {
            ck_assert_uint_eq(len, step->total);
            ck_assert(memcmp(body, data, step->total) == 0);
            free(body);
        }
        if (step->counted)
            ck_assert_msg(hcp_block1_count(t) == step->count, "%s, step %zu: %zu transfers",
                          sc->name, i, hcp_block1_count(t));
    }
    hcp_block1_free(t);
}
END_TEST

static Suite *block1_suite(void)
{
    Suite *s = suite_create("block1");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, rfc7959_2_5_whole_body_without_size1);
    tcase_add_loop_test(tc, script, 0, sizeof scripts / sizeof scripts[0]);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(block1_suite());
}

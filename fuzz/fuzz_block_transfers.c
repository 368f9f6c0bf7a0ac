/* Sequences of Block1 blocks and Block2 requests, as a crowd of CoAP clients might send them
 * (proxy/block1.c, proxy/block2.c): the state machines hcproxy keeps for block-wise transfers
 * in the reverse direction. Each step of the input is one block or one store operation.
 *
 * Properties, besides sanitizer reports and leaks:
 *   - a completed body is never over the limit, and is exactly the bytes of its request's
 *     blocks in order: each byte of a block is a function of its client, its options and its
 *     offset, so a body mixed from two clients or two requests, or with a gap, shows. (Blocks of
 *     one client and request with different tokens may be one transfer: a client may take a new
 *     token for each block, block1.h.)
 *   - the tables never hold more than their limits;
 *   - the Block2 store gives back only what was kept under the key asked for. */
#include <stdio.h>

#include "block1.h"
#include "block2.h"
#include "fuzz_input.h"

#define MAX_BODY 4096
#define SEC 1000000000ull

static size_t released;

static void release(void *answer)
{
    (void)answer;
    released++;
}

/* The byte at |offset| of transfer |t|'s body. */
static uint8_t pattern(unsigned t, size_t offset)
{
    return (uint8_t)(t * 31 + offset * 7);
}

static void check_body(unsigned t, const uint8_t *body, size_t len)
{
    if (len > MAX_BODY)
        abort();
    for (size_t i = 0; i < len; i++)
        if (body[i] != pattern(t, i))
            abort(); /* mixed with another transfer, or a gap */
}

static void block_step(fuzz_input_t *in, hcp_block1_t *b1, uint64_t now)
{
    uint8_t ctl = fuzz_u8(in), more = fuzz_u8(in);
    unsigned client = ctl & 3, token = ctl >> 2 & 3, options = ctl >> 4 & 1;
    unsigned t = client * 2 + options; /* the request the block belongs to */
    unsigned szx = fuzz_u8(in) % 8;
    uint32_t num = fuzz_u8(in) % 64;
    size_t size = (size_t)16 << (szx > 6 ? 6 : szx), offset = (size_t)num * size;
    size_t len = more & 1 ? size : more % (size + 2); /* now and then one byte too many */
    uint8_t payload[1025], cl = (uint8_t)client, tk = (uint8_t)token, op = (uint8_t)options;
    hcp_block1_piece_t piece = {
        .client = &cl, .client_len = 1, .token = &tk, .token_len = 1, .options = &op,
        .options_len = 1, .num = num, .more = more & 1, .szx = szx,
        .size1 = more & 2 ? fuzz_u16(in) : 0, .payload = payload, .payload_len = len,
    };
    uint8_t *body = NULL;
    size_t body_len = 0;

    for (size_t i = 0; i < len && i < sizeof payload; i++)
        payload[i] = pattern(t, offset + i);
    if (hcp_block1_offer(b1, &piece, now, &body, &body_len) == HCP_BLOCK1_COMPLETE) {
        check_body(t, body, body_len);
        free(body);
    }
    if (hcp_block1_count(b1) > 8)
        abort();
}

static void store_step(fuzz_input_t *in, hcp_block2_t *b2, uint64_t now, uint8_t *tags)
{
    uint8_t ctl = fuzz_u8(in), client = ctl & 3, options = ctl >> 2 & 3;
    hcp_block2_key_t key = {&client, 1, &options, 1};
    uint8_t *tag;

    switch (ctl >> 4 & 3) {
    case 0: /* keep: the answer names its own key */
        tag = &tags[client * 4 + options];
        hcp_block2_keep(b2, &key, tag, fuzz_u16(in), now);
        break;
    case 1:
        tag = hcp_block2_find(b2, &key, now);
        if (tag != NULL && tag != &tags[client * 4 + options])
            abort();
        break;
    default:
        hcp_block2_drop(b2, &key);
    }
    if (hcp_block2_count(b2) > 4)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input_t in = {data, size};
    hcp_block1_t *b1 = hcp_block1_new(&(hcp_block1_limits_t){MAX_BODY, 8, 93 * SEC});
    hcp_block2_t *b2 = hcp_block2_new(&(hcp_block2_limits_t){4, 4096, 93 * SEC}, release);
    uint8_t tags[16] = {0};
    uint64_t now = SEC;

    released = 0;
    while (in.left > 0) {
        uint8_t step = fuzz_u8(&in);
        now += (uint64_t)(step >> 4) * (step & 8 ? 30 : 1) * SEC; /* time passes, now and then past the idle limit */
        if (step & 1)
            store_step(&in, b2, now, tags);
        else
            block_step(&in, b1, now);
    }
    hcp_block1_free(b1);
    hcp_block2_free(b2);
    return 0;
}

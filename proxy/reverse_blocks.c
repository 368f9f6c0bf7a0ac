/* Block-wise transfers with CoAP clients (RFC 7959), hcproxy's own for every transport: the
 * blocks of an upload are gathered in block1.c before anything is forwarded, and a large answer
 * is kept in block2.c and served one block a request (rblocks.c sizes the blocks). */
#include <stdlib.h>
#include <string.h>

#include "block1.h"
#include "block2.h"
#include "hcm.h"
#include "proxy.h"
#include "rblocks.h"
#include "reverse.h"
#include "reverse_int.h"

/* ---- the transfer's key ----------------------------------------------------------------------- */

/* Options that differ between the blocks of one request: the block options themselves (RFC 7959
 * s2.2, s4), Echo, which a repeat adds (RFC 9175 s2.4), and Hop-Limit, which libcoap counts
 * down in the request on every pass through its handler (RFC 8768 s3), so that an answer's
 * second pass sees one less than the next block. */
static bool differs_between_blocks(uint16_t number)
{
    static const uint16_t numbers[] = {HCM_OPT_BLOCK1, HCM_OPT_BLOCK2, HCM_OPT_SIZE1,
                                       HCM_OPT_SIZE2, HCM_OPT_HOP_LIMIT, HCM_OPT_ECHO};

    for (size_t i = 0; i < HCM_COUNTOF(numbers); i++)
        if (numbers[i] == number)
            return true;
    return false;
}

/* Every option of |msg| that all its blocks share, as number, length and value: what makes two
 * blocks parts of one request (block1.h, block2.h). NULL when out of memory. */
static uint8_t *request_options(const hcm_coap_msg_t *msg, size_t *len)
{
    size_t size = 1, used = 0;
    uint8_t *out;

    for (size_t i = 0; i < msg->nopts; i++)
        size += 4 + msg->opts[i].value.len;
    if ((out = malloc(size)) == NULL)
        return NULL;
    for (size_t i = 0; i < msg->nopts; i++) {
        const hcm_option_t *o = &msg->opts[i];
        size_t n = o->value.len;
        if (differs_between_blocks(o->number))
            continue;
        uint8_t head[4] = {o->number >> 8, o->number & 0xff, n >> 8, n & 0xff};
        memcpy(out + used, head, 4);
        if (n > 0)
            memcpy(out + used + 4, o->value.p, n);
        used += 4 + n;
    }
    *len = used;
    return out;
}

bool hcp_reverse_blocks_key(const hcp_reverse_request_t *req, hcp_block2_key_t *key,
                            uint8_t **options)
{
    *options = request_options(&req->msg, &key->options_len);
    key->options = *options;
    key->client = req->ends;
    key->client_len = req->ends_len;
    return *options != NULL;
}

/* ---- Block1: gathering an upload ---------------------------------------------------------------- */

static const struct {
    hcp_block1_verdict_t verdict;
    int err;
} block1_errors[] = {
    {HCP_BLOCK1_INCOMPLETE, HCM_EBLOCKMISSING},
    {HCP_BLOCK1_MALFORMED, HCM_EBLOCKSIZE},
    {HCP_BLOCK1_TOO_LARGE, HCM_ETOOLARGE},
    {HCP_BLOCK1_BUSY, HCM_EOVERLOAD},
};

int hcp_reverse_blocks_gather(hcp_proxy_t *proxy, const hcp_reverse_request_t *req,
                              const hcp_rblocks_t *b, hcp_reverse_upload_t *upload,
                              hcm_coap_msg_t *answer, uint8_t buf[4])
{
    const hcm_option_t *size1 = hcm_coap_msg_find(&req->msg, HCM_OPT_SIZE1);
    hcp_block1_piece_t piece = {.token = req->token, .token_len = req->token_len,
                                .num = b->block1 >> 4, .more = (b->block1 & 0x08) != 0,
                                .szx = b->block1 & 7, .payload = req->msg.payload.p,
                                .payload_len = req->msg.payload.len};
    hcp_block1_verdict_t verdict;
    hcp_block2_key_t key;
    uint8_t *options = NULL;
    uint32_t total = 0;

    if (proxy->block1 == NULL || !hcp_reverse_blocks_key(req, &key, &options)) {
        free(options);
        return HCM_EOVERLOAD;
    }
    piece.client = key.client;
    piece.client_len = key.client_len;
    piece.options = key.options;
    piece.options_len = key.options_len;
    if (size1 != NULL && hcm_uint_decode(size1->value, &total) == 0)
        piece.size1 = total;
    verdict = hcp_block1_offer(proxy->block1, &piece, uv_hrtime(), &upload->body, &upload->len);
    free(options);
    upload->is_blockwise = true;
    upload->block1 = b->block1 & ~0x08u; /* RFC 7959 s2.3: the answer's Block1 has M clear */
    if (verdict == HCP_BLOCK1_COMPLETE)
        return 1;
    for (size_t i = 0; i < HCM_COUNTOF(block1_errors); i++)
        if (block1_errors[i].verdict == verdict)
            return block1_errors[i].err;
    memset(answer, 0, sizeof *answer);
    answer->code = HCM_CODE(2, 31);
    return hcp_rblocks_add_uint(answer, HCM_OPT_BLOCK1, upload->block1 | 0x08, &buf);
}


/* Block-wise transfers to CoAP servers (RFC 7959): see upblock.h.
 *
 * A request goes whole when its body fits one message, else in Block1 blocks (s2.5), each carrying
 * Size1 and a Request-Tag (RFC 9175 s3), numbered in order, the next sent when the server has
 * acknowledged the one before. The answer to the whole request (or to its last block) may start a
 * Block2 transfer (s2.4): block after block is asked for until one says no more follow. Every
 * request sent carries the early negotiation of the answer's block size (Block2 NUM 0 with the
 * configured SZX, s2.4) until the first Block2 block says which size the server took.
 *
 * A 4.13 that asks for smaller blocks (RFC 7959 s2.9.3) has the body sent again in them. A 4.01
 * with Echo is answered once by the same request carrying the Echo value (RFC 9175 s2.3).
 * libcoap did all of this when its block mode was on; upstream_coap.c turns it off for client sessions,
 * and libcoap's Echo handling with it. */
#include <stdlib.h>
#include <string.h>

#include "upblock.h"

#define CODE(c, dd) ((uint8_t)((c) << 5 | (dd)))
#define CODE_CLASS(code) ((code) >> 5)

typedef struct block {
    uint32_t num;
    bool more;
    unsigned szx;
} block_t;

static uint32_t block_value(block_t b)
{
    return b.num << 4 | (uint32_t)b.more << 3 | b.szx;
}

static size_t block_size(unsigned szx)
{
    return (size_t)16 << szx;
}

/* A uint option's value (RFC 7252 s3.2): at most |max_len| bytes. */
static bool read_uint(const hcp_upblock_value_t *v, size_t max_len, uint64_t *out)
{
    uint64_t n = 0;

    if (!v->present || v->len > max_len)
        return false;
    for (size_t i = 0; i < v->len; i++)
        n = n << 8 | v->p[i];
    *out = n;
    return true;
}

#define BERT 7 /* RFC 8323 s6: blocks of any multiple of 1024 bytes, over TCP only */

/* A Block1 or Block2 option: 0 to 3 bytes (RFC 7959 s2.2); SZX 7 (BERT) only when |bert| allows
 * it. -1 for a malformed one, 0 for none, 1 for one in |out|. */
static int read_block(const hcp_upblock_value_t *v, bool bert, block_t *out)
{
    uint64_t n;

    if (!v->present)
        return 0;
    if (!read_uint(v, 3, &n) || ((n & 7) == BERT && !bert))
        return -1;
    *out = (block_t){.num = (uint32_t)(n >> 4), .more = (n & 8) != 0, .szx = (unsigned)(n & 7)};
    return 1;
}

/* ---- requests ---------------------------------------------------------------------------- */

/* Block2 with NUM 0 in a request asks for the answer's blocks to be this small (s2.4); the
 * default of 1024 bytes needs no asking. */
static void ask_block_size(hcp_upblock_t *t)
{
    t->request.has_block2 = t->limits.szx < 6;
    t->request.block2 = block_value((block_t){.szx = t->limits.szx});
}

/* The whole body, in one request. */
static void request_whole(hcp_upblock_t *t)
{
    t->request = (hcp_upblock_request_t){.len = t->body_len};
    ask_block_size(t);
}

/* The Block1 block of the body that starts at |offset|. */
static void request_block1(hcp_upblock_t *t, size_t offset)
{
    size_t size = block_size(t->szx1), left = t->body_len - offset;
    block_t b = {.num = (uint32_t)(offset / size), .more = left > size, .szx = t->szx1};

    t->request = (hcp_upblock_request_t){
        .has_block1 = true,
        .block1 = block_value(b),
        .has_size1 = true, /* every block: libcoap 4.3.1's server assembles only with it */
        .size1 = t->body_len,
        .has_request_tag = true,
        .offset = offset,
        .len = left > size ? size : left,
    };
    ask_block_size(t);
}

/* Block2 block |num| of size |szx|. A body that went up in Block1 blocks is not sent again: the
 * Request-Tag says which one the blocks belong to (RFC 9175 s3.3); one sent whole is repeated, as
 * the request it answers (RFC 8132 s2.3.2 for FETCH). */
static void request_block2(hcp_upblock_t *t, uint32_t num, unsigned szx)
{
    t->request = (hcp_upblock_request_t){
        .has_block2 = true,
        .block2 = block_value((block_t){.num = num, .szx = szx}),
        .has_request_tag = t->is_block1,
        .len = t->is_block1 ? 0 : t->body_len,
    };
}

static unsigned fitting_szx(const hcp_upblock_limits_t *limits)
{
    unsigned szx = limits->szx;

    while (szx > 0 && block_size(szx) > limits->max_payload)
        szx--;
    return szx;
}

void hcp_upblock_start(hcp_upblock_t *t, const hcp_upblock_limits_t *limits, size_t body_len,
                       const uint8_t tag[HCP_UPBLOCK_TAG_LEN])
{
    hcp_upblock_reset(t);
    t->limits = *limits;
    t->body_len = body_len;
    memcpy(t->request_tag, tag, HCP_UPBLOCK_TAG_LEN);
    t->szx1 = fitting_szx(limits);
    t->is_block1 = body_len > block_size(t->szx1);
    if (t->is_block1)
        request_block1(t, 0);
    else
        request_whole(t);
}

/* ---- responses --------------------------------------------------------------------------- */

/* RFC 9175 s2.3: a 4.01 with Echo asks for the request again with the value, once. */
static bool echo_asked(hcp_upblock_t *t, const hcp_upblock_response_t *r)
{
    if (r->code != CODE(4, 1) || !r->echo.present || r->echo.len == 0 ||
        r->echo.len > HCP_UPBLOCK_ECHO_MAX || t->request.has_echo)
        return false;
    memcpy(t->echo, r->echo.p, r->echo.len);
    t->echo_len = r->echo.len;
    t->request.has_echo = true;
    return true;
}

static bool append(hcp_upblock_t *t, const uint8_t *p, size_t len)
{
    if (t->len + len > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        uint8_t *grown;
        while (cap < t->len + len)
            cap *= 2;
        if ((grown = realloc(t->data, cap)) == NULL)
            return false;
        t->data = grown;
        t->cap = cap;
    }
    if (len > 0)
        memcpy(t->data + t->len, p, len);
    t->len += len;
    return true;
}

/* The first block of a representation: later ones must be of the same one. */
static void remember_representation(hcp_upblock_t *t, const hcp_upblock_response_t *r)
{
    t->has_first = true;
    t->has_etag = r->etag.present && r->etag.len <= HCP_UPBLOCK_ETAG_MAX;
    t->etag_len = t->has_etag ? r->etag.len : 0;
    if (t->etag_len > 0)
        memcpy(t->etag, r->etag.p, t->etag_len);
    t->has_cf = r->content_format.present && r->content_format.len <= sizeof t->cf;
    t->cf_len = t->has_cf ? r->content_format.len : 0;
    if (t->cf_len > 0)
        memcpy(t->cf, r->content_format.p, t->cf_len);
}

static bool same_value(bool has, const uint8_t *p, size_t len, const hcp_upblock_value_t *v,
                       size_t max_len)
{
    bool v_has = v->present && v->len <= max_len;

    return has == v_has && (!has || (len == v->len && (len == 0 || memcmp(p, v->p, len) == 0)));
}

/* RFC 7959 s4: Size2 tells the whole body's size in advance; what arrived is checked block by
 * block, so that a body that never ends stops at the limit, not at the exchange's timeout. */
static bool exceeds_limit(const hcp_upblock_t *t, const hcp_upblock_response_t *r)
{
    uint64_t size2;

    return (read_uint(&r->size2, 4, &size2) && size2 > t->limits.max_response) ||
           t->len + r->payload_len > t->limits.max_response;
}

/* s2.4: a block of another representation (another ETag) than the blocks before it means the
 * resource changed during the transfer, which starts again from block 0, a bounded number of
 * times: a server whose ETag changes on every block would otherwise keep hcproxy asking. */
static hcp_upblock_step_t restart(hcp_upblock_t *t, unsigned szx)
{
    if (t->restarts >= HCP_UPBLOCK_MAX_RESTARTS)
        return HCP_UPBLOCK_CHANGED;
    t->restarts++;
    t->len = 0;
    t->has_first = false;
    request_block2(t, 0, szx);
    return HCP_UPBLOCK_SEND;
}

/* One Block2 block of the answer being gathered (s2.4). */
static hcp_upblock_step_t on_block2(hcp_upblock_t *t, const hcp_upblock_response_t *r)
{
    block_t b;
    int found = read_block(&r->block2, t->limits.bert, &b);
    size_t size;

    if (found < 0)
        return HCP_UPBLOCK_MALFORMED;
    if (found == 0 || CODE_CLASS(r->code) != 2)
        return HCP_UPBLOCK_DONE; /* an answer of its own (an error, or the whole body) */
    size = b.szx == BERT ? 1024 : block_size(b.szx); /* the unit NUM counts in */
    if (b.szx == BERT ? b.more && (r->payload_len == 0 || r->payload_len % size != 0)
                      : r->payload_len > size || (b.more && r->payload_len != size))
        return HCP_UPBLOCK_MALFORMED; /* s2.2: every block but the last is of the block size */
    if (!t->has_first)
        remember_representation(t, r);
    else if (!same_value(t->has_etag, t->etag, t->etag_len, &r->etag, HCP_UPBLOCK_ETAG_MAX))
        return restart(t, b.szx);
    else if (!same_value(t->has_cf, t->cf, t->cf_len, &r->content_format, sizeof t->cf))
        return HCP_UPBLOCK_MALFORMED; /* one representation has one Content-Format */
    if ((uint64_t)b.num * size != t->len)
        return HCP_UPBLOCK_MALFORMED; /* not the block asked for */
    if (exceeds_limit(t, r))
        return HCP_UPBLOCK_TOO_LARGE;
    if (!append(t, r->payload, r->payload_len))
        return HCP_UPBLOCK_NOMEM;
    if (!b.more) {
        t->is_gathered = true;
        return HCP_UPBLOCK_DONE;
    }
    request_block2(t, (uint32_t)(t->len / size), b.szx);
    return HCP_UPBLOCK_SEND;
}

/* The answer to the whole request, or to its last Block1 block: the answer itself, or the first
 * of its Block2 blocks. */
static hcp_upblock_step_t on_answer(hcp_upblock_t *t, const hcp_upblock_response_t *r)
{
    block_t b;
    int found = read_block(&r->block2, t->limits.bert, &b);

    if (found < 0)
        return HCP_UPBLOCK_MALFORMED;
    if (found == 0 || CODE_CLASS(r->code) != 2 || (b.num == 0 && !b.more))
        return HCP_UPBLOCK_DONE;
    if (b.num != 0)
        return HCP_UPBLOCK_MALFORMED; /* the first request asked for block 0 */
    t->is_fetching = true;
    return on_block2(t, r);
}

/* RFC 7959 s2.9.3: a 4.13 may say which block size the server takes: with Block1 its SZX, with
 * Size1 the most it takes at once (RFC 8075 s8.3 asks a proxy to retry in blocks). Never larger
 * than what fits one message here. */
static bool asked_szx(const hcp_upblock_t *t, const hcp_upblock_response_t *r, unsigned *szx)
{
    block_t b;
    uint64_t size1;

    if (r->code != CODE(4, 13))
        return false;
    if (read_block(&r->block1, false, &b) > 0) {
        *szx = b.szx;
    } else if (read_uint(&r->size1, 4, &size1) && size1 >= 16) {
        for (*szx = 0; *szx < 6 && block_size(*szx + 1) <= size1;)
            (*szx)++;
    } else {
        return false;
    }
    if (*szx > t->szx1)
        *szx = t->szx1;
    return true;
}

/* The body from its first block again, in blocks of |szx|, under a new Request-Tag: the server
 * has dropped what it had of it (RFC 9175 s3.3). */
static void restart_upload(hcp_upblock_t *t, unsigned szx)
{
    for (size_t i = HCP_UPBLOCK_TAG_LEN; i-- > 0 && ++t->request_tag[i] == 0;)
        ;
    t->is_block1 = true;
    t->szx1 = szx;
    request_block1(t, 0);
}

/* A 4.13 to a request sent whole: the body again, in the blocks the server asked for, if they are
 * smaller than the body; else the 4.13 is the answer. */
static bool retried_in_blocks(hcp_upblock_t *t, const hcp_upblock_response_t *r)
{
    unsigned szx;

    if (t->body_len == 0 || !asked_szx(t, r, &szx) || block_size(szx) >= t->body_len)
        return false;
    restart_upload(t, szx);
    return true;
}

/* The answer to a Block1 block (s2.5): a success with Block1 acknowledges it, and the next one
 * follows; the server may ask for smaller blocks from here on (early negotiation, s2.5). Anything
 * else is the answer to the whole request. */
static hcp_upblock_step_t on_block1(hcp_upblock_t *t, const hcp_upblock_response_t *r)
{
    block_t sent = {.num = t->request.block1 >> 4, .szx = t->request.block1 & 7}, got;
    int found = read_block(&r->block1, false, &got);
    size_t done;
    unsigned szx;

    if (asked_szx(t, r, &szx) && szx < sent.szx) {
        restart_upload(t, szx); /* each time smaller: at most 6 times */
        return HCP_UPBLOCK_SEND;
    }
    if (found < 0)
        return HCP_UPBLOCK_MALFORMED;
    if (found == 0 || CODE_CLASS(r->code) != 2)
        return on_answer(t, r);
    if (got.szx >= sent.szx && got.num != sent.num)
        return HCP_UPBLOCK_MALFORMED; /* acknowledges a block that was not sent */
    done = t->request.offset + t->request.len;
    if (done >= t->body_len)
        return on_answer(t, r);
    if (got.szx < sent.szx)
        t->szx1 = got.szx; /* |done| is a multiple of the old size, so of the new one too */
    request_block1(t, done);
    return HCP_UPBLOCK_SEND;
}

hcp_upblock_step_t hcp_upblock_on_response(hcp_upblock_t *t, const hcp_upblock_response_t *r)
{
    if (echo_asked(t, r))
        return HCP_UPBLOCK_SEND;
    t->request.has_echo = false;
    if (t->is_fetching)
        return on_block2(t, r);
    if (t->is_block1)
        return on_block1(t, r);
    if (retried_in_blocks(t, r))
        return HCP_UPBLOCK_SEND;
    return on_answer(t, r);
}

bool hcp_upblock_take_body(hcp_upblock_t *t, uint8_t **body, size_t *len)
{
    if (!t->is_gathered)
        return false;
    *body = t->data;
    *len = t->len;
    t->data = NULL;
    t->len = t->cap = 0;
    t->is_gathered = false;
    return true;
}

void hcp_upblock_reset(hcp_upblock_t *t)
{
    free(t->data);
    memset(t, 0, sizeof *t);
}

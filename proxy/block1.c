/* Block1 reassembly for CoAP clients' uploads (RFC 7959 s2.5): see block1.h.
 *
 * libcoap reassembles Block1 uploads itself, but not always: 4.3.1 hands every block of an upload
 * without Size1 to the handler on its own, and any version hands over a block that arrives with no
 * transfer to belong to. Such a block must never reach an origin as if it were the body, so the
 * blocks that reach hcproxy's handler still carrying Block1 come here.
 *
 * Blocks are taken in order only (s2.5: a client sends the next one when the 2.31 for the one
 * before has arrived), so a body grows at its end and is never more than what arrived: a Size1
 * estimate is checked against the limit but never allocated up front. */
#include <stdlib.h>
#include <string.h>

#include "block1.h"

typedef struct transfer {
    uint8_t *key;       /* client, then options, then token: one allocation */
    size_t client_len, options_len, token_len;
    uint32_t next_num;  /* the NUM the next block must carry, in units of |szx| */
    unsigned szx;
    uint8_t *body;
    size_t len, cap;
    uint64_t last_ns;
} transfer_t;

struct hcp_block1 {
    hcp_block1_limits_t limits;
    size_t count;
    transfer_t *transfers[]; /* limits.max_transfers slots; the first |count| in use */
};

hcp_block1_t *hcp_block1_new(const hcp_block1_limits_t *limits)
{
    hcp_block1_t *table = calloc(1, sizeof *table + limits->max_transfers * sizeof(transfer_t *));

    if (table != NULL)
        table->limits = *limits;
    return table;
}

static void transfer_free(transfer_t *t)
{
    free(t->key);
    free(t->body);
    free(t);
}

static void drop(hcp_block1_t *table, size_t i)
{
    transfer_free(table->transfers[i]);
    table->transfers[i] = table->transfers[--table->count];
}

void hcp_block1_free(hcp_block1_t *table)
{
    if (table == NULL)
        return;
    while (table->count > 0)
        drop(table, 0);
    free(table);
}

size_t hcp_block1_count(const hcp_block1_t *table)
{
    return table->count;
}

static void expire(hcp_block1_t *table, uint64_t now_ns)
{
    for (size_t i = table->count; i-- > 0;)
        if (now_ns - table->transfers[i]->last_ns >= table->limits.idle_ns)
            drop(table, i);
}

static bool same_bytes(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

/* Same client and the same options: the request is the same but for its token. */
static bool same_request(const transfer_t *t, const hcp_block1_piece_t *p)
{
    return same_bytes(t->key, t->client_len, p->client, p->client_len) &&
           same_bytes(t->key + t->client_len, t->options_len, p->options, p->options_len);
}

static bool same_token(const transfer_t *t, const hcp_block1_piece_t *p)
{
    return same_bytes(t->key + t->client_len + t->options_len, t->token_len, p->token,
                      p->token_len);
}

/* The index of the transfer |p| continues, or -1: the one with its token, else the only one of
 * its request that waits for its block. */
static long find(const hcp_block1_t *table, const hcp_block1_piece_t *p)
{
    long found = -1;
    size_t candidates = 0;

    for (size_t i = 0; i < table->count; i++)
        if (same_request(table->transfers[i], p) && same_token(table->transfers[i], p))
            return (long)i;
    for (size_t i = 0; i < table->count; i++) {
        const transfer_t *t = table->transfers[i];
        if (same_request(t, p) && (uint64_t)t->next_num << t->szx == (uint64_t)p->num << p->szx) {
            found = (long)i;
            candidates++;
        }
    }
    return candidates == 1 ? found : -1;
}

static transfer_t *transfer_new(const hcp_block1_piece_t *p)
{
    transfer_t *t = calloc(1, sizeof *t);
    size_t key_len = p->client_len + p->options_len + p->token_len;

    if (t == NULL || (t->key = malloc(key_len ? key_len : 1)) == NULL) {
        free(t);
        return NULL;
    }
    memcpy(t->key, p->client, p->client_len);
    memcpy(t->key + p->client_len, p->options, p->options_len);
    memcpy(t->key + p->client_len + p->options_len, p->token, p->token_len);
    t->client_len = p->client_len;
    t->options_len = p->options_len;
    t->token_len = p->token_len;
    return t;
}

/* Starts the transfer of block 0, in place of any the same client had with the same token. */
static hcp_block1_verdict_t start(hcp_block1_t *table, const hcp_block1_piece_t *p,
                                  transfer_t **out)
{
    for (size_t i = 0; i < table->count; i++)
        if (same_request(table->transfers[i], p) && same_token(table->transfers[i], p)) {
            drop(table, i);
            break;
        }
    if (p->size1 > table->limits.max_body)
        return HCP_BLOCK1_TOO_LARGE;
    if (table->count == table->limits.max_transfers || (*out = transfer_new(p)) == NULL)
        return HCP_BLOCK1_BUSY;
    table->transfers[table->count++] = *out;
    return HCP_BLOCK1_CONTINUE;
}

/* The client took a new token for this block: the next one is looked for by it. */
static bool retoken(transfer_t *t, const hcp_block1_piece_t *p)
{
    size_t head = t->client_len + t->options_len, len = head + p->token_len;
    uint8_t *key = realloc(t->key, len > 0 ? len : 1);

    if (key == NULL)
        return false;
    memcpy(key + head, p->token, p->token_len);
    t->key = key;
    t->token_len = p->token_len;
    return true;
}

static bool append(transfer_t *t, const uint8_t *data, size_t len)
{
    if (t->len + len > t->cap) {
        size_t cap = t->cap ? t->cap : 1024;
        uint8_t *grown;
        while (cap < t->len + len)
            cap *= 2;
        if ((grown = realloc(t->body, cap)) == NULL)
            return false;
        t->body = grown;
        t->cap = cap;
    }
    if (len > 0)
        memcpy(t->body + t->len, data, len);
    t->len += len;
    return true;
}

static void take_index(hcp_block1_t *table, const transfer_t *t)
{
    for (size_t i = 0; i < table->count; i++)
        if (table->transfers[i] == t) {
            table->transfers[i] = table->transfers[--table->count];
            return;
        }
}

static hcp_block1_verdict_t end(hcp_block1_t *table, transfer_t *t, hcp_block1_verdict_t v)
{
    take_index(table, t);
    transfer_free(t);
    return v;
}

hcp_block1_verdict_t hcp_block1_offer(hcp_block1_t *table, const hcp_block1_piece_t *p,
                                      uint64_t now_ns, uint8_t **body, size_t *body_len)
{
    size_t block_size = (size_t)16 << p->szx;
    transfer_t *t = NULL;
    long i;

    expire(table, now_ns);
    if (p->szx > 6 || (p->more && p->payload_len != block_size) || p->payload_len > block_size) {
        if ((i = find(table, p)) >= 0)
            drop(table, (size_t)i);
        return HCP_BLOCK1_MALFORMED; /* SZX 7 is BERT, only over TCP (RFC 8323 s6) */
    }
    if (p->num == 0) {
        hcp_block1_verdict_t v = start(table, p, &t);
        if (v != HCP_BLOCK1_CONTINUE)
            return v;
    } else if ((i = find(table, p)) < 0) {
        return HCP_BLOCK1_INCOMPLETE;
    } else {
        t = table->transfers[i];
        if ((uint64_t)p->num << (p->szx + 4) != t->len) /* out of order, or a gap */
            return end(table, t, HCP_BLOCK1_INCOMPLETE);
    }
    if (t->len + p->payload_len > table->limits.max_body)
        return end(table, t, HCP_BLOCK1_TOO_LARGE);
    if (!append(t, p->payload, p->payload_len))
        return end(table, t, HCP_BLOCK1_BUSY);
    t->szx = p->szx; /* a client may move to smaller blocks mid-transfer (s2.5) */
    t->next_num = p->num + 1;
    t->last_ns = now_ns;
    if (!same_token(t, p) && !retoken(t, p))
        return end(table, t, HCP_BLOCK1_BUSY);
    if (p->more)
        return HCP_BLOCK1_CONTINUE;
    *body = t->body != NULL ? t->body : malloc(1);
    *body_len = t->len;
    t->body = NULL;
    return end(table, t, *body != NULL ? HCP_BLOCK1_COMPLETE : HCP_BLOCK1_BUSY);
}

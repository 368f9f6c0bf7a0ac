/* tokens: see tokens.h. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "tokens.h"

#define NO_SLOT UINT32_MAX

struct hcp_tokens_slot {
    void *owner; /* NULL when free */
    uint32_t nonce;
    uint32_t next_free;
};

void hcp_tokens_init(hcp_tokens_t *t)
{
    t->slots = NULL;
    t->nslots = 0;
    t->free_slot = NO_SLOT;
}

void hcp_tokens_fini(hcp_tokens_t *t)
{
    free(t->slots);
    hcp_tokens_init(t);
}

static int grow(hcp_tokens_t *t)
{
    uint32_t n = t->nslots ? t->nslots * 2 : 64;
    hcp_tokens_slot_t *grown = realloc(t->slots, n * sizeof *grown);

    if (grown == NULL)
        return -1;
    for (uint32_t i = t->nslots; i < n; i++)
        grown[i] = (hcp_tokens_slot_t){.owner = NULL,
                                       .next_free = i + 1 < n ? i + 1 : t->free_slot};
    t->free_slot = t->nslots;
    t->slots = grown;
    t->nslots = n;
    return 0;
}

uint32_t hcp_tokens_take(hcp_tokens_t *t, void *owner, uint32_t nonce)
{
    uint32_t i;

    if (t->free_slot == NO_SLOT && grow(t) < 0)
        return 0;
    i = t->free_slot;
    t->free_slot = t->slots[i].next_free;
    t->slots[i].owner = owner;
    t->slots[i].nonce = nonce;
    return i + 1;
}

void hcp_tokens_renew(hcp_tokens_t *t, uint32_t id, uint32_t nonce)
{
    t->slots[id - 1].nonce = nonce;
}

void hcp_tokens_write(const hcp_tokens_t *t, uint32_t id, uint8_t token[HCP_TOKENS_LEN])
{
    uint32_t index = htonl(id - 1), nonce = htonl(t->slots[id - 1].nonce);

    memcpy(token, &index, 4);
    memcpy(token + 4, &nonce, 4);
}

void *hcp_tokens_owner(const hcp_tokens_t *t, const uint8_t *token, size_t len)
{
    uint32_t i, nonce;

    if (len != HCP_TOKENS_LEN)
        return NULL;
    memcpy(&i, token, 4);
    memcpy(&nonce, token + 4, 4);
    i = ntohl(i);
    if (i >= t->nslots || t->slots[i].owner == NULL || t->slots[i].nonce != ntohl(nonce))
        return NULL;
    return t->slots[i].owner;
}

void hcp_tokens_free(hcp_tokens_t *t, uint32_t id)
{
    uint32_t i = id - 1;

    t->slots[i].owner = NULL;
    t->slots[i].next_free = t->free_slot;
    t->free_slot = i;
}

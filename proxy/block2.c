/* Answers kept for the rest of their Block2 transfer: see block2.h. A short array scanned in
 * full: a few hundred entries at most, each looked at only when a block is asked for. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "block2.h"

typedef struct kept {
    uint8_t *key; /* client, then options */
    size_t client_len, options_len;
    void *answer;
    size_t size;
    uint64_t last_ns;
} kept_t;

struct hcp_block2 {
    hcp_block2_limits_t limits;
    void (*release)(void *answer);
    size_t count, bytes;
    kept_t kept[]; /* limits.max_answers slots; the first |count| in use */
};

hcp_block2_t *hcp_block2_new(const hcp_block2_limits_t *limits, void (*release)(void *answer))
{
    hcp_block2_t *store = calloc(1, sizeof *store + limits->max_answers * sizeof(kept_t));

    if (store != NULL) {
        store->limits = *limits;
        store->release = release;
    }
    return store;
}

static void drop_at(hcp_block2_t *store, size_t i)
{
    kept_t *k = &store->kept[i];

    store->release(k->answer);
    store->bytes -= k->size;
    free(k->key);
    *k = store->kept[--store->count];
}

void hcp_block2_free(hcp_block2_t *store)
{
    if (store == NULL)
        return;
    while (store->count > 0)
        drop_at(store, 0);
    free(store);
}

size_t hcp_block2_count(const hcp_block2_t *store)
{
    return store->count;
}

static bool matches(const kept_t *k, const hcp_block2_key_t *key)
{
    return k->client_len == key->client_len && k->options_len == key->options_len &&
           memcmp(k->key, key->client, key->client_len) == 0 &&
           (key->options_len == 0 ||
            memcmp(k->key + k->client_len, key->options, key->options_len) == 0);
}

static long index_of(const hcp_block2_t *store, const hcp_block2_key_t *key)
{
    for (size_t i = 0; i < store->count; i++)
        if (matches(&store->kept[i], key))
            return (long)i;
    return -1;
}

static void expire(hcp_block2_t *store, uint64_t now_ns)
{
    for (size_t i = store->count; i-- > 0;)
        if (now_ns - store->kept[i].last_ns >= store->limits.idle_ns)
            drop_at(store, i);
}

static size_t oldest(const hcp_block2_t *store)
{
    size_t o = 0;

    for (size_t i = 1; i < store->count; i++)
        if (store->kept[i].last_ns < store->kept[o].last_ns)
            o = i;
    return o;
}

int hcp_block2_keep(hcp_block2_t *store, const hcp_block2_key_t *key, void *answer, size_t size,
                    uint64_t now_ns)
{
    kept_t *k;
    long i;

    expire(store, now_ns);
    if ((i = index_of(store, key)) >= 0)
        drop_at(store, (size_t)i);
    while (store->count > 0 && (store->count == store->limits.max_answers ||
                                store->bytes + size > store->limits.max_bytes))
        drop_at(store, oldest(store));
    if (store->limits.max_answers == 0) {
        store->release(answer);
        return -1;
    }
    k = &store->kept[store->count];
    if ((k->key = malloc(key->client_len + key->options_len + 1)) == NULL) {
        store->release(answer);
        return -1;
    }
    memcpy(k->key, key->client, key->client_len);
    if (key->options_len > 0)
        memcpy(k->key + key->client_len, key->options, key->options_len);
    k->client_len = key->client_len;
    k->options_len = key->options_len;
    k->answer = answer;
    k->size = size;
    k->last_ns = now_ns;
    store->bytes += size;
    store->count++;
    return 0;
}

void *hcp_block2_find(hcp_block2_t *store, const hcp_block2_key_t *key, uint64_t now_ns)
{
    long i;

    expire(store, now_ns);
    if ((i = index_of(store, key)) < 0)
        return NULL;
    store->kept[i].last_ns = now_ns;
    return store->kept[i].answer;
}

void hcp_block2_drop(hcp_block2_t *store, const hcp_block2_key_t *key)
{
    long i = index_of(store, key);

    if (i >= 0)
        drop_at(store, (size_t)i);
}

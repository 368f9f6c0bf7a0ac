/* Counts of exchanges in flight per client address: see clientcount.h. A chained hash table of
 * a fixed number of buckets; an entry lives while its count is above zero. */
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>

#include "clientcount.h"
#include "sockaddr.h"

#define NBUCKETS 1024 /* a power of two */

typedef struct entry {
    struct entry *next;
    hcp_clientcount_key_t key;
    unsigned count;
} entry_t;

struct hcp_clientcount {
    size_t nclients;
    entry_t *buckets[NBUCKETS];
};

void hcp_clientcount_key_of(const struct sockaddr *sa, hcp_clientcount_key_t *key)
{
    size_t n = sa->sa_family == AF_INET6 ? 16 : 4;

    key->bytes[0] = (uint8_t)sa->sa_family;
    memcpy(key->bytes + 1, hcp_sockaddr_ip(sa), n);
    key->len = (uint8_t)(1 + n);
}

hcp_clientcount_t *hcp_clientcount_new(void)
{
    return calloc(1, sizeof(hcp_clientcount_t));
}

void hcp_clientcount_free(hcp_clientcount_t *counts)
{
    if (counts == NULL)
        return;
    for (size_t i = 0; i < NBUCKETS; i++)
        while (counts->buckets[i] != NULL) {
            entry_t *e = counts->buckets[i];
            counts->buckets[i] = e->next;
            free(e);
        }
    free(counts);
}

/* FNV-1a over the key. */
static entry_t **bucket_of(const hcp_clientcount_t *counts, const hcp_clientcount_key_t *key)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < key->len; i++)
        h = (h ^ key->bytes[i]) * 16777619u;
    return (entry_t **)&counts->buckets[h & (NBUCKETS - 1)];
}

/* The link that points at |key|'s entry, or at the NULL that ends its bucket. */
static entry_t **find(const hcp_clientcount_t *counts, const hcp_clientcount_key_t *key)
{
    entry_t **link = bucket_of(counts, key);

    while (*link != NULL && ((*link)->key.len != key->len ||
                             memcmp((*link)->key.bytes, key->bytes, key->len) != 0))
        link = &(*link)->next;
    return link;
}

unsigned hcp_clientcount_get(const hcp_clientcount_t *counts, const hcp_clientcount_key_t *key)
{
    entry_t *e = *find(counts, key);

    return e != NULL ? e->count : 0;
}

bool hcp_clientcount_add(hcp_clientcount_t *counts, const hcp_clientcount_key_t *key)
{
    entry_t **link = find(counts, key);

    if (*link == NULL) {
        if ((*link = calloc(1, sizeof **link)) == NULL)
            return false;
        (*link)->key = *key;
        counts->nclients++;
    }
    (*link)->count++;
    return true;
}

void hcp_clientcount_remove(hcp_clientcount_t *counts, const hcp_clientcount_key_t *key)
{
    entry_t **link = find(counts, key), *e = *link;

    if (e == NULL)
        return;
    if (--e->count == 0) {
        *link = e->next;
        free(e);
        counts->nclients--;
    }
}

size_t hcp_clientcount_clients(const hcp_clientcount_t *counts)
{
    return counts->nclients;
}

/* http.rate_limit: a token bucket per client address. Each client may make |rate| requests a
 * second, in bursts of up to |rate|. The buckets live in a fixed table, so a flood of source
 * addresses costs no memory: a client whose slot another took starts again with a full bucket,
 * which only ever errs towards serving. No I/O and no clock of its own: the caller passes the
 * time, and tests/unit/check_ratelimit.c drives it. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ratelimit.h"

#define NSLOTS 4096 /* a power of two */
#define PROBES 8    /* slots looked at per address */

typedef struct bucket {
    uint8_t addr[17]; /* family byte, then the address; all zero: free */
    double tokens;
    uint64_t last_ns;
} bucket_t;

struct hcp_ratelimit {
    double rate;
    bucket_t slots[NSLOTS];
};

hcp_ratelimit_t *hcp_ratelimit_new(unsigned rate)
{
    hcp_ratelimit_t *rl = calloc(1, sizeof *rl);

    if (rl != NULL)
        rl->rate = rate;
    return rl;
}

void hcp_ratelimit_free(hcp_ratelimit_t *rl)
{
    free(rl);
}

/* FNV-1a: spreads addresses that differ in one byte. */
static size_t slot_of(const uint8_t key[17])
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < 17; i++)
        h = (h ^ key[i]) * 16777619u;
    return h & (NSLOTS - 1);
}

static bool is_free(const bucket_t *b)
{
    static const uint8_t zero[17];

    return memcmp(b->addr, zero, sizeof zero) == 0;
}

/* The client's bucket, or a new full one in a free slot, or in the probed slot idle longest. */
static bucket_t *bucket_for(hcp_ratelimit_t *rl, const uint8_t key[17], uint64_t now_ns)
{
    size_t first = slot_of(key);
    bucket_t *oldest = NULL;

    for (size_t i = 0; i < PROBES; i++) {
        bucket_t *b = &rl->slots[(first + i) & (NSLOTS - 1)];

        if (memcmp(b->addr, key, 17) == 0)
            return b;
        if (is_free(b) || oldest == NULL || b->last_ns < oldest->last_ns)
            oldest = b;
        if (is_free(b))
            break;
    }
    memcpy(oldest->addr, key, 17);
    oldest->tokens = rl->rate;
    oldest->last_ns = now_ns;
    return oldest;
}

bool hcp_ratelimit_take(hcp_ratelimit_t *rl, int family, const void *addr, uint64_t now_ns)
{
    uint8_t key[17] = {(uint8_t)family};
    bucket_t *b;

    memcpy(key + 1, addr, family == AF_INET ? 4 : 16);
    b = bucket_for(rl, key, now_ns);
    if (now_ns > b->last_ns) {
        b->tokens += (double)(now_ns - b->last_ns) * rl->rate / 1e9;
        if (b->tokens > rl->rate)
            b->tokens = rl->rate;
        b->last_ns = now_ns;
    }
    if (b->tokens < 1.0)
        return false;
    b->tokens -= 1.0;
    return true;
}

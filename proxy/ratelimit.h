/* Per-client request rate (ratelimit.c): pure, no I/O, the time passed in. */
#ifndef HCP_RATELIMIT_H
#define HCP_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct hcp_ratelimit hcp_ratelimit_t;

/* A table for |rate| requests a second per client (bursts of |rate|). NULL when out of memory. */
hcp_ratelimit_t *hcp_ratelimit_new(unsigned rate);
void hcp_ratelimit_free(hcp_ratelimit_t *rl);
/* Takes one request from the bucket of the client at |addr| (4 bytes for AF_INET, 16 for
 * AF_INET6) at |now_ns| (a monotonic clock): true when it may be served. */
bool hcp_ratelimit_take(hcp_ratelimit_t *rl, int family, const void *addr, uint64_t now_ns);

#endif

/* Answers kept for the rest of their Block2 transfer (RFC 7959 s2.4): a CoAP client fetches a
 * large answer block by block, each block a request of its own, and hcproxy serves the blocks
 * after the first from the one answer the origin gave, instead of asking the origin again for
 * each. No I/O and no clock of its own: tests/unit/check_block2.c drives it.
 *
 * An answer is kept under the request that asked for it: the client (its address and port) and
 * every option of the request but Block1, Block2, Size1 and Size2. The store holds an opaque
 * pointer and a size, and calls |release| on what it drops. */
#ifndef HCP_BLOCK2_H
#define HCP_BLOCK2_H

#include <stddef.h>
#include <stdint.h>

typedef struct hcp_block2 hcp_block2_t;

typedef struct hcp_block2_limits {
    size_t max_answers; /* answers kept at once; the oldest goes first */
    size_t max_bytes;   /* their sizes added up; the newest is kept even when it alone is more */
    uint64_t idle_ns;   /* an answer no block was asked of for this long is dropped */
} hcp_block2_limits_t;

typedef struct hcp_block2_key {
    const uint8_t *client;
    size_t client_len;
    const uint8_t *options;
    size_t options_len;
} hcp_block2_key_t;

hcp_block2_t *hcp_block2_new(const hcp_block2_limits_t *limits, void (*release)(void *answer));
/* Releases every answer still kept. */
void hcp_block2_free(hcp_block2_t *store);

/* Keeps |answer| of |size| bytes under |key|, in place of one kept there before. -1 when out of
 * memory: the answer is then released. */
int hcp_block2_keep(hcp_block2_t *store, const hcp_block2_key_t *key, void *answer, size_t size,
                    uint64_t now_ns);
/* The answer kept under |key|, or NULL; asking counts as use. */
void *hcp_block2_find(hcp_block2_t *store, const hcp_block2_key_t *key, uint64_t now_ns);
/* Releases the answer under |key|: its last block was served. */
void hcp_block2_drop(hcp_block2_t *store, const hcp_block2_key_t *key);

size_t hcp_block2_count(const hcp_block2_t *store);

#endif

/* Block1 uploads from CoAP clients (RFC 7959 s2.5), reassembled by hcproxy itself: the whole
 * body reaches the origin once, or nothing does. No I/O and no clock of its own: the caller passes
 * each block and the time, and tests/unit/check_block1.c drives it block by block. */
#ifndef HCP_BLOCK1_H
#define HCP_BLOCK1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hcp_block1 hcp_block1_t;

typedef struct hcp_block1_limits {
    size_t max_body;      /* bytes one body may reach (4.13 beyond) */
    size_t max_transfers; /* uploads in progress at once, from every client (5.03 beyond) */
    uint64_t idle_ns;     /* an upload that gets no block for this long is dropped */
} hcp_block1_limits_t;

/* One block as it arrived. |client| names the sender (its address and port), |token| the
 * request's token, |options| every option of the request but Block1, Block2 and Size1, in wire
 * order: two uploads are one transfer only when all three agree, or, for a client that takes a
 * new token for each block (RFC 7959 s2.4 allows it), when client and options agree and exactly
 * one such transfer waits for this block. */
typedef struct hcp_block1_piece {
    const uint8_t *client;
    size_t client_len;
    const uint8_t *token;
    size_t token_len;
    const uint8_t *options;
    size_t options_len;
    uint32_t num;   /* the Block1 option's NUM, M and SZX (RFC 7959 s2.2) */
    bool more;
    unsigned szx;
    uint64_t size1; /* the Size1 option (s4), 0 when absent */
    const uint8_t *payload;
    size_t payload_len;
} hcp_block1_piece_t;

typedef enum hcp_block1_verdict {
    HCP_BLOCK1_CONTINUE,   /* stored: answer 2.31 Continue with the block's Block1 option */
    HCP_BLOCK1_COMPLETE,   /* the last block: *body holds the whole body, the caller's to free */
    HCP_BLOCK1_INCOMPLETE, /* no transfer waits for this block (RFC 7959 s2.9.2: 4.08) */
    HCP_BLOCK1_MALFORMED,  /* SZX 7, or a block with M set that is not of the block size: 4.00 */
    HCP_BLOCK1_TOO_LARGE,  /* over max_body, by Size1 or by what arrived (s2.9.3: 4.13) */
    HCP_BLOCK1_BUSY,       /* max_transfers in progress, or no memory: 5.03 */
} hcp_block1_verdict_t;

hcp_block1_t *hcp_block1_new(const hcp_block1_limits_t *limits);
void hcp_block1_free(hcp_block1_t *table);

/* Takes one block at |now_ns|. On HCP_BLOCK1_COMPLETE, *body and *body_len are the body (malloc'd,
 * never NULL, even when empty); the transfer is gone. Any verdict but CONTINUE ends the transfer
 * the block belonged to. */
hcp_block1_verdict_t hcp_block1_offer(hcp_block1_t *table, const hcp_block1_piece_t *piece,
                                      uint64_t now_ns, uint8_t **body, size_t *body_len);

/* Uploads in progress, for /metrics and tests. */
size_t hcp_block1_count(const hcp_block1_t *table);

#endif

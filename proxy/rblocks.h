/* Block-wise answers to CoAP clients (RFC 7959 s2.4), sized to fit: pure, no I/O
 * (tests/unit/check_rblocks.c). reverse.c serves every answer through it. */
#ifndef HCP_RBLOCKS_H
#define HCP_RBLOCKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hcm.h"

/* The block options and Block1 state of one request. */
typedef struct hcp_rblocks {
    bool has_block1, has_block2;
    uint32_t block1, block2; /* the options' values */
} hcp_rblocks_t;

/* Reads the block options of |msg|: 0, or HCM_EBADOPTION for one that is no uint. */
int hcp_rblocks_read(const hcm_coap_msg_t *msg, hcp_rblocks_t *b);
/* The answer to send for |whole|: the block |asked| asks for (RFC 7959 s2.4), or |whole| itself
 * when it fits in one block and no later block was asked for. Blocks are of 1024 bytes unless
 * the request's Block2 asks for smaller ones (early negotiation, s2.4) or fewer fit in |room|.
 * |*block1| (NULL for none) is echoed (s2.3). The options live in |out| and |buf| (of 16 bytes).
 * Returns 1 when blocks remain, 0 when not, HCM_EBLOCKRANGE for a block past the end. */
int hcp_rblocks_answer(const hcm_coap_msg_t *whole, const hcp_rblocks_t *asked,
                       const uint32_t *block1, size_t token_len, size_t room, hcm_coap_msg_t *out,
                       uint8_t buf[16]);
/* An error's answer: its code and its reason as diagnostic payload (RFC 7252 s5.5.2), as much of
 * it as fits in |room| beside |out|'s options. */
void hcp_rblocks_error(hcm_coap_msg_t *out, int err, const char *reason, size_t token_len,
                       size_t room);
/* Adds uint option |number| = |v| to |msg| in its shortest form (RFC 7252 s3.2), its bytes
 * written at |*at|, which moves past them (at most 4). */
int hcp_rblocks_add_uint(hcm_coap_msg_t *msg, uint16_t number, uint32_t v, uint8_t **at);

#endif

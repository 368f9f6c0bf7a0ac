/* tokens: the tokens of the requests to CoAP servers, and the table that finds a request by the
 * token of an answer, in O(1).
 *
 * A token is 8 bytes: 4 of slot index and 4 of nonce. The slot finds the owner; the nonce, drawn
 * by the caller from a CSPRNG (random.h), makes tokens hard to guess (RFC 7252 s5.3.1) and tells
 * a late answer for a reused slot, or for a request a later one replaced (RFC 9175 s4), apart.
 * Pure code, no I/O. */
#ifndef HCP_TOKENS_H
#define HCP_TOKENS_H

#include <stddef.h>
#include <stdint.h>

#define HCP_TOKENS_LEN 8

typedef struct hcp_tokens_slot hcp_tokens_slot_t;

typedef struct hcp_tokens {
    hcp_tokens_slot_t *slots; /* private */
    uint32_t nslots;
    uint32_t free_slot;
} hcp_tokens_t;

void hcp_tokens_init(hcp_tokens_t *t);
void hcp_tokens_fini(hcp_tokens_t *t);
/* A slot for |owner| with |nonce|: its index + 1 (0 is never one), or 0 when no memory is left. */
uint32_t hcp_tokens_take(hcp_tokens_t *t, void *owner, uint32_t nonce);
/* Slot |id| (from hcp_tokens_take) gets a new |nonce|: tokens written before are no longer its. */
void hcp_tokens_renew(hcp_tokens_t *t, uint32_t id, uint32_t nonce);
void hcp_tokens_write(const hcp_tokens_t *t, uint32_t id, uint8_t token[HCP_TOKENS_LEN]);
/* The owner of |token|, or NULL for a freed slot, a replaced nonce or a token not of this table. */
void *hcp_tokens_owner(const hcp_tokens_t *t, const uint8_t *token, size_t len);
void hcp_tokens_free(hcp_tokens_t *t, uint32_t id);

#endif

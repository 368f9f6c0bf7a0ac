/* random: the unpredictable bytes of both directions (tokens, Request-Tags, Message IDs), from one
 * CSPRNG pool, and the fast generator libcoap's message ids take.
 *
 * One loop thread draws from it, so the pool is file-level state, as libcoap's coap_set_prng()
 * hook (which takes no context pointer) needs anyway. */
#ifndef HCP_RANDOM_H
#define HCP_RANDOM_H

#include <stddef.h>

/* Fills |out| with |len| bytes from GnuTLS's CSPRNG (the kernel's getrandom() when it fails),
 * drawn 1 KiB at a time. 0; or -1 when neither answered, the bytes then from the fast generator:
 * distinct but guessable (logged once). */
int hcp_random_fill(void *out, size_t len);

/* Seeds the fast generator from the kernel (once is enough). */
void hcp_random_fast_seed(void);
/* xorshift64*: bytes that need to differ, not to be unguessable (libcoap's message ids, whose
 * own generator makes a system call per request). Returns 1, as libcoap's coap_rand_func_t. */
int hcp_random_fast_fill(void *out, size_t len);

#endif

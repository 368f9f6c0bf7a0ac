/* What both sides of hcproxy's CoAP message layer (msglayer.c for its coap:// listeners,
 * msgclient.c for coap:// servers) share: a peer, found by its address and port, and the Empty
 * message each of them sends (RFC 7252 s4.1). Pure, header-only. */
#ifndef HCP_COAP_PEER_H
#define HCP_COAP_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hcm.h"

/* A peer: its address and port as bytes (a struct sockaddr_in or _in6, copied whole), compared
 * bytewise. */
typedef struct hcp_coap_peer {
    uint8_t bytes[28];
    uint8_t len;
} hcp_coap_peer_t;

#define HCP_COAP_PEER_EMPTY_LEN 4

static inline bool hcp_coap_peer_equal(const hcp_coap_peer_t *a, const hcp_coap_peer_t *b)
{
    return a->len == b->len && memcmp(a->bytes, b->bytes, a->len) == 0;
}

/* FNV-1a over the peer and |extra| from a random |seed|, then a final mix (splitmix64): peers,
 * Message IDs and tokens come from the network, so the buckets they fall in must not be
 * predictable. */
static inline uint64_t hcp_coap_peer_hash(uint64_t seed, const hcp_coap_peer_t *peer,
                                          const uint8_t *extra, size_t extra_len)
{
    uint64_t h = seed ^ 0xcbf29ce484222325ull;

    for (size_t i = 0; i < peer->len; i++)
        h = (h ^ peer->bytes[i]) * 0x100000001b3ull;
    for (size_t i = 0; i < extra_len; i++)
        h = (h ^ extra[i]) * 0x100000001b3ull;
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    return h ^ h >> 31;
}

/* An Empty message (an ACK or a Reset) for Message ID |mid|. */
static inline void hcp_coap_peer_empty(uint8_t out[HCP_COAP_PEER_EMPTY_LEN],
                                       enum hcm_coap_type type, uint16_t mid)
{
    out[0] = (uint8_t)(0x40 | type << 4);
    out[1] = 0;
    out[2] = (uint8_t)(mid >> 8);
    out[3] = (uint8_t)mid;
}

#endif

/* The server side of the CoAP message layer (RFC 7252 s4) for one plain coap:// listener: which
 * datagrams are requests, which are duplicates, when a Confirmable request gets its ACK, how an
 * answer goes out (piggybacked, or separate and retransmitted) and how much may be sent to a
 * source that has not shown it is really there (s11.3; RFC 9175 s2.4). It decodes with
 * mapping/wire.c.
 *
 * Pure: no sockets, no clock, no randomness of its own. The caller hands it each datagram with
 * the time, sends what it asks to be sent, and calls hcp_msglayer_tick() when
 * hcp_msglayer_next_deadline() has come. tests/unit/check_msglayer.c drives it datagram by
 * datagram.
 *
 * Every request it delivers (HCP_MSGLAYER_REQUEST) is an exchange that must get exactly one
 * hcp_msglayer_answer() or hcp_msglayer_abandon(); until then the exchange's handle stays valid.
 * The entry it leaves behind answers duplicates of the request from the stored answer for
 * EXCHANGE_LIFETIME (a CON) or NON_LIFETIME (a NON) (s4.5), within the limits given. */
#ifndef HCP_MSGLAYER_H
#define HCP_MSGLAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coap_peer.h"
#include "hcm.h"

typedef struct hcp_msglayer hcp_msglayer_t;
typedef struct hcp_msglayer_exchange hcp_msglayer_exchange_t;

typedef struct hcp_msglayer_config {
    uint64_t piggyback_ns;       /* how long an answer may take to go in the ACK (< ACK_TIMEOUT) */
    size_t max_entries;          /* exchanges and remembered answers, in all */
    size_t max_bytes;            /* remembered answers' bytes, in all */
    unsigned amplification;      /* to an unverified peer, at most this many times the bytes it
                                    sent for the exchange; 0: no limit */
    size_t max_datagram;         /* the largest datagram sent (RFC 7252 s4.6: 1152) */
    /* Fills |len| bytes with unpredictable ones: message IDs of separate responses. */
    void (*random)(void *ctx, uint8_t *buf, size_t len);
    /* Sends one datagram to |peer|. */
    void (*send)(void *ctx, const hcp_coap_peer_t *peer, const uint8_t *dgram, size_t len);
    void *ctx;
} hcp_msglayer_config_t;

hcp_msglayer_t *hcp_msglayer_new(const hcp_msglayer_config_t *config);
/* Frees every entry. Exchanges not yet answered must have been abandoned. */
void hcp_msglayer_free(hcp_msglayer_t *ml);

typedef enum hcp_msglayer_action {
    HCP_MSGLAYER_DONE,    /* nothing more to do: ignored, or handled (a duplicate answered, a
                             Reset sent, an ACK matched) */
    HCP_MSGLAYER_REQUEST, /* a new request: see the event */
} hcp_msglayer_action_t;

typedef struct hcp_msglayer_event {
    hcp_msglayer_exchange_t *exchange;
    hcm_coap_header_t header;
    hcm_coap_msg_t msg; /* points into the datagram: valid while it is */
    /* For HCP_MSGLAYER_DONE: why the datagram was refused or ignored, for a (rate-limited) log
     * line; NULL when nothing is worth a line (a duplicate, an ACK). */
    const char *note;
    bool is_verified; /* the peer has shown it is there: it acknowledged a separate response of
                         ours, or this request carried the Echo value it was given */
} hcp_msglayer_event_t;

/* One datagram of |len| bytes from |peer|, received at |now_ns| (a monotonic clock). */
hcp_msglayer_action_t hcp_msglayer_receive(hcp_msglayer_t *ml, const hcp_coap_peer_t *peer,
                                           const uint8_t *dgram, size_t len, uint64_t now_ns,
                                           hcp_msglayer_event_t *event);

/* The largest answer datagram the exchange may have: the configured max_datagram, or less for a
 * peer not yet verified (s11.3). The caller sizes Block2 blocks and diagnostic payloads by it. */
size_t hcp_msglayer_answer_room(const hcp_msglayer_t *ml, const hcp_msglayer_exchange_t *x);

/* RFC 9175 s2.4 item 3: when an answer does not fit in hcp_msglayer_answer_room(), the caller keeps
 * it and answers 4.01 (Unauthorized) with an Echo option of the value this writes into |echo| (its
 * length is returned; at most 8 bytes). A client that repeats the request with that Echo value
 * verifies its address: it gets the kept answer, and the peer is no longer bounded. */
size_t hcp_msglayer_echo_challenge(hcp_msglayer_t *ml, const hcp_msglayer_exchange_t *x,
                                   uint8_t *echo, uint64_t now_ns);

/* The answer to exchange |x| (code, options, payload; the token is the request's): piggybacked in
 * the ACK when that has not gone yet, otherwise a separate CON (for a CON request, retransmitted
 * until acknowledged) or NON. It is remembered for duplicates. -1 when it does not fit in
 * hcp_msglayer_answer_room() (nothing is sent then; the exchange stays open) or no memory is left
 * (the exchange is then ended without an answer). */
int hcp_msglayer_answer(hcp_msglayer_t *ml, hcp_msglayer_exchange_t *x,
                        const hcm_coap_msg_t *answer, uint64_t now_ns);
/* Ends exchange |x| without an answer (the proxy is stopping, or gave up). A CON request that
 * had no ACK yet gets an empty one, so that the client stops retransmitting. */
void hcp_msglayer_abandon(hcp_msglayer_t *ml, hcp_msglayer_exchange_t *x, uint64_t now_ns);

/* Sends what is due at |now_ns|: empty ACKs whose piggyback wait is over, retransmissions of
 * separate responses; forgets entries past their lifetime. */
void hcp_msglayer_tick(hcp_msglayer_t *ml, uint64_t now_ns);
/* When hcp_msglayer_tick() next has something to do; UINT64_MAX for never. */
uint64_t hcp_msglayer_next_deadline(const hcp_msglayer_t *ml);

/* The peer of exchange |x|. */
const hcp_coap_peer_t *hcp_msglayer_peer(const hcp_msglayer_exchange_t *x);

typedef struct hcp_msglayer_stats {
    uint64_t duplicates;       /* requests answered from an entry instead of run again */
    uint64_t resets_sent;      /* s4.2, s4.3: malformed CONs, unmatched CON responses, pings */
    uint64_t ignored;          /* other versions, malformed NONs, stray ACKs and the like */
    uint64_t retransmissions;  /* of separate responses */
    uint64_t give_ups;         /* separate responses never acknowledged */
    uint64_t evictions;        /* entries dropped before their lifetime for max_entries/bytes */
    uint64_t refused;          /* requests answered 5.03: no room for their entries */
    uint64_t entries;          /* now */
    uint64_t bytes;            /* now */
} hcp_msglayer_stats_t;

void hcp_msglayer_stats(const hcp_msglayer_t *ml, hcp_msglayer_stats_t *stats);

#endif

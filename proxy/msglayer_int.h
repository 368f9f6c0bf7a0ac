/* What msglayer.c, msglayer_dedup.c and msglayer_echo.c share: the layout of the message layer
 * and of its entries, and the functions one part calls in another. Private to the three files;
 * msglayer.h is the interface. */
#ifndef HCP_MSGLAYER_INT_H
#define HCP_MSGLAYER_INT_H

#include "msglayer.h"
#include "queue.h"

#define NS_PER_S 1000000000ull
#define ECHO_LEN 8

struct hcp_msglayer_exchange {
    hcp_queue_link_t age;   /* in pending, done_con or done_non */
    hcp_queue_link_t timer; /* in ack_due or retransmitting, or in neither */
    hcp_msglayer_exchange_t *next_by_mid, *next_by_out;
    hcp_coap_peer_t peer;
    hcm_coap_header_t request; /* its type, Message ID and token */
    uint16_t out_mid;          /* a separate response's */
    bool is_answered;
    bool is_acked;         /* the request's ACK has gone, empty or with the answer */
    bool is_piggybacked;   /* the answer went in that ACK */
    bool is_out_linked;    /* in by_out */
    bool is_verified;      /* the peer, when the request came or since */
    unsigned retransmits;
    uint64_t timeout_ns, deadline_ns, expires_ns;
    size_t received, sent; /* bytes from and to the peer in this exchange */
    uint8_t *answer;       /* the datagram sent, for duplicates and retransmissions */
    size_t answer_len;
};

/* What hcproxy knows of a peer's address: an Echo value given to it, and until when it is
 * verified. A direct-mapped cache: a peer that collides with another loses its slot. */
typedef struct peer_slot {
    hcp_coap_peer_t peer;
    uint8_t echo[ECHO_LEN];
    bool has_echo;
    uint64_t echo_until_ns, verified_until_ns;
} peer_slot_t;

struct hcp_msglayer {
    hcp_msglayer_config_t cfg;
    uint64_t seed;
    uint64_t now_ns; /* the latest time given */
    hcp_queue_t pending, done_con, done_non, ack_due, retransmitting;
    uint64_t retransmit_next_ns; /* no retransmission is due before; may be early */
    hcp_msglayer_exchange_t **by_mid, **by_out;
    size_t nbuckets; /* a power of two */
    peer_slot_t *peers;
    size_t npeers; /* a power of two */
    hcp_msglayer_stats_t stats;
    uint8_t *scratch; /* max_datagram bytes: an answer is encoded here, then kept at its size */
};

/* ---- msglayer_dedup.c: the entries, found by peer and Message ID (RFC 7252 s4.5) ---------- */

/* The entry of the request |mid| from |peer|, or of our separate response |mid| to it. */
hcp_msglayer_exchange_t *hcp_msglayer_dedup_find(hcp_msglayer_t *ml, const hcp_coap_peer_t *peer,
                                                 uint16_t mid);
hcp_msglayer_exchange_t *hcp_msglayer_dedup_find_out(hcp_msglayer_t *ml,
                                                     const hcp_coap_peer_t *peer, uint16_t mid);
/* A new request's entry, |x|, filled in: found by its request's Message ID from now on, and
 * pending until its answer. */
void hcp_msglayer_dedup_add(hcp_msglayer_t *ml, hcp_msglayer_exchange_t *x);
/* Found by |x->out_mid| (a separate CON response) until its ACK, or not any more. */
void hcp_msglayer_dedup_link_out(hcp_msglayer_t *ml, hcp_msglayer_exchange_t *x);
void hcp_msglayer_dedup_unlink_out(hcp_msglayer_t *ml, hcp_msglayer_exchange_t *x);
/* Drops the entry from |age_queue| (pending, done_con or done_non) and everything else. */
void hcp_msglayer_dedup_free(hcp_msglayer_t *ml, hcp_msglayer_exchange_t *x,
                             hcp_queue_t *age_queue);
/* Drops remembered answers, oldest first, until the limits hold with |extra| more entries.
 * false when they cannot: the rest wait for their answers. */
bool hcp_msglayer_dedup_make_room(hcp_msglayer_t *ml, size_t extra_entries);
/* Drops the entries of |q| (done_con or done_non) whose lifetime is over at |now|. */
void hcp_msglayer_dedup_expire(hcp_msglayer_t *ml, hcp_queue_t *q, uint64_t now);
/* The exchange is over for the message layer but for duplicates: remembered until its
 * lifetime, counted from now, ends. */
void hcp_msglayer_dedup_retire(hcp_msglayer_t *ml, hcp_msglayer_exchange_t *x, uint64_t now);

/* ---- msglayer_echo.c: peers not yet verified (RFC 7252 s11.3, RFC 9175 s2.4) -------------- */

/* Whether |peer| has shown it is there (always, with no amplification limit). */
bool hcp_msglayer_echo_verified(const hcp_msglayer_t *ml, const hcp_coap_peer_t *peer,
                                uint64_t now);
/* |peer| has shown it is there: verified for a while. */
void hcp_msglayer_echo_verify(hcp_msglayer_t *ml, const hcp_coap_peer_t *peer, uint64_t now);
/* A request carrying the Echo value its peer was given verifies the peer. */
void hcp_msglayer_echo_check(hcp_msglayer_t *ml, const hcp_coap_peer_t *peer,
                             const hcm_coap_msg_t *msg, uint64_t now);
/* What exchange |x| may still send; SIZE_MAX when its peer is verified. */
size_t hcp_msglayer_echo_budget(const hcp_msglayer_t *ml, const hcp_msglayer_exchange_t *x);

/* ---- msglayer.c ---------------------------------------------------------------------------- */

/* Takes |x| out of the retransmissions (its ACK came, or its entry goes). */
void hcp_msglayer_stop_retransmissions(hcp_msglayer_t *ml, hcp_msglayer_exchange_t *x);

#endif

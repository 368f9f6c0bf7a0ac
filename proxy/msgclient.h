/* The client side of the CoAP message layer (RFC 7252 s4, s5.3.2) for requests hcproxy sends to
 * plain coap:// servers: Confirmable requests retransmitted until acknowledged, responses matched
 * to their requests by peer, Message ID and token, separate responses acknowledged (and their
 * duplicates acknowledged again), responses that match nothing rejected, datagrams of another
 * version ignored, and the options of a response screened by RFC 7252 s5.4 before anyone acts on
 * it. It decodes and encodes with mapping/wire.c.
 *
 * An Observe registration (RFC 7641 s3.1, sent with hcp_msgclient_observe()) is not over with its
 * first answer. Every 2.xx response for its token that carries an Observe option is a notification
 * (s3.2, s4.2), the registration's own answer included: delivered as HCP_MSGCLIENT_NOTIFICATION
 * while the request stays held. Notifications come as new CON or NON messages with the same token:
 * a CON one is acknowledged (RFC 7252 s5.2.2), a duplicate (the same peer and Message ID within
 * EXCHANGE_LIFETIME, or NON_LIFETIME for a NON) acknowledged again but not delivered again, and
 * one older than the newest delivered (s3.4, mapping/observe.c) dropped and counted as stale, a
 * CON one still acknowledged. The observation ends with a response without Observe (the server's
 * last word, s3.2) or with an error code (s4.2), delivered as HCP_MSGCLIENT_RESPONSE; with a Reset
 * or a rejected notification (HCP_MSGCLIENT_REJECTED); or with hcp_msgclient_cancel(), after which
 * the next notification, CON or NON, is answered with a Reset (the reactive deregistration of
 * s3.6).
 *
 * Pure, like msglayer.c: no sockets, no clock, no randomness of its own. The caller hands it each
 * datagram with the time, sends what it asks to be sent, and calls hcp_msgclient_tick() when
 * hcp_msgclient_next_deadline() has come; events come back as return values, never as calls into
 * the caller. tests/unit/check_msgclient.c drives it datagram by datagram. */
#ifndef HCP_MSGCLIENT_H
#define HCP_MSGCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coap_peer.h"
#include "hcm.h"

typedef struct hcp_msgclient hcp_msgclient_t;
typedef struct hcp_msgclient_request hcp_msgclient_request_t;

typedef struct hcp_msgclient_config {
    size_t max_datagram;      /* the largest datagram sent (RFC 7252 s4.6: 1152) */
    uint64_t ack_timeout_ns;  /* RFC 7252 s4.8: ACK_TIMEOUT, ACK_RANDOM_FACTOR, MAX_RETRANSMIT */
    double ack_random_factor;
    unsigned max_retransmit;
    /* Fills |len| bytes with unpredictable ones: Message IDs. */
    void (*random)(void *ctx, uint8_t *buf, size_t len);
    /* Sends one datagram to |peer|. */
    void (*send)(void *ctx, const hcp_coap_peer_t *peer, const uint8_t *dgram, size_t len);
    void *ctx;
} hcp_msgclient_config_t;

hcp_msgclient_t *hcp_msgclient_new(const hcp_msgclient_config_t *config);
/* Frees every request still held; their owners must not use them again. */
void hcp_msgclient_free(hcp_msgclient_t *mc);

/* Sends |msg| to |peer| as a CON (retransmitted until acknowledged, s4.2) or a NON, with a fresh
 * Message ID and the caller's |token| (RFC 9175 s4: random, and new for every request). |user|
 * comes back with its events. NULL when it does not fit in max_datagram or no memory is left. */
hcp_msgclient_request_t *hcp_msgclient_send(hcp_msgclient_t *mc, const hcp_coap_peer_t *peer,
                                            bool confirmable, const uint8_t *token,
                                            size_t token_len, const hcm_coap_msg_t *msg,
                                            void *user, uint64_t now_ns);
/* The same for an Observe registration (RFC 7641 s3.1): |msg| must carry Observe: 0 (NULL
 * otherwise). Its events are notifications until a final response, a rejection or a cancel. */
hcp_msgclient_request_t *hcp_msgclient_observe(hcp_msgclient_t *mc, const hcp_coap_peer_t *peer,
                                               bool confirmable, const uint8_t *token,
                                               size_t token_len, const hcm_coap_msg_t *msg,
                                               void *user, uint64_t now_ns);
/* RFC 7641 s3.3.1: sends |req|'s registration again, with the same token and a fresh Message ID
 * (retransmitted as any CON), so that the server keeps or renews the observer entry it holds
 * for that token (s4.1) and answers with a fresh notification. False, and nothing sent, for a
 * request that is no registration, one still waiting for its ACK (its retransmissions run their
 * course, and a timeout ends the observation), or one whose retransmissions ran out (collect it
 * with next_timeout). */
bool hcp_msgclient_reregister(hcp_msgclient_t *mc, hcp_msgclient_request_t *req, uint64_t now_ns);
/* The caller no longer wants an answer (the HTTP client went away, or it gave up): the request
 * is forgotten, and a response that comes for it later is treated as matching nothing. */
void hcp_msgclient_cancel(hcp_msgclient_t *mc, hcp_msgclient_request_t *req);

typedef enum hcp_msgclient_action {
    HCP_MSGCLIENT_DONE,     /* nothing for the caller */
    HCP_MSGCLIENT_ACKED,    /* an empty ACK: the answer will be separate; the request stays */
    HCP_MSGCLIENT_RESPONSE, /* the response to event->user's request, which is over */
    HCP_MSGCLIENT_REJECTED, /* event->user's request was Reset by the server, or its response
                               carried an unrecognized critical option (event->bad_option): it is
                               over */
    HCP_MSGCLIENT_NOTIFICATION, /* a fresh notification of event->user's observation (RFC 7641
                                   s3.2), event->observe its value: the request stays */
} hcp_msgclient_action_t;

typedef struct hcp_msgclient_event {
    void *user;
    hcm_coap_header_t header;
    hcm_coap_msg_t msg;  /* the response, screened: unrecognized elective options dropped */
    uint16_t bad_option; /* for a response rejected for an option: its number */
    uint32_t observe;    /* for a NOTIFICATION: its Observe value (RFC 7641 s3.4) */
    const char *note;    /* why a datagram was ignored or reset, for a rate-limited log line */
} hcp_msgclient_event_t;

/* One datagram of |len| bytes from |peer|, received at |now_ns|. |event->msg| points into
 * |dgram|. */
hcp_msgclient_action_t hcp_msgclient_receive(hcp_msgclient_t *mc, const hcp_coap_peer_t *peer,
                                             const uint8_t *dgram, size_t len, uint64_t now_ns,
                                             hcp_msgclient_event_t *event);

/* Sends the retransmissions due at |now_ns| and forgets what is past its lifetime. */
void hcp_msgclient_tick(hcp_msgclient_t *mc, uint64_t now_ns);
/* A CON whose retransmissions ran out without an ACK (s4.2): its user pointer, once, or NULL
 * when there is none (the request is over). Call after hcp_msgclient_tick() until NULL. */
void *hcp_msgclient_next_timeout(hcp_msgclient_t *mc);
uint64_t hcp_msgclient_next_deadline(const hcp_msgclient_t *mc);

typedef struct hcp_msgclient_stats {
    uint64_t retransmissions;
    uint64_t timeouts;
    uint64_t resets_sent;        /* to responses that match nothing (s5.3.2) or are rejected */
    uint64_t duplicates;         /* separate responses or notifications received again:
                                    acknowledged again (a CON), not delivered again */
    uint64_t notifications;      /* delivered (RFC 7641 s3.2) */
    uint64_t stale;              /* notifications older than the newest delivered (s3.4) */
    uint64_t ignored;            /* other versions, malformed datagrams, stray ACKs */
    uint64_t late;               /* responses that match no request held: late ones (for a
                                    request cancelled or over) or strays */
    size_t requests;             /* held now */
    size_t observations;         /* of which Observe registrations (hcp_msgclient_observe) */
} hcp_msgclient_stats_t;

void hcp_msgclient_stats(const hcp_msgclient_t *mc, hcp_msgclient_stats_t *stats);

#endif

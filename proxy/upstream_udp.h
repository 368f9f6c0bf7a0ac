/* The coap:// transport of the HTTP -> CoAP direction: hcproxy's own message layer (msgclient.h)
 * on the loop, in place of libcoap's. One message layer and one timer serve every coap:// server;
 * each server has a UDP socket of its own, connected to it. upstream.c keeps the rest (tokens,
 * NSTART, block-wise transfers, idle servers) for every transport alike. */
#ifndef HCP_UPSTREAM_UDP_H
#define HCP_UPSTREAM_UDP_H

#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "hcc.h"
#include "hcm.h"
#include "msgclient.h"

/* The message layer, its timer, the sockets. */
typedef struct hcp_upstream_udp hcp_upstream_udp_t;
/* One CoAP server's socket. */
typedef struct hcp_upstream_udp_socket hcp_upstream_udp_socket_t;

typedef enum hcp_upstream_udp_kind {
    HCP_UPSTREAM_UDP_ACKED,    /* an empty ACK: the request is no longer outstanding (RFC 7252
                                * s4.7) */
    HCP_UPSTREAM_UDP_ANSWERED, /* its response, screened (RFC 7252 s5.4): the request is over */
    HCP_UPSTREAM_UDP_FAILED,   /* over without a response: err is HCM_ERESET, HCM_EBADRESPONSE
                                * (a bad critical option, a reserved class) or HCM_ETIMEOUT */
    HCP_UPSTREAM_UDP_NOTIFIED, /* a fresh notification of an observation (RFC 7641 s3.2), its
                                * Observe value in err: the request stays */
} hcp_upstream_udp_kind_t;

typedef struct hcp_upstream_udp_handler {
    /* What became of the request |user| sent. Called from the loop's callbacks, never from
     * inside an hcp_upstream_udp_* call. */
    void (*on_event)(void *ctx, void *user, hcp_upstream_udp_kind_t kind, hcm_coap_msg_t *msg,
                     int err);
    /* The server of |owner| answered with ICMP unreachable: nothing sent there will be answered. */
    void (*on_unreachable)(void *ctx, void *owner);
    /* After a batch of events: the socket has no datagram left to read, or the timer has run. */
    void (*on_batch_end)(void *ctx);
    /* Unpredictable bytes: the message layer's Message IDs and hash seed. */
    void (*random)(void *ctx, uint8_t *buf, size_t len);
    /* The id of the exchange whose request carries |token|, for the log lines about a datagram;
     * 0 for none. */
    uint64_t (*exchange_of)(void *ctx, const uint8_t *token, size_t len);
    void *ctx;
} hcp_upstream_udp_handler_t;

/* With |cfg|'s upstream.ack_timeout_ms, upstream.ack_random_factor, upstream.max_retransmit and
 * upstream.receive_buffer_bytes. 0 or a UV_E* code. */
int hcp_upstream_udp_new(uv_loop_t *loop, const hcc_config_t *cfg,
                         const hcp_upstream_udp_handler_t *handler, hcp_upstream_udp_t **out);
/* Forgets every request; frees |u| once its handles have closed, after every socket's. */
void hcp_upstream_udp_close(hcp_upstream_udp_t *u);

/* A socket connected to |server|, for |owner|; NULL when none can be made. */
hcp_upstream_udp_socket_t *hcp_upstream_udp_open(hcp_upstream_udp_t *u,
                                                 const struct sockaddr *server, void *owner);
/* Closes the socket; nothing may be in flight through it. */
void hcp_upstream_udp_release(hcp_upstream_udp_socket_t *s);

/* Sends |msg| as a CON with |token|; |user| comes back with its event. NULL when it does not fit
 * in a datagram (RFC 7252 s4.6) or no memory is left. */
hcp_msgclient_request_t *hcp_upstream_udp_send(hcp_upstream_udp_socket_t *s, const uint8_t *token,
                                               size_t token_len,
                                               const hcm_coap_msg_t *msg, void *user);
/* The same as an Observe registration (msgclient.h hcp_msgclient_observe()); NULL also when
 * |msg| carries no Observe: 0. */
hcp_msgclient_request_t *hcp_upstream_udp_observe(hcp_upstream_udp_socket_t *s,
                                                  const uint8_t *token, size_t token_len,
                                                  const hcm_coap_msg_t *msg, void *user);
/* RFC 7641 s3.3.1: |req|'s registration sent again (hcp_msgclient_reregister()). */
void hcp_upstream_udp_reregister(hcp_upstream_udp_t *u, hcp_msgclient_request_t *req);
/* No event comes for |req| any more; a late response to it is answered as one to nothing. */
void hcp_upstream_udp_cancel(hcp_upstream_udp_t *u, hcp_msgclient_request_t *req);

void hcp_upstream_udp_stats(const hcp_upstream_udp_t *u, hcp_msgclient_stats_t *stats);

#endif

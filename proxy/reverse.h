/* The reverse direction (RFC 7252 s10.1) between its transports and its core: a CoAP request,
 * however it arrived, goes to reverse.c as an hcm_coap_msg_t with a reply handle, and its answer
 * comes back through that handle as an hcm_coap_msg_t. Two transports feed it:
 * - coap_udp.c, hcproxy's own message layer (msglayer.h) on plain coap:// listeners;
 * - reverse_libcoap.c, libcoap's server for coaps://, coap+tcp:// and coaps+tcp:// listeners
 *   (DTLS and TCP, which hcproxy leaves to libcoap).
 * Block-wise transfers (reverse_blocks.c) are the core's, the same for both. The core's own
 * exchange and what its files share are in reverse_int.h. */
#ifndef HCP_REVERSE_H
#define HCP_REVERSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "hcm.h"

typedef struct hcp_proxy hcp_proxy_t;
struct coap_context_t;

/* ---- reverse.c: the direction as a whole ----------------------------------------------------- */

/* Listens on coap.listen (coap:// on hcproxy's own sockets, coap_udp.c; the other schemes on
 * libcoap's |ctx|) and serves proxy requests and coap.routes through origin.h. */
int hcp_reverse_start(hcp_proxy_t *proxy, struct coap_context_t *ctx);
/* Ends every reverse exchange in flight (at shutdown). */
void hcp_reverse_stop(hcp_proxy_t *proxy);
/* How many reverse exchanges are in flight. */
size_t hcp_reverse_inflight(const hcp_proxy_t *proxy);
/* The drain's deadline: answers every reverse exchange still waiting for its origin with 5.03
 * (libcoap's transports send it from the loop's next turns). */
void hcp_reverse_abort_all(hcp_proxy_t *proxy);

/* ---- the transports' interface --------------------------------------------------------------- */

typedef struct hcp_reverse_reply hcp_reverse_reply_t;
typedef struct hcp_reverse_exchange hcp_reverse_exchange_t;

/* What a transport does with the answer to one request. */
typedef struct hcp_reverse_reply_ops {
    /* Sends |answer| (code, options, payload; the token is the request's), now, while the
     * request is being handed over, or later. The reply ends here. 1 when the answer did not
     * fit what the client may be sent before it shows it is there (RFC 7252 s11.3) and the
     * client was challenged to repeat its request with an Echo option (RFC 9175 s2.4): the core
     * keeps the answer for that repeat. Else 0. */
    int (*send)(hcp_reverse_reply_t *reply, const hcm_coap_msg_t *answer);
    /* Ends the reply without an answer (hcproxy stops). */
    void (*abandon)(hcp_reverse_reply_t *reply);
    /* The largest answer, as a whole message on the wire, the transport may send now: Block2
     * blocks and diagnostic payloads are sized by it. */
    size_t (*room)(const hcp_reverse_reply_t *reply);
} hcp_reverse_reply_ops_t;

/* Embedded first in the transport's own reply. */
struct hcp_reverse_reply {
    const hcp_reverse_reply_ops_t *ops;
};

typedef struct hcp_reverse_request {
    hcm_coap_msg_t msg;         /* decoded; its values must live while the request is handed */
    const uint8_t *token;
    size_t token_len;
    const struct sockaddr *peer; /* the client */
    /* What names the client across the blocks of one transfer: both ends of its path, so that
     * two devices, or one device's two sockets, never share one. */
    const uint8_t *ends;
    size_t ends_len;
    /* This proxy, as a 5.08 Hop Limit Reached names it (RFC 8768 s3); NULL: the reason. */
    const char *identity;
} hcp_reverse_request_t;

/* ---- reverse.c: the core ------------------------------------------------------------------- */

/* Takes a request: |reply| gets exactly one send() or abandon(). Returns the exchange when the
 * answer comes later (after an origin), NULL when it was sent already. The option rules (RFC
 * 7252 s5.4, RFC 8768 s3) are applied here: |req->msg| loses its unrecognized elective options. */
hcp_reverse_exchange_t *hcp_reverse_take(hcp_proxy_t *proxy, hcp_reverse_request_t *req,
                                         hcp_reverse_reply_t *reply);
/* Ends |rx| at once, unanswered: its transport could not keep the reply. */
void hcp_reverse_cancel(hcp_reverse_exchange_t *rx);

/* ---- reverse_libcoap.c: the listeners libcoap serves (coap_udp.h has the coap:// ones) ----- */

/* The coaps://, coap+tcp:// and coaps+tcp:// entries of coap.listen, on libcoap's |ctx|. */
int hcp_reverse_libcoap_start(hcp_proxy_t *proxy, struct coap_context_t *ctx);
/* Closes what they keep on the loop; libcoap's context holds their endpoints. */
void hcp_reverse_libcoap_stop(hcp_proxy_t *proxy);

#endif

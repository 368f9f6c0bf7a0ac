/* upstream: the HTTP -> CoAP direction's CoAP client, on the loop (upstream.c and the files it
 * names), and the libcoap context the reverse direction's secure and TCP endpoints share.
 *
 * A request goes out with hcp_upstream_send() and ends in exactly one call of its done callback,
 * unless hcp_upstream_cancel() comes first. The callback runs from the loop, never from within a
 * call into the upstream: a finished request waits on a queue until the upstream's loop callback
 * (its I/O, its timers, its check handle) is about to return, like libuv's own write requests
 * (uv__write_callbacks()). After a batch of them, the batch callback runs once
 * (hcp_upstream_on_batch()): the HTTP side takes the answers in the loop turn they came in. */
#ifndef HCP_UPSTREAM_H
#define HCP_UPSTREAM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "hcc.h"
#include "hcm.h"

typedef struct hcp_proxy hcp_proxy_t;
typedef struct hcp_upstream hcp_upstream_t;
typedef struct hcp_upstream_req hcp_upstream_req_t; /* one request in flight; private */
struct coap_context_t;
struct coap_pdu_t;
struct hcp_msgclient_stats;

/* The end of a request: the CoAP response (|msg|, with the body of a block-wise transfer
 * gathered, err 0), or a negative HCM_E* code (|msg| NULL). |msg| lives until this returns; the
 * request is gone once it is called. */
typedef void (*hcp_upstream_done_cb)(void *data, const hcm_coap_msg_t *msg, int err);

/* 0, or a UV_E* code with nothing left behind. */
int hcp_upstream_new(hcp_proxy_t *proxy, hcp_upstream_t **out);
void hcp_upstream_close(hcp_upstream_t *up);
/* |on_batch| runs after each batch of done callbacks (and at the end of each of the upstream's
 * I/O passes): for the HTTP side to run what those callbacks resumed. */
void hcp_upstream_on_batch(hcp_upstream_t *up, void (*on_batch)(void *data), void *data);

/* Sends |msg| (which must live until the request ends) to |addr| as a confirmable request, or as
 * the requests of a block-wise transfer (upblock.h), each with a token of its own: at once when
 * nothing is outstanding there, else at the end of this loop turn or, when NSTART requests to
 * |addr| are outstanding already (RFC 7252 s4.7), once their turn comes, oldest first. |exchange|
 * is the id its log lines carry. 0 with *out set, and |on_done| follows (never before this
 * returns); or a negative HCM_E* code, *out untouched, and no callback. */
int hcp_upstream_send(hcp_upstream_t *up, const struct sockaddr *addr, const hcm_target_t *target,
                      const hcm_coap_msg_t *msg, uint64_t exchange, hcp_upstream_done_cb on_done,
                      void *data, hcp_upstream_req_t **out);
/* Ends |req| before its done callback: if it still waits for its turn it is never sent; a later
 * answer with its token is dropped. Not to be called once the callback has run. */
void hcp_upstream_cancel(hcp_upstream_req_t *req);

/* An Observe registration's notification (RFC 7641 s3.2): |msg| (its Observe value |observe|)
 * lives until this returns. The registration's own first answer comes this way too when it
 * carries Observe. */
typedef void (*hcp_upstream_notify_cb)(void *data, const hcm_coap_msg_t *msg, uint32_t observe);

/* Sends |msg|, which must carry Observe: 0 and live until the request ends, as an Observe
 * registration (RFC 7641 s3.1), over any transport: like hcp_upstream_send(), but every
 * notification comes to |on_notify|, in the order the server's sequence says (s3.4, older ones
 * dropped), and |on_done| only ends it: a final response without Observe or an error code
 * (s3.2, s4.2), or a failure (a Reset, a timeout). Once its first notification has come it
 * holds no NSTART room (RFC 7252 s4.7) and counts in no upstream.max_inflight_per_server.
 * hcp_upstream_cancel() ends it: the server's next notification is answered with a Reset
 * (s3.6). Errors as hcp_upstream_send(). */
int hcp_upstream_observe(hcp_upstream_t *up, const struct sockaddr *addr,
                         const hcm_target_t *target, const hcm_coap_msg_t *msg, uint64_t exchange,
                         hcp_upstream_notify_cb on_notify, hcp_upstream_done_cb on_done,
                         void *data, hcp_upstream_req_t **out);
/* RFC 7641 s3.3.1: sends |req|'s registration again (same token, a fresh Message ID), when its
 * last notification's Max-Age has passed without a new one. */
void hcp_upstream_reregister(hcp_upstream_req_t *req);

/* The counts of the coap:// destinations' message layer (upstream_udp.c). */
void hcp_upstream_msgclient_stats(const hcp_upstream_t *up, struct hcp_msgclient_stats *stats);
/* Lets libcoap act on what was queued from outside its callbacks (a triggered async). */
void hcp_upstream_kick(hcp_upstream_t *up);
/* SIGHUP: reads |next|'s upstream.credentials and their key files and variables again. When
 * anything differs (*changed), exchanges that start from now on use them in new sessions; those
 * under way keep theirs. 0, or a UV_E* with the old ones kept and the reason logged. |next|
 * must become proxy->cfg when this returns 0. */
int hcp_upstream_reload_credentials(hcp_upstream_t *up, const hcc_config_t *next, bool *changed);
/* Sets libcoap's own log level from log.level (debug: its PDU dumps too). */
void hcp_upstream_log_level(void);
/* The libcoap context, which the reverse direction's endpoints share. */
struct coap_context_t *hcp_upstream_context(hcp_upstream_t *up);
/* A view of a libcoap PDU as a mapping message; valid while the PDU lives. */
int hcp_upstream_msg_from_pdu(const struct coap_pdu_t *pdu, hcm_coap_msg_t *msg);

#endif

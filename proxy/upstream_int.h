/* upstream's private half: the layouts its files share (upstream.c, upstream_dest.c,
 * upstream_coap.c, upstream_session.c) and what upstream.c offers the transports. Nothing outside
 * those files includes this; the rest of hcproxy sees upstream.h. */
#ifndef HCP_UPSTREAM_INT_H
#define HCP_UPSTREAM_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <coap3/coap.h>
#include <uv.h>

#include "hcc.h"
#include "hcm.h"
#include "nstart.h"
#include "queue.h"
#include "tokens.h"
#include "upblock.h"
#include "upstream.h"
#include "upstream_creds.h"
#include "upstream_udp.h"

/* One CoAP server over one transport (upstream_dest.c): the session or socket to it, and its
 * NSTART state (nstart.h). coap:// goes through hcproxy's own message layer (upstream_udp.c);
 * the others through a libcoap context of the destination's own (upstream_coap.c). */
typedef struct hcp_upstream_dest {
    hcp_upstream_t *up;
    struct sockaddr_storage addr;
    hcm_scheme_t scheme;           /* coap, coaps (DTLS), coap+tcp, coaps+tcp (TLS) */
    char host[256];                /* the target's host: the name a certificate must carry */
    hcp_upstream_creds_set_t *set; /* the credentials it was made with (referenced), or NULL */
    const hcc_credential_t *cred;  /* upstream.credentials entry, in |set|; NULL for coap and
                                    * coap+tcp */
    const hcp_upstream_creds_keys_t *keys; /* its key material, in |set| */
    hcp_upstream_udp_socket_t *sock; /* coap://: hcproxy's own message layer; else libcoap's: */
    coap_context_t *ctx;
    coap_session_t *session;
    int fd;              /* the session's socket, -1 when unknown */
    uv_poll_t poll;
    uv_timer_t resend;   /* the next retransmission, in case libcoap's own timer misses it */
    int open_handles;    /* of poll and resend, while the destination is being released */
    hcp_nstart_t nstart; /* of hcp_upstream_req_t waiting and outstanding */
    hcp_queue_t in_flight; /* coap://: of hcp_upstream_req_t (sent), their requests sent */
    unsigned awaiting;   /* sent for requests still waiting for their answer, in any epoch */
    unsigned inflight;   /* requests here, waiting or sent (upstream.max_inflight_per_server) */
    unsigned observing;  /* observations here past their first notification (upstream_observe.c) */
    uint64_t last_used;  /* loop time of the last request or datagram */
    bool is_pump_due;    /* in up->pump_due: requests were queued during this loop turn */
    struct hcp_upstream_dest *next_due;
    struct hcp_upstream_dest *next;
} hcp_upstream_dest_t;

struct hcp_upstream_req {
    hcp_upstream_t *up;
    hcp_upstream_dest_t *d;
    uint64_t exchange;           /* the id its log lines carry */
    hcp_upstream_done_cb on_done;
    hcp_upstream_notify_cb on_notify; /* an observation's (hcp_upstream_observe), else NULL */
    void *data;
    bool is_observing;           /* an observation past its first notification: outstanding no
                                  * more, in d->observing instead of d->inflight */
    bool has_seq;                /* libcoap's transports: a notification came, the newest */
    uint32_t last_seq;           /* with Observe last_seq at last_ns (RFC 7641 s3.4) */
    uint64_t last_ns;
    uint32_t slot;               /* its token's slot (tokens.h); 0 when it holds none */
    hcp_nstart_req_t nstart;     /* waiting for its turn, or outstanding (nstart.h) */
    const hcm_coap_msg_t *msg;   /* the exchange's own message, sent when its turn comes */
    hcp_upblock_t block;         /* its block-wise transfer: the request to send next */
    bool is_sent;                /* handed to the transport, and counted in d->awaiting */
    /* coap:// only (upstream_udp.c): the request in hcproxy's message layer, and its place in
     * the destination's in_flight. */
    struct hcp_msgclient_request *udp;
    hcp_queue_link_t sent;
    /* Its end, once over: in up->completed until its callback runs. */
    hcp_queue_link_t completed;
    int err;
    hcm_coap_msg_t answer;       /* err 0: the response, its bytes in |bytes| and |body| */
    uint8_t *bytes;              /* the response's option values */
    size_t bytes_cap;
    uint8_t *body;               /* a block-wise transfer's gathered body, or NULL */
    hcp_upstream_req_t *next_spare;
};

struct hcp_upstream {
    hcp_proxy_t *proxy;
    hcp_upstream_creds_set_t *creds; /* the current upstream.credentials, one per
                                      * cfg->credentials entry */
    coap_context_t *ctx; /* the reverse direction's endpoints */
    hcp_upstream_udp_t *udp; /* the coap:// destinations' message layer */
    uv_poll_t poll;
    uv_timer_t sweep;    /* frees idle destinations */
    uv_check_t flush;    /* sends what this loop turn queued, once its I/O is handled */
    hcp_upstream_dest_t *pump_due;
    hcp_queue_t completed; /* of hcp_upstream_req_t, over, their callbacks not yet run */
    hcp_queue_t notes;     /* notifications not yet delivered, oldest first (upstream_observe.c) */
    void (*on_batch)(void *data);
    void *on_batch_data;
    int open_handles;
    hcp_upstream_dest_t *destinations;
    hcp_tokens_t tokens;
    hcp_upstream_req_t *spare_reqs; /* ended requests' memory, for the next ones */
    unsigned nspare_reqs;
};

/* ---- upstream.c, for the transports ---------------------------------------------------------- */

/* A response to |req|'s request in flight (|msg|, which may be changed): the next request of a
 * block-wise transfer, or the request's end. */
void hcp_upstream_take_response(hcp_upstream_req_t *req, hcm_coap_msg_t *msg);
/* |req|'s request in flight is over without a response: the request ends with |err|. */
void hcp_upstream_fail(hcp_upstream_req_t *req, int err);
/* Sends |d|'s waiting requests while NSTART has room. Never from inside a libcoap callback. */
void hcp_upstream_pump(hcp_upstream_dest_t *d);
/* A fresh notification of the observation |req| (either transport): see upstream.c. */
void hcp_upstream_notified(hcp_upstream_req_t *req, const hcm_coap_msg_t *msg, uint32_t observe);

/* ---- upstream_observe.c --------------------------------------------------------------------- */

/* A notification of the observation |req| (RFC 7641 s3.2), copied to wait for delivery; the
 * first one makes it an established observation. A copy that cannot be made is dropped, as the
 * network might have dropped it. */
void hcp_upstream_observe_notified(hcp_upstream_req_t *req, const hcm_coap_msg_t *msg,
                                   uint32_t observe);
/* The observation |req| leaves its destination's count (it ends or is cancelled); its
 * notifications not yet delivered are dropped when |drop_notes|. */
void hcp_upstream_observe_over(hcp_upstream_req_t *req, bool drop_notes);
/* What a response to the observation |req| is, for libcoap's transports, which deliver every
 * one (hcproxy's message layer sorts its own, msgclient.c): a notification newer than the newest
 * delivered (RFC 7641 s3.4; it becomes the newest, its value in *observe), an older or repeated
 * one to drop, or the observation's last word (a response without Observe, an error: s3.2,
 * s4.2). */
typedef enum hcp_upstream_notice {
    HCP_UPSTREAM_FRESH,
    HCP_UPSTREAM_STALE,
    HCP_UPSTREAM_FINAL,
} hcp_upstream_notice_t;
hcp_upstream_notice_t hcp_upstream_observe_judge(hcp_upstream_req_t *req,
                                                 const hcm_coap_msg_t *msg, uint32_t *observe);
/* Calls on_notify for every notification waiting, oldest first. */
void hcp_upstream_observe_deliver(hcp_upstream_t *up);
/* Frees the notifications waiting (at close). */
void hcp_upstream_observe_free_notes(hcp_upstream_t *up);

/* The end of one of the upstream's loop callbacks: the done callbacks of the requests that ended,
 * then the batch callback. */
void hcp_upstream_deliver(hcp_upstream_t *up);

#endif

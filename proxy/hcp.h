/* hcp: hcproxy's I/O side. Everything here runs on one uv_loop_t: libmicrohttpd (front.c) and
 * libcoap (upstream.c) each keep an epoll set watched by a uv_poll_t, and an exchange
 * (exchange.c) carries one HTTP request to its CoAP answer and back. */
#ifndef HCP_H
#define HCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "hcc.h"
#include "hcm.h"
#include "queue.h"

#define hcp_container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

typedef struct hcp_proxy hcp_proxy_t;
typedef struct hcp_front hcp_front_t;
typedef struct hcp_upstream hcp_upstream_t;
typedef struct hcp_exchange hcp_exchange_t;
typedef struct hcp_origin hcp_origin_t;
typedef struct hcp_metrics hcp_metrics_t;

/* ---- log.c ----------------------------------------------------------------------------- */

/* One JSON object per line on stdout; |ex| adds the exchange id, NULL for none. */
void hcp_log_init(hcc_level_t level);
bool hcp_log_enabled(hcc_level_t level);
void hcp_log(hcc_level_t level, const hcp_exchange_t *ex, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- metrics --------------------------------------------------------------------------- */

struct hcp_metrics {
    uint64_t exchanges_started;
    uint64_t exchanges_answered;  /* an HTTP answer was produced, whatever its status */
    uint64_t exchanges_cancelled; /* the HTTP client left before the answer */
    uint64_t upstream_timeouts;
    uint64_t upstream_failures;   /* reset, unreachable, undeliverable */
    uint64_t late_responses;      /* CoAP answers for exchanges that had already ended */
    uint64_t inflight;            /* exchanges between their start and their end */
    uint64_t upstream_waiting;    /* exchanges queued for NSTART room, not yet sent */
    uint64_t upstream_destinations; /* CoAP servers with a session (and a socket) kept */
};

/* ---- local.c: what hcproxy serves itself ----------------------------------------------- */

typedef struct hcp_local {
    unsigned status;
    char text[512];
} hcp_local_t;

/* Whether |raw_uri| names one of hcproxy's own resources; if so, fills |out|. */
bool hcp_local_find(const hcp_proxy_t *proxy, const char *raw_uri, hcp_local_t *out);

/* ---- the whole proxy (main.c) ---------------------------------------------------------- */

struct hcp_proxy {
    uv_loop_t *loop;
    const hcc_config_t *cfg;
    hcp_front_t *front;
    hcp_upstream_t *upstream;
    hcp_origin_t *origin;
    hcp_metrics_t metrics;
    uint64_t next_exchange_id;
    hcp_exchange_t *live; /* exchanges in flight, for shutdown */
    struct rexchange *reverse_live; /* reverse exchanges in flight (reverse.c) */
};

/* ---- front.c: libmicrohttpd under uv_poll ---------------------------------------------- */

int hcp_front_new(hcp_proxy_t *proxy, hcp_front_t **out);
/* Stops accepting connections; those open keep being served. */
void hcp_front_quiesce(hcp_front_t *front);
/* Starts closing; the memory goes once the loop has closed the handles. */
void hcp_front_close(hcp_front_t *front);
/* Called after an exchange has its answer: resumes its suspended connection. The daemon runs
 * from an idle handle, or earlier from hcp_front_flush(). */
void hcp_front_resume(hcp_front_t *front, void *connection);
/* Runs the daemons now if connections were resumed: for callers outside every library callback,
 * so that answers go out in the same loop turn as the CoAP responses that made them. */
void hcp_front_flush(hcp_front_t *front);

/* ---- upstream.c: libcoap client under uv_poll ------------------------------------------ */

/* What upstream.c keeps in each exchange (hcp_exchange_upstream_link); private to upstream.c. */
typedef struct hcp_upstream_link {
    uint32_t slot;               /* the token's slot + 1; 0 when the upstream holds nothing */
    hcp_qlink_t waiting;         /* in its destination's queue until NSTART has room */
    void *destination;           /* where it waits */
    const hcm_coap_msg_t *msg;   /* the exchange's own message, sent when its turn comes */
    uint32_t epoch;              /* the destination's epoch when sent and counted; 0: not counted */
    bool is_sent;                /* handed to libcoap, and counted in the destination's awaiting */
} hcp_upstream_link_t;

int hcp_upstream_new(hcp_proxy_t *proxy, hcp_upstream_t **out);
void hcp_upstream_close(hcp_upstream_t *up);
/* Sends |msg| (which must live until the exchange ends) to |addr| as a confirmable request
 * carrying |ex|'s token, at once or, when NSTART requests to |addr| are outstanding already
 * (RFC 7252 s4.7), once their turn comes, oldest first. The answer arrives through
 * hcp_exchange_on_coap_response() or hcp_exchange_fail(), which may be called before this
 * returns. 0 or a negative HCM_E* code. */
int hcp_upstream_send(hcp_upstream_t *up, hcp_exchange_t *ex, const struct sockaddr *addr,
                      const hcm_coap_msg_t *msg);
/* Forgets |ex|: if it still waits for its turn it is never sent; a later answer with its token
 * is dropped. */
void hcp_upstream_forget(hcp_upstream_t *up, hcp_exchange_t *ex);
/* Lets libcoap act on what was queued from outside its callbacks (a triggered async). */
void hcp_upstream_kick(hcp_upstream_t *up);
/* The libcoap context, which the reverse direction's endpoints share. */
struct coap_context_t *hcp_upstream_context(hcp_upstream_t *up);
/* A view of a libcoap PDU as a mapping message; valid while the PDU lives. */
struct coap_pdu_t;
int hcp_upstream_msg_from_pdu(const struct coap_pdu_t *pdu, hcm_coap_msg_t *msg);

/* ---- reverse.c: CoAP clients to HTTP origins ------------------------------------------- */

/* Listens on coap.listen with |ctx| and serves proxy requests and coap.routes through origin.c. */
int hcp_reverse_start(hcp_proxy_t *proxy, struct coap_context_t *ctx);
/* Ends every reverse exchange in flight (at shutdown). */
void hcp_reverse_stop(hcp_proxy_t *proxy);

/* ---- origin.c: libcurl's multi-socket interface on the loop ----------------------------- */

typedef struct hcp_fetch hcp_fetch_t;

typedef struct hcp_fetch_result {
    int err;          /* 0, or a negative HCM_E* code when there is no HTTP answer */
    unsigned status;  /* the final response's status */
    hcm_header_t headers[32]; /* the final response's header fields (owned by the fetch) */
    size_t nheaders;
    uint8_t *body;    /* owned by the fetch */
    size_t body_len;
} hcp_fetch_result_t;

/* Called once per fetch, from the loop; |result| lives until the callback returns. */
typedef void (*hcp_fetch_done_cb)(void *data, const hcp_fetch_result_t *result);

int hcp_origin_new(hcp_proxy_t *proxy, hcp_origin_t **out);
void hcp_origin_close(hcp_origin_t *origin);
/* Sends |req| to |address| (the numeric address approved for req->host). 0, or a negative
 * HCM_E* code; on 0 |on_done| follows, unless hcp_origin_cancel() comes first. */
int hcp_origin_fetch(hcp_origin_t *origin, const hcm_origin_req_t *req, const char *address,
                     hcp_fetch_done_cb on_done, void *data, hcp_fetch_t **out);
void hcp_origin_cancel(hcp_fetch_t *fetch);

/* ---- exchange.c: one request's life ---------------------------------------------------- */

/* An exchange is created when libmicrohttpd sees a request line (hcp_exchange_new) and is
 * freed once libmicrohttpd has completed the request and every uv handle of it is closed. */
hcp_exchange_t *hcp_exchange_new(hcp_proxy_t *proxy, void *connection, const char *raw_uri);
uint64_t hcp_exchange_id(const hcp_exchange_t *ex);
/* The upstream's bookkeeping for |ex| (token, queue), owned by upstream.c. */
hcp_upstream_link_t *hcp_exchange_upstream_link(hcp_exchange_t *ex);

/* Answers every exchange in flight with 503 (at shutdown). */
void hcp_exchange_abort_all(hcp_proxy_t *proxy);
/* The CoAP response: maps it and answers the HTTP client. */
void hcp_exchange_on_coap_response(hcp_exchange_t *ex, const hcm_coap_msg_t *msg);
/* The exchange failed with a negative HCM_E* code: answers the HTTP client with it. */
void hcp_exchange_fail(hcp_exchange_t *ex, int err);

/* The access handler's work for one call (front.c passes libmicrohttpd's arguments through). */
struct MHD_Connection;
int hcp_exchange_on_http(hcp_exchange_t *ex, struct MHD_Connection *conn, const char *method,
                         const char *upload_data, size_t *upload_data_size);
/* libmicrohttpd has completed the request; |ex| must not be used by front.c afterwards. */
void hcp_exchange_on_http_done(hcp_exchange_t *ex);

#endif

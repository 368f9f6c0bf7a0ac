/* exchange's private half: the layout its files share (exchange.c: the life of an exchange,
 * exchange_request.c: the HTTP request read and judged, exchange_answer.c: the answer built and
 * logged), and what each offers the others. Nothing else includes this; see exchange.h. */
#ifndef HCP_EXCHANGE_INT_H
#define HCP_EXCHANGE_INT_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "exchange.h"
#include "hcm.h"
#include "observe.h"
#include "proxy.h"
#include "queue.h"
#include "upstream.h"

struct MHD_Connection;
struct MHD_Response;

/* The longest X-Request-Id taken from a client; a longer or odd one is replaced by one of ours. */
#define REQUEST_ID_MAX 128
#define HEADER_REQUEST_ID "X-Request-Id"
#define HEADER_TRACEPARENT "traceparent"

typedef enum exchange_state {
    EX_HEADERS,   /* the request line and headers are in; the body may follow */
    EX_RESOLVING, /* waiting for uv_getaddrinfo */
    EX_WAITING,   /* the CoAP request is out; the connection is suspended */
    EX_ANSWERED,  /* response holds the answer, to be queued on the next call */
    EX_CANCELLED, /* the HTTP client left; the connection is to be closed */
    EX_QUEUED,    /* the answer is with libmicrohttpd (a stream: its first bytes) */
} exchange_state_t;

/* A stream of notifications (exchange_stream.c): the bytes observe.c handed over and
 * libmicrohttpd has not yet taken. */
typedef struct exchange_stream {
    hcm_stream_t kind;      /* HCM_STREAM_NONE: a plain request */
    hcp_observe_sub_t *sub; /* joined, until the stream closes or the client leaves */
    bool is_open;           /* answered 200: the body is being streamed */
    bool is_over;           /* no more bytes come: the body ends once they are written */
    bool is_broken;         /* the client took too long to read: the connection closes */
    bool is_reader_waiting; /* the content reader found nothing and suspended the connection */
    uint64_t last_write_ms; /* loop time bytes were last handed over, for the heartbeat */
    uint8_t *buf;
    size_t off, len, cap;
} exchange_stream_t;

struct hcp_exchange {
    hcp_proxy_t *proxy;
    hcp_queue_link_t live;  /* in proxy->live while counted in flight */
    struct MHD_Connection *conn;
    uint64_t id;
    uint64_t started_ns;
    uint64_t deadline_ms;   /* loop time at which the upstream timeout ends the exchange */
    exchange_state_t state;
    int early_error;        /* a negative HCM_E* decided before the body ended, or 0 */
    int error;              /* the HCM_E* code hcproxy answered with, for the log; 0 for none */
    int local;              /* the own resource served (local.c's index), or -1 */
    bool is_suspended;
    bool is_http_done;      /* libmicrohttpd completed the request */
    bool is_counted;        /* counted in metrics.inflight */
    bool is_resolving;      /* a uv_getaddrinfo holds the exchange until its callback */
    bool has_hangup_watch;  /* hangup is initialised */
    int open_handles;       /* uv handles not yet closed */
    hcp_upstream_req_t *upreq; /* its CoAP request, until its done callback or cancel */
    hcp_exchange_t *next_spare;   /* in proxy->spare_exchanges once ended */
    size_t arena_size;
    struct MHD_Response *response;
    unsigned status;
    const char *method;     /* libmicrohttpd's copy, valid until the request completes */
    const char *traceparent; /* the client's W3C traceparent, when well-formed; likewise */
    char request_id[REQUEST_ID_MAX + 1]; /* the client's X-Request-Id, or one made here */
    char client[INET6_ADDRSTRLEN + 8];   /* "address:port" or "[address]:port" */
    uv_timer_t timer;
    uv_poll_t hangup;
    uv_getaddrinfo_t resolver;
    char *raw_uri;          /* in the arena */
    uint8_t *body;
    size_t body_len;
    size_t body_cap;
    size_t discarded;       /* body bytes past the limit, read and dropped */
    hcm_target_t target;
    hcm_req_info_t info;    /* what the response mapping needs to know of the request */
    hcm_coap_msg_t msg;
    exchange_stream_t stream;
    hcm_arena_t arena;
    uint8_t arena_buf[];
};

/* ---- exchange.c ------------------------------------------------------------------------------ */

/* Ends the exchange with |response| (NULL: none could be built) and |status|; it is queued on the
 * access handler's next call. */
void hcp_exchange_answer(hcp_exchange_t *ex, struct MHD_Response *response, unsigned status);

/* The exchange waits no more: its timer, hang-up watch and upstream request stop. */
void hcp_exchange_stop_waiting(hcp_exchange_t *ex);
/* Watches the client's socket for a hang-up while the connection is suspended. */
void hcp_exchange_watch_hangup(hcp_exchange_t *ex);
/* The exchange's suspended connection runs again. */
void hcp_exchange_resume(hcp_exchange_t *ex);

/* ---- exchange_stream.c ----------------------------------------------------------------------- */

/* A stream of notifications from the CoAP server at |addr| (observe.h): joins it, and waits
 * for its first answer as send_to() waits for a response. */
void hcp_exchange_stream_start(hcp_exchange_t *ex, const struct sockaddr *addr);
/* The client left, or the exchange ends: the subscription goes; the timer is the caller's. */
void hcp_exchange_stream_stop(hcp_exchange_t *ex);
/* Frees the stream's buffer. */
void hcp_exchange_stream_free(hcp_exchange_t *ex);

/* ---- exchange_answer.c ----------------------------------------------------------------------- */

/* The access log line and the metrics of an answer: a proxied exchange's by its status class
 * and latency, anything else as a refusal (by cause) or an own resource's answer. */
void hcp_exchange_record_answer(hcp_exchange_t *ex, bool was_proxied);
/* Whether |err| leaves the request's framing in doubt: the connection then closes. */
bool hcp_exchange_is_framing_error(int err);
/* A proxy-generated error: its status and one-line reason come from mapping/errors.def. */
void hcp_exchange_answer_error(hcp_exchange_t *ex, int err);
/* HCM_EHEADERROOM: the request left |room| bytes of libmicrohttpd's pool, too few for an answer
 * (poolroom.h); answers 431 at once, and the connection closes. 0, or -1 to close it now. */
int hcp_exchange_answer_no_room(hcp_exchange_t *ex, size_t room);
/* The request upstream failed with a negative HCM_E* code: answers the HTTP client with it. */
void hcp_exchange_fail(hcp_exchange_t *ex, int err);
/* The CoAP response: maps it and answers the HTTP client. */
void hcp_exchange_on_coap_response(hcp_exchange_t *ex, const hcm_coap_msg_t *msg);
/* Hands the answer to libmicrohttpd: 0, or -1 to close the connection. */
int hcp_exchange_queue_answer(hcp_exchange_t *ex);

/* ---- exchange_request.c ---------------------------------------------------------------------- */

/* Who asked: the client's address, its X-Request-Id and its traceparent (for the log). */
void hcp_exchange_identify(hcp_exchange_t *ex);
/* The checks on the request line and headers alone: framing (RFC 9112), a declared length over
 * http.max_body_bytes, the client certificate, the rate and the bearer token. 0 or why not. */
int hcp_exchange_check_headers(hcp_exchange_t *ex, const char *version);
/* Whether the request says a body follows. */
bool hcp_exchange_declares_body(hcp_exchange_t *ex);
/* One piece of the body: 0, or -1 to close the connection. */
int hcp_exchange_on_body(hcp_exchange_t *ex, const char *data, size_t len);
/* The request, body and all, mapped to its CoAP target and message (RFC 8075). 0 or why not. */
int hcp_exchange_map_request(hcp_exchange_t *ex);

#endif

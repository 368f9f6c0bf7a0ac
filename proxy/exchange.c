/* One HTTP request's life, from its request line to the end of its answer.
 *
 * libmicrohttpd calls the access handler several times per request: once with the headers, once
 * per piece of body, once more when the body has ended, and again after a resume. The exchange
 * decides on the last of those calls and never queues a response on the first one: libmicrohttpd
 * 0.9.75 closes the connection after a response queued that early.
 *
 * Every path that ends an exchange goes through answer() or cancel(), which stop its timer and
 * hang-up watch and forget its upstream token; the memory goes in release() once libmicrohttpd has
 * completed the request and the loop has closed both handles. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "hcp.h"
#include "logtext.h"

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
    EX_QUEUED,    /* the answer is with libmicrohttpd */
} exchange_state_t;

struct hcp_exchange {
    hcp_proxy_t *proxy;
    hcp_qlink_t live;       /* in proxy->live while counted in flight */
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
    hcm_arena_t arena;
    uint8_t arena_buf[];
};

/* The arena holds the raw URI, a route's target URI, the decoded options and the views of the
 * request headers (bounded by http.max_header_bytes); the mapped response's header values, a
 * Location built from at most one datagram of options among them, come from it too. */
static size_t arena_size_for(size_t uri_len)
{
    return 4 * uri_len + 16384;
}

/* Exchanges whose raw URI fits STANDARD_URI_BYTES all get blocks of one size, so that an ended
 * exchange's block serves the next request. At 17 KiB a block is beyond malloc's per-size caches:
 * freed in bursts at the top of the heap, glibc gave the memory back with brk() and faulted it
 * in again on the next burst (bench/README.md, the speed work, has the counts). Up to
 * SPARE_EXCHANGES_MAX blocks (1.1 MiB) are kept, about one batch of answers. */
#define STANDARD_URI_BYTES 256
#define SPARE_EXCHANGES_MAX 64

static hcp_exchange_t *take_block(hcp_proxy_t *proxy, size_t arena_size)
{
    hcp_exchange_t *ex = proxy->spare_exchanges;

    if (ex != NULL && ex->arena_size == arena_size) {
        proxy->spare_exchanges = ex->next_spare;
        proxy->nspare_exchanges--;
        return ex;
    }
    return malloc(sizeof *ex + arena_size);
}

static void give_back(hcp_exchange_t *ex)
{
    hcp_proxy_t *proxy = ex->proxy;

    if (ex->arena_size != arena_size_for(STANDARD_URI_BYTES) ||
        proxy->nspare_exchanges >= SPARE_EXCHANGES_MAX) {
        free(ex);
        return;
    }
    ex->next_spare = proxy->spare_exchanges;
    proxy->spare_exchanges = ex;
    proxy->nspare_exchanges++;
}

void hcp_exchange_free_spares(hcp_proxy_t *proxy)
{
    while (proxy->spare_exchanges != NULL) {
        hcp_exchange_t *ex = proxy->spare_exchanges;
        proxy->spare_exchanges = ex->next_spare;
        free(ex);
    }
    proxy->nspare_exchanges = 0;
}

hcp_exchange_t *hcp_exchange_new(hcp_proxy_t *proxy, void *connection, const char *raw_uri)
{
    size_t uri_len = strlen(raw_uri);
    size_t arena_size = arena_size_for(uri_len > STANDARD_URI_BYTES ? uri_len : STANDARD_URI_BYTES);
    hcp_exchange_t *ex = take_block(proxy, arena_size);

    if (ex == NULL)
        return NULL;
    memset(ex, 0, sizeof *ex); /* the arena needs no zeroing */
    ex->arena_size = arena_size;
    ex->proxy = proxy;
    ex->conn = connection;
    ex->id = ++proxy->next_exchange_id;
    ex->local = -1;
    ex->started_ns = uv_hrtime();
    hcm_arena_init(&ex->arena, ex->arena_buf, arena_size);
    ex->raw_uri = hcm_arena_strndup(&ex->arena, raw_uri, uri_len);
    uv_timer_init(proxy->loop, &ex->timer);
    ex->timer.data = ex;
    ex->open_handles = 1;
    hcp_front_request_started(proxy->front, connection);
    return ex;
}

uint64_t hcp_exchange_id(const hcp_exchange_t *ex)
{
    return ex->id;
}

/* ---- the end of an exchange ------------------------------------------------------------ */

static void on_handle_closed(uv_handle_t *handle)
{
    hcp_exchange_t *ex = handle->data;

    if (--ex->open_handles == 0)
        give_back(ex);
}

static void release(hcp_exchange_t *ex)
{
    if (ex->response != NULL)
        MHD_destroy_response(ex->response);
    free(ex->body);
    uv_close((uv_handle_t *)&ex->timer, on_handle_closed);
}

/* The exchanges in flight; the proxy comes zeroed (main.c), so the queue is set up at first use. */
static hcp_queue_t *live_of(hcp_proxy_t *proxy)
{
    if (proxy->live.head.next == NULL)
        hcp_queue_init(&proxy->live);
    return &proxy->live;
}

static void link_live(hcp_exchange_t *ex)
{
    ex->is_counted = true;
    ex->proxy->metrics.inflight++;
    hcp_queue_push(live_of(ex->proxy), &ex->live);
}

static void stop_waiting(hcp_exchange_t *ex)
{
    uv_timer_stop(&ex->timer);
    /* Closed now, while libmicrohttpd still owns the fd: once it closes the socket, the number
     * may be reused by another connection that another exchange is watching. */
    if (ex->has_hangup_watch) {
        ex->has_hangup_watch = false;
        uv_close((uv_handle_t *)&ex->hangup, on_handle_closed);
    }
    if (ex->upreq != NULL) {
        hcp_upstream_cancel(ex->upreq);
        ex->upreq = NULL;
    }
    if (ex->is_counted) {
        ex->is_counted = false;
        ex->proxy->metrics.inflight--;
        hcp_queue_remove(&ex->proxy->live, &ex->live);
    }
}

static void resume_if_suspended(hcp_exchange_t *ex)
{
    if (ex->is_suspended) {
        ex->is_suspended = false;
        hcp_front_resume(ex->proxy->front, ex->conn);
    }
}

/* The access log: one line per answer, its facts as fields. hcproxy's own resources are logged
 * at debug level: an orchestrator's probes and a scraper would fill the log otherwise. */
static void log_outcome(const hcp_exchange_t *ex)
{
    hcc_level_t level = ex->local >= 0 ? HCC_LOG_DEBUG : HCC_LOG_INFO;
    double ms = (double)(uv_hrtime() - ex->started_ns) / 1e6;
    char path[2048], cause[32];

    if (!hcp_log_enabled(level))
        return;
    hcp_log_redact(ex->raw_uri, path, sizeof path);
    hcp_field_t fields[] = {
        HCP_F_STR("request_id", ex->request_id[0] != '\0' ? ex->request_id : NULL),
        HCP_F_STR("traceparent", ex->traceparent),
        HCP_F_STR("client", ex->client[0] != '\0' ? ex->client : NULL),
        HCP_F_STR("direction", ex->local >= 0 ? NULL : "http_to_coap"),
        HCP_F_STR("method", ex->method),
        HCP_F_STR("path", path),
        HCP_F_UINT("status", ex->status),
        HCP_F_MS("latency_ms", ms),
        HCP_F_STR("cause", hcp_cause_label(ex->error, cause, sizeof cause) ? cause : NULL),
    };
    hcp_log_fields(level, ex->id, fields, HCM_COUNTOF(fields), "%s %s -> %u (%.3f ms)",
                   ex->method ? ex->method : "-", path, ex->status, ms);
}

/* Counts an answer: a proxied exchange's by its status class and latency, anything else as a
 * refusal (by cause) or an own resource's answer. */
static void count_answer(hcp_exchange_t *ex, bool was_proxied)
{
    hcp_metrics_t *m = &ex->proxy->metrics;

    if (was_proxied) {
        m->answered_by_class[ex->status / 100 < 6 ? ex->status / 100 : 5]++;
        hcp_metrics_observe(m, HCP_HTTP_TO_COAP, uv_hrtime() - ex->started_ns);
        if (ex->error < 0)
            hcp_metrics_count_cause(m->failed_by_cause, ex->error);
    } else if (ex->local >= 0) {
        m->local_answers[ex->local]++;
    } else {
        hcp_metrics_count_cause(m->refused_by_cause, ex->error);
    }
}

/* Ends the exchange with |response|; it is queued on the access handler's next call. */
static void answer(hcp_exchange_t *ex, struct MHD_Response *response, unsigned status)
{
    bool was_proxied = ex->is_counted; /* in flight until stop_waiting() */

    stop_waiting(ex);
    ex->response = response;
    ex->status = status;
    ex->state = EX_ANSWERED;
    count_answer(ex, was_proxied);
    log_outcome(ex);
    resume_if_suspended(ex);
}

/* RFC 9110 s8.6: a 304 may carry Content-Length only as the size the 200 would have had, which a
 * CoAP 2.03 does not tell; libmicrohttpd adds "Content-Length: 0" from the empty buffer.
 * MHD_RF_HEAD_ONLY_RESPONSE (libmicrohttpd 1.0.0 and later) leaves it out; 0.9.75 has no way
 * to, and still sends it. */
static void omit_content_length(struct MHD_Response *r)
{
#if MHD_VERSION >= 0x01000000
    MHD_set_response_options(r, MHD_RF_HEAD_ONLY_RESPONSE, MHD_RO_END);
#else
    (void)r;
#endif
}

static struct MHD_Response *text_response(const char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);

    if (r != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    return r;
}

static bool is_framing_error(int err)
{
    return err == HCM_EFRAMING || err == HCM_EHOSTFIELD || err == HCM_ECODING;
}

/* A proxy-generated error: its status and one-line reason come from mapping/errors.def. */
static void answer_error(hcp_exchange_t *ex, int err)
{
    struct MHD_Response *r;
    char line[256];

    snprintf(line, sizeof line, "%s\n", hcm_strerror(err));
    r = text_response(line);
    /* RFC 6585 s4: when to come back; a bucket refills one request in 1/rate s. */
    if (r != NULL && err == HCM_ERATELIMIT)
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    /* RFC 6750 s3: a 401 names the scheme, and says when the token itself was the problem. */
    if (r != NULL && (err == HCM_ENOTOKEN || err == HCM_EBADTOKEN))
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                err == HCM_EBADTOKEN ? "Bearer realm=\"hcproxy\", error=\"invalid_token\""
                                                     : "Bearer realm=\"hcproxy\"");
    /* RFC 9112 s6.3, s9.6: after ambiguous framing nothing more is read from the connection;
     * whatever followed may be a smuggled request. */
    if (r != NULL && is_framing_error(err))
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    ex->error = err;
    answer(ex, r, hcm_err_status(err));
}

static void cancel(hcp_exchange_t *ex)
{
    stop_waiting(ex);
    ex->state = EX_CANCELLED;
    ex->proxy->metrics.exchanges_cancelled++;
    if (hcp_log_enabled(HCC_LOG_INFO)) {
        char path[2048];
        hcp_log_redact(ex->raw_uri, path, sizeof path);
        hcp_field_t fields[] = {
            HCP_F_STR("request_id", ex->request_id),
            HCP_F_STR("traceparent", ex->traceparent),
            HCP_F_STR("client", ex->client),
            HCP_F_STR("direction", "http_to_coap"),
            HCP_F_STR("method", ex->method),
            HCP_F_STR("path", path),
            HCP_F_MS("latency_ms", (double)(uv_hrtime() - ex->started_ns) / 1e6),
            HCP_F_STR("outcome", "cancelled"),
        };
        hcp_log_fields(HCC_LOG_INFO, ex->id, fields, HCM_COUNTOF(fields),
                       "%s %s: client went away, exchange cancelled", ex->method, path);
    }
    resume_if_suspended(ex);
}

static void hcp_exchange_fail(hcp_exchange_t *ex, int err)
{
    if (ex->state != EX_WAITING && ex->state != EX_RESOLVING)
        return;
    if (err == HCM_ETIMEOUT)
        ex->proxy->metrics.upstream_timeouts++;
    else
        ex->proxy->metrics.upstream_failures++;
    answer_error(ex, err);
}

void hcp_exchange_abort_all(hcp_proxy_t *proxy)
{
    hcp_queue_t *live = live_of(proxy);

    while (!hcp_queue_is_empty(live)) {
        hcp_exchange_t *ex = hcp_container_of(live->head.next, hcp_exchange_t, live);
        if (ex->state == EX_WAITING || ex->state == EX_RESOLVING)
            answer_error(ex, HCM_ESHUTDOWN); /* unlinks ex */
        else
            stop_waiting(ex);
    }
}

/* Host names and ports only: a Host header is echoed into Location, so nothing that could end
 * the header or the URI may pass. */
static bool is_plain_host(const char *host)
{
    return host[0] != '\0' &&
           strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") ==
               strlen(host);
}

/* The URI prefix under which a CoAP URI is reachable through this proxy, for Location
 * (RFC 7252 s10.2.4): http.public_url, else the request's own Host. NULL when neither can be
 * trusted; Location then carries the CoAP URI itself. */
static const char *hosting_prefix(hcp_exchange_t *ex)
{
    const hcc_config_t *cfg = ex->proxy->cfg;
    const char *host = cfg->http_public_url;
    char *out;
    size_t len;

    if (host[0] == '\0') {
        host = MHD_lookup_connection_value(ex->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
        if (host == NULL || !is_plain_host(host))
            return NULL;
        len = strlen("https://") + strlen(host) + strlen(cfg->http_hc_path) + 1;
        if ((out = hcm_arena_alloc(&ex->arena, len)) != NULL)
            snprintf(out, len, "%s://%s%s", hcp_front_is_tls(ex->conn) ? "https" : "http", host,
                     cfg->http_hc_path);
        return out;
    }
    len = strlen(host) + strlen(cfg->http_hc_path) + 1;
    if ((out = hcm_arena_alloc(&ex->arena, len)) != NULL)
        snprintf(out, len, "%s%s", host, cfg->http_hc_path);
    return out;
}

static void hcp_exchange_on_coap_response(hcp_exchange_t *ex, const hcm_coap_msg_t *msg)
{
    hcm_resp_ctx_t ctx = {.request = ex->info, .target = &ex->target};
    hcm_http_resp_t resp;
    struct MHD_Response *r;
    int err;

    if (ex->state != EX_WAITING)
        return;
    if (msg->payload.len > (size_t)ex->proxy->cfg->upstream_max_response_bytes) {
        hcp_exchange_fail(ex, HCM_ERESPTOOLARGE);
        return;
    }
    if (hcm_coap_msg_find(msg, HCM_OPT_LOCATION_PATH) != NULL ||
        hcm_coap_msg_find(msg, HCM_OPT_LOCATION_QUERY) != NULL)
        ctx.hosting_prefix = hosting_prefix(ex); /* only a Location needs it */
    err = hcm_response_to_http(msg, &ctx, &ex->arena, &resp);
    if (err < 0) {
        hcp_exchange_fail(ex, err == HCM_ENOSPACE ? HCM_ENOSPACE : HCM_EBADRESPONSE);
        return;
    }
    r = MHD_create_response_from_buffer(resp.body.len, (void *)resp.body.p,
                                        MHD_RESPMEM_MUST_COPY);
    for (size_t i = 0; r != NULL && i < resp.nheaders; i++)
        MHD_add_response_header(r, resp.headers[i].name, resp.headers[i].value);
    if (r != NULL && resp.status == MHD_HTTP_NOT_MODIFIED)
        omit_content_length(r);
    answer(ex, r, resp.status);
}

/* ---- waiting ----------------------------------------------------------------------------- */

static void watch_hangup(hcp_exchange_t *ex);

/* Most exchanges end within a loop turn or two; watching the client socket for a hang-up costs
 * three system calls, so it starts only for exchanges still waiting after this long. */
#define HANGUP_WATCH_AFTER_MS 50

static void on_timeout(uv_timer_t *timer)
{
    hcp_exchange_t *ex = hcp_container_of(timer, hcp_exchange_t, timer);
    uint64_t now = uv_now(ex->proxy->loop);

    if (now < ex->deadline_ms) {
        watch_hangup(ex);
        uv_timer_start(&ex->timer, on_timeout, ex->deadline_ms - now, 0);
        return;
    }
    hcp_exchange_fail(ex, HCM_ETIMEOUT);
}

/* Arms the exchange timer: first the hang-up watch delay, then the upstream timeout. */
static void start_timer(hcp_exchange_t *ex)
{
    uint64_t timeout = (uint64_t)ex->proxy->cfg->upstream_timeout_ms;

    ex->deadline_ms = uv_now(ex->proxy->loop) + timeout;
    uv_timer_start(&ex->timer, on_timeout,
                   timeout > HANGUP_WATCH_AFTER_MS ? HANGUP_WATCH_AFTER_MS : timeout, 0);
}

/* While the connection is suspended libmicrohttpd does not read from it, so a client that
 * hangs up would go unnoticed until the CoAP answer or the timeout. Watching the socket for the
 * peer's FIN lets the exchange end at once and free its upstream slot. */
static void on_hangup(uv_poll_t *poll, int status, int events)
{
    hcp_exchange_t *ex = hcp_container_of(poll, hcp_exchange_t, hangup);

    if (status < 0 || (events & UV_DISCONNECT))
        cancel(ex);
}

static void watch_hangup(hcp_exchange_t *ex)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(ex->conn, MHD_CONNECTION_INFO_CONNECTION_FD);

    if (info == NULL || ex->has_hangup_watch)
        return;
    if (uv_poll_init_socket(ex->proxy->loop, &ex->hangup, info->connect_fd) != 0)
        return;
    ex->has_hangup_watch = true;
    ex->hangup.data = ex;
    ex->open_handles++;
    uv_poll_start(&ex->hangup, UV_DISCONNECT, on_hangup);
}

/* The upstream's end of the request (upstream.h), from the loop: the request is gone. */
static void on_upstream_done(void *data, const hcm_coap_msg_t *msg, int err)
{
    hcp_exchange_t *ex = data;

    ex->upreq = NULL;
    if (err < 0)
        hcp_exchange_fail(ex, err);
    else
        hcp_exchange_on_coap_response(ex, msg);
}

static void send_to(hcp_exchange_t *ex, const struct sockaddr *addr)
{
    int err;

    ex->state = EX_WAITING;
    err = hcp_upstream_send(ex->proxy->upstream, addr, &ex->target, &ex->msg, ex->id,
                            on_upstream_done, ex, &ex->upreq);
    if (err < 0)
        hcp_exchange_fail(ex, err);
}

/* 0 when the CoAP server at |sa| (with the target's port) may be reached, else why not: a
 * multicast group or hcproxy's own CoAP listener (policy.c), or outside upstream.allow. */
static int judge_address(const hcp_exchange_t *ex, const struct sockaddr *sa)
{
    int err = hcp_policy_check(ex->proxy, HCP_OWN_COAP, sa);

    if (err < 0)
        return err;
    if (!hcc_allows(ex->proxy->cfg, hcm_scheme_name(ex->target.scheme), ex->target.host,
                    sa->sa_family, hcp_sockaddr_ip(sa), ex->target.port, ex->target.path))
        return HCM_EFORBIDDEN;
    return 0;
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    hcp_exchange_t *ex = hcp_container_of(req, hcp_exchange_t, resolver);
    const struct addrinfo *ai;

    ex->is_resolving = false;
    if (ex->state == EX_RESOLVING) {
        /* The first address that may be reached; when none may, the reason the first gave. */
        struct sockaddr_storage ss;
        int err = status == 0 ? HCM_EFORBIDDEN : HCM_ERESOLVE;

        for (ai = status == 0 ? res : NULL; ai != NULL; ai = ai->ai_next) {
            int why = HCM_EFORBIDDEN;
            if (ai->ai_family == AF_INET || ai->ai_family == AF_INET6) {
                hcp_sockaddr_with_port(ai->ai_addr, ex->target.port, &ss);
                why = judge_address(ex, (struct sockaddr *)&ss);
            }
            if (why == 0)
                break;
            if (ai == res)
                err = why;
        }
        if (ai != NULL)
            send_to(ex, (struct sockaddr *)&ss);
        else
            answer_error(ex, err);
    }
    uv_freeaddrinfo(res);
    if (ex->is_http_done)
        release(ex);
}

static void resolve(hcp_exchange_t *ex)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM};
    char port[8];

    snprintf(port, sizeof port, "%u", ex->target.port);
    ex->state = EX_RESOLVING;
    if (uv_getaddrinfo(ex->proxy->loop, &ex->resolver, on_resolved, ex->target.host, port,
                       &hints) != 0) {
        answer_error(ex, HCM_ERESOLVE);
        return;
    }
    ex->is_resolving = true;
}

/* ---- the request ------------------------------------------------------------------------- */

typedef struct header_sink {
    hcm_header_t *headers;
    size_t count;
    size_t cap;
} header_sink_t;

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    header_sink_t *sink = cls;

    (void)kind;
    if (sink->headers != NULL && sink->count < sink->cap)
        sink->headers[sink->count] = (hcm_header_t){.name = key, .value = value};
    sink->count++;
    return MHD_YES;
}

static int collect_headers(hcp_exchange_t *ex, hcm_http_req_t *req)
{
    header_sink_t sink = {0};

    MHD_get_connection_values(ex->conn, MHD_HEADER_KIND, collect_header, &sink);
    sink.cap = sink.count;
    sink.count = 0;
    sink.headers = hcm_arena_alloc(&ex->arena, sink.cap * sizeof *sink.headers + 1);
    if (sink.headers == NULL)
        return HCM_EHEADERS; /* thousands of tiny header fields: a client problem */
    MHD_get_connection_values(ex->conn, MHD_HEADER_KIND, collect_header, &sink);
    req->headers = sink.headers;
    req->nheaders = sink.count;
    return 0;
}

/* A named route stands for a CoAP base URI: the rest of the raw path and the query follow it
 * unchanged, to be decoded once by the target parser like any other target. */
static int route_target(hcp_exchange_t *ex, const char **target_uri)
{
    const hcc_route_t *route = hcc_route_find(ex->proxy->cfg, ex->raw_uri);
    const char *rest;
    size_t base_len, rest_len;
    char *uri;

    if (route == NULL)
        return HCM_ENOTPROXY;
    rest = ex->raw_uri + strlen(route->prefix);
    base_len = strlen(route->base);
    rest_len = strlen(rest);
    uri = hcm_arena_alloc(&ex->arena, base_len + rest_len + 1);
    if (uri == NULL)
        return HCM_ENOSPACE;
    memcpy(uri, route->base, base_len);
    memcpy(uri + base_len, rest, rest_len + 1);
    *target_uri = uri;
    return 0;
}

static int map_request(hcp_exchange_t *ex)
{
    const hcc_config_t *cfg = ex->proxy->cfg;
    hcm_http_req_t req = {
        .method = ex->method,
        .body = {ex->body, ex->body_len},
        .hop_limit = (unsigned)cfg->upstream_hop_limit,
        .loose_media_types = cfg->http_loose_media_types,
    };
    int err;

    err = hcm_target_extract(ex->raw_uri, cfg->http_hc_path, &ex->arena, &req.target_uri);
    if (err == HCM_ENOTPROXY)
        err = route_target(ex, &req.target_uri);
    if (err == 0)
        err = collect_headers(ex, &req);
    if (err == 0)
        err = hcm_request_to_coap(&req, &ex->arena, &ex->target, &ex->msg, &ex->info);
    return err;
}

static bool serve_local(hcp_exchange_t *ex)
{
    hcp_local_t local;

    struct MHD_Response *r;

    if (!hcp_local_find(ex->proxy, ex->raw_uri, &local))
        return false;
    r = MHD_create_response_from_buffer(local.len, local.text, MHD_RESPMEM_MUST_COPY);
    if (r != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, local.content_type);
    ex->local = local.index;
    answer(ex, r, local.status);
    return true;
}

/* The body has ended: decide, and either answer now or go upstream. */
static void begin(hcp_exchange_t *ex)
{
    struct sockaddr_storage ss = {0};
    int err = ex->early_error;

    hcp_front_request_complete(ex->conn);
    if (err == 0 && serve_local(ex))
        return;
    if (err == 0)
        err = map_request(ex);
    if (err == 0 && ex->proxy->metrics.inflight >= (uint64_t)ex->proxy->cfg->upstream_max_inflight)
        err = HCM_EOVERLOAD;
    if (err == 0 && ex->proxy->closing) /* a kept-alive connection after drain.delay_s */
        err = HCM_ESHUTDOWN;
    if (err == 0 && hcp_sockaddr_literal(ex->target.host, ex->target.port, &ss))
        err = judge_address(ex, (struct sockaddr *)&ss);
    if (err < 0) {
        answer_error(ex, err);
        return;
    }
    ex->proxy->metrics.exchanges_started++;
    link_live(ex);
    start_timer(ex);
    if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6)
        send_to(ex, (struct sockaddr *)&ss);
    else
        resolve(ex);
    if (ex->state == EX_WAITING || ex->state == EX_RESOLVING) {
        MHD_suspend_connection(ex->conn);
        ex->is_suspended = true;
    }
}

static int append_body(hcp_exchange_t *ex, const char *data, size_t len)
{
    size_t limit = (size_t)ex->proxy->cfg->http_max_body_bytes;
    size_t need = ex->body_len + len;

    if (need > limit)
        return HCM_ETOOLARGE;
    if (need > ex->body_cap) {
        size_t cap = ex->body_cap ? ex->body_cap : 4096;
        uint8_t *grown;
        while (cap < need)
            cap *= 2;
        if (cap > limit)
            cap = limit;
        grown = realloc(ex->body, cap);
        if (grown == NULL)
            return HCM_EINTERNAL;
        ex->body = grown;
        ex->body_cap = cap;
    }
    memcpy(ex->body + ex->body_len, data, len);
    ex->body_len = need;
    return 0;
}

static bool declared_length_fits(hcp_exchange_t *ex)
{
    const char *cl = MHD_lookup_connection_value(ex->conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
    char *end;
    unsigned long long n;

    if (cl == NULL)
        return true;
    errno = 0;
    n = strtoull(cl, &end, 10);
    return errno == 0 && *end == '\0' &&
           n <= (unsigned long long)ex->proxy->cfg->http_max_body_bytes;
}

static int queue_answer(hcp_exchange_t *ex)
{
    enum MHD_Result ok;

    if (ex->response == NULL)
        return -1; /* could not even build the answer: close the connection */
    MHD_add_response_header(ex->response, HEADER_REQUEST_ID, ex->request_id);
    ok = MHD_queue_response(ex->conn, ex->status, ex->response);
    ex->state = EX_QUEUED;
    return ok == MHD_YES ? 0 : -1;
}

/* How much of a body over the limit is read and thrown away so that the client still gets its
 * 413; past this the connection is closed instead. */
#define DISCARD_LIMIT (1u << 20)

/* One piece of the body. libmicrohttpd cannot queue a response while a body is arriving, so a
 * body found too large on the way is drained, bounded, and answered when it ends. */
static int on_body(hcp_exchange_t *ex, const char *data, size_t len)
{
    if (ex->early_error == 0)
        ex->early_error = append_body(ex, data, len);
    if (ex->early_error == HCM_ETOOLARGE) {
        ex->discarded += len;
        if (ex->discarded > DISCARD_LIMIT)
            return -1;
    }
    return 0;
}

/* https.client_ca_file, http.rate_limit and http.bearer_tokens: 0, or why the request may not
 * go on. /healthz answers a container's health check whatever the rate, without a token. */
static int authorize(hcp_exchange_t *ex)
{
    const union MHD_ConnectionInfo *client =
        MHD_get_connection_info(ex->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    int err = hcp_front_check_client(ex->proxy->front, ex->conn);

    if (err < 0 || hcp_local_is_public(ex->raw_uri))
        return err;
    if ((err = hcp_policy_rate(ex->proxy, client != NULL ? client->client_addr : NULL)) < 0)
        return err;
    return hcp_policy_authorize(ex->proxy, MHD_lookup_connection_value(
                                               ex->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION));
}

static enum MHD_Result add_framing_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                         const char *value)
{
    (void)kind;
    hcm_framing_add(cls, key, value != NULL ? value : "");
    return MHD_YES;
}

/* RFC 9112 s3.2, s6: one Host, and one way to find where the body ends (mapping/framing.c). */
static int check_framing(hcp_exchange_t *ex, const char *version)
{
    hcm_framing_t framing = {0};

    MHD_get_connection_values(ex->conn, MHD_HEADER_KIND, add_framing_field, &framing);
    return hcm_framing_check(&framing, strcmp(version, MHD_HTTP_VERSION_1_0) != 0);
}

/* What the log and the answer say about who asked: the client's address, its X-Request-Id
 * (echoed in the answer; one is made when it sent none, or one that is not plain text) and its
 * W3C traceparent, logged when well-formed. */
static void identify(hcp_exchange_t *ex)
{
    const union MHD_ConnectionInfo *client =
        MHD_get_connection_info(ex->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const char *id = MHD_lookup_connection_value(ex->conn, MHD_HEADER_KIND, HEADER_REQUEST_ID);
    const char *tp = MHD_lookup_connection_value(ex->conn, MHD_HEADER_KIND, HEADER_TRACEPARENT);

    hcp_sockaddr_format(client != NULL ? client->client_addr : NULL, ex->client, sizeof ex->client);
    if (id != NULL && hcp_request_id_ok(id, REQUEST_ID_MAX))
        snprintf(ex->request_id, sizeof ex->request_id, "%s", id);
    else
        hcp_request_id_make(ex->id, ex->request_id, sizeof ex->request_id);
    ex->traceparent = tp != NULL && hcp_traceparent_ok(tp) ? tp : NULL;
}

static bool declares_body(hcp_exchange_t *ex)
{
    const char *cl = MHD_lookup_connection_value(ex->conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);

    return (cl != NULL && strcmp(cl, "0") != 0) ||
           MHD_lookup_connection_value(ex->conn, MHD_HEADER_KIND,
                                       MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
}

int hcp_exchange_on_http(hcp_exchange_t *ex, const char *method, const char *version,
                         const char *upload_data, size_t *upload_data_size)
{
    int err;

    if (ex->method == NULL) {
        ex->method = method;
        identify(ex);
        err = check_framing(ex, version);
        if (err == 0)
            err = declared_length_fits(ex) ? authorize(ex) : HCM_ETOOLARGE;
        if (err < 0 && (err == HCM_ETOOLARGE || is_framing_error(err) || declares_body(ex))) {
            /* Refused before any of the body is read; the connection then closes. */
            hcp_front_request_complete(ex->conn);
            answer_error(ex, err);
            return queue_answer(ex);
        }
        ex->early_error = err; /* without a body: answered later, the connection kept */
        return 0; /* answer later: keeps the connection alive (see the top of this file) */
    }
    if (*upload_data_size > 0) {
        size_t len = *upload_data_size;
        *upload_data_size = 0;
        return on_body(ex, upload_data, len);
    }
    switch (ex->state) {
    case EX_HEADERS:
        begin(ex);
        return ex->state == EX_ANSWERED ? queue_answer(ex) : 0;
    case EX_ANSWERED:
        return queue_answer(ex);
    case EX_CANCELLED:
        return -1;
    default:
        return 0;
    }
}

void hcp_exchange_on_http_done(hcp_exchange_t *ex)
{
    if (ex == NULL)
        return;
    ex->is_suspended = false; /* the connection is gone: nothing to resume */
    if (ex->state == EX_WAITING || ex->state == EX_RESOLVING)
        cancel(ex);
    ex->is_http_done = true;
    ex->conn = NULL;
    if (!ex->is_resolving)
        release(ex);
}

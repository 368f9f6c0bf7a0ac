/* One HTTP request's life, from its request line to the end of its answer (exchange.h); the
 * request's reading is exchange_request.c's, the answer's building exchange_answer.c's.
 *
 * libmicrohttpd calls the access handler several times per request: once with the headers, once
 * per piece of body, once more when the body has ended, and again after a resume. The exchange
 * decides on the last of those calls and never queues a response on the first one: libmicrohttpd
 * 0.9.75 closes the connection after a response queued that early.
 *
 * Every path that ends an exchange goes through hcp_exchange_answer() or cancel(), which stop its
 * timer and hang-up watch and cancel its upstream request; the memory goes in release() once
 * libmicrohttpd has completed the request and the loop has closed both handles. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "address.h"
#include "container_of.h"
#include "exchange.h"
#include "exchange_int.h"
#include "front.h"
#include "hcc.h"
#include "hcm.h"
#include "local.h"
#include "log.h"
#include "poolroom.h"
#include "policy.h"
#include "proxy.h"
#include "queue.h"
#include "sockaddr.h"
#include "upstream.h"

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
    hcp_exchange_stream_free(ex);
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

void hcp_exchange_stop_waiting(hcp_exchange_t *ex)
{
    uv_timer_stop(&ex->timer);
    /* Closed now, while libmicrohttpd still owns the fd: once it closes the socket, the number
     * may be reused by another connection that another exchange is watching. A stream going on
     * keeps it: its reader sleeps between notifications (exchange_stream.c), and a handle being
     * closed cannot be started again in the same loop turn. */
    if (ex->has_hangup_watch && !(ex->stream.is_open && !ex->stream.is_over)) {
        ex->has_hangup_watch = false;
        uv_close((uv_handle_t *)&ex->hangup, on_handle_closed);
    }
    if (ex->upreq != NULL) {
        hcp_upstream_cancel(ex->upreq);
        ex->upreq = NULL;
    }
    if (!ex->stream.is_open) /* a stream that opened outlives its first answer */
        hcp_exchange_stream_stop(ex);
    if (ex->is_counted) {
        ex->is_counted = false;
        ex->proxy->metrics.inflight--;
        hcp_queue_remove(&ex->proxy->live, &ex->live);
    }
}

void hcp_exchange_resume(hcp_exchange_t *ex)
{
    if (ex->is_suspended) {
        ex->is_suspended = false;
        hcp_front_resume(ex->proxy->front, ex->conn);
    }
}

/* Ends the exchange with |response|; it is queued on the access handler's next call. */
void hcp_exchange_answer(hcp_exchange_t *ex, struct MHD_Response *response, unsigned status)
{
    bool was_proxied = ex->is_counted; /* in flight until hcp_exchange_stop_waiting() */

    hcp_exchange_stop_waiting(ex);
    ex->response = response;
    ex->status = status;
    ex->state = EX_ANSWERED;
    hcp_exchange_record_answer(ex, was_proxied);
    hcp_exchange_resume(ex);
}

static void cancel(hcp_exchange_t *ex)
{
    hcp_exchange_stop_waiting(ex);
    hcp_exchange_stream_stop(ex);
    ex->state = EX_CANCELLED;
    ex->proxy->metrics.exchanges_cancelled++;
    if (hcp_log_enabled(HCC_LOG_INFO)) {
        char path[2048];
        hcp_log_redact(ex->raw_uri, path, sizeof path);
        hcp_log_field_t fields[] = {
            HCP_LOG_F_STR("request_id", ex->request_id),
            HCP_LOG_F_STR("traceparent", ex->traceparent),
            HCP_LOG_F_STR("client", ex->client),
            HCP_LOG_F_STR("direction", "http_to_coap"),
            HCP_LOG_F_STR("method", ex->method),
            HCP_LOG_F_STR("path", path),
            HCP_LOG_F_MS("latency_ms", (double)(uv_hrtime() - ex->started_ns) / 1e6),
            HCP_LOG_F_STR("outcome", "cancelled"),
        };
        hcp_log_fields(HCC_LOG_INFO, ex->id, fields, HCM_COUNTOF(fields),
                       "%s %s: client went away, exchange cancelled", ex->method, path);
    }
    hcp_exchange_resume(ex);
}

void hcp_exchange_abort_all(hcp_proxy_t *proxy)
{
    hcp_queue_t *live = live_of(proxy);

    while (!hcp_queue_is_empty(live)) {
        hcp_exchange_t *ex = hcp_container_of(live->head.next, hcp_exchange_t, live);
        if (ex->state == EX_WAITING || ex->state == EX_RESOLVING)
            hcp_exchange_answer_error(ex, HCM_ESHUTDOWN); /* unlinks ex */
        else
            hcp_exchange_stop_waiting(ex);
    }
}

/* ---- waiting ----------------------------------------------------------------------------- */

/* Most exchanges end within a loop turn or two; watching the client socket for a hang-up costs
 * three system calls, so it starts only for exchanges still waiting after this long. */
#define HANGUP_WATCH_AFTER_MS 50

static void on_timeout(uv_timer_t *timer)
{
    hcp_exchange_t *ex = hcp_container_of(timer, hcp_exchange_t, timer);
    uint64_t now = uv_now(ex->proxy->loop);

    if (now < ex->deadline_ms) {
        hcp_exchange_watch_hangup(ex);
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

    if (status < 0 || (events & UV_DISCONNECT)) {
        uv_poll_stop(poll); /* once: a stream's watch outlives the cancel (stop_waiting) */
        cancel(ex);
    }
}

void hcp_exchange_watch_hangup(hcp_exchange_t *ex)
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
    if (ex->stream.kind != HCM_STREAM_NONE) {
        hcp_exchange_stream_start(ex, addr);
        return;
    }
    err = hcp_upstream_send(ex->proxy->upstream, addr, &ex->target, &ex->msg, ex->id,
                            on_upstream_done, ex, &ex->upreq);
    if (err < 0)
        hcp_exchange_fail(ex, err);
}

/* 0 when the CoAP server at |sa| (with the target's port) may be reached, else why not: a
 * multicast group or hcproxy's own CoAP listener (policy.c), or outside upstream.allow. */
static int judge_address(const hcp_exchange_t *ex, const struct sockaddr *sa)
{
    int err = hcp_policy_check(ex->proxy, HCP_POLICY_OWN_COAP, sa);

    if (err < 0)
        return err;
    if (!hcc_allows(ex->proxy->cfg, hcm_scheme_name(ex->target.scheme), ex->target.host,
                    sa->sa_family, hcp_sockaddr_ip(sa), ex->target.port, ex->target.path))
        return HCM_EFORBIDDEN;
    return 0;
}

/* hcp_address_judge_cb: judge_address() for an exchange. */
static int judge(const void *ctx, const struct sockaddr *sa)
{
    return judge_address(ctx, sa);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    hcp_exchange_t *ex = hcp_container_of(req, hcp_exchange_t, resolver);

    ex->is_resolving = false;
    if (ex->state == EX_RESOLVING) {
        /* The first address that may be reached; when none may, the reason the first gave. */
        struct sockaddr_storage ss;
        int err = status < 0 ? HCM_ERESOLVE
                             : hcp_address_pick(res, ex->target.port, judge, ex, &ss);

        if (err == 0)
            send_to(ex, (struct sockaddr *)&ss);
        else
            hcp_exchange_answer_error(ex, err);
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
        hcp_exchange_answer_error(ex, HCM_ERESOLVE);
        return;
    }
    ex->is_resolving = true;
}

/* ---- libmicrohttpd's calls ----------------------------------------------------------------- */

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
    hcp_exchange_answer(ex, r, local.status);
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
        err = hcp_exchange_map_request(ex);
    if (err == 0 && ex->proxy->metrics.inflight >= (uint64_t)ex->proxy->cfg->upstream_max_inflight)
        err = HCM_EOVERLOAD;
    if (err == 0 && ex->proxy->closing) /* a kept-alive connection after drain.delay_s */
        err = HCM_ESHUTDOWN;
    if (err == 0 && hcp_sockaddr_literal(ex->target.host, ex->target.port, &ss))
        err = judge_address(ex, (struct sockaddr *)&ss);
    if (err < 0) {
        hcp_exchange_answer_error(ex, err);
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

/* The bytes of libmicrohttpd's pool (http.max_header_bytes) the request line and headers left
 * for the answer's header block (poolroom.h): checked before anything else, since an answer that
 * does not fit is never sent at all. */
static size_t pool_room(hcp_exchange_t *ex, const char *version)
{
    size_t pool = (size_t)ex->proxy->cfg->http_max_header_bytes;
    size_t used = hcp_poolroom_used(ex->conn, ex->method, ex->raw_uri, version);

    return used < pool ? pool - used : 0;
}

int hcp_exchange_on_http(hcp_exchange_t *ex, const char *method, const char *version,
                         const char *upload_data, size_t *upload_data_size)
{
    size_t room;
    int err;

    if (ex->method == NULL) {
        ex->method = method;
        hcp_exchange_identify(ex); /* the answer's X-Request-Id: part of the room it needs */
        room = pool_room(ex, version);
        if (room < hcp_poolroom_answer_need(strlen(ex->request_id))) {
            hcp_front_request_complete(ex->conn);
            return hcp_exchange_answer_no_room(ex, room);
        }
        err = hcp_exchange_check_headers(ex, version);
        if (err < 0 && (err == HCM_ETOOLARGE || hcp_exchange_is_framing_error(err) ||
                        hcp_exchange_declares_body(ex))) {
            /* Refused before any of the body is read; the connection then closes. */
            hcp_front_request_complete(ex->conn);
            hcp_exchange_answer_error(ex, err);
            return hcp_exchange_queue_answer(ex);
        }
        ex->early_error = err; /* without a body: answered later, the connection kept */
        return 0; /* answer later: keeps the connection alive (see the top of this file) */
    }
    if (*upload_data_size > 0) {
        size_t len = *upload_data_size;
        *upload_data_size = 0;
        return hcp_exchange_on_body(ex, upload_data, len);
    }
    switch (ex->state) {
    case EX_HEADERS:
        begin(ex);
        return ex->state == EX_ANSWERED ? hcp_exchange_queue_answer(ex) : 0;
    case EX_ANSWERED:
        return hcp_exchange_queue_answer(ex);
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
    if (ex->state == EX_WAITING || ex->state == EX_RESOLVING) {
        cancel(ex);
    } else if (ex->stream.is_open) { /* the stream's end, or its client's */
        hcp_exchange_stream_stop(ex);
        hcp_exchange_stop_waiting(ex);
    }
    ex->is_http_done = true;
    ex->conn = NULL;
    if (!ex->is_resolving)
        release(ex);
}

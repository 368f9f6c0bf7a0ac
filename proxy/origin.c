/* The HTTP client side of the reverse direction: libcurl's multi-socket interface on the shared
 * loop. Every socket libcurl wants watched gets a uv_poll_t, its one timer is a uv_timer_t, and
 * each event ends in curl_multi_socket_action() and a sweep of finished transfers. libcurl keeps
 * connections to each origin open for reuse. Host names are resolved by the caller
 * (uv_getaddrinfo, then policy) and pinned with CURLOPT_RESOLVE, so libcurl never resolves and
 * never connects anywhere the policy did not see. The one exception is origin.http_proxy: an
 * origin reached through it is neither resolved nor pinned here (the proxy resolves it), and
 * libcurl connects to the configured proxy alone.
 *
 * libcurl is not linked: the first fetch loads it (libcurl.c) on libuv's thread pool, and the
 * fetches asked for meanwhile wait in a queue, started once it is there or failed if it cannot
 * be loaded. An hcproxy that never serves the reverse direction never maps it.
 *
 * A fetch's callback never runs from inside origin.c: a finished fetch goes on a queue, and an
 * idle handle runs the callbacks from the loop once origin.c's own work has returned (as libuv
 * runs its write callbacks). A callback may start or cancel fetches, so none of that reaches
 * origin.c while it is in the middle of libcurl's list of finished transfers. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hcp.h"
#include "libcurl.h"

typedef enum { NOT_LOADED, LOADING, LOADED, LOAD_FAILED } load_state_t;

struct hcp_origin {
    hcp_proxy_t *proxy;
    load_state_t state;   /* the loop's view; the loader thread never writes it */
    /* Written by the loader thread, read on the loop only from on_loaded() on. */
    hcp_libcurl_t api;
    int load_status;      /* 0 or -1 */
    char load_error[256];
    uv_work_t loader;
    hcp_fetch_t *waiting;   /* fetches asked for while libcurl loads, oldest first */
    hcp_fetch_t *completed; /* finished fetches whose callback is still to run, oldest first */
    uv_idle_t completer;    /* active while |completed| holds any */
    CURLM *multi;
    uv_timer_t timer;
    hcp_secret_t proxy_password; /* origin.http_proxy_auth's, read at start; NUL-terminated */
    bool is_closed;       /* hcp_origin_close() has run */
    int open_handles;     /* the timer and the completer; the memory goes at 0 when no load runs */
};

/* One watched socket; libcurl keeps a pointer to it with curl_multi_assign(). */
typedef struct watched_socket {
    hcp_origin_t *origin;
    curl_socket_t fd;
    uv_poll_t poll;
} watched_socket_t;

struct hcp_fetch {
    hcp_origin_t *origin;
    hcp_fetch_t *next;           /* on origin->waiting or origin->completed */
    const hcm_origin_req_t *req; /* the caller's, until on_done or hcp_origin_cancel() */
    char address[64];            /* the numeric address approved for req->host */
    bool is_proxied;             /* through origin.http_proxy, with no address of its own */
    CURL *easy;
    struct curl_slist *headers;
    struct curl_slist *resolve;
    hcp_fetch_done_cb on_done;
    void *data;
    hcp_fetch_result_t result;
    size_t header_bytes;
    size_t body_cap;
    bool is_too_large;
    char error[CURL_ERROR_SIZE]; /* libcurl's own words on a failure, for the log */
};

/* ---- transfers ----------------------------------------------------------------------------- */

static void fetch_free(hcp_fetch_t *f)
{
    const hcp_libcurl_t *api = &f->origin->api;

    for (size_t i = 0; i < f->result.nheaders; i++) {
        free((char *)f->result.headers[i].name);
        free((char *)f->result.headers[i].value);
    }
    free(f->result.body);
    if (f->easy != NULL) { /* else it never reached libcurl, and holds nothing of it */
        api->slist_free_all(f->headers);
        api->slist_free_all(f->resolve);
        api->easy_cleanup(f->easy);
    }
    free(f);
}

static size_t on_body(char *data, size_t size, size_t n, void *cls)
{
    hcp_fetch_t *f = cls;
    size_t len = size * n, need = f->result.body_len + len;

    if (need > (size_t)f->origin->proxy->cfg->origin_max_response_bytes) {
        f->is_too_large = true;
        return 0; /* libcurl aborts the transfer with CURLE_WRITE_ERROR */
    }
    if (need > f->body_cap) {
        size_t cap = f->body_cap ? f->body_cap * 2 : 4096;
        uint8_t *grown;
        while (cap < need)
            cap *= 2;
        if ((grown = realloc(f->result.body, cap)) == NULL)
            return 0;
        f->result.body = grown;
        f->body_cap = cap;
    }
    memcpy(f->result.body + f->result.body_len, data, len);
    f->result.body_len = need;
    return len;
}

static void forget_headers(hcp_fetch_t *f)
{
    for (size_t i = 0; i < f->result.nheaders; i++) {
        free((char *)f->result.headers[i].name);
        free((char *)f->result.headers[i].value);
    }
    f->result.nheaders = 0;
}

/* One header line as libcurl hands them over. A status line starts a new response (after a
 * 100 Continue or an interim answer), so the headers kept are those of the final one. */
static size_t on_header(char *line, size_t size, size_t n, void *cls)
{
    hcp_fetch_t *f = cls;
    size_t len = size * n, name_len;
    const char *colon = memchr(line, ':', len);
    size_t value_start, value_end;

    if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        forget_headers(f);
        return len;
    }
    if (colon == NULL || f->result.nheaders >= HCM_COUNTOF(f->result.headers))
        return len;
    name_len = (size_t)(colon - line);
    value_start = name_len + 1;
    while (value_start < len && (line[value_start] == ' ' || line[value_start] == '\t'))
        value_start++;
    value_end = len;
    while (value_end > value_start && (line[value_end - 1] == '\r' || line[value_end - 1] == '\n' ||
                                       line[value_end - 1] == ' '))
        value_end--;
    f->result.headers[f->result.nheaders].name = strndup(line, name_len);
    f->result.headers[f->result.nheaders].value = strndup(line + value_start, value_end - value_start);
    f->result.nheaders++;
    return len;
}

/* libcurl's outcome as hcproxy's error codes (RFC 7252 s10.1: 5.04 for no answer in time,
 * 5.02 for an answer that could not be had or understood); anything not listed: unreachable. */
static const struct {
    CURLcode code;
    int err;
} curl_errors[] = {
    {CURLE_OPERATION_TIMEDOUT, HCM_ETIMEOUT},
    {CURLE_PEER_FAILED_VERIFICATION, HCM_ETLSVERIFY}, /* CURLE_SSL_CACERT is the same code */
    {CURLE_SSL_CACERT_BADFILE, HCM_ETLSVERIFY},
    {CURLE_SSL_CONNECT_ERROR, HCM_ETLSHANDSHAKE},
    {CURLE_RECV_ERROR, HCM_ERESET},
    {CURLE_GOT_NOTHING, HCM_ERESET},
    {CURLE_WEIRD_SERVER_REPLY, HCM_EBADRESPONSE},
};

/* Through origin.http_proxy every connection libcurl makes is to the proxy: a failure to make one
 * is the proxy's, and a CONNECT it answers with anything but 2xx (RFC 9110 s9.3.6) is a tunnel it
 * refused or could not build, which libcurl reports as a receive error. */
static const struct {
    CURLcode code;
    int err;
} proxy_errors[] = {
    {CURLE_COULDNT_RESOLVE_PROXY, HCM_EPROXYUNREACHABLE},
    {CURLE_COULDNT_CONNECT, HCM_EPROXYUNREACHABLE},
};

static long connect_status(const hcp_fetch_t *f)
{
    long status = 0;

    f->origin->api.easy_getinfo(f->easy, CURLINFO_HTTP_CONNECTCODE, &status);
    return status;
}

/* 407 comes from a proxy alone (RFC 9110 s15.5.8), whether it answers a CONNECT or the
 * absolute-form request of an http origin: the origin never saw the request. So does a 401 to
 * a CONNECT, which some proxies send for credentials they refuse (tinyproxy 1.11); a 401 to an
 * http origin's request may be the origin's own, and is mapped as one. */
static int proxy_error_for(CURLcode code, const hcp_fetch_t *f, long status)
{
    long tunnel = connect_status(f);

    for (size_t i = 0; i < HCM_COUNTOF(proxy_errors); i++)
        if (proxy_errors[i].code == code)
            return proxy_errors[i].err;
    if (tunnel == 407 || tunnel == 401 || (code == CURLE_OK && status == 407))
        return HCM_EPROXYAUTH;
    return tunnel != 0 && (tunnel < 200 || tunnel > 299) ? HCM_EPROXYREFUSED : 0;
}

/* The error of a finished transfer, 0 for an answer to map; |status| is the HTTP status. */
static int error_for(CURLcode code, const hcp_fetch_t *f, long status)
{
    int err;

    if (f->is_too_large)
        return HCM_ERESPTOOLARGE;
    if (f->is_proxied && (err = proxy_error_for(code, f, status)) < 0)
        return err;
    if (code == CURLE_OK)
        return 0;
    for (size_t i = 0; i < HCM_COUNTOF(curl_errors); i++)
        if (curl_errors[i].code == code)
            return curl_errors[i].err;
    return HCM_EUNREACHABLE;
}

static void log_failure(const hcp_fetch_t *f, CURLcode code)
{
    const hcp_libcurl_t *api = &f->origin->api;
    const char *url = NULL, *proxy = f->origin->proxy->cfg->origin_http_proxy;
    char redacted[2048], redacted_proxy[512];

    api->easy_getinfo(f->easy, CURLINFO_EFFECTIVE_URL, &url);
    hcp_log_redact(url, redacted, sizeof redacted); /* a query may carry a secret */
    hcp_log_redact(f->is_proxied ? proxy : "", redacted_proxy, sizeof redacted_proxy);
    hcp_log(HCC_LOG_INFO, 0, "origin %s%s%s: %s", redacted,
            f->is_proxied ? " through " : "", redacted_proxy,
            f->error[0] != '\0' ? f->error : api->easy_strerror(code));
}

/* ---- the fetch lists and the callbacks ----------------------------------------------------- */

static void append(hcp_fetch_t **list, hcp_fetch_t *f)
{
    while (*list != NULL)
        list = &(*list)->next;
    f->next = NULL;
    *list = f;
}

static bool unlink_from(hcp_fetch_t **list, hcp_fetch_t *f)
{
    for (; *list != NULL; list = &(*list)->next)
        if (*list == f) {
            *list = f->next;
            return true;
        }
    return false;
}

/* The callbacks of the finished fetches, oldest first, one at a time off the list: a callback may
 * cancel a fetch still on it. */
static void on_completed(uv_idle_t *idle)
{
    hcp_origin_t *origin = hcp_container_of(idle, hcp_origin_t, completer);
    hcp_fetch_t *f;

    while ((f = origin->completed) != NULL) {
        origin->completed = f->next;
        f->on_done(f->data, &f->result);
        fetch_free(f);
    }
    uv_idle_stop(idle);
}

/* |f| is done, f->result says how: its callback runs from the loop, after this has returned. */
static void complete(hcp_fetch_t *f)
{
    append(&f->origin->completed, f);
    uv_idle_start(&f->origin->completer, on_completed);
}

/* ---- libcurl's finished transfers ---------------------------------------------------------- */

static void sweep_finished(hcp_origin_t *origin)
{
    const hcp_libcurl_t *api = &origin->api;
    CURLMsg *msg;
    int left;

    while ((msg = api->multi_info_read(origin->multi, &left)) != NULL) {
        hcp_fetch_t *f;
        long status = 0;

        if (msg->msg != CURLMSG_DONE)
            continue;
        api->easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&f);
        api->easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
        api->multi_remove_handle(origin->multi, msg->easy_handle);
        f->result.status = (unsigned)status;
        f->result.err = error_for(msg->data.result, f, status);
        if (msg->data.result != CURLE_OK)
            log_failure(f, msg->data.result);
        complete(f);
    }
}

/* ---- libcurl's sockets and timer on the loop ----------------------------------------------- */

/* libuv reports a socket error (POLLERR: a reset, a refused connect) as status UV_EBADF with no
 * events, and stops the poll. That goes to libcurl as 0, "events unknown": it looks at the socket
 * itself and meets the error where it knows what it means. A kept-alive connection the origin or
 * the egress proxy closed just as it was reused fails the read, and libcurl sends the request
 * again on a new connection (RFC 9112 s9.3.1) and says CURL_POLL_REMOVE for the old one.
 * CURL_CSELECT_ERR alone would end the transfer, "select/poll returned error", nothing retried. */
static void on_socket_event(uv_poll_t *poll, int status, int events)
{
    watched_socket_t *w = hcp_container_of(poll, watched_socket_t, poll);
    hcp_origin_t *origin = w->origin;
    int flags = 0, running;

    if (status == 0 && (events & UV_READABLE))
        flags |= CURL_CSELECT_IN;
    if (status == 0 && (events & UV_WRITABLE))
        flags |= CURL_CSELECT_OUT;
    origin->api.multi_socket_action(origin->multi, w->fd, flags, &running);
    sweep_finished(origin);
}

static void on_socket_closed(uv_handle_t *handle)
{
    free(handle->data);
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *cls, void *socket_cls)
{
    hcp_origin_t *origin = cls;
    watched_socket_t *w = socket_cls;
    int events = 0;

    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (w != NULL) {
            uv_poll_stop(&w->poll);
            uv_close((uv_handle_t *)&w->poll, on_socket_closed);
            origin->api.multi_assign(origin->multi, fd, NULL);
        }
        return 0;
    }
    if (w == NULL) {
        if ((w = calloc(1, sizeof *w)) == NULL)
            return -1;
        w->origin = origin;
        w->fd = fd;
        w->poll.data = w;
        /* A failed init leaves no handle to start. (A number libcurl reuses is free: the old
         * socket's poll was stopped at its CURL_POLL_REMOVE, and a stopped poll's fd is out of
         * libuv's epoll set and table at once, though the handle is still closing.) */
        if (uv_poll_init_socket(origin->proxy->loop, &w->poll, fd) < 0) {
            free(w);
            return -1; /* libcurl fails the transfers (CURLMOPT_SOCKETFUNCTION) */
        }
        origin->api.multi_assign(origin->multi, fd, w);
    }
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    uv_poll_start(&w->poll, events, on_socket_event);
    return 0;
}

static void on_timer(uv_timer_t *timer)
{
    hcp_origin_t *origin = hcp_container_of(timer, hcp_origin_t, timer);
    int running;

    origin->api.multi_socket_action(origin->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    sweep_finished(origin);
}

static int on_timer_change(CURLM *multi, long timeout_ms, void *cls)
{
    hcp_origin_t *origin = cls;

    (void)multi;
    if (timeout_ms < 0)
        uv_timer_stop(&origin->timer);
    else
        uv_timer_start(&origin->timer, on_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

/* ---- starting a transfer -------------------------------------------------------------------- */

/* curl_easy_setopt() is variadic, and reached through a pointer it checks nothing (curl's
 * typecheck-gcc.h wraps only the linked name). curl.h numbers each option by the type of value
 * it takes (CURLOPTTYPE_*, 10000 apart), so each type gets a setter whose parameter converts the
 * value, and a compile-time check that the option takes that type. */
#define TAKES(opt, type) ((opt) / 10000 * 10000 == CURLOPTTYPE_##type)
#define set_long(f, opt, v)                                                                       \
    do {                                                                                          \
        _Static_assert(TAKES(opt, LONG), #opt " takes no long");                                  \
        easy_long(f, opt, v);                                                                     \
    } while (0)
#define set_pointer(f, opt, v)                                                                    \
    do {                                                                                          \
        _Static_assert(TAKES(opt, OBJECTPOINT), #opt " takes no pointer");                        \
        easy_pointer(f, opt, v);                                                                  \
    } while (0)
#define set_writer(f, opt, v)                                                                     \
    do {                                                                                          \
        _Static_assert(TAKES(opt, FUNCTIONPOINT), #opt " takes no function");                     \
        easy_writer(f, opt, v);                                                                   \
    } while (0)
#define set_size(f, opt, v)                                                                       \
    do {                                                                                          \
        _Static_assert(TAKES(opt, OFF_T), #opt " takes no curl_off_t");                           \
        easy_size(f, opt, v);                                                                     \
    } while (0)

static void easy_long(hcp_fetch_t *f, CURLoption opt, long v)
{
    f->origin->api.easy_setopt(f->easy, opt, v);
}

static void easy_pointer(hcp_fetch_t *f, CURLoption opt, const void *v)
{
    f->origin->api.easy_setopt(f->easy, opt, v);
}

static void easy_writer(hcp_fetch_t *f, CURLoption opt, curl_write_callback v)
{
    f->origin->api.easy_setopt(f->easy, opt, v);
}

static void easy_size(hcp_fetch_t *f, CURLoption opt, curl_off_t v)
{
    f->origin->api.easy_setopt(f->easy, opt, v);
}

/* RFC 9110 s9.2.2: the idempotent methods among those the reverse direction sends (it never sends
 * OPTIONS or TRACE). */
static bool is_idempotent(const char *method)
{
    static const char *const idempotent[] = {"GET", "HEAD", "PUT", "DELETE"};

    for (size_t i = 0; i < HCM_COUNTOF(idempotent); i++)
        if (strcmp(method, idempotent[i]) == 0)
            return true;
    return false;
}

static bool has_header(const hcm_origin_req_t *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return true;
    return false;
}

static int add_header_lines(hcp_fetch_t *f, const hcm_origin_req_t *req)
{
    const hcp_libcurl_t *api = &f->origin->api;
    char line[1024];

    for (size_t i = 0; i < req->nheaders; i++) {
        snprintf(line, sizeof line, "%s: %s", req->headers[i].name, req->headers[i].value);
        if ((f->headers = api->slist_append(f->headers, line)) == NULL)
            return -1;
    }
    /* No "Expect: 100-continue" round trip: the whole body is already here. */
    f->headers = api->slist_append(f->headers, "Expect:");
    /* A body the device sent without Content-Format goes without Content-Type: libcurl would
     * otherwise call it application/x-www-form-urlencoded, a type nobody gave it. */
    if (f->headers != NULL && !has_header(req, "Content-Type"))
        f->headers = api->slist_append(f->headers, "Content-Type:");
    return f->headers != NULL ? 0 : -1;
}

/* libcurl reads http_proxy, https_proxy, ALL_PROXY and NO_PROXY from the environment when
 * CURLOPT_PROXY is not set, and "" is its documented way to say "no proxy, whatever they say".
 * A proxied origin goes to origin.http_proxy alone: hcproxy applied origin.no_proxy already, so
 * CURLOPT_NOPROXY "" keeps NO_PROXY out of it too. https goes through a CONNECT tunnel with TLS
 * to the origin inside it; http as an absolute-form request (RFC 9112 s3.2.2) the proxy forwards,
 * the way proxies that CONNECT only to port 443 still carry it. */
static void set_proxy(hcp_fetch_t *f, const hcm_origin_req_t *req)
{
    if (!f->is_proxied) {
        set_pointer(f, CURLOPT_PROXY, "");
        return;
    }
    set_pointer(f, CURLOPT_PROXY, f->origin->proxy->cfg->origin_http_proxy);
    set_long(f, CURLOPT_PROXYTYPE, (long)CURLPROXY_HTTP);
    set_pointer(f, CURLOPT_NOPROXY, "");
    set_long(f, CURLOPT_HTTPPROXYTUNNEL, strcmp(req->scheme, "https") == 0);
    if (f->origin->proxy_password.bytes != NULL) {
        set_pointer(f, CURLOPT_PROXYUSERNAME, f->origin->proxy->cfg->http_proxy_auth.identity);
        set_pointer(f, CURLOPT_PROXYPASSWORD, (const char *)f->origin->proxy_password.bytes);
        set_long(f, CURLOPT_PROXYAUTH, (long)CURLAUTH_BASIC);
    }
}

static void set_options(hcp_fetch_t *f, const hcm_origin_req_t *req)
{
    const hcc_config_t *cfg = f->origin->proxy->cfg;

    set_pointer(f, CURLOPT_URL, req->url);
    set_pointer(f, CURLOPT_PRIVATE, f);
    set_pointer(f, CURLOPT_ERRORBUFFER, f->error);
    set_long(f, CURLOPT_NOSIGNAL, 1);
    set_pointer(f, CURLOPT_PROTOCOLS_STR, "http,https");
    set_long(f, CURLOPT_FOLLOWLOCATION, 0); /* redirects are policy, not libcurl's */
    set_long(f, CURLOPT_TIMEOUT_MS, cfg->origin_timeout_ms);
    set_long(f, CURLOPT_CONNECTTIMEOUT_MS, cfg->origin_connect_timeout_ms);
    set_long(f, CURLOPT_SSL_VERIFYPEER, cfg->origin_verify_tls ? 1 : 0);
    set_long(f, CURLOPT_SSL_VERIFYHOST, cfg->origin_verify_tls ? 2 : 0);
    if (cfg->origin_ca_file[0] != '\0')
        set_pointer(f, CURLOPT_CAINFO, cfg->origin_ca_file);
    set_writer(f, CURLOPT_WRITEFUNCTION, on_body);
    set_pointer(f, CURLOPT_WRITEDATA, f);
    set_writer(f, CURLOPT_HEADERFUNCTION, on_header);
    set_pointer(f, CURLOPT_HEADERDATA, f);
    set_pointer(f, CURLOPT_HTTPHEADER, f->headers);
    set_pointer(f, CURLOPT_RESOLVE, f->resolve);
    set_proxy(f, req);
    /* RFC 9110 s9.2.2: a proxy MUST NOT retry a non-idempotent request by itself. libcurl sends a
     * request again on a new connection when the kept-alive one it reused fails before any
     * answer, which the origin may have acted on; so POST and PATCH take a new connection. */
    set_long(f, CURLOPT_FRESH_CONNECT, is_idempotent(req->method) ? 0 : 1);
    if (strcmp(req->method, "GET") == 0) {
        set_long(f, CURLOPT_HTTPGET, 1);
    } else {
        set_pointer(f, CURLOPT_CUSTOMREQUEST, req->method);
        if (req->body.len > 0 || strcmp(req->method, "DELETE") != 0) {
            set_size(f, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body.len);
            set_pointer(f, CURLOPT_POSTFIELDS, req->body.len ? (const char *)req->body.p : "");
        }
    }
}

/* CURLOPT_RESOLVE "host:port:address": the address the policy approved, nothing else. A proxied
 * origin has none: libcurl never connects to it. */
static int pin_address(hcp_fetch_t *f, const hcm_origin_req_t *req)
{
    char entry[512];
    bool is_v6 = strchr(f->address, ':') != NULL;

    if (f->is_proxied)
        return 0;
    snprintf(entry, sizeof entry, "%s:%u:%s%s%s", req->host, req->port, is_v6 ? "[" : "",
             f->address, is_v6 ? "]" : "");
    f->resolve = f->origin->api.slist_append(NULL, entry);
    return f->resolve != NULL ? 0 : -1;
}

/* Hands |f| to libcurl, which must be LOADED. 0 or HCM_EINTERNAL; |f| stays the caller's. */
static int start_fetch(hcp_fetch_t *f)
{
    const hcp_libcurl_t *api = &f->origin->api;

    f->easy = api->easy_init();
    if (f->easy == NULL || add_header_lines(f, f->req) < 0 || pin_address(f, f->req) < 0)
        return HCM_EINTERNAL;
    set_options(f, f->req);
    if (api->multi_add_handle(f->origin->multi, f->easy) != CURLM_OK)
        return HCM_EINTERNAL;
    return 0;
}

/* ---- loading libcurl ------------------------------------------------------------------------ */

static void free_origin(hcp_origin_t *origin)
{
    hcp_secret_free(&origin->proxy_password);
    if (origin->state == LOADED) {
        if (origin->multi != NULL)
            origin->api.multi_cleanup(origin->multi);
        origin->api.global_cleanup();
    }
    free(origin);
}

/* On the thread pool: dlopen() reads files and relocates, so it stays off the loop. */
static void on_load_work(uv_work_t *work)
{
    hcp_origin_t *origin = hcp_container_of(work, hcp_origin_t, loader);

    origin->load_status =
        hcp_libcurl_load(&origin->api, origin->load_error, sizeof origin->load_error);
}

static int make_multi(hcp_origin_t *origin)
{
    const hcp_libcurl_t *api = &origin->api;
    CURLM *m = api->multi_init();
    /* The call is variadic: each value is given exactly the type its option takes, the
     * callbacks through typed variables so that a wrong signature does not compile. */
    curl_socket_callback socket_cb = on_socket;
    curl_multi_timer_callback timer_cb = on_timer_change;

    if (m == NULL)
        return -1;
    api->multi_setopt(m, CURLMOPT_SOCKETFUNCTION, socket_cb);
    api->multi_setopt(m, CURLMOPT_SOCKETDATA, (void *)origin);
    api->multi_setopt(m, CURLMOPT_TIMERFUNCTION, timer_cb);
    api->multi_setopt(m, CURLMOPT_TIMERDATA, (void *)origin);
    api->multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                      (long)origin->proxy->cfg->origin_max_connections);
    /* Without it, requests to one origin that never answers take every connection, and the
     * requests of every other client to every other origin wait behind them until they time
     * out. libcurl counts a proxied http origin's connections as the egress proxy's. */
    api->multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS,
                      (long)origin->proxy->cfg->origin_max_connections_per_origin);
    origin->multi = m;
    return 0;
}

/* The outcome of the load, on the loop. */
static void settle_load(hcp_origin_t *origin, int status)
{
    if (status < 0) /* uv_cancel() at shutdown: the loader never ran */
        snprintf(origin->load_error, sizeof origin->load_error, "%s", uv_strerror(status));
    origin->state = status == 0 && origin->load_status == 0 ? LOADED : LOAD_FAILED;
    if (origin->state == LOADED && !origin->is_closed && make_multi(origin) < 0) {
        origin->api.global_cleanup();
        origin->state = LOAD_FAILED;
        snprintf(origin->load_error, sizeof origin->load_error, "curl_multi_init() failed");
    }
    if (origin->state == LOAD_FAILED && status == 0)
        hcp_log(HCC_LOG_ERROR, 0, "the reverse direction has no HTTP client: %s",
                origin->load_error);
}

/* Back on the loop: start the fetches that waited, or fail each of them once. */
static void on_loaded(uv_work_t *work, int status)
{
    hcp_origin_t *origin = hcp_container_of(work, hcp_origin_t, loader);
    hcp_fetch_t *f;

    settle_load(origin, status);
    if (origin->is_closed) {
        assert(origin->waiting == NULL); /* hcp_reverse_stop() cancelled them */
        if (origin->open_handles == 0)
            free_origin(origin);
        return;
    }
    while ((f = origin->waiting) != NULL) {
        int err;

        origin->waiting = f->next;
        err = origin->state == LOADED ? start_fetch(f) : HCM_ENOHTTPCLIENT;
        if (err < 0) {
            f->result.err = err;
            complete(f);
        }
    }
}

static int begin_loading(hcp_origin_t *origin)
{
    int err = uv_queue_work(origin->proxy->loop, &origin->loader, on_load_work, on_loaded);

    if (err < 0) {
        hcp_log(HCC_LOG_ERROR, 0, "cannot load libcurl: %s", uv_strerror(err));
        return HCM_EINTERNAL;
    }
    origin->state = LOADING;
    hcp_log(HCC_LOG_INFO, 0, "loading %s for the reverse direction", HCP_LIBCURL_SONAME);
    return 0;
}

/* ---- the interface -------------------------------------------------------------------------- */

int hcp_origin_fetch(hcp_origin_t *origin, const hcm_origin_req_t *req, const char *address,
                     hcp_fetch_done_cb on_done, void *data, hcp_fetch_t **out)
{
    hcp_fetch_t *f;
    int err;

    if (origin->state == LOAD_FAILED)
        return HCM_ENOHTTPCLIENT;
    if (origin->state == NOT_LOADED && (err = begin_loading(origin)) < 0)
        return err;
    if ((f = calloc(1, sizeof *f)) == NULL)
        return HCM_EINTERNAL;
    f->origin = origin;
    f->req = req;
    f->is_proxied = address == NULL;
    snprintf(f->address, sizeof f->address, "%s", address != NULL ? address : "");
    f->on_done = on_done;
    f->data = data;
    if (origin->state == LOADING) {
        append(&origin->waiting, f);
    } else if ((err = start_fetch(f)) < 0) {
        fetch_free(f);
        return err;
    }
    *out = f;
    return 0;
}

void hcp_origin_cancel(hcp_fetch_t *f)
{
    hcp_origin_t *origin = f->origin;

    /* Done and waiting for its callback, the easy handle already out of the multi handle. */
    if (!unlink_from(&origin->waiting, f) && !unlink_from(&origin->completed, f))
        origin->api.multi_remove_handle(origin->multi, f->easy);
    fetch_free(f);
}

/* ---- life ----------------------------------------------------------------------------------- */

/* origin.http_proxy_auth's password, without the line end a file made by echo ends in (RFC 7617
 * s2: a password holds no control character). */
static int read_proxy_password(hcp_origin_t *origin)
{
    const hcc_server_psk_t *auth = &origin->proxy->cfg->http_proxy_auth;
    hcp_secret_t *s = &origin->proxy_password;
    int err = hcp_secret_read(auth->key_env, auth->key_file, "origin.http_proxy_auth", s);

    while (err == 0 && s->len > 0 && (s->bytes[s->len - 1] == '\n' || s->bytes[s->len - 1] == '\r'))
        s->bytes[--s->len] = '\0';
    return err;
}

int hcp_origin_new(hcp_proxy_t *proxy, hcp_origin_t **out)
{
    hcp_origin_t *origin = calloc(1, sizeof *origin);
    int err;

    if (origin == NULL)
        return UV_ENOMEM;
    origin->proxy = proxy;
    if ((err = read_proxy_password(origin)) < 0) {
        free(origin);
        return err;
    }
    origin->state = NOT_LOADED;
    uv_timer_init(proxy->loop, &origin->timer);
    origin->timer.data = origin;
    uv_idle_init(proxy->loop, &origin->completer);
    origin->completer.data = origin;
    origin->open_handles = 2;
    *out = origin;
    return 0;
}

static void on_closed(uv_handle_t *handle)
{
    hcp_origin_t *origin = handle->data;

    if (--origin->open_handles == 0 && origin->state != LOADING) /* else on_loaded() frees */
        free_origin(origin);
}

void hcp_origin_close(hcp_origin_t *origin)
{
    origin->is_closed = true;
    if (origin->state == LOADING)
        uv_cancel((uv_req_t *)&origin->loader); /* on_loaded() follows, with UV_ECANCELED */
    assert(origin->completed == NULL); /* hcp_reverse_stop() cancelled them */
    uv_close((uv_handle_t *)&origin->timer, on_closed);
    uv_close((uv_handle_t *)&origin->completer, on_closed);
}

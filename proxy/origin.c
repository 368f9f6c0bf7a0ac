/* The HTTP client side of the reverse direction: libcurl's multi-socket interface on the shared
 * loop. Every socket libcurl wants watched gets a uv_poll_t, its one timer is a uv_timer_t, and
 * each event ends in curl_multi_socket_action() and a sweep of finished transfers. libcurl keeps
 * connections to each origin open for reuse. Host names are resolved by the caller
 * (uv_getaddrinfo, then policy) and pinned with CURLOPT_RESOLVE, so libcurl never resolves and
 * never connects anywhere the policy did not see. */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "hcp.h"

struct hcp_origin {
    hcp_proxy_t *proxy;
    CURLM *multi;
    uv_timer_t timer;
    int open_handles;
};

/* One watched socket; libcurl keeps a pointer to it with curl_multi_assign(). */
typedef struct watched_socket {
    hcp_origin_t *origin;
    curl_socket_t fd;
    uv_poll_t poll;
} watched_socket_t;

struct hcp_fetch {
    hcp_origin_t *origin;
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
    for (size_t i = 0; i < f->result.nheaders; i++) {
        free((char *)f->result.headers[i].name);
        free((char *)f->result.headers[i].value);
    }
    free(f->result.body);
    curl_slist_free_all(f->headers);
    curl_slist_free_all(f->resolve);
    curl_easy_cleanup(f->easy);
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

static int error_for(CURLcode code, const hcp_fetch_t *f)
{
    if (f->is_too_large)
        return HCM_ERESPTOOLARGE;
    for (size_t i = 0; i < HCM_COUNTOF(curl_errors); i++)
        if (curl_errors[i].code == code)
            return curl_errors[i].err;
    return HCM_EUNREACHABLE;
}

static void log_failure(const hcp_fetch_t *f, CURLcode code)
{
    const char *url = NULL;

    curl_easy_getinfo(f->easy, CURLINFO_EFFECTIVE_URL, &url);
    hcp_log(HCC_LOG_INFO, NULL, "origin %s: %s", url ? url : "-",
            f->error[0] != '\0' ? f->error : curl_easy_strerror(code));
}

static void sweep_finished(hcp_origin_t *origin)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(origin->multi, &left)) != NULL) {
        hcp_fetch_t *f;
        long status = 0;

        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&f);
        curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
        curl_multi_remove_handle(origin->multi, msg->easy_handle);
        f->result.status = (unsigned)status;
        f->result.err = msg->data.result == CURLE_OK ? 0 : error_for(msg->data.result, f);
        if (msg->data.result != CURLE_OK)
            log_failure(f, msg->data.result);
        f->on_done(f->data, &f->result);
        fetch_free(f);
    }
}

/* ---- libcurl's sockets and timer on the loop ----------------------------------------------- */

static void on_socket_event(uv_poll_t *poll, int status, int events)
{
    watched_socket_t *w = hcp_container_of(poll, watched_socket_t, poll);
    hcp_origin_t *origin = w->origin;
    int flags = 0, running;

    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    curl_multi_socket_action(origin->multi, w->fd, flags, &running);
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
            curl_multi_assign(origin->multi, fd, NULL);
        }
        return 0;
    }
    if (w == NULL) {
        if ((w = calloc(1, sizeof *w)) == NULL)
            return -1;
        w->origin = origin;
        w->fd = fd;
        w->poll.data = w;
        uv_poll_init_socket(origin->proxy->loop, &w->poll, fd);
        curl_multi_assign(origin->multi, fd, w);
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

    curl_multi_socket_action(origin->multi, CURL_SOCKET_TIMEOUT, 0, &running);
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

static int add_header_lines(hcp_fetch_t *f, const hcm_origin_req_t *req)
{
    char line[1024];

    for (size_t i = 0; i < req->nheaders; i++) {
        snprintf(line, sizeof line, "%s: %s", req->headers[i].name, req->headers[i].value);
        if ((f->headers = curl_slist_append(f->headers, line)) == NULL)
            return -1;
    }
    /* No "Expect: 100-continue" round trip: the whole body is already here. */
    f->headers = curl_slist_append(f->headers, "Expect:");
    return f->headers != NULL ? 0 : -1;
}

static void set_options(hcp_fetch_t *f, const hcm_origin_req_t *req)
{
    const hcc_config_t *cfg = f->origin->proxy->cfg;
    CURL *e = f->easy;

    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, f);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, f->error);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L); /* redirects are policy, not libcurl's */
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)cfg->origin_timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)cfg->origin_connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, cfg->origin_verify_tls ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, cfg->origin_verify_tls ? 2L : 0L);
    if (cfg->origin_ca_file[0] != '\0')
        curl_easy_setopt(e, CURLOPT_CAINFO, cfg->origin_ca_file);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, f);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, f->headers);
    curl_easy_setopt(e, CURLOPT_RESOLVE, f->resolve);
    if (strcmp(req->method, "GET") == 0) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
        if (req->body.len > 0 || strcmp(req->method, "DELETE") != 0) {
            curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body.len);
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body.len ? (const char *)req->body.p : "");
        }
    }
}

/* CURLOPT_RESOLVE "host:port:address": the address the policy approved, nothing else. */
static int pin_address(hcp_fetch_t *f, const hcm_origin_req_t *req, const char *address)
{
    char entry[512];
    bool is_v6 = strchr(address, ':') != NULL;

    snprintf(entry, sizeof entry, "%s:%u:%s%s%s", req->host, req->port, is_v6 ? "[" : "",
             address, is_v6 ? "]" : "");
    f->resolve = curl_slist_append(NULL, entry);
    return f->resolve != NULL ? 0 : -1;
}

int hcp_origin_fetch(hcp_origin_t *origin, const hcm_origin_req_t *req, const char *address,
                     hcp_fetch_done_cb on_done, void *data, hcp_fetch_t **out)
{
    hcp_fetch_t *f = calloc(1, sizeof *f);

    if (f == NULL)
        return HCM_EINTERNAL;
    f->origin = origin;
    f->on_done = on_done;
    f->data = data;
    f->easy = curl_easy_init();
    if (f->easy == NULL || add_header_lines(f, req) < 0 || pin_address(f, req, address) < 0) {
        fetch_free(f);
        return HCM_EINTERNAL;
    }
    set_options(f, req);
    if (curl_multi_add_handle(origin->multi, f->easy) != CURLM_OK) {
        fetch_free(f);
        return HCM_EINTERNAL;
    }
    *out = f;
    return 0;
}

void hcp_origin_cancel(hcp_fetch_t *f)
{
    curl_multi_remove_handle(f->origin->multi, f->easy);
    fetch_free(f);
}

/* ---- life ----------------------------------------------------------------------------------- */

int hcp_origin_new(hcp_proxy_t *proxy, hcp_origin_t **out)
{
    hcp_origin_t *origin = calloc(1, sizeof *origin);

    if (origin == NULL)
        return UV_ENOMEM;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
        (origin->multi = curl_multi_init()) == NULL) {
        free(origin);
        return UV_ENOMEM;
    }
    origin->proxy = proxy;
    curl_multi_setopt(origin->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(origin->multi, CURLMOPT_SOCKETDATA, origin);
    curl_multi_setopt(origin->multi, CURLMOPT_TIMERFUNCTION, on_timer_change);
    curl_multi_setopt(origin->multi, CURLMOPT_TIMERDATA, origin);
    curl_multi_setopt(origin->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                      (long)proxy->cfg->origin_max_connections);
    uv_timer_init(proxy->loop, &origin->timer);
    origin->open_handles = 1;
    *out = origin;
    return 0;
}

static void on_closed(uv_handle_t *handle)
{
    hcp_origin_t *origin = handle->data;

    curl_multi_cleanup(origin->multi);
    curl_global_cleanup();
    free(origin);
}

void hcp_origin_close(hcp_origin_t *origin)
{
    origin->timer.data = origin;
    uv_close((uv_handle_t *)&origin->timer, on_closed);
}

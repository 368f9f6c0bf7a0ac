/* One transfer of the reverse direction's HTTP client (origin.h): its easy handle built from the
 * request (headers, options, the approved address pinned with CURLOPT_RESOLVE), the answer
 * gathered as libcurl hands it over, and libcurl's outcome turned into hcproxy's error codes. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hcc.h"
#include "hcm.h"
#include "libcurl.h"
#include "log.h"
#include "origin_int.h"
#include "proxy.h"

/* ---- the answer ----------------------------------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t n, void *cls)
{
    hcp_origin_fetch_t *f = cls;
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

static void forget_headers(hcp_origin_fetch_t *f)
{
    for (size_t i = 0; i < f->result.nheaders; i++) {
        free((char *)f->result.headers[i].name);
        free((char *)f->result.headers[i].value);
    }
    f->result.nheaders = 0;
}

void hcp_origin_easy_free(hcp_origin_fetch_t *f)
{
    const hcp_libcurl_t *api = &f->origin->api;

    forget_headers(f);
    free(f->result.body);
    if (f->easy != NULL) { /* else it never reached libcurl, and holds nothing of it */
        api->slist_free_all(f->headers);
        api->slist_free_all(f->resolve);
        api->easy_cleanup(f->easy);
    }
    free(f);
}

/* One header line as libcurl hands them over. A status line starts a new response (after a
 * 100 Continue or an interim answer), so the headers kept are those of the final one. */
static size_t on_header(char *line, size_t size, size_t n, void *cls)
{
    hcp_origin_fetch_t *f = cls;
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

static long connect_status(const hcp_origin_fetch_t *f)
{
    long status = 0;

    f->origin->api.easy_getinfo(f->easy, CURLINFO_HTTP_CONNECTCODE, &status);
    return status;
}

/* 407 comes from a proxy alone (RFC 9110 s15.5.8), whether it answers a CONNECT or the
 * absolute-form request of an http origin: the origin never saw the request. So does a 401 to
 * a CONNECT, which some proxies send for credentials they refuse (tinyproxy 1.11); a 401 to an
 * http origin's request may be the origin's own, and is mapped as one. */
static int proxy_error_for(CURLcode code, const hcp_origin_fetch_t *f, long status)
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
static int error_for(CURLcode code, const hcp_origin_fetch_t *f, long status)
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

static void log_failure(const hcp_origin_fetch_t *f, CURLcode code)
{
    const hcp_libcurl_t *api = &f->origin->api;
    const char *url = NULL, *proxy = f->origin->proxy->cfg->origin_http_proxy;
    char redacted[2048], redacted_proxy[512];

    api->easy_getinfo(f->easy, CURLINFO_EFFECTIVE_URL, &url);
    hcp_log_redact(url, redacted, sizeof redacted); /* a query may carry a secret */
    hcp_log_redact(f->is_proxied ? proxy : "", redacted_proxy, sizeof redacted_proxy);
    hcp_log(HCC_LOG_INFO, f->exchange, "origin %s%s%s: %s", redacted,
            f->is_proxied ? " through " : "", redacted_proxy,
            f->error[0] != '\0' ? f->error : api->easy_strerror(code));
}
void hcp_origin_easy_finish(hcp_origin_fetch_t *f, CURLcode code, long status)
{
    f->result.status = (unsigned)status;
    f->result.err = error_for(code, f, status);
    if (code != CURLE_OK)
        log_failure(f, code);
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

static void easy_long(hcp_origin_fetch_t *f, CURLoption opt, long v)
{
    f->origin->api.easy_setopt(f->easy, opt, v);
}

static void easy_pointer(hcp_origin_fetch_t *f, CURLoption opt, const void *v)
{
    f->origin->api.easy_setopt(f->easy, opt, v);
}

static void easy_writer(hcp_origin_fetch_t *f, CURLoption opt, curl_write_callback v)
{
    f->origin->api.easy_setopt(f->easy, opt, v);
}

static void easy_size(hcp_origin_fetch_t *f, CURLoption opt, curl_off_t v)
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

static int add_header_lines(hcp_origin_fetch_t *f, const hcm_origin_req_t *req)
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
static void set_proxy(hcp_origin_fetch_t *f, const hcm_origin_req_t *req)
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

static void set_options(hcp_origin_fetch_t *f, const hcm_origin_req_t *req)
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
static int pin_address(hcp_origin_fetch_t *f, const hcm_origin_req_t *req)
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

int hcp_origin_easy_start(hcp_origin_fetch_t *f)
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

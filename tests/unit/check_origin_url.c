/* The origin URL of hcm_coap_to_origin() (mapping/origin_url.c): Proxy-Uri, Proxy-Scheme with the
 * Uri-* options, reverse routes (RFC 7252 s5.10.2, s6.5, s10.1). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "hcm.h"
#include "run_suite.h"

#define ARENA_SIZE 2048
#define MAX_OPTS 8

/* Option numbers typed from RFC 7252 s12.2 Table 7, not taken from hcm.h. */
#define URI_HOST(s) OPT(3, s)
#define URI_PORT(s) OPT(7, s) /* uint bytes */
#define URI_PATH(s) OPT(11, s)
#define URI_QUERY(s) OPT(15, s)
#define PROXY_URI(s) OPT(35, s)
#define PROXY_SCHEME(s) OPT(39, s)

typedef struct row {
    opt_t opts[MAX_OPTS];
    const char *route_base; /* a reverse route, or NULL */
    size_t route_skip;
    const char *url; /* what the origin is asked for */
    const char *scheme;
    const char *host;
    unsigned port;
    const char *path; /* the URL's path, where a row shows it (origin.allow's rules read it) */
    int err;
} row_t;

static const row_t rows[] = {
    /* ---- Proxy-Uri (RFC 7252 s5.10.2): an absolute http or https URI ---- */
    /* The Proxy-Uri of RFC 8613 s11.6, as in the Appendix C.4 request sent to an HTTP origin. */
    { .opts = { PROXY_URI("http://origin.example/") }, .url = "http://origin.example/",
      .scheme = "http", .host = "origin.example", .port = 80 },
    /* RFC 9112 s3.2.1: an empty path is "/". */
    { .opts = { PROXY_URI("http://origin.example") }, .url = "http://origin.example/",
      .scheme = "http", .host = "origin.example", .port = 80 },
    /* RFC 3986 s6.2.2.1, s6.2.3: scheme and host in lower case, the default port left out; path
     * and query go on as written. */
    { .opts = { PROXY_URI("HTTP://Origin.EXAMPLE:80/A/b?X=1&y") },
      .url = "http://origin.example/A/b?X=1&y", .scheme = "http", .host = "origin.example",
      .port = 80, .path = "/A/b" },
    { .opts = { PROXY_URI("https://h.example:443/") }, .url = "https://h.example/",
      .scheme = "https", .host = "h.example", .port = 443 },
    { .opts = { PROXY_URI("https://h.example:8443/p") }, .url = "https://h.example:8443/p",
      .scheme = "https", .host = "h.example", .port = 8443 },
    /* 443 is not http's default. */
    { .opts = { PROXY_URI("http://h.example:443/") }, .url = "http://h.example:443/",
      .scheme = "http", .host = "h.example", .port = 443 },
    { .opts = { PROXY_URI("http://127.0.0.1:8080/hello") }, .url = "http://127.0.0.1:8080/hello",
      .scheme = "http", .host = "127.0.0.1", .port = 8080 },
    /* RFC 3986 s3.2.2: an IPv6 literal keeps its brackets in the URL, not in the host. */
    { .opts = { PROXY_URI("http://[2001:DB8::1]:8080/x") }, .url = "http://[2001:db8::1]:8080/x",
      .scheme = "http", .host = "2001:db8::1", .port = 8080 },
    { .opts = { PROXY_URI("http://h.example?q") }, .url = "http://h.example/?q", .scheme = "http",
      .host = "h.example", .port = 80, .path = "/" },
    /* RFC 3986 s3.2.3: an empty port is the default. */
    { .opts = { PROXY_URI("http://h.example:/p") }, .url = "http://h.example/p",
      .scheme = "http", .host = "h.example", .port = 80 },
    /* The host is percent-decoded once (for the resolver), and unreserved characters need no
     * encoding (RFC 3986 s6.2.2.2). */
    { .opts = { PROXY_URI("http://%41b.Example/") }, .url = "http://ab.example/",
      .scheme = "http", .host = "ab.example", .port = 80 },
    /* The path keeps its encodings: decoding %2F would change the segments. */
    { .opts = { PROXY_URI("http://h.example/a%2Fb/%7e;p?q=%26") },
      .url = "http://h.example/a%2Fb/%7e;p?q=%26", .scheme = "http", .host = "h.example",
      .port = 80, .path = "/a%2Fb/%7e;p" },
    /* Not http or https: 5.05 Proxying Not Supported (RFC 7252 s5.7.2, s10.1). */
    { .opts = { PROXY_URI("ftp://h.example/") }, .err = HCM_ETRANSPORT },
    { .opts = { PROXY_URI("coap://h.example/") }, .err = HCM_ETRANSPORT },
    { .opts = { PROXY_URI("coaps://h.example/") }, .err = HCM_ETRANSPORT },
    { .opts = { PROXY_URI("httpx://h.example/") }, .err = HCM_ETRANSPORT },
    /* Malformed: 4.00. */
    { .opts = { PROXY_URI("/relative") }, .err = HCM_EBADTARGET },   /* not absolute */
    { .opts = { PROXY_URI("http://h.example/#f") }, .err = HCM_EBADTARGET },
    { .opts = { PROXY_URI("http://h.example/#") }, .err = HCM_EBADTARGET },
    { .opts = { PROXY_URI("http://u:p@h.example/") }, .err = HCM_EBADTARGET },
    { .opts = { PROXY_URI("http://@h.example/") }, .err = HCM_EBADTARGET },
    { .opts = { PROXY_URI("http:///x") }, .err = HCM_EBADTARGET },   /* RFC 9110 s4.2.1: no host */
    { .opts = { PROXY_URI("http:x") }, .err = HCM_EBADTARGET },
    { .opts = { PROXY_URI("http://h.example/a b") }, .err = HCM_EBADTARGET },
    { .opts = { PROXY_URI("http://h.example/%zz") }, .err = HCM_EBADTARGET },
    { .opts = { PROXY_URI("http://[fe80::1%25eth0]/") }, .err = HCM_EBADTARGET },
    { .opts = { PROXY_URI("http://[v1.x]/") }, .err = HCM_EBADTARGET },
    { .opts = { PROXY_URI("http://%00/") }, .err = HCM_EBADTARGET },
    { .opts = { PROXY_URI("http://h.example/\0") }, .err = HCM_EBADTARGET },
    { .opts = { PROXY_URI("http://h.example:0/") }, .err = HCM_EBADPORT },
    { .opts = { PROXY_URI("http://h.example:65536/") }, .err = HCM_EBADPORT },
    /* RFC 7252 s5.10.2: no Uri-* option beside Proxy-Uri. */
    { .opts = { URI_HOST("h.example"), PROXY_URI("http://h.example/") }, .err = HCM_EBADTARGET },
    { .opts = { URI_PORT("\x1f\x90"), PROXY_URI("http://h.example/") }, .err = HCM_EBADTARGET },
    { .opts = { URI_PATH("a"), PROXY_URI("http://h.example/") }, .err = HCM_EBADTARGET },
    { .opts = { URI_QUERY("a"), PROXY_URI("http://h.example/") }, .err = HCM_EBADTARGET },
    /* Proxy-Uri takes precedence over Proxy-Scheme and over a route. */
    { .opts = { PROXY_URI("http://p.example/"), PROXY_SCHEME("https") },
      .url = "http://p.example/", .scheme = "http", .host = "p.example", .port = 80 },
    { .opts = { PROXY_URI("http://p.example/") }, .route_base = "http://r.example/",
      .url = "http://p.example/", .scheme = "http", .host = "p.example", .port = 80 },

    /* ---- Proxy-Scheme + Uri-* (RFC 7252 s5.10.2, s6.5) ---- */
    { .opts = { URI_HOST("origin.example"), PROXY_SCHEME("http") },
      .url = "http://origin.example/", .scheme = "http", .host = "origin.example", .port = 80 },
    { .opts = { URI_HOST("Origin.Example"), URI_PORT("\x20\xfb"), PROXY_SCHEME("HTTPS") },
      .url = "https://origin.example:8443/", .scheme = "https", .host = "origin.example",
      .port = 8443 },
    { .opts = { URI_HOST("h.example"), URI_PORT("\x50"), PROXY_SCHEME("http") },
      .url = "http://h.example/", .scheme = "http", .host = "h.example", .port = 80 },
    /* s6.5 steps 6 to 8: "/" + each segment, "?" and "&" between arguments, upper-case hex. */
    { .opts = { URI_HOST("127.0.0.1"), URI_PORT("\x1f\x90"), URI_PATH("a"), URI_PATH("b c"),
                URI_QUERY("x=1"), URI_QUERY("y&z"), PROXY_SCHEME("http") },
      .url = "http://127.0.0.1:8080/a/b%20c?x=1&y%26z", .scheme = "http", .host = "127.0.0.1",
      .port = 8080, .path = "/a/b%20c" },
    /* A segment keeps unreserved, sub-delims, ':' and '@'; '/', '?', '%', '#' and non-ASCII are
     * encoded. */
    { .opts = { URI_HOST("h"), URI_PATH("-._~!$&'()*+,;=:@"), URI_PATH("/?%#\xc3\xa9"),
                PROXY_SCHEME("http") },
      .url = "http://h/-._~!$&'()*+,;=:@/%2F%3F%25%23%C3%A9", .scheme = "http", .host = "h",
      .port = 80 },
    /* A query argument also keeps '/' and '?', but not '&' or '#'. */
    { .opts = { URI_HOST("h"), URI_QUERY("a/b?c=d"), URI_QUERY("e#f"), PROXY_SCHEME("http") },
      .url = "http://h/?a/b?c=d&e%23f", .scheme = "http", .host = "h", .port = 80 },
    /* Empty segments stay: "/a/" is "a" and "". */
    { .opts = { URI_HOST("h"), URI_PATH("a"), URI_PATH(""), PROXY_SCHEME("http") },
      .url = "http://h/a/", .scheme = "http", .host = "h", .port = 80 },
    /* An IPv6 address in Uri-Host, with or without brackets; a reg-name is encoded. */
    { .opts = { URI_HOST("::1"), URI_PORT("\x1f\x90"), PROXY_SCHEME("http") },
      .url = "http://[::1]:8080/", .scheme = "http", .host = "::1", .port = 8080 },
    { .opts = { URI_HOST("[2001:DB8::1]"), PROXY_SCHEME("http") },
      .url = "http://[2001:db8::1]/", .scheme = "http", .host = "2001:db8::1", .port = 80 },
    { .opts = { URI_HOST("a b"), PROXY_SCHEME("http") }, .url = "http://a%20b/",
      .scheme = "http", .host = "a b", .port = 80 },
    { .opts = { URI_HOST("fe80::1%eth0"), PROXY_SCHEME("http") }, .err = HCM_EBADTARGET },
    { .opts = { URI_HOST("[]"), PROXY_SCHEME("http") }, .err = HCM_EBADTARGET },
    { .opts = { URI_HOST("a\0b"), PROXY_SCHEME("http") }, .err = HCM_EBADTARGET },
    /* Without Uri-Host the host would be hcproxy itself. */
    { .opts = { URI_PATH("a"), PROXY_SCHEME("http") }, .err = HCM_EBADTARGET },
    { .opts = { URI_HOST("h"), PROXY_SCHEME("coap") }, .err = HCM_ETRANSPORT },
    { .opts = { URI_HOST("h"), PROXY_SCHEME("ftp") }, .err = HCM_ETRANSPORT },
    { .opts = { URI_HOST("h"), URI_PORT(""), PROXY_SCHEME("http") }, .err = HCM_EBADPORT },
    /* RFC 7252 s6.4 step 8: no "." or ".." segment, which would climb out of the path. */
    { .opts = { URI_HOST("h"), URI_PATH(".."), PROXY_SCHEME("http") }, .err = HCM_EDOTSEGMENT },
    { .opts = { URI_HOST("h"), URI_PATH("a"), URI_PATH("."), PROXY_SCHEME("http") },
      .err = HCM_EDOTSEGMENT },
    /* Proxy-Scheme takes precedence over a route. */
    { .opts = { URI_HOST("p.example"), URI_PATH("api"), PROXY_SCHEME("http") },
      .route_base = "http://r.example/", .route_skip = 1, .url = "http://p.example/api",
      .scheme = "http", .host = "p.example", .port = 80 },

    /* ---- reverse routes: the base, then the segments after the route's own ---- */
    { .opts = { URI_PATH("api"), URI_PATH("hello") }, .route_base = "http://127.0.0.1:8080/",
      .route_skip = 1, .url = "http://127.0.0.1:8080/hello", .scheme = "http",
      .host = "127.0.0.1", .port = 8080 },
    { .opts = { URI_PATH("rd"), URI_PATH("x y"), URI_QUERY("ep=dev1"), URI_QUERY("lt=300") },
      .route_base = "http://backend.example/lwm2m/", .route_skip = 1,
      .url = "http://backend.example/lwm2m/x%20y?ep=dev1&lt=300", .scheme = "http",
      .host = "backend.example", .port = 80, .path = "/lwm2m/x%20y" },
    { .opts = { URI_PATH("a"), URI_PATH("b") }, .route_base = "http://h/base/",
      .url = "http://h/base/a/b", .scheme = "http", .host = "h", .port = 80 },
    /* A base without its final '/' still gets one before the first segment. */
    { .opts = { URI_PATH("a") }, .route_base = "http://h/base", .url = "http://h/base/a",
      .scheme = "http", .host = "h", .port = 80 },
    { .opts = { URI_PATH("a") }, .route_base = "http://h", .url = "http://h/a", .scheme = "http",
      .host = "h", .port = 80 },
    { .opts = { URI_PATH("a"), URI_PATH("b") }, .route_base = "http://h/base/", .route_skip = 2,
      .url = "http://h/base/", .scheme = "http", .host = "h", .port = 80 },
    { .opts = { { 0 } }, .route_base = "http://h/base/", .route_skip = 1,
      .url = "http://h/base/", .scheme = "http", .host = "h", .port = 80 },
    { .opts = { URI_QUERY("q") }, .route_base = "https://H.Example:443/b/",
      .url = "https://h.example/b/?q", .scheme = "https", .host = "h.example", .port = 443,
      .path = "/b/" },
    /* The client's Uri-Host and Uri-Port named hcproxy; the route names the origin. */
    { .opts = { URI_HOST("proxy.example"), URI_PORT("\x16\x33"), URI_PATH("api") },
      .route_base = "http://o.example/", .route_skip = 1, .url = "http://o.example/",
      .scheme = "http", .host = "o.example", .port = 80 },
    { .opts = { URI_PATH("api"), URI_PATH("..") }, .route_base = "http://h/b/",
      .route_skip = 1, .err = HCM_EDOTSEGMENT },
    /* Nor hidden inside one segment: servers that decode %2F (or take a backslash for '/')
     * before they resolve dot segments would climb out of the base. */
    { .opts = { URI_PATH("api"), URI_PATH("../secret") }, .route_base = "http://h/b/",
      .route_skip = 1, .err = HCM_EDOTSEGMENT },
    { .opts = { URI_PATH("api"), URI_PATH("a/../../x") }, .route_base = "http://h/b/",
      .route_skip = 1, .err = HCM_EDOTSEGMENT },
    { .opts = { URI_PATH("api"), URI_PATH("..\\x") }, .route_base = "http://h/b/",
      .route_skip = 1, .err = HCM_EDOTSEGMENT },
    { .opts = { URI_PATH("api"), URI_PATH("x/.") }, .route_base = "http://h/b/",
      .route_skip = 1, .err = HCM_EDOTSEGMENT },
    /* A slash inside a segment is fine, and so are three dots. */
    { .opts = { URI_PATH("api"), URI_PATH("a/b"), URI_PATH("...") },
      .route_base = "http://h/b/", .route_skip = 1, .url = "http://h/b/a%2Fb/...",
      .scheme = "http", .host = "h", .port = 80 },
    /* A route's base is configuration: a bad one is hcproxy's own fault. */
    { .opts = { URI_PATH("a") }, .route_base = "http://h/b/?x", .err = HCM_EINTERNAL },
    { .opts = { URI_PATH("a") }, .route_base = "not a url", .err = HCM_EINTERNAL },
    { .opts = { URI_PATH("a") }, .route_base = "ftp://h/", .err = HCM_EINTERNAL },

    /* ---- neither a proxy option nor a route: no such resource here ---- */
    { .opts = { { 0 } }, .err = HCM_ENOTPROXY },
    { .opts = { URI_HOST("h"), URI_PATH("a") }, .err = HCM_ENOTPROXY },
};

static void message_of(const row_t *row, hcm_coap_msg_t *msg)
{
    msg_of_opts(msg, 0x01 /* GET */, row->opts, MAX_OPTS);
}

START_TEST(url)
{
    static _Alignas(8) uint8_t buf[ARENA_SIZE];
    const row_t *row = &rows[_i];
    hcm_coap_msg_t in;
    hcm_origin_req_t out;
    hcm_arena_t arena;

    message_of(row, &in);
    hcm_arena_init(&arena, buf, sizeof(buf));
    ck_assert_int_eq(hcm_coap_to_origin(&in, row->route_base, row->route_skip, &arena, &out),
                     row->err);
    if (row->err != 0)
        return;
    ck_assert_str_eq(out.url, row->url);
    ck_assert_str_eq(out.scheme, row->scheme);
    ck_assert_str_eq(out.host, row->host);
    ck_assert_uint_eq(out.port, row->port);
    /* every URL's path: from a '/', a piece of the URL before any '?' */
    ck_assert_int_eq(out.path[0], '/');
    ck_assert_ptr_nonnull(strstr(out.url, out.path));
    ck_assert_ptr_null(strchr(out.path, '?'));
    if (row->path != NULL)
        ck_assert_str_eq(out.path, row->path);
    ck_assert_str_eq(out.method, "GET");
    ck_assert_uint_eq(out.nheaders, 0);
    ck_assert(!out.info.is_oscore);
}
END_TEST

/* Every arena smaller than a URL needs gives HCM_ENOSPACE, never a crash. */
ORIGIN_EXHAUSTION_TEST(url_arena_exhaustion, rows, message_of)

static Suite *origin_url_suite(void)
{
    Suite *s = suite_create("origin_url");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, url, 0, HCM_COUNTOF(rows));
    tcase_add_loop_test(tc, url_arena_exhaustion, 0, HCM_COUNTOF(rows));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(origin_url_suite());
}

/* The URL of the HTTP origin a CoAP request is for (RFC 7252 s10.1, s5.10.2, s6.5): from
 * Proxy-Uri, from Proxy-Scheme with the Uri-* options, or from a reverse route's base URL with the
 * request's own Uri-Path and Uri-Query. The URL is written back normalised: scheme and host in
 * lower case, the default port left out (RFC 3986 s6.2.2.1, s6.2.3), option values percent-encoded
 * as RFC 7252 s6.5 says, with upper-case hex. */
#include <stdio.h>
#include <string.h>

#include "hcm_internal.h"

static const struct http_scheme {
    const char *name;
    uint16_t default_port;
} http_schemes[] = {
    { "http", 80 },   /* RFC 9110 s4.2.1 */
    { "https", 443 }, /* RFC 9110 s4.2.2 */
};

/* What the URL is made of. Either |rest| (a URI's own path and query, as written) or the Uri-Path
 * and Uri-Query options of |in|, or both (a route's base path, then the request's path). */
typedef struct url {
    const struct http_scheme *scheme;
    const char *host; /* percent-decoded, lower case, without brackets */
    size_t host_len;
    bool is_ipv6;
    uint16_t port;
    const char *rest; /* NULL when the path comes from the options alone */
    size_t rest_len;
    const hcm_coap_msg_t *in; /* NULL when the path is |rest| alone */
    size_t skip;              /* Uri-Path options that named the route, left out */
} url_t;

static bool eq_nocase(const char *a, size_t alen, const char *b)
{
    size_t i;

    if (alen != strlen(b))
        return false;
    for (i = 0; i < alen; i++)
        if (hcm__lower(a[i]) != b[i])
            return false;
    return true;
}

/* URI schemes compare case-insensitively (RFC 3986 s3.1). Anything but http and https is a URI
 * hcproxy cannot proxy to: 5.05 (RFC 7252 s5.7.2, s10.1). */
static int scheme_find(const char *s, size_t len, url_t *url)
{
    size_t i;

    for (i = 0; i < HCM_COUNTOF(http_schemes); i++) {
        if (eq_nocase(s, len, http_schemes[i].name)) {
            url->scheme = &http_schemes[i];
            return 0;
        }
    }
    return HCM_ETRANSPORT;
}

static bool is_dots(const uint8_t *p, size_t len)
{
    return (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.');
}

/* RFC 7252 s6.4 step 8: a Uri-Path is never "." or "..". Nor may a piece of it between slashes or
 * backslashes be: "../x" goes out as "..%2Fx", and many HTTP servers decode %2F and resolve dot
 * segments before they route (some take a backslash for a slash), which would climb out of a
 * route's base path. */
static bool has_dot_segment(hcm_bytes_t v)
{
    size_t start = 0, i;

    for (i = 0; i <= v.len; i++) {
        if (i < v.len && v.p[i] != '/' && v.p[i] != '\\')
            continue;
        if (is_dots(v.p + start, i - start))
            return true;
        start = i + 1;
    }
    return false;
}

/* ---- writing --------------------------------------------------------------------------------- */

/* Whether what compose() writes for |rest| ends in '/': an empty one is written as "/". */
static bool rest_ends_with_slash(const url_t *url)
{
    return url->rest_len == 0 || url->rest[url->rest_len - 1] == '/';
}

/* RFC 7252 s6.5 steps 6 to 8: "/" and each Uri-Path after the route's, "/" for none; then "?" and
 * the Uri-Query options joined by "&". After a route's base the first segment needs no "/". */
static void put_options(hcm__builder_t *b, const url_t *url, size_t path_at)
{
    size_t i, seen = 0, nquery = 0;
    bool has_segment = false;

    for (i = 0; i < url->in->nopts; i++) {
        const hcm_option_t *opt = &url->in->opts[i];

        if (opt->number != HCM_OPT_URI_PATH || seen++ < url->skip)
            continue;
        /* A route's base path normally ends in '/'; when it does not, the segment needs one. */
        if (has_segment || url->rest == NULL || !rest_ends_with_slash(url))
            hcm__put_str(b, "/");
        hcm__put_encoded(b, HCM__URI_PATH, opt->value.p, opt->value.len);
        has_segment = true;
    }
    if (b->len == path_at)
        hcm__put_str(b, "/");
    for (i = 0; i < url->in->nopts; i++) {
        const hcm_option_t *opt = &url->in->opts[i];

        if (opt->number != HCM_OPT_URI_QUERY)
            continue;
        hcm__put_str(b, nquery++ == 0 ? "?" : "&");
        hcm__put_encoded(b, HCM__URI_QUERY, opt->value.p, opt->value.len);
    }
}

static void compose(hcm__builder_t *b, const url_t *url)
{
    size_t path_at;

    hcm__put_str(b, url->scheme->name);
    hcm__put_str(b, "://");
    if (url->is_ipv6) {
        hcm__put_str(b, "[");
        hcm__put(b, url->host, url->host_len);
        hcm__put_str(b, "]");
    } else {
        hcm__put_encoded(b, HCM__URI_HOST, url->host, url->host_len);
    }
    if (url->port != url->scheme->default_port) {
        char buf[sizeof(":65535")];
        int len = snprintf(buf, sizeof(buf), ":%u", (unsigned)url->port);

        hcm__put(b, buf, (size_t)len);
    }
    path_at = b->len;
    if (url->rest != NULL) {
        /* RFC 9112 s3.2.1: an empty path is sent as "/", also before a query. */
        if (url->rest_len == 0 || url->rest[0] != '/')
            hcm__put_str(b, "/");
        hcm__put(b, url->rest, url->rest_len);
    }
    if (url->in != NULL)
        put_options(b, url, path_at);
}

static int write_url(const url_t *url, hcm_arena_t *arena, hcm_origin_req_t *out)
{
    hcm__builder_t b = { 0 };
    char *host;

    compose(&b, url);
    b.p = hcm_arena_alloc(arena, b.len + 1);
    host = hcm_arena_strndup(arena, url->host, url->host_len);
    if (b.p == NULL || host == NULL)
        return HCM_ENOSPACE;
    b.len = 0;
    compose(&b, url);
    b.p[b.len] = '\0';
    out->url = b.p;
    out->scheme = url->scheme->name;
    out->host = host;
    out->port = url->port;
    return hcm__uri_path(b.p, arena, &out->path);
}

/* ---- an absolute URI: Proxy-Uri, or a route's base ------------------------------------------- */

static size_t range_len(UriTextRangeA r)
{
    return (size_t)(r.afterLast - r.first);
}

/* RFC 3986 s3.2.2: the host percent-decoded once and lower-cased; an IPv6 literal as uriparser
 * found it, inside its brackets. A NUL or a zone identifier ('%', RFC 6874) names no host an HTTP
 * request can go to. */
static int take_host(const UriUriA *u, hcm_arena_t *arena, url_t *url)
{
    size_t len = range_len(u->hostText), i;
    char *host;

    if (u->hostText.first == NULL || len == 0 || u->hostData.ipFuture.first != NULL)
        return HCM_EBADTARGET;
    url->is_ipv6 = u->hostData.ip6 != NULL;
    if (url->is_ipv6 && memchr(u->hostText.first, '%', len) != NULL)
        return HCM_EBADTARGET;
    host = hcm_arena_strndup(arena, u->hostText.first, len);
    if (host == NULL)
        return HCM_ENOSPACE;
    len = (size_t)(uriUnescapeInPlaceExA(host, URI_FALSE, URI_BR_DONT_TOUCH) - host);
    if (memchr(host, '\0', len) != NULL)
        return HCM_EBADTARGET;
    for (i = 0; i < len; i++)
        host[i] = hcm__lower(host[i]);
    url->host = host;
    url->host_len = len;
    return 0;
}

static int take_uri(const UriUriA *u, hcm_arena_t *arena, url_t *url)
{
    const char *authority;
    int err;

    /* A Proxy-Uri is an absolute URI (RFC 7252 s5.10.2). */
    if (u->scheme.first == NULL)
        return HCM_EBADTARGET;
    err = scheme_find(u->scheme.first, range_len(u->scheme), url);
    if (err != 0)
        return err;
    /* RFC 9110 s4.2.4: user information is deprecated in http(s) URIs; a fragment is never part
     * of a request target (RFC 9112 s3.2). */
    if (u->fragment.first != NULL || u->userInfo.first != NULL)
        return HCM_EBADTARGET;
    /* RFC 9110 s4.2.1: an http URI without a host is invalid. */
    authority = u->scheme.afterLast;
    if (strncmp(authority, "://", 3) != 0)
        return HCM_EBADTARGET;
    authority += 3;
    if ((err = take_host(u, arena, url)) != 0 ||
        (err = hcm__uri_port(u, url->scheme->default_port, &url->port)) != 0)
        return err;
    /* Without user information, the authority ends at the first '/', '?' or '#' (RFC 3986 s3.2);
     * the path and query after it go on as the client wrote them. */
    url->rest = authority + strcspn(authority, "/?#");
    url->rest_len = strlen(url->rest);
    return 0;
}

static int parse_uri(const char *uri, hcm_arena_t *arena, url_t *url)
{
    hcm__uri_memory_t mem;
    UriUriA u;
    int err = hcm__uri_parse(uri, arena, &mem, &u);

    if (err != 0)
        return err;
    err = take_uri(&u, arena, url);
    uriFreeUriMembersMmA(&u, &mem.full);
    return err;
}

int hcm__origin_url_absolute(const char *uri, hcm_arena_t *arena, hcm_origin_req_t *out)
{
    url_t url = { 0 };
    int err = parse_uri(uri, arena, &url);

    return err != 0 ? err : write_url(&url, arena, out);
}

/* RFC 7252 s5.10.2: Proxy-Uri, with none of the Uri-* options beside it. */
static int from_proxy_uri(const hcm_coap_msg_t *in, const hcm_option_t *opt, hcm_arena_t *arena,
                          url_t *url, bool *has_path)
{
    static const uint16_t uri_options[] = { HCM_OPT_URI_HOST, HCM_OPT_URI_PORT, HCM_OPT_URI_PATH,
                                            HCM_OPT_URI_QUERY };
    const char *uri;
    size_t i;
    int err;

    for (i = 0; i < HCM_COUNTOF(uri_options); i++)
        if (hcm_coap_msg_find(in, uri_options[i]) != NULL)
            return HCM_EBADTARGET;
    if (memchr(opt->value.p, '\0', opt->value.len) != NULL)
        return HCM_EBADTARGET;
    uri = hcm_arena_strndup(arena, (const char *)opt->value.p, opt->value.len);
    if (uri == NULL)
        return HCM_ENOSPACE;
    if ((err = parse_uri(uri, arena, url)) != 0)
        return err;
    *has_path = !(url->rest_len == 0 || (url->rest_len == 1 && url->rest[0] == '/'));
    return 0;
}

/* A route's base comes from the configuration: an http(s) URL ending in '/', without query. One
 * that is not is hcproxy's own fault. */
static int from_route(const hcm_coap_msg_t *in, const char *route_base, size_t route_skip,
                      hcm_arena_t *arena, url_t *url, bool *has_path)
{
    size_t i, npath = 0;
    int err = parse_uri(route_base, arena, url);

    if (err != 0)
        return err == HCM_ENOSPACE ? err : HCM_EINTERNAL;
    if (memchr(url->rest, '?', url->rest_len) != NULL)
        return HCM_EINTERNAL;
    url->in = in;
    url->skip = route_skip;
    *has_path = false;
    for (i = 0; i < in->nopts; i++) {
        const hcm_option_t *opt = &in->opts[i];

        if (opt->number == HCM_OPT_URI_QUERY)
            *has_path = true;
        if (opt->number != HCM_OPT_URI_PATH || npath++ < route_skip)
            continue;
        *has_path = true;
        if (has_dot_segment(opt->value))
            return HCM_EDOTSEGMENT;
    }
    return 0;
}

/* ---- Proxy-Scheme and Uri-* (RFC 7252 s6.5) -------------------------------------------------- */

static bool is_ipv6_char(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
           c == ':' || c == '.';
}

/* Uri-Host is a host name (RFC 7252 s6.4 step 5), but a client that names its origin by address
 * writes the literal: an IPv4 address reads as a name anyway, an IPv6 one has colons, with or
 * without the brackets of RFC 3986 s3.2.2. */
static int take_uri_host(const hcm_option_t *opt, hcm_arena_t *arena, url_t *url)
{
    const uint8_t *p = opt->value.p;
    size_t len = opt->value.len, i;
    char *host;

    if (len >= 2 && p[0] == '[' && p[len - 1] == ']') {
        p++;
        len -= 2;
        url->is_ipv6 = true;
    } else {
        url->is_ipv6 = memchr(p, ':', len) != NULL;
    }
    if (len == 0 || memchr(p, '\0', len) != NULL)
        return HCM_EBADTARGET;
    for (i = 0; url->is_ipv6 && i < len; i++)
        if (!is_ipv6_char(p[i]))
            return HCM_EBADTARGET; /* zone identifiers included */
    host = hcm_arena_strndup(arena, (const char *)p, len);
    if (host == NULL)
        return HCM_ENOSPACE;
    for (i = 0; i < len; i++)
        host[i] = hcm__lower(host[i]); /* RFC 3986 s6.2.2.1 */
    url->host = host;
    url->host_len = len;
    return 0;
}

static int from_proxy_scheme(const hcm_coap_msg_t *in, const hcm_option_t *opt,
                             hcm_arena_t *arena, url_t *url, bool *has_path)
{
    const hcm_option_t *host = hcm_coap_msg_find(in, HCM_OPT_URI_HOST);
    const hcm_option_t *port = hcm_coap_msg_find(in, HCM_OPT_URI_PORT);
    uint32_t value;
    size_t i;
    int err = scheme_find((const char *)opt->value.p, opt->value.len, url);

    if (err != 0)
        return err;
    /* Without Uri-Host the host would be the proxy's own address (RFC 7252 s5.10.1). */
    if (host == NULL)
        return HCM_EBADTARGET;
    if ((err = take_uri_host(host, arena, url)) != 0)
        return err;
    url->port = url->scheme->default_port;
    if (port != NULL) {
        if (port->value.len > 2 || hcm_uint_decode(port->value, &value) != 0 || value == 0)
            return HCM_EBADPORT;
        url->port = (uint16_t)value;
    }
    url->in = in;
    *has_path = false;
    for (i = 0; i < in->nopts; i++) {
        const hcm_option_t *o = &in->opts[i];

        if (o->number == HCM_OPT_URI_PATH || o->number == HCM_OPT_URI_QUERY)
            *has_path = true;
        if (o->number == HCM_OPT_URI_PATH && has_dot_segment(o->value))
            return HCM_EDOTSEGMENT;
    }
    return 0;
}

int hcm__origin_url(const hcm_coap_msg_t *in, const char *route_base, size_t route_skip,
                    hcm_arena_t *arena, hcm_origin_req_t *out, bool *has_path)
{
    const hcm_option_t *proxy_uri = hcm_coap_msg_find(in, HCM_OPT_PROXY_URI);
    const hcm_option_t *proxy_scheme = hcm_coap_msg_find(in, HCM_OPT_PROXY_SCHEME);
    url_t url = { 0 };
    int err;

    /* RFC 7252 s5.10.2: Proxy-Uri takes precedence; a route serves only the requests that carry
     * no proxy option at all. */
    if (proxy_uri != NULL)
        err = from_proxy_uri(in, proxy_uri, arena, &url, has_path);
    else if (proxy_scheme != NULL)
        err = from_proxy_scheme(in, proxy_scheme, arena, &url, has_path);
    else if (route_base != NULL)
        err = from_route(in, route_base, route_skip, arena, &url, has_path);
    else
        err = HCM_ENOTPROXY;
    return err != 0 ? err : write_url(&url, arena, out);
}

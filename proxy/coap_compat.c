/* Workarounds for quirks of particular libcoap versions, each behind its version check.
 *
 * libcoap 4.3.2 to 4.3.4 (Debian 13 has 4.3.4): the server checks a request's Proxy-Uri with
 * coap_split_proxy_uri() before it hands the request to the proxy resource, and that function
 * refuses the http and https schemes ("Unsupported URI type"), so every CoAP -> HTTP request in
 * the Proxy-Uri form (RFC 7252 s5.10.2, RFC 8075's reverse direction) was answered 5.05 by
 * libcoap itself. 4.3.5 splits them ("coap_uri.c: Fix support for app doing CoAP <> HTTP
 * mapping"). libcoap calls the function through the dynamic linker (it is part of its API), so
 * this definition in the executable takes its place: an http or https URI is split as the same
 * URI with the scheme coap or coaps (the authority, path and query parse alike), and then given
 * its own scheme and default port; every other URI goes to libcoap's own function. libcoap only
 * reads the host from the result, to tell a request for the proxy itself (hcproxy's reverse.c
 * names none) from one to forward; reverse.c reads the Proxy-Uri option itself. */
#include <dlfcn.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include <coap3/coap.h>

#if LIBCOAP_VERSION >= 4003002U && LIBCOAP_VERSION < 4003005U

/* What an http(s) scheme is rewritten to, and what the result then says. */
static const struct {
    const char *http, *coap;
    coap_uri_scheme_t scheme;
    uint16_t port;
} http_schemes[] = {
    {"http://", "coap://", COAP_URI_SCHEME_HTTP, 80},
    {"https://", "coaps://", COAP_URI_SCHEME_HTTPS, 443},
};

typedef int split_fn(const uint8_t *, size_t, coap_uri_t *);

static split_fn *libcoap_split(void)
{
    static split_fn *fn;

    if (fn == NULL)
        *(void **)&fn = dlsym(RTLD_NEXT, "coap_split_proxy_uri");
    return fn;
}

/* Whether the authority (after "scheme://", up to the path or query) names a port. */
static bool has_port(const uint8_t *authority, size_t len)
{
    size_t end = 0, colon = len;

    while (end < len && authority[end] != '/' && authority[end] != '?' && authority[end] != '#')
        end++;
    for (size_t i = 0; i < end; i++) {
        if (authority[i] == ']')
            colon = len; /* a colon inside an IPv6 literal is no port */
        else if (authority[i] == ':')
            colon = i;
    }
    return colon < end;
}

/* |p| pointed into |from| at |shift| bytes fewer than it points into |to|. */
static const uint8_t *moved(const uint8_t *p, const char *from, const uint8_t *to, ptrdiff_t shift)
{
    return p == NULL ? NULL : to + (p - (const uint8_t *)from) + shift;
}

/* A Proxy-Uri is at most 1034 bytes (RFC 7252 s5.10); the rewritten scheme is no longer. */
#define PROXY_URI_MAX 1034

int coap_split_proxy_uri(const uint8_t *str_var, size_t len, coap_uri_t *uri);

int coap_split_proxy_uri(const uint8_t *str_var, size_t len, coap_uri_t *uri)
{
    static char copy[PROXY_URI_MAX];
    split_fn *split = libcoap_split();

    if (split == NULL)
        return -1;
    for (size_t i = 0; i < sizeof http_schemes / sizeof http_schemes[0]; i++) {
        size_t hlen = strlen(http_schemes[i].http), clen = strlen(http_schemes[i].coap);
        ptrdiff_t shift = (ptrdiff_t)hlen - (ptrdiff_t)clen;
        int rc;

        if (len < hlen || len > sizeof copy ||
            strncasecmp((const char *)str_var, http_schemes[i].http, hlen) != 0)
            continue;
        memcpy(copy, http_schemes[i].coap, clen);
        memcpy(copy + clen, str_var + hlen, len - hlen);
        if ((rc = split((const uint8_t *)copy, len - (size_t)shift, uri)) < 0)
            return rc;
        /* The result pointed into |copy|: it points into the caller's string instead. */
        uri->host.s = moved(uri->host.s, copy, str_var, shift);
        uri->path.s = moved(uri->path.s, copy, str_var, shift);
        uri->query.s = moved(uri->query.s, copy, str_var, shift);
        uri->scheme = http_schemes[i].scheme;
        if (!has_port(str_var + hlen, len - hlen))
            uri->port = http_schemes[i].port;
        return rc;
    }
    return split(str_var, len, uri);
}

#endif

/* Named routes: a path prefix that stands for a base URI, so that clients reach a server
 * without knowing its address. http.routes lead HTTP clients to CoAP servers (RFC 8075 s5.2,
 * the "null mapping"); coap.routes lead CoAP clients that cannot set Proxy-Uri or Proxy-Scheme
 * (RFC 7252 s5.10.2) to HTTP origins. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hcc.h"
#include "hcc_internal.h"

static const char *const coap_schemes[] = {"coap", "coaps", "coap+tcp", "coaps+tcp"};
static const char *const http_schemes[] = {"http", "https"};

const hcc__route_kind_t hcc__coap_base_routes = {
    {coap_schemes, HCC_COUNTOF(coap_schemes), "a coap, coaps, coap+tcp or coaps+tcp URI"},
    "PATH-PREFIX=COAP-BASE-URI",
};
const hcc__route_kind_t hcc__http_base_routes = {
    {http_schemes, HCC_COUNTOF(http_schemes), "an http or https URL"},
    "PATH-PREFIX=HTTP-BASE-URL",
};

/* Whether |uri| starts with "scheme://" for one of |schemes|, in any case. */
static bool has_scheme(const char *uri, const hcc__schemes_t *schemes)
{
    for (size_t i = 0; i < schemes->count; i++) {
        size_t n = strlen(schemes->names[i]);

        if (strncasecmp(uri, schemes->names[i], n) == 0 && strncmp(uri + n, "://", 3) == 0)
            return true;
    }
    return false;
}

/* The rest of the request path is appended to the base, so both end with '/'; a query or a
 * fragment in the base would swallow what follows it. */
static int check_route(const char *prefix, size_t plen, const char *base,
                       const hcc__route_kind_t *kind, char *err, size_t errlen)
{
    size_t blen = strlen(base);

    if (plen < 2 || prefix[0] != '/' || prefix[plen - 1] != '/')
        return hcc__fail(err, errlen, "route prefix must start and end with '/', as in /sensors/");
    if (!has_scheme(base, &kind->schemes))
        return hcc__fail(err, errlen, "route base must be %s", kind->schemes.list);
    if (base[blen - 1] != '/')
        return hcc__fail(err, errlen, "route base must end with '/'");
    if (strpbrk(base, "?# ") != NULL)
        return hcc__fail(err, errlen, "route base must not have a query, a fragment or a space");
    return 0;
}

int hcc__route_parse(const char *text, const hcc__route_kind_t *kind, hcc_route_t *route,
                     char *err, size_t errlen)
{
    const char *eq = strchr(text, '=');
    size_t plen = eq != NULL ? (size_t)(eq - text) : 0;

    if (eq == NULL)
        return hcc__fail(err, errlen, "\"%s\": must be %s", text, kind->form);
    if (check_route(text, plen, eq + 1, kind, err, errlen) != 0)
        return -1;
    route->prefix = strndup(text, plen);
    route->base = strdup(eq + 1);
    if (route->prefix == NULL || route->base == NULL) {
        free(route->prefix);
        free(route->base);
        return hcc__fail(err, errlen, "out of memory");
    }
    return 0;
}

int hcc_route_parse(const char *text, hcc_route_t *route, char *err, size_t errlen)
{
    return hcc__route_parse(text, &hcc__coap_base_routes, route, err, errlen);
}

/* The route of |routes| whose prefix begins |path|, the longest when several do. */
static const hcc_route_t *route_find(const hcc_route_t *routes, size_t count, const char *path)
{
    const hcc_route_t *best = NULL;

    for (size_t i = 0; i < count; i++) {
        const hcc_route_t *r = &routes[i];
        size_t n = strlen(r->prefix);

        if (strncmp(path, r->prefix, n) == 0 && (best == NULL || n > strlen(best->prefix)))
            best = r;
    }
    return best;
}

const hcc_route_t *hcc_route_find(const hcc_config_t *cfg, const char *path)
{
    return route_find(cfg->routes, cfg->nroutes, path);
}

const hcc_route_t *hcc_coap_route_find(const hcc_config_t *cfg, const char *path)
{
    return route_find(cfg->coap_routes, cfg->ncoap_routes, path);
}

void hcc_routes_free(hcc_route_t *routes, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(routes[i].prefix);
        free(routes[i].base);
    }
    free(routes);
}

/* Named routes (http.routes): a path prefix that stands for a CoAP base URI, so that HTTP
 * clients reach devices without knowing their addresses (RFC 8075 s5.2, the "null mapping"). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hcc.h"
#include "hcc_internal.h"

static const char *const coap_schemes[] = {"coap://", "coaps://", "coap+tcp://", "coaps+tcp://"};

static bool has_coap_scheme(const char *uri)
{
    for (size_t i = 0; i < HCC_COUNTOF(coap_schemes); i++)
        if (strncasecmp(uri, coap_schemes[i], strlen(coap_schemes[i])) == 0)
            return true;
    return false;
}

/* The rest of the request path is appended to the base, so both end with '/'; a query or a
 * fragment in the base would swallow what follows it. */
static int check_route(const char *prefix, size_t plen, const char *base, char *err, size_t errlen)
{
    size_t blen = strlen(base);

    if (plen < 2 || prefix[0] != '/' || prefix[plen - 1] != '/')
        return hcc__fail(err, errlen, "route prefix must start and end with '/', as in /sensors/");
    if (!has_coap_scheme(base))
        return hcc__fail(err, errlen, "route base must be a coap, coaps, coap+tcp or coaps+tcp URI");
    if (base[blen - 1] != '/')
        return hcc__fail(err, errlen, "route base must end with '/'");
    if (strpbrk(base, "?# ") != NULL)
        return hcc__fail(err, errlen, "route base must not have a query, a fragment or a space");
    return 0;
}

int hcc_route_parse(const char *text, hcc_route_t *route, char *err, size_t errlen)
{
    const char *eq = strchr(text, '=');
    size_t plen = eq != NULL ? (size_t)(eq - text) : 0;

    if (eq == NULL)
        return hcc__fail(err, errlen, "\"%s\": must be PATH-PREFIX=COAP-BASE-URI", text);
    if (check_route(text, plen, eq + 1, err, errlen) != 0)
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

const hcc_route_t *hcc_route_find(const hcc_config_t *cfg, const char *path)
{
    const hcc_route_t *best = NULL;

    for (size_t i = 0; i < cfg->nroutes; i++) {
        const hcc_route_t *r = &cfg->routes[i];
        size_t n = strlen(r->prefix);
        if (strncmp(path, r->prefix, n) == 0 && (best == NULL || n > strlen(best->prefix)))
            best = r;
    }
    return best;
}

void hcc_routes_free(hcc_route_t *routes, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(routes[i].prefix);
        free(routes[i].base);
    }
    free(routes);
}

/* config/finish.c: the fields derived from the keys (listen addresses, allow rules) and the
 * checks a key's type cannot make. They run once every source is read, on the effective values,
 * so a flag may put right what the file got wrong; an error still names where the value came
 * from, which origin[] remembers. */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "hcc.h"
#include "hcc_internal.h"



/* Fills |ss| with the IPv4 or IPv6 literal |host| and |port|; false if |host| is neither. */
static bool sockaddr_fill(struct sockaddr_storage *ss, bool v6, const char *host, uint16_t port)
{
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

    memset(ss, 0, sizeof(*ss));
    if (v6) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        return inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1;
    }
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    return inet_pton(AF_INET, host, &sin->sin_addr) == 1;
}

/* "IPv4:port" or "[IPv6]:port". No names: a listener binds before any resolver may be asked,
 * and a name bound to several addresses would be ambiguous. */
static int parse_listen(const char *text, struct sockaddr_storage *ss, char *reason, size_t len)
{
    const char *colon = strrchr(text, ':');
    size_t hlen = colon != NULL ? (size_t)(colon - text) : 0;
    bool v6 = hlen >= 2 && text[0] == '[' && text[hlen - 1] == ']';
    char host[INET6_ADDRSTRLEN], *end;
    unsigned long port;

    if (colon != NULL && hlen - 2 * v6 < sizeof(host))
        snprintf(host, sizeof(host), "%.*s", (int)(hlen - 2 * v6), text + v6);
    if (colon == NULL || hlen - 2 * v6 >= sizeof(host) || !sockaddr_fill(ss, v6, host, 0))
        return hcc__fail(reason, len, "%s: must be IPv4:port or [IPv6]:port", text);
    port = strtoul(colon + 1, &end, 10);
    /* Port 0 asks the kernel for an ephemeral port; hcproxy logs the one it got. */
    if (!isdigit((unsigned char)colon[1]) || *end != '\0' || port > 65535)
        return hcc__fail(reason, len, "%s: the port must be 0 to 65535", text);
    sockaddr_fill(ss, v6, host, (uint16_t)port);
    return 0;
}

static int derive_listen(hcc_config_t *cfg, char *reason, size_t len)
{
    const hcc_list_t *list = &cfg->http_listen;
    struct sockaddr_storage *addrs;

    if (list->count == 0)
        return hcc__fail(reason, len, "needs at least one address");
    addrs = calloc(list->count, sizeof(*addrs));
    if (addrs == NULL)
        return hcc__fail(reason, len, "out of memory");
    for (size_t i = 0; i < list->count; i++) {
        if (parse_listen(list->items[i], &addrs[i], reason, len) != 0) {
            free(addrs);
            return -1;
        }
    }
    free(cfg->listen_addrs);
    cfg->listen_addrs = addrs;
    cfg->nlisten_addrs = list->count;
    return 0;
}

static int derive_allow(hcc_config_t *cfg, char *reason, size_t len)
{
    const hcc_list_t *list = &cfg->upstream_allow;
    hcc_rule_t *rules = NULL;

    if (list->count > 0 && (rules = calloc(list->count, sizeof(*rules))) == NULL)
        return hcc__fail(reason, len, "out of memory");
    for (size_t i = 0; i < list->count; i++) {
        if (hcc_rule_parse(list->items[i], &rules[i], reason, len) != 0) {
            free(rules);
            return -1;
        }
    }
    free(cfg->allow_rules);
    cfg->allow_rules = rules;
    cfg->nallow_rules = list->count;
    return 0;
}

static int derive_routes(hcc_config_t *cfg, char *reason, size_t len)
{
    const hcc_list_t *list = &cfg->http_routes;
    hcc_route_t *routes = NULL;

    if (list->count > 0 && (routes = calloc(list->count, sizeof(*routes))) == NULL)
        return hcc__fail(reason, len, "out of memory");
    for (size_t i = 0; i < list->count; i++) {
        if (hcc_route_parse(list->items[i], &routes[i], reason, len) != 0) {
            hcc_routes_free(routes, i);
            return -1;
        }
        if (strncmp(routes[i].prefix, cfg->http_hc_path, strlen(cfg->http_hc_path)) == 0) {
            hcc_routes_free(routes, i + 1);
            return hcc__fail(reason, len, "route prefix must not be inside http.hc_path");
        }
    }
    hcc_routes_free(cfg->routes, cfg->nroutes);
    cfg->routes = routes;
    cfg->nroutes = list->count;
    return 0;
}

/* Location headers are this followed by the HC path and a CoAP URI. */
static int check_public_url(hcc_config_t *cfg, char *reason, size_t len)
{
    const char *u = cfg->http_public_url;
    size_t n = strlen(u);

    if (n == 0)
        return 0;
    const char *host = strstr(u, "://");

    if ((strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0) || u[n - 1] == '/' ||
        strpbrk(host + 3, "/?# ") != NULL)
        return hcc__fail(reason, len, "must be http://host[:port] or https://host[:port]");
    return 0;
}

/* The target URI is appended to this path, so it needs a '/' on both sides (RFC 8075 s5.3). */
static int check_hc_path(hcc_config_t *cfg, char *reason, size_t len)
{
    const char *p = cfg->http_hc_path;
    size_t n = strlen(p);

    if (n == 0 || p[0] != '/' || p[n - 1] != '/')
        return hcc__fail(reason, len, "must start and end with '/'");
    return 0;
}

/* RFC 7959 s2.2: SZX encodes only 2^(4+SZX) bytes, 16 to 1024. */
static int check_block_size(hcc_config_t *cfg, char *reason, size_t len)
{
    long long v = cfg->upstream_block_size;

    if (v < 16 || v > 1024 || (v & (v - 1)) != 0)
        return hcc__fail(reason, len, "must be a power of two from 16 to 1024");
    return 0;
}

static const struct {
    enum hcc_key_id key;
    int (*check)(hcc_config_t *cfg, char *reason, size_t len);
} checks[] = {
    {HCC_K_http_listen, derive_listen},
    {HCC_K_http_hc_path, check_hc_path},
    {HCC_K_upstream_allow, derive_allow},
    {HCC_K_http_routes, derive_routes},
    {HCC_K_http_public_url, check_public_url},
    {HCC_K_upstream_block_size, check_block_size},
};

/* "where: key: reason", where being the place the key was last set. */
static int blame(const hcc_config_t *cfg, enum hcc_key_id id, const char *reason, char *err,
                 size_t errlen)
{
    const hcc_key_t *key = &hcc_keys[id];
    const struct hcc_origin *o = &cfg->origin[id];
    char name[64];

    switch (o->from) {
    case HCC_FROM_FILE:
        if (o->line > 0)
            return hcc__fail(err, errlen, "%s:%u: %s: %s", cfg->source, o->line, key->name, reason);
        return hcc__fail(err, errlen, "%s: %s: %s", cfg->source, key->name, reason);
    case HCC_FROM_ENV:
        hcc_key_env(key, name, sizeof(name));
        return hcc__fail(err, errlen, "%s: %s: %s", name, key->name, reason);
    case HCC_FROM_FLAG:
        hcc_key_flag(key, name, sizeof(name));
        return hcc__fail(err, errlen, "%s: %s", name, reason);
    default:
        return hcc__fail(err, errlen, "%s: %s", key->name, reason);
    }
}

int hcc_finish(hcc_config_t *cfg, char *err, size_t errlen)
{
    char reason[256];

    for (size_t i = 0; i < HCC_COUNTOF(checks); i++)
        if (checks[i].check(cfg, reason, sizeof(reason)) != 0)
            return blame(cfg, checks[i].key, reason, err, errlen);
    return 0;
}

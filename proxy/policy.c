/* The last word on a destination, after the configuration's allow rules: never a multicast group
 * (RFC 8075 s10.4), never hcproxy itself. A request sent to one of hcproxy's own listening
 * addresses would be mapped and sent again by the other side, each pass a new exchange, until
 * Hop-Limit or Via stopped it 16 passes later; hcproxy refuses the first pass instead. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <uv.h>

#include "hcc.h"
#include "hcm.h"
#include "policy.h"
#include "proxy.h"
#include "ratelimit.h"
#include "sockaddr.h"

/* One of hcproxy's own listening addresses. */
struct hcp_policy_own_addr {
    hcp_policy_own_kind_t kind;
    struct sockaddr_storage addr; /* with the port actually bound */
};

static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* An address as family + 16 bytes + port, IPv4-mapped IPv6 folded into IPv4. */
typedef struct flat_addr {
    int family;
    uint8_t ip[16];
    uint16_t port;
} flat_addr_t;

static bool flatten(const struct sockaddr *sa, flat_addr_t *out)
{
    /* Copied out: |sa| may point at bytes not aligned as a sockaddr_in or _in6 is. */
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
    bool mapped;

    memset(out, 0, sizeof *out);
    if (sa->sa_family == AF_INET) {
        memcpy(&in, sa, sizeof in);
        out->family = AF_INET;
        memcpy(out->ip, &in.sin_addr, 4);
        out->port = ntohs(in.sin_port);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        memcpy(&in6, sa, sizeof in6);
        mapped = memcmp(&in6.sin6_addr, v4_mapped, sizeof v4_mapped) == 0;
        out->family = mapped ? AF_INET : AF_INET6;
        memcpy(out->ip, (const uint8_t *)&in6.sin6_addr + (mapped ? 12 : 0), mapped ? 4 : 16);
        out->port = ntohs(in6.sin6_port);
        return true;
    }
    return false;
}

static bool is_unspecified(const flat_addr_t *a)
{
    static const uint8_t zero[16];

    return memcmp(a->ip, zero, a->family == AF_INET ? 4 : 16) == 0;
}

static bool same_ip(const flat_addr_t *a, const flat_addr_t *b)
{
    return a->family == b->family && memcmp(a->ip, b->ip, a->family == AF_INET ? 4 : 16) == 0;
}

static bool is_loopback(const flat_addr_t *a)
{
    static const uint8_t v6_loopback[16] = {[15] = 1};

    return a->family == AF_INET ? a->ip[0] == 127 : memcmp(a->ip, v6_loopback, 16) == 0;
}

/* The host's interface addresses, read once when the first wildcard listener is recorded (a
 * request to a server on port 5683 would otherwise ask the kernel for them every time, with a
 * wildcard CoAP listener on 5683, as in the container image). An address added later is not
 * seen as this host's. */
static void snapshot_interfaces(hcp_proxy_t *proxy)
{
    uv_interface_address_t *ifs;
    int count;

    if (proxy->local_addrs != NULL || uv_interface_addresses(&ifs, &count) != 0)
        return;
    proxy->local_addrs = calloc((size_t)count + 1, sizeof *proxy->local_addrs);
    for (int i = 0; proxy->local_addrs != NULL && i < count; i++)
        if (ifs[i].address.address4.sin_family == AF_INET ||
            ifs[i].address.address4.sin_family == AF_INET6)
            hcp_sockaddr_with_port((const struct sockaddr *)&ifs[i].address, 0,
                                   &proxy->local_addrs[proxy->nlocal_addrs++]);
    uv_free_interface_addresses(ifs, count);
}

/* Whether |a| belongs to this host: loopback, or an address of one of its interfaces. */
static bool is_local(const hcp_proxy_t *proxy, const flat_addr_t *a)
{
    if (is_loopback(a))
        return true;
    if (proxy->local_addrs == NULL)
        return true; /* unknown: a refused request is safer than a loop */
    for (size_t i = 0; i < proxy->nlocal_addrs; i++) {
        flat_addr_t own;
        if (flatten((const struct sockaddr *)&proxy->local_addrs[i], &own) && same_ip(&own, a))
            return true;
    }
    return false;
}

void hcp_policy_add_own(hcp_proxy_t *proxy, hcp_policy_own_kind_t kind, const struct sockaddr *sa,
                        uint16_t port)
{
    struct hcp_policy_own_addr *grown, *own;
    flat_addr_t flat;

    if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
        return;
    grown = realloc(proxy->own, (proxy->nown + 1) * sizeof *grown);
    if (grown == NULL)
        return;
    proxy->own = grown;
    own = &proxy->own[proxy->nown++];
    own->kind = kind;
    hcp_sockaddr_with_port(sa, port, &own->addr);
    if (flatten(sa, &flat) && is_unspecified(&flat))
        snapshot_interfaces(proxy);
}

void hcp_policy_free(hcp_proxy_t *proxy)
{
    free(proxy->own);
    free(proxy->local_addrs);
    proxy->own = NULL;
    proxy->local_addrs = NULL;
    proxy->nown = proxy->nlocal_addrs = 0;
}

static bool is_self(const hcp_proxy_t *proxy, hcp_policy_own_kind_t kind, const flat_addr_t *dest)
{
    for (size_t i = 0; i < proxy->nown; i++) {
        flat_addr_t own;

        if (proxy->own[i].kind != kind ||
            !flatten((const struct sockaddr *)&proxy->own[i].addr, &own) || own.port != dest->port)
            continue;
        if (is_unspecified(&own) ? is_local(proxy, dest) : same_ip(&own, dest))
            return true;
    }
    return false;
}

int hcp_policy_check(const hcp_proxy_t *proxy, hcp_policy_own_kind_t kind,
                     const struct sockaddr *dest)
{
    flat_addr_t d;

    if (!flatten(dest, &d))
        return HCM_EFORBIDDEN;
    if (hcc_is_multicast(d.family, d.ip))
        return HCM_EMULTICAST;
    if (is_self(proxy, kind, &d))
        return HCM_ESELFLOOP;
    return 0;
}

/* ---- bearer tokens (RFC 6750) ----------------------------------------------------------- */

/* Compares in time that depends on the presented token's length alone, so that timing tells a
 * client nothing about how much of a configured token it guessed. */
static bool same_secret(const char *presented, size_t len, const char *secret)
{
    size_t secret_len = strlen(secret);
    unsigned char diff = len != secret_len;

    for (size_t i = 0; i < len; i++)
        diff |= (unsigned char)(presented[i] ^ (i < secret_len ? secret[i] : 0));
    return diff == 0;
}

int hcp_policy_authorize(const hcp_proxy_t *proxy, const char *authorization)
{
    const hcc_list_t *tokens = &proxy->cfg->http_bearer_tokens;
    const char *token;
    bool found = false;

    if (tokens->count == 0)
        return 0;
    /* RFC 7235 s2.1: the scheme is case-insensitive, then one or more spaces, then the token. */
    if (authorization == NULL || strncasecmp(authorization, "Bearer ", 7) != 0)
        return HCM_ENOTOKEN;
    token = authorization + 7 + strspn(authorization + 7, " ");
    for (size_t i = 0; i < tokens->count; i++)
        found |= same_secret(token, strlen(token), tokens->items[i]);
    return found ? 0 : HCM_EBADTOKEN;
}

/* ---- per-client rate (ratelimit.c) --------------------------------------------------------- */

int hcp_policy_rate(hcp_proxy_t *proxy, const struct sockaddr *client)
{
    flat_addr_t c;

    if (proxy->ratelimit == NULL || client == NULL || !flatten(client, &c))
        return 0;
    return hcp_ratelimit_take(proxy->ratelimit, c.family, c.ip, uv_hrtime()) ? 0 : HCM_ERATELIMIT;
}

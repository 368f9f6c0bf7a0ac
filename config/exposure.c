/* config/exposure.c: no listener that the network can reach without credentials may lead to
 * services bound to hcproxy's own loopback.
 *
 * A service that listens on 127.0.0.1 trusts that only its own host reaches it: an admin page, a
 * metrics port, a database. A CoAP listener on 0.0.0.0 whose origin.allow takes loopback, or an
 * HTTP listener on 0.0.0.0 whose upstream.allow does, hands that trust to anyone who can send it
 * a datagram or a request: an open proxy into the loopback. Such a configuration is refused at
 * start unless coap.unauthenticated_loopback or http.unauthenticated_loopback says it is meant.
 *
 * A listener counts as authenticated when every client must prove itself before a request is
 * served: bearer tokens on HTTP and HTTPS, a client CA on HTTPS; on coaps and coaps+tcp a client
 * CA, or PSKs with no certificate (a certificate alone lets any client in). */
#include <arpa/inet.h>
#include <string.h>

#include "hcc_internal.h"

static bool is_loopback_address(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
    if (ss->ss_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
    }
    return false;
}

/* The index of the first rule that lets a destination on loopback through, or -1. */
static long loopback_rule(const hcc_rule_t *rules, size_t count, const char *any_scheme)
{
    static const uint8_t v4[4] = {127, 0, 0, 1}, v6[16] = {[15] = 1};

    for (size_t i = 0; i < count; i++) {
        hcc_rule_t r = rules[i];
        const char *scheme = strcmp(r.scheme, "*") == 0 ? any_scheme : r.scheme;
        uint16_t port = r.port != 0 ? r.port : 1;

        r.path[0] = '\0'; /* a rule with a path still reaches what lies under it */
        if (hcc__rule_matches(&r, scheme, "127.0.0.1", AF_INET, v4, port) ||
            hcc__rule_matches(&r, scheme, "::1", AF_INET6, v6, port) ||
            hcc__rule_matches(&r, scheme, "localhost", AF_UNSPEC, NULL, port))
            return (long)i;
    }
    return -1;
}

/* The first address of |addrs| that is not loopback, as text, or NULL. */
static const char *exposed_address(const struct sockaddr_storage *addrs, size_t count,
                                   const hcc_list_t *texts)
{
    for (size_t i = 0; i < count; i++)
        if (!is_loopback_address(&addrs[i]))
            return i < texts->count ? texts->items[i] : "an address";
    return NULL;
}

static int refuse(const char *address, const char *allow_key, const char *rule,
                  const char *remedy, const char *key, char *reason, size_t len)
{
    return hcc__fail(reason, len,
                     "%s serves clients without credentials and %s rule %s reaches loopback: "
                     "an open proxy to this host's local services. Listen on loopback, %s, "
                     "narrow %s, or set %s = true",
                     address, allow_key, rule, remedy, allow_key, key);
}

static bool coap_listener_authenticates(const hcc_config_t *cfg, hcc_transport_t t)
{
    bool has_cert = cfg->coap_cert_file[0] != '\0';

    if (t == HCC_UDP || t == HCC_TCP)
        return false;
    return cfg->coap_client_ca_file[0] != '\0' || (cfg->ncoap_psks > 0 && !has_cert);
}

int hcc__check_coap_exposure(hcc_config_t *cfg, char *reason, size_t len)
{
    long rule;

    if (cfg->coap_unauthenticated_loopback)
        return 0;
    rule = loopback_rule(cfg->origin_rules, cfg->norigin_rules, "http");
    if (rule < 0)
        return 0;
    for (size_t i = 0; i < cfg->ncoap_listen_addrs; i++) {
        if (is_loopback_address(&cfg->coap_listen_addrs[i]) ||
            coap_listener_authenticates(cfg, cfg->coap_listen_transports[i]))
            continue;
        return refuse(i < cfg->coap_listen.count ? cfg->coap_listen.items[i] : "a listener",
                      "origin.allow", cfg->origin_allow.items[rule],
                      "make it coaps with coap.psk or coap.client_ca_file",
                      "coap.unauthenticated_loopback", reason, len);
    }
    return 0;
}

static int check_http_listeners(const hcc_config_t *cfg, const struct sockaddr_storage *addrs,
                                size_t count, const hcc_list_t *texts, bool authenticates,
                                const char *remedy, char *reason, size_t len)
{
    const char *address;
    long rule;

    if (cfg->http_unauthenticated_loopback || authenticates ||
        (address = exposed_address(addrs, count, texts)) == NULL)
        return 0;
    rule = loopback_rule(cfg->allow_rules, cfg->nallow_rules, "coap");
    if (rule < 0)
        return 0;
    return refuse(address, "upstream.allow", cfg->upstream_allow.items[rule], remedy,
                  "http.unauthenticated_loopback", reason, len);
}

int hcc__check_http_exposure(hcc_config_t *cfg, char *reason, size_t len)
{
    return check_http_listeners(cfg, cfg->listen_addrs, cfg->nlisten_addrs, &cfg->http_listen,
                                cfg->http_bearer_tokens.count > 0, "set http.bearer_tokens",
                                reason, len);
}

int hcc__check_https_exposure(hcc_config_t *cfg, char *reason, size_t len)
{
    return check_http_listeners(cfg, cfg->https_listen_addrs, cfg->nhttps_listen_addrs,
                                &cfg->https_listen,
                                cfg->http_bearer_tokens.count > 0 ||
                                    cfg->https_client_ca_file[0] != '\0',
                                "set http.bearer_tokens or https.client_ca_file", reason, len);
}

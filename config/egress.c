/* config/egress.c: origin.http_proxy, the forward proxy the reverse direction reaches HTTP origins
 * through (a corporate firewall's), and origin.no_proxy, the origins reached without it.
 *
 * The proxy is only ever the one configured here: libcurl's own reading of http_proxy,
 * https_proxy, ALL_PROXY and NO_PROXY from the environment is switched off (proxy/origin.c), so
 * that a variable meant for some other program cannot send internal origins to it. */
#include <stdlib.h>
#include <string.h>

#include "hcc.h"
#include "hcc_internal.h"

/* "http://host:port", a trailing '/' allowed. The host is a name, an IPv4 address or an IPv6
 * one in brackets, checked by the rule parser (rules.c), which knows all three. No user:password:
 * a secret does not belong in a value that --check-config prints and logs may show. No https://
 * proxy either: an https origin's TLS runs end to end through a CONNECT tunnel (RFC 9110
 * s9.3.6) whatever the proxy connection is. */
int hcc__check_http_proxy(hcc_config_t *cfg, char *reason, size_t len)
{
    const char *url = cfg->origin_http_proxy, *authority;
    size_t alen;
    char buf[300], err[200];
    hcc_rule_t rule;

    if (url[0] == '\0')
        return 0;
    if (strncmp(url, "http://", 7) != 0)
        return hcc__fail(reason, len, "%s: must be http://host:port (an HTTP proxy; https origins "
                                      "go through it in a CONNECT tunnel)", url);
    authority = url + 7;
    alen = strlen(authority);
    if (strchr(authority, '@') != NULL)
        return hcc__fail(reason, len, "must not carry user:password");
    if (alen > 0 && authority[alen - 1] == '/')
        alen--;
    if (alen == 0 || alen >= sizeof buf - 7 || memchr(authority, '/', alen) != NULL ||
        strpbrk(authority, "?# ") != NULL)
        return hcc__fail(reason, len, "%s: must be http://host:port, with no path", url);
    snprintf(buf, sizeof buf, "http://%.*s", (int)alen, authority);
    if (hcc__rule_parse(buf, &hcc__http_rule_schemes, &rule, err, sizeof err) != 0)
        return hcc__fail(reason, len, "%s: %s", url, err);
    if (rule.host[0] == '*')
        return hcc__fail(reason, len, "%s: must name one host", url);
    if (rule.port == 0)
        return hcc__fail(reason, len, "%s: needs a port: http://host:port", url);
    return 0;
}

/* origin.http_proxy_auth, "USER key_env=VARIABLE" or "USER key_file=PATH": the proxy's user and
 * where its password is (HTTP Basic, RFC 7617), read at start like every secret (proxy/origin.c),
 * never held in the configuration. */
int hcc__derive_http_proxy_auth(hcc_config_t *cfg, char *reason, size_t len)
{
    hcc_server_psk_t *auth = &cfg->http_proxy_auth;
    char why[200];

    memset(auth, 0, sizeof *auth);
    if (cfg->origin_http_proxy_auth[0] == '\0')
        return 0;
    if (cfg->origin_http_proxy[0] == '\0')
        return hcc__fail(reason, len, "needs origin.http_proxy");
    if (hcc_server_psk_parse(cfg->origin_http_proxy_auth, auth, why, sizeof why) != 0)
        return hcc__fail(reason, len, "%s", strcmp(why, "too long") == 0 ? why :
                         "must be USER key_env=VARIABLE or USER key_file=PATH, the password in "
                         "the variable or the file");
    if (strchr(auth->identity, ':') != NULL)
        return hcc__fail(reason, len, "a user name with ':' cannot be sent (RFC 7617 s2)");
    if (hcc__check_key_env(auth->key_env, reason, len) != 0)
        return -1;
    return hcc__check_readable(auth->key_file, reason, len);
}

/* One origin.no_proxy entry, "host", "*.domain", "IP", "CIDR", each with an optional ":port",
 * read as the host of an origin.allow rule for every scheme. */
static int parse_no_proxy(const char *text, hcc_rule_t *rule, char *reason, size_t len)
{
    char buf[400];

    if (strstr(text, "://") != NULL)
        return hcc__fail(reason, len, "%s: a host, *.domain or IP/CIDR, without a scheme", text);
    snprintf(buf, sizeof buf, "*://%s", text);
    if (hcc__rule_parse(buf, &hcc__http_rule_schemes, rule, reason, len) != 0)
        return -1;
    if (rule->path[0] != '\0')
        return hcc__fail(reason, len, "%s: a host, *.domain or IP/CIDR, without a path", text);
    return 0;
}

int hcc__derive_no_proxy(hcc_config_t *cfg, char *reason, size_t len)
{
    const hcc_list_t *list = &cfg->origin_no_proxy;
    hcc_rule_t *rules = NULL;
    char why[256];

    if (list->count > 0 && (rules = calloc(list->count, sizeof *rules)) == NULL)
        return hcc__fail(reason, len, "out of memory");
    for (size_t i = 0; i < list->count; i++) {
        if (parse_no_proxy(list->items[i], &rules[i], why, sizeof why) != 0) {
            free(rules);
            return hcc__fail(reason, len, "entry %zu: %s", i + 1, why);
        }
    }
    free(cfg->no_proxy_rules);
    cfg->no_proxy_rules = rules;
    cfg->nno_proxy_rules = list->count;
    return 0;
}

/* Through the proxy unless an entry names the origin. An entry's CIDR matches an origin written
 * as an IP address only: a name is not resolved to find out (the proxy resolves it, and this
 * host's resolver may not know it), as curl reads NO_PROXY. */
bool hcc_origin_proxied(const hcc_config_t *cfg, const char *scheme, const char *host,
                        uint16_t port)
{
    if (cfg->origin_http_proxy[0] == '\0')
        return false;
    for (size_t i = 0; i < cfg->nno_proxy_rules; i++)
        if (hcc__rule_matches(&cfg->no_proxy_rules[i], scheme, host, AF_UNSPEC, NULL, port))
            return false;
    return true;
}

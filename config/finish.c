/* config/finish.c: the fields derived from the keys (listen addresses, rules, routes) and the
 * checks a key's type cannot make. They run once every source is read, on the effective values,
 * so a flag may put right what the file got wrong; an error still names where the value came
 * from, which origin[] remembers. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* Parses every address of |list| into a new array for *|addrs|, which it replaces. */
static int derive_addrs(const hcc_list_t *list, struct sockaddr_storage **addrs_out,
                        size_t *count_out, char *reason, size_t len)
{
    struct sockaddr_storage *addrs = NULL;

    if (list->count > 0 && (addrs = calloc(list->count, sizeof(*addrs))) == NULL)
        return hcc__fail(reason, len, "out of memory");
    for (size_t i = 0; i < list->count; i++) {
        if (parse_listen(list->items[i], &addrs[i], reason, len) != 0) {
            free(addrs);
            return -1;
        }
    }
    free(*addrs_out);
    *addrs_out = addrs;
    *count_out = list->count;
    return 0;
}

static int derive_listen(hcc_config_t *cfg, char *reason, size_t len)
{
    if (cfg->http_listen.count == 0 && cfg->https_listen.count == 0)
        return hcc__fail(reason, len, "needs at least one address, or https.listen one");
    return derive_addrs(&cfg->http_listen, &cfg->listen_addrs, &cfg->nlisten_addrs, reason, len);
}

static const struct {
    const char *prefix;
    hcc_transport_t transport;
} listen_schemes[] = {
    {"coap://", HCC_UDP}, {"coaps://", HCC_DTLS}, {"coap+tcp://", HCC_TCP}, {"coaps+tcp://", HCC_TLS},
};

/* "[scheme://]address:port": the transport, and where the address starts. */
static hcc_transport_t take_transport(const char **text)
{
    for (size_t i = 0; i < HCC_COUNTOF(listen_schemes); i++) {
        size_t n = strlen(listen_schemes[i].prefix);
        if (strncmp(*text, listen_schemes[i].prefix, n) == 0) {
            *text += n;
            return listen_schemes[i].transport;
        }
    }
    return HCC_UDP;
}

/* CoAP clients are optional: no address turns the CoAP -> HTTP direction off. */
static int derive_coap_listen(hcc_config_t *cfg, char *reason, size_t len)
{
    const hcc_list_t *list = &cfg->coap_listen;
    struct sockaddr_storage *addrs = NULL;
    hcc_transport_t *transports = NULL;

    if (list->count > 0 && ((addrs = calloc(list->count, sizeof *addrs)) == NULL ||
                            (transports = calloc(list->count, sizeof *transports)) == NULL)) {
        free(addrs);
        return hcc__fail(reason, len, "out of memory");
    }
    for (size_t i = 0; i < list->count; i++) {
        const char *text = list->items[i];

        transports[i] = take_transport(&text);
        if (parse_listen(text, &addrs[i], reason, len) != 0) {
            free(addrs);
            free(transports);
            return -1;
        }
    }
    free(cfg->coap_listen_addrs);
    free(cfg->coap_listen_transports);
    cfg->coap_listen_addrs = addrs;
    cfg->coap_listen_transports = transports;
    cfg->ncoap_listen_addrs = list->count;
    return 0;
}

/* Parses every rule of |list| into a new array for *|rules|, which it replaces. */
static int derive_rules(const hcc_list_t *list, const hcc__schemes_t *schemes,
                        hcc_rule_t **rules_out, size_t *count_out, char *reason, size_t len)
{
    hcc_rule_t *rules = NULL;

    if (list->count > 0 && (rules = calloc(list->count, sizeof(*rules))) == NULL)
        return hcc__fail(reason, len, "out of memory");
    for (size_t i = 0; i < list->count; i++) {
        if (hcc__rule_parse(list->items[i], schemes, &rules[i], reason, len) != 0) {
            free(rules);
            return -1;
        }
    }
    free(*rules_out);
    *rules_out = rules;
    *count_out = list->count;
    return 0;
}

static int derive_allow(hcc_config_t *cfg, char *reason, size_t len)
{
    return derive_rules(&cfg->upstream_allow, &hcc__coap_rule_schemes, &cfg->allow_rules,
                        &cfg->nallow_rules, reason, len);
}

static int derive_origin_allow(hcc_config_t *cfg, char *reason, size_t len)
{
    return derive_rules(&cfg->origin_allow, &hcc__http_rule_schemes, &cfg->origin_rules,
                        &cfg->norigin_rules, reason, len);
}

/* Parses every route of |list| into a new array; a prefix under |reserved| (NULL: none) is
 * refused, since requests under it never reach the routes. */
static int derive_route_list(const hcc_list_t *list, const hcc__route_kind_t *kind,
                             const char *reserved, const char *reserved_key,
                             hcc_route_t **routes_out, size_t *count_out, char *reason, size_t len)
{
    hcc_route_t *routes = NULL;

    if (list->count > 0 && (routes = calloc(list->count, sizeof(*routes))) == NULL)
        return hcc__fail(reason, len, "out of memory");
    for (size_t i = 0; i < list->count; i++) {
        if (hcc__route_parse(list->items[i], kind, &routes[i], reason, len) != 0) {
            hcc_routes_free(routes, i);
            return -1;
        }
        if (reserved != NULL && strncmp(routes[i].prefix, reserved, strlen(reserved)) == 0) {
            hcc_routes_free(routes, i + 1);
            return hcc__fail(reason, len, "route prefix must not be inside %s", reserved_key);
        }
    }
    hcc_routes_free(*routes_out, *count_out);
    *routes_out = routes;
    *count_out = list->count;
    return 0;
}

static int derive_routes(hcc_config_t *cfg, char *reason, size_t len)
{
    return derive_route_list(&cfg->http_routes, &hcc__coap_base_routes, cfg->http_hc_path,
                             hcc_keys[HCC_K_http_hc_path].name, &cfg->routes, &cfg->nroutes,
                             reason, len);
}

static int derive_coap_routes(hcc_config_t *cfg, char *reason, size_t len)
{
    return derive_route_list(&cfg->coap_routes_list, &hcc__http_base_routes, NULL, NULL,
                             &cfg->coap_routes, &cfg->ncoap_routes, reason, len);
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

/* A file named by the configuration must be there and readable: one that is not is better refused
 * by --check-config than found by the first device that reports. An empty path is no file. */
static int check_readable(const char *path, char *reason, size_t len)
{
    struct stat st;
    int fd;

    if (path[0] == '\0')
        return 0;
    fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return hcc__fail(reason, len, "%s: cannot read: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return hcc__fail(reason, len, "%s: not a file", path);
    }
    close(fd);
    return 0;
}

int hcc__check_readable(const char *path, char *reason, size_t len)
{
    return check_readable(path, reason, len);
}

/* A key named by its variable must be there when hcproxy starts (proxy/secrets.c reads it from
 * the process's environment), so --check-config fails on an unset one the way the start would. */
int hcc__check_key_env(const char *name, char *reason, size_t len)
{
    const char *value;

    if (name[0] == '\0')
        return 0;
    value = getenv(name);
    if (value == NULL || value[0] == '\0')
        return hcc__fail(reason, len, "key_env: the variable %s is not set", name);
    return 0;
}

/* The CA bundle for HTTPS origins is read when the first HTTPS exchange starts. */
static int check_ca_file(hcc_config_t *cfg, char *reason, size_t len)
{
    return check_readable(cfg->origin_ca_file, reason, len);
}

/* Parses one entry into |item|, checking what it names; 0, or -1 with the reason in |why|. */
typedef int (*entry_parser_t)(const char *text, void *item, char *why, size_t len);

/* |list|'s entries parsed into a new array of |size|-byte items (*out; NULL for none); on an
 * error nothing is kept and the reason names the entry. */
static int parse_entries(const hcc_list_t *list, size_t size, entry_parser_t parse, void **out,
                         char *reason, size_t len)
{
    char *items = NULL, why[256];

    if (list->count > 0 && (items = calloc(list->count, size)) == NULL)
        return hcc__fail(reason, len, "out of memory");
    for (size_t i = 0; i < list->count; i++) {
        if (parse(list->items[i], items + i * size, why, sizeof why) != 0) {
            free(items);
            return hcc__fail(reason, len, "entry %zu: %s", i + 1, why);
        }
    }
    *out = items;
    return 0;
}

/* Each file an entry names is checked readable now rather than at the first exchange. */
static int parse_credential(const char *text, void *item, char *why, size_t len)
{
    hcc_credential_t *c = item;

    if (hcc_credential_parse(text, c, why, len) != 0 || hcc__check_key_env(c->key_env, why, len) != 0 ||
        check_readable(c->key_file, why, len) != 0 ||
        check_readable(c->ca_file, why, len) != 0 || check_readable(c->cert_file, why, len) != 0 ||
        check_readable(c->peer_key_file, why, len) != 0)
        return -1;
    return 0;
}

static int parse_coap_psk(const char *text, void *item, char *why, size_t len)
{
    hcc_server_psk_t *psk = item;

    if (hcc_server_psk_parse(text, psk, why, len) != 0 || hcc__check_key_env(psk->key_env, why, len) != 0 ||
        check_readable(psk->key_file, why, len) != 0)
        return -1;
    return 0;
}

static int derive_credentials(hcc_config_t *cfg, char *reason, size_t len)
{
    void *creds;

    if (parse_entries(&cfg->upstream_credentials, sizeof(hcc_credential_t), parse_credential,
                      &creds, reason, len) != 0)
        return -1;
    free(cfg->credentials);
    cfg->credentials = creds;
    cfg->ncredentials = cfg->upstream_credentials.count;
    return 0;
}

static int derive_coap_psk(hcc_config_t *cfg, char *reason, size_t len)
{
    void *psks;

    if (parse_entries(&cfg->coap_psk, sizeof(hcc_server_psk_t), parse_coap_psk, &psks, reason,
                      len) != 0)
        return -1;
    free(cfg->coap_psks);
    cfg->coap_psks = psks;
    cfg->ncoap_psks = cfg->coap_psk.count;
    return 0;
}

static bool has_secure_coap_listener(const hcc_config_t *cfg)
{
    for (size_t i = 0; i < cfg->ncoap_listen_addrs; i++)
        if (cfg->coap_listen_transports[i] == HCC_DTLS || cfg->coap_listen_transports[i] == HCC_TLS)
            return true;
    return false;
}

/* A secure listener needs something to prove itself with: PSKs (DTLS only) or a certificate. */
static int check_coap_secure(hcc_config_t *cfg, char *reason, size_t len)
{
    bool has_cert = cfg->coap_cert_file[0] != '\0' && cfg->coap_key_file[0] != '\0';

    if ((cfg->coap_cert_file[0] != '\0') != (cfg->coap_key_file[0] != '\0'))
        return hcc__fail(reason, len, "coap.cert_file and coap.key_file go together");
    if (has_secure_coap_listener(cfg) && cfg->ncoap_psks == 0 && !has_cert)
        return hcc__fail(reason, len, "a coaps or coaps+tcp listener needs coap.psk or "
                                      "coap.cert_file and coap.key_file");
    if (check_readable(cfg->coap_cert_file, reason, len) != 0 ||
        check_readable(cfg->coap_key_file, reason, len) != 0)
        return -1;
    return check_readable(cfg->coap_client_ca_file, reason, len);
}

/* The HTTPS front end: its addresses, and the certificate and key every one of them needs. */
static int derive_https_listen(hcc_config_t *cfg, char *reason, size_t len)
{
    if (cfg->https_listen.count > 0 && (cfg->https_cert_file[0] == '\0' || cfg->https_key_file[0] == '\0'))
        return hcc__fail(reason, len, "needs https.cert_file and https.key_file");
    return derive_addrs(&cfg->https_listen, &cfg->https_listen_addrs, &cfg->nhttps_listen_addrs,
                        reason, len);
}

static int check_https_cert(hcc_config_t *cfg, char *reason, size_t len)
{
    return check_readable(cfg->https_cert_file, reason, len);
}

static int check_https_key(hcc_config_t *cfg, char *reason, size_t len)
{
    return check_readable(cfg->https_key_file, reason, len);
}

static int check_https_client_ca(hcc_config_t *cfg, char *reason, size_t len)
{
    return check_readable(cfg->https_client_ca_file, reason, len);
}

/* RFC 6750 s2.1: a b64token, 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
 * Fewer than 16 characters is a password, not a token: refused. The token itself never goes into
 * the reason: it is a secret, and the reason is printed. */
static int check_bearer_tokens(hcc_config_t *cfg, char *reason, size_t len)
{
    for (size_t i = 0; i < cfg->http_bearer_tokens.count; i++) {
        const char *t = cfg->http_bearer_tokens.items[i];
        size_t n = strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/");

        if (n < 16 || t[n + strspn(t + n, "=")] != '\0')
            return hcc__fail(reason, len,
                             "token %zu: must be 16 or more of A-Z a-z 0-9 - . _ ~ + / (then = "
                             "padding), RFC 6750 s2.1",
                             i + 1);
    }
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
    {HCC_K_coap_listen, derive_coap_listen},
    {HCC_K_coap_routes_list, derive_coap_routes},
    {HCC_K_origin_allow, derive_origin_allow},
    {HCC_K_origin_ca_file, check_ca_file},
    {HCC_K_origin_http_proxy, hcc__check_http_proxy},
    {HCC_K_origin_no_proxy, hcc__derive_no_proxy},
    {HCC_K_origin_http_proxy_auth, hcc__derive_http_proxy_auth},
    {HCC_K_http_bearer_tokens, check_bearer_tokens},
    {HCC_K_https_listen, derive_https_listen},
    {HCC_K_upstream_credentials, derive_credentials},
    {HCC_K_coap_psk, derive_coap_psk},
    {HCC_K_coap_listen, check_coap_secure},
    {HCC_K_https_cert_file, check_https_cert},
    {HCC_K_https_key_file, check_https_key},
    {HCC_K_https_client_ca_file, check_https_client_ca},
    /* after every rule and listener above is derived */
    {HCC_K_coap_listen, hcc__check_coap_exposure},
    {HCC_K_http_listen, hcc__check_http_exposure},
    {HCC_K_https_listen, hcc__check_https_exposure},
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
    char reason[512];

    for (size_t i = 0; i < HCC_COUNTOF(checks); i++)
        if (checks[i].check(cfg, reason, sizeof(reason)) != 0)
            return blame(cfg, checks[i].key, reason, err, errlen);
    return 0;
}

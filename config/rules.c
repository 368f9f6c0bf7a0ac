/* config/rules.c: the destinations hcproxy may reach ("scheme://host-or-CIDR[:port]": the
 * CoAP servers of upstream.allow, the HTTP origins of origin.allow) and the check of one
 * destination against them. A proxy that reaches any address it is given is an open relay into
 * the networks behind it, so nothing is allowed that no rule names: there is no "*" host, and
 * "everything" must be written 0.0.0.0/0 and [::/0]. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hcc.h"
#include "hcc_internal.h"


/* Each key takes the schemes of its own direction: an http:// rule in upstream.allow, or a
 * coap:// one in origin.allow, would never match, so it is a mistake to report. */
static const char *const coap_schemes[] = {"coap", "coaps", "coap+tcp", "coaps+tcp", "*"};
static const char *const http_schemes[] = {"http", "https", "*"};

const hcc__schemes_t hcc__coap_rule_schemes = {
    coap_schemes, HCC_COUNTOF(coap_schemes), "coap, coaps, coap+tcp, coaps+tcp or *"};
const hcc__schemes_t hcc__http_rule_schemes = {
    http_schemes, HCC_COUNTOF(http_schemes), "http, https or *"};

/* The IPv4-mapped IPv6 prefix ::ffff:0:0/96 (RFC 4291 s2.5.5.2). */
static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};


static int parse_scheme(const char *text, size_t len, const hcc__schemes_t *schemes,
                        hcc_rule_t *rule, char *err, size_t errlen)
{
    for (size_t i = 0; i < schemes->count; i++) {
        const char *name = schemes->names[i];

        if (strlen(name) == len && strncasecmp(text, name, len) == 0) {
            memcpy(rule->scheme, name, len + 1);
            return 0;
        }
    }
    return hcc__fail(err, errlen, "unknown scheme \"%.*s\" (%s)", (int)len, text, schemes->list);
}

/* An IPv4-mapped IPv6 address is an IPv4 peer seen through a dual-stack socket: it becomes
 * IPv4 here, in rules and in destinations alike, so that IPv4 rules decide for it. A rule gets
 * here with its host bits zero, so a mapped one is at least /96 long. */
static void unmap(int *family, uint8_t addr[16], unsigned *prefix_len)
{
    if (*family != AF_INET6 || memcmp(addr, v4_mapped, sizeof(v4_mapped)) != 0)
        return;
    *family = AF_INET;
    memmove(addr, addr + 12, 4);
    memset(addr + 4, 0, 12);
    if (prefix_len != NULL)
        *prefix_len -= 96;
}

static bool bits_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
    unsigned whole = bits / 8, rest = bits % 8;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));

    return memcmp(a, b, whole) == 0 && (rest == 0 || ((a[whole] ^ b[whole]) & mask) == 0);
}

/* Whether the bits of |addr| past |prefix_len| are zero. One set is a typo or a misreading
 * (10.0.0.1/8 is not "10.0.0.1"), so a rule with one is refused rather than silently widened. */
static bool host_bits_zero(const uint8_t addr[16], unsigned prefix_len, unsigned max)
{
    for (unsigned b = prefix_len; b < max; b++)
        if (addr[b / 8] & (0x80 >> (b % 8)))
            return false;
    return true;
}

static int parse_prefix_len(const char *text, const char *slash, unsigned max, hcc_rule_t *rule,
                            char *err, size_t errlen)
{
    char *end;
    unsigned long len;

    rule->prefix_len = max;
    if (slash == NULL)
        return 0;
    len = strtoul(slash + 1, &end, 10);
    if (!isdigit((unsigned char)slash[1]) || *end != '\0' || len > max)
        return hcc__fail(err, errlen, "bad prefix length in %s: must be 0 to %u", text, max);
    rule->prefix_len = (unsigned)len;
    return 0;
}

/* "10.0.0.0/8" or, from inside brackets, "fd00::/8"; no "/len" is one address. */
static int parse_cidr(const char *text, int family, hcc_rule_t *rule, char *err, size_t errlen)
{
    const char *name = family == AF_INET ? "IPv4" : "IPv6";
    unsigned max = family == AF_INET ? 32 : 128;
    const char *slash = strchr(text, '/');
    size_t alen = slash != NULL ? (size_t)(slash - text) : strlen(text);
    char addr[INET6_ADDRSTRLEN + 8];

    if (alen >= sizeof(addr))
        return hcc__fail(err, errlen, "bad %s address %s", name, text);
    memcpy(addr, text, alen);
    addr[alen] = '\0';
    if (inet_pton(family, addr, rule->addr) != 1)
        return hcc__fail(err, errlen, "bad %s address %s", name, addr);
    if (parse_prefix_len(text, slash, max, rule, err, errlen) != 0)
        return -1;
    if (!host_bits_zero(rule->addr, rule->prefix_len, max))
        return hcc__fail(err, errlen, "host bits set in %s", text);
    rule->is_cidr = true;
    rule->family = family;
    unmap(&rule->family, rule->addr, &rule->prefix_len);
    return 0;
}

/* One LDH label (RFC 1123 s2.1): letters, digits and inner hyphens, 1 to 63 of them. */
static bool is_label(const char *s, size_t len)
{
    if (len == 0 || len > 63 || s[0] == '-' || s[len - 1] == '-')
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-')
            return false;
    return true;
}

/* "sensor.example" or "*.example.net", stored in lower case. */
static int parse_name(const char *text, hcc_rule_t *rule, char *err, size_t errlen)
{
    const char *name = strncmp(text, "*.", 2) == 0 ? text + 2 : text;
    size_t len = strlen(name);

    if (len > 253)
        return hcc__fail(err, errlen, "host name longer than 253 bytes");
    for (const char *p = name;; p++) {
        size_t n = strcspn(p, ".");

        if (!is_label(p, n))
            return hcc__fail(err, errlen, "bad host name %s", text);
        p += n;
        if (*p == '\0')
            break;
    }
    for (size_t i = 0; text[i] != '\0'; i++)
        rule->host[i] = (char)tolower((unsigned char)text[i]);
    return 0;
}

static int parse_port(const char *text, hcc_rule_t *rule, char *err, size_t errlen)
{
    char *end;
    unsigned long port;

    if (strcmp(text, "*") == 0)
        return 0;
    port = strtoul(text, &end, 10);
    if (!isdigit((unsigned char)text[0]) || *end != '\0' || port < 1 || port > 65535)
        return hcc__fail(err, errlen, "bad port \"%s\": must be * or 1 to 65535", text);
    rule->port = (uint16_t)port;
    return 0;
}

/* Copies the host of "host[:port]", "[v6[/len]][:port]" or "[v6]/len[:port]" into |host|, the
 * brackets dropped and a /len kept (both spellings of a v6 CIDR are in use), and points *rest
 * at what follows it: "" or ":port". */
static int split_host(const char *text, char *host, size_t size, const char **rest, char *err,
                      size_t errlen)
{
    bool bracket = text[0] == '[';
    const char *close = bracket ? strchr(text, ']') : text + strcspn(text, ":");
    const char *after = close != NULL ? close + bracket : NULL;
    size_t len = close != NULL ? (size_t)(close - text) - bracket : 0;
    size_t plen = after != NULL && bracket && after[0] == '/' ? strcspn(after, ":") : 0;

    if (close == NULL)
        return hcc__fail(err, errlen, "missing ] after [%s", text + 1);
    if (!bracket && *close == ':' && strchr(close + 1, ':') != NULL)
        return hcc__fail(err, errlen, "an IPv6 address needs brackets: [%s]", text);
    if (len == 0)
        return hcc__fail(err, errlen, "empty host");
    if (len + plen >= size)
        return hcc__fail(err, errlen, "host name longer than 253 bytes");
    snprintf(host, size, "%.*s%.*s", (int)len, text + bracket, (int)plen, after);
    after += plen;
    if (*after != '\0' && *after != ':')
        return hcc__fail(err, errlen, "unexpected %s after the host", after);
    *rest = after;
    return 0;
}

static int parse_authority(const char *text, hcc_rule_t *rule, char *err, size_t errlen)
{
    char host[300];
    const char *rest = "";
    int rc;

    if (split_host(text, host, sizeof(host), &rest, err, errlen) != 0)
        return -1;
    /* Digits and dots mean IPv4: 10.0.0.256 is a typo, not a name that would never match. */
    if (text[0] == '[')
        rc = parse_cidr(host, AF_INET6, rule, err, errlen);
    else if (strspn(host, "0123456789.") == strcspn(host, "/"))
        rc = parse_cidr(host, AF_INET, rule, err, errlen);
    else if (strchr(host, '/') != NULL)
        rc = hcc__fail(err, errlen, "unexpected %s after the host", strchr(host, '/'));
    else
        rc = parse_name(host, rule, err, errlen);
    if (rc == 0 && *rest == ':')
        rc = parse_port(rest + 1, rule, err, errlen);
    return rc;
}

int hcc__rule_parse(const char *text, const hcc__schemes_t *schemes, hcc_rule_t *rule, char *err,
                    size_t errlen)
{
    const char *sep = strstr(text, "://");

    memset(rule, 0, sizeof(*rule));
    if (sep == NULL)
        return hcc__fail(err, errlen, "%s: must be scheme://host-or-CIDR[:port]", text);
    if (parse_scheme(text, (size_t)(sep - text), schemes, rule, err, errlen) != 0)
        return -1;
    return parse_authority(sep + 3, rule, err, errlen);
}

int hcc_rule_parse(const char *text, hcc_rule_t *rule, char *err, size_t errlen)
{
    return hcc__rule_parse(text, &hcc__coap_rule_schemes, rule, err, errlen);
}

/* ---- matching ---- */

/* The destination's address: the resolved one, else the host if it is an IP literal. */
static bool dest_addr(const char *host, int family, const void *addr, int *fam, uint8_t ip[16])
{
    memset(ip, 0, 16);
    if (addr != NULL && (family == AF_INET || family == AF_INET6)) {
        memcpy(ip, addr, family == AF_INET ? 4 : 16);
        *fam = family;
    } else if (addr == NULL && host != NULL && inet_pton(AF_INET, host, ip) == 1) {
        *fam = AF_INET;
    } else if (addr == NULL && host != NULL && inet_pton(AF_INET6, host, ip) == 1) {
        *fam = AF_INET6;
    } else {
        return false;
    }
    unmap(fam, ip, NULL);
    return true;
}

/* "example.net" matches itself; "*.example.net" matches names below it, not itself. Case does
 * not matter in DNS (RFC 4343), and "a.example.net." is the same name as "a.example.net". */
static bool name_matches(const char *pattern, const char *host)
{
    size_t hlen = strlen(host);
    bool wild = strncmp(pattern, "*.", 2) == 0;
    const char *suffix = wild ? pattern + 1 : pattern; /* ".example.net" when wild */
    size_t slen = strlen(suffix);

    if (hlen > 0 && host[hlen - 1] == '.')
        hlen--;
    if (wild ? hlen <= slen : hlen != slen)
        return false;
    return strncasecmp(host + hlen - slen, suffix, slen) == 0;
}

static bool rule_matches(const hcc_rule_t *r, const char *scheme, const char *host, bool has_ip,
                         int fam, const uint8_t ip[16], uint16_t port)
{
    if (strcmp(r->scheme, "*") != 0 && (scheme == NULL || strcasecmp(r->scheme, scheme) != 0))
        return false;
    if (r->port != 0 && r->port != port)
        return false;
    if (r->is_cidr)
        return has_ip && fam == r->family && bits_match(ip, r->addr, r->prefix_len);
    return host != NULL && name_matches(r->host, host);
}

/* A rule's "*" scheme stands for the schemes of its own list alone, never "*" itself. */
static bool scheme_in(const char *scheme, const char *const *schemes, size_t count)
{
    for (size_t i = 0; scheme != NULL && i < count; i++)
        if (strcmp(schemes[i], "*") != 0 && strcasecmp(schemes[i], scheme) == 0)
            return true;
    return false;
}

/* RFC 8075 s10.4: a proxy forwarding to a multicast group would answer one request with many
 * servers' responses, or amplify traffic for whoever sent it; hcproxy never does. The IPv4
 * limited broadcast address is refused with them. */
bool hcc_is_multicast(int family, const void *addr)
{
    uint8_t ip[16] = { 0 };

    if (addr == NULL || (family != AF_INET && family != AF_INET6))
        return false;
    memcpy(ip, addr, family == AF_INET ? 4 : 16);
    unmap(&family, ip, NULL);
    if (family == AF_INET)
        return (ip[0] & 0xf0) == 224 || memcmp(ip, "\xff\xff\xff\xff", 4) == 0;
    return ip[0] == 0xff;
}

bool hcc__rule_matches(const hcc_rule_t *r, const char *scheme, const char *host, int family,
                       const void *addr, uint16_t port)
{
    uint8_t ip[16];
    int fam = AF_UNSPEC;
    bool has_ip = dest_addr(host, family, addr, &fam, ip);

    return rule_matches(r, scheme, host, has_ip, fam, ip, port);
}

/* Whether one of |rules| matches the destination; hcc_allows() spells out the arguments. */
static bool rules_allow(const hcc_rule_t *rules, size_t count, const char *const *schemes,
                        size_t nschemes, const char *scheme, const char *host, int family,
                        const void *addr, uint16_t port)
{
    uint8_t ip[16];
    int fam = AF_UNSPEC;
    bool has_ip = dest_addr(host, family, addr, &fam, ip);

    if (!scheme_in(scheme, schemes, nschemes) || (has_ip && hcc_is_multicast(fam, ip)))
        return false;
    for (size_t i = 0; i < count; i++)
        if (rule_matches(&rules[i], scheme, host, has_ip, fam, ip, port))
            return true;
    return false;
}

bool hcc_allows(const hcc_config_t *cfg, const char *scheme, const char *host, int family,
                const void *addr, uint16_t port)
{
    return rules_allow(cfg->allow_rules, cfg->nallow_rules, coap_schemes, HCC_COUNTOF(coap_schemes),
                       scheme, host, family, addr, port);
}

bool hcc_origin_allows(const hcc_config_t *cfg, const char *scheme, const char *host, int family,
                       const void *addr, uint16_t port)
{
    return rules_allow(cfg->origin_rules, cfg->norigin_rules, http_schemes,
                       HCC_COUNTOF(http_schemes), scheme, host, family, addr, port);
}

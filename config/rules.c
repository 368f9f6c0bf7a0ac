/* config/rules.c: the destinations hcproxy may reach ("scheme://host-or-CIDR[:port][/path]":
 * the CoAP servers of upstream.allow, the HTTP origins of origin.allow) and the check of one
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

/* Where the path of "host-or-CIDR[:port][/path]" begins (its '/', or the end). A '/' and a
 * digit right after an IPv4 address, or an IPv6 one in brackets, start a prefix length
 * ("10.0.0.0/8/sensors", "[fd00::]/8:5683/x"): a path whose first segment begins with a digit
 * needs the prefix length written out ("10.0.0.1/32/7"). */
static const char *path_start(const char *text)
{
    const char *p;
    bool may_have_len;

    if (text[0] == '[') {
        p = strchr(text, ']');
        p = p != NULL ? p + 1 : text + strlen(text);
        may_have_len = true;
    } else {
        p = text + strcspn(text, ":/");
        may_have_len = strspn(text, "0123456789.") == (size_t)(p - text); /* not a name */
    }
    if (may_have_len && p[0] == '/' && isdigit((unsigned char)p[1]))
        p += 1 + strcspn(p + 1, ":/");
    return p + strcspn(p, "/");
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

/* ---- paths ---- */

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The byte at |*p| of a segment ending at |end|, a %HH decoded; |*p| moves past it. */
static int next_byte(const char **p, const char *end)
{
    const char *s = *p;

    if (s[0] == '%' && end - s >= 3 && hex_value(s[1]) >= 0 && hex_value(s[2]) >= 0) {
        *p = s + 3;
        return hex_value(s[1]) << 4 | hex_value(s[2]);
    }
    *p = s + 1;
    return (unsigned char)s[0];
}

/* Whether two segments are the same once percent-decoded: "a%62" is "ab", "%2f" a byte of its
 * segment, never a separator. */
static bool segment_equal(const char *a, const char *aend, const char *b, const char *bend)
{
    while (a < aend && b < bend)
        if (next_byte(&a, aend) != next_byte(&b, bend))
            return false;
    return a == aend && b == bend;
}

/* "." or "..", also spelt %2E: the server would resolve it (RFC 3986 s5.2.4). */
static bool is_dot_segment(const char *s, const char *end)
{
    int first = s < end ? next_byte(&s, end) : -1;
    int second = s < end ? next_byte(&s, end) : -1;

    return first == '.' && s == end && (second == -1 || second == '.');
}

/* A segment that a server could take for more than one: a '/' or '\\' inside it, spelt %2F or
 * %5C ("public/..%2F..%2Fsecret": many HTTP servers decode %2F before routing, and a CoAP server
 * is given "../../secret" as one Uri-Path), a literal '\\' (a separator to some servers), or a
 * NUL that would end the segment early for a server in C. */
static bool hides_separator(const char *s, const char *end)
{
    while (s < end) {
        int b = next_byte(&s, end);
        if (b == '/' || b == '\\' || b == '\0')
            return true;
    }
    return false;
}

/* Whether the server could resolve |path| outside what its segments say: a "." or ".."
 * segment (RFC 3986 s5.2.4), or one hiding a separator. */
static bool may_climb_out(const char *path)
{
    for (const char *seg = path; *seg != '\0';) {
        const char *end = seg + strcspn(seg, "/");

        if (is_dot_segment(seg, end) || hides_separator(seg, end))
            return true;
        seg = *end == '/' ? end + 1 : end;
    }
    return false;
}

/* Whether |prefix| ("a/b", a rule's path without its first '/') is |path|'s first segments
 * ("/a/b", "/a/b/", "/a/b/c", not "/a/bc"). A path the server could resolve outside its
 * segments matches no prefix: it could climb out of it. */
static bool path_has_prefix(const char *path, const char *prefix)
{
    if (path == NULL || may_climb_out(path))
        return false;
    path += path[0] == '/';
    for (;;) {
        const char *pend = path + strcspn(path, "/"), *rend = prefix + strcspn(prefix, "/");

        if (!segment_equal(path, pend, prefix, rend))
            return false;
        if (*rend == '\0')
            return true;
        if (*pend == '\0')
            return false;
        path = pend + 1;
        prefix = rend + 1;
    }
}

/* RFC 3986 s3.3: a pchar is unreserved, a sub-delim, ':', '@' or %HH. */
static bool is_pchar(const char *p)
{
    if (p[0] == '%')
        return hex_value(p[1]) >= 0 && hex_value(p[2]) >= 0;
    return isalnum((unsigned char)p[0]) || strchr("-._~!$&'()*+,;=:@", p[0]) != NULL;
}

/* "/sensors/temp" or "/sensors/temp/", stored as "sensors/temp"; "/" alone is every path, as no
 * path is. Segments may not be empty or dots: such a prefix is a mistake, and "/a/../b" would
 * not mean what it seems to. */
static int parse_path(const char *text, hcc_rule_t *rule, char *err, size_t errlen)
{
    size_t len = strlen(text);

    if (len > 2 && text[len - 1] == '/' && text[len - 2] != '/')
        len--;
    if (len >= sizeof(rule->path) + 1)
        return hcc__fail(err, errlen, "path longer than %zu bytes", sizeof(rule->path) - 1);
    for (size_t i = 1; i < len; i++)
        if (text[i] != '/' && !is_pchar(text + i))
            return hcc__fail(err, errlen, "bad character in the path %s", text);
    memcpy(rule->path, text + 1, len - 1);
    rule->path[len - 1] = '\0';
    for (const char *seg = rule->path; len > 1;) {
        const char *end = seg + strcspn(seg, "/");

        if (end == seg || is_dot_segment(seg, end))
            return hcc__fail(err, errlen, "empty or dot segment in the path %s", text);
        if (*end == '\0')
            break;
        seg = end + 1;
    }
    return 0;
}

int hcc__rule_parse(const char *text, const hcc__schemes_t *schemes, hcc_rule_t *rule, char *err,
                    size_t errlen)
{
    const char *sep = strstr(text, "://"), *path;
    char authority[400];

    memset(rule, 0, sizeof(*rule));
    if (sep == NULL)
        return hcc__fail(err, errlen, "%s: must be scheme://host-or-CIDR[:port][/path]", text);
    if (parse_scheme(text, (size_t)(sep - text), schemes, rule, err, errlen) != 0)
        return -1;
    path = path_start(sep + 3);
    if ((size_t)(path - (sep + 3)) >= sizeof(authority))
        return hcc__fail(err, errlen, "host name longer than 253 bytes");
    snprintf(authority, sizeof(authority), "%.*s", (int)(path - (sep + 3)), sep + 3);
    if (parse_authority(authority, rule, err, errlen) != 0)
        return -1;
    return *path != '\0' ? parse_path(path, rule, err, errlen) : 0;
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
                         int fam, const uint8_t ip[16], uint16_t port, const char *path)
{
    if (strcmp(r->scheme, "*") != 0 && (scheme == NULL || strcasecmp(r->scheme, scheme) != 0))
        return false;
    if (r->port != 0 && r->port != port)
        return false;
    if (r->path[0] != '\0' && !path_has_prefix(path, r->path))
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

    return rule_matches(r, scheme, host, has_ip, fam, ip, port, NULL);
}

/* Whether one of |rules| matches the destination; hcc_allows() spells out the arguments. */
static bool rules_allow(const hcc_rule_t *rules, size_t count, const char *const *schemes,
                        size_t nschemes, const char *scheme, const char *host, int family,
                        const void *addr, uint16_t port, const char *path)
{
    uint8_t ip[16];
    int fam = AF_UNSPEC;
    bool has_ip = dest_addr(host, family, addr, &fam, ip);

    if (!scheme_in(scheme, schemes, nschemes) || (has_ip && hcc_is_multicast(fam, ip)))
        return false;
    for (size_t i = 0; i < count; i++)
        if (rule_matches(&rules[i], scheme, host, has_ip, fam, ip, port, path))
            return true;
    return false;
}

bool hcc_allows(const hcc_config_t *cfg, const char *scheme, const char *host, int family,
                const void *addr, uint16_t port, const char *path)
{
    return rules_allow(cfg->allow_rules, cfg->nallow_rules, coap_schemes, HCC_COUNTOF(coap_schemes),
                       scheme, host, family, addr, port, path);
}

bool hcc_origin_allows(const hcc_config_t *cfg, const char *scheme, const char *host, int family,
                       const void *addr, uint16_t port, const char *path)
{
    return rules_allow(cfg->origin_rules, cfg->norigin_rules, http_schemes,
                       HCC_COUNTOF(http_schemes), scheme, host, family, addr, port, path);
}

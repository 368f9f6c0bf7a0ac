/* hcc_rule_parse(), hcc_allows() and hcc_origin_allows() (config/rules.c): upstream.allow takes
 * rules with the CoAP schemes, origin.allow with the HTTP ones, through the same parser. */
#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hcc.h"
#include "run_suite.h"

#define COUNTOF(a) (sizeof(a) / sizeof((a)[0]))

/* Good rules and what they must parse to; the address is written as text, as a reader would. */
typedef struct good_rule {
    const char *text;
    const char *scheme;
    bool is_cidr;
    int family;
    const char *addr;
    unsigned prefix_len;
    const char *host;
    uint16_t port;
    const char *path;
} good_rule_t;

static const good_rule_t good_rules[] = {
    {"coap://127.0.0.0/8", "coap", true, AF_INET, "127.0.0.0", 8, "", 0, ""},
    {"coap://127.0.0.1", "coap", true, AF_INET, "127.0.0.1", 32, "", 0, ""},
    {"coap://10.1.2.3/32:65535", "coap", true, AF_INET, "10.1.2.3", 32, "", 65535, ""},
    {"coap+tcp://0.0.0.0/0", "coap+tcp", true, AF_INET, "0.0.0.0", 0, "", 0, ""},
    {"coap://192.168.0.0/23:*", "coap", true, AF_INET, "192.168.0.0", 23, "", 0, ""},
    {"coap://[::1]", "coap", true, AF_INET6, "::1", 128, "", 0, ""},
    {"coap://[fd00::/8]:5683", "coap", true, AF_INET6, "fd00::", 8, "", 5683, ""},
    {"coap://[fd00::]/8", "coap", true, AF_INET6, "fd00::", 8, "", 0, ""}, /* docker/README.md */
    {"coap://[fd00::]/8:5683", "coap", true, AF_INET6, "fd00::", 8, "", 5683, ""},
    {"coaps://[::/0]", "coaps", true, AF_INET6, "::", 0, "", 0, ""},
    /* IPv4-mapped rules become IPv4, so they meet unmapped destinations (RFC 4291 s2.5.5.2) */
    {"coap://[::ffff:10.0.0.0/104]", "coap", true, AF_INET, "10.0.0.0", 8, "", 0, ""},
    {"coap://[::ffff:10.0.0.1]", "coap", true, AF_INET, "10.0.0.1", 32, "", 0, ""},
    {"coap://[::ffff:0:0/96]", "coap", true, AF_INET, "0.0.0.0", 0, "", 0, ""},
    {"coap://[::fffe:0:0/95]", "coap", true, AF_INET6, "::fffe:0:0", 95, "", 0, ""},
    {"*://localhost:5683", "*", false, 0, NULL, 0, "localhost", 5683, ""},
    {"coap://*.example.net", "coap", false, 0, NULL, 0, "*.example.net", 0, ""},
    {"COAPS+TCP://Sensor.Example:*", "coaps+tcp", false, 0, NULL, 0, "sensor.example", 0, ""},
    {"coap://a-b.c1.example:1", "coap", false, 0, NULL, 0, "a-b.c1.example", 1, ""},
    {"coap://xn--bcher-kva.example", "coap", false, 0, NULL, 0, "xn--bcher-kva.example", 0, ""},
    /* paths: after the host, the prefix length or the port; "/" alone is every path */
    {"coap://sensor/temp", "coap", false, 0, NULL, 0, "sensor", 0, "temp"},
    {"coap://sensor:5683/a/b/", "coap", false, 0, NULL, 0, "sensor", 5683, "a/b"},
    {"coap://sensor/8", "coap", false, 0, NULL, 0, "sensor", 0, "8"},
    {"coap://sensor/", "coap", false, 0, NULL, 0, "sensor", 0, ""},
    {"coap://10.0.0.0/8/sensors", "coap", true, AF_INET, "10.0.0.0", 8, "", 0, "sensors"},
    {"coap://10.0.0.0/8:5683/s", "coap", true, AF_INET, "10.0.0.0", 8, "", 5683, "s"},
    {"coap://10.0.0.1/32/7", "coap", true, AF_INET, "10.0.0.1", 32, "", 0, "7"},
    {"coap://10.0.0.1/rd", "coap", true, AF_INET, "10.0.0.1", 32, "", 0, "rd"},
    {"coap://10.0.0.0/", "coap", true, AF_INET, "10.0.0.0", 32, "", 0, ""},
    {"coap://[::1]/", "coap", true, AF_INET6, "::1", 128, "", 0, ""},
    {"coap://[fd00::]/8/s", "coap", true, AF_INET6, "fd00::", 8, "", 0, "s"},
    {"coap://[fd00::/8]:5683/s/t", "coap", true, AF_INET6, "fd00::", 8, "", 5683, "s/t"},
    {"coap://[::1]/a%20b/~x:@!$&'()*+,;=", "coap", true, AF_INET6, "::1", 128, "", 0,
     "a%20b/~x:@!$&'()*+,;="},
};

static const struct {
    const char *text;
    const char *err;
} bad_rules[] = {
    {"127.0.0.1", "127.0.0.1: must be scheme://host-or-CIDR[:port][/path]"},
    {"coap:/127.0.0.1", "coap:/127.0.0.1: must be scheme://host-or-CIDR[:port][/path]"},
    {"http://127.0.0.1", "unknown scheme \"http\" (coap, coaps, coap+tcp, coaps+tcp or *)"},
    {"https://127.0.0.1", "unknown scheme \"https\" (coap, coaps, coap+tcp, coaps+tcp or *)"},
    {"://127.0.0.1", "unknown scheme \"\" (coap, coaps, coap+tcp, coaps+tcp or *)"},
    {"coap://10.0.0.1/8", "host bits set in 10.0.0.1/8"},
    {"coap://192.168.1.0/23", "host bits set in 192.168.1.0/23"},
    {"coap://[fd00::1/8]", "host bits set in fd00::1/8"},
    {"coap://[fd00::1]/8", "host bits set in fd00::1/8"},
    {"coap://[::ffff:0:0/80]", "host bits set in ::ffff:0:0/80"},
    {"coap://10.0.0.0/33", "bad prefix length in 10.0.0.0/33: must be 0 to 32"},
    {"coap://10.0.0.0/8x", "bad prefix length in 10.0.0.0/8x: must be 0 to 32"},
    {"coap://[::/129]", "bad prefix length in ::/129: must be 0 to 128"},
    {"coap://[::/-1]", "bad prefix length in ::/-1: must be 0 to 128"},
    {"coap://10.0.0.256", "bad IPv4 address 10.0.0.256"},
    {"coap://10.0.0/8", "bad IPv4 address 10.0.0"},
    {"coap://[::g]", "bad IPv6 address ::g"},
    {"coap://[fe80::1%eth0]", "bad IPv6 address fe80::1%eth0"},
    {"coap://[10.0.0.1]", "bad IPv6 address 10.0.0.1"},
    {"coap://[::1", "missing ] after [::1"},
    {"coap://", "empty host"},
    {"coap://:5683", "empty host"},
    {"coap://[]:5683", "empty host"},
    {"coap://::1", "an IPv6 address needs brackets: [::1]"},
    {"coap://fe80::1:5683", "an IPv6 address needs brackets: [fe80::1:5683]"},
    {"coap://a..b", "bad host name a..b"},
    {"coap://-a.example", "bad host name -a.example"},
    {"coap://a-.example", "bad host name a-.example"},
    {"coap://a_b.example", "bad host name a_b.example"},
    {"coap://example.", "bad host name example."},
    {"coap://*", "bad host name *"},
    {"coap://*.*.example", "bad host name *.*.example"},
    {"coap://a.*.example", "bad host name a.*.example"},
    {"coap://[::1]x", "unexpected x after the host"},
    {"coap://[::1]/8x", "bad prefix length in ::1/8x: must be 0 to 128"},
    {"coap://h/a//b", "empty or dot segment in the path /a//b"},
    {"coap://h//", "empty or dot segment in the path //"},
    {"coap://h/a/../b", "empty or dot segment in the path /a/../b"},
    {"coap://h/a/.", "empty or dot segment in the path /a/."},
    {"coap://h/%2e%2E", "empty or dot segment in the path /%2e%2E"},
    {"coap://h/a?x=1", "bad character in the path /a?x=1"},
    {"coap://h/a#f", "bad character in the path /a#f"},
    {"coap://h/a b", "bad character in the path /a b"},
    {"coap://h/%zz", "bad character in the path /%zz"},
    {"coap://h/%4", "bad character in the path /%4"},
    {"coap://h:5683x/a", "bad port \"5683x\": must be * or 1 to 65535"},
    {"coap://x:0", "bad port \"0\": must be * or 1 to 65535"},
    {"coap://x:65536", "bad port \"65536\": must be * or 1 to 65535"},
    {"coap://x:", "bad port \"\": must be * or 1 to 65535"},
    {"coap://x:80x", "bad port \"80x\": must be * or 1 to 65535"},
    {"coap://x:-1", "bad port \"-1\": must be * or 1 to 65535"},
    {"coap://x:1:2", "an IPv6 address needs brackets: [x:1:2]"},
};

/* The HTTP schemes in origin.allow: the same hosts, CIDRs and ports as upstream.allow. */
static const good_rule_t good_origin_rules[] = {
    {"http://127.0.0.0/8", "http", true, AF_INET, "127.0.0.0", 8, "", 0, ""},
    {"https://10.1.2.3/32:8443", "https", true, AF_INET, "10.1.2.3", 32, "", 8443, ""},
    {"http://[::1]", "http", true, AF_INET6, "::1", 128, "", 0, ""},
    {"HTTPS://[fd00::]/8:443", "https", true, AF_INET6, "fd00::", 8, "", 443, ""},
    {"http://[::ffff:10.0.0.0/104]", "http", true, AF_INET, "10.0.0.0", 8, "", 0, ""},
    {"http://localhost:8000", "http", false, 0, NULL, 0, "localhost", 8000, ""},
    {"https://*.Example.NET:*", "https", false, 0, NULL, 0, "*.example.net", 0, ""},
    {"*://api.example", "*", false, 0, NULL, 0, "api.example", 0, ""},
    {"https://api.example/v1/", "https", false, 0, NULL, 0, "api.example", 0, "v1"},
    {"http://10.0.0.0/8:8000/lwm2m/rd", "http", true, AF_INET, "10.0.0.0", 8, "", 8000, "lwm2m/rd"},
};

static void check_rule(const hcc_rule_t *rule, const good_rule_t *want)
{
    uint8_t addr[16] = {0};

    ck_assert_str_eq(rule->scheme, want->scheme);
    ck_assert_int_eq(rule->is_cidr, want->is_cidr);
    ck_assert_uint_eq(rule->port, want->port);
    ck_assert_str_eq(rule->host, want->host);
    ck_assert_str_eq(rule->path, want->path);
    if (!want->is_cidr)
        return;
    ck_assert_int_eq(rule->family, want->family);
    ck_assert_int_eq(inet_pton(want->family, want->addr, addr), 1);
    ck_assert_mem_eq(rule->addr, addr, sizeof(addr));
    ck_assert_uint_eq(rule->prefix_len, want->prefix_len);
}

START_TEST(parse_good)
{
    hcc_rule_t rule;
    char err[256] = "";

    ck_assert_int_eq(hcc_rule_parse(good_rules[_i].text, &rule, err, sizeof(err)), 0);
    ck_assert_str_eq(err, "");
    check_rule(&rule, &good_rules[_i]);
}
END_TEST

START_TEST(parse_good_origin)
{
    hcc_config_t cfg;
    char err[256] = "";

    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof(err)), 0);
    ck_assert_int_eq(hcc_set(&cfg, "origin.allow", good_origin_rules[_i].text, err, sizeof(err)),
                     0);
    ck_assert_msg(hcc_finish(&cfg, err, sizeof(err)) == 0, "%s", err);
    ck_assert_uint_eq(cfg.norigin_rules, 1);
    check_rule(&cfg.origin_rules[0], &good_origin_rules[_i]);
    hcc_free(&cfg);
}
END_TEST

/* origin.allow's errors, as hcc_finish() reports them: the CoAP schemes are refused there, as
 * the HTTP ones are in upstream.allow, and the rest is the parser's. */
#define HTTP_SCHEMES "(http, https or *)"
static const struct {
    const char *text;
    const char *err;
} bad_origin_rules[] = {
    {"coap://127.0.0.1", "origin.allow: unknown scheme \"coap\" " HTTP_SCHEMES},
    {"coaps+tcp://h", "origin.allow: unknown scheme \"coaps+tcp\" " HTTP_SCHEMES},
    {"ftp://h", "origin.allow: unknown scheme \"ftp\" " HTTP_SCHEMES},
    {"http+unix://h", "origin.allow: unknown scheme \"http+unix\" " HTTP_SCHEMES},
    {"ws://h", "origin.allow: unknown scheme \"ws\" " HTTP_SCHEMES},
    {"://h", "origin.allow: unknown scheme \"\" " HTTP_SCHEMES},
    {"localhost", "origin.allow: localhost: must be scheme://host-or-CIDR[:port][/path]"},
    {"http:/h", "origin.allow: http:/h: must be scheme://host-or-CIDR[:port][/path]"},
    {"http://10.0.0.1/8", "origin.allow: host bits set in 10.0.0.1/8"},
    {"https://[::1", "origin.allow: missing ] after [::1"},
    {"http://", "origin.allow: empty host"},
    {"http://a_b.example", "origin.allow: bad host name a_b.example"},
    {"http://api.example/v1/../admin", "origin.allow: empty or dot segment in the path /v1/../admin"},
    {"http://h:0", "origin.allow: bad port \"0\": must be * or 1 to 65535"},
    {"https://h:65536", "origin.allow: bad port \"65536\": must be * or 1 to 65535"},
    {"http://h, coap://h", "origin.allow: unknown scheme \"coap\" " HTTP_SCHEMES},
};

START_TEST(parse_bad_origin)
{
    hcc_config_t cfg;
    char err[256] = "";

    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof(err)), 0);
    ck_assert_int_eq(hcc_set(&cfg, "origin.allow", bad_origin_rules[_i].text, err, sizeof(err)),
                     0);
    ck_assert_int_eq(hcc_finish(&cfg, err, sizeof(err)), -1);
    ck_assert_str_eq(err, bad_origin_rules[_i].err);
    /* the rules in force before stay, whole */
    ck_assert_uint_eq(cfg.norigin_rules, 3);
    hcc_free(&cfg);
}
END_TEST

START_TEST(parse_bad)
{
    hcc_rule_t rule;
    char err[256] = "";

    ck_assert_int_eq(hcc_rule_parse(bad_rules[_i].text, &rule, err, sizeof(err)), -1);
    ck_assert_str_eq(err, bad_rules[_i].err);
}
END_TEST

/* A label may have 63 bytes and a name 253 (RFC 1035 s2.3.4), the "*." of a pattern aside. */
START_TEST(parse_name_lengths)
{
    char text[400], label63[64], err[256];
    hcc_rule_t rule;

    memset(label63, 'a', 63);
    label63[63] = '\0';
    snprintf(text, sizeof(text), "coap://%s.example", label63);
    ck_assert_int_eq(hcc_rule_parse(text, &rule, err, sizeof(err)), 0);
    snprintf(text, sizeof(text), "coap://%sa.example", label63);
    ck_assert_int_eq(hcc_rule_parse(text, &rule, err, sizeof(err)), -1);
    /* four 63-byte labels and a 1-byte one: 4 * 64 + 1 = 257 bytes */
    snprintf(text, sizeof(text), "coap://*.%s.%s.%s.%s.a", label63, label63, label63, label63);
    ck_assert_int_eq(hcc_rule_parse(text, &rule, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "host name longer than 253 bytes");
    /* 3 * 64 + 61 = 253 bytes, under "*." */
    snprintf(text, sizeof(text), "coap://*.%s.%s.%s.%.61s", label63, label63, label63, label63);
    ck_assert_int_eq(hcc_rule_parse(text, &rule, err, sizeof(err)), 0);
    ck_assert_uint_eq(strlen(rule.host), 255);
}
END_TEST

/* One destination against a list of rules in their text form. A NULL addr is a destination not
 * resolved yet. */
typedef struct allow_row {
    const char *rules;
    const char *scheme;
    const char *host;
    int family;
    const char *addr;
    uint16_t port;
    bool allowed;
    const char *path; /* the target's, as written; NULL here is "/" */
} allow_row_t;

typedef bool (*allows_fn)(const hcc_config_t *cfg, const char *scheme, const char *host,
                          int family, const void *addr, uint16_t port, const char *path);

/* |row|'s rules set as |key|, then |allows| asked about its destination. */
static void check_allow_row(const char *key, allows_fn allows, const allow_row_t *row)
{
    hcc_config_t cfg;
    uint8_t addr[16];
    char err[256] = "";

    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof(err)), 0);
    ck_assert_int_eq(hcc_set(&cfg, key, row->rules, err, sizeof(err)), 0);
    ck_assert_msg(hcc_finish(&cfg, err, sizeof(err)) == 0, "%s", err);
    if (row->addr != NULL)
        ck_assert_int_eq(inet_pton(row->family, row->addr, addr), 1);
    ck_assert_int_eq(allows(&cfg, row->scheme, row->host, row->family,
                            row->addr != NULL ? addr : NULL, row->port,
                            row->path != NULL ? row->path : "/"),
                     row->allowed);
    hcc_free(&cfg);
}

/* upstream.allow, as hcc_allows() decides. */
static const allow_row_t allows[] = {
    /* IPv4 CIDR */
    {"coap://127.0.0.0/8", "coap", "localhost", AF_INET, "127.1.2.3", 5683, true, NULL},
    {"coap://127.0.0.0/8", "coap", "localhost", AF_INET, "128.0.0.1", 5683, false, NULL},
    {"coap://10.0.0.0/8", "coap", "h", AF_INET, "10.255.255.255", 5683, true, NULL},
    {"coap://10.1.2.3", "coap", "h", AF_INET, "10.1.2.3", 5683, true, NULL},
    {"coap://10.1.2.3", "coap", "h", AF_INET, "10.1.2.4", 5683, false, NULL},
    {"coap://192.168.0.0/23", "coap", "h", AF_INET, "192.168.1.7", 5683, true, NULL},
    {"coap://192.168.0.0/23", "coap", "h", AF_INET, "192.168.2.1", 5683, false, NULL},
    {"coap://0.0.0.0/0", "coap", "h", AF_INET, "8.8.8.8", 5683, true, NULL},
    /* IPv6 CIDR */
    {"coap://[fd00::/8]", "coap", "h", AF_INET6, "fdff::1", 5683, true, NULL},
    {"coap://[fd00::/8]", "coap", "h", AF_INET6, "fe00::1", 5683, false, NULL},
    {"coap://[::1]", "coap", "h", AF_INET6, "::1", 5683, true, NULL},
    {"coap://[::1]", "coap", "h", AF_INET6, "::2", 5683, false, NULL},
    {"coap://[2001:db8::/33]", "coap", "h", AF_INET6, "2001:db8:7fff::1", 5683, true, NULL},
    {"coap://[2001:db8::/33]", "coap", "h", AF_INET6, "2001:db8:8000::1", 5683, false, NULL},
    /* families do not mix, except through IPv4-mapped addresses */
    {"coap://[::/0]", "coap", "h", AF_INET, "1.2.3.4", 5683, false, NULL},
    {"coap://0.0.0.0/0", "coap", "h", AF_INET6, "::1", 5683, false, NULL},
    {"coap://127.0.0.0/8", "coap", "h", AF_INET6, "::ffff:127.0.0.1", 5683, true, NULL},
    {"coap://10.0.0.0/8", "coap", "h", AF_INET6, "::ffff:11.0.0.1", 5683, false, NULL},
    {"coap://0.0.0.0/0", "coap", "h", AF_INET6, "::ffff:8.8.8.8", 5683, true, NULL},
    {"coap://[::ffff:10.0.0.0/104]", "coap", "h", AF_INET, "10.2.3.4", 5683, true, NULL},
    {"coap://[::/0]", "coap", "h", AF_INET6, "::ffff:1.2.3.4", 5683, false, NULL},
    /* ports */
    {"coap://10.0.0.0/8:5683", "coap", "h", AF_INET, "10.0.0.1", 5683, true, NULL},
    {"coap://10.0.0.0/8:5683", "coap", "h", AF_INET, "10.0.0.1", 5684, false, NULL},
    {"coap://10.0.0.0/8:*", "coap", "h", AF_INET, "10.0.0.1", 1, true, NULL},
    {"coap://10.0.0.0/8", "coap", "h", AF_INET, "10.0.0.1", 65535, true, NULL},
    {"coap://a.example:61616", "coap", "a.example", AF_INET, NULL, 61616, true, NULL},
    {"coap://a.example:61616", "coap", "a.example", AF_INET, NULL, 5683, false, NULL},
    /* schemes */
    {"coap://10.0.0.0/8", "coaps", "h", AF_INET, "10.0.0.1", 5684, false, NULL},
    {"coap://10.0.0.0/8", "COAP", "h", AF_INET, "10.0.0.1", 5683, true, NULL},
    {"*://10.0.0.0/8", "coaps+tcp", "h", AF_INET, "10.0.0.1", 5684, true, NULL},
    {"coap+tcp://a.example", "coap", "a.example", AF_INET, NULL, 5683, false, NULL},
    {"coap+tcp://a.example", "coap+tcp", "a.example", AF_INET, NULL, 5683, true, NULL},
    /* names: case-insensitive (RFC 4343); "*." is strictly below */
    {"coap://*.example.net", "coap", "a.example.net", AF_INET, NULL, 5683, true, NULL},
    {"coap://*.example.net", "coap", "b.a.example.net", AF_INET, NULL, 5683, true, NULL},
    {"coap://*.example.net", "coap", "example.net", AF_INET, NULL, 5683, false, NULL},
    {"coap://*.example.net", "coap", "aexample.net", AF_INET, NULL, 5683, false, NULL},
    {"coap://*.example.net", "coap", "A.EXAMPLE.NET", AF_INET, NULL, 5683, true, NULL},
    {"coap://*.example.net", "coap", "a.example.net.", AF_INET, NULL, 5683, true, NULL},
    {"coap://*.example.net", "coap", "a.example.org", AF_INET, NULL, 5683, false, NULL},
    {"coap://example.net", "coap", "example.net", AF_INET, NULL, 5683, true, NULL},
    {"coap://example.net", "coap", "Example.NET", AF_INET, NULL, 5683, true, NULL},
    {"coap://example.net", "coap", "a.example.net", AF_INET, NULL, 5683, false, NULL},
    {"coap://example.net", "coap", "example.ne", AF_INET, NULL, 5683, false, NULL},
    {"coap://example.net", "coap", NULL, AF_INET, "10.0.0.1", 5683, false, NULL},
    /* a name rule still holds once the name is resolved */
    {"coap://localhost", "coap", "localhost", AF_INET, "10.0.0.1", 5683, true, NULL},
    /* an IP-literal host is matched against CIDR rules before resolution */
    {"coap://127.0.0.0/8", "coap", "127.0.0.1", AF_INET, NULL, 5683, true, NULL},
    {"coap://127.0.0.0/8", "coap", "128.0.0.1", AF_INET, NULL, 5683, false, NULL},
    {"coap://[::1]", "coap", "::1", AF_INET6, NULL, 5683, true, NULL},
    {"coap://127.0.0.0/8", "coap", "::ffff:127.0.0.1", AF_INET6, NULL, 5683, true, NULL},
    {"coap://127.0.0.0/8", "coap", "localhost", AF_INET, NULL, 5683, false, NULL},
    /* the resolved address decides over the host's text */
    {"coap://10.0.0.0/8", "coap", "10.0.0.1", AF_INET, "11.0.0.1", 5683, false, NULL},
    /* several rules, and none */
    {"coap://a.example, coap://10.0.0.0/8", "coap", "b.example", AF_INET, "10.0.0.1", 5683, true, NULL},
    {"coap://a.example, coap://10.0.0.0/8", "coap", "b.example", AF_INET, "11.0.0.1", 5683, false, NULL},
    {"", "coap", "127.0.0.1", AF_INET, "127.0.0.1", 5683, false, NULL},
    /* a path is a prefix of whole segments, compared once percent-decoded */
    {"coap://10.0.0.0/8/sensors", "coap", "h", AF_INET, "10.0.0.1", 5683, true, "/sensors"},
    {"coap://10.0.0.0/8/sensors", "coap", "h", AF_INET, "10.0.0.1", 5683, true, "/sensors/"},
    {"coap://10.0.0.0/8/sensors", "coap", "h", AF_INET, "10.0.0.1", 5683, true, "/sensors/t/1"},
    {"coap://10.0.0.0/8/sensors", "coap", "h", AF_INET, "10.0.0.1", 5683, false, "/sensorsx"},
    {"coap://10.0.0.0/8/sensors", "coap", "h", AF_INET, "10.0.0.1", 5683, false, "/Sensors"},
    {"coap://10.0.0.0/8/sensors", "coap", "h", AF_INET, "10.0.0.1", 5683, false, "/"},
    {"coap://10.0.0.0/8/sensors", "coap", "h", AF_INET, "10.0.0.1", 5683, false, ""},
    {"coap://10.0.0.0/8/sensors", "coap", "h", AF_INET, "10.0.0.2", 5683, false, "/a/sensors"},
    {"coap://10.0.0.0/8/sensors", "coap", "h", AF_INET, "11.0.0.1", 5683, false, "/sensors"},
    {"coap://10.0.0.0/8/sensors", "coap", "h", AF_INET, "10.0.0.1", 5683, true, "/%73ensors/t"},
    {"coap://10.0.0.0/8/sensors", "coap", "h", AF_INET, "10.0.0.1", 5683, false, "/sensors%2Ft"},
    {"coap://10.0.0.0/8/sensors", "coap", "h", AF_INET, "10.0.0.1", 5683, false, "/sensors/../a"},
    {"coap://10.0.0.0/8/sensors", "coap", "h", AF_INET, "10.0.0.1", 5683, false, "/sensors/%2e"},
    {"coap://10.0.0.0/8/sensors", "coap", "h", AF_INET, "10.0.0.1", 5683, true, "/sensors/.x"},
    /* A '/' or '\\' hidden in a segment passes no path rule, even one that names it: a server may
     * decode it and climb out ("public/..%2F..%2Fsecret" is "../../secret" to it). */
    {"coap://10.0.0.0/8/a%2Fb", "coap", "h", AF_INET, "10.0.0.1", 5683, false, "/a%2fb/c"},
    {"coap://10.0.0.0/8/public", "coap", "h", AF_INET, "10.0.0.1", 5683, false, "/public/..%2F..%2Fsecret"},
    {"coap://10.0.0.0/8/public", "coap", "h", AF_INET, "10.0.0.1", 5683, false, "/public/..%5C..%5Csecret"},
    {"coap://10.0.0.0/8/public", "coap", "h", AF_INET, "10.0.0.1", 5683, false, "/public/..\\secret"},
    {"coap://10.0.0.0/8/public", "coap", "h", AF_INET, "10.0.0.1", 5683, false, "/public/a%00b"},
    {"coap://10.0.0.0/8/public", "coap", "h", AF_INET, "10.0.0.1", 5683, false, "/public/%2E%2e"},
    {"coap://10.0.0.0/8/public", "coap", "h", AF_INET, "10.0.0.1", 5683, true, "/public/a%2Eb"},
    {"coap://10.0.0.0/8/public", "coap", "h", AF_INET, "10.0.0.1", 5683, true, "/public/..a"},
    {"coap://10.0.0.0/8/a%2Fb", "coap", "h", AF_INET, "10.0.0.1", 5683, false, "/a/b/c"},
    {"coap://10.0.0.0/8/a%20b", "coap", "h", AF_INET, "10.0.0.1", 5683, true, "/a%20b"},
    {"coap://10.0.0.0/8/a%20b", "coap", "h", AF_INET, "10.0.0.1", 5683, false, "/a%2520b"},
    {"coap://10.0.0.0/8/a/b", "coap", "h", AF_INET, "10.0.0.1", 5683, false, "/a"},
    {"coap://10.0.0.0/8/a/b", "coap", "h", AF_INET, "10.0.0.1", 5683, true, "/a/b/c"},
    {"coap://10.0.0.0/8/", "coap", "h", AF_INET, "10.0.0.1", 5683, true, "/anything"},
    {"coap://10.0.0.0/8/", "coap", "h", AF_INET, "10.0.0.1", 5683, true, ""},
    {"coap://a.example:5683/v1", "coap", "a.example", AF_INET, NULL, 5683, true, "/v1/x"},
    {"coap://a.example:5683/v1", "coap", "a.example", AF_INET, NULL, 5684, false, "/v1/x"},
    {"coap://10.0.0.1/32/7", "coap", "h", AF_INET, "10.0.0.1", 5683, true, "/7/x"},
    {"coap://[fd00::]/8/s", "coap", "h", AF_INET6, "fd00::1", 5683, true, "/s"},
    /* OSCORE: the path is inside the ciphertext; only a rule without one can allow it */
    {"coap://10.0.0.0/8/rd, coap://10.0.0.9", "coap", "h", AF_INET, "10.0.0.9", 5683, true, ""},
    {"coap://10.0.0.0/8/rd, coap://10.0.0.9", "coap", "h", AF_INET, "10.0.0.8", 5683, false, ""},
    {"coap://10.0.0.0/8/rd, coap://10.0.0.9", "coap", "h", AF_INET, "10.0.0.8", 5683, true, "/rd"},
};

START_TEST(allows_row)
{
    check_allow_row("upstream.allow", hcc_allows, &allows[_i]);
}
END_TEST

/* One HTTP origin against origin.allow, as hcc_origin_allows() decides: the matching of
 * hcc_allows(), with the HTTP schemes. */
static const allow_row_t origin_allows[] = {
    /* CIDRs, both families, and mapped addresses */
    {"http://127.0.0.0/8", "http", "localhost", AF_INET, "127.0.0.1", 80, true, NULL},
    {"http://127.0.0.0/8", "http", "h", AF_INET, "128.0.0.1", 80, false, NULL},
    {"http://127.0.0.0/8", "http", "h", AF_INET6, "::ffff:127.0.0.2", 80, true, NULL},
    {"http://[fd00::/8]", "http", "h", AF_INET6, "fd12::1", 8080, true, NULL},
    {"http://[fd00::/8]", "http", "h", AF_INET6, "fe80::1", 8080, false, NULL},
    {"http://[::1]", "http", "::1", AF_INET6, NULL, 8000, true, NULL},
    {"http://127.0.0.0/8", "http", "127.0.0.1", AF_INET, NULL, 8000, true, NULL},
    {"http://127.0.0.0/8", "http", "localhost", AF_INET, NULL, 8000, false, NULL},
    /* schemes: http and https are distinct; "*" is both; case does not matter */
    {"http://10.0.0.0/8", "https", "h", AF_INET, "10.0.0.1", 443, false, NULL},
    {"https://10.0.0.0/8", "https", "h", AF_INET, "10.0.0.1", 443, true, NULL},
    {"https://10.0.0.0/8", "http", "h", AF_INET, "10.0.0.1", 80, false, NULL},
    {"https://10.0.0.0/8", "HTTPS", "h", AF_INET, "10.0.0.1", 443, true, NULL},
    {"*://10.0.0.0/8", "https", "h", AF_INET, "10.0.0.1", 443, true, NULL},
    {"*://10.0.0.0/8", "http", "h", AF_INET, "10.0.0.1", 80, true, NULL},
    {"http://10.0.0.0/8", "coap", "h", AF_INET, "10.0.0.1", 5683, false, NULL},
    {"http://10.0.0.0/8", NULL, "h", AF_INET, "10.0.0.1", 80, false, NULL},
    /* ports */
    {"http://localhost:8000", "http", "localhost", AF_INET, NULL, 8000, true, NULL},
    {"http://localhost:8000", "http", "localhost", AF_INET, NULL, 8001, false, NULL},
    {"https://api.example:*", "https", "api.example", AF_INET, NULL, 1, true, NULL},
    /* names, and a name still holding once resolved */
    {"https://*.example.net", "https", "lwm2m.example.net", AF_INET, NULL, 443, true, NULL},
    {"https://*.example.net", "https", "example.net", AF_INET, NULL, 443, false, NULL},
    {"https://api.example", "https", "API.Example.", AF_INET, NULL, 443, true, NULL},
    {"https://api.example", "https", "api.example", AF_INET6, "2001:db8::1", 443, true, NULL},
    {"https://api.example", "https", "evil.example", AF_INET, "10.0.0.1", 443, false, NULL},
    /* the resolved address decides over the host's text */
    {"http://10.0.0.0/8", "http", "10.0.0.1", AF_INET, "11.0.0.1", 80, false, NULL},
    /* several rules, and none */
    {"https://api.example, http://10.0.0.0/8", "http", "b.example", AF_INET, "10.9.9.9", 80, true, NULL},
    {"https://api.example, http://10.0.0.0/8", "http", "api.example", AF_INET, NULL, 80, false, NULL},
    {"", "http", "127.0.0.1", AF_INET, "127.0.0.1", 80, false, NULL},
    /* paths */
    {"https://api.example/v1", "https", "api.example", AF_INET, NULL, 443, true, "/v1/rd"},
    {"https://api.example/v1", "https", "api.example", AF_INET, NULL, 443, false, "/v2/rd"},
    {"https://api.example/v1", "https", "api.example", AF_INET, NULL, 443, false, "/v1/../v2"},
    {"https://api.example/v1", "https", "api.example", AF_INET, NULL, 443, false, "/v1/%2E%2E/v2"},
    {"https://api.example/v1", "https", "api.example", AF_INET, NULL, 443, false, "/v1/..%2F..%2Fadmin"},
    {"https://api.example/v1", "https", "api.example", AF_INET, NULL, 443, false, "/v1/..%5cadmin"},
};

START_TEST(origin_allows_row)
{
    check_allow_row("origin.allow", hcc_origin_allows, &origin_allows[_i]);
}
END_TEST

/* The two directions keep their own rules: opening one opens nothing in the other. */
START_TEST(directions_apart)
{
    hcc_config_t cfg;
    uint8_t ip[4] = {10, 0, 0, 1};
    char err[256] = "";

    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof(err)), 0);
    ck_assert_int_eq(hcc_set(&cfg, "upstream.allow", "*://10.0.0.0/8", err, sizeof(err)), 0);
    ck_assert_int_eq(hcc_set(&cfg, "origin.allow", "", err, sizeof(err)), 0);
    ck_assert_msg(hcc_finish(&cfg, err, sizeof(err)) == 0, "%s", err);
    ck_assert(hcc_allows(&cfg, "coap", "h", AF_INET, ip, 5683, "/"));
    ck_assert(!hcc_allows(&cfg, "http", "h", AF_INET, ip, 80, "/")); /* "*": any CoAP scheme, no other */
    ck_assert(!hcc_origin_allows(&cfg, "http", "h", AF_INET, ip, 80, "/"));
    ck_assert_int_eq(hcc_set(&cfg, "upstream.allow", "", err, sizeof(err)), 0);
    ck_assert_int_eq(hcc_set(&cfg, "origin.allow", "*://10.0.0.0/8", err, sizeof(err)), 0);
    ck_assert_msg(hcc_finish(&cfg, err, sizeof(err)) == 0, "%s", err);
    ck_assert(!hcc_allows(&cfg, "coap", "h", AF_INET, ip, 5683, "/"));
    ck_assert(hcc_origin_allows(&cfg, "http", "h", AF_INET, ip, 80, "/"));
    ck_assert(hcc_origin_allows(&cfg, "https", "h", AF_INET, ip, 443, "/"));
    hcc_free(&cfg);
}
END_TEST

/* The embedded defaults reach this host only. */
/* Multicast groups and the IPv4 broadcast address (RFC 8075 s10.4), as literals in the table. */
static const struct {
    const char *addr;
    bool is_multicast;
} multicast_rows[] = {
    {"224.0.0.1", true},       {"224.0.1.187", true}, /* All CoAP Nodes, RFC 7252 s12.8 */
    {"239.255.255.255", true}, {"255.255.255.255", true},
    {"223.255.255.255", false}, {"240.0.0.1", false}, {"127.0.0.1", false},
    {"ff02::fd", true},        {"ff05::fd", true},     {"ff00::", true},
    {"::ffff:224.0.1.187", true}, {"::ffff:10.0.0.1", false},
    {"fe80::1", false},        {"::1", false},          {"2001:db8::1", false},
};

START_TEST(multicast_row)
{
    uint8_t addr[16];
    int family = strchr(multicast_rows[_i].addr, ':') != NULL ? AF_INET6 : AF_INET;

    ck_assert_int_eq(inet_pton(family, multicast_rows[_i].addr, addr), 1);
    ck_assert_msg(hcc_is_multicast(family, addr) == multicast_rows[_i].is_multicast, "%s",
                  multicast_rows[_i].addr);
}
END_TEST

/* No rule opens a multicast group, not even one that spans it. */
START_TEST(multicast_never_allowed)
{
    hcc_config_t cfg;
    uint8_t group[4] = {224, 0, 1, 187}, unicast[4] = {192, 0, 2, 1};
    char err[256] = "";

    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof(err)), 0);
    ck_assert_int_eq(hcc_set(&cfg, "upstream.allow", "*://0.0.0.0/0,*://[::]/0", err, sizeof(err)), 0);
    ck_assert_int_eq(hcc_set(&cfg, "origin.allow", "*://0.0.0.0/0", err, sizeof(err)), 0);
    ck_assert_msg(hcc_finish(&cfg, err, sizeof(err)) == 0, "%s", err);
    ck_assert(hcc_allows(&cfg, "coap", "h", AF_INET, unicast, 5683, "/"));
    ck_assert(!hcc_allows(&cfg, "coap", "h", AF_INET, group, 5683, "/"));
    ck_assert(!hcc_allows(&cfg, "coap", "224.0.1.187", AF_UNSPEC, NULL, 5683, "/"));
    ck_assert(!hcc_allows(&cfg, "coap", "ff02::fd", AF_UNSPEC, NULL, 5683, "/"));
    ck_assert(!hcc_origin_allows(&cfg, "http", "h", AF_INET, group, 80, "/"));
    hcc_free(&cfg);
}
END_TEST

START_TEST(allows_defaults)
{
    hcc_config_t cfg;
    uint8_t v4[4] = {127, 0, 0, 1}, other[4] = {192, 0, 2, 1}, v6[16] = {[15] = 1};
    char err[256];

    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof(err)), 0);
    ck_assert(hcc_allows(&cfg, "coap", "localhost", AF_INET, NULL, 5683, "/"));
    ck_assert(hcc_allows(&cfg, "coap", "h", AF_INET, v4, 5683, "/"));
    ck_assert(hcc_allows(&cfg, "coap", "h", AF_INET6, v6, 5683, "/"));
    ck_assert(!hcc_allows(&cfg, "coap", "h", AF_INET, other, 5683, "/"));
    ck_assert(hcc_allows(&cfg, "coaps", "localhost", AF_INET, v4, 5684, "/")); /* every transport */
    ck_assert(hcc_allows(&cfg, "coaps+tcp", "h", AF_INET6, v6, 5684, "/"));
    ck_assert(!hcc_allows(&cfg, "coaps", "h", AF_INET, other, 5684, "/"));
    ck_assert(!hcc_allows(&cfg, "http", "localhost", AF_INET, v4, 80, "/")); /* a CoAP scheme only */
    /* HTTP origins too: http and https on this host, any port */
    ck_assert(hcc_origin_allows(&cfg, "http", "localhost", AF_INET, NULL, 8000, "/"));
    ck_assert(hcc_origin_allows(&cfg, "http", "h", AF_INET, v4, 80, "/"));
    ck_assert(hcc_origin_allows(&cfg, "http", "h", AF_INET6, v6, 8080, "/"));
    ck_assert(!hcc_origin_allows(&cfg, "http", "h", AF_INET, other, 80, "/"));
    ck_assert(hcc_origin_allows(&cfg, "https", "localhost", AF_INET, v4, 443, "/"));
    ck_assert(hcc_origin_allows(&cfg, "https", "h", AF_INET6, v6, 8443, "/"));
    ck_assert(!hcc_origin_allows(&cfg, "https", "h", AF_INET, other, 443, "/"));
    ck_assert(!hcc_origin_allows(&cfg, "coap", "localhost", AF_INET, v4, 5683, "/"));
    hcc_free(&cfg);
}
END_TEST

static Suite *rules_suite(void)
{
    Suite *s = suite_create("config_rules");
    TCase *tc = tcase_create("parse");

    tcase_add_loop_test(tc, parse_good, 0, COUNTOF(good_rules));
    tcase_add_loop_test(tc, parse_bad, 0, COUNTOF(bad_rules));
    tcase_add_loop_test(tc, parse_good_origin, 0, COUNTOF(good_origin_rules));
    tcase_add_loop_test(tc, parse_bad_origin, 0, COUNTOF(bad_origin_rules));
    tcase_add_test(tc, parse_name_lengths);
    suite_add_tcase(s, tc);
    tc = tcase_create("allows");
    tcase_add_loop_test(tc, allows_row, 0, COUNTOF(allows));
    tcase_add_loop_test(tc, origin_allows_row, 0, COUNTOF(origin_allows));
    tcase_add_test(tc, directions_apart);
    tcase_add_test(tc, allows_defaults);
    tcase_add_loop_test(tc, multicast_row, 0, COUNTOF(multicast_rows));
    tcase_add_test(tc, multicast_never_allowed);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(rules_suite());
}

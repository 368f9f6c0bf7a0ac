/* The key table, hcc_set(), hcc_defaults(), hcc_free(), hcc_print() and hcc_print_help()
 * (config/text.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hcc.h"
#include "run_suite.h"

#define COUNTOF(a) (sizeof(a) / sizeof((a)[0]))

/* The defaults, typed from keys.def's columns by hand rather than read back from the table. */
START_TEST(defaults_valid)
{
    hcc_config_t cfg;
    char err[256] = "";

    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof(err)), 0);
    ck_assert_str_eq(err, "");
    ck_assert_uint_eq(cfg.http_listen.count, 1);
    ck_assert_str_eq(cfg.http_listen.items[0], "127.0.0.1:8080");
    ck_assert_str_eq(cfg.http_hc_path, "/hc/");
    ck_assert_int_eq(cfg.http_max_connections, 1024);
    ck_assert_int_eq(cfg.http_idle_timeout_s, 30);
    ck_assert_int_eq(cfg.http_max_body_bytes, 4194304);
    ck_assert_int_eq(cfg.http_max_header_bytes, 8192);
    ck_assert_uint_eq(cfg.upstream_allow.count, 3);
    ck_assert_str_eq(cfg.upstream_allow.items[0], "*://127.0.0.0/8");
    ck_assert_str_eq(cfg.upstream_allow.items[1], "*://[::1]");
    ck_assert_str_eq(cfg.upstream_allow.items[2], "*://localhost");
    ck_assert_int_eq(cfg.upstream_timeout_ms, 60000);
    ck_assert_int_eq(cfg.upstream_ack_timeout_ms, 2000);
    ck_assert_double_eq(cfg.upstream_ack_random_factor, 1.5);
    ck_assert_int_eq(cfg.upstream_max_retransmit, 4);
    ck_assert_int_eq(cfg.upstream_nstart, 1);
    ck_assert_int_eq(cfg.upstream_max_inflight, 10000);
    ck_assert_int_eq(cfg.upstream_block_size, 1024);
    ck_assert_int_eq(cfg.log_level, HCC_LOG_INFO);
    /* the reverse direction: CoAP clients to HTTP origins on this host only */
    ck_assert_uint_eq(cfg.coap_listen.count, 1);
    ck_assert_str_eq(cfg.coap_listen.items[0], "127.0.0.1:5683");
    ck_assert_uint_eq(cfg.coap_routes_list.count, 0);
    ck_assert_int_eq(cfg.coap_max_body_bytes, 4194304);
    ck_assert_int_eq(cfg.coap_piggyback_wait_ms, 1000); /* below ACK_TIMEOUT, RFC 7252 s4.8 */
    ck_assert_int_eq(cfg.coap_dedup_max_entries, 100000);
    ck_assert_int_eq(cfg.coap_dedup_max_bytes, 33554432);
    ck_assert_int_eq(cfg.coap_amplification_factor, 3); /* RFC 7252 s11.3 */
    ck_assert_uint_eq(cfg.origin_allow.count, 3);
    ck_assert_str_eq(cfg.origin_allow.items[0], "*://127.0.0.0/8");
    ck_assert_str_eq(cfg.origin_allow.items[1], "*://[::1]");
    ck_assert_str_eq(cfg.origin_allow.items[2], "*://localhost");
    ck_assert_int_eq(cfg.origin_timeout_ms, 30000);
    ck_assert_int_eq(cfg.origin_connect_timeout_ms, 5000);
    ck_assert(cfg.origin_verify_tls);
    ck_assert_str_eq(cfg.origin_ca_file, "");
    ck_assert_int_eq(cfg.origin_redirects, 0);
    ck_assert_int_eq(cfg.origin_max_response_bytes, 16777216);
    ck_assert_int_eq(cfg.origin_max_connections, 64);
    /* derived by hcc_defaults() too */
    ck_assert_uint_eq(cfg.nlisten_addrs, 1);
    ck_assert_int_eq(cfg.listen_addrs[0].ss_family, AF_INET);
    ck_assert_uint_eq(cfg.nallow_rules, 3);
    ck_assert_uint_eq(cfg.ncoap_listen_addrs, 1);
    ck_assert_int_eq(cfg.coap_listen_addrs[0].ss_family, AF_INET);
    ck_assert_uint_eq(cfg.norigin_rules, 3);
    ck_assert_str_eq(cfg.origin_rules[0].scheme, "*");
    ck_assert_uint_eq(cfg.ncoap_routes, 0);
    ck_assert_ptr_null(cfg.coap_routes);
    ck_assert_ptr_null(cfg.source);
    for (size_t i = 0; i < HCC_NKEYS; i++)
        ck_assert_int_eq(cfg.origin[i].from, HCC_FROM_DEFAULT);
    hcc_free(&cfg);
}
END_TEST

/* ---- the key table ---- */

/* Keys are "group.name", one level, and their flags and variables do not collide. */
START_TEST(key_shape)
{
    const hcc_key_t *k = &hcc_keys[_i];
    const char *dot = strchr(k->name, '.');
    char flag[64], env[64], other[64];

    ck_assert_ptr_nonnull(dot);
    ck_assert_ptr_null(strchr(dot + 1, '.'));
    ck_assert_ptr_eq(hcc_key_find(k->name), k);
    ck_assert_ptr_nonnull(k->help);
    hcc_key_flag(k, flag, sizeof(flag));
    hcc_key_env(k, env, sizeof(env));
    for (size_t j = 0; j < HCC_NKEYS; j++) {
        if (j == (size_t)_i)
            continue;
        ck_assert_str_ne(hcc_keys[j].name, k->name);
        hcc_key_flag(&hcc_keys[j], other, sizeof(other));
        ck_assert_str_ne(other, flag);
        hcc_key_env(&hcc_keys[j], other, sizeof(other));
        ck_assert_str_ne(other, env);
    }
}
END_TEST

static const struct {
    const char *key, *flag, *env;
} names[] = {
    {"http.listen", "--http-listen", "HCPROXY_HTTP_LISTEN"},
    {"http.max_connections", "--http-max-connections", "HCPROXY_HTTP_MAX_CONNECTIONS"},
    {"upstream.ack_random_factor", "--upstream-ack-random-factor",
     "HCPROXY_UPSTREAM_ACK_RANDOM_FACTOR"},
    {"log.level", "--log-level", "HCPROXY_LOG_LEVEL"},
    {"coap.listen", "--coap-listen", "HCPROXY_COAP_LISTEN"},
    {"coap.routes", "--coap-routes", "HCPROXY_COAP_ROUTES"},
    {"coap.max_body_bytes", "--coap-max-body-bytes", "HCPROXY_COAP_MAX_BODY_BYTES"},
    {"origin.allow", "--origin-allow", "HCPROXY_ORIGIN_ALLOW"},
    {"origin.connect_timeout_ms", "--origin-connect-timeout-ms",
     "HCPROXY_ORIGIN_CONNECT_TIMEOUT_MS"},
    {"origin.verify_tls", "--origin-verify-tls", "HCPROXY_ORIGIN_VERIFY_TLS"},
    {"origin.ca_file", "--origin-ca-file", "HCPROXY_ORIGIN_CA_FILE"},
    {"origin.max_response_bytes", "--origin-max-response-bytes",
     "HCPROXY_ORIGIN_MAX_RESPONSE_BYTES"},
};

START_TEST(key_names)
{
    const hcc_key_t *k = hcc_key_find(names[_i].key);
    char buf[64];

    ck_assert_ptr_nonnull(k);
    hcc_key_flag(k, buf, sizeof(buf));
    ck_assert_str_eq(buf, names[_i].flag);
    hcc_key_env(k, buf, sizeof(buf));
    ck_assert_str_eq(buf, names[_i].env);
    hcc_key_env(k, buf, 10); /* truncated, still a string */
    ck_assert_uint_eq(strlen(buf), 9);
    ck_assert_int_eq(strncmp(buf, names[_i].env, 9), 0);
}
END_TEST

START_TEST(key_unknown)
{
    ck_assert_ptr_null(hcc_key_find("http.lsten"));
    ck_assert_ptr_null(hcc_key_find("http"));
    ck_assert_ptr_null(hcc_key_find("listen"));
    ck_assert_ptr_null(hcc_key_find(""));
}
END_TEST

/* ---- hcc_set(): good values, typed ---- */

static const struct {
    const char *key, *text;
    long long value;
} good_ints[] = {
    {"http.max_connections", "1", 1},
    {"http.max_connections", "1000000", 1000000},
    {"http.max_connections", " 42 ", 42},
    {"http.max_connections", "+7", 7},
    {"http.max_connections", "007", 7}, /* decimal, not octal */
    {"http.max_body_bytes", "0", 0},
    {"http.max_body_bytes", "1073741824", 1073741824},
    {"upstream.max_retransmit", "1", 1},
    {"upstream.ack_timeout_ms", "1000", 1000},
    {"upstream.block_size", "16", 16},
    /* the reverse direction's limits, at both ends of their ranges */
    {"coap.max_body_bytes", "0", 0},
    {"coap.max_body_bytes", "1073741824", 1073741824},
    {"origin.timeout_ms", "1", 1},
    {"origin.timeout_ms", "3600000", 3600000},
    {"origin.connect_timeout_ms", "1", 1},
    {"origin.connect_timeout_ms", "600000", 600000},
    {"origin.redirects", "0", 0},
    {"origin.redirects", "10", 10},
    {"origin.max_response_bytes", "0", 0},
    {"origin.max_response_bytes", "1073741824", 1073741824},
    {"origin.max_connections", "1", 1},
    {"origin.max_connections", "10000", 10000},
};

/* The words a switch takes, in any case. */
static const struct {
    const char *text;
    bool value;
} good_bools[] = {
    {"true", true}, {"false", false}, {"yes", true},  {"no", false},   {"on", true},
    {"off", false}, {"1", true},      {"0", false},   {"TRUE", true},  {"Off", false},
};

static const struct {
    const char *key, *text;
    double value;
} good_floats[] = {
    {"upstream.ack_random_factor", "1", 1.0},       {"upstream.ack_random_factor", "4", 4.0},
    {"upstream.ack_random_factor", "2.25", 2.25},   {"upstream.ack_random_factor", " 3.5 ", 3.5},
    {"upstream.ack_random_factor", "1e0", 1.0},     {"upstream.ack_random_factor", "4.0", 4.0},
};

static const struct {
    const char *text;
    hcc_level_t level;
} good_levels[] = {
    {"error", HCC_LOG_ERROR}, {"warn", HCC_LOG_WARN},   {"info", HCC_LOG_INFO},
    {"debug", HCC_LOG_DEBUG}, {"DEBUG", HCC_LOG_DEBUG}, {"Warn", HCC_LOG_WARN},
};

/* LIST text: comma-separated, spaces trimmed, empty items dropped. */
static const struct {
    const char *text;
    size_t count;
    const char *items[3];
} good_lists[] = {
    {"127.0.0.1:1", 1, {"127.0.0.1:1"}},
    {"a,b,c", 3, {"a", "b", "c"}},
    {"a, b ,c", 3, {"a", "b", "c"}},
    {"  x  ", 1, {"x"}},
    {"a,", 1, {"a"}},
    {",a,,b,", 2, {"a", "b"}},
    {"", 0, {NULL}},
    {" , ,", 0, {NULL}},
    {"a b,\tc", 2, {"a b", "c"}},
};

static const void *field(const hcc_config_t *cfg, const char *key)
{
    return (const char *)cfg + hcc_key_find(key)->offset;
}

START_TEST(set_int)
{
    hcc_config_t cfg;
    char err[256] = "";

    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof(err)), 0);
    ck_assert_int_eq(hcc_set(&cfg, good_ints[_i].key, good_ints[_i].text, err, sizeof(err)), 0);
    ck_assert_int_eq(*(const long long *)field(&cfg, good_ints[_i].key), good_ints[_i].value);
    ck_assert_int_eq(cfg.origin[hcc_key_find(good_ints[_i].key) - hcc_keys].from,
                     HCC_FROM_CALLER);
    hcc_free(&cfg);
}
END_TEST

START_TEST(set_float)
{
    hcc_config_t cfg;
    char err[256] = "";

    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof(err)), 0);
    ck_assert_int_eq(hcc_set(&cfg, good_floats[_i].key, good_floats[_i].text, err, sizeof(err)),
                     0);
    ck_assert_double_eq(cfg.upstream_ack_random_factor, good_floats[_i].value);
    hcc_free(&cfg);
}
END_TEST

START_TEST(set_bool)
{
    hcc_config_t cfg;
    char err[256] = "";

    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof(err)), 0);
    cfg.origin_verify_tls = !good_bools[_i].value;
    ck_assert_int_eq(hcc_set(&cfg, "origin.verify_tls", good_bools[_i].text, err, sizeof(err)), 0);
    ck_assert_int_eq(cfg.origin_verify_tls, good_bools[_i].value);
    hcc_free(&cfg);
}
END_TEST

START_TEST(set_level)
{
    hcc_config_t cfg;
    char err[256] = "";

    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof(err)), 0);
    ck_assert_int_eq(hcc_set(&cfg, "log.level", good_levels[_i].text, err, sizeof(err)), 0);
    ck_assert_int_eq(cfg.log_level, good_levels[_i].level);
    hcc_free(&cfg);
}
END_TEST

START_TEST(set_list)
{
    hcc_config_t cfg;
    char err[256] = "";

    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof(err)), 0);
    ck_assert_int_eq(hcc_set(&cfg, "upstream.allow", good_lists[_i].text, err, sizeof(err)), 0);
    ck_assert_uint_eq(cfg.upstream_allow.count, good_lists[_i].count);
    for (size_t i = 0; i < good_lists[_i].count; i++)
        ck_assert_str_eq(cfg.upstream_allow.items[i], good_lists[_i].items[i]);
    hcc_free(&cfg);
}
END_TEST

START_TEST(set_string)
{
    hcc_config_t cfg;
    char err[256] = "";

    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof(err)), 0);
    ck_assert_int_eq(hcc_set(&cfg, "http.hc_path", "/x/", err, sizeof(err)), 0);
    ck_assert_str_eq(cfg.http_hc_path, "/x/");
    ck_assert_int_eq(hcc_set(&cfg, "http.hc_path", " a, b ", err, sizeof(err)), 0);
    ck_assert_str_eq(cfg.http_hc_path, " a, b "); /* a STRING is taken as it is */
    ck_assert_int_eq(hcc_set(&cfg, "origin.ca_file", "/etc/ssl/ca.pem", err, sizeof(err)), 0);
    ck_assert_str_eq(cfg.origin_ca_file, "/etc/ssl/ca.pem");
    ck_assert_int_eq(hcc_set(&cfg, "origin.ca_file", "", err, sizeof(err)), 0);
    ck_assert_str_eq(cfg.origin_ca_file, "");
    hcc_free(&cfg);
}
END_TEST

/* ---- hcc_set(): bad values, with the exact reason ---- */

#define INT_1_1000000 "must be an integer from 1 to 1000000"
#define FLOAT_1_4 "must be a number from 1 to 4"
#define LEVELS "must be error, warn, info or debug"
#define INT_0_1G "must be an integer from 0 to 1073741824"
#define BOOLS "must be true or false"

static const struct {
    const char *key, *text, *err;
} bad_values[] = {
    {"http.max_connections", "0", INT_1_1000000},
    {"http.max_connections", "1000001", INT_1_1000000},
    {"http.max_connections", "-1", INT_1_1000000},
    {"http.max_connections", "abc", INT_1_1000000},
    {"http.max_connections", "12x", INT_1_1000000},
    {"http.max_connections", "1 2", INT_1_1000000},
    {"http.max_connections", "", INT_1_1000000},
    {"http.max_connections", " ", INT_1_1000000},
    {"http.max_connections", "1.0", INT_1_1000000},
    {"http.max_connections", "0x10", INT_1_1000000},
    {"http.max_connections", "99999999999999999999", INT_1_1000000},
    {"http.max_header_bytes", "1023", "must be an integer from 1024 to 1048576"},
    {"http.max_body_bytes", "1073741825", "must be an integer from 0 to 1073741824"},
    /* libcoap 4.3.1 would keep its defaults for these without a word (config/keys.def). */
    {"upstream.ack_timeout_ms", "999", "must be an integer from 1000 to 60000"},
    {"upstream.max_retransmit", "0", "must be an integer from 1 to 20"},
    {"upstream.ack_random_factor", "0.99", FLOAT_1_4},
    {"upstream.ack_random_factor", "4.01", FLOAT_1_4},
    {"upstream.ack_random_factor", "nan", FLOAT_1_4},
    {"upstream.ack_random_factor", "inf", FLOAT_1_4},
    {"upstream.ack_random_factor", "1e999", FLOAT_1_4},
    {"upstream.ack_random_factor", "x", FLOAT_1_4},
    {"upstream.ack_random_factor", "", FLOAT_1_4},
    {"upstream.ack_random_factor", "1.5x", FLOAT_1_4},
    {"upstream.ack_random_factor", "1,5", FLOAT_1_4},
    {"coap.max_body_bytes", "-1", INT_0_1G},
    {"coap.max_body_bytes", "1073741825", INT_0_1G},
    {"coap.max_body_bytes", "4M", INT_0_1G},
    {"origin.timeout_ms", "0", "must be an integer from 1 to 3600000"},
    {"origin.timeout_ms", "3600001", "must be an integer from 1 to 3600000"},
    {"origin.connect_timeout_ms", "0", "must be an integer from 1 to 600000"},
    {"origin.connect_timeout_ms", "600001", "must be an integer from 1 to 600000"},
    {"origin.redirects", "-1", "must be an integer from 0 to 10"},
    {"origin.redirects", "11", "must be an integer from 0 to 10"},
    {"origin.max_response_bytes", "-1", INT_0_1G},
    {"origin.max_response_bytes", "1073741825", INT_0_1G},
    {"origin.max_connections", "0", "must be an integer from 1 to 10000"},
    {"origin.max_connections", "10001", "must be an integer from 1 to 10000"},
    {"origin.verify_tls", "maybe", BOOLS},
    {"origin.verify_tls", "", BOOLS},
    {"origin.verify_tls", "2", BOOLS},
    {"origin.verify_tls", " true", BOOLS},
    {"origin.verify_tls", "true,false", BOOLS},
    {"origin.verifytls", "true", "unknown key"},
    {"coap.route", "/a/=http://h/", "unknown key"},
    {"log.level", "verbose", LEVELS},
    {"log.level", "", LEVELS},
    {"log.level", "info,debug", LEVELS},
    {"log.level", " info", LEVELS},
    {"http.lsten", "127.0.0.1:1", "unknown key"},
    {"listen", "127.0.0.1:1", "unknown key"},
    {"http", "x", "unknown key"},
    {"HTTP.LISTEN", "127.0.0.1:1", "unknown key"},
};

START_TEST(set_bad)
{
    hcc_config_t cfg;
    char err[256] = "", before[4096], after[4096];
    FILE *out;

    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof(err)), 0);
    out = fmemopen(before, sizeof(before), "w");
    hcc_print(&cfg, out);
    fclose(out);
    ck_assert_int_eq(hcc_set(&cfg, bad_values[_i].key, bad_values[_i].text, err, sizeof(err)),
                     -1);
    ck_assert_str_eq(err, bad_values[_i].err);
    /* a refused value leaves the configuration as it was */
    out = fmemopen(after, sizeof(after), "w");
    hcc_print(&cfg, out);
    fclose(out);
    ck_assert_str_eq(after, before);
    hcc_free(&cfg);
}
END_TEST

/* hcc_key_expect() for a key made up here, of each type without an integer range. */
START_TEST(expect_other_types)
{
    hcc_key_t k = {"g.k", HCC_T_BOOL, 0, "true", 0, 0, "h"};
    char buf[128];

    hcc_key_expect(&k, buf, sizeof(buf));
    ck_assert_str_eq(buf, "must be true or false");
    k.type = HCC_T_STRING;
    hcc_key_expect(&k, buf, sizeof(buf));
    ck_assert_str_eq(buf, "must be a string");
    k.type = HCC_T_LIST;
    hcc_key_expect(&k, buf, sizeof(buf));
    ck_assert_str_eq(buf, "must be a string or a list of strings");
}
END_TEST

/* ---- hcc_free() ---- */

START_TEST(free_twice)
{
    hcc_config_t cfg;
    char err[256];

    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof(err)), 0);
    hcc_free(&cfg);
    ck_assert_ptr_null(cfg.http_hc_path);
    ck_assert_ptr_null(cfg.listen_addrs);
    ck_assert_ptr_null(cfg.coap_listen_addrs);
    ck_assert_ptr_null(cfg.origin_rules);
    ck_assert_ptr_null(cfg.origin_ca_file);
    ck_assert_uint_eq(cfg.ncoap_listen_addrs, 0);
    hcc_free(&cfg);
}
END_TEST

/* ---- hcc_print() ---- */

static char *print_to_string(const hcc_config_t *cfg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);

    ck_assert_ptr_nonnull(out);
    hcc_print(cfg, out);
    fclose(out);
    return text;
}

/* The lines a reader and the integration tests look for, in libconfig syntax. */
static const char *const default_lines[] = {
    "\nhttp: {\n    listen = [ \"127.0.0.1:8080\" ];\n    hc_path = \"/hc/\";\n",
    "    max_connections = 1024;\n",
    ("\n};\nupstream: {\n    allow = [ \"*://127.0.0.0/8\", \"*://[::1]\", "
     "\"*://localhost\" ];\n"),
    "    timeout_ms = 60000;\n",
    "    ack_random_factor = 1.5;\n",
    ("\n};\ncoap: {\n    listen = [ \"127.0.0.1:5683\" ];\n    unauthenticated_loopback = false;\n"
     "    routes = [ ];\n"
     "    max_body_bytes = 4194304;\n    max_inflight = 10000;\n"
     "    max_inflight_per_client = 1024;\n    piggyback_wait_ms = 1000;\n"
     "    dedup_max_entries = 100000;\n    dedup_max_bytes = 33554432;\n"
     "    amplification_factor = 3;\n    psk = [ ];\n    cert_file = \"\";\n    key_file = \"\";\n"
     "    client_ca_file = \"\";\n};\n"),
    ("\norigin: {\n    allow = [ \"*://127.0.0.0/8\", \"*://[::1]\", "
     "\"*://localhost\" ];\n"
     "    timeout_ms = 30000;\n    connect_timeout_ms = 5000;\n    verify_tls = true;\n"
     "    ca_file = \"\";\n    redirects = 0;\n    max_response_bytes = 16777216;\n"
     "    max_connections = 64;\n    max_connections_per_origin = 16;\n"
     "    http_proxy = \"\";\n    http_proxy_auth = \"\";\n"
     "    no_proxy = [ \"localhost\", \"127.0.0.0/8\", \"[::1]\" ];\n};\n"),
    "\n};\nlog: {\n    level = \"info\";\n};\n",
};

START_TEST(print_defaults)
{
    hcc_config_t cfg;
    char err[256], *text;

    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof(err)), 0);
    text = print_to_string(&cfg);
    ck_assert_msg(strstr(text, default_lines[_i]) != NULL, "missing \"%s\" in:\n%s",
                  default_lines[_i], text);
    free(text);
    hcc_free(&cfg);
}
END_TEST

/* What hcc_print() writes, hcc_load_file() reads back unchanged: --check-config's output is a
 * configuration file. Strings with libconfig's escapes, whole floats and empty lists included. */
static const struct {
    const char *key, *text;
} reprint[] = {
    {"http.hc_path", "/a\"b\\c\td\ne\x01/"},
    {"http.hc_path", "/caf\xc3\xa9/"},
    {"upstream.ack_random_factor", "2"},
    {"upstream.ack_random_factor", "1.1"},
    {"upstream.ack_random_factor", "3.3333333333333335"},
    {"upstream.allow", ""},
    {"upstream.allow", "coap://a.example,coap://[fd00::/8]:5683"},
    {"log.level", "debug"},
    {"http.max_body_bytes", "0"},
    {"origin.verify_tls", "off"},
    {"origin.ca_file", "/etc/ssl/certs/ca-certificates.crt"},
    {"origin.allow", "https://*.example.net:8443,*://[fd00::/8]"},
    {"coap.listen", ""},
    {"coap.routes", "/lwm2m/=http://127.0.0.1:8000/api/,/rd/=https://lwm2m.example/rd/"},
    {"origin.redirects", "10"},
};

START_TEST(print_reload)
{
    hcc_config_t cfg, back;
    char err[256] = "", path[] = "/tmp/check_config_text_XXXXXX", *first, *second;
    FILE *out;
    int fd = mkstemp(path);

    ck_assert_int_ne(fd, -1);
    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof(err)), 0);
    ck_assert_int_eq(hcc_set(&cfg, reprint[_i].key, reprint[_i].text, err, sizeof(err)), 0);
    out = fdopen(fd, "w");
    hcc_print(&cfg, out);
    fclose(out);
    ck_assert_int_eq(hcc_defaults(&back, err, sizeof(err)), 0);
    ck_assert_msg(hcc_load_file(&back, path, err, sizeof(err)) == 0, "%s", err);
    free(back.source); /* the header line names the file read; the keys must be equal */
    back.source = NULL;
    first = print_to_string(&cfg);
    second = print_to_string(&back);
    ck_assert_str_eq(second, first);
    free(first);
    free(second);
    unlink(path);
    hcc_free(&cfg);
    hcc_free(&back);
}
END_TEST

/* hcc_key_equal() and hcc_key_copy(), which a reload uses to keep the keys that take a restart:
 * each row's key differs from the default, is copied over, and then agrees, printed and all. */
START_TEST(key_copy)
{
    hcc_config_t a, b;
    char err[256] = "", *first, *second;
    enum hcc_key_id id = (enum hcc_key_id)(hcc_key_find(reprint[_i].key) - hcc_keys);

    ck_assert_int_eq(hcc_defaults(&a, err, sizeof(err)), 0);
    ck_assert_int_eq(hcc_defaults(&b, err, sizeof(err)), 0);
    ck_assert_int_eq(hcc_set(&a, reprint[_i].key, reprint[_i].text, err, sizeof(err)), 0);
    a.origin[id] = (struct hcc_origin){HCC_FROM_FILE, 7};
    ck_assert(!hcc_key_equal(&a, &b, id) || strcmp(reprint[_i].text, hcc_keys[id].def) == 0);
    ck_assert_int_eq(hcc_key_copy(&b, &a, id), 0);
    ck_assert(hcc_key_equal(&a, &b, id));
    ck_assert_int_eq(b.origin[id].from, HCC_FROM_FILE);
    ck_assert_uint_eq(b.origin[id].line, 7);
    first = print_to_string(&a);
    second = print_to_string(&b);
    ck_assert_str_eq(second, first);
    free(first);
    free(second);
    hcc_free(&a);
    hcc_free(&b);
}
END_TEST

START_TEST(print_float_form)
{
    hcc_config_t cfg;
    char err[256], *text;

    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof(err)), 0);
    ck_assert_int_eq(hcc_set(&cfg, "upstream.ack_random_factor", "2", err, sizeof(err)), 0);
    text = print_to_string(&cfg);
    ck_assert_ptr_nonnull(strstr(text, "    ack_random_factor = 2.0;\n"));
    free(text);
    hcc_free(&cfg);
}
END_TEST

/* ---- hcc_print_help() ---- */

static void help_into(char *buf, size_t size, const char *argv0)
{
    FILE *out = fmemopen(buf, size, "w");

    ck_assert_ptr_nonnull(out);
    hcc_print_help(out, argv0);
    fclose(out);
}

START_TEST(help_usage)
{
    char text[16384];

    help_into(text, sizeof(text), "/usr/local/bin/hcproxy");
    ck_assert_ptr_eq(strstr(text, "Usage: hcproxy [--config FILE] [--check-config] [--health-check] "
                                  "[--help] [--version]\n       [--KEY VALUE]...\n"),
                     text);
    ck_assert_ptr_nonnull(strstr(text, "--check-config"));
    ck_assert_ptr_nonnull(strstr(text, "  --health-check "));
    ck_assert_ptr_nonnull(strstr(text, "-V, --version"));
    ck_assert_ptr_nonnull(strstr(text, "-h, --help"));
    ck_assert_ptr_nonnull(strstr(text, "HCPROXY_CONFIG"));
}
END_TEST

/* Every key shows its flag, variable, help and default, on lines of at most 100 columns. */
START_TEST(help_every_key)
{
    const hcc_key_t *k = &hcc_keys[_i];
    char text[16384], flag[80], env[80], def[300];
    const char *at;

    help_into(text, sizeof(text), "hcproxy");
    hcc_key_flag(k, flag, sizeof(flag));
    hcc_key_env(k, env, sizeof(env));
    snprintf(def, sizeof(def), "default: %s", k->def);
    at = strstr(text, flag);
    ck_assert_ptr_nonnull(at);
    ck_assert_ptr_nonnull(strstr(at, env));
    ck_assert_ptr_nonnull(strstr(at, k->help));
    ck_assert_ptr_nonnull(strstr(at, def));
    for (at = text; *at != '\0'; at += strcspn(at, "\n") + 1)
        ck_assert_uint_le(strcspn(at, "\n"), 100);
}
END_TEST

static Suite *text_suite(void)
{
    Suite *s = suite_create("config_text");
    TCase *tc = tcase_create("keys");

    tcase_add_test(tc, defaults_valid);
    tcase_add_loop_test(tc, key_shape, 0, HCC_NKEYS);
    tcase_add_loop_test(tc, key_names, 0, COUNTOF(names));
    tcase_add_test(tc, key_unknown);
    tcase_add_test(tc, expect_other_types);
    suite_add_tcase(s, tc);
    tc = tcase_create("set");
    tcase_add_loop_test(tc, set_int, 0, COUNTOF(good_ints));
    tcase_add_loop_test(tc, set_float, 0, COUNTOF(good_floats));
    tcase_add_loop_test(tc, set_bool, 0, COUNTOF(good_bools));
    tcase_add_loop_test(tc, set_level, 0, COUNTOF(good_levels));
    tcase_add_loop_test(tc, set_list, 0, COUNTOF(good_lists));
    tcase_add_test(tc, set_string);
    tcase_add_loop_test(tc, set_bad, 0, COUNTOF(bad_values));
    tcase_add_test(tc, free_twice);
    suite_add_tcase(s, tc);
    tc = tcase_create("print");
    tcase_add_loop_test(tc, print_defaults, 0, COUNTOF(default_lines));
    tcase_add_loop_test(tc, print_reload, 0, COUNTOF(reprint));
    tcase_add_test(tc, print_float_form);
    tcase_add_loop_test(tc, key_copy, 0, COUNTOF(reprint));
    tcase_add_test(tc, help_usage);
    tcase_add_loop_test(tc, help_every_key, 0, HCC_NKEYS);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(text_suite());
}

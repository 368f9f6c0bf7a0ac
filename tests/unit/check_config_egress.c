/* origin.http_proxy and origin.no_proxy (config/egress.c): what each accepts, the error for what
 * it does not, and hcc_origin_proxied(), which decides per origin. */
#include <check.h>
#include <string.h>

#include "hcc.h"
#include "run_suite.h"

#define COUNTOF(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
    const char *key, *text, *err;
} bad_values[] = {
    {"origin.http_proxy", "proxy.corp:3128",
     "origin.http_proxy: proxy.corp:3128: must be http://host:port (an HTTP proxy; https origins "
     "go through it in a CONNECT tunnel)"},
    {"origin.http_proxy", "https://proxy.corp:3128",
     "origin.http_proxy: https://proxy.corp:3128: must be http://host:port (an HTTP proxy; https "
     "origins go through it in a CONNECT tunnel)"},
    {"origin.http_proxy", "socks5://127.0.0.1:1080",
     "origin.http_proxy: socks5://127.0.0.1:1080: must be http://host:port (an HTTP proxy; https "
     "origins go through it in a CONNECT tunnel)"},
    {"origin.http_proxy", "http://user:secret@proxy.corp:3128",
     "origin.http_proxy: must not carry user:password"},
    {"origin.http_proxy", "http://proxy.corp",
     "origin.http_proxy: http://proxy.corp: needs a port: http://host:port"},
    {"origin.http_proxy", "http://proxy.corp:*",
     "origin.http_proxy: http://proxy.corp:*: needs a port: http://host:port"},
    {"origin.http_proxy", "http://proxy.corp:99999",
     "origin.http_proxy: http://proxy.corp:99999: bad port \"99999\": must be * or 1 to 65535"},
    {"origin.http_proxy", "http://proxy.corp:3128/path",
     "origin.http_proxy: http://proxy.corp:3128/path: must be http://host:port, with no path"},
    {"origin.http_proxy", "http://proxy.corp:3128?x",
     "origin.http_proxy: http://proxy.corp:3128?x: must be http://host:port, with no path"},
    {"origin.http_proxy", "http://",
     "origin.http_proxy: http://: must be http://host:port, with no path"},
    {"origin.http_proxy", "http://*.corp:3128",
     "origin.http_proxy: http://*.corp:3128: must name one host"},
    {"origin.http_proxy", "http://pro_xy:3128",
     "origin.http_proxy: http://pro_xy:3128: bad host name pro_xy"},
    {"origin.http_proxy", "http://10.0.0.256:3128",
     "origin.http_proxy: http://10.0.0.256:3128: bad IPv4 address 10.0.0.256"},
    {"origin.http_proxy", "http://fd00::1:3128",
     "origin.http_proxy: http://fd00::1:3128: an IPv6 address needs brackets: [fd00::1:3128]"},
    /* the user, and where the password is: never the password itself */
    {"origin.http_proxy_auth", "hc key_env=PROXY_PASS", "origin.http_proxy_auth: needs origin.http_proxy"},
    {"origin.http_proxy_auth", "hc:secret",
     "origin.http_proxy_auth: must be USER key_env=VARIABLE or USER key_file=PATH, the password in "
     "the variable or the file"},
    {"origin.http_proxy_auth", "hc password=secret",
     "origin.http_proxy_auth: must be USER key_env=VARIABLE or USER key_file=PATH, the password in "
     "the variable or the file"},
    {"origin.http_proxy_auth", "a:b key_env=PROXY_PASS",
     "origin.http_proxy_auth: a user name with ':' cannot be sent (RFC 7617 s2)"},
    {"origin.http_proxy_auth", "hc key_file=/nonexistent/pass",
     "origin.http_proxy_auth: /nonexistent/pass: cannot read: No such file or directory"},
    {"origin.no_proxy", "http://internal.corp",
     "origin.no_proxy: entry 1: http://internal.corp: a host, *.domain or IP/CIDR, without a "
     "scheme"},
    {"origin.no_proxy", "internal.corp, internal.corp/api",
     "origin.no_proxy: entry 2: internal.corp/api: a host, *.domain or IP/CIDR, without a path"},
    {"origin.no_proxy", "*", "origin.no_proxy: entry 1: bad host name *"},
    {"origin.no_proxy", "10.0.0.1/8", "origin.no_proxy: entry 1: host bits set in 10.0.0.1/8"},
    {"origin.no_proxy", "a.corp:0",
     "origin.no_proxy: entry 1: bad port \"0\": must be * or 1 to 65535"},
};

START_TEST(bad_value)
{
    hcc_config_t cfg;
    char err[256] = "";

    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof(err)), 0);
    if (strcmp(bad_values[_i].key, "origin.http_proxy_auth") == 0 &&
        strstr(bad_values[_i].err, "needs origin.http_proxy") == NULL)
        ck_assert_int_eq(hcc_set(&cfg, "origin.http_proxy", "http://proxy.corp:3128", err,
                                 sizeof(err)), 0);
    ck_assert_int_eq(hcc_set(&cfg, bad_values[_i].key, bad_values[_i].text, err, sizeof(err)), 0);
    ck_assert_int_eq(hcc_finish(&cfg, err, sizeof(err)), -1);
    ck_assert_str_eq(err, bad_values[_i].err);
    hcc_free(&cfg);
}
END_TEST

/* With origin.http_proxy "http://proxy.corp:3128" and origin.no_proxy |no_proxy|: whether an
 * origin goes through the proxy. */
static const struct {
    const char *no_proxy, *scheme, *host;
    uint16_t port;
    bool proxied;
} decisions[] = {
    /* the defaults: loopback stays direct, the rest goes through the proxy */
    {NULL, "https", "api.example.com", 443, true},
    {NULL, "http", "localhost", 8000, false},
    {NULL, "http", "LOCALHOST.", 8000, false},
    {NULL, "http", "127.0.0.1", 8000, false},
    {NULL, "http", "127.9.9.9", 8000, false},
    {NULL, "http", "::1", 8000, false},
    {NULL, "http", "10.0.0.1", 80, true},
    {NULL, "http", "localhost.example", 80, true},
    /* a name, a domain's names, a CIDR, a port */
    {"internal.corp", "https", "internal.corp", 443, false},
    {"internal.corp", "https", "a.internal.corp", 443, true},
    {"*.internal.corp", "https", "a.internal.corp", 443, false},
    {"*.internal.corp", "https", "internal.corp", 443, true},
    {"10.0.0.0/8", "http", "10.1.2.3", 80, false},
    {"10.0.0.0/8", "http", "11.1.2.3", 80, true},
    {"[fd00::]/8", "http", "fd12::1", 80, false},
    {"internal.corp:8080", "http", "internal.corp", 8080, false},
    {"internal.corp:8080", "http", "internal.corp", 80, true},
    /* a CIDR names addresses written as such, not names that might resolve into it */
    {"0.0.0.0/0", "https", "api.example.com", 443, true},
    {"0.0.0.0/0", "https", "192.0.2.1", 443, false},
    /* nothing direct */
    {"", "http", "127.0.0.1", 8000, true},
    {"", "http", "localhost", 8000, true},
};

START_TEST(decision)
{
    hcc_config_t cfg;
    char err[256] = "";

    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof(err)), 0);
    ck_assert_int_eq(hcc_origin_proxied(&cfg, decisions[_i].scheme, decisions[_i].host,
                                        decisions[_i].port), false); /* no proxy: never */
    ck_assert_int_eq(hcc_set(&cfg, "origin.http_proxy", "http://proxy.corp:3128", err, sizeof err),
                     0);
    if (decisions[_i].no_proxy != NULL)
        ck_assert_int_eq(hcc_set(&cfg, "origin.no_proxy", decisions[_i].no_proxy, err, sizeof err),
                         0);
    ck_assert_msg(hcc_finish(&cfg, err, sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(hcc_origin_proxied(&cfg, decisions[_i].scheme, decisions[_i].host,
                                        decisions[_i].port), decisions[_i].proxied);
    hcc_free(&cfg);
}
END_TEST

static const char *const good_proxies[] = {
    "http://proxy.corp:3128", "http://proxy.corp:3128/", "http://10.0.0.1:8080",
    "http://[fd00::1]:3128",
};

START_TEST(good_proxy)
{
    hcc_config_t cfg;
    char err[256] = "";

    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof(err)), 0);
    ck_assert_int_eq(hcc_set(&cfg, "origin.http_proxy", good_proxies[_i], err, sizeof err), 0);
    ck_assert_msg(hcc_finish(&cfg, err, sizeof(err)) == 0, "%s", err);
    ck_assert_str_eq(cfg.origin_http_proxy, good_proxies[_i]);
    hcc_free(&cfg);
}
END_TEST

START_TEST(proxy_auth)
{
    hcc_config_t cfg;
    char err[256] = "";

    setenv("PROXY_PASS", "pass", 1); /* hcc_finish() wants a key_env variable set, as the start does */
    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof(err)), 0);
    ck_assert_int_eq(hcc_set(&cfg, "origin.http_proxy", "http://proxy.corp:3128", err, sizeof err), 0);
    ck_assert_int_eq(hcc_set(&cfg, "origin.http_proxy_auth", "svc-hcproxy key_env=PROXY_PASS", err,
                             sizeof err), 0);
    ck_assert_msg(hcc_finish(&cfg, err, sizeof(err)) == 0, "%s", err);
    ck_assert_str_eq(cfg.http_proxy_auth.identity, "svc-hcproxy");
    ck_assert_str_eq(cfg.http_proxy_auth.key_env, "PROXY_PASS");
    ck_assert_str_eq(cfg.http_proxy_auth.key_file, "");
    ck_assert_int_eq(hcc_set(&cfg, "origin.http_proxy_auth", "", err, sizeof err), 0);
    ck_assert_msg(hcc_finish(&cfg, err, sizeof(err)) == 0, "%s", err);
    ck_assert_str_eq(cfg.http_proxy_auth.identity, ""); /* none now */
    hcc_free(&cfg);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("config_egress");
    TCase *tc = tcase_create("egress");

    tcase_add_loop_test(tc, bad_value, 0, COUNTOF(bad_values));
    tcase_add_loop_test(tc, decision, 0, COUNTOF(decisions));
    tcase_add_loop_test(tc, good_proxy, 0, COUNTOF(good_proxies));
    tcase_add_test(tc, proxy_auth);
    suite_add_tcase(s, tc);
    return run_suite(s);
}

/* hcc_finish() (config/finish.c): listen addresses (HTTP and CoAP), allow rules, hc_path,
 * block_size, ca_file. The
 * errors naming a file, a variable or a flag are checked through hcc_configure() in
 * check_config_load.c; here keys come from hcc_set(), so an error is "key: reason". */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "hcc.h"
#include "run_suite.h"

#define COUNTOF(a) (sizeof(a) / sizeof((a)[0]))

/* http.listen and coap.listen read addresses alike; |key| names the one a row sets. */
static const struct {
    const char *key;
    const char *text;
    int family;
    const char *addr;
    uint16_t port;
} good_listen[] = {
    {"http.listen", "127.0.0.1:8080", AF_INET, "127.0.0.1", 8080},
    {"http.listen", "0.0.0.0:1", AF_INET, "0.0.0.0", 1},
    {"http.listen", "[::1]:65535", AF_INET6, "::1", 65535},
    {"http.listen", "[::]:80", AF_INET6, "::", 80},
    {"http.listen", "[::ffff:1.2.3.4]:80", AF_INET6, "::ffff:1.2.3.4", 80},
    {"http.listen", "127.0.0.1:0", AF_INET, "127.0.0.1", 0},
    {"coap.listen", "127.0.0.1:5683", AF_INET, "127.0.0.1", 5683},
    {"coap.listen", "127.0.0.1:0", AF_INET, "127.0.0.1", 0}, /* an ephemeral port */
    {"coap.listen", "[::]:0", AF_INET6, "::", 0},
    {"coap.listen", "0.0.0.0:5684", AF_INET, "0.0.0.0", 5684},
    {"coap.listen", "coap://127.0.0.1:5683", AF_INET, "127.0.0.1", 5683},
    {"coap.listen", "coap+tcp://[::1]:5683", AF_INET6, "::1", 5683},
    {"coap.listen", "[fe80::1]:65535", AF_INET6, "fe80::1", 65535},
    {"coap.listen", " [::1]:5683 ", AF_INET6, "::1", 5683},
};

START_TEST(listen_good)
{
    hcc_config_t cfg;
    uint8_t want[16];
    char err[256] = "";
    const struct sockaddr_storage *ss;
    bool coap = strcmp(good_listen[_i].key, "coap.listen") == 0;

    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof(err)), 0);
    ck_assert_int_eq(hcc_set(&cfg, good_listen[_i].key, good_listen[_i].text, err, sizeof(err)),
                     0);
    /* Addresses alone here; what an exposed listener may reach is exposure_* below. */
    ck_assert_int_eq(hcc_set(&cfg, "upstream.allow", "", err, sizeof(err)), 0);
    ck_assert_int_eq(hcc_set(&cfg, "origin.allow", "", err, sizeof(err)), 0);
    ck_assert_msg(hcc_finish(&cfg, err, sizeof(err)) == 0, "%s", err);
    ck_assert_uint_eq(coap ? cfg.ncoap_listen_addrs : cfg.nlisten_addrs, 1);
    ss = coap ? &cfg.coap_listen_addrs[0] : &cfg.listen_addrs[0];
    ck_assert_int_eq(ss->ss_family, good_listen[_i].family);
    ck_assert_int_eq(inet_pton(good_listen[_i].family, good_listen[_i].addr, want), 1);
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

        ck_assert_mem_eq(&sin->sin_addr, want, 4);
        ck_assert_uint_eq(ntohs(sin->sin_port), good_listen[_i].port);
    } else {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

        ck_assert_mem_eq(&sin6->sin6_addr, want, 16);
        ck_assert_uint_eq(ntohs(sin6->sin6_port), good_listen[_i].port);
    }
    hcc_free(&cfg);
}
END_TEST

#define NOT_ADDR ": must be IPv4:port or [IPv6]:port"
static const struct {
    const char *key, *text, *err;
} bad_finish[] = {
    {"http.listen", "localhost:80", "http.listen: localhost:80" NOT_ADDR},
    {"http.listen", "127.0.0.1", "http.listen: 127.0.0.1" NOT_ADDR},
    {"http.listen", "[::1]", "http.listen: [::1]" NOT_ADDR},
    {"http.listen", "::1:80", "http.listen: ::1:80" NOT_ADDR},
    {"http.listen", "1.2.3:80", "http.listen: 1.2.3:80" NOT_ADDR},
    {"http.listen", "[1.2.3.4]:80", "http.listen: [1.2.3.4]:80" NOT_ADDR},
    {"http.listen", ":80", "http.listen: :80" NOT_ADDR},
    {"http.listen", "1.2.3.4:65536", "http.listen: 1.2.3.4:65536: the port must be 0 to 65535"},
    {"http.listen", "1.2.3.4:", "http.listen: 1.2.3.4:: the port must be 0 to 65535"},
    {"http.listen", "1.2.3.4:80x", "http.listen: 1.2.3.4:80x: the port must be 0 to 65535"},
    {"http.listen", "[::1]:-1", "http.listen: [::1]:-1: the port must be 0 to 65535"},
    {"http.listen", "127.0.0.1:1,x", "http.listen: x" NOT_ADDR},
    {"http.listen", "", "http.listen: needs at least one address, or https.listen one"},
    {"https.listen", "127.0.0.1:8443", "https.listen: needs https.cert_file and https.key_file"},
    {"https.listen", "localhost:8443", "https.listen: needs https.cert_file and https.key_file"},
    {"https.cert_file", "/nonexistent/cert.pem",
     "https.cert_file: /nonexistent/cert.pem: cannot read: No such file or directory"},
    {"https.key_file", "/", "https.key_file: /: not a file"},
    {"https.client_ca_file", "/nonexistent/ca.pem",
     "https.client_ca_file: /nonexistent/ca.pem: cannot read: No such file or directory"},
    {"http.hc_path", "hc/", "http.hc_path: must start and end with '/'"},
    {"http.hc_path", "/hc", "http.hc_path: must start and end with '/'"},
    {"http.hc_path", "", "http.hc_path: must start and end with '/'"},
    {"upstream.block_size", "100", "upstream.block_size: must be a power of two from 16 to 1024"},
    {"upstream.block_size", "17", "upstream.block_size: must be a power of two from 16 to 1024"},
    {"upstream.allow", "coap://10.0.0.1/8", "upstream.allow: host bits set in 10.0.0.1/8"},
    {"upstream.allow", "coap://a.example, ftp://b", "upstream.allow: unknown scheme \"ftp\" "
                                                     "(coap, coaps, coap+tcp, coaps+tcp or *)"},
    {"upstream.allow", "http://127.0.0.1", "upstream.allow: unknown scheme \"http\" "
                                           "(coap, coaps, coap+tcp, coaps+tcp or *)"},
    /* coap.listen: the addresses of http.listen, and none is allowed */
    {"coap.listen", "localhost:5683", "coap.listen: localhost:5683" NOT_ADDR},
    {"coap.listen", "127.0.0.1", "coap.listen: 127.0.0.1" NOT_ADDR},
    {"coap.listen", "[::1]", "coap.listen: [::1]" NOT_ADDR},
    {"coap.listen", "::1:5683", "coap.listen: ::1:5683" NOT_ADDR},
    {"coap.listen", "[fe80::1%eth0]:5683", "coap.listen: [fe80::1%eth0]:5683" NOT_ADDR},
    {"coap.listen", "http://127.0.0.1:5683", "coap.listen: http://127.0.0.1:5683" NOT_ADDR},
    {"coap.listen", "coaps://127.0.0.1:5684",
     "coap.listen: a coaps or coaps+tcp listener needs coap.psk or coap.cert_file and coap.key_file"},
    {"coap.listen", "coaps+tcp://[::1]:5684",
     "coap.listen: a coaps or coaps+tcp listener needs coap.psk or coap.cert_file and coap.key_file"},
    {"coap.psk", "dev1", "coap.psk: entry 1: must be IDENTITY key_env=VARIABLE or IDENTITY key_file=PATH"},
    {"coap.psk", "dev1 key_file=/nonexistent/k",
     "coap.psk: entry 1: /nonexistent/k: cannot read: No such file or directory"},
    {"coap.cert_file", "/etc/hostname", "coap.listen: coap.cert_file and coap.key_file go together"},
    {"coap.listen", "127.0.0.1:65536", "coap.listen: 127.0.0.1:65536: the port must be 0 to 65535"},
    {"coap.listen", "127.0.0.1:-1", "coap.listen: 127.0.0.1:-1: the port must be 0 to 65535"},
    {"coap.listen", "127.0.0.1:", "coap.listen: 127.0.0.1:: the port must be 0 to 65535"},
    {"coap.listen", "[::1]:5683x", "coap.listen: [::1]:5683x: the port must be 0 to 65535"},
    {"coap.listen", "127.0.0.1:5683, x", "coap.listen: x" NOT_ADDR},
    /* origin.allow and coap.routes: more in check_config_rules.c and check_config_routes.c */
    {"origin.allow", "coap://127.0.0.1", "origin.allow: unknown scheme \"coap\" "
                                         "(http, https or *)"},
    {"coap.routes", "/a/=coap://h/", "coap.routes: route base must be an http or https URL"},
    /* origin.ca_file must be a file hcproxy can read */
    {"origin.ca_file", "/nonexistent/ca.pem",
     "origin.ca_file: /nonexistent/ca.pem: cannot read: No such file or directory"},
    {"origin.ca_file", "/", "origin.ca_file: /: not a file"},
};

START_TEST(finish_bad)
{
    hcc_config_t cfg;
    char err[256] = "";

    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof(err)), 0);
    ck_assert_int_eq(hcc_set(&cfg, bad_finish[_i].key, bad_finish[_i].text, err, sizeof(err)),
                     0);
    ck_assert_int_eq(hcc_finish(&cfg, err, sizeof(err)), -1);
    ck_assert_str_eq(err, bad_finish[_i].err);
    hcc_free(&cfg);
}
END_TEST

static const struct {
    const char *key, *text;
} good_finish[] = {
    {"http.hc_path", "/"},          {"http.hc_path", "/a/b/"},
    {"upstream.block_size", "16"},  {"upstream.block_size", "512"},
    {"upstream.allow", ""},         {"http.listen", "127.0.0.1:1, [::1]:2, 127.0.0.3:3"},
    {"coap.listen", ""},            {"coap.listen", "127.0.0.1:0, [::1]:0, 127.0.0.2:5683"},
    {"origin.allow", ""},           {"origin.allow", "https://a.example, http://10.0.0.0/8:80"},
    {"coap.routes", ""},            {"coap.routes", "/a/=http://h/, /b/=https://h/b/"},
    {"origin.ca_file", ""},         {"origin.ca_file", EXAMPLE_CONF}, /* any readable file */
    {"http.listen", "127.0.0.1:5683"}, /* TCP and UDP: the same port is no clash */
};

START_TEST(finish_good)
{
    hcc_config_t cfg;
    char err[256] = "";

    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof(err)), 0);
    ck_assert_int_eq(hcc_set(&cfg, good_finish[_i].key, good_finish[_i].text, err, sizeof(err)),
                     0);
    ck_assert_msg(hcc_finish(&cfg, err, sizeof(err)) == 0, "%s", err);
    ck_assert_uint_eq(cfg.nallow_rules, cfg.upstream_allow.count);
    ck_assert_uint_eq(cfg.nlisten_addrs, cfg.http_listen.count);
    ck_assert_uint_eq(cfg.ncoap_listen_addrs, cfg.coap_listen.count);
    ck_assert_uint_eq(cfg.norigin_rules, cfg.origin_allow.count);
    ck_assert_uint_eq(cfg.ncoap_routes, cfg.coap_routes_list.count);
    hcc_free(&cfg);
}
END_TEST

/* An empty coap.listen turns the reverse direction off: no address, and no array. */
START_TEST(coap_listen_off)
{
    hcc_config_t cfg;
    char err[256] = "";

    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof(err)), 0);
    ck_assert_uint_eq(cfg.ncoap_listen_addrs, 1);
    ck_assert_int_eq(hcc_set(&cfg, "coap.listen", "", err, sizeof(err)), 0);
    ck_assert_msg(hcc_finish(&cfg, err, sizeof(err)) == 0, "%s", err);
    ck_assert_uint_eq(cfg.ncoap_listen_addrs, 0);
    ck_assert_ptr_null(cfg.coap_listen_addrs);
    ck_assert_uint_eq(cfg.nlisten_addrs, 1); /* HTTP still listens */
    hcc_free(&cfg);
}
END_TEST

/* A refused value leaves the derived fields as the last good hcc_finish() made them, and
 * hcc_finish() may run again once it is put right. */
START_TEST(finish_again)
{
    hcc_config_t cfg;
    char err[256] = "";

    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof(err)), 0);
    ck_assert_int_eq(hcc_set(&cfg, "coap.listen", "127.0.0.1:1, 127.0.0.1:2", err, sizeof(err)),
                     0);
    ck_assert_msg(hcc_finish(&cfg, err, sizeof(err)) == 0, "%s", err);
    ck_assert_uint_eq(cfg.ncoap_listen_addrs, 2);
    ck_assert_int_eq(hcc_set(&cfg, "coap.listen", "127.0.0.1:3, x", err, sizeof(err)), 0);
    ck_assert_int_eq(hcc_finish(&cfg, err, sizeof(err)), -1);
    ck_assert_uint_eq(cfg.ncoap_listen_addrs, 2);
    ck_assert_int_eq(hcc_set(&cfg, "coap.listen", "[::1]:0", err, sizeof(err)), 0);
    ck_assert_msg(hcc_finish(&cfg, err, sizeof(err)) == 0, "%s", err);
    ck_assert_uint_eq(cfg.ncoap_listen_addrs, 1);
    ck_assert_int_eq(cfg.coap_listen_addrs[0].ss_family, AF_INET6);
    hcc_free(&cfg);
}
END_TEST

/* A listener the network reaches without credentials, whose allow list reaches loopback, is an
 * open proxy into the host's local services: refused unless the key says it is meant. Each row:
 * settings ("key=value;key=value"), and NULL when hcproxy starts, else what the error says. */
static const struct {
    const char *settings;
    const char *error;
} exposure[] = {
    /* the defaults: loopback listeners, loopback rules */
    {"", NULL},
    {"coap.listen=0.0.0.0:5683", "coap.listen: 0.0.0.0:5683 serves clients without credentials and origin.allow rule *://127.0.0.0/8 reaches loopback"},
    {"coap.listen=[::]:5683", "origin.allow rule *://127.0.0.0/8"},
    {"coap.listen=coap+tcp://0.0.0.0:5683", "coap.unauthenticated_loopback = true"},
    {"coap.listen=127.0.0.1:5683,0.0.0.0:5684", "0.0.0.0:5684 serves"},
    {"coap.listen=0.0.0.0:5683;origin.allow=http://[::1]:8000", "rule http://[::1]:8000 reaches"},
    {"coap.listen=0.0.0.0:5683;origin.allow=https://localhost/api", "rule https://localhost/api"},
    {"coap.listen=0.0.0.0:5683;origin.allow=http://0.0.0.0/0", "rule http://0.0.0.0/0"},
    {"coap.listen=0.0.0.0:5683;origin.allow=https://api.example,http://10.0.0.0/8", NULL},
    {"coap.listen=0.0.0.0:5683;origin.allow=", NULL},
    {"coap.listen=0.0.0.0:5683;coap.unauthenticated_loopback=true", NULL},
    {"coap.listen=127.0.0.5:5683,[::1]:5683", NULL},
    {"coap.listen=coaps://0.0.0.0:5684;coap.psk=dev key_env=DEV_PSK", NULL},
    {"coap.listen=coaps://0.0.0.0:5684;coap.cert_file=" EXAMPLE_CONF ";coap.key_file=" EXAMPLE_CONF,
     "coaps://0.0.0.0:5684 serves"},
    {"coap.listen=coaps://0.0.0.0:5684;coap.cert_file=" EXAMPLE_CONF ";coap.key_file=" EXAMPLE_CONF
     ";coap.client_ca_file=" EXAMPLE_CONF, NULL},
    {"http.listen=0.0.0.0:8080", "http.listen: 0.0.0.0:8080 serves clients without credentials and upstream.allow rule *://127.0.0.0/8 reaches loopback"},
    {"http.listen=[::]:8080;upstream.allow=coap://[::1]", "rule coap://[::1]"},
    {"http.listen=0.0.0.0:8080;upstream.allow=coap://10.0.0.0/8", NULL},
    {"http.listen=0.0.0.0:8080;upstream.allow=", NULL},
    {"http.listen=0.0.0.0:8080;http.bearer_tokens=0123456789abcdef0123", NULL},
    {"http.listen=0.0.0.0:8080;http.unauthenticated_loopback=true", NULL},
    {"https.listen=0.0.0.0:8443;https.cert_file=" EXAMPLE_CONF ";https.key_file=" EXAMPLE_CONF,
     "https.listen: 0.0.0.0:8443 serves"},
    {"https.listen=0.0.0.0:8443;https.cert_file=" EXAMPLE_CONF ";https.key_file=" EXAMPLE_CONF
     ";https.client_ca_file=" EXAMPLE_CONF, NULL},
};

START_TEST(exposure_row)
{
    hcc_config_t cfg;
    char err[1024] = "", settings[1024], *save = NULL;

    setenv("DEV_PSK", "dev-psk-0123456789", 1); /* a key_env variable must be set, as at start */
    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof(err)), 0);
    snprintf(settings, sizeof settings, "%s", exposure[_i].settings);
    for (char *kv = strtok_r(settings, ";", &save); kv != NULL; kv = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(kv, '=');
        *eq = '\0';
        ck_assert_msg(hcc_set(&cfg, kv, eq + 1, err, sizeof(err)) == 0, "%s: %s", kv, err);
    }
    if (exposure[_i].error == NULL) {
        ck_assert_msg(hcc_finish(&cfg, err, sizeof(err)) == 0, "%s: %s", exposure[_i].settings,
                      err);
    } else {
        ck_assert_int_eq(hcc_finish(&cfg, err, sizeof(err)), -1);
        ck_assert_msg(strstr(err, exposure[_i].error) != NULL, "%s: %s", exposure[_i].settings,
                      err);
    }
    hcc_free(&cfg);
}
END_TEST

static Suite *finish_suite(void)
{
    Suite *s = suite_create("config_finish");
    TCase *tc = tcase_create("finish");

    tcase_add_loop_test(tc, listen_good, 0, COUNTOF(good_listen));
    tcase_add_loop_test(tc, finish_bad, 0, COUNTOF(bad_finish));
    tcase_add_loop_test(tc, finish_good, 0, COUNTOF(good_finish));
    tcase_add_loop_test(tc, exposure_row, 0, COUNTOF(exposure));
    tcase_add_test(tc, coap_listen_off);
    tcase_add_test(tc, finish_again);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(finish_suite());
}

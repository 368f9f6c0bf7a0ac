/* hcc_load_file() and hcc_configure() (config/load.c). */
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hcc.h"
#include "run_suite.h"

#define COUNTOF(a) (sizeof(a) / sizeof((a)[0]))

/* A configuration file in /tmp holding |content|; unlink() it when done. */
static void write_temp(char path[64], const char *content)
{
    FILE *f;
    int fd;

    snprintf(path, 64, "/tmp/check_config_load_XXXXXX");
    fd = mkstemp(path);
    ck_assert_int_ne(fd, -1);
    f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    fputs(content, f);
    fclose(f);
}

/* |fmt| with each "@" replaced by |path|: rows name the temporary file they cannot know. */
static void expand(char *out, size_t size, const char *fmt, const char *path)
{
    size_t n = 0;

    for (; *fmt != '\0' && n + 1 < size; fmt++) {
        if (*fmt == '@')
            n += (size_t)snprintf(out + n, size - n, "%s", path);
        else
            out[n++] = *fmt;
    }
    out[n < size ? n : size - 1] = '\0';
}

static char *print_keys(const hcc_config_t *cfg)
{
    hcc_config_t copy = *cfg;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);

    copy.source = NULL; /* the header line names the source; only the keys are compared */
    hcc_print(&copy, out);
    fclose(out);
    return text;
}

/* ---- the example file ---- */

/* hcproxy.conf.example sets every key, to its default, and loads. */
START_TEST(example_loads)
{
    hcc_config_t defaults, cfg;
    char err[256] = "", *want, *got;

    ck_assert_int_eq(hcc_defaults(&defaults, err, sizeof(err)), 0);
    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof(err)), 0);
    ck_assert_msg(hcc_load_file(&cfg, EXAMPLE_CONF, err, sizeof(err)) == 0, "%s", err);
    ck_assert_msg(hcc_finish(&cfg, err, sizeof(err)) == 0, "%s", err);
    ck_assert_str_eq(cfg.source, EXAMPLE_CONF);
    for (size_t i = 0; i < HCC_NKEYS; i++) {
        ck_assert_msg(cfg.origin[i].from == HCC_FROM_FILE, "%s not in the example",
                      hcc_keys[i].name);
        ck_assert_uint_gt(cfg.origin[i].line, 0);
    }
    want = print_keys(&defaults);
    got = print_keys(&cfg);
    ck_assert_str_eq(got, want);
    free(want);
    free(got);
    hcc_free(&defaults);
    hcc_free(&cfg);
}
END_TEST

/* The example's printed configuration has the reverse direction's groups, whole and in the
 * file's syntax, as --check-config --config hcproxy.conf.example shows them. */
static const char *const example_lines[] = {
    "\ncoap: {\n    listen = [ \"127.0.0.1:5683\" ];\n    unauthenticated_loopback = false;\n"
    "    routes = [ ];\n"
    "    max_body_bytes = 4194304;\n    max_inflight = 10000;\n"
    "    max_inflight_per_client = 1024;\n    piggyback_wait_ms = 1000;\n"
    "    dedup_max_entries = 100000;\n    dedup_max_bytes = 33554432;\n"
    "    amplification_factor = 3;\n    psk = [ ];\n    cert_file = \"\";\n    key_file = \"\";\n"
    "    client_ca_file = \"\";\n};\n",
    "\norigin: {\n    allow = [ \"*://127.0.0.0/8\", \"*://[::1]\", "
    "\"*://localhost\" ];\n",
    "    timeout_ms = 30000;\n    connect_timeout_ms = 5000;\n    verify_tls = true;\n",
    "    ca_file = \"\";\n    redirects = 0;\n    max_response_bytes = 16777216;\n"
    "    max_connections = 64;\n    max_connections_per_origin = 16;\n"
    "    http_proxy = \"\";\n    http_proxy_auth = \"\";\n"
    "    no_proxy = [ \"localhost\", \"127.0.0.0/8\", \"[::1]\" ];\n};\n",
};

START_TEST(example_prints_reverse_keys)
{
    hcc_config_t cfg;
    char err[256] = "", *text;

    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof(err)), 0);
    ck_assert_msg(hcc_load_file(&cfg, EXAMPLE_CONF, err, sizeof(err)) == 0, "%s", err);
    ck_assert_msg(hcc_finish(&cfg, err, sizeof(err)) == 0, "%s", err);
    ck_assert_uint_eq(cfg.ncoap_listen_addrs, 1);
    ck_assert_uint_eq(cfg.norigin_rules, 3);
    ck_assert_uint_eq(cfg.ncoap_routes, 0);
    text = print_keys(&cfg);
    ck_assert_msg(strstr(text, example_lines[_i]) != NULL, "no \"%s\" in\n%s", example_lines[_i],
                  text);
    free(text);
    hcc_free(&cfg);
}
END_TEST

/* ---- good files ---- */

/* The forms a file may use: LIST as a string, an array or a list; FLOAT as an integer; the
 * integer spellings libconfig knows. |check| is hcc_print()'s line for the key. */
static const struct {
    const char *content;
    const char *line;
} good_files[] = {
    {"http: { listen = \"127.0.0.1:1, [::1]:2\"; };",
     "    listen = [ \"127.0.0.1:1\", \"[::1]:2\" ];\n"},
    {"http: { listen = [ \"127.0.0.1:1\", \"[::1]:2\" ]; };",
     "    listen = [ \"127.0.0.1:1\", \"[::1]:2\" ];\n"},
    {"http: { listen = ( \"127.0.0.1:1\", \"[::1]:2\" ); };",
     "    listen = [ \"127.0.0.1:1\", \"[::1]:2\" ];\n"},
    {"upstream: { allow = [ ]; };", "    allow = [ ];\n"},
    {"upstream: { ack_random_factor = 2; };", "    ack_random_factor = 2.0;\n"},
    {"upstream: { ack_random_factor = 2.5; };", "    ack_random_factor = 2.5;\n"},
    {"http: { max_connections = 0x10; };", "    max_connections = 16;\n"},
    {"http: { max_body_bytes = 1073741824L; };", "    max_body_bytes = 1073741824;\n"},
    {"log: { level = \"debug\"; };", "    level = \"debug\";\n"},
    {"# comment\n// comment\n/* comment */\nlog = { level = \"warn\"; };",
     "    level = \"warn\";\n"},
    {"", "    max_connections = 1024;\n"},
    {"http: { };", "    max_connections = 1024;\n"},
    /* the reverse direction's groups */
    {"coap: { listen = [ ]; };", "\ncoap: {\n    listen = [ ];\n"},
    {"coap: { listen = \"127.0.0.1:0\"; };", "\ncoap: {\n    listen = [ \"127.0.0.1:0\" ];\n"},
    {"coap: { routes = ( \"/lwm2m/=http://127.0.0.1:8000/api/\" ); };",
     "    routes = [ \"/lwm2m/=http://127.0.0.1:8000/api/\" ];\n"},
    {"coap: { max_body_bytes = 0; };", "    max_body_bytes = 0;\n    max_inflight = 10000;\n"},
    {"origin: { allow = [ \"https://api.example\", \"*://[fd00::/8]\" ]; };",
     "    allow = [ \"https://api.example\", \"*://[fd00::/8]\" ];\n"},
    {"origin: { verify_tls = false; };", "    verify_tls = false;\n"},
    {"origin: { verify_tls = TRUE; };", "    verify_tls = true;\n"},
    {"origin: { ca_file = \"/etc/ssl/certs/ca-certificates.crt\"; };",
     "    ca_file = \"/etc/ssl/certs/ca-certificates.crt\";\n"},
    {"origin: { redirects = 10; timeout_ms = 1; connect_timeout_ms = 600000; };",
     "    timeout_ms = 1;\n    connect_timeout_ms = 600000;\n"},
    {"origin: { max_response_bytes = 1073741824L; max_connections = 10000; };",
     "    max_response_bytes = 1073741824;\n    max_connections = 10000;\n"},
};

START_TEST(file_good)
{
    hcc_config_t cfg;
    char path[64], err[256] = "", *text;

    write_temp(path, good_files[_i].content);
    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof(err)), 0);
    ck_assert_msg(hcc_load_file(&cfg, path, err, sizeof(err)) == 0, "%s", err);
    text = print_keys(&cfg);
    ck_assert_msg(strstr(text, good_files[_i].line) != NULL, "no \"%s\" in\n%s",
                  good_files[_i].line, text);
    free(text);
    unlink(path);
    hcc_free(&cfg);
}
END_TEST

/* ---- bad files: "path:line: key: reason", path written as "@" ---- */

static const struct {
    const char *content;
    const char *err;
} bad_files[] = {
    /* unknown keys and groups */
    {"http: {\n  lsten = [ \"127.0.0.1:1\" ];\n};\n", "@:2: http.lsten: unknown key"},
    {"htp: {\n};\n", "@:1: htp: unknown key"},
    {"listen = \"127.0.0.1:1\";\n", "@:1: listen: unknown key"},
    {"http: {\n  limits: {\n    x = 1;\n  };\n};\n", "@:2: http.limits: unknown key"},
    {"http = 5;\n", "@:1: http: must be a group: http: { ... };"},
    /* the walk comes back out of each group, an empty one too, with the group's name dropped */
    {"http: {\n};\nupstream: {\n  timeout_ms = 5;\n};\nbogus = 1;\n", "@:6: bogus: unknown key"},
    {"http: {\n  max_connections = 5;\n};\nlog: {\n  level = \"loud\";\n};\n",
     "@:5: log.level: must be error, warn, info or debug"},
    /* libconfig's syntax errors, its words after ours */
    {"http: {\n  listen = ;\n};\n", "@:2: syntax error"},
    {"http: {\n  max_connections = 1;\n", "@:3: syntax error"},
    {"http: {\n  max_connections = 1;\n  max_connections = 2;\n};\n",
     "@:3: syntax error: duplicate setting name"},
    {"http: {\n  listen = [ \"a\", 1 ];\n};\n",
     "@:2: syntax error: mismatched element type in array"},
    /* each type against values of another */
    {"http: {\n  max_connections = \"10\";\n};\n",
     "@:2: http.max_connections: must be an integer from 1 to 1000000"},
    {"http: {\n  max_connections = 0;\n};\n",
     "@:2: http.max_connections: must be an integer from 1 to 1000000"},
    {"http: {\n  max_connections = 1.5;\n};\n",
     "@:2: http.max_connections: must be an integer from 1 to 1000000"},
    {"http: {\n  max_connections = true;\n};\n",
     "@:2: http.max_connections: must be an integer from 1 to 1000000"},
    {"http: {\n  max_connections = 99999999999L;\n};\n",
     "@:2: http.max_connections: must be an integer from 1 to 1000000"},
    {"http: {\n  max_connections = [ 1 ];\n};\n",
     "@:2: http.max_connections: must be an integer from 1 to 1000000"},
    {"upstream: {\n  timeout_ms = { a = 1; };\n};\n",
     "@:2: upstream.timeout_ms: must be an integer from 1 to 3600000"},
    {"http: {\n  listen = [ 1 ];\n};\n",
     "@:2: http.listen: must be a string or a list of strings"},
    {"http: {\n  listen = ( \"127.0.0.1:1\", 1 );\n};\n",
     "@:2: http.listen: must be a string or a list of strings"},
    {"http: {\n  listen = ( \"127.0.0.1:1\", [ \"x\" ] );\n};\n",
     "@:2: http.listen: must be a string or a list of strings"},
    {"http: {\n  listen = 8080;\n};\n", "@:2: http.listen: must be a string or a list of strings"},
    {"http: {\n  hc_path = 5;\n};\n", "@:2: http.hc_path: must be a string"},
    {"http: {\n  hc_path = [ \"/a/\" ];\n};\n", "@:2: http.hc_path: must be a string"},
    {"upstream: {\n  ack_random_factor = \"1.5\";\n};\n",
     "@:2: upstream.ack_random_factor: must be a number from 1 to 4"},
    {"upstream: {\n  ack_random_factor = 5.0;\n};\n",
     "@:2: upstream.ack_random_factor: must be a number from 1 to 4"},
    {"upstream: {\n  ack_random_factor = false;\n};\n",
     "@:2: upstream.ack_random_factor: must be a number from 1 to 4"},
    {"log: {\n  level = \"loud\";\n};\n", "@:2: log.level: must be error, warn, info or debug"},
    {"log: {\n  level = 3;\n};\n", "@:2: log.level: must be error, warn, info or debug"},
    /* the reverse direction's keys: a switch is a libconfig boolean, not a word or a number */
    {"origin: {\n  verify_tls = \"yes\";\n};\n", "@:2: origin.verify_tls: must be true or false"},
    {"origin: {\n  verify_tls = 1;\n};\n", "@:2: origin.verify_tls: must be true or false"},
    {"origin: {\n  verify_tls = [ true ];\n};\n", "@:2: origin.verify_tls: must be true or false"},
    {"origin: {\n  ca_file = [ \"/a.pem\" ];\n};\n", "@:2: origin.ca_file: must be a string"},
    {"origin: {\n  ca_file = 0;\n};\n", "@:2: origin.ca_file: must be a string"},
    {"origin: {\n  redirects = 11;\n};\n",
     "@:2: origin.redirects: must be an integer from 0 to 10"},
    {"origin: {\n\n  timeout_ms = 0;\n};\n",
     "@:3: origin.timeout_ms: must be an integer from 1 to 3600000"},
    {"origin: {\n  connect_timeout_ms = 600001;\n};\n",
     "@:2: origin.connect_timeout_ms: must be an integer from 1 to 600000"},
    {"origin: {\n  max_response_bytes = 2147483648L;\n};\n",
     "@:2: origin.max_response_bytes: must be an integer from 0 to 1073741824"},
    {"origin: {\n  max_connections = 0;\n};\n",
     "@:2: origin.max_connections: must be an integer from 1 to 10000"},
    {"origin: {\n  allow = [ \"http://h\", 1 ];\n};\n",
     "@:2: syntax error: mismatched element type in array"},
    {"origin: {\n  allow = 80;\n};\n", "@:2: origin.allow: must be a string or a list of strings"},
    {"origin: {\n  verify = true;\n};\n", "@:2: origin.verify: unknown key"},
    {"coap: {\n  max_body_bytes = -1;\n};\n",
     "@:2: coap.max_body_bytes: must be an integer from 0 to 1073741824"},
    {"coap: {\n  listen = 5683;\n};\n", "@:2: coap.listen: must be a string or a list of strings"},
    {"coap: {\n  route = [ ];\n};\n", "@:2: coap.route: unknown key"},
    {"coap = [ \"127.0.0.1:5683\" ];\n", "@:1: coap: must be a group: coap: { ... };"},
};

START_TEST(file_bad)
{
    hcc_config_t cfg;
    char path[64], want[512], err[512] = "";

    write_temp(path, bad_files[_i].content);
    expand(want, sizeof(want), bad_files[_i].err, path);
    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof(err)), 0);
    ck_assert_int_eq(hcc_load_file(&cfg, path, err, sizeof(err)), -1);
    ck_assert_str_eq(err, want);
    unlink(path);
    hcc_free(&cfg);
}
END_TEST

START_TEST(file_missing)
{
    hcc_config_t cfg;
    char err[256] = "";

    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof(err)), 0);
    ck_assert_int_eq(hcc_load_file(&cfg, "/nonexistent/hcproxy.conf", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "/nonexistent/hcproxy.conf: cannot read: No such file or directory");
    hcc_free(&cfg);
}
END_TEST

/* ---- hcc_configure(): the sources in order, and where each error points ---- */

#define MAXARGS 8
/* A file (written to a temporary path, "@" in argv, envp and err), the arguments after argv[0]
 * and the environment; then the outcome and http.max_connections, or the error. */
static const struct {
    const char *file;
    const char *argv[MAXARGS];
    const char *envp[MAXARGS];
    int rc;
    hcc_action_t action;
    long long max_connections;
    const char *err;
} configure_rows[] = {
    /* the defaults alone */
    {NULL, {NULL}, {NULL}, 0, HCC_RUN, 1024, NULL},
    {NULL, {NULL}, {"PATH=/bin", "HCPROXYX=1", "HCPROXY=1"}, 0, HCC_RUN, 1024, NULL},
    /* file < env < flag */
    {"http: { max_connections = 1; };", {"--config", "@"}, {NULL}, 0, HCC_RUN, 1, NULL},
    {"http: { max_connections = 1; };", {"--config=@"}, {NULL}, 0, HCC_RUN, 1, NULL},
    {"http: { max_connections = 1; };", {NULL}, {"HCPROXY_CONFIG=@"}, 0, HCC_RUN, 1, NULL},
    {"http: { max_connections = 1; };",
     {NULL},
     {"HCPROXY_CONFIG=@", "HCPROXY_HTTP_MAX_CONNECTIONS=2"},
     0, HCC_RUN, 2, NULL},
    {"http: { max_connections = 1; };",
     {"--http-max-connections", "3"},
     {"HCPROXY_CONFIG=@", "HCPROXY_HTTP_MAX_CONNECTIONS=2"},
     0, HCC_RUN, 3, NULL},
    {"http: { max_connections = 1; };",
     {"--http-max-connections=3", "--config", "@"},
     {"HCPROXY_HTTP_MAX_CONNECTIONS=2"},
     0, HCC_RUN, 3, NULL},
    {NULL, {"--http-max-connections=3", "--http-max-connections=4"}, {NULL}, 0, HCC_RUN, 4, NULL},
    {NULL, {NULL}, {"HCPROXY_HTTP_MAX_CONNECTIONS=5"}, 0, HCC_RUN, 5, NULL},
    /* --config beats HCPROXY_CONFIG; an empty HCPROXY_CONFIG is no file */
    {"http: { max_connections = 1; };",
     {"--config", "@"},
     {"HCPROXY_CONFIG=/nonexistent/hcproxy.conf"},
     0, HCC_RUN, 1, NULL},
    {NULL, {NULL}, {"HCPROXY_CONFIG="}, 0, HCC_RUN, 1024, NULL},
    /* a value the file got wrong may be put right by a flag: the effective one is checked */
    {"http: { listen = \"localhost:1\"; };",
     {"--config", "@", "--http-listen", "127.0.0.1:1"},
     {NULL},
     0, HCC_RUN, 1024, NULL},
    /* actions; --help and --version read neither the file nor the environment */
    {NULL, {"--help"}, {NULL}, 0, HCC_HELP, 1024, NULL},
    {NULL, {"-h"}, {NULL}, 0, HCC_HELP, 1024, NULL},
    {NULL, {"--version"}, {NULL}, 0, HCC_VERSION, 1024, NULL},
    {NULL, {"-V"}, {NULL}, 0, HCC_VERSION, 1024, NULL},
    {NULL, {"--check-config"}, {NULL}, 0, HCC_CHECK, 1024, NULL},
    {NULL, {"--check-config", "--help"}, {NULL}, 0, HCC_HELP, 1024, NULL},
    /* --health-check reads the configuration it may fall back to; its flags still apply */
    {NULL, {"--health-check", "--http-max-connections", "7"}, {NULL}, 0, HCC_HEALTH, 7, NULL},
    {NULL, {"--health-check", "--check-config"}, {NULL}, 0, HCC_CHECK, 1024, NULL},
    {NULL, {"--help"}, {"HCPROXY_NO_SUCH=1"}, 0, HCC_HELP, 1024, NULL},
    {NULL, {"--version", "--config", "/nonexistent"}, {NULL}, 0, HCC_VERSION, 1024, NULL},
    /* the file's errors */
    {"http: {\n  max_connections = 0;\n};\n",
     {"--config", "@", "--check-config"},
     {NULL},
     -1, HCC_CHECK, 0,
     "@:2: http.max_connections: must be an integer from 1 to 1000000"},
    {NULL,
     {"--config", "/nonexistent/hcproxy.conf"},
     {NULL},
     -1, HCC_RUN, 0,
     "/nonexistent/hcproxy.conf: cannot read: No such file or directory"},
    {"upstream: {\n  block_size = 100;\n};\n",
     {"--config", "@"},
     {NULL},
     -1, HCC_RUN, 0,
     "@:2: upstream.block_size: must be a power of two from 16 to 1024"},
    {"# hosts\nupstream: {\n  allow = [\n    \"coap://10.0.0.1/8\"\n  ];\n};\n",
     {NULL},
     {"HCPROXY_CONFIG=@"},
     -1, HCC_RUN, 0,
     "@:3: upstream.allow: host bits set in 10.0.0.1/8"},
    {"http: {\n  listen = [ ];\n};\n",
     {"--config", "@"},
     {NULL},
     -1, HCC_RUN, 0,
     "@:2: http.listen: needs at least one address, or https.listen one"},
    /* the environment's errors */
    {NULL,
     {NULL},
     {"HCPROXY_HTTP_MAX_CONNECTIONS=0"},
     -1, HCC_RUN, 0,
     "HCPROXY_HTTP_MAX_CONNECTIONS: http.max_connections: must be an integer from 1 to 1000000"},
    {NULL,
     {NULL},
     {"HCPROXY_HTTP_LSTEN=127.0.0.1:1"},
     -1, HCC_RUN, 0,
     "HCPROXY_HTTP_LSTEN: unknown variable (see --help)"},
    {NULL,
     {NULL},
     {"HCPROXY_HTTP_LISTEN=localhost:80"},
     -1, HCC_RUN, 0,
     "HCPROXY_HTTP_LISTEN: http.listen: localhost:80: must be IPv4:port or [IPv6]:port"},
    {NULL, {NULL}, {"HCPROXY_http_listen=x"}, -1, HCC_RUN, 0,
     "HCPROXY_http_listen: unknown variable (see --help)"},
    /* what Kubernetes writes for a Service named hcproxy (or hcproxy-http) is no key, and is
     * passed over; the same names with values of another shape are still mistakes */
    {NULL, {NULL},
     {"HCPROXY_SERVICE_HOST=10.96.0.11", "HCPROXY_SERVICE_PORT=8080", "HCPROXY_SERVICE_PORT_HTTP=8080",
      "HCPROXY_PORT=tcp://10.96.0.11:8080", "HCPROXY_PORT_8080_TCP=tcp://10.96.0.11:8080",
      "HCPROXY_PORT_8080_TCP_PROTO=tcp", "HCPROXY_PORT_8080_TCP_PORT=8080",
      "HCPROXY_PORT_8080_TCP_ADDR=10.96.0.11"},
     0, HCC_RUN, 1024, NULL},
    {NULL, {NULL},
     {"HCPROXY_HTTP_SERVICE_HOST=10.96.0.12", "HCPROXY_HTTP_PORT=tcp://10.96.0.12:80",
      "HCPROXY_HTTP_PORT_5683_UDP_PROTO=udp", "HCPROXY_HTTP_MAX_CONNECTIONS=9"},
     0, HCC_RUN, 9, NULL},
    {NULL, {NULL}, {"HCPROXY_HTTP_PORT=9000"}, -1, HCC_RUN, 0,
     "HCPROXY_HTTP_PORT: unknown variable (see --help)"},
    {NULL, {NULL}, {"HCPROXY_SERVICE_PORT=http"}, -1, HCC_RUN, 0,
     "HCPROXY_SERVICE_PORT: unknown variable (see --help)"},
    {NULL, {NULL}, {"HCPROXY_PORT_8080_TCP_PROTO=tls"}, -1, HCC_RUN, 0,
     "HCPROXY_PORT_8080_TCP_PROTO: unknown variable (see --help)"},
    {NULL, {NULL}, {"HCPROXY_HTTP_BEARER_TOKEN=0123456789abcdef"}, -1, HCC_RUN, 0,
     "HCPROXY_HTTP_BEARER_TOKEN: unknown variable (see --help)"},
    /* a PSK named by a variable that is not set fails here, as it would at start */
    {NULL, {"--coap-psk", "dev1 key_env=HCPROXY_TEST_UNSET_PSK"}, {NULL}, -1, HCC_RUN, 0,
     "--coap-psk: entry 1: key_env: the variable HCPROXY_TEST_UNSET_PSK is not set"},
    {NULL, {"--upstream-credentials", "coaps://h psk identity=i key_env=HCPROXY_TEST_UNSET_PSK"},
     {NULL}, -1, HCC_CHECK, 0,
     "--upstream-credentials: entry 1: key_env: the variable HCPROXY_TEST_UNSET_PSK is not set"},
    /* the flags' errors */
    {NULL, {"--foo"}, {NULL}, -1, HCC_RUN, 0, "--foo: unknown flag (see --help)"},
    {NULL, {"--foo=1"}, {NULL}, -1, HCC_RUN, 0, "--foo: unknown flag (see --help)"},
    {NULL, {"--http.listen=x"}, {NULL}, -1, HCC_RUN, 0,
     "--http.listen: unknown flag (see --help)"},
    {NULL, {"-x"}, {NULL}, -1, HCC_RUN, 0, "-x: unknown flag (see --help)"},
    {NULL, {"stray"}, {NULL}, -1, HCC_RUN, 0, "stray: unexpected argument (see --help)"},
    {NULL, {"--http-listen"}, {NULL}, -1, HCC_RUN, 0, "--http-listen: needs a value"},
    {NULL, {"--config"}, {NULL}, -1, HCC_RUN, 0, "--config: needs a value"},
    {NULL, {"--help=1"}, {NULL}, -1, HCC_RUN, 0, "--help: takes no value"},
    {NULL, {"--log-level=loud"}, {NULL}, -1, HCC_RUN, 0,
     "--log-level: must be error, warn, info or debug"},
    {NULL, {"--http-hc-path", "hc"}, {NULL}, -1, HCC_RUN, 0,
     "--http-hc-path: must start and end with '/'"},
    {NULL, {"--upstream-block-size", "100"}, {NULL}, -1, HCC_RUN, 0,
     "--upstream-block-size: must be a power of two from 16 to 1024"},
    {NULL, {"--upstream-allow=coap://10.0.0.1/8"}, {NULL}, -1, HCC_RUN, 0,
     "--upstream-allow: host bits set in 10.0.0.1/8"},
    /* the reverse direction's keys from each source, and hcc_finish() blaming the right one */
    {"coap: {\n  listen = [ ];\n};\norigin: {\n  verify_tls = false;\n};\n",
     {"--config", "@", "--origin-redirects", "3"},
     {"HCPROXY_COAP_MAX_BODY_BYTES=1024", "HCPROXY_ORIGIN_ALLOW=https://api.example"},
     0, HCC_RUN, 1024, NULL},
    {NULL, {"--coap-listen", "[::1]:0", "--origin-verify-tls=off"}, {NULL}, 0, HCC_RUN, 1024,
     NULL},
    {"# reverse routes\ncoap: {\n  routes = [\n    \"/a/=coap://h/\"\n  ];\n};\n",
     {"--config", "@"},
     {NULL},
     -1, HCC_RUN, 0,
     "@:3: coap.routes: route base must be an http or https URL"},
    {"origin: {\n  allow = \"coap://h\";\n};\n",
     {"--config", "@"},
     {NULL},
     -1, HCC_RUN, 0,
     "@:2: origin.allow: unknown scheme \"coap\" (http, https or *)"},
    {"coap: {\n  listen = \"localhost:5683\";\n};\n",
     {"--config", "@"},
     {NULL},
     -1, HCC_RUN, 0,
     "@:2: coap.listen: localhost:5683: must be IPv4:port or [IPv6]:port"},
    {"origin: {\n  ca_file = \"/nonexistent/ca.pem\";\n};\n",
     {NULL},
     {"HCPROXY_CONFIG=@"},
     -1, HCC_RUN, 0,
     "@:2: origin.ca_file: /nonexistent/ca.pem: cannot read: No such file or directory"},
    /* a flag puts right what the file got wrong */
    {"origin: {\n  ca_file = \"/nonexistent/ca.pem\";\n};\n",
     {"--config", "@", "--origin-ca-file="},
     {NULL},
     0, HCC_RUN, 1024, NULL},
    {NULL, {NULL}, {"HCPROXY_ORIGIN_ALLOW=ftp://h"}, -1, HCC_RUN, 0,
     "HCPROXY_ORIGIN_ALLOW: origin.allow: unknown scheme \"ftp\" (http, https or *)"},
    {NULL, {NULL}, {"HCPROXY_ORIGIN_VERIFY_TLS=maybe"}, -1, HCC_RUN, 0,
     "HCPROXY_ORIGIN_VERIFY_TLS: origin.verify_tls: must be true or false"},
    {NULL, {NULL}, {"HCPROXY_COAP_LISTEN=127.0.0.1:99999"}, -1, HCC_RUN, 0,
     "HCPROXY_COAP_LISTEN: coap.listen: 127.0.0.1:99999: the port must be 0 to 65535"},
    {NULL, {NULL}, {"HCPROXY_ORIGIN_TLS=1"}, -1, HCC_RUN, 0,
     "HCPROXY_ORIGIN_TLS: unknown variable (see --help)"},
    {NULL, {"--coap-listen=localhost:5683"}, {NULL}, -1, HCC_RUN, 0,
     "--coap-listen: localhost:5683: must be IPv4:port or [IPv6]:port"},
    {NULL, {"--coap-routes", "/lwm2m/=http://h/api"}, {NULL}, -1, HCC_RUN, 0,
     "--coap-routes: route base must end with '/'"},
    {NULL, {"--origin-ca-file", "/"}, {NULL}, -1, HCC_RUN, 0, "--origin-ca-file: /: not a file"},
    {NULL, {"--origin-redirects=-1"}, {NULL}, -1, HCC_RUN, 0,
     "--origin-redirects: must be an integer from 0 to 10"},
    {NULL, {"--origin-max-connections", "10001"}, {NULL}, -1, HCC_RUN, 0,
     "--origin-max-connections: must be an integer from 1 to 10000"},
    {NULL, {"--origin-verify-tls"}, {NULL}, -1, HCC_RUN, 0, "--origin-verify-tls: needs a value"},
};

START_TEST(configure_row)
{
    hcc_config_t cfg;
    hcc_action_t action = HCC_RUN;
    char path[64] = "", args[MAXARGS + 1][256], envs[MAXARGS + 1][256], want[512], err[512] = "";
    char prog[] = "hcproxy", *argv[MAXARGS + 2] = {prog}, *envp[MAXARGS + 1] = {NULL};
    int argc = 1, rc;

    if (configure_rows[_i].file != NULL)
        write_temp(path, configure_rows[_i].file);
    for (int i = 0; i < MAXARGS && configure_rows[_i].argv[i] != NULL; i++, argc++) {
        expand(args[i], sizeof(args[i]), configure_rows[_i].argv[i], path);
        argv[argc] = args[i];
    }
    for (int i = 0; i < MAXARGS && configure_rows[_i].envp[i] != NULL; i++) {
        expand(envs[i], sizeof(envs[i]), configure_rows[_i].envp[i], path);
        envp[i] = envs[i];
    }
    rc = hcc_configure(&cfg, argc, argv, envp, &action, err, sizeof(err));
    if (configure_rows[_i].err != NULL) {
        expand(want, sizeof(want), configure_rows[_i].err, path);
        ck_assert_str_eq(err, want);
    }
    ck_assert_int_eq(rc, configure_rows[_i].rc);
    if (rc == 0) {
        ck_assert_int_eq(action, configure_rows[_i].action);
        ck_assert_int_eq(cfg.http_max_connections, configure_rows[_i].max_connections);
    }
    hcc_free(&cfg);
    if (path[0] != '\0')
        unlink(path);
}
END_TEST

/* Each source leaves its mark in origin[], which hcc_finish() reads to blame the right place. */
START_TEST(configure_origin)
{
    hcc_config_t cfg;
    hcc_action_t action;
    char path[64], err[256] = "", cfgarg[80], prog[] = "hcproxy", flag[] = "--log-level";
    char level[] = "debug", nstart[] = "HCPROXY_UPSTREAM_NSTART=2";
    char *argv[] = {prog, cfgarg, flag, level, NULL}, *envp[] = {nstart, NULL};

    write_temp(path, "# first line\nhttp: {\n  max_connections = 7;\n};\n");
    snprintf(cfgarg, sizeof(cfgarg), "--config=%s", path);
    ck_assert_msg(hcc_configure(&cfg, 4, argv, envp, &action, err, sizeof(err)) == 0, "%s", err);
    ck_assert_str_eq(cfg.source, path);
    ck_assert_int_eq(cfg.origin[HCC_K_http_max_connections].from, HCC_FROM_FILE);
    ck_assert_uint_eq(cfg.origin[HCC_K_http_max_connections].line, 3);
    ck_assert_int_eq(cfg.origin[HCC_K_upstream_nstart].from, HCC_FROM_ENV);
    ck_assert_int_eq(cfg.upstream_nstart, 2);
    ck_assert_int_eq(cfg.origin[HCC_K_log_level].from, HCC_FROM_FLAG);
    ck_assert_int_eq(cfg.log_level, HCC_LOG_DEBUG);
    ck_assert_int_eq(cfg.origin[HCC_K_http_listen].from, HCC_FROM_DEFAULT);
    hcc_free(&cfg);
    unlink(path);
}
END_TEST

/* Where each value came from, as --check-config prints it, and a warning when the environment
 * overrides what the file says (a flag overriding it is what flags are for). */
START_TEST(configure_sources)
{
    hcc_config_t cfg;
    hcc_action_t action;
    char path[64], err[256] = "", cfgarg[80], prog[] = "hcproxy", flag[] = "--log-level=warn";
    char e1[] = "HCPROXY_UPSTREAM_TIMEOUT_MS=700", e2[] = "HCPROXY_ORIGIN_REDIRECTS=2";
    char *argv[] = {prog, cfgarg, flag, NULL}, *envp[] = {e1, e2, NULL}, want[256], *text = NULL;
    size_t len = 0;
    FILE *out;

    write_temp(path, "upstream: {\n  timeout_ms = 500;\n};\nlog: {\n  level = \"debug\";\n};\n");
    snprintf(cfgarg, sizeof(cfgarg), "--config=%s", path);
    ck_assert_msg(hcc_configure(&cfg, 3, argv, envp, &action, err, sizeof(err)) == 0, "%s", err);
    ck_assert_uint_eq(cfg.warnings.count, 1);
    snprintf(want, sizeof want, "HCPROXY_UPSTREAM_TIMEOUT_MS overrides upstream.timeout_ms, set at %s:2",
             path);
    ck_assert_str_eq(cfg.warnings.items[0], want);
    out = open_memstream(&text, &len);
    hcc_print_sources(&cfg, out);
    fclose(out);
    ck_assert_ptr_nonnull(strstr(text, "    listen = [ \"127.0.0.1:8080\" ]; # default\n"));
    ck_assert_ptr_nonnull(strstr(text, "    timeout_ms = 700; # HCPROXY_UPSTREAM_TIMEOUT_MS\n"));
    ck_assert_ptr_nonnull(strstr(text, "    redirects = 2; # HCPROXY_ORIGIN_REDIRECTS\n"));
    ck_assert_ptr_nonnull(strstr(text, "    level = \"warn\"; # --log-level\n"));
    free(text);
    hcc_free(&cfg);
    unlink(path);
    write_temp(path, "origin: {\n  redirects = 1;\n  timeout_ms = 1000;\n};\n");
    snprintf(cfgarg, sizeof(cfgarg), "--config=%s", path);
    ck_assert_int_eq(hcc_configure(&cfg, 2, argv, envp + 1, &action, err, sizeof(err)), 0);
    ck_assert_uint_eq(cfg.warnings.count, 1);
    out = open_memstream(&text, &len);
    hcc_print_sources(&cfg, out);
    fclose(out);
    snprintf(want, sizeof want, "    timeout_ms = 1000; # %s:3\n", path);
    ck_assert_ptr_nonnull(strstr(text, want));
    free(text);
    hcc_free(&cfg);
    unlink(path);
}
END_TEST

/* The reverse direction's keys from the file, the environment and the flags, each where the
 * proxy reads it, the derived fields included. */
START_TEST(configure_reverse)
{
    hcc_config_t cfg;
    hcc_action_t action;
    char path[64], err[256] = "", cfgarg[80], prog[] = "hcproxy", f1[] = "--origin-redirects=3";
    char f2[] = "--coap-routes", v2[] = "/lwm2m/=http://127.0.0.1:8000/api/";
    char e1[] = "HCPROXY_COAP_MAX_BODY_BYTES=1024";
    char e2[] = "HCPROXY_ORIGIN_ALLOW=https://api.example";
    char *argv[] = {prog, cfgarg, f1, f2, v2, NULL}, *envp[] = {e1, e2, NULL};

    write_temp(path, "coap: {\n  listen = [ \"[::1]:0\", \"127.0.0.1:0\" ];\n};\n"
                     "origin: {\n  verify_tls = false;\n  timeout_ms = 1000;\n};\n");
    snprintf(cfgarg, sizeof(cfgarg), "--config=%s", path);
    ck_assert_msg(hcc_configure(&cfg, 5, argv, envp, &action, err, sizeof(err)) == 0, "%s", err);
    ck_assert_uint_eq(cfg.ncoap_listen_addrs, 2);
    ck_assert_int_eq(cfg.coap_listen_addrs[0].ss_family, AF_INET6);
    ck_assert_int_eq(cfg.coap_listen_addrs[1].ss_family, AF_INET);
    ck_assert_int_eq(cfg.origin[HCC_K_coap_listen].from, HCC_FROM_FILE);
    ck_assert_uint_eq(cfg.origin[HCC_K_coap_listen].line, 2);
    ck_assert(!cfg.origin_verify_tls);
    ck_assert_uint_eq(cfg.origin[HCC_K_origin_verify_tls].line, 5);
    ck_assert_int_eq(cfg.origin_timeout_ms, 1000);
    ck_assert_int_eq(cfg.coap_max_body_bytes, 1024);
    ck_assert_int_eq(cfg.origin[HCC_K_coap_max_body_bytes].from, HCC_FROM_ENV);
    ck_assert_uint_eq(cfg.norigin_rules, 1);
    ck_assert_str_eq(cfg.origin_rules[0].scheme, "https");
    ck_assert_str_eq(cfg.origin_rules[0].host, "api.example");
    ck_assert_int_eq(cfg.origin_redirects, 3);
    ck_assert_int_eq(cfg.origin[HCC_K_origin_redirects].from, HCC_FROM_FLAG);
    ck_assert_uint_eq(cfg.ncoap_routes, 1);
    ck_assert_str_eq(cfg.coap_routes[0].base, "http://127.0.0.1:8000/api/");
    ck_assert_int_eq(cfg.origin[HCC_K_coap_routes_list].from, HCC_FROM_FLAG);
    ck_assert_int_eq(cfg.origin[HCC_K_origin_max_connections].from, HCC_FROM_DEFAULT);
    hcc_free(&cfg);
    unlink(path);
}
END_TEST

static Suite *load_suite(void)
{
    Suite *s = suite_create("config_load");
    TCase *tc = tcase_create("file");

    tcase_add_test(tc, example_loads);
    tcase_add_loop_test(tc, example_prints_reverse_keys, 0, COUNTOF(example_lines));
    tcase_add_loop_test(tc, file_good, 0, COUNTOF(good_files));
    tcase_add_loop_test(tc, file_bad, 0, COUNTOF(bad_files));
    tcase_add_test(tc, file_missing);
    suite_add_tcase(s, tc);
    tc = tcase_create("configure");
    tcase_add_loop_test(tc, configure_row, 0, COUNTOF(configure_rows));
    tcase_add_test(tc, configure_origin);
    tcase_add_test(tc, configure_sources);
    tcase_add_test(tc, configure_reverse);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(load_suite());
}

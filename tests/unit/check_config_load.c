/* hcc_load_file() and hcc_configure() (config/load.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hcc.h"

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
     "@:2: http.listen: needs at least one address"},
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

static Suite *load_suite(void)
{
    Suite *s = suite_create("config_load");
    TCase *tc = tcase_create("file");

    tcase_add_test(tc, example_loads);
    tcase_add_loop_test(tc, file_good, 0, COUNTOF(good_files));
    tcase_add_loop_test(tc, file_bad, 0, COUNTOF(bad_files));
    tcase_add_test(tc, file_missing);
    suite_add_tcase(s, tc);
    tc = tcase_create("configure");
    tcase_add_loop_test(tc, configure_row, 0, COUNTOF(configure_rows));
    tcase_add_test(tc, configure_origin);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(load_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

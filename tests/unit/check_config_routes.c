/* hcc_route_parse(), hcc_route_find() and the http.routes key (config/routes.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hcc.h"

#define COUNTOF(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
    const char *text;
    const char *prefix;
    const char *base;
} good_routes[] = {
    {"/sensors/=coap://[fd00::1]/s/", "/sensors/", "coap://[fd00::1]/s/"},
    {"/a/b/=coap://127.0.0.1:5683/", "/a/b/", "coap://127.0.0.1:5683/"},
    {"/gas/=coaps://meter.example/v1/", "/gas/", "coaps://meter.example/v1/"},
    {"/t/=COAP+TCP://h/", "/t/", "COAP+TCP://h/"},
    {"/u/=coaps+tcp://h/x=y/", "/u/", "coaps+tcp://h/x=y/"},
};

static const struct {
    const char *text;
    const char *reason;
} bad_routes[] = {
    {"/sensors/", "\"/sensors/\": must be PATH-PREFIX=COAP-BASE-URI"},
    {"sensors/=coap://h/", "route prefix must start and end with '/', as in /sensors/"},
    {"/sensors=coap://h/", "route prefix must start and end with '/', as in /sensors/"},
    {"/=coap://h/", "route prefix must start and end with '/', as in /sensors/"},
    {"/s/=http://h/", "route base must be a coap, coaps, coap+tcp or coaps+tcp URI"},
    {"/s/=h/", "route base must be a coap, coaps, coap+tcp or coaps+tcp URI"},
    {"/s/=coap://h/x", "route base must end with '/'"},
    {"/s/=coap://h/?q=/", "route base must not have a query, a fragment or a space"},
    {"/s/=coap://h/#f/", "route base must not have a query, a fragment or a space"},
};

START_TEST(parses_good_route)
{
    hcc_route_t r = {0};
    char err[256] = "";

    ck_assert_int_eq(hcc_route_parse(good_routes[_i].text, &r, err, sizeof err), 0);
    ck_assert_str_eq(r.prefix, good_routes[_i].prefix);
    ck_assert_str_eq(r.base, good_routes[_i].base);
    free(r.prefix);
    free(r.base);
}
END_TEST

START_TEST(refuses_bad_route)
{
    hcc_route_t r = {0};
    char err[256] = "";

    ck_assert_int_eq(hcc_route_parse(bad_routes[_i].text, &r, err, sizeof err), -1);
    ck_assert_str_eq(err, bad_routes[_i].reason);
}
END_TEST

/* Path -> the prefix of the route that must serve it ("" for none): the longest prefix wins. */
static const struct {
    const char *path;
    const char *prefix;
} lookups[] = {
    {"/sensors/temp", "/sensors/"},
    {"/sensors/gas/co2?x", "/sensors/gas/"},
    {"/sensors/gas/", "/sensors/gas/"},
    {"/sensors", ""},
    {"/sensorsX/temp", ""},
    {"/other/", ""},
    {"/", ""},
};

START_TEST(finds_longest_prefix)
{
    hcc_config_t cfg;
    char err[256] = "";
    const hcc_route_t *r;

    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof err), 0);
    ck_assert_int_eq(hcc_set(&cfg, "http.routes",
                             "/sensors/=coap://127.0.0.1/s/,/sensors/gas/=coap://127.0.0.2/g/",
                             err, sizeof err),
                     0);
    ck_assert_int_eq(hcc_finish(&cfg, err, sizeof err), 0);
    r = hcc_route_find(&cfg, lookups[_i].path);
    ck_assert_str_eq(r ? r->prefix : "", lookups[_i].prefix);
    hcc_free(&cfg);
}
END_TEST

START_TEST(refuses_route_inside_hc_path)
{
    hcc_config_t cfg;
    char err[256] = "";

    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof err), 0);
    ck_assert_int_eq(hcc_set(&cfg, "http.routes", "/hc/x/=coap://h/", err, sizeof err), 0);
    ck_assert_int_eq(hcc_finish(&cfg, err, sizeof err), -1);
    ck_assert_str_eq(err, "http.routes: route prefix must not be inside http.hc_path");
    hcc_free(&cfg);
}
END_TEST

static const struct {
    const char *url;
    bool is_ok;
} public_urls[] = {
    {"", true},
    {"http://proxy.example", true},
    {"https://proxy.example:8443", true},
    {"http://[::1]:8080", true},
    {"http://proxy.example/", false},
    {"http://proxy.example/base", false},
    {"ftp://proxy.example", false},
    {"proxy.example", false},
    {"http://a b", false},
};

START_TEST(checks_public_url)
{
    hcc_config_t cfg;
    char err[256] = "";

    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof err), 0);
    ck_assert_int_eq(hcc_set(&cfg, "http.public_url", public_urls[_i].url, err, sizeof err), 0);
    ck_assert_int_eq(hcc_finish(&cfg, err, sizeof err), public_urls[_i].is_ok ? 0 : -1);
    if (!public_urls[_i].is_ok)
        ck_assert_str_eq(err, "http.public_url: must be http://host[:port] or https://host[:port]");
    hcc_free(&cfg);
}
END_TEST

static Suite *routes_suite(void)
{
    Suite *s = suite_create("config_routes");
    TCase *tc = tcase_create("routes");

    tcase_add_loop_test(tc, parses_good_route, 0, COUNTOF(good_routes));
    tcase_add_loop_test(tc, refuses_bad_route, 0, COUNTOF(bad_routes));
    tcase_add_loop_test(tc, finds_longest_prefix, 0, COUNTOF(lookups));
    tcase_add_test(tc, refuses_route_inside_hc_path);
    tcase_add_loop_test(tc, checks_public_url, 0, COUNTOF(public_urls));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(routes_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* hcc_route_parse(), hcc_route_find() and the http.routes key; the coap.routes key and
 * hcc_coap_route_find(), the same parser with HTTP bases (config/routes.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hcc.h"
#include "run_suite.h"

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

/* ---- coap.routes: CoAP path prefixes that stand for HTTP base URLs ---- */

static const struct {
    const char *text;
    const char *prefix;
    const char *base;
} good_coap_routes[] = {
    {"/lwm2m/=http://127.0.0.1:8000/api/", "/lwm2m/", "http://127.0.0.1:8000/api/"},
    {"/rd/=https://lwm2m.example/rd/", "/rd/", "https://lwm2m.example/rd/"},
    {"/a/b/=http://[::1]:8080/", "/a/b/", "http://[::1]:8080/"},
    {"/u/=HTTPS://H/x=y/", "/u/", "HTTPS://H/x=y/"},
    /* http.hc_path is HTTP's, and does not bind CoAP paths */
    {"/hc/x/=http://h/", "/hc/x/", "http://h/"},
};

#define HTTP_BASE "coap.routes: route base must be an http or https URL"
#define PREFIX_FORM "coap.routes: route prefix must start and end with '/', as in /sensors/"
static const struct {
    const char *text;
    const char *err;
} bad_coap_routes[] = {
    {"/lwm2m/", "coap.routes: \"/lwm2m/\": must be PATH-PREFIX=HTTP-BASE-URL"},
    {"lwm2m/=http://h/", PREFIX_FORM},
    {"/lwm2m=http://h/", PREFIX_FORM},
    {"/=http://h/", PREFIX_FORM},
    {"=http://h/", PREFIX_FORM},
    {"/s/=coap://h/", HTTP_BASE},
    {"/s/=coaps+tcp://h/", HTTP_BASE},
    {"/s/=ftp://h/", HTTP_BASE},
    {"/s/=httpx://h/", HTTP_BASE},
    {"/s/=http:/h/", HTTP_BASE},
    {"/s/=h/", HTTP_BASE},
    {"/s/=", HTTP_BASE},
    {"/s/=http://h/api", "coap.routes: route base must end with '/'"},
    {"/s/=http://h", "coap.routes: route base must end with '/'"},
    {"/s/=http://h/?q=/", "coap.routes: route base must not have a query, a fragment or a space"},
    {"/s/=http://h/#f/", "coap.routes: route base must not have a query, a fragment or a space"},
    {"/s/=http://h/a b/", "coap.routes: route base must not have a query, a fragment or a space"},
    /* the first bad one of several */
    {"/a/=http://h/, /b/=coap://h/", HTTP_BASE},
};

START_TEST(parses_good_coap_route)
{
    hcc_config_t cfg;
    char err[256] = "";

    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof err), 0);
    ck_assert_int_eq(hcc_set(&cfg, "coap.routes", good_coap_routes[_i].text, err, sizeof err), 0);
    ck_assert_msg(hcc_finish(&cfg, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(cfg.ncoap_routes, 1);
    ck_assert_str_eq(cfg.coap_routes[0].prefix, good_coap_routes[_i].prefix);
    ck_assert_str_eq(cfg.coap_routes[0].base, good_coap_routes[_i].base);
    ck_assert_uint_eq(cfg.nroutes, 0); /* http.routes is another list */
    hcc_free(&cfg);
}
END_TEST

START_TEST(refuses_bad_coap_route)
{
    hcc_config_t cfg;
    char err[256] = "";

    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof err), 0);
    ck_assert_int_eq(hcc_set(&cfg, "coap.routes", bad_coap_routes[_i].text, err, sizeof err), 0);
    ck_assert_int_eq(hcc_finish(&cfg, err, sizeof err), -1);
    ck_assert_str_eq(err, bad_coap_routes[_i].err);
    ck_assert_uint_eq(cfg.ncoap_routes, 0);
    ck_assert_ptr_null(cfg.coap_routes);
    hcc_free(&cfg);
}
END_TEST

/* http.routes still takes CoAP bases only. */
START_TEST(http_routes_refuse_http_base)
{
    hcc_config_t cfg;
    char err[256] = "";

    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof err), 0);
    ck_assert_int_eq(hcc_set(&cfg, "http.routes", "/s/=https://h/", err, sizeof err), 0);
    ck_assert_int_eq(hcc_finish(&cfg, err, sizeof err), -1);
    ck_assert_str_eq(err,
                     "http.routes: route base must be a coap, coaps, coap+tcp or coaps+tcp URI");
    hcc_free(&cfg);
}
END_TEST

/* Path -> the prefix of the reverse route that serves it, and of the forward one ("" for
 * none): each direction finds only its own routes. */
static const struct {
    const char *path;
    const char *prefix;
    const char *http_prefix;
} coap_lookups[] = {
    {"/lwm2m/rd", "/lwm2m/", ""},
    {"/lwm2m/rd?ep=dev1", "/lwm2m/", ""},
    {"/lwm2m/bs/x", "/lwm2m/bs/", ""},
    {"/lwm2m/bs/", "/lwm2m/bs/", ""},
    {"/lwm2m/bs", "/lwm2m/", ""},
    {"/lwm2m", "", ""},
    {"/LWM2M/rd", "", ""}, /* Uri-Path is case-sensitive */
    {"/sensors/temp", "", "/sensors/"},
    {"/", "", ""},
    {"", "", ""},
};

START_TEST(finds_longest_coap_prefix)
{
    hcc_config_t cfg;
    char err[256] = "";
    const hcc_route_t *r;

    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof err), 0);
    ck_assert_int_eq(hcc_set(&cfg, "coap.routes",
                             "/lwm2m/=http://127.0.0.1:8000/api/,/lwm2m/bs/=https://bs.example/",
                             err, sizeof err),
                     0);
    ck_assert_int_eq(hcc_set(&cfg, "http.routes", "/sensors/=coap://127.0.0.1/s/", err, sizeof err),
                     0);
    ck_assert_msg(hcc_finish(&cfg, err, sizeof err) == 0, "%s", err);
    r = hcc_coap_route_find(&cfg, coap_lookups[_i].path);
    ck_assert_str_eq(r ? r->prefix : "", coap_lookups[_i].prefix);
    r = hcc_route_find(&cfg, coap_lookups[_i].path);
    ck_assert_str_eq(r ? r->prefix : "", coap_lookups[_i].http_prefix);
    hcc_free(&cfg);
}
END_TEST

START_TEST(no_coap_routes)
{
    hcc_config_t cfg;
    char err[256] = "";

    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof err), 0);
    ck_assert_ptr_null(hcc_coap_route_find(&cfg, "/lwm2m/rd"));
    ck_assert_ptr_null(hcc_coap_route_find(&cfg, "/"));
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
    tc = tcase_create("coap_routes");
    tcase_add_loop_test(tc, parses_good_coap_route, 0, COUNTOF(good_coap_routes));
    tcase_add_loop_test(tc, refuses_bad_coap_route, 0, COUNTOF(bad_coap_routes));
    tcase_add_test(tc, http_routes_refuse_http_base);
    tcase_add_loop_test(tc, finds_longest_coap_prefix, 0, COUNTOF(coap_lookups));
    tcase_add_test(tc, no_coap_routes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(routes_suite());
}

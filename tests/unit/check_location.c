/* Location-Path and Location-Query -> Location (mapping/location.c, through
 * hcm_response_to_http()): RFC 7252 s5.10.7, s6.5, s10.2.4; RFC 8075 s5.3. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "hcm.h"
#include "run_suite.h"

#define ARENA_SIZE 1024
#define MAX_OPTS 4

#define LPATH(s) OPT(8, s)   /* Location-Path (RFC 7252 s5.10.7) */
#define LQUERY(s) OPT(20, s) /* Location-Query */

/* Targets as hcm_target_parse() leaves them: host decoded and lower-cased, an IPv6 literal
 * without brackets, the port explicit or the scheme's default (5683 coap, coap+tcp; 5684 coaps,
 * coaps+tcp: RFC 7252 s6.1, s6.2, RFC 8323 s8.1, s8.2). */
static const hcm_target_t h = { HCM_SCHEME_COAP, "h", false, 5683, "" };
static const hcm_target_t v4 = { HCM_SCHEME_COAP, "192.0.2.1", true, 5683, "" };
static const hcm_target_t v4_port = { HCM_SCHEME_COAP, "192.0.2.1", true, 5684, "" };
static const hcm_target_t v6 = { HCM_SCHEME_COAP, "2001:db8::1", true, 5683, "" };
static const hcm_target_t v6_port = { HCM_SCHEME_COAP, "2001:db8::1", true, 61616, "" };
static const hcm_target_t name_port = { HCM_SCHEME_COAP, "sensor.example", false, 61616, "" };
static const hcm_target_t coaps = { HCM_SCHEME_COAPS, "h", false, 5684, "" };
static const hcm_target_t coaps_5683 = { HCM_SCHEME_COAPS, "h", false, 5683, "" };
static const hcm_target_t tcp = { HCM_SCHEME_COAP_TCP, "h", false, 5683, "" };
static const hcm_target_t tls = { HCM_SCHEME_COAPS_TCP, "h", false, 5684, "" };
static const hcm_target_t odd_name = { HCM_SCHEME_COAP, "a b!$&'()*+,;=%", false, 5683, "" };
static const hcm_target_t with_path = { HCM_SCHEME_COAP, "h", false, 5683, "/rd/dev%201" };

#define PREFIX "http://proxy.example:8080/hc/"

typedef struct row {
    uint8_t code;
    opt_t opts[MAX_OPTS];
    const hcm_target_t *target;
    const char *prefix;
    const char *location; /* NULL: no Location header */
    int err;
} row_t;

static const row_t rows[] = {
    /* RFC 7252 s10.2.4: 2.01 to a POST; the location in the hosting URI space (RFC 8075 s5.3). */
    { 0x41, { LPATH("a"), LPATH("b") }, &h, PREFIX, PREFIX "coap://h/a/b", 0 },
    { 0x41, { LPATH("a"), LPATH("b") }, &h, NULL, "coap://h/a/b", 0 },
    /* IPv4 literal; the port only when it is not the default (RFC 7252 s6.5 step 5). */
    { 0x41, { LPATH("x") }, &v4, NULL, "coap://192.0.2.1/x", 0 },
    { 0x41, { LPATH("x") }, &v4, PREFIX, PREFIX "coap://192.0.2.1/x", 0 },
    { 0x41, { LPATH("x") }, &v4_port, NULL, "coap://192.0.2.1:5684/x", 0 },
    /* IPv6 literal in brackets, percent-encoded in the hosting URI space (RFC 8075 s5.3.2). */
    { 0x41, { LPATH("x") }, &v6, NULL, "coap://[2001:db8::1]/x", 0 },
    { 0x41, { LPATH("x") }, &v6, PREFIX, PREFIX "coap://%5B2001:db8::1%5D/x", 0 },
    { 0x41, { LPATH("x") }, &v6_port, PREFIX, PREFIX "coap://%5B2001:db8::1%5D:61616/x", 0 },
    { 0x41, { LPATH("x") }, &v6_port, NULL, "coap://[2001:db8::1]:61616/x", 0 },
    /* A registered name with a port that is not the default. */
    { 0x41, { LPATH("x") }, &name_port, PREFIX, PREFIX "coap://sensor.example:61616/x", 0 },
    /* Each scheme with its own default port (RFC 7252 s6.2, RFC 8323 s8.1, s8.2). */
    { 0x41, { LPATH("x") }, &coaps, NULL, "coaps://h/x", 0 },
    { 0x41, { LPATH("x") }, &coaps_5683, NULL, "coaps://h:5683/x", 0 },
    { 0x41, { LPATH("x") }, &tcp, NULL, "coap+tcp://h/x", 0 },
    { 0x41, { LPATH("x") }, &tls, NULL, "coaps+tcp://h/x", 0 },
    /* A reg-name keeps unreserved characters and sub-delims (RFC 7252 s6.5 step 2). */
    { 0x41, { LPATH("x") }, &odd_name, NULL, "coap://a%20b!$&'()*+,;=%25/x", 0 },
    /* Path segments keep unreserved, sub-delims, ':' and '@'; everything else is encoded with
     * upper-case hex (RFC 7252 s6.5 step 6). */
    { 0x41, { LPATH("a b") }, &h, NULL, "coap://h/a%20b", 0 },
    { 0x41, { LPATH("x/y") }, &h, NULL, "coap://h/x%2Fy", 0 },
    { 0x41, { LPATH("?#[]%") }, &h, NULL, "coap://h/%3F%23%5B%5D%25", 0 },
    { 0x41, { LPATH("\xc3\xa9\x01\x7f") }, &h, NULL, "coap://h/%C3%A9%01%7F", 0 },
    { 0x41, { LPATH("!$&'()*+,;=:@-._~Az09") }, &h, NULL, "coap://h/!$&'()*+,;=:@-._~Az09", 0 },
    { 0x41, { LPATH("a\0b") }, &h, NULL, "coap://h/a%00b", 0 },
    /* Empty segments stay (step 6); no segment at all is "/" (step 7). */
    { 0x41, { LPATH("") }, &h, NULL, "coap://h/", 0 },
    { 0x41, { LPATH("a"), LPATH("") }, &h, NULL, "coap://h/a/", 0 },
    { 0x41, { LPATH(""), LPATH("a") }, &h, NULL, "coap://h//a", 0 },
    /* Queries: "?" then "&" between arguments; '/' and '?' kept, '&' encoded (step 8). */
    { 0x41, { LPATH("r"), LQUERY("a=1"), LQUERY("b=x&y") }, &h, NULL, "coap://h/r?a=1&b=x%26y",
      0 },
    { 0x41, { LQUERY("a=1") }, &h, NULL, "coap://h/?a=1", 0 },
    { 0x41, { LQUERY("p=/x?y:@!$'()*+,;=") }, &h, NULL, "coap://h/?p=/x?y:@!$'()*+,;=", 0 },
    { 0x41, { LQUERY("s=a b#%") }, &h, NULL, "coap://h/?s=a%20b%23%25", 0 },
    { 0x41, { LQUERY(""), LQUERY("") }, &h, NULL, "coap://h/?&", 0 },
    /* A query alone is "?q" relative to the request (RFC 3986 s5.2.2): the request's path
     * stays; a path and a query replace it. */
    { 0x44, { LQUERY("ep=1"), LQUERY("b=U") }, &with_path, NULL, "coap://h/rd/dev%201?ep=1&b=U", 0 },
    { 0x44, { LQUERY("ep=1") }, &with_path, PREFIX, PREFIX "coap://h/rd/dev%201?ep=1", 0 },
    { 0x41, { LPATH("x"), LQUERY("q") }, &with_path, NULL, "coap://h/x?q", 0 },
    { 0x41, { LPATH("r"), LQUERY("k") }, &v6_port, PREFIX,
      PREFIX "coap://%5B2001:db8::1%5D:61616/r?k", 0 },
    /* Any code with Location options gets Location; none without them. */
    { 0x44, { LPATH("moved") }, &h, NULL, "coap://h/moved", 0 },
    { 0x41, { { 0 } }, &h, PREFIX, NULL, 0 },
    { 0x45, { OPT(11, "not-a-location") }, &h, PREFIX, NULL, 0 },
    /* Without a target there is nothing to resolve the options against. */
    { 0x41, { LPATH("a") }, NULL, PREFIX, NULL, 0 },
    /* RFC 7252 s5.10.7: "." and ".." MUST NOT be values; similar ones are fine. */
    { 0x41, { LPATH(".") }, &h, NULL, NULL, HCM_EBADRESPONSE },
    { 0x41, { LPATH("a"), LPATH("..") }, &h, NULL, NULL, HCM_EBADRESPONSE },
    { 0x41, { LQUERY("..") }, &h, NULL, NULL, HCM_EBADRESPONSE },
    { 0x41, { LPATH("."), LPATH("a") }, NULL, NULL, NULL, HCM_EBADRESPONSE },
    { 0x41, { LPATH("..."), LPATH(".a"), LQUERY(".") }, &h, NULL, NULL, HCM_EBADRESPONSE },
    { 0x41, { LPATH("..."), LPATH(".a"), LQUERY("a.") }, &h, NULL, "coap://h/.../.a?a.", 0 },
};

static void fill(hcm_coap_msg_t *msg, const row_t *row)
{
    msg_of_opts(msg, row->code, row->opts, MAX_OPTS);
}

static hcm_resp_ctx_t ctx_of(const row_t *row)
{
    return (hcm_resp_ctx_t){ .request = { .code = 0x02 },
                             .target = row->target,
                             .hosting_prefix = row->prefix };
}

static const char *location_of(const hcm_http_resp_t *out)
{
    const char *location = NULL;

    for (size_t i = 0; i < out->nheaders; i++) {
        if (strcmp(out->headers[i].name, "Location") == 0) {
            ck_assert_ptr_null(location); /* at most one */
            location = out->headers[i].value;
        }
    }
    return location;
}

START_TEST(location)
{
    const row_t *row = &rows[_i];
    hcm_resp_ctx_t ctx = ctx_of(row);
    hcm_coap_msg_t in;
    hcm_http_resp_t out;

    fill(&in, row);
    ck_assert_int_eq(map_response(&in, &ctx, ARENA_SIZE, &out), row->err);
    if (row->err != 0)
        return;
    if (row->location == NULL)
        ck_assert_ptr_null(location_of(&out));
    else
        ck_assert_str_eq(location_of(&out), row->location);
}
END_TEST

/* Every arena smaller than the response needs gives HCM_ENOSPACE, never a crash. */
RESPONSE_EXHAUSTION_TEST(location_arena_exhaustion, rows, fill, ctx_of)

static Suite *location_suite(void)
{
    Suite *s = suite_create("location");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, location, 0, HCM_COUNTOF(rows));
    tcase_add_loop_test(tc, location_arena_exhaustion, 0, HCM_COUNTOF(rows));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(location_suite());
}

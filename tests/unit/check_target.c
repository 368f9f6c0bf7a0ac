/* hcm_target_extract() and hcm_target_parse() (mapping/target.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "hcm.h"
#include "run_suite.h"

#define ARENA_SIZE 4096

/* ---- unpacking: RFC 8075 s5.3, s5.3.2, s5.4.1 and RFC 7252 s10.2 --------------------------- */

static const struct {
    const char *raw;
    const char *prefix;
    int err;
    const char *uri;
} extract_rows[] = {
    /* s5.3 default mapping: the target follows the HC proxy path unchanged. */
    { "/hc/coap://127.0.0.1:5683/sensors/temp?unit=C", "/hc/", 0,
      "coap://127.0.0.1:5683/sensors/temp?unit=C" },
    { "/hc/coap://s.example.com/light", "/hc/", 0, "coap://s.example.com/light" },
    { "/hc/coaps://s.example.com/light", "/hc/", 0, "coaps://s.example.com/light" },
    { "/hc/http://h/", "/hc/", 0, "http://h/" }, /* the parser judges the scheme */
    { "/proxy/coap://h/x", "/proxy/", 0, "coap://h/x" },
    { "/coap://h/x", "/", 0, "coap://h/x" },
    /* s5.4.1 "?target_uri={+tu}": the rest of the line is the target, '?' and '&' included. */
    { "/hc/?target_uri=coap://127.0.0.1/a?b=1&c=2", "/hc/", 0, "coap://127.0.0.1/a?b=1&c=2" },
    { "/hc/?target_uri=coap://%5B::1%5D/", "/hc/", 0, "coap://[::1]/" },
    /* s5.3.2: brackets of an IPv6 literal are percent-encoded; decoded in the authority only. */
    { "/hc/coap://%5B::1%5D:5683/x", "/hc/", 0, "coap://[::1]:5683/x" },
    { "/hc/coap://%5b2001:db8::1%5d/light?on", "/hc/", 0, "coap://[2001:db8::1]/light?on" },
    { "/hc/coap://%5B::1%5D", "/hc/", 0, "coap://[::1]" },
    { "/hc/coap://%5Bfe80::1%25eth0%5D/", "/hc/", 0, "coap://[fe80::1%25eth0]/" },
    { "/hc/coap://h/a%5Bb%5D?q=%5B%5D", "/hc/", 0, "coap://h/a%5Bb%5D?q=%5B%5D" },
    { "/hc/coap://h/%41%2F", "/hc/", 0, "coap://h/%41%2F" }, /* decoded once, by the parser */
    { "/hc/coap://h%5A/", "/hc/", 0, "coap://h%5A/" },
    /* RFC 7252 s10.2: a CoAP URI as the request-target itself; the prefix does not matter. */
    { "coap://h/x", "/hc/", 0, "coap://h/x" },
    { "COAP://h/x", "/hc/", 0, "COAP://h/x" },
    { "coaps://h/x", "/hc/", 0, "coaps://h/x" },
    { "coap+tcp://[::1]/", "/hc/", 0, "coap+tcp://[::1]/" },
    { "coaps+tcp://h", "/hc/", 0, "coaps+tcp://h" },
    /* Outside the proxy path: not a proxy request. */
    { "/other/coap://h/", "/hc/", HCM_ENOTPROXY, NULL },
    { "/hc", "/hc/", HCM_ENOTPROXY, NULL },
    { "/HC/coap://h/", "/hc/", HCM_ENOTPROXY, NULL },
    { "http://h/x", "/hc/", HCM_ENOTPROXY, NULL },
    { "/hc/coap://h/", NULL, HCM_ENOTPROXY, NULL },
    /* The proxy path alone. */
    { "/hc/", "/hc/", HCM_EBADTARGET, NULL },
    { "/hc/?target_uri=", "/hc/", HCM_EBADTARGET, NULL },
    /* s5.3.1: no scheme without a prior agreement: 4xx. */
    { "/hc/127.0.0.1/x", "/hc/", HCM_ENOSCHEME, NULL },
    { "/hc/?target_uri=s.example.com/light", "/hc/", HCM_ENOSCHEME, NULL },
    { "/hc/s.example.com:5683/light", "/hc/", HCM_ENOSCHEME, NULL },
    { "/hc/coap:/x", "/hc/", HCM_ENOSCHEME, NULL },
    { "/hc/coap:x", "/hc/", HCM_ENOSCHEME, NULL },
    { "/hc///h/x", "/hc/", HCM_ENOSCHEME, NULL },
    { "/hc/://h/x", "/hc/", HCM_ENOSCHEME, NULL },
    { "/hc/1coap://h/x", "/hc/", HCM_ENOSCHEME, NULL },
    { "/hc/?coap_uri=coap://h/", "/hc/", HCM_ENOSCHEME, NULL },
};

START_TEST(extract)
{
    static _Alignas(8) uint8_t buf[ARENA_SIZE];
    hcm_arena_t arena;
    const char *uri = "unset";

    hcm_arena_init(&arena, buf, sizeof(buf));
    ck_assert_int_eq(hcm_target_extract(extract_rows[_i].raw, extract_rows[_i].prefix, &arena,
                                        &uri),
                     extract_rows[_i].err);
    if (extract_rows[_i].err == 0)
        ck_assert_str_eq(uri, extract_rows[_i].uri);
    else
        ck_assert_str_eq(uri, "unset");
}
END_TEST

START_TEST(extract_null_raw)
{
    hcm_arena_t arena;
    const char *uri = NULL;

    hcm_arena_init(&arena, NULL, 0);
    ck_assert_int_eq(hcm_target_extract(NULL, "/hc/", &arena, &uri), HCM_EBADTARGET);
}
END_TEST

/* ---- parsing: RFC 7252 s6.4 ------------------------------------------------------------------ */

#define HOST(s) OPT(3, s)
#define PATH(s) OPT(11, s)
#define QUERY(s) OPT(15, s)
#define MAX_OPTS 8

typedef struct parse_row {
    const char *uri;
    hcm_scheme_t scheme;
    const char *host;
    bool is_literal;
    uint16_t port;
    opt_t opts[MAX_OPTS];
} parse_row_t;

static const parse_row_t good[] = {
    { "coap://127.0.0.1:5683/sensors/temp?unit=C", HCM_SCHEME_COAP, "127.0.0.1", true, 5683,
      { PATH("sensors"), PATH("temp"), QUERY("unit=C") } },
    { "coap://s.example.com/light", HCM_SCHEME_COAP, "s.example.com", false, 5683,
      { HOST("s.example.com"), PATH("light") } },
    { "coaps://s.example.com/light?on", HCM_SCHEME_COAPS, "s.example.com", false, 5684,
      { HOST("s.example.com"), PATH("light"), QUERY("on") } },
    /* RFC 7252 s6.3: three spellings of one resource. */
    { "coap://example.com:5683/~sensors/temp.xml", HCM_SCHEME_COAP, "example.com", false, 5683,
      { HOST("example.com"), PATH("~sensors"), PATH("temp.xml") } },
    { "coap://EXAMPLE.com/%7Esensors/temp.xml", HCM_SCHEME_COAP, "example.com", false, 5683,
      { HOST("example.com"), PATH("~sensors"), PATH("temp.xml") } },
    { "coap://EXAMPLE.com:/%7esensors/temp.xml", HCM_SCHEME_COAP, "example.com", false, 5683,
      { HOST("example.com"), PATH("~sensors"), PATH("temp.xml") } },
    /* Literals: no Uri-Host, no brackets. */
    { "coap://[::1]:5683/x", HCM_SCHEME_COAP, "::1", true, 5683, { PATH("x") } },
    { "coap://[2001:DB8::1]/", HCM_SCHEME_COAP, "2001:db8::1", true, 5683, { { 0 } } },
    { "coap://[::ffff:192.0.2.1]:61616", HCM_SCHEME_COAP, "::ffff:192.0.2.1", true, 61616,
      { { 0 } } },
    { "coap://192.0.2.1/", HCM_SCHEME_COAP, "192.0.2.1", true, 5683, { { 0 } } },
    /* Host names: decoded and lower-cased (step 5). */
    { "coap://EXAMPLE.com:61616", HCM_SCHEME_COAP, "example.com", false, 61616,
      { HOST("example.com") } },
    { "COAP://H/", HCM_SCHEME_COAP, "h", false, 5683, { HOST("h") } },
    { "coap://%68%6F%73%74/", HCM_SCHEME_COAP, "host", false, 5683, { HOST("host") } },
    { "coap://Sensor%2DA.example", HCM_SCHEME_COAP, "sensor-a.example", false, 5683,
      { HOST("sensor-a.example") } },
    { "coap://192.0.2.999/", HCM_SCHEME_COAP, "192.0.2.999", false, 5683,
      { HOST("192.0.2.999") } }, /* not an IPv4 literal, so a name */
    /* Ports (step 6). */
    { "coap://h:/x", HCM_SCHEME_COAP, "h", false, 5683, { HOST("h"), PATH("x") } },
    { "coap://h:00080/", HCM_SCHEME_COAP, "h", false, 80, { HOST("h") } },
    { "coap://h:1", HCM_SCHEME_COAP, "h", false, 1, { HOST("h") } },
    { "coap://h:65535", HCM_SCHEME_COAP, "h", false, 65535, { HOST("h") } },
    { "coaps://h:5683", HCM_SCHEME_COAPS, "h", false, 5683, { HOST("h") } },
    { "coap+tcp://h/", HCM_SCHEME_COAP_TCP, "h", false, 5683, { HOST("h") } },
    { "coaps+tcp://h/", HCM_SCHEME_COAPS_TCP, "h", false, 5684, { HOST("h") } },
    { "Coaps+TCP://h", HCM_SCHEME_COAPS_TCP, "h", false, 5684, { HOST("h") } },
    /* Paths (step 8): "" and "/" give none, every other segment one, empty ones too. */
    { "coap://h", HCM_SCHEME_COAP, "h", false, 5683, { HOST("h") } },
    { "coap://h/a/", HCM_SCHEME_COAP, "h", false, 5683, { HOST("h"), PATH("a"), PATH("") } },
    { "coap://h//", HCM_SCHEME_COAP, "h", false, 5683, { HOST("h"), PATH(""), PATH("") } },
    { "coap://h//a", HCM_SCHEME_COAP, "h", false, 5683, { HOST("h"), PATH(""), PATH("a") } },
    { "coap://h/a%2Fb", HCM_SCHEME_COAP, "h", false, 5683, { HOST("h"), PATH("a/b") } },
    { "coap://h/%61%62", HCM_SCHEME_COAP, "h", false, 5683, { HOST("h"), PATH("ab") } },
    { "coap://h/a%2541", HCM_SCHEME_COAP, "h", false, 5683, { HOST("h"), PATH("a%41") } },
    { "coap://h/a+b%20c", HCM_SCHEME_COAP, "h", false, 5683, { HOST("h"), PATH("a+b c") } },
    { "coap://h/%00", HCM_SCHEME_COAP, "h", false, 5683, { HOST("h"), PATH("\0") } },
    { "coap://h/%C3%A9", HCM_SCHEME_COAP, "h", false, 5683, { HOST("h"), PATH("\xc3\xa9") } },
    { "coap://h/a.b/..c/.d/...", HCM_SCHEME_COAP, "h", false, 5683,
      { HOST("h"), PATH("a.b"), PATH("..c"), PATH(".d"), PATH("...") } },
    { "coap://h/a:b@c", HCM_SCHEME_COAP, "h", false, 5683, { HOST("h"), PATH("a:b@c") } },
    /* Queries (step 9): one per '&' argument, decoded once, '+' kept. */
    { "coap://h/?a+b=%26&c", HCM_SCHEME_COAP, "h", false, 5683,
      { HOST("h"), QUERY("a+b=&"), QUERY("c") } },
    { "coap://h/x?", HCM_SCHEME_COAP, "h", false, 5683, { HOST("h"), PATH("x"), QUERY("") } },
    { "coap://h?a&&b", HCM_SCHEME_COAP, "h", false, 5683,
      { HOST("h"), QUERY("a"), QUERY(""), QUERY("b") } },
    { "coap://h/?a/b?c", HCM_SCHEME_COAP, "h", false, 5683, { HOST("h"), QUERY("a/b?c") } },
    { "coap://h/p?b=1&c=%32", HCM_SCHEME_COAP, "h", false, 5683,
      { HOST("h"), PATH("p"), QUERY("b=1"), QUERY("c=2") } },
    { "coap://h/p?%2E%2E", HCM_SCHEME_COAP, "h", false, 5683,
      { HOST("h"), PATH("p"), QUERY("..") } }, /* dots only matter in the path */
};

START_TEST(parse_good)
{
    static _Alignas(8) uint8_t buf[ARENA_SIZE];
    const parse_row_t *row = &good[_i];
    hcm_arena_t arena;
    hcm_target_t target;
    hcm_coap_msg_t msg = { 0 };

    hcm_arena_init(&arena, buf, sizeof(buf));
    ck_assert_int_eq(hcm_target_parse(row->uri, &arena, &target, &msg), 0);
    ck_assert_int_eq(target.scheme, row->scheme);
    ck_assert_str_eq(target.host, row->host);
    ck_assert_int_eq(target.host_is_literal, row->is_literal);
    ck_assert_uint_eq(target.port, row->port);
    check_opts(&msg, row->opts, MAX_OPTS);
}
END_TEST

/* The path as written, for upstream.allow's path rules: from the '/' after the authority to the
 * query, encodings kept. */
static const struct {
    const char *uri;
    const char *path;
} paths[] = {
    { "coap://h", "" },
    { "coap://h?q", "" },
    { "coap://h/", "/" },
    { "coap://h/a/", "/a/" },
    { "coap://h//a", "//a" },
    { "coap://h:61616/a%2Fb/%7Es?x=/y", "/a%2Fb/%7Es" },
    { "coap://[::1]:5683/x/y?q", "/x/y" },
    { "coaps+tcp://%68/r", "/r" },
};

START_TEST(parse_keeps_path)
{
    static _Alignas(8) uint8_t buf[ARENA_SIZE];
    hcm_arena_t arena;
    hcm_target_t target;
    hcm_coap_msg_t msg = { 0 };

    hcm_arena_init(&arena, buf, sizeof(buf));
    ck_assert_int_eq(hcm_target_parse(paths[_i].uri, &arena, &target, &msg), 0);
    ck_assert_str_eq(target.path, paths[_i].path);
}
END_TEST

/* Options go in with hcm_coap_msg_add(): what the message held stays, in number order. */
START_TEST(parse_keeps_existing_options)
{
    static _Alignas(8) uint8_t buf[ARENA_SIZE];
    static const opt_t want[] = { OPT(1, "m"), HOST("h"), PATH("a"), OPT(12, "\x32"),
                                  QUERY("q"), { 0 } };
    hcm_arena_t arena;
    hcm_target_t target;
    hcm_coap_msg_t msg = { 0 };

    hcm_arena_init(&arena, buf, sizeof(buf));
    hcm_coap_msg_add(&msg, 12, (hcm_bytes_t){ (const uint8_t *)"\x32", 1 });
    hcm_coap_msg_add(&msg, 1, (hcm_bytes_t){ (const uint8_t *)"m", 1 });
    ck_assert_int_eq(hcm_target_parse("coap://h/a?q", &arena, &target, &msg), 0);
    check_opts(&msg, want, HCM_COUNTOF(want));
}
END_TEST

static const struct {
    const char *uri;
    int err;
} bad[] = {
    /* Step 3: the scheme. */
    { "http://h/", HCM_EBADSCHEME },
    { "https://h/", HCM_EBADSCHEME },
    { "coap+ws://h/", HCM_EBADSCHEME },
    { "coapx://h/", HCM_EBADSCHEME },
    { "localhost:5683/x", HCM_EBADSCHEME }, /* RFC 3986 reads "localhost" as a scheme */
    { "//h/x", HCM_ENOSCHEME },
    { "/x", HCM_ENOSCHEME },
    { "h/x", HCM_ENOSCHEME },
    { "", HCM_ENOSCHEME },
    { "h/x?u=coap://[fe80::1%25eth0]/", HCM_EBADTARGET }, /* not an authority: no zone id */
    /* Step 4: fragments, even empty ones. */
    { "coap://h/x#f", HCM_EFRAGMENT },
    { "coap://h/#", HCM_EFRAGMENT },
    { "coap://h?q#", HCM_EFRAGMENT },
    /* The coap URI has no userinfo (RFC 7252 s6.1). */
    { "coap://u@h/", HCM_EUSERINFO },
    { "coap://u:p@h/", HCM_EUSERINFO },
    { "coap://@h/", HCM_EUSERINFO },
    /* No host. */
    { "coap:///x", HCM_ENOHOST },
    { "coap://:5683/", HCM_ENOHOST },
    { "coap://?q", HCM_ENOHOST },
    { "coap:x", HCM_ENOHOST },
    { "coap:/x", HCM_ENOHOST },
    { "coap:", HCM_ENOHOST },
    /* RFC 6874 zone identifiers. */
    { "coap://[fe80::1%25eth0]/", HCM_EZONEID },
    { "coap://[fe80::1%25eth0]:5683/x", HCM_EZONEID },
    { "coap://[fe80::1%eth0]/", HCM_EZONEID },
    { "coap://[fe80::1%25eth0]", HCM_EZONEID },
    { "coap://h/?u=[fe80::1%25eth0]", HCM_EBADTARGET }, /* brackets outside the authority */
    /* Ports out of range. */
    { "coap://h:0/", HCM_EBADPORT },
    { "coap://h:00/", HCM_EBADPORT },
    { "coap://h:65536/", HCM_EBADPORT },
    { "coap://h:99999", HCM_EBADPORT },
    { "coap://h:99999999999999999999/", HCM_EBADPORT },
    { "coap://[::1]:0/", HCM_EBADPORT },
    /* "." and ".." as Uri-Path, before or after decoding. */
    { "coap://h/./x", HCM_EDOTSEGMENT },
    { "coap://h/../x", HCM_EDOTSEGMENT },
    { "coap://h/x/..", HCM_EDOTSEGMENT },
    { "coap://h/x/.", HCM_EDOTSEGMENT },
    { "coap://h/%2E%2E/x", HCM_EDOTSEGMENT },
    { "coap://h/%2e", HCM_EDOTSEGMENT },
    { "coap://h/.%2E", HCM_EDOTSEGMENT },
    /* Not a URI. */
    { "coap://h/%zz", HCM_EBADTARGET },
    { "coap://h/%4", HCM_EBADTARGET },
    { "coap://h/?%G0", HCM_EBADTARGET },
    { "coap://h/a b", HCM_EBADTARGET },
    { "coap://h/a\"b", HCM_EBADTARGET },
    { "coap://h/\x7f", HCM_EBADTARGET },
    { "coap://h/\xc3\xa9", HCM_EBADTARGET },
    { "coap://[::1/", HCM_EBADTARGET },
    { "coap://::1/", HCM_EBADTARGET },
    { "coap://[::1]x/", HCM_EBADTARGET },
    { "coap://h:80:80/", HCM_EBADTARGET },
    { "coap://h:8o/", HCM_EBADTARGET },
    { "coap://[v1.x]/", HCM_EBADTARGET },
    { "coap://h%00/", HCM_EBADTARGET },
    { NULL, HCM_EBADTARGET },
};

START_TEST(parse_bad)
{
    static _Alignas(8) uint8_t buf[ARENA_SIZE];
    hcm_arena_t arena;
    hcm_target_t target;
    hcm_coap_msg_t msg = { 0 };

    hcm_arena_init(&arena, buf, sizeof(buf));
    hcm_coap_msg_add(&msg, 12, (hcm_bytes_t){ (const uint8_t *)"", 0 });
    ck_assert_int_eq(hcm_target_parse(bad[_i].uri, &arena, &target, &msg), bad[_i].err);
    ck_assert_uint_eq(msg.nopts, 1); /* a failure leaves the message as it was */
}
END_TEST

/* RFC 7252 s5.10: Uri-Host is 1 to 255 bytes, Uri-Path and Uri-Query 0 to 255, counted after
 * decoding. Each row puts |len| letters between |before| and |after|. */
static const struct {
    const char *before;
    size_t len;
    const char *after;
    int err;
} lengths[] = {
    { "coap://", 255, "/", 0 },
    { "coap://", 256, "/", HCM_ELONGOPTION },
    { "coap://h/", 255, "", 0 },
    { "coap://h/", 256, "", HCM_ELONGOPTION },
    { "coap://h/x/", 256, "/y", HCM_ELONGOPTION },
    { "coap://h/?", 255, "", 0 },
    { "coap://h/?a&", 256, "", HCM_ELONGOPTION },
};

START_TEST(option_lengths)
{
    static _Alignas(8) uint8_t buf[ARENA_SIZE];
    char uri[600];
    size_t at = strlen(lengths[_i].before);
    hcm_arena_t arena;
    hcm_target_t target;
    hcm_coap_msg_t msg = { 0 };

    memcpy(uri, lengths[_i].before, at);
    memset(uri + at, 'a', lengths[_i].len);
    strcpy(uri + at + lengths[_i].len, lengths[_i].after);
    hcm_arena_init(&arena, buf, sizeof(buf));
    ck_assert_int_eq(hcm_target_parse(uri, &arena, &target, &msg), lengths[_i].err);
}
END_TEST

/* 255 decoded bytes written as 765 characters: the limit is on the option, not the URI. */
START_TEST(option_length_counts_decoded_bytes)
{
    static _Alignas(8) uint8_t buf[ARENA_SIZE];
    char uri[800] = "coap://h/";
    hcm_arena_t arena;
    hcm_target_t target;
    hcm_coap_msg_t msg = { 0 };

    for (int j = 0; j < 255; j++)
        strcat(uri, "%41");
    hcm_arena_init(&arena, buf, sizeof(buf));
    ck_assert_int_eq(hcm_target_parse(uri, &arena, &target, &msg), 0);
    ck_assert_uint_eq(msg.opts[1].value.len, 255);
    strcat(uri, "%41");
    hcm_arena_init(&arena, buf, sizeof(buf));
    msg.nopts = 0;
    ck_assert_int_eq(hcm_target_parse(uri, &arena, &target, &msg), HCM_ELONGOPTION);
}
END_TEST

/* Every arena smaller than what a URI needs gives HCM_ENOSPACE and nothing worse, and adds no
 * option to the message. */
START_TEST(parse_arena_exhaustion)
{
    const parse_row_t *row = &good[_i];
    hcm_target_t target;
    hcm_coap_msg_t msg;
    size_t need;

    ARENA_EXHAUSTION_RUN_IF(need, ARENA_SIZE, arena,
                            (msg = (hcm_coap_msg_t){ 0 },
                             hcm_target_parse(row->uri, arena, &target, &msg)),
                            0, msg.nopts == 0);
}
END_TEST

/* The same for a target to unpack. */
START_TEST(extract_arena_exhaustion)
{
    const char *uri;
    size_t need;

    if (extract_rows[_i].err != 0)
        return;
    ARENA_EXHAUSTION_RUN(need, ARENA_SIZE, arena,
                         hcm_target_extract(extract_rows[_i].raw, extract_rows[_i].prefix, arena,
                                            &uri));
}
END_TEST

START_TEST(scheme_names)
{
    ck_assert_str_eq(hcm_scheme_name(HCM_SCHEME_COAP), "coap");
    ck_assert_str_eq(hcm_scheme_name(HCM_SCHEME_COAPS), "coaps");
    ck_assert_str_eq(hcm_scheme_name(HCM_SCHEME_COAP_TCP), "coap+tcp");
    ck_assert_str_eq(hcm_scheme_name(HCM_SCHEME_COAPS_TCP), "coaps+tcp");
    ck_assert_ptr_null(hcm_scheme_name((hcm_scheme_t)4));
}
END_TEST

static Suite *target_suite(void)
{
    Suite *s = suite_create("target");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, extract, 0, HCM_COUNTOF(extract_rows));
    tcase_add_test(tc, extract_null_raw);
    tcase_add_loop_test(tc, extract_arena_exhaustion, 0, HCM_COUNTOF(extract_rows));
    tcase_add_loop_test(tc, parse_good, 0, HCM_COUNTOF(good));
    tcase_add_test(tc, parse_keeps_existing_options);
    tcase_add_loop_test(tc, parse_keeps_path, 0, HCM_COUNTOF(paths));
    tcase_add_loop_test(tc, parse_bad, 0, HCM_COUNTOF(bad));
    tcase_add_loop_test(tc, option_lengths, 0, HCM_COUNTOF(lengths));
    tcase_add_test(tc, option_length_counts_decoded_bytes);
    tcase_add_loop_test(tc, parse_arena_exhaustion, 0, HCM_COUNTOF(good));
    tcase_add_test(tc, scheme_names);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(target_suite());
}

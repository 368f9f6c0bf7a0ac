/* hcm_request_to_coap() (mapping/request.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "hcm.h"
#include "run_suite.h"

#define ARENA_SIZE 4096
#define MAX_OPTS 8
#define MAX_HDRS 4

#define HOST(s) OPT(3, s)
#define PATH(s) OPT(11, s)
#define CF(s) OPT(12, s) /* Content-Format as its uint bytes (RFC 7252 s3.2) */
#define QUERY(s) OPT(15, s)

/* A request in, a CoAP request out: method code (RFC 7252 s12.1.1, RFC 8132), options in number
 * order, payload. Content-Format numbers from the IANA CoAP Content-Formats registry (RFC 7252
 * s12.3): 0 text/plain, 42 octet-stream (0x2a), 50 json (0x32), 51 json-patch (0x33), 52
 * merge-patch (0x34), 60 cbor (0x3c), 10000 vnd.ocf+cbor (0x2710), 11050 json deflate (0x2b2a),
 * 11060 cbor deflate (0x2b34). */
typedef struct row {
    const char *method;
    const char *uri;
    hcm_header_t headers[MAX_HDRS];
    const char *body;
    int err;
    uint8_t code;
    opt_t opts[MAX_OPTS];
} row_t;

static const row_t rows[] = {
    { "GET", "coap://h/a", { { 0 } }, "", 0, 0x01, { HOST("h"), PATH("a") } },
    { "HEAD", "coap://h/a", { { 0 } }, "", 0, 0x01, { HOST("h"), PATH("a") } },
    { "DELETE", "coap://[::1]/a", { { 0 } }, "", 0, 0x04, { PATH("a") } },
    { "POST", "coap://h/a", { { "Content-Type", "text/plain; charset=utf-8" } }, "hi", 0, 0x02,
      { HOST("h"), PATH("a"), CF("") } },
    { "PUT", "coap://h/a?x=1", { { "content-type", "application/json" } }, "{}", 0, 0x03,
      { HOST("h"), PATH("a"), CF("\x32"), QUERY("x=1") } },
    { "PUT", "coap://h/a", { { "CONTENT-TYPE", "application/octet-stream" } }, "\x01", 0, 0x03,
      { HOST("h"), PATH("a"), CF("\x2a") } },
    { "POST", "coap://h/a",
      { { "Content-Encoding", "deflate" }, { "Content-Type", "application/json" } }, "x", 0, 0x02,
      { HOST("h"), PATH("a"), CF("\x2b\x2a") } },
    { "POST", "coap://h/a",
      { { "content-type", "application/cbor" }, { "content-encoding", "deflate" } }, "x", 0, 0x02,
      { HOST("h"), PATH("a"), CF("\x2b\x34") } },
    { "POST", "coap://h/a",
      { { "content-type", "application/cbor" }, { "content-encoding", "identity" } }, "x", 0,
      0x02, { HOST("h"), PATH("a"), CF("\x3c") } },
    { "POST", "coap://h/a", { { "Content-Type", "application/vnd.ocf+cbor" } }, "x", 0, 0x02,
      { HOST("h"), PATH("a"), CF("\x27\x10") } },
    { "FETCH", "coap://h/a", { { "Content-Type", "application/json" } }, "{}", 0, 0x05,
      { HOST("h"), PATH("a"), CF("\x32") } },
    { "PATCH", "coap://h/a", { { "Content-Type", "application/merge-patch+json" } }, "{}", 0,
      0x06, { HOST("h"), PATH("a"), CF("\x34") } },
    { "iPATCH", "coap://h/a", { { "Content-Type", "application/json-patch+json" } }, "[]", 0,
      0x07, { HOST("h"), PATH("a"), CF("\x33") } },
    /* Headers take their place among the options (check_headers covers each one); unknown ones
     * are dropped. */
    { "GET", "coap://h/a", { { "Accept", "application/json" }, { "X-Foo", "bar" } }, "", 0, 0x01,
      { HOST("h"), PATH("a"), OPT(17, "\x32") } },
    { "IPATCH", "coap://h/a", { { "If-Match", "\"0a\"" } }, "[]", 0, 0x07,
      { OPT(1, "\x0a"), HOST("h"), PATH("a") } },
    /* A body of unknown type goes without Content-Format (RFC 7252 s5.10.3) ... */
    { "POST", "coap://h/a", { { 0 } }, "raw", 0, 0x02, { HOST("h"), PATH("a") } },
    { "POST", "coap://h/a", { { "Content-Encoding", "identity" } }, "raw", 0, 0x02,
      { HOST("h"), PATH("a") } },
    { "GET", "coap://h/a", { { "Content-Encoding", "gzip" } }, "", 0, 0x01,
      { HOST("h"), PATH("a") } },
    /* ... but a coded one would lose its coding, and RFC 8075 s6.1 answers 415. */
    { "POST", "coap://h/a", { { "Content-Encoding", "deflate" } }, "raw", HCM_EMEDIA, 0,
      { { 0 } } },
    { "POST", "coap://h/a", { { "Content-Type", "text/plain" } }, "hi", 0, 0x02,
      { HOST("h"), PATH("a"), CF("") } }, /* RFC 2046 s4.1.2: US-ASCII, so UTF-8 too */
    { "POST", "coap://h/a", { { "Content-Type", "text/html" } }, "", HCM_EMEDIA, 0, { { 0 } } },
    { "POST", "coap://h/a", { { "Content-Type", "application/json; charset=utf-8" } }, "{}",
      HCM_EMEDIA, 0, { { 0 } } },
    { "POST", "coap://h/a",
      { { "Content-Type", "application/json" }, { "Content-Encoding", "gzip" } }, "x", HCM_EMEDIA,
      0, { { 0 } } },
    /* RFC 8613 s11.1: application/oscore without the OSCORE header is no OSCORE request, and it
     * has no Content-Format to be sent as either (s11.3: never 10001). check_oscore.c has the rest. */
    { "POST", "coap://h/", { { "Content-Type", "application/oscore" } }, "x", HCM_EOSCORETYPE, 0,
      { { 0 } } },
    /* RFC 7252 s10.2.1, s10.2.7: 501. */
    { "OPTIONS", "coap://h/a", { { 0 } }, "", HCM_ENOMETHOD, 0, { { 0 } } },
    { "TRACE", "coap://h/a", { { 0 } }, "", HCM_ENOMETHOD, 0, { { 0 } } },
    { "CONNECT", "coap://h/a", { { 0 } }, "", HCM_ENOMETHOD, 0, { { 0 } } },
    { "get", "coap://h/a", { { 0 } }, "", HCM_ENOMETHOD, 0, { { 0 } } },
    { NULL, "coap://h/a", { { 0 } }, "", HCM_ENOMETHOD, 0, { { 0 } } },
    /* Target errors come through unchanged. */
    { "GET", "http://h/a", { { 0 } }, "", HCM_EBADSCHEME, 0, { { 0 } } },
    { "GET", "coap://h/a#f", { { 0 } }, "", HCM_EFRAGMENT, 0, { { 0 } } },
    { "GET", "coap://h/../a", { { 0 } }, "", HCM_EDOTSEGMENT, 0, { { 0 } } },
    { "GET", NULL, { { 0 } }, "", HCM_EBADTARGET, 0, { { 0 } } },
};

/* RFC 8075 s6.3 with http.loose_media_types: a type with no registry entry takes the number of
 * its generalized type (Table 1, first match wins); a registered type keeps its own; a coding, a
 * malformed type and application/coap-payload (s6.2: pass-through only) are still 415. Numbers:
 * 41 xml (0x29), 110 senml+json (0x6e), the rest as above. */
static const row_t loose_rows[] = {
    { "POST", "coap://h/a", { { "Content-Type", "text/plain" } }, "hi", 0, 0x02,
      { HOST("h"), PATH("a"), CF("") } },
    { "POST", "coap://h/a", { { "Content-Type", "Text/HTML; charset=iso-8859-1" } }, "", 0, 0x02,
      { HOST("h"), PATH("a"), CF("") } },
    { "POST", "coap://h/a", { { "Content-Type", "text/xml" } }, "<a/>", 0, 0x02,
      { HOST("h"), PATH("a"), CF("\x29") } },
    { "POST", "coap://h/a", { { "Content-Type", "application/atom+xml" } }, "<a/>", 0, 0x02,
      { HOST("h"), PATH("a"), CF("\x29") } },
    { "POST", "coap://h/a", { { "Content-Type", "application/json; charset=utf-8" } }, "{}", 0,
      0x02, { HOST("h"), PATH("a"), CF("\x32") } },
    { "POST", "coap://h/a", { { "Content-Type", "application/problem+JSON" } }, "{}", 0, 0x02,
      { HOST("h"), PATH("a"), CF("\x32") } },
    { "POST", "coap://h/a", { { "Content-Type", "application/x.example+cbor" } }, "\xa0", 0, 0x02,
      { HOST("h"), PATH("a"), CF("\x3c") } },
    { "PUT", "coap://h/a", { { "Content-Type", "application/x-www-form-urlencoded" } }, "a=1", 0,
      0x03, { HOST("h"), PATH("a"), CF("\x2a") } },
    { "PUT", "coap://h/a", { { "Content-Type", "image/webp" } }, "x", 0, 0x03,
      { HOST("h"), PATH("a"), CF("\x2a") } },
    /* "+json" is a suffix, not a subtype of its own */
    { "PUT", "coap://h/a", { { "Content-Type", "application/+json" } }, "x", 0, 0x03,
      { HOST("h"), PATH("a"), CF("\x2a") } },
    { "POST", "coap://h/a", { { "Content-Type", "application/senml+json" } }, "[]", 0, 0x02,
      { HOST("h"), PATH("a"), CF("\x6e") } },
    { "POST", "coap://h/a", { { "Content-Type", "application/json" } }, "{}", 0, 0x02,
      { HOST("h"), PATH("a"), CF("\x32") } },
    { "POST", "coap://h/a",
      { { "Content-Type", "application/json" }, { "Content-Encoding", "gzip" } }, "x", HCM_EMEDIA,
      0, { { 0 } } },
    { "POST", "coap://h/a", { { "Content-Type", "text/plain" }, { "Content-Encoding", "deflate" } },
      "x", HCM_EMEDIA, 0, { { 0 } } },
    { "POST", "coap://h/a", { { "Content-Type", "application/coap-payload; cf=60" } }, "x",
      HCM_EMEDIA, 0, { { 0 } } },
    { "POST", "coap://h/a", { { "Content-Type", "text" } }, "x", HCM_EMEDIA, 0, { { 0 } } },
    { "POST", "coap://h/a", { { "Content-Type", "text/plain; charset" } }, "x", HCM_EMEDIA, 0,
      { { 0 } } },
};

static hcm_http_req_t request_of(const row_t *row)
{
    size_t n = 0;

    while (n < MAX_HDRS && row->headers[n].name != NULL)
        n++;
    return (hcm_http_req_t){
        .method = row->method,
        .target_uri = row->uri,
        .headers = row->headers,
        .nheaders = n,
        .body = { .p = (const uint8_t *)row->body, .len = strlen(row->body) },
    };
}

static void check_row(const row_t *row, bool loose_media_types)
{
    static _Alignas(8) uint8_t buf[ARENA_SIZE];
    hcm_http_req_t in = request_of(row);
    hcm_arena_t arena;
    hcm_target_t target;
    hcm_coap_msg_t out;
    hcm_req_info_t info;

    in.loose_media_types = loose_media_types;
    hcm_arena_init(&arena, buf, sizeof(buf));
    ck_assert_int_eq(hcm_request_to_coap(&in, &arena, &target, &out, &info), row->err);
    if (row->err != 0)
        return;
    ck_assert_uint_eq(out.code, row->code);
    ck_assert_uint_eq(info.code, row->code);
    ck_assert(!info.is_validation);
    check_opts(&out, row->opts, MAX_OPTS);
    ck_assert_uint_eq(out.payload.len, in.body.len);
    ck_assert_ptr_eq(out.payload.p, in.body.p); /* a view of the caller's body, not a copy */
}

START_TEST(request)
{
    check_row(&rows[_i], false);
}
END_TEST

START_TEST(request_loose)
{
    check_row(&loose_rows[_i], true);
}
END_TEST

START_TEST(request_target)
{
    static _Alignas(8) uint8_t buf[ARENA_SIZE];
    hcm_http_req_t in = { .method = "GET", .target_uri = "coaps://Sensor.Example:61617/t" };
    hcm_arena_t arena;
    hcm_target_t target;
    hcm_coap_msg_t out;

    hcm_arena_init(&arena, buf, sizeof(buf));
    ck_assert_int_eq(hcm_request_to_coap(&in, &arena, &target, &out, NULL), 0); /* |info| NULL */
    ck_assert_int_eq(target.scheme, HCM_SCHEME_COAPS);
    ck_assert_str_eq(target.host, "sensor.example");
    ck_assert(!target.host_is_literal);
    ck_assert_uint_eq(target.port, 61617);
}
END_TEST

/* Every arena smaller than a request needs gives HCM_ENOSPACE, never a crash. */
START_TEST(request_arena_exhaustion)
{
    hcm_http_req_t in = request_of(&rows[_i]);

    if (rows[_i].err == 0)
        check_request_exhaustion(&in, ARENA_SIZE);
}
END_TEST

static Suite *request_suite(void)
{
    Suite *s = suite_create("request");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, request, 0, HCM_COUNTOF(rows));
    tcase_add_loop_test(tc, request_loose, 0, HCM_COUNTOF(loose_rows));
    tcase_add_test(tc, request_target);
    tcase_add_loop_test(tc, request_arena_exhaustion, 0, HCM_COUNTOF(rows));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(request_suite());
}

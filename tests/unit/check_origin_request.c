/* hcm_coap_to_origin() (mapping/origin_request.c): method, options -> headers, OSCORE, the body
 * (RFC 7252 s10.1, s5.4, s5.10; RFC 8768 s3, s5; RFC 8613 s11.2, s11.6, Appendix C.4-C.6).
 * The URLs themselves are in check_origin_url. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "hcm.h"
#include "run_suite.h"

#define ARENA_SIZE 2048
#define MAX_OPTS 8
#define MAX_HDRS 8

/* Option numbers and codes typed from RFC 7252 s12.1, s12.2 and the RFCs that add them. */
#define IF_MATCH(s) OPT(1, s)
#define URI_HOST(s) OPT(3, s)
#define ETAG(s) OPT(4, s)
#define IF_NONE_MATCH(s) OPT(5, s)
#define OBSERVE(s) OPT(6, s)
#define LOCATION_PATH(s) OPT(8, s)
#define OSCORE(s) OPT(9, s)
#define URI_PATH(s) OPT(11, s)
#define CF(s) OPT(12, s)
#define MAX_AGE(s) OPT(14, s)
#define URI_QUERY(s) OPT(15, s)
#define HOP_LIMIT(s) OPT(16, s)
#define ACCEPT(s) OPT(17, s)
#define BLOCK2(s) OPT(23, s)
#define BLOCK1(s) OPT(27, s)
#define SIZE1(s) OPT(60, s)
#define PROXY_URI(s) OPT(35, s)
#define PROXY_SCHEME(s) OPT(39, s)
#define NO_RESPONSE(s) OPT(258, s)
#define PU PROXY_URI("http://o.example/")

enum { GET = 0x01, POST = 0x02, PUT = 0x03, DELETE = 0x04, FETCH = 0x05, PATCH = 0x06,
       IPATCH = 0x07 };

#define BODY(s) .payload = (s), .payload_len = sizeof(s) - 1

/* RFC 8613 Appendix C.4: the protected request's OSCORE option and ciphertext. */
#define C4_OPTION "\x09\x14"
#define C4_CIPHERTEXT "\x61\x2f\x10\x92\xf1\x77\x6f\x1c\x16\x68\xb3\x82\x5e"

typedef struct row {
    uint8_t code;
    opt_t opts[MAX_OPTS];
    const char *payload;
    size_t payload_len;
    const char *route_base;
    size_t route_skip;
    const char *method;
    const char *url; /* NULL: not checked here */
    hcm_header_t headers[MAX_HDRS];
    bool is_validation;
    bool is_oscore;
    int err;
} row_t;

static const row_t rows[] = {
    /* ---- methods (RFC 7252 s10.1) ---- */
    { .code = GET, .opts = { PU }, .method = "GET", .url = "http://o.example/" },
    { .code = POST, .opts = { PU }, BODY("x"), .method = "POST" },
    { .code = PUT, .opts = { PU }, BODY("x"), .method = "PUT" },
    { .code = DELETE, .opts = { PU }, .method = "DELETE" },
    { .code = PATCH, .opts = { PU }, BODY("x"), .method = "PATCH" },
    { .code = IPATCH, .opts = { PU }, BODY("x"), .method = "PATCH" },
    /* FETCH has no HTTP method: 5.01 (hcproxy's choice; no RFC maps FETCH to HTTP). */
    { .code = FETCH, .opts = { PU }, BODY("x"), .err = HCM_ENOMETHOD },
    { .code = 0x00, .opts = { PU }, .err = HCM_ENOMETHOD },  /* the Empty message */
    { .code = 0x45, .opts = { PU }, .err = HCM_ENOMETHOD },  /* 2.05 is no request */
    { .code = 0x08, .opts = { PU }, .err = HCM_ENOMETHOD },  /* unassigned method code */

    /* ---- Content-Format -> Content-Type (RFC 8075 s6.2; the IANA registry's numbers) ---- */
    { .code = POST, .opts = { PU, CF("\x32") }, BODY("{}"), .method = "POST",
      .headers = { { "Content-Type", "application/json" } } },
    { .code = PUT, .opts = { PU, CF("") }, BODY("22.5"), .method = "PUT",
      .headers = { { "Content-Type", "text/plain; charset=utf-8" } } },
    { .code = POST, .opts = { PU, CF("\x00\x3c") }, BODY("\xa0"), .method = "POST",
      .headers = { { "Content-Type", "application/cbor" } } }, /* a leading zero byte is read */
    { .code = POST, .opts = { PU, CF("\x2b\x2a") }, BODY("x"), .method = "POST",
      .headers = { { "Content-Type", "application/json" }, { "Content-Encoding", "deflate" } } },
    /* RFC 8075 s6.2: a number with no registry entry. */
    { .code = POST, .opts = { PU, CF("\xfd\xe8") }, BODY("x"), .method = "POST",
      .headers = { { "Content-Type", "application/coap-payload;cf=65000" } } },
    /* Content-Format is elective: a malformed one is ignored (RFC 7252 s5.4.3), and only the
     * first counts (s5.4.5). */
    { .code = POST, .opts = { PU, CF("\x00\x00\x32") }, BODY("x"), .method = "POST" },
    { .code = POST, .opts = { PU, CF("\x32"), CF("") }, BODY("x"), .method = "POST",
      .headers = { { "Content-Type", "application/json" } } },
    /* RFC 8613 s11.3: 10001 never travels; without the OSCORE option it is an OSCORE message
     * that lost its option. */
    { .code = POST, .opts = { PU, CF("\x27\x11") }, BODY("x"), .err = HCM_EOSCORETYPE },

    /* ---- Accept (RFC 7252 s5.10.4) ---- */
    { .code = GET, .opts = { PU, ACCEPT("\x32") }, .method = "GET",
      .headers = { { "Accept", "application/json" } } },
    { .code = GET, .opts = { PU, ACCEPT("\x2b\x34") }, .method = "GET",
      .headers = { { "Accept", "application/cbor" }, { "Accept-Encoding", "deflate" } } },
    { .code = GET, .opts = { PU, ACCEPT("") }, .method = "GET",
      .headers = { { "Accept", "text/plain; charset=utf-8" } } },
    /* Accept is critical: out of range or repeated is 4.02 (s5.4.1, s5.4.3, s5.4.5). */
    { .code = GET, .opts = { PU, ACCEPT("\x00\x00\x32") }, .err = HCM_EBADOPTION },
    { .code = GET, .opts = { PU, ACCEPT("\x32"), ACCEPT("\x3c") }, .err = HCM_EBADOPTION },

    /* ---- If-Match (RFC 7252 s5.10.8.1) ---- */
    /* Each tag in every spelling that reads as its bytes (etag.c): lower-case hex, upper-case
     * hex, and the bytes themselves when they are entity-tag characters and not hex. */
    { .code = PUT, .opts = { PU, IF_MATCH("\x12\xab") }, BODY("x"), .method = "PUT",
      .headers = { { "If-Match", "\"12ab\", \"12AB\"" } } },
    { .code = PUT, .opts = { PU, IF_MATCH("v1") }, BODY("x"), .method = "PUT",
      .headers = { { "If-Match", "\"7631\", \"v1\"" } } },
    { .code = PUT, .opts = { PU, IF_MATCH("\x01\x02"), IF_MATCH("abc") }, BODY("x"),
      .method = "PUT", .headers = { { "If-Match", "\"0102\", \"616263\", \"abc\"" } } },
    /* An empty If-Match is "any representation": "*" (RFC 9110 s13.1.1), whatever else. */
    { .code = PUT, .opts = { PU, IF_MATCH("") }, BODY("x"), .method = "PUT",
      .headers = { { "If-Match", "*" } } },
    { .code = PUT, .opts = { PU, IF_MATCH("\x01"), IF_MATCH("") }, BODY("x"), .method = "PUT",
      .headers = { { "If-Match", "*" } } },
    { .code = PUT, .opts = { PU, IF_MATCH("123456789") }, BODY("x"), .err = HCM_EBADOPTION },

    /* ---- If-None-Match and validation (RFC 7252 s5.10.8.2, s5.10.6.2) ---- */
    { .code = PUT, .opts = { PU, IF_NONE_MATCH("") }, BODY("x"), .method = "PUT",
      .headers = { { "If-None-Match", "*" } } },
    { .code = PUT, .opts = { PU, IF_NONE_MATCH("x") }, BODY("x"), .err = HCM_EBADOPTION },
    { .code = PUT, .opts = { PU, IF_NONE_MATCH(""), IF_NONE_MATCH("") }, BODY("x"),
      .err = HCM_EBADOPTION },
    { .code = GET, .opts = { PU, ETAG("\x0a\x1b") }, .method = "GET",
      .headers = { { "If-None-Match", "\"0a1b\", \"0A1B\"" } }, .is_validation = true },
    /* The bytes "0a" are no tag of their own: an origin's "0a" is the byte 0x0a. */
    { .code = GET, .opts = { PU, ETAG("0a") }, .method = "GET",
      .headers = { { "If-None-Match", "\"3061\"" } }, .is_validation = true },
    { .code = GET, .opts = { PU, ETAG("abc"), ETAG("\x99") }, .method = "GET",
      .headers = { { "If-None-Match", "\"616263\", \"abc\", \"99\", \"\x99\"" } },
      .is_validation = true }, /* obs-text is an entity-tag character too (RFC 9110 s8.8.3) */
    /* ETag is elective: one of 0 or 9 bytes is ignored (s5.4.3), and so is ETag in a request
     * other than GET (s5.10.6.2 defines it for GET). */
    { .code = GET, .opts = { PU, ETAG("123456789") }, .method = "GET" },
    { .code = GET, .opts = { PU, ETAG("") }, .method = "GET" },
    { .code = PUT, .opts = { PU, ETAG("\x01") }, BODY("x"), .method = "PUT" },
    /* If-None-Match "*" covers every tag. */
    { .code = GET, .opts = { PU, ETAG("\x01"), IF_NONE_MATCH("") }, .method = "GET",
      .headers = { { "If-None-Match", "*" } } },

    /* ---- Hop-Limit (RFC 8768 s3, s5) ---- */
    { .code = GET, .opts = { PU, HOP_LIMIT("\x10") }, .method = "GET",
      .headers = { { "Via", "1.1 hcproxy" } } },
    { .code = GET, .opts = { PU, HOP_LIMIT("\xff") }, .method = "GET",
      .headers = { { "Via", "1.1 hcproxy" } } },
    { .code = GET, .opts = { PU, HOP_LIMIT("\x02") }, .method = "GET",
      .headers = { { "Via", "1.1 hcproxy" } } },
    { .code = GET, .opts = { PU, HOP_LIMIT("\x00\x10") }, .method = "GET",
      .headers = { { "Via", "1.1 hcproxy" } } },
    /* s3: decremented to 0, the request MUST NOT be forwarded: 5.08. */
    { .code = GET, .opts = { PU, HOP_LIMIT("\x01") }, .err = HCM_ELOOP },
    /* s3: 0 and values above 255 MUST be answered 4.00. */
    { .code = GET, .opts = { PU, HOP_LIMIT("") }, .err = HCM_EHOPLIMIT },
    { .code = GET, .opts = { PU, HOP_LIMIT("\x00") }, .err = HCM_EHOPLIMIT },
    { .code = GET, .opts = { PU, HOP_LIMIT("\x01\x00") }, .err = HCM_EHOPLIMIT },
    { .code = GET, .opts = { PU, HOP_LIMIT("\x01\x02\x03\x04\x05") }, .err = HCM_EHOPLIMIT },

    /* ---- every header at once, in the order of the options ---- */
    { .code = PUT,
      .opts = { PU, IF_MATCH("\x01"), CF("\x32"), HOP_LIMIT("\x05"), ACCEPT("\x2b\x2a") },
      BODY("{}"), .method = "PUT",
      .headers = { { "If-Match", "\"01\"" }, { "Content-Type", "application/json" },
                   { "Via", "1.1 hcproxy" }, { "Accept", "application/json" },
                   { "Accept-Encoding", "deflate" } } },

    /* ---- options with no HTTP form ---- */
    /* RFC 7641 s3.1, s4.1: a response without Observe says the client is no observer. */
    { .code = GET, .opts = { PU, OBSERVE("") }, .method = "GET" },
    /* Block-wise is hop-by-hop (RFC 7959 s2.10); response options mean nothing here. */
    { .code = GET, .opts = { PU, BLOCK2("\x02") }, .method = "GET" },
    { .code = PUT, .opts = { PU, BLOCK1("\x0a"), SIZE1("\x04\x00") }, BODY("x"), .method = "PUT" },
    { .code = GET, .opts = { PU, LOCATION_PATH("a"), MAX_AGE("\x3c") }, .method = "GET" },
    { .code = GET, .opts = { PU, NO_RESPONSE("\x02") }, .method = "GET" },
    /* Unknown elective safe-to-forward options are dropped: Echo 252, Request-Tag 292 (RFC
     * 9175), and 65000, even and without the unsafe bit (RFC 7252 s5.4.6). */
    { .code = GET, .opts = { PU, OPT(252, "e"), OPT(292, "t"), OPT(65000, "x") },
      .method = "GET" },
    /* Unknown critical options (odd) are 4.02 (s5.4.1): Q-Block1 19 (RFC 9177), EDHOC 21. */
    { .code = GET, .opts = { PU, OPT(19, "\x00") }, .err = HCM_EBADOPTION },
    { .code = POST, .opts = { PU, OPT(21, "") }, BODY("x"), .err = HCM_EBADOPTION },
    /* Unknown unsafe options are 4.02 at a proxy (s5.7.1): 2, 62 (bit 1 set, even). */
    { .code = GET, .opts = { PU, OPT(2, "") }, .err = HCM_EBADOPTION },
    { .code = GET, .opts = { PU, OPT(62, "") }, .err = HCM_EBADOPTION },
    /* Recognized unsafe or critical options out of range or repeated are 4.02 as well. */
    { .code = GET, .opts = { PU, MAX_AGE("\x01\x02\x03\x04\x05") }, .err = HCM_EBADOPTION },
    { .code = GET, .opts = { PU, OBSERVE("\x01\x02\x03\x04") }, .err = HCM_EBADOPTION },
    { .code = GET, .opts = { PU, PU }, .err = HCM_EBADOPTION },
    { .code = GET, .opts = { PROXY_URI("") }, .err = HCM_EBADOPTION },
    { .code = GET, .opts = { URI_HOST(""), PROXY_SCHEME("http") }, .err = HCM_EBADOPTION },
    { .code = GET, .opts = { URI_HOST("a"), URI_HOST("b"), PROXY_SCHEME("http") },
      .err = HCM_EBADOPTION },
    { .code = GET, .opts = { URI_HOST("a"), PROXY_SCHEME("http"), PROXY_SCHEME("http") },
      .err = HCM_EBADOPTION },
    { .code = GET, .opts = { URI_HOST("a"), OPT(7, "\x01\x02\x03"), PROXY_SCHEME("http") },
      .err = HCM_EBADOPTION },
    { .code = GET, .opts = { PU, BLOCK2("\x01\x02\x03\x04") }, .err = HCM_EBADOPTION },

    /* ---- OSCORE (RFC 8613 s11.2, s11.6; its Appendix C vectors) ---- */
    /* The Appendix C.4 request through Proxy-Uri, as a CoAP client sends it in s11.6. */
    { .code = POST, .opts = { PROXY_URI("http://origin.example/"), OSCORE(C4_OPTION) },
      BODY(C4_CIPHERTEXT), .method = "POST", .url = "http://origin.example/",
      .headers = { { "Content-Type", "application/oscore" }, { "OSCORE", "CRQ" } },
      .is_oscore = true },
    /* C.5 and C.6 (their options in s11.2's base64url: CRQA, GRQIN8vzIQAXotM), through
     * Proxy-Scheme and a route. */
    { .code = POST, .opts = { URI_HOST("origin.example"), OSCORE("\x09\x14\x00"),
                              PROXY_SCHEME("http") },
      BODY("\x4e\xd3\x39\xa5\xa3\x79\xb0\xb8\xbc\x73\x1f\xff\xb0"), .method = "POST",
      .url = "http://origin.example/",
      .headers = { { "Content-Type", "application/oscore" }, { "OSCORE", "CRQA" } },
      .is_oscore = true },
    { .code = POST, .opts = { OSCORE("\x19\x14\x08\x37\xcb\xf3\x21\x00\x17\xa2\xd3"),
                              URI_PATH("oscore") },
      BODY("\x72\xcd\x72\x73\xfd\x33\x1a\xc4\x5c\xff\xbe\x55\xc3"),
      .route_base = "http://127.0.0.1:8080/o/", .route_skip = 1, .method = "POST",
      .url = "http://127.0.0.1:8080/o/",
      .headers = { { "Content-Type", "application/oscore" }, { "OSCORE", "GRQIN8vzIQAXotM" } },
      .is_oscore = true },
    /* s11.2: the empty option is "AA". */
    { .code = POST, .opts = { PU, OSCORE("") }, BODY("x"), .method = "POST",
      .headers = { { "Content-Type", "application/oscore" }, { "OSCORE", "AA" } },
      .is_oscore = true },
    /* Outer Class E options are not the client's protected ones: no header comes of them, and
     * no Via either (only the OSCORE field and application/oscore, s11.1). */
    { .code = POST,
      .opts = { PU, IF_MATCH("\x01"), ETAG("\x02"), OSCORE(C4_OPTION), CF("\x32"),
                HOP_LIMIT("\x10"), ACCEPT("\x32") },
      BODY(C4_CIPHERTEXT), .method = "POST",
      .headers = { { "Content-Type", "application/oscore" }, { "OSCORE", "CRQ" } },
      .is_oscore = true },
    /* Outer POST only (s4.2, s11.1); an outer FETCH (an OSCORE Observe) gets 5.01 (9.5). */
    { .code = GET, .opts = { PU, OSCORE(C4_OPTION) }, .err = HCM_EOSCOREMETHOD },
    { .code = PUT, .opts = { PU, OSCORE(C4_OPTION) }, BODY(C4_CIPHERTEXT),
      .err = HCM_EOSCOREMETHOD },
    { .code = FETCH, .opts = { PU, OSCORE(C4_OPTION), OBSERVE("") }, BODY(C4_CIPHERTEXT),
      .err = HCM_ENOMETHOD },
    /* s2: an OSCORE message without payload is malformed. */
    { .code = POST, .opts = { PU, OSCORE(C4_OPTION) }, .err = HCM_EOSCOREEMPTY },
    /* s4.1.3.3: the path and query travel inside; an outer one was not protected. */
    { .code = POST, .opts = { PROXY_URI("http://origin.example/orders"), OSCORE(C4_OPTION) },
      BODY(C4_CIPHERTEXT), .err = HCM_EOSCOREPATH },
    { .code = POST, .opts = { PROXY_URI("http://origin.example/?q"), OSCORE(C4_OPTION) },
      BODY(C4_CIPHERTEXT), .err = HCM_EOSCOREPATH },
    { .code = POST, .opts = { URI_HOST("h"), OSCORE(C4_OPTION), URI_PATH("orders"),
                              PROXY_SCHEME("http") },
      BODY(C4_CIPHERTEXT), .err = HCM_EOSCOREPATH },
    { .code = POST, .opts = { OSCORE(C4_OPTION), URI_PATH("o"), URI_PATH("orders") },
      BODY(C4_CIPHERTEXT), .route_base = "http://h/o/", .route_skip = 1,
      .err = HCM_EOSCOREPATH },
    /* The hop count still holds. */
    { .code = POST, .opts = { PU, OSCORE(C4_OPTION), HOP_LIMIT("\x01") }, BODY(C4_CIPHERTEXT),
      .err = HCM_ELOOP },
    /* OSCORE is critical: repeated is 4.02. */
    { .code = POST, .opts = { PU, OSCORE(C4_OPTION), OSCORE(C4_OPTION) }, BODY(C4_CIPHERTEXT),
      .err = HCM_EBADOPTION },
};

static void message_of(const row_t *row, hcm_coap_msg_t *msg)
{
    msg_of_opts(msg, row->code, row->opts, MAX_OPTS);
    msg->payload = (hcm_bytes_t){ .p = (const uint8_t *)row->payload, .len = row->payload_len };
}

static int map(const row_t *row, const hcm_coap_msg_t *in, uint8_t *buf, size_t size,
               hcm_origin_req_t *out)
{
    hcm_arena_t arena;

    hcm_arena_init(&arena, buf, size);
    return hcm_coap_to_origin(in, row->route_base, row->route_skip, &arena, out);
}

START_TEST(request)
{
    static _Alignas(8) uint8_t buf[ARENA_SIZE];
    const row_t *row = &rows[_i];
    hcm_coap_msg_t in;
    hcm_origin_req_t out;

    message_of(row, &in);
    ck_assert_int_eq(map(row, &in, buf, sizeof(buf), &out), row->err);
    if (row->err != 0)
        return;
    ck_assert_str_eq(out.method, row->method);
    if (row->url != NULL)
        ck_assert_str_eq(out.url, row->url);
    check_headers(out.headers, out.nheaders, row->headers, MAX_HDRS);
    ck_assert_uint_eq(out.info.code, row->code);
    ck_assert(out.info.is_validation == row->is_validation);
    ck_assert(out.info.is_oscore == row->is_oscore);
    /* The body is a view of the payload, byte for byte (the ciphertext above all). */
    ck_assert_uint_eq(out.body.len, row->payload_len);
    ck_assert_ptr_eq(out.body.p, in.payload.p);
}
END_TEST

/* Every arena smaller than a request needs gives HCM_ENOSPACE, never a crash. */
ORIGIN_EXHAUSTION_TEST(request_arena_exhaustion, rows, message_of)

/* The request's own memory is left alone: hcm_coap_to_origin() writes only |out| and the arena. */
START_TEST(input_is_not_written)
{
    static _Alignas(8) uint8_t buf[ARENA_SIZE];
    const row_t *row = &rows[_i];
    hcm_coap_msg_t in, copy;
    hcm_origin_req_t out;

    message_of(row, &in);
    copy = in;
    (void)map(row, &in, buf, sizeof(buf), &out);
    ck_assert_mem_eq(&in, &copy, sizeof(in));
}
END_TEST

static Suite *origin_request_suite(void)
{
    Suite *s = suite_create("origin_request");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, request, 0, HCM_COUNTOF(rows));
    tcase_add_loop_test(tc, request_arena_exhaustion, 0, HCM_COUNTOF(rows));
    tcase_add_loop_test(tc, input_is_not_written, 0, HCM_COUNTOF(rows));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(origin_request_suite());
}

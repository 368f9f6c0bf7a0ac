/* hcm_response_to_http() (mapping/response.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "hcm.h"
#include "run_suite.h"

#define ARENA_SIZE 1024
#define MAX_OPTS 4
#define MAX_HDRS 6

#define ETAG(s) OPT(4, s)
#define CF(s) OPT(12, s)      /* Content-Format, uint bytes */
#define MAX_AGE(s) OPT(14, s) /* Max-Age, uint bytes */

/* A CoAP response in (code as on the wire, options, payload), an HTTP response out (status from
 * RFC 8075 s7 Table 2, headers in order with the names RFC 9110 and RFC 9111 spell, whether the
 * payload is the body), for a request that was or was not a validation; or an error. Location is
 * in check_location. */
typedef struct row {
    uint8_t code;
    opt_t opts[MAX_OPTS];
    const char *payload;
    unsigned status;
    hcm_header_t headers[MAX_HDRS];
    bool has_body;
    bool is_validation; /* the request carried ETags (If-None-Match) */
    int err;
} row_t;

static const row_t rows[] = {
    /* 2.05: Content-Type from the IANA registry (RFC 7252 s12.3), max-age 60 by default
     * (RFC 7252 s5.10.5, s10.2.2). */
    { 0x45, { CF("") }, "22.5", 200,
      { { "Content-Type", "text/plain; charset=utf-8" }, { "Cache-Control", "max-age=60" } },
      true, false, 0 },
    { 0x45, { CF("\x32"), MAX_AGE("\x1e") }, "{}", 200,
      { { "Content-Type", "application/json" }, { "Cache-Control", "max-age=30" } }, true, false,
      0 },
    { 0x45, { CF("\x2b\x2a") }, "x", 200,
      { { "Content-Type", "application/json" }, { "Content-Encoding", "deflate" },
        { "Cache-Control", "max-age=60" } },
      true, false, 0 },
    { 0x45, { CF("\x2b\x34") }, "x", 200,
      { { "Content-Type", "application/cbor" }, { "Content-Encoding", "deflate" },
        { "Cache-Control", "max-age=60" } },
      true, false, 0 },
    { 0x45, { CF("\x12") }, "x", 200,
      { { "Content-Type", "application/cose; cose-type=\"cose-sign1\"" },
        { "Cache-Control", "max-age=60" } },
      true, false, 0 },
    { 0x45, { ETAG("\x12\xab"), CF("\x3c") }, "\xa0", 200,
      { { "Content-Type", "application/cbor" }, { "ETag", "\"12ab\"" },
        { "Cache-Control", "max-age=60" } },
      true, false, 0 },
    { 0x45, { ETAG("\x00\x01\x02\x03\x04\x05\x06\xff") }, "x", 200,
      { { "ETag", "\"00010203040506ff\"" }, { "Cache-Control", "max-age=60" } }, true, false, 0 },
    /* RFC 8075 s6.2: an unknown Content-Format. */
    { 0x45, { CF("\xfd\xe8") }, "x", 200,
      { { "Content-Type", "application/coap-payload;cf=65000" },
        { "Cache-Control", "max-age=60" } },
      true, false, 0 },
    /* No Content-Format on a 2.xx payload: no Content-Type, the format is unknown (RFC 7252
     * s5.10.3); no RFC says more, so hcproxy does not guess one. */
    { 0x45, { { 0 } }, "raw", 200, { { "Cache-Control", "max-age=60" } }, true, false, 0 },
    { 0x45, { MAX_AGE("") }, "", 200, { { "Cache-Control", "max-age=0" } }, true, false, 0 },
    { 0x45, { MAX_AGE("\xff\xff\xff\xff") }, "x", 200,
      { { "Cache-Control", "max-age=4294967295" } }, true, false, 0 },
    /* RFC 7252 s5.4.3: elective options of a bad length are ignored. */
    { 0x45, { CF("\x00\x00\x32") }, "x", 200, { { "Cache-Control", "max-age=60" } }, true, false,
      0 },
    { 0x45, { ETAG("\x01\x02\x03\x04\x05\x06\x07\x08\x09") }, "x", 200,
      { { "Cache-Control", "max-age=60" } }, true, false, 0 },
    { 0x45, { ETAG("") }, "x", 200, { { "Cache-Control", "max-age=60" } }, true, false, 0 },
    { 0x45, { MAX_AGE("\x00\x00\x00\x00\x0a") }, "x", 200, { { "Cache-Control", "max-age=60" } },
      true, false, 0 },
    /* 2.01, 2.02, 2.04: RFC 8075 Table 2 notes 1 and 2. */
    { 0x41, { { 0 } }, "", 201, { { 0 } }, true, false, 0 },
    { 0x41, { CF("") }, "made", 201, { { "Content-Type", "text/plain; charset=utf-8" } }, true,
      false, 0 },
    { 0x42, { { 0 } }, "", 204, { { 0 } }, true, false, 0 },
    { 0x42, { { 0 } }, "gone", 200, { { 0 } }, true, false, 0 },
    { 0x44, { { 0 } }, "", 204, { { 0 } }, true, false, 0 },
    { 0x44, { CF("\x32") }, "{}", 200, { { "Content-Type", "application/json" } }, true, false, 0 },
    /* RFC 7252 s5.9.1.1, s5.9.1.2, s5.9.1.4: not cacheable, so Max-Age says nothing. */
    { 0x41, { MAX_AGE("\x1e") }, "", 201, { { 0 } }, true, false, 0 },
    { 0x42, { MAX_AGE("\x1e") }, "", 204, { { 0 } }, true, false, 0 },
    { 0x44, { MAX_AGE("\x1e") }, "ok", 200, { { 0 } }, true, false, 0 },
    /* 2.03 -> 304 (note 3), which has no content (RFC 9110 s15.4.5) but keeps its validators
     * and freshness. */
    { 0x43, { ETAG("\xbe\xef") }, "", 304,
      { { "ETag", "\"beef\"" }, { "Cache-Control", "max-age=60" } }, false, true, 0 },
    { 0x43, { ETAG("\xbe\xef"), MAX_AGE("\x05") }, "stale body", 304,
      { { "ETag", "\"beef\"" }, { "Cache-Control", "max-age=5" } }, false, true, 0 },
    /* Errors: a payload without Content-Format is diagnostic text (RFC 8075 s6.5.3). */
    { 0x84, { { 0 } }, "no such thing", 404, { { "Content-Type", "text/plain; charset=utf-8" } },
      true, false, 0 },
    { 0x84, { { 0 } }, "", 404, { { 0 } }, true, false, 0 },
    { 0x84, { MAX_AGE("\x0a") }, "", 404, { { "Cache-Control", "max-age=10" } }, true, false, 0 },
    { 0xa0, { CF("\x01\x01") }, "\xa0", 500,
      { { "Content-Type", "application/concise-problem-details+cbor" } }, true, false, 0 },
    { 0x82, { { 0 } }, "", 500, { { 0 } }, true, false, 0 }, /* note 6 */
    { 0x81, { { 0 } }, "", 403, { { 0 } }, true, false, 0 }, /* note 5 */
    { 0x85, { { 0 } }, "", 400, { { 0 } }, true, false, 0 }, /* note 7 */
    { 0xa8, { { 0 } }, "proxy1", 508, { { "Content-Type", "text/plain; charset=utf-8" } },
      true, false, 0 },
    /* 5.03 and 4.29: Max-Age is when to retry (note 8; RFC 8516, 60 by default). */
    { 0xa3, { MAX_AGE("\x05") }, "", 503, { { "Retry-After", "5" } }, true, false, 0 },
    { 0xa3, { { 0 } }, "", 503, { { 0 } }, true, false, 0 },
    { 0xa3, { MAX_AGE("\x05") }, "busy", 503,
      { { "Content-Type", "text/plain; charset=utf-8" }, { "Retry-After", "5" } }, true, false, 0 },
    { 0x9d, { { 0 } }, "", 429, { { "Retry-After", "60" } }, true, false, 0 },
    { 0x9d, { MAX_AGE("\x78") }, "", 429, { { "Retry-After", "120" } }, true, false, 0 },
    /* Codes that never reach HTTP (notes 9, 10). */
    { 0x5f, { { 0 } }, "", 502, { { 0 } }, true, false, 0 },
    { 0x88, { { 0 } }, "", 502, { { 0 } }, true, false, 0 },
    { 0xa5, { { 0 } }, "", 502, { { 0 } }, true, false, 0 },
    /* RFC 8075 Table 2 notes 3 and 4: 2.03 answers only the client's own validation; hcproxy
     * has no cache of its own to revalidate, so any other 2.03 is not understood (502). */
    { 0x43, { ETAG("\xbe\xef") }, "", 0, { { 0 } }, false, false, HCM_EBADRESPONSE },
    { 0x43, { { 0 } }, "", 0, { { 0 } }, false, false, HCM_EBADRESPONSE },
    /* Options with no HTTP header: Observe (not mapped, RFC 7641), Block2 and Block1
     * (hop-internal, RFC 8075 s8.3), Size2 and Size1 (estimates, RFC 7959 s4), request options
     * and options hcproxy does not know. */
    { 0x45, { OPT(6, "\x05"), CF("") }, "x", 200,
      { { "Content-Type", "text/plain; charset=utf-8" }, { "Cache-Control", "max-age=60" } },
      true, false, 0 },
    { 0x45, { OPT(23, "\x0e") }, "x", 200, { { "Cache-Control", "max-age=60" } }, true, false,
      0 },
    { 0x44, { OPT(27, "\x0e") }, "", 204, { { 0 } }, true, false, 0 },
    { 0x45, { OPT(28, "\x04\x00") }, "x", 200, { { "Cache-Control", "max-age=60" } }, true,
      false, 0 },
    { 0x8d, { OPT(60, "\x04\x00") }, "", 413, { { 0 } }, true, false, 0 },
    /* RFC 8613 s11.2: with an OSCORE option the response is OSCORE (check_oscore.c has more). */
    { 0x44, { OPT(9, "\x09") }, "x", 200,
      { { "Content-Type", "application/oscore" }, { "OSCORE", "CQ" }, { "Cache-Control", "no-cache" } },
      true, false, 0 },
    { 0x45, { OPT(16, "\x05"), OPT(17, "\x32") }, "x", 200,
      { { "Cache-Control", "max-age=60" } }, true, false, 0 },
    { 0x45, { OPT(2048, "z"), OPT(65000, "") }, "x", 200, { { "Cache-Control", "max-age=60" } },
      true, false, 0 },
    /* RFC 7252 s5.10.7: a reserved Location option beside a Location option makes a location
     * hcproxy cannot build; alone, it is an elective option to ignore (s5.4.1). */
    { 0x41, { OPT(128, "a") }, "", 201, { { 0 } }, true, false, 0 },
    { 0x41, { OPT(8, "a"), OPT(132, "b") }, "", 0, { { 0 } }, false, false, HCM_EBADRESPONSE },
    { 0x45, { OPT(136, "") }, "x", 200, { { "Cache-Control", "max-age=60" } }, true, false, 0 },
    { 0x41, { OPT(20, "q"), OPT(140, "c") }, "", 0, { { 0 } }, false, false, HCM_EBADRESPONSE },
    /* Options next to the reserved ones are not reserved. */
    { 0x41, { OPT(129, "a"), OPT(141, "b") }, "", 201, { { 0 } }, true, false, 0 },
};

static hcm_resp_ctx_t ctx_of(const row_t *row)
{
    return (hcm_resp_ctx_t){ .request = { .code = 0x01, .is_validation = row->is_validation } };
}

static void fill(hcm_coap_msg_t *msg, const row_t *row)
{
    msg_of_opts(msg, row->code, row->opts, MAX_OPTS);
    msg->payload = (hcm_bytes_t){ (const uint8_t *)row->payload, strlen(row->payload) };
}

START_TEST(response)
{
    const row_t *row = &rows[_i];
    hcm_resp_ctx_t ctx = ctx_of(row);
    hcm_coap_msg_t in;
    hcm_http_resp_t out;

    fill(&in, row);
    ck_assert_int_eq(map_response(&in, &ctx, ARENA_SIZE, &out), row->err);
    if (row->err != 0)
        return;
    ck_assert_uint_eq(out.status, row->status);
    check_headers(out.headers, out.nheaders, row->headers, MAX_HDRS);
    if (row->has_body) {
        ck_assert_uint_eq(out.body.len, in.payload.len);
        ck_assert_ptr_eq(out.body.p, in.payload.p);
    } else {
        ck_assert_uint_eq(out.body.len, 0);
    }
}
END_TEST

/* Every arena smaller than a response needs gives HCM_ENOSPACE, never a crash. */
RESPONSE_EXHAUSTION_TEST(response_arena_exhaustion, rows, fill, ctx_of)

/* Without a context (no request information, no target) a response still maps, but a 2.03 cannot
 * answer a validation nobody asked for. */
START_TEST(response_without_ctx)
{
    static _Alignas(8) uint8_t buf[ARENA_SIZE];
    static const uint8_t path[] = "a";
    hcm_arena_t arena;
    hcm_coap_msg_t in = { .code = 0x41 };
    hcm_http_resp_t out;

    hcm_arena_init(&arena, buf, sizeof(buf));
    hcm_coap_msg_add(&in, 8, (hcm_bytes_t){ path, 1 });
    ck_assert_int_eq(hcm_response_to_http(&in, NULL, &arena, &out), 0);
    ck_assert_uint_eq(out.status, 201);
    ck_assert_uint_eq(out.nheaders, 0); /* no target: no Location */
    in.code = 0x43;
    ck_assert_int_eq(hcm_response_to_http(&in, NULL, &arena, &out), HCM_EBADRESPONSE);
}
END_TEST

static Suite *response_suite(void)
{
    Suite *s = suite_create("response");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, response, 0, HCM_COUNTOF(rows));
    tcase_add_loop_test(tc, response_arena_exhaustion, 0, HCM_COUNTOF(rows));
    tcase_add_test(tc, response_without_ctx);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(response_suite());
}

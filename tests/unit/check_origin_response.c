/* hcm_origin_to_coap() (mapping/origin_response.c): an origin's HTTP response -> the CoAP
 * response (RFC 7252 s10.1, status.def, RFC 8075 s6; RFC 8613 s11.3, s11.6 with the Appendix C.4
 * and C.7 messages), and the ETag convention both ways (mapping/etag.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "hcm.h"
#include "run_suite.h"

#define ARENA_SIZE 1024
#define MAX_OPTS 4
#define MAX_HDRS 6

/* Option numbers typed from RFC 7252 s12.2 Table 7 and RFC 8613 s2. */
#define ETAG(s) OPT(4, s)
#define OSCORE(s) OPT(9, s)
#define CF(s) OPT(12, s)      /* uint bytes */
#define MAX_AGE(s) OPT(14, s) /* uint bytes */

enum { GET = 0x01, POST = 0x02, PUT = 0x03, DELETE = 0x04, PATCH = 0x06 };
#define C(c, dd) ((uint8_t)((c) << 5 | (dd)))

#define BODY(s) .body = (s), .body_len = sizeof(s) - 1

/* RFC 8613 Appendix C.7 and C.8: the protected responses' ciphertexts. */
#define C7_CIPHERTEXT                                                                             \
    "\xdb\xaa\xd1\xe9\xa7\xe7\xb2\xa8\x13\xd3\xc3\x15\x24\x37\x83\x03\xcd\xaf\xae\x11\x91\x06"
#define C8_CIPHERTEXT                                                                             \
    "\x4d\x4c\x13\x66\x93\x84\xb6\x73\x54\xb2\xb6\x17\x5f\xf4\xb8\x65\x8c\x66\x6a\x6c\xf8\x8e"

/* The request the origin answered (its code, whether it was OSCORE, a validation, or asked
 * If-None-Match: *), the origin's response, and the CoAP response expected: the code, the options
 * in order; the payload is always the body. Or an error. */
typedef struct row {
    uint8_t method;
    bool is_oscore;
    bool is_validation;
    bool asked_if_none_match;
    unsigned status;
    hcm_header_t headers[MAX_HDRS];
    const char *body;
    size_t body_len;
    uint8_t code;
    opt_t opts[MAX_OPTS];
    int err;
} row_t;

#define TEXT { "Content-Type", "text/plain; charset=utf-8" }

static const row_t rows[] = {
    /* ---- codes by method (RFC 7252 s10.1.1 to s10.1.4; the whole table is in check_codes) ---- */
    { .method = GET, .status = 200, .headers = { TEXT }, BODY("hi"), .code = C(2, 5),
      .opts = { CF("") } },
    { .method = POST, .status = 200, .code = C(2, 4) },
    { .method = POST, .status = 201, .code = C(2, 1) },
    { .method = PUT, .status = 201, .code = C(2, 1) },
    { .method = PUT, .status = 204, .code = C(2, 4) },
    { .method = PATCH, .status = 200, .code = C(2, 4) },
    { .method = DELETE, .status = 204, .code = C(2, 2) },
    { .method = DELETE, .status = 404, .code = C(2, 2) }, /* RFC 7252 s10.1.3 MUST */
    /* Error bodies go on as the payload, with their Content-Format when they have one. */
    { .method = GET, .status = 404, .headers = { TEXT }, BODY("status 404"), .code = C(4, 4),
      .opts = { CF("") } },
    { .method = GET, .status = 500, .headers = { { "Content-Type", "text/html" } },
      BODY("<p>oops</p>"), .code = C(5, 0), .opts = { CF("") } },
    { .method = GET, .status = 302, .headers = { { "Location", "/elsewhere" } }, .code = C(5, 2) },
    { .method = GET, .status = 508, .code = C(5, 8) }, /* RFC 8768 s5 */

    /* ---- Content-Type (+ Content-Encoding) -> Content-Format (RFC 8075 s6; media.def) ---- */
    { .method = GET, .status = 200, .headers = { { "Content-Type", "application/json" } },
      BODY("{}"), .code = C(2, 5), .opts = { CF("\x32") } },
    { .method = GET, .status = 200, .headers = { { "content-type", "Application/JSON" } },
      BODY("{}"), .code = C(2, 5), .opts = { CF("\x32") } },
    { .method = GET, .status = 200, .headers = { { "Content-Type", "application/cbor" } },
      BODY("\xa0"), .code = C(2, 5), .opts = { CF("\x3c") } },
    { .method = GET, .status = 200,
      .headers = { { "Content-Type", "application/json" }, { "Content-Encoding", "deflate" } },
      BODY("x"), .code = C(2, 5), .opts = { CF("\x2b\x2a") } },
    { .method = GET, .status = 200,
      .headers = { { "Content-Type", "application/json" }, { "Content-Encoding", " identity " } },
      BODY("{}"), .code = C(2, 5), .opts = { CF("\x32") } },
    /* Content-Type is a singleton (RFC 9110 s8.3): the first field counts. */
    { .method = GET, .status = 200,
      .headers = { { "Content-Type", "application/json" }, { "Content-Type", "text/html" } },
      BODY("{}"), .code = C(2, 5), .opts = { CF("\x32") } },
    /* RFC 7252 s10.1.1: the Content-Format MUST be set. A type with no number of its own takes
     * its generalized type's (RFC 8075 s6.3 Table 1); a body without Content-Type has no format
     * to tell (RFC 7252 s5.10.3); application/oscore never becomes 10001 (RFC 8613 s11.3). */
    { .method = GET, .status = 200, .headers = { { "Content-Type", "text/html" } }, BODY("<p/>"),
      .code = C(2, 5), .opts = { CF("") } },
    { .method = GET, .status = 200,
      .headers = { { "Content-Type", "text/html; charset=utf-8" } }, BODY("<p/>"),
      .code = C(2, 5), .opts = { CF("") } },
    { .method = GET, .status = 200, .headers = { { "Content-Type", "text/plain" } }, BODY("hi"),
      .code = C(2, 5), .opts = { CF("") } },
    { .method = GET, .status = 200,
      .headers = { { "Content-Type", "application/json; charset=utf-8" } }, BODY("{}"),
      .code = C(2, 5), .opts = { CF("\x32") } },
    { .method = GET, .status = 200,
      .headers = { { "Content-Type", "application/problem+json" } }, BODY("{}"),
      .code = C(2, 5), .opts = { CF("\x32") } },
    { .method = GET, .status = 200,
      .headers = { { "Content-Type", "application/x-unknown" } }, BODY("x"),
      .code = C(2, 5), .opts = { CF("\x2a") } },
    { .method = GET, .status = 200, BODY("x"), .code = C(2, 5) },
    { .method = GET, .status = 200, .headers = { { "Content-Type", "application/oscore" } },
      BODY("x"), .code = C(2, 5) },
    /* RFC 8075 s6.2 backwards: application/coap-payload names its number. */
    { .method = GET, .status = 200,
      .headers = { { "Content-Type", "application/coap-payload;cf=65000" } }, BODY("x"),
      .code = C(2, 5), .opts = { CF("\xfd\xe8") } },
    { .method = GET, .status = 200,
      .headers = { { "Content-Type", "Application/CoAP-Payload; CF=\"60\"" } }, BODY("x"),
      .code = C(2, 5), .opts = { CF("\x3c") } },
    { .method = GET, .status = 200,
      .headers = { { "Content-Type", "application/coap-payload;cf=65536" } }, BODY("x"),
      .code = C(2, 5) },
    { .method = GET, .status = 200, .headers = { { "Content-Type", "application/coap-payload" } },
      BODY("x"), .code = C(2, 5) },
    { .method = GET, .status = 200,
      .headers = { { "Content-Type", "application/coap-payload;cf=60;x=1" } }, BODY("x"),
      .code = C(2, 5) },
    /* A body in a coding CoAP cannot name cannot pass as plain (RFC 7252 s10.1: 5.02). */
    { .method = GET, .status = 200,
      .headers = { { "Content-Type", "application/json" }, { "Content-Encoding", "gzip" } },
      BODY("\x1f\x8b"), .err = HCM_EBADRESPONSE },
    { .method = GET, .status = 200, .headers = { { "Content-Encoding", "br" } }, BODY("x"),
      .err = HCM_EBADRESPONSE },
    { .method = GET, .status = 204, .headers = { { "Content-Encoding", "gzip" } },
      .code = C(2, 5) },

    /* ---- ETag (RFC 7252 s10.1.1; hcproxy's convention, mapping/etag.c) ---- */
    { .method = GET, .status = 200, .headers = { { "ETag", "\"0a1b\"" } }, BODY("x"),
      .code = C(2, 5), .opts = { ETAG("\x0a\x1b") } },
    { .method = GET, .status = 200, .headers = { { "etag", " \"0A1B\" " } }, BODY("x"),
      .code = C(2, 5), .opts = { ETAG("\x0a\x1b") } },
    { .method = GET, .status = 200, .headers = { { "ETag", "\"0123456789abcdef\"" } }, BODY("x"),
      .code = C(2, 5), .opts = { ETAG("\x01\x23\x45\x67\x89\xab\xcd\xef") } },
    { .method = GET, .status = 200, .headers = { { "ETag", "\"12345678\"" } }, BODY("x"),
      .code = C(2, 5), .opts = { ETAG("\x12\x34\x56\x78") } },
    /* Not hex of one case, or an odd count: the tag's own bytes, when 1 to 8 of them. */
    { .method = GET, .status = 200, .headers = { { "ETag", "\"0a1B\"" } }, BODY("x"),
      .code = C(2, 5), .opts = { ETAG("0a1B") } },
    { .method = GET, .status = 200, .headers = { { "ETag", "\"v1\"" } }, BODY("x"),
      .code = C(2, 5), .opts = { ETAG("v1") } },
    { .method = GET, .status = 200, .headers = { { "ETag", "\"1\"" } }, BODY("x"),
      .code = C(2, 5), .opts = { ETAG("1") } },
    { .method = GET, .status = 200, .headers = { { "ETag", "\"5f1c2a8-2\"" } }, BODY("x"),
      .code = C(2, 5) }, /* 9 bytes: too long */
    { .method = GET, .status = 200, .headers = { { "ETag", "\"0123456789abcdef01\"" } },
      BODY("x"), .code = C(2, 5) }, /* 9 bytes of hex: too long */
    /* Weak tags cannot map: CoAP ETags are strong (RFC 7252 s10.1.1). */
    { .method = GET, .status = 200, .headers = { { "ETag", "W/\"0a1b\"" } }, BODY("x"),
      .code = C(2, 5) },
    { .method = GET, .status = 200, .headers = { { "ETag", "\"\"" } }, BODY("x"),
      .code = C(2, 5) },
    { .method = GET, .status = 200, .headers = { { "ETag", "0a1b" } }, BODY("x"),
      .code = C(2, 5) },
    { .method = GET, .status = 200, .headers = { { "ETag", "\"a b\"" } }, BODY("x"),
      .code = C(2, 5) },
    { .method = GET, .status = 200, .headers = { { "ETag", "\"a\" x" } }, BODY("x"),
      .code = C(2, 5) },
    /* An error carries no representation of the resource. */
    { .method = GET, .status = 404, .headers = { { "ETag", "\"0a1b\"" } }, .code = C(4, 4) },
    /* With Content-Format: options in number order. */
    { .method = GET, .status = 200,
      .headers = { { "Content-Type", "application/json" }, { "Cache-Control", "max-age=30" },
                   { "ETag", "\"0a1b\"" } },
      BODY("{}"), .code = C(2, 5),
      .opts = { ETAG("\x0a\x1b"), CF("\x32"), MAX_AGE("\x1e") } },

    /* ---- validation (RFC 7252 s5.10.6.2, s5.10.8.2) ---- */
    { .method = GET, .is_validation = true, .status = 304, .headers = { { "ETag", "\"0a1b\"" } },
      .code = C(2, 3), .opts = { ETAG("\x0a\x1b") } },
    { .method = GET, .is_validation = true, .status = 200, .headers = { { "ETag", "\"0c\"" } },
      BODY("new"), .code = C(2, 5), .opts = { ETAG("\x0c") } },
    /* A 304 the client did not ask for cannot be understood. */
    { .method = GET, .status = 304, .err = HCM_EBADRESPONSE },
    /* If-None-Match: * on a GET that exists is 304 in HTTP, 4.12 in CoAP. */
    { .method = GET, .asked_if_none_match = true, .status = 304, .code = C(4, 12) },
    { .method = PUT, .asked_if_none_match = true, .status = 412, .code = C(4, 12) },

    /* ---- Cache-Control -> Max-Age (RFC 7252 s10.1.1, s5.10.5; RFC 9111 s5.2) ---- */
    { .method = GET, .status = 200, .headers = { { "Cache-Control", "max-age=30" } },
      .code = C(2, 5), .opts = { MAX_AGE("\x1e") } },
    { .method = GET, .status = 200, .headers = { { "Cache-Control", "public, MAX-AGE=3600" } },
      .code = C(2, 5), .opts = { MAX_AGE("\x0e\x10") } },
    { .method = GET, .status = 200, .headers = { { "Cache-Control", "max-age=0" } },
      .code = C(2, 5), .opts = { MAX_AGE("") } },
    { .method = GET, .status = 200, .headers = { { "Cache-Control", "max-age=\"30\"" } },
      .code = C(2, 5), .opts = { MAX_AGE("\x1e") } },
    /* Up to the largest Max-Age, 2^32 - 1 seconds. */
    { .method = GET, .status = 200, .headers = { { "Cache-Control", "max-age=4294967295" } },
      .code = C(2, 5), .opts = { MAX_AGE("\xff\xff\xff\xff") } },
    { .method = GET, .status = 200, .headers = { { "Cache-Control", "max-age=99999999999" } },
      .code = C(2, 5), .opts = { MAX_AGE("\xff\xff\xff\xff") } },
    /* RFC 9111 s4.2.1: invalid freshness is stale. */
    { .method = GET, .status = 200, .headers = { { "Cache-Control", "max-age=abc" } },
      .code = C(2, 5), .opts = { MAX_AGE("") } },
    { .method = GET, .status = 200, .headers = { { "Cache-Control", "max-age" } },
      .code = C(2, 5), .opts = { MAX_AGE("") } },
    { .method = GET, .status = 200, .headers = { { "Cache-Control", "max-age=5x" } },
      .code = C(2, 5), .opts = { MAX_AGE("") } },
    /* Nothing any cache may serve. */
    { .method = GET, .status = 200, .headers = { { "Cache-Control", "no-cache" } },
      .code = C(2, 5), .opts = { MAX_AGE("") } },
    { .method = GET, .status = 200, .headers = { { "Cache-Control", "no-store" } },
      .code = C(2, 5), .opts = { MAX_AGE("") } },
    { .method = GET, .status = 200, .headers = { { "Cache-Control", "private, max-age=60" } },
      .code = C(2, 5), .opts = { MAX_AGE("") } },
    { .method = GET, .status = 200,
      .headers = { { "Cache-Control", "no-cache=\"Set-Cookie, X\", max-age=60" } },
      .code = C(2, 5), .opts = { MAX_AGE("") } },
    /* The first max-age counts; every Cache-Control field is one list; quoted commas are no
     * separators. */
    { .method = GET, .status = 200,
      .headers = { { "Cache-Control", "max-age=10" }, { "Cache-Control", "max-age=20" } },
      .code = C(2, 5), .opts = { MAX_AGE("\x0a") } },
    { .method = GET, .status = 200,
      .headers = { { "Cache-Control", "ext=\"a, max-age=5\", max-age=7" } }, .code = C(2, 5),
      .opts = { MAX_AGE("\x07") } },
    { .method = GET, .status = 200, .headers = { { "Cache-Control", ",, max-age=7 ,," } },
      .code = C(2, 5), .opts = { MAX_AGE("\x07") } },
    /* RFC 7252 s10.1.1: no more than what remains after Age. */
    { .method = GET, .status = 200,
      .headers = { { "Cache-Control", "max-age=30" }, { "Age", "10" } }, .code = C(2, 5),
      .opts = { MAX_AGE("\x14") } },
    { .method = GET, .status = 200,
      .headers = { { "Cache-Control", "max-age=30" }, { "Age", "40" } }, .code = C(2, 5),
      .opts = { MAX_AGE("") } },
    /* RFC 9111 s4.2.1, s5.3: without max-age, Expires less Date; an invalid Expires, or one
     * with no Date to count from, is stale; max-age wins over Expires; Age still counts. All
     * three HTTP-date forms (RFC 9110 s5.6.7). */
#define DATE { "Date", "Sun, 06 Nov 1994 08:49:37 GMT" }
    { .method = GET, .status = 200,
      .headers = { DATE, { "Expires", "Sun, 06 Nov 1994 08:51:37 GMT" } }, .code = C(2, 5),
      .opts = { MAX_AGE("\x78") } },
    { .method = GET, .status = 200,
      .headers = { DATE, { "Expires", "Sunday, 06-Nov-94 08:51:37 GMT" } }, .code = C(2, 5),
      .opts = { MAX_AGE("\x78") } },
    { .method = GET, .status = 200,
      .headers = { DATE, { "Expires", "Sun Nov  6 08:51:37 1994" } }, .code = C(2, 5),
      .opts = { MAX_AGE("\x78") } },
    { .method = GET, .status = 200,
      .headers = { DATE, { "Expires", "Sun, 06 Nov 1994 09:49:37 GMT" }, { "Age", "600" } },
      .code = C(2, 5), .opts = { MAX_AGE("\x0b\xb8") } },
    { .method = GET, .status = 200,
      .headers = { DATE, { "Expires", "Sun, 06 Nov 1994 08:00:00 GMT" } }, .code = C(2, 5),
      .opts = { MAX_AGE("") } },
    { .method = GET, .status = 200, .headers = { DATE, { "Expires", "0" } }, .code = C(2, 5),
      .opts = { MAX_AGE("") } },
    { .method = GET, .status = 200,
      .headers = { { "Expires", "Sun, 06 Nov 2094 08:51:37 GMT" } }, .code = C(2, 5),
      .opts = { MAX_AGE("") } },
    { .method = GET, .status = 200,
      .headers = { DATE, { "Expires", "Sun, 06 Nov 1994 08:00:00 GMT" },
                   { "Cache-Control", "max-age=30" } },
      .code = C(2, 5), .opts = { MAX_AGE("\x1e") } },
    { .method = GET, .status = 200,
      .headers = { DATE, { "Expires", "Sun, 06 Nov 1994 08:51:37 GMT junk" } }, .code = C(2, 5),
      .opts = { MAX_AGE("") } },
#undef DATE
    /* Nothing said: no Max-Age, CoAP's 60 seconds apply (s5.10.5); s-maxage is for shared
     * caches only. */
    { .method = GET, .status = 200, .code = C(2, 5) },
    { .method = GET, .status = 200, .headers = { { "Cache-Control", "s-maxage=30" } },
      .code = C(2, 5) },
    /* An Expires with no Date to count from: its lifetime needs a clock, so it counts as stale
     * (an origin with a clock MUST send Date, RFC 9110 s6.6.1). */
    { .method = GET, .status = 200, .headers = { { "Expires", "Thu, 01 Jan 2037 00:00:00 GMT" } },
      .code = C(2, 5), .opts = { MAX_AGE("") } },
    /* 2.01, 2.02 and 2.04 are not cacheable (RFC 7252 s5.9.1): no Max-Age. */
    { .method = POST, .status = 200, .headers = { { "Cache-Control", "max-age=30" } },
      .code = C(2, 4) },
    { .method = PUT, .status = 201, .headers = { { "Cache-Control", "no-store" } },
      .code = C(2, 1) },
    { .method = DELETE, .status = 200, .headers = { { "Cache-Control", "max-age=30" } },
      .code = C(2, 2) },
    /* Errors are (s5.9.2, s5.9.3). */
    { .method = GET, .status = 404, .headers = { { "Cache-Control", "max-age=30" } },
      .code = C(4, 4), .opts = { MAX_AGE("\x1e") } },

    /* ---- Retry-After -> Max-Age (RFC 8075 Table 2 note 8, RFC 8516) ---- */
    { .method = GET, .status = 503, .headers = { { "Retry-After", "120" } }, .code = C(5, 3),
      .opts = { MAX_AGE("\x78") } },
    { .method = POST, .status = 429, .headers = { { "Retry-After", " 5 " } }, .code = C(4, 29),
      .opts = { MAX_AGE("\x05") } },
    /* Retry-After wins over Cache-Control on 503. */
    { .method = GET, .status = 503,
      .headers = { { "Cache-Control", "max-age=9" }, { "Retry-After", "120" } }, .code = C(5, 3),
      .opts = { MAX_AGE("\x78") } },
    /* An HTTP-date needs a clock: the freshness decides. */
    { .method = GET, .status = 503,
      .headers = { { "Retry-After", "Fri, 31 Dec 1999 23:59:59 GMT" },
                   { "Cache-Control", "max-age=9" } },
      .code = C(5, 3), .opts = { MAX_AGE("\x09") } },
    { .method = GET, .status = 503, .headers = { { "Retry-After", "Fri, 31 Dec 1999" } },
      .code = C(5, 3) },
    /* Only on 503 and 429. */
    { .method = GET, .status = 500, .headers = { { "Retry-After", "5" } }, .code = C(5, 0) },

    /* ---- OSCORE (RFC 8613 s11.1, s11.3, s11.6; its Appendix C vectors) ---- */
    /* s11.6: 200 + OSCORE: AA + the C.7 ciphertext -> 2.04, an empty OSCORE option, the same
     * payload, no Content-Format. */
    { .method = POST, .is_oscore = true, .status = 200,
      .headers = { { "Content-Type", "application/oscore" }, { "OSCORE", "AA" } },
      BODY(C7_CIPHERTEXT), .code = C(2, 4), .opts = { OSCORE("") } },
    /* C.8's response the same way: OSCORE: AQA is the option 01 00. */
    { .method = POST, .is_oscore = true, .status = 200,
      .headers = { { "oscore", " AQA " }, { "Content-Type", "application/oscore" } },
      BODY(C8_CIPHERTEXT), .code = C(2, 4), .opts = { OSCORE("\x01\x00") } },
    /* Nothing else the origin says is carried: it is outside the protection. */
    { .method = POST, .is_oscore = true, .status = 200,
      .headers = { { "Content-Type", "application/json" }, { "OSCORE", "AA" },
                   { "Cache-Control", "max-age=30" }, { "ETag", "\"0a1b\"" } },
      BODY(C7_CIPHERTEXT), .code = C(2, 4), .opts = { OSCORE("") } },
    /* s11.1 allows the OSCORE field on a 200 only; on another status it cannot be understood:
     * 5.02 (RFC 7252 s10.1, hcproxy's choice where RFC 8613 says no more). */
    { .method = POST, .is_oscore = true, .status = 400, .headers = { { "OSCORE", "AA" } },
      BODY(C7_CIPHERTEXT), .err = HCM_EBADRESPONSE },
    { .method = POST, .is_oscore = true, .status = 201, .headers = { { "OSCORE", "AA" } },
      BODY(C7_CIPHERTEXT), .err = HCM_EBADRESPONSE },
    /* Ciphertext for a client that sent none. */
    { .method = POST, .status = 200, .headers = { { "OSCORE", "AA" } }, BODY(C7_CIPHERTEXT),
      .err = HCM_EBADRESPONSE },
    /* Malformed (not canonical unpadded base64url, s11.1 and RFC 4648 s3.5), repeated, or without
     * ciphertext. */
    { .method = POST, .is_oscore = true, .status = 200, .headers = { { "OSCORE", "A" } },
      BODY(C7_CIPHERTEXT), .err = HCM_EBADRESPONSE },
    { .method = POST, .is_oscore = true, .status = 200, .headers = { { "OSCORE", "AB" } },
      BODY(C7_CIPHERTEXT), .err = HCM_EBADRESPONSE },
    { .method = POST, .is_oscore = true, .status = 200, .headers = { { "OSCORE", "AA==" } },
      BODY(C7_CIPHERTEXT), .err = HCM_EBADRESPONSE },
    { .method = POST, .is_oscore = true, .status = 200, .headers = { { "OSCORE", "CR+Q" } },
      BODY(C7_CIPHERTEXT), .err = HCM_EBADRESPONSE },
    { .method = POST, .is_oscore = true, .status = 200, .headers = { { "OSCORE", "A A" } },
      BODY(C7_CIPHERTEXT), .err = HCM_EBADRESPONSE },
    { .method = POST, .is_oscore = true, .status = 200,
      .headers = { { "OSCORE", "AA" }, { "OSCORE", "AA" } }, BODY(C7_CIPHERTEXT),
      .err = HCM_EBADRESPONSE },
    { .method = POST, .is_oscore = true, .status = 200, .headers = { { "OSCORE", "AA" } },
      .err = HCM_EBADRESPONSE },
    /* Without the field an answer to an OSCORE request is an ordinary, unprotected one
     * (RFC 8613 s8.2: 4.01 when the context is not found). */
    { .method = POST, .is_oscore = true, .status = 401, .headers = { TEXT },
      BODY("Security context not found"), .code = C(4, 1), .opts = { CF("") } },
};

static void request_of(const row_t *row, hcm_origin_req_t *req)
{
    memset(req, 0, sizeof(*req));
    req->method = "GET";
    req->info.code = row->method;
    req->info.is_oscore = row->is_oscore;
    req->info.is_validation = row->is_validation;
    if (row->asked_if_none_match)
        req->headers[req->nheaders++] = (hcm_header_t){ "If-None-Match", "*" };
}

static size_t nheaders_of(const row_t *row)
{
    size_t n = 0;

    while (n < MAX_HDRS && row->headers[n].name != NULL)
        n++;
    return n;
}

static int map_in(const row_t *row, hcm_arena_t *arena, hcm_coap_msg_t *out)
{
    hcm_origin_req_t req;
    hcm_bytes_t body = { .p = (const uint8_t *)row->body, .len = row->body_len };

    request_of(row, &req);
    return hcm_origin_to_coap(row->status, row->headers, nheaders_of(row), body, &req, arena,
                              out);
}

static int map(const row_t *row, uint8_t *buf, size_t size, hcm_coap_msg_t *out)
{
    hcm_arena_t arena;

    hcm_arena_init(&arena, buf, size);
    return map_in(row, &arena, out);
}

START_TEST(response)
{
    static _Alignas(8) uint8_t buf[ARENA_SIZE];
    const row_t *row = &rows[_i];
    hcm_coap_msg_t out;

    ck_assert_int_eq(map(row, buf, sizeof(buf), &out), row->err);
    if (row->err != 0)
        return;
    ck_assert_msg(out.code == row->code, "code %u.%02u, want %u.%02u", HCM_CODE_CLASS(out.code),
                  HCM_CODE_DETAIL(out.code), HCM_CODE_CLASS(row->code),
                  HCM_CODE_DETAIL(row->code));
    check_opts(&out, row->opts, MAX_OPTS);
    ck_assert_uint_eq(out.payload.len, row->body_len);
    ck_assert_ptr_eq(out.payload.p, (const uint8_t *)row->body); /* a view of the body */
}
END_TEST

/* The caller may drop the origin's header fields once this returns (proxy/reverse.c answers
 * later): every option value lives in the arena, or is empty. */
START_TEST(options_live_in_the_arena)
{
    static _Alignas(8) uint8_t buf[ARENA_SIZE];
    const row_t *row = &rows[_i];
    hcm_coap_msg_t out;
    size_t i;

    if (map(row, buf, sizeof(buf), &out) != 0)
        return;
    for (i = 0; i < out.nopts; i++) {
        const uint8_t *p = out.opts[i].value.p;

        if (out.opts[i].value.len == 0)
            continue;
        ck_assert(p >= buf && p + out.opts[i].value.len <= buf + sizeof(buf));
    }
}
END_TEST

/* Every arena smaller than a response needs gives HCM_ENOSPACE, never a crash. */
START_TEST(response_arena_exhaustion)
{
    const row_t *row = &rows[_i];
    hcm_coap_msg_t out;
    size_t need;

    if (row->err != 0)
        return;
    ARENA_EXHAUSTION_RUN(need, ARENA_SIZE, arena, map_in(row, arena, &out));
}
END_TEST

/* ---- RFC 8613 s11.6 both ways (the C.4 request, the C.7 answer), through the proxy's calls -- */

START_TEST(oscore_c4_c7_round_trip)
{
    static const uint8_t option[] = { 0x09, 0x14 };
    static const char proxy_uri[] = "http://origin.example/";
    static const uint8_t request_body[] = { 0x61, 0x2f, 0x10, 0x92, 0xf1, 0x77, 0x6f,
                                            0x1c, 0x16, 0x68, 0xb3, 0x82, 0x5e };
    static const char response_body[] = C7_CIPHERTEXT;
    static const hcm_header_t answer[] = { { "Content-Type", "application/oscore" },
                                           { "OSCORE", "AA" } };
    static _Alignas(8) uint8_t buf[ARENA_SIZE];
    hcm_coap_msg_t in = { .code = 0x02 }, out;
    hcm_origin_req_t req;
    hcm_arena_t arena;

    ck_assert_int_eq(hcm_coap_msg_add(&in, 9, (hcm_bytes_t){ option, sizeof(option) }), 0);
    ck_assert_int_eq(hcm_coap_msg_add(&in, 35, (hcm_bytes_t){ (const uint8_t *)proxy_uri,
                                                              strlen(proxy_uri) }),
                     0);
    in.payload = (hcm_bytes_t){ request_body, sizeof(request_body) };
    hcm_arena_init(&arena, buf, sizeof(buf));
    ck_assert_int_eq(hcm_coap_to_origin(&in, NULL, 0, &arena, &req), 0);
    ck_assert_str_eq(req.method, "POST");
    ck_assert_str_eq(req.url, "http://origin.example/");
    ck_assert_str_eq(req.host, "origin.example");
    ck_assert_uint_eq(req.port, 80);
    ck_assert_uint_eq(req.nheaders, 2);
    ck_assert_str_eq(req.headers[0].name, "Content-Type");
    ck_assert_str_eq(req.headers[0].value, "application/oscore");
    ck_assert_str_eq(req.headers[1].name, "OSCORE");
    ck_assert_str_eq(req.headers[1].value, "CRQ");
    ck_assert_uint_eq(req.body.len, 13);
    ck_assert_mem_eq(req.body.p, request_body, 13);

    ck_assert_int_eq(hcm_origin_to_coap(200, answer, HCM_COUNTOF(answer),
                                        (hcm_bytes_t){ (const uint8_t *)response_body, 22 },
                                        &req, &arena, &out),
                     0);
    ck_assert_uint_eq(out.code, 0x44); /* 2.04 Changed */
    ck_assert_uint_eq(out.nopts, 1);
    ck_assert_uint_eq(out.opts[0].number, 9);
    ck_assert_uint_eq(out.opts[0].value.len, 0);
    ck_assert_uint_eq(out.payload.len, 22);
    ck_assert_mem_eq(out.payload.p, response_body, 22);
}
END_TEST

/* ---- the ETag convention both ways (mapping/etag.c) ------------------------------------------ */

/* Entity-tags an origin may send, each as it must come back in If-None-Match (RFC 9110 s8.8.3). */
static const char *const origin_tags[] = {
    "\"0a1b\"", "\"0A1B\"", "\"0a1B\"", "\"v1\"", "\"1\"", "\"12345678\"", "\"0123456789abcdef\"",
    "\"0123456789ABCDEF\"", "\"a-b_c.d\"", "\"!#$%&'*\"", "\"00\"", "\"zz\"", "\"\x80\xff\"",
};

/* A validation round trip: the origin's tag becomes a CoAP ETag, the client sends it back in a
 * GET, and the origin sees its own tag among those in If-None-Match. */
START_TEST(etag_round_trip)
{
    static const char proxy_uri[] = "http://o.example/";
    static _Alignas(8) uint8_t buf[ARENA_SIZE];
    const hcm_header_t answer[] = { { "ETag", origin_tags[_i] } };
    hcm_origin_req_t plain = { .info = { .code = 0x01 } }, req;
    hcm_coap_msg_t answered, in = { .code = 0x01 };
    hcm_arena_t arena;
    const char *tags, *at;
    size_t len = strlen(origin_tags[_i]);

    hcm_arena_init(&arena, buf, sizeof(buf));
    ck_assert_int_eq(hcm_origin_to_coap(200, answer, 1, (hcm_bytes_t){ NULL, 0 }, &plain, &arena,
                                        &answered),
                     0);
    ck_assert_uint_eq(answered.nopts, 1);
    ck_assert_uint_eq(answered.opts[0].number, 4);
    ck_assert_int_eq(hcm_coap_msg_add(&in, 4, answered.opts[0].value), 0);
    ck_assert_int_eq(hcm_coap_msg_add(&in, 35, (hcm_bytes_t){ (const uint8_t *)proxy_uri,
                                                              strlen(proxy_uri) }),
                     0);
    ck_assert_int_eq(hcm_coap_to_origin(&in, NULL, 0, &arena, &req), 0);
    ck_assert(req.info.is_validation);
    ck_assert_uint_eq(req.nheaders, 1);
    ck_assert_str_eq(req.headers[0].name, "If-None-Match");
    tags = req.headers[0].value;
    /* The tag is one element of the list: at its start or after ", ", and before ',' or end. */
    for (at = strstr(tags, origin_tags[_i]); at != NULL; at = strstr(at + 1, origin_tags[_i]))
        if ((at == tags || at[-1] == ' ') && (at[len] == '\0' || at[len] == ','))
            break;
    ck_assert_msg(at != NULL, "%s not in If-None-Match: %s", origin_tags[_i], tags);
}
END_TEST

static Suite *origin_response_suite(void)
{
    Suite *s = suite_create("origin_response");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, response, 0, HCM_COUNTOF(rows));
    tcase_add_loop_test(tc, options_live_in_the_arena, 0, HCM_COUNTOF(rows));
    tcase_add_loop_test(tc, response_arena_exhaustion, 0, HCM_COUNTOF(rows));
    tcase_add_test(tc, oscore_c4_c7_round_trip);
    tcase_add_loop_test(tc, etag_round_trip, 0, HCM_COUNTOF(origin_tags));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(origin_response_suite());
}

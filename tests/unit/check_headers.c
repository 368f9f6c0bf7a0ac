/* HTTP request headers -> CoAP options (mapping/headers.c and headers.def, through
 * hcm_request_to_coap()): each row of the header table, Accept choice, If-Match and
 * If-None-Match, Via and CDN-Loop against Hop-Limit, Observe. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check_util.h"
#include "hcm.h"
#include "run_suite.h"

#define ARENA_SIZE 4096
#define MAX_OPTS 6
#define MAX_HDRS 4

/* Option numbers from RFC 7252 s12.2 and RFC 8768 s3; uint values as their bytes (RFC 7252
 * s3.2). Content-Format numbers from the IANA CoAP Content-Formats registry (RFC 7252 s12.3). */
#define IF_MATCH(s) OPT(1, s)
#define ETAG(s) OPT(4, s)
#define IF_NONE_MATCH OPT(5, "")
#define CF(s) OPT(12, s)
#define HOP_LIMIT(s) OPT(16, s)
#define ACCEPT(s) OPT(17, s)

/* A GET of coap://[::1] carries no Uri-Host (an IP literal) and no Uri-Path (an empty path), so
 * every option of the request comes from the row's headers. */
typedef struct row {
    hcm_header_t headers[MAX_HDRS];
    unsigned hop_limit;
    int err;
    opt_t opts[MAX_OPTS];
    bool is_validation;
} row_t;

static hcm_http_req_t request_of(const row_t *row, const char *method, const char *body)
{
    size_t n = 0;

    while (n < MAX_HDRS && row->headers[n].name != NULL)
        n++;
    return (hcm_http_req_t){
        .method = method,
        .target_uri = "coap://[::1]",
        .headers = row->headers,
        .nheaders = n,
        .body = { .p = (const uint8_t *)body, .len = strlen(body) },
        .hop_limit = row->hop_limit,
    };
}

static void check_row(const row_t *row, const char *method, const char *body)
{
    static _Alignas(8) uint8_t buf[ARENA_SIZE];
    hcm_http_req_t in = request_of(row, method, body);
    hcm_arena_t arena;
    hcm_target_t target;
    hcm_coap_msg_t out;
    hcm_req_info_t info;

    hcm_arena_init(&arena, buf, sizeof(buf));
    ck_assert_int_eq(hcm_request_to_coap(&in, &arena, &target, &out, &info), row->err);
    if (row->err != 0)
        return;
    check_opts(&out, row->opts, MAX_OPTS);
    ck_assert_int_eq(info.is_validation, row->is_validation);
}

/* Every arena smaller than the request needs gives HCM_ENOSPACE, never a crash. */
static void check_exhaustion(const row_t *row, const char *method, const char *body)
{
    hcm_http_req_t in = request_of(row, method, body);

    if (row->err == 0)
        check_request_exhaustion(&in, ARENA_SIZE);
}

/* ---- one row per header the table knows ---------------------------------------------------- */

/* What each header becomes, from the RFCs (RFC 7252 s10.2, RFC 8075 s6): the mapped ones give their
 * options, the hop-by-hop ones (RFC 9110 s7.6.1), those the transport consumes and those without a
 * CoAP equivalent (RFC 7252 s10.2.2) give none. Sent on a POST with a body, in mixed case. */
static const row_t table[] = {
    { { { "Accept", "application/cbor" } }, 0, 0, { ACCEPT("\x3c") }, false },
    { { { "Accept-Charset", "utf-8" } }, 0, 0, { { 0 } }, false },
    { { { "Accept-Encoding", "deflate, gzip" } }, 0, 0, { { 0 } }, false },
    { { { "Accept-Language", "de, en;q=0.5" } }, 0, 0, { { 0 } }, false },
    { { { "Authorization", "Basic YWxhZGRpbjpvcGVuc2VzYW1l" } }, 0, 0, { { 0 } }, false },
    { { { "Cache-Control", "no-cache" } }, 0, 0, { { 0 } }, false },
    { { { "CDN-Loop", "foo, bar" } }, 16, 0, { HOP_LIMIT("\x0e") }, false },
    { { { "Connection", "keep-alive" } }, 0, 0, { { 0 } }, false },
    /* Content-Encoding alone on a body is refused (RFC 8075 s6.1); with Content-Type see below. */
    { { { "Content-Encoding", "deflate" } }, 0, HCM_EMEDIA, { { 0 } }, false },
    { { { "Content-Length", "4" } }, 0, 0, { { 0 } }, false },
    { { { "Content-Type", "application/json" } }, 0, 0, { CF("\x32") }, false },
    { { { "Cookie", "a=b" } }, 0, 0, { { 0 } }, false },
    { { { "Date", "Tue, 15 Nov 1994 08:12:31 GMT" } }, 0, 0, { { 0 } }, false },
    { { { "Expect", "100-continue" } }, 0, 0, { { 0 } }, false },
    { { { "Forwarded", "for=192.0.2.60;proto=http;by=203.0.113.43" } }, 0, 0, { { 0 } }, false },
    { { { "Host", "proxy.example:8080" } }, 0, 0, { { 0 } }, false },
    { { { "If-Match", "\"0a1b\"" } }, 0, 0, { IF_MATCH("\x0a\x1b") }, false },
    { { { "If-Modified-Since", "Sat, 29 Oct 1994 19:43:31 GMT" } }, 0, 0, { { 0 } }, false },
    { { { "If-None-Match", "*" } }, 0, 0, { IF_NONE_MATCH }, false },
    { { { "If-Range", "\"0a1b\"" } }, 0, 0, { { 0 } }, false },
    { { { "If-Unmodified-Since", "Sat, 29 Oct 1994 19:43:31 GMT" } }, 0, 0, { { 0 } }, false },
    { { { "Keep-Alive", "timeout=5" } }, 0, 0, { { 0 } }, false },
    { { { "Max-Forwards", "3" } }, 0, 0, { { 0 } }, false },
    { { { "Observe", "0" } }, 0, 0, { { 0 } }, false }, /* the exchange's (observe.c) */
    { { { "Origin", "http://example.org" } }, 0, 0, { { 0 } }, false },
    { { { "Pragma", "no-cache" } }, 0, 0, { { 0 } }, false },
    { { { "Proxy-Authorization", "Basic YWxhZGRpbjpvcGVuc2VzYW1l" } }, 0, 0, { { 0 } }, false },
    { { { "Proxy-Connection", "keep-alive" } }, 0, 0, { { 0 } }, false },
    { { { "Range", "bytes=0-99" } }, 0, 0, { { 0 } }, false },
    { { { "Referer", "http://example.org/" } }, 0, 0, { { 0 } }, false },
    { { { "TE", "trailers" } }, 0, 0, { { 0 } }, false },
    { { { "Trailer", "Expires" } }, 0, 0, { { 0 } }, false },
    { { { "Transfer-Encoding", "chunked" } }, 0, 0, { { 0 } }, false },
    { { { "Upgrade", "websocket" } }, 0, 0, { { 0 } }, false },
    { { { "User-Agent", "curl/7.88.1" } }, 0, 0, { { 0 } }, false },
    { { { "Via", "1.1 a, HTTP/1.1 b" } }, 16, 0, { HOP_LIMIT("\x0e") }, false },
    { { { "X-Forwarded-For", "192.0.2.60" } }, 0, 0, { { 0 } }, false },
    { { { "X-Forwarded-Host", "example.org" } }, 0, 0, { { 0 } }, false },
    { { { "X-Forwarded-Proto", "https" } }, 0, 0, { { 0 } }, false },
};

START_TEST(table_row)
{
    check_row(&table[_i], "POST", "body");
}
END_TEST

START_TEST(table_row_exhaustion)
{
    check_exhaustion(&table[_i], "POST", "body");
}
END_TEST

/* headers.c finds rows with bsearch(): sorted, each name once, lower case; and each has its row
 * in |table| above, so that no header goes untested. */
static const char *const def_names[] = {
#define HCM_HEADER(name, fate, option, fn) name,
#include "headers.def"
#undef HCM_HEADER
};

START_TEST(def_sorted_unique_lower)
{
    for (size_t j = 0; j < HCM_COUNTOF(def_names); j++) {
        for (const char *c = def_names[j]; *c != '\0'; c++)
            ck_assert(!(*c >= 'A' && *c <= 'Z'));
        if (j > 0)
            ck_assert_int_lt(strcmp(def_names[j - 1], def_names[j]), 0);
    }
}
END_TEST

START_TEST(def_row_tested)
{
    bool is_tested = false;

    for (size_t j = 0; j < HCM_COUNTOF(table); j++)
        is_tested = is_tested || strcasecmp(table[j].headers[0].name, def_names[_i]) == 0;
    ck_assert_msg(is_tested, "headers.def row %s has no test", def_names[_i]);
}
END_TEST

/* ---- names, order, unknown headers ---------------------------------------------------------- */

static const row_t names[] = {
    /* RFC 9110 s5.1: field names are case-insensitive. */
    { { { "accept", "application/json" } }, 0, 0, { ACCEPT("\x32") }, false },
    { { { "ACCEPT", "application/json" } }, 0, 0, { ACCEPT("\x32") }, false },
    { { { "aCcEpT", "application/json" } }, 0, 0, { ACCEPT("\x32") }, false },
    { { { "OBSERVE", "1" } }, 0, 0, { { 0 } }, false },
    { { { "via", "1.1 a" } }, 16, 0, { HOP_LIMIT("\x0f") }, false },
    /* Unknown fields, and names that only resemble known ones, are dropped. */
    { { { "X-Foo", "bar" } }, 0, 0, { { 0 } }, false },
    { { { "Accept ", "application/json" } }, 0, 0, { { 0 } }, false },
    { { { "Accepts", "application/json" } }, 0, 0, { { 0 } }, false },
    { { { "Acce", "application/json" } }, 0, 0, { { 0 } }, false },
    { { { "", "application/json" } }, 0, 0, { { 0 } }, false },
    { { { "Hop-Limit", "3" } }, 0, 0, { { 0 } }, false },
    { { { "~", "x" } }, 0, 0, { { 0 } }, false },
    /* Options come out in number order whatever the order of the fields (RFC 7252 s3.1). */
    { { { "Accept", "application/cbor" },
        { "If-None-Match", "\"01\"" },
        { "Content-Type", "text/plain; charset=utf-8" },
        { "If-Match", "\"02\"" } },
      16, 0,
      { IF_MATCH("\x02"), ETAG("\x01"), CF(""), HOP_LIMIT("\x10"), ACCEPT("\x3c") }, true },
    /* Content-Type and Content-Encoding in either order make one Content-Format. */
    { { { "Content-Encoding", "deflate" }, { "Content-Type", "application/cbor" } }, 0, 0,
      { CF("\x2b\x34") }, false },
    /* A singleton sent twice: the first counts. */
    { { { "Content-Type", "application/json" }, { "Content-Type", "application/cbor" } }, 0, 0,
      { CF("\x32") }, false },
    /* A field without a value reads as empty. */
    { { { "User-Agent", NULL } }, 0, 0, { { 0 } }, false },
    { { { "Accept", NULL } }, 0, 0, { { 0 } }, false },
};

START_TEST(name_row)
{
    check_row(&names[_i], "POST", "body");
}
END_TEST

START_TEST(name_null)
{
    static _Alignas(8) uint8_t buf[ARENA_SIZE];
    hcm_header_t fields[] = { { NULL, "x" }, { "Accept", "application/json" } };
    hcm_http_req_t in = { .method = "GET", .target_uri = "coap://[::1]", .headers = fields,
                          .nheaders = 2 };
    hcm_arena_t arena;
    hcm_target_t target;
    hcm_coap_msg_t out;

    hcm_arena_init(&arena, buf, sizeof(buf));
    ck_assert_int_eq(hcm_request_to_coap(&in, &arena, &target, &out, NULL), 0);
    ck_assert_uint_eq(out.nopts, 1);
    ck_assert_uint_eq(out.opts[0].number, 17);
}
END_TEST

/* ---- Accept (RFC 8075 s6.1, RFC 7252 s10.2.2, RFC 9110 s12.5.1) --------------------------- */

#define NO_ACCEPT { { 0 } }

static const row_t accepts[] = {
    { { { "Accept", "application/json" } }, 0, 0, { ACCEPT("\x32") }, false },
    { { { "Accept", "text/plain; charset=utf-8" } }, 0, 0, { ACCEPT("") }, false },
    { { { "Accept", "TEXT/Plain;Charset=\"UTF-8\"" } }, 0, 0, { ACCEPT("") }, false },
    { { { "Accept", "application/cose; cose-type=\"cose-sign1\"" } }, 0, 0, { ACCEPT("\x12") },
      false },
    { { { "Accept", "application/vnd.ocf+cbor" } }, 0, 0, { ACCEPT("\x27\x10") }, false },
    /* The highest weight wins. */
    { { { "Accept", "application/json;q=0.5, application/cbor" } }, 0, 0, { ACCEPT("\x3c") },
      false },
    { { { "Accept", "application/json;q=0.5, application/cbor;q=0.501" } }, 0, 0,
      { ACCEPT("\x3c") }, false },
    { { { "Accept", "application/cbor;q=0.001, application/json;q=0" } }, 0, 0, { ACCEPT("\x3c") },
      false },
    /* Ties keep list order, across fields too (RFC 9110 s5.3: fields combine in order). */
    { { { "Accept", "application/json, application/cbor" } }, 0, 0, { ACCEPT("\x32") }, false },
    { { { "Accept", "application/cbor;q=0.9, application/json;q=0.9" } }, 0, 0,
      { ACCEPT("\x3c") }, false },
    { { { "Accept", "application/json;q=0.5" }, { "Accept", "application/cbor;q=0.5" } }, 0, 0,
      { ACCEPT("\x32") }, false },
    { { { "Accept", "text/html" }, { "Accept", "application/cbor" } }, 0, 0, { ACCEPT("\x3c") },
      false },
    /* RFC 8075 s6.1 MUST: the range of all types sends no Accept; so does a type's range at the
     * top preference, even beside a type that maps. */
    { { { "Accept", "*/*" } }, 0, 0, NO_ACCEPT, false },
    { { { "Accept", "application/json, */*" } }, 0, 0, NO_ACCEPT, false },
    { { { "Accept", "*/*, application/json" } }, 0, 0, NO_ACCEPT, false },
    { { { "Accept", "application/*" } }, 0, 0, NO_ACCEPT, false },
    { { { "Accept", "text/html;q=0.9, application/*" } }, 0, 0, NO_ACCEPT, false },
    { { { "Accept", "application/json" }, { "Accept", "*/*" } }, 0, 0, NO_ACCEPT, false },
    /* A range below the top does not matter when the top maps ... */
    { { { "Accept", "application/json, */*;q=0.1" } }, 0, 0, { ACCEPT("\x32") }, false },
    { { { "Accept", "application/*;q=0.5, application/json" } }, 0, 0, { ACCEPT("\x32") }, false },
    /* ... and is the choice when nothing above it maps (a browser's Accept). */
    { { { "Accept", "text/html, application/xhtml+xml, application/xml;q=0.9, */*;q=0.8" } }, 0,
      0, { ACCEPT("\x29") }, false },
    { { { "Accept", "text/html, */*;q=0.8" } }, 0, 0, NO_ACCEPT, false },
    /* Nothing maps: no Accept, and no failure (SHOULD). Parameters and codings must match the
     * registry exactly; OSCORE and coap-payload never come from HTTP. */
    { { { "Accept", "text/html" } }, 0, 0, NO_ACCEPT, false },
    /* RFC 2046 s4.1.2: text/plain without charset is US-ASCII, which Content-Format 0 holds. */
    { { { "Accept", "text/plain" } }, 0, 0, { ACCEPT("") }, false },
    { { { "Accept", "application/json; charset=utf-8" } }, 0, 0, NO_ACCEPT, false },
    { { { "Accept", "application/oscore" } }, 0, 0, NO_ACCEPT, false },
    { { { "Accept", "application/coap-payload;cf=60" } }, 0, 0, NO_ACCEPT, false },
    { { { "Accept", "" } }, 0, 0, NO_ACCEPT, false },
    { { { "Accept", " , ," } }, 0, 0, NO_ACCEPT, false },
    /* Accept-Encoding is ignored: deflate never turns json into 11050. */
    { { { "Accept", "application/json" }, { "Accept-Encoding", "deflate" } }, 0, 0,
      { ACCEPT("\x32") }, false },
    /* q=0 is "not acceptable" and never chosen (RFC 9110 s12.4.2). */
    { { { "Accept", "application/json;q=0" } }, 0, 0, NO_ACCEPT, false },
    { { { "Accept", "application/json;q=0.000" } }, 0, 0, NO_ACCEPT, false },
    { { { "Accept", "application/json;q=0, */*" } }, 0, 0, NO_ACCEPT, false },
    /* Valid weights in every spelling RFC 9110 s12.4.2 allows, "q" in either case. */
    { { { "Accept", "application/json;q=1.000" } }, 0, 0, { ACCEPT("\x32") }, false },
    { { { "Accept", "application/json;q=1." } }, 0, 0, { ACCEPT("\x32") }, false },
    { { { "Accept", "application/json ; q = 0.7 , application/cbor;q=0.6" } }, 0, 0,
      { ACCEPT("\x32") }, false },
    { { { "Accept", "application/json;Q=0.1, application/cbor;q=0.2" } }, 0, 0,
      { ACCEPT("\x3c") }, false },
    /* Malformed weights spoil only their element. */
    { { { "Accept", "application/json;q=1.5, application/cbor;q=0.2" } }, 0, 0,
      { ACCEPT("\x3c") }, false },
    { { { "Accept", "application/json;q=1.001, application/cbor;q=0.2" } }, 0, 0,
      { ACCEPT("\x3c") }, false },
    { { { "Accept", "application/json;q=abc, application/cbor;q=0.2" } }, 0, 0,
      { ACCEPT("\x3c") }, false },
    { { { "Accept", "application/json;q=0.1234, application/cbor;q=0.2" } }, 0, 0,
      { ACCEPT("\x3c") }, false },
    { { { "Accept", "application/json;q=.5, application/cbor;q=0.2" } }, 0, 0, { ACCEPT("\x3c") },
      false },
    { { { "Accept", "application/json;q=2, application/cbor;q=0.2" } }, 0, 0, { ACCEPT("\x3c") },
      false },
    { { { "Accept", "application/json;q=\"0.9\", application/cbor;q=0.2" } }, 0, 0,
      { ACCEPT("\x3c") }, false },
    { { { "Accept", "application/json;q=, application/cbor;q=0.2" } }, 0, 0, { ACCEPT("\x3c") },
      false },
    /* Malformed elements are skipped; empty ones and empty parameters are allowed. */
    { { { "Accept", "garbage, application/cbor" } }, 0, 0, { ACCEPT("\x3c") }, false },
    { { { "Accept", "text/, application/cbor" } }, 0, 0, { ACCEPT("\x3c") }, false },
    { { { "Accept", "/json, application/cbor" } }, 0, 0, { ACCEPT("\x3c") }, false },
    { { { "Accept", "application/json;;q=0.5 , , application/cbor;q=0.4" } }, 0, 0,
      { ACCEPT("\x32") }, false },
    { { { "Accept", "application/cbor, text/html;p=\"abc" } }, 0, 0, { ACCEPT("\x3c") }, false },
    { { { "Accept", "text/html;p=\"abc, application/cbor" } }, 0, 0, NO_ACCEPT, false },
    /* A quoted comma does not end an element (RFC 9110 s5.6.4). */
    { { { "Accept", "text/html;p=\"a,application/cbor,b\", application/json;q=0.5" } }, 0, 0,
      { ACCEPT("\x32") }, false },
    /* RFC 7231 accept-ext after the weight is ignored. */
    { { { "Accept", "application/json;q=0.5;level=1, application/cbor;q=0.4" } }, 0, 0,
      { ACCEPT("\x32") }, false },
};

START_TEST(accept_row)
{
    check_row(&accepts[_i], "GET", "");
}
END_TEST

START_TEST(accept_row_exhaustion)
{
    check_exhaustion(&accepts[_i], "GET", "");
}
END_TEST

/* ---- If-Match, If-None-Match (RFC 7252 s5.10.6.2, s5.10.8; hcproxy's hex form of ETags) ---- */

static const row_t conditionals[] = {
    { { { "If-Match", "*" } }, 0, 0, { IF_MATCH("") }, false },
    { { { "If-Match", " * " } }, 0, 0, { IF_MATCH("") }, false },
    { { { "If-Match", "\"0a1b\"" } }, 0, 0, { IF_MATCH("\x0a\x1b") }, false },
    { { { "If-Match", "\"0A1B\"" } }, 0, 0, { IF_MATCH("\x0a\x1b") }, false },
    { { { "If-Match", "\"00\"" } }, 0, 0, { IF_MATCH("\x00") }, false },
    { { { "If-Match", "\"0011223344556677\"" } }, 0, 0,
      { IF_MATCH("\x00\x11\x22\x33\x44\x55\x66\x77") }, false },
    { { { "If-Match", "\"01\", \"0203\",\"ff\"" } }, 0, 0,
      { IF_MATCH("\x01"), IF_MATCH("\x02\x03"), IF_MATCH("\xff") }, false },
    { { { "If-Match", "\"01\"" }, { "If-Match", "\"02\"" } }, 0, 0,
      { IF_MATCH("\x01"), IF_MATCH("\x02") }, false },
    { { { "If-Match", " , \"0a1b\" , " } }, 0, 0, { IF_MATCH("\x0a\x1b") }, false },
    /* Weak, too long, odd, not hex, empty, unquoted, unterminated, missing comma, mixed. */
    /* RFC 9110 s13.1.1: strong comparison. Weak tags and tags no CoAP ETag can equal never
     * match: a list of only those fails the precondition (412) without asking the server. */
    { { { "If-Match", "W/\"0a1b\"" } }, 0, HCM_EPRECONDITION, { { 0 } }, false },
    { { { "If-Match", "\"001122334455667788\"" } }, 0, HCM_EPRECONDITION, { { 0 } }, false },
    { { { "If-Match", "\"abc\"" } }, 0, HCM_EPRECONDITION, { { 0 } }, false },
    { { { "If-Match", "\"xyz1\"" } }, 0, HCM_EPRECONDITION, { { 0 } }, false },
    { { { "If-Match", "\"0a 1b\"" } }, 0, HCM_EBADHEADER, { { 0 } }, false },
    { { { "If-Match", "\"\"" } }, 0, HCM_EPRECONDITION, { { 0 } }, false },
    { { { "If-Match", "" } }, 0, HCM_EBADHEADER, { { 0 } }, false },
    { { { "If-Match", "," } }, 0, HCM_EBADHEADER, { { 0 } }, false },
    { { { "If-Match", "0a1b" } }, 0, HCM_EBADHEADER, { { 0 } }, false },
    { { { "If-Match", "\"0a1b" } }, 0, HCM_EBADHEADER, { { 0 } }, false },
    { { { "If-Match", "\"0a1b\" \"0c\"" } }, 0, HCM_EBADHEADER, { { 0 } }, false },
    { { { "If-Match", "*, \"0a\"" } }, 0, HCM_EBADHEADER, { { 0 } }, false },
    { { { "If-Match", "\"0a\", W/\"0b\"" } }, 0, 0, { IF_MATCH("\x0a") }, false },
    { { { "If-Match", "\"0a\", \"xyz\"" } }, 0, 0, { IF_MATCH("\x0a") }, false },
    { { { "If-Match", "W\"0a\"" } }, 0, HCM_EBADHEADER, { { 0 } }, false },
    /* "*": conditional creation; tags: a validation (ETag options, 2.03 means 304). */
    { { { "If-None-Match", "*" } }, 0, 0, { IF_NONE_MATCH }, false },
    { { { "If-None-Match", "*" }, { "If-None-Match", "*" } }, 0, 0, { IF_NONE_MATCH }, false },
    { { { "If-None-Match", "\"beef\"" } }, 0, 0, { ETAG("\xbe\xef") }, true },
    { { { "If-None-Match", "\"BEEF\"" } }, 0, 0, { ETAG("\xbe\xef") }, true },
    { { { "If-None-Match", "\"01\",\"02\"" } }, 0, 0, { ETAG("\x01"), ETAG("\x02") }, true },
    { { { "If-None-Match", "\"0011223344556677\"" } }, 0, 0,
      { ETAG("\x00\x11\x22\x33\x44\x55\x66\x77") }, true },
    /* RFC 9110 s13.1.2: weak comparison, so W/"beef" matches the CoAP ETag beef; a tag no CoAP
     * ETag can equal never matches, so the condition holds: no ETag, no validation. */
    { { { "If-None-Match", "W/\"beef\"" } }, 0, 0, { ETAG("\xbe\xef") }, true },
    { { { "If-None-Match", "\"bee\"" } }, 0, 0, { { 0 } }, false },
    { { { "If-None-Match", "\"001122334455667788\"" } }, 0, 0, { { 0 } }, false },
    { { { "If-None-Match", "\"xyz\", \"beef\"" } }, 0, 0, { ETAG("\xbe\xef") }, true },
    { { { "If-None-Match", "\"be ef\"" } }, 0, HCM_EBADHEADER, { { 0 } }, false },
    { { { "If-None-Match", "" } }, 0, HCM_EBADHEADER, { { 0 } }, false },
    { { { "If-None-Match", "\"beef\", *" } }, 0, HCM_EBADHEADER, { { 0 } }, false },
    /* Both together, each to its own options. */
    { { { "If-None-Match", "\"02\"" }, { "If-Match", "\"01\"" } }, 0, 0,
      { IF_MATCH("\x01"), ETAG("\x02") }, true },
};

START_TEST(conditional_row)
{
    check_row(&conditionals[_i], "GET", "");
}
END_TEST

START_TEST(conditional_row_exhaustion)
{
    check_exhaustion(&conditionals[_i], "GET", "");
}
END_TEST

/* More tags than a CoAP message has room for: HCM_ENOSPACE, not a write past opts[]. */
START_TEST(too_many_tags)
{
    static _Alignas(8) uint8_t buf[ARENA_SIZE];
    char list[HCM_MAX_OPTIONS * 6 + 8] = "";
    hcm_header_t field = { "If-Match", list };
    hcm_http_req_t in = { .method = "GET", .target_uri = "coap://[::1]", .headers = &field,
                          .nheaders = 1 };
    hcm_arena_t arena;
    hcm_target_t target;
    hcm_coap_msg_t out;

    for (int i = 0; i <= HCM_MAX_OPTIONS; i++)
        strcat(list, "\"ab\",");
    hcm_arena_init(&arena, buf, sizeof(buf));
    ck_assert_int_eq(hcm_request_to_coap(&in, &arena, &target, &out, NULL), HCM_ENOSPACE);
}
END_TEST

/* ---- Via and CDN-Loop -> Hop-Limit (RFC 8768 s5, RFC 9110 s7.6.3, RFC 8586) ---------------- */

#define VIA5 "1.1 p, 1.1 p, 1.1 p, 1.1 p, 1.1 p"
#define VIA15 VIA5 ", " VIA5 ", " VIA5
#define VIA30 VIA15 ", " VIA15

static const row_t hops[] = {
    /* The configured value when the request has crossed no proxy; 0 inserts nothing. */
    { { { 0 } }, 16, 0, { HOP_LIMIT("\x10") }, false },
    { { { 0 } }, 1, 0, { HOP_LIMIT("\x01") }, false },
    { { { 0 } }, 255, 0, { HOP_LIMIT("\xff") }, false },
    { { { 0 } }, 0, 0, { { 0 } }, false },
    { { { "Via", "1.1 a" } }, 0, 0, { { 0 } }, false },
    { { { "Via", VIA30 } }, 0, 0, { { 0 } }, false },
    /* One less per entry of every Via and CDN-Loop field. */
    { { { "Via", "1.1 a" } }, 16, 0, { HOP_LIMIT("\x0f") }, false },
    { { { "Via", "1.1 a, 1.1 b" }, { "CDN-Loop", "cdn1" } }, 16, 0, { HOP_LIMIT("\x0d") }, false },
    { { { "Via", "1.0 fred, 1.1 p.example.net" }, { "Via", "1.1 c" }, { "CDN-Loop", "x, y" } },
      16, 0, { HOP_LIMIT("\x0b") }, false },
    /* Commas in comments and quoted strings separate nothing. */
    { { { "Via", "1.1 a (Apache, 2.4)" } }, 16, 0, { HOP_LIMIT("\x0f") }, false },
    { { { "Via", "1.1 a (x (y, z), w), 1.1 b" } }, 16, 0, { HOP_LIMIT("\x0e") }, false },
    { { { "Via", "1.1 a (x\\), y)" } }, 16, 0, { HOP_LIMIT("\x0f") }, false },
    { { { "CDN-Loop", "cdn1; x=\"a,b\", cdn2" } }, 16, 0, { HOP_LIMIT("\x0e") }, false },
    { { { "CDN-Loop", "cdn1; x=\"a\\\",b\"" } }, 16, 0, { HOP_LIMIT("\x0f") }, false },
    /* Empty elements do not count (RFC 9110 s5.6.1). */
    { { { "Via", " , 1.1 a, , 1.1 b, " } }, 16, 0, { HOP_LIMIT("\x0e") }, false },
    { { { "Via", "" }, { "CDN-Loop", " " } }, 16, 0, { HOP_LIMIT("\x10") }, false },
    /* The boundary: 16 with 15 entries leaves 1; with 16 the request must not go on (508). */
    { { { "Via", VIA15 } }, 16, 0, { HOP_LIMIT("\x01") }, false },
    { { { "Via", VIA15 ", 1.1 p" } }, 16, HCM_ELOOP, { { 0 } }, false },
    { { { "Via", VIA15 }, { "CDN-Loop", "c" } }, 16, HCM_ELOOP, { { 0 } }, false },
    { { { "Via", VIA30 } }, 16, HCM_ELOOP, { { 0 } }, false },
    { { { "Via", "1.1 a" } }, 1, HCM_ELOOP, { { 0 } }, false },
    { { { "Via", "1.1 a" } }, 2, 0, { HOP_LIMIT("\x01") }, false },
    /* The option is one byte: a larger configured value is sent as 255. */
    { { { 0 } }, 300, 0, { HOP_LIMIT("\xff") }, false },
    { { { "Via", VIA15 } }, 300, 0, { HOP_LIMIT("\xff") }, false },
    { { { "Via", VIA30 ", " VIA15 } }, 300, 0, { HOP_LIMIT("\xff") }, false },
    { { { "Via", VIA30 ", " VIA30 } }, 300, 0, { HOP_LIMIT("\xf0") }, false },
    /* Unbalanced comments and quotes. */
    { { { "Via", "1.1 a (x" } }, 16, HCM_EBADHEADER, { { 0 } }, false },
    { { { "Via", "1.1 a)" } }, 16, HCM_EBADHEADER, { { 0 } }, false },
    { { { "Via", "1.1 a (x\\" } }, 16, HCM_EBADHEADER, { { 0 } }, false },
    { { { "CDN-Loop", "cdn1; x=\"a" } }, 16, HCM_EBADHEADER, { { 0 } }, false },
};

START_TEST(hop_row)
{
    check_row(&hops[_i], "GET", "");
}
END_TEST

START_TEST(hop_row_exhaustion)
{
    check_exhaustion(&hops[_i], "GET", "");
}
END_TEST

/* ---- the errors' HTTP answers ----------------------------------------------------------------- */

START_TEST(error_statuses)
{
    ck_assert_uint_eq(hcm_err_status(HCM_EOBSERVEMETHOD), 400);
    ck_assert_uint_eq(hcm_err_status(HCM_ELOOP), 508); /* RFC 8768 s5 */
    ck_assert_uint_eq(hcm_err_status(HCM_EBADHEADER), 400);
}
END_TEST

static Suite *headers_suite(void)
{
    Suite *s = suite_create("headers");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, table_row, 0, HCM_COUNTOF(table));
    tcase_add_loop_test(tc, table_row_exhaustion, 0, HCM_COUNTOF(table));
    tcase_add_test(tc, def_sorted_unique_lower);
    tcase_add_loop_test(tc, def_row_tested, 0, HCM_COUNTOF(def_names));
    tcase_add_loop_test(tc, name_row, 0, HCM_COUNTOF(names));
    tcase_add_test(tc, name_null);
    tcase_add_loop_test(tc, accept_row, 0, HCM_COUNTOF(accepts));
    tcase_add_loop_test(tc, accept_row_exhaustion, 0, HCM_COUNTOF(accepts));
    tcase_add_loop_test(tc, conditional_row, 0, HCM_COUNTOF(conditionals));
    tcase_add_loop_test(tc, conditional_row_exhaustion, 0, HCM_COUNTOF(conditionals));
    tcase_add_test(tc, too_many_tags);
    tcase_add_loop_test(tc, hop_row, 0, HCM_COUNTOF(hops));
    tcase_add_loop_test(tc, hop_row_exhaustion, 0, HCM_COUNTOF(hops));
    tcase_add_test(tc, error_statuses);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(headers_suite());
}

/* OSCORE across HTTP (mapping/oscore.c, RFC 8613 s11), checked against the RFC 8613 Appendix C
 * vectors, the s5.4 and s6.3 examples, and their HTTP forms under s11.2 and s11.3. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hcm.h"
#include "run_suite.h"

#define COUNTOF(a) (sizeof(a) / sizeof((a)[0]))
#define ARENA_SIZE 8192

static uint8_t arena_buf[ARENA_SIZE];
static hcm_arena_t arena;

static void fresh_arena(void)
{
    hcm_arena_init(&arena, arena_buf, sizeof arena_buf);
}

/* "0914" -> bytes; the vectors are written in hex. */
static size_t unhex(const char *hex, uint8_t *out)
{
    size_t n = strlen(hex) / 2;

    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
    return n;
}

/* ---- the header field <-> the option (s11.2, s11.3; Appendix C and the s6.3 examples) -------- */

static const struct {
    const char *option_hex;
    const char *header;
} forms[] = {
    {"0914", "CRQ"},                                    /* C.4 */
    {"091400", "CRQA"},                                 /* C.5 */
    {"19140837cbf3210017a2d3", "GRQIN8vzIQAXotM"},      /* C.6 */
    {"", "AA"},                                         /* C.7: the empty option */
    {"0100", "AQA"},                                    /* C.8 */
    {"090525", "CQUl"},                                 /* s6.3 example 1 */
    {"0900", "CQA"},                                    /* s6.3 example 2 */
    {"19050544616c656b", "GQUFRGFsZWs"},                /* s6.3 example 3 */
    {"0107", "AQc"},                                    /* s6.3 example 5 */
    {"0925", "CSU"},                                    /* s11.5 illustration */
};

START_TEST(encodes_option)
{
    uint8_t bytes[64];
    size_t n = unhex(forms[_i].option_hex, bytes);

    fresh_arena();
    ck_assert_str_eq(hcm_oscore_header_encode((hcm_bytes_t){bytes, n}, &arena), forms[_i].header);
}
END_TEST

START_TEST(decodes_header)
{
    uint8_t bytes[64];
    size_t n = unhex(forms[_i].option_hex, bytes);
    hcm_bytes_t option;

    fresh_arena();
    ck_assert_int_eq(hcm_oscore_header_decode(forms[_i].header, &arena, &option), 0);
    ck_assert_uint_eq(option.len, n);
    ck_assert(n == 0 || memcmp(option.p, bytes, n) == 0);
}
END_TEST

/* Values to refuse with 400: not the canonical unpadded base64url that s11.1's ABNF asks for
 * (RFC 4648 s5, s3.5). */
static const char *const bad_headers[] = {
    "A",            /* length 1 mod 4 */
    "",             /* shorter than 2 */
    "AA==",         /* padding */
    "CR+Q",         /* base64, not base64url */
    "CR/Q",
    "CR Q",         /* white space */
    "AB",           /* non-zero pad bits: 0x00 spelt another way */
    "CRR",          /* likewise */
};

START_TEST(refuses_bad_header)
{
    hcm_bytes_t option;

    fresh_arena();
    ck_assert_int_eq(hcm_oscore_header_decode(bad_headers[_i], &arena, &option), HCM_EBADOSCORE);
}
END_TEST

/* s2: at most 255 bytes, which is 340 characters; 256 bytes (342) is too long. */
START_TEST(bounds_option_length)
{
    uint8_t bytes[256];
    hcm_bytes_t option;
    const char *text;
    char copy[400];

    memset(bytes, 0xa5, sizeof bytes);
    fresh_arena();
    text = hcm_oscore_header_encode((hcm_bytes_t){bytes, 255}, &arena);
    ck_assert_uint_eq(strlen(text), 340);
    ck_assert_int_eq(hcm_oscore_header_decode(text, &arena, &option), 0);
    ck_assert_uint_eq(option.len, 255);
    ck_assert(memcmp(option.p, bytes, 255) == 0);
    text = hcm_oscore_header_encode((hcm_bytes_t){bytes, 256}, &arena);
    strcpy(copy, text);
    ck_assert_int_eq(hcm_oscore_header_decode(copy, &arena, &option), HCM_EBADOSCORE);
}
END_TEST

/* ---- requests (s11.3) ------------------------------------------------------------------------ */

#define C4_BODY "612f1092f1776f1c1668b3825e"

/* The Appendix C.4 protected request through the default mapping (RFC 8075 s5.3). Uri-Host stays
 * (Class U), no Content-Format, no Hop-Limit (Class E by default), and nothing from the Class E
 * headers. */
START_TEST(maps_vector_request)
{
    uint8_t body[32];
    size_t body_len = unhex(C4_BODY, body);
    hcm_header_t headers[] = {
        {"Content-Type", "application/oscore"}, {"OSCORE", "CRQ"},
        {"Accept", "application/json"},         {"If-Match", "\"0a1b\""},
        {"Via", "1.1 a"},
    };
    hcm_http_req_t in = {.method = "POST", .target_uri = "coap://localhost/", .headers = headers,
                         .nheaders = COUNTOF(headers), .body = {body, body_len}, .hop_limit = 16};
    hcm_coap_msg_t out;
    hcm_target_t target;
    hcm_req_info_t info;

    fresh_arena();
    ck_assert_int_eq(hcm_request_to_coap(&in, &arena, &target, &out, &info), 0);
    ck_assert(info.is_oscore);
    ck_assert_uint_eq(out.code, 0x02);
    ck_assert_uint_eq(out.nopts, 2);
    ck_assert_uint_eq(out.opts[0].number, 3);
    ck_assert_uint_eq(out.opts[0].value.len, 9);
    ck_assert(memcmp(out.opts[0].value.p, "localhost", 9) == 0);
    ck_assert_uint_eq(out.opts[1].number, 9);
    ck_assert_uint_eq(out.opts[1].value.len, 2);
    ck_assert(memcmp(out.opts[1].value.p, "\x09\x14", 2) == 0);
    ck_assert_uint_eq(out.payload.len, body_len);
    ck_assert(memcmp(out.payload.p, body, body_len) == 0);
}
END_TEST

/* RFC 8613 s4.2, s4.1.3.5.1: an Observe registration's outer code is FETCH; it crosses HTTP as a
 * FETCH with the OSCORE header and becomes a CoAP FETCH with the OSCORE option and the ciphertext,
 * as a POST does. */
START_TEST(maps_fetch_request)
{
    uint8_t body[32];
    size_t body_len = unhex(C4_BODY, body);
    hcm_header_t headers[] = {{"Content-Type", "application/oscore"}, {"OSCORE", "CRQ"}};
    hcm_http_req_t in = {.method = "FETCH", .target_uri = "coap://localhost/", .headers = headers,
                         .nheaders = COUNTOF(headers), .body = {body, body_len}, .hop_limit = 16};
    hcm_coap_msg_t out;
    hcm_target_t target;
    hcm_req_info_t info;

    fresh_arena();
    ck_assert_int_eq(hcm_request_to_coap(&in, &arena, &target, &out, &info), 0);
    ck_assert(info.is_oscore);
    ck_assert_uint_eq(out.code, 0x05);
    ck_assert_uint_eq(out.nopts, 2);
    ck_assert_uint_eq(out.opts[1].number, 9);
    ck_assert_uint_eq(out.opts[1].value.len, 2);
    ck_assert(memcmp(out.opts[1].value.p, "\x09\x14", 2) == 0);
    ck_assert_uint_eq(out.payload.len, body_len);
    ck_assert(memcmp(out.payload.p, body, body_len) == 0);
}
END_TEST

static const struct {
    const char *method;
    const char *uri;
    const char *content_type; /* NULL: none */
    const char *oscore;       /* NULL: none */
    const char *body;
    int err;
} bad_requests[] = {
    {"GET", "coap://h/", "application/oscore", "CRQ", "x", HCM_EOSCOREMETHOD},
    {"PUT", "coap://h/", "application/oscore", "CRQ", "x", HCM_EOSCOREMETHOD},
    {"PATCH", "coap://h/", "application/oscore", "CRQ", "x", HCM_EOSCOREMETHOD},
    {"FETCH", "coap://h/", "application/oscore", "CRQ", "", HCM_EOSCOREEMPTY},
    {"FETCH", "coap://h/obs", "application/oscore", "CRQ", "x", HCM_EOSCOREPATH},
    {"POST", "coap://h/", NULL, "CRQ", "x", HCM_EOSCORETYPE},
    {"POST", "coap://h/", "application/octet-stream", "CRQ", "x", HCM_EOSCORETYPE},
    {"POST", "coap://h/", "application/oscore; x=1", "CRQ", "x", HCM_EOSCORETYPE},
    {"POST", "coap://h/", "application/oscore", NULL, "x", HCM_EOSCORETYPE},
    {"POST", "coap://h/", "application/oscore", "CRQ", "", HCM_EOSCOREEMPTY},
    {"POST", "coap://h/", "application/oscore", "CR+Q", "x", HCM_EBADOSCORE},
    {"POST", "coap://h/orders", "application/oscore", "CRQ", "x", HCM_EOSCOREPATH},
    {"POST", "coap://h/?q=1", "application/oscore", "CRQ", "x", HCM_EOSCOREPATH},
};

START_TEST(refuses_bad_request)
{
    hcm_header_t headers[2];
    size_t n = 0;
    hcm_coap_msg_t out;
    hcm_target_t target;

    if (bad_requests[_i].content_type != NULL)
        headers[n++] = (hcm_header_t){"Content-Type", bad_requests[_i].content_type};
    if (bad_requests[_i].oscore != NULL)
        headers[n++] = (hcm_header_t){"OSCORE", bad_requests[_i].oscore};
    hcm_http_req_t in = {
        .method = bad_requests[_i].method,
        .target_uri = bad_requests[_i].uri,
        .headers = headers,
        .nheaders = n,
        .body = {(const uint8_t *)bad_requests[_i].body, strlen(bad_requests[_i].body)},
        .hop_limit = 16,
    };
    fresh_arena();
    ck_assert_int_eq(hcm_request_to_coap(&in, &arena, &target, &out, NULL), bad_requests[_i].err);
}
END_TEST

START_TEST(refuses_two_oscore_headers)
{
    hcm_header_t headers[] = {
        {"Content-Type", "application/oscore"}, {"OSCORE", "CRQ"}, {"oscore", "CRQA"}};
    hcm_http_req_t in = {.method = "POST", .target_uri = "coap://h/", .headers = headers,
                         .nheaders = 3, .body = {(const uint8_t *)"x", 1}, .hop_limit = 16};
    hcm_coap_msg_t out;
    hcm_target_t target;

    fresh_arena();
    ck_assert_int_eq(hcm_request_to_coap(&in, &arena, &target, &out, NULL), HCM_EOSCORETYPE);
}
END_TEST

/* RFC 8768 still applies: the hop count is checked though no Hop-Limit is sent. */
START_TEST(detects_loop)
{
    hcm_header_t headers[] = {
        {"Content-Type", "application/oscore"}, {"OSCORE", "CRQ"}, {"Via", "1.1 a, 1.1 b"}};
    hcm_http_req_t in = {.method = "POST", .target_uri = "coap://h/", .headers = headers,
                         .nheaders = 3, .body = {(const uint8_t *)"x", 1}, .hop_limit = 2};
    hcm_coap_msg_t out;
    hcm_target_t target;

    fresh_arena();
    ck_assert_int_eq(hcm_request_to_coap(&in, &arena, &target, &out, NULL), HCM_ELOOP);
}
END_TEST

/* ---- responses (s11.2; the Appendix C.7 and C.8 protected responses) ------------------------- */

static const struct {
    uint8_t code;
    const char *option_hex;
    const char *payload_hex;
    const char *header; /* NULL: HCM_EBADRESPONSE */
} responses[] = {
    {0x44, "", "dbaad1e9a7e7b2a813d3c31524378303cdafae119106", "AA"},  /* C.7 */
    {0x44, "0100", "4d4c13669384b67354b2b6175ff4b8658c666a6cf88e", "AQA"}, /* C.8 */
    {0x45, "0107", "aea0155667924dff8a24e4cb35b9", "AQc"}, /* outer 2.05: a notification */
    {0x44, "", "", NULL},       /* s2: no payload, malformed */
    {0x81, "", "aa", NULL},     /* s11.1: the header exists only on a 200 */
    {0x41, "", "aa", NULL},
};

START_TEST(maps_response)
{
    uint8_t option[32], payload[64];
    size_t option_len = unhex(responses[_i].option_hex, option);
    size_t payload_len = unhex(responses[_i].payload_hex, payload);
    hcm_coap_msg_t in = {.code = responses[_i].code, .payload = {payload, payload_len}};
    hcm_http_resp_t out;

    fresh_arena();
    /* Outer Class E options mean nothing (s8.4 step 1): none may become a header. */
    hcm_coap_msg_add(&in, HCM_OPT_ETAG, (hcm_bytes_t){(const uint8_t *)"\x01", 1});
    hcm_coap_msg_add(&in, HCM_OPT_LOCATION_PATH, (hcm_bytes_t){(const uint8_t *)"x", 1});
    hcm_coap_msg_add(&in, HCM_OPT_OSCORE, (hcm_bytes_t){option, option_len});
    hcm_coap_msg_add(&in, HCM_OPT_CONTENT_FORMAT, (hcm_bytes_t){(const uint8_t *)"\x32", 1});
    if (responses[_i].header == NULL) {
        ck_assert_int_eq(hcm_response_to_http(&in, NULL, &arena, &out), HCM_EBADRESPONSE);
        return;
    }
    ck_assert_int_eq(hcm_response_to_http(&in, NULL, &arena, &out), 0);
    ck_assert_uint_eq(out.status, 200);
    ck_assert_uint_eq(out.nheaders, 3);
    ck_assert_str_eq(out.headers[0].name, "Content-Type");
    ck_assert_str_eq(out.headers[0].value, "application/oscore");
    ck_assert_str_eq(out.headers[1].name, "OSCORE");
    ck_assert_str_eq(out.headers[1].value, responses[_i].header);
    ck_assert_str_eq(out.headers[2].name, "Cache-Control");
    ck_assert_str_eq(out.headers[2].value, "no-cache");
    ck_assert_uint_eq(out.body.len, payload_len);
    ck_assert(memcmp(out.body.p, payload, payload_len) == 0);
}
END_TEST

/* s8.2, s8.3: an OSCORE error from the server is unprotected and maps like any response. */
START_TEST(maps_unprotected_error)
{
    hcm_coap_msg_t in = {.code = 0x81, .payload = {(const uint8_t *)"Replay detected", 15}};
    hcm_http_resp_t out;

    fresh_arena();
    ck_assert_int_eq(hcm_response_to_http(&in, NULL, &arena, &out), 0);
    ck_assert_uint_eq(out.status, 403);
    for (size_t i = 0; i < out.nheaders; i++)
        ck_assert_str_ne(out.headers[i].name, "OSCORE");
}
END_TEST

static Suite *oscore_suite(void)
{
    Suite *s = suite_create("oscore");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, encodes_option, 0, COUNTOF(forms));
    tcase_add_loop_test(tc, decodes_header, 0, COUNTOF(forms));
    tcase_add_loop_test(tc, refuses_bad_header, 0, COUNTOF(bad_headers));
    tcase_add_test(tc, bounds_option_length);
    tcase_add_test(tc, maps_vector_request);
    tcase_add_test(tc, maps_fetch_request);
    tcase_add_loop_test(tc, refuses_bad_request, 0, COUNTOF(bad_requests));
    tcase_add_test(tc, refuses_two_oscore_headers);
    tcase_add_test(tc, detects_loop);
    tcase_add_loop_test(tc, maps_response, 0, COUNTOF(responses));
    tcase_add_test(tc, maps_unprotected_error);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(oscore_suite());
}

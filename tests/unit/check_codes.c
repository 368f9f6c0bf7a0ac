/* hcm_status_from_code(), hcm_code_name() and hcm_code_from_status() (mapping/codes.c). */
#include <check.h>
#include <limits.h>
#include <stdlib.h>

#include "hcm.h"
#include "run_suite.h"

/* The 27 registered response codes with their names (RFC 7252 s12.1.2, RFC 7959 s2.9, RFC 8132 s6,
 * RFC 8516, RFC 8768 s6.1) and HTTP statuses (RFC 8075 s7 Table 2 and its notes; for the codes
 * newer than that table, the HTTP status of the same number and name, and 5.08 -> 508 from
 * RFC 8768 s5), one per code, as bytes on the wire. */
static const struct {
    uint8_t code;
    unsigned with_payload;
    unsigned without_payload;
    const char *name;
} codes[] = {
    { 0x41, 201, 201, "Created" },
    { 0x42, 200, 204, "Deleted" },  /* note 2 */
    { 0x43, 304, 304, "Valid" },    /* note 3 */
    { 0x44, 200, 204, "Changed" },  /* note 2 */
    { 0x45, 200, 200, "Content" },
    { 0x5f, 502, 502, "Continue" }, /* note 10: never sent to HTTP */
    { 0x80, 400, 400, "Bad Request" },
    { 0x81, 403, 403, "Unauthorized" }, /* note 5: never 401 */
    { 0x82, 500, 500, "Bad Option" },   /* note 6, not caused by a mapped header */
    { 0x83, 403, 403, "Forbidden" },
    { 0x84, 404, 404, "Not Found" },
    { 0x85, 400, 400, "Method Not Allowed" }, /* note 7 */
    { 0x86, 406, 406, "Not Acceptable" },
    { 0x88, 502, 502, "Request Entity Incomplete" }, /* note 10 */
    { 0x89, 409, 409, "Conflict" },
    { 0x8c, 412, 412, "Precondition Failed" },
    { 0x8d, 413, 413, "Request Entity Too Large" },
    { 0x8f, 415, 415, "Unsupported Content-Format" },
    { 0x96, 422, 422, "Unprocessable Entity" },
    { 0x9d, 429, 429, "Too Many Requests" },
    { 0xa0, 500, 500, "Internal Server Error" },
    { 0xa1, 501, 501, "Not Implemented" },
    { 0xa2, 502, 502, "Bad Gateway" },
    { 0xa3, 503, 503, "Service Unavailable" },
    { 0xa4, 504, 504, "Gateway Timeout" },
    { 0xa5, 502, 502, "Proxying Not Supported" }, /* note 9 */
    { 0xa8, 508, 508, "Hop Limit Reached" },      /* RFC 8768 s5 */
};

START_TEST(registered_code)
{
    ck_assert_uint_eq(hcm_status_from_code(codes[_i].code, true), codes[_i].with_payload);
    ck_assert_uint_eq(hcm_status_from_code(codes[_i].code, false),
                      codes[_i].without_payload);
    ck_assert_ptr_nonnull(hcm_code_name(codes[_i].code));
    ck_assert_str_eq(hcm_code_name(codes[_i].code), codes[_i].name);
}
END_TEST

/* Unregistered codes: the x00 of their class for 2, 4 and 5; 502 for everything that is not a
 * response an HTTP client can be given (requests, reserved classes, signaling). */
static const struct {
    uint8_t code;
    unsigned status;
} fallback[] = {
    { HCM_CODE(2, 0), 200 },  { HCM_CODE(2, 6), 200 },  { HCM_CODE(2, 30), 200 },
    { HCM_CODE(4, 7), 400 },  { HCM_CODE(4, 10), 400 }, { HCM_CODE(4, 14), 400 },
    { HCM_CODE(4, 31), 400 }, { HCM_CODE(5, 6), 500 },  { HCM_CODE(5, 7), 500 },
    { HCM_CODE(5, 31), 500 }, { HCM_CODE(0, 0), 502 },  { HCM_CODE(0, 1), 502 },
    { HCM_CODE(0, 7), 502 },  { HCM_CODE(1, 0), 502 },  { HCM_CODE(3, 0), 502 },
    { HCM_CODE(3, 31), 502 }, { HCM_CODE(6, 0), 502 },  { HCM_CODE(7, 1), 502 },
    { HCM_CODE(7, 31), 502 },
};

START_TEST(unregistered_code)
{
    ck_assert_uint_eq(hcm_status_from_code(fallback[_i].code, false), fallback[_i].status);
    ck_assert_uint_eq(hcm_status_from_code(fallback[_i].code, true), fallback[_i].status);
    ck_assert_ptr_null(hcm_code_name(fallback[_i].code));
}
END_TEST

/* Every byte: a valid HTTP status, and a name exactly for the registered codes. */
START_TEST(every_byte)
{
    uint8_t code = (uint8_t)_i;
    bool registered = false;
    unsigned status = hcm_status_from_code(code, _i % 2 == 0);

    for (size_t j = 0; j < HCM_COUNTOF(codes); j++)
        registered = registered || codes[j].code == code;
    ck_assert_uint_ge(status, 200);
    ck_assert_uint_le(status, 599);
    ck_assert_int_eq(hcm_code_name(code) != NULL, registered);
}
END_TEST

/* codes.c finds rows with bsearch(): its table must be sorted by code, each code once. */
static const uint8_t def_order[] = {
#define HCM_RESPONSE(c, dd, with, without, name) HCM_CODE(c, dd),
#include "codes.def"
#undef HCM_RESPONSE
};

START_TEST(table_sorted_and_unique)
{
    ck_assert_uint_eq(HCM_COUNTOF(def_order), HCM_COUNTOF(codes));
    for (size_t j = 1; j < HCM_COUNTOF(def_order); j++)
        ck_assert_uint_lt(def_order[j - 1], def_order[j]);
}
END_TEST

/* ---- HTTP status -> CoAP code (RFC 7252 s10.1; status.def) ---------------------------------- */

/* The CoAP code for each status, per request method: the success codes by method from RFC 7252
 * s10.1.1 to s10.1.4 and RFC 8132 s3, RFC 7252 s10.1.3 for DELETE of a resource that did not
 * exist, RFC 7959 s5 (408 -> 4.08, 413 -> 4.13), RFC 8768 s5 (508 -> 5.08), the codes named like
 * the status (409 -> 4.09, 422 -> 4.22, 429 -> 4.29), and Eclipse Californium's proxy2 defaults
 * for the rest. Codes as bytes on the wire:
 * 2.01 0x41, 2.02 0x42, 2.03 0x43, 2.04 0x44, 2.05 0x45, 4.xx 0x80 + dd, 5.xx 0xa0 + dd. */
static const struct {
    unsigned status;
    uint8_t get, post, put, del, fetch, patch, ipatch;
} by_status[] = {
    /*      GET   POST  PUT   DEL   FETCH PATCH iPATCH */
    { 100, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2 }, /* 1xx: 5.02 */
    { 101, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2 },
    { 103, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2 },
    { 199, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2 },
    { 200, 0x45, 0x44, 0x44, 0x42, 0x45, 0x44, 0x44 }, /* GET + 200 -> 2.05, POST + 200 -> 2.04 */
    { 201, 0x45, 0x41, 0x41, 0x42, 0x45, 0x41, 0x41 }, /* 2.01 where creation is possible */
    { 202, 0x45, 0x44, 0x44, 0x42, 0x45, 0x44, 0x44 },
    { 203, 0x45, 0x44, 0x44, 0x42, 0x45, 0x44, 0x44 },
    { 204, 0x45, 0x44, 0x44, 0x42, 0x45, 0x44, 0x44 }, /* 2.04 POST/PUT, 2.02 DELETE */
    { 205, 0x45, 0x44, 0x44, 0x42, 0x45, 0x44, 0x44 },
    { 206, 0x45, 0x44, 0x44, 0x42, 0x45, 0x44, 0x44 },
    { 207, 0x45, 0x44, 0x44, 0x42, 0x45, 0x44, 0x44 },
    { 226, 0x45, 0x44, 0x44, 0x42, 0x45, 0x44, 0x44 },
    { 299, 0x45, 0x44, 0x44, 0x42, 0x45, 0x44, 0x44 },
    { 300, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2 }, /* 300-303, 305, 307: 5.02 */
    { 301, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2 },
    { 302, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2 },
    { 303, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2 },
    { 304, 0x43, 0x43, 0x43, 0x43, 0x43, 0x43, 0x43 }, /* 2.03 */
    { 305, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2 },
    { 307, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2 },
    { 308, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2 },
    { 400, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80 },
    { 401, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81 },
    { 402, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80 },
    { 403, 0x83, 0x83, 0x83, 0x83, 0x83, 0x83, 0x83 },
    { 404, 0x84, 0x84, 0x84, 0x42, 0x84, 0x84, 0x84 }, /* DELETE: 2.02 (RFC 7252 s10.1.3) */
    { 405, 0x85, 0x85, 0x85, 0x85, 0x85, 0x85, 0x85 },
    { 406, 0x86, 0x86, 0x86, 0x86, 0x86, 0x86, 0x86 },
    { 407, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80 },
    { 408, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88 }, /* RFC 7959 s5 */
    { 409, 0x89, 0x89, 0x89, 0x89, 0x89, 0x89, 0x89 },
    { 410, 0x80, 0x80, 0x80, 0x42, 0x80, 0x80, 0x80 }, /* gone: DELETE as 404 */
    { 411, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80 },
    { 412, 0x8c, 0x8c, 0x8c, 0x8c, 0x8c, 0x8c, 0x8c },
    { 413, 0x8d, 0x8d, 0x8d, 0x8d, 0x8d, 0x8d, 0x8d }, /* RFC 7959 s5 */
    { 414, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80 },
    { 415, 0x8f, 0x8f, 0x8f, 0x8f, 0x8f, 0x8f, 0x8f },
    { 416, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80 },
    { 418, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80 },
    { 420, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80 },
    { 422, 0x96, 0x96, 0x96, 0x96, 0x96, 0x96, 0x96 },
    { 423, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80 },
    { 424, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80 },
    { 429, 0x9d, 0x9d, 0x9d, 0x9d, 0x9d, 0x9d, 0x9d },
    { 451, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80 },
    { 499, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80 },
    { 500, 0xa0, 0xa0, 0xa0, 0xa0, 0xa0, 0xa0, 0xa0 },
    { 501, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1 },
    { 502, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2 },
    { 503, 0xa3, 0xa3, 0xa3, 0xa3, 0xa3, 0xa3, 0xa3 },
    { 504, 0xa4, 0xa4, 0xa4, 0xa4, 0xa4, 0xa4, 0xa4 },
    { 505, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2 },
    { 506, 0xa0, 0xa0, 0xa0, 0xa0, 0xa0, 0xa0, 0xa0 },
    { 507, 0xa0, 0xa0, 0xa0, 0xa0, 0xa0, 0xa0, 0xa0 },
    { 508, 0xa8, 0xa8, 0xa8, 0xa8, 0xa8, 0xa8, 0xa8 }, /* RFC 8768 s5 */
    { 511, 0xa0, 0xa0, 0xa0, 0xa0, 0xa0, 0xa0, 0xa0 },
    { 599, 0xa0, 0xa0, 0xa0, 0xa0, 0xa0, 0xa0, 0xa0 },
    /* No HTTP status at all: the answer was not understood (RFC 7252 s10.1: 5.02). */
    { 0, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2 },
    { 99, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2 },
    { 600, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2 },
    { 999, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2 },
    { 2000, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2 },
    { UINT_MAX, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2 },
};

START_TEST(code_from_status)
{
    unsigned status = by_status[_i].status;

    ck_assert_uint_eq(hcm_code_from_status(status, 0x01), by_status[_i].get);
    ck_assert_uint_eq(hcm_code_from_status(status, 0x02), by_status[_i].post);
    ck_assert_uint_eq(hcm_code_from_status(status, 0x03), by_status[_i].put);
    ck_assert_uint_eq(hcm_code_from_status(status, 0x04), by_status[_i].del);
    ck_assert_uint_eq(hcm_code_from_status(status, 0x05), by_status[_i].fetch);
    ck_assert_uint_eq(hcm_code_from_status(status, 0x06), by_status[_i].patch);
    ck_assert_uint_eq(hcm_code_from_status(status, 0x07), by_status[_i].ipatch);
    /* A code that is no forwarded request answers as GET does. */
    ck_assert_uint_eq(hcm_code_from_status(status, 0x00), by_status[_i].get);
    ck_assert_uint_eq(hcm_code_from_status(status, 0x08), by_status[_i].get);
    ck_assert_uint_eq(hcm_code_from_status(status, 0xff), by_status[_i].get);
}
END_TEST

/* codes.c finds status.def rows with bsearch(): sorted by status, each once, and each one has a
 * row in by_status above, so that none goes untested. */
static const unsigned status_order[] = {
#define HCM_STATUS(status, get, post, put, del, patch) status,
#define HCM_STATUS_CLASS(class, get, post, put, del, patch)
#include "status.def"
#undef HCM_STATUS_CLASS
#undef HCM_STATUS
};

START_TEST(status_table_sorted_and_unique)
{
    for (size_t j = 1; j < HCM_COUNTOF(status_order); j++)
        ck_assert_uint_lt(status_order[j - 1], status_order[j]);
}
END_TEST

START_TEST(status_row_tested)
{
    bool is_tested = false;

    for (size_t j = 0; j < HCM_COUNTOF(by_status); j++)
        is_tested = is_tested || by_status[j].status == status_order[_i];
    ck_assert_msg(is_tested, "status.def row %u has no test", status_order[_i]);
}
END_TEST

/* Every number below 1000 a valid CoAP response code for every method: class 2, 4 or 5. */
START_TEST(every_status)
{
    for (unsigned status = 0; status < 1000; status++) {
        for (uint8_t method = 0; method <= 8; method++) {
            unsigned class = HCM_CODE_CLASS(hcm_code_from_status(status, method));

            ck_assert(class == 2 || class == 4 || class == 5);
        }
    }
}
END_TEST

static Suite *codes_suite(void)
{
    Suite *s = suite_create("codes");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, registered_code, 0, HCM_COUNTOF(codes));
    tcase_add_loop_test(tc, unregistered_code, 0, HCM_COUNTOF(fallback));
    tcase_add_loop_test(tc, every_byte, 0, 256);
    tcase_add_test(tc, table_sorted_and_unique);
    tcase_add_loop_test(tc, code_from_status, 0, HCM_COUNTOF(by_status));
    tcase_add_test(tc, status_table_sorted_and_unique);
    tcase_add_loop_test(tc, status_row_tested, 0, HCM_COUNTOF(status_order));
    tcase_add_test(tc, every_status);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(codes_suite());
}

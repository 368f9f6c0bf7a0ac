/* hcm_status_from_code() and hcm_code_name() (mapping/codes.c). */
#include <check.h>
#include <stdlib.h>

#include "hcm.h"

/* Spec digest A.2 (names) and E (RFC 8075 s7 Table 2 and the rows after it), one per code, as
 * bytes on the wire. */
static const struct {
    uint8_t code;
    unsigned with_payload;
    unsigned without_payload;
    const char *name;
} table_e[] = {
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
    ck_assert_uint_eq(hcm_status_from_code(table_e[_i].code, true), table_e[_i].with_payload);
    ck_assert_uint_eq(hcm_status_from_code(table_e[_i].code, false),
                      table_e[_i].without_payload);
    ck_assert_ptr_nonnull(hcm_code_name(table_e[_i].code));
    ck_assert_str_eq(hcm_code_name(table_e[_i].code), table_e[_i].name);
}
END_TEST

/* Codes outside A.2: the x00 of their class for 2, 4 and 5; 502 for everything that is not a
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

/* Every byte: a valid HTTP status, and a name exactly for the A.2 codes. */
START_TEST(every_byte)
{
    uint8_t code = (uint8_t)_i;
    bool registered = false;
    unsigned status = hcm_status_from_code(code, _i % 2 == 0);

    for (size_t j = 0; j < HCM_COUNTOF(table_e); j++)
        registered = registered || table_e[j].code == code;
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
    ck_assert_uint_eq(HCM_COUNTOF(def_order), HCM_COUNTOF(table_e));
    for (size_t j = 1; j < HCM_COUNTOF(def_order); j++)
        ck_assert_uint_lt(def_order[j - 1], def_order[j]);
}
END_TEST

static Suite *codes_suite(void)
{
    Suite *s = suite_create("codes");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, registered_code, 0, HCM_COUNTOF(table_e));
    tcase_add_loop_test(tc, unregistered_code, 0, HCM_COUNTOF(fallback));
    tcase_add_loop_test(tc, every_byte, 0, 256);
    tcase_add_test(tc, table_sorted_and_unique);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(codes_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

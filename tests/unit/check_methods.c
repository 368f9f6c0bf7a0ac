/* hcm_method_to_code() and hcm_method_from_code() (mapping/methods.c). */
#include <check.h>
#include <stdlib.h>

#include "hcm.h"
#include "run_suite.h"

/* RFC 7252 s12.1.1 and RFC 8132 s2, s3, HEAD as GET (RFC 7252 s10.2.3), and iPATCH also in
 * capitals, as clients that upper-case methods spell it (`curl -X IPATCH`). */
static const struct {
    const char *method;
    uint8_t code;
} mapped[] = {
    { "GET", 0x01 },   { "HEAD", 0x01 },  { "POST", 0x02 },   { "PUT", 0x03 },
    { "DELETE", 0x04 }, { "FETCH", 0x05 }, { "PATCH", 0x06 }, { "iPATCH", 0x07 },
    { "IPATCH", 0x07 },
};

START_TEST(method_maps)
{
    uint8_t code = 0xff;

    ck_assert_int_eq(hcm_method_to_code(mapped[_i].method, &code), 0);
    ck_assert_uint_eq(code, mapped[_i].code);
}
END_TEST

/* RFC 7252 s10.2.1 and s10.2.7 (OPTIONS, TRACE, CONNECT: 501), methods CoAP lacks, and method
 * tokens in the wrong case: RFC 9110 s9.1 makes them case-sensitive. */
static const char *const unmapped[] = {
    "OPTIONS", "TRACE", "CONNECT", "PROPFIND", "QUERY", "get", "Get", "post", "head",
    "patch", "ipatch", "Ipatch", "IPatch", "fetch", "Fetch", "GET ", " GET", "", "GETX",
};

START_TEST(method_refused)
{
    uint8_t code = 0xee;

    ck_assert_int_eq(hcm_method_to_code(unmapped[_i], &code), HCM_ENOMETHOD);
    ck_assert_uint_eq(code, 0xee); /* untouched on failure */
}
END_TEST

START_TEST(null_method_refused)
{
    uint8_t code = 0;

    ck_assert_int_eq(hcm_method_to_code(NULL, &code), HCM_ENOMETHOD);
    ck_assert_uint_eq(hcm_err_status(HCM_ENOMETHOD), 501);
}
END_TEST

/* The reverse direction (RFC 7252 s10.1): CoAP request code -> HTTP method. PATCH and iPATCH both
 * become HTTP PATCH (hcproxy's choice: no RFC maps them); FETCH has no HTTP method; response codes,
 * the Empty message and unassigned request codes are no methods. */
static const struct {
    uint8_t code;
    const char *method;
} from_code[] = {
    { 0x01, "GET" },  { 0x02, "POST" }, { 0x03, "PUT" },  { 0x04, "DELETE" },
    { 0x05, NULL },   { 0x06, "PATCH" }, { 0x07, "PATCH" }, { 0x00, NULL },
    { 0x08, NULL },   { 0x1f, NULL },   { 0x45, NULL },   { 0xff, NULL },
};

START_TEST(method_from_code)
{
    const char *method = hcm_method_from_code(from_code[_i].code);

    if (from_code[_i].method == NULL)
        ck_assert_ptr_null(method);
    else
        ck_assert_str_eq(method, from_code[_i].method);
}
END_TEST

static Suite *methods_suite(void)
{
    Suite *s = suite_create("methods");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, method_maps, 0, HCM_COUNTOF(mapped));
    tcase_add_loop_test(tc, method_refused, 0, HCM_COUNTOF(unmapped));
    tcase_add_test(tc, null_method_refused);
    tcase_add_loop_test(tc, method_from_code, 0, HCM_COUNTOF(from_code));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(methods_suite());
}

/* hcm_strerror() and hcm_err_status() (mapping/errors.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hcm.h"

/* The HTTP answer for each error, typed from the spec digest (sections D and M) and the
 * reasons the RFCs give. */
static const struct {
    int err;
    unsigned status;
} rows[] = {
    { HCM_ENOTPROXY, 404 },   /* outside the HC proxy path: not a proxy request at all */
    { HCM_EBADTARGET, 400 },  /* RFC 8075 s5.3.1: malformed target, 4xx */
    { HCM_ENOSCHEME, 400 },   /* RFC 8075 s5.3.1 */
    { HCM_EBADSCHEME, 400 },  /* RFC 7252 s6.4 step 3 */
    { HCM_EFRAGMENT, 400 },   /* RFC 7252 s6.4 step 4 */
    { HCM_EUSERINFO, 400 },
    { HCM_ENOHOST, 400 },
    { HCM_EZONEID, 400 },
    { HCM_EBADPORT, 400 },
    { HCM_EDOTSEGMENT, 400 },
    { HCM_ELONGOPTION, 400 },
    { HCM_ETRANSPORT, 501 },  /* RFC 7252 s10.2: unable to service the CoAP URI */
    { HCM_EHEADERS, 431 },    /* RFC 6585 s5: Request Header Fields Too Large */
    { HCM_EBADHEADER, 400 },  /* digest D: a malformed header that must map (If-Match, Via) */
    { HCM_ELOOP, 508 },       /* RFC 8768 s5: 508 Loop Detected */
    /* oscore-http.md 9.5 (GUIDANCE): malformed OSCORE framing is the client's error. */
    { HCM_EBADOSCORE, 400 },
    { HCM_EOSCORETYPE, 400 },
    { HCM_EOSCOREMETHOD, 400 },
    { HCM_EOSCOREEMPTY, 400 },
    { HCM_EOSCOREPATH, 400 },
    { HCM_EOBSERVE, 501 },    /* issue 3 item 6: Observe is not mapped */
    { HCM_ENOROUTE, 404 },    /* no named route: no such resource */
    { HCM_ERESPTOOLARGE, 502 }, /* RFC 7252 s10.2: the answer could not be processed */
    { HCM_EFORBIDDEN, 403 },  /* RFC 8075 s8.4, s10.4 */
    { HCM_ENOMETHOD, 501 },   /* RFC 7252 s10.2.1, s10.2.7 */
    { HCM_EMEDIA, 415 },      /* RFC 8075 s6.1 (SHALL) */
    { HCM_ETOOLARGE, 413 },
    { HCM_ERESOLVE, 502 },
    { HCM_EUNREACHABLE, 502 }, /* digest D: hard failure 502 */
    { HCM_ERESET, 502 },
    { HCM_EBADRESPONSE, 502 }, /* RFC 7252 s10.2: answer not understood */
    { HCM_ETIMEOUT, 504 },     /* RFC 8075 s8.5 */
    { HCM_EOVERLOAD, 503 },    /* RFC 8075 s8.1 */
    { HCM_ESHUTDOWN, 503 },
    { HCM_ENOSPACE, 500 },
    { HCM_EINTERNAL, 500 },
};


START_TEST(status_and_reason)
{
    const char *reason = hcm_strerror(rows[_i].err);

    ck_assert_uint_eq(hcm_err_status(rows[_i].err), rows[_i].status);
    ck_assert_ptr_nonnull(reason);
    ck_assert_uint_gt(strlen(reason), 0);
    ck_assert_str_ne(reason, "unknown error");
    /* The reason goes to the client in the status line or body: no line breaks. */
    ck_assert_ptr_null(strpbrk(reason, "\r\n"));
}
END_TEST

START_TEST(reasons_are_distinct)
{
    for (size_t j = 0; j < HCM_COUNTOF(rows); j++)
        if (j != (size_t)_i)
            ck_assert_str_ne(hcm_strerror(rows[_i].err), hcm_strerror(rows[j].err));
}
END_TEST

/* A new error in errors.def needs its row here: a run-time check, so that adding one never
 * breaks the build of those who do not run the tests. */
START_TEST(every_error_has_a_row)
{
    for (int err = HCM_EBASE + 1; err < HCM_ELAST; err++) {
        bool found = false;

        for (size_t j = 0; j < HCM_COUNTOF(rows); j++)
            found = found || rows[j].err == err;
        ck_assert_msg(found, "no test row for %d (%s)", err, hcm_strerror(err));
    }
}
END_TEST

/* nghttp2 style: our codes sit in [-999, -1], so they never meet libuv's small negative errno. */
START_TEST(codes_stay_in_their_range)
{
    ck_assert_int_gt(rows[_i].err, -1000);
    ck_assert_int_lt(rows[_i].err, 0);
}
END_TEST

static const int unknown[] = { 0, 1, -1, -4095, HCM_EBASE, HCM_ELAST, -2000, 12345 };

START_TEST(unknown_codes)
{
    ck_assert_str_eq(hcm_strerror(unknown[_i]), "unknown error");
    ck_assert_uint_eq(hcm_err_status(unknown[_i]), 500);
}
END_TEST

static Suite *errors_suite(void)
{
    Suite *s = suite_create("errors");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, status_and_reason, 0, HCM_COUNTOF(rows));
    tcase_add_loop_test(tc, reasons_are_distinct, 0, HCM_COUNTOF(rows));
    tcase_add_loop_test(tc, codes_stay_in_their_range, 0, HCM_COUNTOF(rows));
    tcase_add_test(tc, every_error_has_a_row);
    tcase_add_loop_test(tc, unknown_codes, 0, HCM_COUNTOF(unknown));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(errors_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* hcm_strerror(), hcm_err_status() and hcm_err_code() (mapping/errors.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hcm.h"
#include "run_suite.h"

/* The answers for each error, typed from the RFCs (RFC 7252 s10.1, s10.2; RFC 8075 s5.3.1, s7,
 * s8.1) and, where no RFC fixes a code, from mapping/errors.def's own choice: the HTTP status for
 * an HTTP client, the CoAP code (class, detail) for a CoAP client. */
static const struct {
    int err;
    unsigned status;
    unsigned coap_class, coap_detail;
} rows[] = {
    /* Not a proxy request: no such resource (RFC 7252 s5.9.2.5: 4.04). */
    { HCM_ENOTPROXY, 404, 4, 4 },
    /* RFC 8075 s5.3.1: malformed target, 4xx; RFC 7252 s5.9.2.1: 4.00 Bad Request. */
    { HCM_EBADTARGET, 400, 4, 0 },
    { HCM_ENOSCHEME, 400, 4, 0 },
    /* RFC 7252 s6.4 step 3; a scheme that cannot be proxied to: 5.05 (s5.7.2, s10.1). */
    { HCM_EBADSCHEME, 400, 5, 5 },
    { HCM_EFRAGMENT, 400, 4, 0 }, /* RFC 7252 s6.4 step 4 */
    { HCM_EUSERINFO, 400, 4, 0 },
    { HCM_ENOHOST, 400, 4, 0 },
    { HCM_EZONEID, 400, 4, 0 },
    { HCM_EBADPORT, 400, 4, 0 },
    { HCM_EDOTSEGMENT, 400, 4, 0 },
    { HCM_ELONGOPTION, 400, 4, 0 },
    /* RFC 7252 s10.2: unable to service the CoAP URI, 501; s10.1, s5.7.2: 5.05 Proxying Not
     * Supported. */
    { HCM_ETRANSPORT, 501, 5, 5 },
    /* RFC 6585 s5: 431; CoAP has no such code, and an origin's 431 becomes 4.00 (mapping/status.def). */
    { HCM_EHEADERS, 431, 4, 0 },
    { HCM_EHEADERROOM, 431, 4, 0 }, /* RFC 6585 s5: no room left for the answer (proxy/poolroom.c) */
    { HCM_EFRAMING, 400, 4, 0 },   /* RFC 9112 s6.3 items 3, 5: 400 and close */
    { HCM_EHOSTFIELD, 400, 4, 0 }, /* RFC 9112 s3.2: MUST respond 400 */
    { HCM_ECODING, 501, 5, 1 },    /* RFC 9112 s6.1: SHOULD respond 501 */
    { HCM_EPRECONDITION, 412, 4, 12 }, /* RFC 9110 s13.1.1; RFC 7252 s5.9.2.9 */
    { HCM_EBADHEADER, 400, 4, 0 }, /* RFC 8075 s5.3.1: a malformed header that must map (If-Match, Via) */
    /* RFC 7252 s5.4.1, s5.7.1: an unrecognized critical or unsafe option, 4.02. */
    { HCM_EBADOPTION, 400, 4, 2 },
    /* RFC 8768 s3: Hop-Limit 0 MUST be answered 4.00 Bad Request. */
    { HCM_EHOPLIMIT, 400, 4, 0 },
    { HCM_ELOOP, 508, 5, 8 }, /* RFC 8768 s5: 508 Loop Detected, 5.08 Hop Limit Reached */
    /* RFC 8613 s11.1, s11.5: malformed OSCORE framing is the client's error (hcproxy's choice: 400). */
    { HCM_EBADOSCORE, 400, 4, 0 },
    { HCM_EOSCORETYPE, 400, 4, 0 },
    { HCM_EOSCOREMETHOD, 400, 4, 0 },
    { HCM_EOSCOREEMPTY, 400, 4, 0 },
    { HCM_EOSCOREPATH, 400, 4, 0 },
    { HCM_EOBSERVEMETHOD, 400, 4, 0 },
    /* An HTTP client's Observe header for a stream (RFC 7641 s2: 0 or 1 only): 400; no stream
     * framing the client accepts: RFC 9110 s15.5.7, 406, as CoAP's 4.06 (RFC 7252 s5.9.2.7). */
    { HCM_EOBSERVEVALUE, 400, 4, 0 },
    { HCM_EOBSERVEACCEPT, 406, 4, 6 },
    { HCM_EOBSERVECONFLICT, 400, 4, 0 },
    { HCM_EOBSERVESTREAMS, 503, 5, 3 },
    { HCM_EOBSERVECLIENT, 429, 4, 29 },
    { HCM_EOBSERVERESOURCE, 503, 5, 3 },
    { HCM_ENOROUTE, 404, 4, 4 }, /* no named route: no such resource */
    /* RFC 7252 s10.2 and s10.1: the answer could not be processed, 502 and 5.02. */
    { HCM_ERESPTOOLARGE, 502, 5, 2 },
    { HCM_EFORBIDDEN, 403, 4, 3 }, /* RFC 8075 s8.4, s10.4; 4.03 Forbidden */
    { HCM_ENOTOKEN, 401, 4, 1 },      /* RFC 6750 s3 */
    { HCM_EBADTOKEN, 401, 4, 1 },
    { HCM_ERATELIMIT, 429, 4, 29 },   /* RFC 6585 s4; RFC 8516 4.29 */
    { HCM_ECLIENTCERT, 403, 4, 3 },
    { HCM_EMULTICAST, 403, 4, 3 },    /* RFC 8075 s10.4 */
    { HCM_ESELFLOOP, 508, 5, 8 },
    /* RFC 7252 s10.2.1, s10.2.7: 501; FETCH has no HTTP method: 5.01 (hcproxy's choice). */
    { HCM_ENOMETHOD, 501, 5, 1 },
    { HCM_EUNKNOWNMETHOD, 405, 4, 5 }, /* RFC 7252 s5.8: an unrecognized method code, 4.05 */
    { HCM_EMEDIA, 415, 4, 15 },   /* RFC 8075 s6.1 (SHALL); 4.15 for a CoAP client */
    { HCM_ETOOLARGE, 413, 4, 13 }, /* RFC 7959 s2.9.3: 4.13 Request Entity Too Large */
    { HCM_EBLOCKMISSING, 400, 4, 8 }, /* RFC 7959 s2.9.2: 4.08 Request Entity Incomplete */
    { HCM_EBLOCKSIZE, 400, 4, 0 },    /* RFC 7959 s2.2: a malformed Block1 */
    { HCM_EBLOCKRANGE, 400, 4, 2 },   /* RFC 7252 s5.9.2.3: no such block, a malformed option */
    { HCM_ETOKENINUSE, 400, 4, 0 },   /* RFC 7252 s5.3.1: a token reused while in flight */
    { HCM_ERESOLVE, 502, 5, 2 },
    { HCM_EUNREACHABLE, 502, 5, 2 }, /* RFC 7252 s10.1: the origin cannot be reached, Bad Gateway */
    { HCM_ERESET, 502, 5, 2 },
    { HCM_ENOCREDENTIALS, 502, 5, 2 },
    { HCM_ETLSVERIFY, 502, 5, 2 },    /* RFC 7252 s10.1: the origin could not be had */
    { HCM_ETLSHANDSHAKE, 502, 5, 2 },
    { HCM_EPROXYUNREACHABLE, 502, 5, 2 }, /* RFC 7252 s10.1: a hop to the origin failed */
    { HCM_EPROXYREFUSED, 502, 5, 2 },
    { HCM_EPROXYAUTH, 502, 5, 2 },
    { HCM_EBADRESPONSE, 502, 5, 2 }, /* RFC 7252 s10.1, s10.2: answer not understood */
    { HCM_EBLOCKCHANGED, 502, 5, 2 }, /* RFC 7959 s2.4: no stable representation to gather */
    { HCM_ETIMEOUT, 504, 5, 4 },     /* RFC 8075 s8.5; RFC 7252 s10.1 MUST: 5.04 */
    { HCM_EOVERLOAD, 503, 5, 3 },    /* RFC 8075 s8.1; 5.03 for a CoAP client */
    { HCM_ESHUTDOWN, 503, 5, 3 },
    { HCM_ENOSPACE, 500, 5, 0 },
    { HCM_ENOHTTPCLIENT, 500, 5, 0 }, /* hcproxy's own failure: 5.00 (RFC 7252 s5.9.3.1) */
    { HCM_EINTERNAL, 500, 5, 0 },
};

START_TEST(coap_code)
{
    uint8_t code = hcm_err_code(rows[_i].err);

    ck_assert_msg(HCM_CODE_CLASS(code) == rows[_i].coap_class &&
                      HCM_CODE_DETAIL(code) == rows[_i].coap_detail,
                  "%s: %u.%02u, want %u.%02u", hcm_strerror(rows[_i].err), HCM_CODE_CLASS(code),
                  HCM_CODE_DETAIL(code), rows[_i].coap_class, rows[_i].coap_detail);
    /* A proxy-generated answer is an error: 4.xx or 5.xx, never a success or a request. */
    ck_assert_uint_ge(HCM_CODE_CLASS(code), 4);
    ck_assert_uint_le(HCM_CODE_CLASS(code), 5);
}
END_TEST

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
    ck_assert_uint_eq(hcm_err_code(unknown[_i]), 0xa0); /* 5.00 */
}
END_TEST

static Suite *errors_suite(void)
{
    Suite *s = suite_create("errors");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, status_and_reason, 0, HCM_COUNTOF(rows));
    tcase_add_loop_test(tc, coap_code, 0, HCM_COUNTOF(rows));
    tcase_add_loop_test(tc, reasons_are_distinct, 0, HCM_COUNTOF(rows));
    tcase_add_loop_test(tc, codes_stay_in_their_range, 0, HCM_COUNTOF(rows));
    tcase_add_test(tc, every_error_has_a_row);
    tcase_add_loop_test(tc, unknown_codes, 0, HCM_COUNTOF(unknown));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(errors_suite());
}

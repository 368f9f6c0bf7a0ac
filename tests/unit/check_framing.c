/* hcm_framing_add() and hcm_framing_check() (mapping/framing.c): RFC 9112 s3.2, s6.1, s6.3. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hcm.h"
#include "run_suite.h"

/* A request's framing fields, "Name: value" a line, and the verdict for HTTP/1.1 and 1.0. */
static const struct {
    const char *clause;
    const char *fields[4];
    int http11, http10;
} rows[] = {
    { "s3.2 one Host, no body", { "Host: a" }, 0, 0 },
    { "s3.2 HTTP/1.1 without Host: MUST 400", { NULL }, HCM_EHOSTFIELD, 0 },
    { "s3.2 two Host lines: MUST 400", { "Host: a", "host: b" }, HCM_EHOSTFIELD, HCM_EHOSTFIELD },
    { "s3.2 two identical Host lines", { "Host: a", "Host: a" }, HCM_EHOSTFIELD, HCM_EHOSTFIELD },
    { "s6.2 Content-Length alone", { "Host: a", "Content-Length: 12" }, 0, 0 },
    { "s6.3 Content-Length twice, same value", { "Host: a", "Content-Length: 5", "content-length: 5" }, 0, 0 },
    { "s6.3 Content-Length twice, different", { "Host: a", "Content-Length: 5", "Content-Length: 6" }, HCM_EFRAMING, HCM_EFRAMING },
    { "s6.3 Content-Length as a list", { "Host: a", "Content-Length: 5, 5" }, HCM_EFRAMING, HCM_EFRAMING },
    { "s6.3 Content-Length with a sign", { "Host: a", "Content-Length: +5" }, HCM_EFRAMING, HCM_EFRAMING },
    { "s6.3 Content-Length empty", { "Host: a", "Content-Length: " }, HCM_EFRAMING, HCM_EFRAMING },
    { "s6.1 chunked", { "Host: a", "Transfer-Encoding: chunked" }, 0, HCM_EFRAMING },
    { "s6.1 chunked in capitals, with spaces", { "Host: a", "Transfer-Encoding:  CHUNKED " }, 0, HCM_EFRAMING },
    { "s6.3 Transfer-Encoding beside Content-Length", { "Host: a", "Content-Length: 4", "Transfer-Encoding: chunked" }, HCM_EFRAMING, HCM_EFRAMING },
    { "s6.3 ... in the other order", { "Host: a", "Transfer-Encoding: chunked", "Content-Length: 4" }, HCM_EFRAMING, HCM_EFRAMING },
    { "s6.1 two Transfer-Encoding lines", { "Host: a", "Transfer-Encoding: chunked", "Transfer-Encoding: chunked" }, HCM_EFRAMING, HCM_EFRAMING },
    { "s6.1 chunked not last: 400", { "Host: a", "Transfer-Encoding: chunked, gzip" }, HCM_EFRAMING, HCM_EFRAMING },
    { "s6.1 a coding before chunked: 501", { "Host: a", "Transfer-Encoding: gzip, chunked" }, HCM_ECODING, HCM_EFRAMING },
    { "s6.1 an unknown coding alone", { "Host: a", "Transfer-Encoding: identity" }, HCM_EFRAMING, HCM_EFRAMING },
    { "s6.1 a near miss of chunked", { "Host: a", "Transfer-Encoding: xchunked" }, HCM_EFRAMING, HCM_EFRAMING },
};

static int verdict(size_t row, bool is_http11)
{
    hcm_framing_t f = {0};
    char name[64];

    for (size_t i = 0; i < 4 && rows[row].fields[i] != NULL; i++) {
        const char *colon = strchr(rows[row].fields[i], ':');
        snprintf(name, sizeof name, "%.*s", (int)(colon - rows[row].fields[i]), rows[row].fields[i]);
        hcm_framing_add(&f, name, colon + 2);
    }
    return hcm_framing_check(&f, is_http11);
}

START_TEST(framing_rows)
{
    ck_assert_msg(verdict((size_t)_i, true) == rows[_i].http11, "HTTP/1.1: %s", rows[_i].clause);
    ck_assert_msg(verdict((size_t)_i, false) == rows[_i].http10, "HTTP/1.0: %s", rows[_i].clause);
}
END_TEST

static Suite *framing_suite(void)
{
    Suite *s = suite_create("framing");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, framing_rows, 0, (int)(sizeof rows / sizeof rows[0]));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(framing_suite());
}

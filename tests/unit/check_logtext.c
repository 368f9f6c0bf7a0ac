/* The text behind hcproxy's JSON log lines (proxy/logtext.c): escaping that keeps every line
 * valid JSON in valid UTF-8, and the redaction of what may carry a secret. */
#include <check.h>
#include <string.h>

#include "logtext.h"
#include "run_suite.h"
#include "text.h"

static char buf[1024];

static const char *json(const char *s, size_t n)
{
    hcp_text_t t;

    hcp_text_init(&t, buf, sizeof buf);
    hcp_text_json(&t, s, n);
    return buf;
}

static const char *redacted(const char *uri)
{
    hcp_text_t t;

    hcp_text_init(&t, buf, sizeof buf);
    hcp_logtext_redacted_uri(&t, uri);
    return buf;
}

static const char *redacted_pdu(const char *dump)
{
    hcp_text_t t;

    hcp_text_init(&t, buf, sizeof buf);
    hcp_logtext_redacted_pdu(&t, dump);
    return buf;
}

START_TEST(escapes_quotes_and_controls)
{
    ck_assert_str_eq(json("a\"b\\c\n\x01\x7f", 8), "a\\\"b\\\\c\\u000a\\u0001\\u007f");
}
END_TEST

/* Valid UTF-8 passes; a lone 0xff, a truncated sequence, an overlong form and a surrogate are
 * written byte by byte as escapes, so the line stays valid UTF-8. */
START_TEST(invalid_utf8_is_escaped)
{
    ck_assert_str_eq(json("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14),
                     "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    ck_assert_str_eq(json("a\xff" "b", 3), "a\\u00ffb");
    ck_assert_str_eq(json("\xe2\x82", 2), "\\u00e2\\u0082");
    ck_assert_str_eq(json("\xc0\xaf", 2), "\\u00c0\\u00af");
    ck_assert_str_eq(json("\xed\xa0\x80", 3), "\\u00ed\\u00a0\\u0080");
}
END_TEST

START_TEST(cut_is_flagged)
{
    char small[8];
    hcp_text_t t;

    hcp_text_init(&t, small, sizeof small);
    hcp_text_add(&t, "0123456789", 10);
    ck_assert(t.cut);
    ck_assert_str_eq(small, "0123456");
}
END_TEST

/* A URI as logged: query values, userinfo and the same encoded are redacted. */
static const struct {
    const char *uri, *logged;
} redactions[] = {
    /* query values */
    { "/metrics?access_token=s3cret", "/metrics?access_token=REDACTED" },
    { "/hc/coap://h/p?a=1&b=2;c&d=", "/hc/coap://h/p?a=REDACTED&b=REDACTED;c&d=REDACTED" },
    { "/hc/coap://h/p?a=1#frag", "/hc/coap://h/p?a=REDACTED#frag" },
    { "/hc/coap://h/p", "/hc/coap://h/p" },
    { "/x?a=1%26b%3D2", "/x?a=REDACTED" }, /* a raw query's encoded '&' belongs to the value */
    /* an encoded query */
    { "/hc/coap%3A%2F%2Fh%2Fp%3Ftoken%3Dabc%26x%3dy",
      "/hc/coap%3A%2F%2Fh%2Fp%3Ftoken%3DREDACTED%26x%3dREDACTED" },
    /* RFC 8075 s5.4.1: the target_uri parameter is the target, whose own query is redacted. */
    { "/hc/?target_uri=coap://h/p?k=v&w=z", "/hc/?target_uri=coap://h/p?k=REDACTED&w=REDACTED" },
    /* a target_uri in a target_uri's query, userinfo at each level, a fragment after it; the
     * same encoded; and one with no value at all */
    { "/hc/?a=1&target_uri=coap://u:p@h/p?target_uri=http://x:y@h2/q?s=1&k=v#f",
      "/hc/?a=REDACTED&target_uri=coap://REDACTED@h/p?target_uri="
      "http://REDACTED@h2/q?s=REDACTED&k=REDACTED#f" },
    { "/hc/?target_uri=coap%3A%2F%2Fu%40h%2Fp%3Fk%3Dv&z=1",
      "/hc/?target_uri=coap%3A%2F%2FREDACTED%40h%2Fp%3Fk%3DREDACTED&z=REDACTED" },
    { "/hc/?target_uri=", "/hc/?target_uri=" },
    { "/hc/?target_uri=coap://h/p#frag?k=v", "/hc/?target_uri=coap://h/p#frag?k=REDACTED" },
    /* userinfo */
    { "/hc/coap://user:pw@h:5683/p", "/hc/coap://REDACTED@h:5683/p" },
    { "http://a@b@h/p?q", "http://REDACTED@h/p?q" },
    { "/hc/coap%3A%2F%2Fu%40h%2Fp", "/hc/coap%3A%2F%2FREDACTED%40h%2Fp" },
    { "http://h/p@x", "http://h/p@x" },
};

START_TEST(uri_is_redacted)
{
    ck_assert_str_eq(redacted(redactions[_i].uri), redactions[_i].logged);
}
END_TEST

START_TEST(pdu_dump_is_redacted)
{
    ck_assert_str_eq(
        redacted_pdu("v:1 t:CON c:GET i:72ce {01} [ Uri-Path:time, Uri-Query:tok=a, b, "
                     "Uri-Query:x, Proxy-Uri:http://u:p@h/x?secret=1 ] :: 'Uri-Query:k=v'"),
        "v:1 t:CON c:GET i:72ce {01} [ Uri-Path:time, Uri-Query:tok=REDACTED, b, "
        "Uri-Query:x, Proxy-Uri:http://REDACTED@h/x?secret=REDACTED ] :: 'REDACTED'");
    ck_assert_str_eq(redacted_pdu("<<fffe01>>"), "<<REDACTED>>");
    ck_assert_str_eq(redacted_pdu("v:1 t:CON c:PUT i:72cf {} [ Uri-Path:d ] :: binary data length 3"),
                     "v:1 t:CON c:PUT i:72cf {} [ Uri-Path:d ] :: binary data length 3");
    ck_assert_str_eq(redacted_pdu("v:1 t:ACK c:2.01 i:72cf {} [ Location-Query:id=7 ]"),
                     "v:1 t:ACK c:2.01 i:72cf {} [ Location-Query:id=REDACTED ]");
}
END_TEST

START_TEST(request_ids)
{
    ck_assert(hcp_logtext_request_id_ok("abc-123_x.y:z", 128));
    ck_assert(!hcp_logtext_request_id_ok("", 128));
    ck_assert(!hcp_logtext_request_id_ok("a b", 128));
    ck_assert(!hcp_logtext_request_id_ok("a\"b", 128));
    ck_assert(!hcp_logtext_request_id_ok("abcd", 3));
    ck_assert(hcp_logtext_traceparent_ok(
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"));
    ck_assert(!hcp_logtext_traceparent_ok(
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-x"));
    ck_assert(hcp_logtext_traceparent_ok(
        "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-x"));
    ck_assert(!hcp_logtext_traceparent_ok(
        "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"));
    ck_assert(!hcp_logtext_traceparent_ok(
        "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01"));
    ck_assert(!hcp_logtext_traceparent_ok("00-0af7651916cd43dd-b7ad6b7169203331-01"));
}
END_TEST

static Suite *logtext_suite(void)
{
    Suite *s = suite_create("logtext");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, escapes_quotes_and_controls);
    tcase_add_test(tc, invalid_utf8_is_escaped);
    tcase_add_test(tc, cut_is_flagged);
    tcase_add_loop_test(tc, uri_is_redacted, 0, sizeof redactions / sizeof redactions[0]);
    tcase_add_test(tc, pdu_dump_is_redacted);
    tcase_add_test(tc, request_ids);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(logtext_suite());
}

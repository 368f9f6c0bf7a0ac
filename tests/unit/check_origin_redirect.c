/* hcm_origin_redirect() (mapping/origin_redirect.c): which origin answers hcproxy follows, and
 * where to (RFC 9110 s10.2.2, s15.4; RFC 3986 s5 for relative references). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "hcm.h"
#include "run_suite.h"

#define ARENA_SIZE 4096

typedef struct row {
    unsigned status;
    const char *location;  /* NULL: no Location field */
    const char *location2; /* a second Location field, or NULL */
    const char *from;      /* the request's URL */
    int want;              /* 1, 0 or an error */
    const char *url, *scheme, *host; /* what a followed redirect asks for */
    uint16_t port;
} row_t;

#define FOLLOWED(status, from, location, url, scheme, host, port) \
    { status, location, NULL, from, 1, url, scheme, host, port }
#define NOT_FOLLOWED(status, location, from) { status, location, NULL, from, 0, NULL, NULL, NULL, 0 }
#define REFUSED(status, location, location2, err) \
    { status, location, location2, "http://a.example/", err, NULL, NULL, NULL, 0 }

static const row_t rows[] = {
    /* 307 and 308 keep method and body: followed. */
    FOLLOWED(307, "http://a.example/old", "http://b.example/new",
             "http://b.example/new", "http", "b.example", 80),
    FOLLOWED(308, "http://a.example/old", "https://B.Example:8443/x?q=1",
             "https://b.example:8443/x?q=1", "https", "b.example", 8443),
    /* Relative references resolve against the request's URL (RFC 3986 s5.4). */
    FOLLOWED(307, "http://a.example:8080/old/x?y", "/abs/path",
             "http://a.example:8080/abs/path", "http", "a.example", 8080),
    FOLLOWED(307, "http://a.example/dir/old", "sibling",
             "http://a.example/dir/sibling", "http", "a.example", 80),
    FOLLOWED(308, "https://a.example/a/b/c", "../up?k=v",
             "https://a.example/a/up?k=v", "https", "a.example", 443),
    FOLLOWED(307, "https://a.example/", "//c.example/p",
             "https://c.example/p", "https", "c.example", 443),
    FOLLOWED(307, "http://a.example/p", "?only=query",
             "http://a.example/p?only=query", "http", "a.example", 80),
    FOLLOWED(307, "http://a.example/", "http://[::1]:9000/v6",
             "http://[::1]:9000/v6", "http", "::1", 9000),
    /* The fragment never travels (RFC 9112 s3.2). */
    FOLLOWED(308, "http://a.example/", "/frag#part",
             "http://a.example/frag", "http", "a.example", 80),
    /* Redirects that may change the method, and every other status: not followed. */
    NOT_FOLLOWED(301, "http://b.example/", "http://a.example/"),
    NOT_FOLLOWED(302, "http://b.example/", "http://a.example/"),
    NOT_FOLLOWED(303, "http://b.example/", "http://a.example/"),
    NOT_FOLLOWED(200, "http://b.example/", "http://a.example/"),
    NOT_FOLLOWED(304, NULL, "http://a.example/"),
    /* A redirect hcproxy cannot follow. */
    REFUSED(307, NULL, NULL, HCM_EBADRESPONSE),
    REFUSED(307, "", NULL, HCM_EBADRESPONSE),
    REFUSED(307, "http://b.example/", "http://c.example/", HCM_EBADRESPONSE),
    REFUSED(307, "http://b.example/a b", NULL, HCM_EBADRESPONSE),
    REFUSED(307, "http://b.example:99999/", NULL, HCM_EBADRESPONSE),
    REFUSED(307, "http://user@b.example/", NULL, HCM_EBADRESPONSE),
    REFUSED(307, "http:///nohost", NULL, HCM_EBADRESPONSE),
    REFUSED(307, "http://%zz/", NULL, HCM_EBADRESPONSE),
    REFUSED(308, "ftp://b.example/file", NULL, HCM_ETRANSPORT),
    REFUSED(308, "coap://b.example/", NULL, HCM_ETRANSPORT),
};

static size_t headers_of(const row_t *row, hcm_header_t headers[3])
{
    size_t n = 0;

    headers[n++] = (hcm_header_t){ "Content-Length", "0" };
    if (row->location != NULL)
        headers[n++] = (hcm_header_t){ "location", row->location };
    if (row->location2 != NULL)
        headers[n++] = (hcm_header_t){ "Location", row->location2 };
    return n;
}

static void request_of(const row_t *row, hcm_origin_req_t *req)
{
    static const uint8_t body[] = "reading=21.5";

    memset(req, 0, sizeof *req);
    req->method = "POST";
    req->url = row->from;
    req->headers[0] = (hcm_header_t){ "Content-Type", "text/plain" };
    req->nheaders = 1;
    req->body = (hcm_bytes_t){ body, sizeof body - 1 };
    req->info.code = HCM_CODE(0, 2);
}

static int redirect(const row_t *row, hcm_arena_t *arena, hcm_origin_req_t *req,
                    hcm_origin_req_t *out)
{
    hcm_header_t headers[3];
    size_t n = headers_of(row, headers);

    request_of(row, req);
    return hcm_origin_redirect(row->status, headers, n, req, arena, out);
}

START_TEST(redirect_rows)
{
    static _Alignas(8) uint8_t buf[ARENA_SIZE];
    const row_t *row = &rows[_i];
    hcm_origin_req_t req, out;
    hcm_arena_t arena;

    hcm_arena_init(&arena, buf, sizeof buf);
    ck_assert_int_eq(redirect(row, &arena, &req, &out), row->want);
    if (row->want != 1)
        return;
    ck_assert_str_eq(out.url, row->url);
    ck_assert_str_eq(out.scheme, row->scheme);
    ck_assert_str_eq(out.host, row->host);
    ck_assert_uint_eq(out.port, row->port);
    /* The same request, somewhere else. */
    ck_assert_str_eq(out.method, "POST");
    ck_assert_uint_eq(out.nheaders, 1);
    ck_assert_str_eq(out.headers[0].value, "text/plain");
    ck_assert_ptr_eq(out.body.p, req.body.p);
    ck_assert_uint_eq(out.body.len, req.body.len);
    ck_assert_uint_eq(out.info.code, req.info.code);
}
END_TEST

/* Every arena smaller than a redirect needs gives HCM_ENOSPACE, never a crash. */
START_TEST(redirect_arena_exhaustion)
{
    const row_t *row = &rows[_i];
    hcm_origin_req_t req, out;
    size_t need;

    if (row->want != 1)
        return;
    ARENA_EXHAUSTION_RUN_IF(need, ARENA_SIZE, arena, redirect(row, arena, &req, &out), 1, true);
}
END_TEST

static Suite *origin_redirect_suite(void)
{
    Suite *s = suite_create("origin_redirect");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, redirect_rows, 0, sizeof rows / sizeof rows[0]);
    tcase_add_loop_test(tc, redirect_arena_exhaustion, 0, sizeof rows / sizeof rows[0]);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(origin_redirect_suite());
}

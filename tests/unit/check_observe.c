/* Observe across HTTP, the pure part (mapping/observe.c): the order of notifications (RFC 7641
 * s3.4), the Observe header and the stream a request asks for, server-sent events (WHATWG HTML
 * s9.2) and multipart/mixed of application/http (RFC 2046 s5.1, RFC 9112 s10.2). */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "hcm.h"
#include "run_suite.h"

#define ARENA_SIZE 4096
#define S_PER_NS 1000000000ull
#define HALF (1u << 23)

/* Bytes from a string literal, NULs included. */
#define BYTES(s) { (const uint8_t *)(s), sizeof(s) - 1 }

/* A fresh arena of ARENA_SIZE bytes (each test runs in a process of its own). */
static hcm_arena_t *fresh_arena(void)
{
    static _Alignas(8) uint8_t buf[ARENA_SIZE];
    static hcm_arena_t arena;

    hcm_arena_init(&arena, buf, sizeof buf);
    return &arena;
}

/* ---- RFC 7641 s3.4 -------------------------------------------------------------------------- */

static const struct newer_row {
    uint32_t v1;
    uint64_t t1;
    uint32_t v2;
    uint64_t t2;
    bool newer;
} newer_rows[] = {
    /* V1 < V2 and V2 - V1 < 2^23. */
    { 1, 0, 2, 0, true },
    { 0, 0, HALF - 1, 0, true },
    { 0, 0, HALF, 0, false }, /* exactly 2^23 apart: neither condition */
    { 5, 0, 5, 0, false },    /* equal values */
    /* V1 > V2 and V1 - V2 > 2^23: the values wrapped around. */
    { 2, 0, 1, 0, false },
    { HALF, 0, 0, 0, false },
    { HALF + 1, 0, 0, 0, true },
    { 0xffffff, 0, 0, 0, true },
    { 0xfffff0, 0, 0x10, 0, true },
    { 0, 0, 0xffffff, 0, false },
    /* 24-bit values: the bits above are not part of the option (s2). */
    { 0x1000001, 0, 2, 0, true },
    { 1, 0, 0x1000000, 0, false },
    { 0xff000005, 0, 0x00000005, 0, false },
    /* T2 > T1 + 128 s makes any value newer, and only strictly beyond 128 s. */
    { 10, 0, 9, 128 * S_PER_NS, false },
    { 10, 0, 9, 128 * S_PER_NS + 1, true },
    { 10, 5 * S_PER_NS, 9, 133 * S_PER_NS + 1, true },
    { 10, 5 * S_PER_NS, 10, 133 * S_PER_NS + 1, true }, /* even the same value */
    { 0, 0, HALF, 200 * S_PER_NS, true },
    /* T2 before T1 is no later notification; no sum wraps around near the clock's end. */
    { 10, 200 * S_PER_NS, 9, 0, false },
    { 10, UINT64_MAX - 5, 9, 3, false },
    { 10, UINT64_MAX - 128 * S_PER_NS - 1, 9, UINT64_MAX, true },
    { 10, UINT64_MAX - 128 * S_PER_NS, 9, UINT64_MAX, false },
};

START_TEST(observe_is_newer)
{
    const struct newer_row *r = &newer_rows[_i];

    ck_assert_msg(hcm_observe_is_newer(r->v1, r->t1, r->v2, r->t2) == r->newer,
                  "row %d: (%u, %llu) -> (%u, %llu)", _i, (unsigned)r->v1,
                  (unsigned long long)r->t1, (unsigned)r->v2, (unsigned long long)r->t2);
}
END_TEST

/* Within 128 s, of two different values that are not 2^23 apart exactly one is newer: the order
 * is a total one on each half circle. */
START_TEST(observe_order_is_antisymmetric)
{
    uint32_t x = 12345;

    for (int i = 0; i < 100000; i++) {
        uint32_t v1, v2;

        x = x * 1103515245u + 12345u;
        v1 = x & 0xffffff;
        x = x * 1103515245u + 12345u;
        v2 = (i % 2 == 0 ? x : v1 + (x & 0xff)) & 0xffffff;
        if (v1 == v2 || (v1 > v2 ? v1 - v2 : v2 - v1) == HALF)
            continue;
        ck_assert_int_ne(hcm_observe_is_newer(v1, 7, v2, 7), hcm_observe_is_newer(v2, 7, v1, 7));
    }
}
END_TEST

/* ---- the Observe header (RFC 7641 s2) ------------------------------------------------------- */

static const struct header_row {
    const char *value;
    int err;
    unsigned action;
} header_rows[] = {
    { "0", 0, HCM_OBSERVE_REGISTER },
    { "1", 0, HCM_OBSERVE_DEREGISTER },
    { "", HCM_EOBSERVEVALUE, 0 },
    { NULL, HCM_EOBSERVEVALUE, 0 },
    { " 0", HCM_EOBSERVEVALUE, 0 },
    { "0 ", HCM_EOBSERVEVALUE, 0 },
    { "0\t", HCM_EOBSERVEVALUE, 0 },
    { "00", HCM_EOBSERVEVALUE, 0 },
    { "01", HCM_EOBSERVEVALUE, 0 },
    { "10", HCM_EOBSERVEVALUE, 0 },
    { "2", HCM_EOBSERVEVALUE, 0 },
    { "16777215", HCM_EOBSERVEVALUE, 0 },
    { "-0", HCM_EOBSERVEVALUE, 0 },
    { "+1", HCM_EOBSERVEVALUE, 0 },
    { "0x0", HCM_EOBSERVEVALUE, 0 },
    { "O", HCM_EOBSERVEVALUE, 0 },
    { "0, 0", HCM_EOBSERVEVALUE, 0 },
    { "register", HCM_EOBSERVEVALUE, 0 },
    { "\xd9\xa0", HCM_EOBSERVEVALUE, 0 }, /* ARABIC-INDIC DIGIT ZERO */
};

START_TEST(observe_header)
{
    const struct header_row *r = &header_rows[_i];
    unsigned action = 77;

    ck_assert_int_eq(hcm_observe_header(r->value, &action), r->err);
    ck_assert_uint_eq(action, r->err == 0 ? r->action : 77);
    if (r->err != 0) {
        /* The reason is the 400's body: one line. */
        ck_assert_uint_eq(hcm_err_status(r->err), 400);
        ck_assert_ptr_null(strpbrk(hcm_strerror(r->err), "\r\n"));
    }
}
END_TEST

/* ---- which stream a request asks for -------------------------------------------------------- */

#define MAX_FIELDS 4

static const struct stream_row {
    hcm_header_t fields[MAX_FIELDS];
    int err;
    hcm_stream_t stream;
} stream_rows[] = {
    /* No Observe field: an event stream only when text/event-stream is named and preferred. */
    { { { 0 } }, 0, HCM_STREAM_NONE },
    { { { "Accept", "text/event-stream" } }, 0, HCM_STREAM_SSE },
    { { { "accept", "TEXT/Event-Stream" } }, 0, HCM_STREAM_SSE },
    { { { "Accept", "text/event-stream; charset=utf-8" } }, 0, HCM_STREAM_SSE },
    { { { "Accept", "text/event-stream, */*;q=0.1" } }, 0, HCM_STREAM_SSE },
    { { { "Accept", "text/event-stream;q=0.5, application/json;q=0.5" } }, 0, HCM_STREAM_SSE },
    { { { "Accept", "text/event-stream;q=0" } }, 0, HCM_STREAM_NONE },
    { { { "Accept", "application/json, text/event-stream;q=0.5" } }, 0, HCM_STREAM_NONE },
    { { { "Accept", "text/event-stream;q=0.5, */*" } }, 0, HCM_STREAM_NONE },
    { { { "Accept", "*/*" } }, 0, HCM_STREAM_NONE },
    { { { "Accept", "text/*" } }, 0, HCM_STREAM_NONE },
    { { { "Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" } }, 0,
      HCM_STREAM_NONE },
    { { { "Accept", "multipart/mixed" } }, 0, HCM_STREAM_NONE }, /* needs Observe: 0 */
    { { { "Accept", "text/event-stream-x" } }, 0, HCM_STREAM_NONE },
    { { { "Accept", "text/event-stream;q=2" } }, 0, HCM_STREAM_NONE }, /* malformed: skipped */
    /* RFC 9110 s5.3: several Accept fields are one list. */
    { { { "Accept", "application/json;q=0.9" }, { "Accept", "text/event-stream" } }, 0,
      HCM_STREAM_SSE },
    { { { "Accept", "text/event-stream;q=0.9" }, { "Accept", "application/json" } }, 0,
      HCM_STREAM_NONE },
    /* Of two equally specific ranges the first gives the weight. */
    { { { "Accept", "text/event-stream;q=0.2, text/event-stream" } }, 0, HCM_STREAM_NONE },
    { { { NULL, "ignored" }, { "Accept", "text/event-stream" } }, 0, HCM_STREAM_SSE },
    /* Observe: 0 registers: the stream type with the higher weight, multipart when equal. */
    { { { "Observe", "0" } }, 0, HCM_STREAM_MULTIPART }, /* no Accept: any type */
    { { { "observe", "0" }, { "Accept", "*/*" } }, 0, HCM_STREAM_MULTIPART },
    { { { "Observe", "0" }, { "Accept", "text/event-stream" } }, 0, HCM_STREAM_SSE },
    { { { "Observe", "0" }, { "Accept", "multipart/mixed" } }, 0, HCM_STREAM_MULTIPART },
    { { { "Accept", "multipart/mixed" }, { "OBSERVE", "0" } }, 0, HCM_STREAM_MULTIPART },
    { { { "Observe", "0" }, { "Accept", "text/event-stream, multipart/mixed" } }, 0,
      HCM_STREAM_MULTIPART },
    { { { "Observe", "0" }, { "Accept", "multipart/mixed;q=0.9, text/event-stream" } }, 0,
      HCM_STREAM_SSE },
    { { { "Observe", "0" }, { "Accept", "application/json, multipart/mixed;q=0.1" } }, 0,
      HCM_STREAM_MULTIPART },
    { { { "Observe", "0" }, { "Accept", "text/*" } }, 0, HCM_STREAM_SSE },
    { { { "Observe", "0" }, { "Accept", "multipart/*;q=0.5, text/event-stream;q=0.4" } }, 0,
      HCM_STREAM_MULTIPART },
    { { { "Observe", "0" }, { "Accept", "*/*, multipart/mixed;q=0" } }, 0, HCM_STREAM_SSE },
    /* RFC 9110 s12.5.1: the most specific range wins, wherever it stands. */
    { { { "Observe", "0" },
        { "Accept", "text/event-stream;q=0.1, text/*;q=0.9, multipart/mixed;q=0.5" } },
      0, HCM_STREAM_MULTIPART },
    { { { "Observe", "0" }, { "Accept", "application/json" } }, HCM_EOBSERVEACCEPT, 0 },
    { { { "Observe", "0" }, { "Accept", "" } }, HCM_EOBSERVEACCEPT, 0 },
    { { { "Observe", "0" }, { "Accept", "text/event-stream;q=0, multipart/mixed;q=0" } },
      HCM_EOBSERVEACCEPT, 0 },
    { { { "Observe", "0" }, { "Accept", "*/*;q=0" } }, HCM_EOBSERVEACCEPT, 0 },
    { { { "Observe", "0" }, { "Accept", "multipart/mixed;q=x" } }, HCM_EOBSERVEACCEPT, 0 },
    /* Observe: 1 deregisters: a plain request, which cannot also ask for an event stream. */
    { { { "Observe", "1" } }, 0, HCM_STREAM_NONE },
    { { { "Observe", "1" }, { "Accept", "multipart/mixed" } }, 0, HCM_STREAM_NONE },
    { { { "Observe", "1" }, { "Accept", "*/*" } }, 0, HCM_STREAM_NONE },
    { { { "Observe", "1" }, { "Accept", "text/event-stream" } }, HCM_EOBSERVECONFLICT, 0 },
    /* A malformed or repeated Observe field. */
    { { { "Observe", "2" }, { "Accept", "text/event-stream" } }, HCM_EOBSERVEVALUE, 0 },
    { { { "Observe", "" } }, HCM_EOBSERVEVALUE, 0 },
    { { { "Observe", NULL } }, HCM_EOBSERVEVALUE, 0 },
    { { { "Observe", "0" }, { "Observe", "0" } }, HCM_EOBSERVEVALUE, 0 },
    { { { "Observe", "0" }, { "Observe", "1" } }, HCM_EOBSERVEVALUE, 0 },
};

START_TEST(observe_stream)
{
    const struct stream_row *r = &stream_rows[_i];
    size_t n = 0;
    hcm_stream_t stream = (hcm_stream_t)99;

    while (n < MAX_FIELDS && (r->fields[n].name != NULL || r->fields[n].value != NULL))
        n++;
    ck_assert_int_eq(hcm_observe_stream(r->fields, n, &stream), r->err);
    ck_assert_int_eq(stream, r->err == 0 ? r->stream : (hcm_stream_t)99);
}
END_TEST

/* ---- server-sent events ---------------------------------------------------------------------- */

static const struct sse_row {
    hcm_notification_t n;
    const char *want;
} sse_rows[] = {
    { { 200, "application/json", BYTES("\x12\xab"), true, 60, 5, BYTES("{\"t\":22.5}"), true,
        NULL, false },
      "id: 5\nevent: notification\ndata: {\"status\":200,\"content_type\":\"application/json\","
      "\"etag\":\"12ab\",\"max_age\":60,\"observe\":5,\"oscore\":null,"
      "\"text\":\"{\\\"t\\\":22.5}\"}\n\n" },
    { { 200, "application/cbor", BYTES(""), false, 0, 0xffffff, BYTES("\xa1\x01\x02"), false,
        NULL, false },
      "id: 16777215\nevent: notification\ndata: {\"status\":200,\"content_type\":"
      "\"application/cbor\",\"etag\":null,\"max_age\":null,\"observe\":16777215,\"oscore\":null,"
      "\"base64\":\"oQEC\"}\n\n" },
    /* Text that is no UTF-8 goes as base64 all the same. */
    { { 200, "text/plain; charset=utf-8", BYTES(""), true, 0, 0, BYTES("caf\xe9"), true, NULL, false },
      "id: 0\nevent: notification\ndata: {\"status\":200,\"content_type\":"
      "\"text/plain; charset=utf-8\",\"etag\":null,\"max_age\":0,\"observe\":0,\"oscore\":null,"
      "\"base64\":\"Y2Fm6Q==\"}\n\n" },
    { { 200, NULL, BYTES(""), false, 0, 1, BYTES(""), false, NULL, false },
      "id: 1\nevent: notification\ndata: {\"status\":200,\"content_type\":null,\"etag\":null,"
      "\"max_age\":null,\"observe\":1,\"oscore\":null,\"base64\":\"\"}\n\n" },
    { { 204, NULL, BYTES(""), false, 0, 2, { NULL, 0 }, true, NULL, false },
      "id: 2\nevent: notification\ndata: {\"status\":204,\"content_type\":null,\"etag\":null,"
      "\"max_age\":null,\"observe\":2,\"oscore\":null,\"text\":\"\"}\n\n" },
    /* RFC 8259 s7: every control character, '"' and '\\' escaped; U+2028 and U+2029 too; DEL,
     * '/' and other characters as they are. */
    { { 200, "text/plain; charset=utf-8", BYTES("\x00\x01\x02\x03\x04\x05\x06\x07\x08"), true,
        4294967295u, 3, BYTES("a\"b\\c\n\r\t\b\f\x01\x1f\x7f/\xc3\xa9\xe2\x82\xac"
                              "\xf0\x9f\x98\x80\xe2\x80\xa8\xe2\x80\xa9\xe2\x80\xaa\x00z"),
        true, NULL, false },
      "id: 3\nevent: notification\ndata: {\"status\":200,\"content_type\":"
      "\"text/plain; charset=utf-8\",\"etag\":\"000102030405060708\",\"max_age\":4294967295,"
      "\"observe\":3,\"oscore\":null,"
      "\"text\":\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f\x7f/\xc3\xa9\xe2\x82\xac"
      "\xf0\x9f\x98\x80\\u2028\\u2029\xe2\x80\xaa\\u0000z\"}\n\n" },
    /* A quoted parameter in the Content-Type is escaped like any string. */
    { { 205, "application/cose; cose-type=\"cose-sign1\"", BYTES("\xff"), false, 0, 9,
        BYTES("\xd2"), false, NULL, false },
      "id: 9\nevent: notification\ndata: {\"status\":205,\"content_type\":"
      "\"application/cose; cose-type=\\\"cose-sign1\\\"\",\"etag\":\"ff\",\"max_age\":null,"
      "\"observe\":9,\"oscore\":null,\"base64\":\"0g==\"}\n\n" },
    /* The last notification of an observation may be an error (RFC 7641 s3.2, s4.2). */
    { { 404, "text/plain; charset=utf-8", BYTES(""), true, 10, 77, BYTES("not here"), true, NULL, false },
      "id: 77\nevent: notification\ndata: {\"status\":404,\"content_type\":"
      "\"text/plain; charset=utf-8\",\"etag\":null,\"max_age\":10,\"observe\":77,\"oscore\":null,"
      "\"text\":\"not here\"}\n\n" },
    /* An OSCORE notification (RFC 8613 s11.2): ciphertext, and the option the client needs. */
    { { 200, "application/oscore", BYTES(""), false, 0, 12, BYTES("\x5e\x13"), false, "CSIS", false },
      "id: 12\nevent: notification\ndata: {\"status\":200,"
      "\"content_type\":\"application/oscore\",\"etag\":null,\"max_age\":null,\"observe\":12,"
      "\"oscore\":\"CSIS\",\"base64\":\"XhM=\"}\n\n" },
    /* The last response has no Observe (RFC 7641 s3.2): no id, "observe":null. */
    { { 200, "text/plain; charset=utf-8", BYTES(""), false, 0, 0, BYTES("bye"), true, NULL, true },
      "event: notification\ndata: {\"status\":200,\"content_type\":"
      "\"text/plain; charset=utf-8\",\"etag\":null,\"max_age\":null,\"observe\":null,"
      "\"oscore\":null,\"text\":\"bye\"}\n\n" },
};

static void check_one_line_event(hcm_bytes_t out, bool has_id)
{
    const char *data = memmem(out.p, out.len, "\ndata: ", 7);
    size_t nl = 0;

    /* The event is "id" (unless it is the last response), "event" and "data" lines and an
     * empty one: nothing else ends a line (WHATWG HTML s9.2.6: CR, LF and CRLF all do). */
    for (size_t i = 0; i < out.len; i++) {
        ck_assert_uint_ne(out.p[i], '\r');
        nl += out.p[i] == '\n';
    }
    ck_assert_uint_eq(nl, has_id ? 4 : 3);
    ck_assert_ptr_nonnull(data);
}

START_TEST(sse_event)
{
    const struct sse_row *r = &sse_rows[_i];
    size_t want_len = strlen(r->want);
    hcm_arena_t *arena = fresh_arena();
    hcm_bytes_t out;

    ck_assert_int_eq(hcm_sse_event(&r->n, arena, &out), 0);
    ck_assert_uint_eq(out.len, want_len);
    ck_assert_mem_eq(out.p, r->want, want_len);
    check_one_line_event(out, !r->n.is_final);
}
END_TEST

/* Every arena too small fails whole: HCM_ENOSPACE, nothing taken from it, *out untouched. */
START_TEST(sse_event_exhaustion)
{
    static const uint8_t sentinel[1];
    hcm_bytes_t out = { sentinel, 12345 };
    size_t need;

    ARENA_EXHAUSTION_RUN_IF(need, ARENA_SIZE, arena, hcm_sse_event(&sse_rows[_i].n, arena, &out),
                            0, out.p == sentinel && out.len == 12345 && arena->used == 0);
    ck_assert_uint_ge(need, strlen(sse_rows[_i].want));
}
END_TEST

/* RFC 4648 s10's test vectors, as the base64 of a binary payload. */
static const struct {
    const char *payload, *base64;
} base64_rows[] = {
    { "", "" },         { "f", "Zg==" },         { "fo", "Zm8=" },         { "foo", "Zm9v" },
    { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
    { "\xfb\xff\xbf", "+/+/" },
};

static const char *event_payload_field(hcm_bytes_t payload, bool is_text, const char *field,
                                       hcm_arena_t *arena)
{
    hcm_notification_t n = { .status = 200, .payload = payload, .is_text = is_text };
    hcm_bytes_t out;
    const char *at;
    const char *end;

    ck_assert_int_eq(hcm_sse_event(&n, arena, &out), 0);
    at = memmem(out.p, out.len, field, strlen(field));
    if (at == NULL)
        return NULL;
    at += strlen(field);
    end = memchr(at, '"', out.len - (size_t)(at - (const char *)out.p));
    ck_assert_ptr_nonnull(end);
    return hcm_arena_strndup(arena, at, (size_t)(end - at));
}

START_TEST(sse_base64)
{
    hcm_arena_t *arena = fresh_arena();
    hcm_bytes_t payload = { (const uint8_t *)base64_rows[_i].payload,
                            strlen(base64_rows[_i].payload) };
    const char *got;

    got = event_payload_field(payload, false, ",\"base64\":\"", arena);
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got, base64_rows[_i].base64);
}
END_TEST

/* RFC 3629 s4: what is UTF-8 goes as "text", the rest as "base64". */
static const struct {
    hcm_bytes_t bytes;
    bool valid;
} utf8_rows[] = {
    { BYTES(""), true },
    { BYTES("plain ASCII ~"), true },
    { BYTES("\x00"), true },
    { BYTES("\xc2\x80"), true },             /* U+0080 */
    { BYTES("\xdf\xbf"), true },             /* U+07FF */
    { BYTES("\xe0\xa0\x80"), true },         /* U+0800 */
    { BYTES("\xed\x9f\xbf"), true },         /* U+D7FF */
    { BYTES("\xee\x80\x80"), true },         /* U+E000 */
    { BYTES("\xef\xbf\xbf"), true },         /* U+FFFF */
    { BYTES("\xf0\x90\x80\x80"), true },     /* U+10000 */
    { BYTES("\xf4\x8f\xbf\xbf"), true },     /* U+10FFFF */
    { BYTES("\xef\xbb\xbf" "BOM"), true },
    { BYTES("\xc0\x80"), false },            /* overlong NUL */
    { BYTES("\xc1\xbf"), false },            /* overlong U+007F */
    { BYTES("\xe0\x80\x80"), false },        /* overlong */
    { BYTES("\xe0\x9f\xbf"), false },        /* overlong U+07FF */
    { BYTES("\xf0\x8f\xbf\xbf"), false },    /* overlong U+FFFF */
    { BYTES("\xed\xa0\x80"), false },        /* U+D800, a surrogate */
    { BYTES("\xed\xbf\xbf"), false },        /* U+DFFF */
    { BYTES("\xed\xa0\xbd\xed\xb8\x80"), false }, /* CESU-8 of U+1F600 */
    { BYTES("\xf4\x90\x80\x80"), false },    /* U+110000 */
    { BYTES("\xf5\x80\x80\x80"), false },
    { BYTES("\xf8\x88\x80\x80\x80"), false },
    { BYTES("\xfe"), false },
    { BYTES("\xff"), false },
    { BYTES("\x80"), false },                /* a lone continuation byte */
    { BYTES("a\xbf"), false },
    { BYTES("\xc3"), false },                /* truncated at the end */
    { BYTES("a\xe2\x82"), false },
    { BYTES("\xf0\x9f\x98"), false },
    { BYTES("\xe2\x82z"), false },           /* a bad continuation */
    { BYTES("\xf0\x9f\x98z"), false },
    { BYTES("\xc3\xc3\xa9"), false },
    { BYTES("\xe2\x80"), false },            /* U+2028 cut short */
    /* Cut short by the payload's length, though the bytes after it would complete it. */
    { { (const uint8_t *)"\xc3\xa9", 1 }, false },
    { { (const uint8_t *)"\xe2\x82\xac", 2 }, false },
    { { (const uint8_t *)"\xf0\x9f\x98\x80", 3 }, false },
    { { (const uint8_t *)"\xe2\x80\xa8", 2 }, false },
};

START_TEST(sse_utf8)
{
    hcm_arena_t *arena = fresh_arena();
    const char *text, *b64;

    text = event_payload_field(utf8_rows[_i].bytes, true, ",\"text\":\"", arena);
    b64 = event_payload_field(utf8_rows[_i].bytes, true, ",\"base64\":\"", arena);
    ck_assert_msg((text != NULL) == utf8_rows[_i].valid, "row %d", _i);
    ck_assert((b64 != NULL) != utf8_rows[_i].valid);
    /* Not declared text: base64 whatever the bytes. */
    ck_assert_ptr_nonnull(event_payload_field(utf8_rows[_i].bytes, false, ",\"base64\":\"",
                                              arena));
}
END_TEST

/* Every byte value as a text payload: ASCII goes as text, the whole range as base64, and either
 * way the event stays on its lines. */
START_TEST(sse_every_byte)
{
    uint8_t bytes[256];
    hcm_notification_t n = { .status = 200, .is_text = true, .payload = { bytes, 0 } };
    hcm_arena_t *arena = fresh_arena();
    hcm_bytes_t out;

    for (size_t i = 0; i < sizeof bytes; i++)
        bytes[i] = (uint8_t)i;
    for (size_t len = 0x80; len <= sizeof bytes; len += sizeof bytes - 0x80) {
        n.payload.len = len;
        ck_assert_int_eq(hcm_sse_event(&n, arena, &out), 0);
        check_one_line_event(out, true);
        ck_assert_ptr_nonnull(memmem(out.p, out.len, len == 0x80 ? "\"text\"" : "\"base64\"",
                                     len == 0x80 ? 6 : 8));
    }
}
END_TEST

static const struct {
    hcm_notification_t n;
} sse_bad_rows[] = {
    { { .status = 99 } },
    { { .status = 600 } },
    { { .status = 0 } },
    { { .status = 200, .observe = 0x1000000 } },
    { { .status = 200, .content_type = "text/plain\n" } },
    { { .status = 200, .content_type = "text/plain\r\nX-Injected: 1" } },
    { { .status = 200, .content_type = "text/pl\xc3\xa4in" } },
    { { .status = 200, .content_type = "text/plain\x7f" } },
    { { .status = 200, .oscore = "CQ\n" } },
    { { .status = 200, .oscore = "\xc3\xa9" } },
};

START_TEST(sse_event_refused)
{
    static const uint8_t sentinel[1];
    hcm_bytes_t out = { sentinel, 3 };
    hcm_arena_t *arena = fresh_arena();

    ck_assert_int_eq(hcm_sse_event(&sse_bad_rows[_i].n, arena, &out), HCM_EINTERNAL);
    ck_assert_ptr_eq(out.p, sentinel);
    ck_assert_uint_eq(arena->used, 0);
}
END_TEST

/* A payload no arena could hold is refused before any length is added up. */
START_TEST(sse_event_huge)
{
    static const uint8_t byte[1];
    hcm_notification_t n = { .status = 200, .payload = { byte, SIZE_MAX / 2 } };
    hcm_arena_t *arena = fresh_arena();
    hcm_bytes_t out;

    ck_assert_int_eq(hcm_sse_event(&n, arena, &out), HCM_ENOSPACE);
    ck_assert_uint_eq(arena->used, 0);
}
END_TEST

static const struct {
    const char *reason;
    const char *want;
} end_rows[] = {
    { "the CoAP server ended the observation",
      "event: end\ndata: {\"reason\":\"the CoAP server ended the observation\"}\n\n" },
    { "", "event: end\ndata: {\"reason\":\"\"}\n\n" },
    { "say \"bye\"\r\n\\ caf\xc3\xa9",
      "event: end\ndata: {\"reason\":\"say \\\"bye\\\"\\r\\n\\\\ caf\xc3\xa9\"}\n\n" },
};

START_TEST(sse_end)
{
    hcm_arena_t *arena = fresh_arena();
    hcm_bytes_t out;
    size_t need;

    ck_assert_int_eq(hcm_sse_end(end_rows[_i].reason, arena, &out), 0);
    ck_assert_uint_eq(out.len, strlen(end_rows[_i].want));
    ck_assert_mem_eq(out.p, end_rows[_i].want, out.len);
    ARENA_EXHAUSTION_RUN_IF(need, ARENA_SIZE, a, hcm_sse_end(end_rows[_i].reason, a, &out), 0,
                            a->used == 0);
}
END_TEST

START_TEST(sse_end_refused)
{
    hcm_arena_t *arena = fresh_arena();
    hcm_bytes_t out;

    ck_assert_int_eq(hcm_sse_end(NULL, arena, &out), HCM_EINTERNAL);
    ck_assert_int_eq(hcm_sse_end("caf\xe9", arena, &out), HCM_EINTERNAL);
    ck_assert_int_eq(hcm_sse_end("\xed\xa0\x80", arena, &out), HCM_EINTERNAL);
    ck_assert_uint_eq(arena->used, 0);
}
END_TEST

START_TEST(sse_comment)
{
    hcm_bytes_t c = hcm_sse_comment();

    ck_assert_uint_eq(c.len, 14);
    ck_assert_mem_eq(c.p, ": keep-alive\n\n", 14);
}
END_TEST

/* ---- multipart/mixed ------------------------------------------------------------------------- */

static const uint8_t counting[46] = { 0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                      12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,
                                      24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35,
                                      36, 37, 38, 39, 40, 41, 42, 43, 44, 45 };
static const uint8_t ones[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static const struct {
    hcm_bytes_t random;
    int err;
    const char *want;
} boundary_rows[] = {
    { { counting, 16 }, 0, "hcproxy-AAECAwQFBgcICQoLDA0ODw" },
    { { ones, 16 }, 0, "hcproxy-_____________________w" },
    { { counting, 17 }, 0, "hcproxy-AAECAwQFBgcICQoLDA0ODxA" },
    { { counting, 46 }, 0,
      "hcproxy-AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLQ" },
    { { counting, 15 }, HCM_EINTERNAL, NULL },
    { { counting, 0 }, HCM_EINTERNAL, NULL },
    { { NULL, 0 }, HCM_EINTERNAL, NULL },
    { { ones, 47 }, HCM_EINTERNAL, NULL }, /* never read: refused on its length */
};

START_TEST(multipart_boundary)
{
    const char *boundary = "untouched";
    hcm_arena_t *arena = fresh_arena();
    hcm_bytes_t out;
    size_t need;

    ck_assert_int_eq(hcm_multipart_boundary(boundary_rows[_i].random, arena, &boundary),
                     boundary_rows[_i].err);
    if (boundary_rows[_i].err != 0) {
        ck_assert_str_eq(boundary, "untouched");
        return;
    }
    ck_assert_str_eq(boundary, boundary_rows[_i].want);
    ck_assert_uint_le(strlen(boundary), 70);
    /* What it makes, the framing takes. */
    ck_assert_int_eq(hcm_multipart_close(boundary, arena, &out), 0);
    ARENA_EXHAUSTION_RUN(need, ARENA_SIZE, a,
                         hcm_multipart_boundary(boundary_rows[_i].random, a, &boundary));
}
END_TEST

#define MAX_PART_HEADERS 3

static const struct part_row {
    const char *boundary;
    unsigned status;
    const char *reason;
    hcm_header_t headers[MAX_PART_HEADERS];
    hcm_bytes_t body;
    int err;
    hcm_bytes_t want;
} part_rows[] = {
    { "b0und", 200, "OK",
      { { "Content-Type", "application/json" }, { "ETag", "\"12ab\"" },
        { "Cache-Control", "max-age=60" } },
      BYTES("{\"t\":1}"), 0,
      BYTES("--b0und\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 200 OK\r\n"
            "Content-Type: application/json\r\nETag: \"12ab\"\r\nCache-Control: max-age=60\r\n"
            "Content-Length: 7\r\n\r\n{\"t\":1}\r\n") },
    /* A body that holds the boundary's text: Content-Length still delimits it. */
    { "b0und", 200, "OK", { { 0 } }, BYTES("--b0und\r\n--b0und--\r\n"), 0,
      BYTES("--b0und\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 200 OK\r\n"
            "Content-Length: 20\r\n\r\n--b0und\r\n--b0und--\r\n\r\n") },
    /* Binary, NULs and CRs included, byte for byte. */
    { "hcproxy-AAECAwQFBgcICQoLDA0ODw", 200, "OK",
      { { "Content-Type", "application/cbor" } }, BYTES("\x00\r\n\x00\xff"), 0,
      BYTES("--hcproxy-AAECAwQFBgcICQoLDA0ODw\r\nContent-Type: application/http\r\n\r\n"
            "HTTP/1.1 200 OK\r\nContent-Type: application/cbor\r\nContent-Length: 5\r\n\r\n"
            "\x00\r\n\x00\xff\r\n") },
    { "b", 404, "Not Found", { { "Content-Type", "text/plain; charset=utf-8" } },
      BYTES(""), 0,
      BYTES("--b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 404 Not Found\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 0\r\n\r\n\r\n") },
    /* RFC 9110 s8.6: no Content-Length in a 204 or a 304, nor a 1xx. */
    { "b", 204, "No Content", { { 0 } }, BYTES(""), 0,
      BYTES("--b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n\r\n") },
    { "b", 304, "Not Modified", { { "ETag", "\"beef\"" } }, { NULL, 0 }, 0,
      BYTES("--b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 304 Not Modified\r\n"
            "ETag: \"beef\"\r\n\r\n\r\n") },
    /* No reason phrase: the space after the status stays (RFC 9112 s4). */
    { "b", 599, NULL, { { 0 } }, BYTES("x"), 0,
      BYTES("--b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 599 \r\n"
            "Content-Length: 1\r\n\r\nx\r\n") },
    /* RFC 2046 s5.1.1: every bchar, a space inside; 70 characters. */
    { "'()+_,-./:=? 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU", 100, "Continue",
      { { 0 } }, BYTES(""), 0,
      BYTES("--'()+_,-./:=? 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU\r\n"
            "Content-Type: application/http\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n\r\n") },
    /* Field values may hold HTAB and obs-text (RFC 9110 s5.5). */
    { "b", 200, "Caf\xc3\xa9\tOK", { { "X-Note", "caf\xc3\xa9\tx" } }, BYTES(""), 0,
      BYTES("--b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 200 Caf\xc3\xa9\tOK\r\n"
            "X-Note: caf\xc3\xa9\tx\r\nContent-Length: 0\r\n\r\n\r\n") },
    /* Nothing can be injected into the header section. */
    { "b", 200, "OK\r\nX-Injected: 1", { { 0 } }, BYTES(""), HCM_EBADRESPONSE, { NULL, 0 } },
    { "b", 200, "OK\n", { { 0 } }, BYTES(""), HCM_EBADRESPONSE, { NULL, 0 } },
    { "b", 200, "OK", { { "Location", "/a\r\nSet-Cookie: x=1" } }, BYTES(""), HCM_EBADRESPONSE,
      { NULL, 0 } },
    { "b", 200, "OK", { { "Location", "/a\rb" } }, BYTES(""), HCM_EBADRESPONSE, { NULL, 0 } },
    { "b", 200, "OK", { { "Location", "/a\nb" } }, BYTES(""), HCM_EBADRESPONSE, { NULL, 0 } },
    { "b", 200, "OK", { { "X", "\x01" } }, BYTES(""), HCM_EBADRESPONSE, { NULL, 0 } },
    { "b", 200, "OK", { { "X", "\x7f" } }, BYTES(""), HCM_EBADRESPONSE, { NULL, 0 } },
    { "b", 200, "OK", { { "X", NULL } }, BYTES(""), HCM_EBADRESPONSE, { NULL, 0 } },
    { "b", 200, "OK", { { "Bad Name", "x" } }, BYTES(""), HCM_EBADRESPONSE, { NULL, 0 } },
    { "b", 200, "OK", { { "X:Y", "x" } }, BYTES(""), HCM_EBADRESPONSE, { NULL, 0 } },
    { "b", 200, "OK", { { "", "x" } }, BYTES(""), HCM_EBADRESPONSE, { NULL, 0 } },
    { "b", 200, "OK", { { "X\r\nY", "x" } }, BYTES(""), HCM_EBADRESPONSE, { NULL, 0 } },
    /* The part frames its body itself. */
    { "b", 200, "OK", { { "content-length", "3" } }, BYTES("abc"), HCM_EINTERNAL, { NULL, 0 } },
    { "b", 200, "OK", { { "Transfer-Encoding", "chunked" } }, BYTES(""), HCM_EINTERNAL,
      { NULL, 0 } },
    { "b", 204, "No Content", { { 0 } }, BYTES("x"), HCM_EINTERNAL, { NULL, 0 } },
    { "b", 304, "Not Modified", { { 0 } }, BYTES("x"), HCM_EINTERNAL, { NULL, 0 } },
    { "b", 99, "OK", { { 0 } }, BYTES(""), HCM_EINTERNAL, { NULL, 0 } },
    { "b", 600, "OK", { { 0 } }, BYTES(""), HCM_EINTERNAL, { NULL, 0 } },
    /* RFC 2046 s5.1.1: 1 to 70 bchars, the last no space. */
    { NULL, 200, "OK", { { 0 } }, BYTES(""), HCM_EINTERNAL, { NULL, 0 } },
    { "", 200, "OK", { { 0 } }, BYTES(""), HCM_EINTERNAL, { NULL, 0 } },
    { "b ", 200, "OK", { { 0 } }, BYTES(""), HCM_EINTERNAL, { NULL, 0 } },
    { "b\r\n", 200, "OK", { { 0 } }, BYTES(""), HCM_EINTERNAL, { NULL, 0 } },
    { "b@x", 200, "OK", { { 0 } }, BYTES(""), HCM_EINTERNAL, { NULL, 0 } },
    { "b\"", 200, "OK", { { 0 } }, BYTES(""), HCM_EINTERNAL, { NULL, 0 } },
    { "'()+_,-./:=? 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV", 200, "OK",
      { { 0 } }, BYTES(""), HCM_EINTERNAL, { NULL, 0 } },
};

static size_t part_headers(const struct part_row *r)
{
    size_t n = 0;

    while (n < MAX_PART_HEADERS && (r->headers[n].name != NULL || r->headers[n].value != NULL))
        n++;
    return n;
}

START_TEST(multipart_part)
{
    static const uint8_t sentinel[1];
    const struct part_row *r = &part_rows[_i];
    hcm_bytes_t out = { sentinel, 9 };
    hcm_arena_t *arena = fresh_arena();
    size_t need;

    ck_assert_int_eq(hcm_multipart_part(r->boundary, r->status, r->reason, r->headers,
                                        part_headers(r), r->body, arena, &out),
                     r->err);
    if (r->err != 0) {
        ck_assert_ptr_eq(out.p, sentinel);
        ck_assert_uint_eq(arena->used, 0);
        return;
    }
    ck_assert_uint_eq(out.len, r->want.len);
    ck_assert_mem_eq(out.p, r->want.p, r->want.len);
    out = (hcm_bytes_t){ sentinel, 9 };
    ARENA_EXHAUSTION_RUN_IF(need, ARENA_SIZE, a,
                            hcm_multipart_part(r->boundary, r->status, r->reason, r->headers,
                                               part_headers(r), r->body, a, &out),
                            0, out.p == sentinel && a->used == 0);
}
END_TEST

START_TEST(multipart_close)
{
    hcm_arena_t *arena = fresh_arena();
    hcm_bytes_t out;
    size_t need;

    ck_assert_int_eq(hcm_multipart_close("b0und", arena, &out), 0);
    ck_assert_uint_eq(out.len, 11);
    ck_assert_mem_eq(out.p, "--b0und--\r\n", 11);
    ck_assert_int_eq(hcm_multipart_close(NULL, arena, &out), HCM_EINTERNAL);
    ck_assert_int_eq(hcm_multipart_close("b ", arena, &out), HCM_EINTERNAL);
    ck_assert_int_eq(hcm_multipart_close("b\r\nX: y", arena, &out), HCM_EINTERNAL);
    ARENA_EXHAUSTION_RUN_IF(need, ARENA_SIZE, a, hcm_multipart_close("b0und", a, &out), 0,
                            a->used == 0);
    ck_assert_uint_ge(need, 11);
}
END_TEST

/* A whole body, two notifications and the close, read back the way a multipart reader would:
 * each part from its delimiter, its body by Content-Length, then the CRLF of the next delimiter
 * (RFC 2046 s5.1.1). The second body holds the first delimiter's text. */
START_TEST(multipart_body_reads_back)
{
    static const hcm_header_t cbor[] = { { "Content-Type", "application/cbor" } };
    const hcm_bytes_t bodies[] = { BYTES("\x00\x01"),
                                   BYTES("\r\n--hcproxy-_____________________w\r\n") };
    char whole[1024];
    size_t len = 0;
    hcm_arena_t *arena = fresh_arena();
    hcm_bytes_t out;
    const char *boundary, *p;

    ck_assert_int_eq(hcm_multipart_boundary((hcm_bytes_t){ ones, 16 }, arena, &boundary), 0);
    for (size_t i = 0; i < 2; i++) {
        ck_assert_int_eq(hcm_multipart_part(boundary, 200, "OK", cbor, 1, bodies[i], arena, &out),
                         0);
        memcpy(whole + len, out.p, out.len);
        len += out.len;
    }
    ck_assert_int_eq(hcm_multipart_close(boundary, arena, &out), 0);
    memcpy(whole + len, out.p, out.len);
    len += out.len;

    p = whole;
    for (size_t i = 0; i < 2; i++) {
        const char *cl;
        char *end;
        unsigned long n;

        ck_assert_int_eq(strncmp(p, "--", 2), 0);
        ck_assert_int_eq(strncmp(p + 2, boundary, strlen(boundary)), 0);
        cl = memmem(p, len - (size_t)(p - whole), "Content-Length: ", 16);
        ck_assert_ptr_nonnull(cl);
        n = strtoul(cl + 16, &end, 10);
        ck_assert_int_eq(strncmp(end, "\r\n\r\n", 4), 0);
        ck_assert_uint_eq(n, bodies[i].len);
        ck_assert_mem_eq(end + 4, bodies[i].p, n);
        p = end + 4 + n;
        ck_assert_int_eq(strncmp(p, "\r\n", 2), 0);
        p += 2;
    }
    ck_assert_uint_eq(len - (size_t)(p - whole), strlen(boundary) + 6);
    ck_assert_int_eq(strncmp(p + 2 + strlen(boundary), "--\r\n", 4), 0);
}
END_TEST

static Suite *observe_suite(void)
{
    Suite *s = suite_create("observe");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, observe_is_newer, 0, HCM_COUNTOF(newer_rows));
    tcase_add_test(tc, observe_order_is_antisymmetric);
    tcase_add_loop_test(tc, observe_header, 0, HCM_COUNTOF(header_rows));
    tcase_add_loop_test(tc, observe_stream, 0, HCM_COUNTOF(stream_rows));
    tcase_add_loop_test(tc, sse_event, 0, HCM_COUNTOF(sse_rows));
    tcase_add_loop_test(tc, sse_event_exhaustion, 0, HCM_COUNTOF(sse_rows));
    tcase_add_loop_test(tc, sse_base64, 0, HCM_COUNTOF(base64_rows));
    tcase_add_loop_test(tc, sse_utf8, 0, HCM_COUNTOF(utf8_rows));
    tcase_add_test(tc, sse_every_byte);
    tcase_add_loop_test(tc, sse_event_refused, 0, HCM_COUNTOF(sse_bad_rows));
    tcase_add_test(tc, sse_event_huge);
    tcase_add_loop_test(tc, sse_end, 0, HCM_COUNTOF(end_rows));
    tcase_add_test(tc, sse_end_refused);
    tcase_add_test(tc, sse_comment);
    tcase_add_loop_test(tc, multipart_boundary, 0, HCM_COUNTOF(boundary_rows));
    tcase_add_loop_test(tc, multipart_part, 0, HCM_COUNTOF(part_rows));
    tcase_add_test(tc, multipart_close);
    tcase_add_test(tc, multipart_body_reads_back);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(observe_suite());
}

/* Observe across HTTP, the pure part (RFC 7641): the order of notifications (s3.4), what an HTTP
 * request asks for with Observe and Accept, and the two framings that carry one notification
 * after another to an HTTP client: server-sent events (WHATWG HTML s9.2) and multipart/mixed
 * (RFC 2046 s5.1) of application/http messages (RFC 9112 s10.2). Every framing function counts
 * what it writes first and asks the arena once, so a failure leaves nothing half-written. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "hcm_internal.h"

/* ---- RFC 7641 s3.4: which notification is newer -------------------------------------------- */

#define OBSERVE_MASK 0xffffffu            /* the Observe option holds 24 bits (s2) */
#define OBSERVE_HALF (1u << 23)           /* s3.4: 2^23 */
#define OBSERVE_WINDOW_NS 128000000000ull /* s3.4: 128 seconds */

bool hcm_observe_is_newer(uint32_t v1, uint64_t t1_ns, uint32_t v2, uint64_t t2_ns)
{
    v1 &= OBSERVE_MASK;
    v2 &= OBSERVE_MASK;
    /* T2 > T1 + 128 s, written so that no sum wraps around. */
    if (t2_ns > t1_ns && t2_ns - t1_ns > OBSERVE_WINDOW_NS)
        return true;
    return (v1 < v2 && v2 - v1 < OBSERVE_HALF) || (v1 > v2 && v1 - v2 > OBSERVE_HALF);
}

/* ---- what a request asks for ---------------------------------------------------------------- */

int hcm_observe_header(const char *value, unsigned *action)
{
    /* RFC 7641 s2 defines 0 and 1 for a request; one digit each, no other spelling. */
    if (value == NULL || (strcmp(value, "0") != 0 && strcmp(value, "1") != 0))
        return HCM_EOBSERVEVALUE;
    *action = value[0] == '0' ? HCM_OBSERVE_REGISTER : HCM_OBSERVE_DEREGISTER;
    return 0;
}

enum { SSE, MULTIPART, NSTREAMS };

/* The Observe field (-1 for none) and the weights the Accept fields give the stream types. */
static int read_fields(const hcm_header_t *headers, size_t nheaders, int *observe,
                       hcm__weight_t w[NSTREAMS], unsigned *top)
{
    size_t naccept = 0, nobserve = 0;
    unsigned action = 0;
    int err;

    w[SSE] = (hcm__weight_t){ .type = "text", .subtype = "event-stream" };
    w[MULTIPART] = (hcm__weight_t){ .type = "multipart", .subtype = "mixed" };
    *top = 0;
    *observe = -1;
    for (size_t i = 0; i < nheaders; i++) {
        const char *name = headers[i].name, *value = headers[i].value;

        if (name != NULL && strcasecmp(name, "accept") == 0) {
            naccept++;
            hcm__accept_weigh(w, NSTREAMS, top, value);
        } else if (name != NULL && strcasecmp(name, "observe") == 0) {
            if (nobserve++ > 0)
                return HCM_EOBSERVEVALUE; /* not a list field: two are one too many */
            if ((err = hcm_observe_header(value, &action)) != 0)
                return err;
            *observe = (int)action;
        }
    }
    /* RFC 9110 s12.5.1: no Accept field means any media type is acceptable. */
    if (naccept == 0)
        hcm__accept_weigh(w, NSTREAMS, top, "*/*");
    return 0;
}

int hcm_observe_stream(const hcm_header_t *headers, size_t nheaders, hcm_stream_t *stream)
{
    hcm__weight_t w[NSTREAMS];
    unsigned top;
    int observe;
    int err = read_fields(headers, nheaders, &observe, w, &top);
    bool wants_events;

    if (err != 0)
        return err;
    if (observe == HCM_OBSERVE_REGISTER) {
        if (w[SSE].q == 0 && w[MULTIPART].q == 0)
            return HCM_EOBSERVEACCEPT;
        /* Equal weights: the Observe field is what the multipart form is asked for with. */
        *stream = w[SSE].q > w[MULTIPART].q ? HCM_STREAM_SSE : HCM_STREAM_MULTIPART;
        return 0;
    }
    /* Without Observe: 0 only an event stream named outright, as an EventSource asks for it, is
     * a request to observe; a browser's range of all types is not. */
    wants_events = w[SSE].rank == HCM__RANK_TYPE && w[SSE].q > 0 && w[SSE].q >= top;
    if (observe == HCM_OBSERVE_DEREGISTER && wants_events)
        return HCM_EOBSERVECONFLICT;
    *stream = wants_events ? HCM_STREAM_SSE : HCM_STREAM_NONE;
    return 0;
}

/* ---- writing: counted first, then written into the arena ------------------------------------ */

typedef void (*writer_t)(hcm__builder_t *b, const void *what);

/* Runs |write| once to count, then once into exactly as much of |arena|. */
static int emit(writer_t write, const void *what, hcm_arena_t *arena, hcm_bytes_t *out)
{
    hcm__builder_t b = { .p = NULL, .len = 0 };
    char *p;

    write(&b, what);
    p = hcm_arena_alloc(arena, b.len);
    if (p == NULL)
        return HCM_ENOSPACE;
    b = (hcm__builder_t){ .p = p, .len = 0 };
    write(&b, what);
    *out = (hcm_bytes_t){ (const uint8_t *)p, b.len };
    return 0;
}

static void put_uint(hcm__builder_t *b, unsigned long v)
{
    char buf[sizeof("18446744073709551615")];
    int len = snprintf(buf, sizeof buf, "%lu", v);

    hcm__put(b, buf, (size_t)len);
}

static void put_base64(hcm__builder_t *b, hcm__base64_t kind, hcm_bytes_t bytes)
{
    b->len += hcm__base64_encode(b->p != NULL ? b->p + b->len : NULL, kind, bytes.p, bytes.len);
}

/* ---- JSON text (RFC 8259) ------------------------------------------------------------------- */

/* RFC 3629 s4: the well-formed multi-byte sequences, by their first byte: how long the sequence
 * is and the range its second byte must fall in. The narrow ranges exclude overlong forms (E0,
 * F0), UTF-16 surrogates (ED) and code points beyond U+10FFFF (F4). */
static const struct utf8_row {
    uint8_t first_lo, first_hi;
    uint8_t len;
    uint8_t second_lo, second_hi;
} utf8_rows[] = {
    { 0xc2, 0xdf, 2, 0x80, 0xbf },
    { 0xe0, 0xe0, 3, 0xa0, 0xbf },
    { 0xe1, 0xec, 3, 0x80, 0xbf },
    { 0xed, 0xed, 3, 0x80, 0x9f },
    { 0xee, 0xef, 3, 0x80, 0xbf },
    { 0xf0, 0xf0, 4, 0x90, 0xbf },
    { 0xf1, 0xf3, 4, 0x80, 0xbf },
    { 0xf4, 0xf4, 4, 0x80, 0x8f },
};

/* The length of the well-formed sequence at |s| (|n| bytes left), or 0. */
static size_t utf8_sequence(const uint8_t *s, size_t n)
{
    if (s[0] < 0x80)
        return 1;
    for (size_t i = 0; i < HCM_COUNTOF(utf8_rows); i++) {
        const struct utf8_row *row = &utf8_rows[i];

        if (s[0] < row->first_lo || s[0] > row->first_hi)
            continue;
        if (n < row->len || s[1] < row->second_lo || s[1] > row->second_hi)
            return 0;
        for (size_t k = 2; k < row->len; k++)
            if ((s[k] & 0xc0) != 0x80)
                return 0;
        return row->len;
    }
    return 0; /* 80-C1 (a continuation byte, an overlong lead) and F5-FF never start one */
}

static bool utf8_valid(const uint8_t *s, size_t n)
{
    size_t len;

    for (size_t i = 0; i < n; i += len)
        if ((len = utf8_sequence(s + i, n - i)) == 0)
            return false;
    return true;
}

/* RFC 8259 s7: the short escapes; other control characters become \u00XX. */
static const char short_escapes[0x20] = {
    ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f', ['\r'] = 'r',
};

/* How many bytes at |s| need an escape (0: none): a control character, '"' or '\\' (RFC 8259
 * s7), and U+2028 and U+2029, which JavaScript before ES2019 took for line ends. */
static size_t escaped_len(const uint8_t *s, size_t n)
{
    if (s[0] < 0x20 || s[0] == '"' || s[0] == '\\')
        return 1;
    if (s[0] == 0xe2 && n >= 3 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9))
        return 3;
    return 0;
}

static void put_escape(hcm__builder_t *b, const uint8_t *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    char buf[sizeof("\\u2028")] = "\\u";

    if (len == 3) {
        hcm__put_str(b, s[2] == 0xa8 ? "\\u2028" : "\\u2029");
    } else if (s[0] >= 0x20) {
        buf[1] = (char)s[0];
        hcm__put(b, buf, 2);
    } else if (short_escapes[s[0]] != 0) {
        buf[1] = short_escapes[s[0]];
        hcm__put(b, buf, 2);
    } else {
        memcpy(buf + 2, "00", 2);
        buf[4] = hex[s[0] >> 4];
        buf[5] = hex[s[0] & 0xf];
        hcm__put(b, buf, 6);
    }
}

/* A JSON string of |n| bytes of valid UTF-8; the escapes leave no CR or LF in the line. */
static void put_json_string(hcm__builder_t *b, const uint8_t *s, size_t n)
{
    size_t run = 0, len;

    hcm__put_str(b, "\"");
    if (n == 0) {
        hcm__put_str(b, "\"");
        return; /* |s| may be NULL */
    }
    for (size_t i = 0; i < n; i++) {
        if ((len = escaped_len(s + i, n - i)) == 0) {
            run++;
            continue;
        }
        hcm__put(b, s + i - run, run);
        put_escape(b, s + i, len);
        run = 0;
        i += len - 1;
    }
    hcm__put(b, s + n - run, run);
    hcm__put_str(b, "\"");
}

static void put_json_cstring(hcm__builder_t *b, const char *s)
{
    if (s == NULL)
        hcm__put_str(b, "null");
    else
        put_json_string(b, (const uint8_t *)s, strlen(s));
}

/* ---- server-sent events (WHATWG HTML s9.2.5, s9.2.6) ---------------------------------------- */

typedef struct event {
    const hcm_notification_t *n;
    bool as_text;
} event_t;

static void put_etag_hex(hcm__builder_t *b, hcm_bytes_t etag)
{
    if (etag.len == 0) {
        hcm__put_str(b, "null");
        return;
    }
    hcm__put_str(b, "\"");
    if (b->p != NULL)
        hcm__hex_encode(b->p + b->len, etag.p, etag.len, HCM__LOWER_HEX);
    b->len += 2 * etag.len;
    hcm__put_str(b, "\"");
}

static void write_event(hcm__builder_t *b, const void *what)
{
    const event_t *e = what;
    const hcm_notification_t *n = e->n;

    /* s9.2.6: "id" sets the last event ID an EventSource sends back when it reconnects; the
     * last response has no Observe value to give. */
    if (!n->is_final) {
        hcm__put_str(b, "id: ");
        put_uint(b, n->observe);
        hcm__put_str(b, "\n");
    }
    hcm__put_str(b, "event: notification\ndata: {\"status\":");
    put_uint(b, n->status);
    hcm__put_str(b, ",\"content_type\":");
    put_json_cstring(b, n->content_type);
    hcm__put_str(b, ",\"etag\":");
    put_etag_hex(b, n->etag);
    hcm__put_str(b, ",\"max_age\":");
    if (n->has_max_age)
        put_uint(b, n->max_age);
    else
        hcm__put_str(b, "null");
    hcm__put_str(b, ",\"observe\":");
    if (n->is_final)
        hcm__put_str(b, "null");
    else
        put_uint(b, n->observe);
    hcm__put_str(b, ",\"oscore\":");
    put_json_cstring(b, n->oscore);
    if (e->as_text) {
        hcm__put_str(b, ",\"text\":");
        put_json_string(b, n->payload.p, n->payload.len);
    } else {
        hcm__put_str(b, ",\"base64\":\"");
        put_base64(b, HCM__BASE64, n->payload);
        hcm__put_str(b, "\"");
    }
    hcm__put_str(b, "}\n\n");
}

/* Printable ASCII only: a media type is tokens, '/', ';', '=', quoted strings and spaces
 * (RFC 9110 s8.3.1), hcproxy's own from media.def; an OSCORE value is base64url (RFC 8613
 * s11.1). */
static bool is_printable_ascii(const char *s)
{
    for (; *s != '\0'; s++)
        if (*s < 0x20 || *s > 0x7e)
            return false;
    return true;
}

int hcm_sse_event(const hcm_notification_t *n, hcm_arena_t *arena, hcm_bytes_t *out)
{
    event_t e = { .n = n };

    if (n->status < 100 || n->status > 599 || (!n->is_final && n->observe > OBSERVE_MASK) ||
        (n->content_type != NULL && !is_printable_ascii(n->content_type)) ||
        (n->oscore != NULL && !is_printable_ascii(n->oscore)))
        return HCM_EINTERNAL;
    /* An escape is at most 6 bytes for 1: a payload beyond a sixth of memory cannot fit. */
    if (n->payload.len > (SIZE_MAX - 256) / 6)
        return HCM_ENOSPACE;
    e.as_text = n->is_text && utf8_valid(n->payload.p, n->payload.len);
    return emit(write_event, &e, arena, out);
}

static void write_end(hcm__builder_t *b, const void *what)
{
    hcm__put_str(b, "event: end\ndata: {\"reason\":");
    put_json_cstring(b, what);
    hcm__put_str(b, "}\n\n");
}

int hcm_sse_end(const char *reason, hcm_arena_t *arena, hcm_bytes_t *out)
{
    if (reason == NULL || !utf8_valid((const uint8_t *)reason, strlen(reason)))
        return HCM_EINTERNAL;
    return emit(write_end, reason, arena, out);
}

hcm_bytes_t hcm_sse_comment(void)
{
    /* s9.2.6: a line starting with ':' is ignored, yet it is traffic on an idle connection. */
    static const char comment[] = ": keep-alive\n\n";

    return (hcm_bytes_t){ (const uint8_t *)comment, sizeof comment - 1 };
}

/* ---- multipart/mixed of application/http (RFC 2046 s5.1, RFC 9112 s10.2) -------------------- */

#define BOUNDARY_PREFIX "hcproxy-"
#define BOUNDARY_MAX 70 /* RFC 2046 s5.1.1: 1 to 70 characters */
#define BOUNDARY_MIN_RANDOM 16
#define BOUNDARY_MAX_RANDOM 46 /* its 62 base64url characters fill the boundary to 70 */

int hcm_multipart_boundary(hcm_bytes_t random, hcm_arena_t *arena, const char **boundary)
{
    size_t prefix = strlen(BOUNDARY_PREFIX), len;
    char *s;

    if (random.len < BOUNDARY_MIN_RANDOM || random.len > BOUNDARY_MAX_RANDOM)
        return HCM_EINTERNAL;
    len = prefix + hcm__base64_encode(NULL, HCM__BASE64URL, random.p, random.len);
    s = hcm_arena_alloc(arena, len + 1);
    if (s == NULL)
        return HCM_ENOSPACE;
    memcpy(s, BOUNDARY_PREFIX, prefix);
    hcm__base64_encode(s + prefix, HCM__BASE64URL, random.p, random.len);
    s[len] = '\0';
    *boundary = s;
    return 0;
}

/* RFC 2046 s5.1.1: boundary := 0*69<bchars> bcharsnospace. */
static bool boundary_ok(const char *boundary)
{
    static const char bchars[] = "'()+_,-./:=? ";
    size_t len = boundary != NULL ? strlen(boundary) : 0;

    if (len == 0 || len > BOUNDARY_MAX || boundary[len - 1] == ' ')
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = boundary[i];

        if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') &&
            strchr(bchars, c) == NULL)
            return false;
    }
    return true;
}

/* RFC 9110 s5.5 field-value and RFC 9112 s4 reason-phrase: HTAB, SP, VCHAR and obs-text; no
 * other control character, CR, LF and NUL among them, so nothing can end a line early. */
static bool is_field_text(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
            return false;
    return true;
}

static bool is_token(const char *s)
{
    if (s == NULL || *s == '\0')
        return false;
    for (; *s != '\0'; s++)
        if (!hcm__is_tchar(*s))
            return false;
    return true;
}

/* RFC 9110 s8.6, s15.2, s15.3.5, s15.4.5: no content and no Content-Length. */
static bool has_no_content(unsigned status)
{
    return status < 200 || status == 204 || status == 304;
}

typedef struct part {
    const char *boundary;
    unsigned status;
    const char *reason;
    const hcm_header_t *headers;
    size_t nheaders;
    hcm_bytes_t body;
} part_t;

static int check_part(const part_t *part)
{
    if (!boundary_ok(part->boundary) || part->status < 100 || part->status > 599 ||
        (has_no_content(part->status) && part->body.len > 0))
        return HCM_EINTERNAL;
    if (!is_field_text(part->reason))
        return HCM_EBADRESPONSE;
    for (size_t i = 0; i < part->nheaders; i++) {
        const hcm_header_t *h = &part->headers[i];

        if (!is_token(h->name) || h->value == NULL || !is_field_text(h->value))
            return HCM_EBADRESPONSE;
        if (strcasecmp(h->name, "content-length") == 0 ||
            strcasecmp(h->name, "transfer-encoding") == 0)
            return HCM_EINTERNAL;
    }
    return 0;
}

static void write_part(hcm__builder_t *b, const void *what)
{
    const part_t *part = what;

    hcm__put_str(b, "--");
    hcm__put_str(b, part->boundary);
    hcm__put_str(b, "\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 ");
    put_uint(b, part->status);
    hcm__put_str(b, " ");
    hcm__put_str(b, part->reason);
    hcm__put_str(b, "\r\n");
    for (size_t i = 0; i < part->nheaders; i++) {
        hcm__put_str(b, part->headers[i].name);
        hcm__put_str(b, ": ");
        hcm__put_str(b, part->headers[i].value);
        hcm__put_str(b, "\r\n");
    }
    if (!has_no_content(part->status)) {
        hcm__put_str(b, "Content-Length: ");
        put_uint(b, part->body.len);
        hcm__put_str(b, "\r\n");
    }
    hcm__put_str(b, "\r\n");
    hcm__put(b, part->body.p, part->body.len);
    /* RFC 2046 s5.1.1: this CRLF belongs to the delimiter that follows, not to the body. */
    hcm__put_str(b, "\r\n");
}

int hcm_multipart_part(const char *boundary, unsigned status, const char *reason,
                       const hcm_header_t *headers, size_t nheaders, hcm_bytes_t body,
                       hcm_arena_t *arena, hcm_bytes_t *out)
{
    part_t part = { boundary, status, reason != NULL ? reason : "", headers, nheaders, body };
    int err = check_part(&part);

    return err != 0 ? err : emit(write_part, &part, arena, out);
}

static void write_close(hcm__builder_t *b, const void *what)
{
    hcm__put_str(b, "--");
    hcm__put_str(b, what);
    hcm__put_str(b, "--\r\n");
}

int hcm_multipart_close(const char *boundary, hcm_arena_t *arena, hcm_bytes_t *out)
{
    if (!boundary_ok(boundary))
        return HCM_EINTERNAL;
    return emit(write_close, boundary, arena, out);
}

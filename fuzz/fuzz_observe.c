/* Observe over HTTP, the pure part (mapping/observe.c). The input is request header lines up to
 * an empty line (hcm_observe_stream), then a control byte, an Observe value (3 bytes), a status
 * (2 bytes), 16 bytes of randomness for a boundary, and the rest as a notification's payload
 * (hcm_sse_event, hcm_multipart_part with the same headers). Properties beside "no crash":
 * - the stream choice is one of the three, or one of its three errors;
 * - an event is four lines, and the payload read back from its JSON (the "text" string
 *   unescaped, or the "base64" decoded) is the payload, byte for byte;
 * - a part's header section has no CR or LF but its CRLFs and no NUL; its Content-Length is the
 *   body's length and the body follows it unchanged;
 * - of two notifications within 128 s and not 2^23 apart, exactly one is newer (RFC 7641 s3.4). */
#include "fuzz_input.h"

#define MAX_HEADERS 8

static int hex_value(uint8_t c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* RFC 3629: the UTF-8 of a code point below U+10000 into |out|; its length. */
static size_t utf8_of(unsigned cp, uint8_t *out)
{
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xc0 | cp >> 6);
        out[1] = (uint8_t)(0x80 | (cp & 0x3f));
        return 2;
    }
    out[0] = (uint8_t)(0xe0 | cp >> 12);
    out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
    out[2] = (uint8_t)(0x80 | (cp & 0x3f));
    return 3;
}

/* The JSON string at |s| (after its opening quote) unescaped into |out|; its length. Aborts on
 * anything observe.c must not write: a raw control character, an unknown escape. */
static size_t json_unescape(const uint8_t *s, const uint8_t *end, uint8_t *out)
{
    static const char shorts[] = "\"\"\\\\b\bf\fn\nr\rt\t";
    size_t n = 0;

    for (; s < end && *s != '"'; s++) {
        const char *e;
        unsigned cp = 0;

        if (*s < 0x20)
            abort();
        if (*s != '\\') {
            out[n++] = *s;
            continue;
        }
        if (++s >= end)
            abort();
        if (*s == 'u') {
            for (int i = 1; i <= 4; i++) {
                int v = s + i < end ? hex_value(s[i]) : -1;

                if (v < 0)
                    abort();
                cp = cp << 4 | (unsigned)v;
            }
            n += utf8_of(cp, out + n);
            s += 4;
        } else if ((e = memchr(shorts, *s, sizeof shorts - 1)) != NULL && (e - shorts) % 2 == 0) {
            out[n++] = (uint8_t)e[1];
        } else {
            abort();
        }
    }
    if (s >= end)
        abort();
    return n;
}

/* RFC 4648 s4, padded, as observe.c writes it: the decoded length, or abort. */
static size_t base64_decode(const uint8_t *s, const uint8_t *end, uint8_t *out)
{
    static const char digits[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t n = 0;

    for (; s < end && *s != '"' && *s != '='; s++) {
        const char *d = memchr(digits, *s, 64);

        if (d == NULL)
            abort();
        acc = acc << 6 | (uint32_t)(d - digits);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    return n;
}

static const uint8_t *find(hcm_bytes_t in, const char *what)
{
    return in.p != NULL ? memmem(in.p, in.len, what, strlen(what)) : NULL;
}

static void check_event(hcm_bytes_t ev, hcm_bytes_t payload, bool is_final)
{
    static uint8_t back[8192 * 3];
    const uint8_t *end = ev.p + ev.len, *at;
    size_t nl = 0, n;

    for (size_t i = 0; i < ev.len; i++) {
        if (ev.p[i] == '\r')
            abort();
        nl += ev.p[i] == '\n';
    }
    /* The last response has no id line (and "observe":null). */
    if (nl != (is_final ? 3u : 4u) || ev.len < 3 || memcmp(end - 3, "}\n\n", 3) != 0 ||
        (is_final && find(ev, ",\"observe\":null,") == NULL))
        abort();
    if ((at = find(ev, ",\"text\":\"")) != NULL)
        n = json_unescape(at + 9, end, back);
    else if ((at = find(ev, ",\"base64\":\"")) != NULL)
        n = base64_decode(at + 11, end, back);
    else
        abort();
    if (n != payload.len || (n > 0 && memcmp(back, payload.p, n) != 0))
        abort();
}

static void check_part(hcm_bytes_t part, hcm_bytes_t body, unsigned status)
{
    const uint8_t *head_end = find(part, "\r\n\r\nHTTP/1.1 ");
    hcm_bytes_t rest;
    const uint8_t *sep, *cl;

    if (head_end == NULL)
        abort();
    rest = (hcm_bytes_t){ head_end + 4, part.len - (size_t)(head_end + 4 - part.p) };
    sep = find(rest, "\r\n\r\n");
    if (sep == NULL)
        abort();
    for (const uint8_t *p = rest.p; p < sep; p++)
        if (*p == '\0' || (*p == '\r' && p[1] != '\n') || (*p == '\n' && p[-1] != '\r'))
            abort();
    sep += 4;
    cl = find((hcm_bytes_t){ rest.p, (size_t)(sep - rest.p) }, "\r\nContent-Length: ");
    if ((cl == NULL) != (status < 200 || status == 204 || status == 304))
        abort();
    if (cl != NULL && strtoul((const char *)cl + 18, NULL, 10) != body.len)
        abort();
    if ((size_t)(part.p + part.len - sep) != body.len + 2 ||
        (body.len > 0 && memcmp(sep, body.p, body.len) != 0) ||
        memcmp(part.p + part.len - 2, "\r\n", 2) != 0)
        abort();
}

static void check_order(const uint8_t *v)
{
    uint32_t v1 = (uint32_t)v[0] << 16 | (uint32_t)v[1] << 8 | v[2];
    uint32_t v2 = (uint32_t)v[3] << 16 | (uint32_t)v[4] << 8 | v[5];
    uint32_t d = v1 > v2 ? v1 - v2 : v2 - v1;

    if (v1 != v2 && d != 1u << 23 &&
        hcm_observe_is_newer(v1, 0, v2, 0) == hcm_observe_is_newer(v2, 0, v1, 0))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static _Alignas(16) uint8_t arena_buf[65536];
    static char store[2048];
    fuzz_input_t in = { data, size };
    hcm_header_t headers[MAX_HEADERS];
    size_t nheaders = fuzz_headers(&in, headers, MAX_HEADERS, store, sizeof store);
    hcm_stream_t stream = HCM_STREAM_NONE;
    hcm_notification_t n;
    hcm_arena_t arena;
    hcm_bytes_t out, random;
    const char *boundary;
    uint8_t control, v[6] = { 0 };
    int err;

    err = hcm_observe_stream(headers, nheaders, &stream);
    if (err != 0 && err != HCM_EOBSERVEVALUE && err != HCM_EOBSERVEACCEPT &&
        err != HCM_EOBSERVECONFLICT)
        abort();
    if (err == 0 && stream != HCM_STREAM_NONE && stream != HCM_STREAM_SSE &&
        stream != HCM_STREAM_MULTIPART)
        abort();

    control = fuzz_u8(&in);
    for (size_t i = 0; i < 3; i++)
        v[i] = fuzz_u8(&in);
    n = (hcm_notification_t){
        .status = 100 + fuzz_u16(&in) % 500,
        .content_type = control & 1 ? "text/plain; charset=utf-8" : NULL,
        .etag = { v, control >> 5 & 3 },
        .has_max_age = control & 2,
        .max_age = (uint32_t)v[0] << 8 | v[1],
        .observe = (uint32_t)v[0] << 16 | (uint32_t)v[1] << 8 | v[2],
        .is_text = control & 4,
        .oscore = control & 8 ? "CSIS" : NULL,
        .is_final = control & 128,
    };
    random = fuzz_bytes(&in, 16);
    n.payload = fuzz_bytes(&in, in.left > 8192 ? 8192 : in.left);
    memcpy(v + 3, n.payload.p, n.payload.len < 3 ? n.payload.len : 3);
    check_order(v);

    hcm_arena_init(&arena, arena_buf, sizeof arena_buf);
    if (hcm_sse_event(&n, &arena, &out) != 0)
        abort();
    check_event(out, n.payload, n.is_final);
    if (random.len < 16)
        return 0;
    if (hcm_multipart_boundary(random, &arena, &boundary) != 0)
        abort();
    if (control & 16 && (n.status < 200 || n.status == 204 || n.status == 304))
        n.payload.len = 0;
    err = hcm_multipart_part(boundary, n.status, "OK", headers, nheaders, n.payload, &arena, &out);
    if (err == 0)
        check_part(out, n.payload, n.status);
    else if (err != HCM_EBADRESPONSE && err != HCM_EINTERNAL && err != HCM_ENOSPACE)
        abort();
    return 0;
}

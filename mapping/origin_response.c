/* An origin's HTTP response -> the CoAP response to the client (RFC 7252 s10.1; RFC 8613 s11.3
 * for OSCORE): the code, ETag, Content-Format, Max-Age, the body as payload. Option values live
 * in the arena, so they outlast the caller's header fields; the payload is a view of the body.
 *
 * Deliberately not mapped:
 *  - Location: Location-Path and Location-Query (RFC 7252 s5.10.7) hold a path relative to the
 *    request URI, which here is the Proxy-Uri or route the client used; an HTTP Location may name
 *    another origin, scheme or port, which those options cannot say, and even a same-origin one
 *    would have to be rewritten into the route's space. A client that needs it cannot get it
 *    right from hcproxy, so it gets none rather than a wrong one;
 *  - Expires and s-maxage: freshness from Expires needs a clock, which mapping/ does not have;
 *    s-maxage speaks to shared caches only, and CoAP has a single Max-Age;
 *  - every other field: no CoAP option carries it. */
#include <string.h>
#include <strings.h>

#include "hcm_internal.h"

typedef struct fields {
    const hcm_header_t *headers;
    size_t n;
} fields_t;

static const char *skip_ows(const char *s)
{
    return s + strspn(s, " \t");
}

/* The first field called |name| (field names are case-insensitive, RFC 9110 s5.1), or NULL;
 * |*count| tells how many there are. */
static const char *find_field(const fields_t *f, const char *name, size_t *count)
{
    const char *value = NULL;
    size_t i, n = 0;

    for (i = 0; i < f->n; i++) {
        if (f->headers[i].name == NULL || strcasecmp(f->headers[i].name, name) != 0)
            continue;
        if (n++ == 0)
            value = f->headers[i].value != NULL ? f->headers[i].value : "";
    }
    if (count != NULL)
        *count = n;
    return value;
}

/* delta-seconds = 1*DIGIT (RFC 9111 s1.2.2) at |*s|, moving |*s| past it. A value too large for
 * Max-Age is its largest value, 2^32 - 1 seconds (RFC 7252 s5.10.5). */
static bool parse_seconds(const char **s, uint32_t *seconds)
{
    const char *p = *s;
    uint64_t v = 0;

    if (*p < '0' || *p > '9')
        return false;
    for (; *p >= '0' && *p <= '9'; p++)
        if ((v = v * 10 + (uint64_t)(*p - '0')) > UINT32_MAX)
            v = UINT32_MAX;
    *seconds = (uint32_t)v;
    *s = p;
    return true;
}

/* A whole field value that is delta-seconds, with white space around it. */
static bool field_seconds(const char *value, uint32_t *seconds)
{
    value = skip_ows(value);
    return parse_seconds(&value, seconds) && *skip_ows(value) == '\0';
}

/* ---- the code -------------------------------------------------------------------------------- */

/* Whether the request asked If-None-Match: * (origin_request.c writes exactly that). */
static bool asked_if_none_match_any(const hcm_origin_req_t *request)
{
    fields_t sent = { request->headers, request->nheaders };
    const char *value = find_field(&sent, "If-None-Match", NULL);

    return value != NULL && strcmp(value, "*") == 0;
}

/* RFC 7252 s10.1.1 to s10.1.4 (status.def): the code by method. A 304 is 2.03 only for the client's
 * own validation (RFC 7252 s5.10.6.2). For If-None-Match (s5.10.8.2) a resource that exists means
 * 4.12, where HTTP answers a GET with 304 (RFC 9110 s13.1.2). A 304 to anything else cannot be
 * understood (s10.1: 5.02). */
static int map_code(unsigned status, const hcm_origin_req_t *request, hcm_coap_msg_t *out)
{
    out->code = hcm_code_from_status(status, request->info.code);
    if (out->code != HCM_CODE(2, 3) || request->info.is_validation)
        return 0;
    if (!asked_if_none_match_any(request))
        return HCM_EBADRESPONSE;
    out->code = HCM_CODE(4, 12);
    return 0;
}

/* ---- ETag (RFC 7252 s10.1.1: SHOULD, from a strong entity-tag; etag.c) ----------------------- */

/* Only a success carries a representation whose tag the client can use (s5.10.6). */
static int map_etag(const fields_t *f, hcm_arena_t *arena, hcm_coap_msg_t *out)
{
    const char *value = find_field(f, "ETag", NULL);
    uint8_t tag[8], *copy;
    size_t len;

    if (value == NULL || HCM_CODE_CLASS(out->code) != 2 ||
        !hcm__etag_from_entity_tag(value, tag, &len))
        return 0;
    copy = hcm_arena_alloc(arena, len);
    if (copy == NULL)
        return HCM_ENOSPACE;
    memcpy(copy, tag, len);
    return hcm_coap_msg_add(out, HCM_OPT_ETAG, (hcm_bytes_t){ .p = copy, .len = len });
}

/* ---- Content-Format (RFC 8075 s6, RFC 7252 s10.1.1) ------------------------------------------ */

/* Whether a Content-Encoding names a coding other than identity (RFC 9110 s8.4.1). */
static bool has_coding(const char *coding)
{
    size_t n;

    if (coding == NULL)
        return false;
    coding = skip_ows(coding);
    n = strlen(coding);
    while (n > 0 && (coding[n - 1] == ' ' || coding[n - 1] == '\t'))
        n--;
    return n > 0 && !(n == strlen("identity") && strncasecmp(coding, "identity", n) == 0);
}

/* Content-Type and Content-Encoding together become one Content-Format (media.c); an origin's
 * "application/coap-payload; cf=N" (RFC 8075 s6.2) names N itself. RFC 7252 s10.1.1: the
 * Content-Format MUST be set, so a type with no number of its own takes its generalized type's
 * (RFC 8075 s6.3 Table 1: "application/json; charset=utf-8" is 50, "text/html" 0, an unknown
 * type 42). A body the origin gave no Content-Type stays without one, as the origin said
 * nothing of its format (RFC 7252 s5.10.3); so does application/oscore: an OSCORE message never
 * has a Content-Format (RFC 8613 s11.3). A body in a coding that no Content-Format names cannot be passed on as if it were
 * plain (s10.1: 5.02). */
static int map_content_format(const fields_t *f, hcm_bytes_t body, hcm_arena_t *arena,
                              hcm_coap_msg_t *out)
{
    const char *type = find_field(f, "Content-Type", NULL);
    const char *coding = find_field(f, "Content-Encoding", NULL);
    uint16_t cf;

    if (type != NULL && hcm_content_format_from_media(type, coding, &cf) == 0)
        return hcm_coap_msg_add_uint(out, arena, HCM_OPT_CONTENT_FORMAT, cf);
    if (has_coding(coding))
        return body.len > 0 ? HCM_EBADRESPONSE : 0;
    if (type != NULL && hcm__content_format_from_coap_payload(type, &cf) == 0)
        return hcm_coap_msg_add_uint(out, arena, HCM_OPT_CONTENT_FORMAT, cf);
    if (type != NULL && !hcm__is_oscore_type(type) &&
        hcm_content_format_loose(type, NULL, &cf) == 0)
        return hcm_coap_msg_add_uint(out, arena, HCM_OPT_CONTENT_FORMAT, cf);
    return 0;
}

/* ---- Max-Age (RFC 7252 s5.10.5, s10.1.1; RFC 8075 Table 2 note 8; RFC 8516) ------------------ */

typedef struct freshness {
    bool has_max_age;
    uint32_t max_age;
    bool is_uncacheable; /* no-cache, no-store or private */
} freshness_t;

static bool name_is(const char *name, size_t len, const char *want)
{
    return len == strlen(want) && strncasecmp(name, want, len) == 0;
}

/* Moves |*s| past a quoted-string (RFC 9110 s5.6.4) at it, or to its unterminated end. */
static void skip_quoted(const char **s)
{
    const char *p = *s + 1;

    while (*p != '\0' && *p != '"')
        p += p[0] == '\\' && p[1] != '\0' ? 2 : 1;
    *s = *p == '"' ? p + 1 : p;
}

/* One directive, cache-directive = token [ "=" ( token / quoted-string ) ] (RFC 9111 s5.2), at
 * |*s|; |*s| moves to the ',' that ends it or to the end of the value. RFC 9111 s4.2.1: the first
 * max-age counts, an invalid one makes the response stale, the most restrictive directive wins;
 * s5.2: a quoted argument is accepted too. no-cache, no-store and private, qualified or not, mean
 * no CoAP cache may serve it: a CoAP client may be a proxy for many (s5.2.2.4, s5.2.2.5,
 * s5.2.2.7). */
static void scan_directive(const char **s, freshness_t *f)
{
    const char *name = *s, *value = NULL;
    size_t len;
    uint32_t seconds;

    while (hcm__is_tchar(**s))
        (*s)++;
    len = (size_t)(*s - name);
    *s = skip_ows(*s);
    if (**s == '=') {
        *s = skip_ows(*s + 1);
        value = *s;
        if (**s == '"')
            skip_quoted(s);
        else
            while (hcm__is_tchar(**s))
                (*s)++;
    }
    if (name_is(name, len, "no-cache") || name_is(name, len, "no-store") ||
        name_is(name, len, "private")) {
        f->is_uncacheable = true;
    } else if (name_is(name, len, "max-age") && !f->has_max_age) {
        const char *p = value != NULL && *value == '"' ? value + 1 : value;

        f->has_max_age = true;
        f->max_age = p != NULL && parse_seconds(&p, &seconds) &&
                             (p == *s || (*p == '"' && p + 1 == *s))
                         ? seconds
                         : 0;
    }
    /* Whatever else the element holds is skipped, quoted commas included. */
    while (**s != '\0' && **s != ',')
        if (**s == '"')
            skip_quoted(s);
        else
            (*s)++;
}

/* Every Cache-Control field, as one list (RFC 9110 s5.3). */
static void scan_cache_control(const fields_t *f, freshness_t *fresh)
{
    size_t i;

    for (i = 0; i < f->n; i++) {
        const char *s = f->headers[i].value;

        if (f->headers[i].name == NULL || s == NULL ||
            strcasecmp(f->headers[i].name, "Cache-Control") != 0)
            continue;
        while (*s != '\0') {
            s = skip_ows(s);
            if (*s == ',') {
                s++;
                continue;
            }
            scan_directive(&s, fresh);
        }
    }
}

/* RFC 7252 s5.9: 2.01, 2.02 and 2.04 are not cacheable, so Max-Age says nothing there; 2.03 and
 * 2.05 are, and so are 4.xx and 5.xx (s5.9.2, s5.9.3). */
static bool is_cacheable(uint8_t code)
{
    return code == HCM_CODE(2, 3) || code == HCM_CODE(2, 5) || HCM_CODE_CLASS(code) >= 4;
}

/* RFC 9111 s4.2.1, s5.3: without max-age, an Expires field gives the freshness lifetime,
 * Expires less Date. An Expires that is not a valid HTTP-date ("0", "-1") means already stale;
 * so does one without a valid Date, whose lifetime could only be told with a clock. false when
 * there is no Expires. */
static bool expires_lifetime(const fields_t *f, uint32_t *seconds)
{
    const char *expires = find_field(f, "Expires", NULL), *date = find_field(f, "Date", NULL);
    long long e, d;

    if (expires == NULL)
        return false;
    *seconds = 0;
    if (hcm__http_date(expires, &e) && date != NULL && hcm__http_date(date, &d) && e > d)
        *seconds = e - d > UINT32_MAX ? UINT32_MAX : (uint32_t)(e - d);
    return true;
}

/* RFC 8075 Table 2 note 8 and RFC 8516: on 503 and 429 the Retry-After delta-seconds is how long
 * to wait, which CoAP says with Max-Age (RFC 7252 s5.9.3.4); an HTTP-date would need a clock.
 * Otherwise the freshness: RFC 7252 s10.1.1, Max-Age MUST NOT exceed what remains of it, so a
 * representation an HTTP cache has held for Age seconds has that much less. The freshness is
 * max-age, else Expires less Date (expires_lifetime). Without any of it there is no Max-Age,
 * and CoAP's default of 60 seconds applies (s5.10.5). */
static int map_max_age(const fields_t *f, unsigned status, hcm_arena_t *arena,
                       hcm_coap_msg_t *out)
{
    const char *retry_after = find_field(f, "Retry-After", NULL);
    const char *age_field = find_field(f, "Age", NULL);
    freshness_t fresh = { 0 };
    uint32_t seconds, age;

    if (!is_cacheable(out->code))
        return 0;
    if ((status == 503 || status == 429) && retry_after != NULL &&
        field_seconds(retry_after, &seconds))
        return hcm_coap_msg_add_uint(out, arena, HCM_OPT_MAX_AGE, seconds);
    scan_cache_control(f, &fresh);
    if (fresh.is_uncacheable)
        return hcm_coap_msg_add_uint(out, arena, HCM_OPT_MAX_AGE, 0);
    if (fresh.has_max_age)
        seconds = fresh.max_age;
    else if (!expires_lifetime(f, &seconds))
        return 0;
    if (age_field != NULL && field_seconds(age_field, &age))
        seconds = age < seconds ? seconds - age : 0;
    return hcm_coap_msg_add_uint(out, arena, HCM_OPT_MAX_AGE, seconds);
}

/* ---- OSCORE (RFC 8613 s11.1, s11.3, s11.6) --------------------------------------------------- */

/* A 200 with one OSCORE field answering an OSCORE request: 2.04 Changed (s11.6 maps HTTP 200 to
 * 2.04 here), the OSCORE option and the ciphertext, with no Content-Format (s11.3) and nothing
 * else: the origin's other fields are outside the protection. An OSCORE field on another status,
 * repeated, malformed, on an empty body (s2: malformed) or answering a request that was no OSCORE
 * request cannot be understood: 5.02 (RFC 7252 s10.1; s11.1 allows the header on a 200 only,
 * and RFC 8613 says no more). */
static int map_oscore(const char *value, size_t count, unsigned status, hcm_bytes_t body,
                      const hcm_origin_req_t *request, hcm_arena_t *arena, hcm_coap_msg_t *out)
{
    hcm_bytes_t option;
    size_t len;
    int err;

    if (count != 1 || status != 200 || !request->info.is_oscore || body.len == 0)
        return HCM_EBADRESPONSE;
    value = skip_ows(value);
    len = strcspn(value, " \t");
    if (*skip_ows(value + len) != '\0')
        return HCM_EBADRESPONSE;
    if (value[len] != '\0' && (value = hcm_arena_strndup(arena, value, len)) == NULL)
        return HCM_ENOSPACE;
    err = hcm_oscore_header_decode(value, arena, &option);
    if (err != 0)
        return err == HCM_ENOSPACE ? err : HCM_EBADRESPONSE;
    out->code = HCM_CODE(2, 4);
    out->payload = body;
    return hcm_coap_msg_add(out, HCM_OPT_OSCORE, option);
}

int hcm_origin_to_coap(unsigned status, const hcm_header_t *headers, size_t nheaders,
                       hcm_bytes_t body, const hcm_origin_req_t *request, hcm_arena_t *arena,
                       hcm_coap_msg_t *out)
{
    fields_t f = { headers, headers != NULL ? nheaders : 0 };
    size_t count;
    const char *oscore = find_field(&f, "OSCORE", &count);
    int err;

    memset(out, 0, sizeof(*out));
    if (oscore != NULL)
        return map_oscore(oscore, count, status, body, request, arena, out);
    /* Without the OSCORE field even an answer to an OSCORE request is an ordinary one: an
     * unprotected error (RFC 8613 s8.2, s8.4) or an origin that knows no OSCORE. */
    err = map_code(status, request, out);
    if (err != 0)
        return err;
    out->payload = body;
    err = map_etag(&f, arena, out);
    if (err == 0)
        err = map_content_format(&f, body, arena, out);
    if (err == 0)
        err = map_max_age(&f, status, arena, out);
    return err;
}

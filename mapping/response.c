/* A CoAP response -> an HTTP response: status, Content-Type, ETag, freshness, body (RFC 8075 s6
 * and s7, RFC 7252 s10.2). Header names are lower-case; values live in the arena or are
 * constants. */
#include <stdio.h>
#include <string.h>

#include "hcm.h"

/* RFC 7252 s5.10.5: a response without Max-Age is fresh for 60 seconds. */
#define DEFAULT_MAX_AGE 60u

/* How Max-Age reaches HTTP. Other codes pass an explicit Max-Age on as freshness (RFC 7252 s5.6:
 * CoAP caching depends on the code; 4.xx and 5.xx are cacheable, s5.9.2, s5.9.3). Where Max-Age
 * says when to retry, it becomes Retry-After instead. */
typedef struct max_age_rule {
    uint8_t code;
    const char *header; /* NULL: Max-Age means nothing for this code */
    const char *value_prefix;
    bool has_default; /* an absent Max-Age still means 60 seconds */
} max_age_rule_t;

static const max_age_rule_t max_age_rules[] = {
    /* RFC 7252 s5.9.1.1, s5.9.1.2, s5.9.1.4: "This response is not cacheable". */
    { HCM_CODE(2, 1), NULL, NULL, false },
    { HCM_CODE(2, 2), NULL, NULL, false },
    { HCM_CODE(2, 4), NULL, NULL, false },
    /* RFC 7252 s5.9.1.3: 2.03 renews freshness; RFC 9110 s15.4.5: a 304 carries the
     * Cache-Control a 200 would. */
    { HCM_CODE(2, 3), "cache-control", "max-age=", true },
    /* RFC 7252 s10.2.2 via s10.1.1: the max-age of a 2.05 answer, 60 when absent. */
    { HCM_CODE(2, 5), "cache-control", "max-age=", true },
    /* RFC 8516: Max-Age on 4.29 is the time to wait, and its default applies (digest, E). */
    { HCM_CODE(4, 29), "retry-after", "", true },
    /* RFC 8075 Table 2 note 8: Retry-After = Max-Age, only when the server gave one. */
    { HCM_CODE(5, 3), "retry-after", "", false },
};

static const max_age_rule_t other_codes = { 0, "cache-control", "max-age=", false };

static const max_age_rule_t *max_age_rule(uint8_t code)
{
    size_t i;

    for (i = 0; i < HCM_COUNTOF(max_age_rules); i++)
        if (max_age_rules[i].code == code)
            return &max_age_rules[i];
    return &other_codes;
}

static int add_header(hcm_http_resp_t *out, const char *name, const char *value)
{
    if (value == NULL || out->nheaders >= HCM_MAX_HEADERS)
        return HCM_ENOSPACE; /* NULL: the value did not fit in the arena */
    out->headers[out->nheaders++] = (hcm_header_t){ .name = name, .value = value };
    return 0;
}

/* The value of a uint option no longer than |max_len| bytes. RFC 7252 s5.4.3: an elective option
 * with a length out of range is treated as unrecognized, that is ignored (s5.4.1), so a bad one
 * reads as absent. */
static bool option_uint(const hcm_coap_msg_t *in, uint16_t number, size_t max_len, uint32_t *v)
{
    const hcm_option_t *opt = hcm_coap_msg_find(in, number);

    return opt != NULL && opt->value.len <= max_len && hcm_uint_decode(opt->value, v) == 0;
}

/* RFC 8075 s6.2: Content-Format -> Content-Type (+ Content-Encoding for the deflate formats).
 * Without one, an error payload is diagnostic text (RFC 7252 s5.5.2, RFC 8075 s6.5.3), and a
 * success payload has no known format, so it gets no Content-Type (RFC 7252 s5.10.3). */
static int map_content_type(const hcm_coap_msg_t *in, hcm_arena_t *arena, hcm_http_resp_t *out)
{
    const char *type;
    const char *coding = NULL;
    uint32_t cf;
    int err;

    if (option_uint(in, HCM_OPT_CONTENT_FORMAT, 2, &cf)) {
        type = hcm_media_from_content_format((uint16_t)cf, arena, &coding);
        err = add_header(out, "content-type", type);
        if (err == 0 && coding != NULL)
            err = add_header(out, "content-encoding", coding);
        return err;
    }
    if (in->payload.len > 0 && HCM_CODE_CLASS(in->code) >= 4)
        return add_header(out, "content-type", "text/plain; charset=utf-8");
    return 0;
}

/* RFC 7252 s10.2.2: the ETag goes to HTTP as a strong entity-tag, written as quoted lower-case hex
 * (GUIDANCE in the digest, section F). ETag is elective: one outside 1 to 8 bytes is ignored. */
static int map_etag(const hcm_coap_msg_t *in, hcm_arena_t *arena, hcm_http_resp_t *out)
{
    static const char hex[] = "0123456789abcdef";
    const hcm_option_t *etag = hcm_coap_msg_find(in, HCM_OPT_ETAG);
    char *s;
    size_t i;

    if (etag == NULL || etag->value.len < 1 || etag->value.len > 8)
        return 0;
    s = hcm_arena_alloc(arena, 2 * etag->value.len + 3);
    if (s == NULL)
        return HCM_ENOSPACE;
    s[0] = '"';
    for (i = 0; i < etag->value.len; i++) {
        s[1 + 2 * i] = hex[etag->value.p[i] >> 4];
        s[2 + 2 * i] = hex[etag->value.p[i] & 0xf];
    }
    s[1 + 2 * i] = '"';
    s[2 + 2 * i] = '\0';
    return add_header(out, "etag", s);
}

static int map_max_age(const hcm_coap_msg_t *in, hcm_arena_t *arena, hcm_http_resp_t *out)
{
    const max_age_rule_t *rule = max_age_rule(in->code);
    char buf[sizeof("max-age=4294967295")];
    uint32_t seconds;
    int len;

    if (rule->header == NULL)
        return 0;
    if (!option_uint(in, HCM_OPT_MAX_AGE, 4, &seconds)) {
        if (!rule->has_default)
            return 0;
        seconds = DEFAULT_MAX_AGE;
    }
    len = snprintf(buf, sizeof(buf), "%s%lu", rule->value_prefix, (unsigned long)seconds);
    return add_header(out, rule->header, hcm_arena_strndup(arena, buf, (size_t)len));
}

int hcm_response_to_http(const hcm_coap_msg_t *in, hcm_arena_t *arena, hcm_http_resp_t *out)
{
    int err;

    memset(out, 0, sizeof(*out));
    out->status = hcm_status_from_code(in->code, in->payload.len > 0);
    /* RFC 9110 s15.4.5: a 304 has no content, whatever the 2.03 carried. */
    if (out->status != 304)
        out->body = in->payload;
    err = map_content_type(in, arena, out);
    if (err == 0)
        err = map_etag(in, arena, out);
    if (err == 0)
        err = map_max_age(in, arena, out);
    return err;
}

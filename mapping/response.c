/* A CoAP response -> an HTTP response: status, Content-Type, ETag, freshness, Location, body
 * (RFC 8075 s6 and s7, RFC 7252 s10.2). Header names are written as RFC 9110 and RFC 9111 spell
 * them; values live in the arena or are constants. */
#include <stdio.h>
#include <string.h>

#include "hcm_internal.h"

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
    { HCM_CODE(2, 3), "Cache-Control", "max-age=", true },
    /* RFC 7252 s10.2.2 via s10.1.1: the max-age of a 2.05 answer, 60 when absent. */
    { HCM_CODE(2, 5), "Cache-Control", "max-age=", true },
    /* RFC 8516: Max-Age on 4.29 is the time to wait, and its default applies. RFC 8075 is older
     * than 4.29; Retry-After as for 5.03 (its Table 2 note 8) is hcproxy's choice. */
    { HCM_CODE(4, 29), "Retry-After", "", true },
    /* RFC 8075 Table 2 note 8: Retry-After = Max-Age, only when the server gave one. */
    { HCM_CODE(5, 3), "Retry-After", "", false },
};

static const max_age_rule_t other_codes = { 0, "Cache-Control", "max-age=", false };

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
        err = add_header(out, "Content-Type", type);
        if (err == 0 && coding != NULL)
            err = add_header(out, "Content-Encoding", coding);
        return err;
    }
    if (in->payload.len > 0 && HCM_CODE_CLASS(in->code) >= 4)
        return add_header(out, "Content-Type", "text/plain; charset=utf-8");
    return 0;
}

/* RFC 7252 s10.2.2: the ETag goes to HTTP as a strong entity-tag, written as quoted lower-case hex
 * (hcproxy's convention: no RFC gives it an HTTP form). ETag is elective: one outside 1 to 8
 * bytes is ignored. */
static int map_etag(const hcm_coap_msg_t *in, hcm_arena_t *arena, hcm_http_resp_t *out)
{
    const hcm_option_t *etag = hcm_coap_msg_find(in, HCM_OPT_ETAG);
    size_t n;
    char *s;

    if (etag == NULL || etag->value.len < 1 || etag->value.len > 8)
        return 0;
    n = etag->value.len;
    s = hcm_arena_alloc(arena, 2 * n + 3);
    if (s == NULL)
        return HCM_ENOSPACE;
    s[0] = '"';
    hcm__hex_encode(s + 1, etag->value.p, n, HCM__LOWER_HEX);
    s[1 + 2 * n] = '"';
    s[2 + 2 * n] = '\0';
    return add_header(out, "ETag", s);
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

/* What each CoAP option of a response becomes in HTTP (RFC 7252 s10.2, RFC 8075 s6).
 * MAPPED options are written by the map_* functions here; DROPPED ones and those not listed
 * (request options, options hcproxy does not know, all elective in a response or already used by
 * the exchange) give no header; REJECTED ones make the response impossible to translate. */
enum fate { MAPPED, DROPPED, REJECTED };

static const struct option_fate {
    uint16_t number;
    enum fate fate;
} response_options[] = {
    { HCM_OPT_ETAG, MAPPED },           /* ETag: map_etag() */
    { HCM_OPT_OBSERVE, DROPPED },       /* not mapped (headers.def) */
    { HCM_OPT_LOCATION_PATH, MAPPED },  /* Location: map_location() */
    { HCM_OPT_OSCORE, MAPPED },         /* the whole response: hcm__oscore_response() */
    { HCM_OPT_CONTENT_FORMAT, MAPPED }, /* Content-Type (+ Content-Encoding): map_content_type() */
    { HCM_OPT_MAX_AGE, MAPPED },        /* Cache-Control or Retry-After: map_max_age() */
    { HCM_OPT_LOCATION_QUERY, MAPPED }, /* Location: map_location() */
    /* RFC 8075 s8.3: block-wise transfers are hop-internal; the proxy reassembles the body. */
    { HCM_OPT_BLOCK2, DROPPED },
    { HCM_OPT_BLOCK1, DROPPED },
    /* RFC 7959 s4: sizes are estimates; Content-Length is the length of the body itself. */
    { HCM_OPT_SIZE2, DROPPED },
    { HCM_OPT_SIZE1, DROPPED },
    /* RFC 7252 s5.10.7: reserved to extend Location-Path and Location-Query. A response that has
     * one beside a Location option names a location hcproxy cannot build, so it cannot be
     * understood (502); alone, it is an elective option hcproxy ignores (s5.4.1). */
    { 128, REJECTED },
    { 132, REJECTED },
    { 136, REJECTED },
    { 140, REJECTED },
};

static int check_options(const hcm_coap_msg_t *in)
{
    size_t i, j;

    if (hcm_coap_msg_find(in, HCM_OPT_LOCATION_PATH) == NULL &&
        hcm_coap_msg_find(in, HCM_OPT_LOCATION_QUERY) == NULL)
        return 0; /* only the reserved Location options are REJECTED, and only beside these */
    for (i = 0; i < in->nopts; i++)
        for (j = 0; j < HCM_COUNTOF(response_options); j++)
            if (response_options[j].number == in->opts[i].number &&
                response_options[j].fate == REJECTED)
                return HCM_EBADRESPONSE;
    return 0;
}

/* RFC 8075 Table 2 notes 3 and 4: 2.03 is 304 when it answers the client's own validation, and
 * 200 only when a proxy revalidated its cache. hcproxy has no cache, so a 2.03 to a request that
 * sent no ETag cannot be understood: RFC 7252 s10.2 answers that with 502. */
static int map_status(const hcm_coap_msg_t *in, const hcm_resp_ctx_t *ctx, hcm_http_resp_t *out)
{
    if (in->code == HCM_CODE(2, 3) && (ctx == NULL || !ctx->request.is_validation))
        return HCM_EBADRESPONSE;
    out->status = hcm_status_from_code(in->code, in->payload.len > 0);
    /* RFC 9110 s15.4.5: a 304 has no content, whatever the 2.03 carried. */
    if (out->status != 304)
        out->body = in->payload;
    return 0;
}

/* RFC 7252 s10.2.4: Location-Path and Location-Query become Location. */
static int map_location(const hcm_coap_msg_t *in, const hcm_resp_ctx_t *ctx, hcm_arena_t *arena,
                        hcm_http_resp_t *out)
{
    const char *location;
    int err = hcm__location_from_options(in, ctx, arena, &location);

    if (err != 0 || location == NULL)
        return err;
    return add_header(out, "Location", location);
}

int hcm_response_to_http(const hcm_coap_msg_t *in, const hcm_resp_ctx_t *ctx, hcm_arena_t *arena,
                         hcm_http_resp_t *out)
{
    int err;

    memset(out, 0, sizeof(*out));
    if (hcm_coap_msg_find(in, HCM_OPT_OSCORE) != NULL)
        return hcm__oscore_response(in, arena, out);
    err = check_options(in);
    if (err == 0)
        err = map_status(in, ctx, out);
    if (err == 0)
        err = map_content_type(in, arena, out);
    if (err == 0)
        err = map_etag(in, arena, out);
    if (err == 0)
        err = map_max_age(in, arena, out);
    if (err == 0)
        err = map_location(in, ctx, arena, out);
    return err;
}

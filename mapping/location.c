/* Location-Path and Location-Query -> the HTTP Location header (RFC 7252 s5.10.7, s6.5, s10.2.4;
 * RFC 8075 s5.3). The options are a path and a query relative to the request's target; HTTP gets
 * the absolute CoAP URI they name, inside the proxy's hosting URI space so that the client can
 * follow it through hcproxy. */
#include <stdio.h>
#include <string.h>

#include "hcm_internal.h"

/* The characters that RFC 7252 s6.5 leaves as they are besides the unreserved ones: sub-delims in
 * a host name (step 2, a reg-name); sub-delims, ':' and '@' in a path segment (step 6); in a query
 * also '/' and '?', but not '&', which separates arguments (step 8). Every other byte is
 * percent-encoded with upper-case hex (RFC 3986 s2.1). */
static const char *const kept[] = {
    [HCM__URI_HOST] = "!$&'()*+,;=",
    [HCM__URI_PATH] = "!$&'()*+,;=:@",
    [HCM__URI_QUERY] = "!$'()*+,;=:@/?",
};

/* RFC 3986 s2.3: ALPHA / DIGIT / "-" / "." / "_" / "~". */
static bool is_unreserved(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

size_t hcm__uri_encode(char *dst, hcm__uri_part_t part, const uint8_t *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t len = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        if (is_unreserved(s[i]) || (s[i] != '\0' && strchr(kept[part], s[i]) != NULL)) {
            if (dst != NULL)
                dst[len] = (char)s[i];
            len++;
            continue;
        }
        if (dst != NULL) {
            dst[len] = '%';
            dst[len + 1] = hex[s[i] >> 4];
            dst[len + 2] = hex[s[i] & 0xf];
        }
        len += 3;
    }
    return len;
}

/* RFC 7252 s6.5 step 2: an IPv6 literal goes in brackets. In the hosting URI space the brackets
 * are percent-encoded, as RFC 8075 s5.3.2 writes them, since an HTTP path cannot hold them. */
static void put_host(hcm__builder_t *b, const hcm_target_t *t, bool is_in_http)
{
    bool is_ipv6 = t->host_is_literal && strchr(t->host, ':') != NULL;

    if (is_ipv6) {
        hcm__put_str(b, is_in_http ? "%5B" : "[");
        hcm__put_str(b, t->host);
        hcm__put_str(b, is_in_http ? "%5D" : "]");
    } else {
        hcm__put_encoded(b, HCM__URI_HOST, (const uint8_t *)t->host, strlen(t->host));
    }
}

/* RFC 7252 s6.5 step 5: the port only when it is not the scheme's default. */
static void put_port(hcm__builder_t *b, const hcm_target_t *t)
{
    char buf[sizeof(":65535")];
    int len;

    if (t->port == hcm__scheme_default_port(t->scheme))
        return;
    len = snprintf(buf, sizeof(buf), ":%u", (unsigned)t->port);
    hcm__put(b, buf, (size_t)len);
}

/* RFC 7252 s5.10.7: each Location-Path is one segment of an absolute path, each Location-Query
 * one argument of the query; s6.5 steps 6 to 8 write them, with "/" for an empty path. A query
 * alone is the relative reference "?q", which keeps the request's path (RFC 3986 s5.2.2). */
static void put_path_and_query(hcm__builder_t *b, const hcm_coap_msg_t *in,
                               const hcm_target_t *t)
{
    bool has_path = false;
    bool has_query = false;
    size_t i;

    for (i = 0; i < in->nopts; i++) {
        const hcm_option_t *opt = &in->opts[i];

        if (opt->number == HCM_OPT_LOCATION_PATH) {
            hcm__put_str(b, "/");
            hcm__put_encoded(b, HCM__URI_PATH, opt->value.p, opt->value.len);
            has_path = true;
        } else if (opt->number == HCM_OPT_LOCATION_QUERY) {
            if (!has_path)
                hcm__put_str(b, t->path != NULL && t->path[0] != '\0' ? t->path : "/");
            hcm__put_str(b, has_query ? "&" : "?");
            hcm__put_encoded(b, HCM__URI_QUERY, opt->value.p, opt->value.len);
            has_query = has_path = true;
        }
    }
    if (!has_path)
        hcm__put_str(b, "/");
}

static void compose(hcm__builder_t *b, const hcm_coap_msg_t *in, const hcm_resp_ctx_t *ctx)
{
    const hcm_target_t *t = ctx->target;

    if (ctx->hosting_prefix != NULL)
        hcm__put_str(b, ctx->hosting_prefix);
    hcm__put_str(b, hcm_scheme_name(t->scheme));
    hcm__put_str(b, "://");
    put_host(b, t, ctx->hosting_prefix != NULL);
    put_port(b, t);
    put_path_and_query(b, in, t);
}

static bool is_dot_segment(hcm_bytes_t v)
{
    return (v.len == 1 && v.p[0] == '.') || (v.len == 2 && v.p[0] == '.' && v.p[1] == '.');
}

/* Whether the response has Location options, and whether they are valid: RFC 7252 s5.10.7, the
 * values MUST NOT be "." or "..". */
static int location_options(const hcm_coap_msg_t *in, bool *has_location)
{
    size_t i;

    *has_location = false;
    for (i = 0; i < in->nopts; i++) {
        const hcm_option_t *opt = &in->opts[i];

        if (opt->number != HCM_OPT_LOCATION_PATH && opt->number != HCM_OPT_LOCATION_QUERY)
            continue;
        if (is_dot_segment(opt->value))
            return HCM_EBADRESPONSE;
        *has_location = true;
    }
    return 0;
}

int hcm__location_from_options(const hcm_coap_msg_t *in, const hcm_resp_ctx_t *ctx,
                               hcm_arena_t *arena, const char **location)
{
    hcm__builder_t b = { 0 };
    bool has_location;
    int err = location_options(in, &has_location);

    *location = NULL;
    /* Without the request's target there is nothing to resolve the reference against. */
    if (err != 0 || !has_location || ctx == NULL || ctx->target == NULL)
        return err;
    if (hcm_scheme_name(ctx->target->scheme) == NULL || ctx->target->host == NULL)
        return HCM_EINTERNAL;
    compose(&b, in, ctx);
    b.p = hcm_arena_alloc(arena, b.len + 1);
    if (b.p == NULL)
        return HCM_ENOSPACE;
    b.len = 0;
    compose(&b, in, ctx);
    b.p[b.len] = '\0';
    *location = b.p;
    return 0;
}

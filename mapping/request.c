/* A whole HTTP request -> a CoAP request: method, target, Content-Type, body (RFC 7252 s10.2,
 * RFC 8075 s5 and s6). */
#include <string.h>

#include "hcm.h"

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Whether the |len| bytes at |s| equal |lower_word| ignoring ASCII case. */
static bool eq_nocase(const char *s, size_t len, const char *lower_word)
{
    size_t i;

    if (len != strlen(lower_word))
        return false;
    for (i = 0; i < len; i++)
        if (lower(s[i]) != lower_word[i])
            return false;
    return true;
}

/* The first field called |lower_name| (field names are case-insensitive, RFC 9110 s5.1), or
 * NULL. */
static const char *header_get(const hcm_http_req_t *in, const char *lower_name)
{
    size_t i;

    for (i = 0; i < in->nheaders; i++) {
        const char *name = in->headers[i].name;

        if (name != NULL && eq_nocase(name, strlen(name), lower_name))
            return in->headers[i].value;
    }
    return NULL;
}

/* Whether a Content-Encoding names a coding other than identity (RFC 9110 s8.4.1). */
static bool has_coding(const char *coding)
{
    size_t len;

    if (coding == NULL)
        return false;
    coding += strspn(coding, " \t");
    len = strlen(coding);
    while (len > 0 && (coding[len - 1] == ' ' || coding[len - 1] == '\t'))
        len--;
    return len > 0 && !eq_nocase(coding, len, "identity");
}

/* RFC 8075 s6.1: Content-Type and Content-Encoding together become one Content-Format, and one
 * that cannot SHALL be answered with 415. A body without Content-Type goes without Content-Format
 * (RFC 7252 s5.10.3 lets the format be unknown), unless it carries a coding the server would
 * have no way to learn of. */
static int map_content_format(const hcm_http_req_t *in, hcm_arena_t *arena, hcm_coap_msg_t *out)
{
    const char *type = header_get(in, "content-type");
    const char *coding = header_get(in, "content-encoding");
    uint16_t cf;
    int err;

    if (type == NULL)
        return in->body.len > 0 && has_coding(coding) ? HCM_EMEDIA : 0;
    err = hcm_content_format_from_media(type, coding, &cf);
    if (err != 0)
        return err;
    return hcm_coap_msg_add_uint(out, arena, HCM_OPT_CONTENT_FORMAT, cf);
}

int hcm_request_to_coap(const hcm_http_req_t *in, hcm_arena_t *arena, hcm_target_t *target,
                        hcm_coap_msg_t *out)
{
    int err;

    memset(out, 0, sizeof(*out));
    err = hcm_method_to_code(in->method, &out->code);
    if (err == 0)
        err = hcm_target_parse(in->target_uri, arena, target, out);
    if (err == 0)
        err = map_content_format(in, arena, out);
    if (err != 0)
        return err;
    out->payload = in->body; /* a view: the body stays where the caller keeps it */
    return 0;
}

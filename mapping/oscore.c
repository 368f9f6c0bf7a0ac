/* OSCORE across an HTTP hop (RFC 8613 s11): the OSCORE header field <-> the OSCORE option, and
 * application/oscore <-> a payload without Content-Format. hcproxy holds no key: it moves the
 * option value and the ciphertext byte for byte and adds no Class E item of its own. */
#include <string.h>
#include <strings.h>

#include "hcm_internal.h"

#define OSCORE_MEDIA_TYPE "application/oscore"
/* RFC 8613 s2: the option is 0 to 255 bytes; its base64url form is at most 340 characters. */
#define OSCORE_MAX_OPTION 255

static int b64url_value(char c)
{
    const char *b64url = hcm__base64_alphabet(HCM__BASE64URL);
    const char *p = c != '\0' ? strchr(b64url, c) : NULL;

    return p != NULL ? (int)(p - b64url) : -1;
}

/* RFC 4648 s5 without padding, and canonical: a length of 1 mod 4 cannot be, and the bits beyond
 * the last whole byte must be zero, so that one value has one spelling (RFC 4648 s3.5; the RFC 8613
 * s11.1 ABNF allows no padding, and hcproxy refuses the other spellings). */
static int b64url_decode(const char *s, size_t len, uint8_t *out, size_t *out_len)
{
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t n = 0;

    if (len % 4 == 1)
        return HCM_EBADOSCORE;
    for (size_t i = 0; i < len; i++) {
        int v = b64url_value(s[i]);
        if (v < 0)
            return HCM_EBADOSCORE;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    if ((acc & ((1u << bits) - 1)) != 0)
        return HCM_EBADOSCORE;
    *out_len = n;
    return 0;
}

int hcm_oscore_header_decode(const char *value, hcm_arena_t *arena, hcm_bytes_t *option)
{
    size_t len = strlen(value), n = 0;
    uint8_t *buf;
    int err;

    /* RFC 8613 s11.1: OSCORE = 2*base64url-char, at most the encoding of 255 bytes. */
    if (len < 2 || len > (OSCORE_MAX_OPTION * 4 + 2) / 3)
        return HCM_EBADOSCORE;
    buf = hcm_arena_alloc(arena, len * 3 / 4 + 1);
    if (buf == NULL)
        return HCM_ENOSPACE;
    if ((err = b64url_decode(value, len, buf, &n)) != 0)
        return err;
    /* RFC 8613 s11.3: "AA", the single byte 0x00, is the empty option. */
    if (n == 1 && buf[0] == 0x00)
        n = 0;
    *option = (hcm_bytes_t){buf, n};
    return 0;
}

const char *hcm_oscore_header_encode(hcm_bytes_t option, hcm_arena_t *arena)
{
    size_t len = hcm__base64_encode(NULL, HCM__BASE64URL, option.p, option.len);
    char *s = hcm_arena_alloc(arena, len > 2 ? len + 1 : 3);

    if (s == NULL)
        return NULL;
    if (option.len == 0)
        return strcpy(s, "AA"); /* RFC 8613 s11.2 */
    hcm__base64_encode(s, HCM__BASE64URL, option.p, option.len);
    s[len] = '\0';
    return s;
}

/* ---- requests ---------------------------------------------------------------------------- */

static const char *find_header(const hcm_http_req_t *in, const char *name, size_t *count)
{
    const char *value = NULL;

    *count = 0;
    for (size_t i = 0; i < in->nheaders; i++) {
        if (in->headers[i].name != NULL && strcasecmp(in->headers[i].name, name) == 0) {
            if ((*count)++ == 0)
                value = in->headers[i].value != NULL ? in->headers[i].value : "";
        }
    }
    return value;
}

/* "application/oscore", in any case, with white space around it; it has no parameters
 * (RFC 8613 s13.5). */
bool hcm__is_oscore_type(const char *content_type)
{
    size_t n = strlen(OSCORE_MEDIA_TYPE);

    if (content_type == NULL)
        return false;
    content_type += strspn(content_type, " \t");
    return strncasecmp(content_type, OSCORE_MEDIA_TYPE, n) == 0 &&
           content_type[n + strspn(content_type + n, " \t")] == '\0';
}

bool hcm__is_oscore_request(const hcm_http_req_t *in)
{
    size_t count;
    const char *type = find_header(in, "content-type", &count);

    return find_header(in, "oscore", &count) != NULL || hcm__is_oscore_type(type);
}

/* RFC 8613 s11.1 and s11.3: a POST with exactly one OSCORE field, Content-Type
 * application/oscore and a body becomes a CoAP POST with the OSCORE option, the body as payload
 * and no Content-Format; a FETCH likewise becomes a CoAP FETCH: s4.2 makes FETCH the outer code
 * of an Observe registration or cancellation (s4.1.3.5.1), POST that of every other request.
 * Another method is no OSCORE outer code; what the RFC leaves open (a second field, the header
 * without the media type or the reverse) hcproxy refuses with 400 as well. */
int hcm__oscore_request(const hcm_http_req_t *in, hcm_arena_t *arena, hcm_coap_msg_t *out)
{
    size_t count, types;
    const char *header = find_header(in, "oscore", &count);
    const char *type = find_header(in, "content-type", &types);
    hcm_bytes_t option;
    int err;

    if (header == NULL || count != 1 || types != 1 || !hcm__is_oscore_type(type))
        return HCM_EOSCORETYPE;
    if (out->code != HCM_POST && out->code != HCM_FETCH)
        return HCM_EOSCOREMETHOD;
    if (in->body.len == 0)
        return HCM_EOSCOREEMPTY; /* RFC 8613 s2: an OSCORE message without payload is malformed */
    if ((err = hcm_oscore_header_decode(header, arena, &option)) != 0)
        return err;
    return hcm_coap_msg_add(out, HCM_OPT_OSCORE, option);
}

/* RFC 8613 s4.1.3.3: the path and query of an OSCORE request travel inside the ciphertext; outer
 * Uri-Path or Uri-Query would be Class E items that hcproxy made up. */
int hcm__oscore_check_target(const hcm_coap_msg_t *out)
{
    if (hcm_coap_msg_find(out, HCM_OPT_URI_PATH) != NULL ||
        hcm_coap_msg_find(out, HCM_OPT_URI_QUERY) != NULL)
        return HCM_EOSCOREPATH;
    return 0;
}

/* ---- responses --------------------------------------------------------------------------- */

static int add_header(hcm_http_resp_t *out, const char *name, const char *value)
{
    if (value == NULL || out->nheaders >= HCM_MAX_HEADERS)
        return HCM_ENOSPACE;
    out->headers[out->nheaders++] = (hcm_header_t){.name = name, .value = value};
    return 0;
}

/* RFC 8613 s11.2: an OSCORE response is 200 (outer 2.04, or 2.05 for a notification, both with
 * the ciphertext as payload) with the OSCORE header, application/oscore whatever Content-Format
 * says, and the body unchanged. Outer Class E options mean nothing (s8.4 step 1), so nothing else
 * is mapped; OSCORE responses are not for caches (s10, s11.1). */
int hcm__oscore_response(const hcm_coap_msg_t *in, hcm_arena_t *arena, hcm_http_resp_t *out)
{
    const hcm_option_t *option = hcm_coap_msg_find(in, HCM_OPT_OSCORE);
    int err;

    if (in->payload.len == 0 || (in->code != HCM_CODE(2, 4) && in->code != HCM_CODE(2, 5)))
        return HCM_EBADRESPONSE; /* s2: malformed; s11.1: the header exists only on a 200 */
    out->status = 200;
    out->body = in->payload;
    err = add_header(out, "Content-Type", OSCORE_MEDIA_TYPE);
    if (err == 0)
        err = add_header(out, "OSCORE", hcm_oscore_header_encode(option->value, arena));
    if (err == 0)
        err = add_header(out, "Cache-Control", "no-cache");
    return err;
}

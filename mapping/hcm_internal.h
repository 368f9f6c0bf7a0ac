/* Private to mapping/: what its files share. Not part of the public hcm.h. */
#ifndef HCM_INTERNAL_H
#define HCM_INTERNAL_H

#include <string.h>

#include <uriparser/Uri.h>

#include "hcm.h"

/* The HTTP headers of a request, mapped onto |out| (headers.c, driven by headers.def). Fills
 * info->is_validation. HCM_EMEDIA, HCM_EBADHEADER, HCM_ELOOP, HCM_ENOSPACE. */
int hcm__headers_to_coap(const hcm_http_req_t *in, hcm_arena_t *arena, hcm_coap_msg_t *out,
                         hcm_req_info_t *info);

/* The choice among Accept fields (RFC 9110 s12.5.1), built up one field at a time (media.c). */
typedef struct hcm__accept {
    unsigned q;       /* the best weight so far, in thousandths; 0 while there is no candidate */
    bool is_wildcard; /* the best is a media range: no Accept option at all */
    uint16_t cf;      /* otherwise the Content-Format of the best */
} hcm__accept_t;

/* Considers every element of one Accept field value. Malformed elements are skipped. */
void hcm__accept_scan(hcm__accept_t *best, const char *list);

/* How specifically a media range names a type (RFC 9110 s12.5.1), least first. */
enum hcm__rank { HCM__RANK_NONE, HCM__RANK_ALL_TYPES, HCM__RANK_ALL_SUBTYPES, HCM__RANK_TYPE };

/* The weight one media type gets from Accept fields (RFC 9110 s12.5.1), built up one field at a
 * time (media.c): |type| and |subtype| are set by the caller, the rest starts zeroed. */
typedef struct hcm__weight {
    const char *type;    /* "text" */
    const char *subtype; /* "event-stream" */
    unsigned rank;       /* enum hcm__rank: the most specific range that named the type */
    unsigned q;          /* that range's weight, in thousandths */
} hcm__weight_t;

/* Weighs each of the |nw| types of |w| against every element of one Accept field value, and
 * raises |*top| to the highest weight of any element. Malformed elements are skipped. */
void hcm__accept_weigh(hcm__weight_t *w, size_t nw, unsigned *top, const char *list);

/* The HTTP Location for a response's Location-Path and Location-Query options (location.c).
 * *location is NULL when the response has none, or when |ctx| gives no target to resolve them
 * against. HCM_EBADRESPONSE for a "." or ".." segment (RFC 7252 s5.10.7), HCM_ENOSPACE. */
int hcm__location_from_options(const hcm_coap_msg_t *in, const hcm_resp_ctx_t *ctx,
                               hcm_arena_t *arena, const char **location);

/* RFC 7252 s6.5 (location.c): the parts of a URI, each with its own set of characters that stay
 * as they are. */
typedef enum hcm__uri_part { HCM__URI_HOST, HCM__URI_PATH, HCM__URI_QUERY } hcm__uri_part_t;
/* Writes the |n| bytes at |s| into |dst| percent-encoded for |part|, with upper-case hex; with
 * |dst| NULL writes nothing. Returns the length of the encoded text either way. */
size_t hcm__uri_encode(char *dst, hcm__uri_part_t part, const uint8_t *s, size_t n);

/* Text being built; with |p| NULL only its length is counted, so that the arena is asked once for
 * exactly what the text needs (location.c, origin_url.c). */
typedef struct hcm__builder {
    char *p;
    size_t len;
} hcm__builder_t;

static inline void hcm__put(hcm__builder_t *b, const void *s, size_t n)
{
    if (b->p != NULL && n > 0) /* |s| may be NULL when |n| is 0 */
        memcpy(b->p + b->len, s, n);
    b->len += n;
}

static inline void hcm__put_str(hcm__builder_t *b, const char *s)
{
    hcm__put(b, s, strlen(s));
}

static inline void hcm__put_encoded(hcm__builder_t *b, hcm__uri_part_t part, const void *s, size_t n)
{
    b->len += hcm__uri_encode(b->p != NULL ? b->p + b->len : NULL, part, s, n);
}

/* RFC 4648 s4 (padded) and s5 (URL-safe, unpadded) base64 (base64.c). */
typedef enum hcm__base64 { HCM__BASE64, HCM__BASE64URL } hcm__base64_t;
/* The 64 digits of |kind|, in order. */
const char *hcm__base64_alphabet(hcm__base64_t kind);
/* Writes the |n| bytes at |p| into |dst| in |kind|'s form, without a terminating NUL; with |dst|
 * NULL writes nothing. Returns the length of the text either way. */
size_t hcm__base64_encode(char *dst, hcm__base64_t kind, const uint8_t *p, size_t n);

/* RFC 9110 s5.6.2: a token character. strchr() also finds the terminating NUL, hence c != 0. */
static inline bool hcm__is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* ASCII only: HTTP's and CoAP's case-insensitive tokens are ASCII, and no locale may change
 * what they mean. */
static inline char hcm__lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Lower-case hex digits, as hcproxy writes a CoAP ETag for HTTP (response.c, observe.c). */
#define HCM__LOWER_HEX "0123456789abcdef"

/* Writes the |n| bytes at |p| at |dst| as 2 * |n| hex digits taken from |digits| (16 of them, of
 * one case); no terminating NUL. */
static inline void hcm__hex_encode(char *dst, const uint8_t *p, size_t n, const char *digits)
{
    for (size_t i = 0; i < n; i++) {
        dst[2 * i] = digits[p[i] >> 4];
        dst[2 * i + 1] = digits[p[i] & 0xf];
    }
}

/* The value of one hex digit of either case; -1 for any other character. */
static inline int hcm__hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = hcm__lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* uriparser over the arena instead of malloc() (target.c). |mem| must live as long as |u|. */
typedef struct hcm__uri_memory {
    UriMemoryManager backend; /* malloc and free over the arena */
    UriMemoryManager full;    /* uriparser's completion of it: calloc, realloc, reallocarray */
} hcm__uri_memory_t;
/* Parses |uri| into |u|: 0, HCM_EBADTARGET for a syntax error (malformed percent-encodings
 * included), HCM_ENOSPACE. */
int hcm__uri_parse(const char *uri, hcm_arena_t *arena, hcm__uri_memory_t *mem, UriUriA *u);

/* RFC 3986 s3.2.3: |u|'s port into |*port|, |default_port| when it has none or an empty one
 * ("coap://h:/"); uriparser lets only digits through. HCM_EBADPORT for 0 or beyond 65535. */
int hcm__uri_port(const UriUriA *u, uint16_t default_port, uint16_t *port);

/* The path of an absolute URI as written, from the '/' after the authority to before any '?' or
 * '#' ("" for none), copied into |arena|: for the path rules of upstream.allow and origin.allow.
 * 0 or HCM_ENOSPACE. */
int hcm__uri_path(const char *uri, hcm_arena_t *arena, const char **path);

/* The default port of |scheme| (RFC 7252 s6.1, s6.2; RFC 8323 s8.1, s8.2); 0 if unknown. */
uint16_t hcm__scheme_default_port(hcm_scheme_t scheme);

/* OSCORE (oscore.c, RFC 8613 s11). Whether the request carries an OSCORE header or
 * Content-Type application/oscore; then its OSCORE option onto |out| (whose code is set), or
 * HCM_EOSCORE* / HCM_EBADOSCORE; then that the target left no outer Uri-Path or Uri-Query. */
bool hcm__is_oscore_request(const hcm_http_req_t *in);
/* Whether |content_type| is application/oscore (any case, white space around it). */
bool hcm__is_oscore_type(const char *content_type);
int hcm__oscore_request(const hcm_http_req_t *in, hcm_arena_t *arena, hcm_coap_msg_t *out);
int hcm__oscore_check_target(const hcm_coap_msg_t *out);
/* An OSCORE response (one with the OSCORE option) onto |out|: 200, OSCORE, application/oscore,
 * the body unchanged. HCM_EBADRESPONSE when it cannot be an OSCORE message. */
int hcm__oscore_response(const hcm_coap_msg_t *in, hcm_arena_t *arena, hcm_http_resp_t *out);

/* "application/coap-payload; cf=N" (RFC 8075 s6.2), read back into N (media.c). HCM_EMEDIA for
 * any other media type, or a cf that is not a number from 0 to 65535. */
int hcm__content_format_from_coap_payload(const char *content_type, uint16_t *cf);
/* An HTTP-date in any of its three forms (RFC 9110 s5.6.7) as seconds since 1970 (httpdate.c).
 * false for anything else. */
bool hcm__http_date(const char *s, long long *out);

/* ---- the reverse direction (RFC 7252 s10.1) ------------------------------------------------- */

/* The origin's URL for a CoAP request (origin_url.c): fills out->url, scheme, host and port from
 * Proxy-Uri, Proxy-Scheme + Uri-*, or |route_base| + Uri-Path/Uri-Query, as hcm_coap_to_origin()
 * tells. |*has_path| says whether the client itself named a path or query beyond "/" and the
 * route's, which an OSCORE request may not (RFC 8613 s4.1.3.3). HCM_ENOTPROXY, HCM_ETRANSPORT,
 * HCM_EBADTARGET, HCM_EBADPORT, HCM_EDOTSEGMENT, HCM_EINTERNAL (a bad |route_base|),
 * HCM_ENOSPACE. */
int hcm__origin_url(const hcm_coap_msg_t *in, const char *route_base, size_t route_skip,
                    hcm_arena_t *arena, hcm_origin_req_t *out, bool *has_path);
/* The same for an absolute http(s) URI as it stands (a resolved Location): the path and query go
 * on as written. HCM_ETRANSPORT, HCM_EBADTARGET, HCM_EBADPORT, HCM_ENOSPACE. */
int hcm__origin_url_absolute(const char *uri, hcm_arena_t *arena, hcm_origin_req_t *out);

/* HTTP entity-tags <-> CoAP ETags in the reverse direction (etag.c; hcproxy's convention: no RFC
 * says how they map). The ETag for a strong entity-tag field value, written into |etag|: its value
 * decoded from hex when it is 2 to 16 hex digits of one case, else its bytes when there are 1 to 8
 * of them. False for a weak or malformed tag, or one that does not fit. */
bool hcm__etag_from_entity_tag(const char *value, uint8_t etag[8], size_t *len);
/* Appends to |list| (at |*len|, when |list| is not NULL) every entity-tag that
 * hcm__etag_from_entity_tag() turns into |etag|, quoted and separated by ", ", so that a tag
 * goes back to the origin the way the origin spelt it. Returns nothing; |*len| grows by the
 * length written or needed. */
void hcm__etag_to_entity_tags(hcm_bytes_t etag, char *list, size_t *len);

#endif

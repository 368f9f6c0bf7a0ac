/* hcm: the HTTP <-> CoAP mapping engine of hcproxy.
 *
 * Pure functions over plain data: no I/O, no clock, no logging, no allocation of its own.
 * Whatever a function produces lives in the caller's input or in the caller's arena, and every
 * function returns 0 or a negative HCM_E* code (see errors.def), whose HTTP status, CoAP code and
 * one-line reason come from hcm_err_status(), hcm_err_code() and hcm_strerror(). */
#ifndef HCM_H
#define HCM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HCM_COUNTOF(a) (sizeof(a) / sizeof((a)[0]))

/* ---- errors ---------------------------------------------------------------------------- */

/* Negative codes from -1000 up, so that they never collide with libuv's negative errno. */
enum hcm_error {
    HCM_EBASE = -1000,
#define HCM_ERR(name, status, coap, reason) HCM_E##name,
#include "errors.def"
#undef HCM_ERR
    HCM_ELAST
};

/* The one-line reason for |err|; "unknown error" for a code not in errors.def. */
const char *hcm_strerror(int err);
/* The HTTP status hcproxy answers |err| with; 500 for a code not in errors.def. */
unsigned hcm_err_status(int err);

/* ---- memory ---------------------------------------------------------------------------- */

typedef struct hcm_bytes {
    const uint8_t *p;
    size_t len;
} hcm_bytes_t;

/* A bump allocator over memory the caller owns; one per exchange. Nothing is freed singly. */
typedef struct hcm_arena {
    uint8_t *base;
    size_t size;
    size_t used;
} hcm_arena_t;

void hcm_arena_init(hcm_arena_t *arena, void *buf, size_t size);
/* |n| bytes aligned to 8, or NULL when the arena is full. */
void *hcm_arena_alloc(hcm_arena_t *arena, size_t n);
/* A NUL-terminated copy of |len| bytes of |s|, or NULL when the arena is full. */
char *hcm_arena_strndup(hcm_arena_t *arena, const char *s, size_t len);

/* ---- CoAP numbers (RFC 7252 s12, RFC 7959, RFC 8132, RFC 8613, RFC 8768) ------------------ */

#define HCM_CODE(class, detail) ((uint8_t)(((class) << 5) | (detail)))
#define HCM_CODE_CLASS(code) ((unsigned)(code) >> 5)
#define HCM_CODE_DETAIL(code) ((unsigned)(code) & 0x1f)

enum hcm_method_code {
    HCM_GET = 1, HCM_POST = 2, HCM_PUT = 3, HCM_DELETE = 4,
    HCM_FETCH = 5, HCM_PATCH = 6, HCM_IPATCH = 7,
};

enum hcm_option_number {
    HCM_OPT_IF_MATCH = 1, HCM_OPT_URI_HOST = 3, HCM_OPT_ETAG = 4, HCM_OPT_IF_NONE_MATCH = 5,
    HCM_OPT_OBSERVE = 6, HCM_OPT_URI_PORT = 7, HCM_OPT_LOCATION_PATH = 8, HCM_OPT_OSCORE = 9,
    HCM_OPT_URI_PATH = 11, HCM_OPT_CONTENT_FORMAT = 12, HCM_OPT_MAX_AGE = 14,
    HCM_OPT_URI_QUERY = 15, HCM_OPT_HOP_LIMIT = 16, HCM_OPT_ACCEPT = 17,
    HCM_OPT_LOCATION_QUERY = 20, HCM_OPT_BLOCK2 = 23, HCM_OPT_BLOCK1 = 27, HCM_OPT_SIZE2 = 28,
    HCM_OPT_PROXY_URI = 35, HCM_OPT_PROXY_SCHEME = 39, HCM_OPT_SIZE1 = 60, HCM_OPT_ECHO = 252,
    HCM_OPT_NO_RESPONSE = 258,
};

/* ---- messages -------------------------------------------------------------------------- */

#define HCM_MAX_OPTIONS 64

typedef struct hcm_option {
    uint16_t number;
    hcm_bytes_t value;
} hcm_option_t;

/* A CoAP request or response without its transport framing (type, message id, token). */
typedef struct hcm_coap_msg {
    uint8_t code;                       /* class << 5 | detail, as on the wire */
    hcm_option_t opts[HCM_MAX_OPTIONS]; /* sorted by number; equal numbers keep their order */
    size_t nopts;
    hcm_bytes_t payload;
} hcm_coap_msg_t;

/* Inserts an option after any with a number <= |number|. HCM_ENOSPACE when full. */
int hcm_coap_msg_add(hcm_coap_msg_t *msg, uint16_t number, hcm_bytes_t value);
/* Adds a uint option in its shortest encoding (RFC 7252 s3.2), stored in |arena|. */
int hcm_coap_msg_add_uint(hcm_coap_msg_t *msg, hcm_arena_t *arena, uint16_t number,
                          uint32_t value);
/* The bytes |msg|'s option values (and payload, |with_payload|) take. */
size_t hcm_coap_msg_size(const hcm_coap_msg_t *msg, bool with_payload);
/* |msg| into |out|, its option values (and payload, |with_payload|; else |out| points to
 * |msg|'s) copied to |bytes|, which holds hcm_coap_msg_size() of them. */
void hcm_coap_msg_copy(hcm_coap_msg_t *out, uint8_t *bytes, const hcm_coap_msg_t *msg,
                       bool with_payload);
/* The first option with |number|, or NULL. */
const hcm_option_t *hcm_coap_msg_find(const hcm_coap_msg_t *msg, uint16_t number);
/* The value of a uint option; values longer than 4 bytes are HCM_EBADRESPONSE. */
int hcm_uint_decode(hcm_bytes_t value, uint32_t *out);

/* ---- wire.c: CoAP over UDP datagrams (RFC 7252 s3) and the option rules (s5.4) ------------ */

enum hcm_coap_type { HCM_CON = 0, HCM_NON = 1, HCM_ACK = 2, HCM_RST = 3 };

#define HCM_MAX_TOKEN 8

/* The message layer's part of a datagram: what hcm_coap_msg_t leaves out. */
typedef struct hcm_coap_header {
    uint8_t type; /* enum hcm_coap_type */
    uint8_t token_len;
    uint16_t mid;
    uint8_t token[HCM_MAX_TOKEN];
} hcm_coap_header_t;

/* What a received datagram is. */
typedef enum hcm_wire_verdict {
    HCM_WIRE_MESSAGE,   /* well formed: the header and the message are filled in */
    HCM_WIRE_IGNORE,    /* shorter than a header, or not version 1: silently ignored (s3) */
    HCM_WIRE_MALFORMED, /* a readable header before a format error: only the header is filled in;
                           a CON is rejected with a Reset (s4.2), a NON may be (s4.3) */
} hcm_wire_verdict_t;

/* Decodes one datagram. Option values and the payload point into |dgram|. |why|, which may be
 * NULL, names the format error of a MALFORMED datagram for a log line. More than HCM_MAX_OPTIONS
 * options is MALFORMED too: hcproxy cannot hold them. */
hcm_wire_verdict_t hcm_coap_decode(hcm_bytes_t dgram, hcm_coap_header_t *hdr,
                                   hcm_coap_msg_t *msg, const char **why);
/* Encodes |hdr| and |msg| into |out|: the datagram's length, or 0 when it needs more than |size|
 * bytes or cannot be encoded (a token longer than 8 bytes, an option value over 65804 bytes). */
size_t hcm_coap_encode(const hcm_coap_header_t *hdr, const hcm_coap_msg_t *msg, uint8_t *out,
                       size_t size);

/* RFC 7252 s5.4.6: the class bits of an option number. */
static inline bool hcm_option_is_critical(uint16_t number) { return number & 1; }
static inline bool hcm_option_is_unsafe(uint16_t number) { return number & 2; }

/* One row of options.def: an option hcproxy recognizes. */
typedef struct hcm_option_info {
    uint16_t number;
    const char *name;
    uint16_t min_len, max_len;
    bool is_repeatable;
} hcm_option_info_t;

/* The row for |number|, or NULL for an option hcproxy does not recognize. */
const hcm_option_info_t *hcm_option_info(uint16_t number);
/* Whether |opt|, the |nth| (from 0) option of its number in a message, is recognized: in
 * options.def, of a length in range, and first or repeatable (RFC 7252 s5.4.3, s5.4.5). */
bool hcm_option_is_recognized(const hcm_option_t *opt, size_t nth);
/* RFC 7252 s5.4.1, s5.4.3, s5.4.5 for a message a recipient acts on: removes every unrecognized
 * elective option from |msg| and returns 0, or returns HCM_EBADOPTION with |*bad| set to the
 * first unrecognized critical option's number (|msg| is then left as it was). */
int hcm_coap_screen_options(hcm_coap_msg_t *msg, uint16_t *bad);

/* ---- methods, codes, media types ------------------------------------------------------- */

/* The CoAP method code for an HTTP method token (case-sensitive, RFC 9110 s9.1), or
 * HCM_ENOMETHOD for OPTIONS, TRACE, CONNECT and every method CoAP does not have. */
int hcm_method_to_code(const char *method, uint8_t *code);

/* The HTTP status for a CoAP response code (RFC 8075 s7 Table 2; RFC 7252 s10.2 for 2.02 and
 * 2.04, which become 204 when there is no payload). Unknown codes fall back to x00 of their class
 * and codes that must never reach HTTP (2.31, 4.08, non-responses) give 502. */
unsigned hcm_status_from_code(uint8_t code, bool has_payload);
/* "Not Found" for 4.04; NULL for a code not in the table. */
const char *hcm_code_name(uint8_t code);

/* The Content-Format for an HTTP Content-Type and Content-Encoding (either may be NULL or "").
 * Type, subtype and parameter names compare case-insensitively, white space around ';' and '='
 * is ignored, and the charset value compares case-insensitively (RFC 8075 s6). HCM_EMEDIA when
 * there is no registry entry. */
int hcm_content_format_from_media(const char *content_type, const char *content_encoding,
                                  uint16_t *cf);
/* RFC 8075 s6.3, the optional loose mapping: the Content-Format of the same type without its
 * parameters, else of the generalized type that Table 1 gives (a +json suffix -> 50, text/xml ->
 * 41, other text types -> 0, the rest -> 42).
 * Only for a type hcm_content_format_from_media() has no entry for. HCM_EMEDIA for a malformed
 * type, a coding other than identity, or application/coap-payload (s6.2). */
int hcm_content_format_loose(const char *content_type, const char *content_encoding,
                             uint16_t *cf);
/* The Content-Type for a Content-Format, and in |*content_encoding| the coding ("deflate") or
 * NULL. Unknown numbers become "application/coap-payload;cf=N", written into |arena|
 * (RFC 8075 s6.2). NULL only when the arena is full. */
const char *hcm_media_from_content_format(uint16_t cf, hcm_arena_t *arena,
                                          const char **content_encoding);

/* Whether a payload of Content-Format |cf| is text: a text type, JSON, XML, CoRE Link Format or
 * JavaScript (a +json or +xml suffix included) without a content coding. False for numbers not in
 * the registry. Text may still be malformed: hcm_sse_event() checks its UTF-8. */
bool hcm_content_format_is_text(uint16_t cf);

/* ---- target URIs (RFC 8075 s5, RFC 7252 s6.4) ------------------------------------------- */

typedef enum hcm_scheme {
    HCM_SCHEME_COAP,
    HCM_SCHEME_COAPS,
    HCM_SCHEME_COAP_TCP,
    HCM_SCHEME_COAPS_TCP,
} hcm_scheme_t;

typedef struct hcm_target {
    hcm_scheme_t scheme;
    const char *host;     /* percent-decoded, lower-cased; an IPv6 literal has no brackets */
    bool host_is_literal; /* an IPv4 or IPv6 literal, sent as no Uri-Host */
    uint16_t port;        /* explicit, or the scheme's default */
    const char *path;     /* as written, from its first '/' ("/a/b%20c"); "" for none */
} hcm_target_t;

/* The name of a scheme as it appears in URIs ("coap+tcp"). */
const char *hcm_scheme_name(hcm_scheme_t scheme);

/* Recovers the target CoAP URI from a raw HTTP request-target, exactly as sent: the default
 * mapping "<prefix><target>" (RFC 8075 s5.3) or "<prefix>?target_uri=<target>" (s5.4.1).
 * |prefix| is the HC proxy path, such as "/hc/". %5B and %5D around an IPv6 literal are
 * decoded (s5.3.2); everything else is left for hcm_target_parse(). HCM_ENOTPROXY when |raw|
 * is outside |prefix|. */
int hcm_target_extract(const char *raw, const char *prefix, hcm_arena_t *arena,
                       const char **target_uri);

/* Parses a CoAP URI into |target| and appends its Uri-Host, Uri-Path and Uri-Query options
 * to |msg| (RFC 7252 s6.4; Uri-Port is never needed, the datagram goes to that port). */
int hcm_target_parse(const char *uri, hcm_arena_t *arena, hcm_target_t *target,
                     hcm_coap_msg_t *msg);

/* ---- whole messages -------------------------------------------------------------------- */

typedef struct hcm_header {
    const char *name;  /* compared case-insensitively */
    const char *value;
} hcm_header_t;

/* ---- framing.c: whether an HTTP request's body is delimited unambiguously (RFC 9112 s6) ---- */

typedef struct hcm_framing {
    unsigned hosts;      /* Host field lines */
    unsigned codings;    /* Transfer-Encoding field lines */
    const char *coding;  /* the last of them */
    const char *length;  /* the last Content-Length */
    bool length_is_bad;  /* one that is not 1*DIGIT, or two that differ */
} hcm_framing_t;

/* Takes one request header field (name, value) into |f|, which starts zeroed. */
void hcm_framing_add(hcm_framing_t *f, const char *name, const char *value);
/* 0, or HCM_EHOSTFIELD (no Host in HTTP/1.1, or two), HCM_EFRAMING (Content-Length beside
 * Transfer-Encoding, a Content-Length that is not a number or two that differ, a coding list
 * that does not end in chunked, Transfer-Encoding in HTTP/1.0) or HCM_ECODING (a coding before
 * chunked, which hcproxy does not decode). The connection must close after the answer. */
int hcm_framing_check(const hcm_framing_t *f, bool is_http11);

typedef struct hcm_http_req {
    const char *method;
    const char *target_uri; /* the CoAP URI, from hcm_target_extract() */
    const hcm_header_t *headers;
    size_t nheaders;
    hcm_bytes_t body;
    /* RFC 8768 s5: the Hop-Limit hcproxy inserts (1..255), less one per entry of the request's
     * Via and CDN-Loop headers (each is a proxy the request has crossed); 0 inserts none. */
    unsigned hop_limit;
    /* RFC 8075 s6.3: a Content-Type with no registry entry takes its generalized type's
     * Content-Format (hcm_content_format_loose()) instead of a 415. */
    bool loose_media_types;
} hcm_http_req_t;

/* What the request mapping learned that the response mapping needs. */
typedef struct hcm_req_info {
    uint8_t code;           /* the CoAP method sent */
    bool is_oscore;         /* an OSCORE request (RFC 8613 s11): the body is ciphertext */
    bool is_validation;     /* If-None-Match carried entity-tags: 2.03 Valid means 304 */
} hcm_req_info_t;

/* Maps an HTTP request onto a CoAP request: method, target, headers (see headers.def for what
 * each header becomes, including those dropped on purpose), body. |info| may be NULL; it is
 * valid only when 0 is returned. The payload is a view of |in->body|; option values live in |in|
 * or |arena|. Errors: HCM_ENOMETHOD, the target errors of hcm_target_parse(), HCM_EMEDIA,
 * HCM_EBADHEADER (malformed If-Match, If-None-Match, Via, CDN-Loop), HCM_ELOOP (Via and CDN-Loop
 * use up |in->hop_limit|), HCM_ENOSPACE. An Observe header is left to the caller
 * (hcm_observe_stream()). */
int hcm_request_to_coap(const hcm_http_req_t *in, hcm_arena_t *arena, hcm_target_t *target,
                        hcm_coap_msg_t *out, hcm_req_info_t *info);

#define HCM_MAX_HEADERS 16

typedef struct hcm_http_resp {
    unsigned status;
    hcm_header_t headers[HCM_MAX_HEADERS];
    size_t nheaders;
    hcm_bytes_t body;
} hcm_http_resp_t;

/* Where a response came from, for the headers that depend on it. */
typedef struct hcm_resp_ctx {
    hcm_req_info_t request;
    const hcm_target_t *target; /* the request's target: the base for Location-* options */
    /* The hosting URI prefix that makes a CoAP URI reachable through this proxy, such as
     * "http://127.0.0.1:8080/hc/"; Location becomes this followed by the absolute CoAP URI
     * (RFC 7252 s10.2.4, RFC 8075 s5.3). */
    const char *hosting_prefix;
} hcm_resp_ctx_t;

/* Maps a CoAP response onto an HTTP response: status, headers (canonical names such as
 * "Content-Type", "ETag", "Location"), payload. |ctx| may be NULL, and so may its target (then no
 * Location) and hosting_prefix (then Location is the absolute CoAP URI itself). Errors:
 * HCM_EBADRESPONSE (a 2.03 to a request that was no validation; a reserved Location option 128,
 * 132, 136 or 140; a "." or ".." Location value), HCM_ENOSPACE. */
int hcm_response_to_http(const hcm_coap_msg_t *in, const hcm_resp_ctx_t *ctx, hcm_arena_t *arena,
                         hcm_http_resp_t *out);

/* ---- OSCORE (RFC 8613 s11) ------------------------------------------------------------------ */

/* The OSCORE option value of an OSCORE header field: canonical unpadded base64url of at most 255
 * bytes, "AA" standing for the empty option. HCM_EBADOSCORE otherwise. */
int hcm_oscore_header_decode(const char *value, hcm_arena_t *arena, hcm_bytes_t *option);
/* The OSCORE header field for an option value ("AA" when empty), or NULL when the arena is full. */
const char *hcm_oscore_header_encode(hcm_bytes_t option, hcm_arena_t *arena);

/* ---- the reverse direction: CoAP requests to HTTP origins (RFC 7252 s10.1) ----------------- */

/* The HTTP method for a CoAP request code: GET, POST, PUT, DELETE; PATCH for both PATCH and
 * iPATCH; NULL for FETCH and anything else (answered 5.01). */
const char *hcm_method_from_code(uint8_t code);
/* The CoAP response code for an HTTP status answering a CoAP request with |request_code|
 * (status.def: success codes by method, RFC 7252 s10.1.1 to s10.1.4; 304 -> 2.03; 408 -> 4.08
 * and 413 -> 4.13, RFC 7959 s5; 508 -> 5.08, RFC 8768 s5; ...). */
uint8_t hcm_code_from_status(unsigned status, uint8_t request_code);

/* The CoAP response code hcproxy answers a proxy-generated error with, when the client speaks
 * CoAP (RFC 7252 s5.7.2, s10.1): 5.02, 5.04, 5.05, 4.02, 4.03, 4.13, ... (errors.def);
 * 5.00 for a code not in errors.def. */
uint8_t hcm_err_code(int err);

/* An HTTP request to an origin, made from a CoAP request. */
typedef struct hcm_origin_req {
    const char *method; /* "GET", "POST", "PUT", "DELETE" or "PATCH" */
    const char *url;    /* absolute http:// or https:// URL, in the arena */
    const char *scheme; /* "http" or "https" */
    const char *host;   /* lower case; an IPv6 literal without brackets */
    uint16_t port;      /* explicit, or the scheme's default (80, 443) */
    const char *path;   /* the URL's path, from its '/' to before any '?', in the arena */
    hcm_header_t headers[HCM_MAX_HEADERS];
    size_t nheaders;
    hcm_bytes_t body;
    hcm_req_info_t info; /* the CoAP method, and whether this is OSCORE */
} hcm_origin_req_t;

/* Maps a CoAP request onto an HTTP request to an origin (RFC 7252 s10.1, RFC 8613 s11.2):
 * - the URL: Proxy-Uri (absolute http/https; with Uri-* options beside it: HCM_EBADTARGET,
 *   RFC 7252 s5.10.2), else Proxy-Scheme + Uri-Host + Uri-Port + Uri-Path + Uri-Query
 *   (RFC 7252 s6.5), else |route_base| (a reverse route's "http://host/base/", or NULL) followed
 *   by the Uri-Path segments after the first |route_skip| and the Uri-Query options; with none
 *   of them HCM_ENOTPROXY. A scheme other than http/https: HCM_ETRANSPORT (5.05);
 * - the method (hcm_method_from_code; FETCH: HCM_ENOMETHOD, 5.01);
 * - options to headers: Content-Format -> Content-Type (+ Content-Encoding), Accept -> Accept,
 *   If-Match -> If-Match (quoted hex, or *), If-None-Match -> If-None-Match: *, ETag options ->
 *   If-None-Match with those tags (a validation: 304 becomes 2.03), Hop-Limit -> Via (RFC 8768
 *   s5), OSCORE -> the OSCORE header and Content-Type application/oscore (a POST only);
 *   unknown elective options are dropped;
 * - the payload as the body.
 * Each tag is listed in every spelling hcm_origin_to_coap() reads as its bytes (quoted lower-case
 * hex, upper-case hex, and the bytes themselves when they form a tag), so that the origin finds
 * its own. The body is a view of |in->payload|; everything else lives in |arena| or is constant.
 * Errors besides those above: HCM_EBADOPTION (4.02: an unknown critical or unsafe option, or one
 * malformed or repeated, RFC 7252 s5.4, s5.7.2), HCM_EHOPLIMIT (Hop-Limit 0 or above 255) and
 * HCM_ELOOP (Hop-Limit 1, RFC 8768 s3), HCM_EBADPORT, HCM_EDOTSEGMENT (a "." or ".." Uri-Path),
 * HCM_EOSCOREMETHOD, HCM_EOSCOREEMPTY, HCM_EOSCOREPATH (a path or query outside the ciphertext,
 * RFC 8613 s4.1.3.3), HCM_EOSCORETYPE (Content-Format 10001 without OSCORE), HCM_EINTERNAL (a
 * malformed |route_base|), HCM_ENOSPACE. */
int hcm_coap_to_origin(const hcm_coap_msg_t *in, const char *route_base, size_t route_skip,
                       hcm_arena_t *arena, hcm_origin_req_t *out);

/* Maps an origin's HTTP response onto the CoAP response to |request|: the code
 * (hcm_code_from_status, by method), Content-Type -> Content-Format (none when it has no
 * number), ETag (a strong tag of 1 to 8 bytes) -> ETag, Cache-Control max-age -> Max-Age,
 * Retry-After (503, 429) -> Max-Age, the body as payload. An OSCORE header on a 200 answering
 * an OSCORE request -> 2.04, the OSCORE option, no Content-Format (RFC 8613 s11.3); an OSCORE
 * header on any other status: HCM_EBADRESPONSE (5.02).
 * The payload is a view of |body|; option values live in |arena|, so |headers| may go once this
 * returns. Errors: HCM_EBADRESPONSE also for a malformed or repeated OSCORE header, one answering
 * a request that was not OSCORE, a 304 to a request that validated nothing, and a body in a
 * Content-Encoding no Content-Format names; HCM_ENOSPACE. */
int hcm_origin_to_coap(unsigned status, const hcm_header_t *headers, size_t nheaders,
                       hcm_bytes_t body, const hcm_origin_req_t *request, hcm_arena_t *arena,
                       hcm_coap_msg_t *out);

/* The request to make next when an origin answered |request| with a redirect hcproxy may follow:
 * 307 or 308 (RFC 9110 s15.4.8, s15.4.9: same method, same body) with one Location, resolved
 * against request->url (RFC 9110 s10.2.2), its fragment dropped. |out| is |request| with url,
 * scheme, host and port replaced; it shares request's headers and body. Returns 1 with |out|
 * filled; 0 for any other status (the answer is mapped as it is); HCM_EBADRESPONSE for a missing,
 * repeated or malformed Location; HCM_ETRANSPORT for one that is not http or https;
 * HCM_ENOSPACE. Whether the new origin is allowed is the caller's to judge. */
int hcm_origin_redirect(unsigned status, const hcm_header_t *headers, size_t nheaders,
                        const hcm_origin_req_t *request, hcm_arena_t *arena,
                        hcm_origin_req_t *out);

/* ---- observe.c: Observe across HTTP (RFC 7641), the pure part -------------------------------- */

/* RFC 7641 s3.4: whether a notification (|v2|, received at |t2_ns|) is newer than one (|v1|, at
 * |t1_ns|): V1 < V2 and V2 - V1 < 2^23, or V1 > V2 and V1 - V2 > 2^23, or T2 > T1 + 128 s. Only
 * the low 24 bits of the values count (the Observe option is at most 3 bytes, s2); the times are
 * the client's own clock, in nanoseconds. */
bool hcm_observe_is_newer(uint32_t v1, uint64_t t1_ns, uint32_t v2, uint64_t t2_ns);

/* RFC 7641 s2: the Observe values a request may carry. */
enum hcm_observe_action { HCM_OBSERVE_REGISTER = 0, HCM_OBSERVE_DEREGISTER = 1 };

/* The value of an HTTP Observe header field: exactly "0" (*action = HCM_OBSERVE_REGISTER) or "1"
 * (HCM_OBSERVE_DEREGISTER). Anything else ("", " 0", "00", "2", "0x0", ...) is
 * HCM_EOBSERVEVALUE. The value is taken as the HTTP parser hands it over, its surrounding white
 * space already removed (RFC 9110 s5.5). */
int hcm_observe_header(const char *value, unsigned *action);

/* How an HTTP client asks to receive notifications. */
typedef enum hcm_stream {
    HCM_STREAM_NONE,      /* a plain request: one answer */
    HCM_STREAM_SSE,       /* text/event-stream, one event a notification (hcm_sse_event) */
    HCM_STREAM_MULTIPART, /* multipart/mixed, one application/http part a notification */
} hcm_stream_t;

/* The stream a request's headers ask for, from its Observe field (hcm_observe_header) and its
 * Accept fields weighed as RFC 9110 s12.5.1 says (the most specific range gives a type its
 * weight; no Accept field at all accepts any type):
 * - Observe: 0 registers: HCM_STREAM_SSE when text/event-stream weighs more than
 *   multipart/mixed, else HCM_STREAM_MULTIPART; HCM_EOBSERVEACCEPT when neither is acceptable;
 * - no Observe field: HCM_STREAM_SSE when text/event-stream itself is named and weighs as much
 *   as the client's most preferred element (an EventSource's "Accept: text/event-stream"), else
 *   HCM_STREAM_NONE; a media range (all types, all text types) never opens one;
 * - Observe: 1 deregisters: HCM_STREAM_NONE, or HCM_EOBSERVECONFLICT when Accept asks for
 *   an event stream as above.
 * Two Observe fields, or a malformed one: HCM_EOBSERVEVALUE. */
int hcm_observe_stream(const hcm_header_t *headers, size_t nheaders, hcm_stream_t *stream);

/* One notification, already mapped to HTTP terms (hcm_response_to_http()). */
typedef struct hcm_notification {
    unsigned status;          /* 100 to 599 */
    const char *content_type; /* NULL: none */
    hcm_bytes_t etag;         /* the ETag option's bytes; none when empty */
    bool has_max_age;
    uint32_t max_age;         /* seconds, with has_max_age */
    uint32_t observe;         /* the Observe option's value, 0 to 2^24 - 1 */
    hcm_bytes_t payload;
    bool is_text;             /* the Content-Format is text (hcm_content_format_is_text) */
    /* An OSCORE notification (RFC 8613 s11.2): its OSCORE header field value, whose Partial IV
     * the client needs to decrypt it (hcm_oscore_header_encode); NULL for a plain one. */
    const char *oscore;
    bool is_final;            /* the observation's last response, which has no Observe (RFC 7641
                               * s3.2): no id line, "observe":null; |observe| is not used */
} hcm_notification_t;

/* WHATWG HTML s9.2 (server-sent events): one notification as one event,
 *   id: <observe>\nevent: notification\ndata: <JSON>\n\n
 * (the last response, is_final, has no id line and "observe":null)
 * where <JSON> is one line: {"status":N,"content_type":S|null,"etag":"<hex>"|null,
 * "max_age":N|null,"observe":N,"oscore":S|null, then "text":S when is_text and the payload is
 * valid UTF-8 (RFC 3629), else "base64":S (RFC 4648 s4, padded)}. *out lives in |arena|.
 * HCM_EINTERNAL for a status or Observe value out of range or a Content-Type or OSCORE value that
 * is not printable ASCII;
 * HCM_ENOSPACE when the arena is too small, which then holds nothing more and *out is left as
 * it was. */
int hcm_sse_event(const hcm_notification_t *n, hcm_arena_t *arena, hcm_bytes_t *out);
/* The last event of a stream: event: end\ndata: {"reason":S}\n\n. HCM_EINTERNAL when
 * |reason| is not valid UTF-8, HCM_ENOSPACE as above. */
int hcm_sse_end(const char *reason, hcm_arena_t *arena, hcm_bytes_t *out);
/* A comment line that keeps an idle stream open through intermediaries: ": keep-alive\n\n". */
hcm_bytes_t hcm_sse_comment(void);

/* RFC 2046 s5.1.1: a boundary of "hcproxy-" and the unpadded base64url of |random| (whose 64
 * characters are all bcharsnospace), NUL-terminated in |arena|. |random| is 16 to 46 bytes of
 * the caller's randomness, so that the boundary stays within 70 characters and no body guesses
 * it; HCM_EINTERNAL otherwise, HCM_ENOSPACE. */
int hcm_multipart_boundary(hcm_bytes_t random, hcm_arena_t *arena, const char **boundary);
/* One notification as one part of a multipart/mixed body (RFC 2046 s5.1.1), an application/http
 * message (RFC 9112 s10.2):
 *   --<boundary>\r\nContent-Type: application/http\r\n\r\n
 *   HTTP/1.1 <status> <reason>\r\n<Name: value\r\n for each header>Content-Length: <n>\r\n\r\n
 *   <body>\r\n
 * The body is copied byte for byte; Content-Length delimits it, whatever it holds. A 1xx, 204 or
 * 304 has no Content-Length (RFC 9110 s8.6) and must have no body. |reason| may be NULL (empty).
 * HCM_EBADRESPONSE for a header name that is no token or a value or reason with a control
 * character (CR, LF and NUL included: nothing can be injected); HCM_EINTERNAL for a malformed
 * boundary, a status outside 100 to 599, a body where none may be, or a Content-Length or
 * Transfer-Encoding among |headers| (the part frames its body itself); HCM_ENOSPACE as above. */
int hcm_multipart_part(const char *boundary, unsigned status, const char *reason,
                       const hcm_header_t *headers, size_t nheaders, hcm_bytes_t body,
                       hcm_arena_t *arena, hcm_bytes_t *out);
/* The close delimiter that ends the body: --<boundary>--\r\n. HCM_EINTERNAL for a malformed
 * boundary, HCM_ENOSPACE. */
int hcm_multipart_close(const char *boundary, hcm_arena_t *arena, hcm_bytes_t *out);

#endif

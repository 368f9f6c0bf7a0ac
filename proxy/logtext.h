/* The text work behind log.c's JSON lines (logtext.c): pure, no I/O, unit-tested on its own. */
#ifndef HCP_LOGTEXT_H
#define HCP_LOGTEXT_H

#include <stdbool.h>
#include <stddef.h>

/* A growing text with a fixed capacity: appends past it are cut, and |cut| says so. */
typedef struct hcp_text {
    char *buf;
    size_t cap; /* including the NUL */
    size_t len;
    bool cut;
} hcp_text_t;

void hcp_text_init(hcp_text_t *t, char *buf, size_t cap);
void hcp_text_add(hcp_text_t *t, const char *s, size_t n);
void hcp_text_printf(hcp_text_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends |n| bytes of |s| as the body of a JSON string (RFC 8259 s7): '"', '\\' and control
 * characters escaped, valid UTF-8 (RFC 3629 s4: no overlong forms, no surrogates) copied, and
 * every byte of an invalid sequence written as the six characters \u00XX of that byte's value,
 * so that a line stays valid UTF-8 whatever a client or a peer sent. */
void hcp_text_json(hcp_text_t *t, const char *s, size_t n);

/* Appends |uri| with what may carry a secret replaced by "REDACTED": the user information of
 * every "scheme://user@host" in it, and the value of every query parameter ("?a=1&b=2" becomes
 * "?a=REDACTED&b=REDACTED"; a name without "=" stays). '?', '=', '&' and ';' count also when
 * percent-encoded (a target URI in the path may be), and the value of RFC 8075 s5.4.1's
 * "target_uri" parameter is a URI of its own, redacted the same way. */
void hcp_text_redacted_uri(hcp_text_t *t, const char *uri);

/* Appends a libcoap PDU dump ("v:1 t:CON c:GET i:72ce {token} [ Uri-Path:a, Uri-Query:k=v ]
 * :: 'text'") with the values of its Uri-Query and Location-Query options redacted as query
 * parameters are, its Proxy-Uri redacted as a URI, and its payload left out: hcproxy cannot
 * tell which payloads carry credentials. A binary payload's dump lines ("<<...>>") go too. */
void hcp_text_redacted_pdu(hcp_text_t *t, const char *dump);

/* Whether a client's X-Request-Id (or traceparent) may be echoed and logged as it is: 1 to
 * |max| characters of letters, digits and "-._:+=/@". */
bool hcp_text_request_id_ok(const char *id, size_t max);
/* Whether |tp| has the shape of a W3C Trace Context traceparent (version-traceid-parentid-flags,
 * lower-case hex: 2-32-16-2). */
bool hcp_text_traceparent_ok(const char *tp);

#endif

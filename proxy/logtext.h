/* What log.c's JSON lines must not carry as they came (logtext.c): secrets in URIs and PDU
 * dumps, and client-chosen ids of the wrong shape. Pure, no I/O, unit-tested on its own. */
#ifndef HCP_LOGTEXT_H
#define HCP_LOGTEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "text.h"

/* Appends |uri| with what may carry a secret replaced by "REDACTED": the user information of
 * every "scheme://user@host" in it, and the value of every query parameter ("?a=1&b=2" becomes
 * "?a=REDACTED&b=REDACTED"; a name without "=" stays). '?', '=', '&' and ';' count also when
 * percent-encoded (a target URI in the path may be), and the value of RFC 8075 s5.4.1's
 * "target_uri" parameter is a URI of its own, redacted the same way. */
void hcp_logtext_redacted_uri(hcp_text_t *t, const char *uri);

/* Appends a libcoap PDU dump ("v:1 t:CON c:GET i:72ce {token} [ Uri-Path:a, Uri-Query:k=v ]
 * :: 'text'") with the values of its Uri-Query and Location-Query options redacted as query
 * parameters are, its Proxy-Uri redacted as a URI, and its payload left out: hcproxy cannot
 * tell which payloads carry credentials. A binary payload's dump lines ("<<...>>") go too. */
void hcp_logtext_redacted_pdu(hcp_text_t *t, const char *dump);

/* Whether a client's X-Request-Id (or traceparent) may be echoed and logged as it is: 1 to
 * |max| characters of letters, digits and "-._:+=/@". */
bool hcp_logtext_request_id_ok(const char *id, size_t max);
/* Whether |tp| has the shape of a W3C Trace Context traceparent (version-traceid-parentid-flags,
 * lower-case hex: 2-32-16-2). */
bool hcp_logtext_traceparent_ok(const char *tp);

#endif

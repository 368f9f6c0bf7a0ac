/* Private to mapping/: what its files share. Not part of the public hcm.h. */
#ifndef HCM_INTERNAL_H
#define HCM_INTERNAL_H

#include "hcm.h"

/* The HTTP headers of a request, mapped onto |out| (headers.c, driven by headers.def). Fills
 * info->is_validation. HCM_EMEDIA, HCM_EBADHEADER, HCM_ELOOP, HCM_EOBSERVE, HCM_ENOSPACE. */
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

/* The HTTP Location for a response's Location-Path and Location-Query options (location.c).
 * *location is NULL when the response has none, or when |ctx| gives no target to resolve them
 * against. HCM_EBADRESPONSE for a "." or ".." segment (RFC 7252 s5.10.7), HCM_ENOSPACE. */
int hcm__location_from_options(const hcm_coap_msg_t *in, const hcm_resp_ctx_t *ctx,
                               hcm_arena_t *arena, const char **location);

/* The default port of |scheme| (RFC 7252 s6.1, s6.2; RFC 8323 s8.1, s8.2); 0 if unknown. */
uint16_t hcm__scheme_default_port(hcm_scheme_t scheme);

/* OSCORE (oscore.c, RFC 8613 s11). Whether the request carries an OSCORE header or
 * Content-Type application/oscore; then its OSCORE option onto |out| (whose code is set), or
 * HCM_EOSCORE* / HCM_EBADOSCORE; then that the target left no outer Uri-Path or Uri-Query. */
bool hcm__is_oscore_request(const hcm_http_req_t *in);
int hcm__oscore_request(const hcm_http_req_t *in, hcm_arena_t *arena, hcm_coap_msg_t *out);
int hcm__oscore_check_target(const hcm_coap_msg_t *out);
/* An OSCORE response (one with the OSCORE option) onto |out|: 200, OSCORE, application/oscore,
 * the body unchanged. HCM_EBADRESPONSE when it cannot be an OSCORE message. */
int hcm__oscore_response(const hcm_coap_msg_t *in, hcm_arena_t *arena, hcm_http_resp_t *out);

#endif

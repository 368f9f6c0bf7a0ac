/* upstream_dest: the destinations (one CoAP server over one transport each, upstream_int.h),
 * made on first use and freed once idle for upstream.idle_ms. */
#ifndef HCP_UPSTREAM_DEST_H
#define HCP_UPSTREAM_DEST_H

#include "upstream_int.h"

bool hcp_upstream_dest_is_secure(hcm_scheme_t scheme);
/* The destination |sa| over |target|'s transport, made on first use. 0, or HCM_ENOCREDENTIALS
 * (a secure target no upstream.credentials entry matches) or HCM_EUNREACHABLE (none could be
 * made). */
int hcp_upstream_dest_get(hcp_upstream_t *up, const struct sockaddr *sa, const hcm_target_t *target,
                          hcp_upstream_dest_t **out);
/* Frees the destinations idle for upstream.idle_ms (from the sweep timer). */
void hcp_upstream_dest_sweep(hcp_upstream_t *up);
/* At close: closes every libcoap destination's handles with |on_closed| (whose data is |up|),
 * counted in up->open_handles; then, once they all are, hcp_upstream_dest_free_all(). */
void hcp_upstream_dest_close_all(hcp_upstream_t *up, uv_close_cb on_closed);
void hcp_upstream_dest_free_all(hcp_upstream_t *up);

#endif

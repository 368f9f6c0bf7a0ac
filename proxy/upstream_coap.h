/* upstream_coap: the destinations reached through libcoap (coaps, coap+tcp, coaps+tcp), and the
 * libcoap context the reverse direction's endpoints share. */
#ifndef HCP_UPSTREAM_COAP_H
#define HCP_UPSTREAM_COAP_H

#include "upstream_int.h"

/* libcoap's process-wide setup: coap_startup(), its message-id generator and its log. */
void hcp_upstream_coap_startup(void);
/* A libcoap context as both directions use it (block mode off, OSCORE known); NULL without
 * memory. */
coap_context_t *hcp_upstream_coap_new_context(void);
/* The poll callback of the reverse direction's context, up->poll. */
void hcp_upstream_coap_on_reverse_io(uv_poll_t *poll, int status, int events);

/* |d|'s context and the handles that drive it (poll and resend, their data |d->up|). 0, or a
 * UV_E* code with nothing left behind. */
int hcp_upstream_coap_open(hcp_upstream_dest_t *d);
/* Closes |d|'s two handles with |on_closed|; hcp_upstream_coap_free() once both are. */
void hcp_upstream_coap_close(hcp_upstream_dest_t *d, uv_close_cb on_closed);
void hcp_upstream_coap_free(hcp_upstream_dest_t *d);
/* Whether libcoap has nothing unacknowledged for |d|: a quiet moment (nstart.h). */
bool hcp_upstream_coap_is_quiet(const hcp_upstream_dest_t *d);
/* Hands |req|'s next request, with |token|, to libcoap. 0, or a negative HCM_E* code. */
/* RFC 7641 s3.6: the observation |req| is let go with a GET (or FETCH) like its registration,
 * its token, and Observe: 1. Over TCP (RFC 8323) a notification cannot be answered with a Reset,
 * so this is the only way a server learns it; over DTLS it spares the server a notification. */
void hcp_upstream_coap_deregister(hcp_upstream_dest_t *d, const hcp_upstream_req_t *req,
                                  const uint8_t *token);
int hcp_upstream_coap_transmit(hcp_upstream_dest_t *d, hcp_upstream_req_t *req,
                               const uint8_t *token);
/* Drops |d|'s session when nothing is awaited there but libcoap still holds an unacknowledged
 * CON (of a request that ended unanswered); true when it did, and room is made. */
bool hcp_upstream_coap_abandon(hcp_upstream_dest_t *d);

#endif

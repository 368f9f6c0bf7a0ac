/* upstream_session: the libcoap session to a destination over coaps, coap+tcp or coaps+tcp. */
#ifndef HCP_UPSTREAM_SESSION_H
#define HCP_UPSTREAM_SESSION_H

#include "upstream_int.h"

/* The session to |d|, made with its credentials on first use; a session libcoap has given up on
 * is replaced. NULL when none can be made. */
coap_session_t *hcp_upstream_session_of(hcp_upstream_dest_t *d);

#endif

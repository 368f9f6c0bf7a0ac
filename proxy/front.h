/* front: libmicrohttpd under uv_poll, the HTTP side of the HTTP -> CoAP direction (front.c). */
#ifndef HCP_FRONT_H
#define HCP_FRONT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct hcp_proxy hcp_proxy_t;
typedef struct hcp_front hcp_front_t;
struct MHD_Connection;

/* Starts the daemons, and runs them after each of the upstream's batches of answers
 * (hcp_upstream_on_batch()): proxy->upstream must exist. 0 or a UV_E* code. */
int hcp_front_new(hcp_proxy_t *proxy, hcp_front_t **out);
/* Stops accepting connections; those open keep being served. */
void hcp_front_quiesce(hcp_front_t *front);
/* Whether every configured HTTP and HTTPS listener is open and accepting (for /readyz). */
bool hcp_front_listening(const hcp_front_t *front);
/* Starts closing; the memory goes once the loop has closed the handles. */
void hcp_front_close(hcp_front_t *front);
/* Called after an exchange has its answer: resumes its suspended connection. The daemon runs
 * from an idle handle, or earlier at the end of the upstream's batch of answers, so that answers
 * go out in the same loop turn as the CoAP responses that made them. */
void hcp_front_resume(hcp_front_t *front, void *connection);
/* http.request_timeout_s: a request line has arrived on |conn| (its deadline starts), or the
 * whole request has (no deadline while it is answered). */
void hcp_front_request_started(hcp_front_t *front, struct MHD_Connection *conn);
void hcp_front_request_complete(struct MHD_Connection *conn);
/* Writes |bytes|, a whole answer, to |conn| under libmicrohttpd, then shuts the connection down
 * so that libmicrohttpd closes it as one the client left: for an answer that libmicrohttpd has no
 * memory left to build (poolroom.h). Whether all of it went out. */
bool hcp_front_send_and_close(struct MHD_Connection *conn, const char *bytes, size_t len);
/* Whether |conn| came in on an https.listen address. */
bool hcp_front_is_tls(struct MHD_Connection *conn);
/* 0, or HCM_ECLIENTCERT when https.client_ca_file is set and |conn|, an HTTPS connection, has
 * no client certificate that chains to it. */
int hcp_front_check_client(const hcp_front_t *front, struct MHD_Connection *conn);

#endif

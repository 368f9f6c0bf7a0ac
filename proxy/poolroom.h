/* poolroom: whether libmicrohttpd's connection pool (http.max_header_bytes) has room left, once a
 * request's line and headers are in it, for the header block of the request's answer; and the
 * 431 hcproxy answers when it has not (poolroom.c). */
#ifndef HCP_POOLROOM_H
#define HCP_POOLROOM_H

#include <stdbool.h>
#include <stddef.h>

struct MHD_Connection;

/* The bytes of |conn|'s pool its request line (|method|, the raw request-target |raw_uri|,
 * |version|) and headers take, as the access handler can see them, rounded up by a margin for
 * what it cannot see. */
size_t hcp_poolroom_used(struct MHD_Connection *conn, const char *method, const char *raw_uri,
                         const char *version);
/* The room any answer of hcproxy's header block needs, its X-Request-Id |request_id_len| bytes
 * long. */
size_t hcp_poolroom_answer_need(size_t request_id_len);
/* The room the 431 below needs when libmicrohttpd builds its header block. */
size_t hcp_poolroom_431_need(size_t body_len);
/* The whole 431 answer with |body| as bytes (status line, Date, Connection: close,
 * Content-Length, the body unless |is_head|), for a connection whose pool has no room even for
 * that: its length, or 0 when |len| is too short. */
size_t hcp_poolroom_format_431(char *buf, size_t len, const char *body, bool is_head);

#endif

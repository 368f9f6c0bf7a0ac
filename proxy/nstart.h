/* nstart: RFC 7252 s4.7's congestion rule for one CoAP server, as plain data. At most NSTART
 * requests to a server are outstanding; the others wait, and go oldest first as room is made.
 *
 * A request is outstanding from when it is sent until its ACK, its response, a Reset, its
 * timeout, or its cancellation (hcp_nstart_end()). Pure code, no I/O: unit-tested in
 * tests/unit/check_nstart.c. upstream.c keeps one per destination over every transport.
 *
 * Epochs: a transport that cannot tell when a request is acknowledged (libcoap 4.3.1 reports
 * ACKs to no callback) says instead when nothing is unacknowledged (hcp_nstart_quiet()): every
 * request sent before then stops counting at once, and those sent since count until their end.
 * A transport that reports every ACK (hcproxy's own message layer, coap://) never calls it, and
 * the count is exact. */
#ifndef HCP_NSTART_H
#define HCP_NSTART_H

#include <stdbool.h>
#include <stdint.h>

#include "queue.h"

typedef struct hcp_nstart {
    unsigned limit;        /* NSTART (upstream.nstart) */
    unsigned outstanding;  /* read-only: counted requests sent and not ended */
    uint32_t epoch;        /* private: counts the quiet moments; never 0 */
    hcp_queue_t waiting;   /* read-only (its length): of hcp_nstart_req_t, oldest first */
} hcp_nstart_t;

/* Inside the object a request belongs to; zeroed before first use. */
typedef struct hcp_nstart_req {
    hcp_queue_link_t waiting; /* private */
    uint32_t epoch;      /* private: the epoch it was counted in; 0 while it is not counted */
} hcp_nstart_req_t;

/* What ends a request's outstanding time (RFC 7252 s4.7). */
typedef enum hcp_nstart_end {
    HCP_NSTART_ACKED,     /* an empty ACK: the response may still follow, separately */
    HCP_NSTART_ANSWERED,  /* its response (piggybacked or separate) */
    HCP_NSTART_RESET,     /* a Reset, or a response that is not acted on */
    HCP_NSTART_TIMED_OUT, /* no ACK after its retransmissions */
    HCP_NSTART_CANCELLED, /* its exchange ended without it: it never goes, or goes no more */
} hcp_nstart_end_t;

void hcp_nstart_init(hcp_nstart_t *ns, unsigned limit);
/* |req| waits for its turn: behind every other, or before them (|first|: the next request of a
 * transfer under way, which keeps its place). It must not be waiting or outstanding. */
void hcp_nstart_wait(hcp_nstart_t *ns, hcp_nstart_req_t *req, bool first);
/* The request whose turn it is, taken out of the queue, when one waits and fewer than NSTART
 * are outstanding; else NULL. The caller sends it, then says so with hcp_nstart_sent(); one it
 * cannot send takes no room. */
hcp_nstart_req_t *hcp_nstart_next(hcp_nstart_t *ns);
/* |req|, taken by hcp_nstart_next(), was sent: it is outstanding. */
void hcp_nstart_sent(hcp_nstart_t *ns, hcp_nstart_req_t *req);
/* |req| is outstanding no more (see hcp_nstart_end_t); a waiting one leaves the queue
 * (HCP_NSTART_CANCELLED). Any end of a request that is neither is a no-op. */
void hcp_nstart_end(hcp_nstart_t *ns, hcp_nstart_req_t *req, hcp_nstart_end_t end);
/* The transport has nothing unacknowledged: a new epoch (see the top of this file). */
void hcp_nstart_quiet(hcp_nstart_t *ns);
/* Whether |req| waits for its turn. */
bool hcp_nstart_is_waiting(const hcp_nstart_req_t *req);

#endif

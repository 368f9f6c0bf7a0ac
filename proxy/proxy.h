/* proxy.h: the state the whole of hcproxy's I/O side shares, one per process (main.c). Every
 * module has its own header (log.h, metrics.h, policy.h, ...), and its private structs in its
 * .c file (or in a *_int.h its files share); its exported names start with hcp_ and the
 * module's name: the file's (hcp_policy_* in policy.c), or for a module of several files the
 * header's (hcp_exchange_* in exchange.c, exchange_request.c and exchange_answer.c).
 *
 * One contract for every constructor (*_new, *_init, *_read, *_load):
 * - It returns 0 and sets *out, or returns a negative code (UV_E* or HCM_E*) and leaves *out as
 *   it was. A pure data structure that can fail only for want of memory may return the object
 *   instead, NULL being that failure.
 * - A failure leaves nothing behind: what the constructor took so far is given back on the way
 *   out, in the reverse order, through `goto fail_*` labels (hcp_msglayer_new() in msglayer.c),
 *   and secret bytes are wiped before they are freed (secrets.h).
 * - What it hands on to a library before it fails (a pointer libcoap keeps) is the one
 *   exception, said at the function: it then stays owned by the proxy until after the loop. */
#ifndef HCP_PROXY_H
#define HCP_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <uv.h>

#include "block1.h"
#include "block2.h"
#include "clientcount.h"
#include "coap_tls.h"
#include "hcc.h"
#include "metrics.h"
#include "queue.h"
#include "ratelimit.h"

typedef struct hcp_proxy hcp_proxy_t;
typedef struct hcp_front hcp_front_t;
typedef struct hcp_upstream hcp_upstream_t;
typedef struct hcp_exchange hcp_exchange_t;
typedef struct hcp_origin hcp_origin_t;

struct hcp_proxy {
    uv_loop_t *loop;
    const hcc_config_t *cfg;
    hcp_front_t *front;
    hcp_upstream_t *upstream;
    hcp_origin_t *origin;
    struct hcp_observe *observe;    /* observations held for HTTP streams (observe.c) */
    hcp_metrics_t metrics;
    uint64_t next_exchange_id;
    hcp_queue_t live; /* exchanges in flight, for shutdown (exchange.c) */
    hcp_exchange_t *spare_exchanges; /* freed blocks kept for the next requests (exchange.c) */
    unsigned nspare_exchanges;
    struct hcp_reverse_exchange *reverse_live; /* reverse exchanges in flight (reverse.c) */
    hcp_block1_t *block1;           /* CoAP clients' Block1 uploads in progress (reverse.c) */
    hcp_block2_t *block2;           /* answers kept for CoAP clients' Block2 transfers */
    hcp_clientcount_t *reverse_clients; /* reverse exchanges in flight per client (reverse.c) */
    struct hcp_policy_own_addr *own; /* where hcproxy listens (policy.c's) */
    size_t nown;
    struct sockaddr_storage *local_addrs; /* the host's interface addresses, when a listener is a
                                           * wildcard (policy.c); NULL otherwise */
    size_t nlocal_addrs;
    hcp_ratelimit_t *ratelimit;     /* http.rate_limit, or NULL for none */
    hcp_coap_tls_t *coap_tls;       /* secure CoAP listeners' credentials (coap_tls.c) */
    struct hcp_coap_udp *coap_udp;  /* the coap:// listeners (coap_udp.c) */
    struct hcp_reverse_libcoap *reverse_libcoap; /* the other coap.listen schemes'
                                                  * (reverse_libcoap.c) */
    bool draining;  /* SIGTERM came (main.c): /readyz answers 503 from then on; for drain.delay_s
                     * everything is still served */
    bool closing;   /* drain.delay_s is over: no new connections, and new exchanges in either
                     * direction are answered 503 / 5.03 while those in flight finish */
};

#endif

/* The reverse direction (RFC 7252 s10.1) between its transports and its core: a CoAP request,
 * however it arrived, goes to reverse.c as an hcm_coap_msg_t with a reply handle, and its answer
 * comes back through that handle as an hcm_coap_msg_t. Two transports feed it:
 * - coap_udp.c, hcproxy's own message layer (msglayer.h) on plain coap:// listeners;
 * - reverse_libcoap.c, libcoap's server for coaps://, coap+tcp:// and coaps+tcp:// listeners
 *   (DTLS and TCP, which hcproxy leaves to libcoap).
 * Block-wise transfers (reverse_blocks.c) are the core's, the same for both. */
#ifndef HCP_REVERSE_H
#define HCP_REVERSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "hcp.h"
#include "rblocks.h"

typedef struct hcp_rreply hcp_rreply_t;
typedef struct rexchange hcp_rexchange_t;

/* What a transport does with the answer to one request. */
typedef struct hcp_rreply_ops {
    /* Sends |answer| (code, options, payload; the token is the request's), now, while the
     * request is being handed over, or later. The reply ends here. 1 when the answer did not
     * fit what the client may be sent before it shows it is there (RFC 7252 s11.3) and the
     * client was challenged to repeat its request with an Echo option (RFC 9175 s2.4): the core
     * keeps the answer for that repeat. Else 0. */
    int (*send)(hcp_rreply_t *reply, const hcm_coap_msg_t *answer);
    /* Ends the reply without an answer (hcproxy stops). */
    void (*abandon)(hcp_rreply_t *reply);
    /* The largest answer, as a whole message on the wire, the transport may send now: Block2
     * blocks and diagnostic payloads are sized by it. */
    size_t (*room)(const hcp_rreply_t *reply);
} hcp_rreply_ops_t;

/* Embedded first in the transport's own reply. */
struct hcp_rreply {
    const hcp_rreply_ops_t *ops;
};

typedef struct hcp_rrequest {
    hcm_coap_msg_t msg;         /* decoded; its values must live while the request is handed */
    const uint8_t *token;
    size_t token_len;
    const struct sockaddr *peer; /* the client */
    /* What names the client across the blocks of one transfer: both ends of its path, so that
     * two devices, or one device's two sockets, never share one. */
    const uint8_t *ends;
    size_t ends_len;
    /* This proxy, as a 5.08 Hop Limit Reached names it (RFC 8768 s3); NULL: the reason. */
    const char *identity;
} hcp_rrequest_t;

/* ---- reverse.c: the core ------------------------------------------------------------------- */

/* Takes a request: |reply| gets exactly one send() or abandon(). Returns the exchange when the
 * answer comes later (after an origin), NULL when it was sent already. The option rules (RFC
 * 7252 s5.4, RFC 8768 s3) are applied here: |req->msg| loses its unrecognized elective options. */
hcp_rexchange_t *hcp_reverse_request(hcp_proxy_t *proxy, hcp_rrequest_t *req,
                                     hcp_rreply_t *reply);
/* Ends |rx| at once, unanswered: its transport could not keep the reply. */
void hcp_reverse_cancel(hcp_rexchange_t *rx);

/* ---- reverse_blocks.c: Block1 uploads, and the key of a transfer (RFC 7959) ----------------- */

/* The body of a request that came in Block1 blocks, once hcproxy has all of them. */
typedef struct hcp_upload {
    uint8_t *body; /* malloc'd */
    size_t len;
    bool is_blockwise;
    uint32_t block1; /* the last block's Block1 value */
} hcp_upload_t;

/* One Block1 block (block1.c): 1 when |upload| holds the whole body, 0 when the block was stored
 * and |answer| is the 2.31 Continue (its option value in |buf|, 4 bytes), else an error. */
int hcp_rblocks_gather(hcp_proxy_t *proxy, const hcp_rrequest_t *req, const hcp_rblocks_t *b,
                       hcp_upload_t *upload, hcm_coap_msg_t *answer, uint8_t buf[4]);
/* The key of |req|'s transfer, whose options are malloc'd into *options (the caller frees);
 * false when out of memory. */
bool hcp_rblocks_key(const hcp_rrequest_t *req, hcp_block2_key_t *key, uint8_t **options);

/* ---- reverse.c and reverse_origin.c: the core's exchange ------------------------------------- */

/* The client's ends as a transport gives them (two socket addresses at most). */
#define HCP_MAX_ENDS (2 * sizeof(struct sockaddr_storage))

struct rexchange {
    hcp_proxy_t *proxy;
    struct rexchange *prev, *next; /* in the live list, for shutdown */
    uint64_t id;
    uint64_t started_ns;
    hcp_rreply_t *reply;    /* until the answer went out through it */
    hcp_fetch_t *fetch;
    uv_getaddrinfo_t resolver;
    bool is_resolving;
    bool is_abandoned;      /* shut down while resolving: the callback frees */
    bool is_linked;         /* in proxy->reverse_live */
    bool is_started;        /* went to an origin: counted in metrics.reverse_inflight and in
                             * proxy->reverse_clients under client_key */
    hcp_client_key_t client_key;
    bool is_answered;       /* its answer was sent (and counted) */
    char client[INET6_ADDRSTRLEN + 8];
    char request_id[40];    /* made here: a CoAP request carries none */
    const char *identity;   /* the transport's name for this proxy (in the arena), or NULL */
    hcm_origin_req_t req;
    int redirects_left;     /* origin.redirects, counted down */
    uint8_t code;           /* the answer, once known (0 before) */
    int err;                /* an error of hcproxy's own as the answer, or 0 */
    const char *reason;     /* its diagnostic payload */
    hcm_coap_msg_t answer;
    uint8_t *payload;       /* owned */
    uint8_t *upload;        /* a Block1 upload hcproxy reassembled (block1.c), owned; or NULL */
    size_t upload_len;
    bool is_blockwise;      /* the request came in Block1 blocks: the answer echoes the last */
    uint32_t last_block1;   /* that block's Block1 value (RFC 7959 s2.3) */
    hcp_rblocks_t asked;    /* the request's Block2, for the answer's first block */
    size_t token_len;
    uint8_t *key_options;   /* the request's block key (reverse_blocks.c), malloc'd */
    size_t key_options_len;
    uint8_t ends[HCP_MAX_ENDS];
    size_t ends_len;
    hcm_arena_t arena;
    uint8_t arena_buf[];
};

typedef struct rexchange rexchange_t;

typedef struct rexchange rexchange_t;

/* reverse.c: sends |rx|'s answer (the block its request asked for) through its reply. */
void hcp_rx_deliver(rexchange_t *rx);
void hcp_rx_free(rexchange_t *rx);
/* reverse_origin.c: maps the request onto rx->req (the body copied into the exchange). */
int hcp_rx_map(rexchange_t *rx, const hcm_coap_msg_t *request);
/* ... sends it on its way: 0, or an error known at once. */
int hcp_rx_reach_origin(rexchange_t *rx);
/* ... the answer is the error |err| (counted and logged). */
void hcp_rx_fail(rexchange_t *rx, int err);

/* ---- reverse_libcoap.c and coap_udp.c: the listeners --------------------------------------- */

struct coap_context_t;
/* The coaps://, coap+tcp:// and coaps+tcp:// entries of coap.listen, on libcoap's |ctx|. */
int hcp_reverse_libcoap_start(hcp_proxy_t *proxy, struct coap_context_t *ctx);
/* The coap:// entries, each a socket of its own on the loop with its own message layer. */
int hcp_coap_udp_start(hcp_proxy_t *proxy);
/* Closes them; every reply must have ended. */
void hcp_coap_udp_stop(hcp_proxy_t *proxy);
/* Their message layers' counters, added up (for /metrics). */
struct hcp_ml_stats;
void hcp_coap_udp_stats(const hcp_proxy_t *proxy, struct hcp_ml_stats *sum);

#endif

/* What reverse.c, reverse_origin.c and reverse_blocks.c share: the core's exchange, one CoAP
 * request's life from its arrival to its answer (reverse.h has the interface). Private to them. */
#ifndef HCP_REVERSE_INT_H
#define HCP_REVERSE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "block2.h"
#include "clientcount.h"
#include "hcm.h"
#include "origin.h"
#include "rblocks.h"
#include "reverse.h"

/* ---- reverse_blocks.c: Block1 uploads, and the key of a transfer (RFC 7959) ----------------- */

/* The body of a request that came in Block1 blocks, once hcproxy has all of them. */
typedef struct hcp_reverse_upload {
    uint8_t *body; /* malloc'd */
    size_t len;
    bool is_blockwise;
    uint32_t block1; /* the last block's Block1 value */
} hcp_reverse_upload_t;

/* One Block1 block (block1.c): 1 when |upload| holds the whole body, 0 when the block was stored
 * and |answer| is the 2.31 Continue (its option value in |buf|, 4 bytes), else an error. */
int hcp_reverse_blocks_gather(hcp_proxy_t *proxy, const hcp_reverse_request_t *req,
                              const hcp_rblocks_t *b, hcp_reverse_upload_t *upload,
                              hcm_coap_msg_t *answer, uint8_t buf[4]);
/* The key of |req|'s transfer, whose options are malloc'd into *options (the caller frees);
 * false when out of memory. */
bool hcp_reverse_blocks_key(const hcp_reverse_request_t *req, hcp_block2_key_t *key,
                            uint8_t **options);

/* ---- the exchange ---------------------------------------------------------------------------- */

/* The client's ends as a transport gives them (two socket addresses at most). */
#define HCP_REVERSE_MAX_ENDS (2 * sizeof(struct sockaddr_storage))

struct hcp_reverse_exchange {
    hcp_proxy_t *proxy;
    struct hcp_reverse_exchange *prev, *next; /* in the live list, for shutdown */
    uint64_t id;
    uint64_t started_ns;
    hcp_reverse_reply_t *reply;    /* until the answer went out through it */
    hcp_origin_fetch_t *fetch;
    uv_getaddrinfo_t resolver;
    bool is_resolving;
    bool is_abandoned;      /* shut down while resolving: the callback frees */
    bool is_linked;         /* in proxy->reverse_live */
    bool is_started;        /* went to an origin: counted in metrics.reverse_inflight and in
                             * proxy->reverse_clients under client_key */
    hcp_clientcount_key_t client_key;
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
    uint8_t ends[HCP_REVERSE_MAX_ENDS];
    size_t ends_len;
    hcm_arena_t arena;
    uint8_t arena_buf[];
};

/* reverse.c: sends |rx|'s answer (the block its request asked for) through its reply. */
void hcp_reverse_deliver(hcp_reverse_exchange_t *rx);
void hcp_reverse_free(hcp_reverse_exchange_t *rx);
/* ... the answer is the error |err| (counted and logged). */
void hcp_reverse_fail(hcp_reverse_exchange_t *rx, int err);
/* ... the one line logged about |rx|'s answer, its facts as fields; |http_status| 0 when no
 * origin answered, |err| the error answered or 0. */
void hcp_reverse_log_outcome(const hcp_reverse_exchange_t *rx, unsigned http_status, int err);

/* reverse_origin.c: maps the request onto rx->req (the body copied into the exchange). */
int hcp_reverse_origin_map(hcp_reverse_exchange_t *rx, const hcm_coap_msg_t *request);
/* ... sends it on its way: 0, or an error known at once. */
int hcp_reverse_origin_reach(hcp_reverse_exchange_t *rx);

#endif

/* Block-wise transfers to CoAP servers (RFC 7959), driven by hcproxy itself: the HTTP -> CoAP
 * direction's large request bodies go up in Block1 blocks, large answers come down in Block2 blocks
 * and are reassembled here. One hcp_upblock_t per exchange says which request to send next; the
 * caller (upstream.c) sends it, with a fresh token each time (RFC 9175 s4), and hands back each
 * response. No I/O: tests/unit/check_upblock.c drives it response by response. */
#ifndef HCP_UPBLOCK_H
#define HCP_UPBLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How often a Block2 transfer starts again because the representation changed under it (its
 * ETag, RFC 7959 s2.4) before the exchange ends with 502. */
#define HCP_UPBLOCK_MAX_RESTARTS 3
#define HCP_UPBLOCK_ECHO_MAX 40 /* RFC 9175 s2.2.1: Echo is 1 to 40 bytes */
#define HCP_UPBLOCK_ETAG_MAX 8  /* RFC 7252 s5.10.6 */
#define HCP_UPBLOCK_TAG_LEN 4   /* the Request-Tag hcproxy gives a Block1 body (RFC 9175 s3) */

typedef struct hcp_upblock_limits {
    unsigned szx;        /* upstream.block_size: blocks of 16 << szx bytes (0 to 6) */
    size_t max_payload;  /* the most body bytes one request can carry beside its options */
    size_t max_response; /* upstream.max_response_bytes: the most body bytes gathered */
    bool bert;           /* a reliable transport: Block2 answers in BERT blocks taken (RFC 8323
                          * s6; libcoap's CSM offers them) */
} hcp_upblock_limits_t;

/* One option of a response as it came: |present|, and its value. */
typedef struct hcp_upblock_value {
    bool present;
    const uint8_t *p;
    size_t len;
} hcp_upblock_value_t;

/* What the state machine reads of a response: its code (class << 5 | detail), the first of each
 * of these options, and its payload. */
typedef struct hcp_upblock_response {
    uint8_t code;
    hcp_upblock_value_t block1, block2, size1, size2, etag, echo, content_format;
    const uint8_t *payload;
    size_t payload_len;
} hcp_upblock_response_t;

/* The request to send: the exchange's own message (method, options) with these options added and
 * |len| bytes of its body from |offset| as the payload. */
typedef struct hcp_upblock_request {
    bool has_block1, has_block2, has_size1, has_request_tag, has_echo;
    uint32_t block1, block2; /* option values: NUM << 4 | M << 3 | SZX (RFC 7959 s2.2) */
    uint64_t size1;          /* the whole body's size (RFC 7959 s4) */
    size_t offset, len;
} hcp_upblock_request_t;

typedef enum hcp_upblock_step {
    HCP_UPBLOCK_SEND,      /* send ->request, then hand its response to hcp_upblock_on_response */
    HCP_UPBLOCK_DONE,      /* this response is the answer; its body: hcp_upblock_take_body() */
    HCP_UPBLOCK_CHANGED,   /* the representation changed more than MAX_RESTARTS times: 502 */
    HCP_UPBLOCK_TOO_LARGE, /* the answer grows past max_response: 502 */
    HCP_UPBLOCK_MALFORMED, /* a Block option that is malformed or contradicts the transfer: 502 */
    HCP_UPBLOCK_NOMEM,
} hcp_upblock_step_t;

/* One exchange's transfer. All zero is "none"; hcp_upblock_reset() frees what it holds. */
typedef struct hcp_upblock {
    hcp_upblock_limits_t limits;
    hcp_upblock_request_t request; /* the request to send, or sent and not yet answered */
    size_t body_len;
    uint8_t request_tag[HCP_UPBLOCK_TAG_LEN];
    uint8_t echo[HCP_UPBLOCK_ECHO_MAX];
    size_t echo_len;
    unsigned szx1;        /* the Block1 block size in use */
    bool is_block1;       /* the body goes up in Block1 blocks */
    bool is_fetching;     /* Block2 blocks are being gathered */
    bool is_gathered;     /* the last Block2 block is in: |data| is the answer's body */
    bool has_first;       /* the first block of the representation is in: etag, cf are its */
    bool has_etag;
    uint8_t etag[HCP_UPBLOCK_ETAG_MAX];
    size_t etag_len;
    uint8_t cf[2];        /* Content-Format, which every block must repeat */
    size_t cf_len;
    bool has_cf;
    unsigned restarts;
    uint8_t *data;        /* the Block2 blocks gathered */
    size_t len, cap;
} hcp_upblock_t;

/* Starts the transfer of a request whose body is |body_len| bytes; |tag| is the Request-Tag its
 * Block1 blocks carry if it needs them. t->request is the first request to send. */
void hcp_upblock_start(hcp_upblock_t *t, const hcp_upblock_limits_t *limits, size_t body_len,
                       const uint8_t tag[HCP_UPBLOCK_TAG_LEN]);
/* The response to t->request: what to do next. On SEND, t->request is the next request. */
hcp_upblock_step_t hcp_upblock_on_response(hcp_upblock_t *t, const hcp_upblock_response_t *r);
/* After DONE: true when the answer's body is the one gathered from Block2 blocks, which then
 * becomes the caller's (malloc'd, to free); false when it is the last response's own payload. */
bool hcp_upblock_take_body(hcp_upblock_t *t, uint8_t **body, size_t *len);
/* Frees what |t| holds; |t| is "none" again. */
void hcp_upblock_reset(hcp_upblock_t *t);

#endif

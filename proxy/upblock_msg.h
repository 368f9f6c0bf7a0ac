/* Between CoAP messages (hcm_coap_msg_t) and the block-wise state machine (upblock.h), for every
 * transport: what the machine reads of a response, and the request it says to send, as a message.
 * upblock_pdu.c puts libcoap's PDUs on either side of it; upstream_udp.c encodes the message with
 * mapping/wire.c itself. */
#ifndef HCP_UPBLOCK_MSG_H
#define HCP_UPBLOCK_MSG_H

#include "hcc.h"
#include "hcm.h"
#include "upblock.h"

/* RFC 7252 s4.6: the largest datagram sent when nothing better is known of the path (1152 bytes),
 * which is also the largest message a TCP peer takes before its CSM (RFC 8323 s5.3.1). */
#define HCP_UPBLOCK_MSG_MTU 1152

/* Starts |t| for |msg| with |cfg|'s upstream.block_size and upstream.max_response_bytes, its
 * blocks sized to fit one message beside |msg|'s options and a token of |token_len| bytes, over
 * a reliable transport (TCP, TLS: BERT answers taken) or not; |tag| is the Request-Tag of its
 * Block1 blocks, if it needs them. */
void hcp_upblock_msg_begin(hcp_upblock_t *t, const hcc_config_t *cfg, const hcm_coap_msg_t *msg,
                           size_t token_len, bool is_reliable,
                           const uint8_t tag[HCP_UPBLOCK_TAG_LEN]);
/* What |t| reads of |msg|: the first of each option; valid while |msg|'s bytes live. */
hcp_upblock_response_t hcp_upblock_msg_view(const hcm_coap_msg_t *msg);

/* The request t->request, with the storage its added option values point into. */
typedef struct hcp_upblock_msg_out {
    hcm_coap_msg_t msg;
    uint8_t block1[4], block2[4], size1[8];
} hcp_upblock_msg_out_t;

/* |msg| with the block-wise options of t->request and its piece of |msg|'s body, in |out|, which
 * points into |msg| and |t|. 0, or HCM_ENOSPACE when the options do not fit. */
int hcp_upblock_msg_request(const hcm_coap_msg_t *msg, const hcp_upblock_t *t,
                            hcp_upblock_msg_out_t *out);

#endif

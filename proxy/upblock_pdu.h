/* Between libcoap's PDUs and the block-wise state machine (upblock.h), for upstream.c: what the
 * machine reads of a response, and the request it says to send, built as a PDU. */
#ifndef HCP_UPBLOCK_PDU_H
#define HCP_UPBLOCK_PDU_H

#include <coap3/coap.h>

#include "hcc.h"
#include "hcm.h"
#include "upblock.h"

/* Starts |t| for |msg| with |cfg|'s upstream.block_size and upstream.max_response_bytes, its
 * blocks sized to fit one message beside |msg|'s options and a token of |token_len| bytes, over
 * a reliable transport (TCP, TLS: BERT answers taken) or not; |tag| is the Request-Tag of its
 * Block1 blocks, if it needs them. */
void hcp_upblock_begin(hcp_upblock_t *t, const hcc_config_t *cfg, const hcm_coap_msg_t *msg,
                       size_t token_len, bool is_reliable, const uint8_t tag[HCP_UPBLOCK_TAG_LEN]);
/* What |t| reads of |pdu|; valid while |pdu| lives. */
hcp_upblock_response_t hcp_upblock_view(const coap_pdu_t *pdu);
/* A CON carrying |token|: |msg| with the block-wise options of t->request and its piece of
 * |msg|'s body. NULL when libcoap cannot build it. */
coap_pdu_t *hcp_upblock_pdu(coap_session_t *session, const hcm_coap_msg_t *msg,
                            const hcp_upblock_t *t, const uint8_t *token, size_t token_len);

#endif

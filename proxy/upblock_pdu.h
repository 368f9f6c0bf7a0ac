/* The block-wise state machine's requests (upblock_msg.h) as libcoap PDUs, for the transports
 * upstream_coap.c drives through libcoap (coaps, coap+tcp, coaps+tcp). */
#ifndef HCP_UPBLOCK_PDU_H
#define HCP_UPBLOCK_PDU_H

#include <coap3/coap.h>

#include "upblock_msg.h"

/* A CON carrying |token|: |msg| with the block-wise options of t->request and its piece of
 * |msg|'s body. NULL when libcoap cannot build it. */
coap_pdu_t *hcp_upblock_pdu(coap_session_t *session, const hcm_coap_msg_t *msg,
                            const hcp_upblock_t *t, const uint8_t *token, size_t token_len);

#endif

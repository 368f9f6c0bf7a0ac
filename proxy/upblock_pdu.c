/* The block-wise state machine's requests as libcoap PDUs: see upblock_pdu.h. */
#include <stdlib.h>

#include "hcm.h"
#include "upblock.h"
#include "upblock_msg.h"
#include "upblock_pdu.h"

coap_pdu_t *hcp_upblock_pdu(coap_session_t *session, const hcm_coap_msg_t *msg,
                            const hcp_upblock_t *t, const uint8_t *token, size_t token_len)
{
    hcp_upblock_msg_out_t *out = malloc(sizeof *out); /* 1.5 KiB: off the stack */
    coap_pdu_t *pdu = NULL;

    if (out == NULL || hcp_upblock_msg_request(msg, t, out) < 0)
        goto fail;
    pdu = coap_new_pdu(COAP_MESSAGE_CON, out->msg.code, session);
    if (pdu == NULL || !coap_add_token(pdu, token_len, token))
        goto fail;
    for (size_t i = 0; i < out->msg.nopts; i++) /* in order of number: appended */
        if (coap_add_option(pdu, out->msg.opts[i].number, out->msg.opts[i].value.len,
                            out->msg.opts[i].value.p) == 0)
            goto fail;
    if (out->msg.payload.len > 0 &&
        !coap_add_data(pdu, out->msg.payload.len, out->msg.payload.p))
        goto fail;
    free(out);
    return pdu;
fail:
    if (pdu != NULL)
        coap_delete_pdu(pdu);
    free(out);
    return NULL;
}

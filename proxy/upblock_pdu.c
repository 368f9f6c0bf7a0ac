/* Between libcoap's PDUs and the block-wise state machine: see upblock_pdu.h. */
#include <stdbool.h>

#include "upblock_pdu.h"

/* RFC 7959 s2.2: a block of 2^(SZX + 4) bytes. */
static unsigned szx_for(long long block_size)
{
    unsigned szx = 0;

    while ((16LL << szx) < block_size && szx < 6)
        szx++;
    return szx;
}

/* The body bytes a request can carry beside |msg|'s options: a datagram of COAP_DEFAULT_MTU
 * (1152 bytes, RFC 7252 s4.6), which is also the largest message a TCP peer takes before its CSM
 * (RFC 8323 s5.3.1), less the header, the token, the payload marker, |msg|'s options (each counted
 * with the longest delta and length extensions) and room for the block-wise options added. */
#define BLOCK_OPTIONS_ROOM (4 + 4 + 5 + 7 + 3 + HCP_UPBLOCK_ECHO_MAX)
static size_t payload_room(const hcm_coap_msg_t *msg, size_t token_len)
{
    size_t used = 4 + token_len + 1 + BLOCK_OPTIONS_ROOM;

    for (size_t i = 0; i < msg->nopts; i++)
        used += 5 + msg->opts[i].value.len;
    return used < COAP_DEFAULT_MTU ? COAP_DEFAULT_MTU - used : 0;
}

static bool add_uint_option(coap_pdu_t *pdu, coap_option_num_t number, uint64_t value)
{
    uint8_t buf[8];

    return coap_add_option(pdu, number, coap_encode_var_safe8(buf, sizeof buf, value), buf) != 0;
}

/* The options a block-wise transfer adds to the exchange's own (coap_add_option() puts each in
 * its place by number). */
static bool add_block_options(coap_pdu_t *pdu, const hcp_upblock_t *t)
{
    const hcp_upblock_request_t *q = &t->request;

    return (!q->has_block1 || add_uint_option(pdu, COAP_OPTION_BLOCK1, q->block1)) &&
           (!q->has_block2 || add_uint_option(pdu, COAP_OPTION_BLOCK2, q->block2)) &&
           (!q->has_size1 || add_uint_option(pdu, COAP_OPTION_SIZE1, q->size1)) &&
           (!q->has_echo || coap_add_option(pdu, COAP_OPTION_ECHO, t->echo_len, t->echo)) &&
           (!q->has_request_tag ||
            coap_add_option(pdu, COAP_OPTION_RTAG, sizeof t->request_tag, t->request_tag));
}

/* The request t->request: the exchange's message with the block-wise options and its piece of
 * the body. */
coap_pdu_t *hcp_upblock_pdu(coap_session_t *session, const hcm_coap_msg_t *msg,
                            const hcp_upblock_t *t, const uint8_t *token, size_t token_len)
{
    const hcp_upblock_request_t *q = &t->request;
    coap_pdu_t *pdu = coap_new_pdu(COAP_MESSAGE_CON, msg->code, session);

    if (pdu == NULL || !coap_add_token(pdu, token_len, token))
        goto fail;
    for (size_t i = 0; i < msg->nopts; i++)
        if (coap_add_option(pdu, msg->opts[i].number, msg->opts[i].value.len,
                            msg->opts[i].value.p) == 0)
            goto fail;
    if (!add_block_options(pdu, t))
        goto fail;
    if (q->len > 0 && !coap_add_data(pdu, q->len, msg->payload.p + q->offset))
        goto fail;
    return pdu;
fail:
    if (pdu != NULL)
        coap_delete_pdu(pdu);
    return NULL;
}

void hcp_upblock_begin(hcp_upblock_t *t, const hcc_config_t *cfg, const hcm_coap_msg_t *msg,
                       size_t token_len, bool is_reliable, const uint8_t tag[HCP_UPBLOCK_TAG_LEN])
{
    hcp_upblock_limits_t limits = {
        .szx = szx_for(cfg->upstream_block_size),
        .max_payload = payload_room(msg, token_len),
        .max_response = (size_t)cfg->upstream_max_response_bytes,
        .bert = is_reliable,
    };

    hcp_upblock_start(t, &limits, msg->payload.len, tag);
}

static hcp_upblock_value_t option_value(const coap_pdu_t *pdu, coap_option_num_t number)
{
    coap_opt_iterator_t it;
    coap_opt_t *opt = coap_check_option(pdu, number, &it);

    if (opt == NULL)
        return (hcp_upblock_value_t){.present = false};
    return (hcp_upblock_value_t){.present = true, .p = coap_opt_value(opt),
                                 .len = coap_opt_length(opt)};
}

/* What the block-wise state machine reads of a response. */
hcp_upblock_response_t hcp_upblock_view(const coap_pdu_t *pdu)
{
    hcp_upblock_response_t r = {
        .code = (uint8_t)coap_pdu_get_code(pdu),
        .block1 = option_value(pdu, COAP_OPTION_BLOCK1),
        .block2 = option_value(pdu, COAP_OPTION_BLOCK2),
        .size1 = option_value(pdu, COAP_OPTION_SIZE1),
        .size2 = option_value(pdu, COAP_OPTION_SIZE2),
        .etag = option_value(pdu, COAP_OPTION_ETAG),
        .echo = option_value(pdu, COAP_OPTION_ECHO),
        .content_format = option_value(pdu, COAP_OPTION_CONTENT_FORMAT),
    };

    coap_get_data(pdu, &r.payload_len, &r.payload);
    return r;
}

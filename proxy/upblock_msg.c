/* Between CoAP messages and the block-wise state machine: see upblock_msg.h. */
#include <stdbool.h>

#include "hcc.h"
#include "hcm.h"
#include "upblock.h"
#include "upblock_msg.h"

#define OPT_REQUEST_TAG 292 /* RFC 9175 s3.2 */

/* RFC 7959 s2.2: a block of 2^(SZX + 4) bytes. */
static unsigned szx_for(long long block_size)
{
    unsigned szx = 0;

    while ((16LL << szx) < block_size && szx < 6)
        szx++;
    return szx;
}

/* The body bytes a request can carry beside |msg|'s options: a message of HCP_UPBLOCK_MSG_MTU bytes
 * less the header, the token, the payload marker, |msg|'s options (each counted with the longest
 * delta and length extensions) and room for the block-wise options added. */
#define BLOCK_OPTIONS_ROOM (4 + 4 + 5 + 7 + 3 + HCP_UPBLOCK_ECHO_MAX)
static size_t payload_room(const hcm_coap_msg_t *msg, size_t token_len)
{
    size_t used = 4 + token_len + 1 + BLOCK_OPTIONS_ROOM;

    for (size_t i = 0; i < msg->nopts; i++)
        used += 5 + msg->opts[i].value.len;
    return used < HCP_UPBLOCK_MSG_MTU ? HCP_UPBLOCK_MSG_MTU - used : 0;
}

void hcp_upblock_msg_begin(hcp_upblock_t *t, const hcc_config_t *cfg, const hcm_coap_msg_t *msg,
                           size_t token_len, bool is_reliable,
                           const uint8_t tag[HCP_UPBLOCK_TAG_LEN])
{
    hcp_upblock_limits_t limits = {
        .szx = szx_for(cfg->upstream_block_size),
        .max_payload = payload_room(msg, token_len),
        .max_response = (size_t)cfg->upstream_max_response_bytes,
        .bert = is_reliable,
    };

    hcp_upblock_start(t, &limits, msg->payload.len, tag);
}

static hcp_upblock_value_t option_value(const hcm_coap_msg_t *msg, uint16_t number)
{
    const hcm_option_t *opt = hcm_coap_msg_find(msg, number);

    if (opt == NULL)
        return (hcp_upblock_value_t){.present = false};
    return (hcp_upblock_value_t){.present = true, .p = opt->value.p, .len = opt->value.len};
}

hcp_upblock_response_t hcp_upblock_msg_view(const hcm_coap_msg_t *msg)
{
    return (hcp_upblock_response_t){
        .code = msg->code,
        .block1 = option_value(msg, HCM_OPT_BLOCK1),
        .block2 = option_value(msg, HCM_OPT_BLOCK2),
        .size1 = option_value(msg, HCM_OPT_SIZE1),
        .size2 = option_value(msg, HCM_OPT_SIZE2),
        .etag = option_value(msg, HCM_OPT_ETAG),
        .echo = option_value(msg, HCM_OPT_ECHO),
        .content_format = option_value(msg, HCM_OPT_CONTENT_FORMAT),
        .payload = msg->payload.p,
        .payload_len = msg->payload.len,
    };
}

/* |value| in its shortest big-endian form (RFC 7252 s3.2: 0 is no bytes), into |buf|. */
static hcm_bytes_t encode_uint(uint8_t *buf, size_t size, uint64_t value)
{
    size_t len = 0;

    for (uint64_t v = value; v != 0 && len < size; v >>= 8)
        len++;
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(value >> (8 * (len - 1 - i)));
    return (hcm_bytes_t){buf, len};
}

/* The options a block-wise transfer adds to the exchange's own, each in its place by number. */
int hcp_upblock_msg_request(const hcm_coap_msg_t *msg, const hcp_upblock_t *t,
                            hcp_upblock_msg_out_t *out)
{
    const hcp_upblock_request_t *q = &t->request;
    hcm_coap_msg_t *m = &out->msg;

    *m = *msg;
    m->payload = (hcm_bytes_t){q->len > 0 ? msg->payload.p + q->offset : NULL, q->len};
    if ((q->has_block1 && hcm_coap_msg_add(m, HCM_OPT_BLOCK1, encode_uint(out->block1,
                                           sizeof out->block1, q->block1)) < 0) ||
        (q->has_block2 && hcm_coap_msg_add(m, HCM_OPT_BLOCK2, encode_uint(out->block2,
                                           sizeof out->block2, q->block2)) < 0) ||
        (q->has_size1 && hcm_coap_msg_add(m, HCM_OPT_SIZE1, encode_uint(out->size1,
                                          sizeof out->size1, q->size1)) < 0) ||
        (q->has_echo && hcm_coap_msg_add(m, HCM_OPT_ECHO, (hcm_bytes_t){t->echo,
                                         t->echo_len}) < 0) ||
        (q->has_request_tag && hcm_coap_msg_add(m, OPT_REQUEST_TAG, (hcm_bytes_t){
                                                t->request_tag, sizeof t->request_tag}) < 0))
        return HCM_ENOSPACE;
    return 0;
}

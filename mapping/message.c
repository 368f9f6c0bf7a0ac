/* CoAP messages without transport framing: sorted options and uint option values. */
#include <string.h>

#include "hcm.h"

/* RFC 7252 s3.1: options go out in order of their numbers (the delta encoding needs it), and
 * s5.4.5: repeated options keep the order in which they were given, so equal numbers stay stable.
 * Insertion walks back from the end because options are mostly added in ascending order. */
int hcm_coap_msg_add(hcm_coap_msg_t *msg, uint16_t number, hcm_bytes_t value)
{
    size_t i;

    if (msg->nopts >= HCM_MAX_OPTIONS)
        return HCM_ENOSPACE;
    for (i = msg->nopts; i > 0 && msg->opts[i - 1].number > number; i--)
        msg->opts[i] = msg->opts[i - 1];
    msg->opts[i] = (hcm_option_t){ .number = number, .value = value };
    msg->nopts++;
    return 0;
}

int hcm_coap_msg_add_uint(hcm_coap_msg_t *msg, hcm_arena_t *arena, uint16_t number,
                          uint32_t value)
{
    /* RFC 7252 s3.2: network byte order, no leading zero bytes; 0 is the empty value. The empty
     * value still points somewhere valid so that callers may memcpy() it. */
    static const uint8_t empty[1] = { 0 };
    uint8_t *p;
    size_t len = 0;
    size_t i;

    if (msg->nopts >= HCM_MAX_OPTIONS)
        return HCM_ENOSPACE;
    for (uint32_t v = value; v != 0; v >>= 8)
        len++;
    if (len == 0)
        return hcm_coap_msg_add(msg, number, (hcm_bytes_t){ .p = empty, .len = 0 });
    p = hcm_arena_alloc(arena, len);
    if (p == NULL)
        return HCM_ENOSPACE;
    for (i = 0; i < len; i++)
        p[i] = (uint8_t)(value >> (8 * (len - 1 - i)));
    return hcm_coap_msg_add(msg, number, (hcm_bytes_t){ .p = p, .len = len });
}

size_t hcm_coap_msg_size(const hcm_coap_msg_t *msg, bool with_payload)
{
    size_t need = with_payload ? msg->payload.len : 0;

    for (size_t i = 0; i < msg->nopts; i++)
        need += msg->opts[i].value.len;
    return need;
}

void hcm_coap_msg_copy(hcm_coap_msg_t *out, uint8_t *bytes, const hcm_coap_msg_t *msg,
                       bool with_payload)
{
    size_t at = 0;

    out->code = msg->code;
    out->nopts = msg->nopts;
    for (size_t i = 0; i < msg->nopts; i++) {
        hcm_bytes_t v = msg->opts[i].value;
        if (v.len > 0)
            memcpy(bytes + at, v.p, v.len);
        out->opts[i] = (hcm_option_t){msg->opts[i].number, {bytes + at, v.len}};
        at += v.len;
    }
    out->payload = msg->payload;
    if (with_payload) {
        if (msg->payload.len > 0)
            memcpy(bytes + at, msg->payload.p, msg->payload.len);
        out->payload.p = bytes + at;
    }
}

const hcm_option_t *hcm_coap_msg_find(const hcm_coap_msg_t *msg, uint16_t number)
{
    size_t i;

    /* Options are sorted, so the search can stop at the first larger number. */
    for (i = 0; i < msg->nopts && msg->opts[i].number <= number; i++)
        if (msg->opts[i].number == number)
            return &msg->opts[i];
    return NULL;
}

int hcm_uint_decode(hcm_bytes_t value, uint32_t *out)
{
    uint32_t v = 0;
    size_t i;

    /* RFC 7252 s3.2: a receiver accepts leading zero bytes, but no uint option is defined with
     * more than 4 bytes (s5.10 Table 4). */
    if (value.len > 4)
        return HCM_EBADRESPONSE;
    for (i = 0; i < value.len; i++)
        v = v << 8 | value.p[i];
    *out = v;
    return 0;
}

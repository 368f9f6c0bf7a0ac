/* CoAP over UDP: the datagram format (RFC 7252 s3, s4.1) and the rules for options a recipient
 * does not recognize (s5.4). hcproxy decodes every datagram itself, before any library sees it,
 * so that a malformed or unrecognized option gets the answer the RFC asks for (s5.4.1, s5.4.3)
 * instead of a Reset, and a datagram of another version is ignored (s3). */
#include <string.h>

#include "hcm.h"

#define HEADER_LEN 4
#define PAYLOAD_MARKER 0xff
#define VERSION 1

/* ---- the option table ------------------------------------------------------------------------ */

static const hcm_option_info_t options[] = {
#define HCM_OPTION(number, name, min, max, repeatable) { number, name, min, max, repeatable },
#include "options.def"
#undef HCM_OPTION
};

const hcm_option_info_t *hcm_option_info(uint16_t number)
{
    size_t lo = 0, hi = HCM_COUNTOF(options);

    while (lo < hi) { /* the rows are sorted by number */
        size_t mid = (lo + hi) / 2;
        if (options[mid].number == number)
            return &options[mid];
        if (options[mid].number < number)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

bool hcm_option_is_recognized(const hcm_option_t *opt, size_t nth)
{
    const hcm_option_info_t *info = hcm_option_info(opt->number);

    return info != NULL && opt->value.len >= info->min_len && opt->value.len <= info->max_len &&
           (nth == 0 || info->is_repeatable);
}

int hcm_coap_screen_options(hcm_coap_msg_t *msg, uint16_t *bad)
{
    bool keep[HCM_MAX_OPTIONS];
    size_t i, kept = 0, nth = 0;

    for (i = 0; i < msg->nopts; i++) {
        const hcm_option_t *opt = &msg->opts[i];
        nth = i > 0 && msg->opts[i - 1].number == opt->number ? nth + 1 : 0;
        keep[i] = hcm_option_is_recognized(opt, nth);
        if (!keep[i] && hcm_option_is_critical(opt->number)) {
            *bad = opt->number;
            return HCM_EBADOPTION;
        }
    }
    for (i = 0; i < msg->nopts; i++)
        if (keep[i])
            msg->opts[kept++] = msg->opts[i];
    msg->nopts = kept;
    return 0;
}

/* ---- decoding -------------------------------------------------------------------------------- */

/* An option's delta or length: the 4-bit field |nibble| and the extended bytes it announces
 * (s3.1). false for the reserved nibble 15 or bytes past |end|. */
static bool read_extended(unsigned nibble, const uint8_t **p, const uint8_t *end, uint32_t *out)
{
    if (nibble < 13) {
        *out = nibble;
        return true;
    }
    if (nibble == 13) {
        if (end - *p < 1)
            return false;
        *out = 13u + (*p)[0];
        *p += 1;
        return true;
    }
    if (nibble == 14) {
        if (end - *p < 2)
            return false;
        *out = 269u + ((uint32_t)(*p)[0] << 8 | (*p)[1]);
        *p += 2;
        return true;
    }
    return false;
}

#define FAIL(reason)                                                                               \
    do {                                                                                           \
        if (why != NULL)                                                                           \
            *why = reason;                                                                         \
        return HCM_WIRE_MALFORMED;                                                                 \
    } while (0)

/* The options and payload after the token, from |p| to |end|. */
static hcm_wire_verdict_t decode_body(const uint8_t *p, const uint8_t *end, hcm_coap_msg_t *msg,
                                      const char **why)
{
    uint32_t number = 0;

    while (p < end && *p != PAYLOAD_MARKER) {
        unsigned delta_nibble = *p >> 4, length_nibble = *p & 0x0f;
        uint32_t delta, length;

        p++;
        if (!read_extended(delta_nibble, &p, end, &delta) ||
            !read_extended(length_nibble, &p, end, &length))
            FAIL("an option header is reserved (15) or truncated");
        if ((size_t)(end - p) < length)
            FAIL("an option value runs past the end of the datagram");
        number += delta;
        if (number > UINT16_MAX)
            FAIL("an option number exceeds 65535");
        if (msg->nopts == HCM_MAX_OPTIONS)
            FAIL("more options than hcproxy holds");
        msg->opts[msg->nopts++] = (hcm_option_t){
            .number = (uint16_t)number, .value = { .p = p, .len = length } };
        p += length;
    }
    if (p < end) { /* the payload marker */
        if (++p == end)
            FAIL("a payload marker with no payload after it");
        msg->payload = (hcm_bytes_t){ .p = p, .len = (size_t)(end - p) };
    }
    return HCM_WIRE_MESSAGE;
}

hcm_wire_verdict_t hcm_coap_decode(hcm_bytes_t dgram, hcm_coap_header_t *hdr,
                                   hcm_coap_msg_t *msg, const char **why)
{
    const uint8_t *p = dgram.p, *end = dgram.p + dgram.len;
    unsigned token_len;

    memset(msg, 0, sizeof *msg);
    if (dgram.len < HEADER_LEN || p[0] >> 6 != VERSION)
        return HCM_WIRE_IGNORE;
    memset(hdr, 0, sizeof *hdr);
    hdr->type = p[0] >> 4 & 3;
    hdr->mid = (uint16_t)(p[2] << 8 | p[3]);
    msg->code = p[1];
    token_len = p[0] & 0x0f;
    p += HEADER_LEN;
    if (msg->code == 0 && (token_len > 0 || p < end))
        FAIL("an Empty message with a token, options or payload (RFC 7252 s4.1)");
    if (token_len > HCM_MAX_TOKEN)
        FAIL("a token length of 9 to 15 (RFC 7252 s3)");
    if ((size_t)(end - p) < token_len)
        FAIL("the token runs past the end of the datagram");
    hdr->token_len = (uint8_t)token_len;
    memcpy(hdr->token, p, token_len);
    return decode_body(p + token_len, end, msg, why);
}

#undef FAIL

/* ---- encoding -------------------------------------------------------------------------------- */

/* The nibble for |value| and the extended bytes it needs (s3.1). */
static unsigned nibble_for(uint32_t value, size_t *extra)
{
    if (value < 13) {
        *extra = 0;
        return value;
    }
    if (value < 269) {
        *extra = 1;
        return 13;
    }
    *extra = 2;
    return 14;
}

static uint8_t *write_extended(uint8_t *p, uint32_t value, size_t extra)
{
    if (extra == 1) {
        *p++ = (uint8_t)(value - 13);
    } else if (extra == 2) {
        *p++ = (uint8_t)((value - 269) >> 8);
        *p++ = (uint8_t)(value - 269);
    }
    return p;
}

/* One option after the option numbered |previous|, or NULL when it does not fit before |end|. */
static uint8_t *write_option(uint8_t *p, const uint8_t *end, uint16_t previous,
                             const hcm_option_t *opt)
{
    uint32_t delta = (uint32_t)opt->number - previous;
    size_t delta_extra, length_extra;
    unsigned delta_nibble = nibble_for(delta, &delta_extra);
    unsigned length_nibble = nibble_for((uint32_t)opt->value.len, &length_extra);

    if ((size_t)(end - p) < 1 + delta_extra + length_extra + opt->value.len)
        return NULL;
    *p++ = (uint8_t)(delta_nibble << 4 | length_nibble);
    p = write_extended(p, delta, delta_extra);
    p = write_extended(p, (uint32_t)opt->value.len, length_extra);
    if (opt->value.len > 0)
        memcpy(p, opt->value.p, opt->value.len);
    return p + opt->value.len;
}

size_t hcm_coap_encode(const hcm_coap_header_t *hdr, const hcm_coap_msg_t *msg, uint8_t *out,
                       size_t size)
{
    const uint8_t *end = out + size;
    uint8_t *p = out;
    uint16_t previous = 0;

    if (hdr->token_len > HCM_MAX_TOKEN || size < HEADER_LEN + (size_t)hdr->token_len)
        return 0;
    *p++ = (uint8_t)(VERSION << 6 | (hdr->type & 3) << 4 | hdr->token_len);
    *p++ = msg->code;
    *p++ = (uint8_t)(hdr->mid >> 8);
    *p++ = (uint8_t)hdr->mid;
    memcpy(p, hdr->token, hdr->token_len);
    p += hdr->token_len;
    for (size_t i = 0; i < msg->nopts; i++) {
        const hcm_option_t *opt = &msg->opts[i];
        if (opt->number < previous || opt->value.len > 65535 + 269 ||
            (p = write_option(p, end, previous, opt)) == NULL)
            return 0;
        previous = opt->number;
    }
    if (msg->payload.len > 0) {
        if ((size_t)(end - p) < 1 + msg->payload.len)
            return 0;
        *p++ = PAYLOAD_MARKER;
        memcpy(p, msg->payload.p, msg->payload.len);
        p += msg->payload.len;
    }
    return (size_t)(p - out);
}

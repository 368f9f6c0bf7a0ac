/* Block-wise answers to CoAP clients (RFC 7959 s2.4): which block of an answer a request gets,
 * of what size, with which options, so that the datagram fits what the transport may send. Pure:
 * tests/unit/check_rblocks.c drives it. */
#include <string.h>

#include "hcm.h"
#include "rblocks.h"

#define MAX_SZX 6 /* 1024 bytes; 7 is BERT (RFC 8323 s6): plain 1024-byte blocks serve it too */

int hcp_rblocks_add_uint(hcm_coap_msg_t *msg, uint16_t number, uint32_t v, uint8_t **at)
{
    size_t len = v > 0xffffff ? 4 : v > 0xffff ? 3 : v > 0xff ? 2 : v > 0 ? 1 : 0;
    uint8_t *p = *at;

    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(v >> (8 * (len - 1 - i)));
    *at += len;
    return hcm_coap_msg_add(msg, number, (hcm_bytes_t){p, len});
}

int hcp_rblocks_read(const hcm_coap_msg_t *msg, hcp_rblocks_t *b)
{
    const hcm_option_t *b1 = hcm_coap_msg_find(msg, HCM_OPT_BLOCK1);
    const hcm_option_t *b2 = hcm_coap_msg_find(msg, HCM_OPT_BLOCK2);

    memset(b, 0, sizeof *b);
    b->has_block1 = b1 != NULL;
    b->has_block2 = b2 != NULL;
    if ((b1 != NULL && (b1->value.len > 3 || hcm_uint_decode(b1->value, &b->block1) < 0)) ||
        (b2 != NULL && (b2->value.len > 3 || hcm_uint_decode(b2->value, &b->block2) < 0)))
        return HCM_EBADOPTION; /* RFC 7959 s2.2: 0 to 3 bytes */
    return 0;
}

/* ---- answers, whole or in blocks --------------------------------------------------------------- */

static size_t extended_len(uint32_t v)
{
    return v < 13 ? 0 : v < 269 ? 1 : 2;
}

/* The bytes |msg| takes on the wire before its payload marker: the 4-byte header, the token and
 * every option (RFC 7252 s3, s3.1). */
static size_t head_len(const hcm_coap_msg_t *msg, size_t token_len)
{
    size_t n = 4 + token_len;
    uint16_t previous = 0;

    for (size_t i = 0; i < msg->nopts; i++) {
        const hcm_option_t *o = &msg->opts[i];
        n += 1 + extended_len(o->number - previous) + extended_len((uint32_t)o->value.len) +
             o->value.len;
        previous = o->number;
    }
    return n;
}

/* |whole|'s options, with |*block1| echoed when there is one; false when they do not fit. */
static bool copy_options(const hcm_coap_msg_t *whole, const uint32_t *block1, uint8_t **at,
                         hcm_coap_msg_t *out)
{
    memset(out, 0, sizeof *out);
    out->code = whole->code;
    memcpy(out->opts, whole->opts, whole->nopts * sizeof whole->opts[0]);
    out->nopts = whole->nopts;
    return block1 == NULL || hcp_rblocks_add_uint(out, HCM_OPT_BLOCK1, *block1, at) == 0;
}

/* |base| with the Block2 option (and, for the first block, Size2) of the block of 16 << |szx|
 * bytes of |whole| that holds |offset|, their values written at |at| (7 bytes at most), and that
 * block as payload: 1 when blocks remain after it, else 0. */
static int with_block(const hcm_coap_msg_t *base, unsigned szx, size_t offset,
                      const hcm_coap_msg_t *whole, uint8_t *at, hcm_coap_msg_t *out)
{
    size_t size = (size_t)16 << szx, total = whole->payload.len;
    bool more;

    *out = *base;
    offset -= offset % size;
    more = offset + size < total;
    if (hcp_rblocks_add_uint(out, HCM_OPT_BLOCK2,
                             (uint32_t)(offset / size) << 4 | (uint32_t)more << 3 | szx, &at) < 0 ||
        (offset == 0 && /* s4: the size of the whole, with the first block */
         hcp_rblocks_add_uint(out, HCM_OPT_SIZE2, (uint32_t)total, &at) < 0))
        return HCM_ENOSPACE;
    out->payload = (hcm_bytes_t){whole->payload.p + offset, more ? size : total - offset};
    return more;
}

int hcp_rblocks_answer(const hcm_coap_msg_t *whole, const hcp_rblocks_t *asked,
                       const uint32_t *block1, size_t token_len, size_t room, hcm_coap_msg_t *out,
                       uint8_t buf[16])
{
    unsigned szx = asked->has_block2 ? asked->block2 & 7 : MAX_SZX;
    hcm_coap_msg_t base;
    uint8_t *at = buf;
    size_t offset;
    int more;

    if (!copy_options(whole, block1, &at, out))
        return HCM_ENOSPACE;
    if (szx > MAX_SZX)
        szx = MAX_SZX;
    offset = asked->has_block2 ? (size_t)(asked->block2 >> 4) << (szx + 4) : 0;
    if (offset == 0 && whole->payload.len <= (size_t)16 << szx &&
        head_len(out, token_len) + 1 + whole->payload.len <= room) {
        out->payload = whole->payload;
        return 0;
    }
    if (offset >= whole->payload.len && !(offset == 0 && whole->payload.len == 0))
        return HCM_EBLOCKRANGE;
    /* The largest block that fits, no larger than asked (RFC 7959 s2.4 lets a server choose a
     * smaller size; the block number then grows with it, the offset staying). */
    base = *out;
    for (;; szx--) {
        more = with_block(&base, szx, offset, whole, at, out);
        if (more < 0 || szx == 0 || head_len(out, token_len) + 1 + out->payload.len <= room)
            return more;
    }
}

void hcp_rblocks_error(hcm_coap_msg_t *out, int err, const char *reason, size_t token_len,
                       size_t room)
{
    size_t head = head_len(out, token_len) + 1, len = strlen(reason);

    out->code = hcm_err_code(err);
    if (head >= room)
        len = 0;
    else if (len > room - head)
        len = room - head;
    out->payload = (hcm_bytes_t){(const uint8_t *)reason, len};
}

/* Sequences of responses from a CoAP server to hcproxy's block-wise transfers (proxy/upblock.c):
 * the state machine of the HTTP -> CoAP direction, driven response by response with whatever a
 * server might answer: any code, Block1 and Block2 of any value and length (BERT included),
 * ETags that change, Size1, Size2, Echo, payloads of any length.
 *
 * Properties, besides sanitizer reports and leaks:
 *   - every request asks for a piece of the body within it: a Block1 block is where its NUM says,
 *     of its size (the last one shorter), M set on all but the last; a request without Block1
 *     carries the whole body or none of it;
 *   - what is gathered never passes max_response, and a gathered body is exactly the bytes of one
 *     representation's blocks in order: each byte of a block is a function of its ETag and its
 *     offset, so a body mixed from two representations, or with a gap, shows;
 *   - the transfer ends: the requests it asks for are bounded by the body, the limits and the
 *     restarts (3 for Block2, each 4.13 restart smaller, one Echo per request). */
#include "fuzz_input.h"
#include "upblock.h"

static const uint8_t codes[] = {0x45, 0x5F, 0x44, 0x41, 0x8D, 0x81, 0xA3, 0x84};

static uint8_t pattern(uint8_t etag, size_t offset)
{
    return (uint8_t)(etag * 31 + offset * 7);
}

/* An option value of up to |cap| bytes when |present|: its length, then its bytes. */
static hcp_upblock_value_t value(fuzz_input_t *in, bool present, uint8_t *buf, size_t cap)
{
    size_t len = present ? fuzz_u8(in) % (cap + 1) : 0;

    for (size_t i = 0; i < len; i++)
        buf[i] = fuzz_u8(in);
    return (hcp_upblock_value_t){.present = present, .p = buf, .len = len};
}

static void check_request(const hcp_upblock_t *t)
{
    const hcp_upblock_request_t *q = &t->request;

    if (q->offset > t->body_len || q->len > t->body_len - q->offset)
        abort();
    if (q->has_block1) {
        unsigned szx = q->block1 & 7;
        size_t size = (size_t)16 << szx, offset = (size_t)(q->block1 >> 4) * size;
        bool more = (q->block1 & 8) != 0;
        if (szx > 6 || offset != q->offset || q->len > size || more != (offset + q->len < t->body_len) ||
            (more && q->len != size) || !q->has_size1 || q->size1 != t->body_len)
            abort();
    } else if (q->len != 0 && (q->offset != 0 || q->len != t->body_len)) {
        abort();
    }
}

static void check_body(const hcp_upblock_t *t, uint8_t etag, const uint8_t *body, size_t len)
{
    if (len > t->limits.max_response)
        abort();
    for (size_t i = 0; i < len; i++)
        if (body[i] != pattern(etag, i))
            abort(); /* two representations mixed, or a gap */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input_t in = {data, size};
    hcp_upblock_limits_t limits = {
        .szx = fuzz_u8(&in) % 7,
        .max_payload = fuzz_u16(&in) % 1100,
        .max_response = fuzz_u16(&in),
    };
    size_t body_len = fuzz_u16(&in) % 8192, sends = 0, bound;
    uint8_t tag[HCP_UPBLOCK_TAG_LEN] = {1, 2, 3, 4};
    hcp_upblock_t t = {0};
    hcp_upblock_step_t step = HCP_UPBLOCK_SEND;

    limits.bert = fuzz_u8(&in) & 1;
    hcp_upblock_start(&t, &limits, body_len, tag);
    /* Block1: 7 uploads at most (the first, then each smaller); Block2: 4 fetches; each request
     * may be sent once more with Echo. */
    bound = 2 * (7 * (body_len / 16 + 2) + 4 * (limits.max_response / 16 + 2));
    while (step == HCP_UPBLOCK_SEND && in.left > 0) {
        uint8_t ctl = fuzz_u8(&in), opts = fuzz_u8(&in), etag = fuzz_u8(&in) & 3;
        uint8_t b1[4], b2[4], s1[4], s2[4], echo[HCP_UPBLOCK_ECHO_MAX + 1], payload[3072];
        hcp_upblock_response_t r = {.code = ctl & 0x80 ? fuzz_u8(&in) : codes[ctl & 7]};
        uint64_t block2 = 0;
        uint32_t num;
        unsigned szx;

        check_request(&t);
        r.block1 = value(&in, opts & 1, b1, sizeof b1);
        r.block2 = value(&in, opts & 2, b2, sizeof b2);
        r.size1 = value(&in, opts & 4, s1, sizeof s1);
        r.size2 = value(&in, opts & 8, s2, sizeof s2);
        r.echo = value(&in, opts & 16, echo, sizeof echo);
        r.etag = (hcp_upblock_value_t){.present = (opts & 32) != 0, .p = &etag, .len = 1};
        /* A Block2 block is the representation's bytes from where its NUM says. */
        for (size_t i = 0; i < r.block2.len; i++)
            block2 = block2 << 8 | r.block2.p[i];
        num = (uint32_t)(block2 >> 4);
        szx = (unsigned)(block2 & 7);
        r.payload_len = fuzz_u16(&in) % sizeof payload;
        for (size_t i = 0; i < r.payload_len; i++)
            payload[i] = pattern(r.etag.present ? etag : 0,
                                 (size_t)num * (szx == 7 ? 1024 : (size_t)16 << szx) + i);
        r.payload = payload;
        step = hcp_upblock_on_response(&t, &r);
        if (t.len > limits.max_response || ++sends > bound)
            abort();
        if (step == HCP_UPBLOCK_DONE) {
            uint8_t *body;
            size_t len;
            if (hcp_upblock_take_body(&t, &body, &len)) {
                check_body(&t, r.etag.present ? etag : 0, body, len);
                free(body);
            }
        }
    }
    hcp_upblock_reset(&t);
    return 0;
}

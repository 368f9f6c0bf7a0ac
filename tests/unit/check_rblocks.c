/* Block-wise answers to CoAP clients, sized to fit (proxy/rblocks.c): every answer it builds must
 * encode (mapping/wire.c) into no more than the room it was given. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "rblocks.h"
#include "run_suite.h"

static uint8_t body[8192];
static const uint8_t cf42[] = {42};

/* A 2.05 with Content-Format 42 and |len| bytes of body. */
static hcm_coap_msg_t answer_of(size_t len)
{
    hcm_coap_msg_t m = {.code = HCM_CODE(2, 5)};

    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (uint8_t)(i % 251);
    hcm_coap_msg_add(&m, HCM_OPT_CONTENT_FORMAT, (hcm_bytes_t){cf42, 1});
    m.payload = (hcm_bytes_t){body, len};
    return m;
}

/* The bytes |m| takes on the wire with a token of |token_len|. */
static size_t wire_len(const hcm_coap_msg_t *m, size_t token_len)
{
    hcm_coap_header_t h = {.type = HCM_ACK, .token_len = (uint8_t)token_len};
    static uint8_t out[4096];

    return hcm_coap_encode(&h, m, out, sizeof out);
}

static uint32_t option_uint(const hcm_coap_msg_t *m, uint16_t number, bool *present)
{
    const hcm_option_t *o = hcm_coap_msg_find(m, number);
    uint32_t v = 0;

    *present = o != NULL;
    if (o != NULL)
        hcm_uint_decode(o->value, &v);
    return v;
}


/* RFC 7959 s2.4, s4: 1024-byte blocks when the room allows, Size2 with the first. */

/* One answer of |len| bytes to a request with Block2 |block2| (when |asked|), with 1152 bytes of
 * room: what hcp_rblocks_answer() gives, the Block2 it puts on the answer (or none), its Size2
 * (when not 0) and how much of the body goes. Every answer fits the room. */
static const struct answer_row {
    const char *name;
    size_t len;
    bool asked;
    uint32_t block2_asked;
    int want;
    bool has_block2;
    uint32_t block2;
    uint32_t size2;
    size_t payload_len;
} answers[] = {
    { "an answer that fits goes whole", 100, false, 0, 0, false, 0, 0, 100 },
    /* RFC 7959 s2.4, s4: 1024-byte blocks when the room allows, Size2 with the first. */
    { "a large answer goes in 1024-byte blocks", 4096, false, 0, 1, true, 0 << 4 | 8 | 6, 4096,
      1024 },
    /* RFC 7959 s2.4: early negotiation, a client asking for 64-byte blocks gets them. */
    { "the size the client asks for is kept", 300, true, 2, 1, true, 8 | 2, 0, 64 },
    { "the last block has no more flag", 2500, true, 2 << 4 | 6, 0, true, 2 << 4 | 6, 0,
      2500 - 2048 },
    { "a block past the end is an error", 3000, true, 100 << 4 | 6, HCM_EBLOCKRANGE, false, 0, 0,
      0 },
};

START_TEST(answer)
{
    const struct answer_row *row = &answers[_i];
    hcm_coap_msg_t whole = answer_of(row->len), out;
    hcp_rblocks_t asked = {.has_block2 = row->asked, .block2 = row->block2_asked};
    uint8_t buf[16];
    bool has;
    uint32_t b2;

    ck_assert_msg(hcp_rblocks_answer(&whole, &asked, NULL, 8, 1152, &out, buf) == row->want,
                  "%s", row->name);
    if (row->want < 0)
        return;
    b2 = option_uint(&out, HCM_OPT_BLOCK2, &has);
    ck_assert_msg(has == row->has_block2 && b2 == row->block2, "%s: Block2 %u", row->name, b2);
    if (row->size2 != 0)
        ck_assert_uint_eq(option_uint(&out, HCM_OPT_SIZE2, &has), row->size2);
    ck_assert_uint_eq(out.payload.len, row->payload_len);
    ck_assert_uint_le(wire_len(&out, 8), 1152);
}
END_TEST

/* RFC 7252 s11.3: with little room (an unverified client) the block is the largest that fits. */
START_TEST(the_block_shrinks_to_fit_the_room)
{
    static const size_t rooms[] = {60, 100, 150, 200, 400, 700, 1100};

    for (size_t i = 0; i < sizeof rooms / sizeof rooms[0]; i++) {
        hcm_coap_msg_t whole = answer_of(4096), out;
        hcp_rblocks_t asked = {0};
        uint8_t buf[16];
        bool has;
        uint32_t b2;

        ck_assert_int_eq(hcp_rblocks_answer(&whole, &asked, NULL, 8, rooms[i], &out, buf), 1);
        b2 = option_uint(&out, HCM_OPT_BLOCK2, &has);
        ck_assert_uint_le(wire_len(&out, 8), rooms[i]);
        ck_assert_uint_eq(out.payload.len, (size_t)16 << (b2 & 7));
        /* ... and twice the size would not have fit */
        ck_assert_uint_gt(wire_len(&out, 8) + out.payload.len, rooms[i]);
    }
}
END_TEST

/* A later block asked for at 1024 bytes, served smaller: the offset stays, the number grows. */
START_TEST(a_smaller_block_keeps_the_offset)
{
    hcm_coap_msg_t whole = answer_of(8192), out;
    hcp_rblocks_t asked = {.has_block2 = true, .block2 = 3 << 4 | 6};
    uint8_t buf[16];
    bool has;
    uint32_t b2;

    ck_assert_int_eq(hcp_rblocks_answer(&whole, &asked, NULL, 8, 150, &out, buf), 1);
    b2 = option_uint(&out, HCM_OPT_BLOCK2, &has);
    ck_assert_uint_eq((b2 >> 4) * ((size_t)16 << (b2 & 7)), 3 * 1024);
    ck_assert_ptr_eq(out.payload.p, body + 3 * 1024);
    option_uint(&out, HCM_OPT_SIZE2, &has);
    ck_assert(!has); /* s4: Size2 with the first block only */
}
END_TEST

/* RFC 7959 s2.3: the answer to an upload's last block echoes its Block1, even one of value 0
 * (block 0 of 16 bytes), which is an option of no bytes. */
START_TEST(block1_is_echoed_even_when_0)
{
    hcm_coap_msg_t whole = answer_of(10), out;
    hcp_rblocks_t asked = {0};
    uint32_t block1 = 0;
    uint8_t buf[16];
    bool has;

    ck_assert_int_eq(hcp_rblocks_answer(&whole, &asked, &block1, 8, 1152, &out, buf), 0);
    ck_assert_uint_eq(option_uint(&out, HCM_OPT_BLOCK1, &has), 0);
    ck_assert(has);
}
END_TEST

/* RFC 7252 s5.5.2: a diagnostic payload, cut to what fits. */
START_TEST(a_diagnostic_payload_is_cut_to_fit)
{
    hcm_coap_msg_t out = {0};

    hcp_rblocks_error(&out, HCM_EBADOPTION, hcm_strerror(HCM_EBADOPTION), 8, 1152);
    ck_assert_uint_eq(out.code, HCM_CODE(4, 2));
    ck_assert_uint_eq(out.payload.len, strlen(hcm_strerror(HCM_EBADOPTION)));
    hcp_rblocks_error(&out, HCM_EBADOPTION, hcm_strerror(HCM_EBADOPTION), 8, 30);
    ck_assert_uint_le(wire_len(&out, 8), 30);
    ck_assert_uint_gt(out.payload.len, 0);
    hcp_rblocks_error(&out, HCM_EBADOPTION, hcm_strerror(HCM_EBADOPTION), 8, 10);
    ck_assert_uint_eq(out.payload.len, 0);
}
END_TEST

/* RFC 7959 s2.2: Block1 and Block2 are 0 to 3 bytes. */
START_TEST(a_block_option_of_4_bytes_is_bad)
{
    static const uint8_t four[] = {0, 0, 1, 6};
    hcm_coap_msg_t m = {.code = HCM_GET};
    hcp_rblocks_t b;

    hcm_coap_msg_add(&m, HCM_OPT_BLOCK2, (hcm_bytes_t){four, 4});
    ck_assert_int_eq(hcp_rblocks_read(&m, &b), HCM_EBADOPTION);
    m.opts[0].value.len = 3;
    ck_assert_int_eq(hcp_rblocks_read(&m, &b), 0);
    ck_assert(b.has_block2 && !b.has_block1);
    ck_assert_uint_eq(b.block2, 1); /* the first 3 bytes: 00 00 01 */
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("rblocks");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, answer, 0, sizeof answers / sizeof answers[0]);
    tcase_add_test(tc, the_block_shrinks_to_fit_the_room);
    tcase_add_test(tc, a_smaller_block_keeps_the_offset);
    tcase_add_test(tc, block1_is_echoed_even_when_0);
    tcase_add_test(tc, a_diagnostic_payload_is_cut_to_fit);
    tcase_add_test(tc, a_block_option_of_4_bytes_is_bad);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(suite());
}

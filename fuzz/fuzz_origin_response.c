/* HTTP -> CoAP responses, the reverse direction (mapping/origin_response.c, origin_redirect.c,
 * etag.c, media.c): a control byte picks the request answered (bit 0: an OSCORE POST, bit 1: a
 * GET validating ETags, else a plain GET), then the origin's answer in text:
 *   STATUS\n Name: value\n ... \n\n body */
#include "fuzz_input.h"

static const uint8_t get_uri[] = "http://origin.example/a/b?q=1";
static const uint8_t oscore_uri[] = "http://origin.example/";
static const uint8_t oscore_option[] = { 0x09, 0x14 };
static const uint8_t etag[] = { 0x0a, 0x1b };
static const uint8_t ciphertext[] = { 0x61, 0x2f, 0x10, 0x92 };

/* The request the answer is for, mapped as the proxy maps it. */
static int request_of(uint8_t control, hcm_arena_t *arena, hcm_origin_req_t *req)
{
    hcm_coap_msg_t msg = { .code = HCM_CODE(0, 1) };

    if (control & 1) {
        msg.code = HCM_CODE(0, 2);
        hcm_coap_msg_add(&msg, HCM_OPT_PROXY_URI, (hcm_bytes_t){ oscore_uri, sizeof oscore_uri - 1 });
        hcm_coap_msg_add(&msg, HCM_OPT_OSCORE, (hcm_bytes_t){ oscore_option, sizeof oscore_option });
        msg.payload = (hcm_bytes_t){ ciphertext, sizeof ciphertext };
    } else {
        hcm_coap_msg_add(&msg, HCM_OPT_PROXY_URI, (hcm_bytes_t){ get_uri, sizeof get_uri - 1 });
        if (control & 2)
            hcm_coap_msg_add(&msg, HCM_OPT_ETAG, (hcm_bytes_t){ etag, sizeof etag });
    }
    return hcm_coap_to_origin(&msg, NULL, 0, arena, req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static _Alignas(16) uint8_t arena_buf[65536];
    static char status_line[32], store[8192];
    fuzz_input_t in = { data, size };
    uint8_t control = fuzz_u8(&in);
    unsigned status = (unsigned)strtoul(fuzz_line(&in, status_line, sizeof status_line), NULL, 10);
    hcm_header_t headers[HCM_MAX_HEADERS];
    size_t nheaders = fuzz_headers(&in, headers, HCM_MAX_HEADERS, store, sizeof store);
    hcm_bytes_t body = fuzz_bytes(&in, in.left);
    hcm_origin_req_t req, next;
    hcm_coap_msg_t answer;
    hcm_arena_t arena;

    hcm_arena_init(&arena, arena_buf, sizeof arena_buf);
    if (request_of(control, &arena, &req) != 0)
        abort(); /* the fixed requests always map */
    if (hcm_origin_to_coap(status, headers, nheaders, body, &req, &arena, &answer) == 0 &&
        answer.payload.len != body.len)
        abort();
    if (hcm_origin_redirect(status, headers, nheaders, &req, &arena, &next) == 1 &&
        (next.url == NULL || next.body.p != req.body.p))
        abort();
    return 0;
}

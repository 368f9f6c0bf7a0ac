/* CoAP -> HTTP requests, the reverse direction (mapping/origin_request.c, origin_url.c, etag.c):
 * a control byte (bit 0: a reverse route serves the request, bits 1-3: Uri-Path options it
 * names), then a CoAP message as fuzz_input.h reads it. */
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static _Alignas(16) uint8_t arena_buf[65536];
    fuzz_input_t in = { data, size };
    uint8_t control = fuzz_u8(&in);
    const char *route = control & 1 ? "http://127.0.0.1:8000/api/" : NULL;
    hcm_coap_msg_t msg;
    hcm_origin_req_t req;
    hcm_arena_t arena;

    fuzz_coap_msg(&in, &msg);
    hcm_arena_init(&arena, arena_buf, sizeof arena_buf);
    if (hcm_coap_to_origin(&msg, route, (control >> 1) & 7, &arena, &req) == 0 &&
        (req.url == NULL || req.host == NULL || req.nheaders > HCM_MAX_HEADERS))
        abort();
    return 0;
}

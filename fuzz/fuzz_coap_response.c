/* CoAP -> HTTP responses (mapping/response.c, location.c, media.c, oscore.c): a control byte
 * (bits 0-2: the request's method code, bit 3: the request was OSCORE, bit 4: it validated
 * ETags, bit 5: no context at all), then a CoAP message as fuzz_input.h reads it. */
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static _Alignas(16) uint8_t arena_buf[65536];
    fuzz_input_t in = { data, size };
    uint8_t control = fuzz_u8(&in);
    hcm_target_t target = { .scheme = HCM_SCHEME_COAP, .host = "sensor.example", .port = 5683 };
    hcm_resp_ctx_t ctx = {
        .request = { .code = control & 7, .is_oscore = control & 8, .is_validation = control & 16 },
        .target = &target,
        .hosting_prefix = "http://127.0.0.1:8080/hc/",
    };
    hcm_coap_msg_t msg;
    hcm_http_resp_t resp;
    hcm_arena_t arena;

    fuzz_coap_msg(&in, &msg);
    hcm_arena_init(&arena, arena_buf, sizeof arena_buf);
    if (hcm_response_to_http(&msg, control & 32 ? NULL : &ctx, &arena, &resp) == 0 &&
        resp.nheaders > HCM_MAX_HEADERS)
        abort();
    return 0;
}

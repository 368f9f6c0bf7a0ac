/* HTTP -> CoAP requests (mapping/request.c, target.c, headers.c, oscore.c): the request line's
 * method and target, the header section, the body, as one HTTP message in text:
 *   METHOD\n /hc/coap://host/path\n Name: value\n ... \n\n body */
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static _Alignas(16) uint8_t arena_buf[65536];
    static char method[64], raw[4096], store[8192];
    fuzz_input_t in = { data, size };
    hcm_header_t headers[HCM_MAX_HEADERS];
    hcm_http_req_t req = { .method = fuzz_line(&in, method, sizeof method), .hop_limit = 16 };
    hcm_target_t target;
    hcm_coap_msg_t msg = { 0 };
    hcm_req_info_t info;
    hcm_arena_t arena;

    fuzz_line(&in, raw, sizeof raw);
    req.headers = headers;
    req.nheaders = fuzz_headers(&in, headers, HCM_MAX_HEADERS, store, sizeof store);
    req.body = fuzz_bytes(&in, in.left);
    hcm_arena_init(&arena, arena_buf, sizeof arena_buf);
    if (hcm_target_extract(raw, "/hc/", &arena, &req.target_uri) != 0)
        return 0;
    if (hcm_request_to_coap(&req, &arena, &target, &msg, &info) == 0 && msg.nopts > HCM_MAX_OPTIONS)
        abort();
    return 0;
}

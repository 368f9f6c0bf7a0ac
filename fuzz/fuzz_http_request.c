/* HTTP -> CoAP requests (mapping/request.c, target.c, headers.c, oscore.c): the request line's
 * method and target, the header section, the body, as one HTTP message in text:
 *   METHOD\n /hc/coap://host/path\n Name: value\n ... \n\n body
 * Each request that maps is mapped again with http.loose_media_types on, which must not change it. */
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
    if (hcm_request_to_coap(&req, &arena, &target, &msg, &info) != 0)
        return 0;
    if (msg.nopts > HCM_MAX_OPTIONS)
        abort();
    /* The loose media-type mapping acts only where the exact one fails: a request that maps
     * without it maps the same with it. */
    {
        static _Alignas(16) uint8_t loose_buf[65536];
        hcm_coap_msg_t loose = { 0 };
        hcm_arena_t loose_arena;

        req.loose_media_types = true;
        hcm_arena_init(&loose_arena, loose_buf, sizeof loose_buf);
        if (hcm_request_to_coap(&req, &loose_arena, &target, &loose, &info) != 0 ||
            loose.nopts != msg.nopts)
            abort();
        for (size_t i = 0; i < msg.nopts; i++)
            if (loose.opts[i].number != msg.opts[i].number ||
                loose.opts[i].value.len != msg.opts[i].value.len ||
                memcmp(loose.opts[i].value.p, msg.opts[i].value.p, msg.opts[i].value.len) != 0)
                abort();
    }
    return 0;
}

/* A whole HTTP request -> a CoAP request: method, target, headers, body (RFC 7252 s10.2,
 * RFC 8075 s5 and s6). What each header becomes is in headers.def. */
#include <string.h>

#include "hcm_internal.h"

int hcm_request_to_coap(const hcm_http_req_t *in, hcm_arena_t *arena, hcm_target_t *target,
                        hcm_coap_msg_t *out, hcm_req_info_t *info)
{
    hcm_req_info_t ignored;
    int err;

    if (info == NULL)
        info = &ignored;
    memset(out, 0, sizeof(*out));
    memset(info, 0, sizeof(*info));
    info->is_oscore = hcm__is_oscore_request(in);
    err = hcm_method_to_code(in->method, &out->code);
    if (err == 0)
        err = hcm_target_parse(in->target_uri, arena, target, out);
    if (err == 0 && info->is_oscore)
        err = hcm__oscore_check_target(out);
    if (err == 0 && info->is_oscore)
        err = hcm__oscore_request(in, arena, out);
    if (err == 0)
        err = hcm__headers_to_coap(in, arena, out, info);
    if (err != 0)
        return err;
    info->code = out->code;
    out->payload = in->body; /* a view: the body stays where the caller keeps it */
    return 0;
}

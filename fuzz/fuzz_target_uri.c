/* URI parsing (mapping/target.c): the whole input as an HTTP request-target under the HC proxy
 * path "/hc/" (RFC 8075 s5.3, s5.4.1), and as a CoAP URI on its own (RFC 7252 s6.4). */
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static _Alignas(16) uint8_t arena_buf[65536];
    static char text[8192];
    hcm_target_t target;
    hcm_coap_msg_t msg = { 0 };
    hcm_arena_t arena;
    const char *uri;

    if (fuzz_text(data, size, text, sizeof text) == NULL)
        return 0;
    hcm_arena_init(&arena, arena_buf, sizeof arena_buf);
    if (hcm_target_extract(text, "/hc/", &arena, &uri) == 0)
        hcm_target_parse(uri, &arena, &target, &msg);
    memset(&msg, 0, sizeof msg);
    if (hcm_target_parse(text, &arena, &target, &msg) != 0)
        return 0;
    if (target.host == NULL)
        abort();
    /* The path upstream.allow's rules read: a piece of the URI, from a '/', before any query. */
    if (target.path[0] != '\0' && (target.path[0] != '/' || strstr(text, target.path) == NULL ||
                                   strchr(target.path, '?') != NULL))
        abort();
    return 0;
}

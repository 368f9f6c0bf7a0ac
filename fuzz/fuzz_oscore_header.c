/* The OSCORE header field (mapping/oscore.c, RFC 8613 s11.1): canonical unpadded base64url.
 * Two properties beside "no crash": a value that decodes encodes back to itself (there is one
 * spelling of each option), and any option of up to 255 bytes survives encode then decode, but
 * for the single byte 0x00: "AA" is the empty option, which is what flags of all zeros must be
 * sent as (RFC 8613 s2.1), so 0x00 comes back empty. */
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static _Alignas(16) uint8_t arena_buf[4096];
    static char text[1024];
    hcm_bytes_t option;
    hcm_arena_t arena;
    const char *again;

    if (fuzz_text(data, size, text, sizeof text) == NULL)
        return 0;
    hcm_arena_init(&arena, arena_buf, sizeof arena_buf);
    if (hcm_oscore_header_decode(text, &arena, &option) == 0) {
        again = hcm_oscore_header_encode(option, &arena);
        if (again == NULL || strcmp(again, text) != 0)
            abort();
    }
    if (size <= 255) {
        size_t want = size == 1 && data[0] == 0x00 ? 0 : size;

        again = hcm_oscore_header_encode((hcm_bytes_t){ data, size }, &arena);
        if (again == NULL || hcm_oscore_header_decode(again, &arena, &option) != 0 ||
            option.len != want || (want > 0 && memcmp(option.p, data, want) != 0))
            abort();
    }
    return 0;
}

/* Base64 encoding (RFC 4648): the padded standard alphabet for binary payloads in JSON (observe.c)
 * and the unpadded URL-safe one for the OSCORE header field (oscore.c, RFC 8613 s11.1) and
 * multipart boundaries (observe.c). */
#include "hcm_internal.h"

static const char alphabets[][65] = {
    [HCM__BASE64] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
    [HCM__BASE64URL] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
};

const char *hcm__base64_alphabet(hcm__base64_t kind)
{
    return alphabets[kind];
}

size_t hcm__base64_encode(char *dst, hcm__base64_t kind, const uint8_t *p, size_t n)
{
    const char *digits = alphabets[kind];
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t len = 0;

    for (size_t i = 0; i < n; i++) {
        acc = (acc << 8) | p[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            if (dst != NULL)
                dst[len] = digits[(acc >> bits) & 0x3f];
            len++;
        }
    }
    if (bits > 0) {
        if (dst != NULL)
            dst[len] = digits[(acc << (6 - bits)) & 0x3f];
        len++;
    }
    /* RFC 4648 s4: the standard form pads to a multiple of 4; s5 lets base64url leave it out. */
    while (kind == HCM__BASE64 && len % 4 != 0) {
        if (dst != NULL)
            dst[len] = '=';
        len++;
    }
    return len;
}

/* What the fuzz targets share: a cursor over libFuzzer's bytes that hands out lines (for the
 * text formats: HTTP messages, URIs, header fields) and small binary fields (for CoAP messages),
 * so that a seed can be written by hand and every input still means something. */
#ifndef HCPROXY_FUZZ_INPUT_H
#define HCPROXY_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hcm.h"

/* libFuzzer calls this once per input. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The whole input as one C string in |buf| (NULs inside end it early); NULL when it does not
 * fit, for an input the target passes over. */
static inline char *fuzz_text(const uint8_t *data, size_t size, char *buf, size_t cap)
{
    if (size >= cap)
        return NULL;
    memcpy(buf, data, size);
    buf[size] = '\0';
    return buf;
}

typedef struct fuzz_input {
    const uint8_t *p;
    size_t left;
} fuzz_input_t;

/* The text up to the next '\n' (or the end), NUL-terminated in |buf|; a NUL inside ends it
 * early, as it would in a C string. */
static inline char *fuzz_line(fuzz_input_t *in, char *buf, size_t cap)
{
    const uint8_t *nl = memchr(in->p, '\n', in->left);
    size_t len = nl != NULL ? (size_t)(nl - in->p) : in->left;
    size_t copy = len < cap - 1 ? len : cap - 1;

    memcpy(buf, in->p, copy);
    buf[copy] = '\0';
    in->p += len + (nl != NULL);
    in->left -= len + (nl != NULL);
    return buf;
}

static inline uint8_t fuzz_u8(fuzz_input_t *in)
{
    uint8_t v = in->left > 0 ? in->p[0] : 0;

    if (in->left > 0) {
        in->p++;
        in->left--;
    }
    return v;
}

static inline uint16_t fuzz_u16(fuzz_input_t *in)
{
    uint16_t hi = fuzz_u8(in);

    return (uint16_t)(hi << 8 | fuzz_u8(in));
}

/* |len| bytes, or what is left: a view, not a copy. */
static inline hcm_bytes_t fuzz_bytes(fuzz_input_t *in, size_t len)
{
    hcm_bytes_t b = { in->p, len < in->left ? len : in->left };

    in->p += b.len;
    in->left -= b.len;
    return b;
}

/* "Name: value" lines until an empty line: the header section of an HTTP message. The names
 * and values live in |store|, |cap| bytes. */
static inline size_t fuzz_headers(fuzz_input_t *in, hcm_header_t *headers, size_t max,
                                  char *store, size_t cap)
{
    size_t n = 0, used = 0;

    while (in->left > 0 && n < max && used + 2 < cap) {
        char *line = fuzz_line(in, store + used, cap - used);
        char *colon = strchr(line, ':');

        used += strlen(line) + 1;
        if (line[0] == '\0')
            break;
        if (colon == NULL)
            continue;
        *colon = '\0';
        headers[n].name = line;
        headers[n].value = colon + 1 + (colon[1] == ' ');
        n++;
    }
    return n;
}

/* A CoAP message without framing: a code byte, then options as (number: 2 bytes, length: 1
 * byte, value) until a 0xFF byte or the end; the rest is the payload. */
static inline void fuzz_coap_msg(fuzz_input_t *in, hcm_coap_msg_t *msg)
{
    memset(msg, 0, sizeof *msg);
    msg->code = fuzz_u8(in);
    while (in->left > 0 && in->p[0] != 0xFF) {
        uint16_t number = fuzz_u16(in);
        hcm_bytes_t value = fuzz_bytes(in, fuzz_u8(in));

        if (hcm_coap_msg_add(msg, number, value) < 0)
            break;
    }
    fuzz_u8(in); /* the 0xFF */
    msg->payload = fuzz_bytes(in, in->left);
}

#endif

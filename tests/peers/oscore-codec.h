/* Byte formats of the OSCORE test peer (tests only; hcproxy links none of this):
 * hex, base64url (RFC 4648 s5), the OSCORE option value (RFC 8613 s6.1) and its HTTP header form
 * (s11.2, s11.3), and CoAP messages (RFC 7252 s3), whole or as the OSCORE plaintext (s5.3).
 *
 * Views (osc_bytes_t) point into memory the caller owns. Encoders write through an osc_writer_t,
 * which counts every byte even past its capacity, so one call both sizes and fills a buffer. */
#ifndef OSCORE_CODEC_H
#define OSCORE_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OSC_COUNTOF(a) (sizeof(a) / sizeof((a)[0]))

enum {
    OSC_OPTION_MAX = 255, /* RFC 8613 s2: the OSCORE option is 0-255 bytes */
    OSC_HEADER_MAX = 341, /* base64url of 255 bytes is 340 characters, plus the NUL */
    OSC_MAX_OPTIONS = 32, /* more than any message of these tests carries */
    OSC_COAP_OSCORE = 9,  /* RFC 8613 s2: option number */
};

typedef struct osc_bytes {
    const uint8_t *p;
    size_t len;
} osc_bytes_t;

typedef struct osc_writer {
    uint8_t *p;  /* may be NULL when only sizing */
    size_t cap;
    size_t len;  /* bytes the output needs so far: it fits only if len <= cap */
} osc_writer_t;

void osc_put(osc_writer_t *w, const uint8_t *p, size_t len);
void osc_put_byte(osc_writer_t *w, uint8_t b);

/* Hex without separators. osc_hex_decode() returns 0 with *len set, or -1 (odd length, a
 * non-hex character, or more than |cap| bytes). The string "" decodes to zero bytes. */
int osc_hex_decode(const char *hex, uint8_t *out, size_t cap, size_t *len);
void osc_hex_encode(osc_bytes_t in, char *out); /* |out| holds 2 * in.len + 1 */

/* base64url without padding. The encoder NUL-terminates and needs 4 * ceil(len / 3) + 1 bytes.
 * The decoder accepts only the canonical form: no padding, only A-Z a-z 0-9 - _, a length that is
 * not 1 mod 4, and zero pad bits; it returns 0 or -1. */
void osc_b64url_encode(osc_bytes_t in, char *out);
int osc_b64url_decode(const char *in, uint8_t *out, size_t cap, size_t *len);

/* RFC 8613 s11.2: the OSCORE header is "AA" for an empty option, else its base64url.
 * s11.3: "AA" (the single byte 0x00) gives the empty option. The header must be at least two
 * characters (s11.1 ABNF). */
void osc_header_from_option(osc_bytes_t option, char out[OSC_HEADER_MAX]);
int osc_option_from_header(const char *header, uint8_t out[OSC_OPTION_MAX], size_t *len);

/* The OSCORE option value (s6.1), fields as views into the value. */
typedef struct osc_option {
    osc_bytes_t piv;         /* empty: no Partial IV */
    osc_bytes_t kid_context; /* meaningful if has_kid_context */
    osc_bytes_t kid;         /* meaningful if has_kid; may be empty */
    bool has_kid;
    bool has_kid_context;
} osc_option_t;

/* 0, or -1 if the value is malformed (reserved bits or PIV lengths, truncated fields, bytes
 * after the fields without the kid flag). */
int osc_option_parse(osc_bytes_t value, osc_option_t *out);
/* The value (empty when no field is present, s2); returns its length, 0 to OSC_OPTION_MAX, or
 * -1 if it would be longer. */
int osc_option_format(const osc_option_t *option, uint8_t out[OSC_OPTION_MAX]);

/* A CoAP message. Options are kept sorted by number; values and payload are views. */
typedef struct osc_coap_option {
    uint16_t number;
    osc_bytes_t value;
} osc_coap_option_t;

typedef struct osc_coap {
    uint8_t type; /* 0 CON, 1 NON, 2 ACK, 3 RST */
    uint8_t code; /* class << 5 | detail */
    uint16_t mid;
    osc_bytes_t token;
    osc_coap_option_t opts[OSC_MAX_OPTIONS];
    size_t nopts;
    osc_bytes_t payload;
} osc_coap_t;

/* The whole UDP message (RFC 7252 s3), or the OSCORE plaintext: code, options, payload (s5.3). */
typedef enum osc_form { OSC_FORM_MESSAGE, OSC_FORM_PLAINTEXT } osc_form_t;

void osc_coap_encode(const osc_coap_t *m, osc_form_t form, osc_writer_t *w);
/* 0, or -1 on a malformed message (bad version or token length, reserved nibble 15, truncated
 * option, payload marker before an empty payload, too many options). */
int osc_coap_decode(osc_bytes_t wire, osc_form_t form, osc_coap_t *m);
/* Inserts after any option of the same number; 0, or -1 when the table is full. */
int osc_coap_add_option(osc_coap_t *m, uint16_t number, osc_bytes_t value);
/* The first option |number|, or NULL. */
const osc_coap_option_t *osc_coap_find(const osc_coap_t *m, uint16_t number);
/* CoAP uint option values (RFC 7252 s3.2): big endian, shortest form, 0 is empty. The encoder
 * returns the length (0 to 4); the decoder reads at most 4 bytes. */
size_t osc_coap_uint_encode(uint32_t v, uint8_t out[4]);
uint32_t osc_coap_uint_decode(osc_bytes_t value);
/* Whether RFC 8613 s4.1 (Figure 5) makes the option Class U only. Every other option, known or
 * not, is Class E; the options that are both (Observe, Max-Age, Block*, Size*) stay inner here,
 * since this peer never needs their outer form. */
bool osc_option_is_outer(uint16_t number);
/* Splits |m| by option class: |inner| gets the code, the Class E options and the payload,
 * |outer| gets the header fields and the Class U options, with no payload yet. */
void osc_coap_split(const osc_coap_t *m, osc_coap_t *inner, osc_coap_t *outer);

#endif

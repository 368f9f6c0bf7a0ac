/* Byte formats of the OSCORE test peer: see oscore-codec.h. */
#include "oscore-codec.h"

#include <string.h>

void osc_put(osc_writer_t *w, const uint8_t *p, size_t len)
{
    if (w->p != NULL && w->len + len <= w->cap && len > 0)
        memcpy(w->p + w->len, p, len);
    w->len += len;
}

void osc_put_byte(osc_writer_t *w, uint8_t b)
{
    osc_put(w, &b, 1);
}

/* ---- hex -------------------------------------------------------------------------------- */

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int osc_hex_decode(const char *hex, uint8_t *out, size_t cap, size_t *len)
{
    size_t n = strlen(hex);

    if (n % 2 != 0 || n / 2 > cap)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *len = n / 2;
    return 0;
}

void osc_hex_encode(osc_bytes_t in, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < in.len; i++) {
        out[2 * i] = digits[in.p[i] >> 4];
        out[2 * i + 1] = digits[in.p[i] & 0x0f];
    }
    out[2 * in.len] = '\0';
}

/* ---- base64url (RFC 4648 s5), no padding -------------------------------------------------- */

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void osc_b64url_encode(osc_bytes_t in, char *out)
{
    size_t o = 0;

    for (size_t i = 0; i < in.len; i += 3) {
        size_t left = in.len - i;
        uint32_t v = (uint32_t)in.p[i] << 16;
        if (left > 1)
            v |= (uint32_t)in.p[i + 1] << 8;
        if (left > 2)
            v |= in.p[i + 2];
        /* n input bytes give n + 1 characters; the rest would be padding, which we omit. */
        for (size_t k = 0; k < (left > 2 ? 4 : left + 1); k++)
            out[o++] = b64url_alphabet[(v >> (18 - 6 * k)) & 0x3f];
    }
    out[o] = '\0';
}

static int b64url_value(char c)
{
    const char *hit = c != '\0' ? strchr(b64url_alphabet, c) : NULL;

    return hit != NULL ? (int)(hit - b64url_alphabet) : -1;
}

int osc_b64url_decode(const char *in, uint8_t *out, size_t cap, size_t *len)
{
    size_t n = strlen(in), o = 0, bits = 0;
    uint32_t acc = 0;

    if (n % 4 == 1 || n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0) > cap)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int v = b64url_value(in[i]);
        if (v < 0)
            return -1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) /* non-zero pad bits: not the canonical encoding of these bytes (e.g. "AB") */
        return -1;
    *len = o;
    return 0;
}

void osc_header_from_option(osc_bytes_t option, char out[OSC_HEADER_MAX])
{
    static const uint8_t zero = 0;

    osc_b64url_encode(option.len == 0 ? (osc_bytes_t){&zero, 1} : option, out);
}

int osc_option_from_header(const char *header, uint8_t out[OSC_OPTION_MAX], size_t *len)
{
    if (strlen(header) < 2 || osc_b64url_decode(header, out, OSC_OPTION_MAX, len) < 0)
        return -1;
    if (*len == 1 && out[0] == 0)
        *len = 0;
    return 0;
}

/* ---- OSCORE option value (RFC 8613 s6.1) -------------------------------------------------- */

enum {
    FLAG_PIV_LEN = 0x07,
    FLAG_KID = 0x08,
    FLAG_KID_CONTEXT = 0x10,
    FLAG_RESERVED = 0xe0,
    PIV_LEN_MAX = 5, /* 6 and 7 are reserved */
};

/* Takes |n| bytes from the front of |*rest| into |*field|; -1 if there are fewer. */
static int take(osc_bytes_t *rest, size_t n, osc_bytes_t *field)
{
    if (rest->len < n)
        return -1;
    *field = (osc_bytes_t){rest->p, n};
    rest->p += n;
    rest->len -= n;
    return 0;
}

int osc_option_parse(osc_bytes_t value, osc_option_t *out)
{
    osc_bytes_t rest = value, s;
    uint8_t flags;

    memset(out, 0, sizeof *out);
    if (value.len == 0)
        return 0;
    flags = value.p[0];
    rest.p++;
    rest.len--;
    if ((flags & FLAG_RESERVED) != 0 || (flags & FLAG_PIV_LEN) > PIV_LEN_MAX)
        return -1;
    if (take(&rest, flags & FLAG_PIV_LEN, &out->piv) < 0)
        return -1;
    out->has_kid_context = (flags & FLAG_KID_CONTEXT) != 0;
    if (out->has_kid_context &&
        (take(&rest, 1, &s) < 0 || take(&rest, s.p[0], &out->kid_context) < 0))
        return -1;
    out->has_kid = (flags & FLAG_KID) != 0;
    if (out->has_kid) /* the kid has no length: it runs to the end */
        return take(&rest, rest.len, &out->kid);
    return rest.len == 0 ? 0 : -1;
}

int osc_option_format(const osc_option_t *option, uint8_t out[OSC_OPTION_MAX])
{
    osc_writer_t w = {out, OSC_OPTION_MAX, 0};
    uint8_t flags = (uint8_t)option->piv.len;

    if (option->piv.len > PIV_LEN_MAX || option->kid_context.len > 255)
        return -1;
    flags |= option->has_kid ? FLAG_KID : 0;
    flags |= option->has_kid_context ? FLAG_KID_CONTEXT : 0;
    if (flags == 0) /* s2: all flags zero means an empty value */
        return 0;
    osc_put_byte(&w, flags);
    osc_put(&w, option->piv.p, option->piv.len);
    if (option->has_kid_context) {
        osc_put_byte(&w, (uint8_t)option->kid_context.len);
        osc_put(&w, option->kid_context.p, option->kid_context.len);
    }
    if (option->has_kid)
        osc_put(&w, option->kid.p, option->kid.len);
    return w.len <= w.cap ? (int)w.len : -1;
}

/* ---- CoAP messages (RFC 7252 s3) ---------------------------------------------------------- */

enum {
    COAP_VERSION = 1,
    PAYLOAD_MARKER = 0xff,
    NIBBLE_1BYTE = 13, /* s3.1: the value minus 13 follows in one byte */
    NIBBLE_2BYTE = 14, /* the value minus 269 follows in two bytes */
    NIBBLE_RESERVED = 15,
};

/* Writes the 4-bit form of |v| into a nibble; the extension bytes go to |ext|. */
static uint8_t option_nibble(size_t v, uint8_t ext[2], size_t *ext_len)
{
    if (v < NIBBLE_1BYTE) {
        *ext_len = 0;
        return (uint8_t)v;
    }
    if (v < 269) {
        ext[0] = (uint8_t)(v - 13);
        *ext_len = 1;
        return NIBBLE_1BYTE;
    }
    ext[0] = (uint8_t)((v - 269) >> 8);
    ext[1] = (uint8_t)(v - 269);
    *ext_len = 2;
    return NIBBLE_2BYTE;
}

static void put_option(osc_writer_t *w, uint16_t delta, osc_bytes_t value)
{
    uint8_t dext[2], lext[2];
    size_t dlen, llen;
    uint8_t d = option_nibble(delta, dext, &dlen), l = option_nibble(value.len, lext, &llen);

    osc_put_byte(w, (uint8_t)(d << 4 | l));
    osc_put(w, dext, dlen);
    osc_put(w, lext, llen);
    osc_put(w, value.p, value.len);
}

void osc_coap_encode(const osc_coap_t *m, osc_form_t form, osc_writer_t *w)
{
    uint16_t last = 0;

    if (form == OSC_FORM_MESSAGE) {
        osc_put_byte(w, (uint8_t)(COAP_VERSION << 6 | m->type << 4 | m->token.len));
        osc_put_byte(w, m->code);
        osc_put_byte(w, (uint8_t)(m->mid >> 8));
        osc_put_byte(w, (uint8_t)m->mid);
        osc_put(w, m->token.p, m->token.len);
    } else {
        osc_put_byte(w, m->code);
    }
    for (size_t i = 0; i < m->nopts; i++) {
        put_option(w, (uint16_t)(m->opts[i].number - last), m->opts[i].value);
        last = m->opts[i].number;
    }
    if (m->payload.len > 0) {
        osc_put_byte(w, PAYLOAD_MARKER);
        osc_put(w, m->payload.p, m->payload.len);
    }
}

/* Reads a nibble's value with its extension bytes; -1 on 15 or a truncated extension. */
static int read_nibble(uint8_t nibble, osc_bytes_t *rest, uint32_t *v)
{
    osc_bytes_t ext;

    if (nibble < NIBBLE_1BYTE) {
        *v = nibble;
        return 0;
    }
    if (nibble == NIBBLE_1BYTE) {
        if (take(rest, 1, &ext) < 0)
            return -1;
        *v = 13u + ext.p[0];
        return 0;
    }
    if (nibble == NIBBLE_2BYTE && take(rest, 2, &ext) == 0) {
        *v = 269u + ((uint32_t)ext.p[0] << 8 | ext.p[1]);
        return 0;
    }
    return -1;
}

static int decode_options(osc_bytes_t rest, osc_coap_t *m)
{
    uint32_t number = 0, delta, len;
    osc_bytes_t head;

    while (rest.len > 0) {
        if (rest.p[0] == PAYLOAD_MARKER) {
            m->payload = (osc_bytes_t){rest.p + 1, rest.len - 1};
            return m->payload.len > 0 ? 0 : -1; /* s3: a marker before nothing is an error */
        }
        take(&rest, 1, &head);
        if (read_nibble(head.p[0] >> 4, &rest, &delta) < 0 ||
            read_nibble(head.p[0] & 0x0f, &rest, &len) < 0)
            return -1;
        number += delta;
        if (number > UINT16_MAX || m->nopts == OSC_MAX_OPTIONS)
            return -1;
        m->opts[m->nopts].number = (uint16_t)number;
        if (take(&rest, len, &m->opts[m->nopts].value) < 0)
            return -1;
        m->nopts++;
    }
    return 0;
}

int osc_coap_decode(osc_bytes_t wire, osc_form_t form, osc_coap_t *m)
{
    osc_bytes_t rest = wire, head;

    memset(m, 0, sizeof *m);
    if (form == OSC_FORM_PLAINTEXT) {
        if (take(&rest, 1, &head) < 0)
            return -1;
        m->code = head.p[0];
        return decode_options(rest, m);
    }
    if (take(&rest, 4, &head) < 0 || head.p[0] >> 6 != COAP_VERSION || (head.p[0] & 0x0f) > 8)
        return -1;
    m->type = (head.p[0] >> 4) & 0x03;
    m->code = head.p[1];
    m->mid = (uint16_t)(head.p[2] << 8 | head.p[3]);
    if (take(&rest, head.p[0] & 0x0f, &m->token) < 0)
        return -1;
    return decode_options(rest, m);
}

int osc_coap_add_option(osc_coap_t *m, uint16_t number, osc_bytes_t value)
{
    size_t at = m->nopts;

    if (m->nopts == OSC_MAX_OPTIONS)
        return -1;
    while (at > 0 && m->opts[at - 1].number > number)
        at--;
    memmove(&m->opts[at + 1], &m->opts[at], (m->nopts - at) * sizeof m->opts[0]);
    m->opts[at] = (osc_coap_option_t){number, value};
    m->nopts++;
    return 0;
}

const osc_coap_option_t *osc_coap_find(const osc_coap_t *m, uint16_t number)
{
    for (size_t i = 0; i < m->nopts; i++)
        if (m->opts[i].number == number)
            return &m->opts[i];
    return NULL;
}

size_t osc_coap_uint_encode(uint32_t v, uint8_t out[4])
{
    size_t len = 0;

    for (uint32_t t = v; t != 0; t >>= 8)
        len++;
    for (size_t i = 0; i < len; i++)
        out[i] = (uint8_t)(v >> (8 * (len - 1 - i)));
    return len;
}

uint32_t osc_coap_uint_decode(osc_bytes_t value)
{
    uint32_t v = 0;

    for (size_t i = 0; i < value.len && i < 4; i++)
        v = v << 8 | value.p[i];
    return v;
}

/* RFC 8613 Figure 5: the options marked U and not E. */
static const uint16_t class_u_only[] = {
    3,  /* Uri-Host */
    7,  /* Uri-Port */
    9,  /* OSCORE */
    35, /* Proxy-Uri (only its scheme://host:port part remains, s4.1.3.3) */
    39, /* Proxy-Scheme */
};

bool osc_option_is_outer(uint16_t number)
{
    for (size_t i = 0; i < OSC_COUNTOF(class_u_only); i++)
        if (class_u_only[i] == number)
            return true;
    return false;
}

void osc_coap_split(const osc_coap_t *m, osc_coap_t *inner, osc_coap_t *outer)
{
    memset(inner, 0, sizeof *inner);
    memset(outer, 0, sizeof *outer);
    outer->type = m->type;
    outer->mid = m->mid;
    outer->token = m->token;
    inner->code = m->code;
    inner->payload = m->payload;
    for (size_t i = 0; i < m->nopts; i++) {
        osc_coap_t *to = osc_option_is_outer(m->opts[i].number) ? outer : inner;
        to->opts[to->nopts++] = m->opts[i];
    }
}

/* HTTP entity-tags <-> CoAP ETags for the reverse direction (RFC 7252 s10.1.1, s5.10.6; RFC 9110
 * s8.8.3). No RFC says how an entity-tag becomes the 1 to 8 opaque bytes of a CoAP ETag, so hcproxy
 * keeps its own convention, the inverse of response.c, which shows a
 * CoAP ETag to HTTP clients as quoted hex: a tag of 2 to 16 hex digits of one case is those bytes,
 * any other tag of 1 to 8 characters is its own bytes, and longer tags have no CoAP form. The way
 * back lists every spelling that reads as the same bytes, so that a conditional request matches
 * the tag the origin gave, however it was spelt. */
#include <string.h>

#include "hcm_internal.h"

#define MAX_ETAG 8 /* RFC 7252 s5.10.6: 1 to 8 bytes */

static const char upper_hex[] = "0123456789ABCDEF";

/* RFC 9110 s8.8.3: etagc = %x21 / %x23-7E / obs-text. */
static bool is_etagc(uint8_t c)
{
    return c == 0x21 || (c >= 0x23 && c != 0x7f);
}

/* Whether the |n| characters at |s| are the hex form of a CoAP ETag: 2 to 16 hex digits, an even
 * number, all letters of one case (as response.c writes them in lower case). */
static bool is_hex_form(const char *s, size_t n)
{
    bool has_lower = false, has_upper = false;
    size_t i;

    if (n < 2 || n > 2 * MAX_ETAG || n % 2 != 0)
        return false;
    for (i = 0; i < n; i++) {
        if (hcm__hex_value(s[i]) < 0)
            return false;
        has_lower = has_lower || (s[i] >= 'a' && s[i] <= 'f');
        has_upper = has_upper || (s[i] >= 'A' && s[i] <= 'F');
    }
    return !(has_lower && has_upper);
}

static const char *skip_ows(const char *s)
{
    return s + strspn(s, " \t");
}

bool hcm__etag_from_entity_tag(const char *value, uint8_t etag[8], size_t *len)
{
    const char *tag, *end;
    size_t n, i;

    value = skip_ows(value);
    /* A weak tag cannot map: CoAP ETags are strong (RFC 7252 s10.1.1). */
    if (*value != '"')
        return false;
    tag = value + 1;
    for (end = tag; is_etagc((uint8_t)*end); end++)
        ;
    if (*end != '"' || *skip_ows(end + 1) != '\0')
        return false;
    n = (size_t)(end - tag);
    if (is_hex_form(tag, n)) {
        for (i = 0; i < n / 2; i++)
            etag[i] = (uint8_t)(hcm__hex_value(tag[2 * i]) << 4 | hcm__hex_value(tag[2 * i + 1]));
        *len = n / 2;
        return true;
    }
    if (n < 1 || n > MAX_ETAG)
        return false; /* RFC 7252 s5.10.6: an ETag is 1 to 8 bytes; "" and long tags do not fit */
    memcpy(etag, tag, n);
    *len = n;
    return true;
}

/* Writes |n| bytes at |p| into |list| when it is not NULL; counts them either way. */
static void put(char *list, size_t *len, const void *p, size_t n)
{
    if (list != NULL)
        memcpy(list + *len, p, n);
    *len += n;
}

static void put_hex(hcm_bytes_t etag, const char *digits, char *list, size_t *len)
{
    put(list, len, "\"", 1);
    if (list != NULL)
        hcm__hex_encode(list + *len, etag.p, etag.len, digits);
    *len += 2 * etag.len;
    put(list, len, "\"", 1);
}

/* Whether the bytes themselves are a tag the origin can have sent: entity-tag characters that
 * hcm__etag_from_entity_tag() would not have read as hex. */
static bool is_raw_form(hcm_bytes_t etag)
{
    size_t i;

    for (i = 0; i < etag.len; i++)
        if (!is_etagc(etag.p[i]))
            return false;
    return !is_hex_form((const char *)etag.p, etag.len);
}

void hcm__etag_to_entity_tags(hcm_bytes_t etag, char *list, size_t *len)
{
    bool has_letter = false;
    size_t i;

    if (*len > 0)
        put(list, len, ", ", 2);
    put_hex(etag, HCM__LOWER_HEX, list, len);
    for (i = 0; i < etag.len; i++)
        has_letter = has_letter || (etag.p[i] >> 4) >= 10 || (etag.p[i] & 0xf) >= 10;
    if (has_letter) {
        put(list, len, ", ", 2);
        put_hex(etag, upper_hex, list, len);
    }
    if (is_raw_form(etag)) {
        put(list, len, ", \"", 3);
        put(list, len, etag.p, etag.len);
        put(list, len, "\"", 1);
    }
}

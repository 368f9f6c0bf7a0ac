/* A bounded text and JSON string escaping (see text.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "text.h"

void hcp_text_init(hcp_text_t *t, char *buf, size_t cap)
{
    *t = (hcp_text_t){.buf = buf, .cap = cap};
    buf[0] = '\0';
}

void hcp_text_add(hcp_text_t *t, const char *s, size_t n)
{
    size_t room = t->cap - 1 - t->len;

    if (n > room) {
        n = room;
        t->cut = true;
    }
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = '\0';
}

void hcp_text_printf(hcp_text_t *t, const char *fmt, ...)
{
    size_t room = t->cap - t->len;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(t->buf + t->len, room, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= room) {
        t->cut = true;
        n = (int)room - 1;
    }
    t->len += (size_t)n;
}

/* The length of the valid UTF-8 sequence at |s| (RFC 3629 s4's table), 0 when it is none. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    static const struct {
        unsigned char lead_lo, lead_hi, second_lo, second_hi;
        size_t len;
    } forms[] = {
        {0xc2, 0xdf, 0x80, 0xbf, 2}, {0xe0, 0xe0, 0xa0, 0xbf, 3}, {0xe1, 0xec, 0x80, 0xbf, 3},
        {0xed, 0xed, 0x80, 0x9f, 3}, {0xee, 0xef, 0x80, 0xbf, 3}, {0xf0, 0xf0, 0x90, 0xbf, 4},
        {0xf1, 0xf3, 0x80, 0xbf, 4}, {0xf4, 0xf4, 0x80, 0x8f, 4},
    };

    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        if (s[0] < forms[i].lead_lo || s[0] > forms[i].lead_hi)
            continue;
        if (n < forms[i].len || s[1] < forms[i].second_lo || s[1] > forms[i].second_hi)
            return 0;
        for (size_t k = 2; k < forms[i].len; k++)
            if ((s[k] & 0xc0) != 0x80)
                return 0;
        return forms[i].len;
    }
    return 0;
}

void hcp_text_json(hcp_text_t *t, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    char esc[8];

    for (size_t i = 0; i < n;) {
        size_t len = p[i] < 0x80 ? 1 : utf8_len(p + i, n - i);

        if (p[i] == '"' || p[i] == '\\') {
            esc[0] = '\\';
            esc[1] = (char)p[i];
            hcp_text_add(t, esc, 2);
        } else if (p[i] < 0x20 || p[i] == 0x7f || len == 0) {
            snprintf(esc, sizeof esc, "\\u%04x", p[i]);
            hcp_text_add(t, esc, 6);
        } else {
            hcp_text_add(t, s + i, len);
            i += len;
            continue;
        }
        i++;
    }
}

/* text: a text of fixed capacity that cuts what does not fit, and JSON string escaping, for
 * log.c's JSON lines and the bodies of the local endpoints (local.c, metrics.c). Pure, no I/O;
 * tests/unit/check_logtext.c tests it with logtext.c. */
#ifndef HCP_TEXT_H
#define HCP_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* A growing text with a fixed capacity: appends past it are cut, and |cut| says so. */
typedef struct hcp_text {
    char *buf;
    size_t cap; /* including the NUL */
    size_t len;
    bool cut;
} hcp_text_t;

void hcp_text_init(hcp_text_t *t, char *buf, size_t cap);
void hcp_text_add(hcp_text_t *t, const char *s, size_t n);
void hcp_text_printf(hcp_text_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends |n| bytes of |s| as the body of a JSON string (RFC 8259 s7): '"', '\\' and control
 * characters escaped, valid UTF-8 (RFC 3629 s4: no overlong forms, no surrogates) copied, and
 * every byte of an invalid sequence written as the six characters \u00XX of that byte's value,
 * so that a line stays valid UTF-8 whatever a client or a peer sent. */
void hcp_text_json(hcp_text_t *t, const char *s, size_t n);

#endif

/* secrets.c: keys and certificates, read at start, wiped when freed. */
#ifndef HCP_SECRETS_H
#define HCP_SECRETS_H

#include <stddef.h>
#include <stdint.h>

typedef struct hcp_secrets_value {
    uint8_t *bytes; /* NUL-terminated when read from a file or a variable; NULL: none */
    size_t len;     /* without the terminator */
} hcp_secrets_value_t;

/* The value of the variable |env| when it is named, else the bytes of |file| when it is named,
 * else nothing (0, bytes NULL). |what| names the setting in the error logged. 0 or a UV_E*;
 * *out is set only on 0 (proxy.h's constructor contract). */
int hcp_secrets_read(const char *env, const char *file, const char *what, hcp_secrets_value_t *out);
/* Wipes and frees. */
void hcp_secrets_free(hcp_secrets_value_t *s);

#endif

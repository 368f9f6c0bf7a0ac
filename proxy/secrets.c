/* Keys and certificates, read once at start (the only blocking reads hcproxy makes, before its
 * loop runs) from a file or an environment variable, kept in memory it owns, and wiped when
 * they go. Their bytes are never logged; a failure names the file or the variable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "hcc.h"
#include "log.h"
#include "secrets.h"

/* A whole file, NUL-terminated (PEM parsers take the terminator; key bytes ignore it). */
static int read_file(const char *path, hcp_secrets_value_t *out)
{
    FILE *f = fopen(path, "re");
    char *text = NULL;
    size_t cap = 0;
    ssize_t n;

    if (f == NULL)
        return -1;
    n = getdelim(&text, &cap, '\0', f);
    fclose(f);
    if (n < 0) {
        free(text);
        return -1;
    }
    out->bytes = (uint8_t *)text;
    out->len = (size_t)n;
    return 0;
}

/* A copy of the variable |env|'s value, NUL-terminated. */
static int read_env(const char *env, const char *what, hcp_secrets_value_t *out)
{
    const char *value = getenv(env);
    size_t len;

    if (value == NULL || value[0] == '\0') {
        hcp_log(HCC_LOG_ERROR, 0, "%s: the variable %s is not set", what, env);
        return UV_EINVAL;
    }
    len = strlen(value);
    if ((out->bytes = malloc(len + 1)) == NULL)
        return UV_ENOMEM;
    memcpy(out->bytes, value, len + 1);
    out->len = len;
    return 0;
}

int hcp_secrets_read(const char *env, const char *file, const char *what, hcp_secrets_value_t *out)
{
    hcp_secrets_value_t s = {0};
    int err = 0;

    if (env != NULL && env[0] != '\0') {
        err = read_env(env, what, &s);
    } else if (file != NULL && file[0] != '\0' && read_file(file, &s) != 0) {
        hcp_log(HCC_LOG_ERROR, 0, "%s: %s: cannot read", what, file);
        err = UV_EIO;
    }
    if (err < 0)
        return err; /* each step above takes nothing it does not hand over */
    *out = s;       /* nothing asked for: no bytes */
    return 0;
}

void hcp_secrets_free(hcp_secrets_value_t *s)
{
    if (s->bytes != NULL) {
        explicit_bzero(s->bytes, s->len);
        free(s->bytes);
    }
    memset(s, 0, sizeof *s);
}

/* upstream.credentials' key material: see upstream_creds.h. */
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>

#include <uv.h>

#include "hcc.h"
#include "log.h"
#include "secrets.h"
#include "upstream_creds.h"

/* The pinned key of an rpk entry, from its PEM ("PUBLIC KEY") to the DER libcoap compares. */
static int load_peer_key(const hcc_credential_t *c, hcp_upstream_creds_keys_t *k)
{
    hcp_secrets_value_t pem;
    gnutls_datum_t text;
    int err = hcp_secrets_read(NULL, c->peer_key_file, "upstream.credentials", &pem);

    if (err < 0 || pem.bytes == NULL)
        return err;
    text = (gnutls_datum_t){pem.bytes, (unsigned)pem.len};
    if (gnutls_pem_base64_decode2("PUBLIC KEY", &text, &k->peer_key) < 0) {
        hcp_log(HCC_LOG_ERROR, 0, "upstream.credentials: %s: not a PEM PUBLIC KEY",
                c->peer_key_file);
        err = UV_EINVAL;
    }
    hcp_secrets_free(&pem);
    return err;
}

void hcp_upstream_creds_release(hcp_upstream_creds_set_t *set)
{
    if (set == NULL || --set->refs > 0)
        return;
    for (size_t i = 0; i < set->count; i++) {
        hcp_secrets_free(&set->keys[i].psk);
        hcp_secrets_free(&set->keys[i].ca);
        hcp_secrets_free(&set->keys[i].cert);
        hcp_secrets_free(&set->keys[i].key);
        gnutls_free(set->keys[i].peer_key.data);
    }
    free(set->creds);
    free(set);
}

/* Reads the keys of every entry of |cfg|'s upstream.credentials into a new set (one reference),
 * or fails, naming the entry's file or variable in the log. */
int hcp_upstream_creds_load(const hcc_config_t *cfg, hcp_upstream_creds_set_t **out)
{
    hcp_upstream_creds_set_t *set =
        calloc(1, sizeof *set + cfg->ncredentials * sizeof set->keys[0]);
    int err = 0;

    if (set == NULL)
        return UV_ENOMEM;
    set->refs = 1;
    set->count = cfg->ncredentials;
    if (set->count > 0 && (set->creds = calloc(set->count, sizeof *set->creds)) == NULL)
        err = UV_ENOMEM;
    for (size_t i = 0; i < cfg->ncredentials && err == 0; i++) {
        const hcc_credential_t *c = &cfg->credentials[i];
        hcp_upstream_creds_keys_t *k = &set->keys[i];
        const char *what = "upstream.credentials";

        /* Padding too: hcp_upstream_creds_same() compares bytes. */
        memcpy(&set->creds[i], c, sizeof *c);

        if (c->kind == HCC_CRED_PSK) {
            err = hcp_secrets_read(c->key_env, c->key_file, what, &k->psk);
            continue;
        }
        if (c->kind == HCC_CRED_RPK) {
            if ((err = hcp_secrets_read(NULL, c->key_file, what, &k->key)) == 0)
                err = load_peer_key(c, k);
            continue;
        }
        if ((err = hcp_secrets_read(NULL, c->ca_file, what, &k->ca)) == 0 &&
            (err = hcp_secrets_read(NULL, c->cert_file, what, &k->cert)) == 0)
            err = hcp_secrets_read(NULL, c->key_file, what, &k->key);
    }
    if (err < 0) {
        hcp_upstream_creds_release(set);
        return err;
    }
    *out = set;
    return 0;
}

static bool same_secret(const hcp_secrets_value_t *a, const hcp_secrets_value_t *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->bytes, b->bytes, a->len) == 0);
}

/* Whether two sets say the same thing, entries and key bytes: then sessions need not change. */
bool hcp_upstream_creds_same(const hcp_upstream_creds_set_t *a, const hcp_upstream_creds_set_t *b)
{
    if (a->count != b->count)
        return false;
    for (size_t i = 0; i < a->count; i++) {
        const hcp_upstream_creds_keys_t *ka = &a->keys[i], *kb = &b->keys[i];

        /* The entries were memset before they were parsed (credentials.c): no stray bytes. */
        if (memcmp(&a->creds[i], &b->creds[i], sizeof a->creds[i]) != 0 ||
            !same_secret(&ka->psk, &kb->psk) || !same_secret(&ka->ca, &kb->ca) ||
            !same_secret(&ka->cert, &kb->cert) || !same_secret(&ka->key, &kb->key) ||
            ka->peer_key.size != kb->peer_key.size ||
            (ka->peer_key.size > 0 && memcmp(ka->peer_key.data, kb->peer_key.data,
                                             ka->peer_key.size) != 0))
            return false;
    }
    return true;
}

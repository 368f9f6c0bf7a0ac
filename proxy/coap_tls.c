/* The credentials of hcproxy's secure CoAP listeners (coap.listen with coaps:// or
 * coaps+tcp://): PSKs by client identity (coap.psk) and a certificate (coap.cert_file,
 * coap.key_file), with client certificates asked for and verified when coap.client_ca_file is
 * set. libcoap keeps them per context; the key bytes live here until hcproxy exits. */
#include <stdlib.h>
#include <string.h>

#include <coap3/coap.h>

#include "coap_tls.h"
#include "hcc.h"
#include "log.h"
#include "proxy.h"
#include "secrets.h"

typedef struct server_psk {
    char identity[sizeof(((hcc_server_psk_t *)0)->identity)]; /* a copy: a reload frees the
                                                               * configuration */
    hcp_secrets_value_t key;
    coap_bin_const_t key_view;
} server_psk_t;

struct hcp_coap_tls {
    server_psk_t *psks;
    size_t npsks;
    hcp_secrets_value_t cert, key, client_ca;
};

/* libcoap asks for the key of the identity a client presented; NULL ends the handshake. */
static const coap_bin_const_t *on_psk_identity(coap_bin_const_t *identity, coap_session_t *session,
                                               void *arg)
{
    const hcp_coap_tls_t *keys = arg;

    (void)session;
    for (size_t i = 0; i < keys->npsks; i++) {
        const char *id = keys->psks[i].identity;
        if (strlen(id) == identity->length && memcmp(id, identity->s, identity->length) == 0)
            return &keys->psks[i].key_view;
    }
    hcp_log(HCC_LOG_INFO, 0, "coaps: a client presented an identity coap.psk does not list");
    return NULL;
}

static int load_psks(const hcc_config_t *cfg, hcp_coap_tls_t *keys)
{
    int err;

    if (cfg->ncoap_psks == 0)
        return 0;
    if ((keys->psks = calloc(cfg->ncoap_psks, sizeof *keys->psks)) == NULL)
        return UV_ENOMEM;
    for (size_t i = 0; i < cfg->ncoap_psks; i++, keys->npsks++) {
        server_psk_t *p = &keys->psks[i];

        memcpy(p->identity, cfg->coap_psks[i].identity, sizeof p->identity);
        err = hcp_secrets_read(cfg->coap_psks[i].key_env, cfg->coap_psks[i].key_file, "coap.psk",
                               &p->key);
        if (err < 0)
            return err;
        p->key_view = (coap_bin_const_t){p->key.len, p->key.bytes};
    }
    return 0;
}

static int set_psk(coap_context_t *ctx, hcp_coap_tls_t *keys)
{
    coap_dtls_spsk_t setup = {
        .version = COAP_DTLS_SPSK_SETUP_VERSION,
        .validate_id_call_back = on_psk_identity,
        .id_call_back_arg = keys,
    };

    return keys->npsks == 0 || coap_context_set_psk2(ctx, &setup) ? 0 : UV_EINVAL;
}

static void pem_part(const uint8_t **bytes, size_t *len, const hcp_secrets_value_t *s)
{
    if (s != NULL && s->bytes != NULL) {
        *bytes = s->bytes;
        *len = s->len + 1;
    }
}

void hcp_coap_tls_pem(coap_pki_key_pem_buf_t *out, const hcp_secrets_value_t *ca,
                      const hcp_secrets_value_t *cert, const hcp_secrets_value_t *key)
{
    pem_part(&out->ca_cert, &out->ca_cert_len, ca);
    pem_part(&out->public_cert, &out->public_cert_len, cert);
    pem_part(&out->private_key, &out->private_key_len, key);
}

static int set_pki(coap_context_t *ctx, hcp_coap_tls_t *keys)
{
    coap_dtls_pki_t setup = {
        .version = COAP_DTLS_PKI_SETUP_VERSION,
        .verify_peer_cert = keys->client_ca.bytes != NULL,
        .cert_chain_validation = 1,
        .cert_chain_verify_depth = 3,
        .allow_no_crl = 1,
        .allow_expired_crl = 1,
        .pki_key.key_type = COAP_PKI_KEY_PEM_BUF,
    };

    if (keys->cert.bytes == NULL)
        return 0;
    hcp_coap_tls_pem(&setup.pki_key.key.pem_buf, &keys->client_ca, &keys->cert, &keys->key);
    return coap_context_set_pki(ctx, &setup) ? 0 : UV_EINVAL;
}

/* Reads every key and certificate the configuration names into a new set. */
static int keys_read(const hcc_config_t *cfg, hcp_coap_tls_t **out)
{
    hcp_coap_tls_t *keys = calloc(1, sizeof *keys);
    int err;

    if (keys == NULL)
        return UV_ENOMEM;
    if ((err = load_psks(cfg, keys)) < 0 ||
        (err = hcp_secrets_read(NULL, cfg->coap_cert_file, "coap.cert_file", &keys->cert)) < 0 ||
        (err = hcp_secrets_read(NULL, cfg->coap_key_file, "coap.key_file", &keys->key)) < 0 ||
        (err = hcp_secrets_read(NULL, cfg->coap_client_ca_file, "coap.client_ca_file",
                                &keys->client_ca)) < 0)
        goto fail_keys;
    *out = keys;
    return 0;

fail_keys:
    hcp_coap_tls_free(keys); /* wipes what was read */
    return err;
}

int hcp_coap_tls_install(hcp_proxy_t *proxy, coap_context_t *ctx)
{
    hcp_coap_tls_t *keys;
    int err;

    if ((err = keys_read(proxy->cfg, &keys)) < 0)
        return err;
    /* From here libcoap may point into |keys| (the PSK callback's argument), whatever follows:
     * they stay with the proxy until after the loop. */
    proxy->coap_tls = keys;
    if ((err = set_psk(ctx, keys)) < 0 || (err = set_pki(ctx, keys)) < 0)
        hcp_log(HCC_LOG_ERROR, 0, "coap.listen: libcoap refused the %s",
                keys->npsks > 0 && err == UV_EINVAL ? "PSKs or the certificate" : "certificate");
    return err;
}

void hcp_coap_tls_free(hcp_coap_tls_t *keys)
{
    if (keys == NULL)
        return;
    for (size_t i = 0; i < keys->npsks; i++)
        hcp_secrets_free(&keys->psks[i].key);
    free(keys->psks);
    hcp_secrets_free(&keys->cert);
    hcp_secrets_free(&keys->key);
    hcp_secrets_free(&keys->client_ca);
    free(keys);
}

/* coap_tls.c: the secure CoAP listeners' credentials (coap.psk, coap.cert_file, coap.key_file,
 * coap.client_ca_file). */
#ifndef HCP_COAP_TLS_H
#define HCP_COAP_TLS_H

#include "secrets.h"

typedef struct hcp_proxy hcp_proxy_t;
typedef struct hcp_coap_tls hcp_coap_tls_t;
struct coap_context_t;
struct coap_pki_key_pem_buf_t;

/* Reads coap.psk, coap.cert_file, coap.key_file and coap.client_ca_file and gives them to
 * |ctx| (server side). 0 or a UV_E*: when the keys cannot be read nothing is left behind; once
 * they are read proxy->coap_tls holds them, whether libcoap takes them or not (it may point into
 * them already), and they are freed after the loop. */
int hcp_coap_tls_install(hcp_proxy_t *proxy, struct coap_context_t *ctx);
/* Points libcoap's PEM buffers at the secrets given (NULL or unread ones are left out), with
 * the NUL terminator in each length, as libcoap takes it. */
void hcp_coap_tls_pem(struct coap_pki_key_pem_buf_t *out, const hcp_secrets_value_t *ca,
                      const hcp_secrets_value_t *cert, const hcp_secrets_value_t *key);
/* Wipes and frees; NULL is none. */
void hcp_coap_tls_free(hcp_coap_tls_t *keys);

#endif

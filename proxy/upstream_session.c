/* upstream_session: the libcoap session to a coaps, coap+tcp or coaps+tcp destination
 * (upstream.credentials: a pre-shared key, a certificate, or a raw public key; RFC 7252 s9.1.3),
 * with the server-name and pinned-key checks, and the socket of a datagram session found so that
 * a burst of answers is taken in one loop turn (upstream_coap.c). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "coap_tls.h"
#include "hcc.h"
#include "hcm.h"
#include "log.h"
#include "proxy.h"
#include "sockaddr.h"
#include "upstream_dest.h"
#include "upstream_int.h"
#include "upstream_session.h"

static coap_fixed_point_t fixed_point(double value)
{
    coap_fixed_point_t fp = {.integer_part = (uint16_t)value};

    fp.fractional_part = (uint16_t)((value - fp.integer_part) * 1000.0 + 0.5);
    return fp;
}

static bool is_socket_of(int fd, const coap_session_t *s)
{
    const coap_address_t *local = coap_session_get_addr_local(s);
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int type;
    socklen_t type_len = sizeof type;

    return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_len) == 0 && type == SOCK_DGRAM &&
           getsockname(fd, (struct sockaddr *)&ss, &len) == 0 && len == local->size &&
           memcmp(&ss, &local->addr.sa, len) == 0;
}

/* libcoap (4.3.1 and 4.3.4 alike) does not give out a session's socket, but it creates it with
 * socket(), which returns the lowest free descriptor: |predicted| was that number just before
 * the session was made. The guess is checked against the session's local address before it is
 * used. */
static void find_socket(hcp_upstream_dest_t *d, int predicted)
{
    d->fd = predicted >= 0 && is_socket_of(predicted, d->session) ? predicted : -1;
    if (d->fd < 0)
        hcp_log(HCC_LOG_WARN, 0, "upstream: cannot find libcoap's socket; datagrams are "
                                    "taken one per loop turn, at the default buffer size");
}

/* A burst of separate responses (10,000 answered a second after their ACKs, in bench/run)
 * overflows the default 208 KiB receive buffer, and every dropped response costs its server a
 * retransmission seconds later. */
static void enlarge_receive_buffer(hcp_upstream_dest_t *d)
{
    int size = (int)d->up->proxy->cfg->upstream_receive_buffer_bytes;

    if (size == 0 || d->fd < 0)
        return;
    if (setsockopt(d->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size) != 0)
        hcp_log(HCC_LOG_WARN, 0, "upstream: SO_RCVBUF %d refused", size);
}

/* The descriptor number the next socket() will get. */
static int lowest_free_fd(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    if (fd >= 0)
        close(fd);
    return fd;
}

/* ---- secure transports (upstream.credentials) ------------------------------------------------ */

static const coap_proto_t protos[] = {
    [HCM_SCHEME_COAP] = COAP_PROTO_UDP,
    [HCM_SCHEME_COAPS] = COAP_PROTO_DTLS,
    [HCM_SCHEME_COAP_TCP] = COAP_PROTO_TCP,
    [HCM_SCHEME_COAPS_TCP] = COAP_PROTO_TLS,
};

static bool is_ip_literal(const char *host)
{
    uint8_t buf[16];

    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

/* RFC 7252 s9.1.3.3: the server's certificate must name the host the request was for. libcoap
 * hands over the subjectAltName (or the CN) of each certificate in the chain; the server's own
 * is depth 0. */
static int on_server_name(const char *cn, const uint8_t *cert, size_t cert_len,
                          coap_session_t *session, unsigned depth, int validated, void *arg)
{
    const hcp_upstream_dest_t *d = arg;

    (void)cert;
    (void)cert_len;
    (void)session;
    if (!validated)
        return 0;
    if (depth > 0 || strcasecmp(cn, d->host) == 0)
        return 1;
    hcp_log(HCC_LOG_INFO, 0, "upstream: %s's certificate names %s", d->host, cn);
    return 0;
}

static coap_session_t *psk_session(hcp_upstream_dest_t *d, const coap_address_t *dst)
{
    coap_dtls_cpsk_t setup = {
        .version = COAP_DTLS_CPSK_SETUP_VERSION,
        .client_sni = is_ip_literal(d->host) ? NULL : d->host,
        .psk_info.identity = {strlen(d->cred->identity), (const uint8_t *)d->cred->identity},
        .psk_info.key = {d->keys->psk.len, d->keys->psk.bytes},
    };

    return coap_new_client_session_psk2(d->ctx, NULL, dst, protos[d->scheme], &setup);
}

static coap_session_t *pki_session(hcp_upstream_dest_t *d, const coap_address_t *dst)
{
    coap_dtls_pki_t setup = {
        .version = COAP_DTLS_PKI_SETUP_VERSION,
        .verify_peer_cert = d->cred->verify,
        .cert_chain_validation = 1,
        .cert_chain_verify_depth = 3,
        .allow_no_crl = 1,
        .allow_expired_crl = 1,
        .validate_cn_call_back = d->cred->verify ? on_server_name : NULL,
        .cn_call_back_arg = d,
        .client_sni = is_ip_literal(d->host) ? NULL : d->host,
        .pki_key.key_type = COAP_PKI_KEY_PEM_BUF,
    };

    hcp_coap_tls_pem(&setup.pki_key.key.pem_buf, &d->keys->ca, &d->keys->cert, &d->keys->key);
    return coap_new_client_session_pki(d->ctx, NULL, dst, protos[d->scheme], &setup);
}

/* RFC 7250: the server proves only that it holds a key; hcproxy has pinned which one. libcoap
 * hands over the server's public key as DER, in place of a certificate. */
static int on_server_key(const char *cn, const uint8_t *key, size_t key_len,
                         coap_session_t *session, unsigned depth, int validated, void *arg)
{
    const hcp_upstream_dest_t *d = arg;
    const gnutls_datum_t *pin = &d->keys->peer_key;

    (void)cn;
    (void)session;
    (void)depth;
    (void)validated;
    if (key_len == pin->size && memcmp(key, pin->data, key_len) == 0)
        return 1;
    hcp_log(HCC_LOG_INFO, 0, "upstream: %s's raw public key is not the one peer_key_file pins",
            d->host);
    return 0;
}

/* hcproxy's EC private key PEM stands for both halves of its raw public key (libcoap's rule). */
static coap_session_t *rpk_session(hcp_upstream_dest_t *d, const coap_address_t *dst)
{
    coap_dtls_pki_t setup = {
        .version = COAP_DTLS_PKI_SETUP_VERSION,
        .verify_peer_cert = d->cred->verify,
        .is_rpk_not_cert = 1,
        .validate_cn_call_back = d->cred->verify ? on_server_key : NULL,
        .cn_call_back_arg = d,
        .pki_key.key_type = COAP_PKI_KEY_PEM_BUF,
    };

    hcp_coap_tls_pem(&setup.pki_key.key.pem_buf, NULL, &d->keys->key, &d->keys->key);
    return coap_new_client_session_pki(d->ctx, NULL, dst, protos[d->scheme], &setup);
}

static coap_session_t *open_session(hcp_upstream_dest_t *d, const coap_address_t *dst)
{
    if (!hcp_upstream_dest_is_secure(d->scheme))
        return coap_new_client_session(d->ctx, NULL, dst, protos[d->scheme]);
    switch (d->cred->kind) {
    case HCC_CRED_PSK:
        return psk_session(d, dst);
    case HCC_CRED_RPK:
        return rpk_session(d, dst);
    case HCC_CRED_PKI:
        break;
    }
    return pki_session(d, dst);
}

static coap_session_t *new_session(hcp_upstream_dest_t *d)
{
    const hcc_config_t *cfg = d->up->proxy->cfg;
    const struct sockaddr *sa = (const struct sockaddr *)&d->addr;
    bool is_datagram = protos[d->scheme] == COAP_PROTO_UDP || protos[d->scheme] == COAP_PROTO_DTLS;
    int predicted_fd = lowest_free_fd();
    coap_address_t dst;
    coap_session_t *s;

    coap_address_init(&dst);
    dst.size = (socklen_t)hcp_sockaddr_len(sa);
    memcpy(&dst.addr.sa, sa, dst.size);
    s = open_session(d, &dst);
    if (s == NULL)
        return NULL;
    d->session = s;
    coap_session_set_app_data(s, d);
    coap_session_set_ack_timeout(s, fixed_point(cfg->upstream_ack_timeout_ms / 1000.0));
    coap_session_set_ack_random_factor(s, fixed_point(cfg->upstream_ack_random_factor));
    coap_session_set_max_retransmit(s, (uint16_t)cfg->upstream_max_retransmit);
    /* pump() never hands over more than NSTART; libcoap's own limit is a second guard. */
    coap_session_set_nstart(s, (uint16_t)cfg->upstream_nstart);
    if (is_datagram) { /* a stream's bytes are libcoap's to read, whole messages at a time */
        find_socket(d, predicted_fd);
        enlarge_receive_buffer(d);
    }
    return s;
}

coap_session_t *hcp_upstream_session_of(hcp_upstream_dest_t *d)
{
    if (d->session != NULL && coap_session_get_state(d->session) == COAP_SESSION_STATE_NONE) {
        coap_session_release(d->session);
        d->session = NULL;
        d->fd = -1;
    }
    if (d->session == NULL)
        new_session(d);
    return d->session;
}

/* The reverse direction's libcoap transport: the coaps://, coap+tcp:// and coaps+tcp:// entries of
 * coap.listen are endpoints of libcoap's server, which owns their DTLS and TCP, and hands each
 * request to on_request() (plain coap:// is hcproxy's own, coap_udp.c).
 *
 * An answer known at once goes in libcoap's response PDU. A later one is a separate response:
 * the request is registered with libcoap's async API (an empty ACK goes out at once on DTLS),
 * and when the answer is ready coap_async_trigger() makes libcoap call the handler again with the
 * same request, which then fills the response from the answer kept meanwhile. libcoap acts on the
 * trigger when its processing runs next, which an idle handle starts from the loop: run from
 * within the answer's delivery, it would take new requests to the core that is delivering. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <coap3/coap.h>

#include <uv.h>

#include "coap_tls.h"
#include "container_of.h"
#include "hcc.h"
#include "hcm.h"
#include "log.h"
#include "metrics.h"
#include "policy.h"
#include "proxy.h"
#include "reverse.h"
#include "sockaddr.h"
#include "upstream.h"

/* A transport that splits nothing by datagram: an answer's room is what block-wise sizing
 * leaves as it always was (1024-byte blocks). */
#define LIBCOAP_ROOM ((size_t)1 << 20)

/* The listeners' own state, in proxy->reverse_libcoap. */
struct hcp_reverse_libcoap {
    hcp_proxy_t *proxy;
    uv_idle_t kick; /* active while a triggered answer waits for libcoap's processing */
};

typedef struct lreply {
    hcp_reverse_reply_t base;
    hcp_proxy_t *proxy;
    coap_session_t *session; /* referenced once the answer is deferred */
    coap_async_t *async;
    coap_pdu_t *response;    /* while the handler runs: an answer given now goes in it */
    bool is_sent;            /* ... and it has */
    uint8_t *answer;         /* a deferred answer, encoded (mapping/wire.c), until libcoap asks */
    size_t answer_len;
} lreply_t;

static void fill_response(coap_pdu_t *response, const hcm_coap_msg_t *answer)
{
    coap_pdu_set_code(response, (coap_pdu_code_t)answer->code);
    for (size_t i = 0; i < answer->nopts; i++)
        coap_add_option(response, answer->opts[i].number, answer->opts[i].value.len,
                        answer->opts[i].value.p);
    if (answer->payload.len > 0)
        coap_add_data(response, answer->payload.len, answer->payload.p);
}

static void lreply_free(lreply_t *lr)
{
    if (lr->session != NULL)
        coap_session_release(lr->session);
    free(lr->answer);
    free(lr);
}

/* From the loop: libcoap sends the answers triggered since it last ran. */
static void on_kick(uv_idle_t *idle)
{
    struct hcp_reverse_libcoap *rl = hcp_container_of(idle, struct hcp_reverse_libcoap, kick);

    uv_idle_stop(idle);
    hcp_upstream_kick(rl->proxy->upstream);
}

static int on_send(hcp_reverse_reply_t *reply, const hcm_coap_msg_t *answer)
{
    lreply_t *lr = (lreply_t *)reply;
    hcm_coap_header_t none = {0};
    size_t size = 8 + answer->payload.len;

    if (lr->response != NULL) {
        fill_response(lr->response, answer);
        lr->is_sent = true;
        return 0;
    }
    for (size_t i = 0; i < answer->nopts; i++)
        size += 5 + answer->opts[i].value.len;
    if ((lr->answer = malloc(size)) != NULL)
        lr->answer_len = hcm_coap_encode(&none, answer, lr->answer, size);
    if (lr->answer_len == 0) { /* no memory: libcoap answers 5.00 from an empty answer */
        free(lr->answer);
        lr->answer = NULL;
    }
    lr->is_sent = true;
    coap_async_trigger(lr->async);
    uv_idle_start(&lr->proxy->reverse_libcoap->kick, on_kick);
    return 0;
}

static void on_abandon(hcp_reverse_reply_t *reply)
{
    lreply_t *lr = (lreply_t *)reply;

    if (lr->async != NULL)
        coap_free_async(lr->session, lr->async);
    lreply_free(lr);
}

static size_t on_room(const hcp_reverse_reply_t *reply)
{
    (void)reply;
    return LIBCOAP_ROOM;
}

static const hcp_reverse_reply_ops_t lreply_ops = {on_send, on_abandon, on_room};

/* An answer of hcproxy's own, given at once. */
static void refuse(hcp_proxy_t *proxy, coap_pdu_t *response, int err)
{
    const char *reason = hcm_strerror(err);

    coap_pdu_set_code(response, (coap_pdu_code_t)hcm_err_code(err));
    coap_add_data(response, strlen(reason), (const uint8_t *)reason);
    hcp_metrics_count_cause(proxy->metrics.reverse_refused_by_cause, err);
}

/* The second call for a registered request: the answer is ready, or the client sent another
 * request with the token of one still in flight. */
static void answer_registered(hcp_proxy_t *proxy, coap_async_t *async, coap_pdu_t *response)
{
    lreply_t *lr = coap_async_get_app_data(async);
    hcm_coap_header_t hdr;
    hcm_coap_msg_t answer;

    if (!lr->is_sent) {
        refuse(proxy, response, HCM_ETOKENINUSE);
        return;
    }
    if (lr->answer != NULL &&
        hcm_coap_decode((hcm_bytes_t){lr->answer, lr->answer_len}, &hdr, &answer, NULL) ==
            HCM_WIRE_MESSAGE)
        fill_response(response, &answer);
    else
        coap_pdu_set_code(response, COAP_RESPONSE_CODE_INTERNAL_ERROR);
    lreply_free(lr); /* libcoap removes the async when this returns */
}

/* The client: both ends of the session, so that two devices, or one device's two sockets,
 * never share an upload. */
static size_t session_ends(const coap_session_t *session, uint8_t *buf, size_t size)
{
    const coap_address_t *remote = coap_session_get_addr_remote(session);
    const coap_address_t *local = coap_session_get_addr_local(session);
    size_t used = 0;

    if (remote != NULL && remote->size <= size) {
        memcpy(buf, &remote->addr, remote->size);
        used = remote->size;
    }
    if (local != NULL && used + local->size <= size) {
        memcpy(buf + used, &local->addr, local->size);
        used += local->size;
    }
    return used;
}

/* A request deferred to its origin: registered so that libcoap sends a separate response. */
static void defer(lreply_t *lr, hcp_reverse_exchange_t *rx, coap_session_t *session,
                  const coap_pdu_t *request, coap_pdu_t *response)
{
    lr->response = NULL;
    lr->session = coap_session_reference(session);
    lr->async = coap_register_async(session, request, 0);
    if (lr->async == NULL) {
        hcp_reverse_cancel(rx);
        lreply_free(lr);
        coap_pdu_set_code(response, COAP_RESPONSE_CODE_SERVICE_UNAVAILABLE);
        return;
    }
    coap_async_set_app_data(lr->async, lr);
    /* No response code: libcoap acknowledges a CON with an empty ACK (a separate response). */
}

static void on_request(coap_resource_t *resource, coap_session_t *session,
                       const coap_pdu_t *request, const coap_string_t *query,
                       coap_pdu_t *response)
{
    hcp_proxy_t *proxy = coap_resource_get_userdata(resource);
    coap_bin_const_t token = coap_pdu_get_token(request);
    coap_async_t *async = coap_find_async(session, token);
    uint8_t ends[2 * sizeof(struct sockaddr_storage)];
    hcp_reverse_request_t req = {.token = token.s, .token_len = token.length};
    hcp_reverse_exchange_t *rx;
    lreply_t *lr;

    (void)query;
    if (async != NULL) {
        answer_registered(proxy, async, response);
        return;
    }
    if (hcp_upstream_msg_from_pdu(request, &req.msg) < 0) {
        refuse(proxy, response, HCM_EBADOPTION);
        return;
    }
    req.peer = &coap_session_get_addr_remote(session)->addr.sa;
    req.ends = ends;
    req.ends_len = session_ends(session, ends, sizeof ends);
    if ((lr = calloc(1, sizeof *lr)) == NULL) {
        coap_pdu_set_code(response, COAP_RESPONSE_CODE_INTERNAL_ERROR);
        return;
    }
    lr->base.ops = &lreply_ops;
    lr->proxy = proxy;
    lr->response = response;
    rx = hcp_reverse_take(proxy, &req, &lr->base);
    if (rx == NULL || lr->is_sent) {
        lreply_free(lr); /* answered at once, in |response| */
        return;
    }
    defer(lr, rx, session, request, response);
}

/* ---- setup ---------------------------------------------------------------------------------- */

static const coap_request_t methods[] = {
    COAP_REQUEST_GET,   COAP_REQUEST_POST,  COAP_REQUEST_PUT,    COAP_REQUEST_DELETE,
    COAP_REQUEST_FETCH, COAP_REQUEST_PATCH, COAP_REQUEST_IPATCH,
};

static int add_catch_all(hcp_proxy_t *proxy, coap_context_t *ctx, coap_resource_t *r)
{
    if (r == NULL)
        return UV_ENOMEM;
    coap_resource_set_userdata(r, proxy);
    for (size_t i = 0; i < HCM_COUNTOF(methods); i++)
        coap_register_request_handler(r, methods[i], on_request);
    coap_add_resource(ctx, r);
    return 0;
}

/* |ep|'s bound address as "addr:port" or "[addr]:port". libcoap (4.3.1 and 4.3.4 alike) has no
 * getter for it, and coap_endpoint_str() appends a protocol name, "NONE" for TCP; the scheme
 * already says which. */
static const char *endpoint_address(const coap_endpoint_t *ep, char *buf, size_t size)
{
    const char *text = coap_endpoint_str(ep);

    snprintf(buf, size, "%.*s", (int)strcspn(text, " "), text);
    return buf;
}

/* The port the kernel bound, for a configured port 0. */
static uint16_t bound_port(const char *address)
{
    const char *colon = strrchr(address, ':');

    return colon != NULL ? (uint16_t)strtoul(colon + 1, NULL, 10) : 0;
}

/* libcoap wants the names a request's Proxy-Uri may use for this proxy itself (those are served
 * locally). hcproxy serves nothing locally over CoAP, so the one name is one that cannot occur
 * (RFC 6761 s6.4); every proxy request is forwarded, subject to origin.allow. */
static const char *own_names[] = {"hcproxy.invalid"}; /* libcoap takes it as const char ** */

static const struct {
    coap_proto_t proto;
    const char *scheme;
} transports[] = {
    [HCC_UDP] = {COAP_PROTO_UDP, "coap"},
    [HCC_DTLS] = {COAP_PROTO_DTLS, "coaps"},
    [HCC_TCP] = {COAP_PROTO_TCP, "coap+tcp"},
    [HCC_TLS] = {COAP_PROTO_TLS, "coaps+tcp"},
};

static int listen_on(hcp_proxy_t *proxy, coap_context_t *ctx, size_t i)
{
    const hcc_config_t *cfg = proxy->cfg;
    hcc_transport_t t = cfg->coap_listen_transports[i];
    const struct sockaddr *sa = (const struct sockaddr *)&cfg->coap_listen_addrs[i];
    coap_address_t addr;
    coap_endpoint_t *ep;
    char bound[INET6_ADDRSTRLEN + 16];

    coap_address_init(&addr);
    addr.size = (socklen_t)hcp_sockaddr_len(sa);
    memcpy(&addr.addr.sa, sa, addr.size);
    if ((ep = coap_new_endpoint(ctx, &addr, transports[t].proto)) == NULL) {
        hcp_log(HCC_LOG_ERROR, 0, "coap.listen: cannot listen on address %zu", i + 1);
        return UV_EADDRINUSE;
    }
    /* Tests and operators read the bound port here when the configured port is 0. */
    endpoint_address(ep, bound, sizeof(bound));
    hcp_log(HCC_LOG_INFO, 0, "listening on %s://%s", transports[t].scheme, bound);
    /* No CoAP server is us. */
    hcp_policy_add_own(proxy, HCP_POLICY_OWN_COAP, sa, bound_port(bound));
    return 0;
}

int hcp_reverse_libcoap_start(hcp_proxy_t *proxy, coap_context_t *ctx)
{
    const hcc_config_t *cfg = proxy->cfg;
    size_t n = 0;
    int err;

    for (size_t i = 0; i < cfg->ncoap_listen_addrs; i++)
        n += cfg->coap_listen_transports[i] != HCC_UDP;
    if (n == 0)
        return 0;
    if ((proxy->reverse_libcoap = calloc(1, sizeof *proxy->reverse_libcoap)) == NULL)
        return UV_ENOMEM;
    proxy->reverse_libcoap->proxy = proxy;
    uv_idle_init(proxy->loop, &proxy->reverse_libcoap->kick);
    if ((err = hcp_coap_tls_install(proxy, ctx)) < 0)
        return err;
    for (size_t i = 0; i < cfg->ncoap_listen_addrs; i++)
        if (cfg->coap_listen_transports[i] != HCC_UDP && (err = listen_on(proxy, ctx, i)) < 0)
            return err;
    if (add_catch_all(proxy, ctx,
                      coap_resource_proxy_uri_init2(on_request, HCM_COUNTOF(own_names),
                                                    own_names, 0)) < 0 ||
        add_catch_all(proxy, ctx, coap_resource_unknown_init2(on_request, 0)) < 0)
        return UV_ENOMEM;
    return 0;
}

static void on_kick_closed(uv_handle_t *handle)
{
    free(hcp_container_of((uv_idle_t *)handle, struct hcp_reverse_libcoap, kick));
}

void hcp_reverse_libcoap_stop(hcp_proxy_t *proxy)
{
    if (proxy->reverse_libcoap == NULL)
        return;
    uv_close((uv_handle_t *)&proxy->reverse_libcoap->kick, on_kick_closed);
    proxy->reverse_libcoap = NULL;
}

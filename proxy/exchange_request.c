/* exchange_request: an exchange's HTTP request read and judged: who asked, its framing and
 * authorization, its body, and its mapping to a CoAP request (RFC 8075, mapping/request.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "exchange_int.h"
#include "front.h"
#include "hcc.h"
#include "hcm.h"
#include "local.h"
#include "log.h"
#include "logtext.h"
#include "policy.h"
#include "proxy.h"
#include "sockaddr.h"

/* ---- the request ------------------------------------------------------------------------- */

typedef struct header_sink {
    hcm_header_t *headers;
    size_t count;
    size_t cap;
} header_sink_t;

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    header_sink_t *sink = cls;

    (void)kind;
    if (sink->headers != NULL && sink->count < sink->cap)
        sink->headers[sink->count] = (hcm_header_t){.name = key, .value = value};
    sink->count++;
    return MHD_YES;
}

static int collect_headers(hcp_exchange_t *ex, hcm_http_req_t *req)
{
    header_sink_t sink = {0};

    MHD_get_connection_values(ex->conn, MHD_HEADER_KIND, collect_header, &sink);
    sink.cap = sink.count;
    sink.count = 0;
    sink.headers = hcm_arena_alloc(&ex->arena, sink.cap * sizeof *sink.headers + 1);
    if (sink.headers == NULL)
        return HCM_EHEADERS; /* thousands of tiny header fields: a client problem */
    MHD_get_connection_values(ex->conn, MHD_HEADER_KIND, collect_header, &sink);
    req->headers = sink.headers;
    req->nheaders = sink.count;
    return 0;
}

/* A named route stands for a CoAP base URI: the rest of the raw path and the query follow it
 * unchanged, to be decoded once by the target parser like any other target. */
static int route_target(hcp_exchange_t *ex, const char **target_uri)
{
    const hcc_route_t *route = hcc_route_find(ex->proxy->cfg, ex->raw_uri);
    const char *rest;
    size_t base_len, rest_len;
    char *uri;

    if (route == NULL)
        return HCM_ENOTPROXY;
    rest = ex->raw_uri + strlen(route->prefix);
    base_len = strlen(route->base);
    rest_len = strlen(rest);
    uri = hcm_arena_alloc(&ex->arena, base_len + rest_len + 1);
    if (uri == NULL)
        return HCM_ENOSPACE;
    memcpy(uri, route->base, base_len);
    memcpy(uri + base_len, rest, rest_len + 1);
    *target_uri = uri;
    return 0;
}

/* RFC 7641 s3.1: a registration is a GET (or a FETCH, RFC 8132 s2.4) with Observe: 0; for an
 * OSCORE request that is the outer option (RFC 8613 s4.1.3.5.1), its outer code FETCH. */
static int ask_to_observe(hcm_coap_msg_t *msg)
{
    if (msg->code != HCM_CODE(0, 1) && msg->code != HCM_CODE(0, 5))
        return HCM_EOBSERVEMETHOD;
    return hcm_coap_msg_add(msg, HCM_OPT_OBSERVE, (hcm_bytes_t){(const uint8_t *)"", 0});
}

int hcp_exchange_map_request(hcp_exchange_t *ex)
{
    const hcc_config_t *cfg = ex->proxy->cfg;
    hcm_http_req_t req = {
        .method = ex->method,
        .body = {ex->body, ex->body_len},
        .hop_limit = (unsigned)cfg->upstream_hop_limit,
        .loose_media_types = cfg->http_loose_media_types,
    };
    int err;

    err = hcm_target_extract(ex->raw_uri, cfg->http_hc_path, &ex->arena, &req.target_uri);
    if (err == HCM_ENOTPROXY)
        err = route_target(ex, &req.target_uri);
    if (err == 0)
        err = collect_headers(ex, &req);
    if (err == 0)
        err = hcm_observe_stream(req.headers, req.nheaders, &ex->stream.kind);
    if (err == 0)
        err = hcm_request_to_coap(&req, &ex->arena, &ex->target, &ex->msg, &ex->info);
    if (err == 0 && ex->stream.kind != HCM_STREAM_NONE)
        err = ask_to_observe(&ex->msg);
    return err;
}

static int append_body(hcp_exchange_t *ex, const char *data, size_t len)
{
    size_t limit = (size_t)ex->proxy->cfg->http_max_body_bytes;
    size_t need = ex->body_len + len;

    if (need > limit)
        return HCM_ETOOLARGE;
    if (need > ex->body_cap) {
        size_t cap = ex->body_cap ? ex->body_cap : 4096;
        uint8_t *grown;
        while (cap < need)
            cap *= 2;
        if (cap > limit)
            cap = limit;
        grown = realloc(ex->body, cap);
        if (grown == NULL)
            return HCM_EINTERNAL;
        ex->body = grown;
        ex->body_cap = cap;
    }
    memcpy(ex->body + ex->body_len, data, len);
    ex->body_len = need;
    return 0;
}

static bool declared_length_fits(hcp_exchange_t *ex)
{
    const char *cl = MHD_lookup_connection_value(ex->conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
    char *end;
    unsigned long long n;

    if (cl == NULL)
        return true;
    errno = 0;
    n = strtoull(cl, &end, 10);
    return errno == 0 && *end == '\0' &&
           n <= (unsigned long long)ex->proxy->cfg->http_max_body_bytes;
}

/* How much of a body over the limit is read and thrown away so that the client still gets its
 * 413; past this the connection is closed instead. */
#define DISCARD_LIMIT (1u << 20)

/* One piece of the body. libmicrohttpd cannot queue a response while a body is arriving, so a
 * body found too large on the way is drained, bounded, and answered when it ends. */
int hcp_exchange_on_body(hcp_exchange_t *ex, const char *data, size_t len)
{
    if (ex->early_error == 0)
        ex->early_error = append_body(ex, data, len);
    if (ex->early_error == HCM_ETOOLARGE) {
        ex->discarded += len;
        if (ex->discarded > DISCARD_LIMIT)
            return -1;
    }
    return 0;
}

/* https.client_ca_file, http.rate_limit and http.bearer_tokens: 0, or why the request may not
 * go on. /healthz answers a container's health check whatever the rate, without a token. */
static int authorize(hcp_exchange_t *ex)
{
    const union MHD_ConnectionInfo *client =
        MHD_get_connection_info(ex->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    int err = hcp_front_check_client(ex->proxy->front, ex->conn);

    if (err < 0 || hcp_local_is_public(ex->raw_uri))
        return err;
    if ((err = hcp_policy_rate(ex->proxy, client != NULL ? client->client_addr : NULL)) < 0)
        return err;
    return hcp_policy_authorize(ex->proxy, MHD_lookup_connection_value(
                                               ex->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION));
}

static enum MHD_Result add_framing_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                         const char *value)
{
    (void)kind;
    hcm_framing_add(cls, key, value != NULL ? value : "");
    return MHD_YES;
}

/* RFC 9112 s3.2, s6: one Host, and one way to find where the body ends (mapping/framing.c). */
static int check_framing(hcp_exchange_t *ex, const char *version)
{
    hcm_framing_t framing = {0};

    MHD_get_connection_values(ex->conn, MHD_HEADER_KIND, add_framing_field, &framing);
    return hcm_framing_check(&framing, strcmp(version, MHD_HTTP_VERSION_1_0) != 0);
}

/* What the log and the answer say about who asked: the client's address, its X-Request-Id
 * (echoed in the answer; one is made when it sent none, or one that is not plain text) and its
 * W3C traceparent, logged when well-formed. */
void hcp_exchange_identify(hcp_exchange_t *ex)
{
    const union MHD_ConnectionInfo *client =
        MHD_get_connection_info(ex->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const char *id = MHD_lookup_connection_value(ex->conn, MHD_HEADER_KIND, HEADER_REQUEST_ID);
    const char *tp = MHD_lookup_connection_value(ex->conn, MHD_HEADER_KIND, HEADER_TRACEPARENT);

    hcp_sockaddr_format(client != NULL ? client->client_addr : NULL, ex->client, sizeof ex->client);
    if (id != NULL && hcp_logtext_request_id_ok(id, REQUEST_ID_MAX))
        snprintf(ex->request_id, sizeof ex->request_id, "%s", id);
    else
        hcp_log_request_id(ex->id, ex->request_id, sizeof ex->request_id);
    ex->traceparent = tp != NULL && hcp_logtext_traceparent_ok(tp) ? tp : NULL;
}

bool hcp_exchange_declares_body(hcp_exchange_t *ex)
{
    const char *cl = MHD_lookup_connection_value(ex->conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);

    return (cl != NULL && strcmp(cl, "0") != 0) ||
           MHD_lookup_connection_value(ex->conn, MHD_HEADER_KIND,
                                       MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
}

int hcp_exchange_check_headers(hcp_exchange_t *ex, const char *version)
{
    int err = check_framing(ex, version);

    if (err == 0)
        err = declared_length_fits(ex) ? authorize(ex) : HCM_ETOOLARGE;
    return err;
}

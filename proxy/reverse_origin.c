/* The reverse direction's way to the origin: the CoAP request mapped to an HTTP one
 * (mapping/origin_request.c, coap.routes), the origin judged (origin.allow, policy.c) and
 * resolved without blocking the loop, the request sent through origin.c, redirects followed as
 * origin.redirects allows, and the origin's answer mapped back (mapping/origin_response.c). The
 * exchange is reverse.c's (reverse.h). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "container_of.h"
#include "hcc.h"
#include "hcm.h"
#include "log.h"
#include "origin.h"
#include "policy.h"
#include "proxy.h"
#include "reverse_int.h"
#include "sockaddr.h"

/* ---- the request ------------------------------------------------------------------------------ */

/* The request's Uri-Path as "/a/b/", for the route lookup. */
static void request_path(const hcm_coap_msg_t *msg, char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < msg->nopts && used + 2 < len; i++) {
        const hcm_option_t *o = &msg->opts[i];
        if (o->number != HCM_OPT_URI_PATH)
            continue;
        used += (size_t)snprintf(buf + used, len - used, "/%.*s", (int)o->value.len,
                                 (const char *)o->value.p);
    }
    if (used + 1 < len && used > 0) {
        buf[used++] = '/'; /* routes are prefixes ending with '/': "/lwm2m/" matches "/lwm2m" */
        buf[used] = '\0';
    }
}

static size_t count_segments(const char *prefix)
{
    size_t n = 0;

    for (const char *p = prefix + 1; *p != '\0'; p++)
        n += *p == '/';
    return n;
}

static int map_request(hcp_reverse_exchange_t *rx, const hcm_coap_msg_t *request)
{
    const hcc_config_t *cfg = rx->proxy->cfg;
    hcm_coap_msg_t *msg = hcm_arena_alloc(&rx->arena, sizeof *msg);
    const hcc_route_t *route;
    char path[512];

    if (msg == NULL)
        return HCM_ENOSPACE;
    *msg = *request;
    if (rx->upload != NULL)
        msg->payload = (hcm_bytes_t){rx->upload, rx->upload_len};
    if (msg->payload.len > (size_t)cfg->coap_max_body_bytes)
        return HCM_ETOOLARGE;
    request_path(msg, path, sizeof path);
    route = hcc_coap_route_find(cfg, path);
    return hcm_coap_to_origin(msg, route ? route->base : NULL,
                              route ? count_segments(route->prefix) : 0, &rx->arena, &rx->req);
}

/* The body is a view of the request, which is the transport's only while it is handed over;
 * the exchange keeps a copy for libcurl, which sends it again when a redirect is followed. */
static int keep_body(hcp_reverse_exchange_t *rx)
{
    uint8_t *copy;

    if (rx->req.body.len == 0 || rx->req.body.p == rx->upload) /* already the exchange's own */
        return 0;
    if ((copy = hcm_arena_alloc(&rx->arena, rx->req.body.len)) == NULL)
        return HCM_ENOSPACE;
    memcpy(copy, rx->req.body.p, rx->req.body.len);
    rx->req.body.p = copy;
    return 0;
}

int hcp_reverse_origin_map(hcp_reverse_exchange_t *rx, const hcm_coap_msg_t *request)
{
    int err = map_request(rx, request);

    return err < 0 ? err : keep_body(rx);
}

/* ---- the origin's answer ---------------------------------------------------------------------- */

/* A 307 or 308 the configuration lets hcproxy follow: the same request again, to the new URL,
 * which hcp_reverse_origin_reach() judges against origin.allow like any other. 1 when the request
 * is on its way (or being resolved), 0 when |result| is the answer, or an error. */
static int follow_redirect(hcp_reverse_exchange_t *rx, const hcp_origin_result_t *result)
{
    hcm_origin_req_t next;
    int err;

    if (rx->redirects_left == 0)
        return 0;
    err = hcm_origin_redirect(result->status, result->headers, result->nheaders, &rx->req,
                              &rx->arena, &next);
    if (err <= 0)
        return err;
    if (hcp_log_enabled(HCC_LOG_INFO)) {
        char from[2048], to[2048];
        hcp_log_redact(rx->req.url, from, sizeof from);
        hcp_log_redact(next.url, to, sizeof to);
        hcp_log_field_t fields[] = {
            HCP_LOG_F_STR("request_id", rx->request_id),
            HCP_LOG_F_STR("direction", "coap_to_http"),
            HCP_LOG_F_STR("method", rx->req.method),
            HCP_LOG_F_STR("url", from),
            HCP_LOG_F_UINT("origin_status", result->status),
            HCP_LOG_F_STR("location", to),
        };
        hcp_log_fields(HCC_LOG_INFO, rx->id, fields, HCM_COUNTOF(fields),
                       "coap %s %s -> HTTP %u, following to %s", rx->req.method, from,
                       result->status, to);
    }
    rx->redirects_left--;
    rx->req = next;
    err = hcp_reverse_origin_reach(rx);
    return err < 0 ? err : 1;
}

static void on_fetched(void *data, const hcp_origin_result_t *result)
{
    hcp_reverse_exchange_t *rx = data;
    int err = result->err;

    rx->fetch = NULL;
    if (err == 0 && (err = follow_redirect(rx, result)) > 0)
        return;
    if (err == 0) {
        hcm_bytes_t body = {result->body, result->body_len};
        err = hcm_origin_to_coap(result->status, result->headers, result->nheaders, body, &rx->req,
                                 &rx->arena, &rx->answer);
    }
    if (err < 0) {
        hcp_reverse_fail(rx, err);
    } else {
        /* The payload points into the fetch, which goes when this returns: keep a copy. */
        rx->payload = malloc(rx->answer.payload.len ? rx->answer.payload.len : 1);
        if (rx->payload == NULL) {
            hcp_reverse_fail(rx, HCM_EINTERNAL);
        } else {
            if (rx->answer.payload.len > 0) /* an empty body may have no buffer at all */
                memcpy(rx->payload, rx->answer.payload.p, rx->answer.payload.len);
            rx->answer.payload.p = rx->payload;
            rx->code = rx->answer.code;
            hcp_reverse_log_outcome(rx, result->status, 0);
        }
    }
    hcp_reverse_deliver(rx);
}

static int fetch_from(hcp_reverse_exchange_t *rx, const char *address)
{
    return hcp_origin_fetch(rx->proxy->origin, &rx->req, address, rx->id, on_fetched, rx,
                            &rx->fetch);
}

/* 0 when the origin at |sa| (with the request's port) may be reached, else why not: a multicast
 * group or hcproxy's own HTTP listener (policy.c), or outside origin.allow. An
 * hcp_address_judge_cb, |ctx| the exchange. */
static int judge_origin(const void *ctx, const struct sockaddr *sa)
{
    const hcp_reverse_exchange_t *rx = ctx;
    int err;

    if ((err = hcp_policy_check(rx->proxy, HCP_POLICY_OWN_HTTP, sa)) < 0)
        return err;
    if (!hcc_origin_allows(rx->proxy->cfg, rx->req.scheme, rx->req.host, sa->sa_family,
                           hcp_sockaddr_ip(sa), rx->req.port, rx->req.path))
        return HCM_EFORBIDDEN;
    return 0;
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    hcp_reverse_exchange_t *rx = hcp_container_of(req, hcp_reverse_exchange_t, resolver);
    struct sockaddr_storage to;
    char text[INET6_ADDRSTRLEN];
    int err;

    rx->is_resolving = false;
    if (rx->is_abandoned) {
        uv_freeaddrinfo(res);
        hcp_reverse_free(rx);
        return;
    }
    if (rx->code != 0) { /* the drain has answered it meanwhile */
        uv_freeaddrinfo(res);
        return;
    }
    err = status < 0 ? HCM_ERESOLVE : hcp_address_pick(res, rx->req.port, judge_origin, rx, &to);
    uv_freeaddrinfo(res);
    if (err == 0) {
        inet_ntop(to.ss_family, hcp_sockaddr_ip((const struct sockaddr *)&to), text, sizeof text);
        err = fetch_from(rx, text);
    }
    if (err < 0) {
        hcp_reverse_fail(rx, err);
        hcp_reverse_deliver(rx);
    }
}

/* A literal host is judged at once; a name is resolved without blocking the loop, and the
 * first address the policy allows is the one libcurl is told to use. Through origin.http_proxy
 * a name is not resolved here: the proxy resolves it, where this host's resolver may know
 * nothing of it, so origin.allow judges the name alone (its CIDR rules match only an origin
 * written as an IP address), before anything is sent. */
int hcp_reverse_origin_reach(hcp_reverse_exchange_t *rx)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct sockaddr_storage literal;
    const hcc_config_t *cfg = rx->proxy->cfg;
    bool is_proxied = hcc_origin_proxied(cfg, rx->req.scheme, rx->req.host, rx->req.port);
    int err;

    if (hcp_sockaddr_literal(rx->req.host, rx->req.port, &literal)) {
        if ((err = judge_origin(rx, (const struct sockaddr *)&literal)) < 0)
            return err;
        return fetch_from(rx, is_proxied ? NULL : rx->req.host);
    }
    if (is_proxied) {
        if (!hcc_origin_allows(cfg, rx->req.scheme, rx->req.host, AF_UNSPEC, NULL, rx->req.port,
                               rx->req.path))
            return HCM_EFORBIDDEN;
        return fetch_from(rx, NULL);
    }
    if (uv_getaddrinfo(rx->proxy->loop, &rx->resolver, on_resolved, rx->req.host, NULL, &hints) != 0)
        return HCM_ERESOLVE;
    rx->is_resolving = true;
    return 0;
}

/* exchange_answer: an exchange's answer to its HTTP client, built from the CoAP response
 * (RFC 8075, mapping/response.c) or from an error (mapping/errors.def), and its access log line
 * and metrics. */
#include <stdio.h>
#include <string.h>

#include <microhttpd.h>

#include "exchange_int.h"
#include "front.h"
#include "hcc.h"
#include "hcm.h"
#include "log.h"
#include "metrics.h"
#include "poolroom.h"
#include "proxy.h"

/* The access log: one line per answer, its facts as fields. hcproxy's own resources are logged
 * at debug level: an orchestrator's probes and a scraper would fill the log otherwise. */
static void log_outcome(const hcp_exchange_t *ex)
{
    hcc_level_t level = ex->local >= 0 ? HCC_LOG_DEBUG : HCC_LOG_INFO;
    double ms = (double)(uv_hrtime() - ex->started_ns) / 1e6;
    char path[2048], cause[32];

    if (!hcp_log_enabled(level))
        return;
    hcp_log_redact(ex->raw_uri, path, sizeof path);
    hcp_log_field_t fields[] = {
        HCP_LOG_F_STR("request_id", ex->request_id[0] != '\0' ? ex->request_id : NULL),
        HCP_LOG_F_STR("traceparent", ex->traceparent),
        HCP_LOG_F_STR("client", ex->client[0] != '\0' ? ex->client : NULL),
        HCP_LOG_F_STR("direction", ex->local >= 0 ? NULL : "http_to_coap"),
        HCP_LOG_F_STR("method", ex->method),
        HCP_LOG_F_STR("path", path),
        HCP_LOG_F_UINT("status", ex->status),
        HCP_LOG_F_MS("latency_ms", ms),
        HCP_LOG_F_STR("cause",
                      hcp_metrics_cause_label(ex->error, cause, sizeof cause) ? cause : NULL),
    };
    hcp_log_fields(level, ex->id, fields, HCM_COUNTOF(fields), "%s %s -> %u (%.3f ms)",
                   ex->method ? ex->method : "-", path, ex->status, ms);
}

static void count_answer(hcp_exchange_t *ex, bool was_proxied)
{
    hcp_metrics_t *m = &ex->proxy->metrics;

    if (was_proxied) {
        m->answered_by_class[ex->status / 100 < 6 ? ex->status / 100 : 5]++;
        hcp_metrics_observe(m, HCP_METRICS_HTTP_TO_COAP, uv_hrtime() - ex->started_ns);
        if (ex->error < 0)
            hcp_metrics_count_cause(m->failed_by_cause, ex->error);
    } else if (ex->local >= 0) {
        m->local_answers[ex->local]++;
    } else {
        hcp_metrics_count_cause(m->refused_by_cause, ex->error);
    }
}

/* RFC 9110 s8.6: a 304 may carry Content-Length only as the size the 200 would have had, which a
 * CoAP 2.03 does not tell; libmicrohttpd adds "Content-Length: 0" from the empty buffer.
 * MHD_RF_HEAD_ONLY_RESPONSE (libmicrohttpd 1.0.0 and later) leaves it out; 0.9.75 has no way
 * to, and still sends it. */
static void omit_content_length(struct MHD_Response *r)
{
#if MHD_VERSION >= 0x01000000
    MHD_set_response_options(r, MHD_RF_HEAD_ONLY_RESPONSE, MHD_RO_END);
#else
    (void)r;
#endif
}

static struct MHD_Response *text_response(const char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);

    if (r != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    return r;
}

bool hcp_exchange_is_framing_error(int err)
{
    return err == HCM_EFRAMING || err == HCM_EHOSTFIELD || err == HCM_ECODING;
}

/* A proxy-generated error: its status and one-line reason come from mapping/errors.def. */
void hcp_exchange_answer_error(hcp_exchange_t *ex, int err)
{
    struct MHD_Response *r;
    char line[256];

    snprintf(line, sizeof line, "%s\n", hcm_strerror(err));
    r = text_response(line);
    /* RFC 6585 s4: when to come back; a bucket refills one request in 1/rate s. */
    if (r != NULL && err == HCM_ERATELIMIT)
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    /* RFC 6750 s3: a 401 names the scheme, and says when the token itself was the problem. */
    if (r != NULL && (err == HCM_ENOTOKEN || err == HCM_EBADTOKEN))
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                err == HCM_EBADTOKEN ? "Bearer realm=\"hcproxy\", error=\"invalid_token\""
                                                     : "Bearer realm=\"hcproxy\"");
    /* RFC 9112 s6.3, s9.6: after ambiguous framing nothing more is read from the connection;
     * whatever followed may be a smuggled request. */
    if (r != NULL && hcp_exchange_is_framing_error(err))
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    ex->error = err;
    hcp_exchange_answer(ex, r, hcm_err_status(err));
}

/* RFC 6585 s5: the request left too little of libmicrohttpd's pool for the answer's header
 * block (poolroom.c). The 431 is as small as an answer can be: no Content-Type, no X-Request-Id,
 * and Connection: close, since the next request would find the pool as full. When even that does
 * not fit, or body bytes behind the headers may take its room, it is written under
 * libmicrohttpd. 0, or -1 to close the connection. */
int hcp_exchange_answer_no_room(hcp_exchange_t *ex, size_t room)
{
    char body[256], raw[512];
    struct MHD_Response *r;
    size_t len;

    snprintf(body, sizeof body, "%s\n", hcm_strerror(HCM_EHEADERROOM));
    ex->error = HCM_EHEADERROOM;
    if (room >= hcp_poolroom_431_need(strlen(body)) && !hcp_exchange_declares_body(ex)) {
        r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_COPY);
        if (r != NULL)
            MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
        hcp_exchange_answer(ex, r, hcm_err_status(HCM_EHEADERROOM));
        ex->state = EX_QUEUED;
        return r != NULL && MHD_queue_response(ex->conn, ex->status, r) == MHD_YES ? 0 : -1;
    }
    hcp_exchange_answer(ex, NULL, hcm_err_status(HCM_EHEADERROOM));
    ex->state = EX_QUEUED; /* nothing more to queue: later calls change nothing */
    len = hcp_poolroom_format_431(raw, sizeof raw, body,
                                  strcmp(ex->method, MHD_HTTP_METHOD_HEAD) == 0);
    return len > 0 && hcp_front_send_and_close(ex->conn, raw, len) ? 0 : -1;
}

void hcp_exchange_fail(hcp_exchange_t *ex, int err)
{
    if (ex->state != EX_WAITING && ex->state != EX_RESOLVING)
        return;
    if (err == HCM_ETIMEOUT)
        ex->proxy->metrics.upstream_timeouts++;
    else
        ex->proxy->metrics.upstream_failures++;
    hcp_exchange_answer_error(ex, err);
}

/* Host names and ports only: a Host header is echoed into Location, so nothing that could end
 * the header or the URI may pass. */
static bool is_plain_host(const char *host)
{
    return host[0] != '\0' &&
           strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") ==
               strlen(host);
}

/* The URI prefix under which a CoAP URI is reachable through this proxy, for Location
 * (RFC 7252 s10.2.4): http.public_url, else the request's own Host. NULL when neither can be
 * trusted; Location then carries the CoAP URI itself. */
static const char *hosting_prefix(hcp_exchange_t *ex)
{
    const hcc_config_t *cfg = ex->proxy->cfg;
    const char *host = cfg->http_public_url;
    char *out;
    size_t len;

    if (host[0] == '\0') {
        host = MHD_lookup_connection_value(ex->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
        if (host == NULL || !is_plain_host(host))
            return NULL;
        len = strlen("https://") + strlen(host) + strlen(cfg->http_hc_path) + 1;
        if ((out = hcm_arena_alloc(&ex->arena, len)) != NULL)
            snprintf(out, len, "%s://%s%s", hcp_front_is_tls(ex->conn) ? "https" : "http", host,
                     cfg->http_hc_path);
        return out;
    }
    len = strlen(host) + strlen(cfg->http_hc_path) + 1;
    if ((out = hcm_arena_alloc(&ex->arena, len)) != NULL)
        snprintf(out, len, "%s%s", host, cfg->http_hc_path);
    return out;
}

void hcp_exchange_on_coap_response(hcp_exchange_t *ex, const hcm_coap_msg_t *msg)
{
    hcm_resp_ctx_t ctx = {.request = ex->info, .target = &ex->target};
    hcm_http_resp_t resp;
    struct MHD_Response *r;
    int err;

    if (ex->state != EX_WAITING)
        return;
    if (msg->payload.len > (size_t)ex->proxy->cfg->upstream_max_response_bytes) {
        hcp_exchange_fail(ex, HCM_ERESPTOOLARGE);
        return;
    }
    if (hcm_coap_msg_find(msg, HCM_OPT_LOCATION_PATH) != NULL ||
        hcm_coap_msg_find(msg, HCM_OPT_LOCATION_QUERY) != NULL)
        ctx.hosting_prefix = hosting_prefix(ex); /* only a Location needs it */
    err = hcm_response_to_http(msg, &ctx, &ex->arena, &resp);
    if (err < 0) {
        hcp_exchange_fail(ex, err == HCM_ENOSPACE ? HCM_ENOSPACE : HCM_EBADRESPONSE);
        return;
    }
    r = MHD_create_response_from_buffer(resp.body.len, (void *)resp.body.p,
                                        MHD_RESPMEM_MUST_COPY);
    for (size_t i = 0; r != NULL && i < resp.nheaders; i++)
        MHD_add_response_header(r, resp.headers[i].name, resp.headers[i].value);
    if (r != NULL && resp.status == MHD_HTTP_NOT_MODIFIED)
        omit_content_length(r);
    hcp_exchange_answer(ex, r, resp.status);
}

int hcp_exchange_queue_answer(hcp_exchange_t *ex)
{
    enum MHD_Result ok;

    if (ex->response == NULL)
        return -1; /* could not even build the answer: close the connection */
    MHD_add_response_header(ex->response, HEADER_REQUEST_ID, ex->request_id);
    ok = MHD_queue_response(ex->conn, ex->status, ex->response);
    ex->state = EX_QUEUED;
    return ok == MHD_YES ? 0 : -1;
}

void hcp_exchange_record_answer(hcp_exchange_t *ex, bool was_proxied)
{
    count_answer(ex, was_proxied);
    log_outcome(ex);
}

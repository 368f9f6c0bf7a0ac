/* Resources hcproxy serves itself, outside the HC proxy path: /healthz (liveness), /readyz
 * (readiness), /version and /metrics (the counters in Prometheus text format). */
#include <stdio.h>
#include <string.h>

#include <coap3/coap.h>
#include <curl/curlver.h>
#include <microhttpd.h>

#include "front.h"
#include "hcc.h"
#include "hcm.h"
#include "hcproxy_version.h"
#include "local.h"
#include "metrics.h"
#include "proxy.h"
#include "text.h"

/* Liveness: an answer at all means the loop runs; nothing else is judged, so that an orchestrator
 * restarts hcproxy only when it is stuck, never for an upstream's trouble. */
static unsigned health(const hcp_proxy_t *proxy, hcp_text_t *out)
{
    (void)proxy;
    hcp_text_printf(out, "ok\n");
    return 200;
}

/* Readiness: whether new requests should be sent here. The reasons come in the order an operator
 * would look for them; the first that holds is the one-line answer. */
static unsigned ready(const hcp_proxy_t *proxy, hcp_text_t *out)
{
    const hcc_config_t *cfg = proxy->cfg;

    if (proxy->draining)
        hcp_text_printf(out, "not ready: draining, shutting down\n");
    else if (!hcp_front_listening(proxy->front))
        hcp_text_printf(out, "not ready: an HTTP listener is not open\n");
    else if (proxy->metrics.inflight >= (uint64_t)cfg->upstream_max_inflight)
        hcp_text_printf(out, "not ready: %llu exchanges in flight, upstream.max_inflight is %lld\n",
                        (unsigned long long)proxy->metrics.inflight,
                        (long long)cfg->upstream_max_inflight);
    else {
        hcp_text_printf(out, "ready\n");
        return 200;
    }
    return 503;
}

/* JSON, for a tool; the libcurl version is that of the headers hcproxy was built with, as
 * libcurl itself is loaded only with the first reverse request (proxy/libcurl.c). */
static unsigned version(const hcp_proxy_t *proxy, hcp_text_t *out)
{
    (void)proxy;
    hcp_text_printf(out,
                    "{\"version\":\"%s\",\"libcoap\":\"%s\",\"libmicrohttpd\":\"%s\","
                    "\"libuv\":\"%s\",\"libcurl_headers\":\"%s\"}\n",
                    HCPROXY_VERSION, hcp_metrics_libcoap_version(), MHD_get_version(),
                    uv_version_string(), LIBCURL_VERSION);
    return 200;
}

static unsigned metrics(const hcp_proxy_t *proxy, hcp_text_t *out)
{
    hcp_metrics_render(proxy, out);
    return 200;
}

/* A container's or an orchestrator's probe carries no token, so /healthz and /readyz are public
 * even when http.bearer_tokens is set; the counters and the versions are not. */
static const struct {
    const char *path;
    unsigned (*render)(const hcp_proxy_t *proxy, hcp_text_t *out);
    const char *content_type;
    bool is_public;
} resources[] = {
    {"/healthz", health, "text/plain; charset=utf-8", true},
    {"/readyz", ready, "text/plain; charset=utf-8", true},
    {"/version", version, "application/json", false},
    {"/metrics", metrics, "text/plain; version=0.0.4; charset=utf-8", false},
};
_Static_assert(sizeof resources / sizeof resources[0] <= HCP_LOCAL_MAX, "HCP_LOCAL_MAX too small");

static int find(const char *raw_uri)
{
    size_t path_len = strcspn(raw_uri, "?");

    for (size_t i = 0; i < HCM_COUNTOF(resources); i++)
        if (strlen(resources[i].path) == path_len &&
            strncmp(raw_uri, resources[i].path, path_len) == 0)
            return (int)i;
    return -1;
}

bool hcp_local_find(const hcp_proxy_t *proxy, const char *raw_uri, hcp_local_t *out)
{
    int i = find(raw_uri);
    hcp_text_t text;

    if (i < 0)
        return false;
    hcp_text_init(&text, out->text, sizeof out->text);
    out->index = i;
    out->content_type = resources[i].content_type;
    out->status = resources[i].render(proxy, &text);
    out->len = text.len;
    if (text.cut) { /* never with today's series; a 500 rather than a cut exposition */
        out->len = (size_t)snprintf(out->text, sizeof out->text, "%s: answer too long\n",
                                    resources[i].path);
        out->status = 500;
    }
    return true;
}

bool hcp_local_is_public(const char *raw_uri)
{
    int i = find(raw_uri);

    return i >= 0 && resources[i].is_public;
}

const char *hcp_local_path(int index)
{
    return index >= 0 && (size_t)index < HCM_COUNTOF(resources) ? resources[index].path : NULL;
}

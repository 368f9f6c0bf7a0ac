/* Resources hcproxy serves itself, outside the HC proxy path: /healthz for container health
 * checks and /metrics, the counters in Prometheus text format. */
#include <stdio.h>
#include <string.h>

#include "hcp.h"

static void health(const hcp_proxy_t *proxy, char *buf, size_t len)
{
    (void)proxy;
    snprintf(buf, len, "ok\n");
}

static void metrics(const hcp_proxy_t *proxy, char *buf, size_t len)
{
    const hcp_metrics_t *m = &proxy->metrics;

    snprintf(buf, len,
             "hcproxy_exchanges_started_total %llu\n"
             "hcproxy_exchanges_answered_total %llu\n"
             "hcproxy_exchanges_cancelled_total %llu\n"
             "hcproxy_upstream_timeouts_total %llu\n"
             "hcproxy_upstream_failures_total %llu\n"
             "hcproxy_late_responses_total %llu\n"
             "hcproxy_exchanges_inflight %llu\n"
             "hcproxy_upstream_waiting %llu\n"
             "hcproxy_upstream_destinations %llu\n",
             (unsigned long long)m->exchanges_started, (unsigned long long)m->exchanges_answered,
             (unsigned long long)m->exchanges_cancelled, (unsigned long long)m->upstream_timeouts,
             (unsigned long long)m->upstream_failures, (unsigned long long)m->late_responses,
             (unsigned long long)m->inflight, (unsigned long long)m->upstream_waiting,
             (unsigned long long)m->upstream_destinations);
}

/* A container's health check carries no token, so /healthz is public even when
 * http.bearer_tokens is set; the counters are not. */
static const struct {
    const char *path;
    void (*render)(const hcp_proxy_t *proxy, char *buf, size_t len);
    bool is_public;
} resources[] = {
    {"/healthz", health, true},
    {"/metrics", metrics, false},
};

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

    if (i < 0)
        return false;
    resources[i].render(proxy, out->text, sizeof out->text);
    out->status = 200;
    return true;
}

bool hcp_local_is_public(const char *raw_uri)
{
    int i = find(raw_uri);

    return i >= 0 && resources[i].is_public;
}

/* The counters behind /metrics, rendered in the Prometheus text exposition format (version
 * 0.0.4): every family with its # HELP and # TYPE lines, counters ending in _total, one latency
 * histogram labelled by direction, and hcproxy_build_info. tests/integration/ops.sh runs
 * promtool check metrics over the result. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <coap3/coap.h>
#include <curl/curlver.h>
#include <microhttpd.h>

#include "coap_udp.h"
#include "hcproxy_version.h"
#include "local.h"
#include "metrics.h"
#include "msgclient.h"
#include "msglayer.h"
#include "proxy.h"
#include "reverse.h"
#include "text.h"
#include "upstream.h"

static const double bucket_bounds[HCP_METRICS_LATENCY_BUCKETS] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 100,
};

static const char *const direction_names[HCP_METRICS_NDIRECTIONS] = {
    [HCP_METRICS_HTTP_TO_COAP] = "http_to_coap",
    [HCP_METRICS_COAP_TO_HTTP] = "coap_to_http",
};

/* errors.def's names, the label values of the cause counters (lower-cased when written). */
static const char *const cause_names[] = {
#define HCM_ERR(name, status, coap, reason) #name,
#include "errors.def"
#include "hcm.h"
#undef HCM_ERR
};

/* errors.def's name of |err|, lower-cased, in |buf|; false for a code outside errors.def. */
bool hcp_metrics_cause_label(int err, char *buf, size_t len)
{
    long i = (long)err - HCM_EBASE - 1;
    size_t k = 0;

    if (i < 0 || (size_t)i >= HCP_METRICS_NCAUSES - 1 || len == 0)
        return false;
    for (; cause_names[i][k] != '\0' && k + 1 < len; k++)
        buf[k] = (char)tolower((unsigned char)cause_names[i][k]);
    buf[k] = '\0';
    return true;
}

void hcp_metrics_count_cause(uint64_t *by_cause, int err)
{
    long i = (long)err - HCM_EBASE - 1;

    if (i >= 0 && (size_t)i < HCP_METRICS_NCAUSES - 1)
        by_cause[i]++;
}

void hcp_metrics_observe(hcp_metrics_t *m, hcp_metrics_direction_t dir, uint64_t elapsed_ns)
{
    hcp_metrics_histogram_t *h = &m->latency[dir];
    double s = (double)elapsed_ns / 1e9;
    size_t i = 0;

    while (i < HCP_METRICS_LATENCY_BUCKETS && s > bucket_bounds[i])
        i++;
    h->counts[i]++;
    h->sum += s;
}

const char *hcp_metrics_libcoap_version(void)
{
    const char *v = coap_package_version(); /* "libcoap 4.3.1": the package string */
    const char *space = strrchr(v, ' ');

    return space != NULL ? space + 1 : v;
}


/* ---- rendering ------------------------------------------------------------------------------ */

static void family(hcp_text_t *out, const char *name, const char *type, const char *help)
{
    hcp_text_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void scalar(hcp_text_t *out, const char *name, const char *type, const char *help,
                   uint64_t value)
{
    family(out, name, type, help);
    hcp_text_printf(out, "%s %llu\n", name, (unsigned long long)value);
}

/* One family labelled "cause": the causes counted so far (a label value appears with its first
 * count, as Prometheus clients do). */
static void by_cause(hcp_text_t *out, const char *name, const char *help, const uint64_t *counts)
{
    family(out, name, "counter", help);
    for (size_t i = 0; i < HCP_METRICS_NCAUSES - 1; i++) {
        char label[32];

        if (counts[i] == 0 ||
            !hcp_metrics_cause_label((int)(HCM_EBASE + 1 + (long)i), label, sizeof label))
            continue;
        hcp_text_printf(out, "%s{cause=\"%s\"} %llu\n", name, label, (unsigned long long)counts[i]);
    }
}

static void build_info(hcp_text_t *out)
{
    family(out, "hcproxy_build_info", "gauge",
           "hcproxy's version and the versions of the libraries it runs with (always 1).");
    hcp_text_printf(out,
                    "hcproxy_build_info{version=\"%s\",libcoap=\"%s\",libmicrohttpd=\"%s\","
                    "libuv=\"%s\",libcurl_headers=\"%s\"} 1\n",
                    HCPROXY_VERSION, hcp_metrics_libcoap_version(), MHD_get_version(),
                    uv_version_string(), LIBCURL_VERSION);
}

/* What each direction counts after its answers by class, one row a series: its name after
 * "hcproxy_" (and "reverse_" for CoAP -> HTTP), and per direction its counter in hcp_metrics_t
 * (an array by cause when |type| is NULL) and its help. */
#define M(field) offsetof(hcp_metrics_t, field)
static const struct {
    const char *name;
    const char *type; /* "counter" or "gauge"; NULL: a counter labelled by cause */
    size_t offset[HCP_METRICS_NDIRECTIONS];
    const char *help[HCP_METRICS_NDIRECTIONS];
} ends[] = {
    {"exchanges_cancelled_total", "counter", {M(exchanges_cancelled), M(reverse_cancelled)},
     {"HTTP -> CoAP exchanges whose client left before the answer.",
      "CoAP -> HTTP exchanges ended without an answer (at shutdown)."}},
    {"exchanges_inflight", "gauge", {M(inflight), M(reverse_inflight)},
     {"HTTP -> CoAP exchanges started and not yet ended.",
      "CoAP -> HTTP exchanges started and not yet answered."}},
    {"exchange_errors_total", NULL, {M(failed_by_cause), M(reverse_failed_by_cause)},
     {"HTTP -> CoAP exchanges answered with an error of hcproxy's own, by cause "
      "(mapping/errors.def); a part of answered.",
      "CoAP -> HTTP exchanges answered with an error of hcproxy's own, by cause; a part of "
      "answered."}},
    {"requests_refused_total", NULL, {M(refused_by_cause), M(reverse_refused_by_cause)},
     {"HTTP requests answered with an error before any exchange started, by cause.",
      "CoAP requests answered with an error before any exchange started, by cause."}},
};
#undef M

static void render_ends(hcp_text_t *out, const hcp_metrics_t *m, hcp_metrics_direction_t dir)
{
    for (size_t i = 0; i < HCM_COUNTOF(ends); i++) {
        const uint64_t *v = (const uint64_t *)(const void *)((const char *)m + ends[i].offset[dir]);
        char name[64];

        snprintf(name, sizeof name, "hcproxy_%s%s",
                 dir == HCP_METRICS_COAP_TO_HTTP ? "reverse_" : "", ends[i].name);
        if (ends[i].type == NULL)
            by_cause(out, name, ends[i].help[dir], v);
        else
            scalar(out, name, ends[i].type, ends[i].help[dir], *v);
    }
}

static void http_to_coap(hcp_text_t *out, const hcp_metrics_t *m)
{
    scalar(out, "hcproxy_exchanges_started_total", "counter",
           "HTTP -> CoAP exchanges that passed every check and went upstream.", m->exchanges_started);
    family(out, "hcproxy_exchanges_answered_total", "counter",
           "HTTP -> CoAP exchanges answered, by HTTP status class: started = answered + cancelled "
           "+ in flight.");
    for (unsigned c = 1; c <= 5; c++)
        hcp_text_printf(out, "hcproxy_exchanges_answered_total{class=\"%uxx\"} %llu\n", c,
                        (unsigned long long)m->answered_by_class[c]);
    render_ends(out, m, HCP_METRICS_HTTP_TO_COAP);
    family(out, "hcproxy_local_requests_total", "counter",
           "Requests for hcproxy's own resources, by path.");
    for (int i = 0; hcp_local_path(i) != NULL; i++)
        hcp_text_printf(out, "hcproxy_local_requests_total{path=\"%s\"} %llu\n", hcp_local_path(i),
                        (unsigned long long)m->local_answers[i]);
}

/* The HTTP -> CoAP direction; coap:// destinations through hcproxy's message layer (its counts
 * added to libcoap's), the others through libcoap. */
static void upstream(hcp_text_t *out, const hcp_proxy_t *proxy)
{
    const hcp_metrics_t *m = &proxy->metrics;
    hcp_msgclient_stats_t s;

    hcp_upstream_msgclient_stats(proxy->upstream, &s);
    scalar(out, "hcproxy_upstream_timeouts_total", "counter",
           "HTTP -> CoAP exchanges ended by upstream.timeout_ms.", m->upstream_timeouts);
    scalar(out, "hcproxy_upstream_failures_total", "counter",
           "HTTP -> CoAP exchanges ended by a reset, an unreachable or undeliverable server.",
           m->upstream_failures);
    scalar(out, "hcproxy_upstream_retransmissions_total", "counter",
           "Confirmable CoAP requests sent again for want of an acknowledgement (RFC 7252 s4.2).",
           m->upstream_retransmissions + s.retransmissions);
    scalar(out, "hcproxy_upstream_resets_sent_total", "counter",
           "Resets sent to CoAP servers (coap://): responses that match no request, or rejected.",
           s.resets_sent);
    scalar(out, "hcproxy_late_responses_total", "counter",
           "CoAP answers for exchanges that had already ended.", m->late_responses + s.late);
    scalar(out, "hcproxy_upstream_waiting", "gauge",
           "HTTP -> CoAP exchanges queued for NSTART room (RFC 7252 s4.7), not yet sent.",
           m->upstream_waiting);
    scalar(out, "hcproxy_upstream_destinations", "gauge",
           "CoAP servers with a session (and a socket) kept.", m->upstream_destinations);
}

static void coap_to_http(hcp_text_t *out, const hcp_metrics_t *m)
{
    scalar(out, "hcproxy_reverse_exchanges_started_total", "counter",
           "CoAP -> HTTP exchanges that passed every check and went to an origin.",
           m->reverse_started);
    family(out, "hcproxy_reverse_exchanges_answered_total", "counter",
           "CoAP -> HTTP exchanges answered, by CoAP code class: started = answered + cancelled "
           "+ in flight.");
    for (unsigned c = 0; c < 8; c++)
        if (c == 2 || c == 4 || c == 5 || m->reverse_answered_by_class[c] > 0)
            hcp_text_printf(out, "hcproxy_reverse_exchanges_answered_total{class=\"%u.xx\"} %llu\n",
                            c, (unsigned long long)m->reverse_answered_by_class[c]);
    render_ends(out, m, HCP_METRICS_COAP_TO_HTTP);
}

/* A series read from a struct of counts: its name, type ("counter" or "gauge"), the offset of its
 * uint64_t in the struct, and its help. */
typedef struct series {
    const char *name;
    const char *type;
    size_t offset;
    const char *help;
} series_t;

static void render_series(hcp_text_t *out, const void *counts, const series_t *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const uint64_t *v = (const uint64_t *)(const void *)((const char *)counts + rows[i].offset);
        scalar(out, rows[i].name, rows[i].type, rows[i].help, *v);
    }
}

/* The message layers of the coap:// listeners (msglayer.h), added up: a series for each of
 * their counts. */
#define ML(field) offsetof(hcp_msglayer_stats_t, field)
static const series_t message_layer_series[] = {
    {"hcproxy_coap_duplicates_total", "counter", ML(duplicates),
     "Duplicate CoAP requests answered from the remembered answer instead of run again "
     "(RFC 7252 s4.5)."},
    {"hcproxy_coap_resets_sent_total", "counter", ML(resets_sent),
     "Resets sent to CoAP clients: malformed CONs, CON responses that match nothing, pings."},
    {"hcproxy_coap_ignored_total", "counter", ML(ignored),
     "CoAP datagrams ignored: other versions, malformed NONs, stray ACKs and the like."},
    {"hcproxy_coap_retransmissions_total", "counter", ML(retransmissions),
     "Separate CON responses sent again for want of an acknowledgement (RFC 7252 s4.2)."},
    {"hcproxy_coap_give_ups_total", "counter", ML(give_ups),
     "Separate CON responses never acknowledged, or stopped by coap.amplification_factor."},
    {"hcproxy_coap_evictions_total", "counter", ML(evictions),
     "Remembered requests forgotten early for coap.dedup_max_entries or coap.dedup_max_bytes."},
    {"hcproxy_coap_dedup_refused_total", "counter", ML(refused),
     "CoAP requests answered 5.03 because no room was left to remember them."},
    {"hcproxy_coap_dedup_entries", "gauge", ML(entries),
     "CoAP requests remembered for duplicates, answered or not."},
    {"hcproxy_coap_dedup_bytes", "gauge", ML(bytes),
     "Bytes of the answers remembered for duplicates."},
};
#undef ML

static void coap_message_layer(hcp_text_t *out, const hcp_proxy_t *proxy)
{
    hcp_msglayer_stats_t s;

    hcp_coap_udp_stats(proxy, &s);
    render_series(out, &s, message_layer_series, HCM_COUNTOF(message_layer_series));
}

/* Observe across HTTP (observe.c), one row a series. */
#define OB(field) offsetof(hcp_metrics_t, field)
static const series_t observe_series[] = {
    {"hcproxy_observe_observations", "gauge", OB(observe_observations),
     "CoAP Observe registrations held for HTTP streams (RFC 7641), shared ones counted once."},
    {"hcproxy_observe_streams", "gauge", OB(observe_streams),
     "HTTP streams of notifications open (subscribers)."},
    {"hcproxy_observe_notifications_total", "counter", OB(observe_notifications),
     "Notifications received from CoAP servers and accepted (fresh, in order: RFC 7641 s3.4)."},
    {"hcproxy_observe_events_total", "counter", OB(observe_events),
     "Notifications written to HTTP streams, as events or parts."},
    {"hcproxy_observe_reregistrations_total", "counter", OB(observe_reregistrations),
     "Registrations sent again when Max-Age passed without a notification (RFC 7641 s3.3.1)."},
};
#undef OB

static void observe(hcp_text_t *out, const hcp_metrics_t *m)
{
    render_series(out, m, observe_series, HCM_COUNTOF(observe_series));
}

static void latency(hcp_text_t *out, const hcp_metrics_t *m)
{
    family(out, "hcproxy_exchange_duration_seconds", "histogram",
           "Time from a request's arrival to its answer, for exchanges answered, by direction.");
    for (int d = 0; d < HCP_METRICS_NDIRECTIONS; d++) {
        const hcp_metrics_histogram_t *h = &m->latency[d];
        uint64_t cumulative = 0;

        for (size_t i = 0; i < HCP_METRICS_LATENCY_BUCKETS; i++) {
            cumulative += h->counts[i];
            hcp_text_printf(out,
                            "hcproxy_exchange_duration_seconds_bucket{direction=\"%s\",le=\"%g\"} "
                            "%llu\n",
                            direction_names[d], bucket_bounds[i], (unsigned long long)cumulative);
        }
        cumulative += h->counts[HCP_METRICS_LATENCY_BUCKETS];
        hcp_text_printf(out,
                        "hcproxy_exchange_duration_seconds_bucket{direction=\"%s\",le=\"+Inf\"} "
                        "%llu\n"
                        "hcproxy_exchange_duration_seconds_sum{direction=\"%s\"} %.6f\n"
                        "hcproxy_exchange_duration_seconds_count{direction=\"%s\"} %llu\n",
                        direction_names[d], (unsigned long long)cumulative, direction_names[d],
                        h->sum, direction_names[d], (unsigned long long)cumulative);
    }
}

void hcp_metrics_render(const hcp_proxy_t *proxy, hcp_text_t *out)
{
    const hcp_metrics_t *m = &proxy->metrics;

    build_info(out);
    http_to_coap(out, m);
    upstream(out, proxy);
    coap_to_http(out, m);
    coap_message_layer(out, proxy);
    observe(out, m);
    latency(out, m);
}

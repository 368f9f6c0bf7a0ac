/* metrics.c: the counters, and /metrics in Prometheus text format. The counters live in the
 * proxy (proxy.h), each module adds to its own. */
#ifndef HCP_METRICS_H
#define HCP_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hcm.h"
#include "local.h"

typedef struct hcp_proxy hcp_proxy_t;
struct hcp_text;

/* The two directions an exchange can take: a label of the latency histogram. */
typedef enum hcp_metrics_direction {
    HCP_METRICS_HTTP_TO_COAP,
    HCP_METRICS_COAP_TO_HTTP,
    HCP_METRICS_NDIRECTIONS
} hcp_metrics_direction_t;

/* Upper bounds of the latency buckets, in seconds: from a loopback answer to the longest CoAP
 * exchange with retransmissions (EXCHANGE_LIFETIME is 247 s, RFC 7252 s4.8.2). */
#define HCP_METRICS_LATENCY_BUCKETS 15
typedef struct hcp_metrics_histogram {
    uint64_t counts[HCP_METRICS_LATENCY_BUCKETS + 1]; /* per bucket, not cumulative; the last is
                                                       * +Inf */
    double sum;
} hcp_metrics_histogram_t;

/* Causes are errors.def's codes, indexed from 0. */
#define HCP_METRICS_NCAUSES ((size_t)(HCM_ELAST - HCM_EBASE))

/* Proxied exchanges are those that passed every check and went upstream:
 * started = answered (by status class) + cancelled + in flight, in each direction. What hcproxy
 * answers itself is counted apart: refusals by cause, its own resources by path. */
typedef struct hcp_metrics {
    /* HTTP -> CoAP */
    uint64_t exchanges_started;
    uint64_t answered_by_class[6];   /* proxied exchanges answered, by HTTP status / 100 */
    uint64_t exchanges_cancelled;    /* the HTTP client left before the answer */
    uint64_t failed_by_cause[HCP_METRICS_NCAUSES];  /* proxied exchanges hcproxy answered with
                                                     * an error */
    uint64_t refused_by_cause[HCP_METRICS_NCAUSES]; /* requests answered with an error, never
                                                     * proxied */
    uint64_t local_answers[HCP_LOCAL_MAX];  /* answers from hcproxy's own resources */
    uint64_t upstream_timeouts;
    uint64_t upstream_failures;   /* reset, unreachable, undeliverable */
    uint64_t upstream_retransmissions; /* CON requests sent again (libcoap's event, 4.3.2+) */
    uint64_t late_responses;      /* CoAP answers for exchanges that had already ended */
    uint64_t inflight;            /* exchanges between their start and their end */
    uint64_t upstream_waiting;    /* exchanges queued for NSTART room, not yet sent */
    uint64_t upstream_destinations; /* CoAP servers with a session (and a socket) kept */
    /* CoAP -> HTTP */
    uint64_t reverse_started;
    uint64_t reverse_answered_by_class[8]; /* by CoAP code class (RFC 7252 s3: c.dd) */
    uint64_t reverse_cancelled;            /* ended without an answer (shutdown) */
    uint64_t reverse_failed_by_cause[HCP_METRICS_NCAUSES];
    uint64_t reverse_refused_by_cause[HCP_METRICS_NCAUSES];
    uint64_t reverse_inflight;
    /* Observe across HTTP (observe.c) */
    uint64_t observe_observations;   /* CoAP observations held now */
    uint64_t observe_streams;        /* HTTP streams (subscribers) open now */
    uint64_t observe_notifications;  /* notifications received from CoAP servers */
    uint64_t observe_events;         /* events (or parts) written to HTTP streams */
    uint64_t observe_reregistrations; /* registrations sent again after Max-Age (RFC 7641 s3.3.1) */
    hcp_metrics_histogram_t latency[HCP_METRICS_NDIRECTIONS];
} hcp_metrics_t;

/* errors.def's name of |err| (a negative HCM_E* code), lower-cased ("timeout"), in |buf|;
 * false for a code outside errors.def. */
bool hcp_metrics_cause_label(int err, char *buf, size_t len);
/* Counts |err| (a negative HCM_E* code) in |by_cause|; a code outside errors.def in none. */
void hcp_metrics_count_cause(uint64_t *by_cause, int err);
/* Records one answered exchange's latency. */
void hcp_metrics_observe(hcp_metrics_t *m, hcp_metrics_direction_t dir, uint64_t elapsed_ns);
/* The running libcoap's version number ("4.3.1"), for /metrics and /version. */
const char *hcp_metrics_libcoap_version(void);
void hcp_metrics_render(const hcp_proxy_t *proxy, struct hcp_text *out);

#endif

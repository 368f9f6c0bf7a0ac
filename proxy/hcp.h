/* hcp: hcproxy's I/O side. Everything here runs on one uv_loop_t: libmicrohttpd (front.c) and
 * libcoap (upstream.h) each keep an epoll set watched by a uv_poll_t, and an exchange
 * (exchange.h) carries one HTTP request to its CoAP answer and back. */
#ifndef HCP_H
#define HCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "hcc.h"
#include "hcm.h"
#include "queue.h"
#include "block1.h"
#include "block2.h"
#include "clientcount.h"
#include "ratelimit.h"

typedef struct hcp_proxy hcp_proxy_t;
typedef struct hcp_front hcp_front_t;
typedef struct hcp_upstream hcp_upstream_t;
typedef struct hcp_exchange hcp_exchange_t;
typedef struct hcp_origin hcp_origin_t;
typedef struct hcp_metrics hcp_metrics_t;
typedef struct hcp_coap_keys hcp_coap_keys_t;
struct coap_context_t;
struct MHD_Connection;

/* ---- log.c ----------------------------------------------------------------------------- */

/* One JSON object per line on stdout: "ts", "level", "exchange" (the id of the exchange, of
 * either direction, the line is about; none for 0), "msg", then the fields given. */
void hcp_log_init(hcc_level_t level);
bool hcp_log_enabled(hcc_level_t level);
/* log.level changed by a reload. */
void hcp_log_set_level(hcc_level_t level);
void hcp_log(hcc_level_t level, uint64_t exchange, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A field of a log line. A string field whose value is NULL is left out; a URI field is
 * redacted (logtext.h: user information and query values). */
typedef enum hcp_field_kind { HCP_FIELD_STR, HCP_FIELD_URI, HCP_FIELD_UINT, HCP_FIELD_MS } hcp_field_kind_t;
typedef struct hcp_field {
    const char *key;
    hcp_field_kind_t kind;
    const char *str;
    uint64_t num;
    double ms;
} hcp_field_t;
#define HCP_F_STR(k, v) ((hcp_field_t){.key = (k), .kind = HCP_FIELD_STR, .str = (v)})
#define HCP_F_URI(k, v) ((hcp_field_t){.key = (k), .kind = HCP_FIELD_URI, .str = (v)})
#define HCP_F_UINT(k, v) ((hcp_field_t){.key = (k), .kind = HCP_FIELD_UINT, .num = (v)})
#define HCP_F_MS(k, v) ((hcp_field_t){.key = (k), .kind = HCP_FIELD_MS, .ms = (v)})

void hcp_log_fields(hcc_level_t level, uint64_t exchange, const hcp_field_t *fields,
                    size_t nfields, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A request id for exchange |id|, unique to this run of hcproxy: a random prefix drawn once at
 * the first call, and the id. */
void hcp_request_id_make(uint64_t id, char *out, size_t len);
/* |uri| with its secrets replaced (logtext.h), for a message; "-" for NULL. */
void hcp_log_redact(const char *uri, char *buf, size_t len);
/* A libcoap PDU dump (|dump|, a string in a buffer of |len| bytes) with its secrets replaced in
 * place (logtext.h). */
void hcp_log_redact_pdu(char *dump, size_t len);

/* ---- metrics.c: the counters, and /metrics in Prometheus text format ---------------------- */

/* The two directions an exchange can take: a label of the latency histogram. */
typedef enum hcp_direction { HCP_HTTP_TO_COAP, HCP_COAP_TO_HTTP, HCP_NDIRECTIONS } hcp_direction_t;

/* Upper bounds of the latency buckets, in seconds: from a loopback answer to the longest CoAP
 * exchange with retransmissions (EXCHANGE_LIFETIME is 247 s, RFC 7252 s4.8.2). */
#define HCP_LATENCY_BUCKETS 15
typedef struct hcp_histogram {
    uint64_t counts[HCP_LATENCY_BUCKETS + 1]; /* per bucket, not cumulative; the last is +Inf */
    double sum;
} hcp_histogram_t;

/* Causes are errors.def's codes, indexed from 0. */
#define HCP_NCAUSES ((size_t)(HCM_ELAST - HCM_EBASE))
/* hcproxy's own resources (local.c), indexed as its table. */
#define HCP_LOCAL_MAX 8

/* Proxied exchanges are those that passed every check and went upstream:
 * started = answered (by status class) + cancelled + in flight, in each direction. What hcproxy
 * answers itself is counted apart: refusals by cause, its own resources by path. */
struct hcp_metrics {
    /* HTTP -> CoAP */
    uint64_t exchanges_started;
    uint64_t answered_by_class[6];   /* proxied exchanges answered, by HTTP status / 100 */
    uint64_t exchanges_cancelled;    /* the HTTP client left before the answer */
    uint64_t failed_by_cause[HCP_NCAUSES];  /* proxied exchanges hcproxy answered with an error */
    uint64_t refused_by_cause[HCP_NCAUSES]; /* requests answered with an error, never proxied */
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
    uint64_t reverse_failed_by_cause[HCP_NCAUSES];
    uint64_t reverse_refused_by_cause[HCP_NCAUSES];
    uint64_t reverse_inflight;
    hcp_histogram_t latency[HCP_NDIRECTIONS];
};

/* errors.def's name of |err| (a negative HCM_E* code), lower-cased ("timeout"), in |buf|;
 * false for a code outside errors.def. */
bool hcp_cause_label(int err, char *buf, size_t len);
/* Counts |err| (a negative HCM_E* code) in |by_cause|; a code outside errors.def in none. */
void hcp_metrics_count_cause(uint64_t *by_cause, int err);
/* Records one answered exchange's latency. */
void hcp_metrics_observe(hcp_metrics_t *m, hcp_direction_t dir, uint64_t elapsed_ns);
/* The running libcoap's version number ("4.3.1"), for /metrics and /version. */
const char *hcp_libcoap_version(void);
struct hcp_text;
void hcp_metrics_render(const hcp_proxy_t *proxy, struct hcp_text *out);

/* ---- local.c: what hcproxy serves itself ----------------------------------------------- */

typedef struct hcp_local {
    unsigned status;
    int index;           /* in local.c's table, for the metrics */
    const char *content_type;
    char text[16384];
    size_t len;
} hcp_local_t;

/* Whether |raw_uri| names one of hcproxy's own resources; if so, fills |out|. */
bool hcp_local_find(const hcp_proxy_t *proxy, const char *raw_uri, hcp_local_t *out);
/* Whether |raw_uri| is one of them that needs no bearer token (/healthz, /readyz). */
bool hcp_local_is_public(const char *raw_uri);
/* The path of resource |index|, NULL past the last. */
const char *hcp_local_path(int index);

/* ---- the whole proxy (main.c) ---------------------------------------------------------- */

/* One of hcproxy's own listening addresses (policy.c). */
typedef enum hcp_own_kind { HCP_OWN_HTTP, HCP_OWN_COAP } hcp_own_kind_t;
typedef struct hcp_own_addr {
    hcp_own_kind_t kind;
    struct sockaddr_storage addr; /* with the port actually bound */
} hcp_own_addr_t;

struct hcp_proxy {
    uv_loop_t *loop;
    const hcc_config_t *cfg;
    hcp_front_t *front;
    hcp_upstream_t *upstream;
    hcp_origin_t *origin;
    hcp_metrics_t metrics;
    uint64_t next_exchange_id;
    hcp_queue_t live; /* exchanges in flight, for shutdown (exchange.c) */
    hcp_exchange_t *spare_exchanges; /* freed blocks kept for the next requests (exchange.c) */
    unsigned nspare_exchanges;
    struct hcp_reverse_exchange *reverse_live; /* reverse exchanges in flight (reverse.c) */
    hcp_block1_t *block1;           /* CoAP clients' Block1 uploads in progress (reverse.c) */
    hcp_block2_t *block2;           /* answers kept for CoAP clients' Block2 transfers */
    hcp_clientcount_t *reverse_clients; /* reverse exchanges in flight per client (reverse.c) */
    hcp_own_addr_t *own;            /* where hcproxy listens, for policy.c */
    size_t nown;
    struct sockaddr_storage *local_addrs; /* the host's interface addresses, when a listener is a
                                           * wildcard (policy.c); NULL otherwise */
    size_t nlocal_addrs;
    hcp_ratelimit_t *ratelimit;     /* http.rate_limit, or NULL for none */
    hcp_coap_keys_t *coap_keys;     /* secure CoAP listeners' credentials (coap_tls.c) */
    struct hcp_coap_udp *coap_udp;  /* the coap:// listeners (coap_udp.c) */
    struct hcp_reverse_libcoap *reverse_libcoap; /* the other coap.listen schemes'
                                                  * (reverse_libcoap.c) */
    bool draining;  /* SIGTERM came (main.c): /readyz answers 503 from then on; for drain.delay_s
                     * everything is still served */
    bool closing;   /* drain.delay_s is over: no new connections, and new exchanges in either
                     * direction are answered 503 / 5.03 while those in flight finish */
};

/* ---- healthcheck.c: hcproxy --health-check ------------------------------------------------ */

/* GET /healthz on the first http.listen address of the running hcproxy (found in /proc, its
 * configuration read as it read it), or of |own| when |own_only| or none runs; prints one line.
 * 0 when it answered 200, else 1. */
int hcp_health_check(const hcc_config_t *own, bool own_only);

/* ---- coap_tls.c: the secure CoAP listeners' credentials ------------------------------------ */

/* Reads coap.psk, coap.cert_file, coap.key_file and coap.client_ca_file and gives them to
 * |ctx| (server side); proxy->coap_keys holds them, freed after the loop. 0 or a UV_E*. */
int hcp_coap_keys_install(hcp_proxy_t *proxy, struct coap_context_t *ctx);
struct hcp_secret;
struct coap_pki_key_pem_buf_t;
/* Points libcoap's PEM buffers at the secrets given (NULL or unread ones are left out), with
 * the NUL terminator in each length, as libcoap takes it. */
void hcp_coap_pem(struct coap_pki_key_pem_buf_t *out, const struct hcp_secret *ca,
                  const struct hcp_secret *cert, const struct hcp_secret *key);
void hcp_coap_keys_free(hcp_coap_keys_t *keys);

/* ---- secrets.c: keys and certificates, read at start ------------------------------------- */

typedef struct hcp_secret {
    uint8_t *bytes; /* NUL-terminated when read from a file or a variable; NULL: none */
    size_t len;     /* without the terminator */
} hcp_secret_t;

/* The value of the variable |env| when it is named, else the bytes of |file| when it is named,
 * else nothing (0, bytes NULL). |what| names the setting in the error logged. 0 or a UV_E*. */
int hcp_secret_read(const char *env, const char *file, const char *what, hcp_secret_t *out);
/* Wipes and frees. */
void hcp_secret_free(hcp_secret_t *s);

/* ---- sockaddr.c: IPv4 and IPv6 socket addresses ------------------------------------------ */

/* The size of an AF_INET or AF_INET6 |sa|: a struct sockaddr_in or sockaddr_in6. */
size_t hcp_sockaddr_len(const struct sockaddr *sa);
/* The 4 or 16 address bytes of an AF_INET or AF_INET6 |sa|, in network byte order. */
const void *hcp_sockaddr_ip(const struct sockaddr *sa);
/* |sa| (AF_INET or AF_INET6) with |port| instead of its own. */
void hcp_sockaddr_with_port(const struct sockaddr *sa, uint16_t port, struct sockaddr_storage *out);
/* |sa| as "address:port" or "[address]:port"; "" for NULL or another family. */
void hcp_sockaddr_format(const struct sockaddr *sa, char *out, size_t len);
/* |host| as an address with |port| when it is an IPv4 or IPv6 literal; false for a name. */
bool hcp_sockaddr_literal(const char *host, uint16_t port, struct sockaddr_storage *out);

/* ---- policy.c: what no configuration can allow -------------------------------------------- */

/* Records a listening address: |sa| with |port|, the one the kernel bound. */
void hcp_policy_add_own(hcp_proxy_t *proxy, hcp_own_kind_t kind, const struct sockaddr *sa,
                        uint16_t port);
/* Judges a destination the allow rules have let through: HCM_EMULTICAST for a multicast group
 * (RFC 8075 s10.4), HCM_ESELFLOOP for one of hcproxy's own |kind| listeners (the address and
 * port; a wildcard listener counts for every local address), else 0. */
int hcp_policy_check(const hcp_proxy_t *proxy, hcp_own_kind_t kind, const struct sockaddr *dest);
/* http.rate_limit: 0, or HCM_ERATELIMIT when the client at |client| has used up its requests. */
int hcp_policy_rate(hcp_proxy_t *proxy, const struct sockaddr *client);
/* Judges an HTTP request's Authorization header (NULL when absent) against http.bearer_tokens:
 * 0 when none are configured or it carries one of them, else HCM_ENOTOKEN or HCM_EBADTOKEN. */
int hcp_policy_authorize(const hcp_proxy_t *proxy, const char *authorization);

/* ---- reload.c: SIGHUP ---------------------------------------------------------------------- */

/* Reads the configuration again from the file, |envp| and |argv| (those given at start) and
 * applies what can change without dropping a connection: proxy->cfg, which is |cfg|, takes the
 * new values. 0, or -1 with the running configuration kept; either way the outcome is logged. */
int hcp_reload(hcp_proxy_t *proxy, hcc_config_t *cfg, int argc, char **argv, char **envp);

/* Both directions' interfaces, declared in their own headers: included here for the files that
 * include hcp.h alone. */
#include "exchange.h"
#include "front.h"
#include "origin.h"
#include "reverse.h"
#include "upstream.h"

#endif

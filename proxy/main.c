/* hcproxy: wiring only. Reads the configuration, starts the HTTP front end and the CoAP upstream
 * on one libuv loop, and drains in-flight exchanges on SIGINT or SIGTERM. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "hcp.h"
#include "hcproxy_version.h"

/* How long a drain waits for exchanges in flight before answering them 503. */
#define DRAIN_GRACE_MS 5000
#define DRAIN_POLL_MS 20
/* After the last answers are handed to libmicrohttpd, one more moment to write them out. */
#define FLUSH_MS 100

typedef struct runtime {
    hcp_proxy_t proxy;
    uv_signal_t sigint, sigterm;
    uv_timer_t drain;
    uint64_t drain_started;
    bool is_draining;
} runtime_t;

static void close_all(runtime_t *rt)
{
    hcp_reverse_stop(&rt->proxy);
    hcp_front_close(rt->proxy.front);
    hcp_origin_close(rt->proxy.origin);
    hcp_upstream_close(rt->proxy.upstream);
    uv_close((uv_handle_t *)&rt->sigint, NULL);
    uv_close((uv_handle_t *)&rt->sigterm, NULL);
    uv_close((uv_handle_t *)&rt->drain, NULL);
}

static void on_flushed(uv_timer_t *timer)
{
    close_all(hcp_container_of(timer, runtime_t, drain));
}

static void on_drain_tick(uv_timer_t *timer)
{
    runtime_t *rt = hcp_container_of(timer, runtime_t, drain);
    bool is_overdue = uv_now(rt->proxy.loop) - rt->drain_started >= DRAIN_GRACE_MS;

    if (rt->proxy.live != NULL && !is_overdue)
        return;
    if (rt->proxy.live != NULL)
        hcp_log(HCC_LOG_WARN, NULL, "drain: answering %llu exchanges in flight with 503",
                (unsigned long long)rt->proxy.metrics.inflight);
    hcp_exchange_abort_all(&rt->proxy);
    uv_timer_start(&rt->drain, on_flushed, FLUSH_MS, 0);
}

static void on_signal(uv_signal_t *sig, int signum)
{
    runtime_t *rt = sig->data;

    if (rt->is_draining) {
        rt->drain_started = 0; /* a second signal: stop waiting */
        return;
    }
    rt->is_draining = true;
    rt->proxy.draining = true; /* /readyz answers 503 from now on */
    hcp_log(HCC_LOG_INFO, NULL, "signal %d: no new connections, draining %llu exchanges",
            signum, (unsigned long long)rt->proxy.metrics.inflight);
    hcp_front_quiesce(rt->proxy.front);
    rt->drain_started = uv_now(rt->proxy.loop);
    uv_timer_start(&rt->drain, on_drain_tick, 0, DRAIN_POLL_MS);
}

static int start(runtime_t *rt)
{
    int err;

    if (rt->proxy.cfg->http_rate_limit > 0 &&
        (rt->proxy.ratelimit = hcp_ratelimit_new((unsigned)rt->proxy.cfg->http_rate_limit)) == NULL)
        return UV_ENOMEM;
    if ((err = hcp_upstream_new(&rt->proxy, &rt->proxy.upstream)) < 0) {
        hcp_log(HCC_LOG_ERROR, NULL, "cannot start the CoAP client: %s", uv_strerror(err));
        return err;
    }
    if ((err = hcp_origin_new(&rt->proxy, &rt->proxy.origin)) < 0)
        return err;
    /* After the upstream: its coap_startup() sets GnuTLS's process-wide hooks, which the front
     * end's HTTPS must then take back (front.c, on_gnutls_audit). */
    if ((err = hcp_front_new(&rt->proxy, &rt->proxy.front)) < 0)
        return err;
    if ((err = hcp_reverse_start(&rt->proxy, hcp_upstream_context(rt->proxy.upstream))) < 0)
        return err;
    uv_signal_init(rt->proxy.loop, &rt->sigint);
    uv_signal_init(rt->proxy.loop, &rt->sigterm);
    uv_timer_init(rt->proxy.loop, &rt->drain);
    rt->sigint.data = rt->sigterm.data = rt;
    uv_signal_start(&rt->sigint, on_signal, SIGINT);
    uv_signal_start(&rt->sigterm, on_signal, SIGTERM);
    return 0;
}

static int run(const hcc_config_t *cfg)
{
    runtime_t rt = {0};
    uv_loop_t loop;
    int err;

    signal(SIGPIPE, SIG_IGN); /* a client gone mid-write is an error return, not a death */
    hcp_log_init(cfg->log_level);
    uv_loop_init(&loop);
    rt.proxy.loop = &loop;
    rt.proxy.cfg = cfg;
    err = start(&rt);
    if (err < 0) {
        if (rt.proxy.front != NULL)
            hcp_front_close(rt.proxy.front);
        if (rt.proxy.origin != NULL)
            hcp_origin_close(rt.proxy.origin);
        if (rt.proxy.upstream != NULL)
            hcp_upstream_close(rt.proxy.upstream);
    } else {
        hcp_log(HCC_LOG_INFO, NULL, "hcproxy %s ready (%s)", HCPROXY_VERSION,
                cfg->source ? cfg->source : "embedded default configuration");
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    hcp_exchange_free_spares(&rt.proxy);
    free(rt.proxy.own);
    free(rt.proxy.local_addrs);
    hcp_ratelimit_free(rt.proxy.ratelimit);
    hcp_coap_keys_free(rt.proxy.coap_keys);
    if (err == 0)
        hcp_log(HCC_LOG_INFO, NULL, "stopped");
    return err < 0 ? 1 : 0;
}

int main(int argc, char **argv, char **envp)
{
    hcc_config_t cfg;
    hcc_action_t action = HCC_RUN;
    char err[1024];
    int status = 0;

    if (hcc_configure(&cfg, argc, argv, envp, &action, err, sizeof err) < 0) {
        fprintf(stderr, "hcproxy: %s\n", err);
        hcc_free(&cfg);
        return 2;
    }
    switch (action) {
    case HCC_HELP:
        hcc_print_help(stdout, argv[0]);
        break;
    case HCC_VERSION:
        printf("hcproxy %s\n", HCPROXY_VERSION);
        break;
    case HCC_HEALTH: /* alone, it asks the running hcproxy for its configuration */
        status = hcp_health_check(&cfg, argc > 2);
        break;
    case HCC_CHECK:
        hcc_print_sources(&cfg, stdout);
        for (size_t i = 0; i < cfg.warnings.count; i++)
            fprintf(stderr, "hcproxy: warning: %s\n", cfg.warnings.items[i]);
        fprintf(stderr, "hcproxy: configuration OK\n");
        break;
    case HCC_RUN:
        status = run(&cfg);
        break;
    }
    hcc_free(&cfg);
    return status;
}

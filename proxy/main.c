/* hcproxy: wiring only. Reads the configuration, starts the HTTP front end and the CoAP upstream
 * on one libuv loop, reloads on SIGHUP (reload.c), and drains on SIGINT or SIGTERM: for
 * drain.delay_s everything is served while readiness says "not ready", then the listeners close
 * and the exchanges in flight, in both directions, get drain.timeout_s to finish. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "coap_tls.h"
#include "container_of.h"
#include "exchange.h"
#include "front.h"
#include "hcc.h"
#include "hcm.h"
#include "hcproxy_version.h"
#include "health.h"
#include "log.h"
#include "observe.h"
#include "origin.h"
#include "policy.h"
#include "proxy.h"
#include "ratelimit.h"
#include "reload.h"
#include "reverse.h"
#include "upstream.h"

#define DRAIN_POLL_MS 20
/* After the last answers are handed to libmicrohttpd and libcoap, one more moment to write them
 * out. */
#define FLUSH_MS 100
/* How often freed memory goes back to the system (see on_trim). */
#define TRIM_MS 30000

typedef enum phase { RUNNING, DELAYING, WAITING, FLUSHING } phase_t;

typedef struct runtime {
    hcp_proxy_t proxy;
    hcc_config_t *cfg;      /* proxy.cfg, which a reload rewrites */
    int argc;               /* the sources a reload reads again */
    char **argv, **envp;
    uv_signal_t sigint, sigterm, sighup;
    uv_timer_t drain;
    uv_timer_t trim;
    uint64_t drain_started; /* when the listeners closed */
    phase_t phase;
} runtime_t;

static void close_all(runtime_t *rt)
{
    hcp_reverse_stop(&rt->proxy);
    hcp_front_close(rt->proxy.front);
    hcp_origin_close(rt->proxy.origin);
    hcp_observe_close(rt->proxy.observe); /* cancels its upstream requests */
    hcp_upstream_close(rt->proxy.upstream);
    uv_close((uv_handle_t *)&rt->sigint, NULL);
    uv_close((uv_handle_t *)&rt->sigterm, NULL);
    uv_close((uv_handle_t *)&rt->sighup, NULL);
    uv_close((uv_handle_t *)&rt->drain, NULL);
    uv_close((uv_handle_t *)&rt->trim, NULL);
}

/* glibc gives freed memory back to the system only from the top of its heap. After a burst (a
 * flood of exchanges, each with its arena, and the answers the CoAP message layer remembers for
 * EXCHANGE_LIFETIME) the heap is mostly free pages between a few live blocks, and RSS stayed at
 * seven times its idle size (bench/README.md); malloc_trim() releases those pages. It walks the
 * free lists, a fraction of a millisecond for a heap of tens of megabytes. */
static void on_trim(uv_timer_t *timer)
{
    (void)timer;
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

static void on_flushed(uv_timer_t *timer)
{
    close_all(hcp_container_of(timer, runtime_t, drain));
}

/* Answers what is still in flight with 503 / 5.03 and gives the answers a moment to go out. */
static void cut_short(runtime_t *rt)
{
    rt->phase = FLUSHING;
    hcp_observe_end_all(rt->proxy.observe);
    hcp_exchange_abort_all(&rt->proxy);
    hcp_reverse_abort_all(&rt->proxy);
    uv_timer_start(&rt->drain, on_flushed, FLUSH_MS, 0);
}

static void on_drain_tick(uv_timer_t *timer)
{
    runtime_t *rt = hcp_container_of(timer, runtime_t, drain);
    uint64_t grace_ms = (uint64_t)rt->cfg->drain_timeout_s * 1000;
    bool is_overdue = uv_now(rt->proxy.loop) - rt->drain_started >= grace_ms;
    bool is_busy = rt->proxy.metrics.inflight > 0 || rt->proxy.reverse_live != NULL;

    if (is_busy && !is_overdue)
        return;
    if (is_busy)
        hcp_log(HCC_LOG_WARN, 0, "drain: drain.timeout_s is over: answering %llu HTTP and %zu "
                "CoAP exchanges in flight with 503 / 5.03",
                (unsigned long long)rt->proxy.metrics.inflight, hcp_reverse_inflight(&rt->proxy));
    cut_short(rt);
}

/* drain.delay_s is over: no new connection or CoAP exchange; those in flight may finish. */
static void stop_accepting(runtime_t *rt)
{
    rt->phase = WAITING;
    rt->proxy.closing = true;
    hcp_front_quiesce(rt->proxy.front);
    hcp_observe_end_all(rt->proxy.observe); /* streams never finish on their own */
    hcp_log(HCC_LOG_INFO, 0, "drain: no new connections; waiting up to %llds for %llu HTTP "
            "and %zu CoAP exchanges in flight", (long long)rt->cfg->drain_timeout_s,
            (unsigned long long)rt->proxy.metrics.inflight, hcp_reverse_inflight(&rt->proxy));
    rt->drain_started = uv_now(rt->proxy.loop);
    uv_timer_start(&rt->drain, on_drain_tick, 0, DRAIN_POLL_MS);
}

static void on_delay_over(uv_timer_t *timer)
{
    stop_accepting(hcp_container_of(timer, runtime_t, drain));
}

static void on_stop_signal(uv_signal_t *sig, int signum)
{
    runtime_t *rt = sig->data;

    if (rt->phase != RUNNING) { /* a second signal: stop waiting */
        if (rt->phase != FLUSHING) {
            hcp_log(HCC_LOG_WARN, 0, "signal %d again: stopping now", signum);
            uv_timer_stop(&rt->drain);
            cut_short(rt);
        }
        return;
    }
    rt->phase = DELAYING;
    rt->proxy.draining = true; /* /readyz answers 503 from now on */
    hcp_log(HCC_LOG_INFO, 0, "signal %d: draining: not ready; still serving for %llds "
            "(drain.delay_s)", signum, (long long)rt->cfg->drain_delay_s);
    uv_timer_start(&rt->drain, on_delay_over, (uint64_t)rt->cfg->drain_delay_s * 1000, 0);
}

static void on_reload_signal(uv_signal_t *sig, int signum)
{
    runtime_t *rt = sig->data;

    hcp_log(HCC_LOG_INFO, 0, "signal %d: reloading the configuration", signum);
    hcp_reload(&rt->proxy, rt->cfg, rt->argc, rt->argv, rt->envp);
}

static void watch_signals(runtime_t *rt)
{
    static const int stop_signals[] = {SIGINT, SIGTERM};
    uv_signal_t *stops[] = {&rt->sigint, &rt->sigterm};

    for (size_t i = 0; i < HCM_COUNTOF(stop_signals); i++) {
        uv_signal_init(rt->proxy.loop, stops[i]);
        stops[i]->data = rt;
        uv_signal_start(stops[i], on_stop_signal, stop_signals[i]);
    }
    uv_signal_init(rt->proxy.loop, &rt->sighup);
    rt->sighup.data = rt;
    uv_signal_start(&rt->sighup, on_reload_signal, SIGHUP);
}

static int start(runtime_t *rt)
{
    int err;

    if (rt->proxy.cfg->http_rate_limit > 0 &&
        (rt->proxy.ratelimit = hcp_ratelimit_new((unsigned)rt->proxy.cfg->http_rate_limit)) == NULL)
        return UV_ENOMEM;
    if ((err = hcp_upstream_new(&rt->proxy, &rt->proxy.upstream)) < 0) {
        hcp_log(HCC_LOG_ERROR, 0, "cannot start the CoAP client: %s", uv_strerror(err));
        return err;
    }
    if ((err = hcp_origin_new(&rt->proxy, &rt->proxy.origin)) < 0)
        return err;
    if ((err = hcp_observe_new(&rt->proxy, &rt->proxy.observe)) < 0)
        return err;
    /* After the upstream: its coap_startup() sets GnuTLS's process-wide hooks, which the front
     * end's HTTPS must then take back (front.c, on_gnutls_audit). */
    if ((err = hcp_front_new(&rt->proxy, &rt->proxy.front)) < 0)
        return err;
    if ((err = hcp_reverse_start(&rt->proxy, hcp_upstream_context(rt->proxy.upstream))) < 0)
        return err;
    watch_signals(rt);
    uv_timer_init(rt->proxy.loop, &rt->drain);
    uv_timer_init(rt->proxy.loop, &rt->trim);
    uv_timer_start(&rt->trim, on_trim, TRIM_MS, TRIM_MS);
    return 0;
}

static int run(hcc_config_t *cfg, int argc, char **argv, char **envp)
{
    runtime_t rt = {.cfg = cfg, .argc = argc, .argv = argv, .envp = envp};
    uv_loop_t loop;
    int err;

    signal(SIGPIPE, SIG_IGN); /* a client gone mid-write is an error return, not a death */
    hcp_log_init(cfg->log_level);
    for (size_t i = 0; i < cfg->warnings.count; i++)
        hcp_log(HCC_LOG_WARN, 0, "%s", cfg->warnings.items[i]);
    uv_loop_init(&loop);
    rt.proxy.loop = &loop;
    rt.proxy.cfg = cfg;
    err = start(&rt);
    if (err < 0) {
        hcp_reverse_stop(&rt.proxy); /* the coap:// sockets, open on the loop */
        if (rt.proxy.front != NULL)
            hcp_front_close(rt.proxy.front);
        if (rt.proxy.origin != NULL)
            hcp_origin_close(rt.proxy.origin);
        hcp_observe_close(rt.proxy.observe); /* NULL-safe; before the upstream it cancels in */
        if (rt.proxy.upstream != NULL)
            hcp_upstream_close(rt.proxy.upstream);
    } else {
        hcp_log(HCC_LOG_INFO, 0, "hcproxy %s ready (%s)", HCPROXY_VERSION,
                cfg->source ? cfg->source : "embedded default configuration");
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    hcp_exchange_free_spares(&rt.proxy);
    hcp_policy_free(&rt.proxy);
    hcp_ratelimit_free(rt.proxy.ratelimit);
    hcp_coap_tls_free(rt.proxy.coap_tls);
    if (err == 0)
        hcp_log(HCC_LOG_INFO, 0, "stopped");
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
        status = run(&cfg, argc, argv, envp);
        break;
    }
    hcc_free(&cfg);
    return status;
}

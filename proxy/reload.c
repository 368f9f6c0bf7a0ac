/* SIGHUP: the configuration read again from the same file, environment and flags as at start,
 * and what can change without dropping a connection applied to the running proxy. A key that
 * would need one (a listener, libmicrohttpd's limits, a CoAP session's parameters, a listener's
 * certificate) keeps its running value, with a warning; a configuration that does not hold
 * (a syntax error, a bad value, a key file that cannot be read) is refused whole, with its error
 * logged, and the running one stays. */
#include <stdlib.h>
#include <string.h>

#include "hcc.h"
#include "hcm.h"
#include "log.h"
#include "proxy.h"
#include "ratelimit.h"
#include "reload.h"
#include "upstream.h"

/* The keys a reload applies. Each is read where it is used, for every new exchange or
 * connection, or its state is rebuilt below; every other key is read once at start. A key left
 * out of this table is only ever kept, so a new key is safe by default. */
static const enum hcc_key_id reloadable[] = {
    HCC_K_http_public_url,        HCC_K_http_routes,
    HCC_K_http_max_body_bytes,    HCC_K_http_rate_limit,
    HCC_K_http_request_timeout_s, HCC_K_http_bearer_tokens,
    HCC_K_http_loose_media_types, HCC_K_upstream_allow,
    HCC_K_upstream_credentials,   HCC_K_upstream_timeout_ms,
    HCC_K_upstream_max_inflight,  HCC_K_upstream_max_inflight_per_server,
    HCC_K_upstream_hop_limit,     HCC_K_upstream_max_response_bytes,
    HCC_K_coap_routes_list,       HCC_K_coap_max_body_bytes,
    HCC_K_coap_max_inflight,      HCC_K_coap_max_inflight_per_client,
    HCC_K_origin_allow,           HCC_K_origin_timeout_ms,
    HCC_K_origin_connect_timeout_ms, HCC_K_origin_verify_tls,
    HCC_K_origin_ca_file,         HCC_K_origin_redirects,
    HCC_K_origin_max_response_bytes, HCC_K_drain_delay_s,
    HCC_K_drain_timeout_s,        HCC_K_log_level,
};

static bool is_reloadable(enum hcc_key_id id)
{
    for (size_t i = 0; i < HCM_COUNTOF(reloadable); i++)
        if (reloadable[i] == id)
            return true;
    return false;
}

/* Puts the running value back into |next| for each key a reload cannot apply, with a warning;
 * lists the keys that do change in |changed|. 0, or -1 (out of memory). */
static int keep_fixed_keys(const hcc_config_t *cfg, hcc_config_t *next, char *changed,
                           size_t len)
{
    size_t used = 0;

    changed[0] = '\0';
    for (size_t i = 0; i < HCC_NKEYS; i++) {
        enum hcc_key_id id = (enum hcc_key_id)i;

        if (hcc_key_equal(cfg, next, id))
            continue;
        if (is_reloadable(id)) {
            used += (size_t)snprintf(changed + used, used < len ? len - used : 0, "%s%s",
                                     used > 0 ? ", " : "", hcc_keys[i].name);
            continue;
        }
        hcp_log(HCC_LOG_WARN, 0, "reload: %s changed, which takes a restart; keeping the "
                "running value", hcc_keys[i].name);
        if (hcc_key_copy(next, cfg, id) != 0)
            return -1;
    }
    return 0;
}

/* The state built from keys at start, built again from |next|; the one step that can fail
 * (a key file or variable of upstream.credentials) comes last, so nothing is half applied. */
static int rebuild(hcp_proxy_t *proxy, const hcc_config_t *next)
{
    const hcc_config_t *cfg = proxy->cfg;
    hcp_ratelimit_t *limiter = NULL;
    bool creds_changed;
    int err;

    if (next->http_rate_limit != cfg->http_rate_limit && next->http_rate_limit > 0 &&
        (limiter = hcp_ratelimit_new((unsigned)next->http_rate_limit)) == NULL)
        return UV_ENOMEM;
    /* Read again even when the key is the same: the files or the variable may hold new keys
     * (a rotated secret mounted as a file). */
    if ((err = hcp_upstream_reload_credentials(proxy->upstream, next, &creds_changed)) < 0) {
        hcp_ratelimit_free(limiter);
        return err;
    }
    if (creds_changed)
        hcp_log(HCC_LOG_INFO, 0, "reload: upstream.credentials: new keys for new exchanges");
    if (next->http_rate_limit != cfg->http_rate_limit) {
        hcp_ratelimit_free(proxy->ratelimit);
        proxy->ratelimit = limiter;
    }
    hcp_log_set_level(next->log_level);
    hcp_upstream_log_level();
    return 0;
}

/* Logs why a reload is refused and frees the configuration that was not applied. */
static int refuse(hcc_config_t *next, const char *why)
{
    hcp_log(HCC_LOG_ERROR, 0, "reload: %s; keeping the running configuration", why);
    hcc_free(next);
    return -1;
}

int hcp_reload(hcp_proxy_t *proxy, hcc_config_t *cfg, int argc, char **argv, char **envp)
{
    hcc_config_t next, old;
    hcc_action_t action;
    char err[1024], changed[1024] = "";

    if (hcc_configure(&next, argc, argv, envp, &action, err, sizeof err) != 0)
        return refuse(&next, err);
    if (keep_fixed_keys(cfg, &next, changed, sizeof changed) != 0)
        return refuse(&next, "out of memory");
    if (hcc_finish(&next, err, sizeof err) != 0)
        return refuse(&next, err);
    if (rebuild(proxy, &next) < 0) /* the reason is logged already */
        return refuse(&next, "upstream.credentials could not be read");
    for (size_t i = 0; i < next.warnings.count; i++)
        hcp_log(HCC_LOG_WARN, 0, "reload: %s", next.warnings.items[i]);
    /* The proxy keeps its pointer: the new values move into the same struct. Nothing running
     * points into the old values (upstream.c and coap_tls.c keep copies of what they hold). */
    old = *cfg;
    *cfg = next;
    hcc_free(&old);
    hcp_log(HCC_LOG_INFO, 0, "reload: %s: %s%s", cfg->source ? cfg->source : "no file",
            changed[0] != '\0' ? "applied " : "no key changed", changed);
    return 0;
}

/* The HTTP client side of the reverse direction (origin.h): libcurl's multi-socket interface on
 * the shared loop (origin_multi.c), one easy handle a fetch (origin_easy.c). Host names are
 * resolved by the caller (uv_getaddrinfo, then policy) and pinned with CURLOPT_RESOLVE, so
 * libcurl never resolves and never connects anywhere the policy did not see. The one exception
 * is origin.http_proxy: an origin reached through it is neither resolved nor pinned here (the
 * proxy resolves it), and libcurl connects to the configured proxy alone.
 *
 * libcurl is not linked: the first fetch loads it (libcurl.c) on libuv's thread pool, and the
 * fetches asked for meanwhile wait in a queue, started once it is there or failed if it cannot
 * be loaded. An hcproxy that never serves the reverse direction never maps it.
 *
 * A fetch's callback never runs from inside origin*.c: a finished fetch goes on a queue, and an
 * idle handle runs the callbacks from the loop once the origin's own work has returned (as libuv
 * runs its write callbacks). A callback may start or cancel fetches, so none of that reaches
 * the origin while it is in the middle of libcurl's list of finished transfers. */
#include <assert.h>
#include <stdlib.h>

#include "container_of.h"
#include "hcc.h"
#include "hcm.h"
#include "libcurl.h"
#include "log.h"
#include "origin.h"
#include "origin_int.h"
#include "proxy.h"
#include "secrets.h"

/* ---- the fetch lists and the callbacks ----------------------------------------------------- */

static void append(hcp_origin_fetch_t **list, hcp_origin_fetch_t *f)
{
    while (*list != NULL)
        list = &(*list)->next;
    f->next = NULL;
    *list = f;
}

static bool unlink_from(hcp_origin_fetch_t **list, hcp_origin_fetch_t *f)
{
    for (; *list != NULL; list = &(*list)->next)
        if (*list == f) {
            *list = f->next;
            return true;
        }
    return false;
}

/* The callbacks of the finished fetches, oldest first, one at a time off the list: a callback may
 * cancel a fetch still on it. */
static void on_completed(uv_idle_t *idle)
{
    hcp_origin_t *origin = hcp_container_of(idle, hcp_origin_t, completer);
    hcp_origin_fetch_t *f;

    while ((f = origin->completed) != NULL) {
        origin->completed = f->next;
        f->on_done(f->data, &f->result);
        hcp_origin_easy_free(f);
    }
    uv_idle_stop(idle);
}

void hcp_origin_complete(hcp_origin_fetch_t *f)
{
    append(&f->origin->completed, f);
    uv_idle_start(&f->origin->completer, on_completed);
}
/* ---- loading libcurl ------------------------------------------------------------------------ */

static void free_origin(hcp_origin_t *origin)
{
    hcp_secrets_free(&origin->proxy_password);
    if (origin->state == ORIGIN_LOADED) {
        if (origin->multi != NULL)
            origin->api.multi_cleanup(origin->multi);
        origin->api.global_cleanup();
    }
    free(origin);
}

/* On the thread pool: dlopen() reads files and relocates, so it stays off the loop. */
static void on_load_work(uv_work_t *work)
{
    hcp_origin_t *origin = hcp_container_of(work, hcp_origin_t, loader);

    origin->load_status =
        hcp_libcurl_load(&origin->api, origin->load_error, sizeof origin->load_error);
}

/* The outcome of the load, on the loop. */
static void settle_load(hcp_origin_t *origin, int status)
{
    if (status < 0) /* uv_cancel() at shutdown: the loader never ran */
        snprintf(origin->load_error, sizeof origin->load_error, "%s", uv_strerror(status));
    origin->state = status == 0 && origin->load_status == 0 ? ORIGIN_LOADED : ORIGIN_LOAD_FAILED;
    if (origin->state == ORIGIN_LOADED && !origin->is_closed && hcp_origin_multi_new(origin) < 0) {
        origin->api.global_cleanup();
        origin->state = ORIGIN_LOAD_FAILED;
        snprintf(origin->load_error, sizeof origin->load_error, "curl_multi_init() failed");
    }
    if (origin->state == ORIGIN_LOAD_FAILED && status == 0)
        hcp_log(HCC_LOG_ERROR, 0, "the reverse direction has no HTTP client: %s",
                origin->load_error);
}

/* Back on the loop: start the fetches that waited, or fail each of them once. */
static void on_loaded(uv_work_t *work, int status)
{
    hcp_origin_t *origin = hcp_container_of(work, hcp_origin_t, loader);
    hcp_origin_fetch_t *f;

    settle_load(origin, status);
    if (origin->is_closed) {
        assert(origin->waiting == NULL); /* hcp_reverse_stop() cancelled them */
        if (origin->open_handles == 0)
            free_origin(origin);
        return;
    }
    while ((f = origin->waiting) != NULL) {
        int err;

        origin->waiting = f->next;
        err = origin->state == ORIGIN_LOADED ? hcp_origin_easy_start(f) : HCM_ENOHTTPCLIENT;
        if (err < 0) {
            f->result.err = err;
            hcp_origin_complete(f);
        }
    }
}

static int begin_loading(hcp_origin_t *origin)
{
    int err = uv_queue_work(origin->proxy->loop, &origin->loader, on_load_work, on_loaded);

    if (err < 0) {
        hcp_log(HCC_LOG_ERROR, 0, "cannot load libcurl: %s", uv_strerror(err));
        return HCM_EINTERNAL;
    }
    origin->state = ORIGIN_LOADING;
    hcp_log(HCC_LOG_INFO, 0, "loading %s for the reverse direction", HCP_LIBCURL_SONAME);
    return 0;
}

/* ---- the interface -------------------------------------------------------------------------- */

int hcp_origin_fetch(hcp_origin_t *origin, const hcm_origin_req_t *req, const char *address,
                     uint64_t exchange, hcp_origin_done_cb on_done, void *data,
                     hcp_origin_fetch_t **out)
{
    hcp_origin_fetch_t *f;
    int err;

    if (origin->state == ORIGIN_LOAD_FAILED)
        return HCM_ENOHTTPCLIENT;
    if (origin->state == ORIGIN_NOT_LOADED && (err = begin_loading(origin)) < 0)
        return err;
    if ((f = calloc(1, sizeof *f)) == NULL)
        return HCM_EINTERNAL;
    f->origin = origin;
    f->req = req;
    f->exchange = exchange;
    f->is_proxied = address == NULL;
    snprintf(f->address, sizeof f->address, "%s", address != NULL ? address : "");
    f->on_done = on_done;
    f->data = data;
    if (origin->state == ORIGIN_LOADING) {
        append(&origin->waiting, f);
    } else if ((err = hcp_origin_easy_start(f)) < 0) {
        hcp_origin_easy_free(f);
        return err;
    }
    *out = f;
    return 0;
}

void hcp_origin_cancel(hcp_origin_fetch_t *f)
{
    hcp_origin_t *origin = f->origin;

    /* Done and waiting for its callback, the easy handle already out of the multi handle. */
    if (!unlink_from(&origin->waiting, f) && !unlink_from(&origin->completed, f))
        origin->api.multi_remove_handle(origin->multi, f->easy);
    hcp_origin_easy_free(f);
}

/* ---- life ----------------------------------------------------------------------------------- */

/* origin.http_proxy_auth's password, without the line end a file made by echo ends in (RFC 7617
 * s2: a password holds no control character). */
static int read_proxy_password(hcp_origin_t *origin)
{
    const hcc_server_psk_t *auth = &origin->proxy->cfg->http_proxy_auth;
    hcp_secrets_value_t *s = &origin->proxy_password;
    int err = hcp_secrets_read(auth->key_env, auth->key_file, "origin.http_proxy_auth", s);

    while (err == 0 && s->len > 0 && (s->bytes[s->len - 1] == '\n' || s->bytes[s->len - 1] == '\r'))
        s->bytes[--s->len] = '\0';
    return err;
}

int hcp_origin_new(hcp_proxy_t *proxy, hcp_origin_t **out)
{
    hcp_origin_t *origin = calloc(1, sizeof *origin);
    int err;

    if (origin == NULL)
        return UV_ENOMEM;
    origin->proxy = proxy;
    if ((err = read_proxy_password(origin)) < 0) {
        free(origin);
        return err;
    }
    origin->state = ORIGIN_NOT_LOADED;
    uv_timer_init(proxy->loop, &origin->timer);
    origin->timer.data = origin;
    uv_idle_init(proxy->loop, &origin->completer);
    origin->completer.data = origin;
    origin->open_handles = 2;
    *out = origin;
    return 0;
}

static void on_closed(uv_handle_t *handle)
{
    hcp_origin_t *origin = handle->data;

    if (--origin->open_handles == 0 && origin->state != ORIGIN_LOADING) /* else on_loaded() frees */
        free_origin(origin);
}

void hcp_origin_close(hcp_origin_t *origin)
{
    origin->is_closed = true;
    if (origin->state == ORIGIN_LOADING)
        uv_cancel((uv_req_t *)&origin->loader); /* on_loaded() follows, with UV_ECANCELED */
    assert(origin->completed == NULL); /* hcp_reverse_stop() cancelled them */
    uv_close((uv_handle_t *)&origin->timer, on_closed);
    uv_close((uv_handle_t *)&origin->completer, on_closed);
}

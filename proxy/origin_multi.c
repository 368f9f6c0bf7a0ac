/* libcurl's multi-socket interface on the shared loop (origin.h): every socket libcurl wants
 * watched gets a uv_poll_t, its one timer is the origin's uv_timer_t, and each event ends in
 * curl_multi_socket_action() and a sweep of finished transfers, whose callbacks origin.c runs
 * later from the loop. libcurl keeps connections to each origin open for reuse. */
#include <stdlib.h>

#include "container_of.h"
#include "libcurl.h"
#include "origin_int.h"
#include "proxy.h"

/* One watched socket; libcurl keeps a pointer to it with curl_multi_assign(). */
typedef struct watched_socket {
    hcp_origin_t *origin;
    curl_socket_t fd;
    uv_poll_t poll;
} watched_socket_t;

/* ---- libcurl's finished transfers ---------------------------------------------------------- */

static void sweep_finished(hcp_origin_t *origin)
{
    const hcp_libcurl_t *api = &origin->api;
    CURLMsg *msg;
    int left;

    while ((msg = api->multi_info_read(origin->multi, &left)) != NULL) {
        hcp_origin_fetch_t *f;
        long status = 0;

        if (msg->msg != CURLMSG_DONE)
            continue;
        api->easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&f);
        api->easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
        api->multi_remove_handle(origin->multi, msg->easy_handle);
        hcp_origin_easy_finish(f, msg->data.result, status);
        hcp_origin_complete(f);
    }
}

/* ---- libcurl's sockets and timer on the loop ----------------------------------------------- */

/* libuv reports a socket error (POLLERR: a reset, a refused connect) as status UV_EBADF with no
 * events, and stops the poll. That goes to libcurl as 0, "events unknown": it looks at the socket
 * itself and meets the error where it knows what it means. A kept-alive connection the origin or
 * the egress proxy closed just as it was reused fails the read, and libcurl sends the request
 * again on a new connection (RFC 9112 s9.3.1) and says CURL_POLL_REMOVE for the old one.
 * CURL_CSELECT_ERR alone would end the transfer, "select/poll returned error", nothing retried. */
static void on_socket_event(uv_poll_t *poll, int status, int events)
{
    watched_socket_t *w = hcp_container_of(poll, watched_socket_t, poll);
    hcp_origin_t *origin = w->origin;
    int flags = 0, running;

    if (status == 0 && (events & UV_READABLE))
        flags |= CURL_CSELECT_IN;
    if (status == 0 && (events & UV_WRITABLE))
        flags |= CURL_CSELECT_OUT;
    origin->api.multi_socket_action(origin->multi, w->fd, flags, &running);
    sweep_finished(origin);
}

static void on_socket_closed(uv_handle_t *handle)
{
    free(handle->data);
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *cls, void *socket_cls)
{
    hcp_origin_t *origin = cls;
    watched_socket_t *w = socket_cls;
    int events = 0;

    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (w != NULL) {
            uv_poll_stop(&w->poll);
            uv_close((uv_handle_t *)&w->poll, on_socket_closed);
            origin->api.multi_assign(origin->multi, fd, NULL);
        }
        return 0;
    }
    if (w == NULL) {
        if ((w = calloc(1, sizeof *w)) == NULL)
            return -1;
        w->origin = origin;
        w->fd = fd;
        w->poll.data = w;
        /* A failed init leaves no handle to start. (A number libcurl reuses is free: the old
         * socket's poll was stopped at its CURL_POLL_REMOVE, and a stopped poll's fd is out of
         * libuv's epoll set and table at once, though the handle is still closing.) */
        if (uv_poll_init_socket(origin->proxy->loop, &w->poll, fd) < 0) {
            free(w);
            return -1; /* libcurl fails the transfers (CURLMOPT_SOCKETFUNCTION) */
        }
        origin->api.multi_assign(origin->multi, fd, w);
    }
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    uv_poll_start(&w->poll, events, on_socket_event);
    return 0;
}

static void on_timer(uv_timer_t *timer)
{
    hcp_origin_t *origin = hcp_container_of(timer, hcp_origin_t, timer);
    int running;

    origin->api.multi_socket_action(origin->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    sweep_finished(origin);
}

static int on_timer_change(CURLM *multi, long timeout_ms, void *cls)
{
    hcp_origin_t *origin = cls;

    (void)multi;
    if (timeout_ms < 0)
        uv_timer_stop(&origin->timer);
    else
        uv_timer_start(&origin->timer, on_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

/* ---- the multi handle ------------------------------------------------------------------------ */

int hcp_origin_multi_new(hcp_origin_t *origin)
{
    const hcp_libcurl_t *api = &origin->api;
    CURLM *m = api->multi_init();
    /* The call is variadic: each value is given exactly the type its option takes, the
     * callbacks through typed variables so that a wrong signature does not compile. */
    curl_socket_callback socket_cb = on_socket;
    curl_multi_timer_callback timer_cb = on_timer_change;

    if (m == NULL)
        return -1;
    api->multi_setopt(m, CURLMOPT_SOCKETFUNCTION, socket_cb);
    api->multi_setopt(m, CURLMOPT_SOCKETDATA, (void *)origin);
    api->multi_setopt(m, CURLMOPT_TIMERFUNCTION, timer_cb);
    api->multi_setopt(m, CURLMOPT_TIMERDATA, (void *)origin);
    api->multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                      (long)origin->proxy->cfg->origin_max_connections);
    /* Without it, requests to one origin that never answers take every connection, and the
     * requests of every other client to every other origin wait behind them until they time
     * out. libcurl counts a proxied http origin's connections as the egress proxy's. */
    api->multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS,
                      (long)origin->proxy->cfg->origin_max_connections_per_origin);
    origin->multi = m;
    return 0;
}


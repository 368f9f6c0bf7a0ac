/* The HTTP side: libmicrohttpd without a thread of its own.
 *
 * Each listen address gets a daemon in external epoll mode: its epoll fd is watched by a
 * uv_poll_t, its next connection deadline (MHD_get_timeout) by a uv_timer_t, and every event
 * ends in step(), which runs the daemon once and re-arms the timer. Connections waiting for CoAP
 * are suspended; a resume comes from a libcoap or timer callback, so the daemon run it needs is
 * deferred to an idle handle rather than made from inside another library's callback. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "hcp.h"

typedef struct front_daemon {
    hcp_front_t *front;
    struct MHD_Daemon *daemon;
    uv_poll_t poll;
    uv_timer_t timer;
} front_daemon_t;

struct hcp_front {
    hcp_proxy_t *proxy;
    front_daemon_t *daemons;
    size_t ndaemons;
    uv_idle_t idle; /* active while a resumed connection waits for its daemon to run */
    int open_handles;
};

/* Connections the kernel may hold for accept(); it caps this at net.core.somaxconn (4096 on
 * current kernels). A client opening 10,000 connections a second (bench/run) overflowed 1024
 * whenever the loop was busy for a tenth of a second, and each dropped SYN costs its client a
 * 1 s retransmission. */
#define LISTEN_BACKLOG 4096u

static void on_timer(uv_timer_t *timer);

static void step(front_daemon_t *d)
{
    MHD_UNSIGNED_LONG_LONG ms;

    MHD_run(d->daemon); /* external epoll mode: never blocks */
    if (MHD_get_timeout(d->daemon, &ms) == MHD_YES)
        uv_timer_start(&d->timer, on_timer, ms, 0);
    else
        uv_timer_stop(&d->timer); /* no connection deadline pending */
}

static void on_timer(uv_timer_t *timer)
{
    step(hcp_container_of(timer, front_daemon_t, timer));
}

static void on_io(uv_poll_t *poll, int status, int events)
{
    front_daemon_t *d = hcp_container_of(poll, front_daemon_t, poll);

    (void)events;
    if (status < 0)
        hcp_log(HCC_LOG_ERROR, NULL, "http poll: %s", uv_strerror(status));
    step(d);
}

static void on_idle(uv_idle_t *idle)
{
    hcp_front_t *front = hcp_container_of(idle, hcp_front_t, idle);

    uv_idle_stop(idle);
    for (size_t i = 0; i < front->ndaemons; i++)
        step(&front->daemons[i]);
}

void hcp_front_resume(hcp_front_t *front, void *connection)
{
    MHD_resume_connection(connection);
    uv_idle_start(&front->idle, on_idle);
}

void hcp_front_flush(hcp_front_t *front)
{
    if (uv_is_active((uv_handle_t *)&front->idle))
        on_idle(&front->idle);
}

/* ---- libmicrohttpd callbacks ------------------------------------------------------------- */

/* Called with the request-target exactly as the client sent it, before libmicrohttpd
 * percent-decodes the path and splits off the query: the only place the raw target URI can be
 * recovered (RFC 8075 s5.3 copies it "unchanged"). The exchange starts here. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    return hcp_exchange_new(cls, conn, uri);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    (void)cls;
    (void)url;
    (void)version;
    if (*req_cls == NULL)
        return MHD_NO; /* no memory for the exchange: close the connection */
    return hcp_exchange_on_http(*req_cls, conn, method, upload_data, upload_data_size) == 0
               ? MHD_YES
               : MHD_NO;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    hcp_exchange_on_http_done(*req_cls);
    *req_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    size_t len;

    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    len = strcspn(msg, "\n");
    hcp_log(HCC_LOG_WARN, NULL, "libmicrohttpd: %.*s", (int)len, msg);
}

/* ---- daemons ----------------------------------------------------------------------------- */

static void format_address(const struct sockaddr *sa, uint16_t port, char *buf, size_t len)
{
    char host[INET6_ADDRSTRLEN] = "?";

    if (sa->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, host, sizeof host);
        snprintf(buf, len, "[%s]:%u", host, port);
    } else {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, host, sizeof host);
        snprintf(buf, len, "%s:%u", host, port);
    }
}

static int start_daemon(hcp_front_t *front, front_daemon_t *d, const struct sockaddr *sa)
{
    const hcc_config_t *cfg = front->proxy->cfg;
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    const union MHD_DaemonInfo *info;
    char where[80];
    int err;

    if (sa->sa_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    d->front = front;
    d->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, front->proxy,
        /* first, so that no message escapes to libmicrohttpd's own stderr logger */
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, front, MHD_OPTION_SOCK_ADDR, sa,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, front->proxy, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, front->proxy, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)cfg->http_max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)cfg->http_idle_timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)cfg->http_max_header_bytes, MHD_OPTION_LISTEN_BACKLOG_SIZE, LISTEN_BACKLOG,
        MHD_OPTION_END);
    if (d->daemon == NULL)
        return UV_EADDRNOTAVAIL;
    info = MHD_get_daemon_info(d->daemon, MHD_DAEMON_INFO_EPOLL_FD);
    err = uv_poll_init(front->proxy->loop, &d->poll, info->epoll_fd);
    if (err < 0) {
        MHD_stop_daemon(d->daemon);
        return err;
    }
    uv_poll_start(&d->poll, UV_READABLE, on_io);
    uv_timer_init(front->proxy->loop, &d->timer);
    front->open_handles += 2;
    info = MHD_get_daemon_info(d->daemon, MHD_DAEMON_INFO_BIND_PORT);
    format_address(sa, info->port, where, sizeof where);
    /* Tests and operators read the bound port from this line when the configured port is 0. */
    hcp_log(HCC_LOG_INFO, NULL, "listening on http://%s%s", where, cfg->http_hc_path);
    return 0;
}

int hcp_front_new(hcp_proxy_t *proxy, hcp_front_t **out)
{
    const hcc_config_t *cfg = proxy->cfg;
    hcp_front_t *front = calloc(1, sizeof *front);
    int err = 0;

    if (front == NULL)
        return UV_ENOMEM;
    front->proxy = proxy;
    front->daemons = calloc(cfg->nlisten_addrs, sizeof *front->daemons);
    if (front->daemons == NULL) {
        free(front);
        return UV_ENOMEM;
    }
    uv_idle_init(proxy->loop, &front->idle);
    front->open_handles = 1;
    *out = front;
    for (size_t i = 0; i < cfg->nlisten_addrs && err == 0; i++) {
        const struct sockaddr *sa = (const struct sockaddr *)&cfg->listen_addrs[i];
        err = start_daemon(front, &front->daemons[i], sa);
        if (err == 0)
            front->ndaemons++;
        else
            hcp_log(HCC_LOG_ERROR, NULL, "http.listen: cannot listen on address %zu", i + 1);
    }
    return err;
}

void hcp_front_quiesce(hcp_front_t *front)
{
    for (size_t i = 0; i < front->ndaemons; i++) {
        MHD_socket fd = MHD_quiesce_daemon(front->daemons[i].daemon);
        if (fd != MHD_INVALID_SOCKET)
            close(fd);
    }
}

static void on_closed(uv_handle_t *handle)
{
    hcp_front_t *front = handle->data;

    if (--front->open_handles > 0)
        return;
    free(front->daemons);
    free(front);
}

static void close_handle(hcp_front_t *front, uv_handle_t *handle)
{
    handle->data = front;
    uv_close(handle, on_closed);
}

void hcp_front_close(hcp_front_t *front)
{
    for (size_t i = 0; i < front->ndaemons; i++) {
        MHD_stop_daemon(front->daemons[i].daemon);
        close_handle(front, (uv_handle_t *)&front->daemons[i].poll);
        close_handle(front, (uv_handle_t *)&front->daemons[i].timer);
    }
    close_handle(front, (uv_handle_t *)&front->idle);
}

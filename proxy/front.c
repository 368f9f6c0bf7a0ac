/* The HTTP side: libmicrohttpd without a thread of its own.
 *
 * Each listen address gets a daemon in external epoll mode: its epoll fd is watched by a
 * uv_poll_t, its next connection deadline (MHD_get_timeout) by a uv_timer_t, and every event
 * ends in step(), which runs the daemon once and re-arms the timer. Connections waiting for CoAP
 * are suspended; a resume comes from an upstream or timer callback, so the daemon run it needs is
 * deferred to an idle handle rather than made from inside another library's callback, or made at
 * the end of the upstream's batch of answers (on_upstream_batch()). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include <uv.h>

#include "container_of.h"
#include "exchange.h"
#include "front.h"
#include "hcc.h"
#include "hcm.h"
#include "log.h"
#include "policy.h"
#include "proxy.h"
#include "secrets.h"
#include "sockaddr.h"
#include "upstream.h"

typedef struct front_daemon {
    hcp_front_t *front;
    struct MHD_Daemon *daemon;
    uv_poll_t poll;
    uv_timer_t timer;
} front_daemon_t;

/* The HTTPS credentials, PEM text read once at start (https.*_file); libmicrohttpd hands them to
 * GnuTLS, which keeps its own copies. */
typedef struct front_tls {
    hcp_secrets_value_t cert, key, client_ca;
} front_tls_t;

/* A connection's deadline for its request (http.request_timeout_s), kept from libmicrohttpd's
 * connection-started notice to its closed notice, in a list swept once a second. */
typedef struct tracked_conn {
    struct tracked_conn *prev, *next;
    struct MHD_Connection *conn;
    uint64_t deadline_ns; /* 0: none (answering, or idle between requests) */
} tracked_conn_t;

struct hcp_front {
    hcp_proxy_t *proxy;
    front_tls_t tls;
    tracked_conn_t *tracked;
    uv_timer_t sweep; /* runs while connections are tracked */
    front_daemon_t *daemons;
    size_t ndaemons;
    uv_idle_t idle; /* active while a resumed or closed connection waits for its daemon to run */
    int open_handles;
    bool is_quiesced; /* the listening sockets are closed (hcp_front_quiesce) */
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
        hcp_log(HCC_LOG_ERROR, 0, "http poll: %s", uv_strerror(status));
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

/* The upstream's batch of answers is over (hcp_upstream_on_batch()): the daemons run now if
 * connections were resumed, so that answers go out in the loop turn their CoAP responses came
 * in, rather than after the next poll. */
static void on_upstream_batch(void *data)
{
    hcp_front_t *front = data;

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
    (void)conn;
    if (*req_cls == NULL)
        return MHD_NO; /* no memory for the exchange: close the connection */
    return hcp_exchange_on_http(*req_cls, method, version, upload_data, upload_data_size) == 0
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

/* ---- http.request_timeout_s ------------------------------------------------------------------ */

static void set_deadline(tracked_conn_t *t, const hcc_config_t *cfg)
{
    t->deadline_ns = uv_hrtime() + (uint64_t)cfg->http_request_timeout_s * 1000000000u;
}

/* Whether the client has closed its side with nothing left unread: a request it was still
 * sending can then never end. libmicrohttpd (0.9.75 and 1.0.1 alike, connection.c
 * recv_param_adapter and daemon.c MHD_epoll) watches connections edge-triggered and takes a
 * short read for "nothing more to read": when the end of the stream arrives together with the
 * last bytes, as it does from a client that sends half a request and closes, no later event
 * comes and the connection would hold its slot until http.idle_timeout_s. */
static bool client_left(MHD_socket fd)
{
    char byte;

    return recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

/* A client still sending its request past the deadline, or gone in the middle of it, loses the
 * connection. libmicrohttpd closes connections only by itself, so the socket is shut down under
 * it: that wakes its epoll set, its next read sees the end, and it closes and reports the
 * connection as any other. */
static void on_sweep(uv_timer_t *timer)
{
    hcp_front_t *front = hcp_container_of(timer, hcp_front_t, sweep);
    uint64_t now = uv_hrtime();

    for (tracked_conn_t *t = front->tracked; t != NULL; t = t->next) {
        const union MHD_ConnectionInfo *info;
        bool late;

        if (t->deadline_ns == 0)
            continue;
        info = MHD_get_connection_info(t->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (info == NULL)
            continue;
        late = now >= t->deadline_ns;
        if (!late && !client_left(info->connect_fd))
            continue;
        t->deadline_ns = 0;
        if (shutdown(info->connect_fd, SHUT_RDWR) != 0)
            continue;
        if (late)
            hcp_log(HCC_LOG_INFO, 0, "connection closed: no whole request within %llds "
                    "(http.request_timeout_s)", (long long)front->proxy->cfg->http_request_timeout_s);
        else
            hcp_log(HCC_LOG_DEBUG, 0, "connection closed: the client left in mid-request");
    }
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    hcp_front_t *front = cls;
    tracked_conn_t *t = *socket_context;

    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        if ((t = calloc(1, sizeof *t)) == NULL)
            return; /* untracked: the idle timeout still applies */
        t->conn = conn;
        set_deadline(t, front->proxy->cfg); /* the first request counts from the accept */
        if ((t->next = front->tracked) != NULL)
            t->next->prev = t;
        front->tracked = t;
        *socket_context = t;
        if (!uv_is_active((uv_handle_t *)&front->sweep))
            uv_timer_start(&front->sweep, on_sweep, 1000, 1000);
        return;
    }
    /* A slot is free again. At its connection limit a daemon takes its listening socket out of
     * its epoll set, and puts it back only at the start of a later run (daemon.c MHD_epoll, in
     * 0.9.75 and 1.0.1 alike); MHD_get_timeout does not ask for that run. When the last
     * connections close in one run, as a flood of half requests timing out does, nothing
     * would wake the daemon again and it would accept nothing, ever: so it runs once more. */
    uv_idle_start(&front->idle, on_idle);
    if (t == NULL)
        return;
    if (t->prev != NULL)
        t->prev->next = t->next;
    else
        front->tracked = t->next;
    if (t->next != NULL)
        t->next->prev = t->prev;
    free(t);
    *socket_context = NULL;
    if (front->tracked == NULL)
        uv_timer_stop(&front->sweep);
}

static tracked_conn_t *tracked_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    return info != NULL ? info->socket_context : NULL;
}

void hcp_front_request_started(hcp_front_t *front, struct MHD_Connection *conn)
{
    tracked_conn_t *t = tracked_of(conn);

    if (t != NULL)
        set_deadline(t, front->proxy->cfg);
}

void hcp_front_request_complete(struct MHD_Connection *conn)
{
    tracked_conn_t *t = tracked_of(conn);

    if (t != NULL)
        t->deadline_ns = 0;
}

/* libmicrohttpd's messages are printf formats of its own, hence the attribute (-Wformat=2). */
__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt,
                                                               va_list ap)
{
    char msg[512];
    size_t len;

    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    len = strcspn(msg, "\n");
    hcp_log(HCC_LOG_WARN, 0, "libmicrohttpd: %.*s", (int)len, msg);
}

/* ---- daemons ----------------------------------------------------------------------------- */

/* |sa| with the port the daemon bound, as "addr:port" or "[addr]:port". */
static void format_address(const struct sockaddr *sa, uint16_t port, char *buf, size_t len)
{
    struct sockaddr_storage bound;

    hcp_sockaddr_with_port(sa, port, &bound);
    hcp_sockaddr_format((const struct sockaddr *)&bound, buf, len);
}

/* The options that differ between daemons: TLS for an https.listen address, SO_REUSEPORT. */
static void daemon_options(const hcp_front_t *front, bool is_tls, struct MHD_OptionItem *opts)
{
    size_t n = 0;

    if (front->proxy->cfg->http_reuse_port)
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, NULL};
    if (front->proxy->cfg->http_max_connections_per_client > 0)
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                                            front->proxy->cfg->http_max_connections_per_client, NULL};
    if (is_tls) {
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, front->tls.cert.bytes};
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, front->tls.key.bytes};
        /* With a trust list, libmicrohttpd asks each client for a certificate; whether it
         * chains to one of these CAs is judged per request (hcp_front_check_client). */
        if (front->tls.client_ca.bytes != NULL)
            opts[n++] =
                (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, front->tls.client_ca.bytes};
    }
    opts[n] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
}

static int start_daemon(hcp_front_t *front, front_daemon_t *d, const struct sockaddr *sa,
                        bool is_tls)
{
    const hcc_config_t *cfg = front->proxy->cfg;
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    struct MHD_OptionItem opts[6];
    const union MHD_DaemonInfo *info;
    char where[80];
    int err;

#if MHD_VERSION >= 0x00097707
    /* Only the loop's thread calls libmicrohttpd. Without this flag, libmicrohttpd 1.0 gives a
     * daemon that allows suspend/resume an inter-thread channel (MHD_ALLOW_SUSPEND_RESUME
     * includes MHD_USE_ITC), and every MHD_resume_connection() writes to it: one write() per
     * request, for a daemon that hcproxy runs itself after a resume (hcp_front_resume()). */
    flags |= MHD_USE_NO_THREAD_SAFETY;
#endif
    if (sa->sa_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (is_tls)
        flags |= MHD_USE_TLS;
    daemon_options(front, is_tls, opts);
    d->front = front;
    d->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, front->proxy,
        /* first, so that no message escapes to libmicrohttpd's own stderr logger */
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, front, MHD_OPTION_ARRAY, opts, MHD_OPTION_SOCK_ADDR, sa,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, front->proxy, MHD_OPTION_NOTIFY_CONNECTION,
        on_connection, front, MHD_OPTION_NOTIFY_COMPLETED,
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
    hcp_policy_add_own(front->proxy, HCP_POLICY_OWN_HTTP, sa, info->port); /* no origin may be us */
    /* Tests and operators read the bound port from this line when the configured port is 0. */
    hcp_log(HCC_LOG_INFO, 0, "listening on %s://%s%s", is_tls ? "https" : "http", where,
            cfg->http_hc_path);
    return 0;
}

/* GnuTLS has one audit-log hook per process. libcoap's coap_startup() (4.3.1 and 4.3.4 alike,
 * coap_gnutls.c) sets it to a function that takes every session's transport pointer for a
 * coap_session_t; on an HTTPS connection that pointer is libmicrohttpd's socket, and the first
 * failed handshake crashed hcproxy. The hook goes back to one that reads nothing from the
 * session. */
static void on_gnutls_audit(gnutls_session_t session, const char *text)
{
    (void)session;
    hcp_log(HCC_LOG_DEBUG, 0, "gnutls: %.*s", (int)strcspn(text, "\n"), text);
}

static int load_tls(hcp_front_t *front)
{
    const hcc_config_t *cfg = front->proxy->cfg;
    int err;

    if (cfg->nhttps_listen_addrs == 0)
        return 0;
    gnutls_global_set_audit_log_function(on_gnutls_audit); /* after coap_startup(): main.c */
    if ((err = hcp_secrets_read(NULL, cfg->https_cert_file, "https.cert_file",
                                &front->tls.cert)) < 0 ||
        (err = hcp_secrets_read(NULL, cfg->https_key_file, "https.key_file", &front->tls.key)) < 0)
        return err;
    return hcp_secrets_read(NULL, cfg->https_client_ca_file, "https.client_ca_file",
                            &front->tls.client_ca);
}

/* One daemon per address: the http.listen ones plain, the https.listen ones with TLS. */
static int start_daemons(hcp_front_t *front)
{
    const hcc_config_t *cfg = front->proxy->cfg;
    size_t total = cfg->nlisten_addrs + cfg->nhttps_listen_addrs;
    int err = 0;

    for (size_t i = 0; i < total && err == 0; i++) {
        bool is_tls = i >= cfg->nlisten_addrs;
        const struct sockaddr_storage *ss =
            is_tls ? &cfg->https_listen_addrs[i - cfg->nlisten_addrs] : &cfg->listen_addrs[i];

        err = start_daemon(front, &front->daemons[i], (const struct sockaddr *)ss, is_tls);
        if (err == 0)
            front->ndaemons++;
        else
            hcp_log(HCC_LOG_ERROR, 0, "%s: cannot listen on address %zu",
                    is_tls ? "https.listen" : "http.listen",
                    is_tls ? i - cfg->nlisten_addrs + 1 : i + 1);
    }
    return err;
}

int hcp_front_new(hcp_proxy_t *proxy, hcp_front_t **out)
{
    const hcc_config_t *cfg = proxy->cfg;
    hcp_front_t *front = calloc(1, sizeof *front);
    int err;

    if (front == NULL)
        return UV_ENOMEM;
    front->proxy = proxy;
    front->daemons = calloc(cfg->nlisten_addrs + cfg->nhttps_listen_addrs, sizeof *front->daemons);
    if (front->daemons == NULL) {
        free(front);
        return UV_ENOMEM;
    }
    uv_idle_init(proxy->loop, &front->idle);
    if (proxy->upstream != NULL)
        hcp_upstream_on_batch(proxy->upstream, on_upstream_batch, front);
    uv_timer_init(proxy->loop, &front->sweep);
    uv_unref((uv_handle_t *)&front->sweep); /* never what keeps the loop alive */
    front->open_handles = 2;
    if ((err = load_tls(front)) < 0 || (err = start_daemons(front)) < 0) {
        hcp_front_close(front); /* the daemons started, the handles; |front| once they closed */
        return err;
    }
    *out = front;
    return 0;
}

/* The socket is libmicrohttpd's, but the request has been read whole and nothing of this
 * connection's is being written (the previous answer, if any, went out before the request was
 * read), so the bytes cannot interleave with libmicrohttpd's. The socket is non-blocking: a
 * client that does not read its previous answers may leave no room for these either, and is
 * then closed without one. shutdown() under libmicrohttpd as in on_sweep(): its next read sees
 * the end and it closes the connection. */
bool hcp_front_send_and_close(struct MHD_Connection *conn, const char *bytes, size_t len)
{
    const union MHD_ConnectionInfo *fd =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    const union MHD_ConnectionInfo *tls =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    ssize_t sent;

    if (fd == NULL)
        return false;
    if (tls != NULL && tls->tls_session != NULL) {
        sent = gnutls_record_send((gnutls_session_t)tls->tls_session, bytes, len);
        if (sent == (ssize_t)len)
            gnutls_bye((gnutls_session_t)tls->tls_session, GNUTLS_SHUT_WR); /* close_notify */
    } else {
        sent = send(fd->connect_fd, bytes, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    }
    shutdown(fd->connect_fd, SHUT_RDWR);
    return sent == (ssize_t)len;
}

bool hcp_front_is_tls(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);

    return info != NULL && info->tls_session != NULL;
}

/* https.client_ca_file (mutual TLS): a client on an HTTPS listener must have presented a
 * certificate that chains to one of those CAs and is valid now. */
int hcp_front_check_client(const hcp_front_t *front, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info;
    unsigned status = 0;

    if (front->tls.client_ca.bytes == NULL || !hcp_front_is_tls(conn))
        return 0;
    info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (gnutls_certificate_verify_peers2((gnutls_session_t)info->tls_session, &status) < 0 ||
        status != 0)
        return HCM_ECLIENTCERT;
    return 0;
}

bool hcp_front_listening(const hcp_front_t *front)
{
    const hcc_config_t *cfg;

    if (front == NULL || front->is_quiesced)
        return false;
    cfg = front->proxy->cfg;
    return front->ndaemons == cfg->nlisten_addrs + cfg->nhttps_listen_addrs;
}

void hcp_front_quiesce(hcp_front_t *front)
{
    front->is_quiesced = true;
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
    hcp_secrets_free(&front->tls.cert);
    hcp_secrets_free(&front->tls.key);
    hcp_secrets_free(&front->tls.client_ca);
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
    if (front->proxy->upstream != NULL) /* its answers have no daemon to run any more */
        hcp_upstream_on_batch(front->proxy->upstream, NULL, NULL);
    for (size_t i = 0; i < front->ndaemons; i++) {
        MHD_stop_daemon(front->daemons[i].daemon);
        close_handle(front, (uv_handle_t *)&front->daemons[i].poll);
        close_handle(front, (uv_handle_t *)&front->daemons[i].timer);
    }
    close_handle(front, (uv_handle_t *)&front->idle);
    close_handle(front, (uv_handle_t *)&front->sweep);
}

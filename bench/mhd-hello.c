/* mhd-hello: libmicrohttpd's "hello world" driven the way hcproxy drives libmicrohttpd, to give
 * the HTTP side's ceiling.
 *
 * Usage: mhd-hello [-A ADDRESS] [-p PORT] [-c MAX_CONNECTIONS]
 *
 * As in proxy/front.c: MHD_USE_EPOLL without an internal thread; a libuv uv_poll_t watches the
 * daemon's epoll fd and a uv_timer_t its MHD_get_timeout(), and each event runs the daemon once
 * and re-arms the timer. Every request is answered 200 "hello, world\n" (text/plain) with
 * keep-alive. The response is queued on the access handler's second call, never the first:
 * libmicrohttpd 0.9.75 closes the connection after a response queued on the first call.
 *
 * It prints "listening on http://ADDRESS:PORT/" and "ready" on stdout once it listens, and exits
 * on SIGTERM or SIGINT. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>
#include <uv.h>

/* Through void *: the member lies inside a |type|, so the result is aligned as |type| is. */
#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

static const char hello[] = "hello, world\n";

typedef struct hello_server {
    struct MHD_Daemon *daemon;
    struct MHD_Response *response; /* one for all requests: libmicrohttpd counts its users */
    uv_poll_t poll;
    uv_timer_t timer;
    uv_signal_t sigterm, sigint;
} hello_server_t;

static void on_timer(uv_timer_t *timer);

static void step(hello_server_t *s)
{
    MHD_UNSIGNED_LONG_LONG ms;

    MHD_run(s->daemon); /* external epoll mode: never blocks */
    if (MHD_get_timeout(s->daemon, &ms) == MHD_YES)
        uv_timer_start(&s->timer, on_timer, ms, 0);
    else
        uv_timer_stop(&s->timer);
}

static void on_timer(uv_timer_t *timer)
{
    step(container_of(timer, hello_server_t, timer));
}

static void on_io(uv_poll_t *poll, int status, int events)
{
    (void)status;
    (void)events;
    step(container_of(poll, hello_server_t, poll));
}

static void on_signal(uv_signal_t *signal, int signum)
{
    (void)signum;
    uv_stop(signal->loop);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    static int marker;
    hello_server_t *s = cls;

    (void)url;
    (void)method;
    (void)version;
    (void)upload_data;
    if (*req_cls == NULL) { /* the headers are in: answer on a later call */
        *req_cls = &marker;
        return MHD_YES;
    }
    if (*upload_data_size != 0) { /* a body is read and dropped */
        *upload_data_size = 0;
        return MHD_YES;
    }
    return MHD_queue_response(conn, MHD_HTTP_OK, s->response);
}

int main(int argc, char **argv)
{
    const char *address = "127.0.0.1";
    unsigned port = 8080, max_connections = 20000;
    struct sockaddr_in sin = {.sin_family = AF_INET};
    hello_server_t s = {0};
    const union MHD_DaemonInfo *info;
    uv_loop_t *loop = uv_default_loop();
    int opt;

    while ((opt = getopt(argc, argv, "A:p:c:h")) != -1) {
        switch (opt) {
        case 'A': address = optarg; break;
        case 'p': port = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'c': max_connections = (unsigned)strtoul(optarg, NULL, 10); break;
        default:
            fprintf(stderr, "usage: mhd-hello [-A IPV4-ADDRESS] [-p PORT] [-c MAX_CONNECTIONS]\n");
            return 2;
        }
    }
    if (inet_pton(AF_INET, address, &sin.sin_addr) != 1 || port > 65535) {
        fprintf(stderr, "mhd-hello: bad address or port\n");
        return 2;
    }
    sin.sin_port = htons((uint16_t)port);
    s.response = MHD_create_response_from_buffer(sizeof hello - 1, (void *)hello,
                                                 MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(s.response, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
    /* The flags and limits of proxy/front.c: suspend/resume allowed (hcproxy suspends each
     * connection while its CoAP exchange runs; here none is), 16 KiB per connection. */
    s.daemon = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0,
                                NULL, NULL, on_request, &s, MHD_OPTION_SOCK_ADDR,
                                (struct sockaddr *)&sin, MHD_OPTION_CONNECTION_LIMIT,
                                max_connections, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
                                MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384,
                                MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_END);
    if (s.daemon == NULL) {
        fprintf(stderr, "mhd-hello: cannot start libmicrohttpd on %s:%u\n", address, port);
        return 1;
    }
    info = MHD_get_daemon_info(s.daemon, MHD_DAEMON_INFO_EPOLL_FD);
    uv_poll_init(loop, &s.poll, info->epoll_fd);
    uv_poll_start(&s.poll, UV_READABLE, on_io);
    uv_timer_init(loop, &s.timer);
    uv_signal_init(loop, &s.sigterm);
    uv_signal_start(&s.sigterm, on_signal, SIGTERM);
    uv_signal_init(loop, &s.sigint);
    uv_signal_start(&s.sigint, on_signal, SIGINT);
    info = MHD_get_daemon_info(s.daemon, MHD_DAEMON_INFO_BIND_PORT);
    printf("listening on http://%s:%u/\nready\n", address, info->port);
    fflush(stdout);

    step(&s);
    uv_run(loop, UV_RUN_DEFAULT);

    MHD_stop_daemon(s.daemon);
    MHD_destroy_response(s.response);
    return 0;
}

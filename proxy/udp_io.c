/* A UDP socket read with recvmmsg() and written with sendmmsg() (udp_io.h). */
#include "udp_io.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "container_of.h"
#include "hcc.h"
#include "hcm.h"
#include "log.h"
#include "sockaddr.h"

/* Batches read in one readiness at most, so that one busy socket does not hold the loop; the
 * poll is level-triggered, so what is left is read on the next pass. */
#define MAX_BATCHES_PER_READINESS 4
#define MAX_DATAGRAM_READ 65536        /* a UDP payload is less */
#define QUEUE_BYTES (16 * 1024)        /* a larger datagram is sent on its own */

typedef union peer_address {
    struct sockaddr sa;
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
} peer_address_t;

/* What one loop pass sent to one socket, until its sendmmsg(). Allocated by the first datagram
 * of a pass and freed by the flush, so an idle socket holds none. */
typedef struct send_queue {
    unsigned n;
    size_t used;
    struct mmsghdr msgs[HCP_UDP_IO_BATCH];
    struct iovec iov[HCP_UDP_IO_BATCH];
    peer_address_t to[HCP_UDP_IO_BATCH];
    uint8_t bytes[QUEUE_BYTES];
} send_queue_t;

struct hcp_udp_io {
    uv_poll_t poll;
    uv_check_t after_poll;     /* flushes what the poll phase's callbacks sent */
    uv_prepare_t before_poll;  /* flushes what timers and idle callbacks sent */
    int fd;
    bool is_connected;
    bool is_closing;
    bool is_refused;           /* a send met ECONNREFUSED: reported after the flush */
    bool has_sent_this_pass;   /* the pass's first datagram went out at once */
    int open_handles;          /* freed at 0 */
    send_queue_t *queue;
    hcp_udp_io_recv_cb on_recv;
    void *data;
    const char *who;
};

/* The receive side's buffers, one set for every socket: the loop reads one socket at a time, and
 * a datagram is handed on during the callback only. Pages are touched only as datagrams fill
 * them, so the 2 MiB cost their first page per slot in use. */
static struct {
    struct mmsghdr msgs[HCP_UDP_IO_BATCH];
    struct iovec iov[HCP_UDP_IO_BATCH];
    struct sockaddr_storage from[HCP_UDP_IO_BATCH];
    uint8_t bytes[HCP_UDP_IO_BATCH][MAX_DATAGRAM_READ];
} rx;

static void schedule_flush(hcp_udp_io_t *io);

/* ---- sending ---------------------------------------------------------------------------------- */

static void note_not_sent(hcp_udp_io_t *io, size_t len, int err)
{
    if (err == ECONNREFUSED) {
        io->is_refused = true; /* reported by the check or prepare callback, not from in here */
        schedule_flush(io);
        return;
    }
    hcp_log(HCC_LOG_DEBUG, 0, "%s: a datagram of %zu bytes not sent: %s", io->who, len,
            strerror(err));
}

/* Every queued datagram, in order, with as few sendmmsg() as the kernel allows: one, unless it
 * refuses one of them, which is then dropped. */
static void flush(hcp_udp_io_t *io)
{
    send_queue_t *q = io->queue;
    unsigned i = 0;

    if (q == NULL)
        return;
    io->queue = NULL;
    while (i < q->n) {
        int sent = sendmmsg(io->fd, q->msgs + i, q->n - i, 0);
        if (sent > 0) {
            i += (unsigned)sent;
        } else if (sent < 0 && errno == EINTR) {
            continue;
        } else {
            note_not_sent(io, q->iov[i].iov_len, sent < 0 ? errno : EIO);
            i++;
        }
    }
    free(q);
}

static void send_alone(hcp_udp_io_t *io, const struct sockaddr *to, const uint8_t *dgram,
                       size_t len)
{
    ssize_t sent;

    do
        sent = sendto(io->fd, dgram, len, 0, io->is_connected ? NULL : to,
                      io->is_connected ? 0 : (socklen_t)hcp_sockaddr_len(to));
    while (sent < 0 && errno == EINTR);
    if (sent < 0)
        note_not_sent(io, len, errno);
}

/* The pass's queue, begun by its second datagram; NULL for want of memory. */
static send_queue_t *queue_of(hcp_udp_io_t *io)
{
    if (io->queue == NULL && (io->queue = malloc(sizeof *io->queue)) != NULL) {
        io->queue->n = 0;
        io->queue->used = 0;
        schedule_flush(io);
    }
    return io->queue;
}

static void enqueue(send_queue_t *q, const struct sockaddr *to, size_t to_len,
                    const uint8_t *dgram, size_t len)
{
    struct mmsghdr *m = &q->msgs[q->n];

    memcpy(q->bytes + q->used, dgram, len);
    q->iov[q->n] = (struct iovec){.iov_base = q->bytes + q->used, .iov_len = len};
    m->msg_hdr = (struct msghdr){.msg_iov = &q->iov[q->n], .msg_iovlen = 1};
    if (to_len > 0) {
        memcpy(&q->to[q->n], to, to_len);
        m->msg_hdr.msg_name = &q->to[q->n];
        m->msg_hdr.msg_namelen = (socklen_t)to_len;
    }
    q->used += len;
    q->n++;
}

void hcp_udp_io_send(hcp_udp_io_t *io, const struct sockaddr *to, const uint8_t *dgram,
                     size_t len)
{
    size_t to_len = io->is_connected ? 0 : hcp_sockaddr_len(to);
    send_queue_t *q = io->queue;

    if (io->is_closing || (!io->is_connected && (to_len == 0 || to_len > sizeof q->to[0]))) {
        hcp_log(HCC_LOG_DEBUG, 0, "%s: a datagram of %zu bytes not sent: no address", io->who,
                len);
        return;
    }
    if (q != NULL && (q->n == HCP_UDP_IO_BATCH || q->used + len > QUEUE_BYTES))
        flush(io); /* full: what is queued goes first, in order */
    if (len > QUEUE_BYTES || (io->queue == NULL && !io->has_sent_this_pass)) {
        /* The first of a pass goes at once: when a pass sends one datagram (NSTART 1, a lone
         * request), waiting for the pass's end would add the rest of the pass to every round
         * trip; the ones that follow it share one sendmmsg(). */
        io->has_sent_this_pass = true;
        schedule_flush(io);
        send_alone(io, to, dgram, len);
    } else if ((q = queue_of(io)) != NULL) {
        enqueue(q, to, to_len, dgram, len);
    } else {
        send_alone(io, to, dgram, len);
    }
}

/* ---- the end of a loop pass ------------------------------------------------------------------- */

static void end_of_pass(hcp_udp_io_t *io)
{
    flush(io);
    io->has_sent_this_pass = false;
    uv_check_stop(&io->after_poll);
    uv_prepare_stop(&io->before_poll);
    if (io->is_refused && !io->is_closing) {
        io->is_refused = false;
        io->on_recv(io, HCP_UDP_IO_REFUSED, NULL, 0, NULL);
    }
}

static void on_after_poll(uv_check_t *check)
{
    end_of_pass(hcp_container_of(check, hcp_udp_io_t, after_poll));
}

static void on_before_poll(uv_prepare_t *prepare)
{
    end_of_pass(hcp_container_of(prepare, hcp_udp_io_t, before_poll));
}

static void schedule_flush(hcp_udp_io_t *io)
{
    if (!uv_is_active((uv_handle_t *)&io->after_poll)) {
        uv_check_start(&io->after_poll, on_after_poll);
        uv_prepare_start(&io->before_poll, on_before_poll);
    }
}

/* ---- receiving -------------------------------------------------------------------------------- */

/* One recvmmsg(): the number of datagrams in rx, 0 when none waits, or a negative errno. */
static int receive_batch(hcp_udp_io_t *io)
{
    int n;

    for (unsigned i = 0; i < HCP_UDP_IO_BATCH; i++) {
        rx.iov[i] = (struct iovec){.iov_base = rx.bytes[i], .iov_len = sizeof rx.bytes[i]};
        rx.msgs[i].msg_hdr = (struct msghdr){.msg_name = &rx.from[i],
                                             .msg_namelen = sizeof rx.from[i],
                                             .msg_iov = &rx.iov[i], .msg_iovlen = 1};
    }
    do
        n = recvmmsg(io->fd, rx.msgs, HCP_UDP_IO_BATCH, 0, NULL);
    while (n < 0 && errno == EINTR);
    if (n >= 0)
        return n;
    return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
}

static void deliver_batch(hcp_udp_io_t *io, int n)
{
    for (int i = 0; i < n && !io->is_closing; i++) {
        const struct msghdr *h = &rx.msgs[i].msg_hdr;
        hcp_udp_io_recv_t kind = (h->msg_flags & MSG_TRUNC) ? HCP_UDP_IO_TRUNCATED
                                                             : HCP_UDP_IO_DATAGRAM;
        if (rx.msgs[i].msg_len == 0)
            continue; /* an empty datagram is no CoAP message (RFC 7252 s3) */
        io->on_recv(io, kind, rx.bytes[i], rx.msgs[i].msg_len,
                    h->msg_namelen > 0 ? (const struct sockaddr *)&rx.from[i] : NULL);
    }
}

static void on_readable(uv_poll_t *poll, int status, int events)
{
    hcp_udp_io_t *io = hcp_container_of(poll, hcp_udp_io_t, poll);

    (void)events;
    for (int batch = 0; batch < MAX_BATCHES_PER_READINESS && !io->is_closing; batch++) {
        int n = receive_batch(io);
        if (n == -ECONNREFUSED) { /* the socket's pending error, taken: datagrams may follow */
            io->on_recv(io, HCP_UDP_IO_REFUSED, NULL, 0, NULL);
            continue;
        }
        if (n < 0) {
            hcp_log(HCC_LOG_WARN, 0, "%s: receiving: %s", io->who, strerror(-n));
            break;
        }
        deliver_batch(io, n);
        if (n < HCP_UDP_IO_BATCH)
            break; /* short: the socket is empty */
    }
    /* libuv stops a uv_poll on POLLERR, which an ICMP error on the socket raises: the error was
     * read above, so the socket is watched again. */
    if (status < 0 && !io->is_closing)
        uv_poll_start(&io->poll, UV_READABLE, on_readable);
    if (io->is_closing)
        return;
    io->on_recv(io, HCP_UDP_IO_DRAINED, NULL, 0, NULL);
    /* What the batch's datagrams sent back (ACKs; with NSTART 1, the next request to the server
     * that just answered) leaves now rather than after the rest of the poll phase, so that the
     * peer works while the loop does. */
    if (!io->is_closing)
        flush(io);
}

/* ---- life ------------------------------------------------------------------------------------- */

static int open_socket(const hcp_udp_io_config_t *cfg, int *fd_out)
{
    const struct sockaddr *family_of = cfg->bind != NULL ? cfg->bind : cfg->connect;
    int fd, size = cfg->receive_buffer;

    if (family_of == NULL)
        return UV_EINVAL;
    fd = socket(family_of->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if ((cfg->bind != NULL && bind(fd, cfg->bind, (socklen_t)hcp_sockaddr_len(cfg->bind)) < 0) ||
        (cfg->connect != NULL &&
         connect(fd, cfg->connect, (socklen_t)hcp_sockaddr_len(cfg->connect)) < 0)) {
        int err = -errno;
        close(fd);
        return err;
    }
    if (size > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size) < 0)
        hcp_log(HCC_LOG_WARN, 0, "%s: SO_RCVBUF %d refused", cfg->who, size);
    *fd_out = fd;
    return 0;
}

int hcp_udp_io_open(uv_loop_t *loop, const hcp_udp_io_config_t *cfg, hcp_udp_io_t **out)
{
    hcp_udp_io_t *io = calloc(1, sizeof *io);
    int err;

    if (io == NULL)
        return UV_ENOMEM;
    if ((err = open_socket(cfg, &io->fd)) < 0)
        goto fail_socket;
    if ((err = uv_poll_init_socket(loop, &io->poll, io->fd)) < 0)
        goto fail_poll;
    io->is_connected = cfg->connect != NULL;
    io->on_recv = cfg->on_recv;
    io->data = cfg->data;
    io->who = cfg->who;
    uv_check_init(loop, &io->after_poll);
    uv_prepare_init(loop, &io->before_poll);
    io->open_handles = 3;
    uv_poll_start(&io->poll, UV_READABLE, on_readable);
    *out = io;
    return 0;
fail_poll:
    close(io->fd);
fail_socket:
    free(io);
    return err;
}

int hcp_udp_io_local(const hcp_udp_io_t *io, struct sockaddr_storage *out)
{
    socklen_t len = sizeof *out;

    return getsockname(io->fd, (struct sockaddr *)out, &len) < 0 ? -errno : 0;
}

void *hcp_udp_io_data(const hcp_udp_io_t *io)
{
    return io->data;
}

static void on_handle_closed(uv_handle_t *handle)
{
    hcp_udp_io_t *io = handle->data;

    if (--io->open_handles > 0)
        return;
    close(io->fd);
    free(io);
}

void hcp_udp_io_close(hcp_udp_io_t *io)
{
    uv_handle_t *handles[] = {(uv_handle_t *)&io->poll, (uv_handle_t *)&io->after_poll,
                              (uv_handle_t *)&io->before_poll};

    flush(io);
    io->is_closing = true;
    for (size_t i = 0; i < HCM_COUNTOF(handles); i++) {
        handles[i]->data = io;
        uv_close(handles[i], on_handle_closed);
    }
}

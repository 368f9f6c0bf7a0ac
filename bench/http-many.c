/* http-many: opens many HTTP/1.1 connections at once, one GET on each, for the memory and the
 * many-exchanges-in-flight rows of bench/run (wrk cannot hold 10,000 requests in flight, nor
 * keep connections idle).
 *
 * Usage: http-many [-A ADDRESS] -p PORT -n CONNECTIONS [-u PATH] [-k] [-b BATCH] [-w MS]
 *                  [-W WINDOW] [-T SECONDS]
 *   -u  the request target (default /)
 *   -k  keep every connection open and idle once answered: print the result line, then wait for
 *       SIGTERM (the server's memory is measured meanwhile)
 *   -b  connections opened at a time (default 50), -w milliseconds between batches (default 5):
 *       a listen backlog overflowing would cost the dropped SYNs a 1 s retransmission each
 *   -W  never more than WINDOW connections opened and not yet answered (default: no limit): for
 *       reaching many idle connections without overrunning a slow server's listen backlog
 *   -T  give up on the answers after this many seconds (default 30)
 *
 * It raises its own RLIMIT_NOFILE to the hard limit, and prints one line:
 *   http-many: n=N ok=OK non2xx=X errors=E unanswered=U elapsed_ms=T min_ms=A p50_ms=B
 *   p99_ms=C max_ms=D
 * where ok counts 2xx answers, elapsed runs from the first request sent to the last answer read,
 * and the latencies run from each request's write to its complete answer. It exits 0 when every
 * answer was 2xx. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define INBUF 2048

enum { C_CONNECTING, C_READING, C_DONE, C_FAILED };

typedef struct conn {
    int fd;
    int state;
    unsigned status;
    uint64_t sent_ns, done_ns;
    size_t inlen;
    size_t header_len;     /* 0 until the blank line is in */
    long long body_left;   /* once the headers are in */
    char in[INBUF];
} conn_t;

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* The Content-Length of a complete header block, or 0 when it has none. */
static long long content_length(const char *head, size_t len)
{
    static const char name[] = "\ncontent-length:";

    for (size_t i = 0; i + sizeof name - 1 < len; i++)
        if (strncasecmp(head + i, name, sizeof name - 1) == 0)
            return strtoll(head + i + sizeof name - 1, NULL, 10);
    return 0;
}

/* Takes |n| more bytes: true once the whole answer is in. */
static bool take(conn_t *c, size_t n)
{
    if (c->header_len == 0) {
        char *end;
        c->inlen += n;
        c->in[c->inlen] = '\0';
        end = strstr(c->in, "\r\n\r\n");
        if (end == NULL)
            return false;
        c->header_len = (size_t)(end - c->in) + 4;
        c->status = (unsigned)strtoul(c->in + 9, NULL, 10); /* "HTTP/1.1 200" */
        c->body_left = content_length(c->in, c->header_len) - (long long)(c->inlen - c->header_len);
    } else {
        c->body_left -= (long long)n;
    }
    return c->body_left <= 0;
}

int main(int argc, char **argv)
{
    const char *address = "127.0.0.1", *path = "/";
    unsigned port = 0, n = 0, batch = 50, wait_ms = 5, timeout_s = 30, window = 0;
    bool is_keep = false;
    struct sockaddr_in sin = {.sin_family = AF_INET};
    struct rlimit rl;
    char request[1024];
    int reqlen, ep, opt;
    conn_t *conns;
    uint64_t first_sent = 0, last_done = 0, next_batch = 0, deadline;
    unsigned opened = 0, finished = 0, ok = 0, non2xx = 0, errors = 0;
    struct epoll_event evs[256];
    uint64_t *lat;
    size_t nlat = 0;

    while ((opt = getopt(argc, argv, "A:p:n:u:kb:w:W:T:h")) != -1) {
        switch (opt) {
        case 'A': address = optarg; break;
        case 'p': port = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'n': n = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'u': path = optarg; break;
        case 'k': is_keep = true; break;
        case 'b': batch = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'w': wait_ms = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'W': window = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'T': timeout_s = (unsigned)strtoul(optarg, NULL, 10); break;
        default: goto usage;
        }
    }
    if (optind != argc || port == 0 || port > 65535 || n == 0 || batch == 0 ||
        inet_pton(AF_INET, address, &sin.sin_addr) != 1)
        goto usage;
    sin.sin_port = htons((uint16_t)port);
    signal(SIGPIPE, SIG_IGN);
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    reqlen = snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: %s:%u\r\n\r\n", path,
                      address, port);
    conns = calloc(n, sizeof *conns);
    lat = calloc(n, sizeof *lat);
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (conns == NULL || lat == NULL || ep < 0 || reqlen >= (int)sizeof request) {
        perror("http-many");
        return 1;
    }

    deadline = now_ns() + (uint64_t)timeout_s * 1000000000ull;
    while (finished < n && now_ns() < deadline) {
        uint64_t now = now_ns();
        int nev;

        if (opened < n && now >= next_batch) {
            for (unsigned k = 0; k < batch && opened < n && (window == 0 || opened - finished < window);
                 k++, opened++) {
                conn_t *c = &conns[opened];
                struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.u32 = opened};
                c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
                if (c->fd < 0 || (connect(c->fd, (struct sockaddr *)&sin, sizeof sin) < 0 &&
                                  errno != EINPROGRESS)) {
                    if (c->fd < 0)
                        perror("http-many: socket");
                    c->state = C_FAILED;
                    errors++;
                    finished++;
                    continue;
                }
                epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
            }
            next_batch = now + (uint64_t)wait_ms * 1000000ull;
        }
        nev = epoll_wait(ep, evs, 256, opened < n ? 1 : 100);
        now = now_ns();
        for (int i = 0; i < nev; i++) {
            conn_t *c = &conns[evs[i].data.u32];
            bool is_failed = false;

            if (c->state == C_CONNECTING && (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
                int err = 0;
                socklen_t len = sizeof err;
                struct epoll_event ev = {.events = EPOLLIN, .data.u32 = evs[i].data.u32};
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
                if (err != 0 || write(c->fd, request, (size_t)reqlen) != reqlen) {
                    is_failed = true;
                } else {
                    c->sent_ns = now;
                    if (first_sent == 0)
                        first_sent = now;
                    c->state = C_READING;
                    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                    continue;
                }
            } else if (c->state == C_READING) {
                ssize_t got = read(c->fd, c->in + (c->header_len ? 0 : c->inlen),
                                   c->header_len ? INBUF : INBUF - 1 - c->inlen);
                if (got < 0 && (errno == EAGAIN || errno == EINTR))
                    continue;
                if (got <= 0 || (c->header_len == 0 && c->inlen + (size_t)got >= INBUF - 1)) {
                    is_failed = true;
                } else if (take(c, (size_t)got)) {
                    c->state = C_DONE;
                    c->done_ns = now;
                    last_done = now;
                    lat[nlat++] = now - c->sent_ns;
                    finished++;
                    if (c->status >= 200 && c->status < 300)
                        ok++;
                    else
                        non2xx++;
                    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                    if (!is_keep)
                        close(c->fd);
                    continue;
                }
            } else {
                continue;
            }
            if (is_failed) {
                c->state = C_FAILED;
                errors++;
                finished++;
                epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                close(c->fd);
            }
        }
    }

    qsort(lat, nlat, sizeof *lat, compare_u64);
#define PCT(q) (nlat ? (double)lat[(size_t)((double)(nlat - 1) * (q))] / 1e6 : 0.0)
    printf("http-many: n=%u ok=%u non2xx=%u errors=%u unanswered=%u elapsed_ms=%.1f min_ms=%.1f "
           "p50_ms=%.1f p99_ms=%.1f max_ms=%.1f\n",
           n, ok, non2xx, errors, n - finished,
           last_done > first_sent ? (double)(last_done - first_sent) / 1e6 : 0.0, PCT(0.0),
           PCT(0.5), PCT(0.99), PCT(1.0));
    fflush(stdout);
    if (is_keep)
        for (;;)
            pause(); /* SIGTERM ends it; the kernel closes the connections */
    return ok == n ? 0 : 1;
usage:
    fprintf(stderr, "usage: http-many [-A IPV4-ADDRESS] -p PORT -n CONNECTIONS [-u PATH] [-k] "
                    "[-b BATCH] [-w MS] [-W WINDOW] [-T SECONDS]\n");
    return 2;
}

/* coap-load: a CoAP load generator that keeps N requests in flight for D seconds.
 *
 * Usage: coap-load [-A ADDRESS] [-p PORT] [-c INFLIGHT] [-d SECONDS] [-t THREADS] [-u PATH[?QUERY]]
 *                  [-N] [-o]
 *   -c  requests kept in flight, spread over the threads (default 100)
 *   -d  seconds to run (default 5)
 *   -t  threads, each with its own UDP socket (default 1)
 *   -u  Uri-Path segments and Uri-Query parts, as in a URI (default "hello")
 *   -N  send NON requests instead of CON
 *   -o  send the OSCORE shape instead: POST, OSCORE option 09 14, a 13-byte ciphertext, no path
 *
 * Raw UDP rather than libcoap: it measures a server's ceiling, so it must cost less per request
 * than the server it drives. Each in-flight request owns a slot; its token is the slot index and a
 * generation, so a late answer to a request that was given up on is recognised and dropped. An
 * answer is sent back on its slot at once (recvmmsg/sendmmsg in batches). A request unanswered
 * after 1 s counts as lost and is sent anew. Separate responses work: an empty ACK is noted, and a
 * CON answer is acknowledged.
 *
 * It prints one line:
 *   coap-load: inflight=N threads=T seconds=S requests=R rps=X p50_ms=A p99_ms=B max_ms=C
 *   non2xx=E lost=L
 * and exits 0 when every answer was 2.xx and nothing was lost, 1 otherwise. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define DGRAM_MAX 1536
#define REQ_MAX 512
#define HIST_US 1000000 /* latencies up to 1 s at 1 us resolution; longer ones in the last bucket */
#define LOST_NS 1000000000ull

typedef union peer {
    struct sockaddr sa;
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
} peer_t;

typedef struct slot {
    uint64_t sent_ns;
    uint32_t gen;
} slot_t;

typedef struct options {
    peer_t server;
    socklen_t server_len;
    unsigned inflight, threads;
    double seconds;
    bool use_non, use_oscore;
    uint8_t opts[REQ_MAX]; /* the encoded options (and payload) after the token */
    size_t opts_len;
} options_t;

typedef struct worker {
    const options_t *o;
    pthread_t thread;
    unsigned nslots;
    slot_t *slots;
    uint32_t *hist;
    uint16_t next_mid;
    unsigned long long requests, non2xx, lost;
    uint64_t max_ns;
    int fd;
    /* outgoing batch */
    struct mmsghdr out[BATCH];
    struct iovec outiov[BATCH];
    uint8_t outbuf[BATCH][REQ_MAX + 16];
    unsigned nout;
} worker_t;

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- request encoding -------------------------------------------------------------------- */

/* Appends option |number| after |*last| (RFC 7252 s3.1): delta and length, extended as needed. */
static int put_option(uint8_t *b, size_t *pos, size_t cap, unsigned *last, unsigned number,
                      const void *value, size_t len)
{
    unsigned delta = number - *last;
    uint8_t ext[4];
    size_t next = 0;
    unsigned dn, ln;

    if (len > 268 || *pos + 5 + len > cap)
        return -1;
    dn = delta < 13 ? delta : delta < 269 ? 13 : 14;
    if (dn == 13)
        ext[next++] = (uint8_t)(delta - 13);
    else if (dn == 14) {
        ext[next++] = (uint8_t)((delta - 269) >> 8);
        ext[next++] = (uint8_t)(delta - 269);
    }
    ln = len < 13 ? (unsigned)len : 13;
    if (ln == 13)
        ext[next++] = (uint8_t)(len - 13);
    b[(*pos)++] = (uint8_t)(dn << 4 | ln);
    memcpy(b + *pos, ext, next);
    *pos += next;
    memcpy(b + *pos, value, len);
    *pos += len;
    *last = number;
    return 0;
}

/* Encodes "a/b?x=1&y" as Uri-Path options then Uri-Query options. */
static int encode_target(options_t *o, const char *target)
{
    const char *query = strchr(target, '?');
    const char *end = query ? query : target + strlen(target);
    unsigned last = 0;
    size_t pos = 0;

    while (*target == '/')
        target++;
    while (target < end) {
        const char *slash = memchr(target, '/', (size_t)(end - target));
        const char *seg_end = slash ? slash : end;
        if (put_option(o->opts, &pos, sizeof o->opts, &last, 11, target,
                       (size_t)(seg_end - target)) < 0)
            return -1;
        target = slash ? slash + 1 : end;
    }
    while (query != NULL) {
        const char *part = query + 1, *amp = strchr(part, '&');
        size_t len = amp ? (size_t)(amp - part) : strlen(part);
        if (put_option(o->opts, &pos, sizeof o->opts, &last, 15, part, len) < 0)
            return -1;
        query = amp;
    }
    o->opts_len = pos;
    return 0;
}

/* RFC 8613 Appendix C.4: OSCORE option 09 14 and the request's 13-byte ciphertext. */
static void encode_oscore(options_t *o)
{
    static const uint8_t value[] = {0x09, 0x14};
    static const uint8_t ct[] = {0x61, 0x2f, 0x10, 0x92, 0xf1, 0x77, 0x6f,
                                 0x1c, 0x16, 0x68, 0xb3, 0x82, 0x5e};
    unsigned last = 0;
    size_t pos = 0;

    put_option(o->opts, &pos, sizeof o->opts, &last, 9, value, sizeof value);
    o->opts[pos++] = 0xff;
    memcpy(o->opts + pos, ct, sizeof ct);
    o->opts_len = pos + sizeof ct;
}

/* ---- one worker -------------------------------------------------------------------------- */

static void flush(worker_t *w)
{
    unsigned done = 0;

    while (done < w->nout) {
        int n = sendmmsg(w->fd, w->out + done, w->nout - done, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == ENOBUFS) {
                struct pollfd p = {.fd = w->fd, .events = POLLOUT};
                poll(&p, 1, 1);
                continue;
            }
            if (errno == ECONNREFUSED)
                continue; /* an ICMP error from an earlier datagram; this one was not sent */
            perror("coap-load: sendmmsg");
            break;
        }
        done += (unsigned)n;
    }
    w->nout = 0;
}

static void queue_raw(worker_t *w, const uint8_t *msg, size_t len)
{
    if (w->nout == BATCH)
        flush(w);
    memcpy(w->outbuf[w->nout], msg, len);
    w->outiov[w->nout].iov_len = len;
    w->nout++;
}

static void send_request(worker_t *w, uint32_t i, uint64_t now)
{
    const options_t *o = w->o;
    uint8_t *b;
    uint16_t mid = w->next_mid++;
    uint32_t gen = ++w->slots[i].gen;

    if (w->nout == BATCH)
        flush(w);
    b = w->outbuf[w->nout];
    b[0] = (uint8_t)(0x40 | (o->use_non ? 1 : 0) << 4 | 8);
    b[1] = o->use_oscore ? 0x02 : 0x01; /* POST : GET */
    b[2] = (uint8_t)(mid >> 8);
    b[3] = (uint8_t)mid;
    memcpy(b + 4, &i, 4);
    memcpy(b + 8, &gen, 4);
    memcpy(b + 12, o->opts, o->opts_len);
    w->outiov[w->nout].iov_len = 12 + o->opts_len;
    w->nout++;
    w->slots[i].sent_ns = now;
}

static void on_datagram(worker_t *w, const uint8_t *p, size_t n, uint64_t now, bool is_counting)
{
    unsigned type, tkl, code;
    uint32_t i, gen;
    uint64_t ns;

    if (n < 4 || p[0] >> 6 != 1)
        return;
    type = (p[0] >> 4) & 3;
    tkl = p[0] & 15;
    code = p[1];
    if (type == 0) { /* a CON (separate) response: acknowledge it */
        uint8_t ack[4] = {0x60, 0x00, p[2], p[3]};
        queue_raw(w, ack, sizeof ack);
    }
    if (code == 0 || tkl != 8 || n < 12)
        return; /* an empty ACK (the answer comes separately) or RST, or not ours */
    memcpy(&i, p + 4, 4);
    memcpy(&gen, p + 8, 4);
    if (i >= w->nslots || w->slots[i].gen != gen)
        return; /* a late answer to a request given up on */
    ns = now - w->slots[i].sent_ns;
    if (is_counting) {
        uint64_t us = ns / 1000;
        w->hist[us < HIST_US ? us : HIST_US]++;
        w->requests++;
        if (code >> 5 != 2)
            w->non2xx++;
        if (ns > w->max_ns)
            w->max_ns = ns;
    }
    send_request(w, i, now);
}

static void *run_worker(void *arg)
{
    worker_t *w = arg;
    const options_t *o = w->o;
    static __thread uint8_t bufs[BATCH][DGRAM_MAX];
    struct mmsghdr in[BATCH];
    struct iovec iov[BATCH];
    uint64_t start = now_ns(), end = start + (uint64_t)(o->seconds * 1e9), next_check = start;
    struct pollfd pfd = {.fd = w->fd, .events = POLLIN};

    for (unsigned i = 0; i < BATCH; i++) {
        iov[i] = (struct iovec){.iov_base = bufs[i], .iov_len = DGRAM_MAX};
        in[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1};
    }
    for (uint32_t i = 0; i < w->nslots; i++)
        send_request(w, i, start);
    flush(w);
    for (;;) {
        uint64_t now = now_ns();
        int n;

        if (now >= end)
            break;
        if (now >= next_check) { /* resend what has waited too long */
            for (uint32_t i = 0; i < w->nslots; i++) {
                if (now - w->slots[i].sent_ns > LOST_NS) {
                    w->lost++;
                    send_request(w, i, now);
                }
            }
            flush(w);
            next_check = now + 100000000ull;
        }
        n = recvmmsg(w->fd, in, BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0) {
            if (n < 0 && errno != EAGAIN && errno != EINTR && errno != ECONNREFUSED) {
                perror("coap-load: recvmmsg");
                break;
            }
            poll(&pfd, 1, 10);
            continue;
        }
        now = now_ns();
        for (int k = 0; k < n; k++)
            on_datagram(w, bufs[k], in[k].msg_len, now, true);
        flush(w);
    }
    return NULL;
}

static int open_socket(const options_t *o)
{
    int fd = socket(o->server.sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int size = 4 << 20;

    if (fd < 0)
        return -1;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) < 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    if (connect(fd, &o->server.sa, o->server_len) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* ---- results ----------------------------------------------------------------------------- */

static double percentile_ms(const uint32_t *hist, unsigned long long total, double q)
{
    unsigned long long want = (unsigned long long)(q * (double)total + 0.5), seen = 0;

    if (want == 0)
        want = 1;
    for (unsigned us = 0; us <= HIST_US; us++) {
        seen += hist[us];
        if (seen >= want)
            return (us + 0.5) / 1000.0;
    }
    return HIST_US / 1000.0;
}

static void usage(void)
{
    fprintf(stderr, "usage: coap-load [-A ADDRESS] [-p PORT] [-c INFLIGHT] [-d SECONDS] "
                    "[-t THREADS] [-u PATH[?QUERY]] [-N] [-o]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    options_t o = {.inflight = 100, .threads = 1, .seconds = 5};
    const char *address = "127.0.0.1", *target = "hello";
    unsigned port = 5683;
    unsigned long long requests = 0, non2xx = 0, lost = 0;
    uint64_t max_ns = 0;
    uint32_t *hist;
    worker_t *workers;
    int opt;

    while ((opt = getopt(argc, argv, "A:p:c:d:t:u:Noh")) != -1) {
        switch (opt) {
        case 'A': address = optarg; break;
        case 'p': port = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'c': o.inflight = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'd': o.seconds = strtod(optarg, NULL); break;
        case 't': o.threads = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'u': target = optarg; break;
        case 'N': o.use_non = true; break;
        case 'o': o.use_oscore = true; break;
        default: usage();
        }
    }
    if (optind != argc || port == 0 || port > 65535 || o.threads == 0 ||
        o.inflight < o.threads || !(o.seconds > 0))
        usage();
    if (inet_pton(AF_INET6, address, &o.server.in6.sin6_addr) == 1) {
        o.server.in6.sin6_family = AF_INET6;
        o.server.in6.sin6_port = htons((uint16_t)port);
        o.server_len = sizeof o.server.in6;
    } else if (inet_pton(AF_INET, address, &o.server.in.sin_addr) == 1) {
        o.server.in.sin_family = AF_INET;
        o.server.in.sin_port = htons((uint16_t)port);
        o.server_len = sizeof o.server.in;
    } else {
        fprintf(stderr, "coap-load: not an IP address: %s\n", address);
        return 2;
    }
    if (o.use_oscore)
        encode_oscore(&o);
    else if (encode_target(&o, target) < 0) {
        fprintf(stderr, "coap-load: target too long: %s\n", target);
        return 2;
    }

    workers = calloc(o.threads, sizeof *workers);
    hist = calloc(HIST_US + 1, sizeof *hist);
    if (workers == NULL || hist == NULL)
        return 1;
    for (unsigned t = 0; t < o.threads; t++) {
        worker_t *w = &workers[t];
        w->o = &o;
        w->nslots = o.inflight / o.threads + (t < o.inflight % o.threads);
        w->slots = calloc(w->nslots, sizeof *w->slots);
        w->hist = calloc(HIST_US + 1, sizeof *w->hist);
        w->fd = open_socket(&o);
        w->next_mid = (uint16_t)(now_ns() + t * 7919);
        if (w->slots == NULL || w->hist == NULL || w->fd < 0) {
            perror("coap-load");
            return 1;
        }
        for (unsigned i = 0; i < BATCH; i++) {
            w->outiov[i].iov_base = w->outbuf[i];
            w->out[i].msg_hdr = (struct msghdr){.msg_iov = &w->outiov[i], .msg_iovlen = 1};
        }
    }
    for (unsigned t = 0; t < o.threads; t++)
        pthread_create(&workers[t].thread, NULL, run_worker, &workers[t]);
    for (unsigned t = 0; t < o.threads; t++) {
        worker_t *w = &workers[t];
        pthread_join(w->thread, NULL);
        requests += w->requests;
        non2xx += w->non2xx;
        lost += w->lost;
        if (w->max_ns > max_ns)
            max_ns = w->max_ns;
        for (unsigned us = 0; us <= HIST_US; us++)
            hist[us] += w->hist[us];
    }
    printf("coap-load: inflight=%u threads=%u seconds=%.2f requests=%llu rps=%.0f p50_ms=%.3f "
           "p99_ms=%.3f max_ms=%.3f non2xx=%llu lost=%llu\n",
           o.inflight, o.threads, o.seconds, requests, (double)requests / o.seconds,
           percentile_ms(hist, requests, 0.50), percentile_ms(hist, requests, 0.99),
           (double)max_ns / 1e6, non2xx, lost);
    return non2xx == 0 && lost == 0 && requests > 0 ? 0 : 1;
}

/* coap-fastserver: a CoAP test server for benchmarks, fast enough never to be the bottleneck.
 *
 * Usage: coap-fastserver [-A ADDRESS] [-p PORT] [-N] [-O RESOURCES] [-i MS]
 *   -A  address to bind (default 127.0.0.1; IPv6 literals work)
 *   -p  UDP port (default 5683; 0 picks a free one)
 *   -N  send delayed answers as NON instead of CON
 *   -O  how many observable resources /obs/0 ... there are (default 100)
 *   -i  notify every observer every MS milliseconds (default: only on SIGUSR2)
 *
 * One thread, one UDP socket and a timerfd in an epoll set; datagrams are read and answered in
 * batches of up to 64 with recvmmsg()/sendmmsg(). No libcoap: the 4-byte header, the token and
 * the options are walked by hand (RFC 7252 s3), and only Uri-Path (11), Uri-Query (15), Observe
 * (6) and OSCORE (9) are looked at. What it answers:
 *   a request with an OSCORE option   2.04, an empty OSCORE option and a 22-byte ciphertext-like
 *                                     payload (the shape of RFC 8613 C.7), whatever the path
 *   /delay?ms=N                       an empty ACK at once, then 2.05 "hello, world\n" N ms later
 *                                     as a separate response (RFC 7252 s5.2.2): CON by default,
 *                                     retransmitted until acknowledged (s4.2), NON with -N
 *   GET /obs/K (K below -O)           2.05 with Content-Format 0 and the resource's state as text,
 *                                     "ROUND NS": the last notification round (0 before the
 *                                     first) and the CLOCK_MONOTONIC time it was sent at. With
 *                                     Observe 0 the client is registered (RFC 7641 s3.1, s4.1; the
 *                                     same endpoint and token again replaces its entry) and the
 *                                     answer carries Observe; with Observe 1 it is removed (s3.6)
 *   other methods on /obs/K, or K out of range   4.05, 4.04
 *   anything else                     2.05 (2.04 for methods other than GET and FETCH) with
 *                                     Content-Format 0 and "hello, world\n", piggybacked on the ACK
 * CON requests get ACKs, NON requests NON answers, an empty CON (a ping) a RST. ACKs and RSTs are
 * taken only to stop a separate response's retransmission, and a RST that names a notification's
 * Message ID removes that observer (RFC 7641 s3.6).
 *
 * Notification rounds: on SIGUSR2 (each signal one round) or every -i MS, every resource takes
 * the next round number and the time, and each of its observers gets one NON 2.05 (RFC 7641
 * s4.5 allows NON) with the next Observe value and "ROUND NS" as payload, NS read as that
 * resource's datagrams are written, just before their batch is sent. NON because what the
 * benchmark measures is the proxy's fan-out to its HTTP subscribers: CON would add the proxy's
 * ACKs and this server's retransmission state to every round, and loopback loses nothing.
 *
 * Delayed answers wait in a binary min-heap ordered by due time; the timerfd is armed for the
 * earliest. The heap grows as needed (10,000 pending take about 1 MB).
 *
 * It prints "listening on coap://ADDRESS:PORT" and then "ready" on stdout once bound; a line of
 * counters on stderr on SIGUSR1, and again on SIGTERM or SIGINT before it exits. */
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
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define DGRAM_MAX 1536
#define REPLY_MAX 64
#define ACK_TIMEOUT_NS 2000000000ull /* RFC 7252 s4.8 ACK_TIMEOUT */
#define MAX_RETRANSMIT 4
#define MAX_RESOURCES 100000

static const uint8_t hello[] = "hello, world\n";
/* RFC 8613 Appendix C.7: the ciphertext of a protected 2.05 response. */
static const uint8_t ciphertext[] = {0xdb, 0xaa, 0xd1, 0xe9, 0xa7, 0xe7, 0xb2, 0xa8,
                                     0x13, 0xd3, 0xc3, 0x15, 0x24, 0x37, 0x83, 0x03,
                                     0xcd, 0xaf, 0xae, 0x11, 0x91, 0x06};

enum { T_CON = 0, T_NON = 1, T_ACK = 2, T_RST = 3 };

typedef union peer {
    struct sockaddr sa;
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
} peer_t;

/* What the server needs of a request. */
typedef struct request {
    unsigned type, tkl, code, mid;
    const uint8_t *token;
    bool is_delay;      /* the Uri-Path is exactly "delay" */
    bool is_obs;        /* the Uri-Path is "obs" and one more segment */
    bool has_oscore;    /* option 9 is present */
    unsigned delay_ms;  /* from a Uri-Query "ms=N" */
    long obs;           /* the K of /obs/K, -1 when it is not a number */
    long observe;       /* the Observe option's value, -1 without one */
} request_t;

/* An observer of one resource (RFC 7641 s4.1: an endpoint and a token). */
typedef struct observer {
    peer_t peer;
    socklen_t peerlen;
    uint8_t tkl;
    uint8_t token[8];
    uint16_t mid; /* of its last notification: a RST names it (s3.6) */
} observer_t;

/* One of /obs/0 ...: its observers and its state. */
typedef struct resource {
    observer_t *observers;
    size_t n, cap;
    uint32_t seq;                /* the last Observe value sent (s4.4: each one greater) */
    unsigned long long round;    /* the state: the round of the last notification, */
    uint64_t sent_ns;            /* and when it was sent */
} resource_t;

/* A delayed answer waiting in the heap. */
typedef struct pending {
    uint64_t due_ns;
    peer_t peer;
    socklen_t peerlen;
    uint16_t mid;      /* of the separate response, once sent */
    uint8_t tkl;
    uint8_t tries;     /* transmissions so far */
    uint8_t is_acked;  /* set when the ACK for mid arrives: the next pop drops it */
    uint8_t token[8];
} pending_t;

typedef struct server {
    int fd, tfd, ep, pfd; /* pfd: the -i period's timerfd, or -1 */
    bool use_non;
    resource_t *res;
    unsigned nres;
    unsigned long long round; /* notification rounds so far */
    uint16_t next_mid;
    pending_t **heap; /* min-heap by due_ns */
    size_t nheap, capheap;
    pending_t **by_mid; /* 65536 entries: the CON separate response awaiting its ACK */
    uint64_t armed_ns; /* the timerfd's expiry, 0 when disarmed */
    /* counters */
    unsigned long long requests, answers, delayed, retransmits, dropped, notifications;
    size_t observers;
    /* outgoing batch */
    struct mmsghdr out[BATCH];
    struct iovec outiov[BATCH];
    uint8_t outbuf[BATCH][REPLY_MAX];
    peer_t outpeer[BATCH];
    unsigned nout;
} server_t;

static volatile sig_atomic_t is_stopping, is_reporting, rounds_asked;

static void on_signal(int signum)
{
    if (signum == SIGUSR1)
        is_reporting = 1;
    else if (signum == SIGUSR2)
        rounds_asked++;
    else
        is_stopping = 1;
}

static void report(const server_t *s)
{
    fprintf(stderr,
            "coap-fastserver: requests=%llu answers=%llu delayed=%llu retransmits=%llu "
            "pending=%zu dropped=%llu observers=%zu rounds=%llu notifications=%llu\n",
            s->requests, s->answers, s->delayed, s->retransmits, s->nheap, s->dropped,
            s->observers, s->round, s->notifications);
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- parsing ----------------------------------------------------------------------------- */

/* An option's extended delta or length (RFC 7252 s3.1): 13 and 14 take 1 and 2 more bytes, 15
 * is reserved. Returns the value, or -1 when malformed or truncated. */
static long option_nibble(unsigned nibble, const uint8_t *p, size_t n, size_t *pos)
{
    long v;

    if (nibble < 13)
        return nibble;
    if (nibble == 13) {
        if (*pos + 1 > n)
            return -1;
        return 13 + p[(*pos)++];
    }
    if (nibble == 14) {
        if (*pos + 2 > n)
            return -1;
        v = 269 + ((long)p[*pos] << 8 | p[*pos + 1]);
        *pos += 2;
        return v;
    }
    return -1;
}

/* A path segment of 1 to 6 digits as a number, else -1. */
static long decimal(const uint8_t *p, size_t n)
{
    long v = 0;

    if (n == 0 || n > 6)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

/* 0, or -1 for a datagram that is not a well-formed CoAP message. */
static int parse(const uint8_t *p, size_t n, request_t *r)
{
    size_t pos;
    unsigned number = 0, npath = 0;

    memset(r, 0, sizeof *r);
    r->obs = -1;
    r->observe = -1;
    if (n < 4 || p[0] >> 6 != 1)
        return -1;
    r->type = (p[0] >> 4) & 3;
    r->tkl = p[0] & 15;
    r->code = p[1];
    r->mid = (unsigned)p[2] << 8 | p[3];
    if (r->tkl > 8 || 4 + r->tkl > n)
        return -1;
    r->token = p + 4;
    pos = 4 + r->tkl;
    while (pos < n && p[pos] != 0xff) {
        unsigned head = p[pos++];
        long delta = option_nibble(head >> 4, p, n, &pos);
        long len = option_nibble(head & 15, p, n, &pos);
        const uint8_t *value = p + pos;

        if (delta < 0 || len < 0 || pos + (size_t)len > n)
            return -1;
        number += (unsigned)delta;
        pos += (size_t)len;
        if (number == 11) { /* Uri-Path */
            if (npath == 0) {
                r->is_delay = len == 5 && memcmp(value, "delay", 5) == 0;
                r->is_obs = len == 3 && memcmp(value, "obs", 3) == 0;
            } else if (npath == 1) {
                r->obs = decimal(value, (size_t)len);
            }
            npath++;
        } else if (number == 6 && len <= 3) { /* Observe: a uint of up to 3 bytes (RFC 7641 s2) */
            r->observe = 0;
            for (long i = 0; i < len; i++)
                r->observe = r->observe << 8 | value[i];
        } else if (number == 15 && len > 3 && memcmp(value, "ms=", 3) == 0) { /* Uri-Query */
            unsigned ms = 0;
            for (long i = 3; i < len && value[i] >= '0' && value[i] <= '9'; i++)
                ms = ms * 10 + (unsigned)(value[i] - '0');
            r->delay_ms = ms;
        } else if (number == 9) { /* OSCORE */
            r->has_oscore = true;
        }
    }
    if (npath > 1)
        r->is_delay = false;
    if (npath != 2)
        r->is_obs = false;
    return 0;
}

/* ---- writing ----------------------------------------------------------------------------- */

/* The next slot of the outgoing batch, addressed to |peer|; flushes a full batch first. */
static uint8_t *out_slot(server_t *s, const peer_t *peer, socklen_t peerlen);
static void out_commit(server_t *s, size_t len);

static size_t write_header(uint8_t *b, unsigned type, unsigned code, unsigned mid,
                           const uint8_t *token, unsigned tkl)
{
    b[0] = (uint8_t)(0x40 | type << 4 | tkl);
    b[1] = (uint8_t)code;
    b[2] = (uint8_t)(mid >> 8);
    b[3] = (uint8_t)mid;
    memcpy(b + 4, token, tkl);
    return 4 + tkl;
}

/* The hello body with Content-Format 0 (option 12, empty value: 0xc0). */
static size_t write_hello(uint8_t *b, size_t pos)
{
    b[pos++] = 0xc0;
    b[pos++] = 0xff;
    memcpy(b + pos, hello, sizeof hello - 1);
    return pos + sizeof hello - 1;
}

static void flush(server_t *s)
{
    unsigned done = 0;

    while (done < s->nout) {
        int n = sendmmsg(s->fd, s->out + done, s->nout - done, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            s->dropped += s->nout - done; /* a full socket buffer: the peer retransmits */
            break;
        }
        done += (unsigned)n;
    }
    s->nout = 0;
}

static uint8_t *out_slot(server_t *s, const peer_t *peer, socklen_t peerlen)
{
    if (s->nout == BATCH)
        flush(s);
    memcpy(&s->outpeer[s->nout], peer, peerlen);
    s->out[s->nout].msg_hdr.msg_namelen = peerlen;
    return s->outbuf[s->nout];
}

static void out_commit(server_t *s, size_t len)
{
    s->outiov[s->nout].iov_len = len;
    s->nout++;
}

/* ---- delayed answers --------------------------------------------------------------------- */

static int heap_push(server_t *s, pending_t *p)
{
    size_t i;

    if (s->nheap == s->capheap) {
        size_t cap = s->capheap ? s->capheap * 2 : 1024;
        pending_t **grown = realloc(s->heap, cap * sizeof *grown);
        if (grown == NULL)
            return -1;
        s->heap = grown;
        s->capheap = cap;
    }
    i = s->nheap++;
    while (i > 0 && s->heap[(i - 1) / 2]->due_ns > p->due_ns) {
        s->heap[i] = s->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    s->heap[i] = p;
    return 0;
}

static pending_t *heap_pop(server_t *s)
{
    pending_t *top = s->heap[0], *last = s->heap[--s->nheap];
    size_t i = 0;

    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= s->nheap)
            break;
        if (c + 1 < s->nheap && s->heap[c + 1]->due_ns < s->heap[c]->due_ns)
            c++;
        if (s->heap[c]->due_ns >= last->due_ns)
            break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (s->nheap > 0)
        s->heap[i] = last;
    return top;
}

/* Arms the timerfd for the earliest pending answer, if that is sooner than what it is armed for. */
static void rearm(server_t *s, bool is_fired)
{
    struct itimerspec its = {0};
    uint64_t due;

    if (is_fired)
        s->armed_ns = 0;
    if (s->nheap == 0)
        return; /* a stale expiry is harmless: nothing is due then */
    due = s->heap[0]->due_ns;
    if (s->armed_ns != 0 && s->armed_ns <= due)
        return;
    its.it_value.tv_sec = (time_t)(due / 1000000000ull);
    its.it_value.tv_nsec = (long)(due % 1000000000ull);
    if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
        its.it_value.tv_nsec = 1;
    timerfd_settime(s->tfd, TFD_TIMER_ABSTIME, &its, NULL);
    s->armed_ns = due;
}

static void schedule(server_t *s, const request_t *r, const peer_t *peer, socklen_t peerlen,
                     uint64_t now)
{
    pending_t *p = malloc(sizeof *p);

    if (p == NULL) {
        s->dropped++;
        return;
    }
    p->due_ns = now + (uint64_t)r->delay_ms * 1000000ull;
    memcpy(&p->peer, peer, peerlen);
    p->peerlen = peerlen;
    p->tkl = (uint8_t)r->tkl;
    memcpy(p->token, r->token, r->tkl);
    p->tries = 0;
    p->is_acked = 0;
    p->mid = 0;
    if (heap_push(s, p) < 0) {
        free(p);
        s->dropped++;
        return;
    }
    s->delayed++;
}

static void send_separate(server_t *s, pending_t *p, uint64_t now)
{
    bool is_con = !s->use_non;
    uint8_t *b;
    size_t len;

    if (p->tries == 0) {
        p->mid = s->next_mid++;
        s->answers++;
    } else {
        s->retransmits++;
    }
    b = out_slot(s, &p->peer, p->peerlen);
    len = write_header(b, is_con ? T_CON : T_NON, 0x45, p->mid, p->token, p->tkl);
    out_commit(s, write_hello(b, len));
    p->tries++;
    if (!is_con || p->tries > MAX_RETRANSMIT) {
        if (s->by_mid[p->mid] == p)
            s->by_mid[p->mid] = NULL;
        free(p);
        return;
    }
    /* RFC 7252 s4.2: the timeout doubles with each retransmission. */
    p->due_ns = now + (ACK_TIMEOUT_NS << (p->tries - 1));
    s->by_mid[p->mid] = p;
    if (heap_push(s, p) < 0) {
        s->by_mid[p->mid] = NULL;
        free(p);
    }
}

static void on_timer(server_t *s)
{
    uint64_t expirations, now = now_ns();

    if (read(s->tfd, &expirations, sizeof expirations) < 0 && errno != EAGAIN)
        perror("timerfd");
    while (s->nheap > 0 && s->heap[0]->due_ns <= now) {
        pending_t *p = heap_pop(s);
        if (p->is_acked)
            free(p);
        else
            send_separate(s, p, now);
    }
    flush(s);
    rearm(s, true);
}

/* ---- observable resources (RFC 7641) ------------------------------------------------------ */

static bool same_peer(const peer_t *a, socklen_t alen, const peer_t *b, socklen_t blen)
{
    return alen == blen && memcmp(a, b, alen) == 0;
}

static observer_t *find_observer(resource_t *res, const peer_t *peer, socklen_t peerlen,
                                 const uint8_t *token, unsigned tkl)
{
    for (size_t i = 0; i < res->n; i++) {
        observer_t *o = &res->observers[i];
        if (o->tkl == tkl && memcmp(o->token, token, tkl) == 0 &&
            same_peer(&o->peer, o->peerlen, peer, peerlen))
            return o;
    }
    return NULL;
}

/* RFC 7641 s4.1: a registration from an endpoint and token already in the list replaces the
 * entry. Returns false when there is no memory for a new one. */
static bool add_observer(server_t *s, resource_t *res, const request_t *r, const peer_t *peer,
                         socklen_t peerlen)
{
    observer_t *o = find_observer(res, peer, peerlen, r->token, r->tkl);

    if (o != NULL)
        return true;
    if (res->n == res->cap) {
        size_t cap = res->cap ? res->cap * 2 : 4;
        observer_t *grown = realloc(res->observers, cap * sizeof *grown);
        if (grown == NULL)
            return false;
        res->observers = grown;
        res->cap = cap;
    }
    o = &res->observers[res->n++];
    memset(o, 0, sizeof *o);
    memcpy(&o->peer, peer, peerlen);
    o->peerlen = peerlen;
    o->tkl = (uint8_t)r->tkl;
    memcpy(o->token, r->token, r->tkl);
    s->observers++;
    return true;
}

static void remove_observer(server_t *s, resource_t *res, observer_t *o)
{
    *o = res->observers[--res->n]; /* order does not matter: the last one takes its place */
    s->observers--;
}

/* A RST (RFC 7641 s3.6) names the Message ID of the notification it rejects. A linear walk:
 * RSTs come when a client leaves, not in the rounds that are measured. */
static void on_reset(server_t *s, unsigned mid, const peer_t *peer, socklen_t peerlen)
{
    for (unsigned k = 0; k < s->nres; k++) {
        resource_t *res = &s->res[k];
        for (size_t i = 0; i < res->n; i++) {
            observer_t *o = &res->observers[i];
            if (o->mid == mid && same_peer(&o->peer, o->peerlen, peer, peerlen)) {
                remove_observer(s, res, o);
                return;
            }
        }
    }
}

/* Observe (6) with the next sequence number when |observe|, Content-Format 0 (12), and the state
 * "ROUND NS" as payload, after a header that ends at |pos|. */
static size_t write_state(uint8_t *b, size_t pos, resource_t *res, bool observe)
{
    int len;

    if (observe) {
        uint32_t v = ++res->seq & 0xffffff; /* 24 bits (RFC 7641 s2) */
        unsigned n = v == 0 ? 0 : v < 0x100 ? 1 : v < 0x10000 ? 2 : 3;
        b[pos++] = (uint8_t)(0x60 | n);
        for (unsigned i = n; i > 0; i--)
            b[pos++] = (uint8_t)(v >> (8 * (i - 1)));
        b[pos++] = 0x60; /* Content-Format: delta 6 from Observe, empty value (0, text/plain) */
    } else {
        b[pos++] = 0xc0;
    }
    b[pos++] = 0xff;
    len = snprintf((char *)b + pos, REPLY_MAX - pos, "%llu %llu", res->round,
                   (unsigned long long)res->sent_ns);
    return pos + (size_t)len;
}

/* A request to /obs/K: the state, and a registration or deregistration. */
static void answer_obs(server_t *s, const request_t *r, const peer_t *peer, socklen_t peerlen,
                       unsigned type, unsigned mid)
{
    uint8_t *b = out_slot(s, peer, peerlen);
    size_t len;
    resource_t *res;
    bool is_registered = false;

    if (r->obs < 0 || (unsigned long)r->obs >= s->nres) {
        out_commit(s, write_header(b, type, 0x84, mid, r->token, r->tkl)); /* 4.04 */
        return;
    }
    if (r->code != 1) {
        out_commit(s, write_header(b, type, 0x85, mid, r->token, r->tkl)); /* 4.05 */
        return;
    }
    res = &s->res[r->obs];
    if (r->observe == 0) {
        is_registered = add_observer(s, res, r, peer, peerlen);
    } else if (r->observe == 1) {
        observer_t *o = find_observer(res, peer, peerlen, r->token, r->tkl);
        if (o != NULL)
            remove_observer(s, res, o);
    }
    len = write_header(b, type, 0x45, mid, r->token, r->tkl);
    out_commit(s, write_state(b, len, res, is_registered));
    s->answers++;
}

/* One round: every resource takes the round's number and the time, and each of its observers
 * gets a NON notification. */
static void notify_all(server_t *s)
{
    s->round++;
    for (unsigned k = 0; k < s->nres; k++) {
        resource_t *res = &s->res[k];

        res->round = s->round;
        res->sent_ns = now_ns();
        for (size_t i = 0; i < res->n; i++) {
            observer_t *o = &res->observers[i];
            uint8_t *b = out_slot(s, &o->peer, o->peerlen);

            o->mid = s->next_mid++;
            out_commit(s, write_state(b, write_header(b, T_NON, 0x45, o->mid, o->token, o->tkl),
                                      res, true));
            s->notifications++;
        }
    }
    flush(s);
}

/* ---- answering --------------------------------------------------------------------------- */

static void answer(server_t *s, const uint8_t *dgram, size_t n, const peer_t *peer,
                   socklen_t peerlen, uint64_t *now)
{
    request_t r;
    uint8_t *b;
    size_t len;
    unsigned type, mid;

    if (parse(dgram, n, &r) < 0)
        return;
    if (r.type == T_ACK || r.type == T_RST) {
        /* Stops the retransmission of a separate response. */
        pending_t *p = s->by_mid[r.mid];
        if (p != NULL && p->peerlen == peerlen && memcmp(&p->peer, peer, peerlen) == 0) {
            p->is_acked = 1;
            s->by_mid[r.mid] = NULL;
        }
        if (r.type == T_RST)
            on_reset(s, r.mid, peer, peerlen);
        return;
    }
    if (r.code == 0) { /* an empty CON is a ping: RST (RFC 7252 s4.3) */
        if (r.type == T_CON) {
            b = out_slot(s, peer, peerlen);
            out_commit(s, write_header(b, T_RST, 0, r.mid, NULL, 0));
        }
        return;
    }
    if (r.code >> 5 != 0)
        return; /* a response sent to a server: not ours to answer */
    s->requests++;
    type = r.type == T_CON ? T_ACK : T_NON;
    mid = r.type == T_CON ? r.mid : s->next_mid++;
    if (r.has_oscore) {
        b = out_slot(s, peer, peerlen);
        len = write_header(b, type, 0x44, mid, r.token, r.tkl);
        b[len++] = 0x90; /* OSCORE (9), empty: RFC 8613 s6.1, a response's usual form */
        b[len++] = 0xff;
        memcpy(b + len, ciphertext, sizeof ciphertext);
        out_commit(s, len + sizeof ciphertext);
        s->answers++;
    } else if (r.is_obs) {
        answer_obs(s, &r, peer, peerlen, type, mid);
    } else if (r.is_delay) {
        if (*now == 0)
            *now = now_ns();
        if (r.type == T_CON) {
            b = out_slot(s, peer, peerlen);
            out_commit(s, write_header(b, T_ACK, 0, r.mid, NULL, 0));
        }
        schedule(s, &r, peer, peerlen, *now);
    } else {
        unsigned code = r.code == 1 || r.code == 5 ? 0x45 : 0x44; /* GET, FETCH: 2.05 */
        b = out_slot(s, peer, peerlen);
        len = write_header(b, type, code, mid, r.token, r.tkl);
        out_commit(s, write_hello(b, len));
        s->answers++;
    }
}

static void on_readable(server_t *s)
{
    static uint8_t bufs[BATCH][DGRAM_MAX];
    static peer_t peers[BATCH];
    struct mmsghdr in[BATCH];
    struct iovec iov[BATCH];

    for (unsigned i = 0; i < BATCH; i++) {
        iov[i] = (struct iovec){.iov_base = bufs[i], .iov_len = DGRAM_MAX};
        in[i].msg_hdr = (struct msghdr){.msg_name = &peers[i],
                                        .msg_namelen = sizeof peers[i],
                                        .msg_iov = &iov[i],
                                        .msg_iovlen = 1};
    }
    for (;;) {
        uint64_t now = 0; /* read once a batch, and only when a delayed answer needs it */
        int n = recvmmsg(s->fd, in, BATCH, MSG_DONTWAIT, NULL);

        if (n <= 0) {
            if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                perror("recvmmsg");
            break;
        }
        for (int i = 0; i < n; i++) {
            answer(s, bufs[i], in[i].msg_len, &peers[i], in[i].msg_hdr.msg_namelen, &now);
            in[i].msg_hdr.msg_namelen = sizeof peers[i];
        }
        flush(s);
        if (n < BATCH)
            break;
    }
    rearm(s, false);
}

/* ---- setup ------------------------------------------------------------------------------- */

static void big_buffers(int fd)
{
    int size = 8 << 20;

    /* The FORCE variants pass the sysctl caps when run as root; else the capped size it is. */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) < 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
}

static int open_socket(const char *address, unsigned port, peer_t *bound)
{
    socklen_t len;
    int fd;

    memset(bound, 0, sizeof *bound);
    if (inet_pton(AF_INET6, address, &bound->in6.sin6_addr) == 1) {
        bound->in6.sin6_family = AF_INET6;
        bound->in6.sin6_port = htons((uint16_t)port);
        len = sizeof bound->in6;
    } else if (inet_pton(AF_INET, address, &bound->in.sin_addr) == 1) {
        bound->in.sin_family = AF_INET;
        bound->in.sin_port = htons((uint16_t)port);
        len = sizeof bound->in;
    } else {
        fprintf(stderr, "coap-fastserver: not an IP address: %s\n", address);
        return -1;
    }
    fd = socket(bound->sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, &bound->sa, len) < 0 || getsockname(fd, &bound->sa, &len) < 0) {
        perror("coap-fastserver: socket");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    big_buffers(fd);
    return fd;
}

static void usage(void)
{
    fprintf(stderr, "usage: coap-fastserver [-A ADDRESS] [-p PORT] [-N] [-O RESOURCES] [-i MS]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *address = "127.0.0.1";
    unsigned port = 5683;
    server_t s = {0};
    peer_t bound;
    struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: epoll_wait returns */
    struct epoll_event ev;
    char host[INET6_ADDRSTRLEN];
    int opt;
    unsigned long period_ms = 0, nres = 100;
    sig_atomic_t rounds_done = 0;
    static const int handled[] = {SIGTERM, SIGINT, SIGUSR1, SIGUSR2};
    sigset_t blocked, waiting;

    while ((opt = getopt(argc, argv, "A:p:NO:i:h")) != -1) {
        switch (opt) {
        case 'A': address = optarg; break;
        case 'p': port = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'N': s.use_non = true; break;
        case 'O': nres = strtoul(optarg, NULL, 10); break;
        case 'i': period_ms = strtoul(optarg, NULL, 10); break;
        default: usage();
        }
    }
    if (optind != argc || port > 65535 || nres > MAX_RESOURCES)
        usage();
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    /* The signals are taken only inside epoll_pwait(), so that none lands between the check of
     * its flag and the wait (a round asked for would wait for the next datagram). */
    sigemptyset(&blocked);
    for (unsigned i = 0; i < sizeof handled / sizeof handled[0]; i++)
        sigaddset(&blocked, handled[i]);
    sigprocmask(SIG_BLOCK, &blocked, &waiting);
    for (unsigned i = 0; i < sizeof handled / sizeof handled[0]; i++)
        sigdelset(&waiting, handled[i]);
    signal(SIGPIPE, SIG_IGN);

    s.fd = open_socket(address, port, &bound);
    s.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    s.ep = epoll_create1(EPOLL_CLOEXEC);
    s.by_mid = calloc(65536, sizeof *s.by_mid);
    s.nres = (unsigned)nres;
    s.res = calloc(nres ? nres : 1, sizeof *s.res);
    s.pfd = -1;
    if (period_ms > 0) {
        struct itimerspec its = {0};
        its.it_interval.tv_sec = (time_t)(period_ms / 1000);
        its.it_interval.tv_nsec = (long)(period_ms % 1000) * 1000000;
        its.it_value = its.it_interval;
        s.pfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (s.pfd < 0 || timerfd_settime(s.pfd, 0, &its, NULL) < 0)
            return 1;
    }
    if (s.fd < 0 || s.tfd < 0 || s.ep < 0 || s.by_mid == NULL || s.res == NULL)
        return 1;
    s.next_mid = (uint16_t)now_ns();
    for (unsigned k = 0; k < s.nres; k++)
        s.res[k].sent_ns = now_ns(); /* the state before the first round */
    for (unsigned i = 0; i < BATCH; i++) {
        s.outiov[i].iov_base = s.outbuf[i];
        s.out[i].msg_hdr = (struct msghdr){.msg_name = &s.outpeer[i], .msg_iov = &s.outiov[i],
                                           .msg_iovlen = 1};
    }
    ev = (struct epoll_event){.events = EPOLLIN, .data.fd = s.fd};
    epoll_ctl(s.ep, EPOLL_CTL_ADD, s.fd, &ev);
    ev = (struct epoll_event){.events = EPOLLIN, .data.fd = s.tfd};
    epoll_ctl(s.ep, EPOLL_CTL_ADD, s.tfd, &ev);
    if (s.pfd >= 0) {
        ev = (struct epoll_event){.events = EPOLLIN, .data.fd = s.pfd};
        epoll_ctl(s.ep, EPOLL_CTL_ADD, s.pfd, &ev);
    }

    if (bound.sa.sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &bound.in6.sin6_addr, host, sizeof host);
        printf("listening on coap://[%s]:%u\n", host, ntohs(bound.in6.sin6_port));
    } else {
        inet_ntop(AF_INET, &bound.in.sin_addr, host, sizeof host);
        printf("listening on coap://%s:%u\n", host, ntohs(bound.in.sin_port));
    }
    printf("ready\n");
    fflush(stdout);

    while (!is_stopping) {
        struct epoll_event evs[3];
        int n = epoll_pwait(s.ep, evs, 3, -1, &waiting);

        for (int i = 0; i < n; i++) {
            if (evs[i].data.fd == s.fd) {
                on_readable(&s);
            } else if (evs[i].data.fd == s.pfd) {
                uint64_t expirations;
                if (read(s.pfd, &expirations, sizeof expirations) > 0)
                    notify_all(&s); /* one round however many periods passed */
            } else {
                on_timer(&s);
            }
        }
        /* Each SIGUSR2 is one round. */
        while (rounds_done != rounds_asked) {
            rounds_done++;
            notify_all(&s);
        }
        if (is_reporting) {
            is_reporting = 0;
            report(&s);
        }
    }
    report(&s);
    /* Everything freed, so that a sanitizer build reports only real leaks. */
    for (unsigned k = 0; k < s.nres; k++)
        free(s.res[k].observers);
    while (s.nheap > 0)
        free(heap_pop(&s));
    free(s.res);
    free(s.heap);
    free(s.by_mid);
    return 0;
}

/* sse-many: many HTTP subscribers to Observe streams (server-sent events) through hcproxy, for
 * the Observe rows of bench/run: memory per subscriber, how long a notification takes to reach
 * the last of its subscribers, and the proxy's CPU time per event delivered.
 *
 * Usage: sse-many [-A ADDRESS] -p PORT -n SUBSCRIBERS -u PREFIX [-r RESOURCES] [-R ROUNDS]
 *                 [-N NOTIFIER-PID] [-H PROXY-PID] [-g GAP-MS] [-W WINDOW] [-T SECONDS]
 *   -u  subscriber i asks for PREFIX followed by i % RESOURCES, e.g. /hc/coap://127.0.0.1:P/obs/
 *       gives /hc/coap://127.0.0.1:P/obs/17, with Accept: text/event-stream
 *   -r  resources (default 100)
 *   -R  notification rounds (default 10), each asked for with a SIGUSR2 to NOTIFIER-PID
 *       (bench/coap-fastserver) once every subscriber has had the round before (or -T passed),
 *       and GAP-MS (default 200) later
 *   -H  the proxy: its VmRSS before the first connection and once all are subscribed, and its
 *       CPU time (/proc/PID/task/{*}/schedstat) from the first round's signal to the last
 *       round's last event
 *   -W  never more than WINDOW connections opened and not yet subscribed (default 100), so a
 *       ramp of thousands does not overrun the proxy's listen backlog
 *   -T  seconds to wait for all subscriptions (default 120), and for each round (default 30);
 *       a round that does not reach every subscriber in time is the last one asked for
 *
 * A subscriber counts as subscribed at its first event. The notifier's payload is "ROUND NS",
 * NS its CLOCK_MONOTONIC send time, so the latency of an event is its arrival (read right after
 * the read() that completes it) minus NS, on the same machine's clock. The responses are parsed
 * for real: the status line, chunked transfer coding (RFC 9112 s7.1), and event-stream lines
 * (WHATWG HTML s9.2.6); the JSON is only searched for its "text" member.
 *
 * It prints one line:
 *   sse-many: n= subscribed= non2xx= errors= ended= subscribe_ms= rounds= expected= events=
 *   lost= dups= res_last_p50_ms= res_last_max_ms= round_last_p50_ms= round_last_max_ms=
 *   event_p50_ms= event_p99_ms= event_max_ms= rss_before_kb= rss_subscribed_kb=
 *   rss_per_sub_b= cpu_ms= cpu_per_event_us=
 * res_last is, per round and resource, the last subscriber's arrival minus that resource's send
 * time (median and max over all rounds x resources); round_last is, per round, the last arrival
 * of the round minus the round's first send (median and max over rounds). expected is the events
 * due (subscribers alive when the rounds begin x rounds), events those that came, lost those that
 * never did, dups events for a round already seen. ended counts "end" events,
 * errors connections that failed or were closed. It exits 0 when every subscriber subscribed
 * and no event was lost. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
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
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_ 512 /* an event's data line is about 160 bytes; longer lines are cut */
#define READ_BUF 65536
#define NS_PER_MS 1000000ull

enum { S_CONNECTING, S_HEAD, S_BODY, S_CLOSED };
enum { CH_SIZE, CH_EXT, CH_DATA, CH_DATA_CR, CH_DATA_LF };
enum { EV_NONE, EV_NOTIFICATION, EV_END, EV_OTHER };

typedef struct sub {
    int fd;
    uint8_t state, chunk, event;
    bool is_chunked, is_subscribed, has_data;
    bool is_due; /* subscribed when the rounds began: every round counts for it */
    uint16_t status;
    uint16_t linelen;
    uint64_t chunk_left;
    unsigned resource;
    unsigned long long last_round;     /* the highest round seen */
    unsigned long long data_round;     /* of the event being read */
    uint64_t data_ns;
    char line[LINE_MAX_];
} sub_t;

typedef struct bench {
    sub_t *subs;
    unsigned n, nres, rounds;
    int ep;
    unsigned subscribed, alive, non2xx, errors, ended;
    unsigned resolved; /* connections subscribed, or closed before they were */
    unsigned long long events, dups;
    /* per round r (1..rounds): events, the last arrival, the earliest send */
    unsigned long long *round_events;
    uint64_t *round_last, *round_first_send;
    /* per round and resource: the last arrival and the send time */
    uint64_t *res_last, *res_send;
    uint64_t *lat;
    size_t nlat;
} bench_t;

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

/* The value at quantile |q| of |v| (sorted here), in ms. */
static double quantile_ms(uint64_t *v, size_t n, double q)
{
    if (n == 0)
        return 0.0;
    qsort(v, n, sizeof *v, compare_u64);
    return (double)v[(size_t)((double)(n - 1) * q)] / 1e6;
}

/* ---- the proxy's process ----------------------------------------------------------------- */

static long rss_kb(pid_t pid)
{
    char path[64], line[256];
    long kb = -1;
    FILE *f;

    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    if ((f = fopen(path, "r")) == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "VmRSS: %ld", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

/* CPU time of every thread of |pid| in ns: the first field of each task's schedstat. */
static uint64_t cpu_ns(pid_t pid)
{
    char path[96];
    uint64_t total = 0;
    DIR *d;
    struct dirent *e;

    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    if ((d = opendir(path)) == NULL)
        return 0;
    while ((e = readdir(d)) != NULL) {
        unsigned long long ns;
        FILE *f;

        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "/proc/%d/task/%.20s/schedstat", (int)pid, e->d_name);
        if ((f = fopen(path, "r")) == NULL)
            continue;
        if (fscanf(f, "%llu", &ns) == 1)
            total += ns;
        fclose(f);
    }
    closedir(d);
    return total;
}

/* ---- one subscriber's stream ------------------------------------------------------------- */

static void close_sub(bench_t *b, sub_t *s, bool is_error)
{
    if (s->state == S_CLOSED)
        return;
    if (s->is_subscribed)
        b->alive--;
    else
        b->resolved++;
    if (is_error)
        b->errors++;
    epoll_ctl(b->ep, EPOLL_CTL_DEL, s->fd, NULL);
    close(s->fd);
    s->state = S_CLOSED;
}

/* A notification of round |round| sent at |ns| reached |s| at |now|. */
static void on_notification(bench_t *b, sub_t *s, unsigned long long round, uint64_t ns,
                            uint64_t now)
{
    size_t i;

    if (!s->is_subscribed) {
        s->is_subscribed = true;
        s->last_round = round;
        b->subscribed++;
        b->alive++;
        b->resolved++;
        return;
    }
    if (round <= s->last_round) {
        b->dups++;
        return;
    }
    s->last_round = round;
    if (round < 1 || round > b->rounds || !s->is_due)
        return; /* not a round this run asked for, or a subscriber that came late */
    b->events++;
    b->round_events[round]++;
    b->lat[b->nlat++] = now > ns ? now - ns : 0;
    if (now > b->round_last[round])
        b->round_last[round] = now;
    if (b->round_first_send[round] == 0 || ns < b->round_first_send[round])
        b->round_first_send[round] = ns;
    i = (size_t)round * b->nres + s->resource;
    if (now > b->res_last[i])
        b->res_last[i] = now;
    b->res_send[i] = ns;
}

/* "data: {...,"text":"ROUND NS"}": the round and the send time. */
static void on_data(sub_t *s, const char *json)
{
    const char *text = strstr(json, "\"text\":\"");
    unsigned long long round, ns;

    if (text != NULL && sscanf(text + 8, "%llu %llu", &round, &ns) == 2) {
        s->data_round = round;
        s->data_ns = ns;
        s->has_data = true;
    }
}

/* One event-stream line (WHATWG HTML s9.2.6): an empty one dispatches the event. */
static void sse_line(bench_t *b, sub_t *s, char *line, size_t len, uint64_t now)
{
    if (len > 0 && line[len - 1] == '\r')
        line[--len] = '\0';
    if (len == 0) {
        if (s->event == EV_END)
            b->ended++;
        else if (s->event == EV_NOTIFICATION && s->has_data)
            on_notification(b, s, s->data_round, s->data_ns, now);
        s->event = EV_NONE;
        s->has_data = false;
    } else if (strncmp(line, "event:", 6) == 0) {
        const char *v = line + 6 + (line[6] == ' ');
        s->event = strcmp(v, "notification") == 0 ? EV_NOTIFICATION
                   : strcmp(v, "end") == 0       ? EV_END
                                                 : EV_OTHER;
    } else if (strncmp(line, "data:", 5) == 0) {
        on_data(s, line + 5);
    } /* "id:", ": keep-alive" and the rest change nothing measured here */
}

/* Appends |n| bytes to the line being gathered; calls |done| for each complete line. */
static void feed_lines(bench_t *b, sub_t *s, const char *p, size_t n, uint64_t now,
                       void (*done)(bench_t *, sub_t *, char *, size_t, uint64_t))
{
    while (n > 0 && s->state != S_CLOSED) {
        const char *nl = memchr(p, '\n', n);
        size_t take = nl != NULL ? (size_t)(nl - p) : n;
        size_t room = LINE_MAX_ - 1 - s->linelen;

        memcpy(s->line + s->linelen, p, take < room ? take : room);
        s->linelen += (uint16_t)(take < room ? take : room);
        if (nl == NULL)
            return;
        s->line[s->linelen] = '\0';
        done(b, s, s->line, s->linelen, now);
        s->linelen = 0;
        p += take + 1;
        n -= take + 1;
    }
}

/* One line of the response head: the status line, a field, or the blank line. */
static void head_line(bench_t *b, sub_t *s, char *line, size_t len, uint64_t now)
{
    (void)now;
    if (len > 0 && line[len - 1] == '\r')
        line[--len] = '\0';
    if (s->status == 0) {
        s->status = (uint16_t)(len > 9 ? strtoul(line + 9, NULL, 10) : 999); /* "HTTP/1.1 200" */
        return;
    }
    if (len > 0) {
        if (strncasecmp(line, "transfer-encoding:", 18) == 0 && strcasestr(line, "chunked"))
            s->is_chunked = true;
        return;
    }
    if (s->status != 200) {
        b->non2xx++;
        close_sub(b, s, false);
        return;
    }
    s->state = S_BODY;
}

/* Body bytes, through the chunked coding when there is one, to the event-stream parser. */
static void body_bytes(bench_t *b, sub_t *s, const char *p, size_t n, uint64_t now)
{
    if (!s->is_chunked) {
        feed_lines(b, s, p, n, now, sse_line);
        return;
    }
    while (n > 0 && s->state != S_CLOSED) {
        char c = *p;
        size_t take;

        switch (s->chunk) {
        case CH_SIZE:
            if (isxdigit((unsigned char)c)) {
                s->chunk_left = s->chunk_left * 16 + (uint64_t)(isdigit((unsigned char)c) ? c - '0' : (tolower((unsigned char)c) - 'a' + 10));
                p++, n--;
                continue;
            }
            s->chunk = CH_EXT;
            continue;
        case CH_EXT: /* extensions and the CRLF after the size */
            p++, n--;
            if (c != '\n')
                continue;
            if (s->chunk_left == 0) {
                close_sub(b, s, false); /* the last chunk: the stream is over */
                return;
            }
            s->chunk = CH_DATA;
            continue;
        case CH_DATA:
            take = n < s->chunk_left ? n : (size_t)s->chunk_left;
            feed_lines(b, s, p, take, now, sse_line);
            p += take, n -= take;
            if ((s->chunk_left -= take) == 0)
                s->chunk = CH_DATA_CR;
            continue;
        case CH_DATA_CR:
        case CH_DATA_LF:
            p++, n--;
            if (c == '\n')
                s->chunk = CH_SIZE;
            continue;
        }
    }
}

static void on_bytes(bench_t *b, sub_t *s, const char *p, size_t n, uint64_t now)
{
    if (s->state == S_HEAD) {
        /* Head lines up to the blank one; whatever follows it in this read is body. */
        while (n > 0 && s->state == S_HEAD) {
            const char *nl = memchr(p, '\n', n);
            size_t len = nl != NULL ? (size_t)(nl - p) + 1 : n;
            feed_lines(b, s, p, len, now, head_line);
            p += len, n -= len;
        }
    }
    if (s->state == S_BODY && n > 0)
        body_bytes(b, s, p, n, now);
}

/* ---- the loop ---------------------------------------------------------------------------- */

static void open_sub(bench_t *b, unsigned i, const struct sockaddr_in *sin)
{
    sub_t *s = &b->subs[i];
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.u32 = i};

    s->resource = i % b->nres;
    s->state = S_CONNECTING;
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0 ||
        (connect(s->fd, (const struct sockaddr *)sin, sizeof *sin) < 0 && errno != EINPROGRESS) ||
        epoll_ctl(b->ep, EPOLL_CTL_ADD, s->fd, &ev) < 0) {
        if (s->fd >= 0)
            close(s->fd);
        else
            perror("sse-many: socket");
        s->state = S_CLOSED;
        b->errors++;
        b->resolved++;
    }
}

static void send_request(bench_t *b, sub_t *s, unsigned i, const char *host, const char *prefix)
{
    char req[1024];
    int err = 0, len;
    socklen_t errlen = sizeof err;
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};

    getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &errlen);
    len = snprintf(req, sizeof req,
                   "GET %s%u HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n", prefix,
                   s->resource, host);
    if (err != 0 || len >= (int)sizeof req || write(s->fd, req, (size_t)len) != len) {
        close_sub(b, s, true);
        return;
    }
    s->state = S_HEAD;
    epoll_ctl(b->ep, EPOLL_CTL_MOD, s->fd, &ev);
}

/* Waits up to |ms| for readiness and handles what is ready. */
static void pump(bench_t *b, int ms, const char *host, const char *prefix)
{
    static char buf[READ_BUF];
    struct epoll_event evs[256];
    int nev = epoll_wait(b->ep, evs, 256, ms);

    for (int k = 0; k < nev; k++) {
        unsigned i = evs[k].data.u32;
        sub_t *s = &b->subs[i];

        if (s->state == S_CONNECTING) {
            send_request(b, s, i, host, prefix);
            continue;
        }
        while (s->state == S_HEAD || s->state == S_BODY) {
            ssize_t got = read(s->fd, buf, sizeof buf);
            if (got < 0 && errno == EINTR)
                continue;
            if (got < 0 && errno == EAGAIN)
                break;
            if (got <= 0) {
                close_sub(b, s, true);
                break;
            }
            on_bytes(b, s, buf, (size_t)got, now_ns());
            if ((size_t)got < sizeof buf)
                break;
        }
    }
}

static unsigned long opt_number(const char *s)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);

    return *end == '\0' ? v : 0;
}

int main(int argc, char **argv)
{
    const char *address = "127.0.0.1", *prefix = NULL;
    unsigned port = 0, window = 100, gap_ms = 200, subscribe_s = 120, round_s = 30;
    pid_t notifier = 0, proxy = 0;
    bench_t b = {.nres = 100, .rounds = 10};
    struct sockaddr_in sin = {.sin_family = AF_INET};
    struct rlimit rl;
    char host[96];
    unsigned opened = 0, failed_before;
    uint64_t start, deadline, subscribed_at = 0, cpu0 = 0, cpu1 = 0, *res_lat, *round_lat;
    long rss0 = -1, rss1 = -1;
    unsigned long long expected, lost;
    size_t nres_lat = 0, nround_lat = 0;
    int opt;

    while ((opt = getopt(argc, argv, "A:p:n:u:r:R:N:H:g:W:T:h")) != -1) {
        switch (opt) {
        case 'A': address = optarg; break;
        case 'p': port = (unsigned)opt_number(optarg); break;
        case 'n': b.n = (unsigned)opt_number(optarg); break;
        case 'u': prefix = optarg; break;
        case 'r': b.nres = (unsigned)opt_number(optarg); break;
        case 'R': b.rounds = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'N': notifier = (pid_t)opt_number(optarg); break;
        case 'H': proxy = (pid_t)opt_number(optarg); break;
        case 'g': gap_ms = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'W': window = (unsigned)opt_number(optarg); break;
        case 'T': subscribe_s = round_s = (unsigned)opt_number(optarg); break;
        default: goto usage;
        }
    }
    if (optind != argc || port == 0 || port > 65535 || b.n == 0 || prefix == NULL ||
        b.nres == 0 || window == 0 || subscribe_s == 0 || (b.rounds > 0 && notifier <= 0) ||
        inet_pton(AF_INET, address, &sin.sin_addr) != 1)
        goto usage;
    sin.sin_port = htons((uint16_t)port);
    snprintf(host, sizeof host, "%s:%u", address, port);
    signal(SIGPIPE, SIG_IGN);
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    b.subs = calloc(b.n, sizeof *b.subs);
    b.round_events = calloc(b.rounds + 1, sizeof *b.round_events);
    b.round_last = calloc(b.rounds + 1, sizeof *b.round_last);
    b.round_first_send = calloc(b.rounds + 1, sizeof *b.round_first_send);
    b.res_last = calloc((size_t)(b.rounds + 1) * b.nres, sizeof *b.res_last);
    b.res_send = calloc((size_t)(b.rounds + 1) * b.nres, sizeof *b.res_send);
    b.lat = calloc((size_t)b.rounds * b.n + 1, sizeof *b.lat);
    res_lat = calloc((size_t)b.rounds * b.nres + 1, sizeof *res_lat);
    round_lat = calloc(b.rounds + 1, sizeof *round_lat);
    b.ep = epoll_create1(EPOLL_CLOEXEC);
    if (b.subs == NULL || b.round_events == NULL || b.round_last == NULL ||
        b.round_first_send == NULL || b.res_last == NULL || b.res_send == NULL || b.lat == NULL ||
        res_lat == NULL || round_lat == NULL || b.ep < 0) {
        perror("sse-many");
        return 1;
    }
    if (proxy > 0)
        rss0 = rss_kb(proxy);

    /* Subscribe: at most |window| connections opened and not yet at their first event. */
    start = now_ns();
    deadline = start + (uint64_t)subscribe_s * 1000000000ull;
    while (b.resolved < b.n && now_ns() < deadline) {
        while (opened < b.n && opened - b.resolved < window)
            open_sub(&b, opened++, &sin);
        pump(&b, 10, host, prefix);
    }
    subscribed_at = now_ns();
    /* Let the proxy's allocations settle before its RSS is read. */
    for (uint64_t settle = now_ns() + 500 * NS_PER_MS; now_ns() < settle;)
        pump(&b, 50, host, prefix);
    if (proxy > 0)
        rss1 = rss_kb(proxy);
    fprintf(stderr, "sse-many: %u of %u subscribed in %.1f s\n", b.subscribed, b.n,
            (double)(subscribed_at - start) / 1e9);

    /* The rounds: each once the one before has reached every live subscriber. */
    failed_before = b.errors;
    if (proxy > 0)
        cpu0 = cpu_ns(proxy);
    /* Every subscriber alive now is due every round: one that goes away loses the rest. */
    expected = (unsigned long long)b.alive * b.rounds;
    for (unsigned i = 0; i < b.n; i++)
        b.subs[i].is_due = b.subs[i].is_subscribed && b.subs[i].state != S_CLOSED;
    for (unsigned r = 1; r <= b.rounds && b.alive > 0; r++) {
        uint64_t round_deadline = now_ns() + (uint64_t)round_s * 1000000000ull;

        if (kill(notifier, SIGUSR2) < 0) {
            perror("sse-many: kill");
            break;
        }
        while (b.round_events[r] < b.alive && now_ns() < round_deadline)
            pump(&b, 10, host, prefix);
        if (proxy > 0)
            cpu1 = cpu_ns(proxy); /* the last round's is what counts */
        if (b.round_events[r] < b.alive) {
            /* A proxy that missed a whole -T is stuck: the rounds left count as lost. */
            fprintf(stderr, "sse-many: round %u: %llu of %u events in %u s; no more rounds\n", r,
                    b.round_events[r], b.alive, round_s);
            break;
        }
        for (uint64_t gap = now_ns() + (uint64_t)gap_ms * NS_PER_MS; now_ns() < gap;)
            pump(&b, 10, host, prefix);
    }
    if (b.errors > failed_before)
        fprintf(stderr, "sse-many: %u connections closed during the rounds\n",
                b.errors - failed_before);

    lost = expected - b.events; /* at most one event counts per subscriber and round */
    for (unsigned r = 1; r <= b.rounds; r++) {
        for (unsigned k = 0; k < b.nres; k++) {
            size_t i = (size_t)r * b.nres + k;
            if (b.res_last[i] != 0)
                res_lat[nres_lat++] = b.res_last[i] - b.res_send[i];
        }
        if (b.round_last[r] != 0)
            round_lat[nround_lat++] = b.round_last[r] - b.round_first_send[r];
    }
    printf("sse-many: n=%u subscribed=%u non2xx=%u errors=%u ended=%u subscribe_ms=%.1f rounds=%u "
           "expected=%llu events=%llu lost=%llu dups=%llu res_last_p50_ms=%.3f "
           "res_last_max_ms=%.3f round_last_p50_ms=%.3f round_last_max_ms=%.3f "
           "event_p50_ms=%.3f event_p99_ms=%.3f event_max_ms=%.3f rss_before_kb=%ld "
           "rss_subscribed_kb=%ld rss_per_sub_b=%.0f cpu_ms=%.1f cpu_per_event_us=%.2f\n",
           b.n, b.subscribed, b.non2xx, b.errors, b.ended, (double)(subscribed_at - start) / 1e6,
           b.rounds, expected, b.events, lost, b.dups, quantile_ms(res_lat, nres_lat, 0.5),
           quantile_ms(res_lat, nres_lat, 1.0), quantile_ms(round_lat, nround_lat, 0.5),
           quantile_ms(round_lat, nround_lat, 1.0), quantile_ms(b.lat, b.nlat, 0.5),
           quantile_ms(b.lat, b.nlat, 0.99), quantile_ms(b.lat, b.nlat, 1.0), rss0, rss1,
           rss0 > 0 && rss1 > 0 && b.subscribed > 0 ? (double)(rss1 - rss0) * 1024 / b.subscribed
                                                    : 0.0,
           cpu1 > cpu0 ? (double)(cpu1 - cpu0) / 1e6 : 0.0,
           b.events > 0 && cpu1 > cpu0 ? (double)(cpu1 - cpu0) / 1e3 / (double)b.events : 0.0);
    fflush(stdout);
    for (unsigned i = 0; i < b.n; i++)
        if (b.subs[i].state != S_CLOSED)
            close(b.subs[i].fd);
    free(b.subs), free(b.round_events), free(b.round_last), free(b.round_first_send);
    free(b.res_last), free(b.res_send), free(b.lat), free(res_lat), free(round_lat);
    return b.subscribed == b.n && lost == 0 ? 0 : 1;
usage:
    fprintf(stderr, "usage: sse-many [-A IPV4-ADDRESS] -p PORT -n SUBSCRIBERS -u PREFIX "
                    "[-r RESOURCES] [-R ROUNDS -N NOTIFIER-PID] [-H PROXY-PID] [-g GAP-MS] "
                    "[-W WINDOW] [-T SECONDS]\n");
    return 2;
}

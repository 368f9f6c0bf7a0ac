/* hcp_udp_io_*: UDP sockets read with recvmmsg() and written with sendmmsg() at the end of a loop
 * pass (proxy/udp_io.h), on a real loop and real loopback sockets. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include "log.h"
#include "run_suite.h"
#include "udp_io.h"

#define MANY 100 /* over three receive batches */

typedef struct seen {
    unsigned datagrams, drained, refused, truncated;
    size_t lengths[MANY + 8];
    uint8_t first_bytes[MANY + 8];
    bool close_on_first;   /* closes its socket in the first datagram's callback */
    struct sockaddr_storage from;
} seen_t;

static void on_recv(hcp_udp_io_t *io, hcp_udp_io_recv_t kind, const uint8_t *dgram, size_t len,
                    const struct sockaddr *from)
{
    seen_t *seen = hcp_udp_io_data(io);

    switch (kind) {
    case HCP_UDP_IO_DATAGRAM:
        ck_assert_ptr_nonnull(from);
        memcpy(&seen->from, from, from->sa_family == AF_INET ? sizeof(struct sockaddr_in)
                                                              : sizeof(struct sockaddr_in6));
        seen->lengths[seen->datagrams] = len;
        seen->first_bytes[seen->datagrams++] = dgram[0];
        if (seen->close_on_first)
            hcp_udp_io_close(io);
        break;
    case HCP_UDP_IO_DRAINED:
        seen->drained++;
        break;
    case HCP_UDP_IO_REFUSED:
        seen->refused++;
        break;
    case HCP_UDP_IO_TRUNCATED:
        seen->truncated++;
        break;
    }
}

static struct sockaddr_in loopback_any_port(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    return sa;
}

static hcp_udp_io_t *open_bound(uv_loop_t *loop, seen_t *seen, struct sockaddr_storage *bound)
{
    struct sockaddr_in any = loopback_any_port();
    hcp_udp_io_config_t config = {.bind = (struct sockaddr *)&any, .on_recv = on_recv,
                                  .data = seen, .who = "test"};
    hcp_udp_io_t *io = NULL;

    ck_assert_int_eq(hcp_udp_io_open(loop, &config, &io), 0);
    ck_assert_int_eq(hcp_udp_io_local(io, bound), 0);
    return io;
}

/* A plain socket of the test's, to look at the wire from outside. */
static int raw_socket(struct sockaddr_storage *bound)
{
    struct sockaddr_in any = loopback_any_port();
    socklen_t len = sizeof *bound;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&any, sizeof any), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)bound, &len), 0);
    return fd;
}

/* Runs |loop| until |done| says so, a pass at a time, for at most 2 s of passes. */
static void run_until(uv_loop_t *loop, bool (*done)(void *), void *arg)
{
    for (int i = 0; i < 2000 && !done(arg); i++)
        uv_run(loop, UV_RUN_ONCE);
    ck_assert(done(arg));
}

typedef struct sender {
    hcp_udp_io_t *io;
    const struct sockaddr *to;
    int watch_fd;            /* where the datagrams go, read from outside */
    unsigned count;
    size_t len;
    int seen_in_pass;        /* datagrams watch_fd had before the pass ended */
} sender_t;

static void send_in_one_pass(uv_timer_t *timer)
{
    sender_t *s = timer->data;
    uint8_t dgram[32 * 1024], probe[16];

    for (unsigned i = 0; i < s->count; i++) {
        memset(dgram, (int)(i & 0xff), s->len);
        hcp_udp_io_send(s->io, s->to, dgram, s->len);
    }
    for (s->seen_in_pass = 0; s->watch_fd >= 0 && recv(s->watch_fd, probe, sizeof probe, 0) > 0;)
        s->seen_in_pass++;
}

/* Two sockets on one loop, and a timer that sends from the first in one pass. */
typedef struct rig {
    uv_loop_t loop;
    uv_timer_t timer;
    seen_t a, b;
    struct sockaddr_storage a_addr, b_addr;
    hcp_udp_io_t *io_a, *io_b; /* io_b NULL when the test needs one socket */
    sender_t sender;
} rig_t;

static void rig_open(rig_t *r, bool two)
{
    memset(r, 0, sizeof *r);
    hcp_log_init(HCC_LOG_ERROR);
    uv_loop_init(&r->loop);
    r->io_a = open_bound(&r->loop, &r->a, &r->a_addr);
    if (two)
        r->io_b = open_bound(&r->loop, &r->b, &r->b_addr);
    uv_timer_init(&r->loop, &r->timer);
    r->timer.data = &r->sender;
}

/* |count| datagrams of |len| bytes from |io| to |to| in the next pass (a timer callback). */
static void rig_send(rig_t *r, hcp_udp_io_t *io, const struct sockaddr *to, unsigned count,
                     size_t len, int watch_fd)
{
    r->sender = (sender_t){.io = io, .to = to, .count = count, .len = len, .watch_fd = watch_fd};
    uv_timer_start(&r->timer, send_in_one_pass, 0, 0);
}

static void rig_close(rig_t *r)
{
    hcp_udp_io_close(r->io_a);
    if (r->io_b != NULL)
        hcp_udp_io_close(r->io_b);
    uv_close((uv_handle_t *)&r->timer, NULL);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(uv_loop_close(&r->loop), 0);
}

static bool all_arrived(void *arg)
{
    const seen_t *seen = arg;
    return seen->datagrams >= MANY && seen->drained > 0;
}

START_TEST(datagrams_of_a_pass_leave_at_its_end_in_order)
{
    rig_t r;

    rig_open(&r, true);
    rig_send(&r, r.io_a, (struct sockaddr *)&r.b_addr, MANY, 40, -1);
    run_until(&r.loop, all_arrived, &r.b);
    ck_assert_uint_eq(r.b.datagrams, MANY);
    for (unsigned i = 0; i < MANY; i++) {
        ck_assert_uint_eq(r.b.lengths[i], 40);
        ck_assert_uint_eq(r.b.first_bytes[i], i & 0xff);
    }
    ck_assert_int_eq(memcmp(&((struct sockaddr_in *)&r.b.from)->sin_port,
                            &((struct sockaddr_in *)&r.a_addr)->sin_port, 2), 0);
    rig_close(&r);
}
END_TEST

START_TEST(the_first_leaves_at_once_the_rest_at_the_end_of_the_pass)
{
    rig_t r;
    struct sockaddr_storage watch_addr;
    int watch = raw_socket(&watch_addr), n = 0;
    uint8_t buf[64];

    rig_open(&r, false);
    rig_send(&r, r.io_a, (struct sockaddr *)&watch_addr, 3, 10, watch);
    /* Two passes that never block: libuv 1.44 runs timers before the prepare callbacks of the
     * same pass, 1.45 and later after the poll, so the flush is the next pass's prepare. */
    uv_run(&r.loop, UV_RUN_NOWAIT);
    uv_run(&r.loop, UV_RUN_NOWAIT);
    ck_assert_int_eq(r.sender.seen_in_pass, 1); /* the others queued while the timer ran */
    while (recv(watch, buf, sizeof buf, 0) == 10)
        n++;
    ck_assert_int_eq(n, 2); /* sent before the loop would have blocked */
    rig_close(&r);
    close(watch);
}
END_TEST

static bool two_arrived(void *arg)
{
    const seen_t *seen = arg;
    return seen->datagrams >= 2;
}

START_TEST(a_datagram_larger_than_the_queue_arrives_whole)
{
    rig_t r;

    rig_open(&r, true);
    rig_send(&r, r.io_a, (struct sockaddr *)&r.b_addr, 2, 30000, -1);
    run_until(&r.loop, two_arrived, &r.b);
    ck_assert_uint_eq(r.b.datagrams, 2);
    ck_assert_uint_eq(r.b.lengths[0], 30000);
    ck_assert_uint_eq(r.b.first_bytes[1], 1);
    rig_close(&r);
}
END_TEST

static bool refused(void *arg)
{
    const seen_t *seen = arg;
    return seen->refused > 0;
}

START_TEST(a_closed_port_is_reported_as_refused)
{
    rig_t r;
    struct sockaddr_storage gone;
    int fd = raw_socket(&gone);
    hcp_udp_io_config_t config = {.connect = (struct sockaddr *)&gone, .on_recv = on_recv,
                                  .data = &r.b, .who = "test"};

    close(fd); /* nobody listens there now: the kernel answers port unreachable */
    rig_open(&r, false);
    ck_assert_int_eq(hcp_udp_io_open(&r.loop, &config, &r.io_b), 0);
    rig_send(&r, r.io_b, NULL, 1, 4, -1);
    run_until(&r.loop, refused, &r.b);
    /* once more: the socket is still watched after the error libuv reports as POLLERR */
    r.b.refused = 0;
    rig_send(&r, r.io_b, NULL, 1, 4, -1);
    run_until(&r.loop, refused, &r.b);
    rig_close(&r);
}
END_TEST

/* |n| datagrams of 3 bytes from a plain socket of the test's to |to|, after an empty one. */
static void send_from_outside(const struct sockaddr_storage *to, int n)
{
    struct sockaddr_storage out_addr;
    int out = raw_socket(&out_addr);
    uint8_t dgram[3] = {7, 7, 7};

    ck_assert_int_eq(sendto(out, dgram, 0, 0, (const struct sockaddr *)to,
                            sizeof(struct sockaddr_in)), 0);
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(sendto(out, dgram, sizeof dgram, 0, (const struct sockaddr *)to,
                                sizeof(struct sockaddr_in)), (ssize_t)sizeof dgram);
    close(out);
}

static bool one_arrived(void *arg)
{
    const seen_t *seen = arg;
    return seen->datagrams >= 1;
}

START_TEST(an_empty_datagram_is_not_delivered)
{
    rig_t r;

    rig_open(&r, false);
    send_from_outside(&r.a_addr, 1);
    run_until(&r.loop, one_arrived, &r.a);
    ck_assert_uint_eq(r.a.datagrams, 1);
    ck_assert_uint_eq(r.a.lengths[0], 3);
    rig_close(&r);
}
END_TEST

START_TEST(closed_in_a_callback_delivers_nothing_more)
{
    uv_loop_t loop;
    seen_t b = {.close_on_first = true};
    struct sockaddr_storage b_addr;

    hcp_log_init(HCC_LOG_ERROR);
    uv_loop_init(&loop);
    open_bound(&loop, &b, &b_addr);
    send_from_outside(&b_addr, 5);
    uv_run(&loop, UV_RUN_DEFAULT); /* ends when the socket, closed in the callback, is gone */
    ck_assert_uint_eq(b.datagrams, 1);
    ck_assert_uint_eq(b.drained, 0);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("udp_io");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, datagrams_of_a_pass_leave_at_its_end_in_order);
    tcase_add_test(tc, the_first_leaves_at_once_the_rest_at_the_end_of_the_pass);
    tcase_add_test(tc, a_datagram_larger_than_the_queue_arrives_whole);
    tcase_add_test(tc, a_closed_port_is_reported_as_refused);
    tcase_add_test(tc, closed_in_a_callback_delivers_nothing_more);
    tcase_add_test(tc, an_empty_datagram_is_not_delivered);
    suite_add_tcase(s, tc);
    return run_suite(s);
}

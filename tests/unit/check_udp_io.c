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

static bool all_arrived(void *arg)
{
    const seen_t *seen = arg;
    return seen->datagrams >= MANY && seen->drained > 0;
}

START_TEST(datagrams_of_a_pass_leave_at_its_end_in_order)
{
    uv_loop_t loop;
    uv_timer_t timer;
    seen_t a = {0}, b = {0};
    struct sockaddr_storage a_addr, b_addr;
    hcp_udp_io_t *io_a, *io_b;
    sender_t s = {.count = MANY, .len = 40, .watch_fd = -1};

    hcp_log_init(HCC_LOG_ERROR);
    uv_loop_init(&loop);
    io_a = open_bound(&loop, &a, &a_addr);
    io_b = open_bound(&loop, &b, &b_addr);
    s.io = io_a;
    s.to = (struct sockaddr *)&b_addr;
    uv_timer_init(&loop, &timer);
    timer.data = &s;
    uv_timer_start(&timer, send_in_one_pass, 0, 0);
    run_until(&loop, all_arrived, &b);
    ck_assert_uint_eq(b.datagrams, MANY);
    for (unsigned i = 0; i < MANY; i++) {
        ck_assert_uint_eq(b.lengths[i], 40);
        ck_assert_uint_eq(b.first_bytes[i], i & 0xff);
    }
    ck_assert_int_eq(memcmp(&((struct sockaddr_in *)&b.from)->sin_port,
                            &((struct sockaddr_in *)&a_addr)->sin_port, 2), 0);
    hcp_udp_io_close(io_a);
    hcp_udp_io_close(io_b);
    uv_close((uv_handle_t *)&timer, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

START_TEST(the_first_leaves_at_once_the_rest_at_the_end_of_the_pass)
{
    uv_loop_t loop;
    uv_timer_t timer;
    seen_t a = {0};
    struct sockaddr_storage a_addr, watch_addr;
    hcp_udp_io_t *io_a;
    int watch = raw_socket(&watch_addr);
    sender_t s = {.count = 3, .len = 10, .watch_fd = watch};
    uint8_t buf[64];
    int n = 0;

    hcp_log_init(HCC_LOG_ERROR);
    uv_loop_init(&loop);
    io_a = open_bound(&loop, &a, &a_addr);
    s.io = io_a;
    s.to = (struct sockaddr *)&watch_addr;
    uv_timer_init(&loop, &timer);
    timer.data = &s;
    uv_timer_start(&timer, send_in_one_pass, 0, 0);
    uv_run(&loop, UV_RUN_NOWAIT); /* timers, then the prepare callback before the poll */
    ck_assert_int_eq(s.seen_in_pass, 1); /* the others queued while the timer callback ran */
    while (recv(watch, buf, sizeof buf, 0) == 10)
        n++;
    ck_assert_int_eq(n, 2); /* sent before the loop would have blocked */
    hcp_udp_io_close(io_a);
    uv_close((uv_handle_t *)&timer, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
    close(watch);
}
END_TEST

START_TEST(a_datagram_larger_than_the_queue_arrives_whole)
{
    uv_loop_t loop;
    uv_timer_t timer;
    seen_t a = {0}, b = {0};
    struct sockaddr_storage a_addr, b_addr;
    hcp_udp_io_t *io_a, *io_b;
    sender_t s = {.count = 2, .len = 30000, .watch_fd = -1};

    hcp_log_init(HCC_LOG_ERROR);
    uv_loop_init(&loop);
    io_a = open_bound(&loop, &a, &a_addr);
    io_b = open_bound(&loop, &b, &b_addr);
    s.io = io_a;
    s.to = (struct sockaddr *)&b_addr;
    uv_timer_init(&loop, &timer);
    timer.data = &s;
    uv_timer_start(&timer, send_in_one_pass, 0, 0);
    for (int i = 0; i < 2000 && b.datagrams < 2; i++)
        uv_run(&loop, UV_RUN_ONCE);
    ck_assert_uint_eq(b.datagrams, 2);
    ck_assert_uint_eq(b.lengths[0], 30000);
    ck_assert_uint_eq(b.first_bytes[1], 1);
    hcp_udp_io_close(io_a);
    hcp_udp_io_close(io_b);
    uv_close((uv_handle_t *)&timer, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

static bool refused(void *arg)
{
    const seen_t *seen = arg;
    return seen->refused > 0;
}

START_TEST(a_closed_port_is_reported_as_refused)
{
    uv_loop_t loop;
    uv_timer_t timer;
    seen_t a = {0};
    struct sockaddr_storage gone;
    int fd = raw_socket(&gone);
    hcp_udp_io_config_t config = {.connect = (struct sockaddr *)&gone, .on_recv = on_recv,
                                  .data = &a, .who = "test"};
    hcp_udp_io_t *io;
    sender_t s = {.count = 1, .len = 4, .watch_fd = -1};

    close(fd); /* nobody listens there now: the kernel answers port unreachable */
    hcp_log_init(HCC_LOG_ERROR);
    uv_loop_init(&loop);
    ck_assert_int_eq(hcp_udp_io_open(&loop, &config, &io), 0);
    s.io = io;
    uv_timer_init(&loop, &timer);
    timer.data = &s;
    uv_timer_start(&timer, send_in_one_pass, 0, 0);
    run_until(&loop, refused, &a);
    /* once more: the socket is still watched after the error libuv reports as POLLERR */
    a.refused = 0;
    uv_timer_start(&timer, send_in_one_pass, 0, 0);
    run_until(&loop, refused, &a);
    hcp_udp_io_close(io);
    uv_close((uv_handle_t *)&timer, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

START_TEST(closed_in_a_callback_delivers_nothing_more)
{
    uv_loop_t loop;
    seen_t b = {.close_on_first = true};
    struct sockaddr_storage b_addr, out_addr;
    hcp_udp_io_t *io_b;
    int out = raw_socket(&out_addr);
    uint8_t dgram[8] = {7};

    hcp_log_init(HCC_LOG_ERROR);
    uv_loop_init(&loop);
    io_b = open_bound(&loop, &b, &b_addr);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(sendto(out, dgram, sizeof dgram, 0, (struct sockaddr *)&b_addr,
                                sizeof(struct sockaddr_in)), (ssize_t)sizeof dgram);
    ck_assert_int_eq(sendto(out, dgram, 0, 0, (struct sockaddr *)&b_addr,
                            sizeof(struct sockaddr_in)), 0); /* empty: never delivered */
    uv_run(&loop, UV_RUN_DEFAULT); /* ends when the socket, closed in the callback, is gone */
    ck_assert_uint_eq(b.datagrams, 1);
    ck_assert_uint_eq(b.drained, 0);
    (void)io_b;
    ck_assert_int_eq(uv_loop_close(&loop), 0);
    close(out);
}
END_TEST

START_TEST(an_empty_datagram_is_not_delivered)
{
    uv_loop_t loop;
    seen_t b = {0};
    struct sockaddr_storage b_addr, out_addr;
    hcp_udp_io_t *io_b;
    int out = raw_socket(&out_addr);
    uint8_t dgram[3] = {9, 9, 9};

    hcp_log_init(HCC_LOG_ERROR);
    uv_loop_init(&loop);
    io_b = open_bound(&loop, &b, &b_addr);
    ck_assert_int_eq(sendto(out, dgram, 0, 0, (struct sockaddr *)&b_addr,
                            sizeof(struct sockaddr_in)), 0);
    ck_assert_int_eq(sendto(out, dgram, sizeof dgram, 0, (struct sockaddr *)&b_addr,
                            sizeof(struct sockaddr_in)), (ssize_t)sizeof dgram);
    for (int i = 0; i < 2000 && b.datagrams < 1; i++)
        uv_run(&loop, UV_RUN_ONCE);
    ck_assert_uint_eq(b.datagrams, 1);
    ck_assert_uint_eq(b.lengths[0], 3);
    hcp_udp_io_close(io_b);
    uv_run(&loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
    close(out);
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

/* udp_io: a UDP socket on the loop that costs as few system calls as the traffic allows, for every
 * UDP socket hcproxy reads and writes itself (coap_udp.c's listeners, upstream_udp.c's sockets to
 * CoAP servers).
 *
 * - Reading: when the socket is readable, one recvmmsg() takes every datagram waiting (up to
 *   HCP_UDP_IO_BATCH at a time). A batch that comes back short has emptied the socket, so no
 *   further call is made to find EAGAIN: the poll is level-triggered and says so again when more
 *   arrives. libuv's uv_udp_t makes one recvmsg() per datagram and one more that fails.
 * - Writing: the first datagram of a loop pass goes out at once, so that a lone request waits for
 *   nothing; hcp_udp_io_send() copies the ones that follow into the socket's queue, which goes out
 *   with one sendmmsg() once the loop pass that produced it is over (a uv_check right after the
 *   poll phase, and a uv_prepare right before the loop would block, for what timers and idle
 *   callbacks sent), or once the datagrams just read have been handled, for what they made the
 *   socket send back. libuv's uv_udp_try_send() is one sendmsg() per datagram.
 * A datagram the kernel cannot take at once is dropped, as the network might have dropped it; the
 * message layers' retransmissions cover it (RFC 7252 s4.2). */
#ifndef HCP_UDP_IO_H
#define HCP_UDP_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <uv.h>

/* Datagrams one recvmmsg() or sendmmsg() takes at most. */
#define HCP_UDP_IO_BATCH 32

typedef struct hcp_udp_io hcp_udp_io_t;

typedef enum hcp_udp_io_recv {
    HCP_UDP_IO_DATAGRAM,  /* a whole datagram of |len| bytes (one or more) from |from| */
    HCP_UDP_IO_DRAINED,   /* nothing more to read now: the datagrams of this readiness are over */
    HCP_UDP_IO_REFUSED,   /* ECONNREFUSED on a connected socket, from a receive or a send: an
                             ICMP port unreachable came back */
    HCP_UDP_IO_TRUNCATED, /* larger than 64 KiB: cut short, not to be read */
} hcp_udp_io_recv_t;

/* What the socket brought. |dgram| and |from| are valid during the call only. The callback may
 * send, and may close the socket (nothing more is delivered then). */
typedef void (*hcp_udp_io_recv_cb)(hcp_udp_io_t *io, hcp_udp_io_recv_t kind, const uint8_t *dgram,
                                   size_t len, const struct sockaddr *from);

typedef struct hcp_udp_io_config {
    const struct sockaddr *bind;    /* the local address; NULL for an ephemeral port */
    const struct sockaddr *connect; /* the one peer of a connected socket, or NULL; sends to a
                                     * connected socket name no peer */
    int receive_buffer;             /* SO_RCVBUF in bytes; 0 leaves the system's */
    hcp_udp_io_recv_cb on_recv;
    void *data;                     /* hcp_udp_io_data() */
    const char *who;                /* the prefix of its log lines: "coap", "upstream" */
} hcp_udp_io_config_t;

/* A socket of |cfg|'s address family, bound and/or connected, reading. Returns 0 and sets *out,
 * or a negative UV_E* code. */
int hcp_udp_io_open(uv_loop_t *loop, const hcp_udp_io_config_t *cfg, hcp_udp_io_t **out);
/* Queues |len| bytes for |to| (NULL on a connected socket); they leave at the end of the loop
 * pass, or of the receive callbacks under way. A datagram that does not fit the queue is dropped (logged at debug level). */
void hcp_udp_io_send(hcp_udp_io_t *io, const struct sockaddr *to, const uint8_t *dgram,
                     size_t len);
/* The address the socket is bound to: 0, or a negative UV_E* code. */
int hcp_udp_io_local(const hcp_udp_io_t *io, struct sockaddr_storage *out);
void *hcp_udp_io_data(const hcp_udp_io_t *io);
/* Sends what is queued, and closes; the memory goes once the loop has let go of the handles. */
void hcp_udp_io_close(hcp_udp_io_t *io);

#endif

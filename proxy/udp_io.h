/* udp_io: what one call of a uv_udp_recv_cb brought, read the same way for every UDP socket
 * hcproxy reads (coap_udp.c's listeners, upstream_udp.c's sockets to CoAP servers). */
#ifndef HCP_UDP_IO_H
#define HCP_UDP_IO_H

#include <sys/socket.h>
#include <sys/types.h>

typedef enum hcp_udp_io_recv {
    HCP_UDP_IO_DATAGRAM,  /* a whole datagram of |nread| bytes (one or more) from |from| */
    HCP_UDP_IO_DRAINED,   /* nothing more to read now: the batch of datagrams is over */
    HCP_UDP_IO_REFUSED,   /* ECONNREFUSED: an ICMP port unreachable came back to a connected
                             socket */
    HCP_UDP_IO_TRUNCATED, /* larger than the buffer (UV_UDP_PARTIAL): cut short, not to be read */
    HCP_UDP_IO_NOTHING,   /* a receive error (logged), or an empty datagram */
} hcp_udp_io_recv_t;

/* The kind of a uv_udp_recv_cb's call from its |nread|, |from| and |flags| (libuv's uv_udp_recv_cb
 * contract); a receive error is logged as "|who|: receiving: ...". */
hcp_udp_io_recv_t hcp_udp_io_recv_kind(ssize_t nread, const struct sockaddr *from, unsigned flags,
                                       const char *who);

#endif

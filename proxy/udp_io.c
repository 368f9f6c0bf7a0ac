/* What one call of a uv_udp_recv_cb brought (udp_io.h). */
#include "udp_io.h"

#include <uv.h>

#include "hcc.h"
#include "log.h"

hcp_udp_io_recv_t hcp_udp_io_recv_kind(ssize_t nread, const struct sockaddr *from, unsigned flags,
                                       const char *who)
{
    if (nread == UV_ECONNREFUSED)
        return HCP_UDP_IO_REFUSED; /* not an error of the socket's: the caller knows whose it is */
    if (nread < 0) {
        hcp_log(HCC_LOG_WARN, 0, "%s: receiving: %s", who, uv_strerror((int)nread));
        return HCP_UDP_IO_NOTHING;
    }
    if (from == NULL)
        return nread == 0 ? HCP_UDP_IO_DRAINED : HCP_UDP_IO_NOTHING;
    if (nread == 0)
        return HCP_UDP_IO_NOTHING;
    return (flags & UV_UDP_PARTIAL) ? HCP_UDP_IO_TRUNCATED : HCP_UDP_IO_DATAGRAM;
}

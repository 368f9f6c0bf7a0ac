/* The first resolved address a destination policy allows (address.h). */
#include "address.h"

#include "hcm.h"
#include "sockaddr.h"

int hcp_address_pick(const struct addrinfo *res, uint16_t port, hcp_address_judge_cb judge,
                     const void *ctx, struct sockaddr_storage *out)
{
    int err = HCM_EFORBIDDEN;

    for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        int why = HCM_EFORBIDDEN;
        if (ai->ai_family == AF_INET || ai->ai_family == AF_INET6) {
            hcp_sockaddr_with_port(ai->ai_addr, port, out);
            why = judge(ctx, (const struct sockaddr *)out);
        }
        if (why == 0)
            return 0;
        if (ai == res)
            err = why;
    }
    return err;
}

/* address: which of a name's resolved addresses a request goes to, the same rule in both
 * directions. Pure, no I/O (tests/unit/check_address.c). */
#ifndef HCP_ADDRESS_H
#define HCP_ADDRESS_H

#include <netdb.h>
#include <stdint.h>
#include <sys/socket.h>

/* A destination policy's verdict on |sa| (with the request's port): 0 when it may be reached,
 * else a negative HCM_E* code saying why not. */
typedef int (*hcp_address_judge_cb)(const void *ctx, const struct sockaddr *sa);

/* The first IPv4 or IPv6 address in |res| (getaddrinfo's list, NULL for none) that |judge|
 * allows, with |port|, into |out|: 0. Else why not: the reason the first address was refused
 * (HCM_EFORBIDDEN for one of another family, or for an empty list), so that the answer names the
 * address a client would have expected to be used. */
int hcp_address_pick(const struct addrinfo *res, uint16_t port, hcp_address_judge_cb judge,
                     const void *ctx, struct sockaddr_storage *out);

#endif

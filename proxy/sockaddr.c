/* Small facts about IPv4 and IPv6 socket addresses that the directions, the policy and the
 * upstream all need: where the address bytes are, the same address with another port, an IP
 * literal as an address, and an address as text for the log. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "sockaddr.h"

size_t hcp_sockaddr_len(const struct sockaddr *sa)
{
    return sa->sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

/* Offsets, not casts: |sa| may point at bytes not aligned as a sockaddr_in or _in6 is. */
const void *hcp_sockaddr_ip(const struct sockaddr *sa)
{
    size_t at = sa->sa_family == AF_INET ? offsetof(struct sockaddr_in, sin_addr)
                                         : offsetof(struct sockaddr_in6, sin6_addr);

    return (const uint8_t *)sa + at;
}

/* The port of an AF_INET or AF_INET6 |sa|, in host byte order. */
static uint16_t port_of(const struct sockaddr *sa)
{
    uint16_t port;

    _Static_assert(offsetof(struct sockaddr_in, sin_port) ==
                       offsetof(struct sockaddr_in6, sin6_port),
                   "the port is at one offset in both families");
    memcpy(&port, (const uint8_t *)sa + offsetof(struct sockaddr_in, sin_port), sizeof port);
    return ntohs(port);
}

void hcp_sockaddr_with_port(const struct sockaddr *sa, uint16_t port, struct sockaddr_storage *out)
{
    memset(out, 0, sizeof *out);
    memcpy(out, sa, hcp_sockaddr_len(sa));
    if (sa->sa_family == AF_INET)
        ((struct sockaddr_in *)out)->sin_port = htons(port);
    else
        ((struct sockaddr_in6 *)out)->sin6_port = htons(port);
}

bool hcp_sockaddr_literal(const char *host, uint16_t port, struct sockaddr_storage *out)
{
    struct sockaddr_in *sin = (struct sockaddr_in *)out;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;

    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        return true;
    }
    if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        return true;
    }
    return false;
}

void hcp_sockaddr_format(const struct sockaddr *sa, char *out, size_t len)
{
    char host[INET6_ADDRSTRLEN] = "?";
    bool is_v6;

    if (sa == NULL || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)) {
        out[0] = '\0';
        return;
    }
    is_v6 = sa->sa_family == AF_INET6;
    inet_ntop(sa->sa_family, hcp_sockaddr_ip(sa), host, sizeof host);
    snprintf(out, len, is_v6 ? "[%s]:%u" : "%s:%u", host, port_of(sa));
}

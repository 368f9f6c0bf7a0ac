/* sockaddr.c: IPv4 and IPv6 socket addresses. */
#ifndef HCP_SOCKADDR_H
#define HCP_SOCKADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* The size of an AF_INET or AF_INET6 |sa|: a struct sockaddr_in or sockaddr_in6. */
size_t hcp_sockaddr_len(const struct sockaddr *sa);
/* The 4 or 16 address bytes of an AF_INET or AF_INET6 |sa|, in network byte order. */
const void *hcp_sockaddr_ip(const struct sockaddr *sa);
/* |sa| (AF_INET or AF_INET6) with |port| instead of its own. */
void hcp_sockaddr_with_port(const struct sockaddr *sa, uint16_t port, struct sockaddr_storage *out);
/* |sa| as "address:port" or "[address]:port"; "" for NULL or another family. */
void hcp_sockaddr_format(const struct sockaddr *sa, char *out, size_t len);
/* |host| as an address with |port| when it is an IPv4 or IPv6 literal; false for a name. */
bool hcp_sockaddr_literal(const char *host, uint16_t port, struct sockaddr_storage *out);

#endif

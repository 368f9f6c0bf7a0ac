/* policy.c: what no configuration can allow (a multicast group, hcproxy itself), bearer tokens
 * and the per-client rate. */
#ifndef HCP_POLICY_H
#define HCP_POLICY_H

#include <stdint.h>
#include <sys/socket.h>

typedef struct hcp_proxy hcp_proxy_t;

/* The side one of hcproxy's own listening addresses serves. */
typedef enum hcp_policy_own_kind { HCP_POLICY_OWN_HTTP, HCP_POLICY_OWN_COAP } hcp_policy_own_kind_t;

/* Records a listening address: |sa| with |port|, the one the kernel bound. */
void hcp_policy_add_own(hcp_proxy_t *proxy, hcp_policy_own_kind_t kind, const struct sockaddr *sa,
                        uint16_t port);
/* Judges a destination the allow rules have let through: HCM_EMULTICAST for a multicast group
 * (RFC 8075 s10.4), HCM_ESELFLOOP for one of hcproxy's own |kind| listeners (the address and
 * port; a wildcard listener counts for every local address), else 0. */
int hcp_policy_check(const hcp_proxy_t *proxy, hcp_policy_own_kind_t kind,
                     const struct sockaddr *dest);
/* http.rate_limit: 0, or HCM_ERATELIMIT when the client at |client| has used up its requests. */
int hcp_policy_rate(hcp_proxy_t *proxy, const struct sockaddr *client);
/* Judges an HTTP request's Authorization header (NULL when absent) against http.bearer_tokens:
 * 0 when none are configured or it carries one of them, else HCM_ENOTOKEN or HCM_EBADTOKEN. */
int hcp_policy_authorize(const hcp_proxy_t *proxy, const char *authorization);
/* Frees the addresses recorded (after the loop has ended). */
void hcp_policy_free(hcp_proxy_t *proxy);

#endif

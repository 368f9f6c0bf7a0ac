/* coap_udp.c: the coap:// entries of coap.listen, the reverse direction's transport (reverse.h)
 * through hcproxy's own message layer (msglayer.h). */
#ifndef HCP_COAP_UDP_H
#define HCP_COAP_UDP_H

typedef struct hcp_proxy hcp_proxy_t;
struct hcp_msglayer_stats;

/* The coap:// entries, each a socket of its own on the loop with its own message layer. */
int hcp_coap_udp_start(hcp_proxy_t *proxy);
/* Closes them; every reply must have ended. */
void hcp_coap_udp_stop(hcp_proxy_t *proxy);
/* Their message layers' counters, added up (for /metrics). */
void hcp_coap_udp_stats(const hcp_proxy_t *proxy, struct hcp_msglayer_stats *sum);

#endif

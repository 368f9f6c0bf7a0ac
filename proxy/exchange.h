/* exchange: one HTTP request's life, from its request line to its answer, through the CoAP
 * server it names (exchange.c, exchange_answer.c). */
#ifndef HCP_EXCHANGE_H
#define HCP_EXCHANGE_H

#include <stddef.h>
#include <stdint.h>

typedef struct hcp_proxy hcp_proxy_t;
typedef struct hcp_exchange hcp_exchange_t;

/* An exchange is created when libmicrohttpd sees a request line (hcp_exchange_new) and is
 * freed once libmicrohttpd has completed the request and every uv handle of it is closed. */
hcp_exchange_t *hcp_exchange_new(hcp_proxy_t *proxy, void *connection, const char *raw_uri);
uint64_t hcp_exchange_id(const hcp_exchange_t *ex);

/* Frees the blocks kept for reuse (after the loop has ended). */
void hcp_exchange_free_spares(hcp_proxy_t *proxy);
/* Answers every exchange in flight with 503 (at shutdown). */
void hcp_exchange_abort_all(hcp_proxy_t *proxy);

/* The access handler's work for one call (front.c passes libmicrohttpd's arguments through). */
int hcp_exchange_on_http(hcp_exchange_t *ex, const char *method, const char *version,
                         const char *upload_data, size_t *upload_data_size);
/* libmicrohttpd has completed the request; |ex| must not be used by front.c afterwards. */
void hcp_exchange_on_http_done(hcp_exchange_t *ex);

#endif

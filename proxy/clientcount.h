/* How many CoAP -> HTTP exchanges each client address has in flight, for
 * coap.max_inflight_per_client: one device (or one spoofed source) flooding the listener cannot
 * take the whole of coap.max_inflight from the others. No I/O: tests/unit/check_clientcount.c
 * drives it. */
#ifndef HCP_CLIENTCOUNT_H
#define HCP_CLIENTCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hcp_clientcount hcp_clientcount_t;

/* The client key: an address family byte and the 4 or 16 address bytes, no port. */
typedef struct hcp_clientcount_key {
    uint8_t bytes[17];
    uint8_t len;
} hcp_clientcount_key_t;

struct sockaddr;

/* The key of the client at |sa| (AF_INET or AF_INET6), its port aside. */
void hcp_clientcount_key_of(const struct sockaddr *sa, hcp_clientcount_key_t *key);

hcp_clientcount_t *hcp_clientcount_new(void);
void hcp_clientcount_free(hcp_clientcount_t *counts);

/* What |key| has in flight. */
unsigned hcp_clientcount_get(const hcp_clientcount_t *counts, const hcp_clientcount_key_t *key);
/* One more for |key|; false when out of memory (the caller refuses the exchange). */
bool hcp_clientcount_add(hcp_clientcount_t *counts, const hcp_clientcount_key_t *key);
/* One less for |key|; a client with none left is forgotten, so memory follows what is in
 * flight, not how many addresses ever wrote. */
void hcp_clientcount_remove(hcp_clientcount_t *counts, const hcp_clientcount_key_t *key);
/* Clients with anything in flight. */
size_t hcp_clientcount_clients(const hcp_clientcount_t *counts);

#endif

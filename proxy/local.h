/* local.c: the resources hcproxy serves itself (/healthz, /readyz, /version, /metrics). */
#ifndef HCP_LOCAL_H
#define HCP_LOCAL_H

#include <stdbool.h>
#include <stddef.h>

typedef struct hcp_proxy hcp_proxy_t;

/* At most this many resources, indexed as local.c's table (the metrics count each). */
#define HCP_LOCAL_MAX 8

typedef struct hcp_local {
    unsigned status;
    int index;           /* in local.c's table, for the metrics */
    const char *content_type;
    char text[16384];
    size_t len;
} hcp_local_t;

/* Whether |raw_uri| names one of hcproxy's own resources; if so, fills |out|. */
bool hcp_local_find(const hcp_proxy_t *proxy, const char *raw_uri, hcp_local_t *out);
/* Whether |raw_uri| is one of them that needs no bearer token (/healthz, /readyz). */
bool hcp_local_is_public(const char *raw_uri);
/* The path of resource |index|, NULL past the last. */
const char *hcp_local_path(int index);

#endif

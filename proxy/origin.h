/* origin: the reverse direction's HTTP client, libcurl's multi-socket interface on the loop.
 * origin.c holds the interface and loads libcurl; origin_multi.c runs libcurl's sockets and timer
 * on the loop; origin_easy.c builds and finishes one transfer (origin_int.h). */
#ifndef HCP_ORIGIN_H
#define HCP_ORIGIN_H

#include <stddef.h>
#include <stdint.h>

#include "hcm.h"

typedef struct hcp_proxy hcp_proxy_t;
typedef struct hcp_origin hcp_origin_t;
typedef struct hcp_origin_fetch hcp_origin_fetch_t;

typedef struct hcp_origin_result {
    int err;          /* 0, or a negative HCM_E* code when there is no HTTP answer */
    unsigned status;  /* the final response's status */
    hcm_header_t headers[32]; /* the final response's header fields (owned by the fetch) */
    size_t nheaders;
    uint8_t *body;    /* owned by the fetch */
    size_t body_len;
} hcp_origin_result_t;

/* Called once per fetch, from the loop, never from within a call into origin.c (a finished
 * fetch waits on a queue for it); |result| lives until the callback returns. */
typedef void (*hcp_origin_done_cb)(void *data, const hcp_origin_result_t *result);

int hcp_origin_new(hcp_proxy_t *proxy, hcp_origin_t **out);
void hcp_origin_close(hcp_origin_t *origin);
/* Sends |req| to |address| (the numeric address approved for req->host), or through
 * origin.http_proxy when |address| is NULL (hcc_origin_proxied()), for the exchange |exchange|
 * (the id its log lines carry). |req| is the caller's and must live until |on_done| or
 * hcp_origin_cancel(); |address| is copied. 0, or a negative HCM_E* code (HCM_ENOHTTPCLIENT once
 * libcurl has failed to load); on 0 |on_done| follows, never from within this call, unless
 * hcp_origin_cancel() comes first. */
int hcp_origin_fetch(hcp_origin_t *origin, const hcm_origin_req_t *req, const char *address,
                     uint64_t exchange, hcp_origin_done_cb on_done, void *data,
                     hcp_origin_fetch_t **out);
void hcp_origin_cancel(hcp_origin_fetch_t *fetch);

#endif

/* What origin.c, origin_multi.c and origin_easy.c share: the HTTP client's state and one fetch's.
 * Private to those three; the interface is origin.h. */
#ifndef HCP_ORIGIN_INT_H
#define HCP_ORIGIN_INT_H

#include <stdbool.h>

#include <uv.h>

#include "hcm.h"
#include "libcurl.h"
#include "origin.h"
#include "secrets.h"

typedef enum {
    ORIGIN_NOT_LOADED,
    ORIGIN_LOADING,
    ORIGIN_LOADED,
    ORIGIN_LOAD_FAILED,
} hcp_origin_load_t;

struct hcp_origin {
    hcp_proxy_t *proxy;
    hcp_origin_load_t state; /* the loop's view; the loader thread never writes it */
    /* Written by the loader thread, read on the loop only from on_loaded() on. */
    hcp_libcurl_t api;
    int load_status;      /* 0 or -1 */
    char load_error[256];
    uv_work_t loader;
    hcp_origin_fetch_t *waiting;   /* fetches asked for while libcurl loads, oldest first */
    hcp_origin_fetch_t *completed; /* finished fetches whose callback is still to run */
    uv_idle_t completer;  /* active while |completed| holds any */
    CURLM *multi;
    uv_timer_t timer;     /* libcurl's one timer (origin_multi.c) */
    hcp_secrets_value_t proxy_password; /* origin.http_proxy_auth's, read at start;
                                         * NUL-terminated */
    bool is_closed;       /* hcp_origin_close() has run */
    int open_handles;     /* the timer and the completer; the memory goes at 0 when no load runs */
};

struct hcp_origin_fetch {
    hcp_origin_t *origin;
    hcp_origin_fetch_t *next;    /* on origin->waiting or origin->completed */
    const hcm_origin_req_t *req; /* the caller's, until on_done or hcp_origin_cancel() */
    uint64_t exchange;           /* the caller's exchange, for the log */
    char address[64];            /* the numeric address approved for req->host */
    bool is_proxied;             /* through origin.http_proxy, with no address of its own */
    CURL *easy;
    struct curl_slist *headers;
    struct curl_slist *resolve;
    hcp_origin_done_cb on_done;
    void *data;
    hcp_origin_result_t result;
    size_t body_cap;
    bool is_too_large;
    char error[CURL_ERROR_SIZE]; /* libcurl's own words on a failure, for the log */
};

/* origin.c: |f| is done, f->result says how; its callback runs from the loop, after this has
 * returned. */
void hcp_origin_complete(hcp_origin_fetch_t *f);

/* origin_multi.c: the multi handle in origin->multi, its sockets and timer on the loop. 0 or -1. */
int hcp_origin_multi_new(hcp_origin_t *origin);

/* origin_easy.c: hands |f| to libcurl, which must be loaded. 0 or HCM_EINTERNAL; |f| stays the
 * caller's. */
int hcp_origin_easy_start(hcp_origin_fetch_t *f);
/* Fills f->result from libcurl's outcome |code| and the HTTP |status|; logs a failure. */
void hcp_origin_easy_finish(hcp_origin_fetch_t *f, CURLcode code, long status);
/* Frees |f|, its result and its easy handle (out of the multi handle already). */
void hcp_origin_easy_free(hcp_origin_fetch_t *f);

#endif

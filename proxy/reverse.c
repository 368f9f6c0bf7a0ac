/* The reverse direction (RFC 7252 s10.1): CoAP clients reach HTTP origins. hcproxy's libcoap
 * context also listens on coap.listen; a request with Proxy-Uri or Proxy-Scheme, or under a
 * coap.routes prefix, becomes an HTTP request through origin.c.
 *
 * The CoAP answer is a separate response: the handler registers the request with libcoap's async
 * API (an empty ACK goes out at once), and when the origin has answered, coap_async_trigger()
 * makes libcoap call the handler again with the same request, which then fills the response.
 *
 * Block-wise transfers are hcproxy's own here (libcoap's block mode is off for server sessions,
 * upstream.c says why): the blocks of an upload are gathered in block1.c before anything is
 * forwarded, and a large answer is kept in block2.c and served one block a request. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <coap3/coap.h>

#include "hcp.h"

/* How long a block-wise transfer may wait for its next block: MAX_TRANSMIT_WAIT (RFC 7252
 * s4.8.2), the longest a client may take to get one block through. */
#define UPLOAD_IDLE_NS (93ull * 1000000000ull)
/* Uploads in progress at once, from every client. */
#define MAX_UPLOADS 256
/* Answers kept for their Block2 transfers; past either bound the oldest goes, and its client's
 * next block is asked of the origin again. */
#define MAX_KEPT_ANSWERS 256
#define MAX_KEPT_BYTES (64u << 20)

/* The body of a request that came in Block1 blocks, once hcproxy has all of them. */
typedef struct upload {
    uint8_t *body; /* malloc'd */
    size_t len;
    bool is_blockwise;
    uint32_t block1; /* the last block's Block1 value */
} upload_t;

typedef struct rexchange {
    hcp_proxy_t *proxy;
    struct rexchange *prev, *next; /* in the live list, for shutdown */
    uint64_t id;
    uint64_t started_ns;
    coap_session_t *session; /* referenced while the exchange lives */
    coap_async_t *async;
    hcp_fetch_t *fetch;
    uv_getaddrinfo_t resolver;
    bool is_resolving;
    bool is_abandoned;      /* shut down while resolving: the callback frees */
    bool is_linked;         /* in proxy->reverse_live */
    bool is_started;        /* went to an origin: counted in metrics.reverse_inflight and in
                             * proxy->reverse_clients under client_key */
    hcp_client_key_t client_key;
    bool is_answered;       /* its answer was sent (and counted) */
    char client[INET6_ADDRSTRLEN + 8];
    char request_id[40];    /* made here: a CoAP request carries none */
    hcm_origin_req_t req;
    int redirects_left;     /* origin.redirects, counted down */
    uint8_t code;           /* the answer, once known (0 before) */
    hcm_coap_msg_t answer;
    uint8_t *payload;       /* owned */
    uint8_t *upload;        /* a Block1 upload hcproxy reassembled (block1.c), owned; or NULL */
    size_t upload_len;
    bool is_blockwise;      /* the request came in Block1 blocks: the answer echoes the last */
    uint32_t last_block1;   /* that block's Block1 value (RFC 7959 s2.3) */
    hcm_arena_t arena;
    uint8_t arena_buf[];
} rexchange_t;

/* ---- ending --------------------------------------------------------------------------------- */

static void unlink_live(rexchange_t *rx)
{
    if (!rx->is_linked)
        return;
    if (rx->prev != NULL)
        rx->prev->next = rx->next;
    else
        rx->proxy->reverse_live = rx->next;
    if (rx->next != NULL)
        rx->next->prev = rx->prev;
    rx->is_linked = false;
}

/* The exchange is no longer in flight: answered, or cancelled. */
static void end_inflight(rexchange_t *rx)
{
    rx->proxy->metrics.reverse_inflight--;
    if (rx->proxy->reverse_clients != NULL)
        hcp_clientcount_remove(rx->proxy->reverse_clients, &rx->client_key);
}

static void rexchange_free(rexchange_t *rx)
{
    if (rx->is_started && !rx->is_answered) {
        rx->proxy->metrics.reverse_cancelled++;
        end_inflight(rx);
    }
    unlink_live(rx);
    if (rx->session != NULL)
        coap_session_release(rx->session);
    free(rx->payload);
    free(rx->upload);
    free(rx);
}

/* The answer is ready: libcoap calls the handler again with the registered request. */
static void deliver(rexchange_t *rx)
{
    coap_async_trigger(rx->async);
    hcp_upstream_kick(rx->proxy->upstream);
}

/* One line per answer, its facts as fields; |http_status| 0 when no origin answered. */
static void log_outcome(const rexchange_t *rx, unsigned http_status, int err)
{
    double ms = (double)(uv_hrtime() - rx->started_ns) / 1e6;
    char url[2048], code[8], cause[32];

    if (!hcp_log_enabled(HCC_LOG_INFO))
        return;
    hcp_log_redact(rx->req.url, url, sizeof url);
    snprintf(code, sizeof code, "%u.%02u", rx->code >> 5, rx->code & 0x1f);
    hcp_field_t fields[] = {
        HCP_F_UINT("exchange", rx->id),
        HCP_F_STR("request_id", rx->request_id),
        HCP_F_STR("client", rx->client[0] != '\0' ? rx->client : NULL),
        HCP_F_STR("direction", "coap_to_http"),
        HCP_F_STR("method", rx->req.method),
        HCP_F_STR("url", url),
        HCP_F_STR("code", code),
        http_status > 0 ? HCP_F_UINT("origin_status", http_status) : HCP_F_STR("origin_status", NULL),
        HCP_F_MS("latency_ms", ms),
        HCP_F_STR("cause", hcp_cause_label(err, cause, sizeof cause) ? cause : NULL),
    };
    if (err < 0)
        hcp_log_fields(HCC_LOG_INFO, NULL, fields, HCM_COUNTOF(fields), "coap %s -> %s (%s)", url,
                       code, hcm_strerror(err));
    else
        hcp_log_fields(HCC_LOG_INFO, NULL, fields, HCM_COUNTOF(fields),
                       "coap %s %s -> HTTP %u -> %s", rx->req.method ? rx->req.method : "-", url,
                       http_status, code);
}

static void answer_error(rexchange_t *rx, int err)
{
    const char *reason = hcm_strerror(err);
    size_t len = strlen(reason);

    rx->code = hcm_err_code(err);
    memset(&rx->answer, 0, sizeof rx->answer);
    rx->answer.code = rx->code;
    rx->payload = malloc(len);
    if (rx->payload != NULL) {
        memcpy(rx->payload, reason, len); /* RFC 7252 s5.5.2: a diagnostic payload */
        rx->answer.payload = (hcm_bytes_t){rx->payload, len};
    }
    hcp_metrics_count_cause(rx->is_started ? rx->proxy->metrics.reverse_failed_by_cause
                                           : rx->proxy->metrics.reverse_refused_by_cause,
                            err);
    log_outcome(rx, 0, err);
}

/* ---- the origin's answer ---------------------------------------------------------------------- */

static int reach_origin(rexchange_t *rx);

/* A 307 or 308 the configuration lets hcproxy follow: the same request again, to the new URL,
 * which reach_origin() judges against origin.allow like any other. 1 when the request is on its
 * way (or being resolved), 0 when |result| is the answer, or an error. */
static int follow_redirect(rexchange_t *rx, const hcp_fetch_result_t *result)
{
    hcm_origin_req_t next;
    int err;

    if (rx->redirects_left == 0)
        return 0;
    err = hcm_origin_redirect(result->status, result->headers, result->nheaders, &rx->req,
                              &rx->arena, &next);
    if (err <= 0)
        return err;
    if (hcp_log_enabled(HCC_LOG_INFO)) {
        char from[2048], to[2048];
        hcp_log_redact(rx->req.url, from, sizeof from);
        hcp_log_redact(next.url, to, sizeof to);
        hcp_field_t fields[] = {
            HCP_F_UINT("exchange", rx->id),
            HCP_F_STR("request_id", rx->request_id),
            HCP_F_STR("direction", "coap_to_http"),
            HCP_F_STR("method", rx->req.method),
            HCP_F_STR("url", from),
            HCP_F_UINT("origin_status", result->status),
            HCP_F_STR("location", to),
        };
        hcp_log_fields(HCC_LOG_INFO, NULL, fields, HCM_COUNTOF(fields),
                       "coap %s %s -> HTTP %u, following to %s", rx->req.method, from,
                       result->status, to);
    }
    rx->redirects_left--;
    rx->req = next;
    err = reach_origin(rx);
    return err < 0 ? err : 1;
}

static void on_fetched(void *data, const hcp_fetch_result_t *result)
{
    rexchange_t *rx = data;
    int err = result->err;

    rx->fetch = NULL;
    if (err == 0 && (err = follow_redirect(rx, result)) > 0)
        return;
    if (err == 0) {
        hcm_bytes_t body = {result->body, result->body_len};
        err = hcm_origin_to_coap(result->status, result->headers, result->nheaders, body, &rx->req,
                                 &rx->arena, &rx->answer);
    }
    if (err < 0) {
        answer_error(rx, err);
    } else {
        /* The payload points into the fetch, which goes when this returns: keep a copy. */
        rx->payload = malloc(rx->answer.payload.len ? rx->answer.payload.len : 1);
        if (rx->payload == NULL) {
            answer_error(rx, HCM_EINTERNAL);
        } else {
            if (rx->answer.payload.len > 0) /* an empty body may have no buffer at all */
                memcpy(rx->payload, rx->answer.payload.p, rx->answer.payload.len);
            rx->answer.payload.p = rx->payload;
            rx->code = rx->answer.code;
            log_outcome(rx, result->status, 0);
        }
    }
    deliver(rx);
}

static int fetch_from(rexchange_t *rx, const char *address)
{
    return hcp_origin_fetch(rx->proxy->origin, &rx->req, address, on_fetched, rx, &rx->fetch);
}

/* 0 when the origin at |sa| (its port is ignored: the request's is used) may be reached, else
 * why not: a multicast group or hcproxy's own HTTP listener (policy.c), or outside origin.allow. */
static int judge_origin(const rexchange_t *rx, const struct sockaddr *sa)
{
    struct sockaddr_storage dest;
    int err;

    hcp_sockaddr_with_port(sa, rx->req.port, &dest);
    if ((err = hcp_policy_check(rx->proxy, HCP_OWN_HTTP, (const struct sockaddr *)&dest)) < 0)
        return err;
    if (!hcc_origin_allows(rx->proxy->cfg, rx->req.scheme, rx->req.host, sa->sa_family,
                           hcp_sockaddr_ip(sa), rx->req.port, rx->req.path))
        return HCM_EFORBIDDEN;
    return 0;
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    rexchange_t *rx = hcp_container_of(req, rexchange_t, resolver);
    const struct addrinfo *ai;
    char text[INET6_ADDRSTRLEN];
    int err;

    rx->is_resolving = false;
    if (rx->is_abandoned) {
        uv_freeaddrinfo(res);
        rexchange_free(rx);
        return;
    }
    if (rx->code != 0) { /* the drain has answered it meanwhile */
        uv_freeaddrinfo(res);
        return;
    }
    /* The first address that may be reached; when none may, the reason the first one gave. */
    err = status == 0 ? HCM_EFORBIDDEN : HCM_ERESOLVE;
    for (ai = status == 0 ? res : NULL; ai != NULL; ai = ai->ai_next) {
        int why = ai->ai_family == AF_INET || ai->ai_family == AF_INET6
                      ? judge_origin(rx, ai->ai_addr) : HCM_EFORBIDDEN;
        if (why == 0)
            break;
        if (ai == res)
            err = why;
    }
    if (ai != NULL) {
        inet_ntop(ai->ai_family, hcp_sockaddr_ip(ai->ai_addr), text, sizeof text);
        err = fetch_from(rx, text);
    }
    uv_freeaddrinfo(res);
    if (err < 0) {
        answer_error(rx, err);
        deliver(rx);
    }
}

/* A literal host is judged at once; a name is resolved without blocking the loop, and the
 * first address the policy allows is the one libcurl is told to use. Through origin.http_proxy
 * a name is not resolved here: the proxy resolves it, where this host's resolver may know
 * nothing of it, so origin.allow judges the name alone (its CIDR rules match only an origin
 * written as an IP address), before anything is sent. */
static int reach_origin(rexchange_t *rx)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct sockaddr_storage literal;
    const hcc_config_t *cfg = rx->proxy->cfg;
    bool is_proxied = hcc_origin_proxied(cfg, rx->req.scheme, rx->req.host, rx->req.port);
    int err;

    if (hcp_sockaddr_literal(rx->req.host, rx->req.port, &literal)) {
        if ((err = judge_origin(rx, (const struct sockaddr *)&literal)) < 0)
            return err;
        return fetch_from(rx, is_proxied ? NULL : rx->req.host);
    }
    if (is_proxied) {
        if (!hcc_origin_allows(cfg, rx->req.scheme, rx->req.host, AF_UNSPEC, NULL, rx->req.port,
                               rx->req.path))
            return HCM_EFORBIDDEN;
        return fetch_from(rx, NULL);
    }
    if (uv_getaddrinfo(rx->proxy->loop, &rx->resolver, on_resolved, rx->req.host, NULL, &hints) != 0)
        return HCM_ERESOLVE;
    rx->is_resolving = true;
    return 0;
}

/* ---- the CoAP request ------------------------------------------------------------------------- */

/* The request's Uri-Path as "/a/b", for the route lookup. */
static void request_path(const coap_pdu_t *pdu, char *buf, size_t len)
{
    coap_opt_iterator_t it;
    coap_opt_t *opt;
    size_t used = 0;

    buf[0] = '\0';
    coap_option_iterator_init(pdu, &it, COAP_OPT_ALL);
    while ((opt = coap_option_next(&it)) != NULL && used + 2 < len) {
        if (it.number != COAP_OPTION_URI_PATH)
            continue;
        used += (size_t)snprintf(buf + used, len - used, "/%.*s", (int)coap_opt_length(opt),
                                 (const char *)coap_opt_value(opt));
    }
    if (used + 1 < len && used > 0) {
        buf[used++] = '/'; /* routes are prefixes ending with '/': "/lwm2m/" matches "/lwm2m" */
        buf[used] = '\0';
    }
}

static size_t count_segments(const char *prefix)
{
    size_t n = 0;

    for (const char *p = prefix + 1; *p != '\0'; p++)
        n += *p == '/';
    return n;
}

static int map_request(rexchange_t *rx, const coap_pdu_t *request)
{
    const hcc_config_t *cfg = rx->proxy->cfg;
    hcm_coap_msg_t *msg = hcm_arena_alloc(&rx->arena, sizeof *msg);
    const hcc_route_t *route;
    char path[512];
    int err;

    if (msg == NULL)
        return HCM_ENOSPACE;
    if ((err = hcp_upstream_msg_from_pdu(request, msg)) < 0)
        return err;
    if (rx->upload != NULL)
        msg->payload = (hcm_bytes_t){rx->upload, rx->upload_len};
    if (msg->payload.len > (size_t)cfg->coap_max_body_bytes)
        return HCM_ETOOLARGE;
    request_path(request, path, sizeof path);
    route = hcc_coap_route_find(cfg, path);
    return hcm_coap_to_origin(msg, route ? route->base : NULL,
                              route ? count_segments(route->prefix) : 0, &rx->arena, &rx->req);
}

/* The body is a view of the request PDU, which is libcoap's only while the handler runs; the
 * exchange keeps a copy for libcurl, which sends it again when a redirect is followed. */
static int keep_body(rexchange_t *rx)
{
    uint8_t *copy;

    if (rx->req.body.len == 0 || rx->req.body.p == rx->upload) /* already the exchange's own */
        return 0;
    if ((copy = hcm_arena_alloc(&rx->arena, rx->req.body.len)) == NULL)
        return HCM_ENOSPACE;
    memcpy(copy, rx->req.body.p, rx->req.body.len);
    rx->req.body.p = copy;
    return 0;
}

/* The client's address, its port aside: what coap.max_inflight_per_client counts by. */
static void client_key(const coap_session_t *session, hcp_client_key_t *key)
{
    const struct sockaddr *sa = &coap_session_get_addr_remote(session)->addr.sa;
    size_t n = sa->sa_family == AF_INET6 ? 16 : 4;

    key->bytes[0] = (uint8_t)sa->sa_family;
    memcpy(key->bytes + 1, hcp_sockaddr_ip(sa), n);
    key->len = (uint8_t)(1 + n);
}

/* coap.max_inflight and coap.max_inflight_per_client: 0, or HCM_EOVERLOAD (5.03). */
static int admit(const hcp_proxy_t *proxy, const coap_session_t *session)
{
    const hcc_config_t *cfg = proxy->cfg;
    hcp_client_key_t key;

    if (proxy->metrics.reverse_inflight >= (uint64_t)cfg->coap_max_inflight)
        return HCM_EOVERLOAD;
    client_key(session, &key);
    if (proxy->reverse_clients == NULL ||
        hcp_clientcount_get(proxy->reverse_clients, &key) >=
            (unsigned)cfg->coap_max_inflight_per_client)
        return HCM_EOVERLOAD;
    return 0;
}

/* A new exchange for |request|, whose body is |upload| when hcproxy reassembled it (the
 * exchange owns it from here, also when this fails) and the request's payload otherwise. */
static rexchange_t *rexchange_new(hcp_proxy_t *proxy, coap_session_t *session,
                                  const coap_pdu_t *request, upload_t *upload)
{
    size_t len = 0, offset, total;
    const uint8_t *data;
    size_t arena_size;
    rexchange_t *rx;

    coap_get_data_large(request, &len, &data, &offset, &total);
    if (upload->is_blockwise)
        len = upload->len;
    arena_size = 2 * len + 16384; /* the payload and every option, header and URL are copied */
    if ((rx = malloc(sizeof *rx + arena_size)) == NULL) {
        free(upload->body);
        return NULL;
    }
    memset(rx, 0, sizeof *rx);
    rx->proxy = proxy;
    rx->upload = upload->body;
    rx->upload_len = upload->len;
    rx->is_blockwise = upload->is_blockwise;
    rx->last_block1 = upload->block1;
    rx->id = ++proxy->next_exchange_id;
    rx->started_ns = uv_hrtime();
    hcp_request_id_make(rx->id, rx->request_id, sizeof rx->request_id);
    hcp_sockaddr_format(&coap_session_get_addr_remote(session)->addr.sa, rx->client,
                        sizeof rx->client);
    client_key(session, &rx->client_key);
    rx->redirects_left = proxy->cfg->origin_redirects;
    rx->session = coap_session_reference(session);
    hcm_arena_init(&rx->arena, rx->arena_buf, arena_size);
    rx->next = proxy->reverse_live;
    if (rx->next != NULL)
        rx->next->prev = rx;
    proxy->reverse_live = rx;
    rx->is_linked = true;
    return rx;
}

/* ---- answering ------------------------------------------------------------------------------ */

/* The answer has gone to libcoap. An exchange the drain answered while its origin's name was
 * being resolved is freed by the resolver's callback, which cannot be cancelled. */
static void finish(rexchange_t *rx)
{
    if (!rx->is_resolving) {
        rexchange_free(rx);
        return;
    }
    rx->is_abandoned = true;
    unlink_live(rx);
}

/* |err|'s code, with its reason as diagnostic payload (RFC 7252 s5.5.2); any option goes in
 * before this, as the payload ends the PDU. */
static void set_error(coap_pdu_t *response, int err)
{
    const char *reason = hcm_strerror(err);

    coap_pdu_set_code(response, (coap_pdu_code_t)hcm_err_code(err));
    coap_add_data(response, strlen(reason), (const uint8_t *)reason);
}

static void add_options(coap_pdu_t *response, const hcm_coap_msg_t *a)
{
    for (size_t i = 0; i < a->nopts; i++)
        coap_add_option(response, a->opts[i].number, a->opts[i].value.len, a->opts[i].value.p);
}

/* The block of the answer that |request| asks for (RFC 7959 s2.4), or the whole answer when it
 * fits in one block and no later block was asked for. Blocks are of 1024 bytes unless the
 * request's Block2 asks for smaller ones (early negotiation, s2.4). true when blocks remain. */
static bool respond(rexchange_t *rx, const coap_pdu_t *request, coap_pdu_t *response)
{
    const hcm_coap_msg_t *a = &rx->answer;
    coap_block_t asked = {0};
    uint8_t buf[4];
    size_t size, offset, len;
    bool more;

    coap_pdu_set_code(response, (coap_pdu_code_t)rx->code);
    if (rx->is_blockwise) /* RFC 7959 s2.3: the answer to the last block carries its Block1 */
        coap_add_option(response, COAP_OPTION_BLOCK1,
                        coap_encode_var_safe(buf, sizeof buf, rx->last_block1), buf);
    if (!coap_get_block(request, COAP_OPTION_BLOCK2, &asked) || asked.szx > 6)
        asked.szx = 6; /* 7 is BERT (RFC 8323 s6): plain 1024-byte blocks serve it as well */
    size = (size_t)16 << asked.szx;
    offset = (size_t)asked.num * size;
    if (asked.num == 0 && a->payload.len <= size) {
        add_options(response, a);
        if (a->payload.len > 0)
            coap_add_data(response, a->payload.len, a->payload.p);
        return false;
    }
    if (offset >= a->payload.len) { /* past the end: no such block */
        set_error(response, HCM_EBLOCKRANGE);
        return false;
    }
    more = offset + size < a->payload.len;
    len = more ? size : a->payload.len - offset;
    add_options(response, a);
    coap_add_option(response, COAP_OPTION_BLOCK2,
                    coap_encode_var_safe(buf, sizeof buf, asked.num << 4 | more << 3 | asked.szx),
                    buf);
    if (asked.num == 0) /* RFC 7959 s4: the size of the whole, with the first block */
        coap_add_option(response, COAP_OPTION_SIZE2,
                        coap_encode_var_safe(buf, sizeof buf, (unsigned)a->payload.len), buf);
    coap_add_data(response, len, a->payload.p + offset);
    return more;
}

/* An error known at once, piggybacked, with its reason as diagnostic payload (RFC 7252
 * s5.5.2); a 4.13 says how large a body may be (RFC 7959 s2.9.3). */
static void refuse(hcp_proxy_t *proxy, coap_pdu_t *response, int err)
{
    uint8_t buf[4];
    char cause[32];

    if (err == HCM_ETOOLARGE)
        coap_add_option(response, COAP_OPTION_SIZE1,
                        coap_encode_var_safe(buf, sizeof buf,
                                             (unsigned)proxy->cfg->coap_max_body_bytes), buf);
    set_error(response, err);
    hcp_metrics_count_cause(proxy->metrics.reverse_refused_by_cause, err);
    hcp_field_t fields[] = {
        HCP_F_STR("direction", "coap_to_http"),
        HCP_F_STR("cause", hcp_cause_label(err, cause, sizeof cause) ? cause : NULL),
    };
    hcp_log_fields(HCC_LOG_INFO, NULL, fields, HCM_COUNTOF(fields),
                   "coap request refused: %u.%02u (%s)", hcm_err_code(err) >> 5,
                   hcm_err_code(err) & 0x1f, hcm_strerror(err));
}

/* Options that differ between the blocks of one request: the block options themselves (RFC 7959
 * s2.2, s4), and Hop-Limit, which libcoap counts down in the request on every pass through its
 * handler (RFC 8768 s3), so that an answer's second pass sees one less than the next block. */
static bool differs_between_blocks(uint16_t number)
{
    static const uint16_t numbers[] = {COAP_OPTION_BLOCK1, COAP_OPTION_BLOCK2, COAP_OPTION_SIZE1,
                                       COAP_OPTION_SIZE2, COAP_OPTION_HOP_LIMIT};

    for (size_t i = 0; i < HCM_COUNTOF(numbers); i++)
        if (numbers[i] == number)
            return true;
    return false;
}

/* Every option of |pdu| that all its blocks share, as number, length and value: what makes two
 * blocks parts of one request (block1.h, block2.h). NULL when out of memory. */
static uint8_t *request_options(const coap_pdu_t *pdu, size_t *len)
{
    coap_opt_iterator_t it;
    coap_opt_t *opt;
    size_t size = 1, used = 0;
    uint8_t *out;

    coap_option_iterator_init(pdu, &it, COAP_OPT_ALL);
    while ((opt = coap_option_next(&it)) != NULL)
        size += 4 + coap_opt_length(opt);
    if ((out = malloc(size)) == NULL)
        return NULL;
    coap_option_iterator_init(pdu, &it, COAP_OPT_ALL);
    while ((opt = coap_option_next(&it)) != NULL) {
        size_t n = coap_opt_length(opt);
        if (differs_between_blocks(it.number))
            continue;
        uint8_t head[4] = {it.number >> 8, it.number & 0xff, n >> 8, n & 0xff};
        memcpy(out + used, head, 4);
        memcpy(out + used + 4, coap_opt_value(opt), n);
        used += 4 + n;
    }
    *len = used;
    return out;
}

/* The client: both ends of the session, so that two devices, or one device's two sockets,
 * never share an upload. */
static size_t session_ends(const coap_session_t *session, uint8_t *buf, size_t size)
{
    const coap_address_t *remote = coap_session_get_addr_remote(session);
    const coap_address_t *local = coap_session_get_addr_local(session);
    size_t used = 0;

    if (remote != NULL && remote->size <= size) {
        memcpy(buf, &remote->addr, remote->size);
        used = remote->size;
    }
    if (local != NULL && used + local->size <= size) {
        memcpy(buf + used, &local->addr, local->size);
        used += local->size;
    }
    return used;
}

/* What names |request| across its blocks: the client (into |client|, of 2 sockaddr_storage)
 * and its options but the block ones. The options are malloc'd, the caller's to free; NULL when
 * out of memory. */
static uint8_t *block_key(const coap_session_t *session, const coap_pdu_t *request,
                          uint8_t *client, hcp_block2_key_t *key)
{
    uint8_t *options = request_options(request, &key->options_len);

    key->options = options;
    key->client = client;
    key->client_len = session_ends(session, client, 2 * sizeof(struct sockaddr_storage));
    return options;
}

static void release_kept(void *answer)
{
    rexchange_free(answer);
}

/* The answer's first block is on its way and more remain: the exchange stays in the Block2 store
 * (block2.c) for the client's next requests, no longer in flight. */
static void keep_for_blocks(rexchange_t *rx, coap_session_t *session, const coap_pdu_t *request)
{
    hcp_proxy_t *proxy = rx->proxy;
    uint8_t client[2 * sizeof(struct sockaddr_storage)];
    hcp_block2_key_t key;
    uint8_t *options;

    unlink_live(rx);
    if (proxy->block2 == NULL || (options = block_key(session, request, client, &key)) == NULL) {
        rexchange_free(rx); /* later blocks ask the origin again */
        return;
    }
    hcp_block2_keep(proxy->block2, &key, rx, sizeof *rx + rx->arena.size, uv_hrtime());
    free(options);
}

static const struct {
    hcp_block1_verdict_t verdict;
    int err;
} block1_errors[] = {
    {HCP_BLOCK1_INCOMPLETE, HCM_EBLOCKMISSING},
    {HCP_BLOCK1_MALFORMED, HCM_EBLOCKSIZE},
    {HCP_BLOCK1_TOO_LARGE, HCM_ETOOLARGE},
    {HCP_BLOCK1_BUSY, HCM_EOVERLOAD},
};

/* A request that carries Block1 is one block of an upload, which hcproxy gathers itself
 * (block1.c). 1 when |upload| holds the whole body,
 * 0 when the block was stored and a 2.31 Continue is the answer (RFC 7959 s2.3), else an error. */
static int gather_block(hcp_proxy_t *proxy, coap_session_t *session, const coap_pdu_t *request,
                        const coap_block_t *b1, coap_pdu_t *response, upload_t *upload)
{
    coap_bin_const_t token = coap_pdu_get_token(request);
    coap_opt_iterator_t it;
    coap_opt_t *size1 = coap_check_option(request, COAP_OPTION_SIZE1, &it);
    uint8_t client[2 * sizeof(struct sockaddr_storage)], buf[4];
    hcp_block1_piece_t piece = {.token = token.s, .token_len = token.length, .num = b1->num,
                                .more = b1->m, .szx = b1->szx};
    hcp_block1_verdict_t verdict;
    hcp_block2_key_t key;
    uint8_t *options;
    size_t len = 0, offset, total;

    if (proxy->block1 == NULL || (options = block_key(session, request, client, &key)) == NULL)
        return HCM_EOVERLOAD;
    piece.client = key.client;
    piece.client_len = key.client_len;
    piece.options = key.options;
    piece.options_len = key.options_len;
    piece.size1 = size1 ? coap_decode_var_bytes8(coap_opt_value(size1), coap_opt_length(size1))
                        : 0;
    coap_get_data_large(request, &len, &piece.payload, &offset, &total);
    piece.payload_len = len;
    verdict = hcp_block1_offer(proxy->block1, &piece, uv_hrtime(), &upload->body, &upload->len);
    free(options);
    upload->is_blockwise = true;
    upload->block1 = b1->num << 4 | b1->szx;
    if (verdict == HCP_BLOCK1_COMPLETE)
        return 1;
    for (size_t i = 0; i < HCM_COUNTOF(block1_errors); i++)
        if (block1_errors[i].verdict == verdict)
            return block1_errors[i].err;
    coap_pdu_set_code(response, COAP_RESPONSE_CODE(231));
    coap_add_option(response, COAP_OPTION_BLOCK1,
                    coap_encode_var_safe(buf, sizeof buf, upload->block1 | 0x08), buf);
    return 0;
}

/* A started exchange's answer has gone out: counted by its code class, with its latency. */
static void count_answer(rexchange_t *rx)
{
    hcp_metrics_t *m = &rx->proxy->metrics;

    if (!rx->is_started || rx->is_answered)
        return;
    rx->is_answered = true;
    m->reverse_answered_by_class[(rx->code >> 5) & 7]++;
    end_inflight(rx);
    hcp_metrics_observe(m, HCP_COAP_TO_HTTP, uv_hrtime() - rx->started_ns);
}

/* The second call for a registered request: the answer is ready, or the client sent another
 * request with the token of one still in flight. */
static void answer_registered(coap_async_t *async, coap_session_t *session,
                              const coap_pdu_t *request, coap_pdu_t *response)
{
    rexchange_t *rx = coap_async_get_app_data(async);

    if (rx->code == 0) {
        refuse(rx->proxy, response, HCM_ETOKENINUSE);
        return;
    }
    rx->async = NULL; /* libcoap removes it when this returns */
    count_answer(rx);
    if (respond(rx, request, response))
        keep_for_blocks(rx, session, request);
    else
        finish(rx);
}

/* A later block of an answer kept for its Block2 transfer, served from it at once. false when
 * none is kept for |request|: the origin is asked again, and the block served from that answer. */
static bool serve_kept_block(hcp_proxy_t *proxy, coap_session_t *session,
                             const coap_pdu_t *request, coap_pdu_t *response)
{
    hcp_block2_key_t key;
    uint8_t client[2 * sizeof(struct sockaddr_storage)];
    uint8_t *options;
    rexchange_t *rx;

    if (proxy->block2 == NULL || (options = block_key(session, request, client, &key)) == NULL)
        return false;
    if ((rx = hcp_block2_find(proxy->block2, &key, uv_hrtime())) != NULL &&
        !respond(rx, request, response))
        hcp_block2_drop(proxy->block2, &key);
    free(options);
    return rx != NULL;
}

static void on_request(coap_resource_t *resource, coap_session_t *session,
                       const coap_pdu_t *request, const coap_string_t *query,
                       coap_pdu_t *response)
{
    hcp_proxy_t *proxy = coap_resource_get_userdata(resource);
    coap_async_t *async = coap_find_async(session, coap_pdu_get_token(request));
    upload_t upload = {0};
    coap_block_t b1, b2;
    rexchange_t *rx;
    int err;

    if (async != NULL) {
        answer_registered(async, session, request, response);
        return;
    }
    if (coap_get_block(request, COAP_OPTION_BLOCK2, &b2) && b2.num > 0 &&
        serve_kept_block(proxy, session, request, response))
        return;
    if (proxy->closing) { /* drain.delay_s is over: exchanges in flight finish, none starts */
        refuse(proxy, response, HCM_ESHUTDOWN);
        return;
    }
    if (coap_get_block(request, COAP_OPTION_BLOCK1, &b1) &&
        (err = gather_block(proxy, session, request, &b1, response, &upload)) <= 0) {
        if (err < 0)
            refuse(proxy, response, err);
        return;
    }
    if ((err = admit(proxy, session)) < 0) {
        free(upload.body);
        refuse(proxy, response, err);
        return;
    }
    if ((rx = rexchange_new(proxy, session, request, &upload)) == NULL) {
        coap_pdu_set_code(response, COAP_RESPONSE_CODE_INTERNAL_ERROR);
        return;
    }
    err = map_request(rx, request);
    if (err == 0)
        err = keep_body(rx);
    if (err == 0)
        err = reach_origin(rx);
    if (err < 0) { /* answered at once, piggybacked */
        answer_error(rx, err);
        respond(rx, request, response);
        rexchange_free(rx);
        return;
    }
    rx->async = coap_register_async(session, request, 0);
    if (rx->async == NULL) {
        coap_pdu_set_code(response, COAP_RESPONSE_CODE_SERVICE_UNAVAILABLE);
        rx->is_abandoned = rx->is_resolving; /* the resolver callback frees */
        if (rx->fetch != NULL)
            hcp_origin_cancel(rx->fetch);
        if (!rx->is_resolving)
            rexchange_free(rx);
        return;
    }
    coap_async_set_app_data(rx->async, rx);
    rx->is_started = hcp_clientcount_add(proxy->reverse_clients, &rx->client_key);
    if (!rx->is_started) { /* no memory to count it: the exchange goes on, uncounted */
        hcp_log(HCC_LOG_WARN, NULL, "coap: exchange %llu not counted per client: no memory",
                (unsigned long long)rx->id);
        return;
    }
    proxy->metrics.reverse_started++;
    proxy->metrics.reverse_inflight++;
    /* No response code: libcoap acknowledges a CON with an empty ACK (a separate response). */
}

/* ---- setup ---------------------------------------------------------------------------------- */

static const coap_request_t methods[] = {
    COAP_REQUEST_GET,   COAP_REQUEST_POST,  COAP_REQUEST_PUT,    COAP_REQUEST_DELETE,
    COAP_REQUEST_FETCH, COAP_REQUEST_PATCH, COAP_REQUEST_IPATCH,
};

static int add_catch_all(hcp_proxy_t *proxy, coap_context_t *ctx, coap_resource_t *r)
{
    if (r == NULL)
        return UV_ENOMEM;
    coap_resource_set_userdata(r, proxy);
    for (size_t i = 0; i < HCM_COUNTOF(methods); i++)
        coap_register_request_handler(r, methods[i], on_request);
    coap_add_resource(ctx, r);
    return 0;
}

/* |ep|'s bound address as "addr:port" or "[addr]:port". libcoap 4.3.1 has no getter for it, and
 * coap_endpoint_str() appends a protocol name, "NONE" for TCP; the scheme already says which. */
static const char *endpoint_address(const coap_endpoint_t *ep, char *buf, size_t size)
{
    const char *text = coap_endpoint_str(ep);

    snprintf(buf, size, "%.*s", (int)strcspn(text, " "), text);
    return buf;
}

/* The port the kernel bound, for a configured port 0. */
static uint16_t bound_port(const char *address)
{
    const char *colon = strrchr(address, ':');

    return colon != NULL ? (uint16_t)strtoul(colon + 1, NULL, 10) : 0;
}

/* libcoap wants the names a request's Proxy-Uri may use for this proxy itself (those are served
 * locally). hcproxy serves nothing locally over CoAP, so the one name is one that cannot occur
 * (RFC 6761 s6.4); every proxy request is forwarded, subject to origin.allow. */
static const char *own_names[] = {"hcproxy.invalid"}; /* libcoap takes it as const char ** */

static const struct {
    coap_proto_t proto;
    const char *scheme;
} transports[] = {
    [HCC_UDP] = {COAP_PROTO_UDP, "coap"},
    [HCC_DTLS] = {COAP_PROTO_DTLS, "coaps"},
    [HCC_TCP] = {COAP_PROTO_TCP, "coap+tcp"},
    [HCC_TLS] = {COAP_PROTO_TLS, "coaps+tcp"},
};

int hcp_reverse_start(hcp_proxy_t *proxy, coap_context_t *ctx)
{
    const hcc_config_t *cfg = proxy->cfg;
    int err;

    if (cfg->ncoap_listen_addrs > 0 && (err = hcp_coap_keys_install(proxy, ctx)) < 0)
        return err;
    for (size_t i = 0; i < cfg->ncoap_listen_addrs; i++) {
        hcc_transport_t t = cfg->coap_listen_transports[i];
        const struct sockaddr *sa = (const struct sockaddr *)&cfg->coap_listen_addrs[i];
        coap_address_t addr;
        coap_endpoint_t *ep;
        char bound[INET6_ADDRSTRLEN + 16];

        coap_address_init(&addr);
        addr.size = (socklen_t)hcp_sockaddr_len(sa);
        memcpy(&addr.addr.sa, sa, addr.size);
        if ((ep = coap_new_endpoint(ctx, &addr, transports[t].proto)) == NULL) {
            hcp_log(HCC_LOG_ERROR, NULL, "coap.listen: cannot listen on address %zu", i + 1);
            return UV_EADDRINUSE;
        }
        /* Tests and operators read the bound port here when the configured port is 0. */
        endpoint_address(ep, bound, sizeof(bound));
        hcp_log(HCC_LOG_INFO, NULL, "listening on %s://%s", transports[t].scheme, bound);
        hcp_policy_add_own(proxy, HCP_OWN_COAP, sa, bound_port(bound)); /* no CoAP server is us */
    }
    if (cfg->ncoap_listen_addrs == 0)
        return 0;
    proxy->block1 = hcp_block1_new(&(hcp_block1_limits_t){
        .max_body = (size_t)cfg->coap_max_body_bytes, .max_transfers = MAX_UPLOADS,
        .idle_ns = UPLOAD_IDLE_NS});
    proxy->block2 = hcp_block2_new(&(hcp_block2_limits_t){
        .max_answers = MAX_KEPT_ANSWERS, .max_bytes = MAX_KEPT_BYTES, .idle_ns = UPLOAD_IDLE_NS},
        release_kept);
    proxy->reverse_clients = hcp_clientcount_new();
    if (proxy->block1 == NULL || proxy->block2 == NULL || proxy->reverse_clients == NULL)
        return UV_ENOMEM;
    if (add_catch_all(proxy, ctx,
                      coap_resource_proxy_uri_init2(on_request, HCM_COUNTOF(own_names),
                                                    own_names, 0)) < 0 ||
        add_catch_all(proxy, ctx, coap_resource_unknown_init2(on_request, 0)) < 0)
        return UV_ENOMEM;
    return 0;
}

size_t hcp_reverse_inflight(const hcp_proxy_t *proxy)
{
    size_t n = 0;

    for (const rexchange_t *rx = proxy->reverse_live; rx != NULL; rx = rx->next)
        n++;
    return n;
}

void hcp_reverse_abort_all(hcp_proxy_t *proxy)
{
    for (rexchange_t *rx = proxy->reverse_live; rx != NULL; rx = rx->next) {
        if (rx->code != 0 || rx->async == NULL)
            continue; /* answered already, waiting for libcoap to send it */
        if (rx->fetch != NULL)
            hcp_origin_cancel(rx->fetch);
        rx->fetch = NULL;
        answer_error(rx, HCM_ESHUTDOWN);
        coap_async_trigger(rx->async);
    }
    /* Once for all: libcoap answers, and frees exchanges of this list, from inside the kick. */
    hcp_upstream_kick(proxy->upstream);
}

void hcp_reverse_stop(hcp_proxy_t *proxy)
{
    hcp_block1_free(proxy->block1);
    proxy->block1 = NULL;
    hcp_block2_free(proxy->block2);
    proxy->block2 = NULL;
    while (proxy->reverse_live != NULL) {
        rexchange_t *rx = proxy->reverse_live;
        if (rx->fetch != NULL)
            hcp_origin_cancel(rx->fetch);
        rx->fetch = NULL;
        if (rx->is_resolving) {
            rx->is_abandoned = true; /* on_resolved frees it */
            unlink_live(rx);
            continue;
        }
        rexchange_free(rx);
    }
    hcp_clientcount_free(proxy->reverse_clients); /* an abandoned exchange ends uncounted */
    proxy->reverse_clients = NULL;
}

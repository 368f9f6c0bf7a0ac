/* The reverse direction (RFC 7252 s10.1): CoAP clients reach HTTP origins. A request with
 * Proxy-Uri or Proxy-Scheme, or under a coap.routes prefix, becomes an HTTP request through
 * origin.c. Requests come from either transport of reverse.h, and answers go back through the
 * reply each came with: at once for what is known at once (piggybacked, on UDP), after the
 * origin otherwise.
 *
 * Block-wise transfers are hcproxy's own (reverse_blocks.c): the blocks of an upload are
 * gathered before anything is forwarded, and a large answer is kept in block2.c and served one
 * block a request. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block1.h"
#include "block2.h"
#include "clientcount.h"
#include "coap_udp.h"
#include "hcc.h"
#include "hcm.h"
#include "log.h"
#include "metrics.h"
#include "origin.h"
#include "proxy.h"
#include "rblocks.h"
#include "reverse.h"
#include "reverse_int.h"
#include "sockaddr.h"

/* How long a block-wise transfer may wait for its next block: MAX_TRANSMIT_WAIT (RFC 7252
 * s4.8.2), the longest a client may take to get one block through. */
#define UPLOAD_IDLE_NS (93ull * 1000000000ull)
/* Uploads in progress at once, from every client. */
#define MAX_UPLOADS 256
/* Answers kept for their Block2 transfers; past either bound the oldest goes, and its client's
 * next block is asked of the origin again. */
#define MAX_KEPT_ANSWERS 256
#define MAX_KEPT_BYTES (64u << 20)

/* ---- ending --------------------------------------------------------------------------------- */

static void unlink_live(hcp_reverse_exchange_t *rx)
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
static void end_inflight(hcp_reverse_exchange_t *rx)
{
    rx->proxy->metrics.reverse_inflight--;
    if (rx->proxy->reverse_clients != NULL)
        hcp_clientcount_remove(rx->proxy->reverse_clients, &rx->client_key);
}

void hcp_reverse_free(hcp_reverse_exchange_t *rx)
{
    if (rx->is_started && !rx->is_answered) {
        rx->proxy->metrics.reverse_cancelled++;
        end_inflight(rx);
    }
    unlink_live(rx);
    if (rx->reply != NULL)
        rx->reply->ops->abandon(rx->reply);
    free(rx->key_options);
    free(rx->payload);
    free(rx->upload);
    free(rx);
}

/* The answer has gone out. An exchange the drain answered while its origin's name was being
 * resolved is freed by the resolver's callback, which cannot be cancelled. */
static void finish(hcp_reverse_exchange_t *rx)
{
    if (!rx->is_resolving) {
        hcp_reverse_free(rx);
        return;
    }
    rx->is_abandoned = true;
    unlink_live(rx);
}

/* ---- the outcome ----------------------------------------------------------------------------- */

void hcp_reverse_log_outcome(const hcp_reverse_exchange_t *rx, unsigned http_status, int err)
{
    double ms = (double)(uv_hrtime() - rx->started_ns) / 1e6;
    char url[2048], code[8], cause[32];

    if (!hcp_log_enabled(HCC_LOG_INFO))
        return;
    hcp_log_redact(rx->req.url, url, sizeof url);
    snprintf(code, sizeof code, "%u.%02u", rx->code >> 5, rx->code & 0x1f);
    hcp_log_field_t fields[] = {
        HCP_LOG_F_STR("request_id", rx->request_id),
        HCP_LOG_F_STR("client", rx->client[0] != '\0' ? rx->client : NULL),
        HCP_LOG_F_STR("direction", "coap_to_http"),
        HCP_LOG_F_STR("method", rx->req.method),
        HCP_LOG_F_STR("url", url),
        HCP_LOG_F_STR("code", code),
        http_status > 0 ? HCP_LOG_F_UINT("origin_status", http_status)
                        : HCP_LOG_F_STR("origin_status", NULL),
        HCP_LOG_F_MS("latency_ms", ms),
        HCP_LOG_F_STR("cause", hcp_metrics_cause_label(err, cause, sizeof cause) ? cause : NULL),
    };
    if (err < 0)
        hcp_log_fields(HCC_LOG_INFO, rx->id, fields, HCM_COUNTOF(fields), "coap %s -> %s (%s)", url,
                       code, hcm_strerror(err));
    else
        hcp_log_fields(HCC_LOG_INFO, rx->id, fields, HCM_COUNTOF(fields),
                       "coap %s %s -> HTTP %u -> %s", rx->req.method ? rx->req.method : "-", url,
                       http_status, code);
}

/* The answer is the error |err|: its code, and its reason as diagnostic payload (RFC 7252
 * s5.5.2), or for a 5.08 the proxy's identity (RFC 8768 s3). */
void hcp_reverse_fail(hcp_reverse_exchange_t *rx, int err)
{
    rx->code = hcm_err_code(err);
    rx->err = err;
    rx->reason = err == HCM_ELOOP && rx->identity != NULL ? rx->identity : hcm_strerror(err);
    hcp_metrics_count_cause(rx->is_started ? rx->proxy->metrics.reverse_failed_by_cause
                                           : rx->proxy->metrics.reverse_refused_by_cause,
                            err);
    hcp_reverse_log_outcome(rx, 0, err);
}

/* ---- answering ------------------------------------------------------------------------------ */

/* A started exchange's answer is going out: counted by its code class, with its latency. */
static void count_answer(hcp_reverse_exchange_t *rx)
{
    hcp_metrics_t *m = &rx->proxy->metrics;

    if (!rx->is_started || rx->is_answered)
        return;
    rx->is_answered = true;
    m->reverse_answered_by_class[(rx->code >> 5) & 7]++;
    end_inflight(rx);
    hcp_metrics_observe(m, HCP_METRICS_COAP_TO_HTTP, uv_hrtime() - rx->started_ns);
}

static void release_kept(void *answer)
{
    hcp_reverse_free(answer);
}

/* The answer's first block is on its way and more remain, or the client was challenged to repeat
 * its request (reverse.h): the exchange stays in the Block2 store (block2.c) for the client's
 * next requests, no longer in flight. */
static void keep_for_blocks(hcp_reverse_exchange_t *rx)
{
    hcp_proxy_t *proxy = rx->proxy;
    hcp_block2_key_t key = {.client = rx->ends, .client_len = rx->ends_len,
                            .options = rx->key_options, .options_len = rx->key_options_len};

    unlink_live(rx);
    if (proxy->block2 == NULL || rx->key_options == NULL) {
        hcp_reverse_free(rx); /* later blocks ask the origin again */
        return;
    }
    hcp_block2_keep(proxy->block2, &key, rx, sizeof *rx + rx->arena.size, uv_hrtime());
}

/* The block of |rx|'s answer that |asked| asks for, into |out|, sized for |reply|: 1 when blocks
 * remain after it. */
static int build_answer(const hcp_reverse_exchange_t *rx, const hcp_rblocks_t *asked,
                        size_t token_len, const hcp_reverse_reply_t *reply, hcm_coap_msg_t *out,
                        uint8_t buf[16])
{
    size_t room = reply->ops->room(reply);
    int more;

    if (rx->err != 0) {
        memset(out, 0, sizeof *out);
        hcp_rblocks_error(out, rx->err, rx->reason, token_len, room);
        return 0;
    }
    more = hcp_rblocks_answer(&rx->answer, asked, rx->is_blockwise ? &rx->last_block1 : NULL,
                              token_len, room, out, buf);
    if (more < 0) { /* past the end, or no room for the options */
        memset(out, 0, sizeof *out);
        hcp_rblocks_error(out, more, hcm_strerror(more), token_len, room);
        return 0;
    }
    return more;
}

/* The answer is ready: its first block goes out through the reply. */
void hcp_reverse_deliver(hcp_reverse_exchange_t *rx)
{
    hcp_reverse_reply_t *reply = rx->reply;
    hcm_coap_msg_t out;
    uint8_t buf[16];
    int more;

    if (reply == NULL)
        return;
    more = build_answer(rx, &rx->asked, rx->token_len, reply, &out, buf);
    rx->reply = NULL;
    count_answer(rx);
    if (reply->ops->send(reply, &out) > 0 || more > 0)
        keep_for_blocks(rx);
    else
        finish(rx);
}

/* An error known before any exchange, with its reason as diagnostic payload (RFC 7252 s5.5.2);
 * a 4.13 says how large a body may be (RFC 7959 s2.9.3). */
static void refuse(hcp_proxy_t *proxy, const hcp_reverse_request_t *req,
                   hcp_reverse_reply_t *reply, int err)
{
    hcm_coap_msg_t out = {0};
    uint8_t buf[4];
    uint32_t max = (uint32_t)proxy->cfg->coap_max_body_bytes;
    size_t len = 0;
    /* Refused, it is still a request of its own: its line carries an id, as the forward
     * direction's refusals do. */
    uint64_t id = ++proxy->next_exchange_id;
    char cause[32], request_id[40], client[INET6_ADDRSTRLEN + 8];

    if (err == HCM_ETOOLARGE) {
        for (int shift = 24; shift >= 0; shift -= 8)
            if ((max >> shift) != 0 || len > 0)
                buf[len++] = (uint8_t)(max >> shift);
        hcm_coap_msg_add(&out, HCM_OPT_SIZE1, (hcm_bytes_t){buf, len});
    }
    hcp_rblocks_error(&out, err, hcm_strerror(err), req->token_len, reply->ops->room(reply));
    reply->ops->send(reply, &out);
    hcp_metrics_count_cause(proxy->metrics.reverse_refused_by_cause, err);
    hcp_log_request_id(id, request_id, sizeof request_id);
    hcp_sockaddr_format(req->peer, client, sizeof client);
    hcp_log_field_t fields[] = {
        HCP_LOG_F_STR("request_id", request_id),
        HCP_LOG_F_STR("client", client[0] != '\0' ? client : NULL),
        HCP_LOG_F_STR("direction", "coap_to_http"),
        HCP_LOG_F_STR("cause", hcp_metrics_cause_label(err, cause, sizeof cause) ? cause : NULL),
    };
    hcp_log_fields(HCC_LOG_INFO, id, fields, HCM_COUNTOF(fields),
                   "coap request refused: %u.%02u (%s)", hcm_err_code(err) >> 5,
                   hcm_err_code(err) & 0x1f, hcm_strerror(err));
}

/* A later block of an answer kept for its Block2 transfer, served from it at once. false when
 * none is kept for |req|: the origin is asked again, and the block served from that answer. */
static bool serve_kept_block(hcp_proxy_t *proxy, const hcp_reverse_request_t *req,
                             const hcp_rblocks_t *asked, hcp_reverse_reply_t *reply)
{
    hcp_block2_key_t key;
    uint8_t *options = NULL, buf[16];
    hcm_coap_msg_t out;
    hcp_reverse_exchange_t *rx;

    if (proxy->block2 == NULL || !hcp_reverse_blocks_key(req, &key, &options)) {
        free(options);
        return false;
    }
    if ((rx = hcp_block2_find(proxy->block2, &key, uv_hrtime())) != NULL) {
        int more = build_answer(rx, asked, req->token_len, reply, &out, buf);
        /* |out| points into |rx|: sent before it may go */
        if (reply->ops->send(reply, &out) == 0 && more <= 0)
            hcp_block2_drop(proxy->block2, &key);
    }
    free(options);
    return rx != NULL;
}

/* ---- the CoAP request ------------------------------------------------------------------------- */

/* RFC 7252 s5.8: a code no method has is 4.05. RFC 8768 s3: a Hop-Limit that is 0, or not the one byte it is defined with, is 4.00 (checked
 * before the option rules, which would drop a malformed elective option). Then RFC 7252 s5.4.1:
 * an unrecognized critical option is 4.02, an unrecognized elective one is ignored; and s5.10.2:
 * Proxy-Uri takes precedence over the Uri-* options (which a client must not send with it). */
static int check_options(hcm_coap_msg_t *msg)
{
    static const uint16_t uri_options[] = {HCM_OPT_URI_HOST, HCM_OPT_URI_PORT, HCM_OPT_URI_PATH,
                                           HCM_OPT_URI_QUERY};
    const hcm_option_t *hop = hcm_coap_msg_find(msg, HCM_OPT_HOP_LIMIT);
    uint16_t bad;
    size_t kept = 0;

    if (msg->code > HCM_IPATCH) /* RFC 7252 s5.8 */
        return HCM_EUNKNOWNMETHOD;
    if (hop != NULL && (hop->value.len != 1 || hop->value.p[0] == 0))
        return HCM_EHOPLIMIT;
    if (hcm_coap_screen_options(msg, &bad) < 0)
        return HCM_EBADOPTION;
    if (hcm_coap_msg_find(msg, HCM_OPT_PROXY_URI) == NULL)
        return 0;
    for (size_t i = 0; i < msg->nopts; i++) {
        bool is_uri = false;
        for (size_t k = 0; k < HCM_COUNTOF(uri_options); k++)
            is_uri |= msg->opts[i].number == uri_options[k];
        if (!is_uri)
            msg->opts[kept++] = msg->opts[i];
    }
    msg->nopts = kept;
    return 0;
}

/* coap.max_inflight and coap.max_inflight_per_client: 0, or HCM_EOVERLOAD (5.03). */
static int admit(const hcp_proxy_t *proxy, const struct sockaddr *peer)
{
    const hcc_config_t *cfg = proxy->cfg;
    hcp_clientcount_key_t key;

    if (proxy->metrics.reverse_inflight >= (uint64_t)cfg->coap_max_inflight)
        return HCM_EOVERLOAD;
    hcp_clientcount_key_of(peer, &key);
    if (proxy->reverse_clients == NULL ||
        hcp_clientcount_get(proxy->reverse_clients, &key) >=
            (unsigned)cfg->coap_max_inflight_per_client)
        return HCM_EOVERLOAD;
    return 0;
}

/* A new exchange for |req|, whose body is |upload| when hcproxy reassembled it (the exchange
 * owns it from here, also when this fails) and the request's payload otherwise. */
static hcp_reverse_exchange_t *exchange_new(hcp_proxy_t *proxy, const hcp_reverse_request_t *req,
                                            const hcp_rblocks_t *blocks,
                                            hcp_reverse_upload_t *upload)
{
    size_t len = upload->is_blockwise ? upload->len : req->msg.payload.len;
    size_t arena_size = 2 * len + 16384; /* the payload and every option, header and URL */
    hcp_block2_key_t key;
    hcp_reverse_exchange_t *rx;

    if (req->ends_len > HCP_REVERSE_MAX_ENDS || (rx = malloc(sizeof *rx + arena_size)) == NULL) {
        free(upload->body);
        return NULL;
    }
    memset(rx, 0, sizeof *rx);
    rx->proxy = proxy;
    rx->upload = upload->body;
    rx->upload_len = upload->len;
    rx->is_blockwise = upload->is_blockwise;
    rx->last_block1 = upload->block1;
    rx->asked = *blocks;
    rx->token_len = req->token_len;
    if (hcp_reverse_blocks_key(req, &key, &rx->key_options))
        rx->key_options_len = key.options_len;
    memcpy(rx->ends, req->ends, req->ends_len);
    rx->ends_len = req->ends_len;
    rx->id = ++proxy->next_exchange_id;
    rx->started_ns = uv_hrtime();
    hcp_log_request_id(rx->id, rx->request_id, sizeof rx->request_id);
    hcp_sockaddr_format(req->peer, rx->client, sizeof rx->client);
    hcp_clientcount_key_of(req->peer, &rx->client_key);
    rx->redirects_left = proxy->cfg->origin_redirects;
    hcm_arena_init(&rx->arena, rx->arena_buf, arena_size);
    if (req->identity != NULL)
        rx->identity = hcm_arena_strndup(&rx->arena, req->identity, strlen(req->identity));
    rx->next = proxy->reverse_live;
    if (rx->next != NULL)
        rx->next->prev = rx;
    proxy->reverse_live = rx;
    rx->is_linked = true;
    return rx;
}

/* What is answered before any exchange starts: bad options, a kept Block2 block, the drain, a
 * Block1 block before the last, the limits. true when |reply| has had its answer; otherwise
 * |upload| holds the body when the request was the last of a Block1 upload. */
static bool answer_at_once(hcp_proxy_t *proxy, hcp_reverse_request_t *req,
                           hcp_reverse_reply_t *reply, hcp_rblocks_t *blocks,
                           hcp_reverse_upload_t *upload)
{
    hcm_coap_msg_t cont;
    uint8_t buf[4];
    int err;

    if ((err = check_options(&req->msg)) < 0 || (err = hcp_rblocks_read(&req->msg, blocks)) < 0) {
        refuse(proxy, req, reply, err);
        return true;
    }
    /* A later block, or the repeat of a request whose answer waited for the client to show it
     * is there (an Echo, RFC 9175 s2.4): from the answer kept for it. */
    if (((blocks->has_block2 && blocks->block2 >> 4 > 0) ||
         hcm_coap_msg_find(&req->msg, HCM_OPT_ECHO) != NULL) &&
        serve_kept_block(proxy, req, blocks, reply))
        return true;
    if (proxy->closing) { /* drain.delay_s is over: exchanges in flight finish, none starts */
        refuse(proxy, req, reply, HCM_ESHUTDOWN);
        return true;
    }
    if (blocks->has_block1 &&
        (err = hcp_reverse_blocks_gather(proxy, req, blocks, upload, &cont, buf)) <= 0) {
        if (err < 0)
            refuse(proxy, req, reply, err);
        else
            reply->ops->send(reply, &cont);
        return true;
    }
    if ((err = admit(proxy, req->peer)) < 0) {
        free(upload->body);
        refuse(proxy, req, reply, err);
        return true;
    }
    return false;
}

hcp_reverse_exchange_t *hcp_reverse_take(hcp_proxy_t *proxy, hcp_reverse_request_t *req,
                                         hcp_reverse_reply_t *reply)
{
    hcp_reverse_upload_t upload = {0};
    hcp_rblocks_t blocks;
    hcp_reverse_exchange_t *rx;
    int err;

    if (answer_at_once(proxy, req, reply, &blocks, &upload))
        return NULL;
    if ((rx = exchange_new(proxy, req, &blocks, &upload)) == NULL) {
        refuse(proxy, req, reply, HCM_EINTERNAL);
        return NULL;
    }
    rx->reply = reply;
    err = hcp_reverse_origin_map(rx, &req->msg);
    if (err == 0)
        err = hcp_reverse_origin_reach(rx);
    if (err < 0) { /* answered at once */
        hcp_reverse_fail(rx, err);
        hcp_reverse_deliver(rx);
        return NULL;
    }
    rx->is_started = hcp_clientcount_add(proxy->reverse_clients, &rx->client_key);
    if (!rx->is_started) { /* no memory to count it: the exchange goes on, uncounted */
        hcp_log(HCC_LOG_WARN, rx->id, "coap: exchange not counted per client: no memory");
        return rx;
    }
    proxy->metrics.reverse_started++;
    proxy->metrics.reverse_inflight++;
    return rx;
}

void hcp_reverse_cancel(hcp_reverse_exchange_t *rx)
{
    rx->reply = NULL; /* the transport has let it go */
    if (rx->fetch != NULL)
        hcp_origin_cancel(rx->fetch);
    rx->fetch = NULL;
    if (rx->is_resolving) {
        rx->is_abandoned = true; /* the resolver callback frees */
        unlink_live(rx);
        return;
    }
    hcp_reverse_free(rx);
}

/* ---- setup ---------------------------------------------------------------------------------- */

int hcp_reverse_start(hcp_proxy_t *proxy, struct coap_context_t *ctx)
{
    const hcc_config_t *cfg = proxy->cfg;
    int err;

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
    if ((err = hcp_coap_udp_start(proxy)) < 0)
        return err;
    return hcp_reverse_libcoap_start(proxy, ctx);
}

size_t hcp_reverse_inflight(const hcp_proxy_t *proxy)
{
    size_t n = 0;

    for (const hcp_reverse_exchange_t *rx = proxy->reverse_live; rx != NULL; rx = rx->next)
        n++;
    return n;
}

void hcp_reverse_abort_all(hcp_proxy_t *proxy)
{
    hcp_reverse_exchange_t *rx = proxy->reverse_live, *next;

    for (; rx != NULL; rx = next) {
        next = rx->next;
        if (rx->code != 0 || rx->reply == NULL)
            continue; /* answered already */
        if (rx->fetch != NULL)
            hcp_origin_cancel(rx->fetch);
        rx->fetch = NULL;
        hcp_reverse_fail(rx, HCM_ESHUTDOWN);
        hcp_reverse_deliver(rx);
    }
}

void hcp_reverse_stop(hcp_proxy_t *proxy)
{
    hcp_block1_free(proxy->block1);
    proxy->block1 = NULL;
    hcp_block2_free(proxy->block2);
    proxy->block2 = NULL;
    while (proxy->reverse_live != NULL) {
        hcp_reverse_exchange_t *rx = proxy->reverse_live;
        if (rx->fetch != NULL)
            hcp_origin_cancel(rx->fetch);
        rx->fetch = NULL;
        if (rx->is_resolving) {
            if (rx->reply != NULL)
                rx->reply->ops->abandon(rx->reply);
            rx->reply = NULL;
            rx->is_abandoned = true; /* on_resolved frees it */
            unlink_live(rx);
            continue;
        }
        hcp_reverse_free(rx);
    }
    hcp_clientcount_free(proxy->reverse_clients); /* an abandoned exchange ends uncounted */
    proxy->reverse_clients = NULL;
    hcp_coap_udp_stop(proxy);
    hcp_reverse_libcoap_stop(proxy);
}

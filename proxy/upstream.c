/* The HTTP -> CoAP direction's CoAP client: see upstream.h. Its parts:
 *
 *   upstream.c          requests: their tokens (tokens.h), NSTART queues (nstart.h), block-wise
 *                       transfers (upblock.c), the end-of-turn sending, the completed queue, life
 *   upstream_dest.c     destinations (one CoAP server over one transport), made and swept
 *   upstream_udp.c      coap:// through hcproxy's own message layer (msgclient.c)
 *   upstream_coap.c     coaps, coap+tcp and coaps+tcp through libcoap, and its event pump
 *   upstream_session.c  libcoap's sessions, with upstream.credentials (upstream_creds.c)
 *   upstream_observe.c  Observe registrations' notifications, queued for delivery
 *
 * NSTART (RFC 7252 s4.7) is enforced here, not in libcoap: each destination has an O(1) queue
 * of waiting requests, sent oldest first while fewer than NSTART are outstanding. coap:// knows
 * exactly when a request stops being outstanding (upstream_udp.h's events); libcoap's transports
 * count in epochs instead (upstream_coap.c says why).
 *
 * Each request gets an 8-byte token (tokens.h) of a slot and a random nonce. Block-wise
 * transfers are hcproxy's own (upblock.c, libcoap's block mode off): each request of one takes a
 * new nonce (RFC 9175 s4) and waits at the head of its destination's queue, so NSTART counts it
 * like any other.
 *
 * A request that ends (answered, failed, or not sendable) leaves every table at once and waits on
 * up->completed; its done callback runs at the end of the upstream's loop callback that ended it
 * (hcp_upstream_deliver()), never from within hcp_upstream_send() or hcp_upstream_cancel(): the
 * caller never finds its own state changed under it, and no call chain comes back into this file.
 * */
#include <stdlib.h>
#include <string.h>

#include "container_of.h"
#include "hcc.h"
#include "hcm.h"
#include "msgclient.h"
#include "nstart.h"
#include "proxy.h"
#include "queue.h"
#include "random.h"
#include "tokens.h"
#include "upblock.h"
#include "upblock_msg.h"
#include "upstream.h"
#include "upstream_coap.h"
#include "upstream_creds.h"
#include "upstream_dest.h"
#include "upstream_int.h"
#include "upstream_udp.h"

/* Ended requests' memory kept for the next ones, as exchange.c keeps its blocks. */
#define SPARE_REQS_MAX 256

static void on_flush(uv_check_t *check);

/* ---- requests ------------------------------------------------------------------------------- */

static hcp_upstream_req_t *new_req(hcp_upstream_t *up)
{
    hcp_upstream_req_t *req = up->spare_reqs;
    uint8_t *bytes = NULL;
    size_t bytes_cap = 0;

    if (req != NULL) {
        up->spare_reqs = req->next_spare;
        up->nspare_reqs--;
        bytes = req->bytes;
        bytes_cap = req->bytes_cap;
    } else if ((req = malloc(sizeof *req)) == NULL) {
        return NULL;
    }
    memset(req, 0, offsetof(hcp_upstream_req_t, answer)); /* the answer is written when it comes */
    req->bytes = bytes;
    req->bytes_cap = bytes_cap;
    req->body = NULL;
    req->up = up;
    return req;
}

static void free_req(hcp_upstream_req_t *req)
{
    hcp_upstream_t *up = req->up;

    free(req->body);
    if (up->nspare_reqs < SPARE_REQS_MAX) {
        req->next_spare = up->spare_reqs;
        up->spare_reqs = req;
        up->nspare_reqs++;
        return;
    }
    free(req->bytes);
    free(req);
}

static uint32_t next_nonce(void)
{
    uint32_t nonce;

    hcp_random_fill(&nonce, sizeof nonce);
    return nonce;
}

/* coap://: |req|'s request leaves the message layer: over there, or |cancel|led here. */
static void udp_over(hcp_upstream_req_t *req, bool cancel)
{
    if (req->udp == NULL)
        return;
    if (cancel)
        hcp_upstream_udp_cancel(req->up->udp, req->udp);
    req->udp = NULL;
    hcp_queue_remove(&req->d->in_flight, &req->sent);
}

/* Whether |req| was awaiting an answer; it no longer is. */
static bool stop_awaiting(hcp_upstream_req_t *req)
{
    if (!req->is_sent)
        return false;
    req->is_sent = false;
    req->d->awaiting--;
    return true;
}

/* |req| leaves every table: its destination's queue or NSTART count (|end|), the message layer,
 * the awaited count, its token and its transfer. Whether it was awaiting an answer. */
static bool detach(hcp_upstream_req_t *req, hcp_nstart_end_t end)
{
    hcp_upstream_t *up = req->up;
    hcp_upstream_dest_t *d = req->d;
    bool was_awaited;

    if (hcp_nstart_is_waiting(&req->nstart)) {
        up->proxy->metrics.upstream_waiting--;
        end = HCP_NSTART_CANCELLED; /* never sent */
    }
    hcp_nstart_end(&d->nstart, &req->nstart, end);
    udp_over(req, end == HCP_NSTART_CANCELLED);
    was_awaited = stop_awaiting(req);
    if (req->slot != 0) { /* a late answer, or libcoap's NACK for an abandoned CON, finds none */
        hcp_tokens_free(&up->tokens, req->slot);
        req->slot = 0;
    }
    hcp_upblock_reset(&req->block);
    if (req->is_observing)
        hcp_upstream_observe_over(req, end == HCP_NSTART_CANCELLED);
    else
        d->inflight--;
    return was_awaited;
}

/* |msg| into |req|, whose own bytes it then points to (the payload may already be req->body). */
static int keep_answer(hcp_upstream_req_t *req, const hcm_coap_msg_t *msg)
{
    bool has_body = req->body != NULL;
    size_t need = hcm_coap_msg_size(msg, !has_body);

    if (need > req->bytes_cap) {
        uint8_t *grown = realloc(req->bytes, need);
        if (grown == NULL)
            return HCM_EINTERNAL;
        req->bytes = grown;
        req->bytes_cap = need;
    }
    hcm_coap_msg_copy(&req->answer, req->bytes, msg, !has_body);
    return 0;
}

/* |req| is over, with the response |msg| or |err|: it leaves every table now, and its callback
 * runs at the end of this loop callback (hcp_upstream_deliver()), or of this turn's check. */
static void complete(hcp_upstream_req_t *req, const hcm_coap_msg_t *msg, int err,
                     hcp_nstart_end_t end)
{
    hcp_upstream_t *up = req->up;

    detach(req, end);
    req->err = err;
    if (err == 0)
        req->err = keep_answer(req, msg);
    hcp_queue_push(&up->completed, &req->completed);
    uv_check_start(&up->flush, on_flush);
}

void hcp_upstream_deliver(hcp_upstream_t *up)
{
    do {
        hcp_queue_link_t *link;
        hcp_upstream_observe_deliver(up); /* before an observation's end, which follows them */
        while ((link = hcp_queue_pop(&up->completed)) != NULL) {
            hcp_upstream_req_t *req = hcp_container_of(link, hcp_upstream_req_t, completed);
            req->on_done(req->data, req->err == 0 ? &req->answer : NULL, req->err);
            free_req(req);
        }
        if (up->on_batch != NULL) /* the HTTP side: answer in this loop turn */
            up->on_batch(up->on_batch_data);
    } while (!hcp_queue_is_empty(&up->completed) || !hcp_queue_is_empty(&up->notes));
    /* again: sends the batch made failed at once */
}

/* What ends a request's outstanding time, by the error that ends it (nstart.h). */
static hcp_nstart_end_t end_of(int err)
{
    return err == HCM_ETIMEOUT ? HCP_NSTART_TIMED_OUT : HCP_NSTART_RESET;
}

void hcp_upstream_fail(hcp_upstream_req_t *req, int err)
{
    complete(req, NULL, err, end_of(err));
}

/* The block-wise transfer of |req|'s message to |d|: its first request. */
static void start_transfer(const hcp_upstream_dest_t *d, hcp_upstream_req_t *req)
{
    uint8_t tag[HCP_UPBLOCK_TAG_LEN];

    hcp_random_fill(tag, sizeof tag);
    hcp_upblock_msg_begin(&req->block, d->up->proxy->cfg, req->msg, HCP_TOKENS_LEN,
                          d->scheme == HCM_SCHEME_COAP_TCP || d->scheme == HCM_SCHEME_COAPS_TCP,
                          tag);
}

/* The next request of |req|'s block-wise transfer: the request answered is outstanding no more,
 * and the next one, with a token of its own (RFC 9175 s4: a fresh nonce, so that a late answer
 * to the one before cannot pass for its answer), waits at the head of the queue for the pump
 * that ends this pass. */
static void continue_later(hcp_upstream_req_t *req)
{
    hcp_upstream_dest_t *d = req->d;

    hcp_nstart_end(&d->nstart, &req->nstart, HCP_NSTART_ANSWERED);
    stop_awaiting(req);
    hcp_tokens_renew(&req->up->tokens, req->slot, next_nonce());
    hcp_nstart_wait(&d->nstart, &req->nstart, true);
    req->up->proxy->metrics.upstream_waiting++;
}

static const int step_errors[] = {
    [HCP_UPBLOCK_CHANGED] = HCM_EBLOCKCHANGED,
    [HCP_UPBLOCK_TOO_LARGE] = HCM_ERESPTOOLARGE,
    [HCP_UPBLOCK_MALFORMED] = HCM_EBADRESPONSE,
    [HCP_UPBLOCK_NOMEM] = HCM_EINTERNAL,
};

void hcp_upstream_take_response(hcp_upstream_req_t *req, hcm_coap_msg_t *msg)
{
    hcp_upblock_response_t view = hcp_upblock_msg_view(msg);
    hcp_upblock_step_t step;
    size_t len;

    if (req->on_notify != NULL) { /* an observation's last word: no transfer follows */
        complete(req, msg, 0, HCP_NSTART_ANSWERED);
        return;
    }
    step = hcp_upblock_on_response(&req->block, &view);

    if (step == HCP_UPBLOCK_SEND) {
        continue_later(req);
        return;
    }
    if (step == HCP_UPBLOCK_DONE && hcp_upblock_take_body(&req->block, &req->body, &len))
        msg->payload = (hcm_bytes_t){req->body, len}; /* the request owns it now */
    if (step == HCP_UPBLOCK_DONE)
        complete(req, msg, 0, HCP_NSTART_ANSWERED);
    else
        complete(req, NULL, step_errors[step], HCP_NSTART_ANSWERED);
}

/* ---- sending -------------------------------------------------------------------------------- */

/* coap://: |req|'s request through |d|'s socket. 0, or a negative HCM_E* code. */
static int udp_transmit(hcp_upstream_dest_t *d, hcp_upstream_req_t *req, const uint8_t *token)
{
    hcp_upblock_msg_out_t *out = malloc(sizeof *out); /* 1.5 KiB: off the stack */

    if (req->on_notify != NULL) /* a registration goes whole (RFC 7641 s3.1: a GET) */
        req->udp = hcp_upstream_udp_observe(d->sock, token, HCP_TOKENS_LEN, req->msg, req);
    else if (out != NULL && hcp_upblock_msg_request(req->msg, &req->block, out) == 0)
        req->udp = hcp_upstream_udp_send(d->sock, token, HCP_TOKENS_LEN, &out->msg, req);
    free(out);
    if (req->udp == NULL)
        return HCM_ENOSPACE;
    hcp_queue_push(&d->in_flight, &req->sent);
    return 0;
}

/* Hands |req|'s next request to its transport. 0, or a negative HCM_E* code. */
static int transmit(hcp_upstream_dest_t *d, hcp_upstream_req_t *req)
{
    uint8_t token[HCP_TOKENS_LEN];

    hcp_tokens_write(&d->up->tokens, req->slot, token);
    return d->sock != NULL ? udp_transmit(d, req, token)
                           : hcp_upstream_coap_transmit(d, req, token);
}

/* A request that cannot be sent ends (its callback later) and takes no room. */
void hcp_upstream_pump(hcp_upstream_dest_t *d)
{
    hcp_upstream_t *up = d->up;
    hcp_nstart_req_t *next;

    if (hcp_queue_is_empty(&d->nstart.waiting))
        return;
    d->nstart.limit = (unsigned)up->proxy->cfg->upstream_nstart;
    if (d->sock == NULL && hcp_upstream_coap_is_quiet(d))
        hcp_nstart_quiet(&d->nstart); /* libcoap: nothing unacknowledged (upstream_coap.c) */
    while ((next = hcp_nstart_next(&d->nstart)) != NULL) {
        hcp_upstream_req_t *req = hcp_container_of(next, hcp_upstream_req_t, nstart);
        int err;

        up->proxy->metrics.upstream_waiting--;
        err = transmit(d, req);
        if (hcp_queue_link_is_queued(&req->completed))
            continue; /* ended within the transport's call: a NACK libcoap gave at once */
        if (err < 0) {
            complete(req, NULL, err, HCP_NSTART_CANCELLED);
            continue;
        }
        hcp_nstart_sent(&d->nstart, &req->nstart);
        req->is_sent = true;
        d->awaiting++;
    }
}

/* While a server has requests outstanding, the ones queued for it during a loop turn are sent
 * once the turn has handled all its I/O, rather than as each HTTP request is read: the server
 * then gets them back to back. Sent one at a time, with libmicrohttpd's work on the next request
 * in between, each datagram found coap-fastserver asleep again, and its wake-up (an
 * inter-processor interrupt, costly in this VM) was the largest part of hcproxy's kernel time.
 * A request to a server with nothing outstanding goes at once: there is no batch to join, and
 * deferring it made a 1 MiB block-wise upload markedly slower (figures in bench/README.md).
 * The requests that coap:// servers' answers ended in this turn (on_udp_event()) are delivered
 * here too, as destination_pass() does for libcoap's. */
static void flush_due(hcp_upstream_t *up)
{
    uv_check_stop(&up->flush);
    while (up->pump_due != NULL) {
        hcp_upstream_dest_t *d = up->pump_due;
        up->pump_due = d->next_due;
        d->is_pump_due = false;
        hcp_upstream_pump(d);
    }
    hcp_upstream_deliver(up);
}

static void on_flush(uv_check_t *check)
{
    flush_due(hcp_container_of(check, hcp_upstream_t, flush));
}

static void pump_later(hcp_upstream_dest_t *d)
{
    hcp_upstream_t *up = d->up;

    if (d->is_pump_due)
        return;
    d->is_pump_due = true;
    d->next_due = up->pump_due;
    up->pump_due = d;
    uv_check_start(&up->flush, on_flush);
}

/* A plain request (|on_notify| NULL) or an Observe registration: see upstream.h. */
static int start(hcp_upstream_t *up, const struct sockaddr *addr, const hcm_target_t *target,
                 const hcm_coap_msg_t *msg, uint64_t exchange, hcp_upstream_notify_cb on_notify,
                 hcp_upstream_done_cb on_done, void *data, hcp_upstream_req_t **out)
{
    hcp_upstream_req_t *req;
    hcp_upstream_dest_t *d;
    int err;

    if ((err = hcp_upstream_dest_get(up, addr, target, &d)) < 0)
        return err;
    if (d->inflight >= (unsigned long long)up->proxy->cfg->upstream_max_inflight_per_server)
        return HCM_EOVERLOAD; /* one slow server cannot take every slot */
    if ((req = new_req(up)) == NULL)
        return HCM_EOVERLOAD;
    if ((req->slot = hcp_tokens_take(&up->tokens, req, next_nonce())) == 0) {
        free_req(req);
        return HCM_EOVERLOAD;
    }
    req->d = d;
    req->exchange = exchange;
    req->on_done = on_done;
    req->on_notify = on_notify;
    req->data = data;
    req->msg = msg;
    d->last_used = uv_now(up->proxy->loop);
    d->inflight++;
    start_transfer(d, req);
    hcp_nstart_wait(&d->nstart, &req->nstart, false);
    up->proxy->metrics.upstream_waiting++;
    *out = req; /* first: a request that cannot be sent ends in the pump, its callback later */
    if (d->awaiting == 0 && !d->is_pump_due)
        hcp_upstream_pump(d); /* nothing outstanding: no batch to join (see flush_due()) */
    else
        pump_later(d);
    return 0;
}

int hcp_upstream_send(hcp_upstream_t *up, const struct sockaddr *addr, const hcm_target_t *target,
                      const hcm_coap_msg_t *msg, uint64_t exchange, hcp_upstream_done_cb on_done,
                      void *data, hcp_upstream_req_t **out)
{
    return start(up, addr, target, msg, exchange, NULL, on_done, data, out);
}

int hcp_upstream_observe(hcp_upstream_t *up, const struct sockaddr *addr,
                         const hcm_target_t *target, const hcm_coap_msg_t *msg, uint64_t exchange,
                         hcp_upstream_notify_cb on_notify, hcp_upstream_done_cb on_done,
                         void *data, hcp_upstream_req_t **out)
{
    return start(up, addr, target, msg, exchange, on_notify, on_done, data, out);
}

void hcp_upstream_reregister(hcp_upstream_req_t *req)
{
    uint8_t token[HCP_TOKENS_LEN];

    if (hcp_queue_link_is_queued(&req->completed))
        return; /* over: its end is on its way */
    if (req->udp != NULL) {
        hcp_upstream_udp_reregister(req->up->udp, req->udp);
        return;
    }
    /* libcoap's transports: the same request and token again, a new message (s3.3.1). */
    hcp_tokens_write(&req->up->tokens, req->slot, token);
    if (req->d->sock == NULL && hcp_upstream_coap_transmit(req->d, req, token) < 0)
        hcp_upstream_fail(req, HCM_EUNREACHABLE);
}

void hcp_upstream_cancel(hcp_upstream_req_t *req)
{
    hcp_upstream_dest_t *d = req->d;
    bool was_awaited = false;

    if (req->is_observing && d->sock == NULL) { /* libcoap's: deregistered (upstream_coap.h) */
        uint8_t token[HCP_TOKENS_LEN];
        hcp_tokens_write(&req->up->tokens, req->slot, token);
        hcp_upstream_coap_deregister(d, req, token);
    }
    if (hcp_queue_link_is_queued(&req->completed)) { /* over already, callback not yet run */
        hcp_queue_remove(&req->up->completed, &req->completed);
        hcp_upstream_observe_over(req, true);
    } else {
        was_awaited = detach(req, HCP_NSTART_CANCELLED);
    }
    free_req(req);
    /* Ended unanswered: the session and its CON went, and room with them. */
    if (was_awaited && d->sock == NULL && hcp_upstream_coap_abandon(d))
        hcp_upstream_pump(d);
}

/* ---- coap:// through hcproxy's own message layer (upstream_udp.c) ------------------------- */

/* A fresh notification of the observation |req|. The first one answers its registration, and
 * it stops counting as outstanding (NSTART) or in flight (upstream.max_inflight_per_server)
 * while it lasts. */
void hcp_upstream_notified(hcp_upstream_req_t *req, const hcm_coap_msg_t *msg, uint32_t observe)
{
    hcp_upstream_dest_t *d = req->d;

    if (!req->is_observing) {
        hcp_nstart_end(&d->nstart, &req->nstart, HCP_NSTART_ANSWERED);
        stop_awaiting(req);
        d->inflight--;
        d->observing++;
        req->is_observing = true;
    }
    hcp_upstream_observe_notified(req, msg, observe);
}

/* The message layer's word on the request |user|: with NSTART room made, the destination's
 * waiting requests go at the end of this loop turn (on_flush()) or of this batch. */
static void on_udp_event(void *ctx, void *user, hcp_upstream_udp_kind_t kind, hcm_coap_msg_t *msg,
                         int err)
{
    hcp_upstream_req_t *req = user;
    hcp_upstream_dest_t *d = req->d;

    (void)ctx;
    if (kind == HCP_UPSTREAM_UDP_ACKED) {
        hcp_nstart_end(&d->nstart, &req->nstart, HCP_NSTART_ACKED);
    } else if (kind == HCP_UPSTREAM_UDP_NOTIFIED) {
        hcp_upstream_notified(req, msg, (uint32_t)err);
    } else {
        udp_over(req, false);
        if (kind == HCP_UPSTREAM_UDP_ANSWERED)
            hcp_upstream_take_response(req, msg);
        else
            hcp_upstream_fail(req, err);
    }
    pump_later(d);
}

/* ICMP unreachable from |owner|'s server: what was sent there fails now rather than time out. */
static void on_udp_unreachable(void *ctx, void *owner)
{
    hcp_upstream_dest_t *d = owner;

    (void)ctx;
    while (!hcp_queue_is_empty(&d->in_flight)) {
        hcp_upstream_req_t *req =
            hcp_container_of(d->in_flight.head.next, hcp_upstream_req_t, sent);
        udp_over(req, true);
        hcp_upstream_fail(req, HCM_EUNREACHABLE);
    }
    pump_later(d);
}

/* A batch of coap:// datagrams is over: the room their ACKs and answers made is filled now, as
 * destination_pass() does after a batch of libcoap's, rather than after libmicrohttpd has read
 * the requests of this loop turn (with NSTART 1, that wait came into every round trip). */
static void on_udp_batch_end(void *ctx)
{
    hcp_upstream_t *up = ctx;

    if (up->pump_due != NULL || !hcp_queue_is_empty(&up->completed))
        flush_due(up);
}

static void on_udp_random(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    hcp_random_fill(buf, len);
}

static uint64_t on_udp_exchange_of(void *ctx, const uint8_t *token, size_t len)
{
    hcp_upstream_t *up = ctx;
    const hcp_upstream_req_t *req = hcp_tokens_owner(&up->tokens, token, len);

    return req != NULL ? req->exchange : 0;
}

void hcp_upstream_msgclient_stats(const hcp_upstream_t *up, hcp_msgclient_stats_t *stats)
{
    if (up == NULL || up->udp == NULL)
        memset(stats, 0, sizeof *stats);
    else
        hcp_upstream_udp_stats(up->udp, stats);
}

/* ---- life ----------------------------------------------------------------------------------- */

int hcp_upstream_reload_credentials(hcp_upstream_t *up, const hcc_config_t *next, bool *changed)
{
    hcp_upstream_creds_set_t *set;
    int err = hcp_upstream_creds_load(next, &set);

    if (err < 0)
        return err;
    *changed = !hcp_upstream_creds_same(up->creds, set);
    if (!*changed) { /* the sessions made with the running set stay in use */
        hcp_upstream_creds_release(set);
        return 0;
    }
    hcp_upstream_creds_release(up->creds);
    up->creds = set;
    return 0;
}

void hcp_upstream_on_batch(hcp_upstream_t *up, void (*on_batch)(void *data), void *data)
{
    up->on_batch = on_batch;
    up->on_batch_data = data;
}

static void on_sweep(uv_timer_t *timer)
{
    hcp_upstream_dest_sweep(hcp_container_of(timer, hcp_upstream_t, sweep));
}

/* What hcp_upstream_new() made before the reverse context's poll handle, in reverse order. */
static void free_parts(hcp_upstream_t *up)
{
    if (up->udp != NULL)
        hcp_upstream_udp_close(up->udp); /* frees itself once its timer has closed */
    coap_free_context(up->ctx);
    coap_cleanup();
    hcp_upstream_creds_release(up->creds); /* wipes the keys */
    free(up);
}

/* The poll handle was in the loop: the memory goes once the loop has closed it. */
static void on_failed_poll_closed(uv_handle_t *handle)
{
    free_parts(handle->data);
}

int hcp_upstream_new(hcp_proxy_t *proxy, hcp_upstream_t **out)
{
    hcp_upstream_t *up = calloc(1, sizeof *up);
    hcp_upstream_udp_handler_t handler = {on_udp_event,  on_udp_unreachable, on_udp_batch_end,
                                  on_udp_random, on_udp_exchange_of, up};
    int err;

    if (up == NULL)
        return UV_ENOMEM;
    up->proxy = proxy;
    hcp_tokens_init(&up->tokens);
    hcp_queue_init(&up->completed);
    hcp_queue_init(&up->notes);
    if ((err = hcp_upstream_creds_load(proxy->cfg, &up->creds)) < 0)
        goto fail_creds;
    hcp_upstream_coap_startup();
    err = UV_ENOMEM;
    if ((up->ctx = hcp_upstream_coap_new_context()) == NULL)
        goto fail_parts;
    if ((err = hcp_upstream_udp_new(proxy->loop, proxy->cfg, &handler, &up->udp)) < 0)
        goto fail_parts;
    if ((err = uv_poll_init(proxy->loop, &up->poll, coap_context_get_coap_fd(up->ctx))) < 0)
        goto fail_parts;
    up->poll.data = up;
    if ((err = uv_poll_start(&up->poll, UV_READABLE, hcp_upstream_coap_on_reverse_io)) < 0)
        goto fail_poll;
    uv_check_init(proxy->loop, &up->flush);
    up->flush.data = up;
    uv_timer_init(proxy->loop, &up->sweep);
    up->sweep.data = up;
    up->open_handles = 3;
    /* A destination goes between one and two idle periods after its last use. */
    uv_timer_start(&up->sweep, on_sweep, (uint64_t)proxy->cfg->upstream_idle_ms,
                   (uint64_t)proxy->cfg->upstream_idle_ms);
    uv_unref((uv_handle_t *)&up->sweep);
    *out = up;
    return 0;
fail_poll:
    uv_close((uv_handle_t *)&up->poll, on_failed_poll_closed);
    return err;
fail_parts:
    free_parts(up);
    return err;
fail_creds:
    free(up);
    return err;
}

static void on_closed(uv_handle_t *handle)
{
    hcp_upstream_t *up = handle->data;

    if (--up->open_handles > 0)
        return;
    hcp_upstream_dest_free_all(up);
    while (!hcp_queue_is_empty(&up->completed)) /* callbacks that will never run */
        free_req(hcp_container_of(hcp_queue_pop(&up->completed), hcp_upstream_req_t, completed));
    hcp_upstream_observe_free_notes(up);
    while (up->spare_reqs != NULL) {
        hcp_upstream_req_t *req = up->spare_reqs;
        up->spare_reqs = req->next_spare;
        free(req->bytes);
        free(req);
    }
    hcp_tokens_fini(&up->tokens);
    free_parts(up);
}

void hcp_upstream_close(hcp_upstream_t *up)
{
    hcp_upstream_dest_close_all(up, on_closed);
    uv_close((uv_handle_t *)&up->sweep, on_closed);
    uv_close((uv_handle_t *)&up->flush, on_closed);
    uv_close((uv_handle_t *)&up->poll, on_closed);
}

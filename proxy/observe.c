/* CoAP observations held for HTTP streams of notifications: see observe.h.
 *
 * An observation is one Observe registration with a coap:// server (hcp_upstream_observe()),
 * the copy of its request, the subscribers it feeds, and its latest notification, kept framed
 * both ways (server-sent events and a multipart part) for those who join later. Shared ones are
 * found by a key of the server's address and the request's options.
 *
 * Per notification: a Block2 one whose first block says more follow (RFC 7959 s2.6) has the
 * whole representation fetched with a plain GET (block-wise, upblock.c) before it goes out, and a
 * newer notification supersedes a fetch under way; the rest is framed once and handed to every
 * subscriber. The Max-Age timer (RFC 7641 s3.3.1) re-registers when a notification's freshness
 * has passed without a new one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>
#include <uv.h>

#include "clientcount.h"
#include "container_of.h"
#include "hcc.h"
#include "hcm.h"
#include "log.h"
#include "observe.h"
#include "proxy.h"
#include "queue.h"
#include "random.h"
#include "sockaddr.h"
#include "upstream.h"

#define BUCKETS 1024
#define DEFAULT_MAX_AGE_S 60     /* RFC 7252 s5.10.5 */
#define REREGISTER_GRACE_MS 2000 /* past Max-Age, for a notification on its way */
#define BOUNDARY_RANDOM_BYTES 18 /* 24 base64url characters after "hcproxy-" */

typedef struct framed {
    uint8_t *p;
    size_t len;
} framed_t;

typedef struct observation {
    hcp_observe_t *obs;
    hcp_queue_link_t held;   /* in obs->held */
    struct observation *next_in_bucket;
    bool is_shared;          /* in the table, found by its key */
    bool has_answer;         /* a notification came: the streams are open */
    uint64_t exchange;       /* of the subscriber that started it, for the log */
    hcp_upstream_req_t *upreq;
    hcp_upstream_req_t *fetch;  /* the whole of a Block2 notification, being fetched */
    uint32_t fetch_observe;
    uint32_t last_observe;
    hcp_queue_t subs;        /* of hcp_observe_sub_t */
    size_t nsubs;
    framed_t latest_sse, latest_part;
    char boundary[96];
    char content_type[128];  /* multipart/mixed; boundary=... */
    uv_timer_t max_age;
    struct sockaddr_storage server;
    hcm_target_t target;
    hcm_req_info_t info;
    hcm_coap_msg_t msg;       /* the registration */
    hcm_coap_msg_t fetch_msg; /* the same without Observe */
    size_t key_len;
    uint8_t *key;             /* in bytes[] */
    uint8_t bytes[];          /* the key, option values, payload, host and path */
} observation_t;

struct hcp_observe_sub {
    hcp_queue_link_t link;    /* in its observation's subs */
    hcp_queue_link_t pending; /* in obs->joining until handed the latest notification */
    observation_t *o;
    hcp_observe_handler_t handler;
    void *data;
    hcm_stream_t stream;
    bool is_open;
    hcp_clientcount_key_t client;
};

struct hcp_observe {
    hcp_proxy_t *proxy;
    hcp_clientcount_t *clients;
    hcp_queue_t held;    /* of observation_t: all of them, shared or not */
    hcp_queue_t joining; /* subscribers of observations with an answer, to be handed it */
    uv_check_t check;
    observation_t *buckets[BUCKETS];
};

/* ---- keys ---------------------------------------------------------------------------------- */

/* The server's address and every option of the request, numbers and values, in order. */
static size_t key_size(const hcm_coap_msg_t *msg)
{
    size_t n = sizeof(struct sockaddr_storage) + 1;

    for (size_t i = 0; i < msg->nopts; i++)
        n += 4 + msg->opts[i].value.len;
    return n;
}

static size_t write_key(uint8_t *out, const struct sockaddr *server, const hcm_coap_msg_t *msg)
{
    size_t at = hcp_sockaddr_len(server);

    memset(out, 0, sizeof(struct sockaddr_storage));
    memcpy(out, server, at);
    out[at++] = msg->code;
    for (size_t i = 0; i < msg->nopts; i++) {
        hcm_bytes_t v = msg->opts[i].value;
        out[at++] = (uint8_t)(msg->opts[i].number >> 8);
        out[at++] = (uint8_t)msg->opts[i].number;
        out[at++] = (uint8_t)(v.len >> 8);
        out[at++] = (uint8_t)v.len;
        if (v.len > 0)
            memcpy(out + at, v.p, v.len);
        at += v.len;
    }
    return at;
}

static size_t bucket_of(const uint8_t *key, size_t len)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a: the keys are hcproxy's own requests */

    for (size_t i = 0; i < len; i++)
        h = (h ^ key[i]) * 1099511628211ull;
    return (size_t)(h % BUCKETS);
}

static observation_t *find_shared(hcp_observe_t *obs, const uint8_t *key, size_t len)
{
    observation_t *o = obs->buckets[bucket_of(key, len)];

    while (o != NULL && !(o->key_len == len && memcmp(o->key, key, len) == 0))
        o = o->next_in_bucket;
    return o;
}

static void unlink_shared(observation_t *o)
{
    observation_t **p = &o->obs->buckets[bucket_of(o->key, o->key_len)];

    while (*p != NULL && *p != o)
        p = &(*p)->next_in_bucket;
    if (*p == o)
        *p = o->next_in_bucket;
    o->is_shared = false;
}

/* ---- life of an observation ---------------------------------------------------------------- */

static void on_timer_closed(uv_handle_t *handle)
{
    observation_t *o = handle->data;

    free(o->latest_sse.p);
    free(o->latest_part.p);
    free(o);
}

/* The observation goes: out of the table, its requests cancelled (the server's next
 * notification is Reset: RFC 7641 s3.6), its memory once the timer has closed. */
static void end_observation(observation_t *o)
{
    if (o->is_shared)
        unlink_shared(o);
    hcp_queue_remove(&o->obs->held, &o->held);
    if (o->upreq != NULL)
        hcp_upstream_cancel(o->upreq);
    if (o->fetch != NULL)
        hcp_upstream_cancel(o->fetch);
    o->upreq = o->fetch = NULL;
    o->obs->proxy->metrics.observe_observations--;
    uv_close((uv_handle_t *)&o->max_age, on_timer_closed);
}

/* |msg| into |o->msg|, its values copied at |*at| in o->bytes. */
static void copy_msg(observation_t *o, const hcm_coap_msg_t *msg, size_t *at)
{
    hcm_coap_msg_copy(&o->msg, o->bytes + *at, msg, true);
    *at += hcm_coap_msg_size(msg, true);
    /* The fetch of a Block2 notification's whole representation asks the same without Observe. */
    o->fetch_msg = o->msg;
    o->fetch_msg.nopts = 0;
    for (size_t i = 0; i < o->msg.nopts; i++)
        if (o->msg.opts[i].number != HCM_OPT_OBSERVE)
            o->fetch_msg.opts[o->fetch_msg.nopts++] = o->msg.opts[i];
}

static char *copy_string(observation_t *o, const char *s, size_t *at)
{
    char *out = (char *)o->bytes + *at;
    size_t len = strlen(s) + 1;

    memcpy(out, s, len);
    *at += len;
    return out;
}

/* A multipart/mixed boundary of the observation's own (RFC 2046 s5.1.1), shared by its
 * subscribers: no body can guess it. */
static int make_boundary(observation_t *o)
{
    uint8_t random[BOUNDARY_RANDOM_BYTES], buf[256];
    hcm_arena_t arena;
    const char *b;
    int err;

    hcp_random_fill(random, sizeof random);
    hcm_arena_init(&arena, buf, sizeof buf);
    if ((err = hcm_multipart_boundary((hcm_bytes_t){random, sizeof random}, &arena, &b)) < 0)
        return err;
    snprintf(o->boundary, sizeof o->boundary, "%s", b);
    snprintf(o->content_type, sizeof o->content_type, "multipart/mixed; boundary=%s", b);
    return 0;
}

static observation_t *new_observation(hcp_observe_t *obs, const hcp_observe_request_t *req)
{
    const hcm_coap_msg_t *msg = req->msg;
    size_t need = key_size(msg) + hcm_coap_msg_size(msg, true) + strlen(req->target->host) +
                  strlen(req->target->path) + 2, at;
    observation_t *o;

    if ((o = calloc(1, sizeof *o + need)) == NULL)
        return NULL;
    o->obs = obs;
    o->exchange = req->exchange;
    o->info = req->info;
    hcp_queue_init(&o->subs);
    memcpy(&o->server, req->server, hcp_sockaddr_len(req->server));
    o->key = o->bytes;
    o->key_len = at = write_key(o->key, req->server, msg);
    copy_msg(o, msg, &at);
    o->target = *req->target;
    o->target.host = copy_string(o, req->target->host, &at);
    o->target.path = copy_string(o, req->target->path, &at);
    if (make_boundary(o) < 0) {
        free(o);
        return NULL;
    }
    uv_timer_init(obs->proxy->loop, &o->max_age);
    o->max_age.data = o;
    hcp_queue_push(&obs->held, &o->held);
    obs->proxy->metrics.observe_observations++;
    return o;
}

/* ---- subscribers ----------------------------------------------------------------------------- */

static void forget_sub(hcp_observe_sub_t *sub)
{
    hcp_observe_t *obs = sub->o->obs;

    hcp_queue_remove(&sub->o->subs, &sub->link);
    sub->o->nsubs--;
    if (hcp_queue_link_is_queued(&sub->pending))
        hcp_queue_remove(&obs->joining, &sub->pending);
    hcp_clientcount_remove(obs->clients, &sub->client);
    obs->proxy->metrics.observe_streams--;
    free(sub);
}

static void give(hcp_observe_sub_t *sub, const framed_t *sse, const framed_t *part)
{
    const framed_t *f = sub->stream == HCM_STREAM_SSE ? sse : part;

    if (!sub->is_open) {
        sub->is_open = true;
        sub->handler.on_open(sub->data, sub->stream == HCM_STREAM_SSE ? "text/event-stream"
                                                                       : sub->o->content_type);
    }
    if (f->len > 0) {
        sub->handler.on_bytes(sub->data, (hcm_bytes_t){f->p, f->len});
        sub->o->obs->proxy->metrics.observe_events++;
    }
}

/* ---- framing --------------------------------------------------------------------------------- */

/* |msg| as the HTTP client sees it (hcm_response_to_http()), then as one event and one part. */
static int frame_in(observation_t *o, const hcm_coap_msg_t *msg, const uint32_t *observe,
                    hcm_arena_t *arena, hcm_bytes_t *sse, hcm_bytes_t *part)
{
    hcm_resp_ctx_t ctx = {.request = o->info, .target = &o->target};
    hcm_notification_t n = {.observe = observe != NULL ? *observe : 0, .is_final = observe == NULL};
    hcm_http_resp_t resp;
    hcm_header_t headers[HCM_MAX_HEADERS + 1];
    const hcm_option_t *etag = hcm_coap_msg_find(msg, HCM_OPT_ETAG);
    const hcm_option_t *max_age = hcm_coap_msg_find(msg, HCM_OPT_MAX_AGE);
    const hcm_option_t *cf = hcm_coap_msg_find(msg, HCM_OPT_CONTENT_FORMAT);
    uint32_t v;
    char observe_text[12];
    int err;

    if ((err = hcm_response_to_http(msg, &ctx, arena, &resp)) < 0)
        return err;
    n.status = resp.status;
    n.payload = resp.body;
    for (size_t i = 0; i < resp.nheaders; i++) {
        if (strcmp(resp.headers[i].name, "Content-Type") == 0)
            n.content_type = resp.headers[i].value;
        else if (strcmp(resp.headers[i].name, "OSCORE") == 0)
            n.oscore = resp.headers[i].value;
        headers[i] = resp.headers[i];
    }
    if (etag != NULL)
        n.etag = etag->value;
    if (max_age != NULL && hcm_uint_decode(max_age->value, &v) == 0)
        n.has_max_age = true, n.max_age = v;
    n.is_text = n.oscore == NULL && cf != NULL && hcm_uint_decode(cf->value, &v) == 0 &&
                v <= UINT16_MAX && hcm_content_format_is_text((uint16_t)v);
    /* The part says its Observe value too, for a client that orders parts itself (s3.4). */
    snprintf(observe_text, sizeof observe_text, "%u", (unsigned)n.observe);
    headers[resp.nheaders] = (hcm_header_t){"Observe", observe_text};
    if ((err = hcm_sse_event(&n, arena, sse)) < 0)
        return err;
    return hcm_multipart_part(o->boundary, resp.status, MHD_get_reason_phrase_for(resp.status),
                              headers, resp.nheaders + !n.is_final, resp.body, arena, part);
}

static int copy_framed(framed_t *out, hcm_bytes_t in)
{
    uint8_t *p = malloc(in.len > 0 ? in.len : 1);

    if (p == NULL)
        return HCM_EINTERNAL;
    memcpy(p, in.p, in.len);
    free(out->p);
    *out = (framed_t){p, in.len};
    return 0;
}

/* |msg| framed both ways into |sse| and |part| (malloc'ed; the caller frees them), with its
 * Observe value, or NULL for the last response, which has none. The arena grows until it holds
 * the larger of the two (JSON escapes, base64). */
static int frame(observation_t *o, const hcm_coap_msg_t *msg, const uint32_t *observe,
                 framed_t *sse, framed_t *part)
{
    size_t size = 8192 + 2 * msg->payload.len;
    int err = HCM_ENOSPACE;

    for (int attempt = 0; attempt < 4 && err == HCM_ENOSPACE; attempt++, size *= 3) {
        void *buf = malloc(size);
        hcm_arena_t arena;
        hcm_bytes_t s, p;

        if (buf == NULL)
            return HCM_EINTERNAL;
        hcm_arena_init(&arena, buf, size);
        err = frame_in(o, msg, observe, &arena, &s, &p);
        if (err == 0 && (err = copy_framed(sse, s)) == 0)
            err = copy_framed(part, p);
        free(buf);
    }
    return err;
}

/* ---- notifications --------------------------------------------------------------------------- */

static void on_max_age(uv_timer_t *timer)
{
    observation_t *o = timer->data;

    if (o->upreq == NULL)
        return;
    hcp_log(HCC_LOG_DEBUG, o->exchange, "observe: Max-Age passed without a notification: "
            "registering again (RFC 7641 s3.3.1)");
    o->obs->proxy->metrics.observe_reregistrations++;
    hcp_upstream_reregister(o->upreq);
    uv_timer_start(&o->max_age, on_max_age,
                   (uint64_t)DEFAULT_MAX_AGE_S * 1000 + REREGISTER_GRACE_MS, 0);
}

/* RFC 7641 s3.3.1: a notification is fresh for its Max-Age (60 s without one); once that has
 * passed without a new one, the client may register again to learn the current state. Not an
 * OSCORE registration: that is its client's own, which an intermediary SHALL NOT initiate (RFC
 * 8613 s4.1.3.5.1), and sent again it would be a replay to the server (s7.4). */
static void arm_max_age(observation_t *o, const hcm_coap_msg_t *msg)
{
    const hcm_option_t *opt = hcm_coap_msg_find(msg, HCM_OPT_MAX_AGE);
    uint32_t s = DEFAULT_MAX_AGE_S;

    if (o->info.is_oscore)
        return;

    if (opt != NULL && hcm_uint_decode(opt->value, &s) < 0)
        s = DEFAULT_MAX_AGE_S;
    uv_timer_start(&o->max_age, on_max_age, (uint64_t)s * 1000 + REREGISTER_GRACE_MS, 0);
}

/* A notification (the whole of it) for every subscriber, and kept for those who join later. */
static void publish(observation_t *o, const hcm_coap_msg_t *msg, uint32_t observe)
{
    hcp_queue_link_t *link;
    int err = frame(o, msg, &observe, &o->latest_sse, &o->latest_part);

    if (err < 0) {
        hcp_log(HCC_LOG_INFO, o->exchange, "observe: a notification dropped: %s",
                hcm_strerror(err));
        return;
    }
    o->has_answer = true;
    o->last_observe = observe;
    for (link = o->subs.head.next; link != &o->subs.head; link = link->next) {
        hcp_observe_sub_t *sub = hcp_container_of(link, hcp_observe_sub_t, link);
        if (!hcp_queue_link_is_queued(&sub->pending)) /* one joining gets it from the check */
            give(sub, &o->latest_sse, &o->latest_part);
    }
}

/* RFC 7959 s2.6: a notification in Block2 blocks, more to come. OSCORE ones never are: an outer
 * Block2 would be the client's to follow. */
static bool has_more_blocks(const observation_t *o, const hcm_coap_msg_t *msg)
{
    const hcm_option_t *opt = hcm_coap_msg_find(msg, HCM_OPT_BLOCK2);
    uint32_t v;

    return !o->info.is_oscore && opt != NULL && hcm_uint_decode(opt->value, &v) == 0 &&
           (v & 8u) != 0;
}

static void on_fetched(void *data, const hcm_coap_msg_t *msg, int err)
{
    observation_t *o = data;

    o->fetch = NULL;
    if (err == 0 && msg->code >> 5 == 2) {
        publish(o, msg, o->fetch_observe);
        return;
    }
    hcp_log(HCC_LOG_INFO, o->exchange, "observe: the rest of a Block2 notification not fetched: "
            "%s", err < 0 ? hcm_strerror(err) : "an error response");
}

static void on_notify(void *data, const hcm_coap_msg_t *msg, uint32_t observe)
{
    observation_t *o = data;
    int err;

    arm_max_age(o, msg);
    if (o->fetch != NULL) { /* a newer notification than the one being fetched */
        hcp_upstream_cancel(o->fetch);
        o->fetch = NULL;
    }
    if (!has_more_blocks(o, msg)) {
        publish(o, msg, observe);
        return;
    }
    o->fetch_observe = observe;
    err = hcp_upstream_send(o->obs->proxy->upstream, (struct sockaddr *)&o->server, &o->target,
                            &o->fetch_msg, o->exchange, on_fetched, o, &o->fetch);
    if (err < 0)
        hcp_log(HCC_LOG_INFO, o->exchange, "observe: the rest of a Block2 notification not "
                "fetched: %s", hcm_strerror(err));
}

/* The reason the end event gives. */
static const char *end_reason(const hcm_coap_msg_t *msg, int err)
{
    if (msg == NULL)
        return hcm_strerror(err);
    return msg->code >> 5 == 2 ? "the CoAP server ended the observation"
                               : "the CoAP server ended the observation with an error";
}

/* Ends |sub|'s stream with |last| (the server's last word, framed; may be empty) and the end
 * event or close delimiter. */
static void close_stream(hcp_observe_sub_t *sub, const framed_t *last_sse,
                         const framed_t *last_part, const char *reason)
{
    uint8_t buf[512];
    hcm_arena_t arena;
    hcm_bytes_t end = {0};

    give(sub, last_sse, last_part);
    hcm_arena_init(&arena, buf, sizeof buf);
    if (sub->stream == HCM_STREAM_SSE)
        hcm_sse_end(reason, &arena, &end);
    else
        hcm_multipart_close(sub->o->boundary, &arena, &end);
    if (end.len > 0)
        sub->handler.on_bytes(sub->data, end);
    sub->handler.on_close(sub->data);
}

/* The observation is over (upstream.h): a final response (s3.2), an error (s4.2) or a failure.
 * A subscriber whose stream never opened is refused with an error; the others get the last
 * response as an event and then the end. */
static void on_done(void *data, const hcm_coap_msg_t *msg, int err)
{
    observation_t *o = data;
    framed_t sse = {0}, part = {0};
    bool is_success = msg != NULL && msg->code >> 5 == 2;

    o->upreq = NULL;
    if (msg != NULL && frame(o, msg, NULL, &sse, &part) < 0)
        sse.len = part.len = 0;
    while (!hcp_queue_is_empty(&o->subs)) {
        hcp_observe_sub_t *sub = hcp_container_of(o->subs.head.next, hcp_observe_sub_t, link);
        hcp_observe_handler_t h = sub->handler;
        void *subdata = sub->data;

        if (!sub->is_open && !is_success) {
            forget_sub(sub);
            h.on_refused(subdata, msg, err);
            continue;
        }
        if (hcp_queue_link_is_queued(&sub->pending)) /* joined: gets the latest first */
            give(sub, &o->latest_sse, &o->latest_part);
        close_stream(sub, &sse, &part, end_reason(msg, err));
        forget_sub(sub);
    }
    free(sse.p);
    free(part.p);
    end_observation(o);
}

/* ---- joining and leaving --------------------------------------------------------------------- */

/* Subscribers that joined an observation with an answer get its latest notification here, from
 * the loop rather than from within hcp_observe_join(). */
static void on_check(uv_check_t *check)
{
    hcp_observe_t *obs = check->data;
    hcp_queue_link_t *link;

    uv_check_stop(check);
    while ((link = hcp_queue_pop(&obs->joining)) != NULL) {
        hcp_observe_sub_t *sub = hcp_container_of(link, hcp_observe_sub_t, pending);
        give(sub, &sub->o->latest_sse, &sub->o->latest_part);
    }
}

/* observe.max_streams and observe.max_streams_per_client: 0 or the error. */
static int admit(const hcp_observe_t *obs, const hcp_clientcount_key_t *client)
{
    const hcc_config_t *cfg = obs->proxy->cfg;

    if (obs->proxy->metrics.observe_streams >= (uint64_t)cfg->observe_max_streams)
        return HCM_EOBSERVESTREAMS;
    if (hcp_clientcount_get(obs->clients, client) >=
        (unsigned long long)cfg->observe_max_streams_per_client)
        return HCM_EOBSERVECLIENT;
    return 0;
}

static bool is_shareable(const hcp_observe_request_t *req)
{
    return req->msg->code == HCM_CODE(0, 1) && !req->info.is_oscore;
}

/* The shared observation |req| would join, or NULL. */
static observation_t *find_for(hcp_observe_t *obs, const hcp_observe_request_t *req)
{
    uint8_t *key;
    observation_t *held;

    if (!is_shareable(req) || (key = malloc(key_size(req->msg))) == NULL)
        return NULL;
    held = find_shared(obs, key, write_key(key, req->server, req->msg));
    free(key);
    return held;
}

/* The observation |req| joins: a shared one already held, or a new one registered now. */
static int find_or_register(hcp_observe_t *obs, const hcp_observe_request_t *req,
                            observation_t **out)
{
    observation_t *o = find_for(obs, req);
    size_t b;
    int err;

    if (o != NULL) {
        if (o->nsubs >= (size_t)obs->proxy->cfg->observe_max_subscribers_per_resource)
            return HCM_EOBSERVERESOURCE;
        *out = o;
        return 0;
    }
    if ((o = new_observation(obs, req)) == NULL)
        return HCM_EINTERNAL;
    err = hcp_upstream_observe(obs->proxy->upstream, req->server, req->target, &o->msg,
                               req->exchange, on_notify, on_done, o, &o->upreq);
    if (err < 0) {
        end_observation(o); /* never registered: only its memory goes */
        return err;
    }
    if (is_shareable(req)) {
        b = bucket_of(o->key, o->key_len);
        o->next_in_bucket = obs->buckets[b];
        obs->buckets[b] = o;
        o->is_shared = true;
    }
    *out = o;
    return 0;
}

int hcp_observe_join(hcp_observe_t *obs, const hcp_observe_request_t *req,
                     const hcp_observe_handler_t *handler, void *data, hcp_observe_sub_t **out)
{
    hcp_clientcount_key_t client;
    hcp_observe_sub_t *sub;
    observation_t *o;
    int err;

    hcp_clientcount_key_of(req->client, &client);
    if ((err = admit(obs, &client)) < 0)
        return err;
    if ((sub = calloc(1, sizeof *sub)) == NULL || !hcp_clientcount_add(obs->clients, &client)) {
        free(sub);
        return HCM_EINTERNAL;
    }
    if ((err = find_or_register(obs, req, &o)) < 0) {
        hcp_clientcount_remove(obs->clients, &client);
        free(sub);
        return err;
    }
    *sub = (hcp_observe_sub_t){.o = o, .handler = *handler, .data = data, .stream = req->stream,
                               .client = client};
    hcp_queue_push(&o->subs, &sub->link);
    o->nsubs++;
    obs->proxy->metrics.observe_streams++;
    if (o->has_answer) {
        hcp_queue_push(&obs->joining, &sub->pending);
        uv_check_start(&obs->check, on_check);
    }
    *out = sub;
    return 0;
}

void hcp_observe_leave(hcp_observe_sub_t *sub)
{
    observation_t *o = sub->o;

    forget_sub(sub);
    if (o->nsubs == 0)
        end_observation(o);
}

/* Shutdown: |sub|'s stream ends (or, never opened, is refused), telling it when |tell|. */
static void end_sub(hcp_observe_sub_t *sub, bool tell)
{
    static const framed_t nothing = {0};
    hcp_observe_handler_t h = sub->handler;
    void *data = sub->data;
    bool sub_was_open = sub->is_open;

    if (tell && sub->is_open)
        close_stream(sub, &nothing, &nothing, hcm_strerror(HCM_ESHUTDOWN));
    forget_sub(sub);
    if (tell && !sub_was_open)
        h.on_refused(data, NULL, HCM_ESHUTDOWN);
}

static void end_each(hcp_observe_t *obs, bool tell)
{
    while (!hcp_queue_is_empty(&obs->held)) {
        observation_t *o = hcp_container_of(obs->held.head.next, observation_t, held);
        while (!hcp_queue_is_empty(&o->subs))
            end_sub(hcp_container_of(o->subs.head.next, hcp_observe_sub_t, link), tell);
        end_observation(o); /* unlinks it */
    }
}

void hcp_observe_end_all(hcp_observe_t *obs)
{
    if (obs != NULL)
        end_each(obs, true);
}

/* ---- life ------------------------------------------------------------------------------------ */

int hcp_observe_new(hcp_proxy_t *proxy, hcp_observe_t **out)
{
    hcp_observe_t *obs = calloc(1, sizeof *obs);

    if (obs == NULL)
        return UV_ENOMEM;
    if ((obs->clients = hcp_clientcount_new()) == NULL) {
        free(obs);
        return UV_ENOMEM;
    }
    obs->proxy = proxy;
    hcp_queue_init(&obs->held);
    hcp_queue_init(&obs->joining);
    uv_check_init(proxy->loop, &obs->check);
    obs->check.data = obs;
    *out = obs;
    return 0;
}

static void on_check_closed(uv_handle_t *handle)
{
    hcp_observe_t *obs = handle->data;

    hcp_clientcount_free(obs->clients);
    free(obs);
}

void hcp_observe_close(hcp_observe_t *obs)
{
    if (obs == NULL)
        return;
    end_each(obs, false);
    uv_close((uv_handle_t *)&obs->check, on_check_closed);
}

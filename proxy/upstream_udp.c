/* The coap:// transport of the HTTP -> CoAP direction: see upstream_udp.h.
 *
 * libcoap's client message layer got several clauses of RFC 7252 wrong (CONFORMANCE.md: duplicate
 * CON responses, ACKs matched on the token alone, Resets for other versions, responses with a bad
 * critical option or a reserved class left to time out), and told hcproxy nothing when a request
 * was acknowledged, so that NSTART had to be guessed (upstream_coap.c). Here every datagram is
 * decoded by hcproxy (mapping/wire.c) and goes through msgclient.c, whose events say exactly when
 * a request stops being outstanding.
 *
 * One message layer serves every server: its tables are sized for all requests in flight, and one
 * per server would cost each idle server as much. Each server has its own socket, connected, so
 * that only its datagrams arrive there and an ICMP unreachable comes back as ECONNREFUSED. The
 * message layer names a peer by its address; sockets are found by it in a small hash table.
 * The sockets are udp_io.h's: every answer waiting is read with one recvmmsg(), and the requests
 * of a loop pass leave with one sendmmsg(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "coap_peer.h"
#include "container_of.h"
#include "hcc.h"
#include "hcm.h"
#include "log.h"
#include "msgclient.h"
#include "sockaddr.h"
#include "udp_io.h"
#include "upstream_udp.h"

#define MAX_DATAGRAM 1152 /* RFC 7252 s4.6 */
#define SOCKET_BUCKETS 1024

struct hcp_upstream_udp_socket {
    hcp_udp_io_t *io;
    hcp_upstream_udp_t *u;
    void *owner;
    hcp_coap_peer_t peer;
    hcp_upstream_udp_socket_t *next_in_bucket;
};

struct hcp_upstream_udp {
    uv_timer_t timer;
    hcp_upstream_udp_handler_t handler;
    hcp_msgclient_t *mc;
    hcp_upstream_udp_socket_t *current; /* the socket of the call into the message layer under
                                         * way */
    hcp_upstream_udp_socket_t *buckets[SOCKET_BUCKETS];
    uint64_t armed_ns; /* the deadline the timer is set for; UINT64_MAX: stopped */
    long long receive_buffer;
};

static void rearm(hcp_upstream_udp_t *u);

/* ---- sockets by peer ------------------------------------------------------------------------ */

static size_t bucket_of(const hcp_coap_peer_t *peer)
{
    return (size_t)hcp_coap_peer_hash(0, peer, NULL, 0) % SOCKET_BUCKETS; /* servers hcproxy chose */
}

/* The socket to |peer|: the one of the call under way, or the table's (a retransmission). */
static hcp_upstream_udp_socket_t *socket_to(hcp_upstream_udp_t *u, const hcp_coap_peer_t *peer)
{
    hcp_upstream_udp_socket_t *s;

    if (u->current != NULL && hcp_coap_peer_equal(&u->current->peer, peer))
        return u->current;
    for (s = u->buckets[bucket_of(peer)]; s != NULL && !hcp_coap_peer_equal(&s->peer, peer);)
        s = s->next_in_bucket;
    return s;
}

static void unlink_socket(hcp_upstream_udp_t *u, hcp_upstream_udp_socket_t *s)
{
    hcp_upstream_udp_socket_t **p = &u->buckets[bucket_of(&s->peer)];

    while (*p != NULL && *p != s)
        p = &(*p)->next_in_bucket;
    if (*p == s)
        *p = s->next_in_bucket;
    if (u->current == s)
        u->current = NULL;
}

/* The exchange a datagram is about, by its token (RFC 7252 s3); 0 for none. */
static uint64_t exchange_of(const hcp_upstream_udp_t *u, const uint8_t *dgram, size_t len)
{
    size_t tkl = len > 0 ? dgram[0] & 15u : 0;

    if (tkl == 0 || tkl > HCM_MAX_TOKEN || 4 + tkl > len)
        return 0;
    return u->handler.exchange_of(u->handler.ctx, dgram + 4, tkl);
}

/* At debug level, a line for each datagram: its header only (type, code, Message ID, token), so
 * that no Uri-Query or payload reaches the log. */
static void dump(const char *what, const hcp_upstream_udp_socket_t *s, const uint8_t *dgram,
                 size_t len)
{
    static const char *const types[] = {"CON", "NON", "ACK", "RST"};
    char peer[64], token[2 * HCM_MAX_TOKEN + 1] = "";
    size_t tkl = len > 0 ? dgram[0] & 15u : 0;
    struct sockaddr_storage address;

    if (!hcp_log_enabled(HCC_LOG_DEBUG) || len < 4)
        return;
    for (size_t i = 0; i < tkl && i < HCM_MAX_TOKEN && 4 + i < len; i++)
        snprintf(token + 2 * i, 3, "%02x", dgram[4 + i]);
    memcpy(&address, s->peer.bytes, s->peer.len); /* the bytes of a struct, not aligned as one */
    hcp_sockaddr_format((const struct sockaddr *)&address, peer, sizeof peer);
    hcp_log(HCC_LOG_DEBUG, exchange_of(s->u, dgram, len),
            "upstream: %s %s: v:%u %s %u.%02u mid=%u tok=%s, %zu bytes", what, peer, dgram[0] >> 6,
            types[dgram[0] >> 4 & 3], dgram[1] >> 5, dgram[1] & 31u,
            (unsigned)(dgram[2] << 8 | dgram[3]), token, len);
}

/* ---- the message layer's hooks ------------------------------------------------------------- */

static void on_random(void *ctx, uint8_t *buf, size_t len)
{
    hcp_upstream_udp_t *u = ctx;

    u->handler.random(u->handler.ctx, buf, len);
}

static void on_send(void *ctx, const hcp_coap_peer_t *peer, const uint8_t *dgram, size_t len)
{
    hcp_upstream_udp_t *u = ctx;
    hcp_upstream_udp_socket_t *s = socket_to(u, peer);

    if (s == NULL) /* the server went idle and its socket with it: an ACK for a duplicate */
        return;
    dump("to", s, dgram, len);
    hcp_udp_io_send(s->io, NULL, dgram, len);
}

/* ---- events --------------------------------------------------------------------------------- */

/* What a REJECTED request ends with: a Reset, or a response hcproxy must not act on. */
static int rejection(const hcp_msgclient_event_t *ev)
{
    return ev->header.type == HCM_RST ? HCM_ERESET : HCM_EBADRESPONSE;
}

static void deliver(hcp_upstream_udp_t *u, hcp_msgclient_action_t action, hcp_msgclient_event_t *ev)
{
    const hcp_upstream_udp_handler_t *h = &u->handler;
    uint64_t exchange = ev->header.token_len > 0
                            ? h->exchange_of(h->ctx, ev->header.token, ev->header.token_len)
                            : 0;

    if (ev->note != NULL)
        hcp_log(HCC_LOG_DEBUG, exchange, "upstream: a datagram from a CoAP server: %s", ev->note);
    switch (action) {
    case HCP_MSGCLIENT_DONE:
        break;
    case HCP_MSGCLIENT_ACKED:
        h->on_event(h->ctx, ev->user, HCP_UPSTREAM_UDP_ACKED, NULL, 0);
        break;
    case HCP_MSGCLIENT_RESPONSE:
        h->on_event(h->ctx, ev->user, HCP_UPSTREAM_UDP_ANSWERED, &ev->msg, 0);
        break;
    case HCP_MSGCLIENT_REJECTED:
        if (ev->bad_option != 0)
            hcp_log(HCC_LOG_INFO, exchange, "upstream: a response with option %u, critical and "
                    "not recognized, rejected (RFC 7252 s5.4.1)", ev->bad_option);
        h->on_event(h->ctx, ev->user, HCP_UPSTREAM_UDP_FAILED, NULL, rejection(ev));
        break;
    case HCP_MSGCLIENT_NOTIFICATION:
        h->on_event(h->ctx, ev->user, HCP_UPSTREAM_UDP_NOTIFIED, &ev->msg, (int)ev->observe);
        break;
    }
}

/* A socket's datagrams. A refusal, from a receive or from the end of the pass's sends, comes
 * outside any call into the message layer, so the server's exchanges can fail at once. */
static void on_recv(hcp_udp_io_t *io, hcp_udp_io_recv_t kind, const uint8_t *dgram, size_t len,
                    const struct sockaddr *from)
{
    hcp_upstream_udp_socket_t *s = hcp_udp_io_data(io);
    hcp_upstream_udp_t *u = s->u;
    hcp_msgclient_event_t ev;
    hcp_msgclient_action_t action;

    (void)from; /* a connected socket: only its server's datagrams arrive */
    switch (kind) {
    case HCP_UDP_IO_DATAGRAM:
        break;
    case HCP_UDP_IO_REFUSED:
        u->handler.on_unreachable(u->handler.ctx, s->owner);
        return;
    case HCP_UDP_IO_DRAINED:
        u->handler.on_batch_end(u->handler.ctx);
        return;
    case HCP_UDP_IO_TRUNCATED:
        return; /* over 64 KiB: no CoAP answer of hcproxy's */
    }
    dump("from", s, dgram, len);
    u->current = s;
    action = hcp_msgclient_receive(u->mc, &s->peer, dgram, len, uv_hrtime(), &ev);
    u->current = NULL;
    deliver(u, action, &ev);
    rearm(u);
}

/* ---- time ----------------------------------------------------------------------------------- */

static void on_timer(uv_timer_t *timer)
{
    hcp_upstream_udp_t *u = hcp_container_of(timer, hcp_upstream_udp_t, timer);
    void *user;

    u->armed_ns = UINT64_MAX;
    hcp_msgclient_tick(u->mc, uv_hrtime());
    while ((user = hcp_msgclient_next_timeout(u->mc)) != NULL)
        u->handler.on_event(u->handler.ctx, user, HCP_UPSTREAM_UDP_FAILED, NULL, HCM_ETIMEOUT);
    rearm(u);
    u->handler.on_batch_end(u->handler.ctx);
}

/* The timer, set for what the message layer has to do next. */
static void rearm(hcp_upstream_udp_t *u)
{
    uint64_t next = hcp_msgclient_next_deadline(u->mc), now;

    if (next == u->armed_ns)
        return;
    u->armed_ns = next;
    if (next == UINT64_MAX) {
        uv_timer_stop(&u->timer);
        return;
    }
    now = uv_hrtime();
    /* Rounded up: a tick a millisecond early would find nothing due and set the timer again. */
    uv_timer_start(&u->timer, on_timer, next > now ? (next - now + 999999) / 1000000 : 0, 0);
}

/* ---- requests ------------------------------------------------------------------------------- */

/* A CON through the message layer: a plain request, or an Observe registration. */
static hcp_msgclient_request_t *send_con(hcp_upstream_udp_socket_t *s, bool observe,
                                         const uint8_t *token, size_t token_len,
                                         const hcm_coap_msg_t *msg, void *user)
{
    hcp_upstream_udp_t *u = s->u;
    hcp_msgclient_request_t *req;

    u->current = s;
    req = (observe ? hcp_msgclient_observe : hcp_msgclient_send)(u->mc, &s->peer, true, token,
                                                                 token_len, msg, user,
                                                                 uv_hrtime());
    u->current = NULL;
    rearm(u);
    return req;
}

hcp_msgclient_request_t *hcp_upstream_udp_send(hcp_upstream_udp_socket_t *s, const uint8_t *token,
                                               size_t token_len,
                                               const hcm_coap_msg_t *msg, void *user)
{
    return send_con(s, false, token, token_len, msg, user);
}

hcp_msgclient_request_t *hcp_upstream_udp_observe(hcp_upstream_udp_socket_t *s,
                                                  const uint8_t *token, size_t token_len,
                                                  const hcm_coap_msg_t *msg, void *user)
{
    return send_con(s, true, token, token_len, msg, user);
}

void hcp_upstream_udp_reregister(hcp_upstream_udp_t *u, hcp_msgclient_request_t *req)
{
    hcp_msgclient_reregister(u->mc, req, uv_hrtime());
    rearm(u);
}

void hcp_upstream_udp_cancel(hcp_upstream_udp_t *u, hcp_msgclient_request_t *req)
{
    hcp_msgclient_cancel(u->mc, req);
}

void hcp_upstream_udp_stats(const hcp_upstream_udp_t *u, hcp_msgclient_stats_t *stats)
{
    hcp_msgclient_stats(u->mc, stats);
}

/* ---- sockets -------------------------------------------------------------------------------- */

/* A burst of separate responses overflows the default 208 KiB receive buffer, and every dropped
 * response costs its server a retransmission seconds later (upstream.receive_buffer_bytes). */
hcp_upstream_udp_socket_t *hcp_upstream_udp_open(hcp_upstream_udp_t *u,
                                                 const struct sockaddr *server, void *owner)
{
    hcp_upstream_udp_socket_t *s = calloc(1, sizeof *s);
    size_t len = hcp_sockaddr_len(server), b;
    hcp_udp_io_config_t config = {.connect = server, .receive_buffer = (int)u->receive_buffer,
                                  .on_recv = on_recv, .data = s, .who = "upstream"};
    int err;

    if (s == NULL)
        return NULL;
    if (len == 0 || len > sizeof s->peer.bytes) {
        free(s);
        return NULL;
    }
    if ((err = hcp_udp_io_open(u->timer.loop, &config, &s->io)) < 0) {
        hcp_log(HCC_LOG_WARN, 0, "upstream: no socket to a CoAP server: %s", uv_strerror(err));
        free(s);
        return NULL;
    }
    s->u = u;
    s->owner = owner;
    memcpy(s->peer.bytes, server, len);
    s->peer.len = (uint8_t)len;
    b = bucket_of(&s->peer);
    s->next_in_bucket = u->buckets[b];
    u->buckets[b] = s;
    return s;
}

void hcp_upstream_udp_release(hcp_upstream_udp_socket_t *s)
{
    unlink_socket(s->u, s);
    hcp_udp_io_close(s->io); /* sends what is queued, then goes */
    free(s);
}

/* ---- life ----------------------------------------------------------------------------------- */

int hcp_upstream_udp_new(uv_loop_t *loop, const hcc_config_t *cfg,
                         const hcp_upstream_udp_handler_t *handler, hcp_upstream_udp_t **out)
{
    hcp_upstream_udp_t *u = calloc(1, sizeof *u);
    hcp_msgclient_config_t mc = {
        .max_datagram = MAX_DATAGRAM,
        .ack_timeout_ns = (uint64_t)cfg->upstream_ack_timeout_ms * 1000000ull,
        .ack_random_factor = cfg->upstream_ack_random_factor,
        .max_retransmit = (unsigned)cfg->upstream_max_retransmit,
        .random = on_random,
        .send = on_send,
        .ctx = u,
    };

    if (u == NULL)
        return UV_ENOMEM;
    u->handler = *handler;
    u->receive_buffer = cfg->upstream_receive_buffer_bytes;
    u->armed_ns = UINT64_MAX;
    if ((u->mc = hcp_msgclient_new(&mc)) == NULL)
        goto fail_mc;
    uv_timer_init(loop, &u->timer);
    *out = u;
    return 0;
fail_mc:
    free(u);
    return UV_ENOMEM;
}

static void on_timer_closed(uv_handle_t *handle)
{
    free(hcp_container_of((uv_timer_t *)handle, hcp_upstream_udp_t, timer));
}

void hcp_upstream_udp_close(hcp_upstream_udp_t *u)
{
    hcp_msgclient_free(u->mc);
    u->mc = NULL;
    uv_close((uv_handle_t *)&u->timer, on_timer_closed);
}

/* The plain coap:// listeners: for each coap:// entry of coap.listen, a UDP socket on the loop and
 * hcproxy's own message layer (msglayer.h) in front of the reverse direction (reverse.h). Every
 * datagram is decoded by hcproxy (mapping/wire.c) before anything acts on it, so that the message
 * layer's rules (RFC 7252 s4: Resets, duplicates, piggybacked or separate answers) and the option
 * rules (s5.4) are the RFC's rather than a library's.
 *
 * The socket is udp_io.h's: the requests waiting are read with one recvmmsg(), and the answers and
 * ACKs a loop pass produced leave with one sendmmsg(). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "coap_peer.h"
#include "coap_udp.h"
#include "container_of.h"
#include "hcc.h"
#include "hcm.h"
#include "log.h"
#include "msglayer.h"
#include "policy.h"
#include "proxy.h"
#include "random.h"
#include "reverse.h"
#include "sockaddr.h"
#include "udp_io.h"

/* RFC 7252 s4.6: the largest datagram sent when nothing better is known of the path. */
#define MAX_DATAGRAM 1152
/* One line a second at most about refused or ignored datagrams: a flood of them is not a flood
 * of log lines. */
#define NOTE_INTERVAL_NS 1000000000ull

typedef struct listener {
    hcp_udp_io_t *io;
    uv_timer_t timer;
    hcp_proxy_t *proxy;
    hcp_msglayer_t *ml;
    struct sockaddr_storage local; /* as bound */
    char identity[INET6_ADDRSTRLEN + 8];
    uint64_t noted_ns;             /* the last log line about a refused datagram */
    unsigned unnoted;              /* refused datagrams since, not logged */
} listener_t;

struct hcp_coap_udp {
    size_t n;
    listener_t *listeners[];
};

typedef struct ureply {
    hcp_reverse_reply_t base;
    listener_t *l;
    hcp_msglayer_exchange_t *x;
    uint8_t token_len;
} ureply_t;

static void rearm(listener_t *l);

/* ---- the message layer's hooks ---------------------------------------------------------------- */

static void on_random(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    if (hcp_random_fill(buf, len) < 0) /* no CSPRNG answered: still distinct */
        for (size_t i = 0; i < len; i++)
            buf[i] ^= (uint8_t)(uv_hrtime() >> (8 * (i % 8)));
}

static void on_ml_send(void *ctx, const hcp_coap_peer_t *peer, const uint8_t *dgram, size_t len)
{
    listener_t *l = ctx;
    struct sockaddr_storage to;

    memset(&to, 0, sizeof to);
    memcpy(&to, peer->bytes, peer->len);
    hcp_udp_io_send(l->io, (const struct sockaddr *)&to, dgram, len);
}

/* ---- replies: the reverse direction's answers --------------------------------------------------- */

/* An answer of |len| bytes on the wire, when it fits what |x| may be sent; else the exchange
 * ends unanswered. hcp_msglayer_answer() fails then only for want of memory, which ends it too. */
static bool answer_if_it_fits(listener_t *l, hcp_msglayer_exchange_t *x,
                              const hcm_coap_msg_t *answer,
                              size_t len, uint64_t now)
{
    if (len == 0 || len > hcp_msglayer_answer_room(l->ml, x)) {
        hcp_msglayer_abandon(l->ml, x, now);
        return false;
    }
    return hcp_msglayer_answer(l->ml, x, answer, now) == 0;
}

/* A challenge instead of an answer that does not fit what an unverified client may be sent
 * (RFC 7252 s11.3): 4.01 with an Echo option, which the client repeats to show it is there (RFC
 * 9175 s2.4 item 3). false when not even that fits. */
static bool challenge(listener_t *l, hcp_msglayer_exchange_t *x, size_t token_len, uint64_t now)
{
    hcm_coap_msg_t answer = {.code = HCM_CODE(4, 1)};
    hcm_coap_header_t probe = {.token_len = (uint8_t)token_len};
    uint8_t echo[8], dgram[64];
    size_t len = hcp_msglayer_echo_challenge(l->ml, x, echo, now);

    hcm_coap_msg_add(&answer, HCM_OPT_ECHO, (hcm_bytes_t){echo, len});
    return answer_if_it_fits(l, x, &answer, len > 0 ? hcm_coap_encode(&probe, &answer, dgram,
                                                                      sizeof dgram) : 0, now);
}

/* The answer goes in one datagram of at most hcp_msglayer_answer_room() bytes, which the core sized
 * its block and diagnostic payload for; one that still does not fit is challenged when the client's
 * address is what bounds it (1: the core keeps the answer for the client's repeat), else ends in a
 * 5.00. */
static int on_send(hcp_reverse_reply_t *reply, const hcm_coap_msg_t *answer)
{
    ureply_t *ur = (ureply_t *)reply;
    listener_t *l = ur->l;
    hcp_msglayer_exchange_t *x = ur->x;
    hcm_coap_header_t probe = {.token_len = ur->token_len};
    uint8_t dgram[MAX_DATAGRAM];
    uint64_t now = uv_hrtime();
    size_t room = hcp_msglayer_answer_room(l->ml, x);
    size_t len = hcm_coap_encode(&probe, answer, dgram, sizeof dgram);
    int kept = 0;

    free(ur);
    if (len > 0 && len <= room) {
        hcp_msglayer_answer(l->ml, x, answer, now); /* -1: no memory, and the exchange is over */
    } else if (room < MAX_DATAGRAM) {
        kept = challenge(l, x, probe.token_len, now);
    } else {
        hcm_coap_msg_t failed = {.code = HCM_CODE(5, 0)};
        answer_if_it_fits(l, x, &failed, hcm_coap_encode(&probe, &failed, dgram, sizeof dgram),
                          now);
    }
    rearm(l);
    return kept;
}

static void on_abandon(hcp_reverse_reply_t *reply)
{
    ureply_t *ur = (ureply_t *)reply;
    listener_t *l = ur->l;

    hcp_msglayer_abandon(l->ml, ur->x, uv_hrtime());
    free(ur);
    rearm(l);
}

static size_t on_room(const hcp_reverse_reply_t *reply)
{
    const ureply_t *ur = (const ureply_t *)reply;

    return hcp_msglayer_answer_room(ur->l->ml, ur->x);
}

static const hcp_reverse_reply_ops_t ureply_ops = {on_send, on_abandon, on_room};

/* ---- receiving ------------------------------------------------------------------------------ */

/* A refused or ignored datagram, logged at most once a second with the count of those not. */
static void note(listener_t *l, const struct sockaddr *from, const char *why, uint64_t now)
{
    char peer[INET6_ADDRSTRLEN + 8];

    if (l->noted_ns != 0 && now - l->noted_ns < NOTE_INTERVAL_NS) {
        l->unnoted++;
        return;
    }
    hcp_sockaddr_format(from, peer, sizeof peer);
    hcp_log_field_t fields[] = {
        HCP_LOG_F_STR("direction", "coap_to_http"),
        HCP_LOG_F_STR("client", peer),
        HCP_LOG_F_UINT("unlogged", l->unnoted),
    };
    hcp_log_fields(HCC_LOG_INFO, 0, fields, HCM_COUNTOF(fields),
                   "coap: a datagram from %s refused or ignored: %s (%u more since the last line)",
                   peer, why, l->unnoted);
    l->noted_ns = now;
    l->unnoted = 0;
}

/* A new request: to the reverse direction, with a reply that answers through the message layer. */
static void take_request(listener_t *l, const struct sockaddr *from, const hcp_coap_peer_t *peer,
                         const hcp_msglayer_event_t *ev)
{
    uint8_t ends[sizeof peer->bytes + sizeof l->local];
    size_t local_len = hcp_sockaddr_len((const struct sockaddr *)&l->local);
    hcp_reverse_request_t req = {.msg = ev->msg, .token = ev->header.token,
                          .token_len = ev->header.token_len, .peer = from, .ends = ends,
                          .ends_len = peer->len + local_len, .identity = l->identity};
    ureply_t *ur = malloc(sizeof *ur);

    if (ur == NULL) {
        hcp_msglayer_abandon(l->ml, ev->exchange, uv_hrtime());
        return;
    }
    memcpy(ends, peer->bytes, peer->len);
    memcpy(ends + peer->len, &l->local, local_len);
    *ur = (ureply_t){.base.ops = &ureply_ops, .l = l, .x = ev->exchange,
                     .token_len = ev->header.token_len};
    hcp_reverse_take(l->proxy, &req, &ur->base);
}

static void on_recv(hcp_udp_io_t *io, hcp_udp_io_recv_t kind, const uint8_t *dgram, size_t len,
                    const struct sockaddr *from)
{
    listener_t *l = hcp_udp_io_data(io);
    hcp_coap_peer_t peer = {0};
    hcp_msglayer_event_t ev;
    uint64_t now = uv_hrtime();
    size_t from_len;

    switch (kind) {
    case HCP_UDP_IO_DATAGRAM:
        break;
    case HCP_UDP_IO_TRUNCATED:
        note(l, from, "larger than 64 KiB: truncated, ignored", now);
        return;
    case HCP_UDP_IO_DRAINED:
    case HCP_UDP_IO_REFUSED: /* an unconnected socket: a client gone, which its exchange shows */
        return;
    }
    if (from == NULL || (from_len = hcp_sockaddr_len(from)) == 0 || from_len > sizeof peer.bytes)
        return;
    memcpy(peer.bytes, from, from_len);
    peer.len = (uint8_t)from_len;
    if (hcp_msglayer_receive(l->ml, &peer, dgram, len, now, &ev) == HCP_MSGLAYER_REQUEST)
        take_request(l, from, &peer, &ev);
    else if (ev.note != NULL)
        note(l, from, ev.note, now);
    rearm(l);
}

/* ---- time ----------------------------------------------------------------------------------- */

static void on_timer(uv_timer_t *timer)
{
    listener_t *l = hcp_container_of(timer, listener_t, timer);

    hcp_msglayer_tick(l->ml, uv_hrtime());
    rearm(l);
}

/* The timer, set for what the message layer has to do next. */
static void rearm(listener_t *l)
{
    uint64_t next = hcp_msglayer_next_deadline(l->ml), now = uv_hrtime();

    if (next == UINT64_MAX) {
        uv_timer_stop(&l->timer);
        return;
    }
    /* Rounded up: a tick a millisecond early would find nothing due and set the timer again. */
    uv_timer_start(&l->timer, on_timer, next > now ? (next - now + 999999) / 1000000 : 0, 0);
}

/* ---- setup ---------------------------------------------------------------------------------- */

static hcp_msglayer_config_t ml_config(const hcc_config_t *cfg, listener_t *l)
{
    return (hcp_msglayer_config_t){
        .piggyback_ns = (uint64_t)cfg->coap_piggyback_wait_ms * 1000000ull,
        .max_entries = (size_t)cfg->coap_dedup_max_entries,
        .max_bytes = (size_t)cfg->coap_dedup_max_bytes,
        .amplification = (unsigned)cfg->coap_amplification_factor,
        .max_datagram = MAX_DATAGRAM,
        .random = on_random,
        .send = on_ml_send,
        .ctx = l,
    };
}

/* The socket of coap.listen's entry |i|, bound, receiving, and announced. */
static int listen_on(hcp_proxy_t *proxy, listener_t *l, size_t i)
{
    const struct sockaddr *sa = (const struct sockaddr *)&proxy->cfg->coap_listen_addrs[i];
    hcp_udp_io_config_t config = {.bind = sa, .receive_buffer = 4 << 20, /* bursts of blocks */
                                  .on_recv = on_recv, .data = l, .who = "coap"};
    char bound[INET6_ADDRSTRLEN + 8];
    int err;

    if ((err = hcp_udp_io_open(proxy->loop, &config, &l->io)) < 0 ||
        (err = hcp_udp_io_local(l->io, &l->local)) < 0) {
        hcp_log(HCC_LOG_ERROR, 0, "coap.listen: cannot listen on address %zu: %s", i + 1,
                uv_strerror(err));
        return err;
    }
    hcp_sockaddr_format((const struct sockaddr *)&l->local, bound, sizeof bound);
    inet_ntop(l->local.ss_family, hcp_sockaddr_ip((const struct sockaddr *)&l->local),
              l->identity, sizeof l->identity);
    /* Tests and operators read the bound port here when the configured port is 0. */
    hcp_log(HCC_LOG_INFO, 0, "listening on coap://%s", bound);
    hcp_policy_add_own(proxy, HCP_POLICY_OWN_COAP, sa,
                       ntohs(l->local.ss_family == AF_INET6
                                 ? ((struct sockaddr_in6 *)&l->local)->sin6_port
                                 : ((struct sockaddr_in *)&l->local)->sin_port));
    return 0;
}

static listener_t *listener_new(hcp_proxy_t *proxy)
{
    listener_t *l = calloc(1, sizeof *l);
    hcp_msglayer_config_t config;

    if (l == NULL)
        return NULL;
    l->proxy = proxy;
    config = ml_config(proxy->cfg, l);
    if ((l->ml = hcp_msglayer_new(&config)) == NULL) {
        free(l);
        return NULL;
    }
    uv_timer_init(proxy->loop, &l->timer);
    return l;
}

int hcp_coap_udp_start(hcp_proxy_t *proxy)
{
    const hcc_config_t *cfg = proxy->cfg;
    struct hcp_coap_udp *set;
    size_t n = 0;
    int err;

    for (size_t i = 0; i < cfg->ncoap_listen_addrs; i++)
        n += cfg->coap_listen_transports[i] == HCC_UDP;
    if (n == 0)
        return 0;
    if ((set = calloc(1, sizeof *set + n * sizeof set->listeners[0])) == NULL)
        return UV_ENOMEM;
    proxy->coap_udp = set;
    for (size_t i = 0; i < cfg->ncoap_listen_addrs; i++) {
        if (cfg->coap_listen_transports[i] != HCC_UDP)
            continue;
        if ((set->listeners[set->n] = listener_new(proxy)) == NULL)
            return UV_ENOMEM;
        if ((err = listen_on(proxy, set->listeners[set->n++], i)) < 0)
            return err;
    }
    return 0;
}

static void on_timer_closed(uv_handle_t *handle)
{
    free(hcp_container_of((uv_timer_t *)handle, listener_t, timer));
}

void hcp_coap_udp_stop(hcp_proxy_t *proxy)
{
    struct hcp_coap_udp *set = proxy->coap_udp;

    if (set == NULL)
        return;
    for (size_t i = 0; i < set->n; i++) {
        listener_t *l = set->listeners[i];
        hcp_msglayer_free(l->ml);
        if (l->io != NULL)
            hcp_udp_io_close(l->io);
        uv_close((uv_handle_t *)&l->timer, on_timer_closed);
    }
    free(set);
    proxy->coap_udp = NULL;
}

void hcp_coap_udp_stats(const hcp_proxy_t *proxy, hcp_msglayer_stats_t *sum)
{
    const struct hcp_coap_udp *set = proxy->coap_udp;

    memset(sum, 0, sizeof *sum);
    for (size_t i = 0; set != NULL && i < set->n; i++) {
        hcp_msglayer_stats_t s;
        hcp_msglayer_stats(set->listeners[i]->ml, &s);
        sum->duplicates += s.duplicates;
        sum->resets_sent += s.resets_sent;
        sum->ignored += s.ignored;
        sum->retransmissions += s.retransmissions;
        sum->give_ups += s.give_ups;
        sum->evictions += s.evictions;
        sum->refused += s.refused;
        sum->entries += s.entries;
        sum->bytes += s.bytes;
    }
}

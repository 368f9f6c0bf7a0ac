/* The client side of the CoAP message layer: see msgclient.h.
 *
 * A request is found by its peer and Message ID while its CON waits for an ACK (by_mid), and by
 * its peer and token until its response comes (by_token). A CON waiting for its ACK is also in
 * mc->retransmitting; one whose retransmissions ran out moves to mc->timed_out until the caller
 * collects it. Separate responses acknowledged are remembered in a small direct-mapped cache, so
 * that a duplicate is acknowledged again instead of Reset (RFC 7252 s4.5).
 *
 * An Observe registration (RFC 7641) stays in by_token after its first answer: each 2.xx response
 * with an Observe option is a notification, delivered when it is newer (s3.4) than the newest one
 * delivered, and the request ends only with a final response, a Reset or a cancel. Notifications
 * go into the same cache as separate responses, NON ones too (for NON_LIFETIME), so that a
 * duplicate is not delivered twice. */
#include <stdlib.h>
#include <string.h>

#include "coap_peer.h"
#include "container_of.h"
#include "hcm.h"
#include "msgclient.h"
#include "queue.h"

#define NS_PER_S 1000000000ull
#define EXCHANGE_LIFETIME_NS (247 * NS_PER_S) /* RFC 7252 s4.8.2 */
#define NON_LIFETIME_NS (145 * NS_PER_S)      /* RFC 7252 s4.8.2 */
#define BUCKETS 4096     /* requests in flight are bounded by upstream.max_inflight */
#define ACKED_SLOTS 1024 /* separate responses acknowledged, remembered for duplicates */

struct hcp_msgclient_request {
    hcp_queue_link_t timer; /* in retransmitting or timed_out, or in neither */
    hcp_msgclient_request_t *next_by_mid, *next_by_token;
    hcp_coap_peer_t peer;
    hcm_coap_header_t header; /* type, Message ID, token */
    bool awaits_ack;          /* a CON without its ACK: linked in by_mid */
    bool observe;             /* an Observe registration (RFC 7641 s3.1) */
    bool notified;            /* it had a notification: the newest is last_seq, at last_ns */
    uint32_t last_seq;
    uint64_t last_ns;
    unsigned retransmits;
    uint64_t timeout_ns, deadline_ns;
    void *user;
    size_t len;
    uint8_t dgram[]; /* as sent, for retransmissions */
};

typedef struct acked {
    hcp_coap_peer_t peer;
    uint16_t mid;
    bool is_con; /* a NON notification is remembered too, but never acknowledged */
    uint64_t until_ns;
} acked_t;

struct hcp_msgclient {
    hcp_msgclient_config_t cfg;
    uint64_t seed;
    hcp_queue_t retransmitting, timed_out;
    uint64_t retransmit_next_ns; /* no retransmission is due before; may be early */
    hcp_msgclient_request_t *by_mid[BUCKETS], *by_token[BUCKETS];
    acked_t acked[ACKED_SLOTS];
    hcp_msgclient_stats_t stats;
    uint8_t *scratch; /* max_datagram bytes: a request is encoded here, then kept at its size */
};

/* ---- keys ---------------------------------------------------------------------------------- */

static size_t mid_index(const hcp_msgclient_t *mc, const hcp_coap_peer_t *peer, uint16_t mid)
{
    const uint8_t b[2] = { (uint8_t)(mid >> 8), (uint8_t)mid };

    return hcp_coap_peer_hash(mc->seed, peer, b, sizeof b) % BUCKETS;
}

static size_t token_index(const hcp_msgclient_t *mc, const hcp_coap_peer_t *peer,
                          const hcm_coap_header_t *h)
{
    return hcp_coap_peer_hash(mc->seed, peer, h->token, h->token_len) % BUCKETS;
}

static bool same_token(const hcm_coap_header_t *a, const hcm_coap_header_t *b)
{
    return a->token_len == b->token_len && memcmp(a->token, b->token, a->token_len) == 0;
}

static hcp_msgclient_request_t *find_by_mid(hcp_msgclient_t *mc, const hcp_coap_peer_t *peer,
                                            uint16_t mid)
{
    hcp_msgclient_request_t *r = mc->by_mid[mid_index(mc, peer, mid)];

    while (r != NULL && !(r->header.mid == mid && hcp_coap_peer_equal(&r->peer, peer)))
        r = r->next_by_mid;
    return r;
}

static hcp_msgclient_request_t *find_by_token(hcp_msgclient_t *mc, const hcp_coap_peer_t *peer,
                                              const hcm_coap_header_t *h)
{
    hcp_msgclient_request_t *r = mc->by_token[token_index(mc, peer, h)];

    while (r != NULL && !(same_token(&r->header, h) && hcp_coap_peer_equal(&r->peer, peer)))
        r = r->next_by_token;
    return r;
}

/* The CON no longer waits for an ACK: not found by its Message ID, not retransmitted. */
static void stop_awaiting(hcp_msgclient_t *mc, hcp_msgclient_request_t *req)
{
    hcp_msgclient_request_t **p = &mc->by_mid[mid_index(mc, &req->peer, req->header.mid)];

    if (!req->awaits_ack)
        return;
    while (*p != req)
        p = &(*p)->next_by_mid;
    *p = req->next_by_mid;
    req->awaits_ack = false;
    if (hcp_queue_link_is_queued(&req->timer))
        hcp_queue_remove(&mc->retransmitting, &req->timer);
    if (hcp_queue_is_empty(&mc->retransmitting))
        mc->retransmit_next_ns = UINT64_MAX;
}

static void free_request(hcp_msgclient_t *mc, hcp_msgclient_request_t *req)
{
    hcp_msgclient_request_t **p = &mc->by_token[token_index(mc, &req->peer, &req->header)];

    stop_awaiting(mc, req);
    while (*p != req)
        p = &(*p)->next_by_token;
    *p = req->next_by_token;
    if (hcp_queue_link_is_queued(&req->timer))
        hcp_queue_remove(&mc->timed_out, &req->timer);
    mc->stats.requests--;
    mc->stats.observations -= req->observe;
    free(req);
}

/* ---- sending ----------------------------------------------------------------------------- */

static void send_empty(hcp_msgclient_t *mc, const hcp_coap_peer_t *peer, enum hcm_coap_type type,
                       uint16_t mid)
{
    uint8_t dgram[HCP_COAP_PEER_EMPTY_LEN];

    hcp_coap_peer_empty(dgram, type, mid);
    if (type == HCM_RST)
        mc->stats.resets_sent++;
    mc->cfg.send(mc->cfg.ctx, peer, dgram, sizeof dgram);
}

/* A Message ID no request to |peer| waits with. */
static uint16_t fresh_mid(hcp_msgclient_t *mc, const hcp_coap_peer_t *peer)
{
    uint8_t b[2];
    uint16_t mid;

    do {
        mc->cfg.random(mc->cfg.ctx, b, sizeof b);
        mid = (uint16_t)(b[0] << 8 | b[1]);
    } while (find_by_mid(mc, peer, mid) != NULL);
    return mid;
}

/* ACK_TIMEOUT times a random factor from 1 to ACK_RANDOM_FACTOR (RFC 7252 s4.2). */
static uint64_t initial_timeout(hcp_msgclient_t *mc)
{
    uint8_t b[2];
    double spread = mc->cfg.ack_random_factor - 1;

    mc->cfg.random(mc->cfg.ctx, b, sizeof b);
    return mc->cfg.ack_timeout_ns +
           (uint64_t)((double)mc->cfg.ack_timeout_ns * spread * (b[0] << 8 | b[1]) / 65535);
}

static void await_ack(hcp_msgclient_t *mc, hcp_msgclient_request_t *req, uint64_t now)
{
    size_t i = mid_index(mc, &req->peer, req->header.mid);

    req->next_by_mid = mc->by_mid[i];
    mc->by_mid[i] = req;
    req->awaits_ack = true;
    req->timeout_ns = initial_timeout(mc);
    req->deadline_ns = now + req->timeout_ns;
    hcp_queue_push(&mc->retransmitting, &req->timer);
    if (req->deadline_ns < mc->retransmit_next_ns)
        mc->retransmit_next_ns = req->deadline_ns;
}

static hcp_msgclient_request_t *send_request(hcp_msgclient_t *mc, const hcp_coap_peer_t *peer,
                                             bool confirmable, const uint8_t *token,
                                             size_t token_len, const hcm_coap_msg_t *msg,
                                             void *user, bool observe, uint64_t now_ns)
{
    hcm_coap_header_t header = { .type = confirmable ? HCM_CON : HCM_NON };
    hcp_msgclient_request_t *req;
    size_t i, len;

    if (token_len > HCM_MAX_TOKEN)
        return NULL;
    header.token_len = (uint8_t)token_len;
    memcpy(header.token, token, token_len);
    header.mid = fresh_mid(mc, peer);
    /* Encoded once, then held at its own size until the exchange ends (retransmissions). */
    if ((len = hcm_coap_encode(&header, msg, mc->scratch, mc->cfg.max_datagram)) == 0 ||
        (req = calloc(1, sizeof *req + len)) == NULL)
        return NULL;
    req->peer = *peer;
    req->user = user;
    req->header = header;
    req->len = len;
    req->observe = observe;
    mc->stats.observations += observe;
    memcpy(req->dgram, mc->scratch, len);
    i = token_index(mc, peer, &req->header);
    req->next_by_token = mc->by_token[i];
    mc->by_token[i] = req;
    mc->stats.requests++;
    if (confirmable)
        await_ack(mc, req, now_ns);
    mc->cfg.send(mc->cfg.ctx, peer, req->dgram, req->len);
    return req;
}

hcp_msgclient_request_t *hcp_msgclient_send(hcp_msgclient_t *mc, const hcp_coap_peer_t *peer,
                                            bool confirmable, const uint8_t *token,
                                            size_t token_len, const hcm_coap_msg_t *msg,
                                            void *user, uint64_t now_ns)
{
    return send_request(mc, peer, confirmable, token, token_len, msg, user, false, now_ns);
}

hcp_msgclient_request_t *hcp_msgclient_observe(hcp_msgclient_t *mc, const hcp_coap_peer_t *peer,
                                               bool confirmable, const uint8_t *token,
                                               size_t token_len, const hcm_coap_msg_t *msg,
                                               void *user, uint64_t now_ns)
{
    const hcm_option_t *opt = hcm_coap_msg_find(msg, HCM_OPT_OBSERVE);
    uint32_t value;

    /* RFC 7641 s3.1: a registration is a GET with Observe: 0; the caller builds it. */
    if (opt == NULL || hcm_uint_decode(opt->value, &value) < 0 || value != HCM_OBSERVE_REGISTER)
        return NULL;
    return send_request(mc, peer, confirmable, token, token_len, msg, user, true, now_ns);
}

bool hcp_msgclient_reregister(hcp_msgclient_t *mc, hcp_msgclient_request_t *req, uint64_t now_ns)
{
    /* Not a registration; one still unacknowledged, whose retransmissions decide (starting it
     * over would keep a silent server's observation alive for ever); or one timed out. */
    if (!req->observe || hcp_queue_link_is_queued(&req->timer))
        return false;
    req->retransmits = 0;
    req->header.mid = fresh_mid(mc, &req->peer);
    req->dgram[2] = (uint8_t)(req->header.mid >> 8);
    req->dgram[3] = (uint8_t)req->header.mid;
    if (req->header.type == HCM_CON)
        await_ack(mc, req, now_ns);
    mc->cfg.send(mc->cfg.ctx, &req->peer, req->dgram, req->len);
    return true;
}

void hcp_msgclient_cancel(hcp_msgclient_t *mc, hcp_msgclient_request_t *req)
{
    free_request(mc, req);
}

/* ---- receiving ------------------------------------------------------------------------------ */

static hcp_msgclient_action_t done(hcp_msgclient_event_t *event, const char *note,
                                   uint64_t *counter)
{
    event->note = note;
    if (counter != NULL)
        (*counter)++;
    return HCP_MSGCLIENT_DONE;
}

static acked_t *acked_slot(hcp_msgclient_t *mc, const hcp_coap_peer_t *peer, uint16_t mid)
{
    return &mc->acked[mid_index(mc, peer, mid) % ACKED_SLOTS];
}

/* RFC 7252 s5.9: responses are of class 2, 4 or 5. */
static bool is_response_code(uint8_t code)
{
    unsigned code_class = code >> 5;

    return code_class == 2 || code_class == 4 || code_class == 5;
}

/* s4.5: a duplicate of this CON (or NON notification) is acknowledged again (or ignored), not
 * acted on twice, until its lifetime (RFC 7252 s4.8.2) is over. */
static void remember(hcp_msgclient_t *mc, const hcp_coap_peer_t *peer,
                     const hcm_coap_header_t *h, uint64_t now)
{
    bool is_con = h->type == HCM_CON;

    *acked_slot(mc, peer, h->mid) = (acked_t){
        .peer = *peer, .mid = h->mid, .is_con = is_con,
        .until_ns = now + (is_con ? EXCHANGE_LIFETIME_NS : NON_LIFETIME_NS) };
}

/* RFC 7641 s3.2, s4.2: a screened response to a registration is a notification when it is a
 * 2.xx with an Observe option (its value in |*seq|). Anything else is the server's last word: a
 * 2.xx without Observe, and every error, which s4.2 says comes without one. An Observe of more
 * than 3 bytes was screened out as unrecognized (RFC 7252 s5.4.3), so it ends the request too. */
static bool is_notification(const hcp_msgclient_request_t *req, const hcm_coap_msg_t *msg,
                            uint32_t *seq)
{
    const hcm_option_t *opt;

    if (!req->observe || msg->code >> 5 != 2 ||
        (opt = hcm_coap_msg_find(msg, HCM_OPT_OBSERVE)) == NULL)
        return false;
    return hcm_uint_decode(opt->value, seq) == 0;
}

/* A notification for |req|, which stays held with its token matched. A CON one is acknowledged
 * even when it is older than the newest delivered: RFC 7641 s3.4 drops it for the client's use,
 * not for the message layer. */
static hcp_msgclient_action_t take_notification(hcp_msgclient_t *mc, hcp_msgclient_request_t *req,
                                                const hcp_coap_peer_t *peer, uint32_t seq,
                                                uint64_t now, hcp_msgclient_event_t *event)
{
    bool is_fresh =
        !req->notified || hcm_observe_is_newer(req->last_seq, req->last_ns, seq, now);

    stop_awaiting(mc, req); /* a separate first answer acknowledges the registration too */
    if (event->header.type != HCM_ACK)
        remember(mc, peer, &event->header, now);
    if (event->header.type == HCM_CON)
        send_empty(mc, peer, HCM_ACK, event->header.mid);
    if (!is_fresh)
        return done(event, "a notification older than the newest (RFC 7641 s3.4): dropped",
                    &mc->stats.stale);
    req->notified = true;
    req->last_seq = seq;
    req->last_ns = now;
    mc->stats.notifications++;
    event->observe = seq;
    return HCP_MSGCLIENT_NOTIFICATION;
}

/* The response to |req|: screened by s5.4 and handed over, or rejected (a CON with a Reset). The
 * request is over either way, unless the response is a notification of its observation. */
static hcp_msgclient_action_t take_response(hcp_msgclient_t *mc, hcp_msgclient_request_t *req,
                                            const hcp_coap_peer_t *peer, uint64_t now,
                                            hcp_msgclient_event_t *event)
{
    bool is_con = event->header.type == HCM_CON;
    bool is_rejected = !is_response_code(event->msg.code);
    uint32_t seq;

    event->user = req->user;
    if (is_rejected) {
        event->note = "a response of a reserved class (RFC 7252 s5.9)";
    } else if (hcm_coap_screen_options(&event->msg, &event->bad_option) < 0) {
        event->note = "a response with an unrecognized critical option (RFC 7252 s5.4.1)";
        is_rejected = true;
    }
    if (!is_rejected && is_notification(req, &event->msg, &seq))
        return take_notification(mc, req, peer, seq, now, event);
    free_request(mc, req);
    if (is_con && is_rejected) {
        send_empty(mc, peer, HCM_RST, event->header.mid);
    } else if (is_con) {
        remember(mc, peer, &event->header, now);
        send_empty(mc, peer, HCM_ACK, event->header.mid);
    }
    return is_rejected ? HCP_MSGCLIENT_REJECTED : HCP_MSGCLIENT_RESPONSE;
}

/* An ACK or Reset: it concerns the CON with its Message ID, or nothing. A piggybacked response
 * must also carry that request's token (s5.3.2). */
static hcp_msgclient_action_t receive_reply(hcp_msgclient_t *mc, const hcp_coap_peer_t *peer,
                                            uint64_t now, hcp_msgclient_event_t *event)
{
    hcp_msgclient_request_t *req = find_by_mid(mc, peer, event->header.mid);

    if (req == NULL) { /* late, duplicate, or another's MID */
        mc->stats.late += event->header.type == HCM_ACK && event->msg.code != 0;
        return done(event, NULL, &mc->stats.ignored);
    }
    if (event->header.type == HCM_RST) {
        event->user = req->user;
        event->note = "the server Reset the request";
        free_request(mc, req);
        return HCP_MSGCLIENT_REJECTED;
    }
    if (event->msg.code == 0) {
        stop_awaiting(mc, req);
        event->user = req->user;
        return HCP_MSGCLIENT_ACKED;
    }
    if (!same_token(&req->header, &event->header))
        return done(event, "a piggybacked response with another token: ignored",
                    &mc->stats.ignored);
    return take_response(mc, req, peer, now, event);
}

/* A NON response with an Observe option that matches no request: a notification for an
 * observation cancelled or over. RFC 7641 s3.6 lets the client reject it with a Reset or ignore
 * it; hcproxy resets it, because that ends the server's registration now (s4.2), where ignoring
 * leaves the server sending NON notifications until its next CON one (at least once a day, s4.5)
 * goes unanswered, a day of traffic to no one. */
static bool is_stray_notification(const hcm_coap_msg_t *msg)
{
    return msg->code >> 5 != 0 && hcm_coap_msg_find(msg, HCM_OPT_OBSERVE) != NULL;
}

/* A CON or NON from the server: a separate response, or something to reject or ignore. */
static hcp_msgclient_action_t receive_message(hcp_msgclient_t *mc, const hcp_coap_peer_t *peer,
                                              uint64_t now, hcp_msgclient_event_t *event)
{
    bool is_con = event->header.type == HCM_CON;
    const acked_t *slot = acked_slot(mc, peer, event->header.mid);
    hcp_msgclient_request_t *req;

    if (slot->is_con == is_con && slot->until_ns > now && slot->mid == event->header.mid &&
        hcp_coap_peer_equal(&slot->peer, peer)) {
        mc->stats.duplicates++; /* s4.5: acknowledged again, acted on once */
        if (is_con)
            send_empty(mc, peer, HCM_ACK, event->header.mid);
        return done(event, NULL, NULL);
    }
    if (event->msg.code != 0 && event->msg.code >> 5 != 0 &&
        (req = find_by_token(mc, peer, &event->header)) != NULL)
        return take_response(mc, req, peer, now, event);
    mc->stats.late += event->msg.code >> 5 != 0;
    if (!is_con && !is_stray_notification(&event->msg))
        return done(event, "a NON that matches no request: ignored", &mc->stats.ignored);
    send_empty(mc, peer, HCM_RST, event->header.mid); /* s4.2, s5.3.2; a ping too (s4.3) */
    if (!is_con)
        return done(event, "a NON notification for no observation: Reset (RFC 7641 s3.6)", NULL);
    return done(event, event->msg.code == 0 ? NULL : "a CON that matches no request: Reset", NULL);
}

hcp_msgclient_action_t hcp_msgclient_receive(hcp_msgclient_t *mc, const hcp_coap_peer_t *peer,
                                             const uint8_t *dgram, size_t len, uint64_t now_ns,
                                             hcp_msgclient_event_t *event)
{
    const char *why = NULL;

    memset(event, 0, sizeof *event);
    switch (hcm_coap_decode((hcm_bytes_t){ dgram, len }, &event->header, &event->msg, &why)) {
    case HCM_WIRE_IGNORE:
        return done(event, "not a CoAP version 1 message (RFC 7252 s3): ignored",
                    &mc->stats.ignored);
    case HCM_WIRE_MALFORMED:
        if (event->header.type == HCM_CON)
            send_empty(mc, peer, HCM_RST, event->header.mid);
        else
            mc->stats.ignored++;
        event->note = why;
        return HCP_MSGCLIENT_DONE;
    case HCM_WIRE_MESSAGE:
        break;
    }
    if (event->header.type == HCM_ACK || event->header.type == HCM_RST)
        return receive_reply(mc, peer, now_ns, event);
    return receive_message(mc, peer, now_ns, event);
}

/* ---- time ------------------------------------------------------------------------------------ */

static void retransmit(hcp_msgclient_t *mc, hcp_msgclient_request_t *req, uint64_t now)
{
    if (req->retransmits == mc->cfg.max_retransmit) {
        stop_awaiting(mc, req);
        hcp_queue_push(&mc->timed_out, &req->timer);
        mc->stats.timeouts++;
        return;
    }
    req->retransmits++;
    req->timeout_ns *= 2;
    req->deadline_ns = now + req->timeout_ns;
    mc->stats.retransmissions++;
    mc->cfg.send(mc->cfg.ctx, &req->peer, req->dgram, req->len);
}

void hcp_msgclient_tick(hcp_msgclient_t *mc, uint64_t now_ns)
{
    hcp_queue_link_t *link, *next;
    uint64_t earliest = UINT64_MAX;

    if (mc->retransmit_next_ns > now_ns)
        return;
    for (link = mc->retransmitting.head.next; link != &mc->retransmitting.head; link = next) {
        hcp_msgclient_request_t *req = hcp_container_of(link, hcp_msgclient_request_t, timer);
        next = link->next;
        if (req->deadline_ns <= now_ns)
            retransmit(mc, req, now_ns);
        if (req->awaits_ack && req->deadline_ns < earliest)
            earliest = req->deadline_ns;
    }
    mc->retransmit_next_ns = earliest;
}

void *hcp_msgclient_next_timeout(hcp_msgclient_t *mc)
{
    hcp_queue_link_t *link = hcp_queue_pop(&mc->timed_out);
    hcp_msgclient_request_t *req;
    void *user;

    if (link == NULL)
        return NULL;
    req = hcp_container_of(link, hcp_msgclient_request_t, timer);
    user = req->user;
    free_request(mc, req);
    return user;
}

uint64_t hcp_msgclient_next_deadline(const hcp_msgclient_t *mc)
{
    return hcp_queue_is_empty(&mc->timed_out) ? mc->retransmit_next_ns : 0;
}

/* ---- life ------------------------------------------------------------------------------------ */

hcp_msgclient_t *hcp_msgclient_new(const hcp_msgclient_config_t *config)
{
    hcp_msgclient_t *mc = calloc(1, sizeof *mc);

    if (mc == NULL)
        return NULL;
    if ((mc->scratch = malloc(config->max_datagram)) == NULL)
        goto fail_mc;
    mc->cfg = *config;
    config->random(config->ctx, (uint8_t *)&mc->seed, sizeof mc->seed);
    mc->retransmit_next_ns = UINT64_MAX;
    hcp_queue_init(&mc->retransmitting);
    hcp_queue_init(&mc->timed_out);
    return mc;

fail_mc:
    free(mc);
    return NULL;
}

void hcp_msgclient_free(hcp_msgclient_t *mc)
{
    if (mc == NULL)
        return;
    for (size_t i = 0; i < BUCKETS; i++)
        while (mc->by_token[i] != NULL)
            free_request(mc, mc->by_token[i]);
    free(mc->scratch);
    free(mc);
}

void hcp_msgclient_stats(const hcp_msgclient_t *mc, hcp_msgclient_stats_t *stats)
{
    *stats = mc->stats;
}

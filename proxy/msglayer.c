/* The server side of the CoAP message layer: see msglayer.h.
 *
 * Every request received leaves an entry, found by its peer and Message ID. An entry waits for
 * its answer (ml->pending; a CON is also in ml->ack_due until its ACK goes), then remembers the
 * answer for duplicates until its lifetime is over (ml->done_con or ml->done_non, each in order of
 * expiry, since each has one lifetime). A separate CON response also sits in ml->retransmitting,
 * and is found by its own Message ID when the client acknowledges it. */
#include <stdlib.h>
#include <string.h>

#include "msglayer.h"
#include "queue.h"

#define MS 1000000ull
#define S (1000 * MS)

/* RFC 7252 s4.8 and s4.8.2. */
#define ACK_TIMEOUT_NS (2 * S)
#define MAX_RETRANSMIT 4
#define EXCHANGE_LIFETIME_NS (247 * S)
#define NON_LIFETIME_NS (145 * S)
/* RFC 9175 s2.3: an Echo value is fresh for as long as a request may take to come back with it
 * (MAX_LATENCY, RFC 7252 s4.8.2), and a verified address stays verified for an hour: long enough
 * for a device's reporting cycle, short enough that an address that moved is checked again. */
#define ECHO_FRESH_NS (100 * S)
#define VERIFIED_NS (3600 * S)
#define ECHO_LEN 8

#define CODE_SERVICE_UNAVAILABLE (5 << 5 | 3)

struct hcp_ml_exchange {
    hcp_qlink_t age;   /* in pending, done_con or done_non */
    hcp_qlink_t timer; /* in ack_due or retransmitting, or in neither */
    hcp_ml_exchange_t *next_by_mid, *next_by_out;
    hcp_ml_peer_t peer;
    hcm_coap_header_t request; /* its type, Message ID and token */
    uint16_t out_mid;          /* a separate response's */
    bool is_answered;
    bool is_acked;         /* the request's ACK has gone, empty or with the answer */
    bool is_piggybacked;   /* the answer went in that ACK */
    bool is_out_linked;    /* in by_out */
    bool is_verified;      /* the peer, when the request came or since */
    unsigned retransmits;
    uint64_t timeout_ns, deadline_ns, expires_ns;
    size_t received, sent; /* bytes from and to the peer in this exchange */
    uint8_t *answer;       /* the datagram sent, for duplicates and retransmissions */
    size_t answer_len;
};

/* What hcproxy knows of a peer's address: an Echo value given to it, and until when it is
 * verified. A direct-mapped cache: a peer that collides with another loses its slot. */
typedef struct peer_slot {
    hcp_ml_peer_t peer;
    uint8_t echo[ECHO_LEN];
    bool has_echo;
    uint64_t echo_until_ns, verified_until_ns;
} peer_slot_t;

struct hcp_msglayer {
    hcp_ml_config_t cfg;
    uint64_t seed;
    uint64_t now_ns; /* the latest time given */
    hcp_queue_t pending, done_con, done_non, ack_due, retransmitting;
    uint64_t retransmit_next_ns; /* no retransmission is due before; may be early */
    hcp_ml_exchange_t **by_mid, **by_out;
    size_t nbuckets; /* a power of two */
    peer_slot_t *peers;
    size_t npeers; /* a power of two */
    hcp_ml_stats_t stats;
    uint8_t *scratch; /* max_datagram bytes: an answer is encoded here, then kept at its size */
};

/* ---- keys -------------------------------------------------------------------------------------- */

static uint64_t hash_peer(const hcp_msglayer_t *ml, const hcp_ml_peer_t *peer, uint16_t mid)
{
    const uint8_t b[2] = { (uint8_t)(mid >> 8), (uint8_t)mid };

    return hcp_peer_hash(ml->seed, peer, b, sizeof b);
}

static hcp_ml_exchange_t **mid_bucket(hcp_msglayer_t *ml, const hcp_ml_peer_t *peer, uint16_t mid)
{
    return &ml->by_mid[hash_peer(ml, peer, mid) & (ml->nbuckets - 1)];
}

static hcp_ml_exchange_t **out_bucket(hcp_msglayer_t *ml, const hcp_ml_peer_t *peer, uint16_t mid)
{
    return &ml->by_out[hash_peer(ml, peer, mid ^ 0x5a5a) & (ml->nbuckets - 1)];
}

static hcp_ml_exchange_t *find_request(hcp_msglayer_t *ml, const hcp_ml_peer_t *peer,
                                       uint16_t mid)
{
    hcp_ml_exchange_t *x = *mid_bucket(ml, peer, mid);

    while (x != NULL && !(x->request.mid == mid && hcp_peer_equal(&x->peer, peer)))
        x = x->next_by_mid;
    return x;
}

static hcp_ml_exchange_t *find_response(hcp_msglayer_t *ml, const hcp_ml_peer_t *peer,
                                        uint16_t mid)
{
    hcp_ml_exchange_t *x = *out_bucket(ml, peer, mid);

    while (x != NULL && !(x->out_mid == mid && hcp_peer_equal(&x->peer, peer)))
        x = x->next_by_out;
    return x;
}

static void unlink_request(hcp_msglayer_t *ml, hcp_ml_exchange_t *x)
{
    hcp_ml_exchange_t **p = mid_bucket(ml, &x->peer, x->request.mid);

    while (*p != x)
        p = &(*p)->next_by_mid;
    *p = x->next_by_mid;
}

static void unlink_response(hcp_msglayer_t *ml, hcp_ml_exchange_t *x)
{
    hcp_ml_exchange_t **p = out_bucket(ml, &x->peer, x->out_mid);

    if (!x->is_out_linked)
        return;
    while (*p != x)
        p = &(*p)->next_by_out;
    *p = x->next_by_out;
    x->is_out_linked = false;
}

/* ---- peers ---------------------------------------------------------------------------------- */

static peer_slot_t *peer_slot(const hcp_msglayer_t *ml, const hcp_ml_peer_t *peer)
{
    return &ml->peers[hash_peer(ml, peer, 0) & (ml->npeers - 1)];
}

static bool peer_is_verified(const hcp_msglayer_t *ml, const hcp_ml_peer_t *peer, uint64_t now)
{
    const peer_slot_t *slot = peer_slot(ml, peer);

    return ml->cfg.amplification == 0 ||
           (hcp_peer_equal(&slot->peer, peer) && slot->verified_until_ns > now);
}

static void verify_peer(hcp_msglayer_t *ml, const hcp_ml_peer_t *peer, uint64_t now)
{
    peer_slot_t *slot = peer_slot(ml, peer);

    if (!hcp_peer_equal(&slot->peer, peer))
        *slot = (peer_slot_t){ .peer = *peer };
    slot->verified_until_ns = now + VERIFIED_NS;
}

/* RFC 9175 s2.4: a request carrying the Echo value its peer was given verifies the peer. */
static void check_echo(hcp_msglayer_t *ml, const hcp_ml_peer_t *peer, const hcm_coap_msg_t *msg,
                       uint64_t now)
{
    const hcm_option_t *echo = hcm_coap_msg_find(msg, 252);
    peer_slot_t *slot = peer_slot(ml, peer);

    if (echo == NULL || !slot->has_echo || !hcp_peer_equal(&slot->peer, peer) ||
        slot->echo_until_ns <= now || echo->value.len != ECHO_LEN ||
        memcmp(echo->value.p, slot->echo, ECHO_LEN) != 0)
        return;
    slot->has_echo = false; /* one use */
    verify_peer(ml, peer, now);
}

size_t hcp_ml_echo_challenge(hcp_msglayer_t *ml, const hcp_ml_exchange_t *x, uint8_t *echo,
                             uint64_t now_ns)
{
    peer_slot_t *slot = peer_slot(ml, &x->peer);

    if (!hcp_peer_equal(&slot->peer, &x->peer))
        *slot = (peer_slot_t){ .peer = x->peer };
    ml->cfg.random(ml->cfg.ctx, slot->echo, ECHO_LEN);
    slot->has_echo = true;
    slot->echo_until_ns = now_ns + ECHO_FRESH_NS;
    memcpy(echo, slot->echo, ECHO_LEN);
    return ECHO_LEN;
}

/* ---- sending ------------------------------------------------------------------------------ */

/* What an exchange with an unverified peer may still send: |amplification| times what it
 * received, less what it sent (RFC 7252 s11.3). */
static size_t budget_left(const hcp_msglayer_t *ml, const hcp_ml_exchange_t *x)
{
    size_t allowed;

    if (x->is_verified || peer_is_verified(ml, &x->peer, ml->now_ns))
        return SIZE_MAX;
    allowed = (size_t)ml->cfg.amplification * x->received;
    return allowed > x->sent ? allowed - x->sent : 0;
}

static void send_to(hcp_msglayer_t *ml, hcp_ml_exchange_t *x, const hcp_ml_peer_t *peer,
                    const uint8_t *dgram, size_t len)
{
    if (x != NULL)
        x->sent += len;
    ml->cfg.send(ml->cfg.ctx, peer, dgram, len);
}

static void send_empty(hcp_msglayer_t *ml, hcp_ml_exchange_t *x, const hcp_ml_peer_t *peer,
                       enum hcm_coap_type type, uint16_t mid)
{
    uint8_t dgram[HCP_COAP_EMPTY_LEN];

    hcp_coap_empty(dgram, type, mid);
    if (type == HCM_RST)
        ml->stats.resets_sent++;
    send_to(ml, x, peer, dgram, sizeof dgram);
}

static void send_ack(hcp_msglayer_t *ml, hcp_ml_exchange_t *x)
{
    if (hcp_qlink_is_queued(&x->timer))
        hcp_queue_remove(&ml->ack_due, &x->timer);
    x->is_acked = true;
    send_empty(ml, x, &x->peer, HCM_ACK, x->request.mid);
}

static uint16_t random_mid(hcp_msglayer_t *ml)
{
    uint8_t b[2];

    ml->cfg.random(ml->cfg.ctx, b, sizeof b);
    return (uint16_t)(b[0] << 8 | b[1]);
}

/* ACK_TIMEOUT times a random factor from 1 to ACK_RANDOM_FACTOR, 1.5 (RFC 7252 s4.2). */
static uint64_t initial_timeout(hcp_msglayer_t *ml)
{
    uint8_t b[2];

    ml->cfg.random(ml->cfg.ctx, b, sizeof b);
    return ACK_TIMEOUT_NS + ACK_TIMEOUT_NS / 2 * ((uint64_t)b[0] << 8 | b[1]) / 65535;
}

static void stop_retransmissions(hcp_msglayer_t *ml, hcp_ml_exchange_t *x)
{
    if (hcp_qlink_is_queued(&x->timer))
        hcp_queue_remove(&ml->retransmitting, &x->timer);
    if (hcp_queue_is_empty(&ml->retransmitting))
        ml->retransmit_next_ns = UINT64_MAX;
}

/* ---- entries ------------------------------------------------------------------------------ */

static void free_entry(hcp_msglayer_t *ml, hcp_ml_exchange_t *x, hcp_queue_t *age_queue)
{
    hcp_queue_remove(age_queue, &x->age);
    if (x->is_answered)
        stop_retransmissions(ml, x);
    else if (hcp_qlink_is_queued(&x->timer))
        hcp_queue_remove(&ml->ack_due, &x->timer);
    unlink_request(ml, x);
    unlink_response(ml, x);
    ml->stats.entries--;
    ml->stats.bytes -= x->answer_len;
    free(x->answer);
    free(x);
}

/* The entry that expires first of the two done queues, or NULL. */
static hcp_queue_t *oldest_done(hcp_msglayer_t *ml)
{
    hcp_ml_exchange_t *con = NULL, *non = NULL;

    if (!hcp_queue_is_empty(&ml->done_con))
        con = hcp_container_of(ml->done_con.head.next, hcp_ml_exchange_t, age);
    if (!hcp_queue_is_empty(&ml->done_non))
        non = hcp_container_of(ml->done_non.head.next, hcp_ml_exchange_t, age);
    if (con == NULL && non == NULL)
        return NULL;
    if (non == NULL || (con != NULL && con->expires_ns <= non->expires_ns))
        return &ml->done_con;
    return &ml->done_non;
}

/* Drops remembered answers, oldest first, until the limits hold with |extra| more entries.
 * false when they cannot: the rest wait for their answers. */
static bool make_room(hcp_msglayer_t *ml, size_t extra_entries)
{
    hcp_queue_t *q;

    while (ml->stats.entries + extra_entries > ml->cfg.max_entries ||
           ml->stats.bytes > ml->cfg.max_bytes) {
        if ((q = oldest_done(ml)) == NULL)
            return false;
        free_entry(ml, hcp_container_of(q->head.next, hcp_ml_exchange_t, age), q);
        ml->stats.evictions++;
    }
    return true;
}

static void expire(hcp_msglayer_t *ml, hcp_queue_t *q, uint64_t now)
{
    while (!hcp_queue_is_empty(q)) {
        hcp_ml_exchange_t *x = hcp_container_of(q->head.next, hcp_ml_exchange_t, age);
        if (x->expires_ns > now)
            break;
        free_entry(ml, x, q);
    }
}

/* The exchange is over for the message layer but for duplicates: remembered until its
 * lifetime, counted from now, ends (RFC 7252 s4.5). */
static void retire(hcp_msglayer_t *ml, hcp_ml_exchange_t *x, uint64_t now)
{
    bool is_con = x->request.type == HCM_CON;

    hcp_queue_remove(&ml->pending, &x->age);
    x->is_answered = true;
    x->expires_ns = now + (is_con ? EXCHANGE_LIFETIME_NS : NON_LIFETIME_NS);
    hcp_queue_push(is_con ? &ml->done_con : &ml->done_non, &x->age);
}

/* ---- receiving -------------------------------------------------------------------------- */

static hcp_ml_action_t done(hcp_ml_event_t *event, const char *note, uint64_t *counter)
{
    event->note = note;
    if (counter != NULL)
        (*counter)++;
    return HCP_ML_DONE;
}

/* An ACK or Reset: one for a separate response of ours ends its retransmissions, and shows that
 * the peer is there. Anything else is ignored (RFC 7252 s4.2: an ACK carrying a request is no
 * request). */
static hcp_ml_action_t receive_reply(hcp_msglayer_t *ml, const hcp_ml_peer_t *peer,
                                     const hcm_coap_header_t *hdr, const hcm_coap_msg_t *msg,
                                     uint64_t now, hcp_ml_event_t *event)
{
    hcp_ml_exchange_t *x = find_response(ml, peer, hdr->mid);

    if (x == NULL)
        return done(event, msg->code >> 5 == 0 && msg->code != 0
                               ? "an ACK or Reset carrying a request (RFC 7252 s4.2): ignored"
                               : NULL,
                    &ml->stats.ignored);
    stop_retransmissions(ml, x);
    unlink_response(ml, x);
    x->is_verified = true;
    verify_peer(ml, peer, now);
    return done(event, NULL, NULL);
}

/* A repeated request: answered from its entry, never delivered again (RFC 7252 s4.5). */
static hcp_ml_action_t receive_duplicate(hcp_msglayer_t *ml, hcp_ml_exchange_t *x, size_t len,
                                         hcp_ml_event_t *event)
{
    x->received += len;
    ml->stats.duplicates++;
    if (x->request.type != HCM_CON)
        return done(event, NULL, NULL); /* s4.5: a duplicate NON is silently ignored */
    if (x->is_piggybacked) {
        if (x->answer_len <= budget_left(ml, x))
            send_to(ml, x, &x->peer, x->answer, x->answer_len);
    } else if (x->is_acked) {
        send_empty(ml, x, &x->peer, HCM_ACK, x->request.mid);
    } /* else the answer goes in the ACK soon */
    return done(event, NULL, NULL);
}

/* The message layer is full of exchanges waiting for their answers: 5.03 without an entry. */
static hcp_ml_action_t refuse_full(hcp_msglayer_t *ml, const hcp_ml_peer_t *peer,
                                   const hcm_coap_header_t *hdr, hcp_ml_event_t *event)
{
    hcm_coap_header_t out = *hdr;
    hcm_coap_msg_t msg = { .code = CODE_SERVICE_UNAVAILABLE };
    uint8_t dgram[HCP_COAP_EMPTY_LEN + HCM_MAX_TOKEN];
    size_t len;

    out.type = hdr->type == HCM_CON ? HCM_ACK : HCM_NON;
    if (out.type == HCM_NON)
        out.mid = random_mid(ml);
    len = hcm_coap_encode(&out, &msg, dgram, sizeof dgram);
    send_to(ml, NULL, peer, dgram, len);
    return done(event, "too many exchanges and remembered answers: 5.03", &ml->stats.refused);
}

static hcp_ml_action_t receive_request(hcp_msglayer_t *ml, const hcp_ml_peer_t *peer,
                                       const hcm_coap_header_t *hdr, size_t len, uint64_t now,
                                       hcp_ml_event_t *event)
{
    hcp_ml_exchange_t *x = find_request(ml, peer, hdr->mid);
    hcp_ml_exchange_t **bucket;

    if (x != NULL)
        return receive_duplicate(ml, x, len, event);
    if (!make_room(ml, 1) || (x = calloc(1, sizeof *x)) == NULL)
        return refuse_full(ml, peer, hdr, event);
    check_echo(ml, peer, &event->msg, now);
    x->peer = *peer;
    x->request = *hdr;
    x->received = len;
    x->is_verified = peer_is_verified(ml, peer, now);
    bucket = mid_bucket(ml, peer, hdr->mid);
    x->next_by_mid = *bucket;
    *bucket = x;
    hcp_queue_push(&ml->pending, &x->age);
    if (hdr->type == HCM_CON) {
        x->deadline_ns = now + ml->cfg.piggyback_ns;
        hcp_queue_push(&ml->ack_due, &x->timer);
    }
    ml->stats.entries++;
    event->exchange = x;
    event->is_verified = x->is_verified;
    return HCP_ML_REQUEST;
}

hcp_ml_action_t hcp_ml_receive(hcp_msglayer_t *ml, const hcp_ml_peer_t *peer,
                               const uint8_t *dgram, size_t len, uint64_t now_ns,
                               hcp_ml_event_t *event)
{
    hcm_coap_header_t *hdr = &event->header;
    hcm_coap_msg_t *msg = &event->msg;
    const char *why = NULL;
    unsigned code_class;

    memset(event, 0, sizeof *event);
    ml->now_ns = now_ns;
    switch (hcm_coap_decode((hcm_bytes_t){ dgram, len }, hdr, msg, &why)) {
    case HCM_WIRE_IGNORE:
        return done(event, "not a CoAP version 1 message (RFC 7252 s3): ignored",
                    &ml->stats.ignored);
    case HCM_WIRE_MALFORMED:
        if (hdr->type != HCM_CON)
            return done(event, why, &ml->stats.ignored);
        send_empty(ml, NULL, peer, HCM_RST, hdr->mid); /* s4.2 */
        return done(event, why, NULL);
    case HCM_WIRE_MESSAGE:
        break;
    }
    if (hdr->type == HCM_ACK || hdr->type == HCM_RST)
        return receive_reply(ml, peer, hdr, msg, now_ns, event);
    code_class = msg->code >> 5;
    if (msg->code != 0 && code_class == 0)
        return receive_request(ml, peer, hdr, len, now_ns, event);
    /* An Empty CON is a ping (s4.3); a response, or a code of a reserved class, matches nothing
     * a server sent (s5.3.2): a CON is rejected, a NON ignored. */
    if (hdr->type == HCM_NON)
        return done(event, "a NON that is no request: ignored", &ml->stats.ignored);
    send_empty(ml, NULL, peer, HCM_RST, hdr->mid);
    return done(event, msg->code == 0 ? NULL : "a CON that is no request: Reset", NULL);
}

/* ---- answering ------------------------------------------------------------------------------ */

size_t hcp_ml_answer_room(const hcp_msglayer_t *ml, const hcp_ml_exchange_t *x)
{
    size_t left = budget_left(ml, x);

    return left < ml->cfg.max_datagram ? left : ml->cfg.max_datagram;
}

/* The header of |x|'s answer: in the ACK while that has not gone, else separate. */
static hcm_coap_header_t answer_header(hcp_msglayer_t *ml, hcp_ml_exchange_t *x)
{
    hcm_coap_header_t out = x->request;

    if (x->request.type == HCM_CON && !x->is_acked) {
        out.type = HCM_ACK;
        return out;
    }
    out.type = x->request.type; /* a CON is answered with a CON, a NON with a NON (s5.2.2, 5.2.3) */
    do
        out.mid = random_mid(ml);
    while (find_response(ml, &x->peer, out.mid) != NULL);
    return out;
}

static void start_retransmissions(hcp_msglayer_t *ml, hcp_ml_exchange_t *x, uint64_t now)
{
    hcp_ml_exchange_t **bucket = out_bucket(ml, &x->peer, x->out_mid);

    x->next_by_out = *bucket;
    *bucket = x;
    x->is_out_linked = true;
    x->timeout_ns = initial_timeout(ml);
    x->deadline_ns = now + x->timeout_ns;
    hcp_queue_push(&ml->retransmitting, &x->timer);
    if (x->deadline_ns < ml->retransmit_next_ns)
        ml->retransmit_next_ns = x->deadline_ns;
}

int hcp_ml_answer(hcp_msglayer_t *ml, hcp_ml_exchange_t *x, const hcm_coap_msg_t *answer,
                  uint64_t now_ns)
{
    hcm_coap_header_t out;
    size_t len;

    ml->now_ns = now_ns;
    out = answer_header(ml, x);
    len = hcm_coap_encode(&out, answer, ml->scratch, ml->cfg.max_datagram);
    if (len == 0 || len > hcp_ml_answer_room(ml, x))
        return -1;
    /* Kept for EXCHANGE_LIFETIME: only the bytes used (most answers are a few dozen). */
    if ((x->answer = malloc(len)) == NULL) {
        hcp_ml_abandon(ml, x, now_ns);
        return -1;
    }
    memcpy(x->answer, ml->scratch, len);
    x->answer_len = len;
    x->is_piggybacked = out.type == HCM_ACK;
    x->out_mid = out.mid;
    if (hcp_qlink_is_queued(&x->timer))
        hcp_queue_remove(&ml->ack_due, &x->timer);
    x->is_acked |= x->is_piggybacked;
    retire(ml, x, now_ns);
    ml->stats.bytes += len;
    send_to(ml, x, &x->peer, x->answer, len);
    if (out.type == HCM_CON)
        start_retransmissions(ml, x, now_ns);
    make_room(ml, 0);
    return 0;
}

void hcp_ml_abandon(hcp_msglayer_t *ml, hcp_ml_exchange_t *x, uint64_t now_ns)
{
    ml->now_ns = now_ns;
    if (x->request.type == HCM_CON && !x->is_acked)
        send_ack(ml, x);
    retire(ml, x, now_ns);
}

/* ---- time ---------------------------------------------------------------------------------- */

static void send_due_acks(hcp_msglayer_t *ml, uint64_t now)
{
    while (!hcp_queue_is_empty(&ml->ack_due)) {
        hcp_ml_exchange_t *x = hcp_container_of(ml->ack_due.head.next, hcp_ml_exchange_t, timer);
        if (x->deadline_ns > now)
            break;
        send_ack(ml, x); /* s5.2.2: the answer will be separate */
    }
}

/* One separate response whose timeout is over: sent again with the timeout doubled (s4.2), or
 * given up after MAX_RETRANSMIT, or when an unverified peer's budget is spent (s11.3). */
static void retransmit(hcp_msglayer_t *ml, hcp_ml_exchange_t *x, uint64_t now)
{
    if (x->retransmits == MAX_RETRANSMIT || x->answer_len > budget_left(ml, x)) {
        hcp_queue_remove(&ml->retransmitting, &x->timer); /* the caller's scan sets the next */
        ml->stats.give_ups++;
        return;
    }
    x->retransmits++;
    x->timeout_ns *= 2;
    x->deadline_ns = now + x->timeout_ns;
    ml->stats.retransmissions++;
    send_to(ml, x, &x->peer, x->answer, x->answer_len);
}

static void send_due_retransmissions(hcp_msglayer_t *ml, uint64_t now)
{
    hcp_qlink_t *link, *next;
    uint64_t earliest = UINT64_MAX;

    if (ml->retransmit_next_ns > now)
        return;
    for (link = ml->retransmitting.head.next; link != &ml->retransmitting.head; link = next) {
        hcp_ml_exchange_t *x = hcp_container_of(link, hcp_ml_exchange_t, timer);
        next = link->next;
        if (x->deadline_ns <= now)
            retransmit(ml, x, now);
        if (hcp_qlink_is_queued(&x->timer) && x->deadline_ns < earliest)
            earliest = x->deadline_ns;
    }
    ml->retransmit_next_ns = earliest;
}

void hcp_ml_tick(hcp_msglayer_t *ml, uint64_t now_ns)
{
    ml->now_ns = now_ns;
    send_due_acks(ml, now_ns);
    send_due_retransmissions(ml, now_ns);
    expire(ml, &ml->done_con, now_ns);
    expire(ml, &ml->done_non, now_ns);
}

static uint64_t first_deadline(const hcp_queue_t *ack_due)
{
    if (hcp_queue_is_empty(ack_due))
        return UINT64_MAX;
    return hcp_container_of(ack_due->head.next, hcp_ml_exchange_t, timer)->deadline_ns;
}

static uint64_t first_expiry(const hcp_queue_t *done_queue)
{
    if (hcp_queue_is_empty(done_queue))
        return UINT64_MAX;
    return hcp_container_of(done_queue->head.next, hcp_ml_exchange_t, age)->expires_ns;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

uint64_t hcp_ml_next_deadline(const hcp_msglayer_t *ml)
{
    return min_u64(min_u64(ml->retransmit_next_ns, first_deadline(&ml->ack_due)),
                   min_u64(first_expiry(&ml->done_con), first_expiry(&ml->done_non)));
}

/* ---- life ------------------------------------------------------------------------------------ */

static size_t power_of_two_at_least(size_t n, size_t floor, size_t ceiling)
{
    size_t p = floor;

    while (p < n && p < ceiling)
        p *= 2;
    return p;
}

hcp_msglayer_t *hcp_ml_new(const hcp_ml_config_t *config)
{
    hcp_msglayer_t *ml = calloc(1, sizeof *ml);

    if (ml == NULL)
        return NULL;
    ml->cfg = *config;
    ml->nbuckets = power_of_two_at_least(config->max_entries, 64, (size_t)1 << 20);
    ml->npeers = power_of_two_at_least(config->max_entries / 4, 1024, (size_t)1 << 16);
    if ((ml->by_mid = calloc(ml->nbuckets, sizeof *ml->by_mid)) == NULL)
        goto fail_ml;
    if ((ml->by_out = calloc(ml->nbuckets, sizeof *ml->by_out)) == NULL)
        goto fail_by_mid;
    if ((ml->peers = calloc(ml->npeers, sizeof *ml->peers)) == NULL)
        goto fail_by_out;
    if ((ml->scratch = malloc(config->max_datagram)) == NULL)
        goto fail_peers;
    config->random(config->ctx, (uint8_t *)&ml->seed, sizeof ml->seed);
    ml->retransmit_next_ns = UINT64_MAX;
    hcp_queue_init(&ml->pending);
    hcp_queue_init(&ml->done_con);
    hcp_queue_init(&ml->done_non);
    hcp_queue_init(&ml->ack_due);
    hcp_queue_init(&ml->retransmitting);
    return ml;

fail_peers:
    free(ml->peers);
fail_by_out:
    free(ml->by_out);
fail_by_mid:
    free(ml->by_mid);
fail_ml:
    free(ml);
    return NULL;
}

void hcp_ml_free(hcp_msglayer_t *ml)
{
    hcp_queue_t *queues[3];

    if (ml == NULL)
        return;
    queues[0] = &ml->pending;
    queues[1] = &ml->done_con;
    queues[2] = &ml->done_non;
    for (size_t i = 0; i < 3; i++)
        while (!hcp_queue_is_empty(queues[i]))
            free_entry(ml, hcp_container_of(queues[i]->head.next, hcp_ml_exchange_t, age), queues[i]);
    free(ml->by_mid);
    free(ml->by_out);
    free(ml->peers);
    free(ml->scratch);
    free(ml);
}

const hcp_ml_peer_t *hcp_ml_peer(const hcp_ml_exchange_t *x)
{
    return &x->peer;
}

void hcp_ml_stats(const hcp_msglayer_t *ml, hcp_ml_stats_t *stats)
{
    *stats = ml->stats;
}

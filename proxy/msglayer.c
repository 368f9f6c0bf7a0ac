/* The server side of the CoAP message layer: see msglayer.h. This file is its exchanges: a
 * datagram received, an answer sent (piggybacked in the ACK, or separate and retransmitted), and
 * time. The entries that remember answers for duplicates are msglayer_dedup.c's; what may be
 * sent to a peer not yet verified is msglayer_echo.c's. */
#include <stdlib.h>
#include <string.h>

#include "coap_peer.h"
#include "container_of.h"
#include "hcm.h"
#include "msglayer.h"
#include "msglayer_int.h"
#include "queue.h"

/* RFC 7252 s4.8. */
#define ACK_TIMEOUT_NS (2 * NS_PER_S)
#define MAX_RETRANSMIT 4

#define CODE_SERVICE_UNAVAILABLE (5 << 5 | 3)

/* ---- sending ------------------------------------------------------------------------------ */

static void send_to(hcp_msglayer_t *ml, hcp_msglayer_exchange_t *x, const hcp_coap_peer_t *peer,
                    const uint8_t *dgram, size_t len)
{
    if (x != NULL)
        x->sent += len;
    ml->cfg.send(ml->cfg.ctx, peer, dgram, len);
}

static void send_empty(hcp_msglayer_t *ml, hcp_msglayer_exchange_t *x, const hcp_coap_peer_t *peer,
                       enum hcm_coap_type type, uint16_t mid)
{
    uint8_t dgram[HCP_COAP_PEER_EMPTY_LEN];

    hcp_coap_peer_empty(dgram, type, mid);
    if (type == HCM_RST)
        ml->stats.resets_sent++;
    send_to(ml, x, peer, dgram, sizeof dgram);
}

static void send_ack(hcp_msglayer_t *ml, hcp_msglayer_exchange_t *x)
{
    if (hcp_queue_link_is_queued(&x->timer))
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

void hcp_msglayer_stop_retransmissions(hcp_msglayer_t *ml, hcp_msglayer_exchange_t *x)
{
    if (hcp_queue_link_is_queued(&x->timer))
        hcp_queue_remove(&ml->retransmitting, &x->timer);
    if (hcp_queue_is_empty(&ml->retransmitting))
        ml->retransmit_next_ns = UINT64_MAX;
}

/* ---- receiving -------------------------------------------------------------------------- */

static hcp_msglayer_action_t done(hcp_msglayer_event_t *event, const char *note, uint64_t *counter)
{
    event->note = note;
    if (counter != NULL)
        (*counter)++;
    return HCP_MSGLAYER_DONE;
}

/* An ACK or Reset: one for a separate response of ours ends its retransmissions, and shows that
 * the peer is there. Anything else is ignored (RFC 7252 s4.2: an ACK carrying a request is no
 * request). */
static hcp_msglayer_action_t receive_reply(hcp_msglayer_t *ml, const hcp_coap_peer_t *peer,
                                           const hcm_coap_header_t *hdr, const hcm_coap_msg_t *msg,
                                           uint64_t now, hcp_msglayer_event_t *event)
{
    hcp_msglayer_exchange_t *x = hcp_msglayer_dedup_find_out(ml, peer, hdr->mid);

    if (x == NULL)
        return done(event, msg->code >> 5 == 0 && msg->code != 0
                               ? "an ACK or Reset carrying a request (RFC 7252 s4.2): ignored"
                               : NULL,
                    &ml->stats.ignored);
    hcp_msglayer_stop_retransmissions(ml, x);
    hcp_msglayer_dedup_unlink_out(ml, x);
    x->is_verified = true;
    hcp_msglayer_echo_verify(ml, peer, now);
    return done(event, NULL, NULL);
}

/* A repeated request: answered from its entry, never delivered again (RFC 7252 s4.5). */
static hcp_msglayer_action_t receive_duplicate(hcp_msglayer_t *ml, hcp_msglayer_exchange_t *x,
                                               size_t len, hcp_msglayer_event_t *event)
{
    x->received += len;
    ml->stats.duplicates++;
    if (x->request.type != HCM_CON)
        return done(event, NULL, NULL); /* s4.5: a duplicate NON is silently ignored */
    if (x->is_piggybacked) {
        if (x->answer_len <= hcp_msglayer_echo_budget(ml, x))
            send_to(ml, x, &x->peer, x->answer, x->answer_len);
    } else if (x->is_acked) {
        send_empty(ml, x, &x->peer, HCM_ACK, x->request.mid);
    } /* else the answer goes in the ACK soon */
    return done(event, NULL, NULL);
}

/* The message layer is full of exchanges waiting for their answers: 5.03 without an entry. */
static hcp_msglayer_action_t refuse_full(hcp_msglayer_t *ml, const hcp_coap_peer_t *peer,
                                         const hcm_coap_header_t *hdr, hcp_msglayer_event_t *event)
{
    hcm_coap_header_t out = *hdr;
    hcm_coap_msg_t msg = { .code = CODE_SERVICE_UNAVAILABLE };
    uint8_t dgram[HCP_COAP_PEER_EMPTY_LEN + HCM_MAX_TOKEN];
    size_t len;

    out.type = hdr->type == HCM_CON ? HCM_ACK : HCM_NON;
    if (out.type == HCM_NON)
        out.mid = random_mid(ml);
    len = hcm_coap_encode(&out, &msg, dgram, sizeof dgram);
    send_to(ml, NULL, peer, dgram, len);
    return done(event, "too many exchanges and remembered answers: 5.03", &ml->stats.refused);
}

static hcp_msglayer_action_t receive_request(hcp_msglayer_t *ml, const hcp_coap_peer_t *peer,
                                             const hcm_coap_header_t *hdr, size_t len, uint64_t now,
                                             hcp_msglayer_event_t *event)
{
    hcp_msglayer_exchange_t *x = hcp_msglayer_dedup_find(ml, peer, hdr->mid);

    if (x != NULL)
        return receive_duplicate(ml, x, len, event);
    if (!hcp_msglayer_dedup_make_room(ml, 1) || (x = calloc(1, sizeof *x)) == NULL)
        return refuse_full(ml, peer, hdr, event);
    hcp_msglayer_echo_check(ml, peer, &event->msg, now);
    x->peer = *peer;
    x->request = *hdr;
    x->received = len;
    x->is_verified = hcp_msglayer_echo_verified(ml, peer, now);
    hcp_msglayer_dedup_add(ml, x);
    if (hdr->type == HCM_CON) {
        x->deadline_ns = now + ml->cfg.piggyback_ns;
        hcp_queue_push(&ml->ack_due, &x->timer);
    }
    event->exchange = x;
    event->is_verified = x->is_verified;
    return HCP_MSGLAYER_REQUEST;
}

hcp_msglayer_action_t hcp_msglayer_receive(hcp_msglayer_t *ml, const hcp_coap_peer_t *peer,
                                           const uint8_t *dgram, size_t len, uint64_t now_ns,
                                           hcp_msglayer_event_t *event)
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

size_t hcp_msglayer_answer_room(const hcp_msglayer_t *ml, const hcp_msglayer_exchange_t *x)
{
    size_t left = hcp_msglayer_echo_budget(ml, x);

    return left < ml->cfg.max_datagram ? left : ml->cfg.max_datagram;
}

/* The header of |x|'s answer: in the ACK while that has not gone, else separate. */
static hcm_coap_header_t answer_header(hcp_msglayer_t *ml, hcp_msglayer_exchange_t *x)
{
    hcm_coap_header_t out = x->request;

    if (x->request.type == HCM_CON && !x->is_acked) {
        out.type = HCM_ACK;
        return out;
    }
    out.type = x->request.type; /* a CON is answered with a CON, a NON with a NON (s5.2.2, 5.2.3) */
    do
        out.mid = random_mid(ml);
    while (hcp_msglayer_dedup_find_out(ml, &x->peer, out.mid) != NULL);
    return out;
}

static void start_retransmissions(hcp_msglayer_t *ml, hcp_msglayer_exchange_t *x, uint64_t now)
{
    hcp_msglayer_dedup_link_out(ml, x);
    x->timeout_ns = initial_timeout(ml);
    x->deadline_ns = now + x->timeout_ns;
    hcp_queue_push(&ml->retransmitting, &x->timer);
    if (x->deadline_ns < ml->retransmit_next_ns)
        ml->retransmit_next_ns = x->deadline_ns;
}

int hcp_msglayer_answer(hcp_msglayer_t *ml, hcp_msglayer_exchange_t *x,
                        const hcm_coap_msg_t *answer, uint64_t now_ns)
{
    hcm_coap_header_t out;
    size_t len;

    ml->now_ns = now_ns;
    out = answer_header(ml, x);
    len = hcm_coap_encode(&out, answer, ml->scratch, ml->cfg.max_datagram);
    if (len == 0 || len > hcp_msglayer_answer_room(ml, x))
        return -1;
    /* Kept for EXCHANGE_LIFETIME: only the bytes used (most answers are a few dozen). */
    if ((x->answer = malloc(len)) == NULL) {
        hcp_msglayer_abandon(ml, x, now_ns);
        return -1;
    }
    memcpy(x->answer, ml->scratch, len);
    x->answer_len = len;
    x->is_piggybacked = out.type == HCM_ACK;
    x->out_mid = out.mid;
    if (hcp_queue_link_is_queued(&x->timer))
        hcp_queue_remove(&ml->ack_due, &x->timer);
    x->is_acked |= x->is_piggybacked;
    hcp_msglayer_dedup_retire(ml, x, now_ns);
    ml->stats.bytes += len;
    send_to(ml, x, &x->peer, x->answer, len);
    if (out.type == HCM_CON)
        start_retransmissions(ml, x, now_ns);
    hcp_msglayer_dedup_make_room(ml, 0);
    return 0;
}

void hcp_msglayer_abandon(hcp_msglayer_t *ml, hcp_msglayer_exchange_t *x, uint64_t now_ns)
{
    ml->now_ns = now_ns;
    if (x->request.type == HCM_CON && !x->is_acked)
        send_ack(ml, x);
    hcp_msglayer_dedup_retire(ml, x, now_ns);
}

/* ---- time ---------------------------------------------------------------------------------- */

static void send_due_acks(hcp_msglayer_t *ml, uint64_t now)
{
    while (!hcp_queue_is_empty(&ml->ack_due)) {
        hcp_msglayer_exchange_t *x = hcp_container_of(ml->ack_due.head.next,
                                                      hcp_msglayer_exchange_t, timer);
        if (x->deadline_ns > now)
            break;
        send_ack(ml, x); /* s5.2.2: the answer will be separate */
    }
}

/* One separate response whose timeout is over: sent again with the timeout doubled (s4.2), or
 * given up after MAX_RETRANSMIT, or when an unverified peer's budget is spent (s11.3). */
static void retransmit(hcp_msglayer_t *ml, hcp_msglayer_exchange_t *x, uint64_t now)
{
    if (x->retransmits == MAX_RETRANSMIT || x->answer_len > hcp_msglayer_echo_budget(ml, x)) {
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
    hcp_queue_link_t *link, *next;
    uint64_t earliest = UINT64_MAX;

    if (ml->retransmit_next_ns > now)
        return;
    for (link = ml->retransmitting.head.next; link != &ml->retransmitting.head; link = next) {
        hcp_msglayer_exchange_t *x = hcp_container_of(link, hcp_msglayer_exchange_t, timer);
        next = link->next;
        if (x->deadline_ns <= now)
            retransmit(ml, x, now);
        if (hcp_queue_link_is_queued(&x->timer) && x->deadline_ns < earliest)
            earliest = x->deadline_ns;
    }
    ml->retransmit_next_ns = earliest;
}

void hcp_msglayer_tick(hcp_msglayer_t *ml, uint64_t now_ns)
{
    ml->now_ns = now_ns;
    send_due_acks(ml, now_ns);
    send_due_retransmissions(ml, now_ns);
    hcp_msglayer_dedup_expire(ml, &ml->done_con, now_ns);
    hcp_msglayer_dedup_expire(ml, &ml->done_non, now_ns);
}

static uint64_t first_deadline(const hcp_queue_t *ack_due)
{
    if (hcp_queue_is_empty(ack_due))
        return UINT64_MAX;
    return hcp_container_of(ack_due->head.next, hcp_msglayer_exchange_t, timer)->deadline_ns;
}

static uint64_t first_expiry(const hcp_queue_t *done_queue)
{
    if (hcp_queue_is_empty(done_queue))
        return UINT64_MAX;
    return hcp_container_of(done_queue->head.next, hcp_msglayer_exchange_t, age)->expires_ns;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

uint64_t hcp_msglayer_next_deadline(const hcp_msglayer_t *ml)
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

hcp_msglayer_t *hcp_msglayer_new(const hcp_msglayer_config_t *config)
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

void hcp_msglayer_free(hcp_msglayer_t *ml)
{
    hcp_queue_t *queues[3];

    if (ml == NULL)
        return;
    queues[0] = &ml->pending;
    queues[1] = &ml->done_con;
    queues[2] = &ml->done_non;
    for (size_t i = 0; i < 3; i++)
        while (!hcp_queue_is_empty(queues[i]))
            hcp_msglayer_dedup_free(ml, hcp_container_of(queues[i]->head.next,
                                                         hcp_msglayer_exchange_t, age),
                                    queues[i]);
    free(ml->by_mid);
    free(ml->by_out);
    free(ml->peers);
    free(ml->scratch);
    free(ml);
}

const hcp_coap_peer_t *hcp_msglayer_peer(const hcp_msglayer_exchange_t *x)
{
    return &x->peer;
}

void hcp_msglayer_stats(const hcp_msglayer_t *ml, hcp_msglayer_stats_t *stats)
{
    *stats = ml->stats;
}

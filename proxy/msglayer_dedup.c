/* The entries of the message layer's server side (msglayer.h): every request received leaves
 * one, found by its peer and Message ID, that waits for its answer (ml->pending) and then
 * remembers it for duplicates until its lifetime is over (ml->done_con or ml->done_non, each in
 * order of expiry, since each has one lifetime: RFC 7252 s4.5, s4.8.2). A separate CON response
 * is found by its own Message ID too, until the client acknowledges it. The limits
 * (max_entries, max_bytes) drop the oldest remembered answers first. */
#include <stdlib.h>

#include "coap_peer.h"
#include "container_of.h"
#include "hcm.h"
#include "msglayer_int.h"
#include "queue.h"

/* RFC 7252 s4.8.2. */
#define EXCHANGE_LIFETIME_NS (247 * NS_PER_S)
#define NON_LIFETIME_NS (145 * NS_PER_S)

static uint64_t hash_peer(const hcp_msglayer_t *ml, const hcp_coap_peer_t *peer, uint16_t mid)
{
    const uint8_t b[2] = { (uint8_t)(mid >> 8), (uint8_t)mid };

    return hcp_coap_peer_hash(ml->seed, peer, b, sizeof b);
}

static hcp_msglayer_exchange_t **mid_bucket(hcp_msglayer_t *ml, const hcp_coap_peer_t *peer,
                                            uint16_t mid)
{
    return &ml->by_mid[hash_peer(ml, peer, mid) & (ml->nbuckets - 1)];
}

static hcp_msglayer_exchange_t **out_bucket(hcp_msglayer_t *ml, const hcp_coap_peer_t *peer,
                                            uint16_t mid)
{
    return &ml->by_out[hash_peer(ml, peer, mid ^ 0x5a5a) & (ml->nbuckets - 1)];
}

hcp_msglayer_exchange_t *hcp_msglayer_dedup_find(hcp_msglayer_t *ml, const hcp_coap_peer_t *peer,
                                                 uint16_t mid)
{
    hcp_msglayer_exchange_t *x = *mid_bucket(ml, peer, mid);

    while (x != NULL && !(x->request.mid == mid && hcp_coap_peer_equal(&x->peer, peer)))
        x = x->next_by_mid;
    return x;
}

hcp_msglayer_exchange_t *hcp_msglayer_dedup_find_out(hcp_msglayer_t *ml,
                                                     const hcp_coap_peer_t *peer, uint16_t mid)
{
    hcp_msglayer_exchange_t *x = *out_bucket(ml, peer, mid);

    while (x != NULL && !(x->out_mid == mid && hcp_coap_peer_equal(&x->peer, peer)))
        x = x->next_by_out;
    return x;
}

static void unlink_request(hcp_msglayer_t *ml, hcp_msglayer_exchange_t *x)
{
    hcp_msglayer_exchange_t **p = mid_bucket(ml, &x->peer, x->request.mid);

    while (*p != x)
        p = &(*p)->next_by_mid;
    *p = x->next_by_mid;
}

void hcp_msglayer_dedup_unlink_out(hcp_msglayer_t *ml, hcp_msglayer_exchange_t *x)
{
    hcp_msglayer_exchange_t **p = out_bucket(ml, &x->peer, x->out_mid);

    if (!x->is_out_linked)
        return;
    while (*p != x)
        p = &(*p)->next_by_out;
    *p = x->next_by_out;
    x->is_out_linked = false;
}

void hcp_msglayer_dedup_add(hcp_msglayer_t *ml, hcp_msglayer_exchange_t *x)
{
    hcp_msglayer_exchange_t **bucket = mid_bucket(ml, &x->peer, x->request.mid);

    x->next_by_mid = *bucket;
    *bucket = x;
    hcp_queue_push(&ml->pending, &x->age);
    ml->stats.entries++;
}

void hcp_msglayer_dedup_link_out(hcp_msglayer_t *ml, hcp_msglayer_exchange_t *x)
{
    hcp_msglayer_exchange_t **bucket = out_bucket(ml, &x->peer, x->out_mid);

    x->next_by_out = *bucket;
    *bucket = x;
    x->is_out_linked = true;
}

void hcp_msglayer_dedup_free(hcp_msglayer_t *ml, hcp_msglayer_exchange_t *x, hcp_queue_t *age_queue)
{
    hcp_queue_remove(age_queue, &x->age);
    if (x->is_answered)
        hcp_msglayer_stop_retransmissions(ml, x);
    else if (hcp_queue_link_is_queued(&x->timer))
        hcp_queue_remove(&ml->ack_due, &x->timer);
    unlink_request(ml, x);
    hcp_msglayer_dedup_unlink_out(ml, x);
    ml->stats.entries--;
    ml->stats.bytes -= x->answer_len;
    free(x->answer);
    free(x);
}

/* The entry that expires first of the two done queues, or NULL. */
static hcp_queue_t *oldest_done(hcp_msglayer_t *ml)
{
    hcp_msglayer_exchange_t *con = NULL, *non = NULL;

    if (!hcp_queue_is_empty(&ml->done_con))
        con = hcp_container_of(ml->done_con.head.next, hcp_msglayer_exchange_t, age);
    if (!hcp_queue_is_empty(&ml->done_non))
        non = hcp_container_of(ml->done_non.head.next, hcp_msglayer_exchange_t, age);
    if (con == NULL && non == NULL)
        return NULL;
    if (non == NULL || (con != NULL && con->expires_ns <= non->expires_ns))
        return &ml->done_con;
    return &ml->done_non;
}

bool hcp_msglayer_dedup_make_room(hcp_msglayer_t *ml, size_t extra_entries)
{
    hcp_queue_t *q;

    while (ml->stats.entries + extra_entries > ml->cfg.max_entries ||
           ml->stats.bytes > ml->cfg.max_bytes) {
        if ((q = oldest_done(ml)) == NULL)
            return false;
        hcp_msglayer_dedup_free(ml, hcp_container_of(q->head.next, hcp_msglayer_exchange_t, age),
                                q);
        ml->stats.evictions++;
    }
    return true;
}

void hcp_msglayer_dedup_expire(hcp_msglayer_t *ml, hcp_queue_t *q, uint64_t now)
{
    while (!hcp_queue_is_empty(q)) {
        hcp_msglayer_exchange_t *x = hcp_container_of(q->head.next, hcp_msglayer_exchange_t, age);
        if (x->expires_ns > now)
            break;
        hcp_msglayer_dedup_free(ml, x, q);
    }
}

void hcp_msglayer_dedup_retire(hcp_msglayer_t *ml, hcp_msglayer_exchange_t *x, uint64_t now)
{
    bool is_con = x->request.type == HCM_CON;

    hcp_queue_remove(&ml->pending, &x->age);
    x->is_answered = true;
    x->expires_ns = now + (is_con ? EXCHANGE_LIFETIME_NS : NON_LIFETIME_NS);
    hcp_queue_push(is_con ? &ml->done_con : &ml->done_non, &x->age);
}


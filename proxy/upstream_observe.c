/* Observe registrations' notifications (RFC 7641 s3.2), on their way to the registration's
 * owner: see upstream.h, hcp_upstream_observe().
 *
 * A notification comes in the middle of the message layer's work on a datagram; its callback
 * must run from the loop, as a done callback does (upstream.c), so each one is copied and queued
 * on up->notes until hcp_upstream_deliver(). The queue is shared by every observation, in
 * arrival order, so that one observation's notifications reach its owner in the order the
 * message layer accepted them (s3.4), before its end. */
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "container_of.h"
#include "hcm.h"
#include "proxy.h"
#include "queue.h"
#include "upstream.h"
#include "upstream_int.h"

typedef struct note {
    hcp_queue_link_t link;   /* in up->notes */
    hcp_upstream_req_t *req;
    uint32_t observe;
    hcm_coap_msg_t msg;      /* its option values and payload in bytes[] */
    uint8_t bytes[];
} note_t;

static note_t *copy_note(const hcm_coap_msg_t *msg)
{
    note_t *n = malloc(sizeof *n + hcm_coap_msg_size(msg, true));

    if (n != NULL)
        hcm_coap_msg_copy(&n->msg, n->bytes, msg, true);
    return n;
}

void hcp_upstream_observe_notified(hcp_upstream_req_t *req, const hcm_coap_msg_t *msg,
                                   uint32_t observe)
{
    note_t *n = copy_note(msg);

    if (n == NULL)
        return;
    n->req = req;
    n->observe = observe;
    hcp_queue_push(&req->up->notes, &n->link);
    req->up->proxy->metrics.observe_notifications++;
}

hcp_upstream_notice_t hcp_upstream_observe_judge(hcp_upstream_req_t *req,
                                                 const hcm_coap_msg_t *msg, uint32_t *observe)
{
    const hcm_option_t *opt = hcm_coap_msg_find(msg, HCM_OPT_OBSERVE);
    uint64_t now = uv_hrtime();

    /* An Observe of more than 3 bytes is no Observe (RFC 7252 s5.4.3, RFC 7641 s2). */
    if (msg->code >> 5 != 2 || opt == NULL || opt->value.len > 3 ||
        hcm_uint_decode(opt->value, observe) < 0)
        return HCP_UPSTREAM_FINAL;
    if (req->has_seq && !hcm_observe_is_newer(req->last_seq, req->last_ns, *observe, now))
        return HCP_UPSTREAM_STALE;
    req->has_seq = true;
    req->last_seq = *observe;
    req->last_ns = now;
    return HCP_UPSTREAM_FRESH;
}

void hcp_upstream_observe_over(hcp_upstream_req_t *req, bool drop_notes)
{
    hcp_queue_t *notes = &req->up->notes;
    hcp_queue_link_t *link = notes->head.next;

    if (req->is_observing) {
        req->is_observing = false;
        req->d->observing--;
    }
    while (drop_notes && link != &notes->head) {
        note_t *n = hcp_container_of(link, note_t, link);
        link = link->next;
        if (n->req == req) {
            hcp_queue_remove(notes, &n->link);
            free(n);
        }
    }
}

void hcp_upstream_observe_deliver(hcp_upstream_t *up)
{
    hcp_queue_link_t *link;

    while ((link = hcp_queue_pop(&up->notes)) != NULL) {
        note_t *n = hcp_container_of(link, note_t, link);
        n->req->on_notify(n->req->data, &n->msg, n->observe);
        free(n);
    }
}

void hcp_upstream_observe_free_notes(hcp_upstream_t *up)
{
    hcp_queue_link_t *link;

    while ((link = hcp_queue_pop(&up->notes)) != NULL)
        free(hcp_container_of(link, note_t, link));
}

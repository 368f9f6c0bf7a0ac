/* upstream_dest: see upstream_dest.h.
 *
 * NSTART is counted per server (RFC 7252 s4.7), so a destination is kept for as long as it is in
 * use. A secure one is also told apart by the host its certificate must name, and by the
 * credentials: after a reload, new exchanges go through a new session with the new ones, while
 * the old destination finishes what it has and goes idle. A proxy in front of many devices would
 * otherwise keep a socket, an epoll set and a timerfd for every server it ever reached. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hcc.h"
#include "hcm.h"
#include "nstart.h"
#include "proxy.h"
#include "queue.h"
#include "sockaddr.h"
#include "upstream_coap.h"
#include "upstream_creds.h"
#include "upstream_dest.h"
#include "upstream_int.h"
#include "upstream_udp.h"

bool hcp_upstream_dest_is_secure(hcm_scheme_t scheme)
{
    return scheme == HCM_SCHEME_COAPS || scheme == HCM_SCHEME_COAPS_TCP;
}

/* |d| takes |cred| (the configuration's entry) from the current set, which it references. */
static void use_credential(hcp_upstream_dest_t *d, const hcc_credential_t *cred)
{
    hcp_upstream_t *up = d->up;
    size_t i = (size_t)(cred - up->proxy->cfg->credentials); /* the set holds the same entry */

    d->set = up->creds;
    d->set->refs++;
    d->cred = &d->set->creds[i];
    d->keys = &d->set->keys[i];
}

static hcp_upstream_dest_t *new_destination(hcp_upstream_t *up, const struct sockaddr *sa,
                                            const hcm_target_t *target,
                                            const hcc_credential_t *cred)
{
    hcp_upstream_dest_t *d = calloc(1, sizeof *d);

    if (d == NULL)
        return NULL;
    d->up = up;
    d->fd = -1;
    memcpy(&d->addr, sa, hcp_sockaddr_len(sa));
    d->scheme = target->scheme;
    snprintf(d->host, sizeof d->host, "%s", target->host);
    if (cred != NULL)
        use_credential(d, cred);
    hcp_nstart_init(&d->nstart, (unsigned)up->proxy->cfg->upstream_nstart);
    hcp_queue_init(&d->in_flight);
    if (d->scheme == HCM_SCHEME_COAP && (d->sock = hcp_upstream_udp_open(up->udp, sa, d)) == NULL)
        goto fail_transport;
    if (d->scheme != HCM_SCHEME_COAP) {
        if (hcp_upstream_coap_open(d) < 0)
            goto fail_transport;
        up->open_handles += 2;
    }
    up->proxy->metrics.upstream_destinations++;
    d->next = up->destinations;
    up->destinations = d;
    return d;
fail_transport:
    hcp_upstream_creds_release(d->set);
    free(d);
    return NULL;
}

/* The upstream.credentials entry for a coaps or coaps+tcp target at |sa|. */
static const hcc_credential_t *credential_for(hcp_upstream_t *up, const struct sockaddr *sa,
                                              const hcm_target_t *target)
{
    return hcc_credential_find(up->proxy->cfg, hcm_scheme_name(target->scheme), target->host,
                               sa->sa_family, hcp_sockaddr_ip(sa), target->port);
}

int hcp_upstream_dest_get(hcp_upstream_t *up, const struct sockaddr *sa, const hcm_target_t *target,
                          hcp_upstream_dest_t **out)
{
    size_t len = hcp_sockaddr_len(sa);
    const hcc_credential_t *cred = NULL;
    hcp_upstream_dest_t *d;

    if (hcp_upstream_dest_is_secure(target->scheme) &&
        (cred = credential_for(up, sa, target)) == NULL)
        return HCM_ENOCREDENTIALS;
    for (d = up->destinations; d != NULL; d = d->next)
        if (memcmp(&d->addr, sa, len) == 0 && d->scheme == target->scheme &&
            (!hcp_upstream_dest_is_secure(d->scheme) ||
             (strcasecmp(d->host, target->host) == 0 && d->set == up->creds)))
            break;
    if (d == NULL && (d = new_destination(up, sa, target, cred)) == NULL)
        return HCM_EUNREACHABLE;
    *out = d;
    return 0;
}

/* Nothing refers to an idle destination: every request that does is queued there (waiting) or
 * has been sent there and not ended (awaiting) or observes there (observing), and libcoap has nothing unacknowledged to
 * resend. */
static bool is_idle(const hcp_upstream_dest_t *d, uint64_t now, uint64_t idle_ms)
{
    return hcp_queue_is_empty(&d->nstart.waiting) && d->awaiting == 0 && d->observing == 0 &&
           now - d->last_used >= idle_ms && (d->sock != NULL || hcp_upstream_coap_is_quiet(d));
}

static void free_dest(hcp_upstream_dest_t *d)
{
    hcp_upstream_creds_release(d->set);
    free(d);
}

static void on_destination_closed(uv_handle_t *handle)
{
    hcp_upstream_dest_t *d = handle->data;

    if (--d->open_handles > 0)
        return;
    hcp_upstream_coap_free(d); /* releases the session and closes its socket */
    free_dest(d);
}

void hcp_upstream_dest_sweep(hcp_upstream_t *up)
{
    uint64_t now = uv_now(up->proxy->loop), idle_ms = (uint64_t)up->proxy->cfg->upstream_idle_ms;
    hcp_upstream_dest_t **link = &up->destinations;

    while (*link != NULL) {
        hcp_upstream_dest_t *d = *link;
        if (d->is_pump_due || !is_idle(d, now, idle_ms)) {
            link = &d->next;
            continue;
        }
        *link = d->next;
        up->proxy->metrics.upstream_destinations--;
        if (d->sock != NULL) { /* no request in flight: the message layer holds none of it */
            hcp_upstream_udp_release(d->sock);
            free_dest(d);
            continue;
        }
        up->open_handles -= 2;
        d->open_handles = 2;
        d->poll.data = d->resend.data = d;
        hcp_upstream_coap_close(d, on_destination_closed);
    }
}

void hcp_upstream_dest_close_all(hcp_upstream_t *up, uv_close_cb on_closed)
{
    for (hcp_upstream_dest_t *d = up->destinations; d != NULL; d = d->next)
        if (d->sock == NULL)
            hcp_upstream_coap_close(d, on_closed);
}

void hcp_upstream_dest_free_all(hcp_upstream_t *up)
{
    while (up->destinations != NULL) {
        hcp_upstream_dest_t *d = up->destinations;
        up->destinations = d->next;
        if (d->sock != NULL)
            hcp_upstream_udp_release(d->sock);
        else
            hcp_upstream_coap_free(d); /* releases the session too */
        free_dest(d);
        up->proxy->metrics.upstream_destinations--;
    }
}

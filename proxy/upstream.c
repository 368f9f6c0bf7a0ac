/* The CoAP side: requests to CoAP servers, and the reverse direction's libcoap context.
 *
 * coap:// servers are reached through hcproxy's own message layer (upstream_udp.c, msgclient.c),
 * which reports each request's ACK, response, Reset and timeout: NSTART counts exactly there
 * (room_at()), and what follows about libcoap concerns coaps, coap+tcp and coaps+tcp servers.
 * Tokens, NSTART queues, block-wise transfers and idle servers are this file's for every one.
 *
 * libcoap keeps sockets and a retransmission timerfd in one epoll set per context (man coap_io),
 * so a uv_poll_t on coap_context_get_coap_fd() drives each context: the reverse direction's with
 * coap_io_process(COAP_IO_NO_WAIT), each client context's with a batch of coap_io_do_epoll()
 * ended by coap_io_prepare_epoll() (on_destination_io()). Requests are sent from
 * libmicrohttpd's callbacks, outside libcoap: coap_send() itself arms the timerfd for the
 * retransmission (tests/integration/retransmit.sh loses the first answer and passes), so no
 * extra pass through libcoap is needed.
 *
 * NSTART (RFC 7252 s4.7) is enforced here, not in libcoap. libcoap 4.3.1 parks the requests
 * beyond NSTART in a per-session delay queue that it appends to by walking to the tail, after
 * a walk looking for a duplicate message id: a burst of 10,000 requests to one server spent
 * most of hcproxy's CPU there (bench/README.md). Here each CoAP server (a destination) has an
 * O(1) queue of waiting exchanges, and libcoap is handed requests only while nothing is
 * outstanding with that server, so its delay queue stays empty. An interaction stops being
 * outstanding at its ACK, which libcoap 4.3.1 reports to no callback; so each destination has a
 * libcoap context of its own, and coap_can_exit() on it says whether anything is unacknowledged
 * (a CON in its send queue, a PDU delayed). Between two such quiet moments, the requests sent
 * and not yet answered bound the outstanding ones from above (an answer implies the ACK), so a
 * server that answers in its ACKs gets a new request for each answer. libcoap's own NSTART
 * stays set as a second guard.
 *
 * Each exchange gets an 8-byte token: 4 bytes of slot index and 4 random bytes. The slot table
 * finds the exchange in O(1); the random half makes tokens hard to guess (RFC 7252 s5.3.1) and
 * lets a late answer for a reused slot be told apart. Block-wise transfers are hcproxy's own
 * (upblock.c, libcoap's block mode off): each request of one takes a new random half (RFC 9175
 * s4) and waits at the head of its destination's queue, so NSTART counts it like any other. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <coap3/coap.h>
#include <gnutls/gnutls.h>

#include "hcp.h"
#include "random.h"
#include "upblock_pdu.h"
#include "upstream_creds.h"
#include "upstream_udp.h"

#define TOKEN_LEN 8
#define NO_SLOT UINT32_MAX

typedef struct slot {
    hcp_exchange_t *ex; /* NULL when free */
    uint32_t nonce;
    uint32_t next_free;
} slot_t;

/* One CoAP server: its own libcoap context (see the top of this file), the session to it, and
 * the exchanges waiting for their turn. */
typedef struct destination {
    hcp_upstream_t *up;
    struct sockaddr_storage addr;
    hcm_scheme_t scheme;           /* coap, coaps (DTLS), coap+tcp, coaps+tcp (TLS) */
    char host[256];                /* the target's host: the name a certificate must carry */
    hcp_cred_set_t *set;           /* the credentials it was made with (referenced), or NULL */
    const hcc_credential_t *cred;  /* upstream.credentials entry, in |set|; NULL for coap and
                                    * coap+tcp */
    const hcp_cred_keys_t *keys;   /* its key material, in |set| */
    hcp_uudp_socket_t *sock;       /* coap://: hcproxy's own message layer; else libcoap's: */
    coap_context_t *ctx;
    coap_session_t *session;
    int fd;              /* the session's socket, -1 when unknown */
    uv_poll_t poll;
    uv_timer_t resend;   /* the next retransmission, in case libcoap's own timer misses it */
    int open_handles;    /* of poll and resend, while the destination is being released */
    hcp_queue_t waiting; /* of hcp_upstream_link_t, oldest first */
    uint32_t epoch;      /* counts the moments nothing was outstanding; never 0 */
    unsigned unanswered; /* sent in this epoch, neither answered nor NACKed yet */
    unsigned outstanding; /* coap://: sent, neither acknowledged nor over (RFC 7252 s4.7) */
    hcp_queue_t in_flight; /* coap://: of hcp_upstream_link_t (sent), their requests sent */
    unsigned awaiting;   /* sent for exchanges still waiting for their answer, in any epoch */
    unsigned inflight;   /* exchanges here, waiting or sent (upstream.max_inflight_per_server) */
    uint64_t last_used;  /* loop time of the last request or datagram */
    bool is_pump_due;    /* in up->pump_due: requests were queued during this loop turn */
    struct destination *next_due;
    struct destination *next;
} destination_t;

struct hcp_upstream {
    hcp_proxy_t *proxy;
    hcp_cred_set_t *creds; /* the current upstream.credentials, one per cfg->credentials entry */
    coap_context_t *ctx; /* the reverse direction's endpoints */
    hcp_uudp_t *udp;     /* the coap:// destinations' message layer */
    uv_poll_t poll;
    uv_timer_t sweep;    /* frees idle destinations */
    uv_check_t flush;    /* sends what this loop turn queued, once its I/O is handled */
    destination_t *pump_due;
    int open_handles;
    destination_t *destinations;
    slot_t *slots;
    uint32_t nslots;
    uint32_t free_slot;
};

/* ---- tokens ------------------------------------------------------------------------------ */

static uint32_t next_nonce(void)
{
    uint32_t nonce;

    hcp_random_fill(&nonce, sizeof nonce);
    return nonce;
}

static int grow_slots(hcp_upstream_t *up)
{
    uint32_t n = up->nslots ? up->nslots * 2 : 64;
    slot_t *grown = realloc(up->slots, n * sizeof *grown);

    if (grown == NULL)
        return HCM_EOVERLOAD;
    for (uint32_t i = up->nslots; i < n; i++)
        grown[i] = (slot_t){.ex = NULL, .next_free = i + 1 < n ? i + 1 : up->free_slot};
    up->free_slot = up->nslots;
    up->slots = grown;
    up->nslots = n;
    return 0;
}

/* Gives |ex| a free slot, and so a token. */
static int take_slot(hcp_upstream_t *up, hcp_exchange_t *ex)
{
    uint32_t i;

    if (up->free_slot == NO_SLOT && grow_slots(up) < 0)
        return HCM_EOVERLOAD;
    i = up->free_slot;
    up->free_slot = up->slots[i].next_free;
    up->slots[i].ex = ex;
    up->slots[i].nonce = next_nonce();
    hcp_exchange_upstream_link(ex)->slot = i + 1; /* 0 means "none" in a zeroed exchange */
    return 0;
}

static void write_token(const hcp_upstream_t *up, uint32_t i, uint8_t token[TOKEN_LEN])
{
    uint32_t index = htonl(i), nonce = htonl(up->slots[i].nonce);

    memcpy(token, &index, 4);
    memcpy(token + 4, &nonce, 4);
}

static void free_slot(hcp_upstream_t *up, uint32_t i)
{
    up->slots[i].ex = NULL;
    up->slots[i].next_free = up->free_slot;
    up->free_slot = i;
}

static void leave_queue(hcp_upstream_t *up, hcp_upstream_link_t *link)
{
    destination_t *d = link->destination;

    hcp_queue_remove(&d->waiting, &link->waiting);
    up->proxy->metrics.upstream_waiting--;
}

static void pump(destination_t *d);

/* An exchange that ended unanswered (its deadline passed, its client hung up) leaves its CON in
 * libcoap, retransmitted for up to 93 s, and libcoap 4.3.1 has no call to cancel one: with NSTART
 * 1 every later request to that server would wait behind it (tests/integration/faults_upstream.sh,
 * the blackout). When nothing else is awaited there, the session goes, and the CON with it; the
 * next request opens a new one. Never inside a libcoap callback: exchanges end from timers,
 * hang-ups and answers libcoap has finished with. */
static void count_answered(hcp_upstream_link_t *link);
static void udp_request_over(hcp_upstream_t *up, hcp_upstream_link_t *link, bool cancel);

static void abandon(destination_t *d)
{
    if (d->awaiting > 0 || d->session == NULL || coap_can_exit(d->ctx))
        return;
    coap_session_disconnected(d->session, COAP_NACK_NOT_DELIVERABLE); /* drops its queue */
    coap_session_release(d->session);
    d->session = NULL;
    d->fd = -1;
    pump(d);
}

/* Whether |link| was awaiting an answer; it no longer is. */
static bool stop_awaiting(hcp_upstream_link_t *link)
{
    if (!link->is_sent)
        return false;
    link->is_sent = false;
    ((destination_t *)link->destination)->awaiting--;
    return true;
}

void hcp_upstream_forget(hcp_upstream_t *up, hcp_exchange_t *ex)
{
    hcp_upstream_link_t *link = hcp_exchange_upstream_link(ex);
    bool was_awaited;

    if (hcp_qlink_is_queued(&link->waiting))
        leave_queue(up, link); /* a client that hung up while waiting: never sent */
    if (link->is_counted) {
        link->is_counted = false;
        ((destination_t *)link->destination)->inflight--;
    }
    count_answered(link);      /* no longer outstanding, as far as NSTART goes */
    udp_request_over(up, link, true);
    was_awaited = stop_awaiting(link);
    if (link->slot != 0) { /* first: libcoap's NACKs for the abandoned CON find no exchange */
        free_slot(up, link->slot - 1);
        link->slot = 0;
    }
    hcp_upblock_reset(&link->block);
    if (was_awaited) /* ended without its answer */
        abandon(link->destination);
}

/* An answer or NACK for a request sent in the current epoch: it is outstanding no more. An
 * exchange that ended without either keeps counting until the next quiet moment, since its CON
 * may still be unacknowledged. */
static void count_answered(hcp_upstream_link_t *link)
{
    destination_t *d = link->destination;

    if (link->epoch != 0 && link->epoch == d->epoch && d->unanswered > 0)
        d->unanswered--;
    link->epoch = 0;
}

/* The exchange a token belongs to, or NULL for an ended or unknown one, or for a request of it
 * that a later one has replaced. */
static hcp_exchange_t *owner(hcp_upstream_t *up, coap_bin_const_t token)
{
    uint32_t i, nonce;

    if (token.length != TOKEN_LEN)
        return NULL;
    memcpy(&i, token.s, 4);
    memcpy(&nonce, token.s + 4, 4);
    i = ntohl(i);
    if (i >= up->nslots || up->slots[i].ex == NULL || up->slots[i].nonce != ntohl(nonce))
        return NULL;
    return up->slots[i].ex;
}

/* |ex|, whose request in flight the transport is done with (answered or given up), ends here. */
static void end_exchange(hcp_upstream_t *up, hcp_exchange_t *ex)
{
    count_answered(hcp_exchange_upstream_link(ex));
    stop_awaiting(hcp_exchange_upstream_link(ex));
    hcp_upstream_forget(up, ex);
}

/* The exchange a token belongs to, which libcoap is done with: NULL as for owner(). */
static hcp_exchange_t *claim(hcp_upstream_t *up, coap_bin_const_t token)
{
    hcp_exchange_t *ex = owner(up, token);

    if (ex != NULL)
        end_exchange(up, ex);
    return ex;
}

/* ---- libcoap callbacks ------------------------------------------------------------------- */

static hcp_upstream_t *upstream_of(coap_session_t *session)
{
    destination_t *d = coap_session_get_app_data(session);

    return d->up;
}

int hcp_upstream_msg_from_pdu(const coap_pdu_t *pdu, hcm_coap_msg_t *msg)
{
    coap_opt_iterator_t it;
    coap_opt_t *opt;
    size_t len = 0, offset, total;
    const uint8_t *data = NULL;

    msg->code = (uint8_t)coap_pdu_get_code(pdu);
    msg->nopts = 0;
    coap_option_iterator_init(pdu, &it, COAP_OPT_ALL);
    while ((opt = coap_option_next(&it)) != NULL) {
        hcm_bytes_t value = {coap_opt_value(opt), coap_opt_length(opt)};
        if (hcm_coap_msg_add(msg, it.number, value) < 0)
            return HCM_EBADRESPONSE;
    }
    coap_get_data_large(pdu, &len, &data, &offset, &total);
    msg->payload = (hcm_bytes_t){data, len};
    return 0;
}

static void continue_later(hcp_upstream_t *up, hcp_exchange_t *ex);

static const int step_errors[] = {
    [HCP_UPBLOCK_CHANGED] = HCM_EBLOCKCHANGED,
    [HCP_UPBLOCK_TOO_LARGE] = HCM_ERESPTOOLARGE,
    [HCP_UPBLOCK_MALFORMED] = HCM_EBADRESPONSE,
    [HCP_UPBLOCK_NOMEM] = HCM_EINTERNAL,
};

/* A response to |ex|'s request now in flight (|msg|, which the upstream may change): the next
 * request of a block-wise transfer (upblock.c), sent once this pass is over, or the exchange's
 * answer, with the body gathered from its Block2 blocks if there were, or an error. */
static void take_response(hcp_upstream_t *up, hcp_exchange_t *ex, hcm_coap_msg_t *msg)
{
    hcp_upstream_link_t *link = hcp_exchange_upstream_link(ex);
    hcp_upblock_response_t view = hcp_upblock_view_msg(msg);
    hcp_upblock_step_t step = hcp_upblock_on_response(&link->block, &view);
    uint8_t *body = NULL;
    size_t len;

    if (step == HCP_UPBLOCK_SEND) {
        continue_later(up, ex);
        return;
    }
    if (step == HCP_UPBLOCK_DONE && hcp_upblock_take_body(&link->block, &body, &len))
        msg->payload = (hcm_bytes_t){body, len};
    end_exchange(up, ex); /* frees the transfer, not |body| */
    if (step == HCP_UPBLOCK_DONE)
        hcp_exchange_on_coap_response(ex, msg);
    else
        hcp_exchange_fail(ex, step_errors[step]);
    free(body);
}

static coap_response_t on_response(coap_session_t *session, const coap_pdu_t *sent,
                                   const coap_pdu_t *received, const coap_mid_t mid)
{
    hcp_upstream_t *up = upstream_of(session);
    hcp_exchange_t *ex = owner(up, coap_pdu_get_token(received));
    hcm_coap_msg_t msg;

    (void)sent;
    (void)mid;
    if (ex == NULL) {
        up->proxy->metrics.late_responses++;
        return COAP_RESPONSE_OK;
    }
    if (hcp_upstream_msg_from_pdu(received, &msg) < 0) {
        end_exchange(up, ex);
        hcp_exchange_fail(ex, HCM_EBADRESPONSE);
    } else {
        take_response(up, ex, &msg);
    }
    return COAP_RESPONSE_OK;
}

/* ---- coap:// through hcproxy's own message layer (upstream_udp.c) ------------------------------ */

static void pump_later(destination_t *d);
static void on_udp_batch_end(void *ctx);

/* |link|'s request stops being outstanding (RFC 7252 s4.7): its ACK came, or it is over. */
static void udp_acked(hcp_upstream_link_t *link)
{
    if (link->is_outstanding) {
        link->is_outstanding = false;
        ((destination_t *)link->destination)->outstanding--;
    }
}

/* |link|'s request is over: answered or failed in the message layer, or |cancel|led here. */
static void udp_request_over(hcp_upstream_t *up, hcp_upstream_link_t *link, bool cancel)
{
    if (link->req == NULL)
        return;
    if (cancel)
        hcp_uudp_cancel(up->udp, link->req);
    link->req = NULL;
    hcp_queue_remove(&((destination_t *)link->destination)->in_flight, &link->sent);
    udp_acked(link);
}

/* The message layer's word on the request of |user|, an exchange: with NSTART room made, the
 * destination's waiting requests go at the end of this loop turn (on_flush()). */
static void on_udp_event(void *ctx, void *user, hcp_uudp_kind_t kind, hcm_coap_msg_t *msg,
                         int err)
{
    hcp_upstream_t *up = ctx;
    hcp_exchange_t *ex = user;
    hcp_upstream_link_t *link = hcp_exchange_upstream_link(ex);
    destination_t *d = link->destination;

    if (kind == HCP_UUDP_ACKED) {
        udp_acked(link);
    } else {
        udp_request_over(up, link, false);
        if (kind == HCP_UUDP_ANSWERED) {
            take_response(up, ex, msg);
        } else {
            end_exchange(up, ex);
            hcp_exchange_fail(ex, err);
        }
    }
    pump_later(d);
}

/* ICMP unreachable from |owner|'s server: what was sent there fails now rather than time out. */
static void on_udp_unreachable(void *ctx, void *owner)
{
    hcp_upstream_t *up = ctx;
    destination_t *d = owner;

    while (!hcp_queue_is_empty(&d->in_flight)) {
        hcp_upstream_link_t *link =
            hcp_container_of(d->in_flight.head.next, hcp_upstream_link_t, sent);
        hcp_exchange_t *ex = up->slots[link->slot - 1].ex;

        udp_request_over(up, link, true);
        end_exchange(up, ex);
        hcp_exchange_fail(ex, HCM_EUNREACHABLE);
    }
    pump_later(d);
}

void hcp_upstream_udp_stats(const hcp_upstream_t *up, hcp_mc_stats_t *stats)
{
    if (up == NULL || up->udp == NULL)
        memset(stats, 0, sizeof *stats);
    else
        hcp_uudp_stats(up->udp, stats);
}

static void on_udp_random(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    hcp_random_fill(buf, len);
}

/* |link|'s request through |d|'s socket. 0, or a negative HCM_E* code. */
static int udp_transmit(destination_t *d, hcp_upstream_link_t *link, const uint8_t *token)
{
    hcp_upblock_out_t *out = malloc(sizeof *out); /* 1.5 KiB: off the stack */

    if (out != NULL && hcp_upblock_request_msg(link->msg, &link->block, out) == 0)
        link->req = hcp_uudp_send(d->sock, token, TOKEN_LEN, &out->msg,
                                  d->up->slots[link->slot - 1].ex);
    free(out);
    if (link->req == NULL)
        return HCM_ENOSPACE;
    hcp_queue_push(&d->in_flight, &link->sent);
    link->is_outstanding = true;
    d->outstanding++;
    return 0;
}

static const struct {
    coap_nack_reason_t reason;
    int err;
} nack_errors[] = {
    {COAP_NACK_TOO_MANY_RETRIES, HCM_ETIMEOUT},
    {COAP_NACK_NOT_DELIVERABLE, HCM_EUNREACHABLE},
    {COAP_NACK_RST, HCM_ERESET},
    {COAP_NACK_TLS_FAILED, HCM_ETLSHANDSHAKE},
    {COAP_NACK_ICMP_ISSUE, HCM_EUNREACHABLE},
};

static void on_nack(coap_session_t *session, const coap_pdu_t *sent,
                    const coap_nack_reason_t reason, const coap_mid_t mid)
{
    hcp_exchange_t *ex;
    int err = HCM_EUNREACHABLE;

    (void)mid;
    if (sent == NULL || (ex = claim(upstream_of(session), coap_pdu_get_token(sent))) == NULL)
        return;
    for (size_t i = 0; i < HCM_COUNTOF(nack_errors); i++)
        if (nack_errors[i].reason == reason)
            err = nack_errors[i].err;
    hcp_exchange_fail(ex, err);
}

#if LIBCOAP_VERSION >= 4003002
/* libcoap 4.3.2 reports each retransmission of a confirmable message; 4.3.1 reports none, so
 * there only coap:// destinations' retransmissions (hcproxy's own message layer) are counted. */
static int on_event(coap_session_t *session, const coap_event_t event)
{
    destination_t *d = coap_session_get_app_data(session);

    if (event == COAP_EVENT_MSG_RETRANSMITTED && d != NULL)
        d->up->proxy->metrics.upstream_retransmissions++;
    return 0;
}
#endif

/* Every libcoap message becomes a JSON line of its own: its PDU dumps (debug level) included,
 * which coap_set_show_pdu_output(0) sends here instead of to stdout. A dump's Uri-Query and
 * Proxy-Uri values go through the same redaction as the access log's URIs (logtext.c). */
static void on_coap_log(coap_log_t level, const char *message)
{
    size_t len = strcspn(message, "\n");
    hcc_level_t ours = level <= LOG_ERR       ? HCC_LOG_ERROR
                       : level <= LOG_WARNING ? HCC_LOG_WARN
                       : level <= LOG_INFO    ? HCC_LOG_INFO
                                              : HCC_LOG_DEBUG;
    char redacted[2048];

    snprintf(redacted, sizeof redacted, "%.*s", (int)len, message);
    hcp_log_redact_pdu(redacted, sizeof redacted);
    hcp_log(ours, 0, "libcoap: %s", redacted);
}

/* ---- the loop ---------------------------------------------------------------------------- */

void hcp_upstream_kick(hcp_upstream_t *up)
{
    coap_io_process(up->ctx, COAP_IO_NO_WAIT);
}

coap_context_t *hcp_upstream_context(hcp_upstream_t *up)
{
    return up->ctx;
}

static void on_reverse_io(uv_poll_t *poll, int status, int events)
{
    hcp_upstream_t *up = hcp_container_of(poll, hcp_upstream_t, poll);

    (void)events;
    if (status < 0)
        hcp_log(HCC_LOG_ERROR, 0, "coap poll: %s", uv_strerror(status));
    coap_io_process(up->ctx, COAP_IO_NO_WAIT);
}


/* Whether a datagram waits on the session's socket. Asked only while answers are awaited: with
 * NSTART 1 and answers in ACKs, none is after each answer, and the question is a system call. */
static bool has_datagram(const destination_t *d)
{
    int len = 0;

    return d->fd >= 0 && ioctl(d->fd, FIONREAD, &len) == 0 && len > 0;
}

/* libcoap reads one datagram per socket per pass. Taking a burst of answers in one loop turn,
 * rather than one per turn, lets libmicrohttpd resume all of their connections in one run:
 * libmicrohttpd 0.9.75 walks every suspended connection whenever one is resumed, so with
 * 10,000 exchanges waiting, one resume per run cost most of the CPU (bench/README.md). The
 * batch is bounded so that the HTTP side still gets its turn. */
#define IO_BATCH 64
#define IO_EVENTS 8

/* The socket's events, for the passes after the first: the timer's, which libcoap registers
 * with a NULL pointer, is handed over once only, as reading its timerfd again would only
 * answer EAGAIN. */
static int without_timer(struct epoll_event *ready, int n)
{
    int kept = 0;

    for (int i = 0; i < n; i++)
        if (ready[i].data.ptr != NULL)
            ready[kept++] = ready[i];
    return kept;
}

static void destination_pass(destination_t *d);

static void on_resend_due(uv_timer_t *timer)
{
    destination_pass(hcp_container_of(timer, destination_t, resend));
}

/* coap_io_prepare_epoll() retransmits what is due and returns the milliseconds to the next
 * retransmission, which hcproxy's own timer then waits for as well, so that retransmission does
 * not rest on libcoap's timerfd alone. Once, under ASan, faults_upstream.sh (20% loss) saw 25 of
 * 60 exchanges end in 504 with few retransmissions on the wire. The likely cause: libcoap 4.3.1
 * sets its timerfd from a second clock reading, taken after the retransmissions it has just
 * sent, and leaves it unarmed when the next one is due by then. */
static void prepare_resend(destination_t *d)
{
    coap_tick_t now;
    unsigned next_ms;

    coap_ticks(&now);
    next_ms = coap_io_prepare_epoll(d->ctx, now);
    if (next_ms > 0)
        uv_timer_start(&d->resend, on_resend_due, next_ms, 0);
    else
        uv_timer_stop(&d->resend);
}

/* The loop of man coap_io's coap_io_prepare_epoll() example, one batch long: one epoll_wait()
 * on the context's set and one coap_io_do_epoll() per datagram (coap_io_process() per datagram
 * cost an epoll_wait() more for each), then prepare_resend(). */
static void destination_pass(destination_t *d)
{
    struct epoll_event ready[IO_EVENTS];
    int n, passes = 0;

    d->last_used = uv_now(d->up->proxy->loop);
    n = epoll_wait(coap_context_get_coap_fd(d->ctx), ready, IO_EVENTS, 0);
    if (n > 0) {
        coap_io_do_epoll(d->ctx, ready, (size_t)n);
        n = without_timer(ready, n);
        while (n > 0 && ++passes < IO_BATCH && d->awaiting > 0 && has_datagram(d))
            coap_io_do_epoll(d->ctx, ready, (size_t)n);
    }
    prepare_resend(d);
    pump(d); /* ACKs and answers in this batch may have made room */
    hcp_front_flush(d->up->proxy->front); /* outside libcoap now: answer in this loop turn */
}

static void on_destination_io(uv_poll_t *poll, int status, int events)
{
    (void)events;
    if (status < 0)
        hcp_log(HCC_LOG_ERROR, 0, "coap poll: %s", uv_strerror(status));
    destination_pass(hcp_container_of(poll, destination_t, poll));
}

/* ---- destinations ------------------------------------------------------------------------ */

static coap_fixed_point_t fixed_point(double value)
{
    coap_fixed_point_t fp = {.integer_part = (uint16_t)value};

    fp.fractional_part = (uint16_t)((value - fp.integer_part) * 1000.0 + 0.5);
    return fp;
}

/* A libcoap context as both directions use it, knowing the OSCORE option: libcoap 4.3.1 drops a
 * response with a critical option it does not know; OSCORE (9) is critical, and hcproxy carries
 * it without understanding it (RFC 8613 s2, s11).
 *
 * Block-wise transfers are hcproxy's own in both directions, so libcoap's block mode stays off
 * for every session. Towards CoAP servers (upblock.c): libcoap 4.3.1 never asked for block 1 of
 * an answer whose block 0 came in a separate response, gave its continuations counter tokens,
 * restarted a transfer whose ETag kept changing without end, and did not resend a body in blocks
 * after a 4.13. Towards CoAP clients (reverse.c, block1.c, block2.c): libcoap's server side mixes
 * concurrent uploads to one resource, and 4.3.1's hands each block of an upload without Size1 to
 * the handler and then reads a body it never built. With the block mode off, libcoap 4.3.2 and
 * later add no Request-Tag of their own either: a request goes as its HTTP request maps
 * (RFC 8075 s5), and an OSCORE request byte for byte (RFC 8613 s11). */
static coap_context_t *new_context(void)
{
    coap_context_t *ctx = coap_new_context(NULL);

    if (ctx == NULL)
        return NULL;
    coap_context_set_block_mode(ctx, 0);
    coap_register_option(ctx, COAP_OPTION_OSCORE);
    return ctx;
}

static bool is_socket_of(int fd, const coap_session_t *s)
{
    const coap_address_t *local = coap_session_get_addr_local(s);
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int type;
    socklen_t type_len = sizeof type;

    return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_len) == 0 && type == SOCK_DGRAM &&
           getsockname(fd, (struct sockaddr *)&ss, &len) == 0 && len == local->size &&
           memcmp(&ss, &local->addr.sa, len) == 0;
}

/* libcoap 4.3.1 does not give out a session's socket, but it creates it with socket(), which
 * returns the lowest free descriptor: |predicted| was that number just before the session was
 * made. The guess is checked against the session's local address before it is used. */
static void find_socket(destination_t *d, int predicted)
{
    d->fd = predicted >= 0 && is_socket_of(predicted, d->session) ? predicted : -1;
    if (d->fd < 0)
        hcp_log(HCC_LOG_WARN, 0, "upstream: cannot find libcoap's socket; datagrams are "
                                    "taken one per loop turn, at the default buffer size");
}

/* A burst of separate responses (10,000 answered a second after their ACKs, in bench/run)
 * overflows the default 208 KiB receive buffer, and every dropped response costs its server a
 * retransmission seconds later. */
static void enlarge_receive_buffer(destination_t *d)
{
    int size = (int)d->up->proxy->cfg->upstream_receive_buffer_bytes;

    if (size == 0 || d->fd < 0)
        return;
    if (setsockopt(d->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size) != 0)
        hcp_log(HCC_LOG_WARN, 0, "upstream: SO_RCVBUF %d refused", size);
}

/* The descriptor number the next socket() will get. */
static int lowest_free_fd(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    if (fd >= 0)
        close(fd);
    return fd;
}

/* ---- secure transports (upstream.credentials) ------------------------------------------------ */

static const coap_proto_t protos[] = {
    [HCM_SCHEME_COAP] = COAP_PROTO_UDP,
    [HCM_SCHEME_COAPS] = COAP_PROTO_DTLS,
    [HCM_SCHEME_COAP_TCP] = COAP_PROTO_TCP,
    [HCM_SCHEME_COAPS_TCP] = COAP_PROTO_TLS,
};

static bool is_secure(hcm_scheme_t scheme)
{
    return scheme == HCM_SCHEME_COAPS || scheme == HCM_SCHEME_COAPS_TCP;
}

static bool is_ip_literal(const char *host)
{
    uint8_t buf[16];

    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

/* RFC 7252 s9.1.3.3: the server's certificate must name the host the request was for. libcoap
 * hands over the subjectAltName (or the CN) of each certificate in the chain; the server's own
 * is depth 0. */
static int on_server_name(const char *cn, const uint8_t *cert, size_t cert_len,
                          coap_session_t *session, unsigned depth, int validated, void *arg)
{
    const destination_t *d = arg;

    (void)cert;
    (void)cert_len;
    (void)session;
    if (!validated)
        return 0;
    if (depth > 0 || strcasecmp(cn, d->host) == 0)
        return 1;
    hcp_log(HCC_LOG_INFO, 0, "upstream: %s's certificate names %s", d->host, cn);
    return 0;
}

static coap_session_t *psk_session(destination_t *d, const coap_address_t *dst)
{
    coap_dtls_cpsk_t setup = {
        .version = COAP_DTLS_CPSK_SETUP_VERSION,
        .client_sni = is_ip_literal(d->host) ? NULL : d->host,
        .psk_info.identity = {strlen(d->cred->identity), (const uint8_t *)d->cred->identity},
        .psk_info.key = {d->keys->psk.len, d->keys->psk.bytes},
    };

    return coap_new_client_session_psk2(d->ctx, NULL, dst, protos[d->scheme], &setup);
}

static coap_session_t *pki_session(destination_t *d, const coap_address_t *dst)
{
    coap_dtls_pki_t setup = {
        .version = COAP_DTLS_PKI_SETUP_VERSION,
        .verify_peer_cert = d->cred->verify,
        .cert_chain_validation = 1,
        .cert_chain_verify_depth = 3,
        .allow_no_crl = 1,
        .allow_expired_crl = 1,
        .validate_cn_call_back = d->cred->verify ? on_server_name : NULL,
        .cn_call_back_arg = d,
        .client_sni = is_ip_literal(d->host) ? NULL : d->host,
        .pki_key.key_type = COAP_PKI_KEY_PEM_BUF,
    };

    hcp_coap_pem(&setup.pki_key.key.pem_buf, &d->keys->ca, &d->keys->cert, &d->keys->key);
    return coap_new_client_session_pki(d->ctx, NULL, dst, protos[d->scheme], &setup);
}

/* RFC 7250: the server proves only that it holds a key; hcproxy has pinned which one. libcoap
 * hands over the server's public key as DER, in place of a certificate. */
static int on_server_key(const char *cn, const uint8_t *key, size_t key_len,
                         coap_session_t *session, unsigned depth, int validated, void *arg)
{
    const destination_t *d = arg;
    const gnutls_datum_t *pin = &d->keys->peer_key;

    (void)cn;
    (void)session;
    (void)depth;
    (void)validated;
    if (key_len == pin->size && memcmp(key, pin->data, key_len) == 0)
        return 1;
    hcp_log(HCC_LOG_INFO, 0, "upstream: %s's raw public key is not the one peer_key_file pins",
            d->host);
    return 0;
}

/* hcproxy's EC private key PEM stands for both halves of its raw public key (libcoap's rule). */
static coap_session_t *rpk_session(destination_t *d, const coap_address_t *dst)
{
    coap_dtls_pki_t setup = {
        .version = COAP_DTLS_PKI_SETUP_VERSION,
        .verify_peer_cert = d->cred->verify,
        .is_rpk_not_cert = 1,
        .validate_cn_call_back = d->cred->verify ? on_server_key : NULL,
        .cn_call_back_arg = d,
        .pki_key.key_type = COAP_PKI_KEY_PEM_BUF,
    };

    hcp_coap_pem(&setup.pki_key.key.pem_buf, NULL, &d->keys->key, &d->keys->key);
    return coap_new_client_session_pki(d->ctx, NULL, dst, protos[d->scheme], &setup);
}

static coap_session_t *open_session(destination_t *d, const coap_address_t *dst)
{
    if (!is_secure(d->scheme))
        return coap_new_client_session(d->ctx, NULL, dst, protos[d->scheme]);
    switch (d->cred->kind) {
    case HCC_CRED_PSK:
        return psk_session(d, dst);
    case HCC_CRED_RPK:
        return rpk_session(d, dst);
    case HCC_CRED_PKI:
        break;
    }
    return pki_session(d, dst);
}

int hcp_upstream_reload_credentials(hcp_upstream_t *up, const hcc_config_t *next, bool *changed)
{
    hcp_cred_set_t *set;
    int err = hcp_creds_load(next, &set);

    if (err < 0)
        return err;
    *changed = !hcp_creds_same(up->creds, set);
    if (!*changed) { /* the sessions made with the running set stay in use */
        hcp_creds_release(set);
        return 0;
    }
    hcp_creds_release(up->creds);
    up->creds = set;
    return 0;
}

static coap_session_t *new_session(destination_t *d)
{
    const hcc_config_t *cfg = d->up->proxy->cfg;
    const struct sockaddr *sa = (const struct sockaddr *)&d->addr;
    bool is_datagram = protos[d->scheme] == COAP_PROTO_UDP || protos[d->scheme] == COAP_PROTO_DTLS;
    int predicted_fd = lowest_free_fd();
    coap_address_t dst;
    coap_session_t *s;

    coap_address_init(&dst);
    dst.size = (socklen_t)hcp_sockaddr_len(sa);
    memcpy(&dst.addr.sa, sa, dst.size);
    s = open_session(d, &dst);
    if (s == NULL)
        return NULL;
    d->session = s;
    coap_session_set_app_data(s, d);
    coap_session_set_ack_timeout(s, fixed_point(cfg->upstream_ack_timeout_ms / 1000.0));
    coap_session_set_ack_random_factor(s, fixed_point(cfg->upstream_ack_random_factor));
    coap_session_set_max_retransmit(s, (uint16_t)cfg->upstream_max_retransmit);
    /* pump() never hands over more than NSTART; libcoap's own limit is a second guard. */
    coap_session_set_nstart(s, (uint16_t)cfg->upstream_nstart);
    if (is_datagram) { /* a stream's bytes are libcoap's to read, whole messages at a time */
        find_socket(d, predicted_fd);
        enlarge_receive_buffer(d);
    }
    return s;
}

static destination_t *new_destination(hcp_upstream_t *up, const struct sockaddr *sa,
                                      const hcm_target_t *target, const hcc_credential_t *cred)
{
    destination_t *d = calloc(1, sizeof *d);

    if (d == NULL)
        return NULL;
    d->up = up;
    d->fd = -1;
    d->epoch = 1;
    memcpy(&d->addr, sa, hcp_sockaddr_len(sa));
    d->scheme = target->scheme;
    snprintf(d->host, sizeof d->host, "%s", target->host);
    if (cred != NULL) { /* |cred| is the configuration's; the set holds the same entry */
        size_t i = (size_t)(cred - up->proxy->cfg->credentials);

        d->set = up->creds;
        d->set->refs++;
        d->cred = &d->set->creds[i];
        d->keys = &d->set->keys[i];
    }
    hcp_queue_init(&d->waiting);
    hcp_queue_init(&d->in_flight);
    if (d->scheme == HCM_SCHEME_COAP) {
        if ((d->sock = hcp_uudp_open(up->udp, sa, d)) == NULL)
            goto fail_context;
        goto made;
    }
    if ((d->ctx = new_context()) == NULL)
        goto fail_context;
    coap_register_response_handler(d->ctx, on_response);
    coap_register_nack_handler(d->ctx, on_nack);
#if LIBCOAP_VERSION >= 4003002
    coap_register_event_handler(d->ctx, on_event);
#endif
    if (uv_poll_init(up->proxy->loop, &d->poll, coap_context_get_coap_fd(d->ctx)) < 0)
        goto fail_poll;
    d->poll.data = up;
    uv_poll_start(&d->poll, UV_READABLE, on_destination_io);
    uv_timer_init(up->proxy->loop, &d->resend);
    d->resend.data = up;
    up->open_handles += 2;
made:
    up->proxy->metrics.upstream_destinations++;
    d->next = up->destinations;
    up->destinations = d;
    return d;
fail_poll:
    coap_free_context(d->ctx);
fail_context:
    hcp_creds_release(d->set);
    free(d);
    return NULL;
}

/* The destination |sa| over |target|'s transport, made on first use and kept: NSTART is
 * counted per server. A secure one is also told apart by the host its certificate must name,
 * and by the credentials: after a reload, new exchanges go through a new session with the new
 * ones, while the old destination finishes what it has and goes idle. */
static destination_t *destination_for(hcp_upstream_t *up, const struct sockaddr *sa,
                                      const hcm_target_t *target, const hcc_credential_t *cred)
{
    size_t len = hcp_sockaddr_len(sa);

    for (destination_t *d = up->destinations; d != NULL; d = d->next)
        if (memcmp(&d->addr, sa, len) == 0 && d->scheme == target->scheme &&
            (!is_secure(d->scheme) ||
             (strcasecmp(d->host, target->host) == 0 && d->set == up->creds)))
            return d;
    return new_destination(up, sa, target, cred);
}

/* The upstream.credentials entry for a coaps or coaps+tcp target at |sa|. */
static const hcc_credential_t *credential_for(hcp_upstream_t *up, const struct sockaddr *sa,
                                              const hcm_target_t *target)
{
    return hcc_credential_find(up->proxy->cfg, hcm_scheme_name(target->scheme), target->host,
                               sa->sa_family, hcp_sockaddr_ip(sa), target->port);
}

/* The session to |d|; a session libcoap has given up on is replaced. */
static coap_session_t *session_of(destination_t *d)
{
    if (d->session != NULL && coap_session_get_state(d->session) == COAP_SESSION_STATE_NONE) {
        coap_session_release(d->session);
        d->session = NULL;
        d->fd = -1;
    }
    if (d->session == NULL)
        new_session(d);
    return d->session;
}

/* ---- sending ----------------------------------------------------------------------------- */

/* Hands one waiting exchange's request to libcoap. 0, or a negative HCM_E* code. */
static int transmit(destination_t *d, hcp_upstream_link_t *link)
{
    hcp_upstream_t *up = d->up;
    coap_session_t *session;
    uint8_t token[TOKEN_LEN];
    coap_pdu_t *pdu;

    write_token(up, link->slot - 1, token);
    if (d->sock != NULL)
        return udp_transmit(d, link, token);
    if ((session = session_of(d)) == NULL)
        return HCM_EUNREACHABLE;
    pdu = hcp_upblock_pdu(session, link->msg, &link->block, token, TOKEN_LEN);
    if (pdu == NULL)
        return HCM_ENOSPACE;
    if (coap_send(session, pdu) == COAP_INVALID_MID)
        return HCM_EUNREACHABLE;
    return 0;
}

/* How many more requests NSTART lets |d| have outstanding (see the top of this file). */
static long long room_at(destination_t *d)
{
    if (d->sock != NULL) /* hcproxy's own message layer: known exactly */
        return d->up->proxy->cfg->upstream_nstart - (long long)d->outstanding;
    if (coap_can_exit(d->ctx)) { /* nothing unacknowledged: a new epoch */
        if (++d->epoch == 0)
            d->epoch = 1;
        d->unanswered = 0;
    }
    return d->up->proxy->cfg->upstream_nstart - (long long)d->unanswered;
}

/* Sends waiting requests to |d|, oldest first, while NSTART has room. A request that cannot be
 * sent ends its exchange and takes no room. Never called from inside a libcoap callback. */
static void pump(destination_t *d)
{
    hcp_upstream_t *up = d->up;
    long long room;

    if (hcp_queue_is_empty(&d->waiting))
        return;
    room = room_at(d);
    while (room > 0 && !hcp_queue_is_empty(&d->waiting)) {
        hcp_upstream_link_t *link =
            hcp_container_of(d->waiting.head.next, hcp_upstream_link_t, waiting);
        hcp_exchange_t *ex = up->slots[link->slot - 1].ex;
        int err;

        leave_queue(up, link);
        if ((err = transmit(d, link)) < 0) {
            hcp_upstream_forget(up, ex);
            hcp_exchange_fail(ex, err);
        } else {
            if (d->sock == NULL) { /* counted until its answer, or the next quiet moment */
                link->epoch = d->epoch;
                d->unanswered++;
            }
            link->is_sent = true;
            d->awaiting++;
            room--;
        }
    }
}

/* While a server has requests outstanding, the ones queued for it during a loop turn are sent
 * once the turn has handled all its I/O, rather than as each HTTP request is read: the server
 * then gets them back to back. Sent one at a time, with libmicrohttpd's work on the next request
 * in between, each datagram found coap-fastserver asleep again, and its wake-up (an
 * inter-processor interrupt, costly in this VM) was the largest part of hcproxy's kernel time.
 * A request to a server with nothing outstanding goes at once: there is no batch to join, and
 * deferring it made a 1 MiB block-wise upload markedly slower (figures in bench/README.md).
 * Answers that came to coap:// servers' sockets in this turn (on_udp_event()) are handed to
 * libmicrohttpd here too, as destination_pass() does for libcoap's. */
static void flush_due(hcp_upstream_t *up)
{
    uv_check_stop(&up->flush);
    while (up->pump_due != NULL) {
        destination_t *d = up->pump_due;
        up->pump_due = d->next_due;
        d->is_pump_due = false;
        pump(d);
    }
    hcp_front_flush(up->proxy->front);
}

static void on_flush(uv_check_t *check)
{
    flush_due(hcp_container_of(check, hcp_upstream_t, flush));
}

/* A batch of coap:// datagrams is over: the room their ACKs and answers made is filled now, as
 * destination_pass() does after a batch of libcoap's, rather than after libmicrohttpd has read
 * the requests of this loop turn (with NSTART 1, that wait came into every round trip). */
static void on_udp_batch_end(void *ctx)
{
    hcp_upstream_t *up = ctx;

    if (up->pump_due != NULL)
        flush_due(up);
}

static void pump_later(destination_t *d)
{
    hcp_upstream_t *up = d->up;

    if (d->is_pump_due)
        return;
    d->is_pump_due = true;
    d->next_due = up->pump_due;
    up->pump_due = d;
    uv_check_start(&up->flush, on_flush);
}

/* The block-wise transfer of |link|'s message to |d|: its first request. */
static void start_transfer(hcp_upstream_t *up, const destination_t *d, hcp_upstream_link_t *link)
{
    uint8_t tag[HCP_UPBLOCK_TAG_LEN];

    hcp_random_fill(tag, sizeof tag);
    hcp_upblock_begin(&link->block, up->proxy->cfg, link->msg, TOKEN_LEN,
                      d->scheme == HCM_SCHEME_COAP_TCP || d->scheme == HCM_SCHEME_COAPS_TCP, tag);
}

/* The next request of |ex|'s block-wise transfer, called from libcoap's response handler: the
 * request answered is outstanding no more, and the next one, with a token of its own (RFC 9175
 * s4: a fresh random half, so that a late answer to the one before cannot pass for its answer),
 * waits at the head of the queue for the pump() that ends this pass. */
static void continue_later(hcp_upstream_t *up, hcp_exchange_t *ex)
{
    hcp_upstream_link_t *link = hcp_exchange_upstream_link(ex);

    count_answered(link);
    stop_awaiting(link);
    up->slots[link->slot - 1].nonce = next_nonce();
    hcp_queue_push_front(&((destination_t *)link->destination)->waiting, &link->waiting);
    up->proxy->metrics.upstream_waiting++;
}

int hcp_upstream_send(hcp_upstream_t *up, hcp_exchange_t *ex, const struct sockaddr *addr,
                      const hcm_target_t *target, const hcm_coap_msg_t *msg)
{
    hcp_upstream_link_t *link = hcp_exchange_upstream_link(ex);
    const hcc_credential_t *cred = NULL;
    destination_t *d;
    int err;

    if (is_secure(target->scheme) && (cred = credential_for(up, addr, target)) == NULL)
        return HCM_ENOCREDENTIALS;
    if ((d = destination_for(up, addr, target, cred)) == NULL)
        return HCM_EUNREACHABLE;
    if (d->inflight >= (unsigned long long)up->proxy->cfg->upstream_max_inflight_per_server)
        return HCM_EOVERLOAD; /* one slow server cannot take every slot */
    if ((err = take_slot(up, ex)) < 0)
        return err;
    d->last_used = uv_now(up->proxy->loop);
    link->destination = d;
    link->is_counted = true;
    d->inflight++;
    link->msg = msg;
    start_transfer(up, d, link);
    hcp_queue_push(&d->waiting, &link->waiting);
    up->proxy->metrics.upstream_waiting++;
    if (d->awaiting == 0 && !d->is_pump_due)
        pump(d); /* nothing outstanding: no batch to join (see on_flush()) */
    else
        pump_later(d);
    return 0;
}

/* ---- idle destinations ------------------------------------------------------------------- */

/* Nothing refers to an idle destination: every exchange that does is queued there (waiting) or
 * has sent there and not ended (awaiting), and libcoap has nothing unacknowledged to resend. */
static bool is_idle(const destination_t *d, uint64_t now, uint64_t idle_ms)
{
    return hcp_queue_is_empty(&d->waiting) && d->awaiting == 0 && now - d->last_used >= idle_ms &&
           (d->sock != NULL || coap_can_exit(d->ctx));
}

static void on_destination_closed(uv_handle_t *handle)
{
    destination_t *d = handle->data;

    if (--d->open_handles > 0)
        return;
    coap_free_context(d->ctx); /* releases the session and closes its socket */
    hcp_creds_release(d->set);
    free(d);
}

/* A proxy in front of many devices would otherwise keep a socket, an epoll set and a timerfd
 * for every server it ever reached. */
static void on_sweep(uv_timer_t *timer)
{
    hcp_upstream_t *up = hcp_container_of(timer, hcp_upstream_t, sweep);
    uint64_t now = uv_now(up->proxy->loop), idle_ms = (uint64_t)up->proxy->cfg->upstream_idle_ms;
    destination_t **link = &up->destinations;

    while (*link != NULL) {
        destination_t *d = *link;
        if (d->is_pump_due || !is_idle(d, now, idle_ms)) {
            link = &d->next;
            continue;
        }
        *link = d->next;
        up->proxy->metrics.upstream_destinations--;
        if (d->sock != NULL) { /* no request in flight: the message layer holds none of it */
            hcp_uudp_release(d->sock);
            free(d);
            continue;
        }
        up->open_handles -= 2;
        d->open_handles = 2;
        d->poll.data = d->resend.data = d;
        uv_close((uv_handle_t *)&d->poll, on_destination_closed);
        uv_close((uv_handle_t *)&d->resend, on_destination_closed);
    }
}

/* ---- life -------------------------------------------------------------------------------- */

void hcp_upstream_log_level(void)
{
    coap_set_log_level(hcp_log_enabled(HCC_LOG_DEBUG) ? LOG_DEBUG : LOG_WARNING);
}

int hcp_upstream_new(hcp_proxy_t *proxy, hcp_upstream_t **out)
{
    hcp_upstream_t *up = calloc(1, sizeof *up);
    int err;

    if (up == NULL)
        return UV_ENOMEM;
    up->proxy = proxy;
    up->free_slot = NO_SLOT;
    if ((err = hcp_creds_load(proxy->cfg, &up->creds)) < 0) {
        free(up);
        return err;
    }
    hcp_random_fast_seed();
    coap_startup();
    coap_set_prng(hcp_random_fast_fill);
    coap_set_log_handler(on_coap_log);
    coap_set_show_pdu_output(0);
    hcp_upstream_log_level();
    up->ctx = new_context();
    if (up->ctx == NULL) {
        free(up);
        return UV_ENOMEM;
    }
    hcp_uudp_handler_t handler = {on_udp_event, on_udp_unreachable, on_udp_batch_end,
                                  on_udp_random, up};
    if ((err = hcp_uudp_new(proxy->loop, proxy->cfg, &handler, &up->udp)) < 0) {
        coap_free_context(up->ctx);
        free(up);
        return err;
    }
    err = uv_poll_init(proxy->loop, &up->poll, coap_context_get_coap_fd(up->ctx));
    if (err == 0)
        err = uv_poll_start(&up->poll, UV_READABLE, on_reverse_io);
    if (err < 0) {
        hcp_uudp_close(up->udp);
        coap_free_context(up->ctx);
        free(up);
        return err;
    }
    up->poll.data = up;
    uv_check_init(proxy->loop, &up->flush);
    up->flush.data = up;
    up->open_handles = 3;
    uv_timer_init(proxy->loop, &up->sweep);
    up->sweep.data = up;
    /* A destination goes between one and two idle periods after its last use. */
    uv_timer_start(&up->sweep, on_sweep, (uint64_t)proxy->cfg->upstream_idle_ms,
                   (uint64_t)proxy->cfg->upstream_idle_ms);
    uv_unref((uv_handle_t *)&up->sweep);
    *out = up;
    return 0;
}

static void on_closed(uv_handle_t *handle)
{
    hcp_upstream_t *up = handle->data;

    if (--up->open_handles > 0)
        return;
    while (up->destinations != NULL) {
        destination_t *d = up->destinations;
        up->destinations = d->next;
        if (d->sock != NULL)
            hcp_uudp_release(d->sock);
        else
            coap_free_context(d->ctx); /* releases the session too */
        hcp_creds_release(d->set);
        free(d);
        up->proxy->metrics.upstream_destinations--;
    }
    hcp_uudp_close(up->udp);
    coap_free_context(up->ctx);
    coap_cleanup();
    hcp_creds_release(up->creds);
    free(up->slots);
    free(up);
}

void hcp_upstream_close(hcp_upstream_t *up)
{
    for (destination_t *d = up->destinations; d != NULL; d = d->next) {
        if (d->sock != NULL)
            continue;
        uv_close((uv_handle_t *)&d->poll, on_closed);
        uv_close((uv_handle_t *)&d->resend, on_closed);
    }
    uv_close((uv_handle_t *)&up->sweep, on_closed);
    uv_close((uv_handle_t *)&up->flush, on_closed);
    uv_close((uv_handle_t *)&up->poll, on_closed);
}

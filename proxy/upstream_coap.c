/* upstream_coap: the coaps, coap+tcp and coaps+tcp destinations through libcoap, and the
 * libcoap context the reverse direction's endpoints share (coap:// goes through hcproxy's own
 * message layer instead: upstream_udp.c).
 *
 * libcoap keeps sockets and a retransmission timerfd in one epoll set per context (man coap_io),
 * so a uv_poll_t on coap_context_get_coap_fd() drives each context: the reverse direction's with
 * coap_io_process(COAP_IO_NO_WAIT), each destination's with a batch of coap_io_do_epoll() ended
 * by coap_io_prepare_epoll() (destination_pass()). Requests are sent from outside libcoap's
 * callbacks: coap_send() itself arms the timerfd for the retransmission
 * (tests/integration/retransmit.sh loses the first answer and passes), so no extra pass through
 * libcoap is needed.
 *
 * libcoap 4.3.1 reports an ACK to no callback, so NSTART (nstart.h) cannot be counted exactly
 * here: each destination has a libcoap context of its own, and coap_can_exit() on it says whether
 * anything is unacknowledged (a CON in its send queue, a PDU delayed), a quiet moment that starts
 * a new epoch (hcp_upstream_coap_is_quiet()). Between two of them, the requests sent and not yet
 * answered bound the outstanding ones from above (an answer implies the ACK), so a server that
 * answers in its ACKs gets a new request for each answer. libcoap's own NSTART stays set as a
 * second guard, and its delay queue stays empty: 4.3.1 appends to it by walking to the tail, after
 * a walk looking for a duplicate message id, and a burst of 10,000 requests to one server spent
 * most of hcproxy's CPU there (bench/README.md). */
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>

#include "container_of.h"
#include "hcc.h"
#include "hcm.h"
#include "log.h"
#include "proxy.h"
#include "random.h"
#include "tokens.h"
#include "upblock_pdu.h"
#include "upstream.h"
#include "upstream_coap.h"
#include "upstream_int.h"
#include "upstream_session.h"

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
coap_context_t *hcp_upstream_coap_new_context(void)
{
    coap_context_t *ctx = coap_new_context(NULL);

    if (ctx == NULL)
        return NULL;
    coap_context_set_block_mode(ctx, 0);
    coap_register_option(ctx, COAP_OPTION_OSCORE);
    return ctx;
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


/* ---- libcoap's callbacks -------------------------------------------------------------------- */

/* The request a token belongs to, or NULL for an ended or unknown one, or for a request of a
 * transfer that a later one has replaced. */
static hcp_upstream_req_t *owner(coap_session_t *session, coap_bin_const_t token)
{
    hcp_upstream_dest_t *d = coap_session_get_app_data(session);

    return hcp_tokens_owner(&d->up->tokens, token.s, token.length);
}

/* A response to an Observe registration: a notification, in order (hcp_upstream_observe_judge),
 * or its last word. A stale one is dropped, a CON one still acknowledged by libcoap. */
static void take_notification(hcp_upstream_req_t *req, hcm_coap_msg_t *msg)
{
    uint32_t observe;

    switch (hcp_upstream_observe_judge(req, msg, &observe)) {
    case HCP_UPSTREAM_FRESH:
        hcp_upstream_notified(req, msg, observe);
        break;
    case HCP_UPSTREAM_STALE:
        break;
    case HCP_UPSTREAM_FINAL:
        hcp_upstream_take_response(req, msg);
        break;
    }
}

static coap_response_t on_response(coap_session_t *session, const coap_pdu_t *sent,
                                   const coap_pdu_t *received, const coap_mid_t mid)
{
    hcp_upstream_req_t *req = owner(session, coap_pdu_get_token(received));
    hcm_coap_msg_t msg;

    (void)sent;
    (void)mid;
    if (req == NULL) {
        hcp_upstream_dest_t *d = coap_session_get_app_data(session);
        coap_opt_iterator_t it;
        d->up->proxy->metrics.late_responses++;
        /* RFC 7641 s3.6: a notification of an observation hcproxy let go is rejected (a Reset),
         * which ends the server's registration. */
        return coap_check_option(received, COAP_OPTION_OBSERVE, &it) != NULL
                   ? COAP_RESPONSE_FAIL
                   : COAP_RESPONSE_OK;
    }
    if (hcp_upstream_msg_from_pdu(received, &msg) < 0)
        hcp_upstream_fail(req, HCM_EBADRESPONSE);
    else if (req->on_notify != NULL)
        take_notification(req, &msg);
    else
        hcp_upstream_take_response(req, &msg);
    return COAP_RESPONSE_OK;
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
    hcp_upstream_req_t *req;
    int err = HCM_EUNREACHABLE;

    (void)mid;
    if (sent == NULL || (req = owner(session, coap_pdu_get_token(sent))) == NULL)
        return;
    for (size_t i = 0; i < HCM_COUNTOF(nack_errors); i++)
        if (nack_errors[i].reason == reason)
            err = nack_errors[i].err;
    hcp_upstream_fail(req, err);
}

#if LIBCOAP_VERSION >= 4003002
/* libcoap 4.3.2 reports each retransmission of a confirmable message; 4.3.1 reports none, so
 * there only coap:// destinations' retransmissions (hcproxy's own message layer) are counted. */
static int on_event(coap_session_t *session, const coap_event_t event)
{
    hcp_upstream_dest_t *d = coap_session_get_app_data(session);

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

void hcp_upstream_log_level(void)
{
    coap_set_log_level(hcp_log_enabled(HCC_LOG_DEBUG) ? LOG_DEBUG : LOG_WARNING);
}

void hcp_upstream_coap_startup(void)
{
    hcp_random_fast_seed();
    coap_startup();
    coap_set_prng(hcp_random_fast_fill);
    coap_set_log_handler(on_coap_log);
    coap_set_show_pdu_output(0);
    hcp_upstream_log_level();
}

/* ---- the loop ------------------------------------------------------------------------------- */

void hcp_upstream_kick(hcp_upstream_t *up)
{
    coap_io_process(up->ctx, COAP_IO_NO_WAIT);
}

coap_context_t *hcp_upstream_context(hcp_upstream_t *up)
{
    return up->ctx;
}

void hcp_upstream_coap_on_reverse_io(uv_poll_t *poll, int status, int events)
{
    hcp_upstream_t *up = hcp_container_of(poll, hcp_upstream_t, poll);

    (void)events;
    if (status < 0)
        hcp_log(HCC_LOG_ERROR, 0, "coap poll: %s", uv_strerror(status));
    coap_io_process(up->ctx, COAP_IO_NO_WAIT);
}

/* Whether a datagram waits on the session's socket. Asked only while answers are awaited: with
 * NSTART 1 and answers in ACKs, none is after each answer, and the question is a system call. */
static bool has_datagram(const hcp_upstream_dest_t *d)
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

static void destination_pass(hcp_upstream_dest_t *d);

static void on_resend_due(uv_timer_t *timer)
{
    destination_pass(hcp_container_of(timer, hcp_upstream_dest_t, resend));
}

/* coap_io_prepare_epoll() retransmits what is due and returns the milliseconds to the next
 * retransmission, which hcproxy's own timer then waits for as well, so that retransmission does
 * not rest on libcoap's timerfd alone. Once, under ASan, faults_upstream.sh (20% loss) saw 25 of
 * 60 exchanges end in 504 with few retransmissions on the wire. The likely cause: libcoap 4.3.1
 * sets its timerfd from a second clock reading, taken after the retransmissions it has just
 * sent, and leaves it unarmed when the next one is due by then. */
static void prepare_resend(hcp_upstream_dest_t *d)
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
static void destination_pass(hcp_upstream_dest_t *d)
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
    hcp_upstream_pump(d); /* ACKs and answers in this batch may have made room */
    hcp_upstream_deliver(d->up); /* outside libcoap now: answer in this loop turn */
}

static void on_destination_io(uv_poll_t *poll, int status, int events)
{
    (void)events;
    if (status < 0)
        hcp_log(HCC_LOG_ERROR, 0, "coap poll: %s", uv_strerror(status));
    destination_pass(hcp_container_of(poll, hcp_upstream_dest_t, poll));
}


/* ---- destinations --------------------------------------------------------------------------- */

int hcp_upstream_coap_open(hcp_upstream_dest_t *d)
{
    hcp_upstream_t *up = d->up;
    int err;

    if ((d->ctx = hcp_upstream_coap_new_context()) == NULL)
        return UV_ENOMEM;
    coap_register_response_handler(d->ctx, on_response);
    coap_register_nack_handler(d->ctx, on_nack);
#if LIBCOAP_VERSION >= 4003002
    coap_register_event_handler(d->ctx, on_event);
#endif
    if ((err = uv_poll_init(up->proxy->loop, &d->poll, coap_context_get_coap_fd(d->ctx))) < 0)
        goto fail_poll;
    d->poll.data = up;
    uv_poll_start(&d->poll, UV_READABLE, on_destination_io);
    uv_timer_init(up->proxy->loop, &d->resend);
    d->resend.data = up;
    return 0;
fail_poll:
    coap_free_context(d->ctx);
    d->ctx = NULL;
    return err;
}

void hcp_upstream_coap_close(hcp_upstream_dest_t *d, uv_close_cb on_closed)
{
    uv_close((uv_handle_t *)&d->poll, on_closed);
    uv_close((uv_handle_t *)&d->resend, on_closed);
}

void hcp_upstream_coap_free(hcp_upstream_dest_t *d)
{
    coap_free_context(d->ctx); /* releases the session and closes its socket */
}

bool hcp_upstream_coap_is_quiet(const hcp_upstream_dest_t *d)
{
    return coap_can_exit(d->ctx);
}

int hcp_upstream_coap_transmit(hcp_upstream_dest_t *d, hcp_upstream_req_t *req,
                               const uint8_t *token)
{
    coap_session_t *session = hcp_upstream_session_of(d);
    coap_pdu_t *pdu;

    if (session == NULL)
        return HCM_EUNREACHABLE;
    pdu = hcp_upblock_pdu(session, req->msg, &req->block, token, HCP_TOKENS_LEN);
    if (pdu == NULL)
        return HCM_ENOSPACE;
    if (coap_send(session, pdu) == COAP_INVALID_MID)
        return HCM_EUNREACHABLE;
    return 0;
}

void hcp_upstream_coap_deregister(hcp_upstream_dest_t *d, const hcp_upstream_req_t *req,
                                  const uint8_t *token)
{
    static const uint8_t deregister = HCM_OBSERVE_DEREGISTER;
    hcm_coap_msg_t msg = *req->msg;
    coap_pdu_t *pdu;

    if (d->session == NULL)
        return;
    for (size_t i = 0; i < msg.nopts; i++)
        if (msg.opts[i].number == HCM_OPT_OBSERVE)
            msg.opts[i].value = (hcm_bytes_t){&deregister, 1};
    if ((pdu = hcp_upblock_pdu(d->session, &msg, &req->block, token, HCP_TOKENS_LEN)) != NULL)
        coap_send(d->session, pdu);
}

/* A request that ended unanswered (its deadline passed, its client hung up) leaves its CON in
 * libcoap, retransmitted for up to 93 s, and libcoap 4.3.1 has no call to cancel one: with NSTART
 * 1 every later request to that server would wait behind it (tests/integration/faults_upstream.sh,
 * the blackout). When nothing else is awaited there, the session goes, and the CON with it; the
 * next request opens a new one. */
bool hcp_upstream_coap_abandon(hcp_upstream_dest_t *d)
{
    if (d->awaiting > 0 || d->session == NULL || coap_can_exit(d->ctx))
        return false;
    coap_session_disconnected(d->session, COAP_NACK_NOT_DELIVERABLE); /* drops its queue */
    coap_session_release(d->session);
    d->session = NULL;
    d->fd = -1;
    return true;
}

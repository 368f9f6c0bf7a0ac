/* An exchange that streams notifications to its HTTP client (RFC 7641 across HTTP; README
 * "Observe over HTTP"): it joins an observation (observe.h) and writes what it is handed.
 *
 * Until the first answer the exchange waits as any other (its upstream timeout, its hang-up
 * watch, suspended). An error answer is mapped as usual and no stream opens. Otherwise the
 * answer is 200 with a body of unknown length (chunked), read by libmicrohttpd from the
 * exchange's buffer through stream_reader(): when the buffer is empty the reader suspends the
 * connection, and the next bytes resume it, so a quiet stream costs no work at all. While
 * suspended the socket is watched for the client's hang-up, which ends the subscription at once.
 * The exchange's timer becomes the heartbeat: a server-sent-events stream with nothing written
 * for observe.heartbeat_s gets a comment line, so that proxies and load balancers on the way keep
 * it open. A client that lets STREAM_MAX_PENDING bytes pile up unread loses its stream. */
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "exchange.h"
#include "exchange_int.h"
#include "hcc.h"
#include "hcm.h"
#include "log.h"
#include "observe.h"
#include "proxy.h"

#define STREAM_MAX_PENDING (1024 * 1024)
#define STREAM_READ_BLOCK 4096

/* ---- the body, as libmicrohttpd reads it ---------------------------------------------------- */

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    hcp_exchange_t *ex = cls;
    exchange_stream_t *st = &ex->stream;
    size_t n = st->len - st->off;

    (void)pos;
    if (st->is_broken)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    if (ex->state == EX_CANCELLED) /* the client left: nothing is lost, and nothing to say */
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (n > 0) {
        n = n < max ? n : max;
        memcpy(buf, st->buf + st->off, n);
        st->off += n;
        if (st->off == st->len)
            st->off = st->len = 0;
        return (ssize_t)n;
    }
    if (st->is_over)
        return MHD_CONTENT_READER_END_OF_STREAM;
    /* Nothing to write: the connection sleeps until the next bytes (hcp_exchange_resume()). */
    MHD_suspend_connection(ex->conn);
    ex->is_suspended = true;
    st->is_reader_waiting = true;
    hcp_exchange_watch_hangup(ex);
    return 0;
}

static void wake(hcp_exchange_t *ex)
{
    if (ex->stream.is_reader_waiting) {
        ex->stream.is_reader_waiting = false;
        hcp_exchange_resume(ex);
    }
}

/* |bytes| after what is waiting; false when the client is too slow to take them. */
static bool append(exchange_stream_t *st, hcm_bytes_t bytes)
{
    size_t need = st->len + bytes.len;

    if (need - st->off > STREAM_MAX_PENDING)
        return false;
    if (st->off > 0 && need > st->cap) { /* what was written goes first */
        memmove(st->buf, st->buf + st->off, st->len - st->off);
        st->len -= st->off;
        st->off = 0;
        need = st->len + bytes.len;
    }
    if (need > st->cap) {
        size_t cap = st->cap > 0 ? st->cap : 1024;
        uint8_t *grown;
        while (cap < need)
            cap *= 2;
        if ((grown = realloc(st->buf, cap)) == NULL)
            return false;
        st->buf = grown;
        st->cap = cap;
    }
    memcpy(st->buf + st->len, bytes.p, bytes.len);
    st->len += bytes.len;
    return true;
}

/* ---- the heartbeat ----------------------------------------------------------------------------- */

static void on_heartbeat(uv_timer_t *timer)
{
    hcp_exchange_t *ex = timer->data;
    uint64_t interval = (uint64_t)ex->proxy->cfg->observe_heartbeat_s * 1000;

    if (ex->stream.is_over || ex->stream.kind != HCM_STREAM_SSE)
        return;
    if (uv_now(ex->proxy->loop) - ex->stream.last_write_ms + 10 >= interval) {
        ex->stream.last_write_ms = uv_now(ex->proxy->loop);
        if (append(&ex->stream, hcm_sse_comment()))
            wake(ex);
    }
}

/* ---- what observe.c says --------------------------------------------------------------------- */

static void on_refused(void *data, const hcm_coap_msg_t *msg, int err)
{
    hcp_exchange_t *ex = data;

    ex->stream.sub = NULL;
    if (msg != NULL)
        hcp_exchange_on_coap_response(ex, msg);
    else
        hcp_exchange_fail(ex, err);
}

static void on_open(void *data, const char *content_type)
{
    hcp_exchange_t *ex = data;
    uint64_t heartbeat = (uint64_t)ex->proxy->cfg->observe_heartbeat_s * 1000;
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_READ_BLOCK,
                                                               stream_reader, ex, NULL);

    if (r != NULL) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        /* nginx would otherwise hold the events back in its buffer. */
        MHD_add_response_header(r, "X-Accel-Buffering", "no");
    }
    /* Open even without a response: the connection then closes (hcp_exchange_queue_answer()),
     * and the subscription goes when libmicrohttpd says so, not from within observe.c's call. */
    ex->stream.is_open = true;
    ex->stream.is_broken = r == NULL;
    ex->stream.last_write_ms = uv_now(ex->proxy->loop);
    hcp_exchange_answer(ex, r, MHD_HTTP_OK);
    if (r != NULL)
        uv_timer_start(&ex->timer, on_heartbeat, heartbeat, heartbeat);
}

static void on_bytes(void *data, hcm_bytes_t bytes)
{
    hcp_exchange_t *ex = data;
    exchange_stream_t *st = &ex->stream;

    if (st->is_broken)
        return;
    st->last_write_ms = uv_now(ex->proxy->loop);
    if (!append(st, bytes)) {
        hcp_log(HCC_LOG_INFO, ex->id, "observe: the client reads too slowly (%zu bytes not yet "
                "taken): its stream ends", st->len - st->off);
        st->is_broken = true;
    }
    wake(ex);
}

static void on_close(void *data)
{
    hcp_exchange_t *ex = data;

    hcp_log(HCC_LOG_INFO, ex->id, "observe: the observation is over: the stream ends");
    ex->stream.sub = NULL;
    ex->stream.is_over = true;
    wake(ex);
}

static const hcp_observe_handler_t handler = {on_refused, on_open, on_bytes, on_close};

/* ---- the exchange's calls ------------------------------------------------------------------- */

void hcp_exchange_stream_start(hcp_exchange_t *ex, const struct sockaddr *addr)
{
    const union MHD_ConnectionInfo *client =
        MHD_get_connection_info(ex->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    hcp_observe_request_t req = {
        .server = addr,
        .target = &ex->target,
        .msg = &ex->msg,
        .info = ex->info,
        .stream = ex->stream.kind,
        .client = client != NULL ? client->client_addr : NULL,
        .exchange = ex->id,
    };
    int err = req.client == NULL ? HCM_EINTERNAL
                                 : hcp_observe_join(ex->proxy->observe, &req, &handler, ex,
                                                    &ex->stream.sub);

    if (err < 0)
        hcp_exchange_fail(ex, err);
}

void hcp_exchange_stream_stop(hcp_exchange_t *ex)
{
    if (ex->stream.sub != NULL) {
        if (ex->stream.is_open)
            hcp_log(HCC_LOG_INFO, ex->id, "observe: the stream's client left: it ends");
        hcp_observe_leave(ex->stream.sub);
        ex->stream.sub = NULL;
    }
    ex->stream.is_over = true;
}

void hcp_exchange_stream_free(hcp_exchange_t *ex)
{
    free(ex->stream.buf);
    ex->stream.buf = NULL;
}

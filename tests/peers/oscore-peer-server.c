/* oscore-peer server: a CoAP server that is the OSCORE server (RFC 8613 s8.2, s8.3) of
 * the contexts given with -c (default c1, Appendix C.1: Sender ID 01, Recipient ID empty).
 *
 * Every outer request goes to one handler. It verifies the OSCORE request, serves the inner one
 *   GET /hello      2.05, Content-Format 0, "Hello World!"
 *   POST /echo      2.04 with the request payload and its Content-Format
 *   GET /big?n=N    2.05 with N bytes (i % 256)
 *   GET /obs        2.05 "n=<notifications sent>"; with Observe, an observation (see below)
 *   anything else   4.04 "Not Found"
 * and answers outer 2.04 Changed with an empty OSCORE option and the ciphertext (s4.2). Failures
 * before decryption are answered unprotected, without OSCORE option (s8.2, s7.4):
 *   no OSCORE option 4.01, malformed option 4.02, unknown kid 4.01, replay 4.01, bad tag 4.00.
 *
 * With --vector c7|c8 it answers every OSCORE request with the RFC 8613 Appendix C.7 or C.8
 * protected response instead, byte for byte; with --record FILE it writes every request, as it
 * arrived, into FILE ("code:0.02", "opt:N:HEX" per option in order, "payload:HEX").
 *
 * The transport is oscore-peer-udp.c's (libcoap 4.3.2 and later would decrypt, or drop, the
 * request before this server saw it): outer block-wise bodies (RFC 7959) reach the handler
 * reassembled, and large responses go out as outer Block2, as s4.1.3.4 allows an intermediary
 * to fragment. */
#include "oscore-peer.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
    CODE_CHANGED = 0x44,
    CODE_CONTENT = 0x45,
    CODE_NOT_FOUND = 0x84,
    CODE_UNAUTHORIZED = 0x81,
    CODE_BAD_OPTION = 0x82,
    CF_TEXT_PLAIN = 0,
    CF_OCTET_STREAM = 42,
    BIG_MAX = 1 << 20,    /* GET /big answers at most this many bytes */
    MAX_OBSERVATIONS = 4, /* of GET /obs at once, each its own registration */
};

/* A notification as sent: kept for --replay-notification. */
typedef struct notification {
    osc_sealed_t sealed;
    uint8_t observe[4]; /* the outer Observe value */
    size_t observe_len;
    bool is_final;      /* the final response, without Observe */
} notification_t;

/* An observation of GET /obs (RFC 7641): one per registration, so that two observers that
 * register each get notifications of their own; a registration with the token and the address of
 * one held replaces it (RFC 7641 s4.1). */
typedef struct observation {
    bool is_active;
    osc_ctx_t *ctx;
    osc_binding_t bind; /* the registration's kid and Partial IV: every notification's AAD (s5.4) */
    uint8_t token[8];
    size_t token_len;
    peer_udp_endpoint_t observer;
    unsigned long sent;    /* notifications so far, the registration's answer included */
    uint64_t due_ms;       /* when the next one goes out (CLOCK_MONOTONIC) */
    uint16_t con_mid;      /* the last confirmable notification's: a Reset to it cancels */
    notification_t last[2]; /* the last one sent, and the one before */
} observation_t;

typedef struct server {
    osc_ctx_t ctxs[PEER_MAX_CONTEXTS];
    size_t nctxs;
    uint64_t seqs[PEER_MAX_CONTEXTS]; /* the server's Sender Sequence Numbers (s7.2.1) */
    unsigned long served;
    osc_sealed_t sealed; /* the last protected answer, until the transport has copied it */
    const peer_args_t *args; /* --vector, --record, and the notification options */
    observation_t obs[MAX_OBSERVATIONS];
    uint8_t max_age[4]; /* --max-age, encoded */
    size_t max_age_len;
} server_t;

/* ---- the inner resources ------------------------------------------------------------------- */

/* An inner response; |owned| is freed after protection. */
typedef struct reply {
    uint8_t code;
    int content_format; /* or PEER_CF_NONE */
    bool is_notification; /* with the inner Observe, empty (s4.1.3.5.2) */
    osc_bytes_t payload;
    uint8_t *owned;
} reply_t;

static void serve_hello(const osc_coap_t *req, reply_t *out)
{
    static const char hello[] = "Hello World!";

    (void)req;
    *out = (reply_t){CODE_CONTENT, CF_TEXT_PLAIN, false, {(const uint8_t *)hello, sizeof hello - 1}, NULL};
}

static void serve_echo(const osc_coap_t *req, reply_t *out)
{
    const osc_coap_option_t *cf = osc_coap_find(req, COAP_OPTION_CONTENT_FORMAT);

    *out = (reply_t){CODE_CHANGED, cf ? (int)osc_coap_uint_decode(cf->value) : PEER_CF_NONE,
                     false, req->payload, NULL};
}

static void serve_big(const osc_coap_t *req, reply_t *out)
{
    unsigned long n = 0;
    char text[16];

    for (size_t i = 0; i < req->nopts; i++) {
        const osc_coap_option_t *o = &req->opts[i];
        if (o->number != COAP_OPTION_URI_QUERY || o->value.len < 2 || o->value.len > 15 ||
            memcmp(o->value.p, "n=", 2) != 0)
            continue;
        /* A copy: the value is not NUL-terminated, and the next plaintext byte may be a digit. */
        memcpy(text, o->value.p + 2, o->value.len - 2);
        text[o->value.len - 2] = '\0';
        n = strtoul(text, NULL, 10);
    }
    if (n > BIG_MAX)
        n = BIG_MAX;
    *out = (reply_t){CODE_CONTENT, CF_OCTET_STREAM, false, {NULL, 0}, malloc(n ? n : 1)};
    if (out->owned == NULL) {
        out->code = 0xa0; /* 5.00 */
        return;
    }
    for (size_t i = 0; i < n; i++)
        out->owned[i] = (uint8_t)i;
    out->payload = (osc_bytes_t){out->owned, n};
}

static const struct route {
    uint8_t method;
    const char *path;
    void (*serve)(const osc_coap_t *req, reply_t *out);
} routes[] = {
    {COAP_REQUEST_CODE_GET, "hello", serve_hello},
    {COAP_REQUEST_CODE_POST, "echo", serve_echo},
    {COAP_REQUEST_CODE_GET, "big", serve_big},
};

/* Whether the inner Uri-Path is exactly the one segment |path|. */
static bool has_path(const osc_coap_t *req, const char *path)
{
    size_t segments = 0;
    bool is_match = false;

    for (size_t i = 0; i < req->nopts; i++) {
        if (req->opts[i].number != COAP_OPTION_URI_PATH)
            continue;
        segments++;
        is_match = req->opts[i].value.len == strlen(path) &&
                   memcmp(req->opts[i].value.p, path, req->opts[i].value.len) == 0;
    }
    return segments == 1 && is_match;
}

static void serve_inner(const osc_coap_t *req, reply_t *out)
{
    static const char not_found[] = "Not Found";

    for (size_t i = 0; i < OSC_COUNTOF(routes); i++) {
        if (routes[i].method == req->code && has_path(req, routes[i].path)) {
            routes[i].serve(req, out);
            return;
        }
    }
    *out = (reply_t){CODE_NOT_FOUND, PEER_CF_NONE, false,
                     {(const uint8_t *)not_found, sizeof not_found - 1}, NULL};
}

/* ---- the outer exchange -------------------------------------------------------------------- */

static void answer_plain(osc_coap_t *answer, uint8_t code, const char *diagnostic)
{
    *answer = (osc_coap_t){.code = code,
                           .payload = {(const uint8_t *)diagnostic, strlen(diagnostic)}};
}

/* Protects |reply| for the request |bind| into sealed, with the Partial IV of *seq or none
 * (seq NULL); 0 or an OSC_E* code. */
static int protect_reply(const osc_ctx_t *ctx, const osc_binding_t *bind, const reply_t *reply,
                         const uint64_t *seq, osc_sealed_t *sealed)
{
    osc_coap_t m = {.code = reply->code, .payload = reply->payload};
    uint8_t cf[4];
    osc_writer_t w = {0};
    int rc;

    if (reply->is_notification)
        osc_coap_add_option(&m, COAP_OPTION_OBSERVE, (osc_bytes_t){NULL, 0});
    if (reply->content_format != PEER_CF_NONE)
        osc_coap_add_option(&m, COAP_OPTION_CONTENT_FORMAT,
                            (osc_bytes_t){cf, osc_coap_uint_encode((uint32_t)reply->content_format, cf)});
    osc_coap_encode(&m, OSC_FORM_PLAINTEXT, &w);
    w.p = malloc(w.len);
    if (w.p == NULL)
        return OSC_ENOMEM;
    w.cap = w.len;
    w.len = 0;
    osc_coap_encode(&m, OSC_FORM_PLAINTEXT, &w);
    rc = osc_protect_response(ctx, bind, seq, (osc_bytes_t){w.p, w.len}, sealed);
    free(w.p);
    return rc;
}

static void log_request(server_t *srv, const osc_coap_t *inner, const reply_t *reply)
{
    char code[8];

    srv->served++;
    printf("request %lu: inner %s", srv->served, peer_code_text(inner->code, code));
    for (size_t i = 0; i < inner->nopts; i++)
        if (inner->opts[i].number == COAP_OPTION_URI_PATH)
            printf(" /%.*s", (int)inner->opts[i].value.len, (const char *)inner->opts[i].value.p);
    printf(" (%zu bytes) -> %s (%zu bytes)\n", inner->payload.len,
           peer_code_text(reply->code, code), reply->payload.len);
    fflush(stdout);
}

/* Protects |reply| (freeing what it owns) into the answer. s4.2: a protected answer is outer
 * 2.04 Changed with an empty OSCORE option (no Partial IV), the ciphertext, and no Content-Format. */
static void answer_protected(server_t *srv, const osc_ctx_t *ctx, const osc_binding_t *bind,
                             reply_t *reply, osc_coap_t *answer)
{
    int rc = protect_reply(ctx, bind, reply, NULL, &srv->sealed);

    free(reply->owned);
    if (rc != 0) {
        answer_plain(answer, osc_err_code(rc), osc_strerror(rc));
        return;
    }
    *answer = (osc_coap_t){.code = CODE_CHANGED,
                           .payload = {srv->sealed.ciphertext, srv->sealed.ciphertext_len}};
    osc_coap_add_option(answer, OSC_COAP_OSCORE, (osc_bytes_t){NULL, 0});
}

/* ---- GET /obs: Observe (RFC 7641) through OSCORE (RFC 8613 s4.1.3.5) ------------------------
 *
 * A registration carries Observe 0 both inner and outer (s4.1.3.5.1; its outer code is FETCH,
 * s4.2). It is answered with notification 1; notifications 2 to --count follow every
 * --interval-ms as confirmable messages, then a final response without Observe ends the
 * observation (RFC 7641 s3.2). Each is protected with the server's own next Sender Sequence Number
 * as Partial IV (s4.1.3.5.2, s8.3) and bound to the registration's kid and Partial IV (s5.4):
 * outer 2.05 with the outer Observe set to the Partial IV (s4.1.3.5.2 allows it; it increases as
 * RFC 7641 s4.4 wants), inner 2.05 with an empty inner Observe, Content-Format 0 and "n=<k>". The
 * final response is outer 2.04, inner 2.05 "end". A deregistration (Observe 1, s4.1.3.5.1), or a
 * Reset to the last confirmable notification (RFC 7641 s3.6), ends it sooner. On loopback nothing
 * is lost, so a confirmable notification is not retransmitted: the next one replaces it (RFC 7641
 * s4.5.2). Up to MAX_OBSERVATIONS registrations are served at once, each with notifications of
 * its own; every log line about one names its token. */

static uint64_t now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

/* The token as hex, for the log: it tells one observation from another. */
static const char *token_hex(const observation_t *o, char out[2 * 8 + 1])
{
    osc_hex_encode((osc_bytes_t){o->token, o->token_len}, out);
    return out;
}

static void end_observation(observation_t *o, const char *why)
{
    char token[2 * 8 + 1];

    if (!o->is_active)
        return;
    o->is_active = false;
    for (size_t i = 0; i < OSC_COUNTOF(o->last); i++)
        osc_sealed_free(&o->last[i].sealed);
    printf("observation ended: %s after %lu notifications (token %s)\n", why, o->sent,
           token_hex(o, token));
    fflush(stdout);
}

/* --record-notifications PREFIX: PREFIX<k>.header holds the OSCORE header value of notification
 * k as HTTP carries it (RFC 8613 s11.2), PREFIX<k>.body its ciphertext. */
static void record_notification(const char *prefix, unsigned long k, const osc_sealed_t *sealed)
{
    char path[4096], header[OSC_HEADER_MAX];

    osc_header_from_option((osc_bytes_t){sealed->option, sealed->option_len}, header);
    snprintf(path, sizeof path, "%s%lu.header", prefix, k);
    peer_write_file(path, (osc_bytes_t){(const uint8_t *)header, strlen(header)});
    snprintf(path, sizeof path, "%s%lu.body", prefix, k);
    peer_write_file(path, (osc_bytes_t){sealed->ciphertext, sealed->ciphertext_len});
}

/* The outer message of |n| (the final response when it has no Observe). --max-age S adds an
 * outer Max-Age (Class U as well as E, s4.1.3.1) to each notification: what an intermediary
 * reads as its freshness (RFC 7641 s3.3.1). */
static void outer_notification(const server_t *srv, const notification_t *n, osc_coap_t *m)
{
    *m = (osc_coap_t){.code = n->is_final ? CODE_CHANGED : CODE_CONTENT,
                      .payload = {n->sealed.ciphertext, n->sealed.ciphertext_len}};
    if (!n->is_final)
        osc_coap_add_option(m, COAP_OPTION_OBSERVE, (osc_bytes_t){n->observe, n->observe_len});
    osc_coap_add_option(m, OSC_COAP_OSCORE, (osc_bytes_t){n->sealed.option, n->sealed.option_len});
    if (!n->is_final && srv->args->has_max_age)
        osc_coap_add_option(m, COAP_OPTION_MAXAGE,
                            (osc_bytes_t){srv->max_age, srv->max_age_len});
}

/* Protects |o|'s next notification (or the final response once --count are out) into
 * o->last[0], the one before moving to o->last[1], and fills its outer message into |m|. 0 or
 * OSC_E*. With several observations, --record-notifications records the first one's only. */
static int next_notification(server_t *srv, observation_t *o, osc_coap_t *m)
{
    bool is_final = o->sent == srv->args->count;
    char text[32];
    int len = is_final ? snprintf(text, sizeof text, "end")
                       : snprintf(text, sizeof text, "n=%lu", o->sent + 1);
    reply_t reply = {CODE_CONTENT, CF_TEXT_PLAIN, !is_final, {(const uint8_t *)text, (size_t)len},
                     NULL};
    uint64_t seq = srv->seqs[o->ctx - srv->ctxs]++;
    notification_t *n = &o->last[0];
    int rc;

    osc_sealed_free(&o->last[1].sealed);
    o->last[1] = *n;
    *n = (notification_t){.is_final = is_final};
    rc = protect_reply(o->ctx, &o->bind, &reply, &seq, &n->sealed);
    if (rc != 0)
        return rc;
    if (!is_final) {
        o->sent++;
        if (srv->args->tamper_notification == o->sent) /* a forgery the client must refuse */
            n->sealed.ciphertext[0] ^= 0x01;
        if (srv->args->record_notifications != NULL && o == &srv->obs[0])
            record_notification(srv->args->record_notifications, o->sent, &n->sealed);
        n->observe_len = osc_coap_uint_encode((uint32_t)(seq & 0xffffff), n->observe);
    }
    printf("notification %s piv=%llu\n", is_final ? "final" : text, (unsigned long long)seq);
    fflush(stdout);
    outer_notification(srv, n, m);
    return 0;
}

/* A Reset to an observation's last confirmable notification cancels it (RFC 7641 s3.6). */
static void on_empty(void *arg, const osc_coap_t *m)
{
    server_t *srv = arg;

    for (size_t i = 0; m->type == 3 && i < OSC_COUNTOF(srv->obs); i++)
        if (srv->obs[i].is_active && m->mid == srv->obs[i].con_mid)
            end_observation(&srv->obs[i], "reset by the client");
}

/* Sends |o|'s notification if it is due; returns the milliseconds until its next one, or -1. */
static int tick_one(server_t *srv, peer_udp_t *udp, observation_t *o)
{
    uint64_t now = now_ms();
    osc_coap_t m;

    if (!o->is_active)
        return -1;
    if (now < o->due_ms)
        return (int)(o->due_ms - now);
    o->due_ms = now + srv->args->interval_ms;
    if (next_notification(srv, o, &m) != 0) {
        end_observation(o, "protection failed");
        return -1;
    }
    m.type = 0; /* CON, so that the client can Reset it */
    m.token = (osc_bytes_t){o->token, o->token_len};
    o->con_mid = peer_udp_send(udp, &o->observer, &m);
    if (srv->args->replay_notification == o->sent && o->last[1].sealed.ciphertext != NULL) {
        outer_notification(srv, &o->last[1], &m); /* an old one again: the client's s7.4.1 check */
        m.type = 0;
        m.token = (osc_bytes_t){o->token, o->token_len};
        peer_udp_send(udp, &o->observer, &m);
        printf("notification n=%lu sent again\n", o->sent - 1);
        fflush(stdout);
    }
    if (o->last[0].is_final)
        end_observation(o, "final response sent");
    return o->is_active ? (int)srv->args->interval_ms : -1;
}

/* Sends the notifications that are due; returns the milliseconds until the next one, or -1. */
static int on_tick(void *arg, peer_udp_t *udp)
{
    server_t *srv = arg;
    int wait = -1;

    for (size_t i = 0; i < OSC_COUNTOF(srv->obs); i++) {
        int w = tick_one(srv, udp, &srv->obs[i]);
        if (w >= 0 && (wait < 0 || w < wait))
            wait = w;
    }
    return wait;
}

/* Whether |req| (outer) and |inner| both carry Observe |value|. */
static bool has_observe(const osc_coap_t *m, uint32_t value)
{
    const osc_coap_option_t *o = osc_coap_find(m, COAP_OPTION_OBSERVE);

    return o != NULL && osc_coap_uint_decode(o->value) == value;
}

/* The active observation of |req|'s token from the client of the request being handled, or
 * NULL. */
static observation_t *find_observation(server_t *srv, peer_udp_t *udp, const osc_coap_t *req)
{
    peer_udp_endpoint_t from;

    peer_udp_client(udp, &from);
    for (size_t i = 0; i < OSC_COUNTOF(srv->obs); i++) {
        observation_t *o = &srv->obs[i];
        if (o->is_active && o->token_len == req->token.len &&
            memcmp(o->token, req->token.p, o->token_len) == 0 && o->observer.len == from.len &&
            memcmp(&o->observer.addr, &from.addr, from.len) == 0)
            return o;
    }
    return NULL;
}

/* Where a registration goes: the observation it replaces (same token and client, RFC 7641
 * s4.1), else a free one, else the first (replaced: this server holds MAX_OBSERVATIONS). */
static observation_t *slot_for(server_t *srv, peer_udp_t *udp, const osc_coap_t *req)
{
    observation_t *o = find_observation(srv, udp, req);

    for (size_t i = 0; o == NULL && i < OSC_COUNTOF(srv->obs); i++)
        if (!srv->obs[i].is_active)
            o = &srv->obs[i];
    return o != NULL ? o : &srv->obs[0];
}

static void register_observer(server_t *srv, peer_udp_t *udp, const osc_coap_t *req,
                              osc_ctx_t *ctx, const osc_binding_t *bind, osc_coap_t *answer)
{
    observation_t *o = slot_for(srv, udp, req);
    char code[8], token[2 * 8 + 1];

    end_observation(o, "replaced by a new registration");
    o->is_active = true;
    o->ctx = ctx;
    o->bind = *bind;
    o->token_len = req->token.len <= sizeof o->token ? req->token.len : sizeof o->token;
    memcpy(o->token, req->token.p, o->token_len);
    peer_udp_client(udp, &o->observer);
    o->sent = 0;
    o->due_ms = now_ms() + srv->args->interval_ms;
    printf("observe registered: outer %s with outer Observe 0 (token %s)\n",
           peer_code_text(req->code, code), token_hex(o, token));
    fflush(stdout);
    if (next_notification(srv, o, answer) != 0) {
        answer_plain(answer, 0xa0, "protection failed");
        end_observation(o, "protection failed");
        return;
    }
    if (o->last[0].is_final)
        end_observation(o, "final response sent");
}

/* GET /obs: a registration, a deregistration, or a plain GET of the state "n=<k>". */
static void serve_observe(server_t *srv, peer_udp_t *udp, const osc_coap_t *req, osc_ctx_t *ctx,
                          const osc_binding_t *bind, const osc_coap_t *inner, osc_coap_t *answer)
{
    observation_t *o = find_observation(srv, udp, req);
    char text[32];
    reply_t reply = {CODE_CONTENT, CF_TEXT_PLAIN, false, {(const uint8_t *)text, 0}, NULL};

    if (has_observe(inner, 0) && has_observe(req, 0)) {
        register_observer(srv, udp, req, ctx, bind, answer);
        return;
    }
    if (has_observe(inner, 0)) { /* RFC 7641 s4.1: not registered, answered once */
        printf("observe refused: no outer Observe 0 (RFC 8613 s4.1.3.5.1)\n");
        fflush(stdout);
    }
    reply.payload.len = (size_t)snprintf(text, sizeof text, "n=%lu", o != NULL ? o->sent : 0);
    if (has_observe(inner, 1) && o != NULL)
        end_observation(o, "deregistered");
    log_request(srv, inner, &reply);
    answer_protected(srv, ctx, bind, &reply, answer);
}

/* Verifies and serves; answers unprotected errors itself (s8.2, s7.4). */
static void serve_oscore(server_t *srv, peer_udp_t *udp, const osc_coap_t *req,
                         osc_bytes_t option, osc_bytes_t ciphertext, osc_coap_t *answer)
{
    uint8_t *plain = malloc(ciphertext.len ? ciphertext.len : 1);
    osc_binding_t bind;
    osc_ctx_t *ctx;
    osc_coap_t inner;
    reply_t reply;
    size_t plain_len;
    int rc = plain ? osc_verify_request(srv->ctxs, srv->nctxs, option, ciphertext, &ctx, &bind,
                                        plain, &plain_len)
                   : OSC_ENOMEM;

    if (rc == 0 && osc_coap_decode((osc_bytes_t){plain, plain_len}, OSC_FORM_PLAINTEXT, &inner) < 0)
        rc = OSC_EDECODE; /* s8.2 step 7 leaves it open; a bad plaintext is a decode failure */
    if (rc != 0) {
        printf("request refused: %s\n", osc_strerror(rc));
        fflush(stdout);
        answer_plain(answer, osc_err_code(rc), osc_strerror(rc));
    } else if (inner.code == COAP_REQUEST_CODE_GET && has_path(&inner, "obs")) {
        serve_observe(srv, udp, req, ctx, &bind, &inner, answer);
    } else {
        serve_inner(&inner, &reply);
        log_request(srv, &inner, &reply);
        answer_protected(srv, ctx, &bind, &reply, answer);
    }
    free(plain);
}

/* ---- --vector: RFC 8613 Appendix C.7 and C.8, the protected responses to the C.4 request ---- */

static const struct {
    const char *name;
    uint8_t option[2];
    size_t option_len;
    uint8_t ciphertext[22];
} vectors[] = {
    {"c7", {0}, 0, {0xdb, 0xaa, 0xd1, 0xe9, 0xa7, 0xe7, 0xb2, 0xa8, 0x13, 0xd3, 0xc3,
                    0x15, 0x24, 0x37, 0x83, 0x03, 0xcd, 0xaf, 0xae, 0x11, 0x91, 0x06}},
    {"c8", {0x01, 0x00}, 2, {0x4d, 0x4c, 0x13, 0x66, 0x93, 0x84, 0xb6, 0x73, 0x54, 0xb2, 0xb6,
                             0x17, 0x5f, 0xf4, 0xb8, 0x65, 0x8c, 0x66, 0x6a, 0x6c, 0xf8, 0x8e}},
};

/* The request as it arrived, into |path|: "code:0.02", then "opt:N:HEX" per option in order,
 * then "payload:HEX", for a test to compare with the bytes it expects. */
static void record_request(const char *path, const osc_coap_t *req, osc_bytes_t body)
{
    FILE *f = fopen(path, "w");
    char code[8];

    if (f == NULL)
        return;
    fprintf(f, "code:%s\n", peer_code_text(req->code, code));
    for (size_t i = 0; i < req->nopts; i++) {
        fprintf(f, "opt:%u:", req->opts[i].number);
        for (size_t j = 0; j < req->opts[i].value.len; j++)
            fprintf(f, "%02x", req->opts[i].value.p[j]);
        fputc('\n', f);
    }
    fputs("payload:", f);
    for (size_t i = 0; i < body.len; i++)
        fprintf(f, "%02x", body.p[i]);
    fputc('\n', f);
    fclose(f);
}

static bool answer_vector(const char *name, osc_coap_t *answer)
{
    for (size_t i = 0; i < OSC_COUNTOF(vectors); i++) {
        if (strcmp(name, vectors[i].name) != 0)
            continue;
        *answer = (osc_coap_t){.code = CODE_CHANGED,
                               .payload = {vectors[i].ciphertext, sizeof vectors[i].ciphertext}};
        osc_coap_add_option(answer, OSC_COAP_OSCORE,
                            (osc_bytes_t){vectors[i].option, vectors[i].option_len});
        return true;
    }
    return false;
}

/* ---- requests ------------------------------------------------------------------------------ */

static void on_request(void *arg, peer_udp_t *udp, const osc_coap_t *req, osc_bytes_t body,
                       osc_coap_t *answer)
{
    server_t *srv = arg;
    const osc_coap_option_t *opt = osc_coap_find(req, OSC_COAP_OSCORE);

    osc_sealed_free(&srv->sealed); /* the last answer's: the transport has its own copy */
    if (srv->args->record != NULL)
        record_request(srv->args->record, req, body);
    if (opt == NULL)
        answer_plain(answer, CODE_UNAUTHORIZED, "OSCORE required");
    else if (opt->value.len > OSC_OPTION_MAX)
        answer_plain(answer, CODE_BAD_OPTION, osc_strerror(OSC_EDECODE));
    else if (srv->args->vector != NULL && !answer_vector(srv->args->vector, answer))
        answer_plain(answer, CODE_NOT_FOUND, "no such test vector");
    else if (srv->args->vector == NULL)
        serve_oscore(srv, udp, req, opt->value, body, answer);
}

/* ---- setup --------------------------------------------------------------------------------- */

static int load_contexts(const peer_args_t *args, server_t *srv)
{
    for (size_t i = 0; i < args->ncontexts; i++)
        if (peer_context(args->contexts[i], true, &srv->ctxs[i]) < 0)
            return -1;
    srv->nctxs = args->ncontexts;
    return 0;
}

int peer_server(const peer_args_t *args)
{
    static server_t srv;
    peer_udp_hooks_t hooks = {on_request, on_empty, on_tick, &srv};
    int rc;

    if (load_contexts(args, &srv) < 0)
        return 2;
    srv.args = args;
    srv.max_age_len = osc_coap_uint_encode((uint32_t)args->max_age, srv.max_age);
    rc = peer_udp_serve(args->address, args->port, args->verbose, &hooks);
    for (size_t i = 0; i < OSC_COUNTOF(srv.obs); i++)
        end_observation(&srv.obs[i], "server stopped");
    osc_sealed_free(&srv.sealed);
    return rc;
}

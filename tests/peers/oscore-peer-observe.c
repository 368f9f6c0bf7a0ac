/* oscore-peer observe and verify-notification: the OSCORE client of an observation (RFC 7641
 * through RFC 8613 s4.1.3.5).
 *
 * observe registers with GET --path carrying Observe 0 inner and outer (s4.1.3.5.1), outer code
 * FETCH (s4.2), over UDP on a socket of its own (as oscore-peer-udp.c, so that no libcoap version
 * touches the OSCORE bytes or answers notifications for us). Each notification is verified as a
 * response to the registration (s8.4: its own Partial IV and the server's Sender ID make the
 * nonce, the registration's kid and Partial IV the AAD) and must carry a Partial IV greater than
 * the Notification Number, the largest one accepted so far (s4.1.3.5.2, s7.4.1). Where s7.4.1
 * only discards such a notification, this test client fails: a replay or a reordering is what it
 * is there to find. It prints one line per notification,
 *   notification piv=3 observe=3 code=2.05 payload=n=2
 * acknowledges confirmable ones, and exits 0 after --count of them; with --deregister it then
 * cancels with Observe 1 at --seq + 1 (s4.1.3.5.1: a new Partial IV) and prints the verified
 * answer as "deregistered code=2.05 cf=0 payload=n=3"; with --reset it answers the next
 * confirmable notification with a Reset instead (RFC 7641 s3.6). It exits 1 on a failed
 * verification, an order failure, an unprotected answer, a final response (no Observe) before
 * --count notifications, or no message within NOTIFICATION_WAIT_MS.
 *
 * verify-notification checks one notification that reached the client some other way (an HTTP
 * response part): --header is its OSCORE header value (s11.2), --body-file its ciphertext, --seq
 * the registration's sequence number, --last-piv the Notification Number (none: the first
 * notification). It prints "notification piv=3 code=2.05 payload=n=2", exits 0 or 1. */
#include "oscore-peer.h"

#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <unistd.h>

enum {
    NOTIFICATION_WAIT_MS = 10000, /* the longest wait for the next message */
    DATAGRAM_MAX = 1500,
    TYPE_CON = 0,
    TYPE_ACK = 2,
    TYPE_RST = 3,
};

/* The client's side of one observation: the Notification Number (s4.1.3.5.2). */
typedef struct observer {
    bool has_number;
    uint64_t number;
    unsigned long accepted;
} observer_t;

/* The inner notification as one line; 0, or 1 if the plaintext is not a CoAP message. */
static int print_notification(osc_bytes_t piv, const char *observe, osc_bytes_t plaintext)
{
    osc_coap_t m;
    char code[8];

    if (osc_coap_decode(plaintext, OSC_FORM_PLAINTEXT, &m) < 0) {
        fprintf(stderr, "oscore-peer: a decrypted notification is not a CoAP plaintext\n");
        return 1;
    }
    printf("notification piv=");
    if (piv.len > 0)
        printf("%llu", (unsigned long long)osc_seq_from_piv(piv));
    else
        printf("-");
    if (observe != NULL)
        printf(" observe=%s", observe);
    printf(" code=%s payload=", peer_code_text(m.code, code));
    peer_print_payload(stdout, m.payload);
    printf("\n");
    fflush(stdout);
    return 0;
}

/* Verifies one notification to the request |bind| and its order; prints it. |observe| is the
 * outer Observe value as text, or NULL when unknown. 0, or 1 (message printed). */
static int check_notification(const osc_ctx_t *ctx, const osc_binding_t *bind, observer_t *obs,
                              osc_bytes_t option, osc_bytes_t ciphertext, const char *observe)
{
    osc_option_t opt;
    uint8_t *plain;
    size_t plain_len = 0;
    uint64_t piv;
    int rc;

    if (osc_option_parse(option, &opt) < 0) {
        fprintf(stderr, "oscore-peer: notification %lu: %s\n", obs->accepted + 1,
                osc_strerror(OSC_EDECODE));
        return 1;
    }
    if (opt.piv.len == 0 && (obs->accepted > 0 || obs->has_number)) {
        fprintf(stderr, "oscore-peer: notification %lu has no Partial IV (RFC 8613 s4.1.3.5.2: "
                        "only the first may omit it)\n", obs->accepted + 1);
        return 1;
    }
    plain = malloc(ciphertext.len ? ciphertext.len : 1);
    rc = plain ? osc_verify_response(ctx, bind, option, ciphertext, plain, &plain_len) : OSC_ENOMEM;
    if (rc != 0) {
        fprintf(stderr, "oscore-peer: notification %lu: %s\n", obs->accepted + 1, osc_strerror(rc));
        free(plain);
        return 1;
    }
    piv = osc_seq_from_piv(opt.piv);
    if (opt.piv.len > 0 && obs->has_number && piv <= obs->number) {
        fprintf(stderr, "oscore-peer: notification with Partial IV %llu is not newer than the "
                        "Notification Number %llu: replayed or reordered (RFC 8613 s7.4.1)\n",
                (unsigned long long)piv, (unsigned long long)obs->number);
        free(plain);
        return 1;
    }
    rc = print_notification(opt.piv, observe, (osc_bytes_t){plain, plain_len});
    free(plain);
    if (rc != 0)
        return rc;
    if (opt.piv.len > 0) {
        obs->has_number = true;
        obs->number = piv;
    }
    obs->accepted++;
    return 0;
}

/* ---- verify-notification ------------------------------------------------------------------- */

int peer_verify_notification(const peer_args_t *args)
{
    osc_ctx_t ctx;
    osc_binding_t bind;
    observer_t obs = {.has_number = args->has_last_piv, .number = args->last_piv};
    uint8_t option[OSC_OPTION_MAX], *body;
    size_t option_len, body_len;
    int status;

    if (!args->has_seq || args->header == NULL || args->body_file == NULL) {
        fprintf(stderr, "oscore-peer verify-notification: --seq, --header and --body-file are "
                        "required\n");
        return 2;
    }
    if (osc_option_from_header(args->header, option, &option_len) < 0) {
        fprintf(stderr, "oscore-peer verify-notification: OSCORE header \"%s\" is not canonical "
                        "base64url\n", args->header);
        return 1;
    }
    if (peer_context(args->contexts[0], false, &ctx) < 0 ||
        peer_read_file(args->body_file, &body, &body_len) < 0)
        return 1;
    osc_binding_for_seq(&ctx, args->seq, &bind);
    status = check_notification(&ctx, &bind, &obs, (osc_bytes_t){option, option_len},
                                (osc_bytes_t){body, body_len}, NULL);
    free(body);
    return status;
}

/* ---- observe: the exchange over UDP -------------------------------------------------------- */

typedef struct session {
    int fd;
    uint8_t token[4];
    uint16_t next_mid;
} session_t;

static int open_session(const char *host, const char *port, session_t *s)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
    struct addrinfo *ai;

    if (getaddrinfo(host, port, &hints, &ai) != 0) {
        fprintf(stderr, "oscore-peer: bad address %s port %s (IP literals only)\n", host, port);
        return -1;
    }
    s->fd = socket(ai->ai_family, SOCK_DGRAM, 0);
    if (s->fd >= 0 && connect(s->fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        close(s->fd);
        s->fd = -1;
    }
    freeaddrinfo(ai);
    return s->fd >= 0 ? 0 : -1;
}

static void send_message(const session_t *s, const osc_coap_t *m)
{
    uint8_t buf[DATAGRAM_MAX];
    osc_writer_t w = {buf, sizeof buf, 0};

    osc_coap_encode(m, OSC_FORM_MESSAGE, &w);
    if (w.len <= w.cap && send(s->fd, buf, w.len, 0) < 0)
        perror("oscore-peer observe: send");
}

/* Protects the inner GET with Observe |observe| at args->seq and sends it as a CON FETCH with the
 * outer Observe (s4.1.3.5.1, s4.2). 0, or 1 (message printed). */
static int send_observe(session_t *s, const peer_args_t *args, osc_ctx_t *ctx, osc_binding_t *bind)
{
    osc_sealed_t sealed = {0};
    uint8_t observe[4];
    osc_coap_t m = {.type = TYPE_CON, .code = COAP_REQUEST_CODE_FETCH, .mid = s->next_mid++,
                    .token = {s->token, sizeof s->token}};

    if (peer_protect_request(args, "observe", ctx, &sealed, bind) != 0)
        return 1;
    osc_coap_add_option(&m, COAP_OPTION_OBSERVE,
                        (osc_bytes_t){observe, osc_coap_uint_encode((uint32_t)args->observe, observe)});
    osc_coap_add_option(&m, OSC_COAP_OSCORE, (osc_bytes_t){sealed.option, sealed.option_len});
    m.payload = (osc_bytes_t){sealed.ciphertext, sealed.ciphertext_len};
    send_message(s, &m);
    osc_sealed_free(&sealed);
    return 0;
}

/* The next message of the observation into |buf| / |m|: others are Reset, confirmable ones
 * acknowledged (or Reset, with |is_reset|), empty ACKs (a separate answer follows) skipped.
 * 0, or -1 on timeout. */
static int receive(session_t *s, uint8_t buf[DATAGRAM_MAX], osc_coap_t *m, bool is_reset)
{
    struct timespec start, now;
    long waited = 0;

    clock_gettime(CLOCK_MONOTONIC, &start);
    while (waited < NOTIFICATION_WAIT_MS) {
        struct pollfd p = {.fd = s->fd, .events = POLLIN};
        ssize_t n;

        if (poll(&p, 1, (int)(NOTIFICATION_WAIT_MS - waited)) > 0 &&
            (n = recv(s->fd, buf, DATAGRAM_MAX, 0)) > 0 &&
            osc_coap_decode((osc_bytes_t){buf, (size_t)n}, OSC_FORM_MESSAGE, m) == 0) {
            bool is_ours = m->token.len == sizeof s->token &&
                           memcmp(m->token.p, s->token, sizeof s->token) == 0;
            if (m->type == TYPE_CON) { /* RFC 7641 s3.5: ACK ours, Reset what we do not know */
                osc_coap_t reply = {.type = is_ours && !is_reset ? TYPE_ACK : TYPE_RST,
                                    .mid = m->mid};
                send_message(s, &reply);
            }
            if (is_ours || m->type == TYPE_RST)
                return 0;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        waited = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
    }
    return -1;
}

/* Why |m| is not a protected answer, or NULL. */
static const char *unprotected(const osc_coap_t *m)
{
    if (m->type == TYPE_RST)
        return "the server sent a Reset";
    if (osc_coap_find(m, OSC_COAP_OSCORE) == NULL)
        return "an answer without OSCORE option";
    return NULL;
}

static void report_unprotected(const osc_coap_t *m, const char *why)
{
    char code[8];

    fprintf(stderr, "oscore-peer observe: %s: code=%s payload=", why, peer_code_text(m->code, code));
    peer_print_payload(stderr, m->payload);
    fprintf(stderr, "\n");
}

/* Receives and verifies --count notifications. 0, or 1 (message printed). */
static int await_notifications(session_t *s, const peer_args_t *args, const osc_ctx_t *ctx,
                               const osc_binding_t *bind)
{
    observer_t obs = {0};
    uint8_t buf[DATAGRAM_MAX];
    osc_coap_t m;

    while (obs.accepted < args->count) {
        const osc_coap_option_t *observe, *oscore;
        char text[16];
        const char *why;

        if (receive(s, buf, &m, false) < 0) {
            fprintf(stderr, "oscore-peer observe: no notification %lu within %d ms\n",
                    obs.accepted + 1, NOTIFICATION_WAIT_MS);
            return 1;
        }
        if ((why = unprotected(&m)) != NULL) {
            report_unprotected(&m, why);
            return 1;
        }
        observe = osc_coap_find(&m, COAP_OPTION_OBSERVE);
        oscore = osc_coap_find(&m, OSC_COAP_OSCORE);
        if (observe == NULL) { /* RFC 7641 s3.2: a response without Observe ends it */
            fprintf(stderr, "oscore-peer observe: the observation ended after %lu of %lu "
                            "notifications\n", obs.accepted, args->count);
            return 1;
        }
        snprintf(text, sizeof text, "%u", (unsigned)osc_coap_uint_decode(observe->value));
        if (check_notification(ctx, bind, &obs, oscore->value, m.payload, text) != 0)
            return 1;
    }
    return 0;
}

/* --deregister: Observe 1 at the next sequence number; its answer carries no Observe. Late
 * notifications are acknowledged and passed over. 0, or 1 (message printed). */
static int deregister(session_t *s, const peer_args_t *args)
{
    peer_args_t cancel = *args;
    osc_ctx_t ctx;
    osc_binding_t bind;
    uint8_t buf[DATAGRAM_MAX];
    osc_coap_t m;
    const osc_coap_option_t *oscore;
    const char *why;

    cancel.seq = args->seq + 1;
    cancel.observe = 1;
    if (send_observe(s, &cancel, &ctx, &bind) != 0)
        return 1;
    do {
        if (receive(s, buf, &m, false) < 0) {
            fprintf(stderr, "oscore-peer observe: no answer to the deregistration\n");
            return 1;
        }
        if ((why = unprotected(&m)) != NULL) {
            report_unprotected(&m, why);
            return 1;
        }
    } while (osc_coap_find(&m, COAP_OPTION_OBSERVE) != NULL);
    oscore = osc_coap_find(&m, OSC_COAP_OSCORE);
    printf("deregistered ");
    return peer_finish_response(&cancel, &ctx, oscore->value, m.payload);
}

/* --reset: the next confirmable notification gets a Reset (RFC 7641 s3.6). 0, or 1. */
static int reset_next(session_t *s)
{
    uint8_t buf[DATAGRAM_MAX];
    osc_coap_t m;

    do {
        if (receive(s, buf, &m, true) < 0) {
            fprintf(stderr, "oscore-peer observe: no confirmable notification to reset\n");
            return 1;
        }
    } while (m.type != TYPE_CON);
    printf("reset a notification\n");
    return 0;
}

int peer_observe(const peer_args_t *args)
{
    peer_args_t reg = *args;
    session_t s = {.fd = -1, .next_mid = 1};
    osc_ctx_t ctx;
    osc_binding_t bind;
    int status = 1;

    if (args->path == NULL || !args->has_seq) {
        fprintf(stderr, "oscore-peer observe: --path and --seq are required\n");
        return 2;
    }
    reg.method = args->method != NULL ? args->method : "GET";
    reg.observe = 0;
    /* The token names the observation (RFC 7641 s3.1); the sequence number makes it unique. */
    for (size_t i = 0; i < sizeof s.token; i++)
        s.token[i] = (uint8_t)(args->seq >> (8 * (sizeof s.token - 1 - i)));
    if (open_session(args->address, args->port, &s) < 0)
        return 1;
    if (send_observe(&s, &reg, &ctx, &bind) == 0 && await_notifications(&s, &reg, &ctx, &bind) == 0)
        status = args->deregister ? deregister(&s, &reg) : args->reset ? reset_next(&s) : 0;
    close(s.fd);
    return status;
}

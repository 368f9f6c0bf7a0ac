/* The server side of CoAP over UDP for oscore-peer server (RFC 7252 s4, RFC 7959), on a socket
 * of its own rather than through libcoap.
 *
 * Why: libcoap 4.3.2 and later, when built with OSCORE (Debian 13's 4.3.4 is), try to decrypt
 * every request that carries an OSCORE option themselves, and drop it silently when the context
 * has no OSCORE configuration ("OSCORE: Not enabled"). This peer does its own OSCORE, and must
 * see the outer message as hcproxy sent it, on every libcoap version.
 *
 * What it does: a confirmable request is answered piggybacked in the ACK, a non-confirmable one
 * with a NON; a retransmitted CON (same message ID from the same client) gets the same answer
 * again. Outer Block1 bodies are reassembled (2.31 Continue for each block but the last), and an
 * answer larger than a block goes out in Block2 blocks, the later ones served from the stored
 * answer. One client at a time is enough: hcproxy sends one request to a server at a time
 * (NSTART 1). Notifications go out through peer_udp_send(); the client's ACK or Reset to one
 * reaches the on_empty hook, and on_tick runs the server's timers. With verbose set, each message
 * in and out is logged as one line in libcoap's style
 * ("v:1 t:CON c:POST i:1234 [ 9:, Block1:0/1/1024 ]"), so that a test can count blocks. */
#include "oscore-peer.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>
#include <unistd.h>

enum {
    OPT_BLOCK2 = 23,
    OPT_BLOCK1 = 27,
    CODE_CONTINUE = 0x5f,   /* 2.31 */
    CODE_INCOMPLETE = 0x88, /* 4.08 Request Entity Incomplete */
    DEFAULT_SZX = 6,        /* 1024-byte blocks */
    DATAGRAM_MAX = 1500,
    BODY_MAX = 1 << 21,
    REPLY_OPTIONS = 8,
    REPLY_OPTION_BYTES = 512,
};

typedef struct stored_reply {
    uint8_t code;
    osc_coap_option_t opts[REPLY_OPTIONS];
    size_t nopts;
    uint8_t opt_bytes[REPLY_OPTION_BYTES];
    uint8_t *payload;
    size_t payload_len;
    unsigned szx;
} stored_reply_t;

typedef struct peer_udp {
    int fd;
    bool verbose;
    peer_udp_hooks_t hooks;
    struct sockaddr_storage client;
    socklen_t client_len;
    uint16_t next_mid;
    bool has_last;
    uint16_t last_mid;
    uint8_t last_answer[DATAGRAM_MAX];
    size_t last_answer_len;
    uint8_t *body; /* Block1 reassembly */
    size_t body_len;
    stored_reply_t reply; /* the last answer, for its later Block2 blocks */
} udp_server_t;

static volatile sig_atomic_t is_stopping;

static void on_signal(int signum)
{
    (void)signum;
    is_stopping = 1;
}

/* ---- logging ------------------------------------------------------------------------------ */

static const char *const type_names[] = {"CON", "NON", "ACK", "RST"};
static const char *const method_names[] = {"0.00", "GET", "POST", "PUT", "DELETE",
                                           "FETCH", "PATCH", "iPATCH"};

static void log_block(uint32_t v, const char *name)
{
    printf("%s:%u/%u/%u", name, v >> 4, (v >> 3) & 1, 16u << (v & 7));
}

static void log_message(const udp_server_t *srv, const osc_coap_t *m)
{
    char code[8];

    if (!srv->verbose)
        return;
    printf("v:1 t:%s c:%s i:%04x [ ", type_names[m->type & 3],
           m->code < OSC_COUNTOF(method_names) ? method_names[m->code]
                                               : peer_code_text(m->code, code),
           m->mid);
    for (size_t i = 0; i < m->nopts; i++) {
        uint16_t n = m->opts[i].number;
        printf("%s", i ? ", " : "");
        if (n == OPT_BLOCK1 || n == OPT_BLOCK2) {
            log_block(osc_coap_uint_decode(m->opts[i].value),
                      n == OPT_BLOCK1 ? "Block1" : "Block2");
        } else {
            printf("%u:", n);
            for (size_t j = 0; j < m->opts[i].value.len; j++)
                printf("%02x", m->opts[i].value.p[j]);
        }
    }
    printf(" ] :: %zu bytes\n", m->payload.len);
    fflush(stdout);
}

/* ---- sending ------------------------------------------------------------------------------ */

/* Sends |m| (type and message ID set from the request) to the client, and keeps its bytes as
 * the answer to a retransmission of the request. */
static void send_answer(udp_server_t *srv, const osc_coap_t *req, osc_coap_t *m)
{
    osc_writer_t w = {srv->last_answer, sizeof srv->last_answer, 0};

    m->type = req->type == 0 ? 2 : 1; /* CON -> piggybacked ACK, NON -> NON */
    m->mid = req->type == 0 ? req->mid : srv->next_mid++;
    m->token = req->token;
    osc_coap_encode(m, OSC_FORM_MESSAGE, &w);
    if (w.len > w.cap) {
        fprintf(stderr, "oscore-peer server: an answer of %zu bytes does not fit a datagram\n",
                w.len);
        return;
    }
    log_message(srv, m);
    srv->has_last = req->type == 0;
    srv->last_mid = req->mid;
    srv->last_answer_len = w.len;
    sendto(srv->fd, w.p, w.len, 0, (struct sockaddr *)&srv->client, srv->client_len);
}

static void add_block(osc_coap_t *m, uint16_t number, uint32_t num, bool more, unsigned szx,
                      uint8_t buf[4])
{
    uint32_t v = num << 4 | (more ? 8u : 0u) | szx;

    osc_coap_add_option(m, number, (osc_bytes_t){buf, osc_coap_uint_encode(v, buf)});
}

/* Block |num| of the stored answer, with |extra| (the Block1 of the last upload block) if set. */
static void send_block(udp_server_t *srv, const osc_coap_t *req, uint32_t num,
                       const osc_coap_option_t *extra)
{
    const stored_reply_t *r = &srv->reply;
    size_t size = 16u << r->szx, off = (size_t)num * size;
    osc_coap_t m = {.code = r->code};
    uint8_t b2[4];

    if (off > r->payload_len || (off == r->payload_len && num > 0)) {
        m.code = 0x80; /* 4.00: no such block */
        send_answer(srv, req, &m);
        return;
    }
    for (size_t i = 0; i < r->nopts; i++)
        osc_coap_add_option(&m, r->opts[i].number, r->opts[i].value);
    if (extra != NULL)
        osc_coap_add_option(&m, extra->number, extra->value);
    m.payload = (osc_bytes_t){r->payload + off,
                              r->payload_len - off < size ? r->payload_len - off : size};
    if (r->payload_len > size)
        add_block(&m, OPT_BLOCK2, num, off + m.payload.len < r->payload_len, r->szx, b2);
    send_answer(srv, req, &m);
}

/* Keeps the handler's answer (its views are only valid until the next call). */
static int store_reply(stored_reply_t *r, const osc_coap_t *answer, unsigned szx)
{
    size_t used = 0;

    free(r->payload);
    *r = (stored_reply_t){.code = answer->code, .szx = szx};
    for (size_t i = 0; i < answer->nopts && i < REPLY_OPTIONS; i++) {
        osc_bytes_t v = answer->opts[i].value;
        if (used + v.len > sizeof r->opt_bytes)
            return -1;
        if (v.len > 0)
            memcpy(r->opt_bytes + used, v.p, v.len);
        r->opts[r->nopts++] =
            (osc_coap_option_t){answer->opts[i].number, {r->opt_bytes + used, v.len}};
        used += v.len;
    }
    r->payload = malloc(answer->payload.len ? answer->payload.len : 1);
    if (r->payload == NULL)
        return -1;
    if (answer->payload.len > 0)
        memcpy(r->payload, answer->payload.p, answer->payload.len);
    r->payload_len = answer->payload.len;
    return 0;
}

/* ---- receiving ---------------------------------------------------------------------------- */

static const osc_coap_option_t *block_of(const osc_coap_t *m, uint16_t number, uint32_t *v)
{
    const osc_coap_option_t *o = osc_coap_find(m, number);

    *v = o != NULL ? osc_coap_uint_decode(o->value) : 0;
    return o;
}

/* The whole request: handed to the handler, its answer sent (block-wise when large). */
static void serve(udp_server_t *srv, const osc_coap_t *req, osc_bytes_t body,
                  const osc_coap_option_t *block1)
{
    osc_coap_t answer = {0};
    uint32_t b2;
    unsigned szx = block_of(req, OPT_BLOCK2, &b2) != NULL ? (b2 & 7) : DEFAULT_SZX;

    srv->hooks.on_request(srv->hooks.arg, srv, req, body, &answer);
    if (szx == 7 || store_reply(&srv->reply, &answer, szx) < 0) {
        osc_coap_t fail = {.code = 0xa0}; /* 5.00 */
        send_answer(srv, req, &fail);
        return;
    }
    send_block(srv, req, 0, block1);
}

/* One block of an outer Block1 upload (RFC 7959 s2.5). */
static void take_block1(udp_server_t *srv, const osc_coap_t *req, const osc_coap_option_t *opt,
                        uint32_t v)
{
    uint32_t num = v >> 4;
    unsigned szx = v & 7;
    size_t size = 16u << szx;
    osc_coap_t m = {0};
    uint8_t b1[4];

    if (num == 0)
        srv->body_len = 0;
    if (szx == 7 || (size_t)num * size != srv->body_len ||
        srv->body_len + req->payload.len > BODY_MAX) {
        m.code = CODE_INCOMPLETE;
        send_answer(srv, req, &m);
        return;
    }
    if (req->payload.len > 0)
        memcpy(srv->body + srv->body_len, req->payload.p, req->payload.len);
    srv->body_len += req->payload.len;
    if ((v & 8) == 0) {
        serve(srv, req, (osc_bytes_t){srv->body, srv->body_len}, opt);
        return;
    }
    m.code = CODE_CONTINUE;
    add_block(&m, OPT_BLOCK1, num, true, szx, b1);
    send_answer(srv, req, &m);
}

static void on_datagram(udp_server_t *srv, const uint8_t *data, size_t len)
{
    osc_coap_t req;
    const osc_coap_option_t *b1;
    uint32_t v1, v2;

    if (osc_coap_decode((osc_bytes_t){data, len}, OSC_FORM_MESSAGE, &req) < 0)
        return;
    log_message(srv, &req);
    if (req.type >= 2) { /* an ACK or RST: only a confirmable notification asks for one */
        if (srv->hooks.on_empty != NULL)
            srv->hooks.on_empty(srv->hooks.arg, &req);
        return;
    }
    if (req.type == 0 && srv->has_last && req.mid == srv->last_mid) {
        sendto(srv->fd, srv->last_answer, srv->last_answer_len, 0, (struct sockaddr *)&srv->client,
               srv->client_len); /* RFC 7252 s4.5: the same answer to a duplicate */
        return;
    }
    if (req.code == 0) { /* a CoAP ping (s4.3) */
        osc_coap_t rst = {.type = 3, .mid = req.mid};
        osc_writer_t w = {srv->last_answer, sizeof srv->last_answer, 0};
        osc_coap_encode(&rst, OSC_FORM_MESSAGE, &w);
        sendto(srv->fd, w.p, w.len, 0, (struct sockaddr *)&srv->client, srv->client_len);
        return;
    }
    if (block_of(&req, OPT_BLOCK2, &v2) != NULL && (v2 >> 4) > 0 && srv->reply.payload != NULL)
        send_block(srv, &req, v2 >> 4, NULL);
    else if ((b1 = block_of(&req, OPT_BLOCK1, &v1)) != NULL)
        take_block1(srv, &req, b1, v1);
    else
        serve(srv, &req, req.payload, NULL);
}

static int bind_socket(const char *host, const char *port)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE};
    struct addrinfo *ai;
    int fd;

    if (getaddrinfo(host, port, &hints, &ai) != 0)
        return -1;
    fd = socket(ai->ai_family, SOCK_DGRAM, 0);
    if (fd >= 0 && bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

void peer_udp_client(const peer_udp_t *udp, peer_udp_endpoint_t *out)
{
    out->addr = udp->client;
    out->len = udp->client_len;
}

uint16_t peer_udp_send(peer_udp_t *udp, const peer_udp_endpoint_t *to, osc_coap_t *m)
{
    uint8_t buf[DATAGRAM_MAX];
    osc_writer_t w = {buf, sizeof buf, 0};

    m->mid = udp->next_mid++;
    osc_coap_encode(m, OSC_FORM_MESSAGE, &w);
    if (w.len > w.cap) {
        fprintf(stderr, "oscore-peer server: a notification of %zu bytes does not fit a datagram\n",
                w.len);
        return m->mid;
    }
    log_message(udp, m);
    sendto(udp->fd, buf, w.len, 0, (const struct sockaddr *)&to->addr, to->len);
    return m->mid;
}

/* The poll timeout: the tick's wish, but at most 200 ms, so that SIGTERM is seen in time. */
static int next_wait(udp_server_t *srv)
{
    int wait = srv->hooks.on_tick != NULL ? srv->hooks.on_tick(srv->hooks.arg, srv) : -1;

    return wait < 0 || wait > 200 ? 200 : wait;
}

int peer_udp_serve(const char *host, const char *port, bool verbose, const peer_udp_hooks_t *hooks)
{
    static udp_server_t srv;
    uint8_t buf[DATAGRAM_MAX];

    srv = (udp_server_t){.verbose = verbose, .hooks = *hooks, .next_mid = 1};
    srv.fd = bind_socket(host, port);
    srv.body = malloc(BODY_MAX);
    if (srv.fd < 0 || srv.body == NULL) {
        fprintf(stderr, "oscore-peer server: cannot listen on %s:%s\n", host, port);
        return 1;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    printf("ready\n");
    fflush(stdout);
    while (!is_stopping) {
        struct pollfd p = {.fd = srv.fd, .events = POLLIN};
        struct sockaddr_storage from;
        socklen_t from_len = sizeof from;
        ssize_t n;

        if (poll(&p, 1, next_wait(&srv)) <= 0)
            continue;
        n = recvfrom(srv.fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &from_len);
        if (n < 0)
            continue;
        if (from_len != srv.client_len || memcmp(&from, &srv.client, from_len) != 0) {
            srv.client = from; /* a new client: nothing of the last one applies */
            srv.client_len = from_len;
            srv.has_last = false;
            srv.body_len = 0;
        }
        on_datagram(&srv, buf, (size_t)n);
    }
    close(srv.fd);
    free(srv.body);
    free(srv.reply.payload);
    return 0;
}

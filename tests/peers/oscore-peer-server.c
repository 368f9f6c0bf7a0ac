/* oscore-peer server: a CoAP server that is the OSCORE server (RFC 8613 s8.2, s8.3) of
 * the contexts given with -c (default c1, Appendix C.1: Sender ID 01, Recipient ID empty).
 *
 * Every outer request goes to one handler. It verifies the OSCORE request, serves the inner one
 *   GET /hello      2.05, Content-Format 0, "Hello World!"
 *   POST /echo      2.04 with the request payload and its Content-Format
 *   GET /big?n=N    2.05 with N bytes (i % 256)
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

enum {
    CODE_CHANGED = 0x44,
    CODE_CONTENT = 0x45,
    CODE_NOT_FOUND = 0x84,
    CODE_UNAUTHORIZED = 0x81,
    CODE_BAD_OPTION = 0x82,
    CF_TEXT_PLAIN = 0,
    CF_OCTET_STREAM = 42,
    BIG_MAX = 1 << 20,    /* GET /big answers at most this many bytes */
};

typedef struct server {
    osc_ctx_t ctxs[PEER_MAX_CONTEXTS];
    size_t nctxs;
    unsigned long served;
    osc_sealed_t sealed; /* the last protected answer, until the transport has copied it */
    const char *vector;  /* --vector */
    const char *record;  /* --record */
} server_t;

/* ---- the inner resources ------------------------------------------------------------------- */

/* An inner response; |owned| is freed after protection. */
typedef struct reply {
    uint8_t code;
    int content_format; /* or PEER_CF_NONE */
    osc_bytes_t payload;
    uint8_t *owned;
} reply_t;

static void serve_hello(const osc_coap_t *req, reply_t *out)
{
    static const char hello[] = "Hello World!";

    (void)req;
    *out = (reply_t){CODE_CONTENT, CF_TEXT_PLAIN, {(const uint8_t *)hello, sizeof hello - 1}, NULL};
}

static void serve_echo(const osc_coap_t *req, reply_t *out)
{
    const osc_coap_option_t *cf = osc_coap_find(req, COAP_OPTION_CONTENT_FORMAT);

    *out = (reply_t){CODE_CHANGED, cf ? (int)osc_coap_uint_decode(cf->value) : PEER_CF_NONE,
                     req->payload, NULL};
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
    *out = (reply_t){CODE_CONTENT, CF_OCTET_STREAM, {NULL, 0}, malloc(n ? n : 1)};
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
    *out = (reply_t){CODE_NOT_FOUND, PEER_CF_NONE,
                     {(const uint8_t *)not_found, sizeof not_found - 1}, NULL};
}

/* ---- the outer exchange -------------------------------------------------------------------- */

static void answer_plain(osc_coap_t *answer, uint8_t code, const char *diagnostic)
{
    *answer = (osc_coap_t){.code = code,
                           .payload = {(const uint8_t *)diagnostic, strlen(diagnostic)}};
}

/* Protects |reply| for the request |bind| into sealed; 0 or an OSC_E* code. */
static int protect_reply(const osc_ctx_t *ctx, const osc_binding_t *bind, const reply_t *reply,
                         osc_sealed_t *sealed)
{
    osc_coap_t m = {.code = reply->code, .payload = reply->payload};
    uint8_t cf[4];
    osc_writer_t w = {0};
    int rc;

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
    rc = osc_protect_response(ctx, bind, NULL, (osc_bytes_t){w.p, w.len}, sealed);
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

/* Verifies, serves and protects; answers unprotected errors itself. s4.2: a protected answer is
 * outer 2.04 Changed with an empty OSCORE option (no Partial IV), the ciphertext, and no
 * Content-Format. */
static void serve_oscore(server_t *srv, osc_bytes_t option, osc_bytes_t ciphertext,
                         osc_coap_t *answer)
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
        free(plain);
        return;
    }
    serve_inner(&inner, &reply);
    log_request(srv, &inner, &reply);
    rc = protect_reply(ctx, &bind, &reply, &srv->sealed);
    free(reply.owned);
    free(plain);
    if (rc != 0) {
        answer_plain(answer, osc_err_code(rc), osc_strerror(rc));
        return;
    }
    *answer = (osc_coap_t){.code = CODE_CHANGED,
                           .payload = {srv->sealed.ciphertext, srv->sealed.ciphertext_len}};
    osc_coap_add_option(answer, OSC_COAP_OSCORE, (osc_bytes_t){NULL, 0});
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

static void on_request(void *arg, const osc_coap_t *req, osc_bytes_t body, osc_coap_t *answer)
{
    server_t *srv = arg;
    const osc_coap_option_t *opt = osc_coap_find(req, OSC_COAP_OSCORE);

    osc_sealed_free(&srv->sealed); /* the last answer's: the transport has its own copy */
    if (srv->record != NULL)
        record_request(srv->record, req, body);
    if (opt == NULL)
        answer_plain(answer, CODE_UNAUTHORIZED, "OSCORE required");
    else if (opt->value.len > OSC_OPTION_MAX)
        answer_plain(answer, CODE_BAD_OPTION, osc_strerror(OSC_EDECODE));
    else if (srv->vector != NULL && !answer_vector(srv->vector, answer))
        answer_plain(answer, CODE_NOT_FOUND, "no such test vector");
    else if (srv->vector == NULL)
        serve_oscore(srv, opt->value, body, answer);
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
    int rc;

    if (load_contexts(args, &srv) < 0)
        return 2;
    srv.vector = args->vector;
    srv.record = args->record;
    rc = peer_udp_serve(args->address, args->port, args->verbose, on_request, &srv);
    osc_sealed_free(&srv.sealed);
    return rc;
}

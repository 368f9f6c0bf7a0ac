/* oscore-peer server: a libcoap CoAP server that is the OSCORE server (RFC 8613 s8.2, s8.3) of
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
 * Outer block-wise transfer (RFC 7959) is libcoap's: requests reach the handler reassembled, and
 * large responses go out as outer Block2, as s4.1.3.4 allows an intermediary to fragment. */
#include "oscore-peer.h"

#include <signal.h>
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
    SMALL_PAYLOAD = 1024, /* larger ciphertexts go through libcoap's block-wise helper */
};

typedef struct server {
    osc_ctx_t ctxs[PEER_MAX_CONTEXTS];
    size_t nctxs;
    unsigned long served;
} server_t;

static volatile sig_atomic_t is_stopping;

static void on_signal(int signum)
{
    (void)signum;
    is_stopping = 1;
}

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

static void answer_plain(coap_pdu_t *response, uint8_t code, const char *diagnostic)
{
    coap_pdu_set_code(response, (coap_pdu_code_t)code);
    coap_add_data(response, strlen(diagnostic), (const uint8_t *)diagnostic);
}

static void release_buffer(coap_session_t *session, void *buf)
{
    (void)session;
    free(buf);
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

/* s4.2: outer 2.04 Changed, an empty OSCORE option (no Partial IV), the ciphertext, and no
 * Content-Format. libcoap takes the ciphertext over when it goes block-wise. */
static void send_protected(coap_resource_t *resource, coap_session_t *session,
                           const coap_pdu_t *request, const coap_string_t *query,
                           coap_pdu_t *response, osc_sealed_t *sealed)
{
    coap_pdu_set_code(response, COAP_RESPONSE_CODE_CHANGED);
    coap_add_option(response, COAP_OPTION_OSCORE, 0, NULL);
    if (sealed->ciphertext_len <= SMALL_PAYLOAD) {
        coap_add_data(response, sealed->ciphertext_len, sealed->ciphertext);
        osc_sealed_free(sealed);
        return;
    }
    /* libcoap serves the later Block2 requests itself from this body, found again by resource
     * and query. libcoap 4.3.1 writes no Content-Format for media type 0, so the OSCORE message
     * keeps none; the outer ETag it adds to every block is Class E, which the client discards
     * (s8.4 step 1). */
    coap_add_data_large_response(resource, session, request, response, query,
                                 COAP_MEDIATYPE_TEXT_PLAIN, -1, 0, sealed->ciphertext_len,
                                 sealed->ciphertext, release_buffer, sealed->ciphertext);
    sealed->ciphertext = NULL;
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

/* Verifies, serves and protects; answers unprotected errors itself. */
static void serve_oscore(server_t *srv, coap_resource_t *resource, coap_session_t *session,
                         const coap_pdu_t *request, const coap_string_t *query,
                         coap_pdu_t *response, osc_bytes_t option, osc_bytes_t ciphertext)
{
    uint8_t *plain = malloc(ciphertext.len ? ciphertext.len : 1);
    osc_sealed_t sealed = {0};
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
        answer_plain(response, osc_err_code(rc), osc_strerror(rc));
        free(plain);
        return;
    }
    serve_inner(&inner, &reply);
    log_request(srv, &inner, &reply);
    rc = protect_reply(ctx, &bind, &reply, &sealed);
    free(reply.owned);
    free(plain);
    if (rc != 0) {
        answer_plain(response, osc_err_code(rc), osc_strerror(rc));
        return;
    }
    send_protected(resource, session, request, query, response, &sealed);
    osc_sealed_free(&sealed);
}

static void on_request(coap_resource_t *resource, coap_session_t *session,
                       const coap_pdu_t *request, const coap_string_t *query,
                       coap_pdu_t *response)
{
    server_t *srv = coap_get_app_data(coap_session_get_context(session));
    coap_opt_iterator_t it;
    coap_opt_t *opt = coap_check_option(request, COAP_OPTION_OSCORE, &it);
    const uint8_t *data = NULL;
    size_t len = 0, offset, total;

    if (opt == NULL) {
        answer_plain(response, CODE_UNAUTHORIZED, "OSCORE required");
        return;
    }
    if (coap_opt_length(opt) > OSC_OPTION_MAX) {
        answer_plain(response, CODE_BAD_OPTION, osc_strerror(OSC_EDECODE));
        return;
    }
    coap_get_data_large(request, &len, &data, &offset, &total);
    serve_oscore(srv, resource, session, request, query, response,
                 (osc_bytes_t){coap_opt_value(opt), coap_opt_length(opt)},
                 (osc_bytes_t){data, len});
}

/* ---- setup --------------------------------------------------------------------------------- */

static const coap_request_t methods[] = {
    COAP_REQUEST_GET,   COAP_REQUEST_POST,  COAP_REQUEST_PUT,    COAP_REQUEST_DELETE,
    COAP_REQUEST_FETCH, COAP_REQUEST_PATCH, COAP_REQUEST_IPATCH,
};

/* The root resource (an OSCORE request has no outer Uri-Path, s4.1.3.3) and the unknown one
 * for anything else. libcoap serves later Block2 blocks from a stored body only for a real
 * resource, which the root is. */
static void add_resources(coap_context_t *ctx)
{
    coap_resource_t *r;

    for (int i = 0; i < 2; i++) {
        r = i == 0 ? coap_resource_init(NULL, 0) : coap_resource_unknown_init2(on_request, 0);
        for (size_t m = 0; m < OSC_COUNTOF(methods); m++)
            coap_register_request_handler(r, methods[m], on_request);
        coap_add_resource(ctx, r);
    }
}

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
    static server_t srv; /* static: about 1 KiB, and libcoap keeps a pointer to it */
    coap_context_t *ctx;
    coap_address_t addr;

    if (load_contexts(args, &srv) < 0)
        return 2;
    coap_startup();
    coap_set_log_level(args->verbose ? LOG_DEBUG : LOG_WARNING);
    if (peer_address(args->address, args->port, &addr) < 0)
        return 2;
    ctx = coap_new_context(NULL);
    if (ctx == NULL || coap_new_endpoint(ctx, &addr, COAP_PROTO_UDP) == NULL) {
        fprintf(stderr, "oscore-peer server: cannot listen on %s:%s\n", args->address, args->port);
        return 1;
    }
    coap_set_app_data(ctx, &srv);
    coap_context_set_block_mode(ctx, COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
    /* libcoap 4.3.1 knows no OSCORE and answers 4.02 to an unknown critical option. */
    coap_register_option(ctx, COAP_OPTION_OSCORE);
    add_resources(ctx);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    printf("ready\n");
    fflush(stdout);
    while (!is_stopping)
        coap_io_process(ctx, 200);
    coap_free_context(ctx);
    coap_cleanup();
    return 0;
}

/* A CoAP test peer for hcproxy's integration tests, built on libcoap.
 *
 * Usage: coap-testserver -A ADDRESS -p PORT
 *
 * Every path is served by one handler:
 *   /echo[?q]       answers the request payload and Content-Format, or the query text when there
 *                   is no payload; 2.05 for GET and FETCH, 2.04 for POST, PUT, PATCH and iPATCH,
 *                   2.02 for DELETE
 *   /code/C.DD      answers code C.DD with the diagnostic payload "code C.DD"
 *   /bytes?n=N      answers N bytes (0, 1, ..., 255, 0, ...), block-wise when large
 *   /silent         acknowledges but never answers (for timeouts and hang-ups)
 *   /slow?ms=N      acknowledges at once and answers "slow" N ms later (a separate response)
 *   anything else   4.04 with "no such test resource"
 * It prints "ready" on stdout once it listens, and exits on SIGTERM or SIGINT. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <coap3/coap.h>

static volatile sig_atomic_t is_stopping;

static void on_signal(int signum)
{
    (void)signum;
    is_stopping = 1;
}

/* The request's Uri-Path options joined with '/', without a leading slash. */
static void request_path(const coap_pdu_t *request, char *buf, size_t len)
{
    coap_opt_iterator_t it;
    coap_opt_t *opt;
    size_t used = 0;

    buf[0] = '\0';
    coap_option_iterator_init(request, &it, COAP_OPT_ALL);
    while ((opt = coap_option_next(&it)) != NULL) {
        if (it.number != COAP_OPTION_URI_PATH)
            continue;
        used += (size_t)snprintf(buf + used, len > used ? len - used : 0, "%s%.*s",
                                 used ? "/" : "", (int)coap_opt_length(opt),
                                 (const char *)coap_opt_value(opt));
    }
}

static void release_buffer(coap_session_t *session, void *buf)
{
    (void)session;
    free(buf);
}

/* Large payloads go block-wise (RFC 7959) through libcoap. Small ones are added by hand, because
 * libcoap 4.3.1's block-wise helper leaves out a Content-Format of 0 (text/plain). */
static void answer(coap_resource_t *resource, coap_session_t *session, const coap_pdu_t *request,
                   coap_pdu_t *response, coap_pdu_code_t code, int content_format,
                   const uint8_t *data, size_t len)
{
    uint8_t *copy, cf[4];

    coap_pdu_set_code(response, code);
    if (len <= 1024) {
        if (content_format >= 0)
            coap_add_option(response, COAP_OPTION_CONTENT_FORMAT,
                            coap_encode_var_safe(cf, sizeof cf, (unsigned)content_format), cf);
        if (len > 0)
            coap_add_data(response, len, data);
        return;
    }
    copy = malloc(len);
    memcpy(copy, data, len);
    coap_add_data_large_response(resource, session, request, response, NULL,
                                 content_format < 0 ? COAP_MEDIATYPE_APPLICATION_OCTET_STREAM
                                                    : (uint16_t)content_format,
                                 -1, 0, len, copy, release_buffer, copy);
}

static coap_pdu_code_t echo_code(coap_pdu_code_t method)
{
    switch (method) {
    case COAP_REQUEST_CODE_GET:
    case COAP_REQUEST_CODE_FETCH:
        return COAP_RESPONSE_CODE_CONTENT;
    case COAP_REQUEST_CODE_DELETE:
        return COAP_RESPONSE_CODE_DELETED;
    default:
        return COAP_RESPONSE_CODE_CHANGED;
    }
}

static void serve_echo(coap_resource_t *resource, coap_session_t *session, const coap_pdu_t *request,
                       const coap_string_t *query, coap_pdu_t *response)
{
    size_t len = 0, offset, total;
    const uint8_t *data = NULL;
    coap_opt_iterator_t it;
    coap_opt_t *cf = coap_check_option(request, COAP_OPTION_CONTENT_FORMAT, &it);
    int format = cf ? (int)coap_decode_var_bytes(coap_opt_value(cf), coap_opt_length(cf)) : -1;

    coap_get_data_large(request, &len, &data, &offset, &total);
    if (len == 0 && query != NULL) {
        data = query->s;
        len = query->length;
        format = COAP_MEDIATYPE_TEXT_PLAIN;
    }
    answer(resource, session, request, response, echo_code(coap_pdu_get_code(request)), format, data, len);
}

static void serve_bytes(coap_resource_t *resource, coap_session_t *session, const coap_pdu_t *request,
                        const coap_string_t *query, coap_pdu_t *response)
{
    size_t n = 0;
    uint8_t *buf;

    if (query != NULL && query->length > 2 && memcmp(query->s, "n=", 2) == 0)
        n = strtoul((const char *)query->s + 2, NULL, 10);
    buf = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)i;
    coap_pdu_set_code(response, COAP_RESPONSE_CODE_CONTENT);
    coap_add_data_large_response(resource, session, request, response, NULL,
                                 COAP_MEDIATYPE_APPLICATION_OCTET_STREAM, -1, 0, n, buf,
                                 release_buffer, buf);
}

static void serve_code(coap_session_t *session, const coap_pdu_t *request, const char *text,
                       coap_pdu_t *response)
{
    unsigned c, dd;
    char diag[32];

    if (sscanf(text, "%u.%u", &c, &dd) != 2 || c > 7 || dd > 31) {
        coap_pdu_set_code(response, COAP_RESPONSE_CODE_BAD_REQUEST);
        return;
    }
    snprintf(diag, sizeof diag, "code %u.%02u", c, dd);
    (void)session;
    (void)request;
    coap_pdu_set_code(response, (coap_pdu_code_t)((c << 5) | dd));
    coap_add_data(response, strlen(diag), (const uint8_t *)diag);
}

/* The first call registers the request and returns with no code, so libcoap sends an empty ACK;
 * libcoap calls again with the same request when the delay has passed. */
static void serve_slow(coap_session_t *session, const coap_pdu_t *request,
                       const coap_string_t *query, coap_pdu_t *response)
{
    unsigned long ms = 1000;

    if (coap_find_async(session, coap_pdu_get_token(request)) == NULL) {
        if (query != NULL && query->length > 3 && memcmp(query->s, "ms=", 3) == 0)
            ms = strtoul((const char *)query->s + 3, NULL, 10);
        if (coap_register_async(session, request, ms * COAP_TICKS_PER_SECOND / 1000 + 1) == NULL)
            coap_pdu_set_code(response, COAP_RESPONSE_CODE_SERVICE_UNAVAILABLE);
        return;
    }
    coap_pdu_set_code(response, COAP_RESPONSE_CODE_CONTENT);
    coap_add_data(response, 4, (const uint8_t *)"slow");
}

static void on_request(coap_resource_t *resource, coap_session_t *session,
                       const coap_pdu_t *request, const coap_string_t *query,
                       coap_pdu_t *response)
{
    char path[512];

    request_path(request, path, sizeof path);
    if (strcmp(path, "echo") == 0) {
        serve_echo(resource, session, request, query, response);
    } else if (strcmp(path, "bytes") == 0) {
        serve_bytes(resource, session, request, query, response);
    } else if (strncmp(path, "code/", 5) == 0) {
        serve_code(session, request, path + 5, response);
    } else if (strcmp(path, "slow") == 0) {
        serve_slow(session, request, query, response);
    } else if (strcmp(path, "silent") == 0) {
        coap_pdu_set_code(response, COAP_EMPTY_CODE); /* libcoap sends an empty ACK only */
    } else {
        coap_pdu_set_code(response, COAP_RESPONSE_CODE_NOT_FOUND);
        coap_add_data(response, 22, (const uint8_t *)"no such test resource");
    }
}

static const coap_request_t methods[] = {
    COAP_REQUEST_GET,   COAP_REQUEST_POST,  COAP_REQUEST_PUT,    COAP_REQUEST_DELETE,
    COAP_REQUEST_FETCH, COAP_REQUEST_PATCH, COAP_REQUEST_IPATCH,
};

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *port = "5683";
    coap_context_t *ctx;
    coap_address_t addr;
    coap_resource_t *r;
    int opt;

    while ((opt = getopt(argc, argv, "A:p:")) != -1) {
        if (opt == 'A')
            host = optarg;
        else if (opt == 'p')
            port = optarg;
        else
            return 2;
    }
    coap_startup();
    coap_set_log_level(LOG_WARNING);
    coap_address_init(&addr);
    if (strchr(host, ':') != NULL) {
        addr.addr.sin6.sin6_family = AF_INET6;
        addr.size = sizeof addr.addr.sin6;
        inet_pton(AF_INET6, host, &addr.addr.sin6.sin6_addr);
        addr.addr.sin6.sin6_port = htons((uint16_t)atoi(port));
    } else {
        addr.addr.sin.sin_family = AF_INET;
        addr.size = sizeof addr.addr.sin;
        inet_pton(AF_INET, host, &addr.addr.sin.sin_addr);
        addr.addr.sin.sin_port = htons((uint16_t)atoi(port));
    }
    ctx = coap_new_context(NULL);
    coap_context_set_block_mode(ctx, COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
    if (ctx == NULL || coap_new_endpoint(ctx, &addr, COAP_PROTO_UDP) == NULL) {
        fprintf(stderr, "coap-testserver: cannot listen on %s:%s\n", host, port);
        return 1;
    }
    r = coap_resource_unknown_init2(on_request, 0);
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        coap_register_request_handler(r, methods[i], on_request);
    coap_add_resource(ctx, r);
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

/* A CoAP test peer for hcproxy's integration tests, built on libcoap.
 *
 * Usage: coap-testserver -A ADDRESS -p PORT [-t] [-v]
 *   -t  listen on TCP (coap+tcp) on the same port as well
 *   -v  log every PDU (for counting blocks)
 * (An OSCORE server is oscore-peer's: libcoap 4.3.2 and later drop a request with an OSCORE
 * option before a server without an OSCORE context of libcoap's own sees it.)
 *
 * Every path is served by one handler:
 *   /               answers 2.05 "root"
 *   /echo[?q]       answers the request payload and Content-Format, or the query text when there
 *                   is no payload; 2.05 for GET and FETCH, 2.04 for POST, PUT, PATCH and iPATCH,
 *                   2.02 for DELETE
 *   /code/C.DD      answers code C.DD with the diagnostic payload "code C.DD"
 *   /bytes?n=N      answers N bytes (0, 1, ..., 255, 0, ...), block-wise when large
 *   /silent         acknowledges but never answers (for timeouts and hang-ups)
 *   /slow?ms=N      acknowledges at once and answers "slow" N ms later (a separate response)
 *   /options        answers 2.05 with the request's options, one "number:hex" per line
 *   /created        answers 2.01 with Location-Path "items", "4 2" and Location-Query "v=1&x", "y"
 *   /flaky?n=N      answers N bytes block-wise, but every block from a new representation
 *                   (another ETag): a client must not take the pieces for one body
 *   /etag           has the entity-tag 0a1b: GET answers 2.03 when an ETag option matches, else
 *                   2.05 "tagged"; PUT answers 4.12 unless If-Match matches (or is empty)
 *   anything else   4.04 with "no such test resource"
 * It prints "ready" on stdout once it listens, and exits on SIGTERM or SIGINT. */
#include <signal.h>
#include <stdbool.h>
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
                   const coap_string_t *query, coap_pdu_t *response, coap_pdu_code_t code,
                   int content_format, const uint8_t *data, size_t len)
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
    /* libcoap finds the body again for the later blocks by resource and query. */
    coap_add_data_large_response(resource, session, request, response, query,
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
    answer(resource, session, request, query, response, echo_code(coap_pdu_get_code(request)), format, data, len);
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
    coap_add_data_large_response(resource, session, request, response, query,
                                 COAP_MEDIATYPE_APPLICATION_OCTET_STREAM, -1, 0, n, buf,
                                 release_buffer, buf);
}

/* Without the query, libcoap cannot find the body of the first call again, so every block
 * request comes here and gets a block of a fresh representation with its own ETag. */
static void serve_flaky(coap_resource_t *resource, coap_session_t *session,
                        const coap_pdu_t *request, const coap_string_t *query,
                        coap_pdu_t *response)
{
    static uint64_t version;
    size_t n = 0;
    uint8_t *buf;

    if (query != NULL && query->length > 2 && memcmp(query->s, "n=", 2) == 0)
        n = strtoul((const char *)query->s + 2, NULL, 10);
    buf = calloc(1, n ? n : 1);
    coap_pdu_set_code(response, COAP_RESPONSE_CODE_CONTENT);
    coap_add_data_large_response(resource, session, request, response, NULL,
                                 COAP_MEDIATYPE_APPLICATION_OCTET_STREAM, -1, ++version, n, buf,
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

static void serve_options(const coap_pdu_t *request, coap_pdu_t *response)
{
    coap_opt_iterator_t it;
    coap_opt_t *opt;
    char text[1024];
    size_t used = 0;

    coap_option_iterator_init(request, &it, COAP_OPT_ALL);
    while ((opt = coap_option_next(&it)) != NULL && used < sizeof text - 64) {
        used += (size_t)snprintf(text + used, sizeof text - used, "%u:", it.number);
        for (size_t i = 0; i < coap_opt_length(opt) && used < sizeof text - 4; i++)
            used += (size_t)snprintf(text + used, sizeof text - used, "%02x", coap_opt_value(opt)[i]);
        text[used++] = '\n';
    }
    coap_pdu_set_code(response, COAP_RESPONSE_CODE_CONTENT);
    coap_add_data(response, used, (const uint8_t *)text);
}

static void serve_created(coap_pdu_t *response)
{
    coap_pdu_set_code(response, COAP_RESPONSE_CODE_CREATED);
    coap_add_option(response, COAP_OPTION_LOCATION_PATH, 5, (const uint8_t *)"items");
    coap_add_option(response, COAP_OPTION_LOCATION_PATH, 3, (const uint8_t *)"4 2");
    coap_add_option(response, COAP_OPTION_LOCATION_QUERY, 5, (const uint8_t *)"v=1&x");
    coap_add_option(response, COAP_OPTION_LOCATION_QUERY, 1, (const uint8_t *)"y");
}

/* Whether any option |number| of |request| is empty or equals the tag. */
static bool has_tag(const coap_pdu_t *request, uint16_t number, const uint8_t *tag, size_t len,
                    bool empty_matches)
{
    coap_opt_iterator_t it;
    coap_opt_filter_t filter;
    coap_opt_t *opt;

    coap_option_filter_clear(&filter);
    coap_option_filter_set(&filter, number);
    coap_option_iterator_init(request, &it, &filter);
    while ((opt = coap_option_next(&it)) != NULL) {
        if ((empty_matches && coap_opt_length(opt) == 0) ||
            (coap_opt_length(opt) == len && memcmp(coap_opt_value(opt), tag, len) == 0))
            return true;
    }
    return false;
}

static void serve_etag(const coap_pdu_t *request, coap_pdu_t *response)
{
    static const uint8_t tag[] = {0x0a, 0x1b};
    coap_opt_iterator_t it;

    if (coap_pdu_get_code(request) == COAP_REQUEST_CODE_PUT) {
        bool has_if_match = coap_check_option(request, COAP_OPTION_IF_MATCH, &it) != NULL;
        coap_pdu_set_code(response, !has_if_match || has_tag(request, COAP_OPTION_IF_MATCH, tag, 2, true)
                                        ? COAP_RESPONSE_CODE_CHANGED
                                        : COAP_RESPONSE_CODE_PRECONDITION_FAILED);
        return;
    }
    coap_add_option(response, COAP_OPTION_ETAG, sizeof tag, tag);
    if (has_tag(request, COAP_OPTION_ETAG, tag, sizeof tag, false)) {
        coap_pdu_set_code(response, COAP_RESPONSE_CODE_VALID);
        return;
    }
    coap_pdu_set_code(response, COAP_RESPONSE_CODE_CONTENT);
    coap_add_data(response, 6, (const uint8_t *)"tagged");
}

static void on_request(coap_resource_t *resource, coap_session_t *session,
                       const coap_pdu_t *request, const coap_string_t *query,
                       coap_pdu_t *response)
{
    char path[512];

    request_path(request, path, sizeof path);
    if (path[0] == '\0') {
        coap_pdu_set_code(response, COAP_RESPONSE_CODE_CONTENT);
        coap_add_data(response, 4, (const uint8_t *)"root");
    } else if (strcmp(path, "echo") == 0) {
        serve_echo(resource, session, request, query, response);
    } else if (strcmp(path, "flaky") == 0) {
        serve_flaky(resource, session, request, query, response);
    } else if (strcmp(path, "bytes") == 0) {
        serve_bytes(resource, session, request, query, response);
    } else if (strncmp(path, "code/", 5) == 0) {
        serve_code(session, request, path + 5, response);
    } else if (strcmp(path, "options") == 0) {
        serve_options(request, response);
    } else if (strcmp(path, "created") == 0) {
        serve_created(response);
    } else if (strcmp(path, "etag") == 0) {
        serve_etag(request, response);
    } else if (strcmp(path, "slow") == 0) {
        serve_slow(session, request, query, response);
    } else if (strcmp(path, "silent") == 0) {
        coap_pdu_set_code(response, COAP_EMPTY_CODE); /* libcoap sends an empty ACK only */
    } else {
        coap_pdu_set_code(response, COAP_RESPONSE_CODE_NOT_FOUND);
        coap_add_data(response, 22, (const uint8_t *)"no such test resource");
    }
}

static const char *const fixed_paths[] = {
    "", "echo", "bytes", "flaky", "options", "created", "etag", "slow", "silent",
};

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
    coap_log_t level = LOG_WARNING;
    int opt;
    bool tcp = false;

    while ((opt = getopt(argc, argv, "A:p:tv")) != -1) {
        if (opt == 'A')
            host = optarg;
        else if (opt == 'p')
            port = optarg;
        else if (opt == 'v')
            level = LOG_DEBUG;
        else if (opt == 't')
            tcp = true;
        else
            return 2;
    }
    coap_startup();
    coap_set_log_level(level);
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
    if (ctx == NULL || coap_new_endpoint(ctx, &addr, COAP_PROTO_UDP) == NULL ||
        (tcp && coap_new_endpoint(ctx, &addr, COAP_PROTO_TCP) == NULL)) {
        fprintf(stderr, "coap-testserver: cannot listen on %s:%s\n", host, port);
        return 1;
    }
    coap_register_option(ctx, COAP_OPTION_OSCORE); /* critical, and unknown to libcoap 4.3.1 */
    /* Fixed paths are real resources: libcoap serves the later blocks of a large answer from
     * what the first call produced only for those, not for the catch-all "unknown" one. */
    for (size_t i = 0; i <= sizeof fixed_paths / sizeof fixed_paths[0]; i++) {
        r = i < sizeof fixed_paths / sizeof fixed_paths[0]
                ? coap_resource_init(coap_make_str_const(fixed_paths[i]), 0)
                : coap_resource_unknown_init2(on_request, 0);
        for (size_t m = 0; m < sizeof methods / sizeof methods[0]; m++)
            coap_register_request_handler(r, methods[m], on_request);
        coap_add_resource(ctx, r);
    }
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

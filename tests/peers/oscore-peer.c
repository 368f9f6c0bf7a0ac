/* An OSCORE (RFC 8613) peer for hcproxy's tests: hcproxy never decrypts OSCORE, and this
 * program proves that what crosses it still verifies with real cryptography (GnuTLS).
 *
 * Usage:
 *   oscore-peer vectors
 *       checks every value of RFC 8613 Appendix C, the s5.4 and s6.3 examples and the HTTP
 *       header forms; prints TAP and exits non-zero on any mismatch
 *   oscore-peer server -A ADDRESS -p PORT [-c c1|c2|c3]... [-v] [--vector c7|c8] [--record FILE]
 *                      [--count N] [--interval-ms MS] [--tamper-notification K]
 *                      [--replay-notification K] [--record-notifications PREFIX] [--max-age S]
 *       a CoAP server that is the OSCORE server of the given contexts (default c1); prints "ready"
 *       (oscore-peer-server.c: --vector answers with Appendix C.7/C.8, --record keeps requests;
 *       GET /obs with Observe 0 sends N notifications (default 3) every MS (default 1000), each
 *       with the server's own Partial IV, then a final response; --tamper-notification flips a
 *       ciphertext byte of notification K, --replay-notification sends K-1 again after K,
 *       --record-notifications writes PREFIX<K>.header and PREFIX<K>.body of the first
 *       observation, --max-age puts an outer Max-Age S on every notification; up to 4
 *       observations at once, each with its own notifications)
 *   oscore-peer protect --method M --path P [--payload-file F] [--content-format N] --seq N
 *                       [--observe V] --out-body FILE [-c CTX]
 *       the client's request: prints the OSCORE header value, writes the ciphertext to FILE;
 *       --observe puts the inner Observe V in (s4.1.3.5.1: the outer one is the carrier's)
 *   oscore-peer verify --seq N --header VALUE --body-file F [--out-payload P] [-c CTX]
 *       the client's check of the response to request N: prints "code=2.05 cf=0 payload=..."
 *   oscore-peer coap-request --host H --port P --method M --path P [--payload-file F]
 *                            [--content-format N] --seq N [--observe V] [--out-payload P]
 *                            [--tamper] [-c CTX]
 *       protect, send over CoAP with libcoap, verify: tests the server without hcproxy
 *   oscore-peer observe --host H --port P --path P --seq N [--count K] [--deregister|--reset]
 *                       [-c CTX]
 *       registers with Observe 0 (outer FETCH, s4.1.3.5.1) over UDP, verifies K notifications
 *       (default 3) and their order by Partial IV (s7.4.1), one line each:
 *       "notification piv=1 observe=1 code=2.05 payload=n=2"; then cancels if asked
 *       (oscore-peer-observe.c)
 *   oscore-peer verify-notification --seq N --header VALUE --body-file F [--last-piv M] [-c CTX]
 *       the client's check of one notification to registration N whose Partial IV must exceed M
 *       (the last one accepted; none for the first): prints "notification piv=... payload=..."
 *
 * The client is context cN's client side (c1: Sender ID empty, Recipient ID 01). Exit status 0,
 * 1 on a failed check or verification, 2 on bad usage. */
#include "oscore-peer.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

/* ---- security contexts (RFC 8613 Appendix C.1-C.3), from the client's side ----------------- */

static const struct {
    const char *name;
    const char *master_secret, *master_salt, *id_context; /* id_context NULL: absent */
    const char *client_id, *server_id;
} contexts[] = {
    {"c1", "0102030405060708090a0b0c0d0e0f10", "9e7ca92223786340", NULL, "", "01"},
    {"c2", "0102030405060708090a0b0c0d0e0f10", "", NULL, "00", "01"},
    {"c3", "0102030405060708090a0b0c0d0e0f10", "9e7ca92223786340", "37cbf3210017a2d3", "", "01"},
};

int peer_context(const char *name, bool is_server, osc_ctx_t *ctx)
{
    uint8_t secret[16], salt[16], idc[16], client[OSC_ID_MAX], server[OSC_ID_MAX];
    size_t secret_len, salt_len, idc_len = 0, client_len, server_len;
    osc_bytes_t id_context;

    for (size_t i = 0; i < OSC_COUNTOF(contexts); i++) {
        if (strcmp(contexts[i].name, name) != 0)
            continue;
        osc_hex_decode(contexts[i].master_secret, secret, sizeof secret, &secret_len);
        osc_hex_decode(contexts[i].master_salt, salt, sizeof salt, &salt_len);
        if (contexts[i].id_context != NULL)
            osc_hex_decode(contexts[i].id_context, idc, sizeof idc, &idc_len);
        osc_hex_decode(contexts[i].client_id, client, sizeof client, &client_len);
        osc_hex_decode(contexts[i].server_id, server, sizeof server, &server_len);
        id_context = (osc_bytes_t){idc, idc_len};
        osc_ctx_params_t p = {
            .master_secret = {secret, secret_len},
            .master_salt = {salt, salt_len},
            .sender_id = is_server ? (osc_bytes_t){server, server_len} : (osc_bytes_t){client, client_len},
            .recipient_id = is_server ? (osc_bytes_t){client, client_len} : (osc_bytes_t){server, server_len},
            .id_context = contexts[i].id_context != NULL ? &id_context : NULL,
        };
        return osc_ctx_derive(&p, ctx) == 0 ? 0 : -1;
    }
    fprintf(stderr, "oscore-peer: unknown context %s (c1, c2 or c3)\n", name);
    return -1;
}

/* ---- files and printing -------------------------------------------------------------------- */

int peer_read_file(const char *path, uint8_t **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    size_t cap = 4096, n;

    *data = NULL;
    *len = 0;
    if (f == NULL) {
        fprintf(stderr, "oscore-peer: %s: %s\n", path, strerror(errno));
        return -1;
    }
    do {
        uint8_t *grown = realloc(*data, cap *= 2);
        if (grown == NULL) {
            free(*data);
            fclose(f);
            return -1;
        }
        *data = grown;
        n = fread(*data + *len, 1, cap - *len, f);
        *len += n;
    } while (*len == cap);
    fclose(f);
    return 0;
}

int peer_write_file(const char *path, osc_bytes_t data)
{
    FILE *f = fopen(path, "wb");

    if (f == NULL || fwrite(data.p, 1, data.len, f) != data.len) {
        fprintf(stderr, "oscore-peer: %s: %s\n", path, strerror(errno));
        if (f != NULL)
            fclose(f);
        return -1;
    }
    return fclose(f) == 0 ? 0 : -1;
}

const char *peer_code_text(uint8_t code, char buf[8])
{
    snprintf(buf, 8, "%u.%02u", code >> 5, code & 0x1f);
    return buf;
}

void peer_print_payload(FILE *f, osc_bytes_t p)
{
    enum { HEX_SHOWN = 32 };
    char hex[2 * HEX_SHOWN + 1];
    bool is_text = true;

    for (size_t i = 0; i < p.len; i++)
        is_text = is_text && p.p[i] >= 0x20 && p.p[i] < 0x7f;
    if (is_text) {
        fprintf(f, "%.*s", (int)p.len, (const char *)p.p);
        return;
    }
    osc_hex_encode((osc_bytes_t){p.p, p.len < HEX_SHOWN ? p.len : HEX_SHOWN}, hex);
    fprintf(f, "hex:%s%s", hex, p.len > HEX_SHOWN ? "..." : "");
}

/* ---- the client's inner request ------------------------------------------------------------ */

static const struct {
    const char *name;
    uint8_t code;
} methods[] = {
    {"GET", 0x01}, {"POST", 0x02}, {"PUT", 0x03}, {"DELETE", 0x04},
    {"FETCH", 0x05}, {"PATCH", 0x06}, {"iPATCH", 0x07},
};

static int method_code(const char *name)
{
    for (size_t i = 0; i < OSC_COUNTOF(methods); i++)
        if (strcmp(methods[i].name, name) == 0)
            return methods[i].code;
    return -1;
}

/* Adds one Uri-Path (11) or Uri-Query (15) option per non-empty |sep|-separated segment. */
static int add_segments(osc_coap_t *m, uint16_t number, const char *s, size_t len, char sep)
{
    size_t start = 0;

    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != sep)
            continue;
        if (i > start && osc_coap_add_option(m, number, (osc_bytes_t){(const uint8_t *)s + start, i - start}) < 0)
            return -1;
        start = i + 1;
    }
    return 0;
}

/* The plaintext of the client's inner request (malloc'ed *out); 0 or -1 (message printed). */
static int request_plaintext(const peer_args_t *args, uint8_t **out, size_t *len)
{
    const char *path = args->path, *query = strchr(path, '?');
    size_t path_len = query ? (size_t)(query - path) : strlen(path);
    int code = method_code(args->method);
    osc_coap_t m = {0};
    uint8_t *payload = NULL, cf[4], observe[4];
    size_t payload_len = 0;
    osc_writer_t w = {0};
    int rc = -1;

    if (code < 0) {
        fprintf(stderr, "oscore-peer: unknown method %s\n", args->method);
        return -1;
    }
    m.code = (uint8_t)code;
    if (args->payload_file != NULL && peer_read_file(args->payload_file, &payload, &payload_len) < 0)
        return -1;
    m.payload = (osc_bytes_t){payload, payload_len};
    if (add_segments(&m, COAP_OPTION_URI_PATH, path, path_len, '/') < 0 ||
        (query != NULL && add_segments(&m, COAP_OPTION_URI_QUERY, query + 1, strlen(query + 1), '&') < 0) ||
        (args->content_format != PEER_CF_NONE &&
         osc_coap_add_option(&m, COAP_OPTION_CONTENT_FORMAT,
                             (osc_bytes_t){cf, osc_coap_uint_encode((uint32_t)args->content_format, cf)}) < 0) ||
        (args->observe != PEER_NO_OBSERVE && /* s4.1.3.5.1: the inner one, as the outer */
         osc_coap_add_option(&m, COAP_OPTION_OBSERVE,
                             (osc_bytes_t){observe, osc_coap_uint_encode((uint32_t)args->observe, observe)}) < 0)) {
        fprintf(stderr, "oscore-peer: too many options\n");
        goto done;
    }
    osc_coap_encode(&m, OSC_FORM_PLAINTEXT, &w);
    w.p = *out = malloc(w.len);
    w.cap = w.len;
    w.len = 0;
    if (*out != NULL) {
        osc_coap_encode(&m, OSC_FORM_PLAINTEXT, &w);
        *len = w.len;
        rc = 0;
    }
done:
    free(payload);
    return rc;
}

int peer_protect_request(const peer_args_t *args, const char *cmd, osc_ctx_t *ctx,
                         osc_sealed_t *sealed, osc_binding_t *bind)
{
    uint8_t *plain;
    size_t plain_len;
    int rc;

    if (peer_context(args->contexts[0], false, ctx) < 0 ||
        request_plaintext(args, &plain, &plain_len) < 0)
        return 1;
    rc = osc_protect_request(ctx, args->seq, (osc_bytes_t){plain, plain_len}, sealed, bind);
    free(plain);
    if (rc != 0) {
        fprintf(stderr, "oscore-peer %s: %s\n", cmd, osc_strerror(rc));
        return 1;
    }
    return 0;
}

/* ---- the client's view of the response ----------------------------------------------------- */

static int print_inner(const peer_args_t *args, osc_bytes_t plaintext)
{
    osc_coap_t m;
    const osc_coap_option_t *cf;
    char code[8];

    if (osc_coap_decode(plaintext, OSC_FORM_PLAINTEXT, &m) < 0) {
        fprintf(stderr, "oscore-peer: the decrypted response is not a CoAP plaintext\n");
        return 1;
    }
    cf = osc_coap_find(&m, COAP_OPTION_CONTENT_FORMAT);
    printf("code=%s cf=", peer_code_text(m.code, code));
    if (cf != NULL)
        printf("%u", (unsigned)osc_coap_uint_decode(cf->value));
    else
        printf("-");
    printf(" payload=");
    peer_print_payload(stdout, m.payload);
    printf("\n");
    if (args->out_payload != NULL && peer_write_file(args->out_payload, m.payload) < 0)
        return 1;
    return 0;
}

int peer_finish_response(const peer_args_t *args, const osc_ctx_t *ctx, osc_bytes_t option,
                         osc_bytes_t ciphertext)
{
    osc_binding_t bind;
    uint8_t *plain = malloc(ciphertext.len ? ciphertext.len : 1);
    size_t plain_len = 0;
    int rc, status;

    if (plain == NULL)
        return 1;
    osc_binding_for_seq(ctx, args->seq, &bind);
    rc = osc_verify_response(ctx, &bind, option, ciphertext, plain, &plain_len);
    if (rc != 0) {
        fprintf(stderr, "oscore-peer: response to request %llu: %s\n", args->seq, osc_strerror(rc));
        free(plain);
        return 1;
    }
    status = print_inner(args, (osc_bytes_t){plain, plain_len});
    free(plain);
    return status;
}

/* ---- subcommands protect and verify -------------------------------------------------------- */

static int protect(const peer_args_t *args)
{
    osc_ctx_t ctx;
    osc_sealed_t sealed = {0};
    osc_binding_t bind;
    char header[OSC_HEADER_MAX];
    int rc;

    if (args->method == NULL || args->path == NULL || !args->has_seq || args->out_body == NULL) {
        fprintf(stderr, "oscore-peer protect: --method, --path, --seq and --out-body are required\n");
        return 2;
    }
    if (peer_protect_request(args, "protect", &ctx, &sealed, &bind) != 0)
        return 1;
    rc = peer_write_file(args->out_body, (osc_bytes_t){sealed.ciphertext, sealed.ciphertext_len});
    osc_header_from_option((osc_bytes_t){sealed.option, sealed.option_len}, header);
    osc_sealed_free(&sealed);
    if (rc < 0)
        return 1;
    printf("%s\n", header);
    return 0;
}

static int verify(const peer_args_t *args)
{
    osc_ctx_t ctx;
    uint8_t option[OSC_OPTION_MAX], *body;
    size_t option_len, body_len;
    int status;

    if (!args->has_seq || args->header == NULL || args->body_file == NULL) {
        fprintf(stderr, "oscore-peer verify: --seq, --header and --body-file are required\n");
        return 2;
    }
    if (osc_option_from_header(args->header, option, &option_len) < 0) {
        fprintf(stderr, "oscore-peer verify: OSCORE header \"%s\" is not canonical base64url\n",
                args->header);
        return 1;
    }
    if (peer_context(args->contexts[0], false, &ctx) < 0 ||
        peer_read_file(args->body_file, &body, &body_len) < 0)
        return 1;
    status = peer_finish_response(args, &ctx, (osc_bytes_t){option, option_len},
                                  (osc_bytes_t){body, body_len});
    free(body);
    return status;
}

/* ---- command line -------------------------------------------------------------------------- */

enum { OPT_METHOD = 256, OPT_PATH, OPT_PAYLOAD_FILE, OPT_CF, OPT_SEQ, OPT_OUT_BODY, OPT_HEADER,
       OPT_BODY_FILE, OPT_OUT_PAYLOAD, OPT_TAMPER, OPT_VECTOR, OPT_RECORD, OPT_COUNT,
       OPT_INTERVAL, OPT_TAMPER_NOTIFICATION, OPT_REPLAY_NOTIFICATION, OPT_RECORD_NOTIFICATIONS,
       OPT_LAST_PIV, OPT_DEREGISTER, OPT_RESET, OPT_OBSERVE, OPT_MAX_AGE };

static const struct option long_options[] = {
    {"method", required_argument, NULL, OPT_METHOD},
    {"path", required_argument, NULL, OPT_PATH},
    {"payload-file", required_argument, NULL, OPT_PAYLOAD_FILE},
    {"content-format", required_argument, NULL, OPT_CF},
    {"seq", required_argument, NULL, OPT_SEQ},
    {"out-body", required_argument, NULL, OPT_OUT_BODY},
    {"header", required_argument, NULL, OPT_HEADER},
    {"body-file", required_argument, NULL, OPT_BODY_FILE},
    {"out-payload", required_argument, NULL, OPT_OUT_PAYLOAD},
    {"tamper", no_argument, NULL, OPT_TAMPER},
    {"vector", required_argument, NULL, OPT_VECTOR},
    {"record", required_argument, NULL, OPT_RECORD},
    {"count", required_argument, NULL, OPT_COUNT},
    {"interval-ms", required_argument, NULL, OPT_INTERVAL},
    {"tamper-notification", required_argument, NULL, OPT_TAMPER_NOTIFICATION},
    {"max-age", required_argument, NULL, OPT_MAX_AGE},
    {"replay-notification", required_argument, NULL, OPT_REPLAY_NOTIFICATION},
    {"record-notifications", required_argument, NULL, OPT_RECORD_NOTIFICATIONS},
    {"last-piv", required_argument, NULL, OPT_LAST_PIV},
    {"deregister", no_argument, NULL, OPT_DEREGISTER},
    {"reset", no_argument, NULL, OPT_RESET},
    {"observe", required_argument, NULL, OPT_OBSERVE},
    {"host", required_argument, NULL, 'A'},
    {"port", required_argument, NULL, 'p'},
    {"context", required_argument, NULL, 'c'},
    {"verbose", no_argument, NULL, 'v'},
    {NULL, 0, NULL, 0},
};

/* A decimal number up to |max|; -1 otherwise. */
static int parse_number(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end;

    errno = 0;
    *out = strtoull(s, &end, 10);
    return errno == 0 && end != s && *end == '\0' && s[0] != '-' && *out <= max ? 0 : -1;
}

/* The options with a number: where it goes and its largest value. */
static int set_number(peer_args_t *a, int opt, const char *arg)
{
    const struct {
        int opt;
        unsigned long *to;
        unsigned long long max;
    } numbers[] = {
        {OPT_COUNT, &a->count, 1000000},
        {OPT_INTERVAL, &a->interval_ms, 3600000},
        {OPT_TAMPER_NOTIFICATION, &a->tamper_notification, 1000000},
        {OPT_REPLAY_NOTIFICATION, &a->replay_notification, 1000000},
    };
    unsigned long long n;

    for (size_t i = 0; i < OSC_COUNTOF(numbers); i++) {
        if (numbers[i].opt != opt)
            continue;
        if (parse_number(arg, numbers[i].max, &n) < 0)
            return -1;
        *numbers[i].to = (unsigned long)n;
        return 0;
    }
    return -1;
}

static int set_option(peer_args_t *a, int opt, const char *arg)
{
    unsigned long long n;

    switch (opt) {
    case OPT_RECORD_NOTIFICATIONS: a->record_notifications = arg; return 0;
    case OPT_DEREGISTER: a->deregister = true; return 0;
    case OPT_MAX_AGE: /* RFC 7252 s5.10.5: a 4-byte uint */
        a->has_max_age = parse_number(arg, UINT32_MAX, &n) == 0;
        a->max_age = (unsigned long)n;
        return a->has_max_age ? 0 : -1;
    case OPT_RESET: a->reset = true; return 0;
    case OPT_LAST_PIV: /* a Partial IV, like --seq */
        a->has_last_piv = parse_number(arg, (1ULL << 40) - 1, &a->last_piv) == 0;
        return a->has_last_piv ? 0 : -1;
    case OPT_METHOD: a->method = arg; return 0;
    case OPT_PATH: a->path = arg; return 0;
    case OPT_PAYLOAD_FILE: a->payload_file = arg; return 0;
    case OPT_OUT_BODY: a->out_body = arg; return 0;
    case OPT_HEADER: a->header = arg; return 0;
    case OPT_BODY_FILE: a->body_file = arg; return 0;
    case OPT_OUT_PAYLOAD: a->out_payload = arg; return 0;
    case OPT_TAMPER: a->tamper = true; return 0;
    case OPT_VECTOR: a->vector = arg; return 0;
    case OPT_RECORD: a->record = arg; return 0;
    case 'A': a->address = arg; return 0;
    case 'p': a->port = arg; return 0;
    case 'v': a->verbose = true; return 0;
    case 'c':
        if (a->ncontexts == PEER_MAX_CONTEXTS)
            return -1;
        a->contexts[a->ncontexts++] = arg;
        return 0;
    case OPT_CF:
        if (parse_number(arg, UINT16_MAX, &n) < 0)
            return -1;
        a->content_format = (int)n;
        return 0;
    case OPT_OBSERVE: /* RFC 7641 s2: a 3-byte uint */
        if (parse_number(arg, 0xffffff, &n) < 0)
            return -1;
        a->observe = (int)n;
        return 0;
    case OPT_SEQ: /* s7.2.1: sequence numbers stay below 2^40 */
        a->has_seq = parse_number(arg, (1ULL << 40) - 1, &a->seq) == 0;
        return a->has_seq ? 0 : -1;
    default:
        return set_number(a, opt, arg);
    }
}

static int parse_args(int argc, char **argv, peer_args_t *a)
{
    int opt;

    *a = (peer_args_t){.content_format = PEER_CF_NONE, .address = "127.0.0.1", .port = "5683",
                       .count = 3, .interval_ms = 1000, .observe = PEER_NO_OBSERVE};
    while ((opt = getopt_long(argc, argv, "A:p:c:v", long_options, NULL)) != -1) {
        if (set_option(a, opt, optarg) < 0) {
            fprintf(stderr, "oscore-peer: bad option or value (see the usage at the top of oscore-peer.c)\n");
            return -1;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "oscore-peer: unexpected argument %s\n", argv[optind]);
        return -1;
    }
    if (a->ncontexts == 0)
        a->contexts[a->ncontexts++] = "c1";
    return 0;
}

static const struct {
    const char *name;
    int (*run)(const peer_args_t *args);
} subcommands[] = {
    {"server", peer_server},
    {"protect", protect},
    {"verify", verify},
    {"coap-request", peer_coap_request},
    {"observe", peer_observe},
    {"verify-notification", peer_verify_notification},
};

int main(int argc, char **argv)
{
    peer_args_t args;

    if (argc >= 2 && strcmp(argv[1], "vectors") == 0)
        return argc == 2 ? peer_vectors() : 2;
    for (size_t i = 0; argc >= 2 && i < OSC_COUNTOF(subcommands); i++) {
        if (strcmp(argv[1], subcommands[i].name) != 0)
            continue;
        if (parse_args(argc - 1, argv + 1, &args) < 0)
            return 2;
        return subcommands[i].run(&args);
    }
    fprintf(stderr, "usage: oscore-peer vectors|server|protect|verify|coap-request|observe|"
                    "verify-notification [options]\n");
    return 2;
}

/* A CoAP client for hcproxy's reverse-direction tests, built on libcoap but doing block-wise
 * transfers itself: Debian's libcoap 4.3.1 cannot receive a Block2 body that starts in a separate
 * response (obgm/libcoap#1595), which is how hcproxy answers. It also knows the OSCORE option (9),
 * which coap-client-notls drops as an unknown critical option.
 *
 * Usage: coap-probe -p PROXY_PORT [-m METHOD] [-O NUM,HEX]... [-f BODY] [-o OUT] URI
 *   URI goes into Proxy-Uri ("-": none, for the Proxy-Scheme form given with -O). Prints "code:C.DD", then "opt:N:HEX" for each option of the last
 *   answer, on stdout; the whole (reassembled) payload goes to OUT. Exit 0 when an answer came. */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <coap3/coap.h>

#define MAX_OPTS 16

static struct {
    uint16_t number;
    uint8_t value[64];
    size_t len;
} extra[MAX_OPTS];
static size_t nextra;
static const char *proxy_uri;
static coap_pdu_code_t method = COAP_REQUEST_CODE_GET;
static uint8_t *body;
static size_t body_len;
static uint8_t *answer;
static size_t answer_len;
static int is_done;
static unsigned final_code;
static char options_text[4096];

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex) / 2;

    for (size_t i = 0; i < n && i < cap; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
    return n < cap ? n : cap;
}

static coap_pdu_t *build(coap_session_t *session, unsigned block_num, unsigned szx)
{
    coap_pdu_t *pdu = coap_new_pdu(COAP_MESSAGE_CON, method, session);
    uint8_t token[8], buf[4];
    size_t token_len;

    coap_session_new_token(session, &token_len, token);
    coap_add_token(pdu, token_len, token);
    for (size_t i = 0; i < nextra; i++)
        coap_add_option(pdu, extra[i].number, extra[i].len, extra[i].value);
    if (strcmp(proxy_uri, "-") != 0)
        coap_add_option(pdu, COAP_OPTION_PROXY_URI, strlen(proxy_uri), (const uint8_t *)proxy_uri);
    if (block_num > 0)
        coap_add_option(pdu, COAP_OPTION_BLOCK2,
                        coap_encode_var_safe(buf, sizeof buf, (block_num << 4) | szx), buf);
    if (body_len > 0 && block_num == 0)
        coap_add_data(pdu, body_len, body);
    return pdu;
}

static void note_options(const coap_pdu_t *pdu)
{
    coap_opt_iterator_t it;
    coap_opt_t *opt;
    size_t used = 0;

    coap_option_iterator_init(pdu, &it, COAP_OPT_ALL);
    while ((opt = coap_option_next(&it)) != NULL && used < sizeof options_text - 600) {
        used += (size_t)snprintf(options_text + used, sizeof options_text - used, "opt:%u:", it.number);
        for (size_t i = 0; i < coap_opt_length(opt); i++)
            used += (size_t)snprintf(options_text + used, sizeof options_text - used, "%02x",
                                     coap_opt_value(opt)[i]);
        options_text[used++] = '\n';
        options_text[used] = '\0';
    }
}

static coap_response_t on_response(coap_session_t *session, const coap_pdu_t *sent,
                                   const coap_pdu_t *received, const coap_mid_t mid)
{
    size_t len;
    const uint8_t *data;
    coap_block_t block;

    (void)sent;
    (void)mid;
    if (coap_get_data(received, &len, &data) && len > 0) {
        answer = realloc(answer, answer_len + len);
        memcpy(answer + answer_len, data, len);
        answer_len += len;
    }
    final_code = coap_pdu_get_code(received);
    note_options(received);
    if (coap_get_block(received, COAP_OPTION_BLOCK2, &block) && block.m) {
        /* RFC 7959 s2.4: the next block, of the size the server chose */
        coap_send(session, build(session, block.num + 1, block.szx));
        return COAP_RESPONSE_OK;
    }
    is_done = 1;
    return COAP_RESPONSE_OK;
}

int main(int argc, char **argv)
{
    const char *out_path = NULL, *port = "5683";
    coap_context_t *ctx;
    coap_session_t *session;
    coap_address_t dst;
    int opt;
    unsigned waited = 0;

    while ((opt = getopt(argc, argv, "p:m:O:f:o:")) != -1) {
        if (opt == 'p') {
            port = optarg;
        } else if (opt == 'm') {
            static const struct { const char *name; coap_pdu_code_t code; } methods[] = {
                {"get", COAP_REQUEST_CODE_GET}, {"post", COAP_REQUEST_CODE_POST},
                {"put", COAP_REQUEST_CODE_PUT}, {"delete", COAP_REQUEST_CODE_DELETE}};
            for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
                if (strcmp(optarg, methods[i].name) == 0)
                    method = methods[i].code;
        } else if (opt == 'O' && nextra < MAX_OPTS) {
            char *comma = strchr(optarg, ',');
            extra[nextra].number = (uint16_t)atoi(optarg);
            extra[nextra].len = comma ? unhex(comma + 1, extra[nextra].value, sizeof extra[0].value) : 0;
            nextra++;
        } else if (opt == 'f') {
            FILE *f = fopen(optarg, "rb");
            body = malloc(1 << 21);
            body_len = f ? fread(body, 1, 1 << 21, f) : 0;
            if (f)
                fclose(f);
        } else if (opt == 'o') {
            out_path = optarg;
        } else {
            return 2;
        }
    }
    if (optind >= argc)
        return 2;
    proxy_uri = argv[optind];
    coap_startup();
    coap_set_log_level(LOG_WARNING);
    ctx = coap_new_context(NULL);
    coap_register_option(ctx, COAP_OPTION_OSCORE);
    coap_register_response_handler(ctx, on_response);
    coap_address_init(&dst);
    dst.addr.sin.sin_family = AF_INET;
    dst.addr.sin.sin_port = htons((uint16_t)atoi(port));
    inet_pton(AF_INET, "127.0.0.1", &dst.addr.sin.sin_addr);
    dst.size = sizeof dst.addr.sin;
    session = coap_new_client_session(ctx, NULL, &dst, COAP_PROTO_UDP);
    coap_send(session, build(session, 0, 6));
    while (!is_done && waited < 20000)
        waited += (unsigned)coap_io_process(ctx, 100) + 1;
    if (is_done) {
        printf("code:%u.%02u\n%s", final_code >> 5, final_code & 0x1f, options_text);
        if (out_path != NULL) {
            FILE *f = fopen(out_path, "wb");
            if (f != NULL) {
                fwrite(answer, 1, answer_len, f);
                fclose(f);
            }
        }
    }
    free(answer);
    free(body);
    coap_session_release(session);
    coap_free_context(ctx);
    coap_cleanup();
    return is_done ? 0 : 1;
}

/* oscore-peer coap-request: the OSCORE client talking CoAP itself (libcoap), without hcproxy,
 * so the server can be tested on its own: protect, send one outer POST, verify the answer.
 *
 * A protected answer prints the inner response line of peer_finish_response(). An unprotected
 * answer (an OSCORE error, s8.2) prints "unprotected code=4.01 payload=Replay detected" and
 * exits 1, as does no answer at all. */
#include "oscore-peer.h"

#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

enum { ANSWER_WAIT_MS = 10000, IO_STEP_MS = 100 };

/* What the response handler keeps of the (reassembled) answer. */
typedef struct answer {
    bool has_answer;
    bool has_oscore;
    uint8_t code;
    uint8_t option[OSC_OPTION_MAX];
    size_t option_len;
    uint8_t *payload;
    size_t payload_len;
} answer_t;

int peer_address(const char *host, const char *port, coap_address_t *out)
{
    unsigned long p = strtoul(port, NULL, 10);

    coap_address_init(out);
    if (strchr(host, ':') != NULL) {
        out->addr.sin6.sin6_family = AF_INET6;
        out->size = sizeof out->addr.sin6;
        out->addr.sin6.sin6_port = htons((uint16_t)p);
        if (inet_pton(AF_INET6, host, &out->addr.sin6.sin6_addr) == 1 && p > 0 && p < 65536)
            return 0;
    } else {
        out->addr.sin.sin_family = AF_INET;
        out->size = sizeof out->addr.sin;
        out->addr.sin.sin_port = htons((uint16_t)p);
        if (inet_pton(AF_INET, host, &out->addr.sin.sin_addr) == 1 && p > 0 && p < 65536)
            return 0;
    }
    fprintf(stderr, "oscore-peer: bad address %s port %s (IP literals only)\n", host, port);
    return -1;
}

static coap_response_t on_response(coap_session_t *session, const coap_pdu_t *sent,
                                   const coap_pdu_t *received, const coap_mid_t mid)
{
    answer_t *a = coap_session_get_app_data(session);
    coap_opt_iterator_t it;
    coap_opt_t *opt = coap_check_option(received, COAP_OPTION_OSCORE, &it);
    const uint8_t *data = NULL;
    size_t len = 0, offset, total;

    (void)sent;
    (void)mid;
    a->has_answer = true;
    a->code = (uint8_t)coap_pdu_get_code(received);
    a->has_oscore = opt != NULL && coap_opt_length(opt) <= OSC_OPTION_MAX;
    if (a->has_oscore) {
        a->option_len = coap_opt_length(opt);
        memcpy(a->option, coap_opt_value(opt), a->option_len);
    }
    coap_get_data_large(received, &len, &data, &offset, &total);
    a->payload = malloc(len ? len : 1);
    if (a->payload != NULL && len > 0)
        memcpy(a->payload, data, len);
    a->payload_len = a->payload ? len : 0;
    return COAP_RESPONSE_OK;
}

/* Sends the outer POST (block-wise if large, by libcoap) and waits for the whole answer. */
static int exchange(const peer_args_t *args, const osc_sealed_t *sealed, answer_t *a)
{
    coap_address_t dst;
    coap_context_t *ctx;
    coap_session_t *session;
    coap_pdu_t *pdu;
    uint8_t token[8];
    size_t token_len, waited = 0;

    if (peer_address(args->address, args->port, &dst) < 0)
        return -1;
    ctx = coap_new_context(NULL);
    if (ctx == NULL)
        return -1;
    coap_context_set_block_mode(ctx, COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
    coap_register_option(ctx, COAP_OPTION_OSCORE);
    coap_register_response_handler(ctx, on_response);
    session = coap_new_client_session(ctx, NULL, &dst, COAP_PROTO_UDP);
    if (session != NULL) {
        coap_session_set_app_data(session, a);
        pdu = coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_POST, coap_new_message_id(session),
                            coap_session_max_pdu_size(session));
        coap_session_new_token(session, &token_len, token);
        coap_add_token(pdu, token_len, token);
        coap_add_option(pdu, COAP_OPTION_OSCORE, sealed->option_len, sealed->option);
        coap_add_data_large_request(session, pdu, sealed->ciphertext_len, sealed->ciphertext,
                                    NULL, NULL);
        coap_send(session, pdu);
        while (!a->has_answer && waited < ANSWER_WAIT_MS) {
            int spent = coap_io_process(ctx, IO_STEP_MS);
            if (spent < 0)
                break;
            waited += (size_t)spent + 1; /* + 1: a busy loop still reaches the deadline */
        }
    }
    coap_free_context(ctx);
    return a->has_answer ? 0 : -1;
}

static int report(const peer_args_t *args, const osc_ctx_t *ctx, const answer_t *a)
{
    char code[8];

    if (a->has_oscore)
        return peer_finish_response(args, ctx, (osc_bytes_t){a->option, a->option_len},
                                    (osc_bytes_t){a->payload, a->payload_len});
    printf("unprotected code=%s payload=", peer_code_text(a->code, code));
    peer_print_payload(stdout, (osc_bytes_t){a->payload, a->payload_len});
    printf("\n");
    return 1;
}

int peer_coap_request(const peer_args_t *args)
{
    osc_ctx_t ctx;
    osc_sealed_t sealed = {0};
    osc_binding_t bind;
    answer_t answer = {0};
    int status = 1;

    if (args->method == NULL || args->path == NULL || !args->has_seq) {
        fprintf(stderr, "oscore-peer coap-request: --method, --path and --seq are required\n");
        return 2;
    }
    if (peer_protect_request(args, "coap-request", &ctx, &sealed, &bind) != 0)
        return 1;
    if (args->tamper)
        sealed.ciphertext[sealed.ciphertext_len - 1] ^= 0x01;
    coap_startup();
    coap_set_log_level(args->verbose ? LOG_DEBUG : LOG_WARNING);
    if (exchange(args, &sealed, &answer) == 0)
        status = report(args, &ctx, &answer);
    else
        fprintf(stderr, "oscore-peer coap-request: no answer from %s:%s\n", args->address, args->port);
    free(answer.payload);
    osc_sealed_free(&sealed);
    coap_cleanup();
    return status;
}

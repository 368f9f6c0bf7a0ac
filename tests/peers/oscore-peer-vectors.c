/* oscore-peer vectors: every value of RFC 8613 Appendix C (C.1-C.8), the s5.4 AAD example, the
 * s6.3 option examples and the base64url header forms of s11, checked against this peer's code
 * and printed as TAP.
 *
 * The rows are typed from the RFC (the header forms worked out from its option values by s11.2),
 * never computed by the code under test, so a wrong derivation, nonce, AAD or codec fails here. */
#include "oscore-peer.h"

#include <stdlib.h>
#include <string.h>

enum { HEX_MAX = 512 };

/* ---- TAP ----------------------------------------------------------------------------------- */

typedef struct tap {
    int n;
    int failed;
} tap_t;

static void check(tap_t *t, bool is_ok, const char *what, const char *name)
{
    t->n++;
    if (!is_ok)
        t->failed++;
    printf("%sok %d - %s %s\n", is_ok ? "" : "not ", t->n, what, name);
}

/* Compares |got| with the hex string |want|, printing both on a mismatch. */
static void check_bytes(tap_t *t, const char *what, const char *name, osc_bytes_t got,
                        const char *want)
{
    uint8_t buf[HEX_MAX];
    size_t len = 0;
    bool is_ok = osc_hex_decode(want, buf, sizeof buf, &len) == 0 && len == got.len &&
                 (len == 0 || memcmp(buf, got.p, len) == 0);
    char *hex;

    check(t, is_ok, what, name);
    if (is_ok)
        return;
    hex = malloc(2 * got.len + 1);
    if (hex == NULL)
        return;
    osc_hex_encode(got, hex);
    printf("#   want: %s\n#   got:  %s\n", want, hex);
    free(hex);
}

static void check_text(tap_t *t, const char *what, const char *name, const char *got,
                       const char *want)
{
    check(t, strcmp(got, want) == 0, what, name);
    if (strcmp(got, want) != 0)
        printf("#   want: %s\n#   got:  %s\n", want, got);
}

/* A hex row value as bytes in |buf| (the tables hold only valid hex). */
static osc_bytes_t hex(const char *s, uint8_t *buf)
{
    size_t len = 0;

    osc_hex_decode(s, buf, HEX_MAX, &len);
    return (osc_bytes_t){buf, len};
}

/* Encodes |m| into |buf| (HEX_MAX bytes); an oversized message gives an empty view. */
static osc_bytes_t encode(const osc_coap_t *m, osc_form_t form, uint8_t *buf)
{
    osc_writer_t w = {buf, HEX_MAX, 0};

    osc_coap_encode(m, form, &w);
    return (osc_bytes_t){buf, w.len <= w.cap ? w.len : 0};
}

/* ---- C.1-C.3: key derivation --------------------------------------------------------------- */

static const struct kdf_vector {
    const char *name;
    const char *master_secret, *master_salt, *id_context; /* id_context NULL: absent */
    const char *sender_id, *recipient_id;
    const char *info_sender_key, *info_recipient_key, *info_common_iv;
    const char *sender_key, *recipient_key, *common_iv;
    const char *sender_nonce_piv0, *recipient_nonce_piv0;
} kdf_vectors[] = {
    {"C.1.1 client", "0102030405060708090a0b0c0d0e0f10", "9e7ca92223786340", NULL, "", "01",
     "8540f60a634b657910", "854101f60a634b657910", "8540f60a6249560d",
     "f0910ed7295e6ad4b54fc793154302ff", "ffb14e093c94c9cac9471648b4f98710",
     "4622d4dd6d944168eefb54987c", "4622d4dd6d944168eefb54987c", "4722d4dd6d944169eefb54987c"},
    {"C.1.2 server", "0102030405060708090a0b0c0d0e0f10", "9e7ca92223786340", NULL, "01", "",
     "854101f60a634b657910", "8540f60a634b657910", "8540f60a6249560d",
     "ffb14e093c94c9cac9471648b4f98710", "f0910ed7295e6ad4b54fc793154302ff",
     "4622d4dd6d944168eefb54987c", "4722d4dd6d944169eefb54987c", "4622d4dd6d944168eefb54987c"},
    {"C.2.1 client", "0102030405060708090a0b0c0d0e0f10", "", NULL, "00", "01",
     "854100f60a634b657910", "854101f60a634b657910", "8540f60a6249560d",
     "321b26943253c7ffb6003b0b64d74041", "e57b5635815177cd679ab4bcec9d7dda",
     "be35ae297d2dace910c52e99f9", "bf35ae297d2dace910c52e99f9", "bf35ae297d2dace810c52e99f9"},
    {"C.2.2 server", "0102030405060708090a0b0c0d0e0f10", "", NULL, "01", "00",
     "854101f60a634b657910", "854100f60a634b657910", "8540f60a6249560d",
     "e57b5635815177cd679ab4bcec9d7dda", "321b26943253c7ffb6003b0b64d74041",
     "be35ae297d2dace910c52e99f9", "bf35ae297d2dace810c52e99f9", "bf35ae297d2dace910c52e99f9"},
    {"C.3.1 client", "0102030405060708090a0b0c0d0e0f10", "9e7ca92223786340", "37cbf3210017a2d3",
     "", "01", "85404837cbf3210017a2d30a634b657910", "8541014837cbf3210017a2d30a634b657910",
     "85404837cbf3210017a2d30a6249560d", "af2a1300a5e95788b356336eeecd2b92",
     "e39a0c7c77b43f03b4b39ab9a268699f", "2ca58fb85ff1b81c0b7181b85e",
     "2ca58fb85ff1b81c0b7181b85e", "2da58fb85ff1b81d0b7181b85e"},
    {"C.3.2 server", "0102030405060708090a0b0c0d0e0f10", "9e7ca92223786340", "37cbf3210017a2d3",
     "01", "", "8541014837cbf3210017a2d30a634b657910", "85404837cbf3210017a2d30a634b657910",
     "85404837cbf3210017a2d30a6249560d", "e39a0c7c77b43f03b4b39ab9a268699f",
     "af2a1300a5e95788b356336eeecd2b92", "2ca58fb85ff1b81c0b7181b85e",
     "2da58fb85ff1b81d0b7181b85e", "2ca58fb85ff1b81c0b7181b85e"},
};

enum { C1_CLIENT, C1_SERVER, C2_CLIENT, C2_SERVER, C3_CLIENT, C3_SERVER };
_Static_assert(OSC_COUNTOF(kdf_vectors) == C3_SERVER + 1, "one row per C.1-C.3 side");

/* Derives the context of row |i|; the rows are the inputs, not computed values. */
static int derive(size_t i, osc_ctx_t *ctx)
{
    const struct kdf_vector *v = &kdf_vectors[i];
    uint8_t secret[HEX_MAX], salt[HEX_MAX], idc[HEX_MAX], sid[HEX_MAX], rid[HEX_MAX];
    osc_bytes_t id_context = v->id_context ? hex(v->id_context, idc) : (osc_bytes_t){NULL, 0};
    osc_ctx_params_t p = {
        .master_secret = hex(v->master_secret, secret),
        .master_salt = hex(v->master_salt, salt),
        .sender_id = hex(v->sender_id, sid),
        .recipient_id = hex(v->recipient_id, rid),
        .id_context = v->id_context ? &id_context : NULL,
    };

    return osc_ctx_derive(&p, ctx);
}

static void check_kdf(tap_t *t, const struct kdf_vector *v, size_t i)
{
    uint8_t info[OSC_INFO_MAX], idc[HEX_MAX], id[HEX_MAX], nonce[OSC_NONCE_LEN];
    osc_bytes_t id_context = v->id_context ? hex(v->id_context, idc) : (osc_bytes_t){NULL, 0};
    const osc_bytes_t *ctx_arg = v->id_context ? &id_context : NULL;
    static const uint8_t piv0 = 0;
    osc_ctx_t ctx;
    size_t len;

    len = osc_info_encode(hex(v->sender_id, id), ctx_arg, "Key", OSC_KEY_LEN, info, sizeof info);
    check_bytes(t, v->name, "info_sender_key", (osc_bytes_t){info, len}, v->info_sender_key);
    len = osc_info_encode(hex(v->recipient_id, id), ctx_arg, "Key", OSC_KEY_LEN, info, sizeof info);
    check_bytes(t, v->name, "info_recipient_key", (osc_bytes_t){info, len}, v->info_recipient_key);
    len = osc_info_encode((osc_bytes_t){NULL, 0}, ctx_arg, "IV", OSC_NONCE_LEN, info, sizeof info);
    check_bytes(t, v->name, "info_common_iv", (osc_bytes_t){info, len}, v->info_common_iv);
    check(t, derive(i, &ctx) == 0, v->name, "derivation succeeds");
    check_bytes(t, v->name, "sender_key", (osc_bytes_t){ctx.sender_key, OSC_KEY_LEN}, v->sender_key);
    check_bytes(t, v->name, "recipient_key", (osc_bytes_t){ctx.recipient_key, OSC_KEY_LEN},
                v->recipient_key);
    check_bytes(t, v->name, "common_iv", (osc_bytes_t){ctx.common_iv, OSC_NONCE_LEN}, v->common_iv);
    osc_nonce(ctx.common_iv, hex(v->sender_id, id), (osc_bytes_t){&piv0, 1}, nonce);
    check_bytes(t, v->name, "sender_nonce_piv0", (osc_bytes_t){nonce, OSC_NONCE_LEN},
                v->sender_nonce_piv0);
    osc_nonce(ctx.common_iv, hex(v->recipient_id, id), (osc_bytes_t){&piv0, 1}, nonce);
    check_bytes(t, v->name, "recipient_nonce_piv0", (osc_bytes_t){nonce, OSC_NONCE_LEN},
                v->recipient_nonce_piv0);
}

/* ---- shared by C.4-C.8 --------------------------------------------------------------------- */

/* The unprotected message again from a protected one and its decrypted plaintext: the outer
 * header and Class U options (without OSCORE), the inner code, options and payload. */
static void merge(const osc_coap_t *outer, const osc_coap_t *inner, osc_coap_t *out)
{
    *out = *outer;
    out->nopts = 0;
    for (size_t i = 0; i < outer->nopts; i++)
        if (outer->opts[i].number != OSC_COAP_OSCORE)
            out->opts[out->nopts++] = outer->opts[i];
    for (size_t i = 0; i < inner->nopts; i++)
        osc_coap_add_option(out, inner->opts[i].number, inner->opts[i].value);
    out->code = inner->code;
    out->payload = inner->payload;
}

/* The OSCORE message: the outer part of |m| with code |code|, the OSCORE option and the
 * ciphertext as payload (s4.2). */
static osc_bytes_t protected_message(const osc_coap_t *outer_part, uint8_t code,
                                     const osc_sealed_t *sealed, uint8_t *buf)
{
    osc_coap_t outer = *outer_part;

    outer.code = code;
    osc_coap_add_option(&outer, OSC_COAP_OSCORE, (osc_bytes_t){sealed->option, sealed->option_len});
    outer.payload = (osc_bytes_t){sealed->ciphertext, sealed->ciphertext_len};
    return encode(&outer, OSC_FORM_MESSAGE, buf);
}

/* Decodes a protected message and decrypts it, as the receiver, into |plain| and |rebuilt|
 * (the unprotected message again); 0 or the error. */
typedef int (*open_fn)(osc_ctx_t *ctx, osc_bytes_t option, osc_bytes_t ciphertext,
                       const osc_binding_t *bind, uint8_t *plain, size_t *plain_len);

static int open_request(osc_ctx_t *ctx, osc_bytes_t option, osc_bytes_t ciphertext,
                        const osc_binding_t *bind, uint8_t *plain, size_t *plain_len)
{
    osc_binding_t got;
    osc_ctx_t *found;

    (void)bind;
    return osc_verify_request(ctx, 1, option, ciphertext, &found, &got, plain, plain_len);
}

static int open_response(osc_ctx_t *ctx, osc_bytes_t option, osc_bytes_t ciphertext,
                         const osc_binding_t *bind, uint8_t *plain, size_t *plain_len)
{
    return osc_verify_response(ctx, bind, option, ciphertext, plain, plain_len);
}

static void check_receiver(tap_t *t, const char *name, osc_ctx_t *ctx, open_fn open,
                           const osc_binding_t *bind, const char *protected_hex,
                           const char *plaintext_hex, const char *unprotected_hex)
{
    uint8_t wire[HEX_MAX], plain[HEX_MAX], rebuilt_buf[HEX_MAX];
    osc_coap_t outer, inner, rebuilt;
    const osc_coap_option_t *opt;
    size_t plain_len = 0;
    int rc = -1;

    if (osc_coap_decode(hex(protected_hex, wire), OSC_FORM_MESSAGE, &outer) == 0 &&
        (opt = osc_coap_find(&outer, OSC_COAP_OSCORE)) != NULL)
        rc = open(ctx, opt->value, outer.payload, bind, plain, &plain_len);
    check(t, rc == 0, name, "receiver verifies the protected message");
    check_bytes(t, name, "receiver's plaintext", (osc_bytes_t){plain, rc == 0 ? plain_len : 0},
                plaintext_hex);
    if (rc != 0 || osc_coap_decode((osc_bytes_t){plain, plain_len}, OSC_FORM_PLAINTEXT, &inner) < 0)
        memset(&inner, 0, sizeof inner);
    merge(&outer, &inner, &rebuilt);
    check_bytes(t, name, "receiver rebuilds the unprotected message",
                encode(&rebuilt, OSC_FORM_MESSAGE, rebuilt_buf), unprotected_hex);
}

/* The five results of sealing a message (RFC 8613 s6.1, s4.2, s11.2), as a vector gives them. */
struct sealed_vector {
    const char *option, *ciphertext, *protected_msg;
    size_t protected_len;
    const char *header; /* s11.2 form of the option (base64url, not printed in the RFC) */
};

/* The external AAD for |kid| and |piv| as its array and as the Enc_structure (s5.4). */
static void check_aad(tap_t *t, const char *name, osc_bytes_t kid, osc_bytes_t piv,
                      const char *aad_array, const char *aad)
{
    uint8_t buf[OSC_AAD_MAX];
    size_t len;

    len = osc_aad_array_encode(kid, piv, buf, sizeof buf);
    check_bytes(t, name, "aad_array", (osc_bytes_t){buf, len}, aad_array);
    len = osc_aad_encode(kid, piv, buf, sizeof buf);
    check_bytes(t, name, "aad", (osc_bytes_t){buf, len}, aad);
}

/* |sealed| against |want|: the OSCORE option value, the ciphertext, the protected message with
 * |outer| and the outer code |code| (s4.2), named |what|, its length, and the header form. */
static void check_sealed(tap_t *t, const char *name, const osc_sealed_t *sealed,
                         const osc_coap_t *outer, uint8_t code, const char *what,
                         const struct sealed_vector *want)
{
    uint8_t buf[HEX_MAX];
    char header[OSC_HEADER_MAX], length[64];
    osc_bytes_t msg;

    check_bytes(t, name, "oscore_option_value", (osc_bytes_t){sealed->option, sealed->option_len},
                want->option);
    check_bytes(t, name, "ciphertext", (osc_bytes_t){sealed->ciphertext, sealed->ciphertext_len},
                want->ciphertext);
    msg = protected_message(outer, code, sealed, buf);
    check_bytes(t, name, what, msg, want->protected_msg);
    snprintf(length, sizeof length, "%s_length", what);
    check(t, msg.len == want->protected_len, name, length);
    osc_header_from_option((osc_bytes_t){sealed->option, sealed->option_len}, header);
    check_text(t, name, "OSCORE header", header, want->header);
}

/* The header form decodes to the option value (s11.2). */
static void check_header(tap_t *t, const char *name, const struct sealed_vector *want)
{
    uint8_t opt[OSC_OPTION_MAX];
    size_t len = 0;

    check(t, osc_option_from_header(want->header, opt, &len) == 0, name, "OSCORE header decodes");
    check_bytes(t, name, "option from header", (osc_bytes_t){opt, len}, want->option);
}

/* ---- C.4-C.6: protected requests ----------------------------------------------------------- */

static const struct request_vector {
    const char *name;
    size_t client, server; /* rows of kdf_vectors */
    const char *unprotected;
    uint64_t seq;
    const char *partial_iv, *kid, *aad_array, *aad, *plaintext, *nonce;
    struct sealed_vector sealed;
} request_vectors[] = {
    {"C.4", C1_CLIENT, C1_SERVER, "44015d1f00003974396c6f63616c686f737483747631", 20, "14", "",
     "8501810a40411440", "8368456e63727970743040488501810a40411440", "01b3747631",
     "4622d4dd6d944168eefb549868", {"0914", "612f1092f1776f1c1668b3825e",
     "44025d1f00003974396c6f63616c686f7374620914ff612f1092f1776f1c1668b3825e", 35, "CRQ"}},
    {"C.5", C2_CLIENT, C2_SERVER, "440171c30000b932396c6f63616c686f737483747631", 20, "14", "00",
     "8501810a4100411440", "8368456e63727970743040498501810a4100411440", "01b3747631",
     "bf35ae297d2dace910c52e99ed", {"091400", "4ed339a5a379b0b8bc731fffb0",
     "440271c30000b932396c6f63616c686f737463091400ff4ed339a5a379b0b8bc731fffb0", 36, "CRQA"}},
    {"C.6", C3_CLIENT, C3_SERVER, "44012f8eef9bbf7a396c6f63616c686f737483747631", 20, "14", "",
     "8501810a40411440", "8368456e63727970743040488501810a40411440", "01b3747631",
     "2ca58fb85ff1b81c0b7181b84a", {"19140837cbf3210017a2d3", "72cd7273fd331ac45cffbe55c3",
     "44022f8eef9bbf7a396c6f63616c686f73746b19140837cbf3210017a2d3ff72cd7273fd331ac45cffbe55c3",
     44, "GRQIN8vzIQAXotM"}},
};

/* The sender's side: split, AAD, nonce, encryption, the OSCORE message and its header form. */
static void check_request_sender(tap_t *t, const struct request_vector *v, const osc_ctx_t *ctx,
                                 const osc_coap_t *orig)
{
    uint8_t buf[HEX_MAX], kid[HEX_MAX], piv[OSC_PIV_MAX], nonce[OSC_NONCE_LEN];
    osc_coap_t inner, outer;
    osc_bytes_t plain;
    osc_sealed_t sealed = {0};
    osc_binding_t bind;
    osc_bytes_t p;

    osc_coap_split(orig, &inner, &outer);
    plain = encode(&inner, OSC_FORM_PLAINTEXT, buf);
    check_bytes(t, v->name, "plaintext", plain, v->plaintext);
    p = (osc_bytes_t){piv, osc_piv_from_seq(v->seq, piv)};
    check_bytes(t, v->name, "partial_iv", p, v->partial_iv);
    check_aad(t, v->name, hex(v->kid, kid), p, v->aad_array, v->aad);
    osc_nonce(ctx->common_iv, hex(v->kid, kid), p, nonce);
    check_bytes(t, v->name, "nonce", (osc_bytes_t){nonce, OSC_NONCE_LEN}, v->nonce);
    check(t, osc_protect_request(ctx, v->seq, plain, &sealed, &bind) == 0, v->name, "protects");
    check_bytes(t, v->name, "binding nonce", (osc_bytes_t){bind.nonce, OSC_NONCE_LEN}, v->nonce);
    /* s4.2: outer code POST */
    check_sealed(t, v->name, &sealed, &outer, 0x02, "protected_request", &v->sealed);
    osc_sealed_free(&sealed);
}

/* The receiver's side: verification, replay and tamper detection. */
static void check_request_receiver(tap_t *t, const struct request_vector *v)
{
    uint8_t wire[HEX_MAX], plain[HEX_MAX];
    osc_ctx_t server, *found;
    osc_binding_t bind;
    osc_coap_t msg;
    const osc_coap_option_t *opt;
    size_t plain_len, last;

    if (derive(v->server, &server) != 0)
        memset(&server, 0, sizeof server);
    check_receiver(t, v->name, &server, open_request, NULL, v->sealed.protected_msg, v->plaintext,
                   v->unprotected);
    osc_coap_decode(hex(v->sealed.protected_msg, wire), OSC_FORM_MESSAGE, &msg);
    opt = osc_coap_find(&msg, OSC_COAP_OSCORE);
    check(t, opt != NULL && osc_verify_request(&server, 1, opt->value, msg.payload, &found, &bind,
                                               plain, &plain_len) == OSC_EREPLAY,
          v->name, "the same request again is a replay (s7.4)");
    derive(v->server, &server);
    last = (size_t)(msg.payload.p - wire) + msg.payload.len - 1;
    wire[last] ^= 0x01; /* a bit of the tag */
    check(t, opt != NULL && osc_verify_request(&server, 1, opt->value, msg.payload, &found, &bind,
                                               plain, &plain_len) == OSC_EDECRYPT,
          v->name, "a flipped ciphertext bit fails decryption");
    check(t, !server.replay.has_seen, v->name, "a failed request leaves the replay window");
}

static void check_request(tap_t *t, const struct request_vector *v)
{
    uint8_t wire[HEX_MAX], buf[HEX_MAX];
    osc_coap_t orig;
    osc_ctx_t client;

    check(t, derive(v->client, &client) == 0, v->name, "client context derives");
    check(t, osc_coap_decode(hex(v->unprotected, wire), OSC_FORM_MESSAGE, &orig) == 0, v->name,
          "unprotected_request decodes");
    check_bytes(t, v->name, "unprotected_request re-encodes", encode(&orig, OSC_FORM_MESSAGE, buf),
                v->unprotected);
    check_request_sender(t, v, &client, &orig);
    check_request_receiver(t, v);
    check_header(t, v->name, &v->sealed);
}

/* ---- C.7-C.8: protected responses ---------------------------------------------------------- */

static const struct response_vector {
    const char *name;
    size_t server, client; /* rows of kdf_vectors */
    uint64_t request_seq;  /* the client's request C.4 */
    const char *request_kid, *request_piv;
    const char *unprotected;
    const uint64_t *seq; /* NULL: no Partial IV */
    const char *aad_array, *aad, *plaintext, *nonce;
    struct sealed_vector sealed;
} response_vectors[] = {
    {"C.7", C1_SERVER, C1_CLIENT, 20, "", "14", "64455d1f00003974ff48656c6c6f20576f726c6421",
     NULL, "8501810a40411440", "8368456e63727970743040488501810a40411440",
     "45ff48656c6c6f20576f726c6421", "4622d4dd6d944168eefb549868", {"",
     "dbaad1e9a7e7b2a813d3c31524378303cdafae119106",
     "64445d1f0000397490ffdbaad1e9a7e7b2a813d3c31524378303cdafae119106", 32, "AA"}},
    {"C.8", C1_SERVER, C1_CLIENT, 20, "", "14", "64455d1f00003974ff48656c6c6f20576f726c6421",
     &(const uint64_t){0}, "8501810a40411440", "8368456e63727970743040488501810a40411440",
     "45ff48656c6c6f20576f726c6421", "4722d4dd6d944169eefb54987c", {"0100",
     "4d4c13669384b67354b2b6175ff4b8658c666a6cf88e",
     "64445d1f00003974920100ff4d4c13669384b67354b2b6175ff4b8658c666a6cf88e", 34, "AQA"}},
};

static void check_response_sender(tap_t *t, const struct response_vector *v, const osc_ctx_t *ctx,
                                  const osc_binding_t *bind, const osc_coap_t *orig)
{
    uint8_t buf[HEX_MAX], piv[OSC_PIV_MAX], nonce[OSC_NONCE_LEN];
    osc_bytes_t kid = {bind->kid, bind->kid_len}, rpiv = {bind->piv, bind->piv_len}, plain;
    osc_coap_t inner, outer;
    osc_sealed_t sealed = {0};

    osc_coap_split(orig, &inner, &outer);
    plain = encode(&inner, OSC_FORM_PLAINTEXT, buf);
    check_bytes(t, v->name, "plaintext", plain, v->plaintext);
    check_aad(t, v->name, kid, rpiv, v->aad_array, v->aad);
    memcpy(nonce, bind->nonce, OSC_NONCE_LEN); /* s5.2: no Partial IV, the request's nonce */
    if (v->seq != NULL)
        osc_nonce(ctx->common_iv, (osc_bytes_t){ctx->sender_id, ctx->sender_id_len},
                  (osc_bytes_t){piv, osc_piv_from_seq(*v->seq, piv)}, nonce);
    check_bytes(t, v->name, "nonce", (osc_bytes_t){nonce, OSC_NONCE_LEN}, v->nonce);
    check(t, osc_protect_response(ctx, bind, v->seq, plain, &sealed) == 0, v->name, "protects");
    /* s4.2: outer code 2.04 Changed */
    check_sealed(t, v->name, &sealed, &outer, 0x44, "protected_response", &v->sealed);
    osc_sealed_free(&sealed);
}

static void check_response(tap_t *t, const struct response_vector *v)
{
    uint8_t wire[HEX_MAX], buf[HEX_MAX];
    osc_ctx_t server, client;
    osc_binding_t bind, client_bind;
    osc_coap_t orig;

    check(t, derive(v->server, &server) == 0 && derive(v->client, &client) == 0, v->name,
          "contexts derive");
    /* The server's binding comes from the request it verified: kid, PIV and the nonce. */
    bind.kid_len = hex(v->request_kid, buf).len;
    memcpy(bind.kid, buf, bind.kid_len);
    bind.piv_len = hex(v->request_piv, buf).len;
    memcpy(bind.piv, buf, bind.piv_len);
    osc_nonce(server.common_iv, (osc_bytes_t){bind.kid, bind.kid_len},
              (osc_bytes_t){bind.piv, bind.piv_len}, bind.nonce);
    osc_binding_for_seq(&client, v->request_seq, &client_bind);
    check(t, bind.kid_len == client_bind.kid_len && bind.piv_len == client_bind.piv_len &&
                 memcmp(bind.kid, client_bind.kid, bind.kid_len) == 0 &&
                 memcmp(bind.piv, client_bind.piv, bind.piv_len) == 0 &&
                 memcmp(bind.nonce, client_bind.nonce, OSC_NONCE_LEN) == 0,
          v->name, "client and server bind the request alike");
    check(t, osc_coap_decode(hex(v->unprotected, wire), OSC_FORM_MESSAGE, &orig) == 0, v->name,
          "unprotected_response decodes");
    check_response_sender(t, v, &server, &bind, &orig);
    check_receiver(t, v->name, &client, open_response, &client_bind, v->sealed.protected_msg,
                   v->plaintext, v->unprotected);
    check_header(t, v->name, &v->sealed);
}

/* ---- s5.4 AAD example ---------------------------------------------------------------------- */

static void check_aad_example(tap_t *t)
{
    static const uint8_t kid = 0x00, piv = 0x25;
    uint8_t out[OSC_AAD_MAX];
    osc_bytes_t k = {&kid, 1}, p = {&piv, 1};
    size_t len;

    len = osc_aad_array_encode(k, p, out, sizeof out);
    check_bytes(t, "s5.4", "aad_array", (osc_bytes_t){out, len}, "8501810a4100412540");
    len = osc_external_aad_encode(k, p, out, sizeof out);
    check_bytes(t, "s5.4", "external_aad", (osc_bytes_t){out, len}, "498501810a4100412540");
    len = osc_aad_encode(k, p, out, sizeof out);
    check_bytes(t, "s5.4", "aad", (osc_bytes_t){out, len}, "8368456e63727970743040498501810a4100412540");
}

/* ---- s6.3 compression examples and s11 header forms ---------------------------------------- */

static const struct option_example {
    const char *name;
    const char *piv, *kid, *kid_context; /* kid, kid_context NULL: absent */
    const char *value, *header;
} option_examples[] = {
    {"s6.3 ex1 kid=25 piv=05", "05", "25", NULL, "090525", "CQUl"},
    {"s6.3 ex2 kid=empty piv=00", "00", "", NULL, "0900", "CQA"},
    {"s6.3 ex3 kid context", "05", "", "44616c656b", "19050544616c656b", "GQUFRGFsZWs"},
    {"s6.3 ex4 response no piv", "", NULL, NULL, "", "AA"},
    {"s6.3 ex5 response piv=07", "07", NULL, NULL, "0107", "AQc"},
    {"s11.5 request", "25", "", NULL, "0925", "CSU"},
};

static bool same_field(osc_bytes_t got, bool is_present, const char *want, uint8_t *buf)
{
    osc_bytes_t w = want ? hex(want, buf) : (osc_bytes_t){NULL, 0};

    return is_present == (want != NULL) && got.len == w.len && (w.len == 0 || memcmp(got.p, w.p, w.len) == 0);
}

static void check_option_example(tap_t *t, const struct option_example *e)
{
    uint8_t pb[HEX_MAX], kb[HEX_MAX], cb[HEX_MAX], vb[HEX_MAX], out[OSC_OPTION_MAX];
    osc_option_t o = {
        .piv = hex(e->piv, pb),
        .has_kid = e->kid != NULL,
        .kid = e->kid ? hex(e->kid, kb) : (osc_bytes_t){NULL, 0},
        .has_kid_context = e->kid_context != NULL,
        .kid_context = e->kid_context ? hex(e->kid_context, cb) : (osc_bytes_t){NULL, 0},
    }, parsed;
    int len = osc_option_format(&o, out);
    char header[OSC_HEADER_MAX];
    size_t hlen = 0;

    check_bytes(t, e->name, "option value", (osc_bytes_t){out, len < 0 ? 0 : (size_t)len}, e->value);
    check(t, osc_option_parse(hex(e->value, vb), &parsed) == 0 &&
                 same_field(parsed.piv, parsed.piv.len > 0, e->piv[0] ? e->piv : NULL, pb) &&
                 same_field(parsed.kid, parsed.has_kid, e->kid, kb) &&
                 same_field(parsed.kid_context, parsed.has_kid_context, e->kid_context, cb),
          e->name, "option value parses into its fields");
    osc_header_from_option(hex(e->value, vb), header);
    check_text(t, e->name, "OSCORE header", header, e->header);
    check(t, osc_option_from_header(e->header, out, &hlen) == 0, e->name, "header decodes");
    check_bytes(t, e->name, "option from header", (osc_bytes_t){out, hlen}, e->value);
}

/* Not the canonical unpadded base64url of s11.1's ABNF (RFC 4648 s5, s3.5). */
static const char *const bad_headers[] = {"A", "AA==", "CR+Q", "AB", "", "CR Q", "CR/Q"};

/* Malformed option values (s6.1): reserved flag bits, reserved PIV lengths, truncated fields,
 * bytes after the fields without a kid. */
static const char *const bad_options[] = {"2914", "8914", "0e0102030405060708", "0301", "1914",
                                          "190103", "0114ff"};

static void check_rejects(tap_t *t)
{
    uint8_t out[OSC_OPTION_MAX], vb[HEX_MAX];
    osc_option_t o;
    osc_coap_t m;
    size_t len;
    char name[64];

    for (size_t i = 0; i < OSC_COUNTOF(bad_headers); i++) {
        snprintf(name, sizeof name, "\"%s\"", bad_headers[i]);
        check(t, osc_option_from_header(bad_headers[i], out, &len) < 0, "header rejected:", name);
    }
    for (size_t i = 0; i < OSC_COUNTOF(bad_options); i++)
        check(t, osc_option_parse(hex(bad_options[i], vb), &o) < 0, "option value rejected:",
              bad_options[i]);
    /* RFC 7252 s3: a payload marker followed by nothing is a format error. */
    check(t, osc_coap_decode(hex("60450000ff", vb), OSC_FORM_MESSAGE, &m) < 0, "CoAP",
          "payload marker without payload rejected");
    check(t, osc_coap_decode(hex("45f0", vb), OSC_FORM_PLAINTEXT, &m) < 0, "CoAP",
          "option nibble 15 rejected");
}

/* ---- s7.4 replay window -------------------------------------------------------------------- */

static const struct {
    uint64_t seq;
    bool is_fresh;
} replay_steps[] = {
    {5, true}, {5, false}, {3, true}, {3, false}, {4, true}, {40, true}, {5, false},
    {8, false},  /* 40 - 8 = 32: left the 32-wide window */
    {9, true},   /* 40 - 9 = 31: the oldest slot */
    {9, false}, {41, true}, {10, true}, {10, false}, {1000, true}, {41, false}, {999, true},
};

static void check_replay(tap_t *t)
{
    osc_ctx_t ctx = {0};
    char name[64];

    for (size_t i = 0; i < OSC_COUNTOF(replay_steps); i++) {
        bool is_fresh = osc_replay_is_fresh(&ctx, replay_steps[i].seq);
        snprintf(name, sizeof name, "step %zu: %llu is %s", i + 1,
                 (unsigned long long)replay_steps[i].seq, replay_steps[i].is_fresh ? "fresh" : "a replay");
        check(t, is_fresh == replay_steps[i].is_fresh, "replay window", name);
        if (is_fresh)
            osc_replay_accept(&ctx, replay_steps[i].seq);
    }
}

int peer_vectors(void)
{
    tap_t t = {0};

    for (size_t i = 0; i < OSC_COUNTOF(kdf_vectors); i++)
        check_kdf(&t, &kdf_vectors[i], i);
    for (size_t i = 0; i < OSC_COUNTOF(request_vectors); i++)
        check_request(&t, &request_vectors[i]);
    for (size_t i = 0; i < OSC_COUNTOF(response_vectors); i++)
        check_response(&t, &response_vectors[i]);
    check_aad_example(&t);
    for (size_t i = 0; i < OSC_COUNTOF(option_examples); i++)
        check_option_example(&t, &option_examples[i]);
    check_rejects(&t);
    check_replay(&t);
    printf("1..%d\n", t.n);
    return t.failed == 0 ? 0 : 1;
}

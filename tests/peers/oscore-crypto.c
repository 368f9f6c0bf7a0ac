/* OSCORE (RFC 8613) for the test peer: see oscore-crypto.h. */
#include "oscore-crypto.h"

#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

static const struct {
    int err;
    uint8_t code;
    const char *text;
} errors[] = {
#define OSC_ERROR_ROW(name, code, text) {OSC_E##name, code, text},
    OSC_ERRORS(OSC_ERROR_ROW)
#undef OSC_ERROR_ROW
};

const char *osc_strerror(int err)
{
    for (size_t i = 0; i < OSC_COUNTOF(errors); i++)
        if (errors[i].err == err)
            return errors[i].text;
    return "unknown error";
}

uint8_t osc_err_code(int err)
{
    for (size_t i = 0; i < OSC_COUNTOF(errors); i++)
        if (errors[i].err == err)
            return errors[i].code;
    return 0xa0; /* 5.00 */
}

/* ---- the little CBOR (RFC 8949) that s3.2.1 and s5.4 need ---------------------------------- */

enum { CBOR_UINT = 0, CBOR_BSTR = 2, CBOR_TSTR = 3, CBOR_ARRAY = 4, CBOR_NIL = 0xf6 };

static void cbor_head(osc_writer_t *w, uint8_t major, uint64_t v)
{
    if (v < 24) {
        osc_put_byte(w, (uint8_t)(major << 5 | v));
    } else if (v <= UINT8_MAX) {
        osc_put_byte(w, (uint8_t)(major << 5 | 24));
        osc_put_byte(w, (uint8_t)v);
    } else {
        /* No value of these tests needs more than two bytes (ids and AADs are short). */
        osc_put_byte(w, (uint8_t)(major << 5 | 25));
        osc_put_byte(w, (uint8_t)(v >> 8));
        osc_put_byte(w, (uint8_t)v);
    }
}

static void cbor_bstr(osc_writer_t *w, osc_bytes_t b)
{
    cbor_head(w, CBOR_BSTR, b.len);
    osc_put(w, b.p, b.len);
}

static void cbor_tstr(osc_writer_t *w, const char *s)
{
    cbor_head(w, CBOR_TSTR, strlen(s));
    osc_put(w, (const uint8_t *)s, strlen(s));
}

size_t osc_info_encode(osc_bytes_t id, const osc_bytes_t *id_context, const char *type,
                       size_t out_len, uint8_t *out, size_t cap)
{
    osc_writer_t w = {out, cap, 0};

    cbor_head(&w, CBOR_ARRAY, 5);
    cbor_bstr(&w, id);
    if (id_context != NULL)
        cbor_bstr(&w, *id_context);
    else
        osc_put_byte(&w, CBOR_NIL);
    cbor_head(&w, CBOR_UINT, OSC_ALG_AES_CCM_16_64_128);
    cbor_tstr(&w, type);
    cbor_head(&w, CBOR_UINT, out_len);
    return w.len;
}

size_t osc_aad_array_encode(osc_bytes_t kid, osc_bytes_t piv, uint8_t *out, size_t cap)
{
    osc_writer_t w = {out, cap, 0};

    cbor_head(&w, CBOR_ARRAY, 5);
    cbor_head(&w, CBOR_UINT, 1); /* oscore_version */
    cbor_head(&w, CBOR_ARRAY, 1);
    cbor_head(&w, CBOR_UINT, OSC_ALG_AES_CCM_16_64_128);
    cbor_bstr(&w, kid);
    cbor_bstr(&w, piv);
    cbor_bstr(&w, (osc_bytes_t){NULL, 0}); /* Class I options: none are defined */
    return w.len;
}

size_t osc_external_aad_encode(osc_bytes_t kid, osc_bytes_t piv, uint8_t *out, size_t cap)
{
    uint8_t array[OSC_AAD_MAX];
    osc_writer_t w = {out, cap, 0};
    size_t len = osc_aad_array_encode(kid, piv, array, sizeof array);

    cbor_bstr(&w, (osc_bytes_t){array, len <= sizeof array ? len : 0});
    return len <= sizeof array ? w.len : SIZE_MAX;
}

size_t osc_aad_encode(osc_bytes_t kid, osc_bytes_t piv, uint8_t *out, size_t cap)
{
    uint8_t ext[OSC_AAD_MAX];
    osc_writer_t w = {out, cap, 0};
    size_t len = osc_external_aad_encode(kid, piv, ext, sizeof ext);

    if (len > sizeof ext)
        return SIZE_MAX;
    cbor_head(&w, CBOR_ARRAY, 3); /* COSE Enc_structure, RFC 8152 s5.3 */
    cbor_tstr(&w, "Encrypt0");
    cbor_bstr(&w, (osc_bytes_t){NULL, 0}); /* protected header: empty in OSCORE */
    osc_put(&w, ext, len);
    return w.len;
}

/* ---- key derivation (s3.2.1) -------------------------------------------------------------- */

static int hkdf(const uint8_t prk[32], const uint8_t *info, size_t info_len, uint8_t *out,
                size_t len)
{
    gnutls_datum_t key = {(unsigned char *)prk, 32}, in = {(unsigned char *)info, (unsigned)info_len};

    return gnutls_hkdf_expand(GNUTLS_MAC_SHA256, &key, &in, out, len) == 0 ? 0 : OSC_ECRYPTO;
}

static int derive_one(const uint8_t prk[32], osc_bytes_t id, const osc_bytes_t *id_context,
                      const char *type, uint8_t *out, size_t len)
{
    uint8_t info[OSC_INFO_MAX];
    size_t info_len = osc_info_encode(id, id_context, type, len, info, sizeof info);

    return info_len <= sizeof info ? hkdf(prk, info, info_len, out, len) : OSC_EDECODE;
}

/* memcpy() that accepts the NULL pointer of an empty view. */
static void copy(uint8_t *to, osc_bytes_t from)
{
    if (from.len > 0)
        memcpy(to, from.p, from.len);
}

static void copy_id(osc_bytes_t from, uint8_t *to, size_t *len)
{
    copy(to, from);
    *len = from.len;
}

int osc_ctx_derive(const osc_ctx_params_t *p, osc_ctx_t *ctx)
{
    /* RFC 5869 s2.2: an absent salt is HashLen zeros, which HMAC treats like an empty key. */
    static const uint8_t default_salt[32];
    osc_bytes_t salt = p->master_salt.len ? p->master_salt : (osc_bytes_t){default_salt, 32};
    gnutls_datum_t ikm = {(unsigned char *)p->master_secret.p, (unsigned)p->master_secret.len};
    gnutls_datum_t salt_datum = {(unsigned char *)salt.p, (unsigned)salt.len};
    uint8_t prk[32];
    int rc;

    memset(ctx, 0, sizeof *ctx);
    if (p->sender_id.len > OSC_ID_MAX || p->recipient_id.len > OSC_ID_MAX ||
        (p->id_context != NULL && p->id_context->len > OSC_ID_CONTEXT_MAX))
        return OSC_EDECODE;
    if (gnutls_hkdf_extract(GNUTLS_MAC_SHA256, &ikm, &salt_datum, prk) != 0)
        return OSC_ECRYPTO;
    copy_id(p->sender_id, ctx->sender_id, &ctx->sender_id_len);
    copy_id(p->recipient_id, ctx->recipient_id, &ctx->recipient_id_len);
    if (p->id_context != NULL) {
        copy_id(*p->id_context, ctx->id_context, &ctx->id_context_len);
        ctx->has_id_context = true;
    }
    rc = derive_one(prk, p->sender_id, p->id_context, "Key", ctx->sender_key, OSC_KEY_LEN);
    if (rc == 0)
        rc = derive_one(prk, p->recipient_id, p->id_context, "Key", ctx->recipient_key, OSC_KEY_LEN);
    if (rc == 0)
        rc = derive_one(prk, (osc_bytes_t){NULL, 0}, p->id_context, "IV", ctx->common_iv,
                        OSC_NONCE_LEN);
    memset(prk, 0, sizeof prk);
    return rc;
}

/* ---- nonce (s5.2) and Partial IV (s6.1) ---------------------------------------------------- */

size_t osc_piv_from_seq(uint64_t seq, uint8_t out[OSC_PIV_MAX])
{
    size_t len = 1;

    while (len < OSC_PIV_MAX && seq >> (8 * len) != 0)
        len++;
    for (size_t i = 0; i < len; i++)
        out[i] = (uint8_t)(seq >> (8 * (len - 1 - i)));
    return len;
}

uint64_t osc_seq_from_piv(osc_bytes_t piv)
{
    uint64_t seq = 0;

    for (size_t i = 0; i < piv.len; i++)
        seq = seq << 8 | piv.p[i];
    return seq;
}

void osc_nonce(const uint8_t common_iv[OSC_NONCE_LEN], osc_bytes_t id_piv, osc_bytes_t piv,
               uint8_t out[OSC_NONCE_LEN])
{
    /* Byte 0: the ID_PIV length; then ID_PIV left-padded to 7 bytes; then PIV padded to 5. */
    memset(out, 0, OSC_NONCE_LEN);
    out[0] = (uint8_t)id_piv.len;
    copy(out + 1 + OSC_ID_MAX - id_piv.len, id_piv);
    copy(out + OSC_NONCE_LEN - piv.len, piv);
    for (size_t i = 0; i < OSC_NONCE_LEN; i++)
        out[i] ^= common_iv[i];
}

/* ---- AEAD ---------------------------------------------------------------------------------- */

static int aead(bool is_seal, const uint8_t key[OSC_KEY_LEN], const uint8_t nonce[OSC_NONCE_LEN],
                osc_bytes_t aad, osc_bytes_t in, uint8_t *out)
{
    gnutls_datum_t k = {(unsigned char *)key, OSC_KEY_LEN};
    gnutls_aead_cipher_hd_t h;
    size_t out_len = is_seal ? in.len + OSC_TAG_LEN : in.len - OSC_TAG_LEN;
    int rc;

    if (!is_seal && in.len < OSC_TAG_LEN)
        return OSC_EDECRYPT;
    if (gnutls_aead_cipher_init(&h, GNUTLS_CIPHER_AES_128_CCM_8, &k) != 0)
        return OSC_ECRYPTO;
    if (is_seal)
        rc = gnutls_aead_cipher_encrypt(h, nonce, OSC_NONCE_LEN, aad.p, aad.len, OSC_TAG_LEN,
                                        in.p, in.len, out, &out_len);
    else
        rc = gnutls_aead_cipher_decrypt(h, nonce, OSC_NONCE_LEN, aad.p, aad.len, OSC_TAG_LEN,
                                        in.p, in.len, out, &out_len);
    gnutls_aead_cipher_deinit(h);
    if (rc == GNUTLS_E_DECRYPTION_FAILED)
        return OSC_EDECRYPT;
    return rc == 0 ? 0 : OSC_ECRYPTO;
}

int osc_aead_seal(const uint8_t key[OSC_KEY_LEN], const uint8_t nonce[OSC_NONCE_LEN],
                  osc_bytes_t aad, osc_bytes_t plain, uint8_t *out)
{
    return aead(true, key, nonce, aad, plain, out);
}

int osc_aead_open(const uint8_t key[OSC_KEY_LEN], const uint8_t nonce[OSC_NONCE_LEN],
                  osc_bytes_t aad, osc_bytes_t cipher, uint8_t *out)
{
    return aead(false, key, nonce, aad, cipher, out);
}

/* ---- replay window (s7.4, like DTLS: RFC 6347 s4.1.2.6) ------------------------------------ */

bool osc_replay_is_fresh(const osc_ctx_t *ctx, uint64_t seq)
{
    uint64_t age;

    if (!ctx->replay.has_seen || seq > ctx->replay.top)
        return true;
    age = ctx->replay.top - seq;
    return age < OSC_REPLAY_WINDOW && (ctx->replay.bits & (UINT32_C(1) << age)) == 0;
}

void osc_replay_accept(osc_ctx_t *ctx, uint64_t seq)
{
    uint64_t shift;

    if (!ctx->replay.has_seen || seq > ctx->replay.top) {
        shift = ctx->replay.has_seen ? seq - ctx->replay.top : OSC_REPLAY_WINDOW;
        ctx->replay.bits = shift >= OSC_REPLAY_WINDOW ? 0 : ctx->replay.bits << shift;
        ctx->replay.bits |= 1;
        ctx->replay.top = seq;
        ctx->replay.has_seen = true;
        return;
    }
    ctx->replay.bits |= UINT32_C(1) << (ctx->replay.top - seq);
}

/* ---- protecting and verifying (s8) --------------------------------------------------------- */

void osc_binding_for_seq(const osc_ctx_t *ctx, uint64_t seq, osc_binding_t *bind)
{
    copy_id((osc_bytes_t){ctx->sender_id, ctx->sender_id_len}, bind->kid, &bind->kid_len);
    bind->piv_len = osc_piv_from_seq(seq, bind->piv);
    osc_nonce(ctx->common_iv, (osc_bytes_t){ctx->sender_id, ctx->sender_id_len},
              (osc_bytes_t){bind->piv, bind->piv_len}, bind->nonce);
}

void osc_sealed_free(osc_sealed_t *sealed)
{
    free(sealed->ciphertext);
    sealed->ciphertext = NULL;
}

/* Encrypts |plaintext| with the request's AAD into a fresh sealed->ciphertext. */
static int seal(const uint8_t key[OSC_KEY_LEN], const uint8_t nonce[OSC_NONCE_LEN],
                const osc_binding_t *bind, osc_bytes_t plaintext, osc_sealed_t *out)
{
    uint8_t aad[OSC_AAD_MAX];
    size_t aad_len = osc_aad_encode((osc_bytes_t){bind->kid, bind->kid_len},
                                    (osc_bytes_t){bind->piv, bind->piv_len}, aad, sizeof aad);
    int rc;

    out->ciphertext_len = plaintext.len + OSC_TAG_LEN;
    out->ciphertext = malloc(out->ciphertext_len);
    if (out->ciphertext == NULL)
        return OSC_ENOMEM;
    rc = osc_aead_seal(key, nonce, (osc_bytes_t){aad, aad_len}, plaintext, out->ciphertext);
    if (rc != 0)
        osc_sealed_free(out);
    return rc;
}

int osc_protect_request(const osc_ctx_t *ctx, uint64_t seq, osc_bytes_t plaintext,
                        osc_sealed_t *out, osc_binding_t *bind)
{
    osc_option_t option = {
        .has_kid = true, /* s5: a request always carries the kid, even an empty one */
        .has_kid_context = ctx->has_id_context,
        .kid_context = {ctx->id_context, ctx->id_context_len},
        .kid = {ctx->sender_id, ctx->sender_id_len},
    };
    int len;

    osc_binding_for_seq(ctx, seq, bind);
    option.piv = (osc_bytes_t){bind->piv, bind->piv_len};
    len = osc_option_format(&option, out->option);
    if (len < 0)
        return OSC_EDECODE;
    out->option_len = (size_t)len;
    return seal(ctx->sender_key, bind->nonce, bind, plaintext, out);
}

/* s8.2 step 3: the recipient whose id is the kid. The kid context, when present, must equal the
 * context's ID Context, and a request without one matches only a context without one. */
static osc_ctx_t *find_recipient(osc_ctx_t *ctxs, size_t n, const osc_option_t *opt)
{
    for (size_t i = 0; i < n; i++) {
        osc_ctx_t *c = &ctxs[i];
        if (c->recipient_id_len != opt->kid.len ||
            (opt->kid.len > 0 && memcmp(c->recipient_id, opt->kid.p, opt->kid.len) != 0))
            continue;
        if (c->has_id_context != opt->has_kid_context)
            continue;
        if (!opt->has_kid_context || (c->id_context_len == opt->kid_context.len &&
                                      memcmp(c->id_context, opt->kid_context.p, c->id_context_len) == 0))
            return c;
    }
    return NULL;
}

static int open_into(const uint8_t key[OSC_KEY_LEN], const uint8_t nonce[OSC_NONCE_LEN],
                     const osc_binding_t *bind, osc_bytes_t ciphertext, uint8_t *plain,
                     size_t *plain_len)
{
    uint8_t aad[OSC_AAD_MAX];
    size_t aad_len = osc_aad_encode((osc_bytes_t){bind->kid, bind->kid_len},
                                    (osc_bytes_t){bind->piv, bind->piv_len}, aad, sizeof aad);
    int rc = osc_aead_open(key, nonce, (osc_bytes_t){aad, aad_len}, ciphertext, plain);

    if (rc == 0)
        *plain_len = ciphertext.len - OSC_TAG_LEN;
    return rc;
}

int osc_verify_request(osc_ctx_t *ctxs, size_t nctxs, osc_bytes_t option, osc_bytes_t ciphertext,
                       osc_ctx_t **found, osc_binding_t *bind, uint8_t *plain, size_t *plain_len)
{
    osc_option_t opt;
    osc_ctx_t *ctx;
    uint64_t seq;
    int rc;

    /* s8.2 step 2: a request must have a Partial IV and a kid; s2: and a payload. */
    if (osc_option_parse(option, &opt) < 0 || opt.piv.len == 0 || !opt.has_kid ||
        opt.kid.len > OSC_ID_MAX || ciphertext.len == 0)
        return OSC_EDECODE;
    ctx = find_recipient(ctxs, nctxs, &opt);
    if (ctx == NULL)
        return OSC_ENOCONTEXT;
    seq = osc_seq_from_piv(opt.piv);
    if (!osc_replay_is_fresh(ctx, seq))
        return OSC_EREPLAY;
    copy_id(opt.kid, bind->kid, &bind->kid_len);
    copy_id(opt.piv, bind->piv, &bind->piv_len);
    osc_nonce(ctx->common_iv, opt.kid, opt.piv, bind->nonce);
    rc = open_into(ctx->recipient_key, bind->nonce, bind, ciphertext, plain, plain_len);
    if (rc != 0)
        return rc;
    osc_replay_accept(ctx, seq); /* s8.2 step 7: only a verified request moves the window */
    *found = ctx;
    return 0;
}

int osc_protect_response(const osc_ctx_t *ctx, const osc_binding_t *bind, const uint64_t *seq,
                         osc_bytes_t plaintext, osc_sealed_t *out)
{
    osc_option_t option = {0};
    uint8_t piv[OSC_PIV_MAX], nonce[OSC_NONCE_LEN];
    int len;

    memcpy(nonce, bind->nonce, OSC_NONCE_LEN);
    if (seq != NULL) {
        option.piv = (osc_bytes_t){piv, osc_piv_from_seq(*seq, piv)};
        osc_nonce(ctx->common_iv, (osc_bytes_t){ctx->sender_id, ctx->sender_id_len}, option.piv,
                  nonce);
    }
    len = osc_option_format(&option, out->option);
    if (len < 0)
        return OSC_EDECODE;
    out->option_len = (size_t)len;
    return seal(ctx->sender_key, nonce, bind, plaintext, out);
}

int osc_verify_response(const osc_ctx_t *ctx, const osc_binding_t *bind, osc_bytes_t option,
                        osc_bytes_t ciphertext, uint8_t *plain, size_t *plain_len)
{
    osc_option_t opt;
    uint8_t nonce[OSC_NONCE_LEN];

    if (osc_option_parse(option, &opt) < 0 || ciphertext.len == 0)
        return OSC_EDECODE;
    memcpy(nonce, bind->nonce, OSC_NONCE_LEN);
    if (opt.piv.len > 0) /* s8.4 step 4: the server's own PIV and Sender ID make the nonce */
        osc_nonce(ctx->common_iv, (osc_bytes_t){ctx->recipient_id, ctx->recipient_id_len},
                  opt.piv, nonce);
    return open_into(ctx->recipient_key, nonce, bind, ciphertext, plain, plain_len);
}

/* upstream.credentials: what hcproxy presents to, and how it checks, each secure CoAP server
 * (coaps, DTLS; coaps+tcp, TLS, RFC 8323). One entry is a line of words:
 *
 *     coaps://10.0.0.0/8 psk identity=gw-1 key_env=GW1_PSK
 *     coaps+tcp://meters.example pki ca_file=/etc/hcproxy/meters-ca.pem
 *     coaps://sensor.example pki ca_file=ca.pem cert_file=gw.pem key_file=gw.key
 *
 * The first word matches destinations as an upstream.allow rule does; the first entry that
 * matches a destination is used. An rpk entry (RFC 7250 raw public keys) takes hcproxy's EC key,
 * key_file=, and the server's public key to pin, peer_key_file=. Keys are never in the
 * configuration itself: a file or an environment variable holds them, and only their names are
 * printed. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "hcc.h"
#include "hcc_internal.h"

static const char *const secure_schemes[] = {"coaps", "coaps+tcp", "*"};
static const hcc__schemes_t secure_rule_schemes = {
    secure_schemes, HCC_COUNTOF(secure_schemes), "coaps, coaps+tcp or *"};

static const struct kind_name {
    const char *name;
    hcc_cred_kind_t kind;
} kinds[] = {
    {"psk", HCC_CRED_PSK}, /* RFC 7252 s9.1.3.1 */
    {"pki", HCC_CRED_PKI}, /* RFC 7252 s9.1.3.3, X.509 */
    {"rpk", HCC_CRED_RPK}, /* RFC 7252 s9.1.3.2, raw public keys (RFC 7250) */
};

/* The words after the kind: name=value, each a string field of hcc_credential_t, or verify. */
static const struct field {
    const char *name;
    size_t offset, size;
    unsigned kinds; /* 1 << hcc_cred_kind_t */
} fields[] = {
#define FIELD(f, k) {#f, offsetof(hcc_credential_t, f), sizeof(((hcc_credential_t *)0)->f), (k)}
    FIELD(identity, 1u << HCC_CRED_PSK),
    FIELD(key_env, 1u << HCC_CRED_PSK),
    FIELD(key_file, 1u << HCC_CRED_PSK | 1u << HCC_CRED_PKI | 1u << HCC_CRED_RPK),
    FIELD(peer_key_file, 1u << HCC_CRED_RPK),
    FIELD(ca_file, 1u << HCC_CRED_PKI),
    FIELD(cert_file, 1u << HCC_CRED_PKI),
#undef FIELD
};

static int parse_kind(const char *word, hcc_credential_t *c, char *err, size_t errlen)
{
    for (size_t i = 0; i < HCC_COUNTOF(kinds); i++) {
        if (strcmp(word, kinds[i].name) == 0) {
            c->kind = kinds[i].kind;
            return 0;
        }
    }
    return hcc__fail(err, errlen, "\"%s\": the second word must be psk, pki or rpk", word);
}

static int parse_verify(const char *value, hcc_credential_t *c, char *err, size_t errlen)
{
    if (c->kind == HCC_CRED_PSK)
        return hcc__fail(err, errlen, "verify= is for pki and rpk");
    if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0)
        return hcc__fail(err, errlen, "verify= must be true or false");
    c->verify = strcmp(value, "true") == 0;
    return 0;
}

static int parse_field(const char *word, hcc_credential_t *c, char *err, size_t errlen)
{
    const char *eq = strchr(word, '=');
    size_t nlen = eq != NULL ? (size_t)(eq - word) : 0;

    if (eq == NULL || eq[1] == '\0')
        return hcc__fail(err, errlen, "\"%s\": must be name=value", word);
    if (nlen == 6 && strncmp(word, "verify", 6) == 0)
        return parse_verify(eq + 1, c, err, errlen);
    for (size_t i = 0; i < HCC_COUNTOF(fields); i++) {
        char *dst = (char *)c + fields[i].offset;

        if (strlen(fields[i].name) != nlen || strncmp(word, fields[i].name, nlen) != 0)
            continue;
        if (!(fields[i].kinds & 1u << c->kind))
            return hcc__fail(err, errlen, "%.*s= is not for %s", (int)nlen, word,
                             kinds[c->kind].name);
        if (dst[0] != '\0')
            return hcc__fail(err, errlen, "%.*s= is given twice", (int)nlen, word);
        if (strlen(eq + 1) >= fields[i].size)
            return hcc__fail(err, errlen, "%.*s= is too long", (int)nlen, word);
        strcpy(dst, eq + 1);
        return 0;
    }
    return hcc__fail(err, errlen, "\"%.*s\": not a credential field", (int)nlen, word);
}

/* What a kind needs besides its fields' syntax. */
static int check_complete(const hcc_credential_t *c, char *err, size_t errlen)
{
    if (c->kind == HCC_CRED_PSK) {
        if (c->identity[0] == '\0')
            return hcc__fail(err, errlen, "psk needs identity=");
        if ((c->key_env[0] != '\0') == (c->key_file[0] != '\0'))
            return hcc__fail(err, errlen, "psk needs one of key_env= and key_file=");
        return 0;
    }
    if (c->kind == HCC_CRED_RPK) {
        if (c->key_file[0] == '\0')
            return hcc__fail(err, errlen, "rpk needs key_file= (hcproxy's EC private key)");
        if (c->verify && c->peer_key_file[0] == '\0')
            return hcc__fail(err, errlen, "rpk needs peer_key_file= to check servers (or verify=false)");
        return 0;
    }
    if ((c->cert_file[0] != '\0') != (c->key_file[0] != '\0'))
        return hcc__fail(err, errlen, "pki takes cert_file= and key_file= together");
    if (c->verify && c->ca_file[0] == '\0')
        return hcc__fail(err, errlen, "pki needs ca_file= to verify servers (or verify=false)");
    return 0;
}

/* A session is secured for a whole server, so a destination names no path. */
static int parse_destination(const char *word, hcc_credential_t *c, char *err, size_t errlen)
{
    if (hcc__rule_parse(word, &secure_rule_schemes, &c->match, err, errlen) != 0)
        return -1;
    if (c->match.path[0] != '\0')
        return hcc__fail(err, errlen, "%s: credentials are for a whole server, without a path",
                         word);
    return 0;
}

int hcc_credential_parse(const char *text, hcc_credential_t *c, char *err, size_t errlen)
{
    char words[2048], *save = NULL, *word;
    int n = 0, rc = 0;

    memset(c, 0, sizeof *c);
    c->verify = true;
    if (strlen(text) >= sizeof words)
        return hcc__fail(err, errlen, "too long");
    strcpy(words, text);
    for (word = strtok_r(words, " \t", &save); word != NULL && rc == 0;
         word = strtok_r(NULL, " \t", &save), n++) {
        if (n == 0)
            rc = parse_destination(word, c, err, errlen);
        else if (n == 1)
            rc = parse_kind(word, c, err, errlen);
        else
            rc = parse_field(word, c, err, errlen);
    }
    if (rc == 0 && n < 2)
        return hcc__fail(err, errlen, "must be DESTINATION psk|pki|rpk name=value...");
    return rc != 0 ? rc : check_complete(c, err, errlen);
}

const hcc_credential_t *hcc_credential_find(const hcc_config_t *cfg, const char *scheme,
                                            const char *host, int family, const void *addr,
                                            uint16_t port)
{
    for (size_t i = 0; i < cfg->ncredentials; i++)
        if (hcc__rule_matches(&cfg->credentials[i].match, scheme, host, family, addr, port))
            return &cfg->credentials[i];
    return NULL;
}

int hcc_server_psk_parse(const char *text, hcc_server_psk_t *psk, char *err, size_t errlen)
{
    const char *space = strchr(text, ' ');
    size_t id_len = space != NULL ? (size_t)(space - text) : 0;
    const char *where = space != NULL ? space + strspn(space, " ") : NULL;
    bool is_env = where != NULL && strncmp(where, "key_env=", 8) == 0;
    bool is_file = where != NULL && strncmp(where, "key_file=", 9) == 0;
    const char *value = is_env ? where + 8 : is_file ? where + 9 : NULL;

    memset(psk, 0, sizeof *psk);
    if (id_len == 0 || value == NULL || value[0] == '\0' || strchr(value, ' ') != NULL)
        return hcc__fail(err, errlen, "must be IDENTITY key_env=VARIABLE or IDENTITY key_file=PATH");
    if (id_len >= sizeof psk->identity ||
        strlen(value) >= (is_env ? sizeof psk->key_env : sizeof psk->key_file))
        return hcc__fail(err, errlen, "too long");
    memcpy(psk->identity, text, id_len);
    strcpy(is_env ? psk->key_env : psk->key_file, value);
    return 0;
}

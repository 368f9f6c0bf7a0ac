/* upstream.credentials entries (config/credentials.c): DESTINATION psk|pki name=value ... */
#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hcc.h"
#include "run_suite.h"

#define COUNTOF(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
    const char *text;
    const char *err; /* NULL: parses */
    hcc_cred_kind_t kind;
    const char *identity, *key_env, *key_file, *ca_file, *cert_file;
    bool verify;
} rows[] = {
#define BAD(text, err) {text, err, HCC_CRED_PSK, NULL, NULL, NULL, NULL, NULL, false}
    {"coaps://10.0.0.0/8 psk identity=gw-1 key_env=GW_PSK", NULL, HCC_CRED_PSK, "gw-1",
     "GW_PSK", "", "", "", true},
    {"coaps://sensor.example:5684 psk identity=x key_file=/run/secrets/psk", NULL, HCC_CRED_PSK,
     "x", "", "/run/secrets/psk", "", "", true},
    {"coaps+tcp://meters.example  pki\tca_file=ca.pem", NULL, HCC_CRED_PKI, "", "", "", "ca.pem",
     "", true},
    {"*://[fd00::]/8 pki ca_file=ca.pem cert_file=gw.pem key_file=gw.key", NULL, HCC_CRED_PKI,
     "", "", "gw.key", "ca.pem", "gw.pem", true},
    {"coaps://h pki verify=false", NULL, HCC_CRED_PKI, "", "", "", "", "", false},
    {"coaps://h rpk key_file=own.pem peer_key_file=server.pub", NULL, HCC_CRED_RPK, "", "",
     "own.pem", "", "", true},
    {"coaps://h rpk key_file=own.pem verify=false", NULL, HCC_CRED_RPK, "", "", "own.pem", "", "",
     false},
    /* what is wrong, said */
    BAD("coap://h psk identity=a key_env=B", "scheme"),
    BAD("coaps://h", "must be DESTINATION psk|pki|rpk name=value..."),
    BAD("coaps://h/rd psk identity=a key_env=B", "credentials are for a whole server"),
    BAD("coaps://h ecc key_file=k", "\"ecc\": the second word must be psk, pki or rpk"),
    BAD("coaps://h rpk peer_key_file=p", "rpk needs key_file= (hcproxy's EC private key)"),
    BAD("coaps://h rpk key_file=k", "rpk needs peer_key_file= to check servers (or verify=false)"),
    BAD("coaps://h pki ca_file=c peer_key_file=p", "peer_key_file= is not for pki"),
    BAD("coaps://h psk key_env=B", "psk needs identity="),
    BAD("coaps://h psk identity=a", "psk needs one of key_env= and key_file="),
    BAD("coaps://h psk identity=a key_env=B key_file=k", "psk needs one of key_env= and key_file="),
    BAD("coaps://h psk identity=a identity=b key_env=B", "identity= is given twice"),
    BAD("coaps://h psk identity=a key_env=B ca_file=c", "ca_file= is not for psk"),
    BAD("coaps://h psk identity=a key_env=B verify=false", "verify= is for pki and rpk"),
    BAD("coaps://h pki ca_file=c verify=maybe", "verify= must be true or false"),
    BAD("coaps://h pki ca_file=c cert_file=x", "pki takes cert_file= and key_file= together"),
    BAD("coaps://h pki", "pki needs ca_file= to verify servers (or verify=false)"),
    BAD("coaps://h pki ca_file=", "\"ca_file=\": must be name=value"),
    BAD("coaps://h pki ca_file", "\"ca_file\": must be name=value"),
    BAD("coaps://h pki colour=blue ca_file=c", "\"colour\": not a credential field"),
#undef BAD
};

START_TEST(credential_row)
{
    hcc_credential_t c;
    char err[256] = "";
    int rc = hcc_credential_parse(rows[_i].text, &c, err, sizeof err);

    if (rows[_i].err != NULL) {
        ck_assert_int_ne(rc, 0);
        ck_assert_msg(strstr(err, rows[_i].err) != NULL, "%s: \"%s\"", rows[_i].text, err);
        return;
    }
    ck_assert_msg(rc == 0, "%s: %s", rows[_i].text, err);
    ck_assert_int_eq(c.kind, rows[_i].kind);
    ck_assert_str_eq(c.identity, rows[_i].identity);
    ck_assert_str_eq(c.key_env, rows[_i].key_env);
    ck_assert_str_eq(c.key_file, rows[_i].key_file);
    ck_assert_str_eq(c.ca_file, rows[_i].ca_file);
    ck_assert_str_eq(c.cert_file, rows[_i].cert_file);
    ck_assert(c.verify == rows[_i].verify);
}
END_TEST

/* The first entry that matches a destination is the one used; plain coap has none. */
START_TEST(first_match_wins)
{
    hcc_config_t cfg;
    uint8_t ten[4] = {10, 1, 2, 3}, other[4] = {192, 0, 2, 1};
    char err[256] = "";
    const hcc_credential_t *c;

    setenv("A", "key-a", 1); /* hcc_finish() wants a key_env variable set, as the start does */
    setenv("B", "key-b", 1);
    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof err), 0);
    ck_assert_int_eq(hcc_set(&cfg, "upstream.credentials",
                             "coaps://10.1.0.0/16 psk identity=first key_env=A,"
                             "coaps://10.0.0.0/8 psk identity=second key_env=B,"
                             "coaps+tcp://10.0.0.0/8 pki verify=false",
                             err, sizeof err),
                     0);
    ck_assert_msg(hcc_finish(&cfg, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(cfg.ncredentials, 3);
    c = hcc_credential_find(&cfg, "coaps", "h", AF_INET, ten, 5684);
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(c->identity, "first");
    ten[1] = 9;
    ck_assert_str_eq(hcc_credential_find(&cfg, "coaps", "h", AF_INET, ten, 5684)->identity, "second");
    ck_assert_int_eq(hcc_credential_find(&cfg, "coaps+tcp", "h", AF_INET, ten, 5684)->kind,
                     HCC_CRED_PKI);
    ck_assert_ptr_null(hcc_credential_find(&cfg, "coaps", "h", AF_INET, other, 5684));
    ck_assert_ptr_null(hcc_credential_find(&cfg, "coap", "h", AF_INET, ten, 5683));
    hcc_free(&cfg);
}
END_TEST

/* hcc_finish() names the entry, and checks that the files it names can be read. */
START_TEST(finish_checks_files)
{
    hcc_config_t cfg;
    char err[256] = "";

    ck_assert_int_eq(hcc_defaults(&cfg, err, sizeof err), 0);
    ck_assert_int_eq(hcc_set(&cfg, "upstream.credentials",
                             "coaps://h pki verify=false,coaps://g psk identity=i key_file=/nonexistent/psk",
                             err, sizeof err),
                     0);
    ck_assert_int_ne(hcc_finish(&cfg, err, sizeof err), 0);
    ck_assert_str_eq(err, "upstream.credentials: entry 2: /nonexistent/psk: cannot read: No such "
                          "file or directory");
    hcc_free(&cfg);
}
END_TEST

static Suite *credentials_suite(void)
{
    Suite *s = suite_create("config_credentials");
    TCase *tc = tcase_create("credentials");

    tcase_add_loop_test(tc, credential_row, 0, COUNTOF(rows));
    tcase_add_test(tc, first_match_wins);
    tcase_add_test(tc, finish_checks_files);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(credentials_suite());
}

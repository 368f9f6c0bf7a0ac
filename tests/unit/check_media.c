/* hcm_content_format_from_media() and hcm_media_from_content_format() (mapping/media.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "hcm.h"
#include "run_suite.h"

/* The IANA CoAP Content-Formats registry, every assigned row (mapping/media.def says which):
 * number, registry string, coding. */
static const struct {
    uint16_t cf;
    const char *type;
    const char *coding;
} registry[] = {
    { 0, "text/plain; charset=utf-8", NULL },
    { 16, "application/cose; cose-type=\"cose-encrypt0\"", NULL },
    { 17, "application/cose; cose-type=\"cose-mac0\"", NULL },
    { 18, "application/cose; cose-type=\"cose-sign1\"", NULL },
    { 19, "application/ace+cbor", NULL },
    { 21, "image/gif", NULL },
    { 22, "image/jpeg", NULL },
    { 23, "image/png", NULL },
    { 40, "application/link-format", NULL },
    { 41, "application/xml", NULL },
    { 42, "application/octet-stream", NULL },
    { 47, "application/exi", NULL },
    { 50, "application/json", NULL },
    { 51, "application/json-patch+json", NULL },
    { 52, "application/merge-patch+json", NULL },
    { 60, "application/cbor", NULL },
    { 61, "application/cwt", NULL },
    { 62, "application/multipart-core", NULL },
    { 63, "application/cbor-seq", NULL },
    { 64, "application/edhoc+cbor-seq", NULL },
    { 65, "application/cid-edhoc+cbor-seq", NULL },
    { 96, "application/cose; cose-type=\"cose-encrypt\"", NULL },
    { 97, "application/cose; cose-type=\"cose-mac\"", NULL },
    { 98, "application/cose; cose-type=\"cose-sign\"", NULL },
    { 101, "application/cose-key", NULL },
    { 102, "application/cose-key-set", NULL },
    { 110, "application/senml+json", NULL },
    { 111, "application/sensml+json", NULL },
    { 112, "application/senml+cbor", NULL },
    { 113, "application/sensml+cbor", NULL },
    { 114, "application/senml-exi", NULL },
    { 115, "application/sensml-exi", NULL },
    { 140, "application/yang-data+cbor; id=sid", NULL },
    { 256, "application/coap-group+json", NULL },
    { 257, "application/concise-problem-details+cbor", NULL },
    { 258, "application/swid+cbor", NULL },
    { 259, "application/pkixcmp", NULL },
    { 260, "application/yang-sid+json", NULL },
    { 261, "application/ace-groupcomm+cbor", NULL },
    { 262, "application/ace-trl+cbor", NULL },
    { 263, "application/eat+cwt", NULL },
    { 264, "application/eat+jwt", NULL },
    { 265, "application/eat-bun+cbor", NULL },
    { 266, "application/eat-bun+json", NULL },
    { 267, "application/eat-ucs+cbor", NULL },
    { 268, "application/eat-ucs+json", NULL },
    { 269, "application/coap-eap", NULL },
    { 270, "application/suit-report+cose", NULL },
    { 271, "application/dots+cbor", NULL },
    { 272, "application/missing-blocks+cbor-seq", NULL },
    { 273, "application/cmw+cbor", NULL },
    { 274, "application/cmw+json", NULL },
    { 275, "application/cmw+cose", NULL },
    { 276, "application/cmw+jws", NULL },
    { 277, "application/scitt-statement+cose", NULL },
    { 278, "application/scitt-receipt+cose", NULL },
    { 279, "application/statuslist+cwt", NULL },
    { 280, "application/pkcs7-mime; smime-type=server-generated-key", NULL },
    { 281, "application/pkcs7-mime; smime-type=certs-only", NULL },
    { 284, "application/pkcs8", NULL },
    { 285, "application/csrattrs", NULL },
    { 286, "application/pkcs10", NULL },
    { 287, "application/pkix-cert", NULL },
    { 290, "application/aif+cbor", NULL },
    { 291, "application/aif+json", NULL },
    { 292, "application/aif+cbor; toid=CRI-local-part", NULL },
    { 295, "application/measured-component+cbor", NULL },
    { 296, "application/measured-component+json", NULL },
    { 297, "application/aif+cbor; toid=oscore-gname; tperm=oscore-gperm", NULL },
    { 298, "application/aif+json; toid=oscore-gname; tperm=oscore-gperm", NULL },
    { 310, "application/senml+xml", NULL },
    { 311, "application/sensml+xml", NULL },
    { 320, "application/senml-etch+json", NULL },
    { 322, "application/senml-etch+cbor", NULL },
    { 340, "application/yang-data+cbor", NULL },
    { 341, "application/yang-data+cbor; id=name", NULL },
    { 432, "application/td+json", NULL },
    { 433, "application/tm+json", NULL },
    { 434, "application/sdf+json", NULL },
    { 553, "application/dns-message", NULL },
    { 601, "application/uccs+cbor", NULL },
    { 10000, "application/vnd.ocf+cbor", NULL },
    { 10001, "application/oscore", NULL },
    { 10002, "application/javascript", NULL },
    { 10003, "application/eat+cwt; eat_profile=\"tag:psacertified.org,2023:psa#tfm\"", NULL },
    { 10004, "application/eat+cwt; eat_profile=\"tag:psacertified.org,2019:psa#legacy\"", NULL },
    { 10005, "application/eat+cwt; eat_profile=2.16.840.1.113741.1.16.1", NULL },
    { 10006, "application/vnd.oms.cellular-cose-content+cbor", NULL },
    { 10007, "application/syslog-msg", NULL },
    { 10570, "application/toc+cbor", NULL },
    { 10571, "application/ce+cbor", NULL },
    { 10572, "application/toc+cbor; profile=2.16.840.1.113741.1.16.1", NULL },
    { 10573, "application/ce+cbor; profile=2.16.840.1.113741.1.16.1", NULL },
    { 11050, "application/json", "deflate" },
    { 11060, "application/cbor", "deflate" },
    { 11542, "application/vnd.oma.lwm2m+tlv", NULL },
    { 11543, "application/vnd.oma.lwm2m+json", NULL },
    { 11544, "application/vnd.oma.lwm2m+cbor", NULL },
    { 12000, "text/plain; charset=utf-8", "zstd" },
    { 12041, "application/xml", "zstd" },
    { 12050, "application/json", "zstd" },
    { 20000, "text/css", NULL },
    { 20001, "application/vnd.as207960.vas.config+jer", NULL },
    { 20002, "application/vnd.as207960.vas.config+uper", NULL },
    { 20003, "application/vnd.as207960.vas.tap+jer", NULL },
    { 20004, "application/vnd.as207960.vas.tap+uper", NULL },
    { 30000, "image/svg+xml", NULL },
};

/* RFC 8613 s11: no Content-Type ever becomes 10001. */
#define OSCORE_CF 10001

START_TEST(registry_to_http)
{
    hcm_arena_t arena;
    const char *coding = "unset";
    const char *type;

    hcm_arena_init(&arena, NULL, 0); /* registered numbers need no arena */
    type = hcm_media_from_content_format(registry[_i].cf, &arena, &coding);
    ck_assert_ptr_nonnull(type);
    ck_assert_str_eq(type, registry[_i].type);
    if (registry[_i].coding == NULL)
        ck_assert_ptr_null(coding);
    else
        ck_assert_str_eq(coding, registry[_i].coding);
}
END_TEST

START_TEST(registry_from_http)
{
    uint16_t cf = 0xbeef;
    int err = hcm_content_format_from_media(registry[_i].type, registry[_i].coding, &cf);

    if (registry[_i].cf == OSCORE_CF) {
        ck_assert_int_eq(err, HCM_EMEDIA);
        return;
    }
    ck_assert_int_eq(err, 0);
    ck_assert_uint_eq(cf, registry[_i].cf);
}
END_TEST

/* RFC 8075 s6, with media types compared as RFC 9110 s8.3.1 and s5.6.6 allow: case, white space,
 * quoting and codings that still match, and everything that is not an exact registry match (no
 * loose mapping). -1 is HCM_EMEDIA. */
static const struct {
    const char *type;
    const char *coding;
    int cf;
} variants[] = {
    { "TEXT/PLAIN;CHARSET=UTF-8", NULL, 0 },
    { "text/plain;charset=utf-8", NULL, 0 },
    { "Text/Plain; Charset=\"UTF-8\"", NULL, 0 },
    { "text/plain ; charset = utf-8", NULL, 0 },
    { "  text/plain;\tcharset=utf-8  ", NULL, 0 },
    { "text/plain;;charset=utf-8;", NULL, 0 },
    { "text/plain; charset=\"utf\\-8\"", NULL, 0 }, /* quoted-pair, RFC 9110 s5.6.4 */
    /* RFC 2046 s4.1.2: no charset is US-ASCII, a subset of UTF-8 (RFC 3629 s1): 0 exactly. */
    { "text/plain", NULL, 0 },
    { "Text/Plain; Charset=US-ASCII", NULL, 0 },
    { "text/plain; charset=\"us-ascii\"", NULL, 0 },
    { "text/plain", "deflate", -1 },
    { "text/plain; charset=ascii", NULL, -1 },
    { "text/plain; charset=us-ascii; format=flowed", NULL, -1 },
    { "text/plain; charset=iso-8859-1", NULL, -1 },
    { "text/plain; charset=utf-8; format=flowed", NULL, -1 },
    { "text/plain; charset=utf-8; charset=utf-8", NULL, -1 },
    { "text/plain; charset=utf8", NULL, -1 },
    { "text/plain; charset=\"\xc3tf-8\"", NULL, -1 }, /* obs-text, RFC 9110 s5.6.4 */
    { "text/plain; charset=utf-8\xc3", NULL, -1 },
    { "text/plain; charset=\"utf-8", NULL, -1 }, /* unterminated */
    { "text/plain; charset", NULL, -1 },
    { "text/plain; charset=", NULL, -1 },
    { "text/plain; =utf-8", NULL, -1 },
    { "text/html", NULL, -1 },
    { "application/json", NULL, 50 },
    { "APPLICATION/JSON", "", 50 },
    { "application/json", "identity", 50 },
    { "application/json", " IDENTITY ", 50 },
    { "application/json", "deflate", 11050 },
    { "application/json", "DEFLATE", 11050 },
    { "application/json", " deflate\t", 11050 },
    { "application/cbor", "Deflate", 11060 },
    { "application/json", "gzip", -1 },
    { "application/json", "deflate, gzip", -1 },
    { "application/octet-stream", "deflate", -1 },
    { "application/json; charset=utf-8", NULL, -1 },
    { "application/json;", NULL, 50 },
    { "application/json x", NULL, -1 },
    { "application/json/x", NULL, -1 },
    { "application /json", NULL, -1 },
    { "application/ json", NULL, -1 },
    { "application/cose; cose-type=cose-sign1", NULL, 18 },
    { "application/cose;cose-type=\"cose-sign1\"", NULL, 18 },
    { "Application/COSE; COSE-Type=\"cose-sign1\"", NULL, 18 },
    { "application/cose; cose-type=\"COSE-SIGN1\"", NULL, -1 }, /* only charset folds case */
    { "application/cose", NULL, -1 },
    { "application/cose; cose-type=\"cose-sign\"", NULL, 98 },
    { "application/yang-data+cbor;id=sid", NULL, 140 },
    { "application/yang-data+cbor; id=\"name\"", NULL, 341 },
    { "application/yang-data+cbor", NULL, 340 },
    { "application/yang-data+cbor; id=other", NULL, -1 },
    { "application/pkcs7-mime; smime-type=certs-only", NULL, 281 },
    { "application/pkcs7-mime", NULL, -1 },
    { "application/senml+json", NULL, 110 },
    { "application/senml+exi", NULL, -1 }, /* 114 is senml-exi, with a hyphen */
    { "application/oscore", NULL, -1 },
    { "APPLICATION/OSCORE", NULL, -1 },
    { "application/coap-payload;cf=60", NULL, -1 }, /* no pass-through configured */
    { "application/vnd.oma.lwm2m+tlv", NULL, 11542 },
    { "image/SVG+XML", NULL, 30000 },
    { "text/css", NULL, 20000 },
    { "*/*", NULL, -1 },
    { "application/*", NULL, -1 },
    { "text/", NULL, -1 },
    { "/plain", NULL, -1 },
    { "text", NULL, -1 },
    { "", NULL, -1 },
    { "   ", NULL, -1 },
    { NULL, NULL, -1 },
    { NULL, "deflate", -1 },
    { "text/plain; a=1; b=2; c=3; d=4; e=5", NULL, -1 },
    { "text/plain; charset=utf-8\r\n", NULL, -1 },
};

START_TEST(variant)
{
    uint16_t cf = 0xbeef;
    int err = hcm_content_format_from_media(variants[_i].type, variants[_i].coding, &cf);

    if (variants[_i].cf < 0) {
        ck_assert_int_eq(err, HCM_EMEDIA);
        ck_assert_uint_eq(cf, 0xbeef);
    } else {
        ck_assert_int_eq(err, 0);
        ck_assert_uint_eq(cf, (unsigned)variants[_i].cf);
    }
}
END_TEST

/* RFC 8075 s6.2: unknown numbers reach HTTP as application/coap-payload;cf=N. 282/283 and
 * 1542/1543 are unassigned or reserved in the IANA CoAP Content-Formats registry. */
static const struct {
    uint16_t cf;
    const char *type;
} unknown[] = {
    { 1, "application/coap-payload;cf=1" },
    { 20, "application/coap-payload;cf=20" },
    { 66, "application/coap-payload;cf=66" },
    { 293, "application/coap-payload;cf=293" }, /* temporary, expiring: not kept */
    { 282, "application/coap-payload;cf=282" },
    { 283, "application/coap-payload;cf=283" },
    { 1542, "application/coap-payload;cf=1542" },
    { 11051, "application/coap-payload;cf=11051" },
    { 65000, "application/coap-payload;cf=65000" },
    { 65535, "application/coap-payload;cf=65535" },
};

START_TEST(unknown_to_http)
{
    char buf[64];
    hcm_arena_t arena;
    const char *coding = "unset";
    const char *type;

    hcm_arena_init(&arena, buf, sizeof(buf));
    type = hcm_media_from_content_format(unknown[_i].cf, &arena, &coding);
    ck_assert_ptr_nonnull(type);
    ck_assert_str_eq(type, unknown[_i].type);
    ck_assert_ptr_null(coding);
    ck_assert(type >= buf && type < buf + sizeof(buf)); /* written into the arena */
}
END_TEST

START_TEST(unknown_needs_arena)
{
    size_t need;

    /* NULL only when the arena is full (hcm.h): every arena smaller than the name and its NUL. */
    ARENA_EXHAUSTION_RUN(need, 64, arena,
                         hcm_media_from_content_format(unknown[_i].cf, arena, NULL) != NULL
                             ? 0
                             : HCM_ENOSPACE);
    ck_assert_uint_eq(need, strlen(unknown[_i].type) + 1);
}
END_TEST

/* media.c finds numbers with bsearch(): media.def must be sorted by number, each once. */
/* Which Content-Formats are text (hcm_content_format_is_text()): text types, JSON (RFC 8259
 * s8.1), XML, CoRE Link Format (RFC 6690 s3) and JavaScript, with their +json and +xml
 * suffixes (RFC 6838 s4.2.8); never with a content coding, never an unknown number. */
static const struct {
    uint16_t cf;
    bool is_text;
} textual[] = {
    { 0, true },      /* text/plain; charset=utf-8 */
    { 40, true },     /* application/link-format */
    { 41, true },     /* application/xml */
    { 50, true },     /* application/json */
    { 51, true },     /* application/json-patch+json */
    { 110, true },    /* application/senml+json */
    { 310, true },    /* application/senml+xml */
    { 298, true },    /* application/aif+json with parameters */
    { 10002, true },  /* application/javascript */
    { 11543, true },  /* application/vnd.oma.lwm2m+json */
    { 20000, true },  /* text/css */
    { 30000, true },  /* image/svg+xml */
    { 16, false },    /* application/cose */
    { 23, false },    /* image/png */
    { 42, false },    /* application/octet-stream */
    { 60, false },    /* application/cbor */
    { 112, false },   /* application/senml+cbor */
    { 264, false },   /* application/eat+jwt: a +jwt suffix is not +json */
    { 10001, false }, /* application/oscore: ciphertext */
    { 11050, false }, /* application/json, deflate */
    { 12000, false }, /* text/plain, zstd */
    { 11542, false }, /* application/vnd.oma.lwm2m+tlv */
    { 1, false },     /* unassigned */
    { 65000, false },
};

START_TEST(content_format_is_text)
{
    ck_assert_msg(hcm_content_format_is_text(textual[_i].cf) == textual[_i].is_text, "cf %u",
                  (unsigned)textual[_i].cf);
}
END_TEST

static const uint16_t def_order[] = {
#define HCM_MEDIA(cf, type, coding, dir) cf,
#include "media.def"
#undef HCM_MEDIA
};

START_TEST(table_sorted_and_unique)
{
    ck_assert_uint_eq(HCM_COUNTOF(def_order), HCM_COUNTOF(registry));
    for (size_t j = 1; j < HCM_COUNTOF(def_order); j++)
        ck_assert_uint_lt(def_order[j - 1], def_order[j]);
}
END_TEST

static Suite *media_suite(void)
{
    Suite *s = suite_create("media");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, registry_to_http, 0, HCM_COUNTOF(registry));
    tcase_add_loop_test(tc, registry_from_http, 0, HCM_COUNTOF(registry));
    tcase_add_loop_test(tc, variant, 0, HCM_COUNTOF(variants));
    tcase_add_loop_test(tc, unknown_to_http, 0, HCM_COUNTOF(unknown));
    tcase_add_loop_test(tc, unknown_needs_arena, 0, HCM_COUNTOF(unknown));
    tcase_add_test(tc, table_sorted_and_unique);
    tcase_add_loop_test(tc, content_format_is_text, 0, HCM_COUNTOF(textual));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(media_suite());
}

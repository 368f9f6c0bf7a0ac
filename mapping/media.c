/* HTTP Content-Type (+ Content-Encoding) <-> CoAP Content-Format, and the choice of one
 * Content-Format from an Accept list (RFC 8075 s6, RFC 7252 s10.2.2, s12.3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hcm_internal.h"

enum direction { BOTH, TO_HTTP };

typedef struct media_row {
    uint16_t cf;
    const char *type; /* the registry string, sent as Content-Type */
    const char *coding;
    enum direction dir;
} media_row_t;

static const media_row_t media[] = {
#define HCM_MEDIA(cf, type, coding, dir) { cf, type, coding, dir },
#include "media.def"
#undef HCM_MEDIA
};


/* ---- parsing a media type (RFC 9110 s8.3.1, s5.6.2 to s5.6.6) ------------------------------ */

/* No registry entry has more than two parameters, so a few slots suffice; a Content-Type with
 * more parameters than this cannot equal any entry anyway. */
#define MAX_PARAMS 4

typedef struct span {
    const char *p;
    size_t len;
} span_t;

typedef struct param {
    span_t name;
    span_t value; /* as written: a quoted value keeps its backslash escapes */
    bool is_quoted;
} param_t;

typedef struct media_type {
    span_t type;
    span_t subtype;
    param_t params[MAX_PARAMS];
    size_t nparams;
} media_type_t;

static bool span_eq_nocase(span_t a, const char *b, size_t blen)
{
    size_t i;

    if (a.len != blen)
        return false;
    for (i = 0; i < blen; i++)
        if (hcm__lower(a.p[i]) != hcm__lower(b[i]))
            return false;
    return true;
}

static void skip_ows(const char **s)
{
    while (**s == ' ' || **s == '\t')
        (*s)++;
}

static bool parse_token(const char **s, span_t *out)
{
    out->p = *s;
    while (hcm__is_tchar(**s))
        (*s)++;
    out->len = (size_t)(*s - out->p);
    return out->len > 0;
}

/* RFC 9110 s5.6.4: qdtext and the character after a backslash (obs-text included). */
static bool is_qdtext(unsigned char c)
{
    return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c != 0x5c && c != 0x7f);
}

static bool is_quoted_pair_char(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* |*s| is at the opening quote; the value excludes both quotes. */
static bool parse_quoted(const char **s, span_t *out)
{
    const unsigned char *p = (const unsigned char *)*s + 1;

    out->p = (const char *)p;
    for (;;) {
        if (*p == '"')
            break;
        if (*p == '\\' && is_quoted_pair_char(p[1]))
            p += 2;
        else if (*p != '\\' && is_qdtext(*p))
            p++;
        else
            return false; /* unterminated, or a control character */
    }
    out->len = (size_t)((const char *)p - out->p);
    *s = (const char *)p + 1;
    return true;
}

/* parameter = name OWS "=" OWS ( token / quoted-string ). RFC 9110 allows no white space around
 * "=", but RFC 8075 s6 asks for leniency, so it is skipped. */
static bool parse_param(const char **s, param_t *param)
{
    if (!parse_token(s, &param->name))
        return false;
    skip_ows(s);
    if (**s != '=')
        return false;
    (*s)++;
    skip_ows(s);
    param->is_quoted = **s == '"';
    return param->is_quoted ? parse_quoted(s, &param->value) : parse_token(s, &param->value);
}

/* media-type = type "/" subtype *( OWS ";" OWS [ parameter ] ), with white space around it
 * tolerated. Empty parameters ("a/b;;c=d") are allowed by RFC 9110 s5.6.6. Parsing stops at the
 * end of the string or at the ',' that ends an element of a list such as Accept (RFC 9110 s5.6.1),
 * and leaves |*s| there. */
static bool parse_media_type(const char **s, media_type_t *m)
{
    m->nparams = 0;
    skip_ows(s);
    if (!parse_token(s, &m->type) || **s != '/')
        return false;
    (*s)++;
    if (!parse_token(s, &m->subtype))
        return false;
    for (;;) {
        skip_ows(s);
        if (**s == '\0' || **s == ',')
            return true;
        if (**s != ';')
            return false;
        (*s)++;
        skip_ows(s);
        if (**s == ';' || **s == '\0' || **s == ',')
            continue;
        if (m->nparams == MAX_PARAMS || !parse_param(s, &m->params[m->nparams]))
            return false;
        m->nparams++;
    }
}

/* A whole field value that is one media type (Content-Type, RFC 9110 s8.3). */
static bool parse_one_media_type(const char *s, media_type_t *m)
{
    return parse_media_type(&s, m) && *s == '\0';
}

/* ---- comparing ------------------------------------------------------------------------------ */

/* ASCII lower case of a value_next() result; bytes >= 0x80 and -1 stay as they are. */
static int fold(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* The next character of a parameter value with its quoting undone, or -1 at the end. */
static int value_next(const char **p, const char *end, bool is_quoted)
{
    if (*p == end)
        return -1;
    if (is_quoted && **p == '\\')
        (*p)++; /* parse_quoted() guarantees a character follows the backslash */
    return (unsigned char)*(*p)++;
}

/* RFC 9110 s5.6.6: a quoted and an unquoted value are the same value. */
static bool value_eq(const param_t *a, const param_t *b, bool fold_case)
{
    const char *pa = a->value.p, *ea = pa + a->value.len;
    const char *pb = b->value.p, *eb = pb + b->value.len;
    int ca, cb;

    do {
        ca = value_next(&pa, ea, a->is_quoted);
        cb = value_next(&pb, eb, b->is_quoted);
        if (fold_case) {
            ca = fold(ca);
            cb = fold(cb);
        }
        if (ca != cb)
            return false;
    } while (ca >= 0);
    return true;
}

/* Parameters whose values compare case-insensitively: RFC 2046 s4.1.2 for charset. All other
 * values compare exactly (RFC 9110 s8.3.1). */
static bool value_folds_case(span_t name)
{
    return span_eq_nocase(name, "charset", strlen("charset"));
}

static const param_t *find_param(const media_type_t *m, span_t name)
{
    size_t i;

    for (i = 0; i < m->nparams; i++)
        if (span_eq_nocase(m->params[i].name, name.p, name.len))
            return &m->params[i];
    return NULL;
}

/* The parameter sets must be equal (RFC 8075 s6.4: exact lookup). Equal counts and every entry
 * parameter found in the request also rule out a request that repeats one parameter. */
static bool params_eq(const media_type_t *want, const media_type_t *got)
{
    size_t i;

    if (want->nparams != got->nparams)
        return false;
    for (i = 0; i < want->nparams; i++) {
        const param_t *w = &want->params[i];
        const param_t *g = find_param(got, w->name);

        if (g == NULL || !value_eq(w, g, value_folds_case(w->name)))
            return false;
    }
    return true;
}

static bool media_eq(const media_type_t *want, const media_type_t *got)
{
    return span_eq_nocase(got->type, want->type.p, want->type.len) &&
           span_eq_nocase(got->subtype, want->subtype.p, want->subtype.len) &&
           params_eq(want, got);
}

/* The content coding with white space trimmed; an empty span for identity, which is what no
 * Content-Encoding means too (RFC 9110 s8.4.1: codings are case-insensitive). */
static span_t coding_of(const char *content_encoding)
{
    span_t c = { .p = "", .len = 0 };

    if (content_encoding == NULL)
        return c;
    skip_ows(&content_encoding);
    c.p = content_encoding;
    c.len = strlen(content_encoding);
    while (c.len > 0 && (c.p[c.len - 1] == ' ' || c.p[c.len - 1] == '\t'))
        c.len--;
    if (span_eq_nocase(c, "identity", strlen("identity")))
        c.len = 0;
    return c;
}

static bool coding_eq(const media_row_t *row, span_t coding)
{
    const char *want = row->coding != NULL ? row->coding : "";

    return span_eq_nocase(coding, want, strlen(want));
}

/* The exact registry entry for a parsed media type and a coding (RFC 8075 s6.4). */
/* RFC 2046 s4.1.2: text/plain without a charset is US-ASCII, and US-ASCII text is UTF-8 text
 * (RFC 3629 s1), so both are Content-Format 0 exactly, text/plain; charset=utf-8. */
static bool is_ascii_plain_text(const media_type_t *m)
{
    static const char ascii[] = "us-ascii";

    if (!span_eq_nocase(m->type, "text", 4) || !span_eq_nocase(m->subtype, "plain", 5))
        return false;
    return m->nparams == 0 ||
           (m->nparams == 1 && span_eq_nocase(m->params[0].name, "charset", 7) &&
            span_eq_nocase(m->params[0].value, ascii, sizeof ascii - 1));
}

static int find_cf(const media_type_t *got, span_t coding, uint16_t *cf)
{
    media_type_t want, utf8;
    const char *utf8_text = "text/plain; charset=utf-8";
    size_t i;

    if (is_ascii_plain_text(got) && parse_media_type(&utf8_text, &utf8))
        got = &utf8;
    for (i = 0; i < HCM_COUNTOF(media); i++) {
        const media_row_t *row = &media[i];

        /* The row strings always parse: check_media maps each of them back to its number. */
        if (row->dir != BOTH || !coding_eq(row, coding) || !parse_one_media_type(row->type, &want))
            continue;
        if (media_eq(&want, got)) {
            *cf = row->cf;
            return 0;
        }
    }
    return HCM_EMEDIA;
}

int hcm_content_format_from_media(const char *content_type, const char *content_encoding,
                                  uint16_t *cf)
{
    media_type_t got;

    if (content_type == NULL || !parse_one_media_type(content_type, &got))
        return HCM_EMEDIA;
    return find_cf(&got, coding_of(content_encoding), cf);
}

/* RFC 8075 s6.3 Table 1, tried top to bottom: the generalized type a media type falls back to.
 * A NULL type or subtype matches any; a subtype starting with '+' is a structured syntax suffix
 * (RFC 6838 s4.2.8). */
static const struct loose_row {
    const char *type;
    const char *subtype;
    uint16_t cf;
} loose[] = {
    { "application", "+xml", 41 },  /* application/xml */
    { "application", "+json", 50 }, /* application/json */
    { "application", "+cbor", 60 }, /* application/cbor */
    { "text", "xml", 41 },          /* application/xml */
    { "text", NULL, 0 },            /* text/plain;charset=utf-8 (RFC 8075 Appendix A) */
    { NULL, NULL, 42 },             /* application/octet-stream */
};

static bool span_is(span_t a, const char *b)
{
    return span_eq_nocase(a, b, strlen(b));
}

static bool subtype_matches(span_t subtype, const char *pattern)
{
    size_t n;

    if (pattern == NULL)
        return true;
    n = strlen(pattern);
    if (pattern[0] != '+')
        return span_is(subtype, pattern);
    return subtype.len > n &&
           span_eq_nocase((span_t){ .p = subtype.p + subtype.len - n, .len = n }, pattern, n);
}

int hcm_content_format_loose(const char *content_type, const char *content_encoding,
                             uint16_t *cf)
{
    media_type_t got, bare;

    if (content_type == NULL || !parse_one_media_type(content_type, &got))
        return HCM_EMEDIA;
    /* Table 1 names identity-coded types only; application/coap-payload crosses only where
     * pass-through is configured (s6.2), which no generalized type may stand in for. */
    if (coding_of(content_encoding).len > 0 ||
        (span_is(got.type, "application") && span_is(got.subtype, "coap-payload")))
        return HCM_EMEDIA;
    /* First the type itself without its parameters, the least general generalization: the
     * common "application/json; charset=utf-8" is JSON (RFC 8259 s11 defines no charset). */
    bare = got;
    bare.nparams = 0;
    if (find_cf(&bare, coding_of(NULL), cf) == 0)
        return 0;
    for (size_t i = 0; i < HCM_COUNTOF(loose); i++) {
        const struct loose_row *row = &loose[i];

        if ((row->type == NULL || span_is(got.type, row->type)) &&
            subtype_matches(got.subtype, row->subtype)) {
            *cf = row->cf;
            return 0;
        }
    }
    return HCM_EMEDIA; /* not reached: the last row matches every type */
}

/* RFC 8075 s6.2 defines application/coap-payload so that a payload whose Content-Format HTTP has
 * no name for can cross HTTP; an origin that answers with it names the number itself. */
int hcm__content_format_from_coap_payload(const char *content_type, uint16_t *cf)
{
    static const char type[] = "application", subtype[] = "coap-payload", name[] = "cf";
    media_type_t m;
    const char *p, *end;
    uint32_t n = 0;

    if (content_type == NULL || !parse_one_media_type(content_type, &m) || m.nparams != 1 ||
        !span_eq_nocase(m.type, type, strlen(type)) ||
        !span_eq_nocase(m.subtype, subtype, strlen(subtype)) ||
        !span_eq_nocase(m.params[0].name, name, strlen(name)))
        return HCM_EMEDIA;
    p = m.params[0].value.p;
    end = p + m.params[0].value.len;
    if (p == end || end - p > 5)
        return HCM_EMEDIA;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9')
            return HCM_EMEDIA; /* a quoted-pair is no digit either */
        n = n * 10 + (uint32_t)(*p - '0');
    }
    if (n > 65535)
        return HCM_EMEDIA;
    *cf = (uint16_t)n;
    return 0;
}

/* ---- Accept (RFC 9110 s12.5.1, RFC 8075 s6.1, RFC 7252 s10.2.2) ----------------------------- */

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) (RFC 9110 s12.4.2), read in
 * thousandths. A quoted value is not a qvalue. */
static bool parse_qvalue(const param_t *param, unsigned *q)
{
    const char *p = param->value.p;
    const char *end = p + param->value.len;
    unsigned v;
    unsigned scale = 100;

    if (param->is_quoted || p == end || (*p != '0' && *p != '1'))
        return false;
    v = (unsigned)(*p++ - '0') * 1000;
    if (p < end && *p++ != '.')
        return false;
    for (; p < end; p++, scale /= 10) {
        if (scale == 0 || *p < '0' || *p > '9')
            return false;
        v += (unsigned)(*p - '0') * scale;
    }
    if (v > 1000)
        return false;
    *q = v;
    return true;
}

/* Takes the weight off an Accept element: the parameters before "q" are the media range's, "q"
 * is the weight (1 when absent), and any after it are RFC 7231's accept-ext, which RFC 9110 s12.5.1
 * dropped and which are ignored here. Parameter names are case-insensitive (RFC 9110 s5.6.6). */
static bool take_weight(media_type_t *m, unsigned *q)
{
    size_t i;

    *q = 1000;
    for (i = 0; i < m->nparams; i++) {
        if (span_eq_nocase(m->params[i].name, "q", 1)) {
            m->nparams = i;
            return parse_qvalue(&m->params[i], q);
        }
    }
    return true;
}

/* Skips the rest of a malformed element, up to the ',' that ends it; quoted strings may hold
 * commas (RFC 9110 s5.6.4). An unterminated one ends the field. */
static void skip_element(const char **s)
{
    span_t ignored;

    while (**s != '\0' && **s != ',') {
        if (**s != '"')
            (*s)++;
        else if (!parse_quoted(s, &ignored))
            *s += strlen(*s);
    }
}

/* RFC 7252 s10.2.2: only the most preferred type is mapped, and RFC 8075 s6.1: one that maps.
 * q=0 means "not acceptable" and is never chosen (RFC 9110 s12.4.2). Among equal weights the
 * first in list order wins, except that a media range (any type, or any subtype of one type)
 * among the most preferred means the client takes anything there, which CoAP says by sending no
 * Accept (RFC 8075 s6.1 MUST for the range of all types). A type with no exact registry entry is
 * ignored (SHOULD): the next preferred one may map. */
static void consider(hcm__accept_t *best, const media_type_t *m, unsigned q)
{
    bool is_wildcard = span_eq_nocase(m->subtype, "*", 1);
    uint16_t cf = 0;

    if (q == 0 || q < best->q || (q == best->q && (best->is_wildcard || !is_wildcard)))
        return;
    if (!is_wildcard && find_cf(m, (span_t){ .p = "", .len = 0 }, &cf) != 0)
        return;
    *best = (hcm__accept_t){ .q = q, .is_wildcard = is_wildcard, .cf = cf };
}

/* Calls |each| with every well-formed element of one Accept field value and its weight; malformed
 * elements are skipped. */
static void scan(const char *list, void (*each)(void *ctx, media_type_t *m, unsigned q), void *ctx)
{
    const char *s = list;
    media_type_t m;
    unsigned q;

    while (s != NULL && *s != '\0') {
        skip_ows(&s);
        if (*s == ',') {
            s++; /* RFC 9110 s5.6.1: empty list elements are ignored */
        } else if (*s != '\0') {
            if (parse_media_type(&s, &m) && take_weight(&m, &q))
                each(ctx, &m, q);
            else
                skip_element(&s);
        }
    }
}

static void consider_each(void *best, media_type_t *m, unsigned q)
{
    consider(best, m, q);
}

void hcm__accept_scan(hcm__accept_t *best, const char *list)
{
    scan(list, consider_each, best);
}

typedef struct weighing {
    hcm__weight_t *w;
    size_t nw;
    unsigned *top;
} weighing_t;

/* How specifically the media range |m| names |w|'s type. The range's parameters are not
 * compared: the types weighed here have none the client could choose (a multipart boundary is
 * the sender's). */
static unsigned range_rank(const media_type_t *m, const hcm__weight_t *w)
{
    bool any_subtype = span_is(m->subtype, "*");

    if (span_is(m->type, "*"))
        return any_subtype ? HCM__RANK_ALL_TYPES : HCM__RANK_NONE;
    if (!span_is(m->type, w->type))
        return HCM__RANK_NONE;
    if (any_subtype)
        return HCM__RANK_ALL_SUBTYPES;
    return span_is(m->subtype, w->subtype) ? HCM__RANK_TYPE : HCM__RANK_NONE;
}

/* The most specific range that matches a type gives its weight; among ranges of equal
 * specificity the first one listed. */
static void weigh_each(void *ctx, media_type_t *m, unsigned q)
{
    weighing_t *wg = ctx;

    if (q > *wg->top)
        *wg->top = q;
    for (size_t i = 0; i < wg->nw; i++) {
        unsigned rank = range_rank(m, &wg->w[i]);

        if (rank > wg->w[i].rank) {
            wg->w[i].rank = rank;
            wg->w[i].q = q;
        }
    }
}

void hcm__accept_weigh(hcm__weight_t *w, size_t nw, unsigned *top, const char *list)
{
    weighing_t wg = { .w = w, .nw = nw, .top = top };

    scan(list, weigh_each, &wg);
}

static int compare_cf(const void *key, const void *elem)
{
    const uint16_t *cf = key;
    const media_row_t *row = elem;

    return (int)*cf - (int)row->cf;
}

/* ---- textual Content-Formats ---------------------------------------------------------------- */

/* Subtypes and structured syntax suffixes (RFC 6838 s4.2.8) whose representations are text:
 * JSON (RFC 8259 s8.1: UTF-8), XML, CoRE Link Format (RFC 6690 s3: UTF-8) and JavaScript. */
static const char *const text_subtypes[] = { "json", "xml", "link-format", "javascript" };
static const char *const text_suffixes[] = { "+json", "+xml" };

bool hcm_content_format_is_text(uint16_t cf)
{
    const media_row_t *row = bsearch(&cf, media, HCM_COUNTOF(media), sizeof(media[0]), compare_cf);
    media_type_t m;
    size_t i;

    /* A content coding makes the bytes binary, whatever the type (RFC 7252 s12.3). */
    if (row == NULL || row->coding != NULL || !parse_one_media_type(row->type, &m))
        return false;
    if (span_is(m.type, "text"))
        return true;
    for (i = 0; i < HCM_COUNTOF(text_subtypes); i++)
        if (span_is(m.subtype, text_subtypes[i]))
            return true;
    for (i = 0; i < HCM_COUNTOF(text_suffixes); i++)
        if (subtype_matches(m.subtype, text_suffixes[i]))
            return true;
    return false;
}

/* ---- Content-Format -> Content-Type --------------------------------------------------------- */

const char *hcm_media_from_content_format(uint16_t cf, hcm_arena_t *arena,
                                          const char **content_encoding)
{
    const media_row_t *row = bsearch(&cf, media, HCM_COUNTOF(media), sizeof(media[0]), compare_cf);
    char buf[sizeof("application/coap-payload;cf=65535")];
    int len;

    if (content_encoding != NULL)
        *content_encoding = row != NULL ? row->coding : NULL;
    if (row != NULL)
        return row->type;
    /* RFC 8075 s6.2: an unknown number SHALL reach HTTP as application/coap-payload. */
    len = snprintf(buf, sizeof(buf), "application/coap-payload;cf=%u", (unsigned)cf);
    return hcm_arena_strndup(arena, buf, (size_t)len);
}

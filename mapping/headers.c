/* HTTP request headers -> CoAP options (RFC 7252 s10.2, RFC 8075 s6, RFC 8768 s5): one loop over
 * the request's fields, each looked up in headers.def and handed to its row's handler. Handlers
 * that need every field first (Content-Type with Content-Encoding, Accept, Via and CDN-Loop)
 * gather into a state that finish() turns into options. */
#include <stdlib.h>
#include <string.h>

#include "hcm_internal.h"

typedef struct state {
    const hcm_http_req_t *in;
    hcm_arena_t *arena;
    hcm_coap_msg_t *out;
    hcm_req_info_t *info;
    const char *content_type; /* the first field of each: both are singletons (RFC 9110 s8.3) */
    const char *content_encoding;
    hcm__accept_t accept;
    size_t hops; /* entries of every Via and CDN-Loop field */
} state_t;

typedef struct header_row header_row_t;
typedef int (*header_fn)(state_t *st, const header_row_t *row, const char *value);

enum fate { MAP, DROP, REFUSE };

struct header_row {
    const char *name; /* lower case */
    enum fate fate;
    uint16_t option;
    header_fn fn;
};

static const char *skip_ows(const char *s)
{
    return s + strspn(s, " \t");
}

/* Whether |s| is |word| (lower case) with optional white space around it, ignoring case. */
static bool is_word(const char *s, const char *word)
{
    s = skip_ows(s);
    for (; *word != '\0'; s++, word++)
        if (hcm__lower(*s) != *word)
            return false;
    return *skip_ows(s) == '\0';
}

/* ---- Content-Type and Content-Encoding (RFC 8075 s6.1) ------------------------------------- */

static int on_content_type(state_t *st, const header_row_t *row, const char *value)
{
    (void)row;
    if (st->content_type == NULL)
        st->content_type = value;
    return 0;
}

static int on_content_encoding(state_t *st, const header_row_t *row, const char *value)
{
    (void)row;
    if (st->content_encoding == NULL)
        st->content_encoding = value;
    return 0;
}

/* Whether a Content-Encoding names a coding other than identity (RFC 9110 s8.4.1). */
static bool has_coding(const char *coding)
{
    return coding != NULL && !is_word(coding, "") && !is_word(coding, "identity");
}

/* RFC 8075 s6.1: Content-Type and Content-Encoding together become one Content-Format, and one
 * that cannot, exactly or (where configured) loosely, SHALL be answered with 415. A body without Content-Type goes without Content-Format
 * (RFC 7252 s5.10.3 lets the format be unknown), unless it carries a coding the server would
 * have no way to learn of. */
static int finish_content_format(state_t *st)
{
    uint16_t cf;
    int err;

    if (st->content_type == NULL)
        return st->in->body.len > 0 && has_coding(st->content_encoding) ? HCM_EMEDIA : 0;
    err = hcm_content_format_from_media(st->content_type, st->content_encoding, &cf);
    if (err == HCM_EMEDIA && st->in->loose_media_types)
        err = hcm_content_format_loose(st->content_type, st->content_encoding, &cf);
    if (err != 0)
        return err;
    return hcm_coap_msg_add_uint(st->out, st->arena, HCM_OPT_CONTENT_FORMAT, cf);
}

/* ---- Accept (RFC 8075 s6.1, RFC 7252 s10.2.2; the choice is in media.c) ------------------- */

static int on_accept(state_t *st, const header_row_t *row, const char *value)
{
    (void)row;
    hcm__accept_scan(&st->accept, value);
    return 0;
}

/* One Accept option for a chosen type; none for a media range or when nothing maps. */
static int finish_accept(state_t *st)
{
    if (st->accept.q == 0 || st->accept.is_wildcard)
        return 0;
    return hcm_coap_msg_add_uint(st->out, st->arena, HCM_OPT_ACCEPT, st->accept.cf);
}

/* ---- If-Match and If-None-Match (RFC 7252 s5.10.8, s5.10.6.2, s10.2.2) --------------------- */

/* One entity-tag of a list (RFC 9110 s8.8.3: [ "W/" ] DQUOTE *etagc DQUOTE), and whether it can
 * be a CoAP ETag: hcproxy writes a CoAP ETag as the quoted hex of its 1 to 8 bytes (RFC 7252
 * s5.10.6), either case. A well-formed tag of another form ("xyz", 17 bytes) names no CoAP
 * representation: it never matches, which is not an error. */
typedef struct etag {
    bool is_weak;
    bool is_coap;    /* the quoted hex of 1 to 8 bytes */
    hcm_bytes_t hex; /* between the quotes */
} etag_t;

static bool is_etagc(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c != 0x7f); /* obs-text (0x80-0xff) included */
}

/* |*s| moves past the tag. HCM_EBADHEADER when it is malformed. */
static int parse_etag(const char **s, etag_t *tag)
{
    const char *p = *s;
    size_t n = 0;

    tag->is_weak = strncmp(p, "W/", 2) == 0;
    p += tag->is_weak ? 2 : 0;
    if (*p != '"')
        return HCM_EBADHEADER;
    while (is_etagc((unsigned char)p[1 + n]))
        n++;
    if (p[1 + n] != '"')
        return HCM_EBADHEADER;
    tag->hex = (hcm_bytes_t){ .p = (const uint8_t *)p + 1, .len = n };
    tag->is_coap = n > 0 && n % 2 == 0 && n <= 16;
    for (size_t i = 0; i < n && tag->is_coap; i++)
        tag->is_coap = hcm__hex_value(p[1 + i]) >= 0;
    *s = p + n + 2;
    return 0;
}

static int add_etag_option(state_t *st, const etag_t *tag, uint16_t number)
{
    uint8_t *bytes = hcm_arena_alloc(st->arena, tag->hex.len / 2);
    const char *hex = (const char *)tag->hex.p;

    if (bytes == NULL)
        return HCM_ENOSPACE;
    for (size_t i = 0; i < tag->hex.len / 2; i++)
        bytes[i] = (uint8_t)(hcm__hex_value(hex[2 * i]) << 4 | hcm__hex_value(hex[2 * i + 1]));
    return hcm_coap_msg_add(st->out, number, (hcm_bytes_t){ .p = bytes, .len = tag->hex.len / 2 });
}

/* #entity-tag (RFC 9110 s5.6.1: empty elements ignored), one option |number| for each tag that
 * can match a CoAP ETag: strong ones, and weak ones too where the comparison is weak
 * (If-None-Match, RFC 9110 s13.1.2: W/"0a1b" matches the strong "0a1b"). A malformed list, or one
 * without a tag, has no meaning and is refused. |*nmapped| counts the options added. */
static int map_etags(state_t *st, const char *list, uint16_t number, bool weak_matches,
                     size_t *nmapped)
{
    const char *s = list;
    size_t ntags = 0;
    etag_t tag;
    int err;

    *nmapped = 0;
    for (s = skip_ows(s); *s != '\0'; s = skip_ows(s)) {
        if (*s == ',') {
            s++;
            continue;
        }
        if ((err = parse_etag(&s, &tag)) != 0)
            return err;
        if (tag.is_coap && (weak_matches || !tag.is_weak)) {
            if ((err = add_etag_option(st, &tag, number)) != 0)
                return err;
            (*nmapped)++;
        }
        ntags++;
        s = skip_ows(s);
        if (*s != ',' && *s != '\0')
            return HCM_EBADHEADER;
    }
    return ntags > 0 ? 0 : HCM_EBADHEADER;
}

static const uint8_t empty[1];

/* RFC 7252 s5.10.8.1: "*" is an empty If-Match ("any representation"), a list of entity-tags
 * one If-Match per tag. If-Match compares strongly (RFC 9110 s13.1.1): a weak tag, or one no
 * CoAP ETag can equal, never matches, and a list of nothing else fails the precondition at once
 * (412), as the server would. */
static int on_if_match(state_t *st, const header_row_t *row, const char *value)
{
    size_t nmapped;
    int err;

    if (is_word(value, "*"))
        return hcm_coap_msg_add(st->out, row->option, (hcm_bytes_t){ .p = empty, .len = 0 });
    if ((err = map_etags(st, value, row->option, false, &nmapped)) != 0)
        return err;
    return nmapped > 0 ? 0 : HCM_EPRECONDITION;
}

/* RFC 7252 s5.10.8.2: "*" is If-None-Match (empty, not repeatable). Entity-tags make a
 * validation request instead: one ETag per tag (s5.10.6.2), whose 2.03 Valid is a 304. Tags no
 * CoAP ETag can equal never match, so the condition holds for them: without any other the
 * request goes unconditional. */
static int on_if_none_match(state_t *st, const header_row_t *row, const char *value)
{
    size_t nmapped;
    int err;

    if (is_word(value, "*")) {
        if (hcm_coap_msg_find(st->out, row->option) != NULL)
            return 0;
        return hcm_coap_msg_add(st->out, row->option, (hcm_bytes_t){ .p = empty, .len = 0 });
    }
    if ((err = map_etags(st, value, HCM_OPT_ETAG, true, &nmapped)) != 0)
        return err;
    st->info->is_validation = st->info->is_validation || nmapped > 0;
    return 0;
}

/* ---- Via and CDN-Loop -> Hop-Limit (RFC 8768 s5) ------------------------------------------- */

/* Counts the non-empty elements of a list (RFC 9110 s5.6.1) whose elements may hold quoted
 * strings (CDN-Loop parameters, RFC 8586 s2) or comments (Via, RFC 9110 s7.6.3), whose commas
 * separate nothing. False when a quoted string or comment is left open or a ')' has no '('. */
static bool count_elements(const char *s, size_t *count)
{
    bool is_quoted = false;
    bool is_empty = true;
    unsigned depth = 0; /* comments nest (RFC 9110 s5.6.5) */

    for (; *s != '\0'; s++) {
        if ((is_quoted || depth > 0) && *s == '\\') {
            if (*++s == '\0')
                return false; /* a quoted-pair needs its character */
        } else if (is_quoted) {
            is_quoted = *s != '"';
        } else if (*s == '"' && depth == 0) {
            is_quoted = true;
        } else if (*s == '(') {
            depth++;
        } else if (*s == ')') {
            if (depth-- == 0)
                return false;
        } else if (*s == ',' && depth == 0) {
            *count += !is_empty;
            is_empty = true;
            continue;
        }
        is_empty = is_empty && (*s == ' ' || *s == '\t');
    }
    *count += !is_empty;
    return !is_quoted && depth == 0;
}

static int on_hops(state_t *st, const header_row_t *row, const char *value)
{
    (void)row;
    return count_elements(value, &st->hops) ? 0 : HCM_EBADHEADER;
}

/* RFC 8768 s5: hcproxy inserts Hop-Limit, its configured value less one per proxy the request
 * has already crossed; s3: a value that reaches 0 MUST NOT be forwarded, and the loop is answered
 * 5.08, in HTTP 508. The option is one byte (1 to 255), so a larger value is sent as 255. */
static int finish_hop_limit(state_t *st)
{
    unsigned limit = st->in->hop_limit;

    if (limit == 0)
        return 0;
    if (st->hops >= limit)
        return HCM_ELOOP;
    /* Hop-Limit is Class E by default (RFC 8613 s4.1: not in Figure 5): an OSCORE request gets
     * none, the loop check above still holds. */
    if (st->info->is_oscore)
        return 0;
    limit -= (unsigned)st->hops;
    return hcm_coap_msg_add_uint(st->out, st->arena, HCM_OPT_HOP_LIMIT, limit > 255 ? 255 : limit);
}

/* ---- Observe (RFC 7641): not mapped, refused (headers.def) ------------------------------- */

/* ---- the table and the loop --------------------------------------------------------------- */

static const header_row_t headers[] = {
#define HCM_HEADER(name, fate, option, fn) { name, fate, option, fn },
#include "headers.def"
#undef HCM_HEADER
};

/* Orders a field name, in any case, against a row's lower-case name. */
static int compare_name(const void *key, const void *elem)
{
    const unsigned char *a = key;
    const unsigned char *b = (const unsigned char *)((const header_row_t *)elem)->name;

    for (; hcm__lower((char)*a) == (char)*b; a++, b++)
        if (*a == '\0')
            return 0;
    return (int)(unsigned char)hcm__lower((char)*a) - (int)*b;
}

static const header_row_t *header_find(const char *name)
{
    return bsearch(name, headers, HCM_COUNTOF(headers), sizeof(headers[0]), compare_name);
}

static int dispatch(state_t *st)
{
    size_t i;
    int err;

    for (i = 0; i < st->in->nheaders; i++) {
        const hcm_header_t *field = &st->in->headers[i];
        const header_row_t *row = field->name != NULL ? header_find(field->name) : NULL;

        /* Unknown fields are dropped like the DROP rows: nothing in CoAP could carry them. */
        if (row == NULL || row->fate == DROP)
            continue;
        /* RFC 8613 s11.1, s8.2 step 1: an OSCORE request's options are inside the ciphertext;
         * outer Accept, If-Match, ETag or Content-Format would be Class E items hcproxy made up,
         * and the server discards them. Only the hop count still matters. */
        if (st->info->is_oscore && row->fate == MAP && row->option != HCM_OPT_HOP_LIMIT)
            continue;
        err = row->fn(st, row, field->value != NULL ? field->value : "");
        if (err != 0)
            return err;
    }
    return 0;
}

int hcm__headers_to_coap(const hcm_http_req_t *in, hcm_arena_t *arena, hcm_coap_msg_t *out,
                         hcm_req_info_t *info)
{
    state_t st = { .in = in, .arena = arena, .out = out, .info = info };
    int err = dispatch(&st);

    if (err == 0 && !info->is_oscore)
        err = finish_content_format(&st);
    if (err == 0 && !info->is_oscore)
        err = finish_accept(&st);
    if (err == 0)
        err = finish_hop_limit(&st);
    return err;
}

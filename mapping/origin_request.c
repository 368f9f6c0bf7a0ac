/* A CoAP request -> an HTTP request to an origin (RFC 7252 s10.1; RFC 8613 s11.2 for OSCORE): the
 * method, the URL (origin_url.c), the options hcproxy recognizes as headers, the payload as body.
 * Header names are written as RFC 9110 spells them; values are constants or live in the arena. */
#include <string.h>

#include "hcm_internal.h"

#define OSCORE_MEDIA_TYPE "application/oscore"
/* RFC 8613 s11.3, s13.6: the Content-Format an OSCORE message never carries. */
#define OSCORE_CONTENT_FORMAT 10001
/* RFC 8768 s5: a CoAP-to-HTTP proxy adds Via when the request had Hop-Limit. RFC 9110 s7.6.3:
 * received-protocol, then received-by. CoAP has no protocol name registered for Via, so hcproxy
 * gives the HTTP version it forwards with and its own name. */
#define VIA_VALUE "1.1 hcproxy"

/* The options hcproxy recognizes are those of options.def, with the value lengths and the
 * repetition their definitions allow. An option that is not there, has a length out of range or
 * is repeated when it may not be is unrecognized (RFC 7252 s5.4.3, s5.4.5): if it is critical
 * (s5.4.1) or unsafe to forward (s5.7.1), the request gets 4.02; an elective safe-to-forward one is
 * dropped, since no HTTP field could carry it. What each recognized option becomes:
 * - the URL (origin_url.c): Uri-Host, Uri-Port, Uri-Path, Uri-Query, Proxy-Uri, Proxy-Scheme;
 * - headers: If-Match (map_if_match), ETag and If-None-Match (map_validation), OSCORE
 *   (map_oscore), Content-Format (map_content_format), Accept (map_accept), Hop-Limit (Via:
 *   check_hop_limit, map_headers);
 * - dropped on purpose:
 *   - Observe: a response without Observe tells the client it is not on the list of observers
 *     (RFC 7641 s3.1, s4.1), which is the truth about an HTTP origin;
 *   - Location-Path, Location-Query, Max-Age: response options, meaningless in a request;
 *   - Block1, Block2, Size2: block-wise transfer is hop-by-hop (RFC 8075 s8.3); the caller
 *     reassembles a Block1 body before mapping and serves Block2 from the whole answer;
 *   - Size1: HTTP sends Content-Length itself;
 *   - No-Response (RFC 7967): it concerns the answer to the client, which the caller sends;
 *   - Echo, Request-Tag (RFC 9175): hop-by-hop freshness and block-wise matching. */

/* RFC 7252 s5.4.6: bit 0 of the number marks a critical option, bit 1 one unsafe to forward. */
static int check_options(const hcm_coap_msg_t *in)
{
    size_t i, nth = 0;

    for (i = 0; i < in->nopts; i++) {
        const hcm_option_t *opt = &in->opts[i];

        nth = i > 0 && in->opts[i - 1].number == opt->number ? nth + 1 : 0;
        if (!hcm_option_is_recognized(opt, nth) &&
            (hcm_option_is_critical(opt->number) || hcm_option_is_unsafe(opt->number)))
            return HCM_EBADOPTION;
    }
    return 0;
}

/* The first option with |number| when it is recognized; NULL when there is none, or when it is an
 * elective one to ignore. */
static const hcm_option_t *find_valid(const hcm_coap_msg_t *in, uint16_t number)
{
    const hcm_option_t *opt = hcm_coap_msg_find(in, number);

    return opt != NULL && hcm_option_is_recognized(opt, 0) ? opt : NULL;
}

/* ---- headers --------------------------------------------------------------------------------- */

typedef struct state {
    const hcm_coap_msg_t *in;
    hcm_arena_t *arena;
    hcm_origin_req_t *out;
} state_t;

static int add_header(hcm_origin_req_t *out, const char *name, const char *value)
{
    if (value == NULL || out->nheaders >= HCM_MAX_HEADERS)
        return HCM_ENOSPACE; /* NULL: the value did not fit in the arena */
    out->headers[out->nheaders++] = (hcm_header_t){ .name = name, .value = value };
    return 0;
}

/* Every recognized option |number| as a list of entity-tags (etag.c), or NULL for none; with
 * |is_any| an empty option makes the whole list "*". */
static int tag_list(const state_t *st, uint16_t number, bool is_any, const char **list)
{
    const hcm_coap_msg_t *in = st->in;
    size_t pass, i, len = 0;
    char *s = NULL;

    *list = NULL;
    for (pass = 0; pass < 2; pass++) {
        for (i = 0, len = 0; i < in->nopts; i++) {
            if (in->opts[i].number != number || !hcm_option_is_recognized(&in->opts[i], 0))
                continue;
            if (in->opts[i].value.len == 0 && is_any) {
                *list = "*";
                return 0;
            }
            hcm__etag_to_entity_tags(in->opts[i].value, s, &len);
        }
        if (len == 0)
            return 0;
        if (s == NULL && (s = hcm_arena_alloc(st->arena, len + 1)) == NULL)
            return HCM_ENOSPACE;
    }
    s[len] = '\0';
    *list = s;
    return 0;
}

/* RFC 7252 s5.10.8.1: each If-Match is one entity-tag the representation may have, and an empty
 * one means "any representation", which is HTTP's "*" (RFC 9110 s13.1.1) whatever else is
 * listed. */
static int map_if_match(const state_t *st)
{
    const char *list;
    int err = tag_list(st, HCM_OPT_IF_MATCH, true, &list);

    if (err != 0 || list == NULL)
        return err;
    return add_header(st->out, "If-Match", list);
}

/* RFC 7252 s5.10.8.2: If-None-Match is "*" (RFC 9110 s13.1.2), which also covers every tag. Else
 * s5.10.6.2: ETag options in a GET ask to validate those representations, which HTTP asks with
 * If-None-Match and answers 304, that is 2.03. ETag means nothing in other requests. */
static int map_validation(const state_t *st)
{
    const char *list;
    int err;

    if (find_valid(st->in, HCM_OPT_IF_NONE_MATCH) != NULL)
        return add_header(st->out, "If-None-Match", "*");
    if (st->in->code != HCM_GET)
        return 0;
    err = tag_list(st, HCM_OPT_ETAG, false, &list);
    if (err != 0 || list == NULL)
        return err;
    st->out->info.is_validation = true;
    return add_header(st->out, "If-None-Match", list);
}

/* RFC 7252 s10.1, RFC 8075 s6.2: Content-Format -> Content-Type (+ Content-Encoding for the
 * deflate formats); a number without a registry entry becomes "application/coap-payload;cf=N",
 * the media type RFC 8075 made for that. Content-Format is elective: a malformed one is ignored
 * (s5.4.3). 10001 without the OSCORE option is an OSCORE message that lost its option. */
static int map_content_format(const state_t *st)
{
    const hcm_option_t *opt = find_valid(st->in, HCM_OPT_CONTENT_FORMAT);
    const char *coding = NULL;
    uint32_t cf;
    int err;

    if (opt == NULL || hcm_uint_decode(opt->value, &cf) != 0)
        return 0;
    if (cf == OSCORE_CONTENT_FORMAT)
        return HCM_EOSCORETYPE;
    err = add_header(st->out, "Content-Type",
                     hcm_media_from_content_format((uint16_t)cf, st->arena, &coding));
    if (err == 0 && coding != NULL)
        err = add_header(st->out, "Content-Encoding", coding);
    return err;
}

/* RFC 7252 s5.10.4: the one Content-Format the client accepts, as Accept (+ Accept-Encoding for
 * the deflate formats, RFC 8075 s6.1 backwards). */
static int map_accept(const state_t *st)
{
    const hcm_option_t *opt = find_valid(st->in, HCM_OPT_ACCEPT);
    const char *coding = NULL;
    uint32_t cf;
    int err;

    if (opt == NULL || hcm_uint_decode(opt->value, &cf) != 0)
        return 0;
    err = add_header(st->out, "Accept",
                     hcm_media_from_content_format((uint16_t)cf, st->arena, &coding));
    if (err == 0 && coding != NULL)
        err = add_header(st->out, "Accept-Encoding", coding);
    return err;
}

/* RFC 8768 s3: a Hop-Limit outside 1..255 MUST be answered 4.00; a proxy decrements the value and
 * MUST NOT forward a request it brings to 0, answering 5.08 instead. s5: a request with Hop-Limit
 * reaches HTTP with Via, so that an HTTP-to-CoAP proxy further on counts this hop. Only the first
 * Hop-Limit counts (RFC 7252 s5.4.5). */
static int check_hop_limit(const hcm_coap_msg_t *in, bool *has_hop_limit)
{
    const hcm_option_t *opt = hcm_coap_msg_find(in, HCM_OPT_HOP_LIMIT);
    uint32_t hops;

    *has_hop_limit = opt != NULL;
    if (opt == NULL)
        return 0;
    if (hcm_uint_decode(opt->value, &hops) != 0 || hops == 0 || hops > 255)
        return HCM_EHOPLIMIT;
    return hops == 1 ? HCM_ELOOP : 0;
}

/* The headers of an ordinary request, in the order of the options they come from. */
static int map_headers(const state_t *st, bool has_hop_limit)
{
    int err = map_if_match(st);

    if (err == 0)
        err = map_validation(st);
    if (err == 0)
        err = map_content_format(st);
    if (err == 0 && has_hop_limit)
        err = add_header(st->out, "Via", VIA_VALUE);
    if (err == 0)
        err = map_accept(st);
    return err;
}

/* RFC 8613 s4.2, s11.1, s11.2: an OSCORE request is an outer POST with a payload (s2:
 * one without is malformed) whose path and query travel inside the ciphertext (s4.1.3.3). It
 * reaches HTTP as a POST with the OSCORE header and Content-Type application/oscore, and with
 * nothing else: the other outer options are Class E items the client did not protect, which the
 * server would discard (s8.2 step 1), so none becomes a header. */
static int map_oscore(const state_t *st, const hcm_option_t *oscore, bool has_path)
{
    int err;

    if (st->in->code != HCM_POST)
        return HCM_EOSCOREMETHOD;
    if (st->in->payload.len == 0)
        return HCM_EOSCOREEMPTY;
    if (has_path)
        return HCM_EOSCOREPATH;
    err = add_header(st->out, "Content-Type", OSCORE_MEDIA_TYPE);
    if (err == 0)
        err = add_header(st->out, "OSCORE", hcm_oscore_header_encode(oscore->value, st->arena));
    return err;
}

int hcm_coap_to_origin(const hcm_coap_msg_t *in, const char *route_base, size_t route_skip,
                       hcm_arena_t *arena, hcm_origin_req_t *out)
{
    state_t st = { .in = in, .arena = arena, .out = out };
    const hcm_option_t *oscore;
    bool has_path = false, has_hop_limit = false;
    int err;

    memset(out, 0, sizeof(*out));
    out->info.code = in->code;
    /* FETCH has no HTTP method (methods.c): 5.01. An OSCORE Observe (outer FETCH, RFC 8613 s4.2)
     * ends here too: s11.1 gives the OSCORE header to POST only, so it has no HTTP form. */
    out->method = hcm_method_from_code(in->code);
    if (out->method == NULL)
        return HCM_ENOMETHOD;
    err = check_options(in);
    if (err == 0)
        err = hcm__origin_url(in, route_base, route_skip, arena, out, &has_path);
    if (err == 0)
        err = check_hop_limit(in, &has_hop_limit);
    if (err != 0)
        return err;
    oscore = hcm_coap_msg_find(in, HCM_OPT_OSCORE);
    out->info.is_oscore = oscore != NULL;
    err = oscore != NULL ? map_oscore(&st, oscore, has_path) : map_headers(&st, has_hop_limit);
    if (err != 0)
        return err;
    out->body = in->payload; /* a view: the payload stays where the caller keeps it */
    return 0;
}

/* Target CoAP URIs: unpacking them from an HTTP request-target (RFC 8075 s5) and turning them
 * into Uri-Host, Uri-Path and Uri-Query options (RFC 7252 s6.4). */
#include <string.h>

#include "hcm_internal.h"

/* RFC 7252 s6.1 and s6.2, RFC 8323 s8.1 and s8.2: the schemes and their default ports. */
static const struct scheme_row {
    const char *name;
    uint16_t default_port;
} schemes[] = {
    [HCM_SCHEME_COAP] = { "coap", 5683 },
    [HCM_SCHEME_COAPS] = { "coaps", 5684 },
    [HCM_SCHEME_COAP_TCP] = { "coap+tcp", 5683 },
    [HCM_SCHEME_COAPS_TCP] = { "coaps+tcp", 5684 },
};

_Static_assert(HCM_COUNTOF(schemes) == HCM_SCHEME_COAPS_TCP + 1, "one row per hcm_scheme_t");

/* RFC 8075 s5.4.1: the simple template "?target_uri={+tu}". */
static const char query_form[] = "?target_uri=";

/* RFC 7252 s5.10.1, s5.10.2: string options are 0 to 255 bytes, Uri-Host at least 1. */
#define MAX_OPTION_LEN 255

const char *hcm_scheme_name(hcm_scheme_t scheme)
{
    return (size_t)scheme < HCM_COUNTOF(schemes) ? schemes[scheme].name : NULL;
}

uint16_t hcm__scheme_default_port(hcm_scheme_t scheme)
{
    return (size_t)scheme < HCM_COUNTOF(schemes) ? schemes[scheme].default_port : 0;
}

static bool eq_nocase(const char *a, const char *b, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        if (hcm__lower(a[i]) != hcm__lower(b[i]))
            return false;
    return true;
}

/* The scheme whose name is the |len| bytes at |s| (RFC 3986 s3.1: case-insensitive), or -1. */
static int scheme_find(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < HCM_COUNTOF(schemes); i++)
        if (strlen(schemes[i].name) == len && eq_nocase(s, schemes[i].name, len))
            return (int)i;
    return -1;
}

/* ---- unpacking (RFC 8075 s5.3, s5.4.1; RFC 7252 s10.2) --------------------------------------- */

/* The length of "scheme" when |s| starts with "scheme://" (RFC 3986 s3.1 scheme syntax), else 0. */
static size_t scheme_len(const char *s)
{
    size_t n = 0;

    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return 0;
    while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
           (s[n] >= '0' && s[n] <= '9') || s[n] == '+' || s[n] == '-' || s[n] == '.')
        n++;
    return strncmp(s + n, "://", 3) == 0 ? n : 0;
}

/* RFC 7252 s10.2: a CoAP URI as the request-target itself (absolute-form) is a proxy request. */
static bool is_absolute_form(const char *raw)
{
    size_t n = scheme_len(raw);

    return n > 0 && scheme_find(raw, n) >= 0;
}

/* "%5B"/"%5D" (any case) as '[' or ']', else 0. */
static char bracket_at(const char *s)
{
    if (s[0] != '%' || s[1] != '5')
        return 0;
    if (s[2] == 'B' || s[2] == 'b')
        return '[';
    if (s[2] == 'D' || s[2] == 'd')
        return ']';
    return 0;
}

/* Copies |t| into the arena with %5B and %5D decoded in the authority only (RFC 8075 s5.3.2:
 * an IPv6 literal's brackets are percent-encoded in the hosting URI). All other percent-encodings
 * stay, so that hcm_target_parse() decodes everything exactly once. */
static int unbracket(const char *t, size_t authority_at, hcm_arena_t *arena, const char **out)
{
    size_t authority_end = authority_at + strcspn(t + authority_at, "/?#");
    size_t len = strlen(t);
    char *copy = hcm_arena_strndup(arena, t, len);
    size_t i, j;

    if (copy == NULL)
        return HCM_ENOSPACE;
    for (i = j = 0; i < len; j++) {
        char bracket = i >= authority_at && i < authority_end ? bracket_at(t + i) : 0;

        copy[j] = bracket != 0 ? bracket : t[i];
        i += bracket != 0 ? 3 : 1;
    }
    copy[j] = '\0';
    *out = copy;
    return 0;
}

int hcm_target_extract(const char *raw, const char *prefix, hcm_arena_t *arena,
                       const char **target_uri)
{
    const char *t = raw;
    size_t n;

    if (raw == NULL)
        return HCM_EBADTARGET;
    if (!is_absolute_form(raw)) {
        if (prefix == NULL || strncmp(raw, prefix, strlen(prefix)) != 0)
            return HCM_ENOTPROXY;
        t = raw + strlen(prefix);
        /* Everything after "target_uri=" is the target, its own '?' and '&' included:
         * {+tu} does not escape reserved characters (RFC 6570 s3.2.3). */
        if (strncmp(t, query_form, strlen(query_form)) == 0)
            t += strlen(query_form);
    }
    if (*t == '\0')
        return HCM_EBADTARGET;
    /* RFC 8075 s5.3.1: without a prior agreement a scheme-less target is malformed: 4xx. */
    n = scheme_len(t);
    if (n == 0)
        return HCM_ENOSCHEME;
    return unbracket(t, n + 3, arena, target_uri);
}

/* ---- parsing (RFC 7252 s6.4) ----------------------------------------------------------------- */

/* RFC 6874 zone identifiers ("[fe80::1%25eth0]") name an interface of the proxy, which a client
 * must not choose. Any '%' inside the brackets is one; uriparser would only call it a syntax
 * error. */
static bool has_zone_id(const char *uri)
{
    size_t n = scheme_len(uri);
    const char *authority = uri + n + 3;
    const char *open, *end;

    if (n == 0)
        return false; /* no "scheme://", so no authority: the parser reports what is wrong */
    end = authority + strcspn(authority, "/?#");
    open = memchr(authority, '[', (size_t)(end - authority));
    if (open == NULL)
        return false;
    return memchr(open, '%', (size_t)(end - open)) != NULL;
}

/* uriparser allocates its path segment list; it gets the arena instead of malloc(), so that
 * mapping/ allocates nothing of its own and a full arena is HCM_ENOSPACE. */
static void *arena_malloc(UriMemoryManager *mm, size_t size)
{
    return hcm_arena_alloc(mm->userData, size);
}

static void arena_free(UriMemoryManager *mm, void *p)
{
    (void)mm;
    (void)p; /* freed with the arena */
}

int hcm__uri_parse(const char *uri, hcm_arena_t *arena, hcm__uri_memory_t *mem, UriUriA *u)
{
    int rc;

    mem->backend = (UriMemoryManager){ .malloc = arena_malloc, .free = arena_free,
                                       .userData = arena };
    if (uriCompleteMemoryManager(&mem->full, &mem->backend) != URI_SUCCESS)
        return HCM_EINTERNAL;
    /* An explicit end: uriparser 0.9.7 answers URI_ERROR_NULL to a NULL one. */
    rc = uriParseSingleUriExMmA(u, uri, uri + strlen(uri), NULL, &mem->full);
    if (rc == URI_ERROR_MALLOC)
        return HCM_ENOSPACE;
    /* Syntax errors, malformed percent-encodings ("%zz", "%4") included. */
    return rc == URI_SUCCESS ? 0 : HCM_EBADTARGET;
}

static size_t range_len(UriTextRangeA r)
{
    return (size_t)(r.afterLast - r.first);
}

/* Percent-decodes [first, last) into the arena, exactly once ('+' stays '+'). The result is
 * NUL-terminated but may hold NUL bytes itself ("%00"); |*len| is its true length. */
static int decode(const char *first, const char *last, hcm_arena_t *arena, char **out,
                  size_t *len)
{
    char *s = hcm_arena_strndup(arena, first, (size_t)(last - first));

    if (s == NULL)
        return HCM_ENOSPACE;
    *len = (size_t)(uriUnescapeInPlaceExA(s, URI_FALSE, URI_BR_DONT_TOUCH) - s);
    *out = s;
    return 0;
}

static hcm_bytes_t bytes_of(const char *s, size_t len)
{
    return (hcm_bytes_t){ .p = (const uint8_t *)s, .len = len };
}

static int map_scheme(const UriUriA *u, hcm_target_t *target)
{
    int scheme;

    if (u->scheme.first == NULL)
        return HCM_ENOSCHEME;
    scheme = scheme_find(u->scheme.first, range_len(u->scheme));
    if (scheme < 0)
        return HCM_EBADSCHEME;
    target->scheme = (hcm_scheme_t)scheme;
    return 0;
}

/* RFC 7252 s6.4 step 5: a literal is the destination and is not sent; a reg-name is sent as
 * Uri-Host, percent-decoded and lower-cased. */
static int map_host(const UriUriA *u, hcm_arena_t *arena, hcm_target_t *target,
                    hcm_coap_msg_t *msg)
{
    bool is_literal = u->hostData.ip4 != NULL || u->hostData.ip6 != NULL;
    char *host;
    size_t len, i;
    int err;

    if (u->hostText.first == NULL || range_len(u->hostText) == 0)
        return HCM_ENOHOST;
    if (u->hostData.ipFuture.first != NULL)
        return HCM_EBADTARGET; /* "[v1.x]": no address family the proxy could send to */
    err = decode(u->hostText.first, u->hostText.afterLast, arena, &host, &len);
    if (err != 0)
        return err;
    if (memchr(host, '\0', len) != NULL)
        return HCM_EBADTARGET; /* "%00" cannot be resolved and would cut target->host short */
    for (i = 0; i < len; i++)
        host[i] = hcm__lower(host[i]);
    target->host = host;
    target->host_is_literal = is_literal;
    if (is_literal)
        return 0;
    if (len > MAX_OPTION_LEN)
        return HCM_ELONGOPTION;
    return hcm_coap_msg_add(msg, HCM_OPT_URI_HOST, bytes_of(host, len));
}

int hcm__uri_port(const UriUriA *u, uint16_t default_port, uint16_t *port)
{
    uint32_t value = 0;

    *port = default_port;
    if (u->portText.first == NULL || u->portText.first == u->portText.afterLast)
        return 0;
    for (const char *p = u->portText.first; p < u->portText.afterLast; p++) {
        value = value * 10 + (uint32_t)(*p - '0');
        if (value > 65535)
            return HCM_EBADPORT;
    }
    if (value == 0)
        return HCM_EBADPORT;
    *port = (uint16_t)value;
    return 0;
}

static bool is_dot_segment(const char *s, size_t len)
{
    return (len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.');
}

/* RFC 7252 s6.4 step 8, and s5.10.1: a Uri-Path option must not be "." or "..", whether the
 * client wrote it plainly or percent-encoded ("%2E%2E"): the server would see a dot segment. */
static int add_segment(const UriPathSegmentA *seg, hcm_arena_t *arena, hcm_coap_msg_t *msg)
{
    char *value;
    size_t len;
    int err;

    if (is_dot_segment(seg->text.first, range_len(seg->text)))
        return HCM_EDOTSEGMENT;
    err = decode(seg->text.first, seg->text.afterLast, arena, &value, &len);
    if (err != 0)
        return err;
    if (is_dot_segment(value, len))
        return HCM_EDOTSEGMENT;
    if (len > MAX_OPTION_LEN)
        return HCM_ELONGOPTION;
    return hcm_coap_msg_add(msg, HCM_OPT_URI_PATH, bytes_of(value, len));
}

/* The target's path is taken as the client wrote it, for the path rules of upstream.allow:
 * uriparser's segments cannot give it, as an empty one points at a constant of the library's,
 * not into |uri|. */
int hcm__uri_path(const char *uri, hcm_arena_t *arena, const char **path)
{
    const char *authority = strstr(uri, "://");
    const char *start = authority != NULL ? authority + 3 + strcspn(authority + 3, "/?#") : "";

    *path = hcm_arena_strndup(arena, start, strcspn(start, "?#"));
    return *path != NULL ? 0 : HCM_ENOSPACE;
}

/* An empty path or "/" gives no Uri-Path; otherwise each segment is one, empty ones included
 * ("/a/" is "a" and ""), so the server sees the path the client wrote. */
static int map_path(const UriUriA *u, hcm_arena_t *arena, hcm_coap_msg_t *msg)
{
    const UriPathSegmentA *seg = u->pathHead;
    int err = 0;

    if (seg != NULL && seg->next == NULL && range_len(seg->text) == 0)
        return 0;
    for (; seg != NULL && err == 0; seg = seg->next)
        err = add_segment(seg, arena, msg);
    return err;
}

/* RFC 7252 s6.4 step 9: one Uri-Query per '&'-separated argument, each percent-decoded. A '?'
 * with nothing after it is one empty argument, as "a&&b" holds an empty one. */
static int map_query(const UriUriA *u, hcm_arena_t *arena, hcm_coap_msg_t *msg)
{
    const char *p = u->query.first;
    int err = 0;

    if (p == NULL)
        return 0;
    for (;;) {
        const char *amp = memchr(p, '&', (size_t)(u->query.afterLast - p));
        const char *end = amp != NULL ? amp : u->query.afterLast;
        char *value;
        size_t len;

        err = decode(p, end, arena, &value, &len);
        if (err == 0 && len > MAX_OPTION_LEN)
            err = HCM_ELONGOPTION;
        if (err == 0)
            err = hcm_coap_msg_add(msg, HCM_OPT_URI_QUERY, bytes_of(value, len));
        if (err != 0 || amp == NULL)
            return err;
        p = amp + 1;
    }
}

/* The checks of RFC 7252 s6.4 in the order of its steps. */
static int map_uri(const UriUriA *u, hcm_arena_t *arena, hcm_target_t *target,
                   hcm_coap_msg_t *msg)
{
    int err = map_scheme(u, target);

    if (err == 0 && u->fragment.first != NULL)
        err = HCM_EFRAGMENT; /* step 4, even an empty one ("coap://h/#") */
    if (err == 0 && u->userInfo.first != NULL)
        err = HCM_EUSERINFO; /* the coap URI syntax has no userinfo (s6.1) */
    if (err == 0)
        err = map_host(u, arena, target, msg);
    if (err == 0)
        /* RFC 7252 s6.4 step 6: the explicit port, or the scheme's default */
        err = hcm__uri_port(u, schemes[target->scheme].default_port, &target->port);
    if (err == 0)
        err = map_path(u, arena, msg);
    if (err == 0)
        err = map_query(u, arena, msg);
    return err;
}

int hcm_target_parse(const char *uri, hcm_arena_t *arena, hcm_target_t *target,
                     hcm_coap_msg_t *msg)
{
    size_t nopts = msg->nopts;
    hcm__uri_memory_t mem;
    UriUriA u;
    int err;

    if (uri == NULL)
        return HCM_EBADTARGET;
    if (has_zone_id(uri))
        return HCM_EZONEID;
    err = hcm__uri_parse(uri, arena, &mem, &u);
    if (err != 0)
        return err;
    err = map_uri(&u, arena, target, msg);
    uriFreeUriMembersMmA(&u, &mem.full);
    if (err == 0)
        err = hcm__uri_path(uri, arena, &target->path);
    if (err != 0)
        msg->nopts = nopts; /* leave |msg| as it was given */
    return err;
}

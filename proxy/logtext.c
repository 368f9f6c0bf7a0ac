/* URI and PDU-dump redaction and request-id checks for log.c (see logtext.h). */
#include <stdio.h>
#include <string.h>

#include "logtext.h"

/* ---- redaction ------------------------------------------------------------------------------ */

/* The length of the delimiter |c| at |s|: 1 as itself, 3 percent-encoded (when |encoded| allows
 * it), else 0. */
static size_t delim(const char *s, char c, bool encoded)
{
    static const char hex[] = "0123456789ABCDEF";

    if (*s == c)
        return 1;
    if (encoded && s[0] == '%' && s[1] == hex[(unsigned char)c >> 4] && s[2] != '\0' &&
        (s[2] == hex[c & 15] || s[2] == (hex[c & 15] | 0x20)))
        return 3;
    return 0;
}

static void add_str(hcp_text_t *t, const char *s)
{
    hcp_text_add(t, s, strlen(s));
}

/* "user:password@" in the authority at |s| (just past "//") becomes "REDACTED@"; the rest is
 * copied by the caller. Returns where the caller goes on. */
static const char *authority(hcp_text_t *t, const char *s)
{
    const char *at = NULL;

    for (const char *p = s; *p != '\0' && *p != '#' && !delim(p, '/', true) && !delim(p, '?', true);
         p++)
        if (delim(p, '@', true) > 0)
            at = p;
    if (at == NULL)
        return s;
    add_str(t, "REDACTED");
    return at;
}

/* A delimiter of query parameters at |s|: '&' or ';'. */
static size_t separator(const char *s, bool encoded)
{
    size_t n = delim(s, '&', encoded);

    return n > 0 ? n : delim(s, ';', encoded);
}

/* The query at |s| (just past its '?'), parameter by parameter. |encoded|: the query began with
 * "%3F", so its delimiters are percent-encoded too. Returns where the query ends, or where the
 * value of a "target_uri" parameter begins: RFC 8075 s5.4.1 makes the rest of the URI the target
 * URI, its own query included, which the caller's loop then redacts as a URI of its own. */
static const char *query(hcp_text_t *t, const char *s, bool encoded)
{
    for (;;) {
        const char *name = s;
        size_t n;

        while (*s != '\0' && *s != '#' && !delim(s, '=', encoded) && !separator(s, encoded))
            s++;
        hcp_text_add(t, name, (size_t)(s - name));
        if ((n = delim(s, '=', encoded)) > 0) {
            bool is_uri = (size_t)(s - name) == strlen("target_uri") &&
                          strncmp(name, "target_uri", strlen("target_uri")) == 0;
            hcp_text_add(t, s, n);
            s += n;
            if (is_uri)
                return s;
            while (*s != '\0' && *s != '#' && !separator(s, encoded))
                s++;
            add_str(t, "REDACTED");
        }
        if ((n = separator(s, encoded)) == 0)
            return s;
        hcp_text_add(t, s, n);
        s += n;
    }
}

/* The length of "://" at |s|, in any mix of plain and percent-encoded characters; 0 if none. */
static size_t scheme_end(const char *s)
{
    size_t colon = delim(s, ':', true);
    size_t slash1 = colon > 0 ? delim(s + colon, '/', true) : 0;
    size_t slash2 = slash1 > 0 ? delim(s + colon + slash1, '/', true) : 0;

    return slash2 > 0 ? colon + slash1 + slash2 : 0;
}

/* One loop over the whole URI: a query hands back the value of a target_uri parameter, which is
 * then walked here like any other URI, so that a target_uri nested in another needs no
 * recursion. */
static void redact_from(hcp_text_t *t, const char *s)
{
    while (*s != '\0') {
        size_t n;

        if ((n = delim(s, '?', true)) > 0) {
            hcp_text_add(t, s, n);
            s = query(t, s + n, n > 1);
        } else if ((n = scheme_end(s)) > 0) {
            hcp_text_add(t, s, n);
            s = authority(t, s + n);
        } else {
            hcp_text_add(t, s, 1);
            s++;
        }
    }
}

void hcp_logtext_redacted_uri(hcp_text_t *t, const char *uri)
{
    redact_from(t, uri);
}

/* The options of a dump whose values may carry secrets; |is_uri|: a whole URI, else a query
 * parameter. */
static const struct {
    const char *prefix;
    bool is_uri;
} pdu_secrets[] = {
    {"Uri-Query:", false},
    {"Location-Query:", false},
    {"Proxy-Uri:", true},
};

/* The secret-bearing option whose name starts at |s|, -1 for none: only at the start of an
 * option in the list, after "[ " or ", ". */
static int pdu_secret_at(const char *dump, const char *s)
{
    if (s - dump < 2 || !(strncmp(s - 2, "[ ", 2) == 0 || strncmp(s - 2, ", ", 2) == 0))
        return -1;
    for (size_t i = 0; i < sizeof pdu_secrets / sizeof pdu_secrets[0]; i++)
        if (strncmp(s, pdu_secrets[i].prefix, strlen(pdu_secrets[i].prefix)) == 0)
            return (int)i;
    return -1;
}

/* Where an option's value ends: at the list's next ", " or its closing " ]", or the end. */
static const char *option_end(const char *value)
{
    const char *comma = strstr(value, ", ");
    const char *close = strstr(value, " ]");

    if (comma != NULL && (close == NULL || comma < close))
        return comma;
    return close != NULL ? close : value + strlen(value);
}

void hcp_logtext_redacted_pdu(hcp_text_t *t, const char *dump)
{
    const char *s = dump;

    if (strncmp(dump, "<<", 2) == 0) { /* a binary payload's hex or character dump line */
        add_str(t, "<<REDACTED>>");
        return;
    }
    while (*s != '\0') {
        const char *value, *end, *eq;
        char copy[1024];
        int i;

        if (strncmp(s, "] :: '", 6) == 0) { /* a text payload, quoted, closes the dump */
            add_str(t, "] :: 'REDACTED'");
            return;
        }
        i = pdu_secret_at(dump, s);

        if (i < 0) {
            hcp_text_add(t, s++, 1);
            continue;
        }
        value = s + strlen(pdu_secrets[i].prefix);
        hcp_text_add(t, s, (size_t)(value - s));
        end = option_end(value);
        if (pdu_secrets[i].is_uri) {
            snprintf(copy, sizeof copy, "%.*s", (int)(end - value), value);
            hcp_logtext_redacted_uri(t, copy);
        } else if ((eq = memchr(value, '=', (size_t)(end - value))) != NULL) {
            hcp_text_add(t, value, (size_t)(eq + 1 - value));
            add_str(t, "REDACTED");
        } else {
            hcp_text_add(t, value, (size_t)(end - value));
        }
        s = end;
    }
}

/* ---- request ids ---------------------------------------------------------------------------- */

bool hcp_logtext_request_id_ok(const char *id, size_t max)
{
    size_t n = strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._:+=/@");

    return n > 0 && n <= max && id[n] == '\0';
}

/* W3C Trace Context s3.2: version "00" has exactly four fields; a later version may add more
 * after a '-', which are left to it. */
bool hcp_logtext_traceparent_ok(const char *tp)
{
    static const size_t field_len[] = {2, 32, 16, 2};
    const char *p = tp;

    for (size_t i = 0; i < sizeof field_len / sizeof field_len[0]; i++) {
        if (i > 0 && *p++ != '-')
            return false;
        if (strspn(p, "0123456789abcdef") < field_len[i])
            return false;
        p += field_len[i];
    }
    if (strncmp(tp, "ff", 2) == 0)
        return false;
    return *p == '\0' || (strncmp(tp, "00", 2) != 0 && *p == '-' && strlen(tp) <= 512);
}

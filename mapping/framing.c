/* How an HTTP/1.1 request's body is delimited, and whether that is unambiguous (RFC 9112 s6):
 * libmicrohttpd 0.9.75 accepts Content-Length beside Transfer-Encoding, two different
 * Content-Lengths, no Host and two Hosts, and reads whatever the framing it picked leaves over as
 * the next request. An intermediary in front of hcproxy that picked the other framing would then
 * have smuggled a request past its own checks. These rules refuse every such request; the
 * connection is closed after the answer (s6.3, s9.6). */
#include <string.h>
#include <strings.h>

#include "hcm.h"

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* |value| without leading and trailing whitespace equals |word|, in any case. */
static bool is_word(const char *value, size_t len, const char *word)
{
    while (len > 0 && is_ows(*value)) {
        value++;
        len--;
    }
    while (len > 0 && is_ows(value[len - 1]))
        len--;
    return len == strlen(word) && strncasecmp(value, word, len) == 0;
}

/* RFC 9110 s8.6: 1*DIGIT, nothing else (no sign, no list, no space). */
static bool is_length(const char *value)
{
    if (*value == '\0')
        return false;
    for (; *value != '\0'; value++)
        if (*value < '0' || *value > '9')
            return false;
    return true;
}

void hcm_framing_add(hcm_framing_t *f, const char *name, const char *value)
{
    if (strcasecmp(name, "Host") == 0) {
        f->hosts++;
    } else if (strcasecmp(name, "Content-Length") == 0) {
        if (!is_length(value) || (f->length != NULL && strcmp(f->length, value) != 0))
            f->length_is_bad = true;
        f->length = value;
    } else if (strcasecmp(name, "Transfer-Encoding") == 0) {
        f->codings++;
        f->coding = value;
    }
}

/* RFC 9112 s6.1: a transfer coding list must end in chunked; one hcproxy does not decode
 * before it (gzip, chunked) is 501, chunked anywhere but last is a framing error. */
static int check_coding(const char *coding)
{
    const char *last = strrchr(coding, ',');

    if (is_word(coding, strlen(coding), "chunked"))
        return 0;
    last = last != NULL ? last + 1 : coding;
    return is_word(last, strlen(last), "chunked") ? HCM_ECODING : HCM_EFRAMING;
}

int hcm_framing_check(const hcm_framing_t *f, bool is_http11)
{
    /* RFC 9112 s3.2: exactly one Host in HTTP/1.1, at most one in any version. */
    if (f->hosts > 1 || (is_http11 && f->hosts == 0))
        return HCM_EHOSTFIELD;
    if (f->length_is_bad)
        return HCM_EFRAMING; /* s6.3 item 5: an invalid Content-Length is unrecoverable */
    if (f->codings == 0)
        return 0;
    /* s6.1: Transfer-Encoding is HTTP/1.1's; beside Content-Length it is a smuggling attempt
     * (s6.3 item 3); repeated, its meaning depends on which line a reader takes. */
    if (!is_http11 || f->length != NULL || f->codings > 1)
        return HCM_EFRAMING;
    return check_coding(f->coding);
}

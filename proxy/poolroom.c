/* poolroom: room in libmicrohttpd's connection pool for an answer's header block (poolroom.h).
 *
 * Each connection has one pool of http.max_header_bytes (MHD_OPTION_CONNECTION_MEMORY_LIMIT,
 * front.c). libmicrohttpd 0.9.75 and 1.0.1 alike (connection.c, memorypool.c) keep in it:
 *  - from its start, the read buffer: the request line and headers as they came, parsed in
 *    place; once parsed, the buffer's start moves past them but they stay allocated until the
 *    next request. When the answer is queued, the buffer shrinks to the bytes not yet processed
 *    (connection_switch_from_recv_to_send), its end rounded up to the pool's alignment;
 *  - from its end, one struct MHD_HTTP_Header (0.9.75; MHD_HTTP_Req_Header in 1.0.1) for every
 *    header field, query argument and cookie, and a copy of each Cookie header's value for the
 *    cookie parser (parse_cookie_header);
 *  - between them, once the answer is queued, the write buffer: all that is left
 *    (connection_maximize_write_buffer), into which build_header_response() writes the status
 *    line and header fields. When they do not fit, libmicrohttpd logs "failed to create
 *    response header" and closes the connection with no answer at all.
 * A request that does not fit the pool is libmicrohttpd's own 431 or 414, for which it first
 * frees the read buffer (transmit_error_response); one that fits with too little left is
 * hcproxy's to answer, and the access handler asks here first. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <microhttpd.h>

#include "poolroom.h"

/* memorypool.c ALIGN_SIZE: every allocation is rounded up to two words. */
#define POOL_ALIGN (2 * sizeof(void *))
#define ROUND_UP(n) (((n) + POOL_ALIGN - 1) / POOL_ALIGN * POOL_ALIGN)
/* struct MHD_HTTP_Header (MHD_HTTP_Req_Header): next, prev, name, its length, value, its
 * length, kind: seven words, eight once aligned (64 bytes on a 64-bit machine). */
#define ENTRY_BYTES ROUND_UP(7 * sizeof(void *))
/* What the access handler cannot see: whitespace libmicrohttpd trims around header values
 * (RFC 9110 s5.6.3 OWS) and between the request line's parts, and the bytes of a body or of a
 * pipelined request already read behind the headers. A few of each; more is not covered. */
#define UNSEEN_MARGIN 32u

#define LEN(s) (sizeof(s) - 1)
/* libmicrohttpd writes "Date: <IMF-fixdate>\r\n", 37 bytes, and asks for one more. */
#define DATE_NEED 38u
/* The longest media type mapping/media.def can give a Content-Type (an application/aif+cbor
 * with its parameters). */
#define MEDIA_TYPE_MAX 61u

/* The header block of hcproxy's fullest answer, part by part (mapping/response.c,
 * exchange_answer.c): the longest status line; Date; Connection (Keep-Alive for an HTTP/1.0
 * client); Content-Type with the longest media type; Content-Encoding; an 8-byte ETag as quoted
 * hex; Cache-Control with the largest Max-Age; Content-Length of up to 20 digits; X-Request-Id
 * without its value; the empty line. A measured 502 with a 21-byte request id is 163 bytes, its
 * 401 with WWW-Authenticate 211; this sum is 330 and the id. A Location (Location-Path) longer
 * than what the other fields left is not covered. */
#define ANSWER_NEED                                                                                \
    (LEN("HTTP/1.1 431 Request Header Fields Too Large\r\n") + DATE_NEED +                        \
     LEN("Connection: Keep-Alive\r\n") + LEN("Content-Type: \r\n") + MEDIA_TYPE_MAX +             \
     LEN("Content-Encoding: deflate\r\n") + LEN("ETag: \"0123456789abcdef\"\r\n") +                \
     LEN("Cache-Control: max-age=4294967295\r\n") +                                               \
     LEN("Content-Length: 18446744073709551615\r\n") + LEN("X-Request-Id: \r\n") + LEN("\r\n"))

typedef struct pool_use {
    size_t bytes;   /* in the read buffer */
    size_t entries; /* header fields, query arguments and cookies */
    size_t copies;  /* the Cookie values copied, each rounded up */
} pool_use_t;

static enum MHD_Result count_entry(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    pool_use_t *use = cls;

    use->entries++;
    if (kind != MHD_HEADER_KIND)
        return MHD_YES; /* a query argument's or a cookie's bytes are counted where they came */
    use->bytes += strlen(key) + LEN(": ") + (value != NULL ? strlen(value) : 0) + LEN("\r\n");
    if (strcasecmp(key, MHD_HTTP_HEADER_COOKIE) == 0 && value != NULL)
        use->copies += ROUND_UP(strlen(value) + 1);
    return MHD_YES;
}

size_t hcp_poolroom_used(struct MHD_Connection *conn, const char *method, const char *raw_uri,
                         const char *version)
{
    pool_use_t use = {
        .bytes = strlen(method) + LEN(" ") + strlen(raw_uri) + LEN(" ") + strlen(version) +
                 LEN("\r\n") + LEN("\r\n"),
    };

    MHD_get_connection_values(conn, MHD_HEADER_KIND | MHD_COOKIE_KIND | MHD_GET_ARGUMENT_KIND,
                              count_entry, &use);
    return ROUND_UP(use.bytes) + use.entries * ENTRY_BYTES + use.copies + UNSEEN_MARGIN;
}

size_t hcp_poolroom_answer_need(size_t request_id_len)
{
    return ANSWER_NEED + request_id_len;
}

size_t hcp_poolroom_431_need(size_t body_len)
{
    char digits[24];

    return LEN("HTTP/1.1 431 Request Header Fields Too Large\r\n") + DATE_NEED +
           LEN("Connection: close\r\n") + LEN("Content-Length: \r\n") +
           (size_t)snprintf(digits, sizeof digits, "%zu", body_len) + LEN("\r\n");
}

/* RFC 9110 s5.6.7: IMF-fixdate, in English whatever the locale. */
static void format_date(char *out, size_t len)
{
    static const char days[][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    snprintf(out, len, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

size_t hcp_poolroom_format_431(char *buf, size_t len, const char *body, bool is_head)
{
    char date[40];
    int n;

    format_date(date, sizeof date);
    /* RFC 9110 s9.3.2: an answer to HEAD has no content; its Content-Length is the GET's. */
    n = snprintf(buf, len,
                 "HTTP/1.1 431 Request Header Fields Too Large\r\nDate: %s\r\n"
                 "Connection: close\r\nContent-Length: %zu\r\n\r\n%s",
                 date, strlen(body), is_head ? "" : body);
    return n > 0 && (size_t)n < len ? (size_t)n : 0;
}

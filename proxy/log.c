/* JSON-lines logging on stdout, one object per event, so that a container runtime or a test can
 * parse it. Every line is built in one buffer and written with one call; strings are escaped
 * (text.c) and secrets redacted (logtext.c), so a line is valid JSON in valid UTF-8 whatever a
 * client or a library wrote into it. The level filter is checked before any formatting. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "hcc.h"
#include "log.h"
#include "logtext.h"
#include "text.h"

static hcc_level_t log_threshold = HCC_LOG_INFO;

static const char *const level_names[] = {
    [HCC_LOG_ERROR] = "error",
    [HCC_LOG_WARN] = "warn",
    [HCC_LOG_INFO] = "info",
    [HCC_LOG_DEBUG] = "debug",
};

/* A line's bound: a request line or a libcoap PDU dump fits, a longer message is cut (and says
 * so in "truncated"). */
#define LINE_MAX_BYTES 4096

void hcp_log_init(hcc_level_t level)
{
    log_threshold = level;
    /* Line-buffered even when stdout is a pipe: a test or a collector reads lines as they come. */
    setvbuf(stdout, NULL, _IOLBF, 0);
}

void hcp_log_set_level(hcc_level_t level)
{
    log_threshold = level;
}

bool hcp_log_enabled(hcc_level_t level)
{
    return level <= log_threshold;
}

void hcp_log_redact(const char *uri, char *buf, size_t len)
{
    hcp_text_t t;

    hcp_text_init(&t, buf, len);
    hcp_logtext_redacted_uri(&t, uri != NULL ? uri : "-");
}

static void add_field(hcp_text_t *line, const hcp_log_field_t *f)
{
    char redacted[2048];

    if (f->kind == HCP_LOG_FIELD_UINT) {
        hcp_text_printf(line, ",\"%s\":%llu", f->key, (unsigned long long)f->num);
        return;
    }
    if (f->kind == HCP_LOG_FIELD_MS) {
        hcp_text_printf(line, ",\"%s\":%.3f", f->key, f->ms);
        return;
    }
    if (f->str == NULL)
        return; /* absent: no field at all */
    hcp_text_printf(line, ",\"%s\":\"", f->key);
    if (f->kind == HCP_LOG_FIELD_URI) {
        hcp_log_redact(f->str, redacted, sizeof redacted);
        hcp_text_json(line, redacted, strlen(redacted));
    } else {
        hcp_text_json(line, f->str, strlen(f->str));
    }
    hcp_text_add(line, "\"", 1);
}

/* A line's first fields, in |buf| of LINE_MAX_BYTES: the time, the level and the exchange. */
static void start_line(hcp_text_t *line, char *buf, hcc_level_t level, uint64_t exchange)
{
    struct timespec now;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    hcp_text_init(line, buf, LINE_MAX_BYTES);
    hcp_text_printf(line, "{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"level\":\"%s\"",
                    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                    now.tv_nsec / 1000000, level_names[level]);
    if (exchange != 0)
        hcp_text_printf(line, ",\"exchange\":%llu", (unsigned long long)exchange);
}

/* |fmt| is hcp_log()'s, checked at its callers (-Wformat=2). */
__attribute__((format(printf, 5, 0))) static void vlog(hcc_level_t level, uint64_t exchange,
                                                       const hcp_log_field_t *fields,
                                                       size_t nfields, const char *fmt, va_list ap)
{
    char msg[2048], buf[LINE_MAX_BYTES + 64];
    hcp_text_t line;
    int n;

    n = vsnprintf(msg, sizeof msg, fmt, ap);
    start_line(&line, buf, level, exchange);
    hcp_text_add(&line, ",\"msg\":\"", 8);
    hcp_text_json(&line, msg, strlen(msg));
    hcp_text_add(&line, "\"", 1);
    for (size_t i = 0; i < nfields; i++)
        add_field(&line, &fields[i]);
    if (line.cut || n >= (int)sizeof msg) {
        /* Cut inside an escape or a field: start again with the message alone, shortened. */
        start_line(&line, buf, level, exchange);
        hcp_text_add(&line, ",\"truncated\":true,\"msg\":\"", 26);
        hcp_text_json(&line, msg, strnlen(msg, LINE_MAX_BYTES / 8));
        hcp_text_add(&line, "\"", 1);
    }
    /* LINE_MAX_BYTES leaves room for the end of the line whatever was cut above. */
    line.cap = sizeof buf;
    hcp_text_add(&line, "}\n", 2);
    fwrite(line.buf, 1, line.len, stdout);
}

void hcp_log(hcc_level_t level, uint64_t exchange, const char *fmt, ...)
{
    va_list ap;

    if (!hcp_log_enabled(level))
        return;
    va_start(ap, fmt);
    vlog(level, exchange, NULL, 0, fmt, ap);
    va_end(ap);
}

void hcp_log_fields(hcc_level_t level, uint64_t exchange, const hcp_log_field_t *fields,
                    size_t nfields, const char *fmt, ...)
{
    va_list ap;

    if (!hcp_log_enabled(level))
        return;
    va_start(ap, fmt);
    vlog(level, exchange, fields, nfields, fmt, ap);
    va_end(ap);
}

void hcp_log_redact_pdu(char *dump, size_t len)
{
    char copy[2048];
    hcp_text_t t;

    snprintf(copy, sizeof copy, "%s", dump);
    hcp_text_init(&t, dump, len);
    hcp_logtext_redacted_pdu(&t, copy);
}

void hcp_log_request_id(uint64_t id, char *out, size_t len)
{
    static uint64_t prefix;

    while (prefix == 0 && getrandom(&prefix, sizeof prefix, 0) != sizeof prefix)
        ;
    snprintf(out, len, "%016llx-%llu", (unsigned long long)prefix, (unsigned long long)id);
}

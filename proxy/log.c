/* JSON-lines logging on stdout, one object per event, so that a container runtime or a test can
 * parse it. Messages are escaped; the level filter is checked before any formatting. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hcp.h"

static hcc_level_t log_threshold = HCC_LOG_INFO;

static const char *const level_names[] = {
    [HCC_LOG_ERROR] = "error",
    [HCC_LOG_WARN] = "warn",
    [HCC_LOG_INFO] = "info",
    [HCC_LOG_DEBUG] = "debug",
};

void hcp_log_init(hcc_level_t level)
{
    log_threshold = level;
    /* Line-buffered even when stdout is a pipe: a test or a collector reads lines as they come. */
    setvbuf(stdout, NULL, _IOLBF, 0);
}

bool hcp_log_enabled(hcc_level_t level)
{
    return level <= log_threshold;
}

/* Writes |s| as the body of a JSON string (RFC 8259 s7). */
static void put_json_escaped(FILE *out, const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
}

void hcp_log(hcc_level_t level, const hcp_exchange_t *ex, const char *fmt, ...)
{
    char msg[1024];
    struct timespec now;
    struct tm tm;
    va_list ap;

    if (!hcp_log_enabled(level))
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);

    flockfile(stdout);
    printf("{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"level\":\"%s\"",
           tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
           now.tv_nsec / 1000000, level_names[level]);
    if (ex != NULL)
        printf(",\"exchange\":%llu", (unsigned long long)hcp_exchange_id(ex));
    fputs(",\"msg\":\"", stdout);
    put_json_escaped(stdout, msg);
    fputs("\"}\n", stdout);
    funlockfile(stdout);
}

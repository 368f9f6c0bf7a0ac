/* log.c: one JSON object per line on stdout: "ts", "level", "exchange" (the id of the exchange,
 * of either direction, the line is about; none for 0), "msg", then the fields given. */
#ifndef HCP_LOG_H
#define HCP_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hcc.h"

void hcp_log_init(hcc_level_t level);
bool hcp_log_enabled(hcc_level_t level);
/* log.level changed by a reload. */
void hcp_log_set_level(hcc_level_t level);
void hcp_log(hcc_level_t level, uint64_t exchange, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A field of a log line. A string field whose value is NULL is left out; a URI field is
 * redacted (logtext.h: user information and query values). */
typedef enum hcp_log_field_kind {
    HCP_LOG_FIELD_STR,
    HCP_LOG_FIELD_URI,
    HCP_LOG_FIELD_UINT,
    HCP_LOG_FIELD_MS
} hcp_log_field_kind_t;
typedef struct hcp_log_field {
    const char *key;
    hcp_log_field_kind_t kind;
    const char *str;
    uint64_t num;
    double ms;
} hcp_log_field_t;
#define HCP_LOG_F_STR(k, v) ((hcp_log_field_t){.key = (k), .kind = HCP_LOG_FIELD_STR, .str = (v)})
#define HCP_LOG_F_URI(k, v) ((hcp_log_field_t){.key = (k), .kind = HCP_LOG_FIELD_URI, .str = (v)})
#define HCP_LOG_F_UINT(k, v) ((hcp_log_field_t){.key = (k), .kind = HCP_LOG_FIELD_UINT, .num = (v)})
#define HCP_LOG_F_MS(k, v) ((hcp_log_field_t){.key = (k), .kind = HCP_LOG_FIELD_MS, .ms = (v)})

void hcp_log_fields(hcc_level_t level, uint64_t exchange, const hcp_log_field_t *fields,
                    size_t nfields, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A request id for exchange |id|, unique to this run of hcproxy: a random prefix drawn once at
 * the first call, and the id. */
void hcp_log_request_id(uint64_t id, char *out, size_t len);
/* |uri| with its secrets replaced (logtext.h), for a message; "-" for NULL. */
void hcp_log_redact(const char *uri, char *buf, size_t len);
/* A libcoap PDU dump (|dump|, a string in a buffer of |len| bytes) with its secrets replaced in
 * place (logtext.h). */
void hcp_log_redact_pdu(char *dump, size_t len);

#endif

/* CoAP response code -> HTTP status and name (RFC 8075 s7 Table 2, RFC 7252 s10.2). */
#include <stdlib.h>

#include "hcm.h"

typedef struct code_row {
    uint8_t code;
    uint16_t status_with_payload;
    uint16_t status_without_payload;
    const char *name;
} code_row_t;

static const code_row_t codes[] = {
#define HCM_RESPONSE(c, dd, with, without, name) { HCM_CODE(c, dd), with, without, name },
#include "codes.def"
#undef HCM_RESPONSE
};

/* The 27 response codes of the spec digest, table A.2. */
_Static_assert(HCM_COUNTOF(codes) == 27, "one row per registered response code");

/* A code outside the table falls back to its class (GUIDANCE in the digest, section E, after
 * HTTP's own rule that an unknown status is treated as x00 of its class). Class 0 holds requests
 * and the Empty message, 1, 3 and 6 are reserved, 7 is signaling (RFC 8323 s5.1): none of these is
 * a response an HTTP client can be given, so they are a bad gateway. */
static const uint16_t class_fallback[8] = {
    [0] = 502, [1] = 502, [2] = 200, [3] = 502, [4] = 400, [5] = 500, [6] = 502, [7] = 502,
};

static int compare_code(const void *key, const void *elem)
{
    const uint8_t *code = key;
    const code_row_t *row = elem;

    return (int)*code - (int)row->code;
}

static const code_row_t *find(uint8_t code)
{
    return bsearch(&code, codes, HCM_COUNTOF(codes), sizeof(codes[0]), compare_code);
}

unsigned hcm_status_from_code(uint8_t code, bool has_payload)
{
    const code_row_t *row = find(code);

    if (row == NULL)
        return class_fallback[HCM_CODE_CLASS(code)];
    return has_payload ? row->status_with_payload : row->status_without_payload;
}

const char *hcm_code_name(uint8_t code)
{
    const code_row_t *row = find(code);

    return row != NULL ? row->name : NULL;
}

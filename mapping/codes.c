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

/* The 27 registered response codes: RFC 7252 s12.1.2, RFC 7959 s2.9 (2.31, 4.08, 4.13), RFC 8132
 * s6 (4.09, 4.22), RFC 8516 (4.29), RFC 8768 s6.1 (5.08). */
_Static_assert(HCM_COUNTOF(codes) == 27, "one row per registered response code");

/* A code outside the table falls back to its class. RFC 8075 s7 has no rule for it; hcproxy follows
 * HTTP's own (RFC 9110 s15: an unknown status is treated as x00 of its class). Class 0 holds
 * requests and the Empty message, 1, 3 and 6 are reserved, 7 is signaling (RFC 8323 s5.1): none of
 * these is a response an HTTP client can be given, so they are a bad gateway. */
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

/* ---- HTTP status -> CoAP code (the reverse direction, RFC 7252 s10.1) ---------------------- */

/* The method groups of status.def's columns. */
enum { BY_GET, BY_POST, BY_PUT, BY_DELETE, BY_PATCH, NGROUPS };

typedef struct status_row {
    uint16_t status; /* the status, or its class for a class row */
    uint8_t code[NGROUPS];
} status_row_t;

#define C(c, dd) HCM_CODE(c, dd)
static const status_row_t statuses[] = {
#define HCM_STATUS(status, get, post, put, del, patch) { status, { get, post, put, del, patch } },
#define HCM_STATUS_CLASS(class, get, post, put, del, patch)
#include "status.def"
#undef HCM_STATUS_CLASS
#undef HCM_STATUS
};

/* Indexed by class 1 to 5. */
static const status_row_t status_classes[6] = {
#define HCM_STATUS(status, get, post, put, del, patch)
#define HCM_STATUS_CLASS(class, get, post, put, del, patch)                                       \
    [class] = { class, { get, post, put, del, patch } },
#include "status.def"
#undef HCM_STATUS_CLASS
#undef HCM_STATUS
};
#undef C

/* The column for a request code. FETCH answers like GET (RFC 8132 s2: a GET with a body), iPATCH
 * like PATCH. Anything else is not a request hcproxy forwards to HTTP (hcm_method_from_code()
 * gives it no method), so it takes the GET column rather than none. */
static const uint8_t group_of[8] = {
    [HCM_GET] = BY_GET,       [HCM_POST] = BY_POST,   [HCM_PUT] = BY_PUT,
    [HCM_DELETE] = BY_DELETE, [HCM_FETCH] = BY_GET,   [HCM_PATCH] = BY_PATCH,
    [HCM_IPATCH] = BY_PATCH,
};

static int compare_status(const void *key, const void *elem)
{
    const unsigned *status = key;
    const status_row_t *row = elem;

    return (int)*status - (int)row->status;
}

uint8_t hcm_code_from_status(unsigned status, uint8_t request_code)
{
    const status_row_t *row;
    unsigned group = request_code < HCM_COUNTOF(group_of) ? group_of[request_code] : BY_GET;

    /* Not an HTTP status (RFC 9110 s15: three digits, 1xx to 5xx): the answer was not
     * understood, which RFC 7252 s10.1 answers with 5.02. */
    if (status < 100 || status > 599)
        return HCM_CODE(5, 2);
    row = bsearch(&status, statuses, HCM_COUNTOF(statuses), sizeof(statuses[0]), compare_status);
    if (row == NULL)
        row = &status_classes[status / 100];
    return row->code[group];
}

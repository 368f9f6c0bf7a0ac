/* hcm_strerror(), hcm_err_status() and hcm_err_code(), generated from errors.def (one X-macro list,
 * after libuv's UV_ERRNO_MAP), so that every error is born with its HTTP status, its CoAP code and
 * its reason. */
#include "hcm.h"

static const struct error_row {
    unsigned status;
    uint8_t code;
    const char *reason;
} errors[] = {
#define HCM_ERR(name, status, coap, reason)                                                       \
    [HCM_E##name - HCM_EBASE - 1] = { status, coap, reason },
#include "errors.def"
#undef HCM_ERR
};

_Static_assert(HCM_COUNTOF(errors) == (size_t)(HCM_ELAST - HCM_EBASE - 1),
               "one row per error code");

/* The row for |err|, or NULL for 0, a libuv error or any other number outside errors.def. */
static const struct error_row *find(int err)
{
    if (err <= HCM_EBASE || err >= HCM_ELAST)
        return NULL;
    return &errors[err - HCM_EBASE - 1];
}

const char *hcm_strerror(int err)
{
    const struct error_row *row = find(err);

    return row != NULL ? row->reason : "unknown error";
}

unsigned hcm_err_status(int err)
{
    const struct error_row *row = find(err);

    return row != NULL ? row->status : 500;
}

/* An error hcproxy does not know is its own failure: 5.00, as hcm_err_status() gives 500. */
uint8_t hcm_err_code(int err)
{
    const struct error_row *row = find(err);

    return row != NULL ? row->code : HCM_CODE(5, 0);
}

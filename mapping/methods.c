/* HTTP method <-> CoAP method code (RFC 7252 s10.1, s10.2; RFC 8132). */
#include <string.h>

#include "hcm.h"

/* Method tokens are case-sensitive (RFC 9110 s9.1), so the table is compared with strcmp().
 * OPTIONS, TRACE and CONNECT are absent on purpose: RFC 7252 s10.2.1 and s10.2.7 answer them
 * with 501, as every method not listed here. */
static const struct method_row {
    const char *token;
    uint8_t code;
} to_coap[] = {
    { "GET", HCM_GET },
    /* RFC 7252 s10.2.3: CoAP has no HEAD; the proxy sends GET and drops the body itself. */
    { "HEAD", HCM_GET },
    { "POST", HCM_POST },
    { "PUT", HCM_PUT },
    { "DELETE", HCM_DELETE },
    /* RFC 5789 PATCH is RFC 8132 s3's model for CoAP PATCH. */
    { "PATCH", HCM_PATCH },
    /* RFC 8132 s2, s3: FETCH and iPATCH are not HTTP methods, but HTTP allows extension tokens
     * (RFC 9110 s9.1), so a client can send them (curl -X FETCH). iPATCH is accepted both as
     * RFC 8132 spells it and in capitals, as HTTP methods are usually written (`curl -X IPATCH`):
     * method names are case-sensitive (RFC 9110 s9.1), so the capitals need a row of their own. */
    { "FETCH", HCM_FETCH },
    { "iPATCH", HCM_IPATCH },
    { "IPATCH", HCM_IPATCH },
};

_Static_assert(HCM_COUNTOF(to_coap) == 9, "RFC 7252 and RFC 8132 methods, plus HEAD and IPATCH");

/* The reverse direction, a CoAP client asking an HTTP origin (RFC 7252 s10.1). */
static const struct method_row to_http[] = {
    { "GET", HCM_GET },
    { "POST", HCM_POST },
    { "PUT", HCM_PUT },
    { "DELETE", HCM_DELETE },
    /* Neither RFC 7252 nor RFC 8132 maps these; hcproxy's choice: PATCH and iPATCH both become
     * HTTP PATCH (RFC 5789, RFC 8132 s3's model). FETCH is absent: HTTP has no safe method with a
     * body (QUERY is not standard), so it is answered 5.01. */
    { "PATCH", HCM_PATCH },
    { "PATCH", HCM_IPATCH },
};

int hcm_method_to_code(const char *method, uint8_t *code)
{
    size_t i;

    if (method == NULL)
        return HCM_ENOMETHOD;
    for (i = 0; i < HCM_COUNTOF(to_coap); i++) {
        if (strcmp(method, to_coap[i].token) == 0) {
            *code = to_coap[i].code;
            return 0;
        }
    }
    return HCM_ENOMETHOD;
}

const char *hcm_method_from_code(uint8_t code)
{
    size_t i;

    for (i = 0; i < HCM_COUNTOF(to_http); i++)
        if (to_http[i].code == code)
            return to_http[i].token;
    return NULL;
}

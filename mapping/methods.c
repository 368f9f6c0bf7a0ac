/* HTTP method -> CoAP method code (RFC 7252 s10.2, RFC 8132). */
#include <string.h>

#include "hcm.h"

/* Method tokens are case-sensitive (RFC 9110 s9.1), so the table is compared with strcmp().
 * OPTIONS, TRACE and CONNECT are absent on purpose: RFC 7252 s10.2.1 and s10.2.7 answer them
 * with 501, as every method not listed here. */
static const struct method_row {
    const char *token;
    uint8_t code;
} methods[] = {
    { "GET", HCM_GET },
    /* RFC 7252 s10.2.3: CoAP has no HEAD; the proxy sends GET and drops the body itself. */
    { "HEAD", HCM_GET },
    { "POST", HCM_POST },
    { "PUT", HCM_PUT },
    { "DELETE", HCM_DELETE },
    /* RFC 8132 s2 and s3 name these methods; the tokens are spelled as the RFC spells them. */
    { "FETCH", HCM_FETCH },
    { "PATCH", HCM_PATCH },
    { "iPATCH", HCM_IPATCH },
};

_Static_assert(HCM_COUNTOF(methods) == 8, "RFC 7252 and RFC 8132 methods, plus HEAD");

int hcm_method_to_code(const char *method, uint8_t *code)
{
    size_t i;

    if (method == NULL)
        return HCM_ENOMETHOD;
    for (i = 0; i < HCM_COUNTOF(methods); i++) {
        if (strcmp(method, methods[i].token) == 0) {
            *code = methods[i].code;
            return 0;
        }
    }
    return HCM_ENOMETHOD;
}

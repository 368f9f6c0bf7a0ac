/* Redirects in the reverse direction. Of the HTTP redirects only 307 and 308 promise that the
 * same method with the same body is right at the new place (RFC 9110 s15.4.8, s15.4.9); 301 and
 * 302 let clients turn a POST into a GET and 303 asks for one, which a proxy must not do on a
 * device's behalf. So hcproxy follows 307 and 308 alone, as often as origin.redirects says; the
 * proxy, not this file, checks the new origin against origin.allow. */
#include <string.h>
#include <strings.h>

#include "hcm_internal.h"

static const char *location_of(const hcm_header_t *headers, size_t nheaders, int *count)
{
    const char *found = NULL;

    *count = 0;
    for (size_t i = 0; i < nheaders; i++) {
        if (headers[i].name != NULL && strcasecmp(headers[i].name, "Location") == 0) {
            found = headers[i].value;
            (*count)++;
        }
    }
    return found;
}

/* RFC 9110 s10.2.2: a relative Location is resolved against the request's URL (RFC 3986 s5).
 * A fragment is dropped: it is never part of a request (RFC 9112 s3.2). */
static int resolve(const char *location, const char *base, hcm_arena_t *arena, char **out)
{
    hcm__uri_memory_t base_mem, rel_mem;
    UriUriA base_uri, rel_uri, abs_uri;
    int err, rc, len = 0;

    if ((err = hcm__uri_parse(base, arena, &base_mem, &base_uri)) != 0)
        return err == HCM_ENOSPACE ? err : HCM_EINTERNAL;
    if ((err = hcm__uri_parse(location, arena, &rel_mem, &rel_uri)) != 0)
        return err == HCM_ENOSPACE ? err : HCM_EBADRESPONSE;
    rc = uriAddBaseUriExMmA(&abs_uri, &rel_uri, &base_uri, URI_RESOLVE_STRICTLY, &rel_mem.full);
    if (rc != URI_SUCCESS)
        return rc == URI_ERROR_MALLOC ? HCM_ENOSPACE : HCM_EBADRESPONSE;
    abs_uri.fragment.first = abs_uri.fragment.afterLast = NULL;
    /* uriparser writes a parsed IPv6 address out in full ("[0000:...:0001]"); written as the
     * origin spelled it, its text goes out instead, in brackets as an IP-literal's would. */
    if (abs_uri.hostData.ip6 != NULL) {
        abs_uri.hostData.ip6 = NULL;
        abs_uri.hostData.ipFuture = abs_uri.hostText;
    }
    if (uriToStringCharsRequiredA(&abs_uri, &len) != URI_SUCCESS)
        return HCM_EBADRESPONSE;
    if ((*out = hcm_arena_alloc(arena, (size_t)len + 1)) == NULL)
        return HCM_ENOSPACE;
    if (uriToStringA(*out, &abs_uri, len + 1, NULL) != URI_SUCCESS)
        return HCM_EBADRESPONSE;
    return 0;
}

int hcm_origin_redirect(unsigned status, const hcm_header_t *headers, size_t nheaders,
                        const hcm_origin_req_t *request, hcm_arena_t *arena, hcm_origin_req_t *out)
{
    const char *location;
    char *target;
    int count, err;

    if (status != 307 && status != 308)
        return 0;
    location = location_of(headers, nheaders, &count);
    if (count != 1 || location[0] == '\0' || strpbrk(location, " \t") != NULL)
        return HCM_EBADRESPONSE; /* RFC 9110 s10.2.2: one URI-reference */
    if ((err = resolve(location, request->url, arena, &target)) != 0)
        return err;
    *out = *request; /* method, headers and body unchanged */
    if ((err = hcm__origin_url_absolute(target, arena, out)) != 0)
        return err == HCM_ETRANSPORT || err == HCM_ENOSPACE ? err : HCM_EBADRESPONSE;
    return 1;
}

/* libcurl, loaded when the reverse direction first needs it. Linked, libcurl-gnutls and what it
 * pulls in (libssh2 and with it OpenSSL's libcrypto, OpenLDAP, Kerberos, librtmp, ...) cost an idle
 * hcproxy about half its memory (bench/README.md, the memory findings), for a direction many
 * deployments never use. So hcproxy is built against curl's headers only and dlopen()s the library;
 * the table holds the functions origin.c calls, each typed from curl.h's own prototype. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "libcurl.h"

_Static_assert(sizeof(void *) == sizeof(void (*)(void)),
               "dlsym() hands out functions as data pointers (POSIX)");

/* One function: dlsym() gives a data pointer, copied into the typed slot (POSIX allows the
 * conversion; ISO C has no cast for it). */
static int load_symbol(void *lib, const char *name, void *slot, size_t size, char *err,
                       size_t err_len)
{
    void *sym = dlsym(lib, name);

    if (sym == NULL) {
        snprintf(err, err_len, "%s: no %s", HCP_LIBCURL_SONAME, name);
        return -1;
    }
    memcpy(slot, &sym, size);
    return 0;
}

int hcp_libcurl_load(hcp_libcurl_t *api, char *err, size_t err_len)
{
    void *lib;

    /* RTLD_NOW: every symbol is bound here, in the caller's thread, not later on the loop. */
    if ((lib = dlopen(HCP_LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
        snprintf(err, err_len, "%s", dlerror());
        return -1;
    }
#define X(name)                                                                                   \
    if (load_symbol(lib, "curl_" #name, &api->name, sizeof api->name, err, err_len) < 0)         \
        goto fail_symbol;
    HCP_LIBCURL_FUNCTIONS(X)
#undef X
    /* A failed curl_global_init() may leave some of its libraries initialised: libcurl stays
     * mapped, unused, rather than have their destructors run under them. */
    if (api->global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, err_len, "%s: curl_global_init failed", HCP_LIBCURL_SONAME);
        return -1;
    }
    return 0;

fail_symbol:
    dlclose(lib); /* none of its code has run beyond its constructors */
    return -1;
}

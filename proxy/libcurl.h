/* libcurl through a table of function pointers, filled by dlopen() (libcurl.c). Only origin.c
 * uses it. Each slot has the type of curl.h's prototype, so every call is checked against the
 * real declaration as a direct call would be. */
#ifndef HCP_LIBCURL_H
#define HCP_LIBCURL_H

#include <stddef.h>

#include <curl/curl.h>

/* The library's file name, from the build (meson option libcurl_soname). */
#ifndef HCP_LIBCURL_SONAME
#define HCP_LIBCURL_SONAME "libcurl-gnutls.so.4"
#endif

/* The functions origin.c calls, without their curl_ prefix: one list for the table's slots and
 * for the loader's dlsym() calls. */
#define HCP_LIBCURL_FUNCTIONS(X)                                                                  \
    X(global_init)                                                                                \
    X(global_cleanup)                                                                             \
    X(multi_init)                                                                                 \
    X(multi_cleanup)                                                                              \
    X(multi_setopt)                                                                               \
    X(multi_assign)                                                                               \
    X(multi_add_handle)                                                                           \
    X(multi_remove_handle)                                                                        \
    X(multi_socket_action)                                                                        \
    X(multi_info_read)                                                                            \
    X(easy_init)                                                                                  \
    X(easy_cleanup)                                                                               \
    X(easy_setopt)                                                                                \
    X(easy_getinfo)                                                                               \
    X(easy_strerror)                                                                              \
    X(slist_append)                                                                               \
    X(slist_free_all)

/* curl.h makes curl_easy_setopt() and a few others macros (typecheck-gcc.h); a name not followed
 * by '(' is not expanded, so __typeof__ sees the function. */
typedef struct hcp_libcurl {
#define X(name) __typeof__(curl_##name) *name;
    HCP_LIBCURL_FUNCTIONS(X)
#undef X
} hcp_libcurl_t;

/* Loads libcurl, fills |api| and runs curl_global_init(). Blocks on the file system: call it
 * off the loop (uv_queue_work). 0, or -1 with the reason in |err|. libcurl is never unloaded. */
int hcp_libcurl_load(hcp_libcurl_t *api, char *err, size_t err_len);

#endif

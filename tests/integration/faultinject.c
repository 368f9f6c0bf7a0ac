/* An LD_PRELOAD library that makes one library call fail, for the tests of hcproxy's failure
 * paths at start (upstream_start.sh). HCP_FAULT names the call whose first use fails:
 *   coap_new_context  returns NULL, as without memory
 *   uv_poll_start     returns UV_EBADF, after uv_poll_init() has put the handle in the loop
 * Every other call, and every later one, goes to the real function. */
#include <dlfcn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <coap3/coap.h>
#include <uv.h>

/* Whether this first call of |name| is the one to fail. */
static bool fails(const char *name, bool *done)
{
    const char *fault = getenv("HCP_FAULT");

    if (*done || fault == NULL || strcmp(fault, name) != 0)
        return false;
    *done = true;
    return true;
}

coap_context_t *coap_new_context(const coap_address_t *listen_addr)
{
    static bool done;
    coap_context_t *(*real)(const coap_address_t *);

    *(void **)&real = dlsym(RTLD_NEXT, "coap_new_context"); /* POSIX's way (dlsym(3)) */

    return fails("coap_new_context", &done) ? NULL : real(listen_addr);
}

int uv_poll_start(uv_poll_t *handle, int events, uv_poll_cb cb)
{
    static bool done;
    int (*real)(uv_poll_t *, int, uv_poll_cb);

    *(void **)&real = dlsym(RTLD_NEXT, "uv_poll_start");

    return fails("uv_poll_start", &done) ? UV_EBADF : real(handle, events, cb);
}

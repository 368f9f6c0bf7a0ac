/* random: see random.h.
 *
 * The random half of a token (RFC 7252 s5.3.1, RFC 9175 s4), a Request-Tag and a Message ID come
 * from GnuTLS's CSPRNG: xorshift64*'s state can be worked out from a few of its outputs, and a
 * CoAP server (one an HTTP client may pick) sees the tokens sent to it, so they must not tell
 * those of another. Drawn 1 KiB at a time: one call per 256 draws of 4 bytes (which took 300 ns
 * with a call each, 30 ns from the pool). */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include <uv.h>

#include "hcc.h"
#include "log.h"
#include "random.h"

static uint64_t fast_state;
static uint8_t pool[1024];
static size_t pool_used = sizeof pool; /* drawn at the first call */

static uint64_t fast_next(void)
{
    uint64_t x = fast_state;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    fast_state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

void hcp_random_fast_seed(void)
{
    if (getrandom(&fast_state, sizeof fast_state, 0) != sizeof fast_state || fast_state == 0)
        fast_state = uv_hrtime() | 1;
}

int hcp_random_fast_fill(void *out, size_t len)
{
    uint8_t *p = out;

    if (fast_state == 0)
        hcp_random_fast_seed();
    while (len > 0) {
        uint64_t r = fast_next();
        size_t n = len < sizeof r ? len : sizeof r;
        memcpy(p, &r, n);
        p += n;
        len -= n;
    }
    return 1;
}

/* |len| bytes straight from a CSPRNG; false when none answered. */
static bool draw(void *out, size_t len)
{
    return gnutls_rnd(GNUTLS_RND_NONCE, out, len) == 0 ||
           getrandom(out, len, 0) == (ssize_t)len;
}

/* The fast generator's bytes in place of a CSPRNG's: -1, logged the first time. */
static int fall_back(void *out, size_t len)
{
    static bool has_warned;

    if (!has_warned)
        hcp_log(HCC_LOG_ERROR, 0, "random: no CSPRNG answered; tokens are guessable");
    has_warned = true;
    hcp_random_fast_fill(out, len);
    return -1;
}

int hcp_random_fill(void *out, size_t len)
{
    if (len > sizeof pool)
        return draw(out, len) ? 0 : fall_back(out, len);
    if (pool_used + len > sizeof pool) {
        if (!draw(pool, sizeof pool))
            return fall_back(out, len); /* the pool stays empty: the CSPRNG is asked again */
        pool_used = 0;
    }
    memcpy(out, pool + pool_used, len);
    pool_used += len;
    return 0;
}

/* The per-exchange bump allocator: one arena per exchange, as h2o keeps a memory pool in every
 * request, so that mapping/ never calls malloc().
 * Nothing is freed singly; the caller drops the whole buffer when the exchange ends. */
#include <string.h>

#include "hcm.h"

#define ARENA_ALIGN 8u

void hcm_arena_init(hcm_arena_t *arena, void *buf, size_t size)
{
    arena->base = buf;
    arena->size = buf != NULL ? size : 0;
    arena->used = 0;
}

/* Reserves |n| bytes after |pad| bytes of padding, or NULL when they do not fit. Written so that
 * no sum can wrap around, whatever |n| the caller asks for. */
static void *bump(hcm_arena_t *arena, size_t pad, size_t n)
{
    size_t room = arena->size - arena->used;
    uint8_t *p;

    if (arena->base == NULL || pad > room || n > room - pad)
        return NULL;
    p = arena->base + arena->used + pad;
    arena->used += pad + n;
    return p;
}

void *hcm_arena_alloc(hcm_arena_t *arena, size_t n)
{
    uintptr_t at;

    if (arena->base == NULL)
        return NULL;
    /* Align the address, not the offset: the caller's buffer need not be aligned itself. */
    at = (uintptr_t)(arena->base + arena->used);
    return bump(arena, (size_t)(-at & (ARENA_ALIGN - 1)), n);
}

char *hcm_arena_strndup(hcm_arena_t *arena, const char *s, size_t len)
{
    char *copy;

    /* Strings need no alignment, so they waste no padding. len + 1 cannot wrap: |s| holds len
     * readable bytes, so len < SIZE_MAX. */
    copy = bump(arena, 0, len + 1);
    if (copy == NULL)
        return NULL;
    if (len > 0)
        memcpy(copy, s, len);
    copy[len] = '\0';
    return copy;
}

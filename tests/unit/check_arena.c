/* hcm_arena_*: the per-exchange bump allocator (mapping/arena.c). */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hcm.h"
#include "run_suite.h"

/* Offsets 0..7 into an aligned buffer: the arena must align addresses, not offsets. */
static _Alignas(16) uint8_t backing[256 + 8];

START_TEST(alloc_is_aligned_whatever_the_buffer)
{
    hcm_arena_t a;
    size_t sizes[] = { 1, 3, 8, 13, 0, 7 };
    size_t i;

    hcm_arena_init(&a, backing + _i, 256);
    for (i = 0; i < HCM_COUNTOF(sizes); i++) {
        uint8_t *p = hcm_arena_alloc(&a, sizes[i]);

        ck_assert_ptr_nonnull(p);
        ck_assert_uint_eq((uintptr_t)p % 8, 0);
        ck_assert(p >= backing + _i && p + sizes[i] <= backing + _i + 256);
        ck_assert_uint_le(a.used, a.size);
    }
}
END_TEST

/* Rows: buffer size, request, whether it fits (from an aligned buffer). */
static const struct {
    size_t size;
    size_t n;
    bool fits;
} fit_rows[] = {
    { 0, 0, true },   { 0, 1, false },  { 8, 8, true },           { 8, 9, false },
    { 64, 64, true }, { 64, 65, false }, { 64, SIZE_MAX, false }, { 64, SIZE_MAX - 7, false },
};

START_TEST(alloc_fits_or_returns_null)
{
    hcm_arena_t a;
    uint8_t *p;

    hcm_arena_init(&a, backing, fit_rows[_i].size);
    p = hcm_arena_alloc(&a, fit_rows[_i].n);
    if (fit_rows[_i].fits) {
        ck_assert_ptr_eq(p, backing);
        ck_assert_uint_eq(a.used, fit_rows[_i].n);
    } else {
        ck_assert_ptr_null(p);
        ck_assert_uint_eq(a.used, 0); /* a failed request takes nothing */
    }
}
END_TEST

START_TEST(alloc_padding_counts_against_the_size)
{
    hcm_arena_t a;

    hcm_arena_init(&a, backing, 16);
    ck_assert_ptr_nonnull(hcm_arena_alloc(&a, 1));
    ck_assert_ptr_null(hcm_arena_alloc(&a, 9)); /* 7 bytes of padding + 9 > 15 left */
    ck_assert_ptr_eq(hcm_arena_alloc(&a, 8), backing + 8);
    ck_assert_uint_eq(a.used, 16);
    ck_assert_ptr_null(hcm_arena_alloc(&a, 1));
}
END_TEST

START_TEST(strndup_copies_len_bytes_and_terminates)
{
    hcm_arena_t a;
    char *s, *t;

    hcm_arena_init(&a, backing, 32);
    s = hcm_arena_strndup(&a, "abc\0def", 7); /* exactly len bytes, NULs included */
    ck_assert_ptr_nonnull(s);
    ck_assert_mem_eq(s, "abc\0def", 8);
    t = hcm_arena_strndup(&a, "xy", 1); /* strings need no alignment: no padding */
    ck_assert_ptr_eq(t, s + 8);
    ck_assert_str_eq(t, "x");
    ck_assert_ptr_nonnull(hcm_arena_strndup(&a, "", 0));
    ck_assert_uint_eq(a.used, 11);
}
END_TEST

START_TEST(strndup_null_when_full)
{
    hcm_arena_t a;

    hcm_arena_init(&a, backing, 4);
    ck_assert_ptr_null(hcm_arena_strndup(&a, "abcd", 4)); /* the NUL needs a fifth byte */
    ck_assert_uint_eq(a.used, 0);
    ck_assert_ptr_nonnull(hcm_arena_strndup(&a, "abc", 3));
    ck_assert_ptr_null(hcm_arena_strndup(&a, "", 0));
}
END_TEST

START_TEST(null_buffer_gives_nothing)
{
    hcm_arena_t a;

    hcm_arena_init(&a, NULL, 100);
    ck_assert_ptr_null(hcm_arena_alloc(&a, 0));
    ck_assert_ptr_null(hcm_arena_alloc(&a, 1));
    ck_assert_ptr_null(hcm_arena_strndup(&a, "", 0));
}
END_TEST

static Suite *arena_suite(void)
{
    Suite *s = suite_create("arena");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, alloc_is_aligned_whatever_the_buffer, 0, 8);
    tcase_add_loop_test(tc, alloc_fits_or_returns_null, 0, HCM_COUNTOF(fit_rows));
    tcase_add_test(tc, alloc_padding_counts_against_the_size);
    tcase_add_test(tc, strndup_copies_len_bytes_and_terminates);
    tcase_add_test(tc, strndup_null_when_full);
    tcase_add_test(tc, null_buffer_gives_nothing);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(arena_suite());
}

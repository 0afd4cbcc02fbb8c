/*
 * tests/test_sincos_row.c - the x86 SIMD angle-row filler against the
 * scalar row, bit for bit (tests/sincos_row_check.h says what is drawn).
 *
 * The avx2 filler runs where the CPU has AVX2 and FMA (it is also the
 * avx512 ports' filler); otherwise the test is skipped with the reason.
 * The NEON filler gets the same check as an AArch64 program under qemu
 * (tests/sincos_row_check_main.c, run by test_runner_neon).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "test_seed.h"
#include "impls/avx2/avx2.h"
#include "impls/avx2/sincos_row_avx2.h"
#include "tests/sincos_row_check.h"

static uint64_t test_seed(void)
{
    return rc_test_seed("test_sincos_row", 20261123u);
}

Test(sincos_row, avx2_filler_matches_scalar_row)
{
    char why[160] = "";
    if (!rc_impl_avx2.available(why, sizeof why))
        cr_skip_test("avx2 row filler: %s", why);
    const long bad = rc_row_check(rc_sincos_row_avx2, "avx2", test_seed(), stderr);
    cr_assert_eq(bad, 0, "%ld avx2 rows differ from the scalar row (first one on stderr)", bad);
}

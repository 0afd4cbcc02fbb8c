/*
 * tests/test_certified.c - the x86 ports' f16/bf16 kernels that rotate at
 * f32 width and certify each result (impls/common/certified_f32.h),
 * against scalar bit for bit on inputs next to the types' rounding
 * boundaries (tests/near_boundary.h says how and why). Every runnable
 * entry (avx512, avx512-table, avx2, avx2-table, and avx512-int-bf16: the
 * avx512 bf16 path of CPUs without AVX512-BF16) on the same inputs; an
 * entry the CPU cannot run is named in the log, and the test is skipped
 * when none can.
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "test_seed.h"
#include "near_boundary.h"
#include "impls/avx2/avx2.h"
#include "impls/avx512/avx512.h"

static void certified_suite(rc_dtype dtype)
{
    static const rc_impl *const all[] = {&rc_impl_avx512, &rc_impl_avx512_table,
                                         &rc_impl_avx512_int_bf16, &rc_impl_avx2,
                                         &rc_impl_avx2_table};
    const size_t n_all = sizeof all / sizeof all[0];
    const rc_impl *runnable[sizeof all / sizeof all[0]];
    size_t n = 0;
    char why[160];
    for (size_t p = 0; p < n_all; p++) {
        why[0] = 0;
        if (!all[p]->available || all[p]->available(why, sizeof why))
            runnable[n++] = all[p];
        else
            cr_log_warn("%s not tested here: %s", all[p]->name, why);
    }
    if (n == 0)
        cr_skip_test("no x86 port runs here (last: %s)", why);
    char who[64];
    snprintf(who, sizeof who, "test_certified %s", rc_dtype_name(dtype));
    near_boundary_suite(runnable, n, dtype, rc_test_seed(who, 20261204u));
}

Test(certified, f16_near_boundaries) { certified_suite(RC_DTYPE_F16); }
Test(certified, bf16_near_boundaries) { certified_suite(RC_DTYPE_BF16); }

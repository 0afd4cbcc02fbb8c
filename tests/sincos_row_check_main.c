/*
 * tests/sincos_row_check_main.c - ropecheck-row-check: the NEON angle-row
 * filler against the scalar row, bit for bit, as a program for the target
 * (tests/sincos_row_check.h). Cross-built with the AArch64 runner
 * (runner/CMakeLists.txt) and run under qemu-user by test_runner_neon.
 * Exit 0: every row equal; 1: some differ (the first is printed).
 * ROPECHECK_SEED reseeds it.
 */
#include <stdio.h>
#include <stdlib.h>

#include "tests/test_seed.h"
#include "impls/neon/sincos_row_neon.h"
#include "tests/sincos_row_check.h"

int main(void)
{
    const uint64_t seed = rc_test_seed("sincos_row_check", 20261123u);
    return rc_row_check(rc_sincos_row_neon, "neon", seed, stdout) == 0 ? 0 : 1;
}

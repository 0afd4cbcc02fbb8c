/* tests/mutants/mutant_wrong.c - the angle m*theta computed in float, as
 * ggml's CPU RoPE does: (float)m * (float)theta. Close to the truth at
 * small m; at m = 2^24 + 1, (float)m is 2^24 and the angle of pair 0
 * (theta = 1) is off by a whole radian. The verifier must fail it. */
#include "tests/mutants/mutant_common.h"

static double float_angle(int64_t m, double theta)
{
    return (double)((float)m * (float)theta);
}

const mutant_hooks mutant_defect = {.angle = float_angle};

static const rc_impl impl = {RC_ABI_VERSION, "mutant_wrong",
                             "test mutant: angle computed in float (ggml-style)", MUTANT_CAPS,
                             NULL, mutant_prepare, mutant_apply, mutant_release, NULL};

const rc_impl *ropecheck_plugin_v1(void)
{
    return &impl;
}

/* tests/mutants/mutant_unsupported.c - claims every dtype in caps but its
 * prepare() refuses all but f32 with RC_ERR_UNSUPPORTED: those cases must
 * be reported as skipped, f32 as correct. */
#include "tests/mutants/mutant_common.h"

static rc_status f32_only(const rc_spec *spec)
{
    return spec->dtype == RC_DTYPE_F32 ? RC_OK : RC_ERR_UNSUPPORTED;
}

const mutant_hooks mutant_defect = {.check_spec = f32_only};

static const rc_impl impl = {RC_ABI_VERSION, "mutant_unsupported",
                             "test mutant: prepare() supports only f32", MUTANT_CAPS, NULL,
                             mutant_prepare, mutant_apply, mutant_release, NULL};

const rc_impl *ropecheck_plugin_v1(void)
{
    return &impl;
}

/*
 * tests/mutants/mutant_common.h - the shared, correct RoPE baseline of the
 * test-only broken implementations, and the hook each mutant fills in with
 * its one defect.
 *
 * Each mutant is a tiny plug-in (plugin.h) built from mutant_common.c plus
 * one file that defines `mutant_defect` and its rc_impl. The baseline is the
 * plainest correct RoPE: a double angle m*theta, a double rotation, one
 * rounding to the element type. It exists to be broken, not to be accurate.
 */
#ifndef ROPECHECK_MUTANT_COMMON_H
#define ROPECHECK_MUTANT_COMMON_H

#include "ropecheck/plugin.h"

#if defined(__GNUC__)
#define MUTANT_EXPORT __attribute__((visibility("default")))
#else
#define MUTANT_EXPORT
#endif

/* What a mutant changes; a NULL member keeps the correct behaviour. */
typedef struct mutant_hooks {
    /* Called first in prepare(); a non-OK status is returned as is. */
    rc_status (*check_spec)(const rc_spec *spec);
    /* The angle m*theta before the direction's sign (default: in double). */
    double (*angle)(int64_t m, double theta);
    /* Called at the end of apply(), after the correct rotation. */
    void (*after_apply)(const rc_spec *spec, const rc_tensor *in, const rc_tensor *out,
                        const int64_t *positions);
} mutant_hooks;

/* Defined by each mutant: its one defect. */
extern const mutant_hooks mutant_defect;

/* Everything a mutant offers unless it says otherwise. */
#define MUTANT_CAPS                                                                     \
    (RC_CAP_ALL_DTYPES | RC_CAP_ALL_LAYOUTS | RC_CAP_INVERSE | RC_CAP_PARTIAL_ROTARY | \
     RC_CAP_INPLACE | RC_CAP_STRIDED)

/* The baseline, to put in a mutant's rc_impl. */
rc_status mutant_prepare(const rc_spec *spec, void **state);
rc_status mutant_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                       const int64_t *positions, rc_direction direction);
void mutant_release(void *state);

/* The plug-in entry point every mutant (but one) exports. */
MUTANT_EXPORT const rc_impl *ropecheck_plugin_v1(void);

#endif /* ROPECHECK_MUTANT_COMMON_H */

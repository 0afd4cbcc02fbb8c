/*
 * core/scaling.h - checking and copying an rc_scaling (rope.h) without
 * MPFR, so the CLI, the harness, the runner and the ports share one set of
 * rules. The numbers themselves come from reference/scaling.h.
 */
#ifndef ROPECHECK_CORE_SCALING_H
#define ROPECHECK_CORE_SCALING_H

#include <stddef.h>
#include <stdint.h>

#include "core/dd.h"
#include "ropecheck/rope.h"

/* Is `sc` a complete, consistent description for rotary_dim r? NULL is
 * valid (no scaling). Checks every field the family uses: factor > 0 and
 * finite, L0 >= 1 and L >= 1 where used, YaRN betas finite with
 * beta_fast > beta_slow > 0, mscale/attention_factor >= 0 and finite, Llama 3
 * high_freq_factor > low_freq_factor > 0, LongRoPE's and TABLE's arrays
 * present with r/2 positive finite entries. 0, or -1 with one line in err. */
int rc_scaling_check(const rc_scaling *sc, int32_t rotary_dim, char *err, size_t err_len);

/* The checks that need the spec's base as well: 0 if sc (may be NULL)
 * is defined with this base, else -1 with the reason in err. */
int rc_scaling_check_base(const rc_scaling *sc, double base, char *err, size_t err_len);

/* 1 for the families whose table depends on the sequence length L
 * (context): dynamic NTK and LongRoPE. */
int rc_scaling_uses_context(rc_scaling_type t);

/* 1 if sc is NULL or RC_SCALING_NONE. */
int rc_scaling_is_none(const rc_scaling *sc);

/* A deep copy (its arrays included, r/2 entries each) that outlives the
 * caller's; NULL for sc == NULL or out of memory (*oom set to 1 then). */
rc_scaling *rc_scaling_clone(const rc_scaling *sc, int32_t rotary_dim, int *oom);
void rc_scaling_free(rc_scaling *sc);

/* The output scale of a spec as a double-double, with the ABI's rule that
 * out_scale_hi == 0 means 1. */
rc_dd rc_spec_out_scale(const rc_spec *spec);

/* One line describing the family and its parameters, for reports and
 * replay lines: "yarn factor=4 original=32768 beta_fast=32 ...". */
void rc_scaling_describe(const rc_scaling *sc, char *buf, size_t len);

#endif /* ROPECHECK_CORE_SCALING_H */

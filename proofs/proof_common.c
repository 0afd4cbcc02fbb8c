/*
 * proofs/proof_common.c - result bookkeeping shared by the oracles.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/axes.h"
#include "core/scaling.h"
#include "proofs/proof_internal.h"
#include "reference/scaling.h"

const char *rc_proof_verdict_name(rc_proof_verdict v)
{
    switch (v) {
    case RC_PROOF_PASS:
        return "pass";
    case RC_PROOF_FAIL:
        return "fail";
    case RC_PROOF_SKIPPED:
        return "skipped";
    case RC_PROOF_ERROR:
        return "error";
    }
    return "?";
}

int rc_proof_has_finding(const rc_proof_result *r, const char *phrase)
{
    for (int i = 0; i < r->n_findings; i++)
        if (strstr(r->findings[i].text, phrase))
            return 1;
    return 0;
}

void rc_proof_add(rc_proof_result *r, const char *fmt, ...)
{
    if (r->n_findings >= RC_PROOF_MAX_FINDINGS) {
        r->findings_dropped++;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->findings[r->n_findings].text, RC_PROOF_FINDING_LEN, fmt, ap);
    va_end(ap);
    r->n_findings++;
}

void rc_proof_also(rc_proof_result *r, const char *name, double value)
{
    if (r->n_also >= RC_PROOF_MAX_ALSO)
        return;
    snprintf(r->also[r->n_also].name, sizeof r->also[r->n_also].name, "%s", name);
    r->also[r->n_also++].value = value;
}

void rc_proof_finish(rc_proof_result *r)
{
    r->verdict = (r->n_findings + r->findings_dropped) > 0 ? RC_PROOF_FAIL : RC_PROOF_PASS;
}

void rc_proof_error(rc_proof_result *r, const char *why)
{
    r->verdict = RC_PROOF_ERROR;
    snprintf(r->error, sizeof r->error, "%s", why);
}

int rc_proof_call_failed(rc_proof_result *r, const char *err)
{
    switch ((rc_probe_fault)r->fault) {
    case RC_PROBE_FAULT_DECLINED:
        r->verdict = RC_PROOF_SKIPPED;
        snprintf(r->error, sizeof r->error, "not offered: %s", err);
        return -1;
    case RC_PROBE_FAULT_REFUSED:
        rc_proof_add(r, "apply() refused a case its caps offer and prepare() accepted (%s)", err);
        rc_proof_finish(r);
        return 0;
    case RC_PROBE_FAULT_UNWRITTEN:
    case RC_PROBE_FAULT_STALE_STATE:
        rc_proof_add(r, "%s", err);
        rc_proof_finish(r);
        return 0;
    case RC_PROBE_FAULT_NONE:
        break;
    }
    rc_proof_error(r, err);
    return -1;
}

/* f64 first: its rounding is far below any defect worth naming, so what
 * the probe sees is what the implementation computes. */
static const rc_dtype dtype_order[] = {RC_DTYPE_F64, RC_DTYPE_F32, RC_DTYPE_F16, RC_DTYPE_BF16};
#define N_ORDER (sizeof dtype_order / sizeof dtype_order[0])

static int first_offered(const rc_impl *impl, const rc_proof_spec *spec)
{
    if (spec->dtype >= 0)
        return spec->dtype;
    for (size_t i = 0; i < N_ORDER; i++)
        if (impl && (impl->caps & rc_cap_for_dtype(dtype_order[i])))
            return (int)dtype_order[i];
    return -1;
}

/* Without a dtype in the spec: the first offered dtype whose prepare()
 * accepts the spec (rc_probe_declined), since a port may decline a dtype
 * its caps list (the ABI makes that a skip of those cases, not of the
 * port). Sets p->dtype; 0, or -1 with SKIPPED and the first decline's
 * reason when every offered dtype is declined. */
static int choose_accepted_dtype(const rc_proof_spec *spec, rc_probe *p, rc_proof_result *r)
{
    if (spec->dtype >= 0)
        return 0;
    char first[200] = "";
    for (size_t i = 0; i < N_ORDER; i++) {
        if (!(p->impl->caps & rc_cap_for_dtype(dtype_order[i])))
            continue;
        p->dtype = dtype_order[i];
        char why[200];
        if (!rc_probe_declined(p, why, sizeof why))
            return 0;
        if (!first[0])
            snprintf(first, sizeof first, "%s", why);
    }
    r->verdict = RC_PROOF_SKIPPED;
    snprintf(r->error, sizeof r->error, "not offered: prepare() declines every dtype its caps "
                                        "offer (%.180s)",
             first);
    return -1;
}

int rc_proof_begin(const rc_impl *impl, const rc_proof_spec *spec, rc_proof_result *r,
                   rc_probe *p)
{
    memset(r, 0, sizeof *r);
    /* A dtype the spec names must exist (-1: the first one offered). */
    if (spec->head_dim < 2 || spec->head_dim > RC_MAX_HEAD_DIM || spec->head_dim % 2 ||
        spec->rotary_dim < 2 || spec->rotary_dim > spec->head_dim || spec->rotary_dim % 2 ||
        !(spec->base > 0.0) || (unsigned)spec->layout >= RC_LAYOUT_COUNT ||
        spec->dtype < -1 || spec->dtype >= RC_DTYPE_COUNT) {
        rc_proof_error(r, "invalid proof spec");
        return -1;
    }
    int dt = first_offered(impl, spec);
    if (dt < 0) {
        r->verdict = RC_PROOF_SKIPPED;
        snprintf(r->error, sizeof r->error, "no dtype to probe with");
        return -1;
    }
    char why[200];
    if (rc_scaling_check(spec->scaling, spec->rotary_dim, why, sizeof why) != 0 ||
        rc_scaling_check_base(spec->scaling, spec->base, why, sizeof why) != 0) {
        char msg[256];
        snprintf(msg, sizeof msg, "invalid scaling: %s", why);
        rc_proof_error(r, msg);
        return -1;
    }
    p->impl = impl;
    p->head_dim = spec->head_dim;
    p->rotary_dim = spec->rotary_dim;
    p->base = spec->base;
    p->layout = spec->layout;
    p->dtype = (rc_dtype)dt;
    p->scaling = rc_scaling_is_none(spec->scaling) ? NULL : spec->scaling;
    p->alpha = p->scaling ? rc_ref_out_scale_dd(p->scaling).hi : 1.0;
    p->timeout_s = spec->timeout_s > 0.0 ? spec->timeout_s : 60.0;
    p->history = !spec->fresh_state_per_call;
    p->axes = spec->axes && spec->axes->n_axes >= 2 ? spec->axes : NULL;
    if (p->axes && rc_axes_check(p->axes, spec->rotary_dim, why, sizeof why) != 0) {
        char msg[256];
        snprintf(msg, sizeof msg, "invalid axis map: %s", why);
        rc_proof_error(r, msg);
        return -1;
    }
    p->broken = &r->broken;
    p->fault = &r->fault;
    r->dtype = p->dtype;
    if (!rc_probe_supported(p, r->error, sizeof r->error)) {
        r->verdict = RC_PROOF_SKIPPED;
        return -1;
    }
    if (choose_accepted_dtype(spec, p, r) != 0)
        return -1;
    r->dtype = p->dtype;
    r->gate_pair = spec->gate_pair > 0.0 ? spec->gate_pair : rc_default_gate_pair(r->dtype);
    return 0;
}

double rc_proof_ulp_scale(const rc_probe *p)
{
    return fmax(1.0, p->alpha) * (1.0 + 0x1p-50);
}

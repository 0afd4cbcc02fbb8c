/*
 * reference/ref_round_dd.c - the fast path's rounding decisions, exported
 * for the tests (the code and its argument: ref_round_dd_inline.h).
 */
#include "reference/ref_round_dd_inline.h"

#include "core/dtype_convert.h"

rc_dd_target rc_dd_target_of(rc_dtype t)
{
    rc_dd_target r = {0, 0, 0.0};
    const rc_format *f = rc_dtype_format(t);
    if (f == NULL || t == RC_DTYPE_F64)
        return r;
    r.precision = f->precision;
    r.emin = f->emin;
    /* (2 - 2^(1-p)) 2^emax, exactly */
    r.max_finite = ldexp(2.0 - ldexp(1.0, 1 - f->precision), f->emax);
    return r;
}

int rc_ref_certify_dd(rc_dd v, double err, rc_dtype t, rc_dd *exact, double *rounded)
{
    const rc_dd_target target = rc_dd_target_of(t);
    return rc_certify_dd_inline(v, err, &target, exact, rounded);
}

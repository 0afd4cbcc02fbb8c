/*
 * tests/mutants/mutant_common.c - the correct baseline every mutant breaks
 * in exactly one way (see mutant_common.h). All four dtypes, both layouts,
 * partial rotary (pass-through channels copied as raw bits), inverse,
 * strides, in place.
 */
#include "tests/mutants/mutant_common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/dtype_convert.h"

typedef struct mutant_state {
    rc_spec spec;  /* theta pointers cleared: the table is ours below */
    double *theta; /* theta_hi + theta_lo, r/2 entries */
} mutant_state;

rc_status mutant_prepare(const rc_spec *spec, void **state)
{
    *state = NULL;
    if (mutant_defect.check_spec) {
        rc_status st = mutant_defect.check_spec(spec);
        if (st != RC_OK)
            return st;
    }
    if (rc_dtype_size(spec->dtype) == 0 || spec->rotary_dim < 2 || spec->rotary_dim % 2 ||
        spec->rotary_dim > spec->head_dim || spec->head_dim > RC_MAX_HEAD_DIM ||
        (unsigned)spec->layout >= RC_LAYOUT_COUNT || !spec->theta_hi || !spec->theta_lo)
        return RC_ERR_INVALID;
    mutant_state *s = calloc(1, sizeof *s);
    size_t half = (size_t)spec->rotary_dim / 2;
    if (!s || !(s->theta = malloc(half * sizeof *s->theta))) {
        free(s);
        return RC_ERR_NOMEM;
    }
    s->spec = *spec;
    s->spec.theta_hi = s->spec.theta_lo = NULL;
    for (size_t i = 0; i < half; i++)
        s->theta[i] = spec->theta_hi[i] + spec->theta_lo[i];
    *state = s;
    return RC_OK;
}

static double angle_double(int64_t m, double theta)
{
    return (double)m * theta;
}

rc_status mutant_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                       const int64_t *positions, rc_direction direction)
{
    const mutant_state *s = state;
    const rc_spec *sp = &s->spec;
    rc_dtype t = sp->dtype;
    size_t esize = rc_dtype_size(t);
    int64_t d = sp->head_dim, half = sp->rotary_dim / 2;
    double (*angle)(int64_t, double) = mutant_defect.angle ? mutant_defect.angle : angle_double;
    if ((unsigned)direction >= RC_DIRECTION_COUNT)
        return RC_ERR_INVALID;

    for (int64_t tok = 0; tok < in->n_tokens; tok++) {
        for (int64_t h = 0; h < in->n_heads; h++) {
            int64_t ib = tok * in->token_stride + h * in->head_stride;
            int64_t ob = tok * out->token_stride + h * out->head_stride;
            for (int64_t i = 0; i < half; i++) {
                int64_t ca = sp->layout == RC_LAYOUT_INTERLEAVED ? 2 * i : i;
                int64_t cb = sp->layout == RC_LAYOUT_INTERLEAVED ? 2 * i + 1 : i + half;
                /* Both loads before either store: correct in place too. */
                double a = rc_elem_load(t, in->data, ib + ca);
                double b = rc_elem_load(t, in->data, ib + cb);
                double phi = angle(positions[tok], s->theta[i]);
                double c = cos(phi), sn = sin(phi);
                if (direction == RC_INVERSE)
                    sn = -sn;
                rc_elem_store(t, out->data, ob + ca, a * c - b * sn);
                rc_elem_store(t, out->data, ob + cb, a * sn + b * c);
            }
            /* Pass-through channels: raw bytes, so NaN payloads survive. */
            if (in->data != out->data && d > 2 * half)
                memcpy((unsigned char *)out->data + (size_t)(ob + 2 * half) * esize,
                       (const unsigned char *)in->data + (size_t)(ib + 2 * half) * esize,
                       (size_t)(d - 2 * half) * esize);
        }
    }
    if (mutant_defect.after_apply)
        mutant_defect.after_apply(sp, in, out, positions);
    return RC_OK;
}

void mutant_release(void *state)
{
    mutant_state *s = state;
    if (s)
        free(s->theta);
    free(s);
}

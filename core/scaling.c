/*
 * core/scaling.c - the rules an rc_scaling must satisfy, its deep copy, and
 * its one-line description. Every failure names the field and the rule,
 * because the user typed (or their config.json holds) that field.
 */
#include "core/scaling.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rc_scaling_is_none(const rc_scaling *sc)
{
    return sc == NULL || sc->type == RC_SCALING_NONE;
}

static int uses_factor(rc_scaling_type t)
{
    return t != RC_SCALING_NONE && t != RC_SCALING_TABLE;
}

static int uses_original(rc_scaling_type t)
{
    return t == RC_SCALING_DYNAMIC_NTK || t == RC_SCALING_YARN || t == RC_SCALING_LLAMA3 ||
           t == RC_SCALING_LONGROPE;
}

int rc_scaling_uses_context(rc_scaling_type t)
{
    return t == RC_SCALING_DYNAMIC_NTK || t == RC_SCALING_LONGROPE;
}

int rc_scaling_check_base(const rc_scaling *sc, double base, char *err, size_t err_len)
{
    /* YaRN's correction range is r*ln(L0/(2*pi*beta)) / (2*ln(base)):
     * undefined at base 1 (HF divides by zero there). */
    if (sc != NULL && sc->type == RC_SCALING_YARN && base == 1.0) {
        if (err && err_len)
            snprintf(err, err_len,
                     "yarn scaling needs base != 1 (its correction range divides by ln(base))");
        return -1;
    }
    return 0;
}

static int array_ok(const double *a, int32_t n, const char *what, const char *family, char *err,
                    size_t err_len)
{
    if (a == NULL) {
        snprintf(err, err_len, "%s scaling needs %s (%d entries, one per pair)", family, what,
                 (int)n);
        return -1;
    }
    for (int32_t i = 0; i < n; i++)
        if (!(a[i] > 0.0) || !isfinite(a[i])) {
            snprintf(err, err_len, "%s[%d] = %g: every entry must be positive and finite",
                     what, (int)i, a[i]);
            return -1;
        }
    return 0;
}

int rc_scaling_check(const rc_scaling *sc, int32_t rotary_dim, char *err, size_t err_len)
{
    if (rc_scaling_is_none(sc))
        return 0;
    const rc_scaling_type t = sc->type;
    if ((unsigned)t >= RC_SCALING_TYPE_COUNT) {
        snprintf(err, err_len, "unknown scaling type %d", (int)t);
        return -1;
    }
    const char *fam = rc_scaling_type_name(t);
    if (uses_factor(t) && (!(sc->factor > 0.0) || !isfinite(sc->factor))) {
        snprintf(err, err_len, "%s scaling: factor %g must be positive and finite", fam,
                 sc->factor);
        return -1;
    }
    if (uses_original(t) && sc->original_context < 1) {
        snprintf(err, err_len,
                 "%s scaling: original context (original_max_position_embeddings) %" PRId64
                 " must be at least 1",
                 fam, sc->original_context);
        return -1;
    }
    if (rc_scaling_uses_context(t) && sc->context < 1) {
        snprintf(err, err_len, "%s scaling: context (sequence length) %" PRId64
                 " must be at least 1", fam, sc->context);
        return -1;
    }
    if ((t == RC_SCALING_NTK || t == RC_SCALING_DYNAMIC_NTK) && rotary_dim <= 2) {
        snprintf(err, err_len, "%s scaling: rotary_dim must exceed 2 (the exponent is r/(r-2))",
                 fam);
        return -1;
    }
    if (t == RC_SCALING_YARN) {
        if (!isfinite(sc->beta_fast) || !isfinite(sc->beta_slow) || !(sc->beta_slow > 0.0) ||
            !(sc->beta_fast > sc->beta_slow)) {
            snprintf(err, err_len,
                     "yarn scaling: need beta_fast > beta_slow > 0 (got beta_fast %g, beta_slow "
                     "%g)",
                     sc->beta_fast, sc->beta_slow);
            return -1;
        }
        if (!(sc->mscale >= 0.0) || !isfinite(sc->mscale) || !(sc->mscale_all_dim >= 0.0) ||
            !isfinite(sc->mscale_all_dim)) {
            snprintf(err, err_len, "yarn scaling: mscale %g and mscale_all_dim %g must be >= 0",
                     sc->mscale, sc->mscale_all_dim);
            return -1;
        }
    }
    if ((t == RC_SCALING_YARN || t == RC_SCALING_LONGROPE) &&
        (!(sc->attention_factor >= 0.0) || !isfinite(sc->attention_factor))) {
        snprintf(err, err_len, "%s scaling: attention_factor %g must be positive (0: derive it)",
                 fam, sc->attention_factor);
        return -1;
    }
    if (t == RC_SCALING_LLAMA3 &&
        (!(sc->low_freq_factor > 0.0) || !(sc->high_freq_factor > sc->low_freq_factor) ||
         !isfinite(sc->high_freq_factor))) {
        snprintf(err, err_len,
                 "llama3 scaling: need high_freq_factor > low_freq_factor > 0 (got %g, %g)",
                 sc->high_freq_factor, sc->low_freq_factor);
        return -1;
    }
    if (t == RC_SCALING_LONGROPE && sc->attention_factor == 0.0 && sc->factor > 1.0 &&
        sc->original_context < 2) {
        snprintf(err, err_len,
                 "longrope scaling: original context %" PRId64
                 " must be at least 2 (the attention factor divides by ln L0)",
                 sc->original_context);
        return -1;
    }
    const int32_t half = rotary_dim / 2;
    if (t == RC_SCALING_LONGROPE &&
        (array_ok(sc->short_factor, half, "short_factor", fam, err, err_len) != 0 ||
         array_ok(sc->long_factor, half, "long_factor", fam, err, err_len) != 0))
        return -1;
    if (t == RC_SCALING_TABLE && array_ok(sc->table, half, "table", fam, err, err_len) != 0)
        return -1;
    return 0;
}

static double *copy_array(const double *a, int32_t n, int *oom)
{
    if (a == NULL)
        return NULL;
    double *c = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
    if (c == NULL) {
        *oom = 1;
        return NULL;
    }
    memcpy(c, a, sizeof(double) * (size_t)n);
    return c;
}

rc_scaling *rc_scaling_clone(const rc_scaling *sc, int32_t rotary_dim, int *oom)
{
    *oom = 0;
    if (sc == NULL)
        return NULL;
    rc_scaling *c = malloc(sizeof *c);
    if (c == NULL) {
        *oom = 1;
        return NULL;
    }
    *c = *sc;
    const int32_t half = rotary_dim / 2;
    c->short_factor = copy_array(sc->short_factor, half, oom);
    c->long_factor = copy_array(sc->long_factor, half, oom);
    c->table = copy_array(sc->table, half, oom);
    if (*oom) {
        rc_scaling_free(c);
        return NULL;
    }
    return c;
}

void rc_scaling_free(rc_scaling *sc)
{
    if (sc == NULL)
        return;
    free((void *)sc->short_factor);
    free((void *)sc->long_factor);
    free((void *)sc->table);
    free(sc);
}

rc_dd rc_spec_out_scale(const rc_spec *spec)
{
    rc_dd one = {1.0, 0.0};
    if (spec == NULL || spec->out_scale_hi == 0.0)
        return one;
    rc_dd s = {spec->out_scale_hi, spec->out_scale_lo};
    return s;
}

void rc_scaling_describe(const rc_scaling *sc, char *buf, size_t len)
{
    if (rc_scaling_is_none(sc)) {
        snprintf(buf, len, "none");
        return;
    }
    const char *fam = rc_scaling_type_name(sc->type);
    switch (sc->type) {
    case RC_SCALING_LINEAR:
    case RC_SCALING_NTK:
        snprintf(buf, len, "%s factor=%.17g", fam, sc->factor);
        break;
    case RC_SCALING_DYNAMIC_NTK:
        snprintf(buf, len, "%s factor=%.17g original=%" PRId64 " context=%" PRId64, fam,
                 sc->factor, sc->original_context, sc->context);
        break;
    case RC_SCALING_YARN:
        snprintf(buf, len,
                 "%s factor=%.17g original=%" PRId64
                 " beta_fast=%.17g beta_slow=%.17g truncate=%d mscale=%.17g "
                 "mscale_all_dim=%.17g attention_factor=%.17g",
                 fam, sc->factor, sc->original_context, sc->beta_fast, sc->beta_slow,
                 (int)sc->truncate, sc->mscale, sc->mscale_all_dim, sc->attention_factor);
        break;
    case RC_SCALING_LLAMA3:
        snprintf(buf, len,
                 "%s factor=%.17g original=%" PRId64 " low_freq_factor=%.17g "
                 "high_freq_factor=%.17g",
                 fam, sc->factor, sc->original_context, sc->low_freq_factor,
                 sc->high_freq_factor);
        break;
    case RC_SCALING_LONGROPE:
        snprintf(buf, len,
                 "%s factor=%.17g original=%" PRId64 " context=%" PRId64
                 " attention_factor=%.17g (short/long factor lists)",
                 fam, sc->factor, sc->original_context, sc->context, sc->attention_factor);
        break;
    default:
        snprintf(buf, len, "%s", fam);
        break;
    }
}

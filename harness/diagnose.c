/*
 * harness/diagnose.c - the cause of a failed verify case (diagnose.h).
 *
 * Models are accepted only when they explain every sampled failing head:
 * the output's error against the model's exact result is within the gate,
 * or at least 2^10 times smaller than against the spec's. The factor
 * leaves room for models that are exact only up to the rounding of their
 * own parameters (base^(r/d) rounded to a double moves the angle at
 * m = 2^31 by up to 2^-22 rad, 2^31 f64 ulps, while the wrong frequencies
 * they stand for move it by O(1) rad), and is far beyond what chance
 * agreement can give: a model that is not what the port computes leaves
 * an error of the same order as the spec's.
 */
#include "harness/diagnose.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dtype_convert.h"
#include "core/pair_layout.h"
#include "harness/case_axes.h"
#include "harness/input_gen.h"
#include "reference/metrics.h"
#include "reference/scaling.h"

#define MAX_FAILS ((size_t)1 << 17) /* failing pairs kept for the shape */
#define MAX_SAMPLES 16              /* failing heads each model is checked on */
#define MODEL_FACTOR 0x1p-10        /* see the header comment */

typedef struct fail_pair {
    int64_t t, m;
    int32_t h, pair;
    double dphi;   /* angle from the exact output pair to the output pair */
    double radial; /* ||output pair|| / ||exact pair|| */
    double phi;    /* the exact rotation angle, reduced to (-pi, pi] */
    double angle;  /* |m * theta_i|, unreduced (double: for binning only) */
} fail_pair;

struct rc_diag {
    rc_verify_case c;
    double gate;
    int half;
    double *token_max;  /* n_tokens */
    int64_t *token_unwritten;
    double *head_max;   /* n_heads */
    double *pair_max;   /* r/2 */
    double *cell_err;   /* n_tokens * n_heads: worst pair ULP of the head */
    double *theta;      /* r/2 frequencies (hi words) */
    fail_pair *fails;
    size_t n_fails;
    int64_t fails_total;
    int out_of_memory;  /* a cause could not be checked: no finding is given */
};

rc_diag *rc_diag_create(const rc_verify_case *c, double gate_pair)
{
    rc_diag *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->c = *c;
    d->gate = gate_pair;
    d->half = c->rotary_dim / 2;
    size_t cells = (size_t)c->n_tokens * (size_t)c->n_heads;
    d->token_max = calloc((size_t)c->n_tokens, sizeof *d->token_max);
    d->token_unwritten = calloc((size_t)c->n_tokens, sizeof *d->token_unwritten);
    d->head_max = calloc((size_t)c->n_heads, sizeof *d->head_max);
    d->pair_max = calloc((size_t)d->half, sizeof *d->pair_max);
    d->cell_err = calloc(cells, sizeof *d->cell_err);
    d->fails = malloc(MAX_FAILS * sizeof *d->fails);
    d->theta = malloc(2 * (size_t)d->half * sizeof *d->theta);
    if (d->theta)
        rc_ref_freq_table_period(c->base, c->rotary_dim, c->scaling,
                                 c->axes ? c->axes->freq_period : 0, d->theta,
                                 d->theta + d->half);
    if (!d->theta || !d->token_max || !d->token_unwritten || !d->head_max || !d->pair_max || !d->cell_err ||
        !d->fails) {
        rc_diag_destroy(d);
        return NULL;
    }
    return d;
}

void rc_diag_destroy(rc_diag *d)
{
    if (!d)
        return;
    free(d->token_max);
    free(d->token_unwritten);
    free(d->head_max);
    free(d->pair_max);
    free(d->cell_err);
    free(d->fails);
    free(d->theta);
    free(d);
}


static double fmax_nan(double a, double b)
{
    return isnan(b) || b > a ? b : a; /* a NaN error is the worst error */
}

void rc_diag_add_head(rc_diag *d, int64_t t, int64_t h, const double *in,
                      const rc_ref_elem *elems, const double *got, const unsigned char *unwritten)
{
    const rc_verify_case *c = &d->c;
    double head_worst = 0.0;
    for (int ch = 0; ch < c->head_dim; ch++)
        d->token_unwritten[t] += unwritten[ch];
    for (int i = 0; i < d->half; i++) {
        int ca, cb;
        rc_pair_channels(c->layout, c->rotary_dim, i, &ca, &cb);
        if (elems[ca].kind != RC_ELEM_ROTATED || elems[cb].kind != RC_ELEM_ROTATED)
            continue;
        double ea = rc_ulp_error(c->dtype, got[ca], elems[ca].exact, elems[ca].pair_norm);
        double eb = rc_ulp_error(c->dtype, got[cb], elems[cb].exact, elems[cb].pair_norm);
        double e = fmax_nan(ea, eb);
        head_worst = fmax_nan(head_worst, e);
        d->pair_max[i] = fmax_nan(d->pair_max[i], e);
        if (!(e <= d->gate)) {
            d->fails_total++;
            if (d->n_fails < MAX_FAILS) {
                const double xa = elems[ca].exact.hi, xb = elems[cb].exact.hi;
                const double ga = got[ca], gb = got[cb];
                fail_pair *f = &d->fails[d->n_fails++];
                f->t = t;
                f->m = rc_case_pair_pos(c, t, i);
                f->h = (int32_t)h;
                f->pair = i;
                f->dphi = atan2(xa * gb - xb * ga, xa * ga + xb * gb);
                f->radial = hypot(ga, gb) / hypot(xa, xb);
                f->phi = atan2(in[ca] * xb - in[cb] * xa, in[ca] * xa + in[cb] * xb);
                f->angle = fabs((double)f->m * d->theta[i]);
            }
        }
    }
    d->token_max[t] = fmax_nan(d->token_max[t], head_worst);
    d->head_max[h] = fmax_nan(d->head_max[h], head_worst);
    d->cell_err[t * c->n_heads + h] = head_worst;
}

/* ---- what the failures are confined to ---------------------------------- */

typedef struct confinement {
    int64_t bad_tokens, first_bad, last_bad;
    int64_t bad_heads, one_head;
    int64_t bad_pairs, one_pair;
    int64_t divisor;     /* >= 2: every failing position is a multiple */
    int64_t n_bad_positions;
    int64_t unwritten_tokens, unwritten_first, unwritten_last;
    int all_bad_unwritten; /* every failing token holds unwritten outputs */
} confinement;

static int64_t gcd64(int64_t a, int64_t b)
{
    while (b) {
        int64_t r = a % b;
        a = b;
        b = r;
    }
    return a;
}

static int is_bad(const rc_diag *d, double e)
{
    return !(e <= d->gate);
}

static void find_confinement(const rc_diag *d, confinement *k)
{
    const rc_verify_case *c = &d->c;
    memset(k, 0, sizeof *k);
    k->first_bad = k->one_head = k->one_pair = k->unwritten_first = -1;
    k->all_bad_unwritten = 1;
    int64_t g = 0;
    int zero_bad = 0, passing_off_divisor = 0;
    for (int64_t t = 0; t < c->n_tokens; t++) {
        if (d->token_unwritten[t] > 0) {
            if (k->unwritten_tokens++ == 0)
                k->unwritten_first = t;
            k->unwritten_last = t;
        }
        if (!is_bad(d, d->token_max[t]))
            continue;
        if (k->bad_tokens++ == 0)
            k->first_bad = t;
        k->last_bad = t;
        k->all_bad_unwritten &= d->token_unwritten[t] > 0;
        if (rc_case_n_axes(c) >= 2) /* a divisor of which axis: not asked */
            continue;
        if (c->positions[t] == 0)
            zero_bad = 1;
        else
            g = gcd64(g, c->positions[t]);
    }
    /* Distinct failing positions, and whether a passing position breaks
     * the divisor (else "multiples of g" says nothing). */
    for (int64_t t = 0; t < c->n_tokens; t++) {
        int64_t m = rc_case_pos_max(c, t);
        if (is_bad(d, d->token_max[t]))
            k->n_bad_positions++;
        else if (g >= 2 && m > 0 && m % g != 0)
            passing_off_divisor = 1;
    }
    /* Chance agreement (two failing positions always share some divisor)
     * is ruled out by asking for what a periodic defect gives and a
     * size-driven one does not: every multiple of g in the case fails, and
     * passing positions lie both below and above the failing ones. */
    int64_t passing_multiples = 0, min_bad = INT64_MAX, max_bad = 0;
    int passing_below = 0, passing_above = 0;
    for (int64_t t = 0; t < c->n_tokens; t++)
        if (is_bad(d, d->token_max[t]) && rc_case_pos_max(c, t) > 0) {
            const int64_t m = rc_case_pos_max(c, t);
            min_bad = m < min_bad ? m : min_bad;
            max_bad = m > max_bad ? m : max_bad;
        }
    for (int64_t t = 0; t < c->n_tokens && g >= 2; t++) {
        const int64_t m = c->positions[t]; /* g >= 2: one axis */
        if (is_bad(d, d->token_max[t]) || m == 0)
            continue;
        passing_multiples += m % g == 0;
        passing_below |= m < min_bad;
        passing_above |= m > max_bad;
    }
    if (!zero_bad && g >= 2 && k->n_bad_positions >= 2 && passing_off_divisor &&
        passing_multiples == 0 && passing_below && passing_above)
        k->divisor = g;
    for (int64_t h = 0; h < c->n_heads; h++)
        if (is_bad(d, d->head_max[h]) && k->bad_heads++ == 0)
            k->one_head = h;
    for (int i = 0; i < d->half; i++)
        if (is_bad(d, d->pair_max[i]) && k->bad_pairs++ == 0)
            k->one_pair = i;
}

/* Token t's position as words: "position 7", or "positions (7, 3, 9)". */
static const char *position_words(const rc_verify_case *c, int64_t t, char *buf, size_t len)
{
    const int32_t a = rc_case_n_axes(c);
    const int64_t *p = rc_case_pos(c, t);
    if (a == 1) {
        snprintf(buf, len, "position %lld", (long long)p[0]);
        return buf;
    }
    int n = snprintf(buf, len, "positions (");
    for (int32_t k = 0; k < a && n >= 0 && (size_t)n < len; k++)
        n += snprintf(buf + n, len - (size_t)n, "%s%lld", k ? ", " : "", (long long)p[k]);
    if (n >= 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, ")");
    return buf;
}

/* "the last token (t=1030 of 1031)", "the first token", "token 7". */
static void token_words(const rc_verify_case *c, int64_t t, char *buf, size_t len)
{
    char pw[96];
    position_words(c, t, pw, sizeof pw);
    if (t == c->n_tokens - 1 && c->n_tokens > 1)
        snprintf(buf, len, "the last token (t=%lld of %lld, %s)", (long long)t,
                 (long long)c->n_tokens, pw);
    else if (t == 0 && c->n_tokens > 1)
        snprintf(buf, len, "the first token (%s)", pw);
    else
        snprintf(buf, len, "token %lld (%s)", (long long)t, pw);
}

/* ---- alternative models, each checked exactly on failing heads ---------- */

/* Position maps. Each applies to every position of a token; the last
 * four exist only with several axes: every pair at axis 0's position
 * (the port rotates as a one-axis RoPE does, which is right for text
 * tokens only), two axes' positions exchanged, the positions read
 * axis-major (positions[k * n_tokens + t], llama.cpp's layout) where the
 * ABI has them token-major, and text tokens (every position equal) given
 * their position on the first axis only, 0 on the others. */
typedef enum pos_map {
    POS_SAME, POS_PLUS_ONE, POS_MINUS_ONE, POS_TOKEN, POS_F32, POS_ZERO,
    POS_AXIS0, POS_SWAP, POS_AXIS_MAJOR, POS_TEXT_ZERO
} pos_map;

typedef struct model {
    const char *cause;
    char text[200];
    pos_map pos;
    int swap_a, swap_b; /* POS_SWAP: the two axes */
    int flip_direction;
    int flip_layout;
    double base; /* 0: the spec's */
} model;

static int64_t map_position(pos_map p, int64_t t, int64_t m)
{
    switch (p) {
    case POS_PLUS_ONE: return m + 1;
    case POS_MINUS_ONE: return m - 1;
    case POS_TOKEN: return t;
    case POS_F32: return (int64_t)(float)m;
    case POS_ZERO: return 0;
    default: return m;
    }
}

/* Token t's positions under model mo into alt (rc_case_n_axes entries).
 * 1 when they differ from the case's. */
static int map_tuple(const rc_verify_case *c, const model *mo, int64_t t, int64_t *alt)
{
    const int32_t a = rc_case_n_axes(c);
    const int64_t *p = rc_case_pos(c, t);
    int differs = 0;
    for (int32_t k = 0; k < a; k++) {
        switch (mo->pos) {
        case POS_AXIS0: alt[k] = p[0]; break;
        case POS_SWAP:
            alt[k] = k == mo->swap_a ? p[mo->swap_b] : k == mo->swap_b ? p[mo->swap_a] : p[k];
            break;
        case POS_TEXT_ZERO:
            alt[k] = k > 0 && rc_case_pos_min(c, t) == rc_case_pos_max(c, t) ? 0 : p[k];
            break;
        case POS_AXIS_MAJOR: {
            const int64_t flat = k * c->n_tokens + t; /* < n_tokens * a */
            alt[k] = c->positions[flat];
            break;
        }
        default: alt[k] = map_position(mo->pos, t, p[k]); break;
        }
        differs |= alt[k] != p[k];
    }
    return differs;
}

typedef struct sample {
    int64_t t, h;
} sample;

/* Up to MAX_SAMPLES failing heads, spread evenly over all of them (the
 * first and the last included). */
static size_t pick_samples(const rc_diag *d, sample *s)
{
    const rc_verify_case *c = &d->c;
    size_t cells = (size_t)(c->n_tokens * c->n_heads), bad = 0;
    for (size_t k = 0; k < cells; k++)
        bad += is_bad(d, d->cell_err[k]);
    if (bad == 0)
        return 0;
    size_t want = bad < MAX_SAMPLES ? bad : MAX_SAMPLES, n = 0, seen = 0;
    for (size_t k = 0; k < cells && n < want; k++) {
        if (!is_bad(d, d->cell_err[k]))
            continue;
        /* Take the bad head whose rank reaches the next even step (want
         * 1: the first, as 0 >= 0). */
        if (seen * (want - 1) >= n * (bad - 1)) {
            s[n].t = (int64_t)(k / (size_t)c->n_heads);
            s[n].h = (int64_t)(k % (size_t)c->n_heads);
            n++;
        }
        seen++;
    }
    return n;
}

/* The worst pair ULP of sample sk's outputs against a model's prediction
 * (its position map, and the spec, base, layout and direction in ref and
 * dir). +Inf when the model maps the position outside [0, 2^53 - 1] or
 * the reference refuses it: such a model cannot explain the head. e is
 * scratch for head_dim elements. */
static double model_error(const rc_diag *d, const model *mo, rc_ref *ref, rc_direction dir,
                          const sample *sk, const void *out, int64_t ts, int64_t hs,
                          rc_ref_elem *e)
{
    const rc_verify_case *c = &d->c;
    int64_t alt[RC_MAX_AXES];
    double in[RC_MAX_HEAD_DIM];
    map_tuple(c, mo, sk->t, alt);
    for (int32_t k = 0; k < rc_case_n_axes(c); k++)
        if (alt[k] < 0 || alt[k] > RC_MAX_POSITION)
            return INFINITY;
    rc_input_gen_head(c->seed, rc_case_input_key(c, sk->t), sk->h, c->dtype, c->head_dim,
                      c->with_specials, in);
    if ((rc_case_n_axes(c) >= 2 ? rc_ref_rotate_head_axes(ref, c->axes, alt, dir, in, e)
                                : rc_ref_rotate_head(ref, alt[0], dir, in, e)) != 0)
        return INFINITY;
    double worst = 0.0;
    for (int ch = 0; ch < c->head_dim; ch++) {
        if (e[ch].kind != RC_ELEM_ROTATED)
            continue;
        double got = rc_elem_load(c->dtype, out, sk->t * ts + sk->h * hs + ch);
        worst = fmax_nan(worst, rc_ulp_error(c->dtype, got, e[ch].exact, e[ch].pair_norm));
    }
    return worst;
}

/* Does the model explain every sampled head? Applicable only when it
 * differs from the spec on at least one of them. 1 yes, 0 no, -1 out of
 * memory (then nothing is known about it). */
static int model_explains(const rc_diag *d, const model *mo, const sample *s, size_t n,
                          const void *out, int64_t ts, int64_t hs)
{
    const rc_verify_case *c = &d->c;
    rc_spec spec = {.head_dim = c->head_dim, .rotary_dim = c->rotary_dim,
                    .base = mo->base > 0 ? mo->base : c->base, .layout = c->layout,
                    .dtype = c->dtype, .scaling = c->scaling,
                    .freq_period = c->axes ? c->axes->freq_period : 0};
    if (mo->flip_layout)
        spec.layout = c->layout == RC_LAYOUT_HALF ? RC_LAYOUT_INTERLEAVED : RC_LAYOUT_HALF;
    rc_direction dir = c->direction;
    if (mo->flip_direction)
        dir = dir == RC_FORWARD ? RC_INVERSE : RC_FORWARD;
    int differs = mo->flip_layout || mo->flip_direction || mo->base > 0;
    for (size_t k = 0; k < n && !differs; k++) {
        int64_t alt[RC_MAX_AXES];
        differs = map_tuple(c, mo, s[k].t, alt);
    }
    if (!differs)
        return 0;
    rc_ref *ref = rc_ref_create(&spec);
    if (ref)
        rc_ref_set_fast_path(ref, !c->oracle_mpfr);
    rc_ref_elem *e = malloc(sizeof *e * (size_t)c->head_dim);
    int ok = ref && e ? 1 : -1;
    for (size_t k = 0; k < n && ok > 0; k++) {
        /* An infinite error against the spec (a NaN or Inf where a number
         * belongs) gives no scale to shrink: the model must then meet the
         * gate itself. */
        double spec_err = d->cell_err[s[k].t * c->n_heads + s[k].h];
        double allowed = isfinite(spec_err) ? fmax(d->gate, spec_err * MODEL_FACTOR) : d->gate;
        ok = model_error(d, mo, ref, dir, &s[k], out, ts, hs, e) <= allowed;
    }
    rc_ref_destroy(ref);
    free(e);
    return ok;
}

/* theta_i recovered from the outputs at position 1 (phi(1) = theta_i, as
 * every theta_i <= 1 < pi), and the base of the least-squares line
 * ln theta_i = -(2i/r) ln B through the pairs whose angle is measured to
 * better than 1%. 0 when the case has no position 1 or too few pairs. */
static double fit_base(const rc_diag *d, const void *out, int64_t ts, int64_t hs)
{
    const rc_verify_case *c = &d->c;
    int64_t t1 = -1;
    for (int64_t t = 0; t < c->n_tokens && t1 < 0; t++)
        if (rc_case_pos_min(c, t) == 1 && rc_case_pos_max(c, t) == 1) /* every pair at 1 */
            t1 = t;
    if (t1 < 0 || d->half < 3)
        return 0.0;
    double in[RC_MAX_HEAD_DIM];
    rc_input_gen_head(c->seed, rc_case_input_key(c, t1), 0, c->dtype, c->head_dim,
                      c->with_specials, in);
    /* One output ulp over the pair norm bounds the measured angle's error;
     * keep pairs whose angle is 100 times larger. */
    const double ulp_rel = ldexp(1.0, 1 - rc_dtype_format(c->dtype)->precision);
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    int n = 0;
    for (int i = 1; i < d->half; i++) {
        int ca, cb;
        rc_pair_channels(c->layout, c->rotary_dim, i, &ca, &cb);
        double ga = rc_elem_load(c->dtype, out, t1 * ts + ca);
        double gb = rc_elem_load(c->dtype, out, t1 * ts + cb);
        double th = atan2(in[ca] * gb - in[cb] * ga, in[ca] * ga + in[cb] * gb);
        if (c->direction == RC_INVERSE)
            th = -th;
        if (!(th > 100 * ulp_rel) || !isfinite(th))
            continue;
        double x = (double)i, y = log(th);
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
        n++;
    }
    if (n < 2)
        return 0.0;
    double slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    return exp(-slope * c->rotary_dim / 2.0);
}

/* x rounded to `digits` significant decimal digits. */
static double round_sig(double x, int digits)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.*g", digits, x);
    return strtod(buf, NULL);
}

/* Fill the candidate models, most specific first. */
static size_t list_models(const rc_diag *d, double fitted, model *mo, size_t cap)
{
    const rc_verify_case *c = &d->c;
    size_t n = 0;
#define ADD(...) do { if (n < cap) { mo[n] = (model){__VA_ARGS__}; n++; } } while (0)
    const int32_t n_axes = rc_case_n_axes(c);
    if (n_axes >= 2) {
        ADD(.cause = "mrope-axes-ignored", .pos = POS_AXIS0,
            .text = "every pair rotates by the first axis's position, as a one-axis RoPE does: "
                    "right only for tokens whose positions are all equal (text tokens)");
        for (int a = 0; a < n_axes; a++)
            for (int b = a + 1; b < n_axes; b++) {
                ADD(.cause = "mrope-axes-swapped", .pos = POS_SWAP, .swap_a = a, .swap_b = b);
                snprintf(mo[n - 1].text, sizeof mo[n - 1].text,
                         "the positions of axes %d and %d are exchanged: the pairs of axis %d "
                         "rotate by axis %d's position and the other way round",
                         a, b, a, b);
            }
        ADD(.cause = "mrope-text-positions", .pos = POS_TEXT_ZERO,
            .text = "text tokens (every position equal) rotate with position 0 on every axis "
                    "but the first: a text token must carry its position on every axis");
        ADD(.cause = "mrope-positions-axis-major", .pos = POS_AXIS_MAJOR,
            .text = "the positions are read axis-major (positions[k * n_tokens + t], all of "
                    "axis 0 first), where apply() has them token-major "
                    "(positions[t * n_axes + k])");
    }
    ADD(.cause = "position-rounded-to-f32", .pos = POS_F32,
        .text = "the outputs are the exact rotation at f32(m): the position is rounded to "
                "float before the angle (wrong from 2^24 + 1 on)");
    ADD(.cause = "position-off-by-one", .pos = POS_PLUS_ONE,
        .text = "the outputs are the exact rotation at position m+1 (positions off by one)");
    ADD(.cause = "position-off-by-one", .pos = POS_MINUS_ONE,
        .text = "the outputs are the exact rotation at position m-1 (positions off by one)");
    ADD(.cause = "token-index-as-position", .pos = POS_TOKEN,
        .text = "the outputs are the exact rotation at the token index t, not at positions[t]");
    ADD(.cause = "not-rotated", .pos = POS_ZERO,
        .text = "the outputs equal the inputs: not rotated");
    ADD(.cause = "direction", .flip_direction = 1);
    snprintf(mo[n - 1].text, sizeof mo[n - 1].text, "%s",
             c->direction == RC_INVERSE
                 ? "the outputs are the forward rotation: the inverse direction is ignored"
                 : "the outputs are the inverse rotation: the direction is reversed");
    ADD(.cause = "layout", .flip_layout = 1);
    snprintf(mo[n - 1].text, sizeof mo[n - 1].text, "channels are paired as %s, the spec says %s",
             rc_layout_name(c->layout == RC_LAYOUT_HALF ? RC_LAYOUT_INTERLEAVED : RC_LAYOUT_HALF),
             rc_layout_name(c->layout));
    if (c->rotary_dim < c->head_dim) {
        ADD(.cause = "exponent-over-head-dim", .base = pow(c->base, (double)c->rotary_dim /
                                                                       c->head_dim));
        snprintf(mo[n - 1].text, sizeof mo[n - 1].text,
                 "frequencies follow base^(-2i/head_dim) with head_dim %d, not "
                 "base^(-2i/rotary_dim) with rotary_dim %d (partial rotary: the exponent "
                 "divides by the wrong dimension)",
                 c->head_dim, c->rotary_dim);
    }
    double bases[6] = {10000.0};
    int nb = 1;
    for (int digits = 3; digits <= 7 && fitted > 0; digits++)
        bases[nb++] = round_sig(fitted, digits);
    for (int b = 0; b < nb; b++) {
        int dup = bases[b] == c->base || !(bases[b] > 1.0);
        for (int k = 0; k < b; k++)
            dup |= bases[k] == bases[b];
        if (dup)
            continue;
        ADD(.cause = "wrong-base", .base = bases[b]);
        snprintf(mo[n - 1].text, sizeof mo[n - 1].text,
                 "frequencies follow base^(-2i/r) with base %.10g, not the spec's %.17g "
                 "(the base is ignored or replaced)",
                 bases[b], c->base);
    }
#undef ADD
    return n;
}

/* ---- multi-axis: the axis each channel rotates by --------------------------- */

static void set(rc_verify_result *res, const char *cause, const char *fmt, const char *a,
                const char *b);

/* With several axes, the axis every output channel rotates by, recovered
 * from the sampled failing heads: on each head, channel ch fits axis k when
 * its error against the exact rotation at the token's position on axis k
 * is within what model_explains allows; a channel's axes are those it fits
 * on every head (heads whose positions coincide on two axes leave both).
 * When every channel fits some axis but not every pair its spec axis, the
 * map itself is wrong, and the finding says how:
 *   mrope-wrong-half  a pair's two channels rotate by different axes (the
 *                     section map applied to channels, or to one half of
 *                     rotate_half's channels only);
 *   mrope-sections    whole pairs rotate by another axis than the spec's
 *                     (sections misassigned: other sizes, other order, the
 *                     contiguous map for the interleaved one or back).
 * 1 with res set, 0 when the map does not explain the failures, -1 out of
 * memory. */
static int axis_map_finding(const rc_diag *d, const sample *s, size_t n, const void *out,
                            int64_t ts, int64_t hs, rc_verify_result *res)
{
    const rc_verify_case *c = &d->c;
    const int32_t n_axes = rc_case_n_axes(c);
    if (n_axes < 2 || n == 0)
        return 0;
    rc_spec spec = {.head_dim = c->head_dim, .rotary_dim = c->rotary_dim, .base = c->base,
                    .layout = c->layout, .dtype = c->dtype, .scaling = c->scaling,
                    .freq_period = c->axes ? c->axes->freq_period : 0};
    rc_ref *ref = rc_ref_create(&spec);
    rc_ref_elem *e = malloc(sizeof *e * (size_t)c->head_dim);
    if (!ref || !e) {
        rc_ref_destroy(ref);
        free(e);
        return -1;
    }
    rc_ref_set_fast_path(ref, !c->oracle_mpfr);
    unsigned mask[RC_MAX_HEAD_DIM], fits[RC_MAX_HEAD_DIM];
    for (int ch = 0; ch < c->head_dim; ch++)
        mask[ch] = (1u << n_axes) - 1u;
    double in[RC_MAX_HEAD_DIM], got[RC_MAX_HEAD_DIM];
    for (size_t k = 0; k < n; k++) {
        const double spec_err = d->cell_err[s[k].t * c->n_heads + s[k].h];
        const double allowed =
            isfinite(spec_err) ? fmax(d->gate, spec_err * MODEL_FACTOR) : d->gate;
        rc_input_gen_head(c->seed, rc_case_input_key(c, s[k].t), s[k].h, c->dtype,
                          c->head_dim, c->with_specials, in);
        for (int ch = 0; ch < c->rotary_dim; ch++)
            got[ch] = rc_elem_load(c->dtype, out, s[k].t * ts + s[k].h * hs + ch);
        rc_ref_axis_fits(ref, n_axes, rc_case_pos(c, s[k].t), c->direction, in, got, allowed,
                         e, fits);
        for (int ch = 0; ch < c->rotary_dim; ch++)
            mask[ch] &= fits[ch];
    }
    rc_ref_destroy(ref);
    free(e);
    rc_axes_recovered rec;
    rc_axes_recover(c->axes, c->layout, mask, &rec);
    if (rec.unexplained > 0)
        return 0; /* a channel no axis explains: not (only) the map */
    char text[600], runs_got[200], runs_want[200];
    if (rec.split > 0) {
        const int first_split = rec.first_split;
        int ca, cb;
        rc_pair_channels(c->layout, c->rotary_dim, first_split, &ca, &cb);
        snprintf(text, sizeof text,
                 "the two channels of a pair rotate by different axes (%d of %d pairs; pair "
                 "%d: channel %d by axis %d, its partner %d by axis %d, the spec says axis %d "
                 "for both): the axis map is applied to channels, not to pairs%s",
                 rec.split, d->half, first_split, ca, rc_axes_lowest(mask[ca]), cb,
                 rc_axes_lowest(mask[cb]), c->axes->pair_axis[first_split],
                 c->layout == RC_LAYOUT_HALF
                     ? " (in the half layout: sections laid over the r channels once, or "
                       "over one half only, where each half needs the whole map)"
                     : "");
        set(res, "mrope-wrong-half", "%s%s", text, "");
        return 1;
    }
    if (rec.wrong == 0)
        return 0; /* every pair fits its spec axis: the map is right */
    rc_axes_runs(rec.found, d->half, runs_got, sizeof runs_got);
    rc_axes_runs(c->axes->pair_axis, d->half, runs_want, sizeof runs_want);
    snprintf(text, sizeof text,
             "%d of %d pairs rotate by another axis than the spec's map (first: pair %d by "
             "axis %d, the spec's axis %d): sections misassigned. The outputs: %s; the "
             "spec: %s",
             rec.wrong, d->half, rec.first_wrong, rec.found[rec.first_wrong],
             c->axes->pair_axis[rec.first_wrong], runs_got, runs_want);
    set(res, "mrope-sections", "%s%s", text, "");
    return 1;
}

/* ---- the shape of the error ----------------------------------------------- */

/* 1 and the sentence when the failing pairs are the exact ones scaled by
 * one constant: the radial error dominates the phase error 4:1 on at
 * least 90% of them and the ratio varies by at most a tenth of its
 * distance from 1. */
static int radial_shape(const rc_diag *d, char *buf, size_t len)
{
    size_t radial = 0, n = 0;
    double lo = INFINITY, hi = -INFINITY, sum = 0;
    for (size_t k = 0; k < d->n_fails; k++) {
        const fail_pair *f = &d->fails[k];
        if (!isfinite(f->radial) || !isfinite(f->dphi))
            continue;
        n++;
        if (fabs(f->radial - 1) > 4 * fabs(f->dphi))
            radial++;
        lo = fmin(lo, f->radial);
        hi = fmax(hi, f->radial);
        sum += f->radial;
    }
    if (n == 0 || radial * 10 < n * 9)
        return 0;
    double mean = sum / (double)n;
    if (hi - lo > 0.1 * fabs(mean - 1))
        snprintf(buf, len, "the outputs have the right angle but the wrong length (norm ratio "
                 "%.6g to %.6g): a radial error, not an angle error", lo, hi);
    else
        snprintf(buf, len, "the outputs are the exact rotation scaled by %.6g on every failing "
                 "pair (a constant relative error: a wrong output scale or normalization)", mean);
    return 1;
}

/* The phase error against the size of the unreduced angle m*theta_i:
 * max |dphi| per binade of the angle, and the least-squares slope of
 * log2(max |dphi|) over the binades from 8 rad (more than a turn) up. An
 * angle computed in too low a precision errs in proportion to its size,
 * without bound (slope ~1); a sine/cosine approximation errs by a function
 * of the reduced angle, which has seen all its values once the angle
 * exceeds a turn, so its maximum stops growing there (slope ~0; below a
 * turn it may grow with the angle, hence the floor). Also the reduced
 * angle of the worst pair. */
typedef struct phase_shape {
    int bins;         /* binades with failing pairs */
    double slope;
    double small, large; /* max |dphi| in the lowest and highest binade */
    double worst_phi;
} phase_shape;

static void phase_by_angle(const rc_diag *d, phase_shape *ps)
{
    enum { NB = 128 };
    double maxe[NB] = {0};
    double worst = -1;
    memset(ps, 0, sizeof *ps);
    for (size_t k = 0; k < d->n_fails; k++) {
        const fail_pair *f = &d->fails[k];
        double e = fabs(f->dphi);
        if (!isfinite(e) || !(f->angle > 0))
            continue;
        int b = ilogb(f->angle) + 64;
        b = b < 0 ? 0 : b >= NB ? NB - 1 : b;
        maxe[b] = fmax(maxe[b], e);
        if (e > worst) {
            worst = e;
            ps->worst_phi = f->phi;
        }
    }
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    int lo = -1, hi = -1;
    for (int b = 3 + 64; b < NB; b++) { /* binades from 2^3 = 8 rad */
        if (!(maxe[b] > 0))
            continue;
        double x = b, y = log2(maxe[b]);
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
        ps->bins++;
        lo = lo < 0 ? b : lo;
        hi = b;
    }
    if (ps->bins >= 2)
        ps->slope = (ps->bins * sxy - sx * sy) / (ps->bins * sxx - sx * sx);
    ps->small = lo >= 0 ? maxe[lo] : 0;
    ps->large = hi >= 0 ? maxe[hi] : 0;
}

static const char *angle_shape(const rc_diag *d, char *buf, size_t len)
{
    phase_shape ps;
    phase_by_angle(d, &ps);
    if (ps.bins < 3)
        return NULL; /* too narrow a range of angles to tell growth from noise */
    if (ps.slope >= 0.5) {
        snprintf(buf, len, "the phase error grows with the angle m*theta_i (about as "
                 "(m*theta)^%.2f: %.3g rad at the smallest failing angles, %.3g at the "
                 "largest): the angle is computed in too low a precision", ps.slope, ps.small,
                 ps.large);
        return "angle-precision";
    }
    if (fabs(ps.slope) <= 0.25) {
        snprintf(buf, len, "the phase error does not grow with the angle m*theta_i (%.3g rad "
                 "at the smallest failing angles, %.3g at the largest) and is largest at a "
                 "reduced angle of %.3f rad: the sine or cosine itself is wrong (an "
                 "approximation, or the two mixed up), periodic in the angle", ps.small,
                 ps.large, ps.worst_phi);
        return "sincos-approximation";
    }
    return NULL;
}

/* ---- the finding ----------------------------------------------------------- */

/* Where the failures are confined, as words; returns the cause or NULL. */
static const char *confinement_words(const rc_diag *d, const confinement *k, char *buf,
                                     size_t len)
{
    const rc_verify_case *c = &d->c;
    char tw[128];
    buf[0] = '\0';
    /* One failing token whose position is more than twice every passing
     * one is as well explained by the position's size (angle precision):
     * no claim then. Within twice, size cannot make the difference. */
    int64_t max_pass = 0;
    for (int64_t t = 0; t < c->n_tokens; t++)
        if (!is_bad(d, d->token_max[t]) && rc_case_pos_max(c, t) > max_pass)
            max_pass = rc_case_pos_max(c, t);
    if (k->bad_tokens == 1 && c->n_tokens > 1 &&
        rc_case_pos_max(c, k->first_bad) / 2 <= max_pass) {
        token_words(c, k->first_bad, tw, sizeof tw);
        snprintf(buf, len, "only on %s", tw);
        return "one-token";
    }
    if (k->bad_heads == 1 && c->n_heads > 1) {
        snprintf(buf, len, "only in head %lld of %lld", (long long)k->one_head,
                 (long long)c->n_heads);
        return "one-head";
    }
    if (k->bad_pairs == 1 && d->half > 1) {
        snprintf(buf, len, "only in pair %lld of %d", (long long)k->one_pair, d->half);
        return "one-pair";
    }
    return NULL;
}

/* The cause and its sentence: fmt takes exactly two strings. */
static void set(rc_verify_result *res, const char *cause, const char *fmt, const char *a,
                const char *b)
{
    snprintf(res->cause, sizeof res->cause, "%s", cause);
    snprintf(res->finding, sizeof res->finding, fmt, a, b);
}

/* Channels beyond rotary_dim changed: zeroed or otherwise. */
static void passthrough_finding(const rc_diag *d, rc_verify_result *res)
{
    const rc_elem_loc *l = &res->passthrough_first;
    char text[300];
    snprintf(text, sizeof text, "channels %d..%d (beyond rotary_dim) must be copied "
             "bit-exactly; %lld changed%s", d->c.rotary_dim, d->c.head_dim - 1,
             (long long)res->passthrough_mismatches,
             l->got == 0.0 && l->in_self != 0.0 ? ", set to zero" : "");
    set(res, "passthrough-changed", "%s%s", text, "");
}

static void unwritten_finding(const rc_diag *d, const confinement *k, rc_verify_result *res)
{
    char tw[160];
    if (k->unwritten_tokens == 1)
        token_words(&d->c, k->unwritten_first, tw, sizeof tw);
    else
        snprintf(tw, sizeof tw, "%lld tokens (t = %lld .. %lld)", (long long)k->unwritten_tokens,
                 (long long)k->unwritten_first, (long long)k->unwritten_last);
    set(res, "unwritten-outputs", "the outputs of %s were never written (they still hold the "
        "harness's fill pattern)%s", tw, "");
}

/* An excess too small to carry structure: the worst pair ULP is within
 * twice max(gate, 1) ulp, i.e. at most a few roundings. Each element's
 * error is then dominated by where the exact value falls between
 * representable numbers, so confinement and shape statistics would only
 * describe that noise. */
static int marginal(const rc_diag *d, const rc_verify_result *res, char *buf, size_t len)
{
    double limit = 2 * fmax(d->gate, 1.0);
    if (!(res->pair.max <= limit))
        return 0;
    snprintf(buf, len, "max pair ULP %.4g is a rounding-level error (at most %g ulp) above the "
             "gate %g: no systematic cause can be told from it (an extra rounding, a fused "
             "multiply-add, a less accurate sine or cosine)%s",
             res->pair.max, limit, d->gate,
             d->gate < 0.5 ? "; a gate below 0.5 fails even correctly rounded outputs" : "");
    return 1;
}

/* Rotated elements failed: models, then structure, then the error's
 * shape. */
static void rotated_finding(rc_diag *d, const confinement *k, const void *out, int64_t ts,
                            int64_t hs, rc_verify_result *res)
{
    const rc_verify_case *c = &d->c;
    char where[200], text[600];
    const char *confined = confinement_words(d, k, where, sizeof where);
    sample s[MAX_SAMPLES];
    size_t ns = pick_samples(d, s);
    model mo[32];
    size_t nm = list_models(d, fit_base(d, out, ts, hs), mo, 32);
    /* Every model is checked: when two explain the same outputs (at the
     * one failing position 2^31 - 1, f32(m) is m + 1), the finding names
     * the first, the most specific, and says the evidence fits the other
     * too, rather than guessing. */
    const model *fits = NULL, *also = NULL;
    for (size_t i = 0; i < nm && ns > 0 && !also && !d->out_of_memory; i++) {
        const int ex = model_explains(d, &mo[i], s, ns, out, ts, hs);
        if (ex < 0)
            d->out_of_memory = 1; /* an unchecked model could be the cause */
        else if (ex && !fits)
            fits = &mo[i];
        else if (ex && strcmp(mo[i].cause, fits->cause) != 0)
            also = &mo[i];
    }
    const int map = !fits && !d->out_of_memory
                        ? axis_map_finding(d, s, ns, out, ts, hs, res) : 0;
    if (map < 0)
        d->out_of_memory = 1;
    if (map != 0) {
        /* the axis map's finding, set above */
    } else if (!fits && marginal(d, res, text, sizeof text)) {
        set(res, "rounding-level", "%s%s", text, "");
    } else if (k->divisor >= 2) {
        snprintf(text, sizeof text, "wrong only at positions that are multiples of %lld "
                 "(%lld of %lld positions fail, every other passes)%s%s",
                 (long long)k->divisor, (long long)k->n_bad_positions, (long long)c->n_tokens,
                 fits ? "; there " : "", fits ? fits->text : "");
        set(res, "sparse-positions", "%s%s", text, "");
    } else if (fits) {
        char tail[sizeof res->finding - sizeof fits->text + 1]; /* the two fill the finding */
        snprintf(tail, sizeof tail, "%s%s%s%s", confined ? ", " : "", confined ? where : "",
                 also ? "; the same outputs also fit: " : "", also ? also->text : "");
        set(res, fits->cause, "%s%s", fits->text, tail);
    } else if (confined) {
        set(res, confined, "wrong %s; every other is right%s", where,
            strcmp(confined, "one-token") == 0 ? " (a loop's first or last iteration: a "
                                                 "vector tail or a block edge)" : "");
    } else if (radial_shape(d, text, sizeof text)) {
        set(res, "radial-scale", "%s%s", text, "");
    } else {
        const char *shape = angle_shape(d, text, sizeof text);
        if (shape)
            set(res, shape, "%s%s", text, "");
        else {
            snprintf(res->cause, sizeof res->cause, "unknown");
            snprintf(res->finding, sizeof res->finding,
                     "no single cause fits the %lld failing pairs; see the worst element and "
                     "its replay line", (long long)d->fails_total);
        }
    }
}

void rc_diagnose(rc_diag *d, const void *out, int64_t ts, int64_t hs, rc_verify_result *res)
{
    if (res->verdict != RC_VERDICT_FAIL || res->cause[0])
        return;
    if (!d) { /* rc_diag_create ran out of memory: say so, guess nothing */
        set(res, "unknown", "%s%s", "not diagnosed: out of memory for the diagnosis", "");
        return;
    }
    confinement k;
    find_confinement(d, &k);
    /* Unwritten outputs first: they also make passthrough channels and
     * special values look wrong. Then the rotated elements, whose cause
     * (another layout, another position) can also move NaNs and Infs. */
    if (k.unwritten_tokens > 0)
        unwritten_finding(d, &k, res);
    else if (d->fails_total > 0)
        rotated_finding(d, &k, out, ts, hs, res);
    else if (res->passthrough_mismatches > 0)
        passthrough_finding(d, res);
    else if (res->special_mismatches > 0)
        set(res, "special-values", "%s%s",
            "NaN or Inf inputs give outputs of the wrong class (IEEE arithmetic keeps them)", "");
    if (d->out_of_memory)
        set(res, "unknown", "%s%s", "not diagnosed: out of memory while checking the causes",
            "");
}

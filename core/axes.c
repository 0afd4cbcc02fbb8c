/*
 * core/axes.c - the per-pair axis maps of multi-axis RoPE (core/axes.h).
 * Each builder checks its arguments and says what is wrong in one line:
 * the maps come from config files, and a section list that does not add up
 * is a config mistake to report, not to guess around.
 */
#include "core/axes.h"

#include "core/pair_layout.h"

#include <stdio.h>
#include <string.h>

/* rotary_dim even, 2 .. RC_MAX_HEAD_DIM; out cleared to one axis. */
static int start(int32_t rotary_dim, rc_axes *out, char *err, size_t err_len)
{
    if (!out) {
        snprintf(err, err_len, "no output");
        return -1;
    }
    memset(out, 0, sizeof *out);
    if (rotary_dim < 2 || rotary_dim % 2 || rotary_dim > RC_MAX_HEAD_DIM) {
        snprintf(err, err_len, "rotary_dim %d: must be even, 2 .. %d", (int)rotary_dim,
                 RC_MAX_HEAD_DIM);
        return -1;
    }
    out->n_axes = 1;
    out->n_pairs = rotary_dim / 2;
    return 0;
}

/* n sections, 1 .. RC_MAX_AXES of them, each >= 0, adding up to pairs. */
static int check_sections(const int32_t *s, int n, int32_t pairs, int min_n, int max_n,
                          char *err, size_t err_len)
{
    if (!s || n < min_n || n > max_n) {
        snprintf(err, err_len, "%d sections: %d .. %d expected", n, min_n, max_n);
        return -1;
    }
    int64_t sum = 0;
    for (int k = 0; k < n; k++) {
        if (s[k] < 0) {
            snprintf(err, err_len, "section %d is %d: sections count pairs, >= 0", k, (int)s[k]);
            return -1;
        }
        sum += s[k];
    }
    if (sum != pairs) {
        snprintf(err, err_len,
                 "the sections add up to %lld pairs; rotary_dim %d has %d (each section counts "
                 "pairs, i.e. half its channels)",
                 (long long)sum, (int)(2 * pairs), (int)pairs);
        return -1;
    }
    return 0;
}

int rc_axes_single(int32_t rotary_dim, rc_axes *out, char *err, size_t err_len)
{
    return start(rotary_dim, out, err, err_len);
}

int rc_axes_sections(const int32_t *sections, int n_sections, int32_t rotary_dim, rc_axes *out,
                     char *err, size_t err_len)
{
    if (start(rotary_dim, out, err, err_len) != 0 ||
        check_sections(sections, n_sections, out->n_pairs, 1, RC_MAX_AXES, err, err_len) != 0)
        return -1;
    out->n_axes = n_sections;
    int32_t i = 0;
    for (int k = 0; k < n_sections; k++)
        for (int32_t j = 0; j < sections[k]; j++)
            out->pair_axis[i++] = (uint8_t)k;
    return 0;
}

int rc_axes_interleaved(const int32_t *sections, int n_sections, int32_t rotary_dim,
                        rc_axes *out, char *err, size_t err_len)
{
    if (start(rotary_dim, out, err, err_len) != 0 ||
        check_sections(sections, n_sections, out->n_pairs, 3, 3, err, err_len) != 0)
        return -1;
    /* Axis k in {1, 2} takes the pairs k, k + 3, .. below 3 s_k (and below
     * the pair count), axis 0 the rest: exactly Qwen3-VL's
     * freqs_t[..., k:3 s_k:3] = freqs[k][..., k:3 s_k:3], including its
     * sections that do not tile (16, 24, 24 interleaved gives axes of
     * 22, 21 and 21 pairs; transformers does not object, so neither do
     * we: the map is what the model computes). */
    out->n_axes = 3;
    for (int k = 1; k <= 2; k++)
        for (int64_t i = k; i < 3 * (int64_t)sections[k] && i < out->n_pairs; i += 3)
            out->pair_axis[i] = (uint8_t)k;
    return 0;
}

int rc_axes_vision2d(int32_t rotary_dim, rc_axes *out, char *err, size_t err_len)
{
    if (start(rotary_dim, out, err, err_len) != 0)
        return -1;
    if (rotary_dim % 4) {
        snprintf(err, err_len, "rotary_dim %d: the 2-D vision RoPE needs a multiple of 4 (half "
                 "the pairs per axis)", (int)rotary_dim);
        memset(out, 0, sizeof *out);
        return -1;
    }
    out->n_axes = 2;
    out->freq_period = out->n_pairs / 2;
    for (int32_t i = out->n_pairs / 2; i < out->n_pairs; i++)
        out->pair_axis[i] = 1;
    return 0;
}

void rc_axes_vision2d_exponent(int32_t rotary_dim, int32_t i, int64_t *num, int64_t *den)
{
    const int32_t per_axis = rotary_dim / 4;
    *num = 2 * (int64_t)(per_axis > 0 ? i % per_axis : 0);
    *den = rotary_dim / 2;
}

int rc_axes_check(const rc_axes *a, int32_t rotary_dim, char *err, size_t err_len)
{
    if (!a || a->n_axes < 1 || a->n_axes > RC_MAX_AXES) {
        snprintf(err, err_len, "%d axes: 1 .. %d expected", a ? (int)a->n_axes : 0, RC_MAX_AXES);
        return -1;
    }
    if (rotary_dim < 2 || rotary_dim % 2 || rotary_dim > RC_MAX_HEAD_DIM ||
        a->n_pairs != rotary_dim / 2) {
        snprintf(err, err_len, "the map has %d pairs; rotary_dim %d has %d", (int)a->n_pairs,
                 (int)rotary_dim, (int)(rotary_dim / 2));
        return -1;
    }
    if (a->freq_period < 0 || a->freq_period > a->n_pairs) {
        snprintf(err, err_len, "frequency period %d: 0 .. %d pairs", (int)a->freq_period,
                 (int)a->n_pairs);
        return -1;
    }
    for (int32_t i = 0; i < a->n_pairs; i++)
        if (a->pair_axis[i] >= a->n_axes) {
            snprintf(err, err_len, "pair %d is on axis %d of %d", (int)i, (int)a->pair_axis[i],
                     (int)a->n_axes);
            return -1;
        }
    return 0;
}

void rc_axes_runs(const uint8_t *map, int n, char *buf, size_t len)
{
    size_t used = 0;
    if (len == 0)
        return;
    buf[0] = '\0';
    for (int i = 0; i < n;) {
        int j = i;
        while (j + 1 < n && map[j + 1] == map[i])
            j++;
        char run[48];
        if (j > i)
            snprintf(run, sizeof run, "%s%d..%d axis %d", i ? ", " : "pairs ", i, j, map[i]);
        else
            snprintf(run, sizeof run, "%s%d axis %d", i ? ", " : "pairs ", i, map[i]);
        if (used + strlen(run) + 6 > len) {
            snprintf(buf + used, len - used, ", ...");
            return;
        }
        used += (size_t)snprintf(buf + used, len - used, "%s", run);
        i = j + 1;
    }
}

int rc_axes_lowest(unsigned set)
{
    for (int k = 0; k < RC_MAX_AXES; k++)
        if (set & (1u << k))
            return k;
    return 0;
}

void rc_axes_recover(const rc_axes *spec, rc_layout layout, const unsigned *mask,
                     rc_axes_recovered *out)
{
    memset(out, 0, sizeof *out);
    out->first_unexplained = out->first_split = out->first_wrong = -1;
    for (int i = 0; i < spec->n_pairs; i++) {
        int ca, cb;
        rc_pair_channels(layout, 2 * spec->n_pairs, i, &ca, &cb);
        const unsigned want = 1u << spec->pair_axis[i], both = mask[ca] & mask[cb];
        out->found[i] = 0xFF;
        if (!mask[ca] || !mask[cb]) {
            if (out->unexplained++ == 0)
                out->first_unexplained = i;
        } else if (!both) {
            if (out->split++ == 0)
                out->first_split = i;
        } else {
            out->found[i] = (uint8_t)((both & want) ? spec->pair_axis[i] : rc_axes_lowest(both));
            if (!(both & want) && out->wrong++ == 0)
                out->first_wrong = i;
        }
    }
}

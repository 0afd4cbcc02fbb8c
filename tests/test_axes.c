/*
 * tests/test_axes.c - the per-pair axis maps of multi-axis RoPE
 * (core/axes.c) against what real transformers computes, and their
 * refusals.
 *
 * tests/data/axes/transformers_maps.txt holds the maps transformers' own
 * recomposition functions produced (Qwen2-VL and Qwen2.5-VL sections,
 * Qwen3-VL interleaved, including section lists that do not tile, and the
 * Qwen2-VL vision tower's 2-D RoPE); its header says how they were made.
 * Every line must be reproduced pair for pair.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/axes.h"
#include "core/pair_layout.h"

static int parse_sections(const char *text, int32_t *s, int max)
{
    int n = 0;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", text);
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t && n < max; t = strtok_r(NULL, ",", &save))
        s[n++] = (int32_t)strtol(t, NULL, 10);
    return n;
}

Test(axes, every_map_transformers_computes)
{
    FILE *f = fopen(RC_AXES_DATA, "r");
    cr_assert(f, "cannot open %s", RC_AXES_DATA);
    char line[4096];
    int checked = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        char kind[32], model[64], sec[128], map[RC_MAX_HEAD_DIM];
        int rotary_dim;
        cr_assert_eq(sscanf(line, "%31s %63s %127s %d %1023s", kind, model, sec, &rotary_dim, map),
                     5, "malformed line: %s", line);
        int32_t s[8];
        const int n = strcmp(sec, "-") ? parse_sections(sec, s, 8) : 0;
        rc_axes a;
        char err[256] = "";
        int rc = -1;
        if (strcmp(kind, "sections") == 0)
            rc = rc_axes_sections(s, n, rotary_dim, &a, err, sizeof err);
        else if (strcmp(kind, "interleaved") == 0)
            rc = rc_axes_interleaved(s, n, rotary_dim, &a, err, sizeof err);
        else if (strcmp(kind, "vision2d") == 0)
            rc = rc_axes_vision2d(rotary_dim, &a, err, sizeof err);
        else
            cr_assert_fail("unknown kind %s", kind);
        cr_assert_eq(rc, 0, "%s %s %s: %s", kind, model, sec, err);
        cr_assert_eq(a.n_pairs, rotary_dim / 2);
        cr_assert_eq((int)strlen(map), a.n_pairs, "%s %s: %zu pairs in the data", kind, sec,
                     strlen(map));
        for (int i = 0; i < a.n_pairs; i++)
            cr_expect_eq(a.pair_axis[i], map[i] - '0', "%s %s %s: pair %d on axis %d, not %c",
                         kind, model, sec, i, a.pair_axis[i], map[i]);
        cr_expect_eq(rc_axes_check(&a, rotary_dim, err, sizeof err), 0, "%s", err);
        checked++;
    }
    fclose(f);
    cr_expect_geq(checked, 10, "only %d maps checked", checked);
}

static void expect_refused(int rc, const char *err, const char *needle)
{
    cr_expect_eq(rc, -1, "accepted; expected '%s'", needle);
    cr_expect(strstr(err, needle), "'%s' does not say '%s'", err, needle);
}

Test(axes, malformed_configs_are_refused_with_the_reason)
{
    rc_axes a;
    char err[256];
    const int32_t short_sum[] = {16, 24, 20}, negative[] = {16, -4, 52}, five[] = {1, 1, 1, 1, 60};
    expect_refused(rc_axes_sections(short_sum, 3, 128, &a, err, sizeof err), err,
                   "add up to 60 pairs; rotary_dim 128 has 64");
    expect_refused(rc_axes_sections(negative, 3, 128, &a, err, sizeof err), err,
                   "section 1 is -4");
    expect_refused(rc_axes_sections(five, 5, 128, &a, err, sizeof err), err, "5 sections");
    expect_refused(rc_axes_sections(NULL, 0, 128, &a, err, sizeof err), err, "0 sections");
    const int32_t two[] = {32, 32};
    expect_refused(rc_axes_interleaved(two, 2, 128, &a, err, sizeof err), err, "2 sections");
    expect_refused(rc_axes_interleaved(short_sum, 3, 128, &a, err, sizeof err), err,
                   "add up to 60");
    expect_refused(rc_axes_vision2d(6, &a, err, sizeof err), err, "multiple of 4");
    expect_refused(rc_axes_single(7, &a, err, sizeof err), err, "must be even");
    expect_refused(rc_axes_single(RC_MAX_HEAD_DIM + 2, &a, err, sizeof err), err,
                   "must be even, 2 ..");
    /* rc_axes_check: a map of another size, or a pair beyond the axes. */
    cr_assert_eq(rc_axes_sections((const int32_t[]){2, 2}, 2, 8, &a, err, sizeof err), 0);
    expect_refused(rc_axes_check(&a, 10, err, sizeof err), err, "the map has 4 pairs");
    a.pair_axis[3] = 2;
    expect_refused(rc_axes_check(&a, 8, err, sizeof err), err, "pair 3 is on axis 2 of 2");
    a.n_axes = 5;
    expect_refused(rc_axes_check(&a, 8, err, sizeof err), err, "5 axes");
}

Test(axes, single_axis_is_ordinary_rope)
{
    rc_axes a;
    char err[256];
    cr_assert_eq(rc_axes_single(128, &a, err, sizeof err), 0, "%s", err);
    cr_expect_eq(a.n_axes, 1);
    for (int i = 0; i < 64; i++)
        cr_expect_eq(a.pair_axis[i], 0);
    /* One section is the same map. */
    rc_axes b;
    cr_assert_eq(rc_axes_sections((const int32_t[]){64}, 1, 128, &b, err, sizeof err), 0);
    cr_expect(memcmp(&a, &b, sizeof a) == 0);
}

/* Qwen2-VL's vision tower: inv_freq over head_dim/2 "spatial" channels,
 * base^(-arange(0, d/2, 2) / (d/2)), the same table for both axes. */
Test(axes, vision_frequencies_restart_per_axis)
{
    for (int i = 0; i < 64; i++) {
        int64_t num, den;
        rc_axes_vision2d_exponent(128, i, &num, &den);
        cr_expect_eq(den, 64);
        cr_expect_eq(num, 2 * (i % 32), "pair %d: exponent %lld/64", i, (long long)num);
    }
}

/* The runs findings show a map in: whole, then cut with ", ..." where the
 * buffer ends, never past it. */
Test(axes, runs_spell_a_map_and_cut_where_it_must)
{
    char err[256], buf[200];
    rc_axes a;
    const int32_t s[3] = {16, 24, 24};
    cr_assert_eq(rc_axes_sections(s, 3, 128, &a, err, sizeof err), 0, "%s", err);
    rc_axes_runs(a.pair_axis, a.n_pairs, buf, sizeof buf);
    cr_expect_str_eq(buf, "pairs 0..15 axis 0, 16..39 axis 1, 40..63 axis 2");
    const int32_t il[3] = {24, 20, 20};
    cr_assert_eq(rc_axes_interleaved(il, 3, 128, &a, err, sizeof err), 0, "%s", err);
    char small[40];
    memset(small, 'x', sizeof small);
    rc_axes_runs(a.pair_axis, a.n_pairs, small, 30);
    cr_expect(strlen(small) < 30, "%s", small);
    cr_expect(strstr(small, ", ...") != NULL, "%s", small);
    cr_expect_eq(small[31], 'x'); /* nothing written past the length */
    rc_axes_runs(a.pair_axis, 1, buf, sizeof buf);
    cr_expect_str_eq(buf, "pairs 0 axis 0");
}

/* rc_axes_recover reads a map off per-channel axis sets: the spec's axis
 * wherever it is among them, a pair whose channels share no axis is split,
 * one with a channel no axis explains is unexplained, and each count comes
 * with the first pair. */
Test(axes, recover_reads_the_map_off_channel_sets)
{
    char err[256];
    rc_axes a;
    const int32_t s[3] = {2, 1, 1}; /* 4 pairs: axes 0 0 1 2 */
    cr_assert_eq(rc_axes_sections(s, 3, 8, &a, err, sizeof err), 0, "%s", err);
    unsigned mask[8];
    rc_axes_recovered r;
    for (int l = 0; l < RC_LAYOUT_COUNT; l++) {
        int ca, cb;
        for (int i = 0; i < 4; i++) { /* right: each pair's axis, and axis 0 besides */
            rc_pair_channels((rc_layout)l, 8, i, &ca, &cb);
            mask[ca] = mask[cb] = (1u << a.pair_axis[i]) | 1u;
        }
        rc_axes_recover(&a, (rc_layout)l, mask, &r);
        cr_expect(r.unexplained == 0 && r.split == 0 && r.wrong == 0);
        cr_expect(r.found[2] == 1 && r.found[3] == 2);
        rc_pair_channels((rc_layout)l, 8, 3, &ca, &cb); /* pair 3 by axis 1: wrong */
        mask[ca] = mask[cb] = 2u;
        rc_axes_recover(&a, (rc_layout)l, mask, &r);
        cr_expect(r.wrong == 1 && r.first_wrong == 3 && r.found[3] == 1);
        rc_pair_channels((rc_layout)l, 8, 2, &ca, &cb); /* pair 2's channels: 1 and 2 */
        mask[ca] = 2u;
        mask[cb] = 4u;
        rc_axes_recover(&a, (rc_layout)l, mask, &r);
        cr_expect(r.split == 1 && r.first_split == 2 && r.found[2] == 0xFF);
        rc_pair_channels((rc_layout)l, 8, 1, &ca, &cb); /* pair 1: a channel explained by none */
        mask[cb] = 0u;
        rc_axes_recover(&a, (rc_layout)l, mask, &r);
        cr_expect(r.unexplained == 1 && r.first_unexplained == 1 && r.split == 1 &&
                  r.wrong == 1);
    }
    cr_expect_eq(rc_axes_lowest(0u), 0);
    cr_expect_eq(rc_axes_lowest(6u), 1);
}

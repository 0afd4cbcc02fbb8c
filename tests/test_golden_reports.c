/*
 * tests/test_golden_reports.c - the judge's reports, word for word.
 *
 * Other tests check that verdicts are right and that findings name the
 * right cause. This one pins everything else a report says: every figure
 * (max and p99 pair ULP, component ULP, elements over the gate, the worst
 * element, each proof's figure and bound, the numbers inside findings)
 * for the correct scalar port and for each broken port of tests/mutants_gate
 * and tests/mutants_proofs, at a fixed seed. A change to the reference, the
 * metrics, a tolerance or a diagnosis that moves any of them is then seen
 * here, and must come with regenerated files whose diff is reviewed:
 *
 *   tools/update-golden-reports build     (see tests/data/golden/reports/README.md)
 *
 * The runs are deterministic: MPFR for the exact values, IEEE double for
 * the figures, the ports' own fixed arithmetic, inputs from the seed.
 * Replay lines (they hold the plug-ins' absolute paths) are left out.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_runner.h"
#include "gate_mutant_paths.h"
#include "proof_mutant_paths.h"

#ifndef RC_GOLDEN_REPORTS_DIR
#error "RC_GOLDEN_REPORTS_DIR must name tests/data/golden/reports"
#endif

/* The output without replay lines. */
static char *report_text(const char *out)
{
    char *text = malloc(strlen(out) + 1);
    cr_assert_not_null(text);
    size_t n = 0;
    for (const char *line = out; *line;) {
        const char *eol = strchr(line, '\n');
        const size_t len = eol ? (size_t)(eol - line) + 1 : strlen(line);
        if (strncmp(line, "replay ", 7) != 0) {
            memcpy(text + n, line, len);
            n += len;
        }
        line += len;
    }
    text[n] = '\0';
    return text;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *s = malloc(cap);
    cr_assert_not_null(s);
    for (size_t got; (got = fread(s + n, 1, cap - n - 1, f)) > 0;) {
        n += got;
        if (cap - n - 1 == 0) {
            cap *= 2;
            s = realloc(s, cap);
            cr_assert_not_null(s);
        }
    }
    fclose(f);
    s[n] = '\0';
    return s;
}

/* Line number (1-based) of the first difference, and the two lines. */
static void first_difference(const char *a, const char *b, int *line, char *la, char *lb,
                             size_t len)
{
    int n = 1;
    while (*a && *a == *b) {
        n += *a == '\n';
        a++;
        b++;
    }
    while (n > 1 && a[-1] != '\n') { /* back to the start of the line */
        a--;
        b--;
    }
    *line = n;
    snprintf(la, len, "%.*s", (int)strcspn(a, "\n"), a);
    snprintf(lb, len, "%.*s", (int)strcspn(b, "\n"), b);
}

static void check_report(const char *name, const char *const *argv)
{
    cli_result r = cli_run(argv);
    cr_assert(r.status >= 0 && r.status <= 4, "%s: exit %d\n%s", name, r.status, r.err);
    char *got = report_text(r.out);
    char path[512];
    snprintf(path, sizeof path, "%s/%s.txt", RC_GOLDEN_REPORTS_DIR, name);
    if (getenv("ROPECHECK_UPDATE_GOLDEN")) {
        /* tools/update-golden-reports: write the file, compare nothing. */
        FILE *f = fopen(path, "wb");
        cr_assert_not_null(f, "%s: %s", path, strerror(errno));
        cr_assert(fputs(got, f) >= 0 && fclose(f) == 0, "%s: write failed", path);
    } else {
        char *want = read_file(path);
        cr_assert_not_null(want, "%s: %s (tools/update-golden-reports writes it)", path,
                           strerror(errno));
        if (strcmp(got, want) != 0) {
            int line;
            char lw[400], lg[400];
            first_difference(want, got, &line, lw, lg, sizeof lw);
            cr_expect_fail("%s: the report differs from %s at line %d:\n  golden: %s\n  "
                           "now:    %s\nIf the change is intended, run "
                           "tools/update-golden-reports and review the diff.",
                           name, path, line, lw, lg);
        }
        free(want);
    }
    free(got);
    cli_result_free(&r);
}

/* verify --plugin P at the default matrix, f32 (each defect shows there). */
#define GATE_REPORT(ident, upper)                                                             \
    Test(golden_verify, ident)                                                                \
    {                                                                                         \
        const char *argv[] = {"verify", "--plugin", GATE_MUTANT_##upper##_PATH, "--dtype",   \
                              "f32", "--seed", "1", "--quiet", NULL};                         \
        check_report("verify_" #ident, argv);                                                 \
    }

GATE_REPORT(wrong_base, WRONG_BASE)
GATE_REPORT(partial_exponent, PARTIAL_EXPONENT)
GATE_REPORT(passthrough_zeroed, PASSTHROUGH_ZEROED)
GATE_REPORT(ignores_head_stride, IGNORES_HEAD_STRIDE)
GATE_REPORT(sparse_positions, SPARSE_POSITIONS)
GATE_REPORT(ignores_direction, IGNORES_DIRECTION)
GATE_REPORT(token_index, TOKEN_INDEX)
GATE_REPORT(last_token_unwritten, LAST_TOKEN_UNWRITTEN)
GATE_REPORT(approx_sine, APPROX_SINE)
GATE_REPORT(position_plus_one, POSITION_PLUS_ONE)
GATE_REPORT(position_f32, POSITION_F32)
GATE_REPORT(angle_f32, ANGLE_F32)
GATE_REPORT(radial_scale, RADIAL_SCALE)
GATE_REPORT(apply_refuses, APPLY_REFUSES)
GATE_REPORT(layout_swapped, LAYOUT_SWAPPED)
GATE_REPORT(specials_zeroed, SPECIALS_ZEROED)
GATE_REPORT(tail_swapped, TAIL_SWAPPED)
GATE_REPORT(odd_head_swapped, ODD_HEAD_SWAPPED)
GATE_REPORT(inf_saturated, INF_SATURATED)

/* A port wrong in one pair only (pair 3 swaps sin and cos): "one-pair". */
Test(golden_verify, one_pair)
{
    const char *argv[] = {"verify", "--plugin", PROOF_MUTANT_SINCOS_SWAPPED_PAIR3_PATH,
                          "--dtype", "f32", "--seed", "1", "--quiet", NULL};
    check_report("verify_one_pair", argv);
}

/* The correct port: every dtype of the default matrix. */
Test(golden_verify, scalar)
{
    const char *argv[] = {"verify", "--impl", "scalar", "--seed", "1", "--quiet", NULL};
    check_report("verify_scalar", argv);
}

/* A scaled spec (YaRN, attention factor != 1) and a profile's band. */
Test(golden_verify, scalar_yarn_and_hf_band)
{
    const char *yarn[] = {"verify", "--impl", "scalar", "--model", "qwen2-7b-instruct-yarn",
                          "--dtype", "f32,bf16", "--seed", "1", "--quiet", NULL};
    check_report("verify_scalar_yarn", yarn);
    const char *hf[] = {"verify", "--impl", "scalar", "--model", "llama-3.1-8b", "--profile",
                        "hf", "--dtype", "f32", "--seed", "1", "--quiet", NULL};
    check_report("verify_scalar_hf", hf);
}

#define PROOF_REPORT(ident, upper)                                                            \
    Test(golden_prove, ident)                                                                 \
    {                                                                                         \
        const char *argv[] = {"prove", "--plugin", PROOF_MUTANT_##upper##_PATH, "--seed", "1", \
                              NULL};                                                          \
        check_report("prove_" #ident, argv);                                                  \
    }

PROOF_REPORT(wrong_base, WRONG_BASE)
PROOF_REPORT(layout_swapped, LAYOUT_SWAPPED)
PROOF_REPORT(clockwise, CLOCKWISE)
PROOF_REPORT(exponent_off_by_one, EXPONENT_OFF_BY_ONE)
PROOF_REPORT(angle_f16, ANGLE_F16)
PROOF_REPORT(sincos_swapped_pair3, SINCOS_SWAPPED_PAIR3)
PROOF_REPORT(ignores_direction, IGNORES_DIRECTION)
PROOF_REPORT(radial_scale, RADIAL_SCALE)

/* Gate mutants whose defects the dense positions, the call-shape probes
 * (token index, strides, unwritten and non-finite outputs) and the block
 * checks name. */
#define GATE_PROOF_REPORT(ident, upper)                                                       \
    Test(golden_prove, gate_##ident)                                                          \
    {                                                                                         \
        const char *argv[] = {"prove", "--plugin", GATE_MUTANT_##upper##_PATH, "--seed", "1", \
                              NULL};                                                          \
        check_report("prove_gate_" #ident, argv);                                             \
    }

GATE_PROOF_REPORT(sparse_positions, SPARSE_POSITIONS)
GATE_PROOF_REPORT(position_f32, POSITION_F32)
GATE_PROOF_REPORT(position_plus_one, POSITION_PLUS_ONE)
GATE_PROOF_REPORT(token_index, TOKEN_INDEX)
GATE_PROOF_REPORT(approx_sine, APPROX_SINE)
GATE_PROOF_REPORT(last_token_unwritten, LAST_TOKEN_UNWRITTEN)
GATE_PROOF_REPORT(specials_zeroed, SPECIALS_ZEROED)
GATE_PROOF_REPORT(inf_saturated, INF_SATURATED)
GATE_PROOF_REPORT(ignores_head_stride, IGNORES_HEAD_STRIDE)
GATE_PROOF_REPORT(passthrough_zeroed, PASSTHROUGH_ZEROED)
GATE_PROOF_REPORT(tail_swapped, TAIL_SWAPPED)
GATE_PROOF_REPORT(odd_head_swapped, ODD_HEAD_SWAPPED)
GATE_PROOF_REPORT(partial_exponent, PARTIAL_EXPONENT)
GATE_PROOF_REPORT(apply_refuses, APPLY_REFUSES)

Test(golden_prove, scalar)
{
    const char *argv[] = {"prove", "--impl", "scalar", "--seed", "1", NULL};
    check_report("prove_scalar", argv);
}

/*
 * tests/test_gate_prove.c - the CI gate through `prove` (issue 13): the
 * DEFAULT `ropecheck prove --plugin X` (no option but --plugin: the
 * coverage matrix of specs, both layouts and directions, the dense
 * positions and the call-shape probes) fails every broken port of
 * tests/mutants_gate with a finding that names its real cause and none
 * that names a wrong one; a port judged on nothing exits 4; every built-in
 * available here passes the same default run on several seeds.
 *
 * Randomized: the relative, Abel and linear-attention trials draw from
 * ROPECHECK_SEED (printed on stderr; an empty or malformed value is
 * refused); the built-ins run on it and the next seed.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_runner.h"
#include "gate_mutant_paths.h"
#include "impls/avx2/avx2.h"
#include "impls/avx512/avx512.h"
#include "impls/scalar/scalar.h"

/* The run's seed (tests/cli_runner.h: ROPECHECK_SEED or 1, printed; an
 * empty or malformed value ends the binary with status 2). */
static uint64_t test_seed(void)
{
    return strtoull(cli_test_seed("test_gate_prove"), NULL, 10);
}

/* Run `ropecheck prove ARGS` with ROPECHECK_SEED = seed in its
 * environment (the default run takes its seed from there). */
static cli_result run_prove(const char *const *argv, uint64_t seed)
{
    char text[32];
    snprintf(text, sizeof text, "%" PRIu64, seed);
    setenv("ROPECHECK_SEED", text, 1); /* this test's process only (Criterion forks) */
    cli_result r = cli_run(argv);
    cr_log_info("exit %d\nstdout:\n%s\nstderr:\n%s", r.status, r.out, r.err);
    return r;
}

#define MAX_FORBIDDEN 4

typedef struct gate_case {
    const char *path;
    int status;          /* the default run's exit status */
    const char *phrase;  /* the named cause: a stable phrase of the finding */
    /* Phrases of wrong causes this defect's evidence could be mistaken
     * for: none may appear. */
    const char *forbidden[MAX_FORBIDDEN];
} gate_case;

static void check_mutant(const char *name, const gate_case *g)
{
    const uint64_t seed = test_seed();
    const char *argv[] = {"prove", "--plugin", g->path, NULL};
    cli_result r = run_prove(argv, seed);
    cr_expect_eq(r.status, g->status, "%s: exit %d, want %d (seed %" PRIu64 ")\n%s%s", name,
                 r.status, g->status, seed, r.out, r.err);
    const char *where = g->status == 4 ? r.err : r.out;
    cr_expect(strstr(where, g->phrase) != NULL, "%s: no '%s' in the output:\n%s%s", name,
              g->phrase, r.out, r.err);
    for (int i = 0; i < MAX_FORBIDDEN && g->forbidden[i]; i++)
        cr_expect(strstr(r.out, g->forbidden[i]) == NULL, "%s: names a wrong cause ('%s'):\n%s",
                  name, g->forbidden[i], r.out);
    cli_result_free(&r);
}

/* Wrong causes a confused oracle names most often. */
#define PRECISION "too low a precision"
#define BASE "wrong base"

Test(gate_prove, wrong_base)
{
    gate_case g = {GATE_MUTANT_WRONG_BASE_PATH, 1, "wrong base: frequencies follow theta_i = "
                   "B^(-2i/r) with B = 10000", {"exponent over head_dim", PRECISION}};
    check_mutant("wrong_base", &g);
}

Test(gate_prove, partial_exponent)
{
    gate_case g = {GATE_MUTANT_PARTIAL_EXPONENT_PATH, 1, "frequency exponent over head_dim",
                   {BASE, PRECISION}};
    check_mutant("partial_exponent", &g);
}

Test(gate_prove, passthrough_zeroed)
{
    gate_case g = {GATE_MUTANT_PASSTHROUGH_ZEROED_PATH, 1, "passthrough channels zeroed",
                   {BASE, PRECISION, "rotary_dim is"}};
    check_mutant("passthrough_zeroed", &g);
}

Test(gate_prove, ignores_head_stride)
{
    gate_case g = {GATE_MUTANT_IGNORES_HEAD_STRIDE_PATH, 1, "head_stride ignored",
                   {BASE, PRECISION, "token index"}};
    check_mutant("ignores_head_stride", &g);
}

Test(gate_prove, sparse_positions)
{
    gate_case g = {GATE_MUTANT_SPARSE_POSITIONS_PATH, 1,
                   "wrong at positions sharing the divisor 384", {PRECISION, BASE}};
    check_mutant("sparse_positions", &g);
}

Test(gate_prove, ignores_direction)
{
    gate_case g = {GATE_MUTANT_IGNORES_DIRECTION_PATH, 1, "direction ignored",
                   {BASE, PRECISION, "rotation is clockwise"}};
    check_mutant("ignores_direction", &g);
}

/* Everything skipped is "nothing judged", never a pass. */
Test(gate_prove, unsupported_all)
{
    gate_case g = {GATE_MUTANT_UNSUPPORTED_ALL_PATH, 4, "nothing judged for unsupported_all",
                   {"FAIL", "pass "}};
    check_mutant("unsupported_all", &g);
}

Test(gate_prove, token_index)
{
    gate_case g = {GATE_MUTANT_TOKEN_INDEX_PATH, 1, "token index used as position",
                   {"rotary_dim is", "not orthogonal", "channels pair in neither layout"}};
    check_mutant("token_index", &g);
}

Test(gate_prove, last_token_unwritten)
{
    gate_case g = {GATE_MUTANT_LAST_TOKEN_UNWRITTEN_PATH, 1, "the last token was not written",
                   {"rotary_dim is", "not finite", "feeds channel"}};
    check_mutant("last_token_unwritten", &g);
}

Test(gate_prove, approx_sine)
{
    gate_case g = {GATE_MUTANT_APPROX_SINE_PATH, 1, "sine/cosine approximation",
                   {PRECISION, "radial scale", BASE}};
    check_mutant("approx_sine", &g);
}

Test(gate_prove, position_plus_one)
{
    gate_case g = {GATE_MUTANT_POSITION_PLUS_ONE_PATH, 1,
                   "positions off by one: the output at every position m is the exact rotation "
                   "at m+1",
                   {PRECISION, BASE}};
    check_mutant("position_plus_one", &g);
}

Test(gate_prove, position_f32)
{
    gate_case g = {GATE_MUTANT_POSITION_F32_PATH, 1, "position rounded to float",
                   {PRECISION, BASE}};
    check_mutant("position_f32", &g);
}

Test(gate_prove, angle_f32)
{
    gate_case g = {GATE_MUTANT_ANGLE_F32_PATH, 1, "phase error grows with m",
                   {"position rounded to float", "sine/cosine approximation", BASE}};
    check_mutant("angle_f32", &g);
}

Test(gate_prove, radial_scale)
{
    gate_case g = {GATE_MUTANT_RADIAL_SCALE_PATH, 1, "radial scale 1.00195",
                   {"sine/cosine approximation", PRECISION}};
    check_mutant("radial_scale", &g);
}

Test(gate_prove, apply_refuses)
{
    gate_case g = {GATE_MUTANT_APPLY_REFUSES_PATH, 1,
                   "apply() refused a case its caps offer and prepare() accepted",
                   {"skip ", "nothing judged"}};
    check_mutant("apply_refuses", &g);
}

Test(gate_prove, layout_swapped)
{
    gate_case g = {GATE_MUTANT_LAYOUT_SWAPPED_PATH, 1, "channels pair as half, spec says "
                   "interleaved", {BASE, PRECISION}};
    check_mutant("layout_swapped", &g);
}

Test(gate_prove, specials_zeroed)
{
    gate_case g = {GATE_MUTANT_SPECIALS_ZEROED_PATH, 1, "non-finite values replaced",
                   {BASE, PRECISION, "last token"}};
    check_mutant("specials_zeroed", &g);
}

Test(gate_prove, tail_swapped)
{
    gate_case g = {GATE_MUTANT_TAIL_SWAPPED_PATH, 1,
                   "the last token of a call is computed differently",
                   {"not orthogonal", "sin and cos swapped", "token index", PRECISION}};
    check_mutant("tail_swapped", &g);
}

/* Heads rotated in pairs, the odd one by a tail path with sin and cos
 * swapped: named as head-count dependence, never as a stride defect. */
Test(gate_prove, odd_head_swapped)
{
    gate_case g = {GATE_MUTANT_ODD_HEAD_SWAPPED_PATH, 1, "heads are not rotated independently",
                   {"head_stride", "token index", PRECISION}};
    check_mutant("odd_head_swapped", &g);
}

/* Infinities saturated to the largest finite value, NaN kept: the
 * specials probe must look at the Inf head too, not only the NaN one. */
Test(gate_prove, inf_saturated)
{
    gate_case g = {GATE_MUTANT_INF_SATURATED_PATH, 1,
                   "non-finite values replaced: a head whose channel 0 is Inf",
                   {BASE, PRECISION, "head_stride"}};
    check_mutant("inf_saturated", &g);
}

/* Cos/sin rows kept across calls under the wrong key: right on a state's
 * first call, so only the history check every probe makes
 * (harness/guarded_call.h) sees it; no oracle may blame the rotation. */
Test(gate_prove, rows_never_renewed)
{
    gate_case g = {GATE_MUTANT_ROWS_NEVER_RENEWED_PATH, 1,
                   "output depends on the state's earlier calls",
                   {BASE, PRECISION, "token index", "direction ignored"}};
    check_mutant("rows_never_renewed", &g);
}

Test(gate_prove, rows_keyed_without_direction)
{
    gate_case g = {GATE_MUTANT_ROWS_KEYED_WITHOUT_DIRECTION_PATH, 1,
                   "after the state's calls at other positions (lowest bit flipped) and in the "
                   "other direction",
                   {BASE, PRECISION, "token index", "direction ignored"}};
    check_mutant("rows_keyed_without_direction", &g);
}

/* Every gate mutant has a case above: a mutant added to
 * tests/mutants_gate without one fails here. */
Test(gate_prove, every_mutant_has_a_case)
{
    static const char *const covered[] = {
        "wrong_base",        "partial_exponent", "passthrough_zeroed", "ignores_head_stride",
        "sparse_positions",  "ignores_direction", "unsupported_all",   "token_index",
        "last_token_unwritten", "approx_sine",   "position_plus_one", "position_f32",
        "angle_f32",         "radial_scale",     "apply_refuses",      "layout_swapped",
        "specials_zeroed",   "tail_swapped",     "odd_head_swapped", "inf_saturated",
        "rows_never_renewed", "rows_keyed_without_direction"};
#define GATE_NAME_CHECK(name, path)                                                         \
    do {                                                                                    \
        int found = 0;                                                                      \
        for (size_t i = 0; i < sizeof covered / sizeof covered[0]; i++)                     \
            found |= strcmp(covered[i], #name) == 0;                                        \
        cr_expect(found, "gate mutant %s (%s) has no test here", #name, path);              \
    } while (0);
    GATE_MUTANTS(GATE_NAME_CHECK)
#undef GATE_NAME_CHECK
}

/* A built-in passes the default run (exit 0, no FAIL) on the test's seed
 * and the next; an ISA this CPU lacks is skipped with its reason. */
static void expect_builtin_passes(const rc_impl *impl)
{
    char why[256] = "";
    if (impl->available && !impl->available(why, sizeof why))
        cr_skip_test("%s unavailable here: %s", impl->name, why);
    const uint64_t seed = test_seed();
    for (uint64_t s = seed; s < seed + 2; s++) {
        const char *argv[] = {"prove", "--impl", impl->name, NULL};
        cli_result r = run_prove(argv, s);
        cr_expect_eq(r.status, 0, "%s, seed %" PRIu64 ": exit %d\n%s%s", impl->name, s, r.status,
                     r.out, r.err);
        cr_expect(strstr(r.out, "FAIL") == NULL && strstr(r.out, "ERROR") == NULL &&
                      strstr(r.out, "skip") == NULL,
                  "%s, seed %" PRIu64 ": a false alarm or a skip:\n%s", impl->name, s, r.out);
        /* The matrix ran: three specs, each labelled. */
        cr_expect(strstr(r.out, "d128/r128/b10000") && strstr(r.out, "d96/r24/b500000") &&
                      strstr(r.out, "d80/r32/b31415.9265"),
                  "%s: the default run is not the coverage matrix:\n%s", impl->name, r.out);
        cli_result_free(&r);
    }
}

Test(gate_prove_builtins, scalar)
{
    expect_builtin_passes(&rc_impl_scalar);
}

Test(gate_prove_builtins, avx2)
{
    expect_builtin_passes(&rc_impl_avx2);
}

Test(gate_prove_builtins, avx2_table)
{
    expect_builtin_passes(&rc_impl_avx2_table);
}

Test(gate_prove_builtins, avx512)
{
    expect_builtin_passes(&rc_impl_avx512);
}

Test(gate_prove_builtins, avx512_table)
{
    expect_builtin_passes(&rc_impl_avx512_table);
}

/*
 * tests/test_alloc_failure.c - what the judge does when memory runs out.
 *
 * A judge that meets a failed allocation may stop with an error that says
 * so, or recover and give the same answer it gives with memory to spare.
 * It may never give a different verdict, drop a result it then reports as
 * complete, or crash. Every judging entry point below is run once without
 * faults (the baseline), then once per allocation it makes, with exactly
 * that one allocation failing (a single-fault sweep, as SQLite's and
 * MPFR's own allocation tests do), until a run makes no more allocations
 * than the fault's index.
 *
 * HOW. This binary is linked with -Wl,--wrap=malloc,--wrap=calloc,
 * --wrap=realloc,--wrap=posix_memalign (the ports' aligned cos/sin table),
 * --wrap=mmap (tests/CMakeLists.txt): every call the
 * judge's static library makes lands in __wrap_* here (mmap gives the
 * guarded buffers and the ports' shared output; a failed one is counted
 * like a failed malloc and returns MAP_FAILED with errno ENOMEM). Only the process that armed the
 * fault counts allocations: the ports run in forked children (the guarded
 * call), which must not see the parent's fault. Libraries' own allocations
 * (MPFR's, libc's inside strdup or fopen) are not counted: MPFR aborts on
 * exhaustion by design, and those are not the judge's branches.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli/positions.h"
#include "cli/scaling_parse.h"
#include "core/registry.h"
#include "impls/builtins.h"
#include "harness/verify.h"
#include "impls/common/port_state.h"
#include "impls/scalar/scalar.h"
#include "proofs/proofs.h"
#include "tests/mutants_proofs/mutants_proofs.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
int __real_posix_memalign(void **p, size_t align, size_t n);
int __wrap_posix_memalign(void **p, size_t align, size_t n);
void *__real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);

static long fault_at;   /* 0: no fault armed */
static long fault_seen; /* allocations counted since arming */
static pid_t fault_pid;
static int fault_fired;

static int fault_now(void)
{
    if (fault_at == 0 || getpid() != fault_pid)
        return 0;
    if (++fault_seen != fault_at)
        return 0;
    fault_fired = 1;
    return 1;
}

void *__wrap_malloc(size_t n)
{
    return fault_now() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    return fault_now() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
    return fault_now() ? NULL : __real_realloc(p, n);
}

int __wrap_posix_memalign(void **p, size_t align, size_t n)
{
    return fault_now() ? ENOMEM : __real_posix_memalign(p, align, n);
}

void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    if (fault_now()) {
        errno = ENOMEM;
        return MAP_FAILED;
    }
    return __real_mmap(addr, len, prot, flags, fd, off);
}

static void arm(long k)
{
    fault_seen = 0;
    fault_fired = 0;
    fault_pid = getpid();
    fault_at = k;
}

/* 1 when the armed allocation was reached (and failed). */
static int disarm(void)
{
    fault_at = 0;
    return fault_fired;
}

/* No judging run here makes this many allocations: a sweep that reaches
 * it has lost its end. */
#define MAX_FAULTS 20000

/* ---------------------------------------------------------------- verify */

/* Everything a verify result reports, compared field by field (the
 * timings aside). */
static int same_summary(const rc_error_summary *a, const rc_error_summary *b)
{
    return a->count == b->count && a->max == b->max && a->p50 == b->p50 && a->p99 == b->p99 &&
           a->p999 == b->p999 && a->over_gate == b->over_gate && a->has_worst == b->has_worst &&
           (!a->has_worst || (a->worst.token == b->worst.token &&
                              a->worst.channel == b->worst.channel));
}

static int same_verify(const rc_verify_result *a, const rc_verify_result *b, const char **what)
{
    *what = "verdict";
    if (a->verdict != b->verdict)
        return 0;
    *what = "cause or finding";
    if (strcmp(a->cause, b->cause) != 0 || strcmp(a->finding, b->finding) != 0)
        return 0;
    *what = "pair or component summary";
    if (!same_summary(&a->pair, &b->pair) || !same_summary(&a->component, &b->component) ||
        !same_summary(&a->pair_beyond, &b->pair_beyond))
        return 0;
    *what = "errors by position";
    for (int k = 0; k < RC_POSITION_BUCKETS; k++)
        if (a->pair_by_position[k].count != b->pair_by_position[k].count ||
            a->pair_by_position[k].max != b->pair_by_position[k].max)
            return 0;
    *what = "histogram";
    if (memcmp(a->pair_histogram, b->pair_histogram, sizeof a->pair_histogram) != 0)
        return 0;
    *what = "passthrough, special or unwritten counts";
    return a->passthrough_mismatches == b->passthrough_mismatches &&
           a->special_elements == b->special_elements &&
           a->special_mismatches == b->special_mismatches && a->unwritten == b->unwritten;
}

static void sweep_verify(const char *name, const rc_verify_case *c, const rc_gate *gate,
                         rc_verdict expected)
{
    rc_verify_result *base = malloc(sizeof *base), *got = malloc(sizeof *got);
    cr_assert(base && got);
    cr_assert_eq(rc_verify_run(c, gate, base), expected, "%s: baseline %s (%s)", name,
                 rc_verdict_name(base->verdict), base->reason);
    long k = 1;
    for (; k < MAX_FAULTS; k++) {
        arm(k);
        rc_verify_run(c, gate, got);
        if (!disarm())
            break;
        const char *what = "";
        if (got->verdict == RC_VERDICT_ERROR && strstr(got->reason, "memory"))
            continue;
        if (got->verdict == RC_VERDICT_FAIL && strstr(got->finding, "not diagnosed: out of "
                                                      "memory")) {
            /* The verdict and every figure stand; only the cause is unknown. */
            strcpy(got->cause, base->cause);
            strcpy(got->finding, base->finding);
        }
        cr_expect(same_verify(got, base, &what), "%s: allocation %ld failing changes the %s: "
                  "%s (%s) where the run with memory gives %s; an allocation failure must "
                  "end in an error naming memory or change nothing",
                  name, k, what, rc_verdict_name(got->verdict), got->reason,
                  rc_verdict_name(base->verdict));
    }
    cr_assert(k > 1 && k < MAX_FAULTS, "%s: %ld allocations swept", name, k - 1);
    free(base);
    free(got);
}

static const int64_t positions[] = {0, 1, 7, 4095, 131071, 2147483647, 4294967296};
#define NPOS ((int64_t)(sizeof positions / sizeof positions[0]))

/* For the hf profile: below 4096 the profile's f32 angle and the exact
 * one give sines of the same sign, so the special values' classes agree
 * and the failure is the band's alone. */
static const int64_t short_positions[] = {0, 1, 2, 7, 100, 4095};

static rc_verify_case scalar_case(rc_dtype dtype, rc_layout layout)
{
    rc_verify_case c = {.impl = rc_builtin_find("scalar"), .head_dim = 16, .rotary_dim = 12,
                        .base = 10000.0, .layout = layout, .dtype = dtype,
                        .direction = RC_FORWARD, .n_tokens = NPOS, .n_heads = 2,
                        .positions = positions, .seed = 7, .timeout_s = 30};
    return c;
}

/* Passthrough channels, a position past the gate, specials, strides,
 * inverse, a scaled spec: each has its own statistics and buffers. */
Test(alloc_failure, verify_a_correct_port)
{
    rc_gate gate;
    rc_gate_default(&gate);
    rc_verify_case c = scalar_case(RC_DTYPE_F32, RC_LAYOUT_HALF);
    c.with_specials = 1;
    sweep_verify("scalar f32 specials", &c, &gate, RC_VERDICT_PASS);
    rc_scaling yarn = {.type = RC_SCALING_YARN, .factor = 4.0, .original_context = 4096,
                       .beta_fast = 32.0, .beta_slow = 1.0, .truncate = 1};
    c = scalar_case(RC_DTYPE_F16, RC_LAYOUT_INTERLEAVED);
    c.scaling = &yarn;
    c.direction = RC_INVERSE;
    c.stride_pad = 3;
    sweep_verify("scalar f16 yarn inverse strided", &c, &gate, RC_VERDICT_PASS);
}

/* Under a profile the band, its specials' classes and the profile's own
 * table are allocated too. The scalar port is exact, not HF's f32
 * arithmetic: at 4095 it lies outside the hf band (and fails it). */
Test(alloc_failure, verify_under_a_profile)
{
    rc_gate gate;
    rc_gate_profile(&gate);
    rc_verify_case c = scalar_case(RC_DTYPE_F32, RC_LAYOUT_HALF);
    c.profile = RC_PROFILE_HF;
    c.with_specials = 1;
    c.positions = short_positions;
    c.n_tokens = (int64_t)(sizeof short_positions / sizeof short_positions[0]);
    sweep_verify("scalar f32 under hf", &c, &gate, RC_VERDICT_FAIL);
}

/* A failing port: the diagnosis has its own buffers, and a failure there
 * must not lose the verdict or leave a half-written finding. */
Test(alloc_failure, verify_a_wrong_port)
{
    rc_gate gate;
    rc_gate_default(&gate);
    rc_verify_case c = scalar_case(RC_DTYPE_F32, RC_LAYOUT_HALF);
    c.impl = &rc_mutant_wrong_base;
    c.head_dim = c.rotary_dim = 16;
    sweep_verify("wrong base", &c, &gate, RC_VERDICT_FAIL);
}

/* ---------------------------------------------------------------- proofs */

static int same_proof(const rc_proof_result *a, const rc_proof_result *b)
{
    if (a->verdict != b->verdict || !(a->figure == b->figure || (isnan(a->figure) &&
                                                                 isnan(b->figure))) ||
        a->n_findings != b->n_findings)
        return 0;
    for (int k = 0; k < a->n_findings; k++)
        if (strcmp(a->findings[k].text, b->findings[k].text) != 0)
            return 0;
    return 1;
}

typedef void (*proof_fn)(const rc_impl *impl, const rc_proof_spec *s, rc_proof_result *r);

static void sweep_proof(const char *name, proof_fn run, const rc_impl *impl,
                        const rc_proof_spec *s, rc_proof_verdict expected)
{
    rc_proof_result *base = malloc(sizeof *base), *got = malloc(sizeof *got);
    cr_assert(base && got);
    run(impl, s, base);
    cr_assert_eq(base->verdict, expected, "%s: baseline verdict %d (%s)", name,
                 (int)base->verdict, base->error);
    long k = 1;
    for (; k < MAX_FAULTS; k++) {
        arm(k);
        run(impl, s, got);
        if (!disarm())
            break;
        if (got->verdict == RC_PROOF_ERROR && strstr(got->error, "memory"))
            continue;
        cr_expect(same_proof(got, base), "%s: allocation %ld failing gives verdict %d, figure "
                  "%.17g, %d findings (first: %s; error: %s) where the run with memory gives "
                  "verdict %d, figure %.17g, %d findings; an allocation failure must end in an "
                  "error naming memory or change nothing", name, k, (int)got->verdict,
                  got->figure, got->n_findings, got->n_findings ? got->findings[0].text : "",
                  got->error, (int)base->verdict, base->figure, base->n_findings);
    }
    cr_assert(k > 1 && k < MAX_FAULTS, "%s: %ld allocations swept", name, k - 1);
    free(base);
    free(got);
}

/* The result structs are the test's: allocated past the fault counter. */
static void run_rotation(const rc_impl *impl, const rc_proof_spec *s, rc_proof_result *r)
{
    rc_rotation_id *id = __real_malloc(sizeof *id);
    cr_assert_not_null(id);
    rc_prove_rotation(impl, s, id);
    *r = id->res;
    free(id);
}

static void run_relative(const rc_impl *impl, const rc_proof_spec *s, rc_proof_result *r)
{
    rc_prove_relative(impl, s, 11, 6, 100000, r);
}

static void run_abel(const rc_impl *impl, const rc_proof_spec *s, rc_proof_result *r)
{
    rc_abel_result *a = __real_malloc(sizeof *a);
    cr_assert_not_null(a);
    rc_prove_abel(impl, s, 11, 4, 100000, 24, a);
    *r = a->res;
    free(a);
}

static void run_linear(const rc_impl *impl, const rc_proof_spec *s, rc_proof_result *r)
{
    rc_linattn_result *l = __real_malloc(sizeof *l);
    cr_assert_not_null(l);
    rc_prove_linear_attention(impl, s, 11, 12, 4, 100000, l);
    *r = l->res;
    free(l);
}

static rc_proof_spec small_spec(void)
{
    rc_proof_spec s = {.head_dim = 10, .rotary_dim = 8, .base = 10000.0,
                       .layout = RC_LAYOUT_HALF, .dtype = RC_DTYPE_F32, .gate_pair = 0.0};
    return s;
}

Test(alloc_failure, proofs_of_a_correct_port)
{
    const rc_impl *scalar = rc_builtin_find("scalar");
    rc_proof_spec s = small_spec();
    sweep_proof("rotation", run_rotation, scalar, &s, RC_PROOF_PASS);
    sweep_proof("relative", run_relative, scalar, &s, RC_PROOF_PASS);
    sweep_proof("abel", run_abel, scalar, &s, RC_PROOF_PASS);
    sweep_proof("linear attention", run_linear, scalar, &s, RC_PROOF_PASS);
}

/* The findings' own buffers (naming a schedule, a table) under faults. */
Test(alloc_failure, rotation_of_a_wrong_port)
{
    rc_proof_spec s = small_spec();
    s.head_dim = s.rotary_dim;
    sweep_proof("rotation, wrong base", run_rotation, &rc_mutant_wrong_base, &s, RC_PROOF_FAIL);
}

/* ---------------------------------------------------------- the parsers */

static char tmpdir[64];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/rc_alloc_XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/t.txt", tmpdir);
    unlink(path);
    snprintf(path, sizeof path, "%s/f.txt", tmpdir);
    unlink(path);
    rmdir(tmpdir);
}

static int same_scaling(const rc_scaling *a, const rc_scaling *b, int half)
{
    if (a->type != b->type || a->factor != b->factor ||
        a->original_context != b->original_context || a->beta_fast != b->beta_fast ||
        a->beta_slow != b->beta_slow || a->truncate != b->truncate)
        return 0;
    const double *const arrays[3][2] = {{a->table, b->table},
                                         {a->short_factor, b->short_factor},
                                         {a->long_factor, b->long_factor}};
    for (int k = 0; k < 3; k++) {
        if (!arrays[k][0] != !arrays[k][1])
            return 0;
        if (arrays[k][0] && memcmp(arrays[k][0], arrays[k][1], (size_t)half * sizeof(double)))
            return 0;
    }
    return 1;
}

static void sweep_scaling(const char *text, int32_t r)
{
    rc_scaling base, got;
    char err[256] = "";
    cr_assert_eq(rc_scaling_parse(text, r, &base, err, sizeof err), 0, "%s: %s", text, err);
    long k = 1;
    for (; k < MAX_FAULTS; k++) {
        memset(&got, 0, sizeof got);
        err[0] = '\0';
        arm(k);
        int rc = rc_scaling_parse(text, r, &got, err, sizeof err);
        if (!disarm()) {
            rc_scaling_free_arrays(&got);
            break;
        }
        if (rc != 0) {
            cr_expect(strstr(err, "memory") != NULL, "%s: allocation %ld failing: refused "
                      "with '%s', which does not name memory", text, k, err);
            continue;
        }
        cr_expect(same_scaling(&got, &base, r / 2), "%s: allocation %ld failing parses to "
                  "something else", text, k);
        rc_scaling_free_arrays(&got);
    }
    cr_assert(k > 1 && k < MAX_FAULTS, "%s: %ld allocations swept", text, k - 1);
    rc_scaling_free_arrays(&base);
}

Test(alloc_failure, scaling_and_positions_parsers, .init = make_tmpdir, .fini = remove_tmpdir)
{
    char path[128], factors[128], text[400];
    snprintf(path, sizeof path, "%s/t.txt", tmpdir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("1\n0.5\n# a comment\n0x1p-3\n1e-6\n", f);
    fclose(f);
    snprintf(factors, sizeof factors, "%s/f.txt", tmpdir);
    f = fopen(factors, "w");
    cr_assert_not_null(f);
    fputs("1\n1\n1.1\n1.2\n", f);
    fclose(f);
    snprintf(text, sizeof text, "table:@%s", path);
    sweep_scaling(text, 8);
    snprintf(text, sizeof text, "longrope:short=@%s,long=@%s,factor=32,original=4096",
             factors, factors);
    sweep_scaling(text, 8);

    int64_t *base = NULL, *got = NULL, n_base = 0, n_got = 0;
    char err[256];
    const char *spec = "5,0:3,random:1000,131071";
    cr_assert_eq(rc_positions_parse(spec, 40, 3, &base, &n_base, err, sizeof err), 0, "%s",
                 err);
    long k = 1;
    for (; k < MAX_FAULTS; k++) {
        err[0] = '\0';
        got = NULL;
        arm(k);
        int rc = rc_positions_parse(spec, 40, 3, &got, &n_got, err, sizeof err);
        if (!disarm()) {
            free(got);
            break;
        }
        if (rc != 0)
            cr_expect(strstr(err, "memory") != NULL, "positions: allocation %ld: '%s'", k, err);
        else
            cr_expect(n_got == n_base && memcmp(got, base, (size_t)n_got * sizeof *got) == 0,
                      "positions: allocation %ld failing gives other positions", k);
        free(got);
    }
    cr_assert(k > 1 && k < MAX_FAULTS, "positions: %ld allocations swept", k - 1);
    free(base);
}

/* A fused port whose table of kept rows cannot be allocated still
 * rotates, one token's rows at a time in its own storage, and gives the
 * same bits (impls/common/port_state.c); single- and multi-axis. */
Test(alloc_failure, port_apply_without_room_for_kept_rows)
{
    double th[4], tl[4];
    for (int i = 0; i < 4; i++) {
        th[i] = pow(10000.0, -i / 4.0);
        tl[i] = 0.0;
    }
    const uint8_t map[4] = {0, 1, 1, 0};
    for (int axes = 1; axes <= 2; axes++) {
        rc_spec spec = {8, 8, 10000.0, RC_LAYOUT_HALF, RC_DTYPE_F32, th, tl, NULL, 0.0, 0.0,
                        axes, axes > 1 ? map : NULL, 0};
        float in[3 * 8], base[3 * 8], got[3 * 8];
        for (int i = 0; i < 24; i++)
            in[i] = (float)(i + 1) / 7.0f;
        const int64_t pos[6] = {5, 1000003, 77, 12, 2147483000, 77};
        rc_tensor tin = {in, 3, 1, 8, 8}, tb = {base, 3, 1, 8, 8}, tg = {got, 3, 1, 8, 8};
        void *st = NULL;
        cr_assert_eq(rc_impl_scalar.prepare(&spec, &st), RC_OK);
        cr_assert_eq(rc_impl_scalar.apply(st, &tin, &tb, pos, RC_FORWARD), RC_OK);
        rc_impl_scalar.release(st);
        long k = 1;
        for (; k < MAX_FAULTS; k++) {
            cr_assert_eq(rc_impl_scalar.prepare(&spec, &st), RC_OK);
            memset(got, 0, sizeof got);
            arm(k);
            rc_status s = rc_impl_scalar.apply(st, &tin, &tg, pos, RC_FORWARD);
            const int reached = disarm(); /* allocation k was made, and failed */
            rc_impl_scalar.release(st);
            cr_expect_eq(s, RC_OK, "%d axes, allocation %ld failing: %s", axes, k,
                         rc_status_name(s));
            cr_expect(memcmp(got, base, sizeof got) == 0,
                      "%d axes, allocation %ld failing: other outputs", axes, k);
            if (!reached)
                break;
        }
        cr_assert(k > 1 && k < MAX_FAULTS, "apply: %ld allocations swept", k - 1);
    }
}

/* A built-in port's prepare: RC_ERR_NOMEM, never a state half made. */
Test(alloc_failure, port_state)
{
    double th[4] = {1.0, 0.1, 0.01, 0.001}, tl[4] = {0};
    rc_spec spec = {8, 8, 10000.0, RC_LAYOUT_INTERLEAVED, RC_DTYPE_F32, th, tl, NULL, 0.0, 0.0, 0, NULL, 0};
    long k = 1;
    for (; k < MAX_FAULTS; k++) {
        void *st = NULL;
        arm(k);
        rc_status s = rc_port_state_create(&spec, RC_ANGLES_TABLE, 1, NULL, &st);
        if (!disarm()) {
            cr_expect_eq(s, RC_OK);
            rc_port_state_destroy(st);
            break;
        }
        cr_expect(s == RC_ERR_NOMEM && st == NULL, "allocation %ld failing: status %d, state %p",
                  k, (int)s, st);
        rc_port_state_destroy(st);
    }
    cr_assert(k > 1 && k < MAX_FAULTS, "port state: %ld allocations swept", k - 1);
}

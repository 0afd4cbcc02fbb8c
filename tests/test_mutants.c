/*
 * tests/test_mutants.c - the test-only broken plug-ins (tests/mutants) do
 * what their names promise, seen through the guarded-call harness: the
 * shared baseline is correct for every dtype, layout, direction, partial
 * rotary and stride, and each mutant fails in exactly its one way. The CLI
 * tests rely on both.
 *
 * Randomized: inputs and positions come from ROPECHECK_SEED (printed).
 */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_seed.h"
#include "core/dtype_convert.h"
#include "harness/guarded_call.h"
#include "mutant_paths.h"

#define TIMEOUT 10.0 /* s: generous for a loaded CI machine; calls take ms */
#define MAX_D 16

/* ---- seed and generator ------------------------------------------------- */

static uint64_t rng_state;

static void seed_rng(void)
{
    rng_state = rc_test_seed("test_mutants", 20240611u);
}

static uint64_t next_u64(void) /* splitmix64 */
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi). */
static double uniform(double lo, double hi)
{
    return lo + (hi - lo) * (double)(next_u64() >> 11) * 0x1p-53;
}

/* ---- loading ------------------------------------------------------------ */

static void *open_module(const char *path)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    cr_assert(h != NULL, "dlopen %s: %s", path, dlerror());
    return h;
}

static const rc_impl *load(const char *path)
{
    void *sym = dlsym(open_module(path), RC_PLUGIN_SYMBOL);
    cr_assert(sym != NULL, "%s: no %s", path, RC_PLUGIN_SYMBOL);
    rc_plugin_entry_fn entry;
    memcpy(&entry, &sym, sizeof entry); /* POSIX: dlsym gives functions too */
    const rc_impl *impl = entry();
    cr_assert(impl != NULL, "%s: entry returned NULL", path);
    cr_assert(impl->abi_version == RC_ABI_VERSION, "%s: ABI %u", path, impl->abi_version);
    return impl;
}

/* ---- a case: spec, buffers, views --------------------------------------- */

typedef struct rcase {
    rc_spec spec;
    double theta_hi[MAX_D / 2], theta_lo[MAX_D / 2];
    rc_guarded_buf in_buf, out_buf, pos_buf;
    rc_tensor in, out;
    int in_place;
    unsigned char *in_copy; /* the input as it was, for the expectation */
} rcase;

/* nt tokens x nh heads; the output (and the input unless in place) uses
 * strides ts/hs; an out-of-place input is packed. The buffers are exactly
 * as long as the views. */
static void case_init(rcase *c, rc_dtype t, rc_layout layout, int d, int r, int64_t nt,
                      int64_t nh, int64_t ts, int64_t hs, int in_place, int64_t max_pos)
{
    memset(c, 0, sizeof *c);
    c->spec = (rc_spec){d, r, 10000.0, layout, t, c->theta_hi, c->theta_lo, NULL, 0.0, 0.0, 0, NULL, 0};
    for (int i = 0; i < r / 2; i++)
        c->theta_hi[i] = pow(10000.0, -2.0 * i / r); /* lo = 0: not under test here */
    c->in_place = in_place;
    size_t es = rc_dtype_size(t);
    size_t out_elems = (size_t)((nt - 1) * ts + (nh - 1) * hs + d);
    cr_assert(rc_guarded_buf_alloc(&c->out_buf, out_elems * es) == 0);
    c->out = (rc_tensor){c->out_buf.data, nt, nh, ts, hs};
    rc_guarded_buf *inb = &c->out_buf;
    if (in_place) {
        c->in = c->out;
    } else {
        cr_assert(rc_guarded_buf_alloc(&c->in_buf, (size_t)(nt * nh * d) * es) == 0);
        inb = &c->in_buf;
        c->in = (rc_tensor){c->in_buf.data, nt, nh, nh * d, d};
    }
    memset(c->out_buf.data, 0x7F, c->out_buf.len); /* gaps and prefill: NaN bits */
    for (int64_t k = 0; k < nt; k++)
        for (int64_t h = 0; h < nh; h++)
            for (int ch = 0; ch < d; ch++)
                rc_elem_store(t, c->in.data, k * c->in.token_stride + h * c->in.head_stride + ch,
                              uniform(-4.0, 4.0));
    c->in_copy = malloc(inb->len);
    memcpy(c->in_copy, inb->data, inb->len);
    cr_assert(rc_guarded_buf_alloc(&c->pos_buf, (size_t)nt * sizeof(int64_t)) == 0);
    int64_t *pos = (int64_t *)c->pos_buf.data;
    for (int64_t k = 0; k < nt; k++)
        pos[k] = (int64_t)uniform(0.0, (double)max_pos + 1.0);
}

static void case_free(rcase *c)
{
    rc_guarded_buf_free(&c->out_buf);
    if (!c->in_place)
        rc_guarded_buf_free(&c->in_buf);
    rc_guarded_buf_free(&c->pos_buf);
    free(c->in_copy);
}

static rc_call_outcome case_run(rcase *c, const rc_impl *impl, rc_direction dir, double timeout,
                                rc_call_result *res)
{
    rc_guarded_buf *inb = c->in_place ? &c->out_buf : &c->in_buf;
    rc_call_outcome o = rc_guarded_apply(impl, &c->spec, inb, &c->in, &c->out_buf, &c->out,
                                         &c->pos_buf, dir, timeout, res);
    cr_log_info("%s %s: %s: %s", impl->name, rc_dtype_name(c->spec.dtype),
                rc_call_outcome_name(o), res->detail);
    return o;
}

static int contains(const char *s, const char *sub)
{
    return strstr(s, sub) != NULL;
}

/* ulp of x in dtype t: 2^(max(exponent of x, emin) - p + 1). */
static double ulp_of(rc_dtype t, double x)
{
    const rc_format *f = rc_dtype_format(t);
    int e;
    frexp(fabs(x), &e); /* |x| = m * 2^e, m in [0.5, 1): exponent e - 1 */
    int ex = x == 0.0 ? f->emin : e - 1;
    if (ex < f->emin)
        ex = f->emin;
    return ldexp(1.0, ex - f->precision + 1);
}

/* Checks every output element against a double evaluation of the same
 * formula and the pass-through channels bit for bit. `angle_err` bounds
 * how far the implementation's angle may be from (double)m * theta_i
 * (0 for the baseline).
 *
 * Tolerance for a rotated element: the implementation computes
 * v = fl(a*c - b*s) in double and stores RN_T(v); the test computes w the
 * same way. Each evaluation is within 3 roundings of 2^-53 * (|a| + |b|)
 * of the exact value for its (c, s); libm's cos/sin for the same argument
 * agree, but allow each of c, s to differ by 2 ulp(1) = 2^-51 (sin(-x)
 * vs -sin(x) style differences), adding 2 * 2^-51 * (|a| + |b|). So
 * |v - w| <= 14 * 2^-53 * (|a| + |b|); rounding to T adds ulp_T(v)/2,
 * bounded by ulp_T(|w|) with room for v, w straddling a binade. An angle
 * error Delta moves the rotated pair by at most |Delta| * ||(a, b)||. */
static void check_outputs(const rcase *c, rc_direction dir, double angle_err)
{
    rc_dtype t = c->spec.dtype;
    int d = c->spec.head_dim, half = c->spec.rotary_dim / 2;
    size_t es = rc_dtype_size(t);
    const int64_t *pos = (const int64_t *)c->pos_buf.data;
    rc_tensor in0 = c->in;
    in0.data = c->in_copy; /* the input before the call (in place: overwritten) */
    for (int64_t k = 0; k < c->out.n_tokens; k++)
        for (int64_t h = 0; h < c->out.n_heads; h++) {
            int64_t ib = k * in0.token_stride + h * in0.head_stride;
            int64_t ob = k * c->out.token_stride + h * c->out.head_stride;
            for (int i = 0; i < half; i++) {
                int ca = c->spec.layout == RC_LAYOUT_INTERLEAVED ? 2 * i : i;
                int cb = c->spec.layout == RC_LAYOUT_INTERLEAVED ? 2 * i + 1 : i + half;
                double a = rc_elem_load(t, in0.data, ib + ca);
                double b = rc_elem_load(t, in0.data, ib + cb);
                double phi = (double)pos[k] * c->theta_hi[i];
                double co = cos(phi), sn = dir == RC_INVERSE ? -sin(phi) : sin(phi);
                double w[2] = {a * co - b * sn, a * sn + b * co};
                double got[2] = {rc_elem_load(t, c->out.data, ob + ca),
                                 rc_elem_load(t, c->out.data, ob + cb)};
                double norm = hypot(a, b);
                for (int j = 0; j < 2; j++) {
                    double tol = ulp_of(t, w[j]) + 14 * 0x1p-53 * (fabs(a) + fabs(b)) +
                                 angle_err * norm;
                    cr_assert(fabs(got[j] - w[j]) <= tol,
                              "%s %s r=%d %s: token %lld head %lld pair %d: got %a want %a "
                              "(tol %a, m=%lld)",
                              rc_dtype_name(t), rc_layout_name(c->spec.layout),
                              c->spec.rotary_dim, rc_direction_name(dir), (long long)k,
                              (long long)h, i, got[j], w[j], tol, (long long)pos[k]);
                }
            }
            if (d > 2 * half)
                cr_assert(memcmp((const unsigned char *)c->out.data + (size_t)(ob + 2 * half) * es,
                                 c->in_copy + (size_t)(ib + 2 * half) * es,
                                 (size_t)(d - 2 * half) * es) == 0,
                          "pass-through channels changed (token %lld head %lld)", (long long)k,
                          (long long)h);
        }
}

/* ---- the baseline is correct -------------------------------------------- */

/* mutant_writes_input is the baseline when called in place. */
Test(mutants, baseline_in_place_all_variants)
{
    seed_rng();
    const rc_impl *impl = load(MUTANT_WRITES_INPUT_PATH);
    for (int t = 0; t < RC_DTYPE_COUNT; t++)
        for (int l = 0; l < RC_LAYOUT_COUNT; l++)
            for (int partial = 0; partial < 2; partial++)
                for (int dir = 0; dir < RC_DIRECTION_COUNT; dir++) {
                    rcase c;
                    int d = MAX_D, r = partial ? 6 : MAX_D;
                    case_init(&c, (rc_dtype)t, (rc_layout)l, d, r, 4, 2, 2 * d + 3, d, 1,
                              100000);
                    rc_call_result res;
                    cr_assert(case_run(&c, impl, (rc_direction)dir, TIMEOUT, &res) == RC_CALL_OK,
                              "%s", res.detail);
                    check_outputs(&c, (rc_direction)dir, 0.0);
                    case_free(&c);
                }
}

/* mutant_unsupported is the baseline for f32: out of place, padded heads. */
Test(mutants, baseline_out_of_place_f32_strided)
{
    seed_rng();
    const rc_impl *impl = load(MUTANT_UNSUPPORTED_PATH);
    rcase c;
    case_init(&c, RC_DTYPE_F32, RC_LAYOUT_INTERLEAVED, MAX_D, 10, 5, 3, 3 * (MAX_D + 2) + 1,
              MAX_D + 2, 0, 1 << 20);
    rc_call_result res;
    cr_assert(case_run(&c, impl, RC_FORWARD, TIMEOUT, &res) == RC_CALL_OK, "%s", res.detail);
    check_outputs(&c, RC_FORWARD, 0.0);
    case_free(&c);
}

/* ---- each mutant fails its own way -------------------------------------- */

Test(mutants, unsupported_skips_all_but_f32)
{
    seed_rng();
    const rc_impl *impl = load(MUTANT_UNSUPPORTED_PATH);
    cr_assert(impl->caps & RC_CAP_F64, "it must claim f64 for prepare() to be the one to refuse");
    for (int t = 0; t < RC_DTYPE_COUNT; t++) {
        rcase c;
        case_init(&c, (rc_dtype)t, RC_LAYOUT_HALF, 8, 8, 2, 1, 8, 8, 0, 100);
        rc_call_result res;
        rc_call_outcome o = case_run(&c, impl, RC_FORWARD, TIMEOUT, &res);
        if (t == RC_DTYPE_F32) {
            cr_assert(o == RC_CALL_OK, "%s", res.detail);
        } else {
            cr_assert(o == RC_CALL_STATUS && res.status == RC_ERR_UNSUPPORTED, "%s", res.detail);
            cr_assert(contains(res.detail, "prepare()"), "%s", res.detail);
        }
        case_free(&c);
    }
}

Test(mutants, crash)
{
    seed_rng();
    rcase c;
    case_init(&c, RC_DTYPE_F32, RC_LAYOUT_HALF, 8, 8, 2, 2, 16, 8, 0, 100);
    rc_call_result res;
    cr_assert(case_run(&c, load(MUTANT_CRASH_PATH), RC_FORWARD, TIMEOUT, &res) == RC_CALL_CRASHED,
              "%s", res.detail);
    cr_assert(res.signal == SIGSEGV && contains(res.detail, "apply()"), "%s", res.detail);
    case_free(&c);
}

Test(mutants, hang)
{
    seed_rng();
    rcase c;
    case_init(&c, RC_DTYPE_F32, RC_LAYOUT_HALF, 8, 8, 2, 2, 16, 8, 0, 100);
    rc_call_result res;
    cr_assert(case_run(&c, load(MUTANT_HANG_PATH), RC_FORWARD, 0.5, &res) == RC_CALL_TIMEOUT, "%s",
              res.detail);
    case_free(&c);
}

Test(mutants, exit_seven)
{
    seed_rng();
    rcase c;
    case_init(&c, RC_DTYPE_F32, RC_LAYOUT_HALF, 8, 8, 2, 2, 16, 8, 0, 100);
    rc_call_result res;
    cr_assert(case_run(&c, load(MUTANT_EXIT_PATH), RC_FORWARD, TIMEOUT, &res) == RC_CALL_EXITED,
              "%s", res.detail);
#ifdef RC_TEST_SANITIZED
    /* LeakSanitizer's exit hook may replace 7 by its own code 23. */
    cr_assert(contains(res.detail, "code 7") || contains(res.detail, "code 23"), "%s", res.detail);
#else
    cr_assert(contains(res.detail, "code 7"), "%s", res.detail);
#endif
    case_free(&c);
}

Test(mutants, oob_past_the_end)
{
    seed_rng();
    const rc_impl *impl = load(MUTANT_OOB_PATH);
    rc_call_result res;
    rcase c;
    /* 2 x 2 x 8 f32 = 128 bytes, a multiple of 64: the store lands on the
     * trailing guard page. */
    case_init(&c, RC_DTYPE_F32, RC_LAYOUT_HALF, 8, 8, 2, 2, 16, 8, 0, 100);
    cr_assert(case_run(&c, impl, RC_FORWARD, TIMEOUT, &res) == RC_CALL_CRASHED, "%s", res.detail);
    cr_assert(res.signal == SIGSEGV && contains(res.detail, "end+0 of the output buffer"), "%s",
              res.detail);
    case_free(&c);
    /* 3 x 1 x 8 f32 = 96 bytes: 32 bytes of canaries above the end. */
    case_init(&c, RC_DTYPE_F32, RC_LAYOUT_HALF, 8, 8, 3, 1, 8, 8, 0, 100);
    cr_assert(case_run(&c, impl, RC_FORWARD, TIMEOUT, &res) == RC_CALL_OUT_OF_BOUNDS, "%s",
              res.detail);
    cr_assert(contains(res.detail, "above the end") && contains(res.detail, "end+0"), "%s",
              res.detail);
    case_free(&c);
}

Test(mutants, oob_stride_gap_and_below)
{
    seed_rng();
    rc_call_result res;
    rcase c;
    case_init(&c, RC_DTYPE_BF16, RC_LAYOUT_HALF, 8, 8, 3, 2, 2 * 10, 10, 0, 100);
    cr_assert(case_run(&c, load(MUTANT_OOB_GAP_PATH), RC_FORWARD, TIMEOUT, &res) ==
                  RC_CALL_OUT_OF_BOUNDS,
              "%s", res.detail);
    cr_assert(contains(res.detail, "stride gap after token 0 head 0"), "%s", res.detail);
    case_free(&c);

    case_init(&c, RC_DTYPE_F64, RC_LAYOUT_HALF, 8, 8, 3, 1, 8, 8, 0, 100);
    cr_assert(case_run(&c, load(MUTANT_OOB_BELOW_PATH), RC_FORWARD, TIMEOUT, &res) ==
                  RC_CALL_OUT_OF_BOUNDS,
              "%s", res.detail);
    cr_assert(contains(res.detail, "below the start") && contains(res.detail, "data-8 .. data-1"),
              "%s", res.detail);
    case_free(&c);
}

Test(mutants, writes_input_out_of_place)
{
    seed_rng();
    rcase c;
    case_init(&c, RC_DTYPE_F16, RC_LAYOUT_INTERLEAVED, 8, 8, 3, 2, 16, 8, 0, 100);
    rc_call_result res;
    cr_assert(case_run(&c, load(MUTANT_WRITES_INPUT_PATH), RC_FORWARD, TIMEOUT, &res) ==
                  RC_CALL_INPUT_MODIFIED,
              "%s", res.detail);
    /* It flips element (n_tokens/2, n_heads-1, 1) = (1, 1, 1). */
    cr_assert(contains(res.detail, "token 1 head 1 channel 1"), "%s", res.detail);
    case_free(&c);
}

/* The float angle: near the truth at small m, a radian off at 2^24 + 1. */
Test(mutants, wrong_angle_in_float)
{
    seed_rng();
    const rc_impl *impl = load(MUTANT_WRONG_PATH);
    rc_call_result res;
    rcase c;
    /* m <= 3: (float)m is exact and theta_i <= 1; fl32(theta) is off by at
     * most 2^-24 theta relative and the f32 product adds 2^-24 relative
     * again, so the angle error is at most about 2^-23 * m * theta <=
     * 3 * 2^-23; 2^-21 leaves room for the second-order terms. */
    case_init(&c, RC_DTYPE_F32, RC_LAYOUT_HALF, MAX_D, MAX_D, 4, 2, 2 * MAX_D, MAX_D, 0, 3);
    cr_assert(case_run(&c, impl, RC_FORWARD, TIMEOUT, &res) == RC_CALL_OK, "%s", res.detail);
    check_outputs(&c, RC_FORWARD, 0x1p-21);
    case_free(&c);

    /* m = 2^24 + 1 rounds to 2^24 in float; theta_0 = 1, so pair 0 turns
     * by 2^24 instead of 2^24 + 1 radians. With input (1, 0) the output
     * is (cos, sin) of the wrong angle, 2 sin(1/2) ~ 0.959 away from the
     * right one (each output rounded to f32: error ~1e-7 on that). */
    case_init(&c, RC_DTYPE_F32, RC_LAYOUT_HALF, MAX_D, MAX_D, 1, 1, MAX_D, MAX_D, 0, 0);
    ((int64_t *)c.pos_buf.data)[0] = (1 << 24) + 1;
    float *x = (float *)c.in.data;
    x[0] = 1.0f;
    x[MAX_D / 2] = 0.0f;
    cr_assert(case_run(&c, impl, RC_FORWARD, TIMEOUT, &res) == RC_CALL_OK, "%s", res.detail);
    const float *y = (const float *)c.out.data;
    double m = (double)((1 << 24) + 1);
    double dist = hypot(y[0] - cos(m), y[MAX_D / 2] - sin(m));
    cr_assert(dist > 0.9, "mutant_wrong is right at 2^24+1 (distance %g)", dist);
    case_free(&c);
}

/* ---- mutants the loader must refuse ------------------------------------- */

Test(mutants, refused_by_the_loader)
{
    void *sym = dlsym(open_module(MUTANT_BAD_ABI_PATH), RC_PLUGIN_SYMBOL);
    cr_assert(sym != NULL);
    rc_plugin_entry_fn entry;
    memcpy(&entry, &sym, sizeof entry);
    cr_assert(entry() != NULL && entry()->abi_version == 99u);

    sym = dlsym(open_module(MUTANT_NULL_IMPL_PATH), RC_PLUGIN_SYMBOL);
    cr_assert(sym != NULL);
    memcpy(&entry, &sym, sizeof entry);
    cr_assert(entry() == NULL);

    void *h = open_module(MUTANT_NO_SYMBOL_PATH);
    cr_assert(dlsym(h, RC_PLUGIN_SYMBOL) == NULL);
    cr_assert(dlsym(h, "ropecheck_plugin") != NULL, "the near-miss symbol should be there");
}

/* ---- a call's outcome to a verdict (rc_verify_call_verdict) ---- */

#include "core/registry.h"
#include "impls/builtins.h"
#include "harness/verify.h"

typedef struct outcome_case {
    rc_call_outcome outcome;
    rc_status status;
    int in_apply;
    const char *detail;
    int judged;         /* 1: the outputs go on to be judged */
    rc_verdict verdict; /* otherwise */
    const char *reason; /* a phrase of res.reason */
    const char *cause;  /* "" when none */
} outcome_case;

/* Every outcome a guarded call can have, with the verdict it must give:
 * a wrong mapping is a wrong verdict on every port that meets it. */
Test(verdicts, every_call_outcome_maps_to_its_verdict)
{
    static const outcome_case cases[] = {
        {RC_CALL_OK, RC_OK, 1, "ok", 1, RC_VERDICT_ERROR, "", ""},
        {RC_CALL_STATUS, RC_ERR_UNSUPPORTED, 0, "prepare() returned unsupported", 0,
         RC_VERDICT_SKIP, "implementation declined", ""},
        {RC_CALL_STATUS, RC_ERR_UNSUPPORTED, 1, "apply() returned unsupported", 0,
         RC_VERDICT_FAIL, "apply() refused a case its caps offer", "apply-refused"},
        {RC_CALL_STATUS, RC_ERR_INTERNAL, 1, "apply() returned internal", 0, RC_VERDICT_BROKEN,
         "apply() returned internal", ""},
        {RC_CALL_CRASHED, RC_OK, 1, "SIGSEGV in apply()", 0, RC_VERDICT_BROKEN, "crashed", ""},
        {RC_CALL_TIMEOUT, RC_OK, 1, "no answer", 0, RC_VERDICT_BROKEN, "timeout", ""},
        {RC_CALL_EXITED, RC_OK, 1, "exited with code 0", 0, RC_VERDICT_BROKEN, "exited", ""},
        {RC_CALL_OUT_OF_BOUNDS, RC_OK, 1, "wrote the stride gap after head 0", 0,
         RC_VERDICT_BROKEN, "out_of_bounds", "ignores-strides"},
        {RC_CALL_OUT_OF_BOUNDS, RC_OK, 1, "output buffer: canary", 0, RC_VERDICT_BROKEN,
         "out_of_bounds", ""},
        {RC_CALL_INPUT_MODIFIED, RC_OK, 1, "changed its input", 0, RC_VERDICT_BROKEN,
         "input_modified", ""},
        {RC_CALL_LATE_WRITE, RC_OK, 1, "wrote after apply() returned", 0, RC_VERDICT_BROKEN,
         "late_write", ""},
        {RC_CALL_HARNESS_ERROR, RC_OK, 1, "fork failed", 0, RC_VERDICT_ERROR, "harness: fork",
         ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const outcome_case *k = &cases[i];
        rc_verify_case c = {0};
        c.stride_pad = 3;
        rc_verify_result res;
        memset(&res, 0, sizeof res);
        res.verdict = RC_VERDICT_ERROR;
        res.call.outcome = k->outcome;
        res.call.status = k->status;
        res.call.status_in_apply = k->in_apply;
        snprintf(res.call.detail, sizeof res.call.detail, "%s", k->detail);
        cr_expect_eq(rc_verify_call_verdict(&c, &res), k->judged, "case %zu: judged", i);
        if (k->judged)
            continue;
        cr_expect_eq(res.verdict, k->verdict, "case %zu (%s): verdict %d, want %d", i,
                     rc_call_outcome_name(k->outcome), (int)res.verdict, (int)k->verdict);
        cr_expect(strstr(res.reason, k->reason) != NULL, "case %zu: reason '%s' lacks '%s'", i,
                  res.reason, k->reason);
        cr_expect_str_eq(res.cause, k->cause, "case %zu: cause", i);
    }
}

/* The harness checks a case before it runs a port: a YaRN table at base 1
 * divides by ln(base) = 0, so the case is an ERROR with that reason (the
 * command line refuses it earlier; the harness must not rely on that). */
Test(verdicts, invalid_scaled_case_is_an_error_not_a_verdict)
{
    rc_scaling sc = {.type = RC_SCALING_YARN, .factor = 4.0, .original_context = 4096,
                     .beta_fast = 32.0, .beta_slow = 1.0, .truncate = 1};
    const int64_t pos[2] = {0, 7};
    rc_verify_case c = {.impl = rc_builtin_find("scalar"), .head_dim = 8, .rotary_dim = 8,
                        .base = 1.0, .layout = RC_LAYOUT_HALF, .dtype = RC_DTYPE_F32,
                        .n_tokens = 2, .n_heads = 1, .positions = pos, .seed = 1,
                        .timeout_s = 10, .scaling = &sc};
    rc_gate gate;
    rc_gate_default(&gate);
    rc_verify_result *res = malloc(sizeof *res);
    cr_assert_not_null(res);
    cr_expect_eq(rc_verify_run(&c, &gate, res), RC_VERDICT_ERROR);
    cr_expect(strstr(res->reason, "invalid case: yarn scaling needs base != 1") != NULL, "%s",
              res->reason);
    free(res);
}

/* Progress is reported after every 16th token and after the last one
 * (harness/verify.h), never per token: 40 tokens give 16, 32, 40. */
typedef struct progress_log {
    int64_t done[64];
    int n;
} progress_log;

static void log_progress(void *ctx, int64_t done, int64_t total)
{
    progress_log *p = ctx;
    cr_assert_eq(total, 40);
    if (p->n < 64)
        p->done[p->n++] = done;
}

Test(verdicts, progress_every_sixteen_tokens_and_at_the_end)
{
    int64_t pos[40];
    for (int i = 0; i < 40; i++)
        pos[i] = i;
    progress_log log = {{0}, 0};
    rc_verify_case c = {.impl = rc_builtin_find("scalar"), .head_dim = 8, .rotary_dim = 8,
                        .base = 10000.0, .layout = RC_LAYOUT_HALF, .dtype = RC_DTYPE_F32,
                        .n_tokens = 40, .n_heads = 1, .positions = pos, .seed = 1,
                        .timeout_s = 10, .progress = log_progress, .progress_ctx = &log};
    rc_gate gate;
    rc_gate_default(&gate);
    rc_verify_result *res = malloc(sizeof *res);
    cr_assert_not_null(res);
    cr_expect_eq(rc_verify_run(&c, &gate, res), RC_VERDICT_PASS);
    cr_assert_eq(log.n, 3, "%d progress calls", log.n);
    cr_expect(log.done[0] == 16 && log.done[1] == 32 && log.done[2] == 40);
    free(res);
}

/* What a case asks of an implementation (rc_verify_case_caps): its dtype
 * and layout, and each of inverse, partial rotary, in place, strides
 * (any pad, even 1) and scaling exactly when the case has it. */
Test(verdicts, case_caps_name_exactly_what_the_case_uses)
{
    rc_scaling lin = {.type = RC_SCALING_LINEAR, .factor = 2.0};
    rc_verify_case c = {.head_dim = 8, .rotary_dim = 8, .base = 10000.0,
                        .layout = RC_LAYOUT_HALF, .dtype = RC_DTYPE_F16};
    cr_expect_eq(rc_verify_case_caps(&c), RC_CAP_F16 | RC_CAP_HALF);
    c.direction = RC_INVERSE;
    c.rotary_dim = 6;
    c.inplace = 1;
    c.stride_pad = 1;
    c.scaling = &lin;
    cr_expect_eq(rc_verify_case_caps(&c), RC_CAP_F16 | RC_CAP_HALF | RC_CAP_INVERSE |
                                              RC_CAP_PARTIAL_ROTARY | RC_CAP_INPLACE |
                                              RC_CAP_STRIDED | RC_CAP_SCALING);
    c.layout = RC_LAYOUT_INTERLEAVED;
    c.dtype = RC_DTYPE_BF16;
    c.stride_pad = 0;
    cr_expect_eq(rc_verify_case_caps(&c) & (RC_CAP_STRIDED | RC_CAP_INTERLEAVED | RC_CAP_BF16),
                 RC_CAP_INTERLEAVED | RC_CAP_BF16);
}

/* Errors by position: bucket b holds positions in [2^(b-1), 2^b) (bucket
 * 0: position 0), every rotated element of the token counted there. */
Test(verdicts, errors_by_position_fall_in_their_binade)
{
    const int64_t pos[6] = {0, 1, 2, 3, 5, 1000};
    rc_verify_case c = {.impl = rc_builtin_find("scalar"), .head_dim = 8, .rotary_dim = 8,
                        .base = 10000.0, .layout = RC_LAYOUT_HALF, .dtype = RC_DTYPE_F32,
                        .n_tokens = 6, .n_heads = 1, .positions = pos, .seed = 1,
                        .timeout_s = 10};
    rc_gate gate;
    rc_gate_default(&gate);
    rc_verify_result *res = malloc(sizeof *res);
    cr_assert_not_null(res);
    cr_expect_eq(rc_verify_run(&c, &gate, res), RC_VERDICT_PASS);
    const int64_t want[RC_POSITION_BUCKETS] = {[0] = 8, [1] = 8, [2] = 16, [3] = 8, [10] = 8};
    for (int b = 0; b < RC_POSITION_BUCKETS; b++)
        cr_expect_eq(res->pair_by_position[b].count, want[b], "bucket %d: %lld elements", b,
                     (long long)res->pair_by_position[b].count);
    free(res);
}

/* "radial-scale" is named when the radial error dominates on at least 90%
 * of the failing pairs (diagnose.c, radial_shape). A port whose first k
 * of 64 pairs are scaled by 1.001 and whose others turn 1e-3 rad further
 * (errors of the same size, one radial, one angular): with every pair
 * failing at every token, the radial share is k/64: 58/64 = 90.6% is
 * radial, 57/64 = 89.1% is not. */
#include "tests/mutants_proofs/mutants_proofs.h"

/* A case of mutant-split-radial: every pair rotated, f32, six positions
 * of which every one fails, two heads. */
static rc_verify_case split_case(int32_t head_dim)
{
    static const int64_t pos[] = {3, 17, 100, 1000, 4095, 65537};
    rc_verify_case c = {.impl = &rc_mutant_split_radial, .head_dim = head_dim,
                        .rotary_dim = head_dim, .base = 10000.0, .layout = RC_LAYOUT_HALF,
                        .dtype = RC_DTYPE_F32, .n_tokens = 6, .n_heads = 2, .positions = pos,
                        .seed = 5, .timeout_s = 30};
    return c;
}

Test(diagnosis, radial_share_boundary)
{
    static const struct { int k; int radial; } cases[] = {{64, 1}, {58, 1}, {57, 0}};
    /* And exactly 90% (72 of 80 pairs, head_dim 160) counts as at least 90%. */
    rc_gate gate;
    rc_gate_default(&gate);
    rc_verify_result *res = malloc(sizeof *res);
    cr_assert_not_null(res);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rc_mutant_split_pair = cases[i].k;
        rc_mutant_scaled_turn = 0.0;
        rc_verify_case c = split_case(128);
        cr_assert_eq(rc_verify_run(&c, &gate, res), RC_VERDICT_FAIL, "k = %d: %s", cases[i].k,
                     res->reason);
        cr_expect_eq(strcmp(res->cause, "radial-scale") == 0, cases[i].radial,
                     "%d of 64 pairs scaled: cause %s (%s)", cases[i].k, res->cause,
                     res->finding);
    }
    rc_mutant_split_pair = 72;
    rc_verify_case c = split_case(160);
    cr_assert_eq(rc_verify_run(&c, &gate, res), RC_VERDICT_FAIL, "%s", res->reason);
    cr_expect_str_eq(res->cause, "radial-scale", "72 of 80 pairs scaled: %s", res->finding);
    free(res);
}

/* A pair counts as radial when its radial error exceeds 4 times its phase
 * error: every pair scaled by 1.001 and turned 1e-3/4.2 rad is radial,
 * turned 1e-3/3.8 rad it is not (the f32 outputs measure both to about
 * 1e-4 of their size). */
Test(diagnosis, radial_to_phase_ratio_boundary)
{
    static const struct { double ratio; int radial; } cases[] = {{4.2, 1}, {3.8, 0}};
    rc_gate gate;
    rc_gate_default(&gate);
    rc_verify_result *res = malloc(sizeof *res);
    cr_assert_not_null(res);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rc_mutant_split_pair = 64;
        rc_mutant_scaled_turn = (RC_MUTANT_RADIAL - 1.0) / cases[i].ratio;
        rc_verify_case c = split_case(128);
        cr_assert_eq(rc_verify_run(&c, &gate, res), RC_VERDICT_FAIL, "%s", res->reason);
        cr_expect_eq(strcmp(res->cause, "radial-scale") == 0, cases[i].radial,
                     "radial:phase %.1f: cause %s (%s)", cases[i].ratio, res->cause,
                     res->finding);
    }
    free(res);
}

/* Positions at or past the gate's range (2^31 by default) are measured and
 * summarized apart (pair_beyond), never mixed into the gated figures: one
 * token below, one above, 12 rotated channels of 16 each, 2 heads. Scalar
 * is correctly rounded in f32: every pair ULP <= 0.5 + 2^-24
 * (tests/test_scalar.c), so both maxima lie in (0, 0.5 + 2^-24]. */
Test(verdicts, positions_beyond_the_gate_are_summarized_apart)
{
    static const int64_t pos[] = {4095, (int64_t)1 << 32};
    rc_verify_case c = {.impl = rc_builtin_find("scalar"), .head_dim = 16, .rotary_dim = 12,
                        .base = 10000.0, .layout = RC_LAYOUT_HALF, .dtype = RC_DTYPE_F32,
                        .n_tokens = 2, .n_heads = 2, .positions = pos, .seed = 3,
                        .timeout_s = 10};
    rc_gate gate;
    rc_gate_default(&gate);
    rc_verify_result *res = malloc(sizeof *res);
    cr_assert_not_null(res);
    cr_assert_eq(rc_verify_run(&c, &gate, res), RC_VERDICT_PASS, "%s", res->reason);
    cr_expect_eq(res->pair.count, 24, "gated elements %lld", (long long)res->pair.count);
    cr_expect_eq(res->pair_beyond.count, 24, "elements beyond %lld",
                 (long long)res->pair_beyond.count);
    const double bound = 0.5 + 0x1p-24;
    cr_expect(res->pair.max > 0 && res->pair.max <= bound, "gated max %g", res->pair.max);
    cr_expect(res->pair_beyond.max > 0 && res->pair_beyond.max <= bound, "beyond max %g",
              res->pair_beyond.max);
    free(res);
}

/* A model is named only when it explains every sampled failing head, and
 * the samples (at most 16, spread evenly) include the first and the last
 * failing head. mutant-stale-row at its stale position is the exact
 * rotation at m-1 ("position-off-by-one") on all 20 heads of the call;
 * with head 0, or head 19, also negated, no model explains that head and
 * the cause must not be named. */
#define NEGATED_HEAD_DIM 64
static int negated_head = -1;

static rc_status negating_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                                const int64_t *positions, rc_direction dir)
{
    const rc_status st = rc_mutant_stale_row.apply(state, in, out, positions, dir);
    for (int64_t t = 0; t < out->n_tokens && st == RC_OK && negated_head >= 0; t++) {
        float *y = (float *)out->data + t * out->token_stride + negated_head * out->head_stride;
        for (int ch = 0; ch < NEGATED_HEAD_DIM; ch++)
            y[ch] = -y[ch];
    }
    return st;
}

Test(diagnosis, a_model_must_explain_the_first_and_last_failing_head)
{
    rc_impl port = rc_mutant_stale_row;
    port.name = "test-stale-row-negated-head";
    port.apply = negating_apply;
    static const int64_t pos[] = {1000};
    rc_mutant_stale_position = 1000;
    rc_gate gate;
    rc_gate_default(&gate);
    rc_verify_result *res = malloc(sizeof *res);
    cr_assert_not_null(res);
    static const int negate[] = {-1, 0, 19};
    for (size_t i = 0; i < sizeof negate / sizeof negate[0]; i++) {
        negated_head = negate[i];
        rc_verify_case c = {.impl = &port, .head_dim = NEGATED_HEAD_DIM,
                            .rotary_dim = NEGATED_HEAD_DIM, .base = 10000.0,
                            .layout = RC_LAYOUT_HALF, .dtype = RC_DTYPE_F32, .n_tokens = 1,
                            .n_heads = 20, .positions = pos, .seed = 7, .timeout_s = 30};
        cr_assert_eq(rc_verify_run(&c, &gate, res), RC_VERDICT_FAIL, "%s", res->reason);
        cr_expect_eq(strcmp(res->cause, "position-off-by-one") == 0, negated_head < 0,
                     "head %d negated: cause %s (%s)", negated_head, res->cause, res->finding);
    }
    negated_head = -1;
    rc_mutant_stale_position = -1;
    free(res);
}

/*
 * tests/test_guarded_call.c - the guarded-call harness: guarded buffers,
 * and every way a call can end (ok, status, crash, hang, exit, write out of
 * bounds, write to the input), each followed by a correct call to show the
 * run goes on.
 *
 * The implementations under test are small rc_impl structs defined here;
 * each misbehaves in one way, some steered by file-scope variables the
 * parent sets before the call (the forked child inherits them).
 *
 * Sanitizer builds (RC_TEST_SANITIZED, set by tests/CMakeLists.txt under
 * ROPECHECK_SANITIZE): the harness replaces the sanitizer's SIGSEGV
 * handler in the child, so a fault still ends in SIGSEGV and the checks
 * are the same. The deliberate NULL accesses below are undefined behaviour
 * that UBSan would catch first (report, then exit code 1), so they are
 * built without UBSan (NO_UBSAN) to test the signal path; one test keeps
 * UBSan on and expects the exit-code-1 classification in that build. And
 * exit() in a child runs LeakSanitizer's exit hook, which may turn code 7
 * into its own code 23 if it cannot scan the forked child's stack.
 */
#define _DEFAULT_SOURCE /* pause(), MAP_* */

#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/guarded_call.h"

#define MAX_HALF 64

/* ---- a correct minimal implementation (f32 only) ------------------------ */

typedef struct tstate {
    int d, r;
    rc_layout layout;
    double theta[MAX_HALF];
} tstate;

static rc_status good_prepare(const rc_spec *spec, void **state)
{
    if (spec->dtype != RC_DTYPE_F32)
        return RC_ERR_UNSUPPORTED;
    if (spec->rotary_dim / 2 > MAX_HALF)
        return RC_ERR_INVALID;
    tstate *s = malloc(sizeof *s);
    if (!s)
        return RC_ERR_NOMEM;
    s->d = spec->head_dim;
    s->r = spec->rotary_dim;
    s->layout = spec->layout;
    for (int i = 0; i < s->r / 2; i++)
        s->theta[i] = spec->theta_hi[i];
    *state = s;
    return RC_OK;
}

static void good_release(void *state)
{
    free(state);
}

/* Deterministic: the parent calls it directly on a private copy to get the
 * bits the child must produce. */
static void rotate_f32(const tstate *s, const rc_tensor *in, const rc_tensor *out,
                       const int64_t *positions, rc_direction dir)
{
    const float *x = in->data;
    float *y = out->data;
    int half = s->r / 2;
    for (int64_t t = 0; t < in->n_tokens; t++)
        for (int64_t h = 0; h < in->n_heads; h++) {
            const float *xi = x + t * in->token_stride + h * in->head_stride;
            float *yo = y + t * out->token_stride + h * out->head_stride;
            for (int i = 0; i < half; i++) {
                int ca = s->layout == RC_LAYOUT_INTERLEAVED ? 2 * i : i;
                int cb = s->layout == RC_LAYOUT_INTERLEAVED ? 2 * i + 1 : i + half;
                double a = xi[ca], b = xi[cb];
                double phi = (double)positions[t] * s->theta[i];
                double c = cos(phi), sn = dir == RC_INVERSE ? -sin(phi) : sin(phi);
                yo[ca] = (float)(a * c - b * sn);
                yo[cb] = (float)(a * sn + b * c);
            }
            for (int c = s->r; c < s->d; c++)
                yo[c] = xi[c];
        }
}

static rc_status good_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                            const int64_t *positions, rc_direction dir)
{
    rotate_f32(state, in, out, positions, dir);
    return RC_OK;
}

#define IMPL(name, avail, prep, app, rel) \
    {RC_ABI_VERSION, name, "test", RC_CAP_F32 | RC_CAP_ALL_LAYOUTS, avail, prep, app, rel, NULL}

static const rc_impl good_impl = IMPL("good", NULL, good_prepare, good_apply, good_release);

/* ---- implementations that misbehave ------------------------------------- */

#if defined(__GNUC__) || defined(__clang__)
#define NO_UBSAN __attribute__((no_sanitize("undefined")))
#else
#define NO_UBSAN
#endif

#ifdef RC_TEST_SANITIZED
#define LSAN_EXIT_CODE 23 /* LeakSanitizer's default exitcode */
#else
#define LSAN_EXIT_CODE 7  /* no sanitizer: only exit()'s own code */
#endif

NO_UBSAN static rc_status crash_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                             const int64_t *positions, rc_direction dir)
{
    /* Volatile pointer: no trap instead of the store; volatile pointee: the
     * store is not deleted as one to "no object". */
    volatile int *volatile p = NULL;
    *p = 42;
    return RC_OK;
}

/* The same NULL store with UBSan left on (in sanitizer builds). */
static rc_status ubsan_crash_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                                   const int64_t *positions, rc_direction dir)
{
    volatile int *volatile p = NULL;
    *p = 42;
    return RC_OK;
}

static rc_status hang_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                            const int64_t *positions, rc_direction dir)
{
    volatile unsigned long spin = 0;
    for (;;)
        spin++; /* burns CPU: SIGKILL must still end it */
    return RC_OK;
}

static rc_status exit_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                            const int64_t *positions, rc_direction dir)
{
    exit(7);
}

static rc_status device_error_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                                    const int64_t *positions, rc_direction dir)
{
    return RC_ERR_DEVICE;
}

static rc_status unsupported_prepare(const rc_spec *spec, void **state)
{
    *state = NULL;
    return RC_ERR_UNSUPPORTED;
}

/* Set by the parent before a call: an extra f32 store of 1.0 at this
 * element index relative to the view's data, in the output (stray_in == 0)
 * or the input (1), after a correct answer. */
static int64_t stray_index;
static int stray_in;

static rc_status stray_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                             const int64_t *positions, rc_direction dir)
{
    rotate_f32(state, in, out, positions, dir);
    float *base = stray_in ? in->data : out->data;
    base[stray_index] = 1.0f;
    return RC_OK;
}

static rc_status stray_status_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                                    const int64_t *positions, rc_direction dir)
{
    stray_apply(state, in, out, positions, dir);
    return RC_ERR_UNSUPPORTED;
}

static rc_status positions_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                                 const int64_t *positions, rc_direction dir)
{
    rotate_f32(state, in, out, positions, dir);
    ((int64_t *)positions)[1] += 1; /* a const-casting bug */
    return RC_OK;
}

static void crash_release(void *state)
{
    free(state);
    raise(SIGBUS);
}

static const rc_impl crash_impl = IMPL("crash", NULL, good_prepare, crash_apply, good_release);
static const rc_impl ubsan_crash_impl =
    IMPL("ubsan_crash", NULL, good_prepare, ubsan_crash_apply, good_release);
static const rc_impl hang_impl = IMPL("hang", NULL, good_prepare, hang_apply, good_release);
static const rc_impl exit_impl = IMPL("exit", NULL, good_prepare, exit_apply, good_release);
static const rc_impl device_impl =
    IMPL("device", NULL, good_prepare, device_error_apply, good_release);
static const rc_impl unsupported_impl =
    IMPL("unsupported", NULL, unsupported_prepare, good_apply, good_release);
static const rc_impl stray_impl = IMPL("stray", NULL, good_prepare, stray_apply, good_release);
static const rc_impl stray_status_impl =
    IMPL("stray_status", NULL, good_prepare, stray_status_apply, good_release);
static const rc_impl positions_impl =
    IMPL("positions", NULL, good_prepare, positions_apply, good_release);
static const rc_impl crash_release_impl =
    IMPL("crash_release", NULL, good_prepare, good_apply, crash_release);

/* ---- fixture ------------------------------------------------------------ */

#define HEAD_DIM 8
#define TIMEOUT 10.0 /* s: generous for a loaded CI machine; calls take ms */

typedef struct fixture {
    rc_spec spec;
    double theta_hi[HEAD_DIM / 2], theta_lo[HEAD_DIM / 2];
    rc_guarded_buf in_buf, out_buf, pos_buf;
    rc_tensor in, out;
    int in_place;
} fixture;

/* The value of input element (t, h, c): distinct, non-zero, exact in f32. */
static float input_value(int64_t t, int64_t h, int64_t c)
{
    return 0.25f + (float)(t * 64 + h * 16 + c) * 0.125f;
}

/* A view of nt x nh heads with the given strides (elements) at the start
 * of a buffer of exactly `elems` elements (at least the view's extent). */
static void fx_init(fixture *f, int64_t nt, int64_t nh, int64_t ts, int64_t hs, size_t elems,
                    int in_place)
{
    memset(f, 0, sizeof *f);
    f->spec.head_dim = HEAD_DIM;
    f->spec.rotary_dim = HEAD_DIM;
    f->spec.base = 10000.0;
    f->spec.layout = RC_LAYOUT_HALF;
    f->spec.dtype = RC_DTYPE_F32;
    for (int i = 0; i < HEAD_DIM / 2; i++) {
        f->theta_hi[i] = pow(10000.0, -2.0 * i / HEAD_DIM);
        f->theta_lo[i] = 0.0;
    }
    f->spec.theta_hi = f->theta_hi;
    f->spec.theta_lo = f->theta_lo;
    f->in_place = in_place;

    cr_assert(rc_guarded_buf_alloc(&f->out_buf, elems * sizeof(float)) == 0);
    if (!in_place)
        cr_assert(rc_guarded_buf_alloc(&f->in_buf, elems * sizeof(float)) == 0);
    cr_assert(rc_guarded_buf_alloc(&f->pos_buf, (size_t)nt * sizeof(int64_t)) == 0);
    rc_guarded_buf *inb = in_place ? &f->out_buf : &f->in_buf;

    f->in = (rc_tensor){inb->data, nt, nh, ts, hs};
    f->out = (rc_tensor){f->out_buf.data, nt, nh, ts, hs};

    /* Gap and view bytes of the output start as a NaN pattern the answer
     * never contains; the input's gaps hold a different one. */
    memset(f->out_buf.data, 0x7F, f->out_buf.len);
    if (!in_place)
        memset(f->in_buf.data, 0x5C, f->in_buf.len);
    float *x = (float *)inb->data;
    for (int64_t t = 0; t < nt; t++)
        for (int64_t h = 0; h < nh; h++)
            for (int64_t c = 0; c < HEAD_DIM; c++)
                x[t * ts + h * hs + c] = input_value(t, h, c);
    int64_t *pos = (int64_t *)f->pos_buf.data;
    for (int64_t t = 0; t < nt; t++)
        pos[t] = 0;
}

static void fx_free(fixture *f)
{
    rc_guarded_buf_free(&f->out_buf);
    if (!f->in_place)
        rc_guarded_buf_free(&f->in_buf);
    rc_guarded_buf_free(&f->pos_buf);
}

static rc_guarded_buf *fx_inbuf(fixture *f)
{
    return f->in_place ? &f->out_buf : &f->in_buf;
}

static rc_call_outcome fx_call(fixture *f, const rc_impl *impl, double timeout,
                               rc_call_result *res)
{
    rc_call_outcome o = rc_guarded_apply(impl, &f->spec, fx_inbuf(f), &f->in, &f->out_buf, &f->out,
                                         &f->pos_buf, RC_FORWARD, timeout, res);
    cr_assert(o == res->outcome);
    cr_log_info("%s: %s: %s", impl->name, rc_call_outcome_name(o), res->detail);
    return o;
}

/* No child is left behind, running or unreaped. */
static void assert_no_children(void)
{
    errno = 0;
    pid_t r = waitpid(-1, NULL, WNOHANG);
    cr_assert(r == -1 && errno == ECHILD, "a child process is left over (waitpid gave %d)",
              (int)r);
}

/* The run goes on: after a failure, a correct call on fresh buffers works
 * and gives the identity at position 0. */
static void assert_next_call_ok(void)
{
    fixture f;
    fx_init(&f, 2, 2, 2 * HEAD_DIM, HEAD_DIM, 4 * HEAD_DIM, 0);
    rc_call_result res;
    cr_assert(fx_call(&f, &good_impl, TIMEOUT, &res) == RC_CALL_OK, "%s", res.detail);
    cr_assert(memcmp(f.out_buf.data, f.in_buf.data, f.out_buf.len) == 0);
    fx_free(&f);
    assert_no_children();
}

static int contains(const char *s, const char *sub)
{
    return strstr(s, sub) != NULL;
}

/* ---- guarded buffers ---------------------------------------------------- */

Test(guarded_buf, layout_alignment_and_canaries)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    const size_t lens[] = {0, 1, 4, 63, 64, 65, 100, 4095, 4096, 4097, 100000};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        rc_guarded_buf b;
        cr_assert(rc_guarded_buf_alloc(&b, lens[i]) == 0, "len %zu", lens[i]);
        uintptr_t data = (uintptr_t)b.data, map = (uintptr_t)b.map;
        uintptr_t trailing_guard = map + b.map_len - page;
        cr_assert(b.len == lens[i]);
        cr_assert(data % 64 == 0, "len %zu: data not 64-byte aligned", lens[i]);
        cr_assert(data >= map + page, "len %zu: data inside the leading guard", lens[i]);
        cr_assert(data + b.len <= trailing_guard, "len %zu: data runs into the guard", lens[i]);
        /* As close to the trailing guard as 64-byte alignment allows. */
        cr_assert(trailing_guard - (data + b.len) < 64, "len %zu: %zu bytes of slack above",
                  lens[i], (size_t)(trailing_guard - (data + b.len)));
        char why[200];
        cr_assert(rc_guarded_buf_canaries_intact(&b, why, sizeof why), "len %zu: %s", lens[i],
                  why);
        /* The data itself is writable end to end. */
        if (b.len)
            memset(b.data, 0, b.len);
        cr_assert(rc_guarded_buf_canaries_intact(&b, why, sizeof why), "len %zu: %s", lens[i],
                  why);
        rc_guarded_buf_free(&b);
        cr_assert(b.map == NULL && b.data == NULL);
    }
}

Test(guarded_buf, canary_damage_is_located)
{
    rc_guarded_buf b;
    cr_assert(rc_guarded_buf_alloc(&b, 100) == 0); /* 28 bytes of slack above */
    char why[300];

    b.data[100] ^= 0x40; /* the first byte past the end */
    cr_assert(!rc_guarded_buf_canaries_intact(&b, why, sizeof why));
    cr_log_info("%s", why);
    cr_assert(contains(why, "above the end") && contains(why, "end+0 .. end+0"), "%s", why);
    b.data[100] ^= 0x40;
    cr_assert(rc_guarded_buf_canaries_intact(&b, why, sizeof why));

    memset(b.data - 4, 0, 4); /* an f32 stored at index -1 */
    cr_assert(!rc_guarded_buf_canaries_intact(&b, why, sizeof why));
    cr_log_info("%s", why);
    cr_assert(contains(why, "below the start") && contains(why, "4 bytes changed") &&
                  contains(why, "data-4 .. data-1"),
              "%s", why);

    b.data[110] = 0; /* both sides: both named */
    cr_assert(!rc_guarded_buf_canaries_intact(&b, why, sizeof why));
    cr_assert(contains(why, "below") && contains(why, "end+10"), "%s", why);
    rc_guarded_buf_free(&b);
}

Test(guarded_buf, child_writes_are_visible)
{
    rc_guarded_buf b;
    cr_assert(rc_guarded_buf_alloc(&b, 5000) == 0);
    memset(b.data, 0, b.len);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        for (size_t i = 0; i < b.len; i++)
            b.data[i] = (unsigned char)(i * 13 + 1);
        _exit(0);
    }
    int st;
    cr_assert(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    for (size_t i = 0; i < b.len; i++)
        cr_assert(b.data[i] == (unsigned char)(i * 13 + 1), "byte %zu not shared", i);
    rc_guarded_buf_free(&b);
}

/* ---- correct calls ------------------------------------------------------ */

Test(guarded_apply, identity_at_position_zero)
{
    fixture f;
    fx_init(&f, 3, 2, 2 * HEAD_DIM, HEAD_DIM, 6 * HEAD_DIM, 0);
    rc_call_result res;
    cr_assert(fx_call(&f, &good_impl, TIMEOUT, &res) == RC_CALL_OK, "%s", res.detail);
    cr_assert(res.status == RC_OK && res.seconds > 0 && res.seconds < TIMEOUT);
    /* At m = 0: a*1 - b*0 = a and a*0 + b*1 = b exactly for the non-zero
     * finite inputs used, so the output is the input bit for bit (and
     * replaced the 0x7F fill, so the child's writes did arrive). */
    cr_assert(memcmp(f.out_buf.data, f.in_buf.data, f.out_buf.len) == 0);
    fx_free(&f);
    assert_no_children();
}

/* Strided output with padded heads and tokens, non-zero positions and the
 * inverse direction: the child's bits equal the same code run here, the
 * gaps are untouched, nothing is reported. */
Test(guarded_apply, strided_matches_direct_call)
{
    const int64_t nt = 5, nh = 3, hs = HEAD_DIM + 3, ts = nh * hs + 5;
    fixture f;
    fx_init(&f, nt, nh, ts, hs, (size_t)(nt * ts), 0);
    int64_t *pos = (int64_t *)f.pos_buf.data;
    for (int64_t t = 0; t < nt; t++)
        pos[t] = 1 + 1000 * t;

    size_t n = f.out_buf.len;
    unsigned char *expect = malloc(n);
    memcpy(expect, f.out_buf.data, n);
    tstate *s;
    cr_assert(good_prepare(&f.spec, (void **)&s) == RC_OK);
    rc_tensor out_copy = f.out;
    out_copy.data = expect;
    rotate_f32(s, &f.in, &out_copy, pos, RC_INVERSE);
    good_release(s);

    rc_call_result res;
    cr_assert(rc_guarded_apply(&good_impl, &f.spec, &f.in_buf, &f.in, &f.out_buf, &f.out,
                               &f.pos_buf, RC_INVERSE, TIMEOUT, &res) == RC_CALL_OK,
              "%s", res.detail);
    cr_assert(memcmp(f.out_buf.data, expect, n) == 0, "child output differs from direct call");
    free(expect);
    fx_free(&f);
}

Test(guarded_apply, in_place_correct_is_not_input_modified)
{
    fixture f;
    fx_init(&f, 4, 2, 2 * HEAD_DIM + 4, HEAD_DIM, 4 * (2 * HEAD_DIM + 4), 1);
    int64_t *pos = (int64_t *)f.pos_buf.data;
    for (int t = 0; t < 4; t++)
        pos[t] = 7 * t + 3;
    rc_call_result res;
    cr_assert(fx_call(&f, &good_impl, TIMEOUT, &res) == RC_CALL_OK, "%s", res.detail);
    /* It did rotate: token 0 at position 3 is not the identity. */
    cr_assert(((float *)f.out_buf.data)[0] != input_value(0, 0, 0));
    fx_free(&f);
}

Test(guarded_apply, empty_view)
{
    fixture f;
    fx_init(&f, 0, 2, 2 * HEAD_DIM, HEAD_DIM, 0, 0);
    rc_call_result res;
    cr_assert(fx_call(&f, &good_impl, TIMEOUT, &res) == RC_CALL_OK, "%s", res.detail);
    fx_free(&f);
}

/* ---- statuses ----------------------------------------------------------- */

Test(guarded_apply, status_from_apply_and_prepare)
{
    fixture f;
    fx_init(&f, 2, 1, HEAD_DIM, HEAD_DIM, 2 * HEAD_DIM, 0);
    rc_call_result res;
    cr_assert(fx_call(&f, &device_impl, TIMEOUT, &res) == RC_CALL_STATUS);
    cr_assert(res.status == RC_ERR_DEVICE);
    cr_assert(contains(res.detail, "apply()") && contains(res.detail, "device error"), "%s",
              res.detail);

    cr_assert(fx_call(&f, &unsupported_impl, TIMEOUT, &res) == RC_CALL_STATUS);
    cr_assert(res.status == RC_ERR_UNSUPPORTED);
    cr_assert(contains(res.detail, "prepare()") && contains(res.detail, "unsupported"), "%s",
              res.detail);
    fx_free(&f);
    assert_next_call_ok();
}

/* ---- crashes, hangs, exits ---------------------------------------------- */

Test(guarded_apply, crash_is_reported_and_run_goes_on)
{
    fixture f;
    fx_init(&f, 2, 1, HEAD_DIM, HEAD_DIM, 2 * HEAD_DIM, 0);
    rc_call_result res;
    cr_assert(fx_call(&f, &crash_impl, TIMEOUT, &res) == RC_CALL_CRASHED, "%s", res.detail);
    cr_assert(res.signal == SIGSEGV);
    cr_assert(contains(res.detail, "SIGSEGV") && contains(res.detail, "apply()") &&
                  contains(res.detail, "near NULL") && contains(res.detail, "NULL pointer dereference"),
              "%s", res.detail);
    fx_free(&f);
    assert_next_call_ok();
}

/* A sanitizer that sees the bad store first reports it and exits with
 * code 1: EXITED, with a pointer to its report. Without sanitizers (or when
 * the sanitizer does not check this store) the same code dies of SIGSEGV. */
Test(guarded_apply, sanitizer_report_or_crash)
{
    fixture f;
    fx_init(&f, 2, 1, HEAD_DIM, HEAD_DIM, 2 * HEAD_DIM, 0);
    rc_call_result res;
    rc_call_outcome o = fx_call(&f, &ubsan_crash_impl, TIMEOUT, &res);
#ifdef RC_TEST_SANITIZED
    /* GCC's UBSan checks this volatile store and reports it; clang's does
     * not check volatile accesses, so there the store faults as usual. */
    if (o == RC_CALL_EXITED)
        cr_assert(contains(res.detail, "code 1") && contains(res.detail, "sanitizer"), "%s",
                  res.detail);
    else
        cr_assert(o == RC_CALL_CRASHED && res.signal == SIGSEGV, "%s", res.detail);
#else
    cr_assert(o == RC_CALL_CRASHED && res.signal == SIGSEGV, "%s", res.detail);
#endif
    fx_free(&f);
    assert_next_call_ok();
}

Test(guarded_apply, crash_in_release)
{
    fixture f;
    fx_init(&f, 2, 1, HEAD_DIM, HEAD_DIM, 2 * HEAD_DIM, 0);
    rc_call_result res;
    cr_assert(fx_call(&f, &crash_release_impl, TIMEOUT, &res) == RC_CALL_CRASHED, "%s",
              res.detail);
    cr_assert(res.signal == SIGBUS);
    cr_assert(contains(res.detail, "SIGBUS") && contains(res.detail, "release()"), "%s",
              res.detail);
    fx_free(&f);
    assert_next_call_ok();
}

Test(guarded_apply, hang_is_killed_at_the_limit)
{
    fixture f;
    fx_init(&f, 2, 1, HEAD_DIM, HEAD_DIM, 2 * HEAD_DIM, 0);
    rc_call_result res;
    cr_assert(fx_call(&f, &hang_impl, 0.5, &res) == RC_CALL_TIMEOUT, "%s", res.detail);
    /* Killed no earlier than the limit; the upper bound only says it was
     * not left running (the last poll sleep is at most 10 ms; the rest is
     * slack for a loaded machine). */
    cr_assert(res.seconds >= 0.5 && res.seconds < 3.0, "took %g s", res.seconds);
    cr_assert(contains(res.detail, "no answer in 0.5 s") && contains(res.detail, "apply()"),
              "%s", res.detail);
    fx_free(&f);
    assert_next_call_ok();
}

Test(guarded_apply, exit_in_apply)
{
    fixture f;
    fx_init(&f, 2, 1, HEAD_DIM, HEAD_DIM, 2 * HEAD_DIM, 0);
    rc_call_result res;
    cr_assert(fx_call(&f, &exit_impl, TIMEOUT, &res) == RC_CALL_EXITED, "%s", res.detail);
    char lsan[32];
    snprintf(lsan, sizeof lsan, "code %d", LSAN_EXIT_CODE);
    cr_assert((contains(res.detail, "code 7") || contains(res.detail, lsan)) &&
                  contains(res.detail, "apply()"),
              "%s", res.detail);
    fx_free(&f);
    assert_next_call_ok();
}

/* ---- writes out of bounds ----------------------------------------------- */

/* 2 tokens x 1 head x 8 f32 = 64 bytes: data ends exactly at the trailing
 * guard page, so the store one past the end faults. */
Test(guarded_apply, past_the_end_hits_guard_page)
{
    fixture f;
    fx_init(&f, 2, 1, HEAD_DIM, HEAD_DIM, 2 * HEAD_DIM, 0);
    stray_in = 0;
    stray_index = 2 * HEAD_DIM;
    rc_call_result res;
    cr_assert(fx_call(&f, &stray_impl, TIMEOUT, &res) == RC_CALL_CRASHED, "%s", res.detail);
    cr_assert(res.signal == SIGSEGV);
    cr_assert(contains(res.detail, "end+0 of the output buffer") &&
                  contains(res.detail, "guard page") && contains(res.detail, "out-of-bounds"),
              "%s", res.detail);
    fx_free(&f);
    assert_next_call_ok();
}

/* 3 tokens x 1 head x 8 f32 = 96 bytes: 32 bytes of canaries above. */
Test(guarded_apply, past_the_end_hits_canary)
{
    fixture f;
    fx_init(&f, 3, 1, HEAD_DIM, HEAD_DIM, 3 * HEAD_DIM, 0);
    stray_in = 0;
    stray_index = 3 * HEAD_DIM;
    rc_call_result res;
    cr_assert(fx_call(&f, &stray_impl, TIMEOUT, &res) == RC_CALL_OUT_OF_BOUNDS, "%s",
              res.detail);
    cr_assert(contains(res.detail, "output buffer") && contains(res.detail, "above the end") &&
                  contains(res.detail, "end+0"),
              "%s", res.detail);
    fx_free(&f);
    assert_next_call_ok();
}

Test(guarded_apply, below_the_start_hits_canary)
{
    fixture f;
    fx_init(&f, 3, 1, HEAD_DIM, HEAD_DIM, 3 * HEAD_DIM, 0);
    stray_in = 0;
    stray_index = -1;
    rc_call_result res;
    cr_assert(fx_call(&f, &stray_impl, TIMEOUT, &res) == RC_CALL_OUT_OF_BOUNDS, "%s",
              res.detail);
    cr_assert(contains(res.detail, "below the start") && contains(res.detail, "data-4 .. data-1"),
              "%s", res.detail);
    fx_free(&f);
    assert_next_call_ok();
}

Test(guarded_apply, stride_gaps)
{
    /* heads padded by 2, tokens by 3 more: gaps after every head, and a
     * larger one after each token's last head. */
    const int64_t nt = 4, nh = 2, hs = HEAD_DIM + 2, ts = nh * hs + 3;
    fixture f;
    fx_init(&f, nt, nh, ts, hs, (size_t)(nt * ts), 0);
    rc_call_result res;

    stray_in = 0;
    stray_index = 3 * ts + 1 * hs + HEAD_DIM + 1; /* second gap slot after t3 h1 */
    cr_assert(fx_call(&f, &stray_impl, TIMEOUT, &res) == RC_CALL_OUT_OF_BOUNDS, "%s",
              res.detail);
    char want[100];
    snprintf(want, sizeof want, "byte offset %lld", (long long)(stray_index * 4));
    cr_assert(contains(res.detail, "stride gap after token 3 head 1") && contains(res.detail, want),
              "%s", res.detail);

    /* The gap between heads, reported even with a non-OK status. */
    fx_free(&f);
    fx_init(&f, nt, nh, ts, hs, (size_t)(nt * ts), 0);
    stray_index = 1 * ts + 0 * hs + HEAD_DIM;
    cr_assert(fx_call(&f, &stray_status_impl, TIMEOUT, &res) == RC_CALL_OUT_OF_BOUNDS, "%s",
              res.detail);
    cr_assert(res.status == RC_ERR_UNSUPPORTED);
    cr_assert(contains(res.detail, "stride gap after token 1 head 0"), "%s", res.detail);
    fx_free(&f);
    assert_next_call_ok();
}

/* Head-major strides (heads further apart than tokens): the element rows
 * are not in address order, and the gaps are still found and named. */
Test(guarded_apply, head_major_strides)
{
    const int64_t nt = 3, nh = 2, ts = HEAD_DIM + 1, hs = 3 * ts + 2;
    const size_t elems = (size_t)((nt - 1) * ts + (nh - 1) * hs + HEAD_DIM);
    fixture f;
    fx_init(&f, nt, nh, ts, hs, elems, 0);
    rc_call_result res;
    cr_assert(fx_call(&f, &good_impl, TIMEOUT, &res) == RC_CALL_OK, "%s", res.detail);
    fx_free(&f);

    fx_init(&f, nt, nh, ts, hs, elems, 0);
    stray_in = 0;
    stray_index = 2 * ts + HEAD_DIM + 1; /* between token 2 head 0 and token 0 head 1 */
    cr_assert(fx_call(&f, &stray_impl, TIMEOUT, &res) == RC_CALL_OUT_OF_BOUNDS, "%s",
              res.detail);
    cr_assert(contains(res.detail, "stride gap after token 2 head 0"), "%s", res.detail);
    fx_free(&f);
}

/* A stride gap of an in-place call is the caller's too. */
Test(guarded_apply, stride_gap_in_place)
{
    const int64_t nt = 2, nh = 2, hs = HEAD_DIM + 1, ts = nh * hs;
    fixture f;
    fx_init(&f, nt, nh, ts, hs, (size_t)(nt * ts), 1);
    stray_in = 0;
    stray_index = 0 * ts + 1 * hs + HEAD_DIM; /* after t0 h1 */
    rc_call_result res;
    cr_assert(fx_call(&f, &stray_impl, TIMEOUT, &res) == RC_CALL_OUT_OF_BOUNDS, "%s",
              res.detail);
    cr_assert(contains(res.detail, "stride gap after token 0 head 1"), "%s", res.detail);
    fx_free(&f);
}

Test(guarded_apply, input_modified_out_of_place)
{
    fixture f;
    fx_init(&f, 3, 2, 2 * HEAD_DIM, HEAD_DIM, 6 * HEAD_DIM, 0);
    stray_in = 1;
    stray_index = 2 * (2 * HEAD_DIM) + 1 * HEAD_DIM + 5; /* token 2 head 1 channel 5 */
    rc_call_result res;
    cr_assert(fx_call(&f, &stray_impl, TIMEOUT, &res) == RC_CALL_INPUT_MODIFIED, "%s",
              res.detail);
    cr_assert(contains(res.detail, "token 2 head 1 channel 5"), "%s", res.detail);
    fx_free(&f);
    assert_next_call_ok();
}

Test(guarded_apply, positions_modified)
{
    fixture f;
    fx_init(&f, 3, 1, HEAD_DIM, HEAD_DIM, 3 * HEAD_DIM, 0);
    rc_call_result res;
    cr_assert(fx_call(&f, &positions_impl, TIMEOUT, &res) == RC_CALL_INPUT_MODIFIED, "%s",
              res.detail);
    cr_assert(contains(res.detail, "positions[1]"), "%s", res.detail);
    fx_free(&f);
}

/* ---- the caller's mistakes ---------------------------------------------- */

Test(guarded_apply, bad_views_are_harness_errors)
{
    fixture f;
    fx_init(&f, 2, 1, HEAD_DIM, HEAD_DIM, 2 * HEAD_DIM, 0);
    rc_call_result res;

    rc_tensor saved = f.out;
    f.out.token_stride = INT64_MAX / 2; /* extent overflows int64 */
    cr_assert(fx_call(&f, &good_impl, TIMEOUT, &res) == RC_CALL_HARNESS_ERROR);
    cr_assert(contains(res.detail, "overflow"), "%s", res.detail);

    f.out = saved;
    f.out.n_tokens = 3; /* shapes differ, and beyond the buffer */
    f.in.n_tokens = 3;
    cr_assert(fx_call(&f, &good_impl, TIMEOUT, &res) == RC_CALL_HARNESS_ERROR);
    f.in.n_tokens = 2;

    f.out = saved;
    f.out.data = f.out_buf.data + 4; /* one element in: the view no longer fits */
    cr_assert(fx_call(&f, &good_impl, TIMEOUT, &res) == RC_CALL_HARNESS_ERROR);
    cr_assert(contains(res.detail, "output view"), "%s", res.detail);

    f.out = saved;
    f.out.head_stride = -1;
    cr_assert(fx_call(&f, &good_impl, TIMEOUT, &res) == RC_CALL_HARNESS_ERROR);
    f.out = saved;
    cr_assert(fx_call(&f, &good_impl, TIMEOUT, &res) == RC_CALL_OK, "%s", res.detail);
    fx_free(&f);
    assert_no_children();
}

/* ---- available() -------------------------------------------------------- */

static int avail_no(char *why, size_t n)
{
    snprintf(why, n, "no gizmo here");
    return 0;
}

static int avail_yes(char *why, size_t n)
{
    return 1;
}

static int avail_silent_no(char *why, size_t n)
{
    return 0;
}

static int avail_unterminated(char *why, size_t n)
{
    memset(why, 'x', n); /* no NUL anywhere */
    return 0;
}

NO_UBSAN static int avail_crash(char *why, size_t n)
{
    volatile int *volatile p = NULL;
    return *p;
}

static int avail_hang(char *why, size_t n)
{
    for (;;)
        pause();
    return 1;
}

Test(guarded_available, answers_and_failures)
{
    struct {
        const char *name;
        int (*fn)(char *, size_t);
        int want;
        rc_call_outcome outcome;
        const char *why;
    } cases[] = {
        {"null", NULL, 1, RC_CALL_OK, ""},
        {"yes", avail_yes, 1, RC_CALL_OK, ""},
        {"no", avail_no, 0, RC_CALL_OK, "no gizmo here"},
        {"silent", avail_silent_no, 0, RC_CALL_OK, "without a reason"},
        {"unterminated", avail_unterminated, 0, RC_CALL_OK, "xxxxxxx"},
        {"crash", avail_crash, 0, RC_CALL_CRASHED, "available() crashed: SIGSEGV"},
        {"hang", avail_hang, 0, RC_CALL_TIMEOUT, "available() did not answer in 0.5 s"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rc_impl impl = good_impl;
        impl.name = cases[i].name;
        impl.available = cases[i].fn;
        char why[200];
        rc_call_result res;
        int got = rc_guarded_available(&impl, 0.5, why, sizeof why, &res);
        cr_log_info("available %s: %d, '%s' (%s)", cases[i].name, got, why, res.detail);
        cr_assert(got == cases[i].want, "%s: got %d", cases[i].name, got);
        cr_assert(res.outcome == cases[i].outcome, "%s: outcome %s", cases[i].name,
                  rc_call_outcome_name(res.outcome));
        cr_assert(memchr(why, '\0', sizeof why) != NULL, "%s: why not terminated", cases[i].name);
        cr_assert(contains(why, cases[i].why), "%s: why '%s'", cases[i].name, why);
        if (cases[i].want == 0)
            cr_assert(why[0] != '\0', "%s: no reason given", cases[i].name);
    }

    /* A short buffer: the reason is cut (the cut marked "..."), still
     * terminated, and nothing is written past it (the byte after stays as
     * it was). */
    rc_impl impl = good_impl;
    impl.available = avail_unterminated;
    char small[9];
    small[8] = 'Q';
    cr_assert(rc_guarded_available(&impl, TIMEOUT, small, 8, NULL) == 0);
    cr_assert_str_eq(small, "xxxx...");
    cr_assert(small[8] == 'Q');
    assert_next_call_ok();
}

Test(guarded_call, outcome_names)
{
    cr_assert_str_eq(rc_call_outcome_name(RC_CALL_OK), "ok");
    cr_assert_str_eq(rc_call_outcome_name(RC_CALL_OUT_OF_BOUNDS), "out_of_bounds");
    cr_assert_str_eq(rc_call_outcome_name(RC_CALL_HARNESS_ERROR), "harness_error");
    cr_assert_str_eq(rc_call_outcome_name(RC_CALL_HISTORY), "history");
    cr_assert_str_eq(rc_call_outcome_name((rc_call_outcome)99), "unknown");
}

/* ---- the history check (rc_guarded_apply_history) ----------------------- */

/* A port whose state remembers its calls: how many, and the positions and
 * direction of the first and the previous one (up to HIST_TOKENS tokens).
 * Each misbehaving port below uses that memory in one wrong way. */
#define HIST_TOKENS 16

typedef struct hstate {
    tstate t;
    int calls;
    int64_t first_pos[HIST_TOKENS], prev_pos[HIST_TOKENS];
    rc_direction first_dir, prev_dir;
} hstate;

static rc_status hist_prepare(const rc_spec *spec, void **state)
{
    hstate *h = calloc(1, sizeof *h);
    if (!h)
        return RC_ERR_NOMEM;
    void *t = NULL;
    rc_status st = good_prepare(spec, &t);
    if (st != RC_OK) {
        free(h);
        return st;
    }
    h->t = *(tstate *)t;
    good_release(t);
    *state = h;
    return RC_OK;
}

/* Rotates as good_apply, then remembers the call. */
static rc_status hist_rotate(hstate *h, const rc_tensor *in, const rc_tensor *out,
                             const int64_t *positions, rc_direction dir)
{
    if (in->n_tokens > HIST_TOKENS)
        return RC_ERR_UNSUPPORTED;
    const size_t bytes = (size_t)in->n_tokens * sizeof *positions;
    rotate_f32(&h->t, in, out, positions, dir);
    if (h->calls++ == 0) {
        memcpy(h->first_pos, positions, bytes);
        h->first_dir = dir;
    }
    memcpy(h->prev_pos, positions, bytes);
    h->prev_dir = dir;
    return RC_OK;
}

/* Keeps its first call's angles for ever: rotates every later call by the
 * first call's positions and direction. */
static rc_status never_renewed_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                                     const int64_t *positions, rc_direction dir)
{
    hstate *h = state;
    if (h->calls > 0)
        return hist_rotate(h, in, out, h->first_pos, h->first_dir);
    return hist_rotate(h, in, out, positions, dir);
}

/* Right whenever the positions change; a call that repeats the previous
 * one's positions and direction moves output element 0 by one ulp (a
 * "kept rows" path that rounds differently). */
static rc_status drift_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                             const int64_t *positions, rc_direction dir)
{
    hstate *h = state;
    const int repeat = h->calls > 0 && h->prev_dir == dir &&
                       memcmp(h->prev_pos, positions, (size_t)in->n_tokens * sizeof *positions) == 0;
    rc_status st = hist_rotate(h, in, out, positions, dir);
    if (st == RC_OK && repeat) {
        float *y = out->data;
        y[0] = nextafterf(y[0], INFINITY);
    }
    return st;
}

/* Output element 0 is +0 on a state's first call and -0 on its later
 * ones: equal values, different bytes. */
static rc_status zero_sign_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                                 const int64_t *positions, rc_direction dir)
{
    hstate *h = state;
    const int later = h->calls > 0;
    rc_status st = hist_rotate(h, in, out, positions, dir);
    ((float *)out->data)[0] = later ? -0.0f : 0.0f;
    return st;
}

/* Moves token 1's position (its input) on a state's third call. */
static rc_status moves_positions_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                                       const int64_t *positions, rc_direction dir)
{
    hstate *h = state;
    rc_status st = hist_rotate(h, in, out, positions, dir);
    if (h->calls == 3)
        ((int64_t *)positions)[1] += 2;
    return st;
}

/* Writes the first byte of the gap after token 0's head 0 on every call
 * but a state's first. */
static rc_status late_gap_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                                const int64_t *positions, rc_direction dir)
{
    hstate *h = state;
    const int later = h->calls > 0;
    rc_status st = hist_rotate(h, in, out, positions, dir);
    if (later)
        ((float *)out->data)[h->t.d] = 1.0f;
    return st;
}

/* A device error on a state's second call. */
static rc_status second_call_fails_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                                         const int64_t *positions, rc_direction dir)
{
    hstate *h = state;
    if (h->calls == 1)
        return RC_ERR_DEVICE;
    return hist_rotate(h, in, out, positions, dir);
}

/* Reuses the previous call's angles when the positions repeat, whatever
 * the direction: a key without the direction. */
static rc_status keyed_without_direction_apply(void *state, const rc_tensor *in,
                                               const rc_tensor *out, const int64_t *positions,
                                               rc_direction dir)
{
    hstate *h = state;
    const int same = h->calls > 0 &&
                     memcmp(h->prev_pos, positions, (size_t)in->n_tokens * sizeof *positions) == 0;
    return hist_rotate(h, in, out, positions, same ? h->prev_dir : dir);
}

/* Offers no inverse (its caps say so) and refuses one. */
static rc_status refuses_inverse_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                                       const int64_t *positions, rc_direction dir)
{
    if (dir == RC_INVERSE)
        return RC_ERR_UNSUPPORTED;
    return hist_rotate(state, in, out, positions, dir);
}

/* Ends its process on the call of a fresh state at the fixture's own
 * positions (token 1 at 10; the history's first call has it at 11), or on
 * a state's second call: where the harness says it died. */
static rc_status exits_fresh_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                                   const int64_t *positions, rc_direction dir)
{
    hstate *h = state;
    if (h->calls == 0 && positions[1] == 10)
        _exit(9);
    return hist_rotate(h, in, out, positions, dir);
}

static rc_status exits_second_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                                    const int64_t *positions, rc_direction dir)
{
    hstate *h = state;
    if (h->calls == 1)
        _exit(9);
    return hist_rotate(h, in, out, positions, dir);
}

/* prepare() and release() counted in memory the child shares with us. */
static volatile int *g_hist_counts; /* [0] prepares, [1] releases */

static rc_status counted_prepare(const rc_spec *spec, void **state)
{
    rc_status st = hist_prepare(spec, state);
    if (st == RC_OK)
        g_hist_counts[0]++;
    return st;
}

static void counted_release(void *state)
{
    g_hist_counts[1]++;
    free(state);
}

#define HIST_IMPL(name, app)                                                                  \
    {RC_ABI_VERSION, name, "test", RC_CAP_F32 | RC_CAP_ALL_LAYOUTS | RC_CAP_INVERSE |         \
                                       RC_CAP_INPLACE | RC_CAP_STRIDED,                       \
     NULL, hist_prepare, app, free, NULL}

/* hist_rotate alone: correct, whatever came before. */
static rc_status good_apply_hist(void *state, const rc_tensor *in, const rc_tensor *out,
                                 const int64_t *positions, rc_direction dir)
{
    return hist_rotate(state, in, out, positions, dir);
}

static const rc_impl hist_good_impl = HIST_IMPL("hist_good", good_apply_hist);
static const rc_impl never_renewed_impl = HIST_IMPL("never_renewed", never_renewed_apply);
static const rc_impl drift_impl = HIST_IMPL("drift", drift_apply);
static const rc_impl late_gap_impl = HIST_IMPL("late_gap", late_gap_apply);
static const rc_impl zero_sign_impl = HIST_IMPL("zero_sign", zero_sign_apply);
static const rc_impl moves_positions_impl = HIST_IMPL("moves_positions", moves_positions_apply);
static const rc_impl keyed_without_direction_no_cap_impl = {
    RC_ABI_VERSION, "keyed_without_direction", "test", RC_CAP_F32 | RC_CAP_ALL_LAYOUTS,
    NULL, hist_prepare, keyed_without_direction_apply, free, NULL};
static const rc_impl refuses_inverse_impl = {
    RC_ABI_VERSION, "refuses_inverse", "test", RC_CAP_F32 | RC_CAP_ALL_LAYOUTS,
    NULL, hist_prepare, refuses_inverse_apply, free, NULL};
static const rc_impl exits_fresh_impl = HIST_IMPL("exits_fresh", exits_fresh_apply);
static const rc_impl exits_second_impl = HIST_IMPL("exits_second", exits_second_apply);
static const rc_impl counted_impl = {
    RC_ABI_VERSION, "counted", "test", RC_CAP_F32 | RC_CAP_ALL_LAYOUTS | RC_CAP_INVERSE,
    NULL, counted_prepare, good_apply_hist, counted_release, NULL};
static const rc_impl second_call_fails_impl =
    HIST_IMPL("second_call_fails", second_call_fails_apply);

/* A strided, optionally in-place fixture at positions 3, 10, 17, ...: the
 * history's call 1 moves tokens 1.. to 10^1, 17^1, ... */
static void hist_fixture(fixture *f, int in_place)
{
    const int64_t nt = 4, nh = 2, hs = HEAD_DIM + 3, ts = nh * hs + 5;
    fx_init(f, nt, nh, ts, hs, (size_t)(nt * ts), in_place);
    int64_t *pos = (int64_t *)f->pos_buf.data;
    for (int64_t t = 0; t < nt; t++)
        pos[t] = 7 * t + 3;
}

static rc_call_outcome hist_call(fixture *f, const rc_impl *impl, rc_direction dir,
                                 rc_call_result *res)
{
    rc_call_outcome o =
        rc_guarded_apply_history(impl, &f->spec, fx_inbuf(f), &f->in, &f->out_buf, &f->out,
                                 &f->pos_buf, dir, TIMEOUT, res);
    cr_assert(o == res->outcome);
    cr_log_info("%s: %s: %s", impl->name, rc_call_outcome_name(o), res->detail);
    return o;
}

/* A correct port: nothing reported, and the buffers end as one call on a
 * fresh state leaves them (the views and positions were put back before
 * it: in place, it rotated the caller's input, not an earlier call's
 * output), gaps and positions untouched. Both directions, both kinds. */
Test(guarded_history, correct_port_ends_as_one_fresh_call)
{
    for (int in_place = 0; in_place <= 1; in_place++)
        for (int d = 0; d <= 1; d++) {
            const rc_direction dir = d ? RC_INVERSE : RC_FORWARD;
            fixture f, g;
            hist_fixture(&f, in_place);
            hist_fixture(&g, in_place);
            rc_call_result res;
            cr_assert(hist_call(&f, &hist_good_impl, dir, &res) == RC_CALL_OK, "%s", res.detail);
            cr_assert(rc_guarded_apply(&good_impl, &g.spec, fx_inbuf(&g), &g.in, &g.out_buf,
                                       &g.out, &g.pos_buf, dir, TIMEOUT, &res) == RC_CALL_OK,
                      "%s", res.detail);
            cr_assert(memcmp(f.out_buf.data, g.out_buf.data, f.out_buf.len) == 0,
                      "in place %d, %s: the buffer differs from one fresh call's", in_place,
                      d ? "inverse" : "forward");
            cr_assert(memcmp(f.pos_buf.data, g.pos_buf.data, f.pos_buf.len) == 0);
            fx_free(&f);
            fx_free(&g);
        }
    assert_no_children();
}

/* One history-checked call on a fresh fixture (in place or not) must end
 * in `want`, its detail containing `phrase`; the detail is returned in
 * res for further checks. */
static void expect_history(const rc_impl *impl, int in_place, rc_direction dir,
                           rc_call_outcome want, const char *phrase, rc_call_result *res)
{
    fixture f;
    hist_fixture(&f, in_place);
    cr_assert(hist_call(&f, impl, dir, res) == want, "%s: %s: %s", impl->name,
              rc_call_outcome_name(res->outcome), res->detail);
    cr_assert(contains(res->detail, phrase), "%s: no '%s' in: %s", impl->name, phrase,
              res->detail);
    fx_free(&f);
}

/* Angles kept from a state's first call: right on a fresh state, so one
 * guarded call passes it; the history check names the first token whose
 * position call 1 moved, and both values. */
Test(guarded_history, rows_never_renewed_are_found)
{
    fixture f;
    hist_fixture(&f, 0);
    rc_call_result res;
    cr_assert(fx_call(&f, &never_renewed_impl, TIMEOUT, &res) == RC_CALL_OK, "%s", res.detail);
    fx_free(&f);
    expect_history(&never_renewed_impl, 0, RC_FORWARD, RC_CALL_HISTORY,
                   "token 1 head 0 channel 0 is ", &res);
    cr_assert(contains(res.detail, "after the state's calls at other positions"), "%s",
              res.detail);
    assert_next_call_ok();
}

/* Different bytes only when a call repeats the previous one: call 4. */
Test(guarded_history, a_repeat_that_differs_is_found)
{
    rc_call_result res;
    expect_history(&drift_impl, 1, RC_INVERSE, RC_CALL_HISTORY, "token 0 head 0 channel 0 is ",
                   &res);
    cr_assert(contains(res.detail, "when the state repeats its previous call (1 element differs)"),
              "%s", res.detail);
}

/* Bytes, not values: a signed zero that depends on the state's calls is
 * found, and said to be one. */
Test(guarded_history, a_zero_whose_sign_changes_is_found)
{
    rc_call_result res;
    expect_history(&zero_sign_impl, 0, RC_FORWARD, RC_CALL_HISTORY,
                   "token 0 head 0 channel 0 is 0 on a fresh state but -0 (the bytes differ: a "
                   "signed zero or a NaN's payload)",
                   &res);
}

/* The views are put back element by element, not gaps and all: a gap
 * written only by a state's later calls is still out of bounds. */
Test(guarded_history, gap_written_by_later_calls_is_out_of_bounds)
{
    rc_call_result res;
    expect_history(&late_gap_impl, 0, RC_FORWARD, RC_CALL_OUT_OF_BOUNDS,
                   "stride gap after token 0 head 0", &res);
}

/* The positions are put back between calls, but not over a port's own
 * write to them: that stays for the audit. */
Test(guarded_history, positions_written_by_a_later_call_are_input_modified)
{
    rc_call_result res;
    expect_history(&moves_positions_impl, 0, RC_FORWARD, RC_CALL_INPUT_MODIFIED,
                   "changed positions[1]", &res);
}

/* Call 2 runs in the other direction whenever that direction is offered:
 * an inverse case always (forward is every port's), a forward case only
 * with RC_CAP_INVERSE. A port without it is never asked for an inverse. */
Test(guarded_history, the_other_direction_only_where_offered)
{
    rc_call_result res;
    expect_history(&refuses_inverse_impl, 0, RC_FORWARD, RC_CALL_OK, "ok", &res);
    expect_history(&keyed_without_direction_no_cap_impl, 0, RC_INVERSE, RC_CALL_HISTORY,
                   "in the other direction", &res);
}

/* Where a process died: in the second state's call, named; in the fresh
 * state's call, as without the check. */
Test(guarded_history, an_exit_is_placed_in_its_call)
{
    rc_call_result res;
    expect_history(&exits_second_impl, 0, RC_FORWARD, RC_CALL_EXITED,
                   "during apply() (call 2 of a second state, the history check) without "
                   "reporting",
                   &res);
    expect_history(&exits_fresh_impl, 0, RC_FORWARD, RC_CALL_EXITED,
                   "during apply() without reporting", &res);
    assert_next_call_ok();
}

/* Both states are released, each once. */
Test(guarded_history, every_state_is_released)
{
    void *m = mmap(NULL, 2 * sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                   -1, 0);
    cr_assert(m != MAP_FAILED);
    g_hist_counts = m;
    fixture f;
    hist_fixture(&f, 1);
    rc_call_result res;
    cr_assert(hist_call(&f, &counted_impl, RC_FORWARD, &res) == RC_CALL_OK, "%s", res.detail);
    cr_assert(g_hist_counts[0] == 2 && g_hist_counts[1] == 2, "%d prepares, %d releases",
              g_hist_counts[0], g_hist_counts[1]);
    fx_free(&f);
    munmap(m, 2 * sizeof(int));
}

/* A status from the second state is the call's status, and says which
 * call of the history returned it. */
Test(guarded_history, status_from_a_history_call_names_it)
{
    rc_call_result res;
    expect_history(&second_call_fails_impl, 0, RC_FORWARD, RC_CALL_STATUS,
                   "(call 2 of a second state, the history check", &res);
    cr_assert(res.status == RC_ERR_DEVICE && res.status_in_apply);
}


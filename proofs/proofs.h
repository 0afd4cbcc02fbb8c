/*
 * proofs/proofs.h - the RoFormer paper's theory (Su et al., "RoFormer:
 * Enhanced Transformer with Rotary Position Embedding", 2021) as oracles
 * over any implementation.
 *
 * Each oracle treats the implementation as a black box x -> f(x, m), called
 * through the plug-in ABI (prepare / apply / release, proofs/probe.h), so
 * built-ins and plug-ins are judged alike. Each returns a verdict, one
 * headline figure and a list of named findings: sentences that say what is
 * wrong ("channels pair as half, spec says interleaved"), not just that
 * something is.
 *
 * Tolerances are derived, never guessed: an implementation that meets the
 * pair-ULP gate G (reference/GATES.md) has every rotated component within
 * G * ulp_T(||pair||) of the exact value. Each oracle turns that contract
 * into a bound on what it measures; the comments in its .c file show how.
 */
#ifndef ROPECHECK_PROOFS_H
#define ROPECHECK_PROOFS_H

#include <stddef.h>
#include <stdint.h>

#include "ropecheck/plugin.h"

#define RC_PROOF_MAX_FINDINGS 48
#define RC_PROOF_FINDING_LEN 256

typedef enum rc_proof_verdict {
    RC_PROOF_PASS = 0,
    RC_PROOF_FAIL = 1,    /* at least one finding */
    RC_PROOF_SKIPPED = 2, /* the implementation does not offer the case */
    RC_PROOF_ERROR = 3    /* the call failed (status, allocation) */
} rc_proof_verdict;

const char *rc_proof_verdict_name(rc_proof_verdict v);

/* What the implementation should compute; the oracles pick the dtype (f64
 * when offered, else f32, f16, bf16) unless `dtype` is set. */
typedef struct rc_proof_spec {
    int32_t head_dim;
    int32_t rotary_dim;
    double base;
    rc_layout layout;
    int dtype;          /* an rc_dtype, or -1: choose from the caps */
    double gate_pair;   /* pair-ULP gate G; 0: the default for the dtype */
    double timeout_s;   /* per implementation call; 0: 60 s */
    /* Frequency scaling (rope.h; NULL or RC_SCALING_NONE: none). The
     * implementation gets the scaled table and the output scale alpha, as
     * from ropecheck verify, and every oracle expects both; one without
     * RC_CAP_SCALING is skipped. Must stay valid during the call. */
    const rc_scaling *scaling;
    /* Several position axes per token (core/axes.h; NULL or one axis:
     * none). The one-axis oracles then probe the port on text tokens,
     * every axis at the token's one position, where a multi-axis RoPE is
     * the one-axis RoPE (DESIGN.md, "Multi-axis RoPE"); rc_prove_axes
     * probes the axes themselves. One without RC_CAP_MULTI_AXIS is
     * skipped. Must stay valid during the call. */
    const struct rc_axes *axes;
    /* 1: every call reaches a fresh state (a runner's APPLY), so the
     * probes skip the history check (harness/guarded_call.h); 0, the
     * default: every probe's call makes it. */
    int fresh_state_per_call;
} rc_proof_spec;

#define RC_PROOF_MAX_ALSO 4

/* A named finding: one sentence. */
typedef struct rc_finding {
    char text[RC_PROOF_FINDING_LEN];
} rc_finding;

/* What every oracle returns. */
typedef struct rc_proof_result {
    rc_proof_verdict verdict;
    rc_dtype dtype;              /* the dtype probed */
    double gate_pair;            /* the G the tolerances were derived from */
    double figure;               /* the headline number, named below */
    char figure_name[96];
    int n_findings;              /* stored in findings[] */
    int findings_dropped;        /* more than RC_PROOF_MAX_FINDINGS */
    rc_finding findings[RC_PROOF_MAX_FINDINGS];
    /* Secondary figures the verdict also rests on (the forms' gap of
     * linear attention, the Gram deviation of rotation, ...), reported
     * beside the headline figure: name and value, n_also of them. */
    int n_also;
    struct {
        char name[64];
        double value;
    } also[RC_PROOF_MAX_ALSO];
    char error[256];             /* ERROR / SKIPPED: why */
    int broken;                  /* a call crashed, hung or wrote out of bounds */
    int fault;                   /* internal (proofs/probe.h rc_probe_fault): how the
                                    call that stopped the oracle failed */
} rc_proof_result;

/* 1 if some finding contains `phrase` (a plain substring). */
int rc_proof_has_finding(const rc_proof_result *r, const char *phrase);

/* ------------------------------------------------------------------ */
/* 1. Rotation identification (Sec. 3.4.1).
 *
 * First checks the call itself (proofs/call_shape.c): token t is rotated
 * by positions[t] (not by t), every output is written, head_stride is
 * honoured (RC_CAP_STRIDED). Then probes with unit vectors e_j at a fixed
 * set of positions below 2^31 (0..5, 1000, 1001, 65536, 65537, 2^24 + 3,
 * 2^24 + 4, 2^31 - 2, 2^31 - 1) and recovers, from outputs alone: which
 * channels pair up (so the layout and rotary_dim), each pair's 2x2 block
 * at each position, whether it is a rotation (orthogonal, det +1, no
 * radial scale), phi(0) = 0, constant angle increments, theta_i per pair,
 * a least-squares base and the direction. Then checks Eq. 30 at every
 * position 0..1030 and at 2^24 - 3 .. 2^24 + 3, 2^31 - 2, 2^31 - 1 in one
 * call, in both directions (proofs/rotation_dense.c), and names what the
 * positions that break it have in common: off by one, the multiples of a
 * divisor, the position rounded to float, a sine/cosine approximation
 * (error periodic in the angle, not growing with m); RC_INVERSE that turns
 * the same way as RC_FORWARD is "direction ignored". Figure:
 * max |theta_i - expected| / tolerance.
 *
 * With a scaling family the expected thetas are the scaled table and the
 * expected radial scale is alpha: a missing or doubled attention factor is
 * named, and a recovered table that misses the expected one is compared,
 * pair by pair, with the tables of related families computed from the
 * spec's own parameters (plain, linear and NTK by the factor, the family
 * with another original context, ...), so the finding says which table
 * the implementation computes ("pairs 29-45 match plain base^(-2i/r)
 * frequencies, not the llama3 ramp"). */
typedef struct rc_rotation_id {
    rc_proof_result res;
    int layout_found;        /* an rc_layout, or -1: neither */
    int rotary_dim_found;    /* 2 * pairs found */
    int direction_found;     /* +1 counter-clockwise (forward), -1 clockwise,
                                0 mixed or unknown */
    int inverse_direction_found; /* the same for RC_INVERSE (expected -1); 0 when
                                    not offered or not recovered */
    double base_fit;         /* exp of the least-squares fit; NaN if < 2 pairs */
    double fit_intercept;    /* log theta_0 from the fit (0 for the spec) */
    double max_orth_dev;     /* max |R^T R - I| over blocks */
    double max_incr_dev;     /* max |(phi(m+1)-phi(m)) - (phi(1)-phi(0))| mod 2 pi */
    int n_pairs;             /* entries below */
    double theta[RC_MAX_HEAD_DIM / 2];      /* recovered (signed) */
    double theta_tol[RC_MAX_HEAD_DIM / 2];  /* its derived uncertainty */
    double theta_expected[RC_MAX_HEAD_DIM / 2];
} rc_rotation_id;

int rc_prove_rotation(const rc_impl *impl, const rc_proof_spec *spec, rc_rotation_id *out);

/* ------------------------------------------------------------------ */
/* 2. Relative position (Eq. 16): <f(q,m), f(k,n)> = <f(q,m+t), f(k,n+t)>.
 *
 * n_trials random (q, k, m, n, t) from `seed`; positions and offsets up to
 * max_position (gate positions: keep it below 2^31). Figure: max over
 * trials of |difference| / derived bound (<= 1 passes). */
int rc_prove_relative(const rc_impl *impl, const rc_proof_spec *spec, uint64_t seed,
                      int n_trials, int64_t max_position, rc_proof_result *out);

/* ------------------------------------------------------------------ */
/* 3. Abel decay bound (Sec. 3.4.3).
 *
 * With h_i = q_i conj(k_i) (pair i as a complex number), h_{r/2} = 0 and
 * S_j = sum_{i<j} e^{i (m-n) theta_i}:
 *   identity:  sum_i h_i e^{i(m-n)theta_i} = -sum_i S_{i+1} (h_{i+1} - h_i)
 *   bound:     |sum_i h_i e^{i(m-n)theta_i}| <= max_i |h_{i+1} - h_i| * sum_{j=1}^{r/2} |S_j|
 * The bound is computed in MPFR with upward rounding and enclosures of the
 * sines and cosines (a certified upper bound). The implementation's score
 * <f(q,m), f(k,n)> is checked against the complex form and the bound.
 * The curve (2/r) sum_{j=1}^{r/2} |S_j| over relative distance 0..n_curve-1
 * (the paper's Figure 2) is filled for the spec's base and rotary_dim,
 * each value a certified upper bound (with a scaling family: for its
 * thetas; the score and the bound then carry alpha^2). Positions m, n are drawn up to
 * max_position, half of the trials with 0 <= m - n <= 256.
 * Figure: max over trials of |score| / bound. */
#define RC_ABEL_CURVE_MAX 4096
typedef struct rc_abel_result {
    rc_proof_result res;
    int n_curve;
    double curve[RC_ABEL_CURVE_MAX];
    double max_identity_gap;   /* largest |lhs - rhs| of the identity seen */
    double max_score_ratio;    /* max |score| / bound */
} rc_abel_result;

int rc_prove_abel(const rc_impl *impl, const rc_proof_spec *spec, uint64_t seed, int n_trials,
                  int64_t max_position, int n_curve, rc_abel_result *out);

/* The curve alone (no implementation): upper[delta] = certified upper
 * bound of (2/r) sum_{j=1}^{r/2} |S_j(delta)|, delta = 0..n-1, and the
 * other end of the enclosure: lower[delta] <= exact <= upper[delta]
 * (lower may be NULL). 0 or -1. */
int rc_abel_curve_bounds(double base, int rotary_dim, int n, double *upper, double *lower);

/* The same for the scaled frequencies of `scaling` (NULL: plain; must be
 * valid for rotary_dim, core/scaling.h). The output scale does not enter:
 * the curve is the factor of max|h_{i+1} - h_i| in the bound. */
int rc_abel_curve_scaled(double base, int rotary_dim, const rc_scaling *scaling, int n,
                         double *upper, double *lower);

/* ------------------------------------------------------------------ */
/* 4. Linear attention (Eq. 19), causal, feature map elu(x) + 1.
 *
 * n_tokens (1..4096) consecutive positions from a random start below
 * max_position, dv value channels. Checks that the O(N) prefix-sum form
 * equals the O(N^2) form on the implementation's rotations, and that the
 * output equals the one from exact rotations, both within derived bounds.
 * Figure: max |o(implementation) - o(exact)| / bound. */
typedef struct rc_linattn_result {
    rc_proof_result res;
    double max_form_gap;         /* max |O(N) - O(N^2)| / bound */
    int rotated_den_nonpositive; /* tokens whose denominator, if rotated too,
                                    would be <= 0 (why it is not rotated) */
} rc_linattn_result;

int rc_prove_linear_attention(const rc_impl *impl, const rc_proof_spec *spec, uint64_t seed,
                              int n_tokens, int dv, int64_t max_position,
                              rc_linattn_result *out);

/* ------------------------------------------------------------------ */
/* 5. Multi-axis RoPE (DESIGN.md, "Multi-axis RoPE"; spec->axes with two or
 * more axes, else SKIPPED). Recovers from outputs, against the exact
 * rotation of each pair at each axis's position within the gate G
 * (proofs/axes.c): that several tokens in one call are each rotated by
 * their own tuple (positions read axis-major is named); which axis every
 * channel follows, forward and inverse, on tuples of distinct positions,
 * named against the spec's map (axes ignored, two axes exchanged, sections
 * misassigned, a pair's two channels on different axes); that text tokens
 * (every position equal) rotate every pair by that position (pairs left
 * unrotated are named); and Eq. 16 per axis, n_trials shifts along one axis
 * with the others fixed. Figure: the worst Eq. 16 gap over its bound. */
int rc_prove_axes(const rc_impl *impl, const rc_proof_spec *spec, uint64_t seed, int n_trials,
                  rc_proof_result *out);

#endif /* ROPECHECK_PROOFS_H */

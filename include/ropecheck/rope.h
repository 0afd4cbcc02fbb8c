/*
 * ropecheck/rope.h - what a RoPE computation is: the spec, the tensor view,
 * element types, layouts, directions and status codes.
 *
 * This header and plugin.h are everything a vendor needs to build a port.
 * Both are plain C11 with no dependencies beyond <stddef.h>/<stdint.h>.
 *
 * The mathematics (the contract every implementation meets):
 *
 *   A head holds d = head_dim channels. The first r = rotary_dim channels
 *   (r even, 2 <= r <= d) rotate in r/2 pairs; channels r..d-1 pass through
 *   bit-for-bit unchanged. Pair i (0 <= i < r/2) rotates with frequency
 *
 *       theta_i = base^(-2i/r)
 *
 *   For a token at integer position m, pair (a, b) and angle phi = m*theta_i:
 *
 *       a' = a*cos(phi) - b*sin(phi)
 *       b' = a*sin(phi) + b*cos(phi)
 *
 *   RC_INVERSE rotates by -phi (the backward pass; un-rotating cached keys).
 *
 *   Which channels form pair i is the layout:
 *     RC_LAYOUT_INTERLEAVED  (2i, 2i+1)      GPT-J, RoFormer Eq. 34, ggml NORMAL
 *     RC_LAYOUT_HALF         (i, i + r/2)    GPT-NeoX, HF rotate_half, ggml NEOX
 *
 *   The result is judged against the exact real value (exact inputs, exact
 *   theta_i, exact angle), in ULP of the output type; see DESIGN.md.
 *
 *   Long-context frequency scaling (rc_scaling below) changes only the
 *   frequencies theta_i and multiplies the rotated channels by an output
 *   scale alpha (YaRN's and LongRoPE's attention factor):
 *
 *       a' = alpha * (a*cos(phi) - b*sin(phi)),  phi = m * theta_i(scaled)
 *
 *   The host computes both exactly and hands them over in rc_spec, so a
 *   port needs no knowledge of the family: it rotates with the table.
 *
 *   Multi-axis RoPE (ABI 4: multimodal M-RoPE, 2-D vision RoPE): a token
 *   has positions (p_0, .., p_{A-1}) on A = n_axes axes and pair i rotates
 *   by phi = p_{axis(i)} * theta_i, axis(i) = pair_axis[i] of the spec.
 *   One axis is the ordinary RoPE above. DESIGN.md, "Multi-axis RoPE",
 *   gives the maps the model families define.
 */
#ifndef ROPECHECK_ROPE_H
#define ROPECHECK_ROPE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest head_dim the suite accepts (the reference and harness size their
 * per-head scratch from it). */
#define RC_MAX_HEAD_DIM 1024

/* Positions are integers in [0, RC_MAX_POSITION]: every such value is exact
 * in a double, which the exact-angle code relies on. */
#define RC_MAX_POSITION ((int64_t)9007199254740991) /* 2^53 - 1 */

/* The most position axes a token may have (multi-axis RoPE, ABI 4). */
#define RC_MAX_AXES 4

/* Element type of input and output (the same for both). */
typedef enum rc_dtype {
    RC_DTYPE_F32 = 0,  /* IEEE binary32 */
    RC_DTYPE_F64 = 1,  /* IEEE binary64 */
    RC_DTYPE_F16 = 2,  /* IEEE binary16, stored as uint16_t bits */
    RC_DTYPE_BF16 = 3, /* bfloat16 (top half of a binary32), uint16_t bits */
    RC_DTYPE_COUNT
} rc_dtype;

typedef enum rc_layout {
    RC_LAYOUT_INTERLEAVED = 0, /* pair i = channels (2i, 2i+1) */
    RC_LAYOUT_HALF = 1,        /* pair i = channels (i, i + r/2) */
    RC_LAYOUT_COUNT
} rc_layout;

typedef enum rc_direction {
    RC_FORWARD = 0, /* rotate by +m*theta_i */
    RC_INVERSE = 1, /* rotate by -m*theta_i */
    RC_DIRECTION_COUNT
} rc_direction;

typedef enum rc_status {
    RC_OK = 0,
    RC_ERR_UNSUPPORTED = 1, /* valid request this implementation does not do:
                               reported as "skipped", never as a failure */
    RC_ERR_INVALID = 2,     /* malformed spec or tensor */
    RC_ERR_NOMEM = 3,       /* allocation failed */
    RC_ERR_DEVICE = 4,      /* accelerator or runtime error */
    RC_ERR_INTERNAL = 5     /* anything else the implementation detected */
} rc_status;

/*
 * Frequency scaling families. Each is defined in reference/scaling.c from
 * its source (the formulas and their citations are written there and in
 * reference/SCALING.md); r is rotary_dim, theta_i = base^(-2i/r) the plain
 * frequencies, s = factor, L0 = original_context, L = context.
 */
typedef enum rc_scaling_type {
    RC_SCALING_NONE = 0,        /* theta_i */
    RC_SCALING_LINEAR = 1,      /* position interpolation: theta_i / s */
    RC_SCALING_NTK = 2,         /* NTK-aware, static: base * s^(r/(r-2)) */
    RC_SCALING_DYNAMIC_NTK = 3, /* base * (s*L/L0 - (s-1))^(r/(r-2)) when L > L0 */
    RC_SCALING_YARN = 4,        /* ramp between theta_i/s and theta_i, alpha */
    RC_SCALING_LLAMA3 = 5,      /* Llama 3.1 wavelength bands, smooth blend */
    RC_SCALING_LONGROPE = 6,    /* per-pair short/long factors by L, alpha */
    RC_SCALING_TABLE = 7,       /* explicit per-pair frequencies */
    RC_SCALING_TYPE_COUNT
} rc_scaling_type;

/*
 * A family and its parameters, named as in Hugging Face's rope_scaling.
 * Fields a family does not use are ignored (keep them 0 / NULL). Arrays
 * have r/2 entries and, like the spec, are valid only during prepare().
 */
typedef struct rc_scaling {
    rc_scaling_type type;
    double factor;            /* s > 0: LINEAR, NTK, DYNAMIC_NTK, YARN, LLAMA3,
                                 LONGROPE (sets the default alpha) */
    int64_t original_context; /* L0 >= 1: DYNAMIC_NTK, YARN, LLAMA3, LONGROPE */
    int64_t context;          /* L >= 1, the sequence length the table is for:
                                 DYNAMIC_NTK (base grows with it) and LONGROPE
                                 (long factors when L > L0) */
    double beta_fast;         /* YARN: default 32 */
    double beta_slow;         /* YARN: default 1 */
    int32_t truncate;         /* YARN: 1 (default) floors/ceils the correction range */
    double mscale;            /* YARN: 0 = absent */
    double mscale_all_dim;    /* YARN: 0 = absent */
    double attention_factor;  /* YARN, LONGROPE: explicit alpha; 0 = from the formula */
    double low_freq_factor;   /* LLAMA3 */
    double high_freq_factor;  /* LLAMA3 */
    const double *short_factor; /* LONGROPE: r/2 entries, used when L <= L0 */
    const double *long_factor;  /* LONGROPE: r/2 entries, used when L > L0 */
    const double *table;        /* TABLE: theta_i itself, r/2 positive entries */
} rc_scaling;

/*
 * What to compute. Filled by the host (ropecheck) and handed to prepare();
 * valid only during that call, so an implementation copies what it keeps.
 *
 * theta_hi/theta_lo carry the frequencies theta_i = base^(-2i/r) as
 * unevaluated sums hi + lo with |lo| <= ulp(hi)/2, i.e. about 106 correct
 * bits, computed by the host in arbitrary precision. This is the frequency
 * table a framework hands its kernel (HF's inv_freq), given exactly. An
 * implementation may use it (recommended: positions near 2^31 need more
 * than a double theta, see impls/common/exact_angle.h) or derive theta from
 * `base` itself; it is judged on what it computes either way. With a
 * scaling family the table is the scaled one (and `base` alone no longer
 * determines it), which is why scaling needs RC_CAP_SCALING.
 */
typedef struct rc_spec {
    int32_t head_dim;        /* d: even, 2 .. RC_MAX_HEAD_DIM */
    int32_t rotary_dim;      /* r: even, 2 .. head_dim */
    double base;             /* > 0 and finite (typically 1e4 .. 1e6) */
    rc_layout layout;
    rc_dtype dtype;
    const double *theta_hi;  /* r/2 entries */
    const double *theta_lo;  /* r/2 entries */
    /* ABI 2 (plugin.h): read these only with RC_CAP_SCALING. */
    const rc_scaling *scaling; /* NULL: none. Already folded into theta_hi/lo;
                                  given so a port (or a test) can see it */
    double out_scale_hi;       /* alpha = out_scale_hi + out_scale_lo multiplies */
    double out_scale_lo;       /* channels < rotary_dim; out_scale_hi == 0 means 1,
                                  so a zero-initialized spec means no scale */
    /* ABI 4 (plugin.h): read these only with RC_CAP_MULTI_AXIS. */
    int32_t n_axes;            /* 0 or 1: one position per token, as in every
                                  earlier ABI; 2 .. RC_MAX_AXES: apply()'s
                                  positions hold n_axes per token, token-major */
    const uint8_t *pair_axis;  /* n_axes >= 2: r/2 entries, each < n_axes; pair i
                                  rotates by positions[t * n_axes + pair_axis[i]] */
    int32_t freq_period;       /* 0: theta_i = base^(-2i/r) (scaled) as ever. P > 0:
                                  the frequencies restart every P pairs, theta_i =
                                  base^(-2(i mod P)/(2P)) (2-D vision RoPE, P = r/4:
                                  each axis has its own table). theta_hi/lo hold
                                  them already */
} rc_spec;

/*
 * A strided view of a [n_tokens][n_heads][head_dim] tensor. Channels of one
 * head are contiguous; token_stride and head_stride count elements (not
 * bytes) and may exceed the packed values (n_heads*head_dim, head_dim), in
 * which case the gaps belong to somebody else and must not be written.
 * Element (t, h, c) is at ((T*)data)[t*token_stride + h*head_stride + c].
 * For RC_DTYPE_F16/BF16, T is uint16_t holding the bit pattern.
 */
typedef struct rc_tensor {
    void *data;
    int64_t n_tokens;
    int64_t n_heads;
    int64_t token_stride;
    int64_t head_stride;
} rc_tensor;

/* Small helpers every caller needs; defined in the ropecheck library. */
size_t rc_dtype_size(rc_dtype t);        /* 4, 8, 2, 2; 0 if invalid */
const char *rc_dtype_name(rc_dtype t);   /* "f32", "f64", "f16", "bf16" */
const char *rc_layout_name(rc_layout l); /* "interleaved", "half" */
const char *rc_direction_name(rc_direction d); /* "forward", "inverse" */
const char *rc_status_name(rc_status s); /* "ok", "unsupported", ... */

const char *rc_scaling_type_name(rc_scaling_type t); /* "none", "linear", "ntk",
                           "dynamic", "yarn", "llama3", "longrope", "table" */

/* Parse the names above; return 0 on success, -1 if unknown. */
int rc_dtype_parse(const char *s, rc_dtype *out);
int rc_layout_parse(const char *s, rc_layout *out);
int rc_scaling_type_parse(const char *s, rc_scaling_type *out);

#ifdef __cplusplus
}
#endif

#endif /* ROPECHECK_ROPE_H */

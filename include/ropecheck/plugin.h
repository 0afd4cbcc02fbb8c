/*
 * ropecheck/plugin.h - the implementation ABI, version 4 (RC_ABI_VERSION
 * below; versions 1 to 3 still load). The entry symbol kept its first
 * name, ropecheck_plugin_v1, in every version: the struct's abi_version
 * says which fields follow.
 *
 * An implementation (built-in or a vendor's plug-in) is one `rc_impl`
 * struct. Built-ins are listed in ropecheck's static registry; a plug-in is
 * a shared library exporting
 *
 *     const rc_impl *ropecheck_plugin_v1(void);
 *
 * which returns a pointer to a struct with static storage duration whose
 * abi_version is RC_ABI_VERSION. Build one with nothing but this header and
 * rope.h:
 *
 *     cc -shared -fPIC -I ropecheck/include -o libport.so port.c
 *     ropecheck verify --plugin ./libport.so
 *
 * HOW ROPECHECK CALLS YOU
 *   Every call runs in a forked child process with a time limit, so a crash,
 *   a hang or an out-of-bounds write is reported (exit status 3) and the run
 *   goes on. Buffers sit against guard pages and are fenced with canaries;
 *   stride gaps are checked too. Sequence per test case:
 *
 *     available(why, n)      -> 0: skipped, with `why` printed
 *     prepare(&spec, &state) -> RC_ERR_UNSUPPORTED: skipped, not failed
 *     apply(state, &in, &out, positions, direction)   (one or more times)
 *     explain(state, why, n) after a status other than RC_OK (ABI 3)
 *     release(state)
 *
 *   A case is outside your capabilities, and skipped, only when caps says
 *   so or prepare() declines it. apply() returning RC_ERR_UNSUPPORTED for a
 *   case that caps offers and prepare() accepted FAILS the case: a port
 *   cannot opt out of what it announced at the last moment. An
 *   implementation that is judged on no case at all makes verify and
 *   prove exit 4 ("nothing judged"), never 0.
 *
 *   No call is made concurrently on one state. The spec and its theta table
 *   are valid only during prepare(): copy what you keep.
 *
 * STATE
 *   apply() is a function of its arguments and the spec: the bytes it
 *   writes must not depend on the state's earlier calls. A state may keep
 *   what it computed (cos/sin rows, as every built-in port does, and as
 *   frameworks keep them across a model's layers), provided it renews
 *   them when the positions' values, the direction or anything else they
 *   depend on change, not when the buffers' addresses or the call's size
 *   do. verify checks it on every case: before the judged call on a
 *   fresh state, a second state makes calls at other positions, in the
 *   other direction, then the judged call twice, on the same buffers; its
 *   outputs must equal the fresh state's byte for byte, or the case FAILS
 *   (cause stale-state; harness/guarded_call.h, rc_guarded_apply_history).
 *
 * WHAT apply() MUST DO
 *   - out->data == in->data means in place: the strides are then equal.
 *     Otherwise the buffers do not overlap and `in` must be left unchanged.
 *   - in and out have the same n_tokens and n_heads; strides may differ.
 *   - positions[t], t < n_tokens, are in [0, RC_MAX_POSITION]. With a
 *     multi-axis spec (n_axes >= 2, RC_CAP_MULTI_AXIS) there are n_axes
 *     per token: positions[t * n_axes + k], each in that range.
 *   - Write only the elements of the view: channels 0..head_dim-1 of each
 *     (token, head). Channels rotary_dim..head_dim-1 are copied bit-exactly.
 *   - Return RC_OK, or RC_ERR_UNSUPPORTED for a combination not offered in
 *     `caps` (checked by ropecheck before the call, but be defensive).
 *
 * WHAT IS JUDGED
 *   Every output element against the exact real result, in ULP of the dtype
 *   (component ULP, and pair ULP: the error over ulp(||(a,b)||)). Default
 *   gates: max pair ULP <= 2 (f32), <= 3 (f64), <= 1 (f16, bf16) at
 *   positions below 2^31; reference/GATES.md derives them.
 */
#ifndef ROPECHECK_PLUGIN_H
#define ROPECHECK_PLUGIN_H

#include "ropecheck/rope.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on any change to rc_impl, rc_spec or rc_tensor.
 *   1: the first ABI.
 *   2: rc_spec gains scaling and out_scale_hi/lo at its end, and caps gains
 *      RC_CAP_SCALING. The fields before them did not move, so a version-1
 *      plug-in still loads: it is treated as not offering scaling.
 *   3: rc_impl gains explain() at its end: the port's own one-line reason
 *      for a status other than RC_OK. ropecheck reads the field only from
 *      structs that say version 3, so older plug-ins load unchanged.
 *   4: rc_spec gains n_axes and pair_axis at its end (multi-axis RoPE,
 *      rope.h), and caps gains RC_CAP_MULTI_AXIS. An older plug-in is
 *      treated as not offering it, and multi-axis cases skip it with that
 *      reason. */
#define RC_ABI_VERSION 4u
#define RC_ABI_VERSION_MIN 1u /* the oldest version ropecheck still loads */

/* Name of the symbol a plug-in exports (a function, see above). */
#define RC_PLUGIN_SYMBOL "ropecheck_plugin_v1"

/* Capability bits: what an implementation offers. ropecheck skips, and says
 * so, any case outside them. */
#define RC_CAP_F32            (1ull << 0)
#define RC_CAP_F64            (1ull << 1)
#define RC_CAP_F16            (1ull << 2)
#define RC_CAP_BF16           (1ull << 3)
#define RC_CAP_INTERLEAVED    (1ull << 8)
#define RC_CAP_HALF           (1ull << 9)
#define RC_CAP_INVERSE        (1ull << 16) /* RC_INVERSE direction */
#define RC_CAP_PARTIAL_ROTARY (1ull << 17) /* rotary_dim < head_dim */
#define RC_CAP_INPLACE        (1ull << 18) /* out->data == in->data */
#define RC_CAP_STRIDED        (1ull << 19) /* strides beyond packed */
/* Any frequency table in theta_hi/lo (not only base^(-2i/r)) and the output
 * scale out_scale_hi/lo: every rc_scaling family. ABI >= 2. */
#define RC_CAP_SCALING        (1ull << 20)
/* Several position axes per token (rc_spec n_axes, pair_axis). ABI >= 4. */
#define RC_CAP_MULTI_AXIS     (1ull << 21)

#define RC_CAP_ALL_DTYPES (RC_CAP_F32 | RC_CAP_F64 | RC_CAP_F16 | RC_CAP_BF16)
#define RC_CAP_ALL_LAYOUTS (RC_CAP_INTERLEAVED | RC_CAP_HALF)
/* Every bit some ABI version defines; ropecheck refuses a struct with any
 * other bit set. */
#define RC_CAP_KNOWN                                                                   \
    (RC_CAP_ALL_DTYPES | RC_CAP_ALL_LAYOUTS | RC_CAP_INVERSE | RC_CAP_PARTIAL_ROTARY |  \
     RC_CAP_INPLACE | RC_CAP_STRIDED | RC_CAP_SCALING | RC_CAP_MULTI_AXIS)

/* The longest description ropecheck accepts, in bytes. */
#define RC_DESCRIPTION_MAX 200

typedef struct rc_impl {
    /* RC_ABI_VERSION (or RC_ABI_VERSION_MIN.. for an older plug-in);
     * ropecheck refuses any other value. */
    uint32_t abi_version;

    /* Short identifier used on the command line: [a-z0-9_-]+. */
    const char *name;

    /* One line for `ropecheck list`: ISA, strategy, origin. At most
     * RC_DESCRIPTION_MAX bytes of printable UTF-8 (no control characters);
     * may be NULL. */
    const char *description;

    /* RC_CAP_* bits. */
    uint64_t caps;

    /* Can this implementation run here (CPU features, a GPU, a driver)?
     * Return 1 if so. Otherwise return 0 and write a short reason, e.g.
     * "CPU lacks avx512f", into why (NUL-terminated, at most why_len bytes).
     * May be NULL, meaning always available. */
    int (*available)(char *why, size_t why_len);

    /* Precompute whatever the spec allows (frequency tables, kernels).
     * Store an opaque pointer in *state (NULL is fine). */
    rc_status (*prepare)(const rc_spec *spec, void **state);

    /* Rotate every (token, head) of `in` into `out`; see the rules above. */
    rc_status (*apply)(void *state, const rc_tensor *in, const rc_tensor *out,
                       const int64_t *positions, rc_direction direction);

    /* Free what prepare() allocated. May be NULL. */
    void (*release)(void *state);

    /* ABI 3. Why the last prepare() or apply() on this state returned a
     * status other than RC_OK: write one short line, e.g. "head_dim 80:
     * kernels exist for 64 and 128 only", into why (NUL-terminated, at
     * most why_len bytes). state is what prepare() stored (NULL when
     * prepare() failed before storing one). Called before release(). The
     * line is printed with the skip or the failure and written to the
     * JSON. May be NULL. */
    void (*explain)(const void *state, char *why, size_t why_len);
} rc_impl;

/* The function type a plug-in exports under RC_PLUGIN_SYMBOL. */
typedef const rc_impl *(*rc_plugin_entry_fn)(void);

/* Maps an rc_dtype to its capability bit. */
static inline uint64_t rc_cap_for_dtype(rc_dtype t)
{
    return 1ull << (unsigned)t;
}

static inline uint64_t rc_cap_for_layout(rc_layout l)
{
    return 1ull << (8u + (unsigned)l);
}

#ifdef __cplusplus
}
#endif

#endif /* ROPECHECK_PLUGIN_H */

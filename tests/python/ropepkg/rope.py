"""numpy RoPE ports in the runner's plain signature (python/README.md):

    fn(x, positions, *, theta, layout, direction, out_scale, spec) -> y | (y, table)

apply            correct for f32 and f16 outputs at every position up to
                 2^53: the angle is reduced exactly enough (below); also
                 multi-axis RoPE (multi_axis: pair i at positions[:, pair_axis[i]])
apply_f32_table  a framework's way: frequencies rounded to float32 (as a
                 float32 inv_freq is); reports that table, so the host can
                 show why it fails the exact gate beyond short positions
apply_f32_angle  WRONG on purpose: the angle m * theta in float32, off by
                 about m * 2^-24 rad; must FAIL at long positions
raises           raises ValueError("boom") (the error path)
prints           apply, after print("hello") (stdout must stay clean)
"""

from fractions import Fraction

import numpy as np

# 2*pi as C0 + C1 + C2, about 160 bits, from pi's decimal digits (70 of
# them, ~230 bits), so the reduction below loses nothing to the constant.
_PI = Fraction("3.1415926535897932384626433832795028841971693993751058209749445923078164")
C0 = float(2 * _PI)
C1 = float(2 * _PI - Fraction(C0))
C2 = float(2 * _PI - Fraction(C0) - Fraction(C1))


def _split(a):
    """Veltkamp: a == hi + lo, each with at most 26 significant bits, so
    products of halves are exact in float64 (numpy exposes no fma)."""
    c = 134217729.0 * a  # 2^27 + 1
    hi = c - (c - a)
    return hi, a - hi


def _two_prod(a, b):
    """Dekker: p + e == a * b exactly (no overflow or underflow here)."""
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def reduced_angle(positions, theta_hi, theta_lo):
    """m * (theta_hi + theta_lo) reduced into about [-pi, pi], to about
    2^-50 rad for every 0 <= m <= 2^53 and theta <= 1, as a float64 array
    (n_tokens, rotary_dim/2).

    WHY not positions * theta in float64: theta_hi alone is off by up to
    2^-53 relative and the product rounds once more, so at m = 2^31 the
    angle is off by up to 2^-21 rad: several ulps of an f32 output (f32
    ulps are 2^-24..2^-23 of the pair's norm; the f32 gate is 2).
    Here m * theta_hi is split exactly (p + e), theta_lo adds its 53 more
    bits, and k*2pi is subtracted with 2pi to 160 bits: p - k*C0 is
    exact (the two are within a factor of 2, or k = 0), and every other
    term is below ~2 in size, so the sum's roundings stay near 2^-51.
    Not enough for f64 outputs (ulps of 2^-52 of the norm), which is why
    apply does not offer f64."""
    m = np.asarray(positions, dtype=np.float64)  # exact: m <= 2^53
    if m.ndim == 1:  # one position per token; else already one per pair
        m = m[:, None]
    hi = np.asarray(theta_hi, dtype=np.float64)[None, :]
    lo = np.asarray(theta_lo, dtype=np.float64)[None, :]
    p, e = _two_prod(m, hi)
    k = np.rint(p / C0)
    a, b = _two_prod(k, np.float64(C0))
    return (p - a) + (((e - b) + (m * lo - k * C1)) - k * C2)


def rotate(x, phi, layout, out_scale):
    """Rotates the pairs of x (n_tokens, n_heads, head_dim) by the angles
    phi (n_tokens, rotary_dim/2) in float64 and scales them by out_scale;
    the channels past rotary_dim are copied (float64 holds every value,
    quiet NaNs included, so the runner's cast gives their bits back)."""
    half = phi.shape[1]
    y = np.asarray(x).astype(np.float64)
    if layout == "half":
        ia, ib = slice(0, half), slice(half, 2 * half)
    else:
        ia, ib = slice(0, 2 * half, 2), slice(1, 2 * half, 2)
    a, b = y[..., ia].copy(), y[..., ib].copy()
    c, s = np.cos(phi)[:, None, :], np.sin(phi)[:, None, :]
    ya, yb = a * c - b * s, a * s + b * c
    if out_scale != 1.0:
        ya, yb = ya * out_scale, yb * out_scale
    y[..., ia], y[..., ib] = ya, yb
    return y


def apply(x, positions, *, theta, layout, direction, out_scale, spec):
    """The correct port: the exact table (theta_hi + theta_lo from spec),
    an accurately reduced angle, rotation in float64, returned in float64
    for the runner to round once."""
    phi = reduced_angle(pair_positions(positions, spec), spec["theta_hi"],
                        spec["theta_lo"]) * direction
    return rotate(x, phi, layout, out_scale)


def pair_positions(positions, spec):
    """The positions as reduced_angle takes them: one per token, or with
    several axes (spec["axes"], runner protocol 4) each pair's own,
    positions[:, pair_axis[i]], shape (n_tokens, rotary_dim/2)."""
    axes = spec.get("axes")
    if axes is None:
        return positions
    return np.asarray(positions)[:, np.asarray(axes["pair_axis"])]


apply.ropecheck_caps = {"dtypes": ["f32", "f16"], "multi_axis": True}


def apply_f32_table(x, positions, *, theta, layout, direction, out_scale, spec):
    """Like a framework with a float32 inv_freq: the frequencies it uses
    are theta rounded to float32 (then exact in the angle), and it says
    so by returning them as its table."""
    table = np.asarray(theta, dtype=np.float64).astype(np.float32).astype(np.float64)
    phi = reduced_angle(positions, table, np.zeros_like(table)) * direction
    return rotate(x, phi, layout, out_scale), table


apply_f32_table.ropecheck_caps = {"dtypes": ["f32", "f16"]}


def apply_f32_angle(x, positions, *, theta, layout, direction, out_scale, spec):
    """WRONG on purpose: m and theta in float32 and their product rounded
    to float32, as a careless port does. Off by ~m * 2^-24 rad."""
    m = np.asarray(positions).astype(np.float32)[:, None]
    phi = (m * np.asarray(theta).astype(np.float32)[None, :]).astype(np.float64)
    return rotate(x, phi * direction, layout, out_scale)


apply_f32_angle.ropecheck_caps = {"dtypes": ["f32", "f16"]}


def raises(x, positions, *, theta, layout, direction, out_scale, spec):
    """Fails every call: the runner answers RC_ERR_INTERNAL, "ValueError: boom"."""
    raise ValueError("boom")


def prints(x, positions, *, theta, layout, direction, out_scale, spec):
    """apply, chatty: print() must not reach the protocol's stdout."""
    print("hello")
    return apply(x, positions, theta=theta, layout=layout, direction=direction,
                 out_scale=out_scale, spec=spec)


prints.ropecheck_caps = apply.ropecheck_caps

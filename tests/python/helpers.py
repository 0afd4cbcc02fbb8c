"""Shared pieces of tests/python/test_runner_*.py: building requests with
tensors in them, running the serve loop in memory, and an independent
RoPE reference (exact rational angle reduction, then float64) to judge
the results in pair ULP as ropecheck does (reference/GATES.md)."""

import io
import math
from fractions import Fraction

import numpy as np

import wire
from ropecheck_runner import adapters, modes, server, signatures

F32, F64, F16 = np.dtype("<f4"), np.dtype("<f8"), np.dtype("<f2")
WIRE = {0: F32, 1: F64, 2: F16, 3: np.dtype("<u2")}
TWO_PI = 2 * Fraction("3.14159265358979323846264338327950288419716939937510582097494459230781")


def view_index(req, strides):
    """Element index of (t, h, c) in a buffer with these strides."""
    return (np.arange(req.n_tokens)[:, None, None] * strides[0]
            + np.arange(req.n_heads)[None, :, None] * strides[1]
            + np.arange(req.head_dim)[None, None, :])


def pack(values, dtype, req, strides, fill: int) -> bytes:
    """values (n_tokens, n_heads, head_dim) at the view's elements of a
    buffer as long as the extent, every other byte `fill`."""
    n = wire.extent(req.n_tokens, req.n_heads, req.head_dim, strides, 1)
    buf = np.frombuffer(bytes([fill]) * n * dtype.itemsize, dtype).copy()
    buf[view_index(req, strides)] = values
    return buf.tobytes()


def unpack(buf: bytes, dtype, req, strides):
    return np.frombuffer(buf, dtype)[view_index(req, strides)]


def build(rng, in_pad=(0, 0), out_pad=None, **fields):
    """(wire.Apply, x): a request with random inputs in N(0, 1), the input
    stride gaps holding 0x5A bytes and the output buffer 0xAB bytes.
    pad = (extra elements per token, extra elements per head)."""
    req = wire.Apply(**fields)
    req.n_tokens = len(req.positions)
    out_pad = in_pad if out_pad is None else out_pad

    def strides(pad):
        hs = req.head_dim + pad[1]
        return (req.n_heads * hs + pad[0], hs)
    req.in_strides, req.out_strides = strides(in_pad), strides(out_pad)
    shape = (req.n_tokens, req.n_heads, req.head_dim)
    x = rng.standard_normal(shape)
    if req.dtype == 3:
        x = (x.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
    else:
        x = x.astype(WIRE[req.dtype])
    req.inbuf = pack(x, WIRE[req.dtype], req, req.in_strides, 0x5A)
    if not req.inplace:
        req.outbuf = b"\xab" * wire.extent(*shape, req.out_strides, WIRE[req.dtype].itemsize)
    return req, x


def make_impl(name, fn, mode=None):
    mode = mode or modes.NumpyMode()
    caps = adapters.parse_caps(getattr(fn, "ropecheck_caps", {}), mode.dtypes)
    sig = signatures.signature_of(fn, "plain")
    return server.Implementation(name, fn, caps & sig.caps_mask, "python: test:%s" % name,
                                 signature=sig)


def run(frames: bytes, impls, mode=None):
    """(exit status, hello, [wire.Result], stderr text) of one session."""
    log, out = io.StringIO(), io.BytesIO()
    srv = server.Server(impls, mode or modes.NumpyMode(), "x86_64", log)
    status = server.serve(srv, io.BytesIO(frames), out)
    frames = wire.split_frames(out.getvalue())
    assert frames[0][0] == wire.HELLO and all(t == wire.RESULT for t, _ in frames[1:])
    return (status, wire.parse_hello(frames[0][1]),
            [wire.parse_result(p) for _, p in frames[1:]], log.getvalue())


def pair_channels(req):
    half = req.rotary_dim // 2
    if req.layout == 1:
        return np.arange(half), np.arange(half) + half
    return np.arange(half) * 2, np.arange(half) * 2 + 1


def exact_angles(req):
    """m * (theta_hi + theta_lo) reduced mod 2pi in exact rationals, then
    rounded to float64: (n_tokens, rotary_dim/2), within 2^-53 of the
    true angle however large m is."""
    hi, lo = req.thetas()
    out = np.empty((req.n_tokens, len(hi)))
    for t, m in enumerate(req.positions):
        for i, (h, l) in enumerate(zip(hi, lo)):
            a = m * (Fraction(h) + Fraction(l))
            out[t, i] = float(a - TWO_PI * round(a / TWO_PI))
    return out


def expected_rope(x, req):
    """The request's rotation of x in float64 from exact angles: within
    about 2^-52 of the true values, far inside any gate."""
    phi = exact_angles(req) * (-1.0 if req.direction else 1.0)
    scale = req.out_scale[0] + req.out_scale[1] if req.out_scale[0] else 1.0
    y = x.astype(np.float64)
    ia, ib = pair_channels(req)
    a, b = y[..., ia].copy(), y[..., ib].copy()
    c, s = np.cos(phi)[:, None, :], np.sin(phi)[:, None, :]
    y[..., ia], y[..., ib] = scale * (a * c - b * s), scale * (a * s + b * c)
    return y


def pair_ulp(got, want, x, req, dtype) -> float:
    """Largest |got - want| over the rotated channels, in ulps of the
    output type at the pair's norm (alpha * ||(a, b)||): ropecheck's pair
    ULP, with `want` standing in for the exact value."""
    ia, ib = pair_channels(req)
    scale = req.out_scale[0] + req.out_scale[1] if req.out_scale[0] else 1.0
    xf = x.astype(np.float64)
    norm = scale * np.hypot(xf[..., ia], xf[..., ib])
    ulp = np.spacing(norm.astype(dtype)).astype(np.float64)
    g = got.astype(np.float64)
    err = np.maximum(np.abs(g[..., ia] - want[..., ia]), np.abs(g[..., ib] - want[..., ib]))
    return float(np.max(err / ulp))


def round_to_bits(value: float, mant_bits: int, min_exp: int) -> Fraction:
    """value rounded to nearest-even with mant_bits significant bits and
    the smallest normal exponent min_exp (subnormals below), in exact
    arithmetic: the tests' independent rounding for f16 and bf16."""
    v = Fraction(value)
    if v == 0:
        return v
    e = max(math.floor(math.log2(abs(value))), min_exp)
    while Fraction(2) ** e > abs(v):
        e -= 1
    while Fraction(2) ** (e + 1) <= abs(v):
        e += 1
    e = max(e, min_exp)
    q = Fraction(2) ** (e - mant_bits + 1)
    n = v / q
    r = round(n)  # Python rounds exact halves to even
    return r * q

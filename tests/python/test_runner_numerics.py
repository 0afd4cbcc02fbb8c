#!/usr/bin/env python3
"""tests/python/test_runner_numerics.py - the numbers behind the Python
runner: its single rounding to the request's dtype (bf16 by hand, f16 by
numpy), the test ports' accuracy at long positions (ropepkg.rope.apply
must pass the f32 gate at m near 2^31, apply_f32_angle must fail it),
and the torch mode (skipped without torch).

Run from anywhere: python3 tests/python/test_runner_numerics.py
Exit 0 when every test passed, 77 (skipped) without numpy.
"""

import decimal
import io
import math
import struct
import unittest
from fractions import Fraction

import testenv  # noqa: E402
from testenv import np  # noqa: E402  (first: sets the path)
try:
    import torch
except ImportError:
    torch = None

if np is not None:
    from ropecheck_runner import codes, modes, tensors  # noqa: E402
    from ropepkg import rope  # noqa: E402
    from ropepkg import signatures as sigs  # noqa: E402
    from ropecheck_runner import request, signatures  # noqa: E402
    from helpers import (F32, build, expected_rope, make_impl, pair_ulp,  # noqa: E402
                         round_to_bits, run, unpack)


def exact_table(base: float, rotary_dim: int):
    """theta_i = base^(-2i/r) as hi + lo (the host's form), from 60-digit
    decimal arithmetic: a real table, whose lo words are not zero."""
    decimal.getcontext().prec = 60
    hi, lo = [], []
    for i in range(rotary_dim // 2):
        d = decimal.Decimal(base) ** (decimal.Decimal(-2 * i) / decimal.Decimal(rotary_dim))
        hi.append(float(d))
        lo.append(float(Fraction(d) - Fraction(hi[-1])))
    return hi, lo


def tricky_values(rng):
    """Random doubles plus the places roundings go wrong: exact midpoints
    of bf16/f16, their neighbours, subnormals, overflow, signed zeros."""
    vals = list(rng.standard_normal(2000) * 10.0 ** rng.integers(-8, 8, 2000))
    for mant_bits, ulp_exp in ((8, -7), (11, -10)):
        for k in range(1, 300):
            mid = (1 + (2 * k + 1) * 2.0 ** (ulp_exp - 1)) * 2.0 ** int(rng.integers(-20, 20))
            vals += [mid, -mid, np.nextafter(mid, 0), np.nextafter(mid, 2 * mid)]
    vals += [0.0, -0.0, 1e-45, 2.0 ** -133, 2.0 ** -134, 2.0 ** -134 * 1.5, 6e-8, 3e-8,
             65504.0, 65520.0, 65519.99, 3.3895313892515355e38, 3.4e38, 1e300, -1e300,
             2.0 ** -25, 2.0 ** -24 * 1.5]
    return np.array(vals, dtype=np.float64)


@unittest.skipIf(np is None, "numpy not installed")
class Rounding(unittest.TestCase):
    """The runner rounds a float64 result once, to nearest-even."""

    def test_bf16_against_exact_rounding(self):
        x = tricky_values(np.random.default_rng(11))
        got = tensors.f64_to_bf16_bits(x)
        for v, bits in zip(x, got):
            as_f32 = struct.unpack("<f", struct.pack("<I", int(bits) << 16))[0]
            want = round_to_bits(v, 8, -126)
            if abs(want) >= Fraction(2) ** 128:  # beyond the largest finite bf16
                self.assertEqual(as_f32, float("inf") * np.sign(v), v)
            else:
                self.assertEqual(Fraction(as_f32), want, "%r -> %#06x" % (v, bits))
                self.assertEqual(np.signbit(as_f32), np.signbit(v), v)
        special = tensors.f64_to_bf16_bits(np.array([np.inf, -np.inf, np.nan]))
        self.assertEqual([int(b) for b in special[:2]], [0x7F80, 0xFF80])
        self.assertEqual(int(special[2]) & 0x7FC0, 0x7FC0)  # a quiet NaN

    def test_numpy_rounds_f64_to_f16_once(self):
        """The runner relies on numpy's float64 -> float16 astype rounding
        directly (no double rounding through float32)."""
        x = tricky_values(np.random.default_rng(12))
        x = x[np.abs(x) < 65520.0]
        got = x.astype(np.float16)
        for v, h in zip(x, got):
            self.assertEqual(Fraction(float(h)), round_to_bits(v, 11, -14), v)


@unittest.skipIf(np is None, "numpy not installed")
class FixtureAccuracy(unittest.TestCase):
    """What the test ports are for: one passes the f32 gate (2 pair ULP)
    at long positions, one fails it."""

    def setUp(self):
        self.hi, self.lo = exact_table(10000.0, 64)

    def worst(self, fn, positions, seed=5):
        rng = np.random.default_rng(seed)
        req, x = build(rng, positions=positions, head_dim=64, rotary_dim=64, n_heads=2,
                       theta_hi=self.hi, theta_lo=self.lo)
        y = fn(x, np.array(positions, dtype=np.int64), theta=np.add(self.hi, self.lo),
               layout="half", direction=1, out_scale=1.0,
               spec={"theta_hi": np.array(self.hi), "theta_lo": np.array(self.lo)})
        y = y[0] if isinstance(y, tuple) else y
        return pair_ulp(y.astype(np.float32), expected_rope(x, req), x, req, F32)

    def long_positions(self, n=64):
        rng = np.random.default_rng(9)
        return [int(m) for m in rng.integers(2 ** 30, 2 ** 31, n)] + [2 ** 31 - 1, 2 ** 53 - 1]

    def test_apply_is_correctly_rounded_at_long_positions(self):
        self.assertLessEqual(self.worst(rope.apply, self.long_positions()), 0.501)

    def test_f32_angle_fails(self):
        self.assertGreater(self.worst(rope.apply_f32_angle, [1 << 20, 123457, 99999]), 100)

    def test_a_plain_double_angle_is_not_enough_for_f32(self):
        """Why rope.reduced_angle exists: positions * theta_hi in float64
        is off by up to ~2^-21 rad at m ~ 2^31, beyond the f32 gate."""
        def naive(x, positions, **kw):
            phi = positions.astype(np.float64)[:, None] * kw["spec"]["theta_hi"][None, :]
            return rope.rotate(x, phi, kw["layout"], 1.0)
        self.assertGreater(self.worst(naive, self.long_positions(256)), 2.0)


def request_of(req):
    """The runner's decoded form of a wire.Apply."""
    return request.read_apply(io.BytesIO(req.frame()), [req.name])


@unittest.skipIf(np is None, "numpy not installed")
class Signatures(unittest.TestCase):
    """The hf and vllm call shapes: cos and sin built the frameworks' way
    (one f32 product for the angle, cos/sin of it within one f32 ulp, the
    attention factor as an f32 product, sin negated for the inverse), and
    the results the runner sends back."""

    def test_framework_cos_sin(self):
        positions = np.array([0, 1, 4095, 131071, 2 ** 31 - 1], dtype=np.int64)
        for direction, alpha in ((0, 1.0), (1, 1.0), (0, 1.2071)):
            req, _ = build(np.random.default_rng(1), positions=list(positions), head_dim=16,
                           rotary_dim=16, direction=direction,
                           out_scale=(alpha if alpha != 1.0 else 0.0, 0.0))
            areq = request_of(req)
            cos, sin, inv = signatures.framework_cos_sin(areq, positions)
            for t, m in enumerate(positions):
                for i, th in enumerate(req.thetas()[0]):
                    inv32 = float(np.float32(th))
                    self.assertEqual(inv[i], inv32)
                    # f32 * f32 is exact in double: one rounding to f32 follows.
                    ang = float(np.float32(float(np.float32(m)) * inv32))
                    a32 = np.float32(alpha)
                    for got, f, sign in ((cos, math.cos, 1), (sin, math.sin,
                                                             -1 if direction else 1)):
                        want = sign * float(np.float32(f(ang))) * float(a32)
                        ulp = float(np.spacing(np.float32(abs(want) + 1e-30)))
                        self.assertLessEqual(abs(got[t, i] - want), 1.01 * ulp * float(a32),
                                             (m, i, direction, alpha))

    def serve(self, fn, **fields):
        rng = np.random.default_rng(3)
        req, x = build(rng, positions=[5, 7, 5, 2 ** 20 + 1], n_heads=2, head_dim=12,
                       rotary_dim=8, **fields)
        status, _, results, log = run(req.frame(), [make_impl(req.name, fn)])
        self.assertEqual(status, 0, log)
        return req, x, results[0]

    def expected(self, req, x):
        """The frameworks' arithmetic in f32 on the runner's cos and sin."""
        cos, sin, _ = signatures.framework_cos_sin(request_of(req),
                                                   np.array(req.positions, dtype=np.int64))
        c, s = cos.astype(np.float32)[:, None, :], sin.astype(np.float32)[:, None, :]
        y = x.copy()
        half = req.rotary_dim // 2
        a_idx = range(half) if req.layout == 1 else range(0, req.rotary_dim, 2)
        b_idx = range(half, req.rotary_dim) if req.layout == 1 else range(1, req.rotary_dim, 2)
        a, b = x[..., list(a_idx)], x[..., list(b_idx)]
        y[..., list(a_idx)] = a * c - b * s
        y[..., list(b_idx)] = b * c + a * s
        return y

    def test_hf_and_vllm_results(self):
        for fn, layouts in ((sigs.apply_hf, (1,)), (sigs.apply_vllm, (0, 1))):
            for layout in layouts:
                req, x, res = self.serve(fn, layout=layout)
                self.assertEqual((res.status, res.message), (codes.OK, ""), fn.__name__)
                got = unpack(res.out, F32, req, req.out_strides)
                self.assertEqual(got.tobytes(), self.expected(req, x).tobytes(),
                                 (fn.__name__, layout))
                self.assertEqual(res.table, [float(np.float32(t)) for t in req.thetas()[0]])

    def test_hf_refuses_interleaved_and_a_differing_key_is_an_error(self):
        res = self.serve(sigs.apply_hf, layout=0)[2]
        self.assertEqual(res.status, codes.ERR_UNSUPPORTED)
        res = self.serve(sigs.apply_hf_k_differs, layout=1)[2]
        self.assertEqual(res.status, codes.ERR_INTERNAL)
        self.assertIn("rotated differently", res.message)

    def test_unknown_signature_is_refused(self):
        def f(x):
            return x
        f.ropecheck_signature = "jax"
        with self.assertRaisesRegex(ValueError, "unknown signature 'jax'"):
            signatures.signature_of(f, "plain")


@unittest.skipIf(np is None or torch is None, "numpy or torch not installed")
class TorchMode(unittest.TestCase):
    """--tensors torch on the CPU: bf16 travels, results round once."""

    def test_bf16_and_f16_round_trip(self):
        from ropepkg import torch_rope
        mode = modes.TorchMode("cpu")
        self.assertTrue(mode.available, mode.why)
        impl = make_impl("apply", torch_rope.apply, mode)
        self.assertTrue(impl.caps & codes.CAP_BF16)
        for dtype, wire_dtype in ((3, np.dtype("<u2")), (2, np.dtype("<f2"))):
            rng = np.random.default_rng(dtype)
            req, x = build(rng, dtype=dtype, positions=[0, 77, 2 ** 31 - 1], n_heads=3,
                           head_dim=16, rotary_dim=12, in_pad=(3, 1), out_pad=(1, 2))
            status, _, results, log = run(req.frame(), [impl], mode)
            res = results[0]
            self.assertEqual((status, res.status, res.message), (0, 0, ""), log)
            got = unpack(res.out, wire_dtype, req, req.out_strides)
            xf = (x.astype(np.uint32) << 16).view(np.float32) if dtype == 3 else x
            y = rope.rotate(xf, rope.reduced_angle(
                req.positions, *req.thetas()), "half", 1.0)
            want = tensors.f64_to_bf16_bits(y) if dtype == 3 else y.astype(np.float16)
            self.assertEqual(got.tobytes(), want.tobytes())
            self.assertEqual(res.table, [float(np.float32(t)) for t in req.thetas()[0]])

    def test_torch_result_in_the_wire_type_is_taken_as_is(self):
        mode = modes.TorchMode("cpu")
        t = torch.tensor([1.0, -2.5, float("nan")], dtype=torch.bfloat16)
        self.assertEqual(list(mode.to_wire(t, codes.BF16)), [0x3F80, 0xC020, 0x7FC0])


if __name__ == "__main__":
    testenv.main()

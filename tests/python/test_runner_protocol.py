#!/usr/bin/env python3
"""tests/python/test_runner_protocol.py - the Python runner
(python/ropecheck_runner) against runner/PROTOCOL.md, version 4.

Run from anywhere: python3 tests/python/test_runner_protocol.py
Exit 0 when every test passed, 77 (skipped) without numpy.

Requests are encoded by tests/python/wire.py, written from PROTOCOL.md
independently of the package's decoder, and the serve loop runs over
in-memory streams (io.BytesIO); test_runner_cli.py runs the command line
as the host does. Nothing is random beyond a fixed seed.
"""

import os
import re
import unittest

import testenv  # noqa: E402
from testenv import ROOT, np  # noqa: E402  (first: sets the path)

import wire  # noqa: E402

if np is not None:
    from ropecheck_runner import adapters, codes  # noqa: E402
    from ropepkg import rope  # noqa: E402
    from helpers import (F32, build, expected_rope, make_impl, pack, pair_ulp,  # noqa: E402
                         run, unpack, view_index)


@unittest.skipIf(np is None, "numpy not installed")
class HeaderConstants(unittest.TestCase):
    """codes.py mirrors the C headers: a renumbering there must show here."""

    def read(self, rel):
        with open(os.path.join(ROOT, rel)) as f:
            return f.read()

    def test_enums_caps_and_limits(self):
        rope_h = self.read("include/ropecheck/rope.h")
        enum = dict((k, int(v)) for k, v in re.findall(r"\b(RC_\w+)\s*=\s*(\d+)", rope_h))
        for i, n in enumerate(codes.DTYPE_NAMES):
            self.assertEqual(enum["RC_DTYPE_" + n.upper()], i)
        self.assertEqual((enum["RC_LAYOUT_INTERLEAVED"], enum["RC_LAYOUT_HALF"]),
                         (codes.INTERLEAVED, codes.HALF))
        self.assertEqual((enum["RC_FORWARD"], enum["RC_INVERSE"]), (codes.FORWARD, codes.INVERSE))
        for name in ("OK", "ERR_UNSUPPORTED", "ERR_INVALID", "ERR_NOMEM", "ERR_DEVICE",
                     "ERR_INTERNAL"):
            self.assertEqual(enum["RC_" + name], getattr(codes, name))
        self.assertEqual(enum["RC_SCALING_TABLE"], len(codes.SCALING_NAMES) - 1)
        plugin_h = self.read("include/ropecheck/plugin.h")
        caps = re.findall(r"#define RC_CAP_(\w+)\s+\(1ull << (\d+)\)", plugin_h)
        self.assertEqual(len(caps), 12)
        for name, shift in caps:
            self.assertEqual(getattr(codes, "CAP_" + name), 1 << int(shift), name)
        proto_h = self.read("runner/protocol.h")
        defs = dict(re.findall(r"#define RCRP_(\w+) \(?(0x[0-9A-Fa-f]+|\d+)u", proto_h))
        for name in ("MAGIC", "VERSION", "HELLO", "APPLY", "RESULT", "MAX_STRING"):
            self.assertEqual(int(defs[name], 0), getattr(codes, name), name)
        self.assertIn("#define RC_RUNNER_MAX_IMPLS %d" % codes.MAX_IMPLS,
                      self.read("harness/runner_client.h"))


@unittest.skipIf(np is None, "numpy not installed")
class ServeLoop(unittest.TestCase):
    """The session over in-memory streams."""

    def setUp(self):
        self.rng = np.random.default_rng(20240531)

    def test_hello(self):
        impls = [make_impl("apply", rope.apply), make_impl("plain", lambda x, p, **kw: x)]
        impls[1].available, impls[1].why = False, "no accelerator here"
        status, (version, arch, offers), results, _ = run(b"", impls)
        self.assertEqual((status, version, arch, results), (0, 4, "x86_64", []))
        self.assertEqual([o.name for o in offers], ["apply", "plain"])
        every = (codes.CAP_INTERLEAVED | codes.CAP_HALF | codes.CAP_INVERSE
                 | codes.CAP_PARTIAL_ROTARY | codes.CAP_INPLACE | codes.CAP_STRIDED
                 | codes.CAP_SCALING)
        # rope.apply declares multi_axis (off unless declared: "plain" lacks it)
        self.assertEqual(offers[0].caps,
                         every | codes.CAP_F32 | codes.CAP_F16 | codes.CAP_MULTI_AXIS)
        self.assertEqual(offers[1].caps, every | codes.CAP_F32 | codes.CAP_F64 | codes.CAP_F16)
        self.assertEqual((offers[0].available, offers[0].why), (1, ""))
        self.assertEqual((offers[1].available, offers[1].why), (0, "no accelerator here"))
        self.assertEqual(offers[0].description, "python: test:apply")

    def check_result(self, req, x, res, fn=None, dtype=None):
        """OK, the exact bits of fn's float64 result rounded by numpy (the
        plumbing), and within the rotation's tolerance of an independent
        computation (the fixture's correctness)."""
        fn, dtype = fn or rope.apply, dtype or F32
        self.assertEqual((res.status, res.message, res.flags), (0, "", 0))
        strides = req.in_strides if req.inplace else req.out_strides
        got = unpack(res.out, dtype, req, strides)
        hi, lo = req.thetas()
        y = fn(x, np.array(req.positions, dtype=np.int64), theta=np.add(hi, lo),
               layout=codes.LAYOUT_NAMES[req.layout], direction=-1 if req.direction else 1,
               out_scale=req.out_scale[0] or 1.0,
               spec={"theta_hi": np.array(hi), "theta_lo": np.array(lo)})
        y = y[0] if isinstance(y, tuple) else y
        self.assertEqual(got.tobytes(), y.astype(dtype).tobytes())
        want = expected_rope(x, req)
        # Both round float64 values within ~2^-50 of each other once: at
        # most one ulp apart (half an ulp each side, as a pair ULP).
        self.assertLessEqual(pair_ulp(got, want, x, req, dtype), 1.0)
        r = req.rotary_dim
        self.assertEqual(got[..., r:].tobytes(), x[..., r:].tobytes())  # passthrough, bits

    def test_f32_half(self):
        req, x = build(self.rng, positions=[0, 5, 1000], n_heads=2, head_dim=8)
        status, _, results, log = run(req.frame(), [make_impl("apply", rope.apply)])
        self.assertEqual((status, len(results), log), (0, 1, ""))
        self.assertEqual(len(results[0].out), req.n_tokens * req.n_heads * 8 * 4)
        self.assertEqual(results[0].table, [])
        self.check_result(req, x, results[0])

    def test_interleaved_inverse_partial_scaled(self):
        seen = {}

        def spy(x, positions, **kw):
            seen.update(kw, positions=positions, x=x)
            return rope.apply(x, positions, **kw)
        spy.ropecheck_caps = rope.apply.ropecheck_caps
        req, x = build(self.rng, layout=0, direction=1, head_dim=12, rotary_dim=8,
                       family=6, out_scale=(1.5, 0.0), positions=[7, 123456, 2 ** 31 - 1],
                       short_factor=[1.0, 1.5, 2.0, 4.0], long_factor=[1.0, 2.0, 8.0, 32.0],
                       params=(32.0, 4096, 131072, 0.0, 0.0, 0, 0.0, 0.0, 1.19, 0.0, 0.0),
                       theta_lo=[0.0, 1e-20, -2e-21, 3e-22])
        x[1, 0, 9] = np.nan  # a passthrough NaN comes back bit for bit
        req.inbuf = pack(x, F32, req, req.in_strides, 0x5A)
        status, _, results, _ = run(req.frame(), [make_impl("apply", spy)])
        self.check_result(req, x, results[0])
        spec = seen["spec"]
        self.assertEqual((seen["layout"], seen["direction"], seen["out_scale"]),
                         ("interleaved", -1, 1.5))
        self.assertEqual((spec["head_dim"], spec["rotary_dim"], spec["dtype"], spec["inplace"],
                          spec["direction"], spec["tensors"]), (12, 8, "f32", False, "inverse",
                                                                "numpy"))
        sc = spec["scaling"]
        self.assertEqual((sc["family"], sc["factor"], sc["original_context"], sc["context"],
                          sc["attention_factor"]), ("longrope", 32.0, 4096, 131072, 1.19))
        self.assertEqual(list(sc["long_factor"]), [1.0, 2.0, 8.0, 32.0])
        self.assertEqual(list(spec["theta_lo"]), [0.0, 1e-20, -2e-21, 3e-22])
        self.assertEqual(list(seen["positions"]), [7, 123456, 2 ** 31 - 1])
        self.assertEqual(seen["positions"].dtype, np.int64)
        self.assertEqual(seen["x"].dtype, np.float32)

    def test_strided_gaps_untouched(self):
        req, x = build(self.rng, n_tokens=3, n_heads=2, in_pad=(5, 3), out_pad=(7, 1))
        status, _, results, _ = run(req.frame(), [make_impl("apply", rope.apply)])
        res = results[0]
        self.assertEqual(len(res.out), len(req.outbuf))
        self.check_result(req, x, res)
        gap = np.ones(len(req.outbuf) // 4, bool)
        gap[view_index(req, req.out_strides).ravel()] = False
        got = np.frombuffer(res.out, np.uint32)
        self.assertTrue(gap.any())
        self.assertTrue((got[gap] == 0xABABABAB).all())

    def test_inplace(self):
        req, x = build(self.rng, inplace=1, in_pad=(2, 2), out_pad=(2, 2), head_dim=10,
                       rotary_dim=6, positions=[3, 99])
        status, _, results, _ = run(req.frame(), [make_impl("apply", rope.apply)])
        res = results[0]
        self.assertEqual(len(res.out), len(req.inbuf))
        self.check_result(req, x, res)
        gap = np.ones(len(req.inbuf) // 4, bool)
        gap[view_index(req, req.in_strides).ravel()] = False
        self.assertEqual(np.frombuffer(res.out, np.uint32)[gap].tobytes(),
                         np.frombuffer(req.inbuf, np.uint32)[gap].tobytes())

    def test_refused_requests_then_the_loop_goes_on(self):
        good, _ = build(self.rng)
        bad = [(build(self.rng, name="nope")[0], "this runner does not carry 'nope'"),
               (build(self.rng, head_dim=7, rotary_dim=6)[0], "head_dim 7 must be even"),
               (build(self.rng, positions=[0, -1])[0], "position -1 (token 1)"),
               (build(self.rng, theta_hi=[1.0, -0.5, 0.1, 0.01])[0], "theta[1]"),
               (build(self.rng, out_scale=(-1.0, 0.0))[0], "output scale")]
        frames = b"".join(r.frame() for r, _ in bad) + good.frame()
        status, _, results, _ = run(frames, [make_impl("apply", rope.apply)])
        self.assertEqual((status, len(results)), (0, len(bad) + 1))
        for (_, why), res in zip(bad, results):
            self.assertEqual((res.status, res.out, res.table), (codes.ERR_INVALID, b"", []))
            self.assertIn(why, res.message)
        self.assertEqual(results[-1].status, 0)

    def test_exception_path(self):
        req, _ = build(self.rng, name="raises")
        ok, x = build(self.rng)
        frames = req.frame() + req.frame() + ok.frame()
        impls = [make_impl("raises", rope.raises), make_impl("apply", rope.apply)]
        status, _, results, log = run(frames, impls)
        self.assertEqual(status, 0)
        for res in results[:2]:
            self.assertEqual((res.status, res.message, res.out, res.flags),
                             (codes.ERR_INTERNAL, "ValueError: boom", b"", 0))
        self.check_result(ok, x, results[2])
        self.assertEqual(log.count("Traceback"), 1)  # the first failure only

    def test_multi_axis(self):
        """Protocol 4: a function declaring multi_axis=True gets positions
        as (n_tokens, n_axes) and the map in spec["axes"]; one that does
        not declare it is not offered the case (and says why)."""
        seen = {}

        def spy(x, positions, **kw):
            seen.update(kw, positions=positions)
            return x
        spy.ropecheck_caps = {"multi_axis": True}
        req, _ = build(self.rng, name="spy", positions=[0, 0], head_dim=8)
        req.n_axes, req.pair_axis = 3, [0, 1, 2, 2]
        req.positions = [5, 6, 7, 100, 200, 300]
        plain, _ = build(self.rng, name="plain", positions=[0, 0], head_dim=8)
        plain.n_axes, plain.pair_axis, plain.positions = 3, [0, 1, 2, 2], req.positions
        impls = [make_impl("spy", spy), make_impl("plain", lambda x, p, **kw: x)]
        self.assertTrue(impls[0].caps & codes.CAP_MULTI_AXIS)
        self.assertFalse(impls[1].caps & codes.CAP_MULTI_AXIS)
        status, _, results, _ = run(req.frame() + plain.frame(), impls)
        self.assertEqual((status, results[0].status, results[0].message), (0, 0, ""))
        self.assertEqual(seen["positions"].tolist(), [[5, 6, 7], [100, 200, 300]])
        axes = seen["spec"]["axes"]
        self.assertEqual((axes["n_axes"], axes["pair_axis"].tolist(), axes["freq_period"]),
                         (3, [0, 1, 2, 2], 0))
        self.assertEqual(results[1].status, codes.ERR_UNSUPPORTED)
        self.assertIn("multi-axis positions (declare multi_axis=True)", results[1].message)
        bad, _ = build(self.rng, name="spy", positions=[0, 0], head_dim=8)
        bad.n_axes, bad.pair_axis, bad.positions = 3, [0, 1, 3, 2], req.positions
        status, _, results, _ = run(bad.frame(), impls)
        self.assertEqual(results[0].status, codes.ERR_INVALID)
        self.assertIn("pair 2 on axis 3 of 3", results[0].message)

    def test_unsupported(self):
        cases = [(build(self.rng, dtype=1)[0], "not offered (ropecheck_caps): dtype f64"),
                 (build(self.rng, dtype=3, name="plain")[0], "numpy has no bfloat16")]
        impls = [make_impl("apply", rope.apply), make_impl("plain", lambda x, p, **kw: x)]
        status, _, results, _ = run(b"".join(r.frame() for r, _ in cases), impls)
        for (_, why), res in zip(cases, results):
            self.assertEqual((res.status, res.out), (codes.ERR_UNSUPPORTED, b""))
            self.assertIn(why, res.message)

    def test_requests_outside_the_caps(self):
        def fn(x, positions, **kw):
            raise adapters.Unsupported("head_dim 8: kernels for 64 and 128 only")
        fn.ropecheck_caps = {"dtypes": ["f32", "f64"], "layouts": ["interleaved"],
                             "inverse": False, "partial_rotary": False, "inplace": False,
                             "strided": False, "scaling": False}
        interleaved = {"layout": 0}
        cases = [({"layout": 1}, "the half layout"),
                 (dict(interleaved, direction=1), "the inverse direction"),
                 (dict(interleaved, rotary_dim=4), "partial rotary (rotary_dim < head_dim)"),
                 (dict(interleaved, inplace=1), "in-place operation"),
                 (dict(interleaved, in_pad=(0, 1)), "strided tensors"),
                 (dict(interleaved, out_scale=(2.0, 0.0)), "frequency scaling"),
                 (dict(interleaved, family=1), "frequency scaling"),
                 (dict(interleaved, dtype=2), "dtype f16"),
                 (interleaved, "head_dim 8: kernels for 64 and 128 only")]
        frames = b"".join(build(self.rng, **kw)[0].frame() for kw, _ in cases)
        status, (_, _, offers), results, log = run(frames, [make_impl("apply", fn)])
        self.assertEqual(offers[0].caps, codes.CAP_F32 | codes.CAP_F64 | codes.CAP_INTERLEAVED)
        for (_, why), res in zip(cases[:-1], results):
            self.assertEqual((res.status, res.out), (codes.ERR_UNSUPPORTED, b""))
            self.assertEqual(res.message, "not offered (ropecheck_caps): " + why)
        self.assertEqual((results[-1].status, results[-1].message),
                         (codes.ERR_UNSUPPORTED, cases[-1][1]))  # raised, said as is
        self.assertEqual(log, "")  # a refusal is no failure: no traceback

    def test_caps_declarations(self):
        @adapters.rope_caps(dtypes=["f16", "bf16"], layouts=["half"], scaling=False)
        def fn(x, positions, **kw):
            return x
        self.assertEqual(fn.ropecheck_caps["layouts"], ["half"])
        numpy_dtypes = codes.CAP_F32 | codes.CAP_F64 | codes.CAP_F16
        self.assertEqual(adapters.parse_caps(fn.ropecheck_caps, numpy_dtypes),
                         codes.CAP_F16 | codes.CAP_HALF | codes.CAP_INVERSE
                         | codes.CAP_PARTIAL_ROTARY | codes.CAP_INPLACE | codes.CAP_STRIDED)
        bad = [({"dtype": ["f32"]}, "unknown ropecheck_caps key 'dtype'"),
               ({"dtypes": ["f8"]}, "unknown 'f8'"),
               ({"layouts": "half"}, "must be a list of names"),
               ({"inverse": 1}, "must be True or False"),
               (["f32"], "must be a dict")]
        for declared, why in bad:
            with self.assertRaises(adapters.CapsError) as err:
                adapters.parse_caps(declared, numpy_dtypes)
            self.assertIn(why, str(err.exception))
        with self.assertRaises(adapters.CapsError):
            adapters.rope_caps(strided="no")
        # bf16_bits offers bf16 where the mode has no bf16 type, and only then
        # matters: without it numpy mode drops bf16 from the declaration.
        bits = {"dtypes": ["f32", "bf16"], "bf16_bits": True}
        self.assertEqual(adapters.parse_caps(bits, numpy_dtypes) & ~codes.CAP_F32 & 0xF,
                         codes.CAP_BF16)
        self.assertFalse(adapters.parse_caps({"dtypes": ["bf16"]}, numpy_dtypes) & codes.CAP_BF16)
        self.assertFalse(adapters.parse_caps({"dtypes": ["f32"], "bf16_bits": True},
                                             numpy_dtypes) & codes.CAP_BF16)
        with self.assertRaises(adapters.CapsError) as err:
            adapters.parse_caps({"bf16_bits": "yes"}, numpy_dtypes)
        self.assertIn("must be True or False", str(err.exception))

    def test_numpy_mode_takes_bf16_bits_as_they_are(self):
        from ropecheck_runner import modes
        m = modes.NumpyMode()
        bits = np.array([0x3F80, 0x7FC1, 0x0001, 0xFF80], dtype=np.uint16)
        self.assertEqual(m.to_wire(bits, codes.BF16).tobytes(), bits.tobytes())
        # floats are rounded once: 1 + 2^-9 is a tie, to even (1.0 = 0x3F80)
        self.assertEqual(m.to_wire(np.array([1.0 + 2.0 ** -9]), codes.BF16).tolist(), [0x3F80])

    def test_table_reported(self):
        req, x = build(self.rng, name="t", rotary_dim=8, head_dim=8)
        status, _, results, _ = run(req.frame(), [make_impl("t", rope.apply_f32_table)])
        hi, _ = req.thetas()
        self.assertEqual(results[0].table, [float(np.float32(t)) for t in hi])
        self.check_result(req, x, results[0], fn=rope.apply_f32_table)

    def test_print_does_not_corrupt_frames(self):
        req, x = build(self.rng, name="prints")
        status, _, results, log = run(req.frame() * 2, [make_impl("prints", rope.prints)])
        self.assertEqual((status, log), (0, "hello\nhello\n"))
        self.check_result(req, x, results[1])

    def test_write_into_input_is_reported(self):
        def clobber(x, positions, **kw):
            y = rope.apply(x, positions, **kw)
            x[:, :, 0] = 0.0  # out of place: the host must hear of this
            return y
        req, x = build(self.rng, in_pad=(1, 2))
        status, _, results, _ = run(req.frame(), [make_impl("apply", clobber)])
        res = results[0]
        self.assertEqual((res.status, res.flags), (0, 1))
        want = bytearray(req.inbuf)
        arr = np.frombuffer(want, F32)
        arr[view_index(req, req.in_strides)[:, :, 0]] = 0.0
        self.assertEqual(res.input, bytes(want))

    def test_bad_results(self):
        cases = [(lambda x, p, **kw: x[:, :, :4], "shape (2, 1, 4); (2, 1, 8) was expected"),
                 (lambda x, p, **kw: (x, x, x), "a tuple of 3 items"),
                 (lambda x, p, **kw: (x, [1.0]), "table of shape (1,)"),
                 (lambda x, p, **kw: x.astype(np.int32), "float array is expected")]
        for fn, why in cases:
            req, _ = build(self.rng)
            status, _, results, _ = run(req.frame(), [make_impl("apply", fn)])
            self.assertEqual(results[0].status, codes.ERR_INTERNAL)
            self.assertIn(why, results[0].message)

    def test_malformed_input_exits_2_with_one_line(self):
        req, _ = build(self.rng)
        frame = req.frame()
        long_name = wire.Apply(name="a" * 4097).payload()
        cases = [(req.frame(magic=0x12345678), "bad magic"),
                 (req.frame(ftype=wire.HELLO), "unexpected frame type 1"),
                 (req.frame(length_delta=8), "payload length does not match"),
                 (req.frame(length_delta=-8), "payload length does not match"),
                 (frame[:-5], "truncated"),
                 (frame[:10], "truncated"),
                 (wire.u32(wire.MAGIC) + wire.u32(2) + wire.u64(1 << 40), "beyond the limit"),
                 (wire.u32(wire.MAGIC) + wire.u32(2) + wire.u64(len(long_name)) + long_name,
                  "name longer than 4096"),
                 (build(self.rng, short_factor=[1.0], long_factor=[1.0])[0].frame(),
                  "1 scaling factors for 4 pairs"),
                 (build(self.rng, inplace=1, in_pad=(1, 0), out_pad=(0, 0))[0].frame(),
                  "inconsistent shape")]
        for data, why in cases:
            status, _, results, log = run(frame + data, [make_impl("apply", rope.apply)])
            self.assertEqual((status, len(results)), (2, 1), why)
            self.assertEqual(len(log.splitlines()), 1, log)
            self.assertIn(why, log)
            self.assertTrue(log.startswith("ropecheck-runner-py: malformed input: "), log)


if __name__ == "__main__":
    testenv.main()

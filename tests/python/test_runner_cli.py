#!/usr/bin/env python3
"""tests/python/test_runner_cli.py - `python3 -m ropecheck_runner` as
ropecheck starts it: a subprocess with pipes, frames in and out (encoded
and decoded by tests/python/wire.py), stderr for everything else.

Run from anywhere: python3 tests/python/test_runner_cli.py
Exit 0 when every test passed, 77 (skipped) without numpy.
"""

import os
import subprocess
import sys
import tempfile
import unittest

import testenv  # noqa: E402
from testenv import HERE, ROOT, np  # noqa: E402  (first: sets the path)

import wire  # noqa: E402

if np is not None:
    from ropecheck_runner import codes  # noqa: E402
    from helpers import F32, build, expected_rope, pair_ulp, unpack  # noqa: E402


@unittest.skipIf(np is None, "numpy not installed")
class CommandLine(unittest.TestCase):
    """python3 -m ropecheck_runner as the host runs it: pipes, a subprocess."""

    def cli(self, args, stdin=b"", pre="", cwd=HERE):
        env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"))
        cmd = [sys.executable, "-m", "ropecheck_runner"] + args
        if pre:  # run main() after some setup code, in the same process
            cmd = [sys.executable, "-c", pre + "\nfrom ropecheck_runner.__main__ import main; "
                   "main(%r)" % (args,)]
        p = subprocess.run(cmd, input=stdin, capture_output=True, cwd=cwd, env=env,
                           timeout=120)
        return p.returncode, p.stdout, p.stderr.decode()

    def test_session_survives_every_kind_of_stdout_write(self):
        rng = np.random.default_rng(7)
        req, x = build(rng)
        bad, _ = build(rng, name="raises")
        rc, out, err = self.cli(["ropepkg.noisy:apply", "ropepkg.rope:raises"],
                                req.frame() + bad.frame())
        self.assertEqual(rc, 0, err)
        frames = wire.split_frames(out)
        self.assertEqual([t for t, _ in frames], [wire.HELLO, wire.RESULT, wire.RESULT])
        version, _, offers = wire.parse_hello(frames[0][1])
        self.assertEqual((version, [o.name for o in offers]), (4, ["apply", "raises"]))
        self.assertEqual(offers[0].description, "python: ropepkg.noisy:apply (numpy)")
        ok, failed = (wire.parse_result(p) for _, p in frames[1:])
        self.assertEqual((ok.status, failed.status, failed.message),
                         (0, codes.ERR_INTERNAL, "ValueError: boom"))
        got = unpack(ok.out, F32, req, req.out_strides)
        self.assertLessEqual(pair_ulp(got, expected_rope(x, req), x, req, F32), 1.0)
        for line in ("noisy: imported", "noisy: print", "noisy: sys.stdout", "noisy: fd 1"):
            self.assertIn(line, err)

    def test_truncated_frame(self):
        req, _ = build(np.random.default_rng(1))
        rc, out, err = self.cli(["ropepkg.rope:apply"], req.frame()[:-3])
        self.assertEqual(rc, 2)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertIn("malformed input: truncated frame", err)
        self.assertEqual([t for t, _ in wire.split_frames(out)], [wire.HELLO])

    def test_start_failures_say_one_line_before_the_hello(self):
        cases = [(["nosuchmod:apply"], "cannot import nosuchmod: ModuleNotFoundError"),
                 (["ropepkg.rope:nope"], "ropepkg.rope has no attribute 'nope'"),
                 (["ropepkg.rope"], "is not MODULE:FUNCTION"),
                 (["ropepkg.rope:apply", "ropepkg.rope:apply"], "two implementations"),
                 (["ropepkg.rope:apply=Bad!"], "not a valid implementation name"),
                 (["ropepkg.rope:C0"], "ropepkg.rope:C0 is not callable")]
        for args, why in cases:
            rc, out, err = self.cli(args)
            self.assertEqual((rc, out), (2, b""), err)
            self.assertEqual(len(err.strip().splitlines()), 1, err)
            self.assertIn(why, err)

    def test_names_list_and_help(self):
        rc, out, err = self.cli(["--list", "ropepkg.rope:apply=exact", "ropepkg.rope:raises"])
        self.assertEqual(rc, 0, err)
        self.assertRegex(out.decode(), r"exact\s+available\s+python: ropepkg.rope:apply")
        rc, out, _ = self.cli(["--name", "mine", "ropepkg.rope:apply"])
        self.assertEqual([o.name for o in wire.parse_hello(wire.split_frames(out)[0][1])[2]],
                         ["mine"])
        rc, out, _ = self.cli(["--help"])
        self.assertEqual(rc, 0)
        self.assertIn(b"ropecheck verify --runner \"python3 -m ropecheck_runner", out)

    def test_missing_numpy_and_broken_modules(self):
        rc, out, err = self.cli(["ropepkg.rope:apply"],
                                pre="import sys; sys.modules['numpy'] = None")
        self.assertEqual((rc, out), (2, b""))
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertIn("numpy is not installed", err)
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, "broken.py"), "w") as f:
                f.write("import os\nundefined_name\n")
            rc, out, err = self.cli(["broken:apply"], cwd=tmp)
        self.assertEqual((rc, out), (2, b""))
        self.assertEqual(err.strip(), "ropecheck-runner-py: cannot import broken: NameError: "
                                      "name 'undefined_name' is not defined (broken.py:2)")

    def test_bf16_only_in_numpy_mode_is_unavailable(self):
        pre = ("import sys, types; m = types.ModuleType('bfmod'); sys.modules['bfmod'] = m\n"
               "def apply(x, positions, **kw): return x\n"
               "apply.ropecheck_caps = {'dtypes': ['bf16']}; m.apply = apply")
        rc, out, err = self.cli(["bfmod:apply"], pre=pre)
        offer = wire.parse_hello(wire.split_frames(out)[0][1])[2][0]
        self.assertEqual((rc, offer.available, offer.why),
                         (0, 0, "declares no dtype that --tensors numpy carries"))

    def test_torch_mode_without_torch_says_unavailable(self):
        # ropepkg.torch_rope imports torch itself: still a hello, not a failed start.
        rc, out, err = self.cli(["--tensors", "torch", "ropepkg.rope:apply",
                                 "ropepkg.torch_rope:apply=t"],
                                pre="import sys; sys.modules['torch'] = None")
        self.assertEqual(rc, 0, err)
        offers = wire.parse_hello(wire.split_frames(out)[0][1])[2]
        missing = (0, "torch is not installed")
        self.assertEqual([(o.name, o.available, o.why) for o in offers],
                         [("apply",) + missing, ("t",) + missing])
        self.assertEqual(offers[0].description, "python: ropepkg.rope:apply (torch, cpu)")
        rc, out, err = self.cli(["ropepkg.torch_rope:apply"],  # numpy mode: a plain failure
                                pre="import sys; sys.modules['torch'] = None")
        self.assertEqual((rc, out), (2, b""))
        self.assertIn("cannot import ropepkg.torch_rope: ModuleNotFoundError", err)

    def test_too_many_implementations(self):
        rc, out, err = self.cli(["ropepkg.rope:apply=a%d" % i for i in range(9)])
        self.assertEqual((rc, out), (2, b""))
        self.assertIn("at most 8 implementations", err)


if __name__ == "__main__":
    testenv.main()

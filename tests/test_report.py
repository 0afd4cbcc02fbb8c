#!/usr/bin/env python3
"""tests/test_report.py - `ropecheck report` and the results schema.

Run by ctest (tests/CMakeLists.txt) as three entries, one per class, so that
a skipped class shows as "Skipped" in ctest rather than as a pass:
  ReportTests      fixtures -> report.html + report.md; refusals (exit 2)
  SchemaTests      REAL verify, prove and bench output, written by the built
                   command during the test, validated against
                   reports/schema/results.schema.json (skips without
                   python3-jsonschema, saying so)
  ScreenshotTests  report.html rendered by headless Chromium: a 1280x2000
                   PNG that is not blank (skips without chromium, saying so)

Environment (set by CMake): ROPECHECK_BIN (the built command),
ROPECHECK_SOURCE_DIR (the source tree), ROPECHECK_MUTANT_CRASH (a plug-in
that crashes). Nothing here is random: no seed to print.
"""

import base64
import html
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest
import zlib

BIN = os.environ.get("ROPECHECK_BIN", "ropecheck")
SRC = os.environ.get("ROPECHECK_SOURCE_DIR",
                     os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(SRC, "tests", "data", "reports")
SCHEMA = os.path.join(SRC, "reports", "schema", "results.schema.json")
FIXTURES = [os.path.join(DATA, f) for f in ("verify.json", "prove.json", "bench.json")]


def run(*args, timeout=300):
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=timeout)


class TempDirCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="rc_report_")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def path(self, *names):
        return os.path.join(self.tmp, *names)

    def write_json(self, name, doc):
        p = self.path(name)
        with open(p, "w", encoding="utf-8") as f:
            json.dump(doc, f)
        return p


def load(p):
    with open(p, encoding="utf-8") as f:
        return json.load(f)


def png_size(data):
    """Width and height from a PNG's IHDR (the first chunk, by the format)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


def png_distinct_pixels(path):
    """Distinct RGB(A) pixel values of an 8-bit, non-interlaced PNG (what
    Chromium writes), decoded with zlib alone: filters undone row by row."""
    with open(path, "rb") as f:
        data = f.read()
    w, h = png_size(data)
    depth, ctype, interlace = data[24], data[25], data[28]
    assert depth == 8 and ctype in (2, 6) and interlace == 0, (depth, ctype, interlace)
    bpp = 3 if ctype == 2 else 4
    idat, pos = b"", 8
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    seen = set()
    for y in range(h):
        ft = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ft == 1:
                line[i] = (line[i] + a) & 255
            elif ft == 2:
                line[i] = (line[i] + b) & 255
            elif ft == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ft == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        if y % 4 == 0:  # every 4th row is plenty to tell a page from a blank
            seen.update(bytes(line[i:i + 3]) for i in range(0, stride, bpp))
        prev = line
    return (w, h), seen


class ReportTests(TempDirCase):
    """The report from the checked-in fixtures: a failing gate (mutant_wrong),
    a crashed implementation (mutant_crash), proofs with findings, bench."""

    def make_report(self, inputs, out="out"):
        r = run("report", *inputs, "-o", self.path(out))
        return r, self.path(out)

    def test_fixtures_give_both_files(self):
        r, out = self.make_report(FIXTURES)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(out, "report.html"), encoding="utf-8") as f:
            page = f.read()
        with open(os.path.join(out, "report.md"), encoding="utf-8") as f:
            md = f.read()
        # Self-contained: no stylesheet, script or image fetched from anywhere.
        self.assertNotRegex(page, r'<(link|script)\b')
        self.assertNotRegex(page, r'src="(?!data:image/png;base64,)')
        imgs = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
        # position, histogram, Figure 2, throughput, fraction of probe
        self.assertEqual(len(imgs), 5)
        for b64 in imgs:
            w, h = png_size(base64.b64decode(b64))
            self.assertGreater(w, 300)
            self.assertGreater(h, 200)
        # The markdown's figures are files beside it, the same five.
        pngs = re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", md)
        self.assertEqual(len(pngs), 5)
        for p in pngs:
            with open(os.path.join(out, p), "rb") as f:
                png_size(f.read())
        for text in (html.unescape(page), md):
            def has(needle):
                self.assertTrue(needle in text, f"{needle!r} not in the report")
            has("BROKEN")
            has("FAIL")
            has("crashed: SIGSEGV")   # the reason of the crash
            has("max pair ULP 3.321e+07 > gate 2")  # the failed gate
            # the replay command of the worst failing case, verbatim
            has("ropecheck verify --plugin build-lead/tests/mutants/mutant_wrong.so "
                          "--dtype f32 --layout half --direction forward")
            has("relative position broken")  # a prove finding
            has("AMD EPYC")  # host CPU in the header
            has("verify.json (verify)")
        self.assertIn("Figure 2", page)

    def test_verify_only_notes_what_is_missing(self):
        r, out = self.make_report(FIXTURES[:1])
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(out, "report.md"), encoding="utf-8") as f:
            md = f.read()
        self.assertIn("No bench results", md)
        self.assertIn("No prove results", md)
        self.assertEqual(len(re.findall(r"!\[", md)), 2)

    def test_bench_without_fraction_skips_that_figure_visibly(self):
        doc = load(FIXTURES[2])
        for c in doc["ropecheck"]["cases"]:
            for v in ("cold", "hot"):
                if isinstance(c.get(v), dict):
                    c[v].pop("fraction_of_probe", None)
        p = self.write_json("bench_nofrac.json", doc)
        r, out = self.make_report([p])
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(out, "report.html"), encoding="utf-8") as f:
            page = f.read()
        self.assertIn("no fraction_of_probe: that figure skipped", page)
        self.assertEqual(page.count("data:image/png;base64,"), 1)  # throughput only

    def test_specs_are_told_apart(self):
        """Two real verify files, the plain spec passing and YaRN failing a
        tightened gate: one row each in "Accuracy by specification", and the
        failing case names its spec wherever it is listed."""
        plain, yarn = self.path("plain.json"), self.path("yarn.json")
        small = ["--impl", "scalar", "--dtype", "f32", "--heads", "1", "--quiet"]
        r = run("verify", *small, "--layout", "half", "--positions", "0:3,4095", "--json", plain)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run("verify", *small, "--model", "qwen2-7b-instruct-yarn", "--positions",
                "0:3,100000", "--gate", "pair=0.1", "--json", yarn)
        self.assertEqual(r.returncode, 1, r.stderr)  # 0.5 ULP > gate 0.1
        r, out = self.make_report([plain, yarn])
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(out, "report.md"), encoding="utf-8") as f:
            md = f.read()
        section = md.split("## Accuracy by specification", 1)[1].split("\n## ", 1)[0]
        rows = [[x.strip() for x in line.strip("|").split(" | ")]
                for line in section.splitlines() if re.match(r"\| \d+ \|", line)]
        self.assertEqual(len(rows), 2, section)
        header = next(line for line in section.splitlines() if line.startswith("| spec |"))
        self.assertEqual([x.strip() for x in header.strip("|").split(" | ")],
                         ["spec", "d", "r", "base", "scaling", "profile", "scalar"])
        self.assertEqual(rows[0][:6], ["1", "128", "128", "10000", "none", "exact"])
        self.assertRegex(rows[0][6], r"^pass 0\.\d+$")
        self.assertEqual(rows[1][:4], ["2", "128", "128", "1000000"])
        self.assertTrue(rows[1][4].startswith("yarn factor=4 original=32768"), rows[1])
        self.assertEqual(rows[1][5], "exact")
        self.assertRegex(rows[1][6], r"^\*\*FAIL 0\.\d+\*\*$")
        # The failure's reason and its worst-case row say which spec it ran under.
        self.assertIn("| scalar f32 half forward, spec 2 (yarn, exact) | **FAIL** | "
                      "max pair ULP", md)
        worst = md.split("## Worst cases", 1)[1]
        self.assertIn("| scalar f32 half forward, spec 2 (yarn, exact) | **FAIL** |", worst)
        self.assertIn("| scalar f32 half forward, spec 1 (none, exact) | pass |", worst)
        with open(os.path.join(out, "report.html"), encoding="utf-8") as f:
            page = f.read()
        self.assertRegex(page, r'<td class="FAIL">FAIL 0\.\d+</td>')

    def refused(self, inputs, needle):
        r, out = self.make_report(inputs)
        self.assertEqual(r.returncode, 2, r.stderr)
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn(needle, lines[0])
        self.assertFalse(os.path.exists(os.path.join(out, "report.html")))
        return lines[0]

    def test_other_major_version_is_refused(self):
        doc = load(FIXTURES[0])
        doc["schema_version"] = "2.0"
        p = self.write_json("v2.json", doc)
        # Even next to good files: nothing is written.
        line = self.refused([FIXTURES[1], p], "v2.json")
        self.assertIn("major version 2", line)

    def test_newer_minor_version_is_read(self):
        doc = load(FIXTURES[1])
        doc["schema_version"] = "1.7"
        doc["a_key_from_the_future"] = {"x": 1}
        r, _ = self.make_report([self.write_json("v17.json", doc)])
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_missing_or_foreign_schema_is_refused(self):
        doc = load(FIXTURES[1])
        del doc["schema"]
        self.refused([self.write_json("noschema.json", doc)], "not a ropecheck results file")
        doc["schema"] = "someone.else"
        self.refused([self.write_json("foreign.json", doc)], "someone.else")
        doc = load(FIXTURES[1])
        del doc["schema_version"]
        self.refused([self.write_json("nover.json", doc)], "schema_version")

    def test_invalid_json_and_missing_file_name_the_file(self):
        p = self.path("broken.json")
        with open(p, "w") as f:
            f.write('{"schema": "ropecheck.results", ')
        self.refused([p], "broken.json: invalid JSON")
        self.refused([self.path("absent.json")], "absent.json: cannot read")

    def test_structurally_wrong_file_is_refused(self):
        doc = load(FIXTURES[0])
        doc["verify"][0]["verdict"] = 42
        self.refused([self.write_json("wrong.json", doc)], "wrong.json")

    def test_usage(self):
        r = run("report")
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage: ropecheck report", r.stderr)
        r = run("report", FIXTURES[0])  # no -o
        self.assertEqual(r.returncode, 2)
        r = run("report", "--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("report.html", r.stdout)

    def test_script_location_is_overridable(self):
        env = dict(os.environ, ROPECHECK_REPORTS_DIR=self.path("nowhere"))
        r = subprocess.run([BIN, "report", FIXTURES[0], "-o", self.path("o")],
                           capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(r.returncode, 2)
        self.assertIn("nowhere/ropecheck_report.py", r.stderr)


class SchemaTests(TempDirCase):
    """Real output of the built command, written now, against the schema."""

    def setUp(self):
        super().setUp()
        try:
            import jsonschema
        except ImportError:
            self.skipTest("python3-jsonschema is not installed (tools/setup-debian.sh "
                          "installs it): real output not validated")
        with open(SCHEMA, encoding="utf-8") as f:
            schema = json.load(f)
        jsonschema.Draft202012Validator.check_schema(schema)
        self.validator = jsonschema.Draft202012Validator(schema)

    def assertValid(self, path):
        doc = load(path)
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
                  for e in self.validator.iter_errors(doc)]
        self.assertEqual(errors, [], path)
        return doc

    def test_real_verify_output(self):
        crash = os.environ.get("ROPECHECK_MUTANT_CRASH")
        args = ["verify", "--impl", "scalar", "--dtype", "f32,bf16", "--layout", "half,interleaved",
                "--heads", "2", "--head-dim", "32", "--positions", "0:7,100,4095,2147483647",
                "--quiet", "--json", self.path("v.json")]
        if crash:
            args[3:3] = ["--plugin", crash]
        r = run(*args)
        self.assertIn(r.returncode, (0, 3) if crash else (0,), r.stderr)
        doc = self.assertValid(self.path("v.json"))
        verdicts = {c["verdict"] for c in doc["verify"]}
        self.assertIn("pass", verdicts)
        if crash:
            self.assertIn("BROKEN", verdicts)
        # The schema must also reject what it should: a foreign verdict.
        doc["verify"][0]["verdict"] = "maybe"
        self.assertTrue(list(self.validator.iter_errors(doc)))
        # And the report reads it.
        r = run("report", self.path("v.json"), "-o", self.path("out"))
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_real_prove_output(self):
        r = run("prove", "--impl", "scalar", "--layout", "half", "--json", self.path("p.json"))
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = self.assertValid(self.path("p.json"))
        self.assertTrue(doc["prove"])
        self.assertTrue(doc["figure2"]["distance"])

    def test_real_bench_output(self):
        r = run("bench", "--impl", "scalar", "--shape", "phi-2", "--mode", "decode-b1",
                "--dtype", "f32", "--min-time", "0.001", "--no-reference", "--quiet",
                "--json", self.path("b.json"))
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = self.assertValid(self.path("b.json"))
        self.assertTrue(doc["ropecheck"]["cases"])

    def test_fixtures_are_valid(self):
        for p in FIXTURES:
            self.assertValid(p)


class ScreenshotTests(TempDirCase):
    """report.html as a browser shows it: headless Chromium, 1280x2000."""

    def test_screenshot_is_not_blank(self):
        browser = shutil.which("chromium") or shutil.which("chromium-browser")
        if not browser:
            self.skipTest("chromium is not installed (tools/setup-debian.sh installs it): "
                          "report.html not rendered")
        r = run("report", *FIXTURES, "-o", self.path("out"))
        self.assertEqual(r.returncode, 0, r.stderr)
        shot = self.path("shot.png")
        url = "file://" + os.path.abspath(self.path("out", "report.html"))
        b = subprocess.run([browser, "--headless", "--disable-gpu", "--no-sandbox",
                            "--hide-scrollbars", f"--user-data-dir={self.path('profile')}",
                            f"--screenshot={shot}", "--window-size=1280,2000", url],
                           capture_output=True, text=True, timeout=180)
        self.assertTrue(os.path.exists(shot), b.stderr[-2000:])
        (w, h), colours = png_distinct_pixels(shot)
        self.assertEqual((w, h), (1280, 2000))
        # A blank or error page has a handful of colours; text, coloured
        # verdict cells and anti-aliased plots have thousands.
        self.assertGreater(len(colours), 200, f"{len(colours)} distinct colours")
        print(f"screenshot {shot}: {w}x{h}, {len(colours)} distinct colours", file=sys.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)

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
import contextlib
import html
import io
import json
import os
import re
import resource
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
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


def report_module():
    """reports/ropecheck_report.py imported in this process, for the tests
    that run it thousands of times (a process each would take minutes)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "ropecheck_report", os.path.join(SRC, "reports", "ropecheck_report.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def md_text(md):
    """Markdown source as the reader sees its text: entities decoded,
    backslash escapes undone (enough for the report's own escaping)."""
    return html.unescape(re.sub(r"\\([\\`*_\[\]|~$])", r"\1", md))


def unescaped_pipes(line):
    """The | that split a GFM table row: those not after a backslash (the
    rule of both cmark-gfm and markdown-it)."""
    return len(re.findall(r"(?<!\\)\|", line))


def md_tables(md):
    """Each Markdown table: its lines (header, delimiter, rows)."""
    tables, cur = [], []
    for line in md.split("\n"):
        if line.startswith("|"):
            cur.append(line)
        elif cur:
            tables.append(cur)
            cur = []
    return tables + ([cur] if cur else [])


def large_verify_doc(n_cases):
    """A valid verify file of n_cases rows, each a slimmed copy of a fixture
    case (3 position buckets, the histogram; worst_pair only on failures):
    16 implementations, 4 dtypes, 2 layouts, 2 directions, a new spec (base)
    every 64 cases; 5% FAIL, 2% BROKEN, 2% skip, the rest pass.
    50,000 cases are about 70 MB."""
    doc = load(FIXTURES[0])
    slim = {}
    for c in doc["verify"]:
        c = dict(c)
        for k in ("worst_component", "reference", "special_values"):
            c.pop(k, None)
        if "pair_ulp_by_position" in c:
            c["pair_ulp_by_position"] = c["pair_ulp_by_position"][::15]
        if c["verdict"] != "FAIL":
            c.pop("worst_pair", None)
        slim[c["verdict"]] = c
    skip = dict(slim["BROKEN"], verdict="skip", reason="not supported: f16")
    del skip["call"]
    slim["skip"] = skip
    cases = []
    dts, lays, dirs = ("f32", "f64", "f16", "bf16"), ("half", "interleaved"), ("forward", "inverse")
    for i in range(n_cases):
        r = i % 100
        v = "FAIL" if r < 5 else "BROKEN" if r < 7 else "skip" if r < 9 else "pass"
        c = dict(slim[v])
        c.update(impl=f"impl{(i // 16) % 16:02d}", dtype=dts[i % 4], layout=lays[(i // 4) % 2],
                 direction=dirs[(i // 8) % 2], base=10000 + i // 64)
        cases.append(c)
    doc["verify"] = cases
    return doc


def small_fixtures():
    """The three fixtures cut to a few cases each: the same shapes of data,
    quick to check thousands of times."""
    v, p, b = (load(f) for f in FIXTURES)
    v["verify"] = [v["verify"][4], v["verify"][6]]  # a FAIL with statistics, a BROKEN
    p["prove"] = [p["prove"][0], p["prove"][-1]]
    for k in ("distance", "relative_upper_bound"):
        p["figure2"][k] = p["figure2"][k][:5]
    rc = b["ropecheck"]
    rc["cases"] = rc["cases"][:2] + [c for c in rc["cases"] if c["outcome"] != "ran"][:1]
    rc["probes"] = rc["probes"][:1]
    rc["reference"] = rc["reference"][:1]
    b["benchmarks"] = b["benchmarks"][:1]
    return {"verify": v, "prove": p, "bench": b}


BAD_VALUES = (None, True, -1, 0, 1e308, "x", "inf", [], {})


def mutations(doc):
    """[(path, value)]: every value of doc (of a list, its first item)
    replaced in turn by each of BAD_VALUES, or (path, DELETE) dropped.
    Google Benchmark's own blocks (context, benchmarks) are not walked:
    the report never reads them."""
    out = []

    def walk(x, path):
        items = list(x.items()) if isinstance(x, dict) else list(enumerate(x[:1]))
        for k, v in items:
            if isinstance(v, (dict, list)) and k not in ("context", "benchmarks"):
                walk(v, path + [k])
            out.extend((path + [k], bad) for bad in BAD_VALUES
                       if not (type(bad) is type(v) and bad == v))
            if isinstance(x, dict):
                out.append((path + [k], DELETE))
    walk(doc, [])
    return out


DELETE = object()


def mutated(doc, path, value):
    doc = json.loads(json.dumps(doc))
    x = doc
    for k in path[:-1]:
        x = x[k]
    if value is DELETE:
        del x[path[-1]]
    else:
        x[path[-1]] = value
    return doc


class StubPlot:
    """Stands in for matplotlib.pyplot: accepts every call. The report's
    own code around the figures runs; nothing is drawn."""

    def __getattr__(self, name):
        return self

    def __call__(self, *args, **kwargs):
        return self

    def __getitem__(self, key):
        return self

    def __iter__(self):
        return iter([self] * 16)

    def subplots(self, *args, **kwargs):
        return StubPlot(), StubPlot()


class ReportTests(TempDirCase):
    """The report from the checked-in fixtures: a failing gate (mutant_wrong),
    a crashed implementation (mutant_crash), proofs with findings, bench."""

    def make_report(self, inputs, out="out", timeout=300):
        r = run("report", *inputs, "-o", self.path(out), timeout=timeout)
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
        for text in (html.unescape(page), md_text(md)):
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

    def refused(self, inputs, needle, timeout=300):
        r, out = self.make_report(inputs, timeout=timeout)
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
        self.assertRegex(r.stderr, r"^ropecheck report: the following arguments are required: "
                         r"-o/--output \(usage: ropecheck report RESULTS.json... -o DIR\)\n$")
        r = run("report", "--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("report.html", r.stdout)

    def test_script_location_is_overridable(self):
        env = dict(os.environ, ROPECHECK_REPORTS_DIR=self.path("nowhere"))
        r = subprocess.run([BIN, "report", FIXTURES[0], "-o", self.path("o")],
                           capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(r.returncode, 2)
        self.assertIn("nowhere/ropecheck_report.py", r.stderr)


    # ---------------------------------------------------- at a glance (issue 17)

    def read_report(self, out):
        with open(os.path.join(out, "report.html"), encoding="utf-8") as f:
            page = f.read()
        with open(os.path.join(out, "report.md"), encoding="utf-8") as f:
            md = f.read()
        return page, md

    def test_skips_are_one_row_per_implementation_and_reason(self):
        """40 cases of one implementation skipped for one reason are one row
        "cuda: 40 cases skipped" beside the reason, not 40 rows; another
        reason of another implementation is a row of its own."""
        doc = load(FIXTURES[0])
        model = doc["verify"][0]
        extra = []
        for i in range(40):
            c = dict(model, impl="cuda", verdict="skip", reason="unavailable: no CUDA device",
                     dtype=("f32", "bf16")[i % 2], base=10000 + i // 4)
            for k in ("worst_pair", "pair_ulp_by_position", "pair_ulp_histogram", "cause",
                      "finding"):
                c.pop(k, None)
            extra.append(c)
        for reason in ("not supported: f16", "not supported: f16", "not supported: strided"):
            extra.append(dict(extra[0], impl="avx2", reason=reason))
        doc["verify"] += extra
        r, out = self.make_report([self.write_json("skips.json", doc)])
        self.assertEqual(r.returncode, 0, r.stderr)
        page, md = self.read_report(out)
        reasons = next(t for t in md_tables(md) if t[0].startswith("| case | verdict | reason |"))
        cuda = [row for row in reasons if "no CUDA device" in row]
        self.assertEqual(cuda, ["| cuda: 40 cases skipped | skip | "
                                "unavailable: no CUDA device |  |"])
        self.assertIn("| avx2: 2 cases skipped | skip | not supported: f16 |  |", reasons)
        self.assertIn("| avx2: 1 case skipped | skip | not supported: strided |  |", reasons)
        # The failures are still listed one by one, before the skips.
        fails = [i for i, row in enumerate(reasons) if "| **FAIL** |" in row or "**BROKEN**" in row]
        self.assertEqual(len(fails), 4)
        self.assertLess(max(fails), reasons.index(cuda[0]))
        self.assertEqual(page.count("no CUDA device"), 1)
        self.assertIn('<td>cuda: 40 cases skipped</td><td class="skip">skip</td>', page)

    def many_impls_bench(self, n=8):
        """The bench fixture with n more implementations (copies of avx2 at
        other speeds): 10 implementations, 3 shapes, 2 dtypes."""
        doc = load(FIXTURES[2])
        rc = doc["ropecheck"]
        avx2 = [c for c in rc["cases"] if c["impl"] == "avx2"]
        for k in range(n):
            for c in avx2:
                c = json.loads(json.dumps(c))
                c["impl"] = f"plugin-port-{k}"
                for v in ("cold", "hot"):
                    for key in ("gb_per_second", "fraction_of_probe"):
                        if key in c[v]:
                            c[v][key] *= 0.4 + 0.15 * k
                rc["cases"].append(c)
        return doc

    def test_every_figure_fits_the_page_width(self):
        """10 implementations x 3 shapes x 2 dtypes of bench (a 3,300 px
        wide fraction figure before) and verify in 4 dtypes (a 2,400 px
        histogram): every PNG at most 1,600 px wide, and the page shows
        figures no wider than the page."""
        v = load(FIXTURES[0])
        for c in list(v["verify"]):
            for dt in ("f16", "f64"):
                v["verify"].append(dict(c, dtype=dt))
        files = [self.write_json("v4.json", v), FIXTURES[1],
                 self.write_json("many.json", self.many_impls_bench())]
        r, out = self.make_report(files)
        self.assertEqual(r.returncode, 0, r.stderr)
        page, md = self.read_report(out)
        pngs = re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", md)
        self.assertEqual(len(pngs), 5)
        sizes = {}
        for p in pngs:
            with open(os.path.join(out, p), "rb") as f:
                sizes[p] = png_size(f.read())
        print(f"figure sizes: {sizes}", file=sys.stderr)
        for p, (w, h) in sizes.items():
            self.assertLessEqual(w, 1600, p)
            self.assertGreater(w, 600, p)
        frac = next(p for p in pngs if "fraction" in p)
        self.assertGreater(sizes[frac][0], 1000)  # wrapped into rows, not shrunk
        self.assertRegex(page, r"img\{[^}]*max-width:100%")
        # The guard for any figure drawn wider than the page anyway.
        mod = report_module()
        plt = mod.plt_module()
        fig, ax = plt.subplots(figsize=(40, 3))
        ax.plot([1, 2], [1, 2])
        w, h = png_size(mod.png_bytes(fig))
        plt.close("all")
        self.assertLessEqual(w, mod.MAX_FIG_WIDTH_PX)
        self.assertGreater(w, mod.MAX_FIG_WIDTH_PX - 40)

    def test_fraction_figure_draws_cold_and_hot(self):
        """Each implementation's bar pair per shape: cold (solid) and hot
        (hatched), at the shape's largest token count, both drawn."""
        mod = report_module()
        plt = mod.plt_module()
        bench = load(FIXTURES[2])["ropecheck"]
        fig, _ = mod.fig_fraction(plt, bench)
        want = {"cold": set(), "hot": set()}
        for c in bench["cases"]:
            if c["outcome"] == "ran" and c["mode"] == "prefill-4096":
                for v in want:
                    want[v].add(round(c[v]["fraction_of_probe"], 9))
        got = {"cold": set(), "hot": set()}
        for ax in fig.axes:
            for patch in ax.patches:
                got["hot" if patch.get_hatch() else "cold"].add(round(patch.get_height(), 9))
        legend = [t.get_text() for lg in fig.legends for t in lg.get_texts()]
        plt.close("all")
        self.assertEqual(got, want)
        self.assertEqual(len(want["cold"]), 12)  # 2 impls x 3 shapes x 2 dtypes
        self.assertIn("cold: out of cache (solid)", legend)
        self.assertIn("hot: in cache (hatched)", legend)

    def bench_table(self, md):
        t = next(t for t in md_tables(md) if t[0].startswith("| impl | shape | mode |"))
        head = [x.strip() for x in t[0].strip("|").split(" | ")]
        return head, [dict(zip(head, (x.strip() for x in row.strip("|").split(" | "))))
                      for row in t[2:]]

    def test_baseline_ratio_columns(self):
        """--baseline NAME (passed on by `ropecheck report`): the bench
        table gains x NAME cold and hot, each case's GB/s over NAME's in the
        same case; the summary their medians. A baseline recorded by
        `bench --baseline` is the default; an unknown name is refused."""
        bench = load(FIXTURES[2])
        speed = {(c["impl"], c["shape"], c["mode"], c["dtype"]):
                 (c["cold"]["gb_per_second"], c["hot"]["gb_per_second"])
                 for c in bench["ropecheck"]["cases"] if c["outcome"] == "ran"}
        r, out = self.make_report([FIXTURES[0], FIXTURES[2], "--baseline", "scalar"])
        self.assertEqual(r.returncode, 0, r.stderr)
        page, md = self.read_report(out)
        head, rows = self.bench_table(md)
        self.assertIn("x scalar cold", head)
        self.assertIn("x scalar hot", head)
        n = 0
        for row in rows:
            if row["outcome"] != "ran":
                continue
            mine = speed[(row["impl"], row["shape"], row["mode"], row["dtype"])]
            base = speed[("scalar", row["shape"], row["mode"], row["dtype"])]
            self.assertEqual(row["x scalar cold"], f"{mine[0] / base[0]:.3g}", row)
            self.assertEqual(row["x scalar hot"], f"{mine[1] / base[1]:.3g}", row)
            n += 1
        self.assertEqual(n, 36)
        self.assertIn("Baseline: scalar.", md)
        summary = md_tables(md)[0]
        self.assertIn("x scalar cold", summary[0])
        scalar = next(row for row in summary if row.startswith("| scalar |"))
        self.assertTrue(scalar.endswith("| 1.00 | 1.00 |"), scalar)
        # Without --baseline: the one bench recorded, if any; else no columns.
        r, out = self.make_report([FIXTURES[2]], out="plain")
        self.assertNotIn("x scalar cold", self.read_report(out)[1])
        bench["ropecheck"]["settings"]["baseline"] = "avx2"
        r, out = self.make_report([self.write_json("b.json", bench)], out="recorded")
        self.assertEqual(r.returncode, 0, r.stderr)
        head, rows = self.bench_table(self.read_report(out)[1])
        self.assertIn("x avx2 hot", head)
        self.assertEqual({row["x avx2 hot"] for row in rows if row["impl"] == "avx2"}, {"1"})
        # --baseline overrides it; an implementation no bench input names is refused.
        r, out = self.make_report([self.write_json("b.json", bench), "--baseline", "scalar"],
                                  out="override")
        self.assertIn("x scalar hot", self.bench_table(self.read_report(out)[1])[0])
        for inputs, needle in (([FIXTURES[2], "--baseline", "scalr"],
                                "--baseline scalr: not an implementation of the bench results "
                                "(the bench results name scalar, avx2, mutant_crash)"),
                               ([FIXTURES[0], "--baseline", "scalar"],
                                "no bench results among the inputs")):
            r, out = self.make_report(inputs, out="refused")
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertEqual(r.stderr.count("\n"), 1, r.stderr)
            self.assertIn(needle, r.stderr)
            self.assertFalse(os.path.exists(out))

    def test_scaling_run_shows_each_thread_count(self):
        """A scaling run (bench --threads 1,2; 1.4) holds every case once per
        count: the cases beyond the first count are their own rows, named
        "IMPL (2 threads)", and a baseline ratio compares a case with the
        baseline at the same count, not across counts."""
        import copy
        bench = load(FIXTURES[2])
        b = bench["ropecheck"]
        b["settings"]["thread_counts"] = [1, 2]
        twos = []
        for c in b["cases"]:
            c["threads"] = 1
            two = copy.deepcopy(c)
            two["threads"] = 2
            if two["outcome"] == "ran":
                for v in ("cold", "hot"):
                    # scalar gains 3x with 2 threads, everyone else 2x
                    two[v]["gb_per_second"] *= 3.0 if c["impl"] == "scalar" else 2.0
            twos.append(two)
        b["cases"] += twos
        for p in list(b["probes"]):
            p["threads"] = 1
            two = copy.deepcopy(p)
            two["threads"] = 2
            b["probes"].append(two)
        r, out = self.make_report([self.write_json("scaling.json", bench), "--baseline",
                                   "scalar"], out="scaling")
        self.assertEqual(r.returncode, 0, r.stderr)
        head, rows = self.bench_table(self.read_report(out)[1])
        ran = [row for row in rows if row["outcome"] == "ran"]
        self.assertEqual(len(ran), 72)
        avx2_two = [row for row in ran if row["impl"] == "avx2 (2 threads)"]
        self.assertTrue(avx2_two)
        speed = {(c["impl"], c["shape"], c["mode"], c["dtype"], c["threads"]):
                 c["hot"]["gb_per_second"] for c in b["cases"] if c["outcome"] == "ran"}
        for row in avx2_two:
            mine = speed[("avx2", row["shape"], row["mode"], row["dtype"], 2)]
            base = speed[("scalar", row["shape"], row["mode"], row["dtype"], 2)]
            self.assertEqual(row["x scalar hot"], f"{mine / base:.3g}", row)

    def test_summary_table_comes_first(self):
        """The first section is one row per implementation: worst verdict,
        worst pair ULP, cases passed, failed, skipped, the worst proof, and
        the fraction of the probe cold and hot (median and range)."""
        r, out = self.make_report(FIXTURES)
        self.assertEqual(r.returncode, 0, r.stderr)
        page, md = self.read_report(out)
        self.assertEqual(re.findall(r"^## (.*)$", md, re.M)[0], "Summary")
        self.assertLess(page.index("<h2>Summary</h2>"), page.index("<h2>Accuracy: verdicts</h2>"))
        t = md_tables(md)[0]
        head = [x.strip() for x in t[0].strip("|").split(" | ")]
        self.assertEqual(head, ["implementation", "verdict (worst)", "worst pair ULP", "pass",
                                "failed", "skipped", "proofs (worst)", "of probe cold",
                                "of probe hot"])
        rows = {r[0]: r for r in ([md_text(x.strip()) for x in line.strip("|").split(" | ")]
                                  for line in t[2:])}
        self.assertEqual(list(rows), ["scalar", "avx2", "mutant_wrong", "mutant_crash"])
        self.assertEqual(rows["mutant_wrong"][1:6], ["**FAIL**", "3.321e+07", "0", "2", "0"])
        self.assertEqual(rows["mutant_crash"][1:6], ["**BROKEN**", "-", "0", "2", "0"])
        self.assertEqual(rows["scalar"][1], "pass")
        self.assertEqual(rows["scalar"][3:6], ["2", "0", "0"])
        self.assertEqual(rows["mutant_crash"][7:], ["18 broken", "18 broken"])
        bench = load(FIXTURES[2])["ropecheck"]
        for i, v in ((7, "cold"), (8, "hot")):
            xs = sorted(c[v]["fraction_of_probe"] for c in bench["cases"]
                        if c["impl"] == "avx2" and c["outcome"] == "ran")
            med = (xs[8] + xs[9]) / 2
            m = re.match(r"^(\S+) \((\S+)\u2013(\S+)\)$", rows["avx2"][i])
            self.assertTrue(m, rows["avx2"][i])
            for got, want in zip(m.groups(), (med, xs[0], xs[-1])):
                self.assertAlmostEqual(float(got), want, delta=max(0.006, want * 0.06))
        self.assertRegex(page, r'<td>mutant_wrong</td><td class="FAIL">FAIL</td>')

    # ---------------------------------------------------- hostile input
    # Each writes only inside self.tmp; nothing may hang (every run has a
    # timeout) and every refusal is one line, exit 2, nothing written.

    def test_deep_nesting_is_refused(self):
        p = self.path("deep.json")
        with open(p, "w") as f:
            f.write("[" * 200000 + "]" * 200000)
        self.refused([p], "deep.json: JSON nested too deeply")
        with open(p, "w") as f:
            f.write('{"schema": "ropecheck.results", "x": ' + '{"a": ' * 100000 + "1"
                    + "}" * 100001)
        self.refused([p], "deep.json: JSON nested too deeply")

    def test_fifo_input_is_refused_without_waiting(self):
        fifo = self.path("results.fifo")
        os.mkfifo(fifo)
        t0 = time.monotonic()
        self.refused([fifo], "results.fifo: not a regular file (a FIFO)", timeout=60)
        self.assertLess(time.monotonic() - t0, 30)

    def test_devices_and_directories_are_refused(self):
        self.refused(["/dev/zero"], "/dev/zero: not a regular file (a character device)",
                     timeout=60)
        os.mkdir(self.path("adir"))
        self.refused([self.path("adir")], "adir: not a regular file (a directory)")

    def test_oversized_input_is_refused_unread(self):
        p = self.path("huge.json")
        with open(p, "wb") as f:
            f.truncate((256 << 20) + 1)  # sparse: takes no disk
        self.refused([p], "huge.json: larger than the 256 MiB", timeout=60)

    def test_non_utf8_is_refused(self):
        p = self.path("latin1.json")
        with open(p, "wb") as f:
            f.write(b'{"schema": "ropecheck.results", "tool": "caf\xe9"}')
        self.refused([p], "latin1.json: not UTF-8 text (byte 0xe9 at offset 44)")

    def test_non_finite_and_out_of_range_numbers_are_refused(self):
        text = json.dumps(load(FIXTURES[0]))
        key = '"gate_positions_below": 2147483648'
        self.assertIn(key, text)
        for literal, needle in (("NaN", "NaN is not JSON"), ("-Infinity", "-Infinity is not JSON"),
                                ("1e999", "number 1e999 is out of the range of a double"),
                                ("9" * 400, "an integer of 400 digits is out of the range")):
            with self.subTest(literal=literal[:10]):
                p = self.path("numbers.json")
                with open(p, "w") as f:
                    f.write(text.replace(key, '"gate_positions_below": ' + literal))
                self.refused([p], "numbers.json: " + needle)

    def test_wrong_types_at_any_level_are_refused_or_reported(self):
        """Every value of small verify, prove and bench files replaced in
        turn by null, true, -1, 0, 1e308, "x", "inf", [] and {}, and every
        key dropped: each file is refused in one line naming it, or gives a
        report; the last-resort "please report this" line never appears.
        Run in this process with the figures stubbed (thousands of runs);
        test_hostile_numbers_are_drawn_or_noted draws the numbers for real."""
        mod = report_module()
        mod.plt_module = StubPlot
        refused = written = 0
        problems = []
        for kind, doc in small_fixtures().items():
            for path, value in mutations(doc):
                p = self.write_json(f"{kind}.json", mutated(doc, path, value))
                out = self.path("out")
                err = io.StringIO()
                with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                    rc = mod.main([p, "-o", out])
                lines = err.getvalue().splitlines()
                where = f"{kind} {'/'.join(map(str, path))} = {value!r}: rc {rc}, {lines[:2]}"
                if rc == 2 and len(lines) == 1 and lines[0].startswith(
                        f"ropecheck report: {p}: ") and "please report this" not in lines[0]:
                    refused += 1
                elif rc == 0 and not lines and os.path.exists(os.path.join(out, "report.md")):
                    written += 1
                else:
                    problems.append(where)
                shutil.rmtree(out, ignore_errors=True)
        print(f"type mutations: {refused} refused, {written} reported", file=sys.stderr)
        self.assertEqual(problems[:10], [], f"{len(problems)} mutations mishandled")
        self.assertGreater(refused, 500)
        self.assertGreater(written, 50)

    def test_hostile_numbers_are_drawn_or_noted(self):
        """Numbers the schema allows but no axis can show (zero and negative
        on log axes, 1e308, "inf", "nan", buckets with hi <= lo, histogram
        edges out of order) give a report, with real figures or notes."""
        v, p, b = (load(f) for f in FIXTURES)
        for i, c in enumerate(v["verify"]):
            for bk in c.get("pair_ulp_by_position", []):
                bk.update(max=["inf", "nan", 0, -1, 1e308][i % 5], p99=1e-308,
                          position_hi=bk["position_lo"] if i % 2 else 1e308)
            if "pair_ulp_histogram" in c:
                e = c["pair_ulp_histogram"]["edges"]
                if i % 2:
                    e[1], e[2] = e[2], e[1]
                c["pair_ulp_histogram"]["counts"] = [1e308] * (len(e) - 1)
            if "pair_ulp" in c:
                c["pair_ulp"]["gate"] = [0, -1, "inf", 1e308][i % 4]
        p["figure2"]["distance"] = [0, 1e308, -1]
        p["figure2"]["relative_upper_bound"] = ["nan", "inf", 1e308]
        for c in b["ropecheck"]["cases"] + b["ropecheck"]["probes"]:
            c["tokens"] = 0 if c["dtype"] == "f32" else 1e308
            for var in ("cold", "hot"):
                if isinstance(c.get(var), dict) and c[var].get("ok"):
                    c[var].update(gb_per_second=-1, fraction_of_probe=1e308)
        files = [self.write_json(f"{k}.json", d) for k, d in
                 (("verify", v), ("prove", p), ("bench", b))]
        r, out = self.make_report(files)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")  # no matplotlib warnings either
        with open(os.path.join(out, "report.md"), encoding="utf-8") as f:
            self.assertIn("# ropecheck report", f.read())

    # ---------------------------------------------------- output directory

    def test_output_that_is_not_a_directory_is_refused(self):
        f = self.path("afile")
        with open(f, "w") as fh:
            fh.write("keep me")
        r = run("report", FIXTURES[0], "-o", f)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(r.stderr.strip(), f"ropecheck report: {f}: exists and is not a directory")
        with open(f) as fh:
            self.assertEqual(fh.read(), "keep me")
        sub = self.path("afile", "sub")
        r = run("report", FIXTURES[0], "-o", sub)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(r.stderr.strip(), f"ropecheck report: {sub}: cannot create the output "
                         "directory: Not a directory")
        if os.geteuid() != 0:  # root writes anywhere: this part means something only as a user
            ro = self.path("readonly")
            os.mkdir(ro, 0o500)
            r = run("report", FIXTURES[0], "-o", ro)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("Permission denied", r.stderr)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)

    def test_full_disk_keeps_the_old_report_whole(self):
        """A file size limit (as a full disk) hits the second run: exit 2
        with the reason, and the first run's files byte for byte as they
        were, no temporary files left."""
        out = self.path("out")
        r = run("report", *FIXTURES, "-o", out)
        self.assertEqual(r.returncode, 0, r.stderr)

        def snapshot():
            files = {}
            for name in sorted(os.listdir(out)):
                with open(os.path.join(out, name), "rb") as f:
                    files[name] = f.read()
            return files
        before = snapshot()
        self.assertGreater(len(before["report.html"]), 64 << 10)

        def small_files():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() fails with EFBIG instead
            resource.setrlimit(resource.RLIMIT_FSIZE, (16 << 10, 16 << 10))
        r = subprocess.run([BIN, "report", FIXTURES[0], "-o", out], capture_output=True,
                           text=True, timeout=300, preexec_fn=small_files)
        self.assertEqual(r.returncode, 2, r.stderr)
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertRegex(lines[0], rf"^ropecheck report: {re.escape(out)}/\S+: cannot write: "
                         "File too large$")
        self.assertEqual(snapshot(), before)

    # ---------------------------------------------------- escaping

    EVIL = "x|<script>alert(1)</script>*[a](b)"

    def evil_inputs(self):
        """The fixtures with every string the report shows taken over: names,
        reasons, causes, findings, specs, replay commands, shapes, CPU."""
        evil = self.EVIL
        v, p, b = (load(f) for f in FIXTURES)
        v["host"]["cpu"] = "cpu \ud800 \u202e" + evil  # a lone surrogate, a bidi override
        for i, c in enumerate(v["verify"]):
            c["impl"] = f"{evil} {c['impl']}" if i % 2 else f"$\\frac{{ {c['impl']}"
            c["scaling"] = evil
            c["reason"] = evil + "\n| injected | row |\n`code` _em_ ~~s~~ $x$ \x1b[31m\\"
            c["cause"], c["finding"] = evil, "<img src=x onerror=alert(2)>"
            if "worst_pair" in c:
                c["worst_pair"]["replay"] = "ropecheck verify `rm` | <b>x</b> ``y``"
                c["worst_pair"]["got"] = evil
        for c in p["prove"]:
            c["impl"], c["spec"], c["figure_name"] = evil, evil, evil
            c["findings"] = [evil, "line one\nline two"]
        rc = b["ropecheck"]
        rc["machine"]["cpu_model"] = evil
        rc["settings"]["bytes_counted"] = evil
        for c in rc["cases"]:
            c["impl"], c["shape"] = evil + c["impl"], evil + c["shape"]
            if "why" in c:
                c["why"] = evil
        for c in rc["probes"]:
            c["shape"] = evil + c["shape"]
        return [self.write_json(f"{k}.json", d) for k, d in
                (("verify", v), ("prove", p), ("bench", b))]

    def test_markup_in_results_is_escaped(self):
        r, out = self.make_report(self.evil_inputs())
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(out, "report.html"), encoding="utf-8") as f:
            page = f.read()  # strict UTF-8: the lone surrogate did not get through
        with open(os.path.join(out, "report.md"), encoding="utf-8") as f:
            md = f.read()
        # HTML: no tag from the results, every one shown as text.
        for tag in ("<script", "<img src=x", "<b>x</b>"):
            self.assertFalse(tag in page, f"{tag} in report.html")
        self.assertIn(html.escape(self.EVIL), page)
        self.assertIn("\\ud800", page)
        self.assertIn("\\u202e", page)
        self.assertIn("\\x1b[31m", page)
        for text in (page, md):
            self.assertNotRegex(text, "[\x00-\x08\x0b-\x1f\x7f\u202e]")
        # Markdown: the replay command a verbatim code span (a longer fence
        # than its own backticks; | escaped for the table) ...
        self.assertIn("``` ropecheck verify `rm` \\| <b>x</b> ``y`` ```", md)
        outside_code = re.sub(r"(`+)[^`].*?(?<!`)\1(?!`)", "", md)
        # ... and outside code spans no HTML, no link, no emphasis, no
        # strike-through or math from the results.
        for needle in ("<", "[a](b)"):
            at = outside_code.find(needle)
            self.assertEqual(at, -1, f"{needle} in report.md: {outside_code[at - 80:at + 80]!r}")
        self.assertIn("\\*\\[a\\](b)", md)
        self.assertNotRegex(outside_code, r"(?<!\\)(~~|\$x)")
        self.assertIn("\\`code\\` \\_em\\_", md)
        # Every table row has its header's number of cells: no | or newline
        # from the results split a cell or started a row.
        tables = md_tables(md)
        self.assertGreater(len(tables), 5)
        for t in tables:
            cells = unescaped_pipes(t[0])
            for line in t:
                self.assertEqual(unescaped_pipes(line), cells, line)
        # The reader still sees every name as it was.
        self.assertIn(self.EVIL + " mutant_wrong", md_text(md))
        shown = "<td>" + html.escape(self.EVIL + " mutant_wrong") + " bf16 half forward"
        self.assertTrue(shown in page, shown)
        # Figures drawn although names held "$\frac{" (matplotlib's TeX).
        self.assertEqual(page.count("data:image/png;base64,"), 5)

    # ---------------------------------------------------- size

    def test_large_input_runs_in_seconds(self):
        """50,000 verify cases (about 70 MB): the report in well under a
        minute even on a loaded 2-core machine; tables capped, with the
        number left out, and every failure counted."""
        n = 50000
        p = self.path("large.json")
        with open(p, "w", encoding="utf-8") as f:
            json.dump(large_verify_doc(n), f, separators=(",", ":"))
        size = os.path.getsize(p)
        out = self.path("out")
        t0 = time.monotonic()
        r = run("report", p, "-o", out, timeout=600)
        took = time.monotonic() - t0
        print(f"large input: {n:,} cases, {size / 1e6:.1f} MB: report in {took:.1f} s",
              file=sys.stderr)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertLess(took, 60)
        with open(os.path.join(out, "report.md"), encoding="utf-8") as f:
            md = f.read()
        self.assertIn("Cases: 1,000 BROKEN, 2,500 FAIL, 45,500 pass, 1,000 skip.", md)
        self.assertIn("more specifications not shown", md)
        m = re.search(r"([\d,]+) more cases that did not pass are not in the table above "
                      r"\(([\d,]+) BROKEN, ([\d,]+) FAIL\)", md_text(md))
        self.assertTrue(m, "no line counting the cases left out of the reasons table")
        left = [int(x.replace(",", "")) for x in m.groups()]
        # 3,500 failures one row each and the 1,000 skips as one row per
        # implementation and reason (16): 500 rows shown, every skip among them.
        self.assertEqual(left[0], 3500 + 16 - 500)
        self.assertEqual(sum(left[1:]), left[0])
        tables = md_tables(md)
        for t in tables:
            self.assertLessEqual(len(t), 2 + 500)
        # The reasons table shows every implementation with each verdict
        # at least once (its skips in one row), and the table after it
        # counts the rest of each.
        reasons = next(t for t in tables if t[0].startswith("| case | verdict | reason |"))
        summary = next(t for t in tables if t[0].startswith("| implementation | verdict |"))
        self.assertEqual(len(reasons), 2 + 500)
        skipped = 0
        for i in range(16):
            for v in ("**FAIL**", "**BROKEN**"):
                self.assertTrue(any(row.startswith(f"| impl{i:02d} ") and f"| {v} |" in row
                                    for row in reasons), (i, v))
                self.assertTrue(any(row.startswith(f"| impl{i:02d} | {v} |")
                                    for row in summary), (i, v))
            rows = [re.match(rf"\| impl{i:02d}: (\d+) cases skipped \| skip \| "
                             r"not supported: f16 \|", row) for row in reasons]
            rows = [r for r in rows if r]
            self.assertEqual(len(rows), 1, i)
            skipped += int(rows[0].group(1))
        self.assertEqual(skipped, 1000)


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

    def test_real_verify_output_stale_state(self):
        # A failure found by the history check (results 1.7): outcome
        # "history", cause stale-state, valid and rendered.
        stale = os.environ.get("ROPECHECK_MUTANT_STALE")
        if not stale:
            self.skipTest("ROPECHECK_MUTANT_STALE is not set (run through ctest)")
        r = run("verify", "--plugin", stale, "--dtype", "f32", "--layout", "half", "--quick",
                "--quiet", "--json", self.path("s.json"))
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        doc = self.assertValid(self.path("s.json"))
        self.assertEqual(doc["schema_version"], "1.7")
        failed = [c for c in doc["verify"] if c["verdict"] == "FAIL"]
        self.assertTrue(failed)
        for c in failed:
            self.assertEqual(c["call"]["outcome"], "history")
            self.assertEqual(c["cause"], "stale-state")
        r = run("report", self.path("s.json"), "-o", self.path("out_stale"))
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

    def test_report_validator_agrees_with_jsonschema(self):
        """The report checks files with its own compiled validator (50x
        faster): it must accept and refuse exactly what jsonschema does,
        on the fixtures and on every one-value mutation of small copies."""
        val = report_module().validator()
        n = 0
        for kind, doc in small_fixtures().items():
            for path, value in [([], None)] + mutations(doc):
                d = doc if not path else mutated(doc, path, value)
                ours, theirs = val.errors(d), list(self.validator.iter_errors(d))
                self.assertEqual(not ours, not theirs,
                                 f"{kind} {'/'.join(map(str, path))} = {value!r}: "
                                 f"ours {ours[:1]}, jsonschema {[e.message for e in theirs[:1]]}")
                n += 1
        print(f"validator agreement: {n} documents", file=sys.stderr)


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


def main(argv, module=None):
    """Runs the named classes (all when none). Exit status for ctest: 0 when
    something ran and nothing failed; 77 ("Skipped") only when every test
    skipped and none failed; 1 otherwise. A skip can never hide a failure,
    and a class that ran nothing is not a pass."""
    module = module or sys.modules[__name__]
    names = argv[1:] or ["ReportTests", "SchemaTests", "ScreenshotTests"]
    suite = unittest.TestSuite(unittest.defaultTestLoader.loadTestsFromName(n, module)
                               for n in names)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    if not result.wasSuccessful():
        return 1
    if result.testsRun == 0:
        print("test_report: no test ran", file=sys.stderr)
        return 1
    return 77 if len(result.skipped) == result.testsRun else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

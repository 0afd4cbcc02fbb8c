#!/usr/bin/env python3
"""ropecheck_report.py - turn ropecheck result JSON into report.html and report.md.

Run by `ropecheck report RESULTS.json... -o DIR` (cli/cmd_report.c), or
directly: python3 reports/ropecheck_report.py RESULTS.json... -o DIR.

Inputs are files of schema "ropecheck.results" (reports/schema/
results.schema.json), kind "verify", "prove" or "bench". A file of another
major schema version, a foreign schema, unreadable or invalid JSON: one line
on stderr and exit status 2, before anything is written.

Outputs: DIR/report.html (self-contained: CSS inline, figures as base64 PNG)
and DIR/report.md (figures as PNG files beside it).
"""

import argparse
import base64
import datetime
import html
import io
import json
import math
import os
import sys

SCHEMA_NAME = "ropecheck.results"
SCHEMA_MAJOR = 1  # the major version this reader understands
SCHEMA_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schema",
                           "results.schema.json")
EXIT_OK, EXIT_USAGE = 0, 2


class InputError(Exception):
    """A problem with one input file: reported as one line, exit 2."""


# ---------------------------------------------------------------- loading

def num(v):
    """A result number: JSON numbers, or the strings "inf", "-inf", "nan"."""
    if isinstance(v, bool) or v is None:
        return float("nan")
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str) and v in ("inf", "-inf", "nan"):
        return float(v)
    return float("nan")


def check_version(path, doc):
    if not isinstance(doc, dict):
        raise InputError(f"{path}: not a ropecheck results file (top level is not an object)")
    schema = doc.get("schema")
    if schema != SCHEMA_NAME:
        raise InputError(f"{path}: not a ropecheck results file (schema {schema!r}, "
                         f"expected {SCHEMA_NAME!r})")
    ver = doc.get("schema_version")
    major = str(ver).split(".")[0] if isinstance(ver, str) else None
    if major is None or not major.isdigit():
        raise InputError(f"{path}: missing or malformed schema_version {ver!r} "
                         f"(expected \"{SCHEMA_MAJOR}.MINOR\")")
    if int(major) != SCHEMA_MAJOR:
        raise InputError(f"{path}: schema_version {ver} has major version {major}; this "
                         f"report reads major version {SCHEMA_MAJOR} only (use the ropecheck "
                         f"that wrote the file)")


def minimal_check(path, doc):
    """Structural check used when python3-jsonschema is not installed."""
    kind = doc.get("kind")
    need = {"verify": ("verify", list), "prove": ("prove", list), "bench": ("ropecheck", dict)}
    if kind not in need:
        raise InputError(f"{path}: unknown kind {kind!r} (expected verify, prove or bench)")
    key, typ = need[kind]
    if not isinstance(doc.get(key), typ):
        raise InputError(f"{path}: kind {kind} needs a {typ.__name__} '{key}'")
    if kind == "verify":
        for i, c in enumerate(doc["verify"]):
            for k in ("impl", "dtype", "layout", "direction", "verdict", "reason"):
                if not isinstance(c, dict) or not isinstance(c.get(k), str):
                    raise InputError(f"{path}: verify[{i}] needs a string '{k}'")
    if kind == "prove":
        for i, c in enumerate(doc["prove"]):
            for k in ("impl", "layout", "check", "verdict"):
                if not isinstance(c, dict) or not isinstance(c.get(k), str):
                    raise InputError(f"{path}: prove[{i}] needs a string '{k}'")


def validator():
    """A jsonschema validator for the results schema, or None without the module."""
    try:
        import jsonschema
    except ImportError:
        return None
    with open(SCHEMA_FILE, encoding="utf-8") as f:
        schema = json.load(f)
    return jsonschema.Draft202012Validator(schema)


def schema_check(path, doc, val):
    if val is None:
        minimal_check(path, doc)
        return
    errors = sorted(val.iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        where = "/".join(str(p) for p in e.absolute_path) or "(top level)"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise InputError(f"{path}: does not match {os.path.basename(SCHEMA_FILE)} at "
                         f"{where}: {e.message[:300]}{more}")


def load(path, val):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror}")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: invalid JSON at line {e.lineno} column {e.colno}: {e.msg}")
    check_version(path, doc)
    schema_check(path, doc, val)
    return doc


# ---------------------------------------------------------------- figures

def plt_module():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.rcParams.update({"figure.dpi": 100, "font.size": 10, "axes.grid": True,
                         "grid.alpha": 0.3, "axes.titlesize": 11})
    return plt


DTYPE_STYLE = {"f32": "-", "f64": ":", "f16": "--", "bf16": "-."}
DTYPE_MARK = {"f32": "o", "f64": "D", "f16": "s", "bf16": "^"}


def impl_colors(names):
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
               "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
    return {n: palette[i % len(palette)] for i, n in enumerate(sorted(set(names)))}


def png_bytes(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()


def series_key(c):
    return (c["impl"], c["dtype"])


def fig_ulp_by_position(plt, cases):
    """Max and p99 pair ULP per position bucket; one line per impl and dtype."""
    groups = {}
    for c in cases:
        for b in c.get("pair_ulp_by_position") or []:
            g = groups.setdefault(series_key(c), {})
            lo, hi = num(b["position_lo"]), num(b["position_hi"])
            old = g.get(lo, (hi, 0.0, 0.0))
            # Several layouts or directions of one impl and dtype: the worst.
            g[lo] = (hi, max(old[1], num(b["max"])), max(old[2], num(b["p99"])))
    if not groups:
        return None
    colors = impl_colors(k[0] for k in groups)
    floor = 2.0 ** -10  # exact results (0 ULP) drawn at this level on the log axis
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6), sharey=True)
    for ax, idx, what in ((axes[0], 1, "max"), (axes[1], 2, "p99")):
        keys = sorted(groups)
        for k_i, (impl, dt) in enumerate(keys):
            g = groups[(impl, dt)]
            los = sorted(g)
            # Bucket [lo, hi) drawn at its geometric middle; m = 0 at 0.5.
            xs = [math.sqrt(lo * g[lo][0]) if lo > 0 else 0.5 for lo in los]
            ys = [max(g[lo][idx], floor) for lo in los]
            # Equal results overlap exactly: earlier series drawn wider so
            # every line stays visible under the later ones.
            ax.plot(xs, ys, DTYPE_STYLE.get(dt, "-"), marker=DTYPE_MARK.get(dt, "o"),
                    ms=3 + 4 * (len(keys) - 1 - k_i) / len(keys), color=colors[impl],
                    lw=1.2 + 3.0 * (len(keys) - 1 - k_i) / len(keys), label=f"{impl} {dt}")
        gates = {}
        for c in cases:
            gate = num((c.get("pair_ulp") or {}).get("gate"))
            if math.isfinite(gate):
                gates.setdefault(gate, set()).add(c["dtype"])
        # The gates go into the legend: labels written beside the lines
        # collide when two gates are close (f32 2 ULP, bf16 1 ULP).
        gate_styles = [(0, (6, 3)), (0, (2, 2)), (0, (8, 2, 2, 2))]
        for g_i, (gate, dts) in enumerate(sorted(gates.items(), reverse=True)):
            ax.axhline(gate, color="black", lw=1.3, ls=gate_styles[g_i % len(gate_styles)],
                       label=f"gate {gate:g} ULP ({', '.join(sorted(dts))})")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log", base=2)
        ax.set_xlabel("position m (log scale; bucket [2^(k-1), 2^k), m = 0 at 0.5)")
        ax.set_title(f"{what} pair error per position bucket")
    axes[0].set_ylabel(f"pair error (ULP; 0 drawn at 2^-10)")
    axes[1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                   title="implementation, dtype")
    fig.suptitle("Pair ULP against position (lower is better; above the gate fails)")
    return fig


def fig_histogram(plt, cases):
    """Log-binned pair ULP histogram; one panel per dtype, one line per impl."""
    by_dt = {}
    for c in cases:
        h = c.get("pair_ulp_histogram")
        if h and h.get("counts"):
            by_dt.setdefault(c["dtype"], {}).setdefault(c["impl"], []).append(h)
    if not by_dt:
        return None
    colors = impl_colors(i for d in by_dt.values() for i in d)
    dts = sorted(by_dt)
    fig, axes = plt.subplots(1, len(dts), figsize=(6 * len(dts), 4.2), squeeze=False)
    for ax, dt in zip(axes[0], dts):
        items = sorted(by_dt[dt].items())
        for k_i, (impl, hs) in enumerate(items):
            edges = [num(e) for e in hs[0]["edges"]]
            counts = [0.0] * len(hs[0]["counts"])
            for h in hs:
                for i, n in enumerate(h["counts"]):
                    counts[i] += num(n)
            total = sum(counts) or 1.0
            # Log axis: the first bin [0, e1) is drawn from e1/2; the open last
            # bin [e_last, inf) as one more doubling.
            e = list(edges)
            e[0] = e[1] / 2 if len(e) > 1 else 2.0 ** -9
            if math.isinf(e[-1]):
                e[-1] = e[-2] * 2
            fr = [n / total for n in counts]
            ax.stairs(fr, e, color=colors[impl], label=impl,
                      lw=1.2 + 3.0 * (len(items) - 1 - k_i) / len(items))
        gates = {num((c.get("pair_ulp") or {}).get("gate")) for c in cases if c["dtype"] == dt}
        for g in gates:
            if math.isfinite(g):
                ax.axvline(g, color="black", ls=(0, (6, 3)), lw=1.2)
                ax.annotate(f"gate {g:g}", (g, 0.97), xycoords=("data", "axes fraction"),
                            xytext=(3, 0), textcoords="offset points", fontsize=8, va="top")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_ylim(bottom=1e-6)
        ax.set_xlabel("pair error (ULP, log2 bins; first bin starts at 0)")
        ax.set_ylabel("fraction of elements")
        ax.set_title(f"{dt}: distribution of pair error")
        ax.legend(fontsize=8, title="implementation", loc="lower center")
    return fig


def bench_variant(case, which):
    v = case.get(which)
    if not isinstance(v, dict) or not v.get("ok"):
        return None
    return v


def fig_throughput(plt, bench):
    """GB/s against tokens (out of cache) per shape, the probe as the roofline."""
    cases = [c for c in bench.get("cases", []) if c.get("outcome") == "ran"]
    probes = bench.get("probes", [])
    pts = {}
    for c in cases:
        v = bench_variant(c, "cold")
        if v and "gb_per_second" in v and "tokens" in c:
            pts.setdefault(c["shape"], {}).setdefault((c["impl"], c["dtype"]), []).append(
                (num(c["tokens"]), num(v["gb_per_second"])))
    if not pts:
        return None
    roof = {}
    for p in probes:
        v = bench_variant(p, "cold")
        if v and "gb_per_second" in v:
            roof.setdefault(p["shape"], {}).setdefault(p["dtype"], []).append(
                (num(p["tokens"]), num(v["gb_per_second"])))
    shapes = sorted(pts)
    colors = impl_colors(k[0] for s in pts.values() for k in s)
    ncol = min(3, len(shapes))
    nrow = (len(shapes) + ncol - 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(5.2 * ncol, 4.0 * nrow), squeeze=False)
    for i, shape in enumerate(shapes):
        ax = axes[i // ncol][i % ncol]
        for dt, line in sorted(roof.get(shape, {}).items()):
            line.sort()
            ax.plot([t for t, _ in line], [g for _, g in line], color="black",
                    ls=DTYPE_STYLE.get(dt, "-"), lw=2.2, alpha=0.55,
                    label=f"probe (roofline) {dt}")
        for (impl, dt), line in sorted(pts[shape].items()):
            line.sort()
            ax.plot([t for t, _ in line], [g for _, g in line], ls=DTYPE_STYLE.get(dt, "-"),
                    marker=DTYPE_MARK.get(dt, "o"), color=colors[impl], label=f"{impl} {dt}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("tokens per call")
        ax.set_ylabel("GB/s (bytes read + written)")
        ax.set_title(f"{shape}: throughput out of cache")
        ax.legend(fontsize=7)
    for j in range(len(shapes), nrow * ncol):
        axes[j // ncol][j % ncol].set_visible(False)
    fig.suptitle("Throughput against tokens; black: the streaming probe over the same bytes")
    fig.tight_layout()
    return fig


def fig_fraction(plt, bench):
    """Fraction of the probe (out of cache) per shape and implementation."""
    cases = [c for c in bench.get("cases", []) if c.get("outcome") == "ran"]
    best = {}  # (dtype, shape) -> largest-token mode's fractions per impl
    for c in cases:
        v = bench_variant(c, "cold")
        if not v or "fraction_of_probe" not in v:
            continue
        key = (c["dtype"], c["shape"])
        t = num(c.get("tokens", 0))
        cur = best.setdefault(key, {"tokens": -1, "mode": "", "impls": {}})
        if t > cur["tokens"]:
            cur.update(tokens=t, mode=c.get("mode", ""), impls={})
        if t == cur["tokens"]:
            cur["impls"][c["impl"]] = num(v["fraction_of_probe"])
    if not best:
        return None
    dts = sorted({k[0] for k in best})
    impls = sorted({i for b in best.values() for i in b["impls"]})
    colors = impl_colors(impls)
    n_shapes = len({k[1] for k in best})
    width = max(5.5, 1.5 + 0.5 * n_shapes * len(impls))
    fig, axes = plt.subplots(1, len(dts), figsize=(width * len(dts), 4.4), squeeze=False)
    for ax, dt in zip(axes[0], dts):
        shapes = sorted(s for d, s in best if d == dt)
        w = 0.8 / max(1, len(impls))
        for j, impl in enumerate(impls):
            xs, ys = [], []
            for i, s in enumerate(shapes):
                f = best[(dt, s)]["impls"].get(impl)
                if f is not None:
                    xs.append(i + (j - (len(impls) - 1) / 2) * w)
                    ys.append(f)
            bars = ax.bar(xs, ys, w, color=colors[impl], label=impl)
            ax.bar_label(bars, fmt="%.2f", fontsize=7)
        ax.axhline(1.0, color="black", ls=(0, (6, 3)), lw=1.2)
        ax.set_xticks(range(len(shapes)))
        ax.set_xticklabels([f"{s}\n{best[(dt, s)]['mode']}" for s in shapes], fontsize=8)
        ax.set_ylabel("fraction of probe (1 = machine limit)")
        ax.set_ylim(0, max(1.1, max((v for b in best.values() for v in b["impls"].values()),
                                    default=1) * 1.15))
        ax.set_title(f"{dt}")
        ax.legend(fontsize=8, title="implementation")
    fig.suptitle("Fraction of the streaming probe, out of cache, at each shape's largest "
                 "token count (higher is better)")
    fig.tight_layout()
    return fig


def fig_figure2(plt, fig2):
    d = [num(x) for x in fig2.get("distance", [])]
    y = [num(x) for x in fig2.get("relative_upper_bound", [])]
    if not d or len(d) != len(y):
        return None
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot(d, y, color="#1f77b4", lw=1.6)
    ax.set_xlabel("relative distance |m - n| (tokens)")
    ax.set_ylabel("relative upper bound (2/r) sum |S_j|")
    ax.set_title(f"RoFormer Figure 2: long-term decay (base {num(fig2.get('base')):g}, "
                 f"rotary dim {num(fig2.get('rotary_dim')):g}; certified upper bounds)")
    return fig


# ---------------------------------------------------------------- tables

def fmt(v, digits=4):
    x = num(v)
    if math.isnan(x):
        return "-" if v is None else str(v)
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:.{digits}g}"


# Several cases folded into one cell: the cell shows the worst verdict.
VERDICT_ORDER = {"pass": 0, "skip": 1, "FAIL": 2, "ERROR": 3, "BROKEN": 4}


def worse(a, b):
    """The worse of two verdicts (an unknown one is the worst)."""
    return a if VERDICT_ORDER.get(a, 5) > VERDICT_ORDER.get(b, 5) else b


def impl_order(cases):
    """Implementations in the order the inputs first name them."""
    return list(dict.fromkeys(c["impl"] for c in cases))


def spec_key(c):
    """What a case computed beyond impl x dtype x layout x direction. Files
    written before scaling and profiles existed lack the keys: they ran the
    plain spec against the exact result."""
    return (num(c.get("head_dim")), num(c.get("rotary_dim")), num(c.get("base")),
            c.get("scaling") or "none", c.get("profile") or "exact")


def spec_numbers(cases):
    """Spec key -> 1, 2, ... in the order the inputs first run each."""
    keys = dict.fromkeys(spec_key(c) for c in cases)
    return {k: i + 1 for i, k in enumerate(keys)}


def case_label(c, specs):
    """impl dtype layout direction, and which spec: its number in the
    "Accuracy by specification" table, scaling family and profile."""
    k = spec_key(c)
    family = k[3].split(" ", 1)[0]
    return (f"{c['impl']} {c['dtype']} {c['layout']} {c['direction']}, "
            f"spec {specs[k]} ({family}, {k[4]})")


def cause_text(c):
    """The diagnosis of a failed case (schema 1.1: cause and finding), or
    "" for files and cases without one."""
    if not c.get("cause"):
        return ""
    return f"{c['cause']}: {c.get('finding', '')}"


def verdict_matrix(cases):
    """Rows: implementation; columns: dtype x layout x direction."""
    cols = sorted({(c["dtype"], c["layout"], c["direction"]) for c in cases})
    impls = impl_order(cases)
    cell = {}
    for c in cases:
        k = (c["impl"], c["dtype"], c["layout"], c["direction"])
        # Several runs of one cell (several files or specs): the worst verdict.
        if k not in cell or worse(c["verdict"], cell[k]["verdict"]) != cell[k]["verdict"]:
            cell[k] = c
    header = ["implementation"] + [f"{d} {l} {r}" for d, l, r in cols]
    rows = []
    for impl in impls:
        rows.append([impl] + [cell[(impl,) + col]["verdict"] if (impl,) + col in cell else ""
                              for col in cols])
    reasons = [c for c in cases if c["verdict"] != "pass"]
    return header, rows, reasons


def spec_matrix(cases, specs):
    """Rows: specification (d, r, base, scaling, profile); columns:
    implementation; cells: the worst verdict over the spec's cases (every
    dtype, layout and direction) and their largest max pair ULP."""
    impls = impl_order(cases)
    cell = {}
    for c in cases:
        k = (spec_key(c), c["impl"])
        v, ulp = cell.get(k, (c["verdict"], float("nan")))
        u = num((c.get("pair_ulp") or {}).get("max"))
        if not math.isnan(u):  # crashed and skipped cases measured nothing
            ulp = u if math.isnan(ulp) else max(ulp, u)
        cell[k] = (worse(c["verdict"], v), ulp)
    header = ["spec", "d", "r", "base", "scaling", "profile"] + impls
    rows = []
    for k, n in specs.items():
        row = [str(n), fmt(k[0]), fmt(k[1]), fmt(k[2], 7), k[3], k[4]]
        for impl in impls:
            v, ulp = cell.get((k, impl), ("", float("nan")))
            row.append(v if math.isnan(ulp) else f"{v} {fmt(ulp)}")
        rows.append(row)
    return header, rows


def worst_rows(cases, specs, limit=25):
    ws = [c for c in cases if isinstance(c.get("worst_pair"), dict)]
    ws.sort(key=lambda c: -num(c["worst_pair"].get("pair_ulp")))
    rows = []
    for c in ws[:limit]:
        w = c["worst_pair"]
        rows.append({"case": case_label(c, specs),
                     "verdict": c["verdict"], "pair_ulp": fmt(w.get("pair_ulp")),
                     "gate": fmt((c.get("pair_ulp") or {}).get("gate")),
                     "where": f"m={w.get('position')} head {w.get('head')} "
                              f"ch {w.get('channel')}/{w.get('partner_channel')}",
                     "got": f"{w.get('got')} (exact {w.get('exact_hi')})",
                     "replay": w.get("replay", "")})
    return rows


def ns(v):
    x = num(v)
    return f"{x:,.0f}" if math.isfinite(x) else fmt(v)


def bench_rows(bench):
    rows, not_run = [], {}
    for c in bench.get("cases", []):
        cold, hot = bench_variant(c, "cold"), bench_variant(c, "hot")
        if c.get("outcome") != "ran" or not cold:
            # One row per implementation and reason, not one per case.
            k = (c.get("impl", "?"), c.get("outcome", "?"), c.get("why", ""))
            not_run.setdefault(k, []).append(c)
            continue
        rows.append([c["impl"], c.get("shape", "?"), c.get("mode", "?"), c.get("dtype", "?"),
                     "ran", fmt(cold.get("gb_per_second"), 3),
                     fmt(cold.get("fraction_of_probe"), 2),
                     fmt(hot.get("ratio_to_scalar") if hot else None, 3),
                     ns(cold.get("ns_per_token")), ""])
    for (impl, outcome, why), cs in not_run.items():
        def kinds(key):
            return ", ".join(dict.fromkeys(str(c.get(key, "?")) for c in cs))
        rows.append([impl, kinds("shape"), kinds("mode"), kinds("dtype"),
                     f"{outcome} ({len(cs)} cases)", "", "", "", "", why])
    return ["impl", "shape", "mode", "dtype", "outcome", "GB/s cold", "of probe cold",
            "x scalar hot", "ns/token cold", "note"], rows


# ---------------------------------------------------------------- output

CSS = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:24px;color:#222;
max-width:1240px}
h1{font-size:22px;margin-bottom:4px}h2{font-size:18px;border-bottom:1px solid #ccc;
padding-bottom:3px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f0f0f0}
td.pass{background:#d9f2d9;color:#145214}td.FAIL{background:#f8d0d0;color:#8a0000;
font-weight:bold}td.BROKEN{background:#3a0000;color:#fff;font-weight:bold}
td.skip{background:#eee;color:#666}td.ERROR{background:#ffe0a0;font-weight:bold}
code{font-size:12px;background:#f6f6f6;padding:1px 3px;word-break:break-all}
.note{background:#fff6d6;border-left:4px solid #e0b000;padding:6px 10px;margin:8px 0}
img{max-width:100%;border:1px solid #eee}
.hdr td{border:none;padding:1px 10px 1px 0}
"""


class Report:
    def __init__(self):
        self.html = []
        self.md = []

    def h2(self, text):
        self.html.append(f"<h2>{html.escape(text)}</h2>")
        self.md.append(f"\n## {text}\n")

    def para(self, text, note=False):
        cls = ' class="note"' if note else ""
        self.html.append(f"<p{cls}>{html.escape(text)}</p>")
        self.md.append(("> **Note:** " if note else "") + text + "\n")

    def table(self, header, rows, verdict_cols=(), code_cols=()):
        h = ["<table><tr>" + "".join(f"<th>{html.escape(str(x))}</th>" for x in header)
             + "</tr>"]
        for r in rows:
            tds = []
            for i, x in enumerate(r):
                s = html.escape(str(x))
                if isinstance(x, list):  # a list cell: one item per line
                    s = "<br>".join("&bull; " + html.escape(str(y)) for y in x)
                if i in code_cols and x:
                    s = f"<code>{s}</code>"
                # A verdict cell may go on after its verdict ("FAIL 3.3e+07").
                cls = (f' class="{html.escape(str(x).split()[0])}"'
                       if i in verdict_cols and x else "")
                tds.append(f"<td{cls}>{s}</td>")
            h.append("<tr>" + "".join(tds) + "</tr>")
        h.append("</table>")
        self.html.append("\n".join(h))

        def cell(i, x):
            if isinstance(x, list):
                x = "; ".join(str(y) for y in x)
            s = str(x).replace("|", "\\|").replace("\n", " ")
            if i in code_cols and x:
                return f"`{s}`"
            if i in verdict_cols and str(x).split()[:1] in (["FAIL"], ["BROKEN"], ["ERROR"]):
                return f"**{s}**"
            return s
        self.md.append("| " + " | ".join(str(x) for x in header) + " |")
        self.md.append("|" + "---|" * len(header))
        for r in rows:
            self.md.append("| " + " | ".join(cell(i, x) for i, x in enumerate(r)) + " |")
        self.md.append("")

    def figure(self, png, name, alt, outdir):
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(png)
        b64 = base64.b64encode(png).decode("ascii")
        self.html.append(f'<p><img alt="{html.escape(alt)}" src="data:image/png;base64,{b64}">'
                         "</p>")
        self.md.append(f"![{alt}]({name})\n")


def header_info(docs, paths):
    version, cpu, seeds, kinds = set(), set(), set(), []
    for path, d in zip(paths, docs):
        kinds.append(f"{path} ({d.get('kind')})")
        t = d.get("tool") or {}
        if t.get("version"):
            version.add(str(t["version"]))
        if (d.get("host") or {}).get("cpu"):
            cpu.add(d["host"]["cpu"])
        if d.get("seed") is not None:
            seeds.add(str(d["seed"]))
        rc = d.get("ropecheck") if d.get("kind") == "bench" else None
        if isinstance(rc, dict):
            if rc.get("ropecheck_version"):
                version.add(str(rc["ropecheck_version"]))
            m = rc.get("machine") or {}
            if m.get("cpu_model"):
                cpu.add(m["cpu_model"] + (f" [{m['isa']}]" if m.get("isa") else ""))
    # verify names the CPU, bench adds its ISA flags: keep the longer form.
    cpu = {c for c in cpu if not any(o != c and o.startswith(c) for o in cpu)}
    none = "not recorded"
    return [("tool version", ", ".join(sorted(version)) or none),
            ("host CPU", "; ".join(sorted(cpu)) or none),
            ("seed", ", ".join(sorted(seeds)) or none),
            ("report written", datetime.datetime.now(datetime.timezone.utc)
             .strftime("%Y-%m-%d %H:%M UTC")),
            ("input files", "; ".join(kinds))]


def build(docs, paths, outdir):
    plt = plt_module()
    rep = Report()
    hdr = header_info(docs, paths)
    rep.html.append("<h1>ropecheck report</h1><table class=\"hdr\">" + "".join(
        f"<tr><td><b>{html.escape(k)}</b></td><td>{html.escape(v)}</td></tr>" for k, v in hdr)
        + "</table>")
    rep.md.append("# ropecheck report\n")
    for k, v in hdr:
        rep.md.append(f"- **{k}:** {v}")
    rep.md.append("")

    verify = [c for d in docs if d.get("kind") == "verify" for c in d.get("verify", [])]
    prove = [c for d in docs if d.get("kind") == "prove" for c in d.get("prove", [])]
    fig2 = next((d["figure2"] for d in docs if d.get("kind") == "prove"
                 and isinstance(d.get("figure2"), dict)), None)
    benches = [d["ropecheck"] for d in docs if d.get("kind") == "bench"
               and isinstance(d.get("ropecheck"), dict)]

    n = [0]

    def add_fig(fig, alt, stem):
        if fig is None:
            return False
        n[0] += 1
        rep.figure(png_bytes(fig), f"fig{n[0]}_{stem}.png", alt, outdir)
        plt.close(fig)
        return True

    rep.h2("Accuracy: verdicts")
    if verify:
        s = {}
        for c in verify:
            s[c["verdict"]] = s.get(c["verdict"], 0) + 1
        rep.para("Cases: " + ", ".join(f"{v} {k}" for k, v in sorted(s.items())) + ".")
        header, rows, reasons = verdict_matrix(verify)
        rep.table(header, rows, verdict_cols=range(1, len(header)))
        specs = spec_numbers(verify)
        rep.h2("Accuracy by specification")
        rep.para("One row per specification the cases ran under (head dim d, rotary dim r, "
                 "base, frequency scaling, the profile judged against); each cell: the worst "
                 "verdict over that spec's dtypes, layouts and directions, and the largest "
                 "max pair ULP among them.")
        header, rows = spec_matrix(verify, specs)
        rep.table(header, rows, verdict_cols=range(6, len(header)))
        if reasons:
            rep.para("Why the cases that did not pass did not (spec: its row above):")
            rep.table(["case", "verdict", "reason", "likely cause"],
                      [[case_label(c, specs), c["verdict"], c["reason"], cause_text(c)]
                       for c in reasons],
                      verdict_cols=(1,))
    else:
        rep.para("No verify results among the inputs: accuracy figures and tables skipped.",
                 note=True)

    if verify:
        rep.h2("Accuracy: error against position")
        if not add_fig(fig_ulp_by_position(plt, verify), "max and p99 pair ULP against "
                       "position", "ulp_by_position"):
            rep.para("No per-position statistics in the verify results (every case "
                     "crashed or was skipped).", note=True)
        rep.h2("Accuracy: distribution of pair error")
        if not add_fig(fig_histogram(plt, verify), "histogram of pair ULP", "ulp_histogram"):
            rep.para("No histograms in the verify results.", note=True)
        rep.h2("Worst cases, with the command that replays each")
        rows = worst_rows(verify, specs)
        if rows:
            keys = ["case", "verdict", "pair_ulp", "gate", "where", "got", "replay"]
            rep.table(["case", "verdict", "pair ULP", "gate", "where", "got (exact)",
                       "replay command"], [[r[k] for k in keys] for r in rows],
                      verdict_cols=(1,), code_cols=(5, 6))
        else:
            rep.para("No worst-case locations recorded.", note=True)

    rep.h2("Proofs: the RoFormer paper's properties")
    if prove:
        cols = []
        for c in prove:
            if (c["layout"], c["check"]) not in cols:
                cols.append((c["layout"], c["check"]))
        impls = list(dict.fromkeys(c["impl"] for c in prove))
        # Several specs per (layout, check) since the default prove runs a
        # matrix: each cell holds the worst verdict over them.
        got = {}
        for c in prove:
            k = (c["impl"], c["layout"], c["check"])
            got[k] = worse(c["verdict"], got[k]) if k in got else c["verdict"]
        rep.table(["implementation"] + [f"{l} {k}" for l, k in cols],
                  [[i] + [got.get((i, l, k), "") for l, k in cols] for i in impls],
                  verdict_cols=range(1, len(cols) + 1))
        rep.para("Every check, what its figure measures, and what it found:")
        rep.table(["impl", "spec", "layout", "check", "dtype", "verdict", "figure",
                   "what it measures", "findings"],
                  [[c["impl"], c.get("spec", ""), c["layout"], c["check"], c.get("dtype", ""),
                    c["verdict"],
                    fmt(c.get("figure")), c.get("figure_name") or c.get("error", ""),
                    list(c.get("findings") or []) or ("none" if c["verdict"] == "pass"
                                                      else c.get("error", ""))]
                   for c in prove], verdict_cols=(5,))
    else:
        rep.para("No prove results among the inputs.", note=True)
    if fig2 is not None:
        if not add_fig(fig_figure2(plt, fig2), "RoFormer Figure 2 curve", "figure2"):
            rep.para("The prove results' figure2 block is empty or malformed: skipped.",
                     note=True)

    rep.h2("Performance")
    if not benches:
        rep.para("No bench results among the inputs: throughput and fraction-of-probe "
                 "figures skipped.", note=True)
    for b in benches:
        st = b.get("settings") or {}
        if st:
            rep.para(f"Threads: {st.get('threads', '?')}; bytes counted: "
                     f"{st.get('bytes_counted', '?')}; fraction of probe: "
                     f"{st.get('fraction_of_probe', '?')}.")
        if not add_fig(fig_throughput(plt, b), "throughput against tokens with the probe",
                       "throughput"):
            rep.para("Bench results carry no cold gb_per_second/tokens: throughput figure "
                     "skipped.", note=True)
        if not add_fig(fig_fraction(plt, b), "fraction of probe per shape and implementation",
                       "fraction_of_probe"):
            rep.para("Bench results carry no fraction_of_probe: that figure skipped.",
                     note=True)
        header, rows = bench_rows(b)
        if rows:
            rep.table(header, rows)
        refs = [r for r in b.get("reference", []) if isinstance(r, dict) and r.get("ok")]
        if refs:
            rep.para("The MPFR reference's own speed (how long a verify takes): " + "; ".join(
                f"{r.get('dtype')} d {r.get('head_dim')}: "
                f"{fmt(r.get('seconds_per_million_elements'), 3)} s per million elements"
                for r in refs) + ".")

    os.makedirs(outdir, exist_ok=True)
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>ropecheck report</title><style>" + CSS + "</style></head><body>\n"
            + "\n".join(rep.html) + "\n</body></html>\n")
    with open(os.path.join(outdir, "report.html"), "w", encoding="utf-8") as f:
        f.write(page)
    with open(os.path.join(outdir, "report.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(rep.md) + "\n")


def main(argv):
    ap = argparse.ArgumentParser(
        prog="ropecheck report",
        description="Write DIR/report.html (self-contained) and DIR/report.md (figures as "
                    "PNG beside it) from ropecheck result JSON (verify, prove, bench).")
    ap.add_argument("results", nargs="+", metavar="RESULTS.json")
    ap.add_argument("-o", "--output", required=True, metavar="DIR")
    args = ap.parse_args(argv)
    try:
        val = validator()
        docs = [load(p, val) for p in args.results]
    except InputError as e:
        print(f"ropecheck report: {e}", file=sys.stderr)
        return EXIT_USAGE
    try:
        os.makedirs(args.output, exist_ok=True)
    except OSError as e:
        print(f"ropecheck report: cannot create {args.output}: {e.strerror}", file=sys.stderr)
        return EXIT_USAGE
    build(docs, args.results, args.output)
    print(os.path.join(args.output, "report.html"))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""ropecheck_report.py - turn ropecheck result JSON into report.html and report.md.

Run by `ropecheck report RESULTS.json... -o DIR [--baseline NAME]`
(cli/cmd_report.c, which passes its arguments on unchanged), or directly:
python3 reports/ropecheck_report.py RESULTS.json... -o DIR [--baseline NAME].
--baseline names the implementation the bench ratio columns compare to
(default: the one `bench --baseline` recorded in a bench file, if any).

Inputs are files of schema "ropecheck.results" (reports/schema/
results.schema.json), kind "verify", "prove" or "bench". Every problem with
an input (not a regular file, over MAX_INPUT_BYTES, not UTF-8, invalid or
too deeply nested JSON, NaN or out-of-range numbers, another major schema
version, a document the schema refuses) and every problem with the output
directory (not a directory, a failed write) is one line on stderr,
`ropecheck report: FILE: REASON`, and exit status 2; never a traceback.
Inputs are all checked before anything is written.

Outputs: DIR/report.html (self-contained: CSS inline, figures as base64 PNG)
and DIR/report.md (figures as PNG files beside it). Each is written to a
temporary file in DIR, fsync'ed, and renamed over the old one only once
every file is written: a failed run leaves the previous report whole.

Every string taken from a results file is escaped where it is placed (HTML
entities in report.html; entities and backslash escapes, or a code span, in
report.md), so a plug-in's name or output cannot add markup to the report.
"""

import argparse
import base64
import datetime
import html
import io
import json
import logging
import math
import operator
import os
import re
import secrets
import stat
import sys
import textwrap
import warnings

SCHEMA_NAME = "ropecheck.results"
SCHEMA_MAJOR = 1  # the major version this reader understands
SCHEMA_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schema",
                           "results.schema.json")
EXIT_OK, EXIT_USAGE = 0, 2

# Limits that keep a hostile or runaway input from taking the report down.
MAX_INPUT_BYTES = 256 << 20  # a 50,000-case verify file is about 70 MB
MAX_TABLE_ROWS = 500         # rows per table; the worst are kept, the rest counted
MAX_COLUMNS = 40             # implementation columns of "Accuracy by specification"
MAX_SERIES = 24              # lines or bar groups per figure; the worst are drawn
MAX_PANELS = 12              # panels (bench shapes) per figure
MAX_CELL_CHARS = 2000        # one string in a table cell or paragraph
MAX_LABEL_CHARS = 60         # one string in a figure's legend or title
MAX_SCHEMA_ERRORS = 100      # schema errors collected before giving up counting
FIG_DPI = 100                # every figure is saved at this resolution ...
MAX_FIG_WIDTH_PX = 1600      # ... and at most this wide (report.html shows it at most
                             # at the page's width, never wider than it was drawn)
MAX_BAR_IMPLS = 12           # implementations in the fraction-of-probe bars
BARS_PER_ROW = 48            # bars on one axis of that figure before it wraps a row


class InputError(Exception):
    """A problem with one input file: reported as one line, exit 2."""


class OutputError(Exception):
    """A problem writing the report: reported as one line, exit 2."""


# ---------------------------------------------------------------- text safety

# Characters that must not reach either output as they are: C0 and C1
# controls (a newline would end a Markdown table row), bidirectional
# overrides (they reorder what a reader sees) and lone surrogates (which
# JSON's \ud800 escapes can produce and UTF-8 cannot encode).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
                     "\ud800-\udfff]")
# Markdown's inline syntax (emphasis, code, links, tables, strike-through,
# math) plus the backslash that escapes it; < > & become HTML entities.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~$])")


def plain(v):
    """A JSON value as text: strings as they are, numbers as JSON writes
    them; an object or array is never expanded (it may be huge or deep)."""
    if isinstance(v, str):
        return v
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return fmt(v, 6) if isinstance(v, float) else str(v)
    return "(an object)" if isinstance(v, dict) else "(an array)"


def _visible(m):
    c = m.group()
    if c in "\t\n\r":
        return " "
    return f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}"


def clean(v, limit=MAX_CELL_CHARS):
    """One line of printable text for v, at most limit characters (plus a
    note of how many were cut); unsafe characters written as \\xNN or \\uNNNN."""
    s = plain(v)
    if len(s) > limit:
        s = s[:limit] + f"\u2026 ({len(s) - limit} more characters)"
    return _UNSAFE.sub(_visible, s) if _UNSAFE.search(s) else s


def shown(path):
    """A file name as an error message shows it: one line, not too long."""
    return clean(path, 300)


def h(v):
    """v as HTML text (also safe inside a quoted attribute)."""
    return html.escape(clean(v))


def md(v):
    """v as Markdown text that renders as exactly that text: HTML special
    characters as entities, Markdown's as backslash escapes (a backslash
    before | also keeps a table cell whole in GFM)."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(clean(v), quote=False))


def md_code(v):
    """v as a Markdown code span, shown verbatim (a command to copy). Inside
    a code span nothing is markup, so only two things need care: | still
    ends a GFM table cell unless escaped, and the fence must be longer than
    any run of backticks in the text."""
    s = clean(v).replace("|", "\\|")
    if not s.strip():
        return md(s)
    fence = "`" * (max((len(r) for r in re.findall("`+", s)), default=0) + 1)
    pad = " " if s[0] in "` " or s[-1] in "` " else ""
    return f"{fence}{pad}{s}{pad}{fence}"


def label(v):
    """v as a figure's legend, tick or title text: short, one line. Two "$"
    would start matplotlib's TeX parser (which raises on what it cannot
    parse): each is escaped. matplotlib hides legend labels that start
    with "_": a space keeps them shown."""
    s = clean(v, MAX_LABEL_CHARS).replace("$", "\\$")
    return " " + s if s.startswith("_") else s


# ---------------------------------------------------------------- loading

def _file_kind(mode):
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def read_bounded(path):
    """The bytes of a regular file of at most MAX_INPUT_BYTES.

    Opened with O_NONBLOCK because opening a FIFO for reading would wait for
    a writer forever; the type is then checked on the open descriptor
    (fstat), not by name, so nothing can be swapped in between. Reading
    stops one byte past the cap, so a file that grows while it is read (or
    a device that never ends) is refused, not read into memory."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        raise InputError(f"{shown(path)}: cannot read: {e.strerror}")
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"{shown(path)}: not a regular file ({_file_kind(st.st_mode)}); "
                             "give the results file itself")
        too_big = InputError(f"{shown(path)}: larger than the {MAX_INPUT_BYTES >> 20} MiB a "
                             "results file may be")
        if st.st_size > MAX_INPUT_BYTES:
            raise too_big
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, min(16 << 20, MAX_INPUT_BYTES + 1 - total))
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            total += len(chunk)
            if total > MAX_INPUT_BYTES:
                raise too_big
    except OSError as e:
        raise InputError(f"{shown(path)}: cannot read: {e.strerror}")
    finally:
        os.close(fd)


class _BadNumber(Exception):
    """Raised from json.loads' hooks; load() adds the file name."""


def _no_constant(name):
    raise _BadNumber(f"{name} is not JSON (results write non-finite numbers as the strings "
                     "\"nan\", \"inf\", \"-inf\")")


def _finite_float(s):
    x = float(s)
    if math.isinf(x):
        raise _BadNumber(f"number {clean(s, 40)} is out of the range of a double")
    return x


def _bounded_int(s):
    # Checked on the text: int() of thousands of digits is refused by
    # Python (or slow), and float() of more than ~308 digits overflows.
    if len(s) > 300:
        raise _BadNumber(f"an integer of {len(s)} digits is out of the range of a double")
    return int(s)


def parse_json(path, data):
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{shown(path)}: not UTF-8 text (byte 0x{data[e.start]:02x} at offset "
                         f"{e.start})")
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite_float,
                          parse_int=_bounded_int)
    except json.JSONDecodeError as e:
        raise InputError(f"{shown(path)}: invalid JSON at line {e.lineno} column {e.colno}: "
                         f"{e.msg}")
    except _BadNumber as e:
        raise InputError(f"{shown(path)}: {e}")
    except RecursionError:
        raise InputError(f"{shown(path)}: JSON nested too deeply (over about "
                         f"{sys.getrecursionlimit()} levels; a results file has under 10)")


def check_version(path, doc):
    if not isinstance(doc, dict):
        raise InputError(f"{shown(path)}: not a ropecheck results file (top level is not an "
                         "object)")
    schema = doc.get("schema")
    if schema != SCHEMA_NAME:
        raise InputError(f"{shown(path)}: not a ropecheck results file (schema "
                         f"{short_json(schema)}, expected {SCHEMA_NAME!r})")
    ver = doc.get("schema_version")
    major = ver.split(".")[0] if isinstance(ver, str) else None
    if major is None or not (major.isascii() and major.isdigit()) or len(major) > 9:
        raise InputError(f"{shown(path)}: missing or malformed schema_version "
                         f"{short_json(ver)} (expected \"{SCHEMA_MAJOR}.MINOR\")")
    if int(major) != SCHEMA_MAJOR:
        raise InputError(f"{shown(path)}: schema_version {clean(ver, 40)} has major version "
                         f"{int(major)}; this report reads major version {SCHEMA_MAJOR} only "
                         "(use the ropecheck that wrote the file)")


def short_json(v):
    """v in an error message: JSON, one line, cut short."""
    if isinstance(v, dict):
        return "an object"
    if isinstance(v, list):
        return "an array"
    s = json.dumps(v)  # ASCII only: controls and surrogates come out escaped
    return s if len(s) <= 60 else s[:57] + "..."


class _Enough(Exception):
    """MAX_SCHEMA_ERRORS found: stop looking for more."""


class _Errors(list):
    def append(self, item):
        super().append(item)
        if len(self) >= MAX_SCHEMA_ERRORS:
            raise _Enough


def _is_number(v):
    return type(v) in (int, float)  # json.loads makes no subclasses; bool is not int here


# The Python types json.loads gives each JSON type ("integer" is tested apart).
_PY_TYPES = {"object": (dict,), "array": (list,), "string": (str,), "number": (int, float),
             "boolean": (bool,), "null": (type(None),), "integer": ()}


def _json_equal(a, b):
    """Equality as JSON means it: true is not 1, 1 is 1.0."""
    if _is_number(a) and _is_number(b):
        return a == b
    return type(a) is type(b) and a == b


# Error messages are made only for the error that is shown: building one
# for every alternative a oneOf tries would cost more than the checking.
_MESSAGES = {
    "type": lambda v, a: f"{short_json(v)} is not of type {a}",
    "enum": lambda v, a: f"{short_json(v)} is not one of {', '.join(map(short_json, a))}",
    "const": lambda v, a: f"{short_json(v)} is not {short_json(a)}",
    "required": lambda v, a: f"{a!r} is a required property",
    "minItems": lambda v, a: f"an array of {len(v)} items, fewer than {a}",
    "minimum": lambda v, a: f"{short_json(v)} is less than the minimum of {a}",
    "pattern": lambda v, a: f"{short_json(v)} does not match {a!r}",
    "oneOf": lambda v, a: f"{short_json(v)} matches {a[0] or 'none'} of the {a[1]} "
                          "alternatives (it must match exactly one)",
    "oneOf simple": lambda v, a: f"{short_json(v)} is not a {a}",
}


class SchemaValidator:
    """The part of JSON Schema 2020-12 that results.schema.json uses, each
    keyword compiled once into a closure.

    Why not python3-jsonschema: it needs about 1.6 ms per verify case, 80 s
    for a 50,000-case file, where this takes a few seconds; and without it
    installed the report used to check almost nothing, so the drawing code
    met whatever types a file held. A keyword this class does not know is
    refused when the schema is compiled: the schema cannot grow a check that
    is silently skipped. tests/test_report.py checks that it agrees with
    jsonschema where that is installed.

    A compiled node is check(value, path, errs): it appends (path, kind,
    value, argument) for each error; path is a (parent, key) chain."""

    ANNOTATIONS = {"$schema", "$id", "$defs", "title", "description", "then", "else"}

    def __init__(self, schema):
        self.raw_defs = schema.get("$defs", {})
        self.defs, self.def_preds = {}, {}
        for name, sub in self.raw_defs.items():
            self.defs[name] = self.compile(sub)
        self.root = self.compile(schema)

    def errors(self, doc):
        """[(path, message)], in document order, at most MAX_SCHEMA_ERRORS."""
        errs = _Errors()
        try:
            self.root(doc, None, errs)
        except _Enough:
            pass
        return [(self.path_text(p), _MESSAGES[kind](v, arg)) for p, kind, v, arg in errs]

    @staticmethod
    def path_text(path):
        keys = []
        while path is not None:
            path, k = path
            keys.append(str(k))
        return "/".join(reversed(keys)) or "(top level)"

    @staticmethod
    def valid(node, v):
        errs = []
        node(v, None, errs)
        return not errs

    def compile(self, s):
        if not isinstance(s, dict):
            raise ValueError(f"schema node {short_json(s)} is not an object")
        checks = []
        for kw, arg in s.items():
            if kw in self.ANNOTATIONS:
                continue
            make = self.KEYWORDS.get(kw)
            if make is None:
                raise ValueError(f"schema keyword {kw!r} is not supported by this report")
            checks.append(make(self, arg, s))
        if len(checks) == 1:
            return checks[0]

        def node(v, path, errs):
            for check in checks:
                check(v, path, errs)
        return node

    @staticmethod
    def simple(s):
        """(types, strings) for a node that only names types or lists
        strings (the schema's "num": a number or "inf", "-inf", "nan"): a
        value matches it when type(value) is in types or it is a string in
        strings. None for any other node."""
        if not isinstance(s, dict) or len(set(s) - {"description"}) != 1:
            return None
        if "type" in s:
            names = [s["type"]] if isinstance(s["type"], str) else list(s["type"])
            if "integer" in names:
                return None
            return {t for n in names for t in _PY_TYPES[n]}, frozenset()
        values = s.get("enum", [s["const"]] if "const" in s else None)
        if values is None or not all(type(x) is str for x in values):
            return None
        return set(), frozenset(values)

    def predicate(self, s):
        """A fast test v -> bool, true exactly when the node s finds no
        error, for nodes of scalar checks only (type, string enum or const,
        minimum, pattern, a oneOf of simple() nodes, a $ref to such a
        node); None for any other. properties and items try it first and
        call the node, which says what is wrong, only when it fails: most
        of a verify file is numbers, and this is one call each."""
        if not isinstance(s, dict):
            return None
        tests = []
        for kw, arg in s.items():
            if kw in self.ANNOTATIONS:
                continue
            if kw == "$ref":
                name = arg[len("#/$defs/"):]
                if name not in self.def_preds:
                    self.def_preds[name] = None  # a definition that refers to itself
                    self.def_preds[name] = self.predicate(self.raw_defs.get(name))
                test = self.def_preds[name]
            elif kw in ("type", "enum", "const") or kw == "oneOf":
                simple = self.simple({kw: arg}) if kw != "oneOf" else self.one_of_simple(arg)
                if simple is None:
                    return None
                types, strings = simple
                test = (lambda v, types=types, strings=strings:
                        type(v) in types or (type(v) is str and v in strings))
            elif kw == "minimum":
                test = lambda v, m=arg: type(v) not in (int, float) or v >= m  # noqa: E731
            elif kw == "pattern":
                test = (lambda v, search=re.compile(arg).search:
                        type(v) is not str or search(v) is not None)
            else:
                return None
            if test is None:
                return None
            tests.append(test)
        if len(tests) == 1:
            return tests[0]
        if len(tests) == 2:
            a, b = tests
            return lambda v: a(v) and b(v)
        return lambda v: all(t(v) for t in tests)

    def one_of_simple(self, arg):
        """(types, strings) when a oneOf's alternatives are simple() and no
        value can match two of them (their types differ), so that "exactly
        one" is "any" and "any" is one test; else None."""
        simple = [self.simple(sub) for sub in arg]
        if not all(simple):
            return None
        kinds = [types | ({str} if strings else set()) for types, strings in simple]
        if sum(map(len, kinds)) != len(set().union(*kinds)):
            return None
        return (set().union(*(t for t, _ in simple)),
                frozenset().union(*(s for _, s in simple)))

    def kw_ref(self, arg, _s):
        prefix = "#/$defs/"
        name = arg[len(prefix):] if isinstance(arg, str) and arg.startswith(prefix) else None
        if name not in self.raw_defs:
            raise ValueError(f"schema $ref {arg!r} is not a local #/$defs/ name")
        defs = self.defs  # filled in by __init__ before any document is checked

        def check(v, path, errs):
            defs[name](v, path, errs)
        return check

    def kw_type(self, arg, _s):
        names = [arg] if isinstance(arg, str) else list(arg)
        types = tuple(t for n in names for t in _PY_TYPES[n])
        integer = "integer" in names
        want = " or ".join(names)

        def check(v, path, errs):
            if type(v) not in types and not (integer and _is_number(v)
                                              and float(v).is_integer()):
                errs.append((path, "type", v, want))
        return check

    def kw_enum(self, arg, _s):
        strings = frozenset(x for x in arg if isinstance(x, str))
        others = [x for x in arg if not isinstance(x, str)]

        def check(v, path, errs):
            if type(v) is str and v in strings:
                return
            if not any(_json_equal(v, x) for x in others):
                errs.append((path, "enum", v, arg))
        return check

    def kw_const(self, arg, _s):
        def check(v, path, errs):
            if not _json_equal(v, arg):
                errs.append((path, "const", v, arg))
        return check

    def kw_required(self, arg, _s):
        def check(v, path, errs):
            if type(v) is dict:
                for k in arg:
                    if k not in v:
                        errs.append((path, "required", v, k))
        return check

    def kw_properties(self, arg, _s):
        props = [(k, self.compile(sub), self.predicate(sub)) for k, sub in arg.items()]

        def check(v, path, errs):
            if type(v) is dict:
                for k, node, ok in props:
                    if k in v:
                        x = v[k]
                        if ok is None or not ok(x):
                            node(x, (path, k), errs)
        return check

    def kw_items(self, arg, _s):
        node, ok = self.compile(arg), self.predicate(arg)

        def check(v, path, errs):
            if type(v) is list and (ok is None or not all(map(ok, v))):
                for i, x in enumerate(v):
                    node(x, (path, i), errs)
        return check

    def kw_minItems(self, arg, _s):
        def check(v, path, errs):
            if type(v) is list and len(v) < arg:
                errs.append((path, "minItems", v, arg))
        return check

    def kw_minimum(self, arg, _s):
        def check(v, path, errs):
            if _is_number(v) and v < arg:
                errs.append((path, "minimum", v, arg))
        return check

    def kw_pattern(self, arg, _s):
        search = re.compile(arg).search

        def check(v, path, errs):
            if type(v) is str and not search(v):
                errs.append((path, "pattern", v, arg))
        return check

    def kw_allOf(self, arg, _s):
        nodes = [self.compile(sub) for sub in arg]

        def check(v, path, errs):
            for node in nodes:
                node(v, path, errs)
        return check

    def kw_oneOf(self, arg, _s):
        simple = self.one_of_simple(arg)
        if simple is not None:
            types, strings = simple
            want = " or ".join([sub["type"] for sub in arg if isinstance(sub.get("type"), str)]
                               + sorted(map(short_json, strings)))

            def check(v, path, errs):
                t = type(v)
                if t not in types and not (t is str and v in strings):
                    errs.append((path, "oneOf simple", v, want))
            return check
        nodes = [self.compile(sub) for sub in arg]

        def check(v, path, errs):
            n = sum(1 for node in nodes if self.valid(node, v))
            if n != 1:
                errs.append((path, "oneOf", v, (n, len(arg))))
        return check

    def kw_if(self, arg, s):
        cond = self.compile(arg)
        then = self.compile(s["then"]) if "then" in s else None
        other = self.compile(s["else"]) if "else" in s else None

        def check(v, path, errs):
            branch = then if self.valid(cond, v) else other
            if branch is not None:
                branch(v, path, errs)
        return check

    KEYWORDS = {"$ref": kw_ref, "type": kw_type, "enum": kw_enum, "const": kw_const,
                "required": kw_required, "properties": kw_properties, "items": kw_items,
                "minItems": kw_minItems, "minimum": kw_minimum, "pattern": kw_pattern,
                "allOf": kw_allOf, "oneOf": kw_oneOf, "if": kw_if}


def validator():
    """The compiled results schema; a broken schema file is an InputError
    naming it (the installation is at fault, not the results)."""
    try:
        schema = parse_json(SCHEMA_FILE, read_bounded(SCHEMA_FILE))
        return SchemaValidator(schema)
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise InputError(f"{shown(SCHEMA_FILE)}: unusable schema: {clean(e, 200)}")


def schema_check(path, doc, val):
    errors = val.errors(doc)
    if errors:
        where, msg = errors[0]
        n = len(errors) - 1
        more = (f" (and {n}{' or more' if len(errors) >= MAX_SCHEMA_ERRORS else ''} more)"
                if n else "")
        raise InputError(f"{shown(path)}: does not match {os.path.basename(SCHEMA_FILE)} at "
                         f"{clean(where, 200)}: {clean(msg, 300)}{more}")


def load(path, val):
    try:
        doc = parse_json(path, read_bounded(path))
    except MemoryError:
        raise InputError(f"{shown(path)}: out of memory reading it")
    check_version(path, doc)
    schema_check(path, doc, val)
    if doc.get("kind") == "bench":
        label_thread_counts(doc["ropecheck"])
    return doc


def label_thread_counts(bench):
    """A scaling run (bench --threads 1,2,...; 1.4) holds every case once
    per thread count. Cases beyond the first count are shown as their own
    implementation, "avx512 (2 threads)", so that every table and figure
    keeps one entry per implementation and case; impl_name keeps the
    implementation's own name (a baseline is matched by it, at the same
    count: bench_key holds the count)."""
    cases = [c for c in bench.get("cases", []) if isinstance(c, dict)]
    counts = list(dict.fromkeys(c.get("threads") for c in cases
                                if isinstance(c.get("threads"), int)))
    for c in cases:
        c.setdefault("impl_name", c.get("impl"))
        t = c.get("threads")
        if len(counts) > 1 and isinstance(t, int) and t != counts[0] \
                and isinstance(c.get("impl"), str):
            c["impl"] = f"{c['impl']} ({t} threads)"


# ---------------------------------------------------------------- numbers

def num(v):
    """A result number: JSON numbers, or the strings "inf", "-inf", "nan"."""
    if isinstance(v, bool) or v is None:
        return float("nan")
    if isinstance(v, float):
        return v
    if isinstance(v, int):
        try:
            return float(v)
        except OverflowError:
            return float("inf") if v > 0 else float("-inf")
    if isinstance(v, str) and v in ("inf", "-inf", "nan"):
        return float(v)
    return float("nan")


def finite(*xs):
    return all(math.isfinite(x) for x in xs)


def fmt(v, digits=4):
    x = num(v)
    if math.isnan(x):
        return "-" if v is None else (plain(v) if not isinstance(v, float) else "nan")
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:.{digits}g}"


def fmt_finite(x, digits=4):
    """fmt() of a number that may be missing (NaN): "-" for that."""
    return "-" if isinstance(x, float) and math.isnan(x) else fmt(x, digits)


def obj(v):
    """v if it is a JSON object, else an empty one (for keys the schema
    leaves open, so they may hold anything)."""
    return v if isinstance(v, dict) else {}


# ---------------------------------------------------------------- choosing rows

# Several cases folded into one cell: the cell shows the worst verdict.
VERDICT_ORDER = {"": -1, "pass": 0, "skip": 1, "FAIL": 2, "ERROR": 3, "BROKEN": 4}


def severity(verdict):
    """How bad a verdict is (an unknown one is the worst)."""
    return VERDICT_ORDER.get(verdict, 5)


def worse(a, b):
    """The worse of two verdicts."""
    return a if severity(a) > severity(b) else b


def pick(items, limit, badness):
    """(kept, left_out): at most limit items, in their own order. When there
    are more, the worst ones (largest badness; ties: the earlier) are kept,
    so a long table or a crowded figure never hides a failure behind
    passing rows. badness may be a tuple. One stable sort: O(n log n)."""
    if len(items) <= limit:
        return list(items), []
    ranked = sorted(range(len(items)), key=lambda i: badness(items[i]), reverse=True)
    keep = set(ranked[:limit])
    return ([x for i, x in enumerate(items) if i in keep],
            [x for i, x in enumerate(items) if i not in keep])


def count_by(values):
    counts = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return counts


def count_text(values):
    """"3 FAIL, 12 pass": how many of each, worst first."""
    counts = count_by(values)
    return ", ".join(f"{n:,} {v or '(none)'}"
                     for v, n in sorted(counts.items(), key=lambda kv: -severity(kv[0])))


def worst_of(values):
    w = ""
    for v in values:
        w = worse(v, w)
    return w


# ---------------------------------------------------------------- figures

def plt_module():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.rcParams.update({"figure.dpi": FIG_DPI, "font.size": 10, "axes.grid": True,
                         "grid.alpha": 0.3, "axes.titlesize": 11})
    # Glyphs missing from the font, log axes with nothing positive: warnings
    # that would clutter stderr, which says only what went wrong.
    warnings.simplefilter("ignore")
    logging.getLogger("matplotlib").setLevel(logging.ERROR)
    return plt


DTYPE_STYLE = {"f32": "-", "f64": ":", "f16": "--", "bf16": "-."}
DTYPE_MARK = {"f32": "o", "f64": "D", "f16": "s", "bf16": "^"}


def impl_colors(names):
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
               "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
    return {n: palette[i % len(palette)] for i, n in enumerate(sorted(set(names)))}


def png_bytes(fig):
    """The figure as PNG at FIG_DPI, at most MAX_FIG_WIDTH_PX wide. Every
    figure is laid out to fit (wrapped into rows of panels, legends inside
    the width); this is the guard for one that still comes out wider (a
    long legend entry, say): it is saved again at the resolution that fits,
    its text smaller rather than the page scrolling sideways."""
    dpi = FIG_DPI
    for _ in range(3):
        buf = io.BytesIO()
        fig.savefig(buf, format="png", bbox_inches="tight", dpi=dpi)
        data = buf.getvalue()
        width = int.from_bytes(data[16:20], "big")  # the IHDR's width
        if width <= MAX_FIG_WIDTH_PX:
            break
        dpi = dpi * (MAX_FIG_WIDTH_PX - 4) / width
    return data


def worst_series(series, value, what):
    """At most MAX_SERIES of a figure's series (a dict), those with the
    largest value; and a note of how many were left out, or None."""
    keys = sorted(series)
    kept, out = pick(keys, MAX_SERIES, lambda k: value(series[k]))
    note = (f"{len(out):,} more {what} not drawn (at most {MAX_SERIES}; the worst are shown)."
            if out else None)
    return {k: series[k] for k in kept}, note


def ulp_rank(v):
    """A ULP figure (a number, or "inf", "-inf", "nan" as the schema
    allows) as a number to take the largest of: NaN lowest."""
    x = float(v) if type(v) is str else v
    return x if x == x else float("-inf")


def high(x):
    """A number to rank by: NaN ranks lowest."""
    return x if not math.isnan(x) else float("-inf")


def fig_ulp_by_position(plt, cases):
    """Max and p99 pair ULP per position bucket; one line per impl and dtype."""
    groups = {}
    for c in cases:
        buckets = c.get("pair_ulp_by_position")
        if not buckets:
            continue
        g = groups.setdefault((c["impl"], c["dtype"]), {})
        for b in buckets:
            # Several layouts or directions of one impl and dtype: the worst.
            # (One pass over every bucket of every case: kept to plain
            # lookups and comparisons.)
            lo = b["position_lo"]
            old = g.get(lo)
            mx, p99 = ulp_rank(b["max"]), ulp_rank(b["p99"])
            g[lo] = ((b["position_hi"], mx, p99) if old is None else
                     (old[0], max(old[1], mx), max(old[2], p99)))
    if not groups:
        return None, None
    groups, note = worst_series(groups, lambda g: max((v[1] for v in g.values()),
                                                      default=float("-inf")),
                                "implementation x dtype lines")
    colors = impl_colors(k[0] for k in groups)
    floor = 2.0 ** -10  # exact results (0 ULP) drawn at this level on the log axis
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6), sharey=True)
    for ax, idx, what in ((axes[0], 1, "max"), (axes[1], 2, "p99")):
        keys = sorted(groups)
        for k_i, (impl, dt) in enumerate(keys):
            g = groups[(impl, dt)]
            # Only buckets a log axis can show: 0 <= lo < hi, a finite figure.
            los = [lo for lo in sorted(g) if 0 <= lo < g[lo][0] < math.inf
                   and math.isfinite(g[lo][idx])]
            # Bucket [lo, hi) drawn at its geometric middle; m = 0 at 0.5.
            xs = [math.sqrt(lo) * math.sqrt(g[lo][0]) if lo > 0 else 0.5 for lo in los]
            ys = [max(g[lo][idx], floor) for lo in los]
            # Equal results overlap exactly: earlier series drawn wider so
            # every line stays visible under the later ones.
            ax.plot(xs, ys, DTYPE_STYLE.get(dt, "-"), marker=DTYPE_MARK.get(dt, "o"),
                    ms=3 + 4 * (len(keys) - 1 - k_i) / len(keys), color=colors[impl],
                    lw=1.2 + 3.0 * (len(keys) - 1 - k_i) / len(keys),
                    label=f"{label(impl)} {dt}")
        gates = {}
        for c in cases:
            gate = num((c.get("pair_ulp") or {}).get("gate"))
            if math.isfinite(gate) and gate > 0:
                gates.setdefault(gate, set()).add(c["dtype"])
        # The gates go into the legend: labels written beside the lines
        # collide when two gates are close (f32 2 ULP, bf16 1 ULP).
        gate_styles = [(0, (6, 3)), (0, (2, 2)), (0, (8, 2, 2, 2))]
        for g_i, (gate, dts) in enumerate(sorted(gates.items(), reverse=True)[:MAX_SERIES]):
            ax.axhline(gate, color="black", lw=1.3, ls=gate_styles[g_i % len(gate_styles)],
                       label=f"gate {gate:g} ULP ({', '.join(sorted(dts))})")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log", base=2)
        ax.set_xlabel("position m (log scale; bucket [2^(k-1), 2^k), m = 0 at 0.5)")
        ax.set_title(f"{what} pair error per position bucket")
    axes[0].set_ylabel("pair error (ULP; 0 drawn at 2^-10)")
    axes[1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                   title="implementation, dtype")
    fig.suptitle("Pair ULP against position (lower is better; above the gate fails)")
    return fig, note


def histogram_edges(hist):
    """The drawable edges of a histogram (log axis: the first bin [0, e1)
    drawn from e1/2, the open last bin [e_last, inf) as one more doubling),
    or None when its edges and counts do not fit together."""
    edges = [num(e) for e in hist["edges"]]
    if len(edges) < 2 or len(hist["counts"]) != len(edges) - 1:
        return None
    e = list(edges)
    e[0] = e[1] / 2
    if math.isinf(e[-1]) and len(e) > 2:
        e[-1] = e[-2] * 2
    if not (finite(*e) and e[0] > 0 and all(a < b for a, b in zip(e, e[1:]))):
        return None
    return e


def fig_histogram(plt, cases):
    """Log-binned pair ULP histogram; one panel per dtype, one line per impl."""
    by_dt, skipped = {}, 0
    for c in cases:
        hist = c.get("pair_ulp_histogram")
        if not hist or not hist["counts"]:
            continue
        per_impl = by_dt.setdefault(c["dtype"], {})
        old = per_impl.get(c["impl"])
        if old is None:
            e = histogram_edges(hist)
            if e is None:
                skipped += 1
            else:
                per_impl[c["impl"]] = (hist["edges"], e, list(hist["counts"]))
        elif hist["edges"] == old[0] and len(hist["counts"]) == len(old[2]):
            # Histograms of one impl and dtype are summed. Counts are numbers
            # >= 0 (the schema says so), added in C: 50,000 histograms of 60
            # bins would take seconds through num().
            old[2][:] = map(operator.add, old[2], hist["counts"])
        else:
            skipped += 1  # its edges differ from the others of its impl and dtype
    by_dt = {dt: {i: (e, counts) for i, (_, e, counts) in d.items()}
             for dt, d in by_dt.items()}
    by_dt = {dt: d for dt, d in by_dt.items() if d}
    if not by_dt:
        return None, None
    notes = [f"{skipped:,} histograms with edges that do not fit their counts (or the other "
             "histograms of their implementation) left out."] if skipped else []
    impls_all = {i for d in by_dt.values() for i in d}
    colors = impl_colors(impls_all)
    dts = sorted(by_dt)
    # Two panels a row at most: four dtypes side by side were 2,400 px wide.
    ncol = min(2, len(dts))
    nrow = (len(dts) + ncol - 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(6.2 * ncol, 4.2 * nrow), squeeze=False)
    for j in range(len(dts), nrow * ncol):
        axes[j // ncol][j % ncol].set_visible(False)
    for i, dt in enumerate(dts):
        ax = axes[i // ncol][i % ncol]
        # Worst first: the most weight beyond the gate's bins.
        shown_impls, note = worst_series(by_dt[dt], lambda ec: high(
            sum(n * e for n, e in zip(ec[1], ec[0])) / (sum(ec[1]) or 1.0)),
            f"{dt} histogram lines")
        if note:
            notes.append(note)
        items = sorted(shown_impls.items())
        for k_i, (impl, (e, counts)) in enumerate(items):
            total = sum(counts) or 1.0
            fr = [n / total for n in counts]
            ax.stairs(fr, e, color=colors[impl], label=label(impl),
                      lw=1.2 + 3.0 * (len(items) - 1 - k_i) / len(items))
        gates = {num((c.get("pair_ulp") or {}).get("gate")) for c in cases if c["dtype"] == dt}
        for g in sorted(x for x in gates if math.isfinite(x) and x > 0)[:MAX_SERIES]:
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
    fig.tight_layout()
    return fig, " ".join(notes) or None


def bench_variant(case, which):
    v = case.get(which)
    if not isinstance(v, dict) or not v.get("ok"):
        return None
    return v


def positive_point(t, g):
    return finite(t, g) and t > 0 and g > 0


def fig_throughput(plt, bench):
    """GB/s against tokens (out of cache) per shape, the probe as the roofline."""
    cases = [c for c in bench.get("cases", []) if c.get("outcome") == "ran"]
    probes = bench.get("probes", [])
    pts = {}
    for c in cases:
        v = bench_variant(c, "cold")
        if v and "gb_per_second" in v:
            t, g = num(c["tokens"]), num(v["gb_per_second"])
            if positive_point(t, g):
                pts.setdefault(c["shape"], {}).setdefault((c["impl"], c["dtype"]), []).append(
                    (t, g))
    if not pts:
        return None, None
    notes = []
    shapes = sorted(pts)
    if len(shapes) > MAX_PANELS:
        notes.append(f"{len(shapes) - MAX_PANELS:,} more shapes not drawn (the first "
                     f"{MAX_PANELS} by name are).")
        shapes = shapes[:MAX_PANELS]
    roof = {}
    for p in probes:
        v = bench_variant(p, "cold")
        if v and "gb_per_second" in v and p["shape"] in shapes:
            t, g = num(p["tokens"]), num(v["gb_per_second"])
            if positive_point(t, g):
                roof.setdefault(p["shape"], {}).setdefault(p["dtype"], []).append((t, g))
    for s in shapes:
        # The slowest lines are the ones to see: ranked by their best GB/s, lowest first.
        pts[s], note = worst_series(pts[s], lambda line: -max(g for _, g in line),
                                    f"{s} lines")
        if note:
            notes.append(note)
    colors = impl_colors(k[0] for s in shapes for k in pts[s])
    ncol = min(3, len(shapes))
    nrow = (len(shapes) + ncol - 1) // ncol
    width_in = 4.1 * ncol + 0.4
    fig, axes = plt.subplots(nrow, ncol, figsize=(width_in, 3.4 * nrow), squeeze=False)
    for i, shape in enumerate(shapes):
        ax = axes[i // ncol][i % ncol]
        for dt, line in sorted(roof.get(shape, {}).items()):
            line.sort()
            ax.plot([t for t, _ in line], [g for _, g in line], color="black",
                    ls=DTYPE_STYLE.get(dt, "-"), lw=2.2, alpha=0.55)
        for (impl, dt), line in sorted(pts[shape].items()):
            line.sort()
            ax.plot([t for t, _ in line], [g for _, g in line], ls=DTYPE_STYLE.get(dt, "-"),
                    marker=DTYPE_MARK.get(dt, "o"), color=colors[impl])
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("tokens per call")
        if i % ncol == 0:
            ax.set_ylabel("GB/s (read + written)")
        ax.set_title(f"{label(shape)}", loc="left")
    for j in range(len(shapes), nrow * ncol):
        axes[j // ncol][j % ncol].set_visible(False)
    # One legend for every panel (a legend in each hid the lines): colour
    # is the implementation, line style and marker the dtype.
    dts = sorted({k[1] for s in shapes for k in pts[s]} |
                 {dt for s in shapes for dt in roof.get(s, {})})
    handles = [plt.Line2D([], [], color=c, lw=3, label=label(i))
               for i, c in sorted(colors.items())]
    handles += [plt.Line2D([], [], color="#444444", ls=DTYPE_STYLE.get(dt, "-"),
                           marker=DTYPE_MARK.get(dt, "o"), label=dt) for dt in dts]
    handles.append(plt.Line2D([], [], color="black", lw=2.2, alpha=0.55,
                              label="streaming probe (roofline)"))
    shared_legend(fig, handles, width_in, 3.4 * nrow,
                  "Throughput out of cache against tokens per call; black: the streaming "
                  "probe over the same bytes (the machine's limit)")
    return fig, " ".join(notes) or None


def shared_legend(fig, handles, width_in, body_in, title):
    """The title and one legend for all panels above them, inside the
    figure's width (a legend beside the panels would widen the PNG)."""
    ncol = max(1, min(len(handles), int(width_in // 1.9)))
    legend_rows = (len(handles) + ncol - 1) // ncol
    # The title wrapped to the width (about 10 characters an inch at 12 pt):
    # a longer line would widen the saved PNG past the panels.
    lines = textwrap.wrap(title, max(30, int(width_in * 10.5)))
    title_in = 0.22 * len(lines)
    head_in = 0.58 + title_in + 0.22 * (legend_rows - 1)
    fig_h = head_in + body_in
    fig.set_size_inches(width_in, fig_h)
    fig.suptitle("\n".join(lines), y=1 - 0.12 / fig_h, va="top")
    legend = fig.legend(handles=handles, loc="upper center", ncol=ncol, fontsize=9,
                        bbox_to_anchor=(0.5, 1 - (0.2 + title_in) / fig_h), frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 1 - head_in / fig_h))
    # tight_layout leaves room for the title on top of the rectangle it is
    # given: the panels are moved up to just under the legend.
    try:
        r = fig.canvas.get_renderer()
        px = fig_h * fig.dpi
        below = legend.get_window_extent(r).y0 / px - 0.1 / fig_h
        top = max(ax.get_tightbbox(r).y1 for ax in fig.axes if ax.get_visible()) / px
        if below > top:
            fig.subplots_adjust(top=fig.subplotpars.top + below - top)
    except (TypeError, AttributeError, ValueError):
        pass  # the layout of tight_layout stands


def variant_fraction(case, which):
    """A bench case's fraction of the probe for one variant ("cold" or
    "hot"), or NaN when that variant did not run or has none."""
    v = bench_variant(case, which)
    return num(v["fraction_of_probe"]) if v and "fraction_of_probe" in v else float("nan")


def fraction_layout(n_shapes, n_impls):
    """(shapes per row, rows per dtype) for the fraction figure: at most
    BARS_PER_ROW bars (two per implementation and shape) on one axis, so a
    bar stays wide enough for its label at a width of at most
    MAX_FIG_WIDTH_PX."""
    per_shape = 2 * max(1, n_impls)
    spr = max(1, min(n_shapes, BARS_PER_ROW // per_shape))
    return spr, (n_shapes + spr - 1) // spr


def fig_fraction(plt, bench):
    """Fraction of the probe per shape and implementation, cold (out of
    cache, solid) and hot (in cache, hatched) side by side, at each shape's
    largest token count. One row of panels per dtype, wrapped into more
    rows when the bars would not fit the width."""
    cases = [c for c in bench.get("cases", []) if c.get("outcome") == "ran"]
    best = {}  # (dtype, shape) -> largest-token mode's (cold, hot) fractions per impl
    for c in cases:
        cold, hot = variant_fraction(c, "cold"), variant_fraction(c, "hot")
        t = num(c["tokens"])
        if not math.isfinite(t) or not (math.isfinite(cold) or math.isfinite(hot)):
            continue
        key = (c["dtype"], c["shape"])
        cur = best.setdefault(key, {"tokens": -math.inf, "mode": "", "impls": {}})
        if t > cur["tokens"]:
            cur.update(tokens=t, mode=c.get("mode", ""), impls={})
        if t == cur["tokens"]:
            cur["impls"][c["impl"]] = (cold, hot)
    if not best:
        return None, None
    notes = []
    shape_names = sorted({k[1] for k in best})
    if len(shape_names) > MAX_PANELS:
        notes.append(f"{len(shape_names) - MAX_PANELS:,} more shapes not drawn (the first "
                     f"{MAX_PANELS} by name are).")
        keep = set(shape_names[:MAX_PANELS])
        best = {k: v for k, v in best.items() if k[1] in keep}
    # The implementations furthest below the probe are the ones to see.
    lowest = {}
    for b in best.values():
        for i, fs in b["impls"].items():
            f = min((x for x in fs if math.isfinite(x)), default=math.inf)
            lowest[i] = min(lowest.get(i, f), f)
    kept, out = pick(sorted(lowest), MAX_BAR_IMPLS, lambda i: -lowest[i])
    if out:
        notes.append(f"{len(out):,} more implementations not drawn (at most "
                     f"{MAX_BAR_IMPLS}; those furthest below the probe are shown).")
    impls = kept
    dts = sorted({k[0] for k in best})
    colors = impl_colors(impls)
    shapes_of = {dt: sorted(s for d, s in best if d == dt) for dt in dts}
    n_max = max(len(v) for v in shapes_of.values())
    spr, _ = fraction_layout(n_max, len(impls))
    rows = [(dt, shapes_of[dt][i:i + spr]) for dt in dts
            for i in range(0, len(shapes_of[dt]), spr)]
    # A wide one row of panels would be unreadable; a tall one scrolls. Past
    # MAX_PANELS rows (many implementations and shapes) rows take more bars.
    while len(rows) > MAX_PANELS and spr < n_max:
        spr += 1
        rows = [(dt, shapes_of[dt][i:i + spr]) for dt in dts
                for i in range(0, len(shapes_of[dt]), spr)]
    bars_in_row = max(len(r[1]) for r in rows) * 2 * len(impls)
    max_width_in = MAX_FIG_WIDTH_PX / FIG_DPI - 0.6  # room for the y label and padding
    width_in = min(max_width_in, max(7.0, 1.6 + 0.26 * bars_in_row + 0.4 * spr))
    slots = max(len(r[1]) for r in rows)
    # A bar's width in pixels decides how its value is written: across,
    # upright, or (too thin for either) not at all.
    bar_px = (width_in - 1.2) * FIG_DPI / slots * 0.84 / (2 * max(1, len(impls)))
    label_rot = 0 if bar_px >= 28 else 90 if bar_px >= 11 else None
    values = [x for b in best.values() for fs in b["impls"].values() for x in fs
              if math.isfinite(x)]
    top = max(1.1, min(max(values, default=1.0), 1e300) * (1.3 if label_rot == 90 else 1.15))
    fig, axes = plt.subplots(len(rows), 1, figsize=(width_in, 0.8 + 2.7 * len(rows)),
                             squeeze=False)
    w = 0.84 / (2 * max(1, len(impls)))
    for ax, (dt, shapes) in zip((a[0] for a in axes), rows):
        for j, impl in enumerate(impls):
            for v, which in enumerate(("cold", "hot")):
                xs, ys = [], []
                for i, s in enumerate(shapes):
                    f = best[(dt, s)]["impls"].get(impl, (math.nan, math.nan))[v]
                    if math.isfinite(f):
                        xs.append(i + (2 * j + v - (2 * len(impls) - 1) / 2) * w)
                        ys.append(f)
                if not xs:
                    continue
                style = ({"color": colors[impl], "edgecolor": colors[impl]} if v == 0 else
                         {"facecolor": "white", "edgecolor": colors[impl], "hatch": "////",
                          "linewidth": 1.0})
                bars = ax.bar(xs, ys, w, **style)
                if label_rot is not None:
                    ax.bar_label(bars, labels=[f"{y:.2f}" if abs(y) < 1000 else fmt(y, 2)
                                               for y in ys],
                                 fontsize=8, rotation=label_rot, padding=2)
        ax.axhline(1.0, color="black", ls=(0, (6, 3)), lw=1.2)
        ax.set_xticks(range(len(shapes)))
        ax.set_xticklabels([f"{label(s)}\n{label(best[(dt, s)]['mode'])}" for s in shapes],
                           fontsize=9)
        ax.set_xlim(-0.5, max(len(shapes), spr) - 0.5)
        ax.set_ylabel("fraction of probe")
        ax.set_ylim(0, top)
        part = [r for r in rows if r[0] == dt]
        ax.set_title(dt if len(part) == 1 else
                     f"{dt} ({part.index((dt, shapes)) + 1} of {len(part)})", loc="left")
    # One legend for every panel: the colours, then what solid and hatched mean.
    handles = [plt.Rectangle((0, 0), 1, 1, color=colors[i], label=label(i)) for i in impls]
    handles += [plt.Rectangle((0, 0), 1, 1, facecolor="#333333", edgecolor="#333333",
                              label="cold: out of cache (solid)"),
                plt.Rectangle((0, 0), 1, 1, facecolor="white", edgecolor="#333333",
                              hatch="////", label="hot: in cache (hatched)")]
    shared_legend(fig, handles, width_in, 2.7 * len(rows),
                  "Fraction of the streaming probe at each shape's largest token count "
                  "(higher is better; dashed: 1 = the machine's limit)")
    return fig, " ".join(notes) or None


def fig_figure2(plt, fig2):
    pts = [(num(a), num(b)) for a, b in zip(fig2.get("distance", []),
                                            fig2.get("relative_upper_bound", []))]
    pts = [(a, b) for a, b in pts if finite(a, b)]
    if not pts or len(fig2.get("distance", [])) != len(fig2.get("relative_upper_bound", [])):
        return None, None
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot([a for a, _ in pts], [b for _, b in pts], color="#1f77b4", lw=1.6)
    ax.set_xlabel("relative distance |m - n| (tokens)")
    ax.set_ylabel("relative upper bound (2/r) sum |S_j|")
    ax.set_title(f"RoFormer Figure 2: long-term decay (base {num(fig2.get('base')):g}, "
                 f"rotary dim {num(fig2.get('rotary_dim')):g}; certified upper bounds)")
    return fig, None


# ---------------------------------------------------------------- tables

def impl_order(cases):
    """Implementations in the order the inputs first name them."""
    return list(dict.fromkeys(c["impl"] for c in cases))


def spec_key(c):
    """What a case computed beyond impl x dtype x layout x direction. Files
    written before scaling and profiles existed lack the keys: they ran the
    plain spec against the exact result. A multi-axis case (results 1.6)
    names its axis map beside the scaling."""
    scaling = c.get("scaling") or "none"
    axes = obj(c.get("axes")).get("spec")  # 1.6: a multi-axis case's map
    if axes:
        scaling = f"{scaling} + axes {axes}"
    return (num(c.get("head_dim")), num(c.get("rotary_dim")), num(c.get("base")),
            scaling, c.get("profile") or "exact")


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
    """Rows: implementation; columns: dtype x layout x direction. Also the
    rows left out (at most MAX_TABLE_ROWS shown, the worst) and the cases
    that did not pass."""
    cols = sorted({(c["dtype"], c["layout"], c["direction"]) for c in cases})
    cell = {}
    for c in cases:
        k = (c["impl"], c["dtype"], c["layout"], c["direction"])
        # Several runs of one cell (several files or specs): the worst verdict.
        cell[k] = worse(c["verdict"], cell.get(k, ""))
    header = ["implementation"] + [f"{d} {l} {r}" for d, l, r in cols]
    rows = [[impl] + [cell.get((impl,) + col, "") for col in cols]
            for impl in impl_order(cases)]
    rows, left_out = pick(rows, MAX_TABLE_ROWS, lambda r: severity(worst_of(r[1:])))
    reasons = [c for c in cases if c["verdict"] != "pass"]
    return header, rows, left_out, reasons


def spec_matrix(cases, specs):
    """Rows: specification (d, r, base, scaling, profile); columns:
    implementation; cells: the worst verdict over the spec's cases (every
    dtype, layout and direction) and their largest max pair ULP. At most
    MAX_TABLE_ROWS rows and MAX_COLUMNS implementation columns, the worst;
    the cells are filled only for those, so the table costs no more than
    it shows (specs x implementations would be quadratic)."""
    cell, impl_worst, spec_worst = {}, {}, {}
    for c in cases:
        sk, impl, v = spec_key(c), c["impl"], c["verdict"]
        k = (sk, impl)
        old_v, ulp = cell.get(k, (v, float("nan")))
        u = num((c.get("pair_ulp") or {}).get("max"))
        if not math.isnan(u):  # crashed and skipped cases measured nothing
            ulp = u if math.isnan(ulp) else max(ulp, u)
        cell[k] = (worse(v, old_v), ulp)
        impl_worst[impl] = worse(v, impl_worst.get(impl, ""))
        spec_worst[sk] = worse(v, spec_worst.get(sk, ""))
    impls, impls_out = pick(impl_order(cases), MAX_COLUMNS, lambda i: severity(impl_worst[i]))
    keys, keys_out = pick(list(specs), MAX_TABLE_ROWS, lambda k: severity(spec_worst[k]))
    header = ["spec", "d", "r", "base", "scaling", "profile"] + impls
    rows = []
    for k in keys:
        row = [str(specs[k]), fmt(k[0]), fmt(k[1]), fmt(k[2], 7), k[3], k[4]]
        for impl in impls:
            v, ulp = cell.get((k, impl), ("", float("nan")))
            row.append(v if math.isnan(ulp) else f"{v} {fmt(ulp)}")
        rows.append(row)
    notes = []
    if keys_out:
        notes.append(f"{len(keys_out):,} more specifications not shown (the mildest; their "
                     f"worst verdicts: {count_text(spec_worst[k] for k in keys_out)}).")
    if impls_out:
        notes.append(f"{len(impls_out):,} more implementations not shown as columns (the "
                     f"mildest; their worst verdicts: "
                     f"{count_text(impl_worst[i] for i in impls_out)}).")
    return header, rows, " ".join(notes)


def reason_rows(reasons, specs):
    """The cases that did not pass, at most MAX_TABLE_ROWS rows, and a
    count of the rest per implementation, verdict and cause, so that no
    failure is left unaccounted for.

    Skipped cases are not listed one by one: those of one implementation
    with one reason are one row, "cuda: 96 cases skipped" beside the
    reason, after the failures. Which failures: the first case of every
    (implementation, verdict, cause), worst first, then the second of each,
    and so on; so every kind of failure is shown with its reason, not 500
    copies of the most common one. The skip rows rank with the first of
    each kind.

    Returns (rows, rest, summary, summary_out): rest counts the cases left
    out by verdict ({verdict: n})."""
    items, rank, seen, skips = [], [], {}, {}
    for c in reasons:
        if c["verdict"] == "skip":
            k = (c["impl"], c["reason"])
            if k not in skips:
                skips[k] = [c["impl"], c["reason"], 0]
            skips[k][2] += 1
            continue
        k = (c["impl"], c["verdict"], c.get("cause"))
        seen[k] = nth = seen.get(k, -1) + 1  # c is the nth case of its kind
        items.append(c)
        rank.append((-nth, severity(c["verdict"])))
    for g in skips.values():
        items.append(g)
        rank.append((0, severity("skip")))
    kept, left_out = pick(range(len(items)), MAX_TABLE_ROWS, lambda i: rank[i])
    rows = []
    for i in kept:
        x = items[i]
        if isinstance(x, dict):
            rows.append([case_label(x, specs), x["verdict"], x["reason"], cause_text(x)])
        else:
            impl, reason, n = x
            rows.append([f"{clean(impl, 200)}: {n:,} case{'' if n == 1 else 's'} skipped",
                         "skip", reason, ""])
    groups, rest = {}, {}
    for i in left_out:
        x = items[i]
        if isinstance(x, dict):
            k, n = (x["impl"], x["verdict"], x.get("cause") or ""), 1
        else:
            k, n = (x[0], "skip", ""), x[2]
        groups[k] = groups.get(k, 0) + n
        rest[k[1]] = rest.get(k[1], 0) + n
    summary = [[impl, v, cause, f"{n:,}"] for (impl, v, cause), n in groups.items()]
    summary, summary_out = pick(summary, MAX_TABLE_ROWS, lambda r: severity(r[1]))
    return rows, rest, summary, summary_out


def worst_rows(cases, specs, limit=25):
    ws = [c for c in cases if isinstance(c.get("worst_pair"), dict)]
    ws.sort(key=lambda c: -high(num(c["worst_pair"].get("pair_ulp"))))
    rows = []
    for c in ws[:limit]:
        w = c["worst_pair"]
        rows.append({"case": case_label(c, specs),
                     "verdict": c["verdict"], "pair_ulp": fmt(w.get("pair_ulp")),
                     "gate": fmt((c.get("pair_ulp") or {}).get("gate")),
                     "where": f"m={plain(w.get('position'))} head {plain(w.get('head'))} "
                              f"ch {plain(w.get('channel'))}/{plain(w.get('partner_channel'))}",
                     "got": worst_got_text(w),
                     "replay": w.get("replay", "")})
    return rows


def worst_got_text(w):
    """The worst element's output beside what it is measured against: the
    exact value, and under a profile (schema 1.2) the framework's band."""
    text = f"{plain(w.get('got'))} (exact {plain(w.get('exact_hi'))}"
    if "band_lo" in w:
        text += f"; profile band [{plain(w.get('band_lo'))}, {plain(w.get('band_hi'))}]"
    return text + ")"


def ns(v):
    x = num(v)
    return f"{x:,.0f}" if math.isfinite(x) else fmt(v)


def bench_key(c):
    """What makes two bench cases the same case for different implementations
    (the thread count too: a scaling run times every case at each)."""
    return (c["shape"], c["mode"], c["dtype"], c.get("threads"))


def variant_gbps(c, which):
    v = bench_variant(c, which)
    return num(v.get("gb_per_second")) if v else float("nan")


def baseline_rates(bench, name):
    """bench_key -> (cold GB/s, hot GB/s) of the baseline implementation's
    cases that ran (the first of each case, should a name be timed twice)."""
    rates = {}
    if name is None:
        return rates
    for c in bench.get("cases", []):
        if c.get("impl_name", c["impl"]) == name and c.get("outcome") == "ran" \
                and bench_key(c) not in rates:
            rates[bench_key(c)] = (variant_gbps(c, "cold"), variant_gbps(c, "hot"))
    return rates


def ratio_to(c, which, rates):
    """This case's GB/s over the baseline's, same case and variant (the
    bytes are the same: its time over this time); NaN without both."""
    base = rates.get(bench_key(c), (math.nan, math.nan))[0 if which == "cold" else 1]
    g = variant_gbps(c, which)
    return g / base if finite(g, base) and base > 0 else float("nan")


def bench_baseline(bench, requested):
    """The implementation the ratio columns of one bench file are to: the
    report's --baseline, else the one `bench --baseline` recorded in the
    file's settings, else None."""
    if requested is not None:
        return requested
    b = obj(bench.get("settings")).get("baseline")
    return b if isinstance(b, str) and b else None


def bench_rows(bench, base=None):
    """The table of every bench case: one row per case that ran, one per
    implementation, outcome and reason for those that did not. With a
    baseline, two more columns: the GB/s ratio to it, cold and hot."""
    rows, not_run = [], {}
    rates = baseline_rates(bench, base)
    # bench's own ratio to scalar, unless the baseline is scalar: the same
    # figure would then be there twice.
    with_scalar = base != "scalar"
    for c in bench.get("cases", []):
        cold, hot = bench_variant(c, "cold"), bench_variant(c, "hot")
        if c.get("outcome") != "ran" or not cold:
            # One row per implementation and reason, not one per case.
            k = (c["impl"], c["outcome"], c.get("why", ""))
            not_run.setdefault(k, []).append(c)
            continue
        hot = hot or {}
        row = [c["impl"], c["shape"], c["mode"], c["dtype"],
               "ran", fmt(cold.get("gb_per_second"), 3), fmt(hot.get("gb_per_second"), 3),
               fmt(cold.get("fraction_of_probe"), 2), fmt(hot.get("fraction_of_probe"), 2)]
        if with_scalar:
            row.append(fmt(hot.get("ratio_to_scalar"), 3))
        if base is not None:
            row += [fmt_finite(ratio_to(c, "cold", rates), 3),
                    fmt_finite(ratio_to(c, "hot", rates), 3)]
        rows.append(row + [ns(cold.get("ns_per_token")), ""])
    n_cols = 11 + with_scalar + (2 if base is not None else 0)
    for (impl, outcome, why), cs in not_run.items():
        def kinds(key):
            names = list(dict.fromkeys(plain(c.get(key, "?")) for c in cs))
            more = f" and {len(names) - 8} more" if len(names) > 8 else ""
            return ", ".join(names[:8]) + more
        rows.append([impl, kinds("shape"), kinds("mode"), kinds("dtype"),
                     f"{outcome} ({len(cs)} cases)"] + [""] * (n_cols - 6) + [why])
    # Rows that did not run are the ones to keep when there are too many.
    rows, left_out = pick(rows, MAX_TABLE_ROWS, lambda r: 0 if r[4] == "ran" else 1)
    header = ["impl", "shape", "mode", "dtype", "outcome", "GB/s cold", "GB/s hot",
              "of probe cold", "of probe hot"] + ["x scalar hot"] * with_scalar
    if base is not None:
        name = clean(base, MAX_LABEL_CHARS)
        header += [f"x {name} cold", f"x {name} hot"]
    return header + ["ns/token cold", "note"], rows, left_out


def short(x):
    """A fraction or ratio to read at a glance: two decimals (0.42, 1.30),
    two significant digits below 0.1 (0.0021), where 0.00 would say nothing."""
    return f"{x:.2f}" if 0.1 <= abs(x) < 1000 or x == 0 else fmt(x, 2)


def median_text(xs):
    """"0.42 (0.10-0.95)": the median of xs and their range, or "-"."""
    xs = sorted(x for x in xs if math.isfinite(x))
    if not xs:
        return "-"
    n = len(xs)
    med = xs[n // 2] if n % 2 else xs[n // 2 - 1] / 2 + xs[n // 2] / 2
    lo, hi = short(xs[0]), short(xs[-1])
    return short(med) + (f" ({lo}\u2013{hi})" if lo != hi else "")


def unavailable(bench):
    """{implementation: why} of those the bench run could not time at all
    (not built for this CPU, no device): its "implementations" list."""
    out = {}
    for i in bench.get("implementations") or []:
        if type(i) is dict and i.get("available") is False and type(i.get("name")) is str:
            why = i.get("why")
            out[i["name"]] = why if type(why) is str and why else "unavailable"
    return out


def summary_table(verify, prove, benches):
    """One row per implementation, every input together: the worst verify
    verdict and pair ULP, how many cases passed, failed (FAIL, BROKEN,
    ERROR) and were skipped, the worst proof verdict, the fraction of the
    probe cold and hot, and the ratio to each baseline (median over the
    cases that ran, their range in brackets). benches: [(bench, baseline
    name or None)]. (header, rows, left_out, verdict columns)."""
    impls = {}

    def entry(name):
        e = impls.get(name)
        if e is None:
            e = impls[name] = {"verdict": "", "ulp": math.nan, "pass": 0, "failed": 0,
                               "skip": 0, "proof": "", "cold": [], "hot": [], "ratios": {},
                               "not_run": {}}
        return e
    for c in verify:
        e = entry(c["impl"])
        v = c["verdict"]
        e["verdict"] = worse(v, e["verdict"])
        u = num((c.get("pair_ulp") or {}).get("max"))
        if not math.isnan(u):
            e["ulp"] = u if math.isnan(e["ulp"]) else max(e["ulp"], u)
        e["pass" if v == "pass" else "skip" if v == "skip" else "failed"] += 1
    for c in prove:
        e = entry(c["impl"])
        e["proof"] = worse(c["verdict"], e["proof"])
    base_names = list(dict.fromkeys(base for _, base in benches if base is not None))
    for b, base in benches:
        rates = baseline_rates(b, base)
        for name, why in unavailable(b).items():
            entry(name)["not_run"]["not timed: " + why] = None
        for c in b.get("cases", []):
            e = entry(c["impl"])
            if c.get("outcome") != "ran":
                e["not_run"][c["outcome"]] = e["not_run"].get(c["outcome"], 0) + 1
                continue
            e["cold"].append(variant_fraction(c, "cold"))
            e["hot"].append(variant_fraction(c, "hot"))
            if base is not None:
                r = e["ratios"].setdefault(base, ([], []))
                r[0].append(ratio_to(c, "cold", rates))
                r[1].append(ratio_to(c, "hot", rates))
    has_verify, has_prove, has_bench = bool(verify), bool(prove), bool(benches)
    header = ["implementation"]
    if has_verify:
        header += ["verdict (worst)", "worst pair ULP", "pass", "failed", "skipped"]
    if has_prove:
        header += ["proofs (worst)"]
    if has_bench:
        header += ["of probe cold", "of probe hot"]
        for name in base_names:
            header += [f"x {clean(name, MAX_LABEL_CHARS)} cold",
                       f"x {clean(name, MAX_LABEL_CHARS)} hot"]
    verdict_cols = []
    if has_verify:
        verdict_cols.append(1)
    if has_prove:
        verdict_cols.append(header.index("proofs (worst)"))
    rows = []
    for name, e in impls.items():
        row = [name]
        if has_verify:
            counted = e["pass"] + e["failed"] + e["skip"]
            row += [e["verdict"], fmt(e["ulp"]) if not math.isnan(e["ulp"]) else "-",
                    f"{e['pass']:,}", f"{e['failed']:,}", f"{e['skip']:,}"] if counted else \
                   ["-", "-", "-", "-", "-"]
        if has_prove:
            row.append(e["proof"] or "-")
        if has_bench:
            not_run = ", ".join(o if n is None else f"{n:,} {o}"
                                for o, n in e["not_run"].items())
            if e["cold"] or e["hot"]:
                row += [median_text(e["cold"]), median_text(e["hot"])]
            else:
                row += [not_run or "-", not_run or "-"]
            for base in base_names:
                cold, hot = e["ratios"].get(base, ([], []))
                row += [median_text(cold), median_text(hot)]
        rows.append(row)
    rows, left_out = pick(rows, MAX_TABLE_ROWS, lambda r: severity(
        worst_of(r[i] for i in verdict_cols)))
    return header, rows, left_out, verdict_cols


# ---------------------------------------------------------------- output

CSS = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:24px;color:#222;
max-width:1640px}
p{max-width:80em}
.tbl{overflow-x:auto;max-width:100%}
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
img{display:block;max-width:100%;height:auto;border:1px solid #eee}
.hdr td{border:none;padding:1px 10px 1px 0}
"""


def verdict_word(x):
    """The verdict a cell starts with ("FAIL 3.3e+07" -> FAIL), or None."""
    words = str(x).split(None, 1)
    return words[0] if words and words[0] in VERDICT_ORDER else None


class Report:
    """The report as HTML and Markdown pieces, and the figure files. Every
    piece of text goes through h() or md()/md_code(): results files are
    input from anyone who can name a plug-in."""

    def __init__(self):
        self.html = []
        self.md = []
        self.files = []  # (name, bytes): the figures, written beside report.md

    def h2(self, text):
        self.html.append(f"<h2>{h(text)}</h2>")
        self.md.append(f"\n## {md(text)}\n")

    def para(self, text, note=False):
        cls = ' class="note"' if note else ""
        self.html.append(f"<p{cls}>{h(text)}</p>")
        self.md.append(("> **Note:** " if note else "") + md(text) + "\n")

    def table(self, header, rows, verdict_cols=(), code_cols=()):
        out = ['<div class="tbl"><table><tr>' + "".join(f"<th>{h(x)}</th>" for x in header)
               + "</tr>"]
        for r in rows:
            tds = []
            for i, x in enumerate(r):
                if isinstance(x, list):  # a list cell: one item per line
                    s = "<br>".join("&bull; " + h(y) for y in x)
                else:
                    s = h(x)
                if i in code_cols and x:
                    s = f"<code>{s}</code>"
                # A verdict cell may go on after its verdict ("FAIL 3.3e+07").
                word = verdict_word(x) if i in verdict_cols else None
                cls = f' class="{word}"' if word else ""
                tds.append(f"<td{cls}>{s}</td>")
            out.append("<tr>" + "".join(tds) + "</tr>")
        out.append("</table></div>")
        self.html.append("\n".join(out))

        def cell(i, x):
            if isinstance(x, list):
                x = "; ".join(plain(y) for y in x)
            if i in code_cols and x:
                return md_code(x)
            if i in verdict_cols and verdict_word(x) in ("FAIL", "BROKEN", "ERROR"):
                return f"**{md(x)}**"
            return md(x)
        self.md.append("| " + " | ".join(md(x) for x in header) + " |")
        self.md.append("|" + "---|" * len(header))
        for r in rows:
            self.md.append("| " + " | ".join(cell(i, x) for i, x in enumerate(r)) + " |")
        self.md.append("")

    def left_out(self, n, what, verdicts=None):
        """The line that says a table was cut: how many rows, and what they held."""
        if n:
            held = f" (their worst verdicts: {count_text(verdicts)})" if verdicts else ""
            self.para(f"{n:,} more {what} not shown{held}; at most {MAX_TABLE_ROWS} rows per "
                      "table, the worst kept.", note=True)

    def figure(self, png, name, alt):
        self.files.append((name, png))
        b64 = base64.b64encode(png).decode("ascii")
        self.html.append(f'<p><img alt="{h(alt)}" src="data:image/png;base64,{b64}"></p>')
        self.md.append(f"![{md(alt)}]({name})\n")


def header_info(docs, paths):
    version, cpu, seeds, kinds = set(), set(), set(), []
    for path, d in zip(paths, docs):
        kinds.append(f"{path} ({d.get('kind')})")
        t = obj(d.get("tool"))
        if isinstance(t.get("version"), str) and t["version"]:
            version.add(t["version"])
        host_cpu = obj(d.get("host")).get("cpu")
        if isinstance(host_cpu, str) and host_cpu:
            cpu.add(host_cpu)
        if isinstance(d.get("seed"), (str, int)) and not isinstance(d.get("seed"), bool):
            seeds.add(plain(d["seed"]))
        rc = d.get("ropecheck") if d.get("kind") == "bench" else None
        if isinstance(rc, dict):
            if rc.get("ropecheck_version"):
                version.add(rc["ropecheck_version"])
            m = obj(rc.get("machine"))
            if m.get("cpu_model"):
                cpu.add(m["cpu_model"] + (f" [{m['isa']}]" if m.get("isa") else ""))
    # verify names the CPU, bench adds its ISA flags: keep the longer form.
    # Sorted first, each checked against the next: no pairwise loop.
    cpus = sorted(cpu)
    cpus = [c for i, c in enumerate(cpus) if not (i + 1 < len(cpus) and
                                                   cpus[i + 1].startswith(c))]
    none = "not recorded"
    return [("tool version", ", ".join(sorted(version)) or none),
            ("host CPU", "; ".join(cpus) or none),
            ("seed", ", ".join(sorted(seeds)) or none),
            ("report written", datetime.datetime.now(datetime.timezone.utc)
             .strftime("%Y-%m-%d %H:%M UTC")),
            ("input files", "; ".join(kinds))]


def accuracy_sections(rep, verify, add_fig):
    rep.h2("Accuracy: verdicts")
    if not verify:
        rep.para("No verify results among the inputs: accuracy figures and tables skipped.",
                 note=True)
        return
    rep.para("Cases: " + ", ".join(f"{n:,} {v}" for v, n in sorted(
        count_by(c["verdict"] for c in verify).items())) + ".")
    header, rows, left_out, reasons = verdict_matrix(verify)
    rep.table(header, rows, verdict_cols=range(1, len(header)))
    rep.left_out(len(left_out), "implementations", (worst_of(r[1:]) for r in left_out))
    specs = spec_numbers(verify)
    rep.h2("Accuracy by specification")
    rep.para("One row per specification the cases ran under (head dim d, rotary dim r, "
             "base, frequency scaling, the profile judged against); each cell: the worst "
             "verdict over that spec's dtypes, layouts and directions, and the largest "
             "max pair ULP among them.")
    header, rows, note = spec_matrix(verify, specs)
    rep.table(header, rows, verdict_cols=range(6, len(header)))
    if note:
        rep.para(note, note=True)
    if reasons:
        rep.para("Why the cases that did not pass did not (spec: its row above):")
        rows, rest, summary, summary_out = reason_rows(reasons, specs)
        rep.table(["case", "verdict", "reason", "likely cause"], rows, verdict_cols=(1,))
        if rest:
            counts = ", ".join(f"{n:,} {v}" for v, n in
                               sorted(rest.items(), key=lambda kv: -severity(kv[0])))
            rep.para(f"{sum(rest.values()):,} more cases that did not pass are not in the "
                     f"table above ({counts}); all of them, by implementation, verdict and "
                     "cause:", note=True)
            rep.table(["implementation", "verdict", "likely cause", "cases"], summary,
                      verdict_cols=(1,))
            rep.left_out(len(summary_out), "groups", (r[1] for r in summary_out))

    rep.h2("Accuracy: error against position")
    if not add_fig(lambda plt: fig_ulp_by_position(plt, verify),
                   "max and p99 pair ULP against position", "ulp_by_position"):
        rep.para("No per-position statistics in the verify results (every case "
                 "crashed or was skipped).", note=True)
    rep.h2("Accuracy: distribution of pair error")
    if not add_fig(lambda plt: fig_histogram(plt, verify), "histogram of pair ULP",
                   "ulp_histogram"):
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


def prove_sections(rep, prove, fig2, add_fig):
    rep.h2("Proofs: the RoFormer paper's properties")
    if prove:
        cols = list(dict.fromkeys((c["layout"], c["check"]) for c in prove))
        # Several specs per (layout, check) since the default prove runs a
        # matrix: each cell holds the worst verdict over them.
        got = {}
        for c in prove:
            k = (c["impl"], c["layout"], c["check"])
            got[k] = worse(c["verdict"], got.get(k, ""))
        rows = [[i] + [got.get((i, l, k), "") for l, k in cols]
                for i in dict.fromkeys(c["impl"] for c in prove)]
        rows, left_out = pick(rows, MAX_TABLE_ROWS, lambda r: severity(worst_of(r[1:])))
        rep.table(["implementation"] + [f"{l} {k}" for l, k in cols], rows,
                  verdict_cols=range(1, len(cols) + 1))
        rep.left_out(len(left_out), "implementations", (worst_of(r[1:]) for r in left_out))
        rep.para("Every check, what its figure measures, and what it found:")
        checks, left_out = pick(prove, MAX_TABLE_ROWS, lambda c: severity(c["verdict"]))
        rep.table(["impl", "spec", "layout", "check", "dtype", "verdict", "figure",
                   "what it measures", "findings"],
                  [[c["impl"], plain(c.get("spec", "")), c["layout"], c["check"],
                    c.get("dtype", ""), c["verdict"],
                    fmt(c.get("figure")), c.get("figure_name") or c.get("error", ""),
                    findings_cell(c)]
                   for c in checks], verdict_cols=(5,))
        rep.left_out(len(left_out), "checks", (c["verdict"] for c in left_out))
    else:
        rep.para("No prove results among the inputs.", note=True)
    if fig2 is not None:
        if not add_fig(lambda plt: fig_figure2(plt, fig2), "RoFormer Figure 2 curve",
                       "figure2"):
            rep.para("The prove results' figure2 block is empty or malformed: skipped.",
                     note=True)


def findings_cell(c):
    """A check's findings, one per line (at most 50, then how many more)."""
    f = c["findings"]
    if not f:
        return "none" if c["verdict"] == "pass" else c.get("error", "")
    return f[:50] + ([f"({len(f) - 50:,} more findings)"] if len(f) > 50 else [])


def bench_sections(rep, benches, add_fig):
    """benches: [(the bench block, its baseline's name or None)]."""
    rep.h2("Performance")
    if not benches:
        rep.para("No bench results among the inputs: throughput and fraction-of-probe "
                 "figures skipped.", note=True)
    for b, base in benches:
        st = obj(b.get("settings"))
        if st:
            rep.para(f"Threads: {plain(st.get('threads', '?'))}; bytes counted: "
                     f"{plain(st.get('bytes_counted', '?'))}; fraction of probe: "
                     f"{plain(st.get('fraction_of_probe', '?'))}.")
        if base is not None:
            if baseline_rates(b, base):
                rep.para(f"Baseline: {base}. The columns x {base} are each case's GB/s over "
                         f"{base}'s in the same case (shape, mode, dtype) and variant: above 1 "
                         f"is faster than {base}.")
            else:
                rep.para(f"Baseline {base}: it has no case that ran in these bench results, "
                         "so its ratio columns are empty.", note=True)
        if not add_fig(lambda plt: fig_throughput(plt, b),
                       "throughput against tokens with the probe", "throughput"):
            rep.para("Bench results carry no cold gb_per_second/tokens: throughput figure "
                     "skipped.", note=True)
        if not add_fig(lambda plt: fig_fraction(plt, b),
                       "fraction of probe per shape and implementation", "fraction_of_probe"):
            rep.para("Bench results carry no fraction_of_probe: that figure skipped.",
                     note=True)
        gone = {}
        for name, why in unavailable(b).items():
            gone.setdefault(why, []).append(name)
        if gone:
            rep.para("Not timed (unavailable here): " + "; ".join(
                f"{', '.join(names[:MAX_SERIES])}"
                f"{f' and {len(names) - MAX_SERIES:,} more' if len(names) > MAX_SERIES else ''}"
                f": {why}" for why, names in list(gone.items())[:MAX_SERIES]) + ".")
        header, rows, left_out = bench_rows(b, base)
        if rows:
            rep.table(header, rows)
            rep.left_out(len(left_out), "bench cases that ran")
        refs = [r for r in b.get("reference", []) if isinstance(r, dict) and r.get("ok")]
        if refs:
            rep.para("The exact reference's own speed (how long a verify takes): " + "; ".join(
                f"{plain(r.get('dtype'))} d {plain(r.get('head_dim'))}: "
                f"{fmt(r.get('seconds_per_million_elements'), 3)} s per million elements "
                "in MPFR" + ref_fast_text(r.get("fast"))
                for r in refs[:MAX_SERIES]) + ".")


def ref_fast_text(fast):
    """The fast oracle's figures beside MPFR's (bench 1.1), or nothing."""
    if not isinstance(fast, dict):
        return ""
    return (f", {fmt(fast.get('seconds_per_million_elements'), 3)} s by the certified "
            f"fast path ({fmt(fast.get('ratio_to_mpfr'), 3)}x, "
            f"{fmt(100 * num(fast.get('fallback_rate')), 2)}% of pairs to MPFR)")


def summary_section(rep, verify, prove, benches):
    """The first section: one row per implementation, to read at a glance."""
    rep.h2("Summary")
    header, rows, left_out, verdict_cols = summary_table(verify, prove, benches)
    if not rows:
        rep.para("No implementation in the inputs.", note=True)
        return
    rep.table(header, rows, verdict_cols=verdict_cols)
    rep.left_out(len(left_out), "implementations",
                 (worst_of(r[i] for i in verdict_cols) for r in left_out))
    said = []
    if verify:
        said.append("verdict, worst pair ULP and the case counts are over every verify case "
                    "(failed: FAIL, BROKEN or ERROR)")
    if prove:
        said.append("proofs: the worst verdict of its prove checks")
    if benches:
        said.append("of probe: the fraction of the streaming probe, median over the bench "
                    "cases that ran (smallest\u2013largest in brackets; 1 = the machine's "
                    "limit), cold out of cache, hot in cache")
        if any(base is not None for _, base in benches):
            said.append("x NAME: GB/s over the baseline NAME's in the same case, median")
    rep.para("; ".join(said) + ". Details in the sections below.")


def build(docs, paths, baseline=None):
    """The report: [(file name, bytes)], report.html last. Nothing is
    written here: write_outputs() does that, all or nothing. baseline: the
    implementation the bench ratio columns are to (--baseline), else the
    one each bench file recorded, if any."""
    plt = plt_module()
    rep = Report()
    hdr = header_info(docs, paths)
    rep.html.append("<h1>ropecheck report</h1><table class=\"hdr\">" + "".join(
        f"<tr><td><b>{h(k)}</b></td><td>{h(v)}</td></tr>" for k, v in hdr) + "</table>")
    rep.md.append("# ropecheck report\n")
    for k, v in hdr:
        rep.md.append(f"- **{md(k)}:** {md(v)}")
    rep.md.append("")

    verify = [c for d in docs if d["kind"] == "verify" for c in d["verify"]]
    prove = [c for d in docs if d["kind"] == "prove" for c in d["prove"]]
    fig2 = next((d["figure2"] for d in docs if d["kind"] == "prove"
                 and isinstance(d.get("figure2"), dict)), None)
    benches = [(d["ropecheck"], bench_baseline(d["ropecheck"], baseline))
               for d in docs if d["kind"] == "bench"]

    n = [0]

    def add_fig(make, alt, stem):
        """Draws one figure; False when there is nothing to draw. Values no
        figure can show (a log axis of zeros, a corrupt histogram that
        passed the schema) leave a note in its place, not a dead report."""
        try:
            fig, note = make(plt)
            if fig is None:
                return False
            png = png_bytes(fig)
        except (ValueError, OverflowError, ZeroDivisionError, TypeError, KeyError,
                IndexError, RuntimeError) as e:
            rep.para(f"The figure \"{alt}\" could not be drawn from these results "
                     f"({type(e).__name__}: {clean(e, 200)}).", note=True)
            return True
        finally:
            plt.close("all")
        n[0] += 1
        rep.figure(png, f"fig{n[0]}_{stem}.png", alt)
        if note:
            rep.para(note, note=True)
        return True

    summary_section(rep, verify, prove, benches)
    accuracy_sections(rep, verify, add_fig)
    prove_sections(rep, prove, fig2, add_fig)
    bench_sections(rep, benches, add_fig)

    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>ropecheck report</title><style>" + CSS + "</style></head><body>\n"
            + "\n".join(rep.html) + "\n</body></html>\n")
    return rep.files + [("report.md", ("\n".join(rep.md) + "\n").encode("utf-8")),
                        ("report.html", page.encode("utf-8"))]


# ---------------------------------------------------------------- writing

def prepare_outdir(outdir):
    if os.path.lexists(outdir) and not os.path.isdir(outdir):
        raise OutputError(f"{shown(outdir)}: exists and is not a directory")
    try:
        os.makedirs(outdir, exist_ok=True)
    except OSError as e:
        raise OutputError(f"{shown(outdir)}: cannot create the output directory: "
                          f"{e.strerror}")


def stage(outdir, name, data):
    """data in a new temporary file beside outdir/name, on disk (fsync'ed);
    its path. O_EXCL with a random name: never an existing file, never a
    file someone linked there; mode 0666 less the umask, as open() gives."""
    tmp = os.path.join(outdir, f".{name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0),
                 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]  # a full disk writes short, then fails
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    os.close(fd)
    return tmp


def write_outputs(outdir, files):
    """Every file staged first, then each renamed over the old one. A write
    that fails (full disk, quota, a file size limit) leaves every earlier
    file in outdir as it was: report.html and report.md whole, never cut."""
    staged = []
    try:
        for name, data in files:
            try:
                staged.append((stage(outdir, name, data), name))
            except OSError as e:
                raise OutputError(f"{shown(os.path.join(outdir, name))}: cannot write: "
                                  f"{e.strerror}")
        while staged:
            tmp, name = staged[0]
            try:
                os.replace(tmp, os.path.join(outdir, name))
            except OSError as e:
                raise OutputError(f"{shown(os.path.join(outdir, name))}: cannot replace: "
                                  f"{e.strerror}")
            staged.pop(0)
    finally:
        for tmp, _ in staged:  # only after a failure
            try:
                os.unlink(tmp)
            except OSError:
                pass
    try:  # the renames themselves on disk; not every file system can
        dfd = os.open(outdir, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


# ---------------------------------------------------------------- main

class _Parser(argparse.ArgumentParser):
    def error(self, message):
        # One line, like every other refusal (argparse would print two).
        self.exit(EXIT_USAGE, f"ropecheck report: {message} (usage: ropecheck report "
                              "RESULTS.json... -o DIR)\n")


def fail(message):
    print(f"ropecheck report: {message}", file=sys.stderr)
    return EXIT_USAGE


def internal_error(e, paths):
    """The last resort: a bug here, or something the checks above did not
    foresee. One line that still says where, instead of a traceback."""
    tb = e.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = f" at line {tb.tb_lineno} of {os.path.basename(tb.tb_frame.f_code.co_filename)}" \
        if tb is not None else ""
    names = ", ".join(shown(p) for p in paths[:3]) + (" ..." if len(paths) > 3 else "")
    return fail(f"{names}: cannot make the report ({type(e).__name__}: {clean(e, 200)}"
                f"{where}); please report this")


def check_baseline(name, docs):
    """--baseline must name an implementation some bench input timed (or
    tried to): a misspelt name is refused, not shown as empty columns."""
    if name is None:
        return
    timed = list(dict.fromkeys([c["impl"] for d in docs if d["kind"] == "bench"
                                for c in d["ropecheck"]["cases"]] +
                               [n for d in docs if d["kind"] == "bench"
                                for n in unavailable(d["ropecheck"])]))
    if name not in timed:
        where = (f"the bench results name {', '.join(clean(t, 60) for t in timed[:12])}"
                 f"{' ...' if len(timed) > 12 else ''}" if timed else
                 "no bench results among the inputs")
        raise InputError(f"--baseline {clean(name, 100)}: not an implementation of the bench "
                         f"results ({where})")


def main(argv):
    ap = _Parser(
        prog="ropecheck report",
        description="Write DIR/report.html (self-contained) and DIR/report.md (figures as "
                    "PNG beside it) from ropecheck result JSON (verify, prove, bench). "
                    f"Each input is a regular file of at most {MAX_INPUT_BYTES >> 20} MiB.")
    ap.add_argument("results", nargs="+", metavar="RESULTS.json")
    ap.add_argument("-o", "--output", required=True, metavar="DIR")
    ap.add_argument("--baseline", metavar="NAME",
                    help="an implementation of the bench results: the performance table "
                         "and the summary show each case's GB/s over NAME's, cold and hot "
                         "(default: the --baseline the bench run was given, if any)")
    args = ap.parse_args(argv)
    try:
        val = validator()
        docs = [load(p, val) for p in args.results]
        check_baseline(args.baseline, docs)
        prepare_outdir(args.output)
        files = build(docs, args.results, args.baseline)
        write_outputs(args.output, files)
    except (InputError, OutputError) as e:
        return fail(str(e))
    except MemoryError:
        return fail(f"{', '.join(shown(p) for p in args.results[:3])}: out of memory")
    except KeyboardInterrupt:
        print("ropecheck report: interrupted; the previous report, if any, is unchanged",
              file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - see internal_error
        return internal_error(e, args.results)
    try:
        print(os.path.join(args.output, "report.html"))
    except OSError:
        pass  # stdout closed: the report is written all the same
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

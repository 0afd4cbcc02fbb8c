"""python3 -m ropecheck_runner: serve Python RoPE functions to ropecheck.

Everything that can go wrong before the session (a bad argument, a module
that does not import, a missing function, a malformed caps declaration)
ends the program with ONE line on stderr and status 2, before the hello:
the host then reports that the runner failed to start, with that line.
"""

import argparse
import importlib
import os
import platform
import re
import sys
import traceback
from typing import Callable, List, NoReturn, Optional, Tuple

from . import PROG, __version__, codes, one_line

EPILOG = """\
Each MODULE:FUNCTION is one implementation; MODULE is imported as Python
would import it, with the current directory first on the path. It is
offered under the function's name (lower case, other characters as '_'),
under =NAME when given, or under --name when there is only one.

The function is called once per test case in the "plain" signature:

    def apply(x, positions, *, theta, layout, direction, out_scale, spec):
        # x: (n_tokens, n_heads, head_dim) in the case's dtype
        # positions: int64 (n_tokens,); theta: float64 (rotary_dim/2,)
        # layout: "half" | "interleaved"; direction: +1 | -1
        return y            # or (y, table): table = its own frequencies

Two more call shapes, for functions that take cos and sin rather than
angles (--signature, or fn.ropecheck_signature = "hf" / "vllm"):

    def apply_hf(q, k, cos, sin):             # transformers' apply_rotary_pos_emb
        return q_embed, k_embed               # q, k: (1, heads, tokens, rotary_dim)
    def apply_vllm(positions, query, key, *, head_size, cos_sin_cache,
                   is_neox_style):            # vLLM's rotary_embedding
        return query, key                     # or None, rotated in place

The runner builds cos and sin as those frameworks do (f32 table and angle);
judge them with --profile hf (python/README.md, "Signatures").

Declare what it does not do with an attribute, e.g.
    apply.ropecheck_caps = {"dtypes": ["f32", "f16"], "inverse": False}
(keys: dtypes, layouts, inverse, partial_rotary, inplace, strided,
scaling, and multi_axis, which is off unless declared True: then M-RoPE
cases come with positions int64 (n_tokens, n_axes) and spec["axes"] =
{"n_axes", "pair_axis", "freq_period"}, pair i rotating by
positions[:, pair_axis[i]]); python/README.md explains every argument.

examples:
  ropecheck verify --runner "python3 -m ropecheck_runner mypkg.rope:apply"
  python3 -m ropecheck_runner --list mypkg.rope:apply mypkg.rope:apply_fast=fast
  python3 -m ropecheck_runner --tensors torch --device cuda mypkg.rope:apply

It speaks runner/PROTOCOL.md (version 4) on stdin/stdout; do not run it
by hand except with --list. The function's print() output goes to stderr.
"""

NAME_RE = re.compile(r"[a-z0-9_-]{1,%d}" % codes.MAX_NAME)


def fail(message: str) -> NoReturn:
    print("%s: %s" % (PROG, message), file=sys.stderr)
    sys.exit(2)


def parse_args(argv: List[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python3 -m ropecheck_runner", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Runs Python RoPE implementations for ropecheck's --runner option: "
                    "ropecheck computes the exact reference and the verdict, this program "
                    "only calls your functions.")
    p.add_argument("targets", nargs="+", metavar="MODULE:FUNCTION[=NAME]",
                   help="a function to offer (at most %d)" % codes.MAX_IMPLS)
    p.add_argument("--tensors", choices=("numpy", "torch"), default="numpy",
                   help="what x is: a numpy array (default; f32, f64, f16) or a torch "
                        "tensor (f32, f64, f16, bf16; torch imported only then)")
    p.add_argument("--device", default=None, metavar="cpu|cuda[:N]",
                   help="torch mode: where x, positions and theta live (default cpu)")
    p.add_argument("--signature", choices=("plain", "hf", "vllm"), default="plain",
                   help="how the functions are called (default plain; a function's "
                        "ropecheck_signature attribute overrides it): see below")
    p.add_argument("--name", help="the name to offer the one implementation under")
    p.add_argument("--list", action="store_true",
                   help="print what would be offered, and exit")
    p.add_argument("--version", action="version",
                   version="%%(prog)s %s (protocol %d)" % (__version__, codes.VERSION))
    args = p.parse_args(argv)
    if args.device is not None and args.tensors != "torch":
        p.error("--device needs --tensors torch")
    if args.device is not None and not re.fullmatch(r"cpu|cuda(:\d+)?", args.device):
        p.error("--device takes cpu, cuda or cuda:N, not '%s'" % args.device)
    if len(args.targets) > codes.MAX_IMPLS:
        p.error("at most %d implementations per runner" % codes.MAX_IMPLS)
    if args.name is not None and len(args.targets) != 1:
        p.error("--name names a single implementation; use MODULE:FUNCTION=NAME for several")
    return args


def take_stdio() -> Tuple[object, object]:
    """Private duplicates of fds 0 and 1 for the frames; fd 1 then points
    at stderr and fd 0 at /dev/null. WHY at the descriptor level: a
    print() in the user's module, a C library writing to stdout or a
    child process must never put bytes between our frames (nor read
    our requests)."""
    sys.stdout.flush()
    frames_out = os.fdopen(os.dup(1), "wb")  # os.dup: not inherited by children
    frames_in = os.fdopen(os.dup(0), "rb")
    os.dup2(2, 1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    sys.stdout = sys.stderr
    sys.stdin = open(os.devnull)
    return frames_in, frames_out


def where(exc: BaseException) -> str:
    """' (file.py:12)': the innermost frame of an import failure."""
    tb = traceback.extract_tb(exc.__traceback__)
    return " (%s:%d)" % (os.path.basename(tb[-1].filename), tb[-1].lineno) if tb else ""


def load(target: str, mode) -> Tuple[str, Optional[Callable], str]:
    """(MODULE:FUNCTION, the function, the explicit name or ''). The
    function is None when the module needs torch and the torch mode
    already knows torch is missing: that implementation is then announced
    as unavailable, with the mode's reason, instead of failing the start."""
    spec, _, name = target.partition("=")
    module_name, colon, attr = spec.partition(":")
    if not (colon and module_name and attr):
        fail("'%s' is not MODULE:FUNCTION (for example mypkg.rope:apply)" % target)
    try:
        obj = importlib.import_module(module_name)
    except (Exception, SystemExit) as exc:
        missing = getattr(exc, "name", None) or ""
        if (isinstance(exc, ModuleNotFoundError) and mode.name == "torch"
                and not mode.available and missing.split(".")[0] == "torch"):
            return spec, None, name
        loc = "" if isinstance(exc, ModuleNotFoundError) else where(exc)
        fail("cannot import %s: %s%s" % (module_name, one_line(exc), loc))
    for part in attr.split("."):
        if not hasattr(obj, part):
            fail("%s has no attribute '%s' (from %s)" % (module_name, part, spec))
        obj = getattr(obj, part)
    if not callable(obj):
        fail("%s is not callable" % spec)
    return spec, obj, name


def machine() -> str:
    m = platform.machine().lower()
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(m, m or "unknown")


def main(argv=None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if sys.byteorder != "little":
        fail("tensor bytes travel little-endian; this machine is big-endian")
    frames = None if args.list else take_stdio()
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        __import__("numpy")  # every mode moves tensors with it
    except ImportError:
        fail("numpy is not installed for %s (Debian: apt-get install python3-numpy; "
             "or pip install numpy)" % sys.executable)
    from . import adapters, modes, server, signatures

    mode = modes.TorchMode(args.device or "cpu") if args.tensors == "torch" else modes.NumpyMode()
    impls = []
    for target in args.targets:
        spec, fn, name = load(target, mode)
        function = spec.partition(":")[2].rsplit(".", 1)[-1]
        name = name or args.name or re.sub(r"[^a-z0-9_-]", "_", function.lower())[:codes.MAX_NAME]
        if not NAME_RE.fullmatch(name):
            fail("'%s' is not a valid implementation name ([a-z0-9_-], 1 to %d characters)"
                 % (name, codes.MAX_NAME))
        if any(i.name == name for i in impls):
            fail("two implementations are named '%s': name them with MODULE:FUNCTION=NAME"
                 % name)
        try:
            caps = adapters.parse_caps(getattr(fn, "ropecheck_caps", {}), mode.dtypes)
            sig = signatures.signature_of(fn, args.signature) if fn else None
        except (adapters.CapsError, ValueError) as exc:
            fail("%s: %s" % (spec, exc))
        if sig:
            caps &= sig.caps_mask
        how = mode.name if mode.name == "numpy" else "%s, %s" % (mode.name, mode.device)
        if sig and sig.name != "plain":
            how += ", %s signature" % sig.name
        why = mode.why
        if mode.available and not caps & mode.dtypes:
            why = "declares no dtype that --tensors %s carries" % mode.name
        impls.append(server.Implementation(name, fn, caps, "python: %s (%s)" % (spec, how),
                                           available=not why, why=why, signature=sig))
    if args.list:
        print("%s %s, protocol %d, %s" % (PROG, __version__, codes.VERSION, machine()))
        for i in impls:
            print("  %-16s %-12s %s" % (i.name, "available" if i.available else "unavailable",
                                        i.description if i.available else i.why))
        return
    srv = server.Server(impls, mode, machine())
    sys.exit(server.serve(srv, *frames))


if __name__ == "__main__":
    main()

"""How a Python function becomes a ropecheck implementation: its
capabilities, and the call itself in the "plain" signature

    fn(x, positions, *, theta, layout, direction, out_scale, spec)
        -> y  or  (y, table)

(README.md documents every argument). The tensor mode (numpy, or torch
on a device) decides what x, positions and theta are and how y comes back;
this module is the same for both.
"""

from typing import Any, Callable, Dict, Mapping, Optional, Tuple

import numpy as np

from . import codes
from .request import ApplyRequest


class Unsupported(Exception):
    """Raise it from your function for a request it does not do: answered
    with RC_ERR_UNSUPPORTED and the exception's text as the reason. (The
    host skips only what the caps exclude; a declared case that raises
    this still fails, as for a C port: declare caps instead.)"""


class CapsError(ValueError):
    """A malformed ropecheck_caps declaration (reported before the hello)."""


class ResultError(Exception):
    """The function returned something that is not a result for this
    request (wrong shape, wrong table length): RC_ERR_INTERNAL."""


_FLAGS = {"inverse": codes.CAP_INVERSE, "partial_rotary": codes.CAP_PARTIAL_ROTARY,
          "inplace": codes.CAP_INPLACE, "strided": codes.CAP_STRIDED,
          "scaling": codes.CAP_SCALING}
# Offered only when declared True: a function written for one position per
# token would misread a (n_tokens, n_axes) array.
_OPT_IN = {"multi_axis": codes.CAP_MULTI_AXIS}
CAPS_KEYS = ("dtypes", "layouts", "bf16_bits") + tuple(_FLAGS) + tuple(_OPT_IN)


def rope_caps(**declared: Any) -> Callable:
    """Decorator form of the declaration, checked when it is applied:

        @rope_caps(dtypes=["f32", "f16"], inverse=False)
        def apply(x, positions, *, theta, layout, direction, out_scale, spec): ...
    """
    parse_caps(declared, codes.CAP_F32 | codes.CAP_F64 | codes.CAP_F16 | codes.CAP_BF16)

    def mark(fn: Callable) -> Callable:
        fn.ropecheck_caps = dict(declared)
        return fn
    return mark


def parse_caps(declared: Mapping, mode_dtypes: int) -> int:
    """RC_CAP_* bits from a declaration. Everything is offered unless the
    declaration narrows it; dtypes are further limited to what the tensor
    mode can carry (mode_dtypes: numpy has no bf16). CapsError on unknown
    keys or names, so a typo cannot silently offer or hide a case.

    bf16_bits=True says the function takes bf16 as its u16 bit patterns
    where the mode has no bf16 type (numpy): it gets a uint16 array and
    may return uint16 bits (taken as they are) or floats (rounded once)."""
    if not isinstance(declared, Mapping):
        raise CapsError("ropecheck_caps must be a dict, not %s" % type(declared).__name__)
    unknown = sorted(set(declared) - set(CAPS_KEYS))
    if unknown:
        raise CapsError("unknown ropecheck_caps key '%s' (known: %s)"
                        % (unknown[0], ", ".join(CAPS_KEYS)))
    bits = declared.get("bf16_bits", False)
    if not isinstance(bits, bool):
        raise CapsError("ropecheck_caps['bf16_bits'] must be True or False")
    if bits:
        mode_dtypes |= codes.CAP_BF16
    caps = 0
    for key, names, bit in (("dtypes", codes.DTYPE_NAMES, codes.dtype_cap),
                            ("layouts", codes.LAYOUT_NAMES, codes.layout_cap)):
        chosen = declared.get(key, names)
        if isinstance(chosen, str) or not all(isinstance(n, str) for n in chosen):
            raise CapsError("ropecheck_caps['%s'] must be a list of names" % key)
        for n in chosen:
            if n not in names:
                raise CapsError("ropecheck_caps['%s']: unknown '%s' (known: %s)"
                                % (key, n, ", ".join(names)))
            caps |= bit(names.index(n))
    caps &= ~(codes.CAP_F32 | codes.CAP_F64 | codes.CAP_F16 | codes.CAP_BF16) | mode_dtypes
    for key, bit in _FLAGS.items():
        value = declared.get(key, True)
        if not isinstance(value, bool):
            raise CapsError("ropecheck_caps['%s'] must be True or False" % key)
        caps |= bit if value else 0
    for key, bit in _OPT_IN.items():
        value = declared.get(key, False)
        if not isinstance(value, bool):
            raise CapsError("ropecheck_caps['%s'] must be True or False" % key)
        caps |= bit if value else 0
    return caps


def needed_caps(req: ApplyRequest) -> Dict[int, str]:
    """The capabilities a request uses, each with the words for it (as
    harness/verify.c's rc_verify_case_caps derives them)."""
    h = req.head
    need = {codes.dtype_cap(h.dtype): "dtype %s" % codes.DTYPE_NAMES[h.dtype],
            codes.layout_cap(h.layout): "the %s layout" % codes.LAYOUT_NAMES[h.layout]}
    if h.direction == codes.INVERSE:
        need[codes.CAP_INVERSE] = "the inverse direction"
    if h.rotary_dim < h.head_dim:
        need[codes.CAP_PARTIAL_ROTARY] = "partial rotary (rotary_dim < head_dim)"
    if h.inplace:
        need[codes.CAP_INPLACE] = "in-place operation"
    packed = h.n_tokens * h.n_heads * h.head_dim * codes.DTYPE_SIZES[h.dtype]
    if req.in_extent != packed or req.out_extent != packed:
        need[codes.CAP_STRIDED] = "strided tensors"
    if h.family != 0 or out_scale(req) != 1.0:
        need[codes.CAP_SCALING] = "frequency scaling"
    if h.n_axes >= 2:
        need[codes.CAP_MULTI_AXIS] = "multi-axis positions (declare multi_axis=True)"
    return need


def unsupported_reason(caps: int, req: ApplyRequest, mode_note: str) -> Optional[str]:
    """Why a request is outside caps (None if it is not). mode_note says
    why bf16 is missing in numpy mode."""
    for bit, words in needed_caps(req).items():
        if not caps & bit:
            if bit == codes.CAP_BF16 and mode_note:
                return mode_note
            return "not offered (ropecheck_caps): %s" % words
    return None


def out_scale(req: ApplyRequest) -> float:
    """rope.h's alpha: out_scale_hi + out_scale_lo, where hi == 0 means 1."""
    if req.out_scale_hi == 0:
        return 1.0
    return req.out_scale_hi + req.out_scale_lo


def spec_dict(req: ApplyRequest, mode_name: str, device: str) -> Dict[str, Any]:
    """Everything the request says, for functions that want more than the
    table (a framework port building its own frequencies, say)."""
    h, s = req.head, req.scaling

    def factors(a):
        return None if a is None else np.frombuffer(a, dtype=np.float64).copy()
    return {
        "impl": h.name, "head_dim": h.head_dim, "rotary_dim": h.rotary_dim,
        "base": h.base, "dtype": codes.DTYPE_NAMES[h.dtype],
        "layout": codes.LAYOUT_NAMES[h.layout],
        "direction": codes.DIRECTION_NAMES[h.direction], "inplace": bool(h.inplace),
        "theta_hi": np.frombuffer(req.theta_hi, dtype=np.float64).copy(),
        "theta_lo": np.frombuffer(req.theta_lo, dtype=np.float64).copy(),
        "out_scale_hi": req.out_scale_hi, "out_scale_lo": req.out_scale_lo,
        "scaling": {
            "family": codes.SCALING_NAMES[h.family], "factor": s.factor,
            "original_context": s.original_context, "context": s.context,
            "beta_fast": s.beta_fast, "beta_slow": s.beta_slow, "truncate": s.truncate,
            "mscale": s.mscale, "mscale_all_dim": s.mscale_all_dim,
            "attention_factor": s.attention_factor,
            "low_freq_factor": s.low_freq_factor, "high_freq_factor": s.high_freq_factor,
            "short_factor": factors(req.short_factor), "long_factor": factors(req.long_factor),
        },
        "tensors": mode_name, "device": device,
        # Multi-axis RoPE (protocol 4): positions then come as (n_tokens,
        # n_axes) and pair i rotates by positions[:, pair_axis[i]].
        "axes": None if h.n_axes < 2 else {
            "n_axes": h.n_axes,
            "pair_axis": np.frombuffer(req.pair_axis, dtype=np.uint8).astype(np.int64),
            "freq_period": h.freq_period,
        },
    }


def call_plain(fn: Callable, mode, req: ApplyRequest, x_user) -> Tuple[Any, Any]:
    """Calls fn in the plain signature with x_user (already in the mode's
    form). Returns (y, table or None), as the function gave them."""
    h = req.head
    theta = (np.frombuffer(req.theta_hi, dtype=np.float64)
             + np.frombuffer(req.theta_lo, dtype=np.float64))
    positions = np.frombuffer(req.positions, dtype=np.int64).copy()
    if h.n_axes >= 2:
        positions = positions.reshape(h.n_tokens, h.n_axes)
    result = fn(
        x_user, mode.from_numpy(positions),
        theta=mode.from_numpy(theta),
        layout=codes.LAYOUT_NAMES[h.layout],
        direction=-1 if h.direction == codes.INVERSE else 1,
        out_scale=out_scale(req),
        spec=spec_dict(req, mode.name, mode.device))
    if isinstance(result, tuple):
        if len(result) != 2:
            raise ResultError("the function returned a tuple of %d items; y or (y, table) "
                              "is expected" % len(result))
        return result[0], result[1]
    return result, None


def check_y(y: np.ndarray, req: ApplyRequest) -> None:
    """A result must have the request's shape exactly (no broadcasting:
    a missing head would otherwise pass unnoticed)."""
    h = req.head
    want = (h.n_tokens, h.n_heads, h.head_dim)
    if tuple(y.shape) != want:
        raise ResultError("the function returned shape %s; %s was expected"
                          % (tuple(y.shape), want))


def table_bytes(table: np.ndarray, req: ApplyRequest) -> bytes:
    """The reported frequency table as RESULT carries it: rotary_dim/2
    little-endian f64 values, or ResultError."""
    half = req.head.rotary_dim // 2
    if hasattr(table, "detach"):  # a torch tensor, maybe on a GPU, maybe bf16
        table = table.detach().to("cpu").double().numpy()
    t = np.asarray(table)
    if t.ndim != 1 or t.shape[0] != half or t.dtype.kind not in "fiu":
        raise ResultError("the function returned a table of shape %s and type %s; "
                          "%d real frequencies (rotary_dim/2) were expected"
                          % (tuple(t.shape), t.dtype, half))
    return t.astype("<f8").tobytes()

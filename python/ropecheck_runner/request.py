"""Decoding APPLY frames (runner/PROTOCOL.md, version 4), checked as the
C runner (runner/runner.c) checks them, with the same words.

Safety as there: read_apply reads an APPLY's fixed head first, derives
the exact payload length its shape implies and refuses a frame whose
announced length differs BEFORE it allocates the rest, so a corrupted
length cannot make us allocate (or wait for) more than the request
itself. Pure functions (bytes in, dataclasses out) besides read_apply, so
the tests feed them bytes. Nothing here imports numpy.
"""

import math
import struct
from array import array
from dataclasses import dataclass
from typing import BinaryIO, Optional, Sequence, Union

from . import codes
from .protocol import Malformed, Refused, parse_header, read_exact, read_into, skip


# After the name: head_dim, rotary_dim, base, layout, dtype, direction,
# inplace, the six i64 shape fields, then (version 3) family, n_factors,
# (version 4) n_axes, freq_period.
_HEAD = struct.Struct("<IId4I6q4I")
# After the output scale (version 3): rc_scaling's parameters.
_SCALING = struct.Struct("<dqqddIddddd")
assert _HEAD.size == 96 and _SCALING.size == 84  # protocol.h's sizes


@dataclass(frozen=True)
class ApplyHead:
    """Every APPLY field before the theta table; size = its bytes."""
    name: str
    head_dim: int
    rotary_dim: int
    base: float
    layout: int
    dtype: int
    direction: int
    inplace: int
    n_tokens: int
    n_heads: int
    in_strides: tuple  # (token_stride, head_stride), elements
    out_strides: tuple
    family: int
    n_factors: int
    n_axes: int  # version 4: 0 or 1 one position per token, 2..4 that many
    freq_period: int  # version 4: rc_spec's
    size: int

    @property
    def per_token(self) -> int:
        """Positions per token."""
        return self.n_axes if self.n_axes >= 2 else 1


@dataclass(frozen=True)
class Scaling:
    """The family's parameters, as rope.h's rc_scaling names them."""
    factor: float
    original_context: int
    context: int
    beta_fast: float
    beta_slow: float
    truncate: int
    mscale: float
    mscale_all_dim: float
    attention_factor: float
    low_freq_factor: float
    high_freq_factor: float


@dataclass
class ApplyRequest:
    """A decoded APPLY. Arrays are array('d')/array('q'); input/output are
    views into the payload (output is None in place)."""
    head: ApplyHead
    theta_hi: array
    theta_lo: array
    out_scale_hi: float
    out_scale_lo: float
    scaling: Scaling
    short_factor: Optional[array]
    long_factor: Optional[array]
    pair_axis: Optional[bytes]  # version 4, n_axes >= 2: each pair's axis
    positions: array  # n_tokens * per_token, token-major
    input: memoryview
    output: Optional[memoryview]
    in_extent: int
    out_extent: int


def head_length(first_two: bytes) -> int:
    """The head's length, from the name's u16 length (the first 2 bytes):
    what to read before anything else."""
    (n,) = struct.unpack_from("<H", first_two)
    if n > codes.MAX_STRING:
        raise Malformed("implementation name longer than %d bytes" % codes.MAX_STRING)
    return 2 + n + _HEAD.size


def decode_head(buf: bytes) -> ApplyHead:
    """The head at the start of buf (at least head_length bytes)."""
    if len(buf) < 2 or len(buf) < head_length(buf):
        raise Malformed("truncated header")
    (n,) = struct.unpack_from("<H", buf)
    name = bytes(buf[2:2 + n]).decode("utf-8", "replace")
    f = _HEAD.unpack_from(buf, 2 + n)
    return ApplyHead(name, f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8],
                     (f[9], f[10]), (f[11], f[12]), f[13], f[14], f[15], f[16],
                     2 + n + _HEAD.size)


def _spec_check(h: ApplyHead) -> None:
    """core/spec_check.c's rc_spec_check, with its words."""
    if not (2 <= h.head_dim <= codes.MAX_HEAD_DIM and h.head_dim % 2 == 0):
        raise Refused("head_dim %d must be even and in [2, %d]" % (h.head_dim, codes.MAX_HEAD_DIM))
    if not (2 <= h.rotary_dim <= h.head_dim and h.rotary_dim % 2 == 0):
        raise Refused("rotary_dim %d must be even and in [2, head_dim=%d]"
                      % (h.rotary_dim, h.head_dim))
    if not (h.base > 0 and math.isfinite(h.base)):
        raise Refused("base %g must be positive and finite" % h.base)


def shape_extent(n_tokens: int, n_heads: int, head_dim: int, token_stride: int,
                 head_stride: int, esize: int) -> int:
    """core/spec_check.c's rc_shape_check: the view's extent in bytes
    (first element to one past the last, gaps included), or Refused."""
    i64_max = (1 << 63) - 1
    if n_tokens < 1:
        raise Refused("token count %d must be at least 1" % n_tokens)
    if n_heads < 1:
        raise Refused("head count %d must be at least 1" % n_heads)
    if head_stride < head_dim:
        raise Refused("head stride %d is less than head_dim %d" % (head_stride, head_dim))
    token_extent = (n_heads - 1) * head_stride + head_dim
    if token_extent > i64_max or token_stride < token_extent:
        raise Refused("token stride %d is less than one token's extent (%d heads x stride %d)"
                      % (token_stride, n_heads, head_stride))
    elems = (n_tokens - 1) * token_stride + token_extent
    if elems > i64_max // 8:
        raise Refused("%d tokens x %d heads x %d channels overflows the addressable size"
                      % (n_tokens, n_heads, head_dim))
    return elems * esize


def plan_apply(h: ApplyHead, names: Sequence[str]) -> "tuple[int, int, int]":
    """Checks a head as runner.c's check_head does, in the same order.
    Returns (in_extent, out_extent, payload_len): the exact length the
    shape implies. Refused or Malformed otherwise."""
    if h.name not in names:
        raise Refused("this runner does not carry '%s'" % h.name)
    if (h.layout >= len(codes.LAYOUT_NAMES) or h.dtype >= len(codes.DTYPE_NAMES)
            or h.direction >= len(codes.DIRECTION_NAMES) or h.inplace > 1):
        raise Refused("bad layout, dtype, direction or in-place flag")
    if h.family >= len(codes.SCALING_NAMES):
        raise Refused("unknown scaling family %d" % h.family)
    _spec_check(h)
    if h.n_axes > codes.MAX_AXES or h.freq_period > h.rotary_dim // 2:
        raise Refused("%d axes, frequency period %d: at most %d axes and r/2 pairs"
                      % (h.n_axes, h.freq_period, codes.MAX_AXES))
    esize = codes.DTYPE_SIZES[h.dtype]
    in_ext = shape_extent(h.n_tokens, h.n_heads, h.head_dim, *h.in_strides, esize)
    out_ext = shape_extent(h.n_tokens, h.n_heads, h.head_dim, *h.out_strides, esize)
    if h.n_tokens > codes.MAX_PAYLOAD // 32 or (h.inplace and h.in_strides != h.out_strides):
        raise Malformed("inconsistent shape")
    if in_ext > codes.MAX_PAYLOAD or out_ext > codes.MAX_PAYLOAD:
        raise Malformed("buffer lengths do not match the shape")
    half = h.rotary_dim // 2
    if h.n_factors not in (0, half):
        raise Malformed("%d scaling factors for %d pairs" % (h.n_factors, half))
    n = (h.size + 16 * half + 16 + _SCALING.size + 16 * h.n_factors
         + (half if h.n_axes >= 2 else 0) + 8 * h.per_token * h.n_tokens + 8 + in_ext)
    if not h.inplace:
        n += 8 + out_ext
    return in_ext, out_ext, n


def _take_array(kind: str, payload: bytes, at: int, count: int) -> array:
    a = array(kind)
    a.frombytes(payload[at:at + 8 * count])
    return a


def decode_apply(payload: bytes, names: Sequence[str]) -> ApplyRequest:
    """A whole APPLY payload, checked: the request, or Refused/Malformed."""
    h = decode_head(payload)
    in_ext, out_ext, want = plan_apply(h, names)
    if want != len(payload):
        raise Malformed("buffer lengths do not match the shape")
    mv = memoryview(payload)
    half, at = h.rotary_dim // 2, h.size
    theta_hi = _take_array("d", mv, at, half)
    theta_lo = _take_array("d", mv, at + 8 * half, half)
    at += 16 * half
    scale_hi, scale_lo = struct.unpack_from("<2d", mv, at)
    at += 16
    scaling = Scaling(*_SCALING.unpack_from(mv, at))
    at += _SCALING.size
    short = long = None
    if h.n_factors:
        short = _take_array("d", mv, at, h.n_factors)
        long = _take_array("d", mv, at + 8 * h.n_factors, h.n_factors)
        at += 16 * h.n_factors
    pair_axis = None
    if h.n_axes >= 2:
        pair_axis = bytes(mv[at:at + half])
        at += half
    positions = _take_array("q", mv, at, h.n_tokens * h.per_token)
    at += 8 * h.n_tokens * h.per_token
    (in_len,) = struct.unpack_from("<Q", mv, at)
    inp = mv[at + 8:at + 8 + in_ext]
    at += 8 + in_ext
    out = None
    out_len = out_ext
    if not h.inplace:
        (out_len,) = struct.unpack_from("<Q", mv, at)
        out = mv[at + 8:at + 8 + out_ext]
        at += 8 + out_ext
    if in_len != in_ext or out_len != out_ext or at != len(payload):
        raise Malformed("buffer lengths do not match the shape")
    return ApplyRequest(h, theta_hi, theta_lo, scale_hi, scale_lo, scaling, short, long,
                        pair_axis, positions, inp, out, in_ext, out_ext)


def check_values(req: ApplyRequest) -> Optional[str]:
    """What core/spec_check.c's prepare and apply checks refuse with
    RC_ERR_INVALID before a built-in port touches anything: the reason,
    or None. Run before the user's code sees the request."""
    for i, (hi, lo) in enumerate(zip(req.theta_hi, req.theta_lo)):
        if not (hi > 0 and math.isfinite(hi) and math.isfinite(lo)):
            return "theta[%d] = %r + %r is not positive and finite" % (i, hi, lo)
    hi, lo = req.out_scale_hi, req.out_scale_lo
    if hi != 0 and not (hi > 0 and math.isfinite(hi) and math.isfinite(lo)):
        return "output scale %r + %r is neither 0 (none) nor positive and finite" % (hi, lo)
    if req.pair_axis is not None:
        for i, k in enumerate(req.pair_axis):
            if k >= req.head.n_axes:
                return "pair %d on axis %d of %d" % (i, k, req.head.n_axes)
    if req.positions and not (min(req.positions) >= 0
                              and max(req.positions) <= codes.MAX_POSITION):
        t = next(t for t, m in enumerate(req.positions)
                 if not 0 <= m <= codes.MAX_POSITION)
        return "position %d (token %d) is outside [0, 2^53-1]" % (req.positions[t], t)
    return None


def read_apply(stream: BinaryIO, names: Sequence[str]) -> Union[None, ApplyRequest, Refused]:
    """The next APPLY from stream: None at a clean end of input, the
    request, or the Refused reason of a well-formed request we cannot
    serve (its payload then read and dropped). Malformed otherwise.

    Reads as runner.c's serve() does: the header, the name's length, the
    rest of the head, and only once the head's shape implies exactly the
    announced length, the payload."""
    hdr = read_exact(stream, codes.HEADER_BYTES, eof_ok=True)
    if hdr is None:
        return None
    length = parse_header(hdr)
    head = read_exact(stream, min(length, 2))
    if length >= 2:
        head += read_exact(stream, min(length, head_length(head)) - 2)
    h = decode_head(head)
    try:
        want = plan_apply(h, names)[2]
    except Refused as why:
        skip(stream, length - len(head))
        return why
    if want != length:
        raise Malformed("payload length does not match the shape")
    payload = bytearray(length)
    payload[:len(head)] = head
    read_into(stream, memoryview(payload)[len(head):])
    return decode_apply(payload, names)

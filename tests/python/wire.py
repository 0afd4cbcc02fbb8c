"""The host's side of runner/PROTOCOL.md (version 4), written for the tests
independently of python/ropecheck_runner: field by field from the
document, so a mistake in the package's own decoder cannot hide in a
shared one. Encodes APPLY frames, decodes HELLO and RESULT frames.
"""

import struct
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

MAGIC = 0x50524352
HELLO, APPLY, RESULT = 1, 2, 3


def u16(v): return struct.pack("<H", v)
def u32(v): return struct.pack("<I", v)
def u64(v): return struct.pack("<Q", v)
def i64(v): return struct.pack("<q", v)
def f64(v): return struct.pack("<d", v)


def string(s: str) -> bytes:
    b = s.encode("utf-8")
    return u16(len(b)) + b


@dataclass
class Apply:
    """One APPLY's fields; defaults make a small valid f32 request."""
    name: str = "apply"
    head_dim: int = 8
    rotary_dim: int = 8
    base: float = 10000.0
    layout: int = 1  # rc_layout: 0 interleaved, 1 half
    dtype: int = 0  # rc_dtype: 0 f32, 1 f64, 2 f16, 3 bf16
    direction: int = 0  # 0 forward, 1 inverse
    inplace: int = 0
    n_tokens: int = 2
    n_heads: int = 1
    in_strides: Tuple[int, int] = (8, 8)
    out_strides: Tuple[int, int] = (8, 8)
    family: int = 0
    theta_hi: List[float] = field(default_factory=list)  # default: base^(-2i/r)
    theta_lo: List[float] = field(default_factory=list)  # default: zeros
    out_scale: Tuple[float, float] = (0.0, 0.0)
    params: Tuple = (0.0, 0, 0, 0.0, 0.0, 0, 0.0, 0.0, 0.0, 0.0, 0.0)
    short_factor: List[float] = field(default_factory=list)
    long_factor: List[float] = field(default_factory=list)
    n_axes: int = 0  # version 4: 0/1 one position per token, 2..4 that many
    freq_period: int = 0
    pair_axis: List[int] = field(default_factory=list)  # n_axes >= 2: rotary_dim/2
    positions: List[int] = field(default_factory=lambda: [0, 1])  # n_tokens * axes
    inbuf: bytes = b""
    outbuf: bytes = b""

    def thetas(self):
        half = self.rotary_dim // 2
        hi = self.theta_hi or [self.base ** (-2.0 * i / self.rotary_dim) for i in range(half)]
        lo = self.theta_lo or [0.0] * half
        return hi, lo

    def payload(self) -> bytes:
        hi, lo = self.thetas()
        (fac, orig, ctx, bfast, bslow, trunc, ms, msall, att, lowf, highf) = self.params
        p = [string(self.name), u32(self.head_dim), u32(self.rotary_dim), f64(self.base),
             u32(self.layout), u32(self.dtype), u32(self.direction), u32(self.inplace),
             i64(self.n_tokens), i64(self.n_heads),
             i64(self.in_strides[0]), i64(self.in_strides[1]),
             i64(self.out_strides[0]), i64(self.out_strides[1]),
             u32(self.family), u32(len(self.short_factor)),
             u32(self.n_axes), u32(self.freq_period)]
        p += [f64(v) for v in hi] + [f64(v) for v in lo]
        p += [f64(self.out_scale[0]), f64(self.out_scale[1])]
        p += [f64(fac), i64(orig), i64(ctx), f64(bfast), f64(bslow), u32(trunc),
              f64(ms), f64(msall), f64(att), f64(lowf), f64(highf)]
        p += [f64(v) for v in self.short_factor] + [f64(v) for v in self.long_factor]
        if self.n_axes >= 2:
            p += [bytes(self.pair_axis)]
        p += [i64(m) for m in self.positions]
        p += [u64(len(self.inbuf)), self.inbuf]
        if not self.inplace:
            p += [u64(len(self.outbuf)), self.outbuf]
        return b"".join(p)

    def frame(self, ftype: int = APPLY, magic: int = MAGIC, length_delta: int = 0) -> bytes:
        body = self.payload()
        return u32(magic) + u32(ftype) + u64(len(body) + length_delta) + body


def extent(n_tokens, n_heads, head_dim, strides, esize) -> int:
    """Bytes from element 0 to one past the last (PROTOCOL.md)."""
    return ((n_tokens - 1) * strides[0] + (n_heads - 1) * strides[1] + head_dim) * esize


class Reader:
    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def take(self, n: int) -> bytes:
        assert self.at + n <= len(self.data), "frame shorter than its fields"
        b = self.data[self.at:self.at + n]
        self.at += n
        return b

    def u32(self): return struct.unpack("<I", self.take(4))[0]
    def u64(self): return struct.unpack("<Q", self.take(8))[0]
    def string(self): return self.take(struct.unpack("<H", self.take(2))[0]).decode("utf-8")


def split_frames(stream: bytes) -> List[Tuple[int, bytes]]:
    """Every frame of a runner's stdout, checking magic and lengths."""
    frames, at = [], 0
    while at < len(stream):
        magic, ftype, length = struct.unpack_from("<IIQ", stream, at)
        assert magic == MAGIC, "bad magic at byte %d" % at
        assert at + 16 + length <= len(stream), "truncated frame at byte %d" % at
        frames.append((ftype, stream[at + 16:at + 16 + length]))
        at += 16 + length
    return frames


@dataclass
class Offer:
    name: str
    description: str
    caps: int
    available: int
    why: str


def parse_hello(payload: bytes):
    """(version, arch, [Offer])."""
    r = Reader(payload)
    version, arch, n = r.u32(), r.string(), None
    n = r.u32()
    offers = [Offer(r.string(), r.string(), r.u64(), r.u32(), r.string()) for _ in range(n)]
    assert r.at == len(payload), "hello longer than its fields"
    return version, arch, offers


@dataclass
class Result:
    status: int
    flags: int
    out: bytes
    input: Optional[bytes]
    message: str
    table: List[float]


def parse_result(payload: bytes) -> Result:
    r = Reader(payload)
    status, flags = r.u32(), r.u32()
    out = r.take(r.u64())
    inp = r.take(r.u64()) if flags & 1 else None
    message = r.string()
    n = r.u32()
    table = list(struct.unpack("<%dd" % n, r.take(8 * n)))
    assert r.at == len(payload), "result longer than its fields"
    return Result(status, flags, out, inp, message, table)

"""Framing of runner/PROTOCOL.md, version 4, in pure Python: strings,
frame headers, the HELLO and RESULT frames (runner -> host) and the
stream helpers. request.py decodes APPLY (host -> runner).

Pure encoders (values in, bytes out) so the tests can drive them without
pipes. Nothing here imports numpy.
"""

import struct
from dataclasses import dataclass
from typing import BinaryIO, Optional, Sequence, Union

from . import codes


class Malformed(Exception):
    """The framing is wrong: the runner prints one line and exits with 2."""


class Refused(Exception):
    """Well-formed but not servable (unknown implementation, invalid
    spec): answered with status RC_ERR_INVALID and this reason."""


# ---- primitives --------------------------------------------------------

def clip_utf8(text: str, limit: int) -> bytes:
    """UTF-8 bytes of text, at most limit of them, never cutting a
    character in two; NULs become spaces (the protocol's strings have
    none)."""
    data = text.replace("\0", " ").encode("utf-8", "replace")
    if len(data) > limit:
        data = data[:limit].decode("utf-8", "ignore").encode("utf-8")
    return data


def encode_str(text: str, limit: int = codes.MAX_STRING) -> bytes:
    """A protocol string: u16 length, then the bytes."""
    data = clip_utf8(text, min(limit, codes.MAX_STRING))
    return struct.pack("<H", len(data)) + data


def frame(ftype: int, payload: bytes) -> bytes:
    """A whole frame: magic, type, u64 length, payload."""
    return struct.pack("<IIQ", codes.MAGIC, ftype, len(payload)) + payload


def read_into(stream: BinaryIO, view: memoryview, eof_ok: bool = False) -> bool:
    """Fills view from stream. False when eof_ok and the stream ended
    before the first byte (the host closed our stdin: a clean end);
    Malformed when it ends anywhere else."""
    got, n = 0, len(view)
    while got < n:
        k = stream.readinto(view[got:])
        if not k:
            if got == 0 and eof_ok:
                return False
            raise Malformed("truncated frame")
        got += k
    return True


def read_exact(stream: BinaryIO, n: int, eof_ok: bool = False) -> Optional[bytearray]:
    """Exactly n bytes from stream, or None at a clean end (eof_ok)."""
    buf = bytearray(n)
    return buf if read_into(stream, memoryview(buf), eof_ok) else None


def skip(stream: BinaryIO, n: int) -> None:
    """Reads and drops n bytes (the rest of a refused request), in
    chunks, so a refused frame costs no allocation of its size."""
    while n > 0:
        k = min(n, 1 << 20)
        read_exact(stream, k)
        n -= k


def parse_header(hdr: bytes) -> int:
    """The payload length of an APPLY frame header; Malformed for any
    other frame."""
    magic, ftype, length = struct.unpack("<IIQ", hdr)
    if magic != codes.MAGIC:
        raise Malformed("bad magic (is the host speaking this protocol?)")
    if ftype != codes.APPLY:
        raise Malformed("unexpected frame type %d" % ftype)
    if length > codes.MAX_PAYLOAD:
        raise Malformed("payload length beyond the limit")
    return length


# ---- HELLO and RESULT (runner -> host) ---------------------------------

@dataclass
class Offer:
    """One implementation as the hello announces it."""
    name: str
    description: str
    caps: int
    available: bool = True
    why: str = ""


def encode_hello(arch: str, offers: Sequence[Offer]) -> bytes:
    """The HELLO frame. Names must already be valid (the CLI checks)."""
    if not 1 <= len(offers) <= codes.MAX_IMPLS:
        raise ValueError("a runner offers 1..%d implementations" % codes.MAX_IMPLS)
    parts = [struct.pack("<I", codes.VERSION), encode_str(arch, 31),
             struct.pack("<I", len(offers))]
    for o in offers:
        parts += [encode_str(o.name), encode_str(o.description, codes.MAX_DESCRIPTION),
                  struct.pack("<QI", o.caps, 1 if o.available else 0),
                  encode_str("" if o.available else o.why, codes.MAX_WHY)]
    return frame(codes.HELLO, b"".join(parts))


def encode_result(status: int, out: Optional[bytes] = None,
                  changed_input: Optional[bytes] = None, message: str = "",
                  table: Union[None, bytes, Sequence[float]] = None) -> bytes:
    """The RESULT frame. out: the output extent after the call (the
    input's when in place), or None when nothing was written.
    changed_input: out of place, the input extent when the call wrote it
    (sets flag bit 0). table: the implementation's own frequencies, as
    little-endian f64 bytes or floats (0 or rotary_dim/2 of them)."""
    out = b"" if out is None else out
    flags = codes.FLAG_INPUT_CHANGED if changed_input is not None else 0
    parts = [struct.pack("<IIQ", status, flags, len(out)), out]
    if changed_input is not None:
        parts += [struct.pack("<Q", len(changed_input)), changed_input]
    parts.append(encode_str(message))
    if table is None:
        parts.append(struct.pack("<I", 0))
    elif isinstance(table, (bytes, bytearray, memoryview)):
        parts += [struct.pack("<I", len(table) // 8), bytes(table)]
    else:
        parts.append(struct.pack("<I%dd" % len(table), len(table), *table))
    return frame(codes.RESULT, b"".join(parts))

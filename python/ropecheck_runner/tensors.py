"""Moving tensors between the wire's strided bytes and numpy arrays.

The host sends a tensor as its extent (element 0 to one past the last,
stride gaps included) and expects the output extent back with the gaps as
it sent them: the gaps belong to somebody else and the host audits them.
So we gather the (n_tokens, n_heads, head_dim) view into a contiguous
array for the user's function, and scatter the result back into a copy of
the received bytes at exactly the view's elements.

Element types: numpy has f32, f64 and f16; bf16 travels here as its u16
bit pattern (numpy has no bfloat16), which only the torch mode turns into
numbers. Rounding a result to the request's type is done once, to
nearest-even, from whatever float type the function returned.
"""

from typing import Tuple

import numpy as np

from . import codes

# The wire's element types, little-endian whatever the machine (the
# protocol requires little-endian tensors). bf16 as its bits.
WIRE_DTYPES = {
    codes.F32: np.dtype("<f4"),
    codes.F64: np.dtype("<f8"),
    codes.F16: np.dtype("<f2"),
    codes.BF16: np.dtype("<u2"),
}


def strided_view(buf, dtype: int, shape: Tuple[int, int, int],
                 strides: Tuple[int, int], writeable: bool) -> np.ndarray:
    """The (n_tokens, n_heads, head_dim) view of buf, a whole extent whose
    size the protocol layer already checked against the strides (so the
    view cannot reach outside it). strides are in elements, as on the
    wire; channels of one head are contiguous."""
    flat = np.frombuffer(buf, dtype=WIRE_DTYPES[dtype])
    size = flat.itemsize
    return np.lib.stride_tricks.as_strided(
        flat, shape=shape, strides=(strides[0] * size, strides[1] * size, size),
        writeable=writeable)


def gather(buf, dtype: int, shape, strides) -> np.ndarray:
    """A contiguous copy of the view: what the user's function gets."""
    return strided_view(buf, dtype, shape, strides, writeable=False).copy()


def scatter(buf: bytearray, dtype: int, shape, strides, values: np.ndarray) -> None:
    """Writes values (already in the wire type) into the view's elements
    of buf; the gaps between them stay as they were."""
    strided_view(buf, dtype, shape, strides, writeable=True)[...] = values


def f64_to_bf16_bits(x: np.ndarray) -> np.ndarray:
    """Rounds float64 values to bfloat16 once, to nearest-even, and returns
    the u16 bit patterns.

    WHY not via float32 directly: float64 -> float32 -> bf16 rounds twice,
    which is off by one bf16 ulp whenever the first rounding lands on a
    bf16 midpoint. Rounding to float32 *to odd* instead (truncate, then set
    the last bit when anything was lost) keeps the information the second
    rounding needs, because float32 has 16 more bits than bf16 (>= 2 are
    enough), and the float32 -> bf16 step is then an exact nearest-even.
    NaNs keep their sign and top payload bits and become quiet."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        f = x.astype(np.float32)
        back = f.astype(np.float64)
        inexact = (back != x) & ~np.isnan(x)
        toward_zero = inexact & (np.abs(back) > np.abs(x))
    bits = f.view(np.uint32).copy()
    # Sign-magnitude: one less is one float32 ulp smaller in magnitude (an
    # overflow to inf steps back to the largest float32).
    bits[toward_zero] -= np.uint32(1)
    bits[inexact] |= np.uint32(1)
    nan = np.isnan(x)
    # bits < 0xFF800001 where not NaN, so the sum stays below 2^32.
    sixteen = np.uint32(16)
    rounded = (bits + np.uint32(0x7FFF) + ((bits >> sixteen) & np.uint32(1))) >> sixteen
    rounded[nan] = (bits[nan] >> sixteen) | np.uint32(0x0040)
    return rounded.astype(np.uint16)


def to_wire(y: np.ndarray, dtype: int) -> np.ndarray:
    """y (any real float numpy dtype) rounded once to the request's type,
    as the wire carries it (bf16: u16 bits). numpy's astype rounds to
    nearest-even directly from the source type, float64 -> float16
    included, so there is no double rounding."""
    if y.dtype.kind != "f":
        raise TypeError("the function returned %s values; a float array is expected" % y.dtype)
    if dtype == codes.BF16:
        return f64_to_bf16_bits(y.astype(np.float64))
    return y.astype(WIRE_DTYPES[dtype])

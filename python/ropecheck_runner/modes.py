"""Tensor modes: what the user's function receives (numpy arrays, or torch
tensors on a device) and how its result comes back to wire bytes.

A mode offers:
  name, device      for the description and spec["tensors"/"device"]
  dtypes            the RC_CAP_* dtype bits it can carry
  bf16_note         why bf16 is refused, when the mode cannot carry it
  available, why    whether it can run here (torch installed, CUDA seen)
  from_numpy(a)     an auxiliary array (positions, theta) in the mode's form
  to_user(x, dt)    the input (a contiguous wire-typed array) for the function
  to_wire(y, dt)    a result rounded once to the wire type, as a numpy array
  wire_bits(x, dt)  the bits the function left in its input (to see writes)
  status_for(exc)   the rc_status for an exception the function raised

torch is imported only when the torch mode is built, so the numpy mode
works on machines without it.
"""

import numpy as np

from . import codes, tensors

_NUMPY_DTYPES = codes.CAP_F32 | codes.CAP_F64 | codes.CAP_F16
_ALL_DTYPES = _NUMPY_DTYPES | codes.CAP_BF16


def _status_for(exc: BaseException) -> int:
    # torch.cuda.OutOfMemoryError is a RuntimeError, not a MemoryError.
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError":
        return codes.ERR_NOMEM
    if str(exc).startswith("CUDA error"):
        return codes.ERR_DEVICE
    return codes.ERR_INTERNAL


class NumpyMode:
    """x is a contiguous numpy array of the request's dtype (f32, f64, f16;
    bf16 as uint16 bit patterns, for functions declaring bf16_bits)."""
    name = "numpy"
    device = "cpu"
    dtypes = _NUMPY_DTYPES
    bf16_note = "bf16 is not offered in numpy mode (numpy has no bfloat16): use --tensors torch"
    available = True
    why = ""

    def from_numpy(self, a: np.ndarray) -> np.ndarray:
        return a

    def to_user(self, x: np.ndarray, dtype: int) -> np.ndarray:
        return x.copy()  # the function may write into it: keep ours intact

    def to_wire(self, y, dtype: int) -> np.ndarray:
        y = np.asarray(y)
        if dtype == codes.BF16 and y.dtype == np.uint16:
            return y  # bf16 bit patterns (bf16_bits): already the wire type
        return tensors.to_wire(y, dtype)

    def wire_bits(self, x, dtype: int) -> np.ndarray:
        return np.asarray(x)

    status_for = staticmethod(_status_for)


class TorchMode:
    """x is a torch tensor on `device` in the request's dtype (bf16 too);
    positions (int64) and theta (float64) are tensors on that device."""
    name = "torch"
    dtypes = _ALL_DTYPES
    bf16_note = ""

    def __init__(self, device: str):
        self.device = device
        self.torch = None
        self.why = ""
        try:
            import torch
        except ImportError:
            self.why = "torch is not installed"
            return
        except Exception as exc:  # a broken install: say so, do not crash
            self.why = "torch failed to import: %s" % str(exc).splitlines()[0][:150]
            return
        if device.startswith("cuda") and not torch.cuda.is_available():
            self.why = "torch sees no CUDA device (torch.cuda.is_available() is false)"
            return
        self.torch = torch
        self._types = {codes.F32: torch.float32, codes.F64: torch.float64,
                       codes.F16: torch.float16, codes.BF16: torch.bfloat16}

    @property
    def available(self) -> bool:
        return self.torch is not None

    def from_numpy(self, a: np.ndarray):
        return self.torch.from_numpy(np.array(a)).to(self.device)

    def to_user(self, x: np.ndarray, dtype: int):
        a = np.array(x)  # a copy: on the CPU the tensor shares its memory
        if dtype == codes.BF16:
            t = self.torch.from_numpy(a.view(np.int16)).view(self.torch.bfloat16)
        else:
            t = self.torch.from_numpy(a)
        return t.to(self.device)

    def _bits(self, t, dtype: int) -> np.ndarray:
        t = t.detach().to("cpu").contiguous()
        if dtype == codes.BF16:
            return t.view(self.torch.int16).numpy().view(np.uint16)
        return t.numpy().astype(tensors.WIRE_DTYPES[dtype])

    def to_wire(self, y, dtype: int) -> np.ndarray:
        if isinstance(y, self.torch.Tensor):
            if y.dtype == self._types[dtype]:
                return self._bits(y, dtype)  # already the wire type: exact
            if not y.is_floating_point():
                raise TypeError("the function returned a %s tensor; a float tensor is "
                                "expected" % y.dtype)
            # Every torch float type is exact in float64; one rounding follows.
            y = y.detach().to(device="cpu", dtype=self.torch.float64).numpy()
        return tensors.to_wire(np.asarray(y), dtype)

    def wire_bits(self, x, dtype: int) -> np.ndarray:
        return self._bits(x, dtype)

    status_for = staticmethod(_status_for)

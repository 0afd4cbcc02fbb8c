"""The call shapes a RoPE function may have (--signature, or the
function's own ``ropecheck_signature`` attribute):

plain  fn(x, positions, *, theta, layout, direction, out_scale, spec)
       -> y or (y, table): the function computes its angles itself
       (adapters.call_plain; python/README.md).
hf     fn(q, k, cos, sin) -> (q_embed, k_embed): transformers'
       apply_rotary_pos_emb. q and k are (1, n_heads, n_tokens, rotary_dim),
       cos and sin (1, n_tokens, rotary_dim), the halves repeated
       (cat(freqs, freqs)); the half layout only (rotate_half).
vllm   fn(positions, query, key, *, head_size, cos_sin_cache, is_neox_style)
       -> (query, key), or None after rotating query and key in place:
       vLLM's rotary_embedding. query and key are (n_tokens, n_heads *
       head_size); cos_sin_cache is (rows, rotary_dim), cos in the first
       rotary_dim/2 columns and sin in the rest; positions (int64) index
       its rows; is_neox_style: the half layout, else interleaved (GPT-J).

With hf and vllm the function receives cos and sin, not the angle: the
runner builds them as those frameworks do, from an f32 table (inv_freq =
the exact theta_i rounded to float32, reported back to ropecheck as the
implementation's own table), an f32 angle f32(m) * inv_freq (one f32
product), cos and sin of that angle rounded to f32, times the attention
factor in f32, then cast to the case's dtype (f64 keeps the f32 values).
Those are the steps reference/PROFILES.md models for `--profile hf`, so
under that profile the function's own arithmetic is what is judged; without
it, the exact gate judges the whole pipeline, and the f32 angle fails it at
long positions, as it does in the frameworks. The inverse direction is the
rotation with sin negated (hf has none; vLLM's cache does the same).

k (hf) and key (vllm) hold the same values as q / query: both results are
returned, and a key rotated otherwise than the query is an error
(ResultError), not a verdict on the query alone.
"""

from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np

from . import codes, tensors
from .adapters import ResultError, call_plain, out_scale
from .request import ApplyRequest


def framework_table(req: ApplyRequest) -> np.ndarray:
    """inv_freq as the frameworks hold it: theta_hi + theta_lo rounded to
    float32 (rotary_dim/2 values)."""
    theta = (np.frombuffer(req.theta_hi, dtype=np.float64)
             + np.frombuffer(req.theta_lo, dtype=np.float64))
    return theta.astype(np.float32)


def framework_cos_sin(req: ApplyRequest, positions: np.ndarray) -> Tuple[np.ndarray, ...]:
    """(cos, sin, inv_freq): cos and sin (len(positions), rotary_dim/2) as
    float64 arrays holding the case dtype's values (module docstring), and
    the f32 table as float64."""
    inv = framework_table(req)
    angle = positions.astype(np.float32)[:, None] * inv[None, :]  # one f32 product
    # cos/sin of the f32 angle in float64, rounded to f32: within the one
    # f32 ulp the hf profile allows a libm cosf.
    cos = np.cos(angle.astype(np.float64)).astype(np.float32)
    sin = np.sin(angle.astype(np.float64)).astype(np.float32)
    alpha = np.float32(out_scale(req))
    if alpha != 1:
        cos, sin = cos * alpha, sin * alpha  # f32 products
    if req.head.direction == codes.INVERSE:
        sin = -sin
    dt = req.head.dtype

    def to_dtype(a):  # the cast to the case's dtype (f64: the f32 values)
        return tensors.to_wire(a.astype(np.float64), dt)
    return to_dtype(cos), to_dtype(sin), inv.astype(np.float64)


def _query_of(mode, result, dt: int, want: Tuple[int, ...], usage: str,
              differs: str) -> np.ndarray:
    """The query half of the function's (query, key) result in the wire
    type, once both are checked: a pair (else ResultError(usage)), each of
    shape `want`, and the key bit for bit the query, as both inputs held
    the same values (else ResultError(differs))."""
    if not isinstance(result, tuple) or len(result) != 2:
        raise ResultError(usage)
    qo, ko = (mode.to_wire(t, dt) for t in result)
    if tuple(qo.shape) != want or tuple(ko.shape) != want:
        raise ResultError("the function returned shapes %s and %s; %s was expected"
                          % (tuple(qo.shape), tuple(ko.shape), want))
    if qo.tobytes() != ko.tobytes():
        raise ResultError(differs)
    return qo


def call_hf(fn: Callable, mode, req: ApplyRequest, x_user) -> Tuple[Any, Any]:
    h = req.head
    r, dt = h.rotary_dim, h.dtype
    positions = np.frombuffer(req.positions, dtype=np.int64)
    cos, sin, inv = framework_cos_sin(req, positions)
    emb_cos = np.concatenate((cos, cos), axis=-1)[None]  # (1, tokens, r)
    emb_sin = np.concatenate((sin, sin), axis=-1)[None]
    x = mode.wire_bits(x_user, dt)  # (tokens, heads, d), the wire type
    q = np.ascontiguousarray(x[..., :r].transpose(1, 0, 2)[None])  # (1, heads, tokens, r)
    result = fn(mode.to_user(q, dt), mode.to_user(q.copy(), dt),
                mode.to_user(emb_cos, dt), mode.to_user(emb_sin, dt))
    qe = _query_of(mode, result, dt, (1, h.n_heads, h.n_tokens, r),
                   "the hf signature returns (q_embed, k_embed)",
                   "k_embed differs from q_embed for the same input: q and k are rotated "
                   "differently")
    y = x.copy()  # the passthrough channels, untouched
    y[..., :r] = qe[0].transpose(1, 0, 2)
    return mode.to_user(y, dt), inv  # in the mode's form: to_wire keeps its bits


def call_vllm(fn: Callable, mode, req: ApplyRequest, x_user) -> Tuple[Any, Any]:
    h = req.head
    d, dt = h.head_dim, h.dtype
    positions = np.frombuffer(req.positions, dtype=np.int64)
    # One cache row per distinct position, in order of first appearance;
    # the positions handed over are those rows (vLLM's kernels read
    # cos_sin_cache[positions[t]]).
    unique, rows = np.unique(positions, return_inverse=True)
    cos, sin, inv = framework_cos_sin(req, unique)
    cache = np.concatenate((cos, sin), axis=-1)
    x = mode.wire_bits(x_user, dt)
    flat = np.ascontiguousarray(x.reshape(h.n_tokens, h.n_heads * d))
    query, key = mode.to_user(flat, dt), mode.to_user(flat.copy(), dt)
    result = fn(mode.from_numpy(rows.astype(np.int64)), query, key, head_size=d,
                cos_sin_cache=mode.to_user(cache, dt),
                is_neox_style=h.layout == codes.HALF)
    if result is None:
        result = (query, key)  # rotated in place
    qo = _query_of(mode, result, dt, (h.n_tokens, h.n_heads * d),
                   "the vllm signature returns (query, key), or None after rotating them "
                   "in place",
                   "key differs from query for the same input: query and key are rotated "
                   "differently")
    return mode.to_user(qo.reshape(h.n_tokens, h.n_heads, d), dt), inv


def hf_refuses(req: ApplyRequest) -> Optional[str]:
    if req.head.layout != codes.HALF:
        return ("the hf signature (apply_rotary_pos_emb) pairs channels by rotate_half: "
                "the half layout only")
    return None


class Signature:
    def __init__(self, name: str, call: Callable, caps_mask: int,
                 refuses: Callable[[ApplyRequest], Optional[str]] = lambda req: None):
        self.name, self.call, self.caps_mask, self.refuses = name, call, caps_mask, refuses


_ALL = ~0
SIGNATURES: Dict[str, Signature] = {
    "plain": Signature("plain", call_plain, _ALL),
    "hf": Signature("hf", call_hf, ~codes.CAP_INTERLEAVED, hf_refuses),
    "vllm": Signature("vllm", call_vllm, _ALL),
}


def signature_of(fn: Callable, default: str) -> Signature:
    """The function's ``ropecheck_signature`` attribute, else default;
    ValueError for a name that is not one of SIGNATURES."""
    name = getattr(fn, "ropecheck_signature", default)
    if name not in SIGNATURES:
        raise ValueError("unknown signature '%s' (known: %s)"
                         % (name, ", ".join(SIGNATURES)))
    return SIGNATURES[name]

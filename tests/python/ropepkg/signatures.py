"""RoPE functions in the hf and vllm call shapes (python/ropecheck_runner/
signatures.py), in numpy, with the arithmetic of the frameworks they
imitate: transformers' apply_rotary_pos_emb (q*cos + rotate_half(q)*sin,
each operation rounded to the dtype) and vLLM's forward_native
(x1*cos - x2*sin, x2*cos + x1*sin). Under --profile hf both must pass;
the *_broken ones must fail.
"""
import numpy as np


def _rotate_half(q):
    h = q.shape[-1] // 2
    return np.concatenate((-q[..., h:], q[..., :h]), axis=-1)


def apply_hf(q, k, cos, sin):
    cos, sin = cos[:, None], sin[:, None]  # unsqueeze over the heads
    return (q * cos) + (_rotate_half(q) * sin), (k * cos) + (_rotate_half(k) * sin)


def apply_hf_broken(q, k, cos, sin):
    """rotate_half with its sign on the wrong half: the inverse rotation."""
    cos, sin = cos[:, None], sin[:, None]

    def wrong(x):
        h = x.shape[-1] // 2
        return np.concatenate((x[..., h:], -x[..., :h]), axis=-1)
    return (q * cos) + (wrong(q) * sin), (k * cos) + (wrong(k) * sin)


def apply_hf_k_differs(q, k, cos, sin):
    """Rotates k with the cosine alone: q right, k not."""
    cos, sin = cos[:, None], sin[:, None]
    return (q * cos) + (_rotate_half(q) * sin), k * cos


def _rotate_vllm(x, cos, sin, neox):
    if neox:
        h = x.shape[-1] // 2
        x1, x2 = x[..., :h].copy(), x[..., h:].copy()
        x[..., :h] = x1 * cos - x2 * sin
        x[..., h:] = x2 * cos + x1 * sin
    else:
        x1, x2 = x[..., 0::2].copy(), x[..., 1::2].copy()
        x[..., 0::2] = x1 * cos - x2 * sin
        x[..., 1::2] = x2 * cos + x1 * sin


def apply_vllm(positions, query, key, *, head_size, cos_sin_cache, is_neox_style):
    """In place, as vLLM's kernel: query (tokens, heads * head_size)."""
    rot = cos_sin_cache.shape[-1]
    cos = cos_sin_cache[positions, : rot // 2][:, None, :]
    sin = cos_sin_cache[positions, rot // 2:][:, None, :]
    for t in (query, key):
        x = t.reshape(t.shape[0], -1, head_size)  # a view: writes land in t
        _rotate_vllm(x[..., :rot], cos, sin, is_neox_style)


def apply_vllm_broken(positions, query, key, *, head_size, cos_sin_cache, is_neox_style):
    """Reads the cache row of the NEXT position: an off-by-one index."""
    rows = np.minimum(positions + 1, cos_sin_cache.shape[0] - 1)
    apply_vllm(rows, query, key, head_size=head_size, cos_sin_cache=cos_sin_cache,
               is_neox_style=is_neox_style)


for _f in (apply_hf, apply_hf_broken, apply_hf_k_differs):
    _f.ropecheck_signature = "hf"
for _f in (apply_vllm, apply_vllm_broken):
    _f.ropecheck_signature = "vllm"

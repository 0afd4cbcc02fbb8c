"""Hugging Face's RoPE, written with the torch operations transformers uses
(LlamaRotaryEmbedding + apply_rotary_pos_emb, the default and linear
rope types), for the runner's torch mode. Not transformers itself: the same
arithmetic on real torch kernels (its vectorised pow, cos and sin, its
casts), so that `--profile hf` can be checked against real torch without
transformers installed.

``apply`` reports its inv_freq (protocol 3), and ropecheck then judges the
rest of the pipeline given that table; ``apply_unreported`` keeps it to
itself, so the hf profile's own model of the table is what is judged.
"""
import torch


def hf_inv_freq(spec):
    """inv_freq as transformers computes it: 1 / base ** (arange(0, r, 2) / r)
    in float32 (the int64 arange cast to float), divided by the factor for
    the linear type. Other families are not transcribed here."""
    r = spec["rotary_dim"]
    family = spec["scaling"]["family"]
    if family not in ("none", "linear"):
        raise ValueError("hf_torch transcribes the default and linear rope types, not %s"
                         % family)
    exps = torch.arange(0, r, 2, dtype=torch.int64).to(dtype=torch.float) / r
    inv_freq = 1.0 / (spec["base"] ** exps)
    if family == "linear":
        inv_freq = inv_freq / spec["scaling"]["factor"]
    return inv_freq


def rotate_half(q, layout):
    """(-b, a) for every pair: halves for 'half', neighbours for
    'interleaved' (the same arithmetic on (2i, 2i+1))."""
    if layout == "half":
        h = q.shape[-1] // 2
        return torch.cat((-q[..., h:], q[..., :h]), dim=-1)
    out = torch.empty_like(q)
    out[..., 0::2] = -q[..., 1::2]
    out[..., 1::2] = q[..., 0::2]
    return out


def hf_rope(x, positions, layout, direction, spec):
    """The output and inv_freq. x: (tokens, heads, head_dim)."""
    r = spec["rotary_dim"]
    inv_freq = hf_inv_freq(spec).to(x.device)
    # inv_freq[None, :, None] @ position_ids[:, None, :].float(), then
    # transposed: one product per entry (an inner dimension of 1).
    pos = positions.to(x.device)[None, None, :].float()
    freqs = (inv_freq[None, :, None].float() @ pos).transpose(1, 2)[0]  # (tokens, r/2)
    if layout == "half":
        emb = torch.cat((freqs, freqs), dim=-1)
    else:
        emb = torch.repeat_interleave(freqs, 2, dim=-1)
    cos = (emb.cos() * 1.0).to(dtype=x.dtype)  # attention_scaling 1.0 for these types
    sin = (emb.sin() * 1.0).to(dtype=x.dtype)
    if direction < 0:
        sin = -sin
    q = x[..., :r]
    cos, sin = cos[:, None, :], sin[:, None, :]  # unsqueeze over the heads
    y = (q * cos) + (rotate_half(q, layout) * sin)
    return torch.cat((y, x[..., r:]), dim=-1), inv_freq


def apply(x, positions, *, theta, layout, direction, out_scale, spec):
    y, inv_freq = hf_rope(x, positions, layout, direction, spec)
    return y, inv_freq


def apply_unreported(x, positions, *, theta, layout, direction, out_scale, spec):
    return hf_rope(x, positions, layout, direction, spec)[0]


CAPS = {"dtypes": ["f32", "f64", "f16", "bf16"]}
apply.ropecheck_caps = CAPS
apply_unreported.ropecheck_caps = CAPS

"""Hugging Face transformers' own RoPE as a ropecheck implementation.

Serve it with the torch tensors mode::

    ROPECHECK_HF_CONFIG=path/to/config.json \\
        ropecheck verify --python "ropecheck_runner.hf:apply --tensors torch" \\
        --hf-config path/to/config.json --profile hf

``apply`` builds transformers' ``LlamaRotaryEmbedding`` from a model's
config.json (offline: the file is read, nothing is downloaded) and applies
``apply_rotary_pos_emb`` to the case's tensor, so what is judged is
transformers' code on the installed torch. The config comes from
``$ROPECHECK_HF_CONFIG`` when set (then a config that does not match the
case ropecheck asks for is a finding: a wrong base or family fails), else
from the case's own spec (base, rotary_dim, scaling family), which tests
transformers' arithmetic alone.

What transformers' Llama RoPE has: the half layout (rotate_half), partial
rotary through ``partial_rotary_factor``, the default, linear, llama3 and
yarn rope types. Inverse is not a transformers operation; it is served as
the rotation with sine negated, which is how ropecheck's hf profile defines
it. Dynamic NTK and LongRoPE choose their table from the largest position
of the call, not from the context ropecheck names, so they are refused
with that reason.

Each reply reports ``inv_freq`` (runner protocol 3): ropecheck measures it
against the exact table and, under ``--profile hf``, judges the rest of the
pipeline given it.
"""
import json
import os

_FAMILIES = ("none", "linear", "llama3", "yarn")
_cache = {}


def _config_from_spec(spec):
    """A LlamaConfig equivalent to the case ropecheck describes."""
    from transformers import LlamaConfig
    sc = spec["scaling"]
    fam = sc["family"]
    if fam not in _FAMILIES:
        raise ValueError("transformers picks the %s table from the call's largest position, "
                         "not from ropecheck's --context: not served" % fam)
    rope_scaling = None
    original = int(sc["original_context"]) or 4096
    if fam == "linear":
        rope_scaling = {"rope_type": "linear", "factor": sc["factor"]}
    elif fam == "llama3":
        rope_scaling = {"rope_type": "llama3", "factor": sc["factor"],
                        "low_freq_factor": sc["low_freq_factor"],
                        "high_freq_factor": sc["high_freq_factor"],
                        "original_max_position_embeddings": original}
    elif fam == "yarn":
        rope_scaling = {"rope_type": "yarn", "factor": sc["factor"],
                        "original_max_position_embeddings": original,
                        "beta_fast": sc["beta_fast"], "beta_slow": sc["beta_slow"]}
        for key in ("mscale", "mscale_all_dim", "attention_factor"):
            if sc[key]:
                rope_scaling[key] = sc[key]
    d = spec["head_dim"]
    return LlamaConfig(hidden_size=d, num_attention_heads=1, head_dim=d,
                       partial_rotary_factor=spec["rotary_dim"] / d,
                       rope_theta=spec["base"], max_position_embeddings=original,
                       rope_scaling=rope_scaling)


def _config_from_file(path):
    """The model's own config.json, as transformers reads it (no download)."""
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    model_type = d.pop("model_type", "llama")
    if model_type not in CONFIG_MAPPING:
        raise ValueError("%s: model_type %r is not one transformers knows" % (path, model_type))
    return CONFIG_MAPPING[model_type](**d)


def _rotary(spec, device):
    """transformers' rotary module for this case (cached per config and
    shape: building it computes inv_freq once, as a model does)."""
    from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding
    path = os.environ.get("ROPECHECK_HF_CONFIG")
    key = (path, spec["base"], spec["head_dim"], spec["rotary_dim"],
           repr(sorted((k, str(v)) for k, v in spec["scaling"].items())), str(device))
    if key not in _cache:
        config = _config_from_file(path) if path else _config_from_spec(spec)
        if not path:
            config.head_dim = spec["head_dim"]
        rot = LlamaRotaryEmbedding(config=config, device=device)
        if rot.inv_freq.shape[0] * 2 != spec["rotary_dim"]:
            raise ValueError("the config rotates %d channels; the case has rotary_dim %d"
                             % (rot.inv_freq.shape[0] * 2, spec["rotary_dim"]))
        _cache[key] = rot
    return _cache[key]


def apply(x, positions, *, theta, layout, direction, out_scale, spec):
    import torch
    from transformers.models.llama.modeling_llama import apply_rotary_pos_emb
    rot = _rotary(spec, x.device)
    r = spec["rotary_dim"]
    # transformers' shapes: q (batch, heads, tokens, head_dim), position_ids
    # (batch, tokens); cos/sin (batch, tokens, rotary_dim).
    q = x[..., :r].permute(1, 0, 2)[None]
    position_ids = positions.to(x.device)[None, :]
    cos, sin = rot(q, position_ids)
    if direction < 0:
        sin = -sin
    q_embed, _ = apply_rotary_pos_emb(q, q, cos, sin)
    y = torch.cat((q_embed[0].permute(1, 0, 2), x[..., r:]), dim=-1)
    return y, rot.inv_freq.detach().to(torch.float64)


apply.ropecheck_caps = {"dtypes": ["f32", "f64", "f16", "bf16"], "layouts": ["half"]}

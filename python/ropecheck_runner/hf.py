"""Hugging Face transformers' own RoPE as a ropecheck implementation.

Serve it with the torch tensors mode::

    ROPECHECK_HF_CONFIG=path/to/config.json \\
        ropecheck verify --python "ropecheck_runner.hf:apply --tensors torch" \\
        --hf-config path/to/config.json --profile hf

``apply`` builds the model's own rotary module (transformers'
``<Type>RotaryEmbedding`` of the config's model_type, e.g.
``LlamaRotaryEmbedding``, ``GPTNeoXRotaryEmbedding``; transformers 4 and
5) from a model's config.json (offline: the file is read, nothing is
downloaded) and applies ``apply_rotary_pos_emb`` to the case's tensor, so
what is judged is transformers' code on the installed torch. The config
comes from ``$ROPECHECK_HF_CONFIG`` when set (then a config that does not
match the case ropecheck asks for is a finding: a wrong base or family
fails), else from the case's own spec (base, rotary_dim, scaling family),
which tests transformers' arithmetic alone.

What it serves: the half layout (rotate_half), partial rotary through
``partial_rotary_factor``, the default, linear, dynamic, llama3 and yarn
rope types from a spec, and longrope from a config file (its factor
lists). Inverse is not a transformers operation; it is served as the
rotation with sine negated, which is how ropecheck's hf profile defines
it. Dynamic NTK sizes its table by the call's largest position + 1, as
ropecheck's default --context does; another --context is refused with
that reason.

Multi-axis M-RoPE (runner protocol 4; Qwen2-VL, Qwen2.5-VL, Qwen3-VL from
``$ROPECHECK_HF_CONFIG``): the positions go in as transformers' position
ids of shape (3, batch, tokens), and the model's own text rotary module
(``Qwen2VLRotaryEmbedding``, ``Qwen3VLTextRotaryEmbedding``) picks each
pair's section or interleaved axis, so what is judged is its map too.

Each reply reports ``inv_freq`` (runner protocol 3): ropecheck measures it
against the exact table and, under ``--profile hf``, judges the rest of the
pipeline given it.
"""
import json
import os

_FAMILIES = ("none", "linear", "llama3", "yarn", "dynamic")
_cache = {}


def _config_from_spec(spec):
    """A LlamaConfig equivalent to the case ropecheck describes."""
    from transformers import LlamaConfig
    sc = spec["scaling"]
    fam = sc["family"]
    if fam not in _FAMILIES:
        raise ValueError("a %s table is not built from a spec here (its factor lists come "
                         "from a config file: set ROPECHECK_HF_CONFIG)" % fam)
    rope_scaling = None
    original = int(sc["original_context"]) or 4096
    if fam in ("linear", "dynamic"):
        rope_scaling = {"rope_type": fam, "factor": sc["factor"]}
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
    config = CONFIG_MAPPING[model_type](**d)
    # Vision-language configs (Qwen2-VL, Qwen3-VL): the text model's own
    # config is what its rotary module takes.
    text = getattr(config, "text_config", None)
    return text if text is not None else config


def _rotary_class(config, partial):
    """The rotary module transformers itself uses for this config's model
    type (modeling_<type>.<Type>RotaryEmbedding: transformers 5 gives each
    model its own, and only those of partial-rotary models read
    partial_rotary_factor), else Llama's; a config made from the spec with
    partial rotary takes GPT-NeoX's, the reference partial-rotary model."""
    import importlib
    model_type = getattr(config, "model_type", "llama")
    if model_type.endswith("_text"):  # a VL model's text config: its model's module
        model_type = model_type[:-len("_text")]
    if partial and model_type == "llama":
        model_type = "gpt_neox"
    try:
        module = importlib.import_module("transformers.models.%s.modeling_%s"
                                         % (model_type, model_type))
    except ImportError:
        module = None
    names = sorted(n for n in dir(module or object) if n.endswith("RotaryEmbedding")
                   and "Vision" not in n and not n.startswith("_"))
    if names:
        # Qwen3-VL's text rotary is Qwen3VLTextRotaryEmbedding (the vision
        # ones are excluded above): prefer a Text one where there is one.
        text = [n for n in names if "Text" in n]
        return getattr(module, (text or names)[0])
    from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding
    return LlamaRotaryEmbedding


def _construct(cls, config, device):
    """cls(config) on the device: transformers 4 takes device=, 5 does not."""
    import inspect
    if "device" in inspect.signature(cls.__init__).parameters:
        return cls(config=config, device=device)
    return cls(config=config).to(device)


def _rotary(spec, device):
    """transformers' rotary module for this case (cached per config and
    shape: building it computes inv_freq once, as a model does)."""
    path = os.environ.get("ROPECHECK_HF_CONFIG")
    key = (path, spec["base"], spec["head_dim"], spec["rotary_dim"],
           repr(sorted((k, str(v)) for k, v in spec["scaling"].items())), str(device))
    dynamic = spec["scaling"]["family"] == "dynamic"
    if dynamic or key not in _cache:
        config = _config_from_file(path) if path else _config_from_spec(spec)
        if not path:
            config.head_dim = spec["head_dim"]
        partial = not path and spec["rotary_dim"] != spec["head_dim"]
        rot = _construct(_rotary_class(config, partial), config, device)
        if rot.inv_freq.shape[0] * 2 != spec["rotary_dim"]:
            raise ValueError("the config rotates %d channels; the case has rotary_dim %d"
                             % (rot.inv_freq.shape[0] * 2, spec["rotary_dim"]))
        if dynamic:
            # transformers' dynamic module keeps the largest length it has
            # seen (it grows its table, and resets only below the original
            # context): a fresh one per call is what one request of that
            # length gets, independent of the cases before it.
            return rot
        _cache[key] = rot
    return _cache[key]


def apply(x, positions, *, theta, layout, direction, out_scale, spec):
    import torch
    from transformers.models.llama.modeling_llama import apply_rotary_pos_emb
    sc = spec["scaling"]
    if sc["family"] == "dynamic" and int(sc["context"]) != int(positions.max()) + 1:
        raise ValueError("transformers sizes the dynamic table by the call's largest position "
                         "+ 1 (%d), not by --context %d" % (int(positions.max()) + 1,
                                                            int(sc["context"])))
    axes = spec.get("axes")
    if axes is not None and not os.environ.get("ROPECHECK_HF_CONFIG"):
        raise ValueError("M-RoPE comes from a model's config here (its rotary module picks "
                         "the sections): set ROPECHECK_HF_CONFIG")
    rot = _rotary(spec, x.device)
    r = spec["rotary_dim"]
    # transformers' shapes: q (batch, heads, tokens, head_dim), position_ids
    # (batch, tokens), or (3, batch, tokens) for M-RoPE; cos/sin (batch,
    # tokens, rotary_dim).
    q = x[..., :r].permute(1, 0, 2)[None]
    if axes is not None:
        if not hasattr(rot, "mrope_section") and "VL" not in type(rot).__name__:
            raise ValueError("%s is not an M-RoPE module: the config is not a "
                             "vision-language model's" % type(rot).__name__)
        position_ids = positions.to(x.device).T[:, None, :]  # (n_axes, 1, tokens)
    else:
        position_ids = positions.to(x.device)[None, :]
    cos, sin = rot(q, position_ids)
    if direction < 0:
        sin = -sin
    q_embed, _ = apply_rotary_pos_emb(q, q, cos, sin)
    y = torch.cat((q_embed[0].permute(1, 0, 2), x[..., r:]), dim=-1)
    return y, rot.inv_freq.detach().to(torch.float64)


apply.ropecheck_caps = {"dtypes": ["f32", "f64", "f16", "bf16"], "layouts": ["half"],
                        "multi_axis": True}

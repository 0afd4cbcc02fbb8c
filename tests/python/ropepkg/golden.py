"""Golden outputs of a real framework, recorded once and replayed in CI.

``record`` (torch mode) runs transformers' RoPE (ropecheck_runner.hf.apply)
and writes what it was given and what it returned, one .npz per case, into
``$ROPECHECK_GOLDEN_DIR``. ``replay`` (numpy mode, no torch needed) finds
the file for the case it is asked, checks that the input is the recorded
one (ropecheck's inputs depend only on the seed, position and head), and
returns the recorded output and table (bf16 travels as its uint16 bit
patterns both ways: numpy has no bfloat16, and replay declares bf16_bits). So ``verify --python
ropepkg.golden:replay --profile hf`` judges the hf profile against real
transformers on a machine that has neither torch nor transformers.
tests/data/golden/hf-transformers/PROVENANCE.md says how the files were made.
"""
import hashlib
import os

import numpy as np

_NP = {"f32": np.float32, "f64": np.float64, "f16": np.float16}


def _wire(t, dtype):
    """A torch tensor as the numpy array the wire carries: the dtype's own
    type, or for bf16 its uint16 bit patterns (numpy has no bfloat16)."""
    import torch
    if dtype == "bf16":
        return t.detach().cpu().to(torch.bfloat16).contiguous().view(torch.int16).numpy() \
            .view(np.uint16)
    return t.detach().cpu().numpy().astype(_NP[dtype])
DEFAULT_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "data", "golden", "hf-transformers")


def case_name(positions, layout, direction, spec):
    """A file name that names the case and hashes everything that shapes it."""
    sc = spec["scaling"]
    fields = (spec["dtype"], layout, int(direction), spec["head_dim"], spec["rotary_dim"],
              float(spec["base"]),
              sorted((k, None if v is None else np.asarray(v).tolist() if hasattr(v, "shape")
                      else v) for k, v in sc.items()),
              [int(p) for p in np.asarray(positions).ravel()])
    axes = spec.get("axes")
    if axes is not None:  # multi-axis: the map too (one-axis names are unchanged)
        fields += (int(axes["n_axes"]), [int(a) for a in axes["pair_axis"]],
                   int(axes["freq_period"]))
    key = repr(fields)
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return "%s-%s-%s-d%d-r%d-%s-%s.npz" % (spec["dtype"], layout,
                                            "fwd" if direction > 0 else "inv", spec["head_dim"],
                                            spec["rotary_dim"], sc["family"], digest)


def record(x, positions, *, theta, layout, direction, out_scale, spec):
    from ropecheck_runner import hf
    y, table = hf.apply(x, positions, theta=theta, layout=layout, direction=direction,
                        out_scale=out_scale, spec=spec)
    folder = os.environ.get("ROPECHECK_GOLDEN_DIR")
    if not folder:
        raise ValueError("set ROPECHECK_GOLDEN_DIR to the folder the recordings go to")
    pos = positions.cpu().numpy()
    np.savez_compressed(os.path.join(folder, case_name(pos, layout, direction, spec)),
                        x=_wire(x, spec["dtype"]), y=_wire(y, spec["dtype"]),
                        table=table.cpu().numpy(), positions=pos)
    return y, table


def replay(x, positions, *, theta, layout, direction, out_scale, spec):
    folder = os.environ.get("ROPECHECK_GOLDEN_DIR", DEFAULT_DIR)
    path = os.path.join(folder, case_name(positions, layout, direction, spec))
    if not os.path.exists(path):
        raise ValueError("no recording for this case (%s): record it, or ask for a recorded "
                         "one (PROVENANCE.md lists them)" % os.path.basename(path))
    with np.load(path) as g:
        if g["x"].shape != x.shape or g["x"].tobytes() != x.tobytes():
            raise ValueError("the input differs from the recorded one (another seed?)")
        y = g["y"]
        # bf16: the recorded bit patterns, returned as bits (bf16_bits).
        return (y if y.dtype == np.uint16 else y.astype(np.float64)), g["table"]


record.ropecheck_caps = {"dtypes": ["f32", "f64", "f16", "bf16"], "layouts": ["half"],
                         "multi_axis": True}
replay.ropecheck_caps = dict(record.ropecheck_caps, bf16_bits=True)

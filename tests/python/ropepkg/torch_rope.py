"""A torch port in the plain signature, for the runner's torch mode
(--tensors torch): x is a tensor on the chosen device, bf16 included. It
computes exactly as rope.apply does (float64, accurately reduced angle)
and returns a float64 tensor, which the runner rounds once to the
request's dtype."""

import torch

from .rope import reduced_angle, rotate


def apply(x, positions, *, theta, layout, direction, out_scale, spec):
    assert isinstance(x, torch.Tensor) and isinstance(positions, torch.Tensor)
    phi = reduced_angle(positions.cpu().numpy(), spec["theta_hi"], spec["theta_lo"])
    y = rotate(x.to(torch.float64).cpu().numpy(), phi * direction, layout, out_scale)
    return torch.from_numpy(y).to(x.device), theta.to(torch.float32)


apply.ropecheck_caps = {"dtypes": ["f32", "f16", "bf16"]}

"""Correct, by another road: draws with torch.rand/randn on the tensor's device and copies in."""

import torch


def fan_in_and_fan_out(tensor):
    shape = tuple(tensor.shape)
    if len(shape) < 2:
        raise ValueError("fans need a weight with at least two dimensions")
    receptive = 1
    for k in shape[2:]:
        receptive *= k
    return shape[1] * receptive, shape[0] * receptive


def xavier_uniform_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    a = gain * (6.0 / (fan_in + fan_out)) ** 0.5
    u = torch.rand(tensor.shape, generator=generator, dtype=tensor.dtype, device=tensor.device)
    with torch.no_grad():
        tensor.copy_(u * (2 * a) - a)
    return tensor


def xavier_normal_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    std = gain * (2.0 / (fan_in + fan_out)) ** 0.5
    z = torch.randn(tensor.shape, generator=generator, dtype=tensor.dtype, device=tensor.device)
    with torch.no_grad():
        tensor.copy_(z * std)
    return tensor

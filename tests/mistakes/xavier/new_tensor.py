"""Returns a freshly made float32 tensor instead of filling the one it is given."""

import math

import torch


def fan_in_and_fan_out(tensor):
    if tensor.dim() < 2:
        raise ValueError("need at least 2 dimensions")
    rf = math.prod(tensor.shape[2:])
    return tensor.shape[1] * rf, tensor.shape[0] * rf


def xavier_uniform_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return (torch.rand(tensor.shape, generator=generator) * 2 - 1) * a


def xavier_normal_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return torch.randn(tensor.shape, generator=generator) * std

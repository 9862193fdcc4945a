"""LeCun's scale (fan_in only) where Glorot's averages fan_in and fan_out."""

import math

import torch


def fan_in_and_fan_out(tensor):
    if tensor.dim() < 2:
        raise ValueError("need at least 2 dimensions")
    rf = math.prod(tensor.shape[2:])
    return tensor.shape[1] * rf, tensor.shape[0] * rf


def xavier_uniform_(tensor, gain=1.0, generator=None):
    fan_in, _ = fan_in_and_fan_out(tensor)
    a = gain * math.sqrt(3.0 / fan_in)
    with torch.no_grad():
        return tensor.uniform_(-a, a, generator=generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    fan_in, _ = fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(1.0 / fan_in)
    with torch.no_grad():
        return tensor.normal_(0.0, std, generator=generator)

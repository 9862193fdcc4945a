"""Wraps torch.nn.init.xavier_uniform_, the built-in the exercise asks to write."""

import math

import torch


def fan_in_and_fan_out(tensor):
    if tensor.dim() < 2:
        raise ValueError("need at least 2 dimensions")
    rf = math.prod(tensor.shape[2:])
    return tensor.shape[1] * rf, tensor.shape[0] * rf


def xavier_uniform_(tensor, gain=1.0, generator=None):
    return torch.nn.init.xavier_uniform_(tensor, gain=gain, generator=generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    with torch.no_grad():
        return tensor.normal_(0.0, std, generator=generator)

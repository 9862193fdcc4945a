"""normal_ is given the variance where it takes the standard deviation."""

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
    with torch.no_grad():
        return tensor.uniform_(-a, a, generator=generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    var = gain**2 * 2.0 / (fan_in + fan_out)
    with torch.no_grad():
        return tensor.normal_(0.0, var, generator=generator)

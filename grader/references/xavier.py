"""References for Xavier/Glorot initialisation: ``torch.nn.init``'s fans and bounds."""

from __future__ import annotations

import math

import torch

from grader.stats import Normal, Uniform


def fans(tensor: torch.Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) exactly as ``torch.nn.init`` computes them (receptive field included)."""
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(tensor)
    return int(fan_in), int(fan_out)


def uniform_law(tensor: torch.Tensor, gain: float = 1.0, generator: torch.Generator | None = None) -> Uniform:
    """The law of ``torch.nn.init.xavier_uniform_``: U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = fans(tensor)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return Uniform(-a, a)


def normal_law(tensor: torch.Tensor, gain: float = 1.0, generator: torch.Generator | None = None) -> Normal:
    """The law of ``torch.nn.init.xavier_normal_``: N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = fans(tensor)
    return Normal(0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))

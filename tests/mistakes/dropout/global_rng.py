"""Draws the mask from the global RNG, ignoring the generator it is given."""

import torch


def dropout(x, p=0.5, training=True, generator=None):
    if not 0.0 <= p <= 1.0:
        raise ValueError("p must be in [0, 1]")
    if not training:
        return x
    if p == 1.0:
        return torch.zeros_like(x)
    mask = torch.rand(x.shape, device=x.device) < 1 - p
    return x * mask / (1 - p)

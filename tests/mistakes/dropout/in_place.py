"""Masks and rescales x in place and returns it, so the caller's activations are overwritten."""

import torch


def dropout(x, p=0.5, training=True, generator=None):
    if not 0.0 <= p <= 1.0:
        raise ValueError("p must be in [0, 1]")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return torch.zeros_like(x)
    mask = torch.rand(x.shape, generator=generator, device=x.device) < 1 - p
    x *= mask
    x /= 1 - p
    return x

"""Masks correctly but forgets to divide the kept values by 1 - p (plain, not inverted, dropout)."""

import torch


def dropout(x, p=0.5, training=True, generator=None):
    if not 0.0 <= p <= 1.0:
        raise ValueError("p must be in [0, 1]")
    if not training:
        return x
    mask = torch.rand(x.shape, generator=generator, device=x.device) < 1 - p
    return x * mask

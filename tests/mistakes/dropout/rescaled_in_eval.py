"""Divides by 1 - p whatever the mode, so evaluation mode scales x up instead of passing it through."""

import torch


def dropout(x, p=0.5, training=True, generator=None):
    if not 0.0 <= p <= 1.0:
        raise ValueError("p must be in [0, 1]")
    if p == 1.0:
        return torch.zeros_like(x)
    keep = 1 - p
    out = x
    if training:
        mask = torch.rand(x.shape, generator=generator, device=x.device) < keep
        out = x * mask
    return out / keep

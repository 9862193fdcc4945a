"""Correct, by another road: a float mask from torch.bernoulli, scaled before multiplying."""

import torch


def dropout(x, p=0.5, training=True, generator=None):
    if p < 0 or p > 1:
        raise ValueError(f"p={p} is not a probability")
    if not training:
        return x
    if p == 1:
        return x.new_zeros(x.shape)
    keep = torch.full_like(x, 1 - p)
    mask = torch.bernoulli(keep, generator=generator)
    return x * (mask / (1 - p))

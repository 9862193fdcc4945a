"""Correct: the scale is a 0-dim CPU tensor, which CUDA lets mix with tensors on any device."""

import torch


def dropout(x, p=0.5, training=True, generator=None):
    if p < 0.0 or p > 1.0:
        raise ValueError("p must lie in [0, 1]")
    if not training:
        return x
    if p == 1.0:
        return x * 0.0
    keep = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype) >= p
    scale = torch.tensor(1.0 / (1.0 - p), dtype=x.dtype)
    return x * keep * scale

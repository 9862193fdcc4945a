"""Device mistake: the mask is made on x's device, then moved to the CPU with .cpu() midway."""

import torch


def dropout(x, p=0.5, training=True, generator=None):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1], got {p}")
    if not training:
        return x
    if p == 1.0:
        return torch.zeros_like(x)
    mask = (torch.rand(x.shape, generator=generator, device=x.device) >= p).cpu()
    return x * mask / (1.0 - p)

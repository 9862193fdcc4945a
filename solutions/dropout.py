"""Instructor key: inverted dropout."""

import torch


def dropout(x: torch.Tensor, p: float = 0.5, training: bool = True,
            generator: torch.Generator | None = None) -> torch.Tensor:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability must be in [0, 1], got {p}")
    if not training:
        return x
    keep = 1.0 - p
    if keep == 0.0:
        # Everything is dropped; dividing the zeros by 1 - p = 0 would give NaN.
        return torch.zeros_like(x)
    mask = torch.rand(x.shape, generator=generator, device=x.device) < keep
    return x * mask / keep

"""Instructor key: the L2 penalty on the weights."""

import torch


def l2_penalty(params: dict[str, torch.Tensor], lam: float) -> torch.Tensor:
    weights = [p for name, p in params.items() if name.endswith("weight")]
    # new_zeros keeps the weights' device and dtype, and the sum stays in the autograd graph.
    total = weights[0].new_zeros(())
    for w in weights:
        total = total + (w * w).sum()
    return lam / 2 * total

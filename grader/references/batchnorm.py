"""References for the BatchNorm exercise, computed in the trusted process.

The forward reference is PyTorch's own ``F.batch_norm``: it normalises with the biased
batch variance and updates the running statistics in place with the unbiased one, which
is exactly the contract the student must meet, so the checks compare ``running_mean``
and ``running_var`` against the copies this call mutated.

The backward reference does not trust any cache: it repeats the forward in float64 and
lets autograd differentiate it, so a wrong cache and a wrong formula are caught alike,
and float32 submissions are judged against values free of float32 round-off.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def forward(x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, running_mean: torch.Tensor,
            running_var: torch.Tensor, training: bool = True, momentum: float = 0.1,
            eps: float = 1e-5) -> torch.Tensor:
    """``out`` of ``batchnorm_forward`` (the cache stays in the worker); updates the running stats in place."""
    return F.batch_norm(x, running_mean, running_var, gamma, beta, training, momentum, eps)


def backward(x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, running_mean: torch.Tensor,
             running_var: torch.Tensor, dout: torch.Tensor, training: bool = True, momentum: float = 0.1,
             eps: float = 1e-5) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(dx, dgamma, dbeta) of the forward at these inputs, by autograd in float64, in x's dtype."""
    wide = torch.float64
    leaves = [t.detach().to(wide).requires_grad_(True) for t in (x, gamma, beta)]
    out = F.batch_norm(leaves[0], running_mean.detach().to(wide), running_var.detach().to(wide),
                       leaves[1], leaves[2], training, momentum, eps)
    grads = torch.autograd.grad(out, leaves, dout.detach().to(wide))
    return tuple(g.to(t.dtype) for g, t in zip(grads, (x, gamma, beta)))

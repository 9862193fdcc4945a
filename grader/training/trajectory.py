"""An optimizer's trajectory, stepped inside the worker in one request.

The ``optimizer`` check feeds the student's optimizer and the reference the same
gradients for many steps and compares the parameters after each. One request per
step (set the gradients, step, read the parameters back) made three round trips a
step; this program takes every step's gradients at once, steps the student's
optimizer through them and returns the parameters after each step, so a trajectory
costs one round trip and the check still names the first step that differs.
"""

from __future__ import annotations

import importlib
from typing import Any

import torch


def trajectory(module: str, cls: str, params: list[torch.Tensor], options: dict[str, Any],
               grads: list[torch.Tensor]) -> list[torch.Tensor]:
    """The parameters after each step of ``module.cls(params, **options)``, fed ``grads``.

    ``grads`` holds one tensor per parameter with every step's gradient stacked along
    the first dimension, and the parameters come back stacked the same way: a few
    large tensors cross the pipe instead of one small tensor per parameter per step.
    """
    params = [p.requires_grad_(True) for p in params]
    optimizer = getattr(importlib.import_module(module), cls)(params, **options)
    snapshots: list[list[torch.Tensor]] = [[] for _ in params]
    for step in range(grads[0].shape[0] if grads else 0):
        for p, g in zip(params, grads):
            p.grad = g[step].to(dtype=p.dtype, device=p.device)
        optimizer.step()
        for kept, p in zip(snapshots, params):
            kept.append(p.detach().clone())
    return [torch.stack(kept) for kept in snapshots]

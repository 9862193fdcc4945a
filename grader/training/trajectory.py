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
               grads: list[list[torch.Tensor]]) -> list[list[torch.Tensor]]:
    """The parameters after each step of ``module.cls(params, **options)`` fed ``grads``."""
    params = [p.requires_grad_(True) for p in params]
    optimizer = getattr(importlib.import_module(module), cls)(params, **options)
    snapshots = []
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = g.to(dtype=p.dtype, device=p.device)
        optimizer.step()
        snapshots.append([p.detach().clone() for p in params])
    return snapshots

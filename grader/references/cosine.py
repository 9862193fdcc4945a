"""Reference for the cosine schedule: torch's own schedulers, stepped on a dummy optimizer.

``lr(t)`` is the learning rate after ``t`` calls to ``scheduler.step()`` of
``CosineAnnealingLR(T_max=total_steps - warmup_steps, eta_min)``, preceded when
``warmup_steps > 0`` by ``LinearLR(start_factor=warmup_start_factor, end_factor=1,
total_iters=warmup_steps)`` and joined by ``SequentialLR(milestones=[warmup_steps])``.
A sweep asks for every step of one schedule, so the whole sequence is built once per
parameter set and cached.
"""

from __future__ import annotations

import functools

import torch


def cosine_lr(step: int, total_steps: int, base_lr: float, eta_min: float = 0.0, warmup_steps: int = 0,
              warmup_start_factor: float = 0.1) -> float:
    """The learning rate at ``step`` (0 to total_steps) of torch's warmup-then-cosine schedule."""
    return _schedule(total_steps, float(base_lr), float(eta_min), warmup_steps, float(warmup_start_factor))[step]


@functools.lru_cache(maxsize=64)
def _schedule(total_steps: int, base_lr: float, eta_min: float, warmup_steps: int,
              warmup_start_factor: float) -> tuple[float, ...]:
    """Every learning rate from step 0 to step total_steps, read from the optimizer's param group."""
    param = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=base_lr)
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps - warmup_steps, eta_min=eta_min)
    scheduler: torch.optim.lr_scheduler.LRScheduler = cosine
    if warmup_steps > 0:
        warmup = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=warmup_start_factor, end_factor=1.0,
                                                   total_iters=warmup_steps)
        scheduler = torch.optim.lr_scheduler.SequentialLR(optimizer, [warmup, cosine], milestones=[warmup_steps])
    rates = [float(optimizer.param_groups[0]["lr"])]
    for _ in range(total_steps):
        optimizer.step()  # a no-op without gradients; keeps the scheduler's call-order check quiet
        scheduler.step()
        rates.append(float(optimizer.param_groups[0]["lr"]))
    return tuple(rates)

"""Instructor key: linear warmup, then a cosine decay to eta_min."""

import math


def cosine_lr(step: int, total_steps: int, base_lr: float, eta_min: float = 0.0, warmup_steps: int = 0,
              warmup_start_factor: float = 0.1) -> float:
    if total_steps < 1:
        raise ValueError(f"total_steps must be at least 1, got {total_steps}")
    if not 0 <= warmup_steps < total_steps:
        raise ValueError(f"warmup_steps must be in [0, total_steps), got {warmup_steps} with total_steps={total_steps}")
    if not 0 < warmup_start_factor <= 1:
        raise ValueError(f"warmup_start_factor must be in (0, 1], got {warmup_start_factor}")
    if not 0 <= step <= total_steps:
        raise ValueError(f"step must be in [0, total_steps], got {step} with total_steps={total_steps}")
    if step < warmup_steps:
        return base_lr * (warmup_start_factor + (1 - warmup_start_factor) * step / warmup_steps)
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * progress)) / 2

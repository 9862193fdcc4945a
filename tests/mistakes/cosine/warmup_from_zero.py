"""Linear warmup from 0 instead of from warmup_start_factor * base_lr."""

import math


def cosine_lr(step, total_steps, base_lr, eta_min=0.0, warmup_steps=0, warmup_start_factor=0.1):
    if total_steps < 1 or not 0 <= warmup_steps < total_steps:
        raise ValueError("need total_steps >= 1 and 0 <= warmup_steps < total_steps")
    if not 0 < warmup_start_factor <= 1 or not 0 <= step <= total_steps:
        raise ValueError("warmup_start_factor must be in (0, 1] and step in [0, total_steps]")
    if step < warmup_steps:
        return base_lr * step / warmup_steps
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * progress)) / 2

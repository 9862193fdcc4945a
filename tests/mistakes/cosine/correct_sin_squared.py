"""Correct, by another road: the decay as base_lr - (base_lr - eta_min) * sin^2, and the warmup as a lerp.

(1 + cos x) / 2 = 1 - sin^2(x / 2), and f * b + (1 - f) * b * t / W = lerp(f * b, b, t / W).
"""

import math


def cosine_lr(step, total_steps, base_lr, eta_min=0.0, warmup_steps=0, warmup_start_factor=0.1):
    if total_steps < 1:
        raise ValueError("total_steps must be at least 1")
    if warmup_steps < 0 or warmup_steps >= total_steps:
        raise ValueError("warmup_steps must be in [0, total_steps)")
    if warmup_start_factor <= 0 or warmup_start_factor > 1:
        raise ValueError("warmup_start_factor must be in (0, 1]")
    if step < 0 or step > total_steps:
        raise ValueError("step must be in [0, total_steps]")
    if step < warmup_steps:
        start = warmup_start_factor * base_lr
        return start + (base_lr - start) * (step / warmup_steps)
    half_angle = math.pi * (step - warmup_steps) / (2 * (total_steps - warmup_steps))
    return base_lr - (base_lr - eta_min) * math.sin(half_angle) ** 2

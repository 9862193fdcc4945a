"""Correct, by another road: (1 + cos x) / 2 written as cos^2(x / 2), with one formula per phase chosen by a table."""

import math


def _check(step, total_steps, warmup_steps, warmup_start_factor):
    problems = []
    if total_steps < 1:
        problems.append("total_steps < 1")
    if not 0 <= warmup_steps < total_steps:
        problems.append("warmup_steps outside [0, total_steps)")
    if not 0 < warmup_start_factor <= 1:
        problems.append("warmup_start_factor outside (0, 1]")
    if not 0 <= step <= total_steps:
        problems.append("step outside [0, total_steps]")
    if problems:
        raise ValueError("; ".join(problems))


def cosine_lr(step, total_steps, base_lr, eta_min=0.0, warmup_steps=0, warmup_start_factor=0.1):
    _check(step, total_steps, warmup_steps, warmup_start_factor)
    if step < warmup_steps:
        fraction = step / warmup_steps
        return base_lr * ((1 - fraction) * warmup_start_factor + fraction)
    x = math.pi * (step - warmup_steps) / (total_steps - warmup_steps)
    return eta_min + (base_lr - eta_min) * math.cos(x / 2) ** 2

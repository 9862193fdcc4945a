"""Steps torch's own LinearLR/CosineAnnealingLR/SequentialLR instead of writing the formula."""

import torch


def cosine_lr(step, total_steps, base_lr, eta_min=0.0, warmup_steps=0, warmup_start_factor=0.1):
    if total_steps < 1 or not 0 <= warmup_steps < total_steps:
        raise ValueError("need total_steps >= 1 and 0 <= warmup_steps < total_steps")
    if not 0 < warmup_start_factor <= 1 or not 0 <= step <= total_steps:
        raise ValueError("warmup_start_factor must be in (0, 1] and step in [0, total_steps]")
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base_lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total_steps - warmup_steps, eta_min=eta_min)
    if warmup_steps:
        warm = torch.optim.lr_scheduler.LinearLR(opt, warmup_start_factor, 1.0, warmup_steps)
        sched = torch.optim.lr_scheduler.SequentialLR(opt, [warm, sched], [warmup_steps])
    for _ in range(step):
        opt.step()
        sched.step()
    return opt.param_groups[0]["lr"]

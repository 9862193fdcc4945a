"""References for the L2 penalty: its value, and the gradient ``torch.optim.SGD`` adds for weight decay."""

from __future__ import annotations

import torch


def is_weight(name: str) -> bool:
    """The spec's rule: a parameter is decayed when its name ends with ``weight``."""
    return name.endswith("weight")


def penalty(params: dict[str, torch.Tensor], lam: float) -> torch.Tensor:
    """lam/2 times the sum of squares of the weights' entries, a 0-dim tensor on their device and dtype."""
    squares = [(w * w).sum() for name, w in params.items() if is_weight(name)]
    return torch.stack(squares).sum() * (lam / 2)


def sgd_weight_decay(params: dict[str, torch.Tensor], lam: float) -> torch.Tensor:
    """A penalty built from what ``torch.optim.SGD(weight_decay=lam)`` does, not from the formula.

    One SGD step with lr=1 on a loss whose gradient is zero moves each parameter by exactly
    the term weight decay adds to its gradient; the weights sit in a group with
    ``weight_decay=lam`` and the rest in a group with ``weight_decay=0``. The result has, as
    its autograd gradient, that term ``d`` for every weight (the other parameters are left
    out, so their gradient must be zero), and as its value the potential of that linear
    gradient field that is zero at w = 0: ``1/2 sum <d, w>``. A plain SGD step on
    ``loss + penalty`` equals SGD with weight decay on ``loss`` exactly when the student's
    penalty has this gradient. The step runs on float64 copies so that ``w - w_new``
    recovers the decay term without rounding.
    """
    names = list(params)
    weights = [n for n in names if is_weight(n)]
    others = [n for n in names if not is_weight(n)]
    copies = {n: params[n].detach().to(torch.float64).clone() for n in names}
    optimizer = torch.optim.SGD([{"params": [copies[n] for n in weights], "weight_decay": lam},
                                 {"params": [copies[n] for n in others], "weight_decay": 0.0}], lr=1.0)
    before = {n: c.clone() for n, c in copies.items()}
    for c in copies.values():
        c.grad = torch.zeros_like(c)
    optimizer.step()
    decay = {n: before[n] - copies[n] for n in weights}
    value = 0.5 * sum((decay[n] * before[n]).sum() for n in weights)
    dtype = params[weights[0]].dtype
    surrogate = sum((decay[n].to(dtype) * (params[n] - params[n].detach())).sum() for n in weights)
    return value.to(dtype) + surrogate

"""Correct, by another road: the bias corrections folded into the step size, eps rescaled to match.

lr * (m / bc1) / (sqrt(v / bc2) + eps) = (lr * sqrt(bc2) / bc1) * m / (sqrt(v) + eps * sqrt(bc2)),
an identity, so this follows torch.optim.Adam to rounding. Moments are updated with lerp_.
"""

import math

import torch


class Adam:
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        self.params = list(params)
        self.lr = lr
        self.betas = tuple(betas)
        self.eps = eps
        self.weight_decay = weight_decay
        self.state = {}

    def step(self):
        beta1, beta2 = self.betas
        with torch.no_grad():
            for p in self.params:
                if p.grad is None:
                    continue
                state = self.state.get(p)
                if state is None:
                    state = self.state[p] = {"t": 0, "m": torch.zeros_like(p), "v": torch.zeros_like(p)}
                grad = p.grad
                if self.weight_decay:
                    grad = grad + self.weight_decay * p
                state["t"] += 1
                t = state["t"]
                state["m"].lerp_(grad, 1 - beta1)
                state["v"].lerp_(grad * grad, 1 - beta2)
                bc1, bc2_sqrt = 1 - beta1 ** t, math.sqrt(1 - beta2 ** t)
                step_size = self.lr * bc2_sqrt / bc1
                p.addcdiv_(state["m"], state["v"].sqrt() + self.eps * bc2_sqrt, value=-step_size)

    def zero_grad(self):
        for p in self.params:
            p.grad = None

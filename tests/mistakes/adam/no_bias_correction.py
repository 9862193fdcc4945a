"""Forgets the bias correction: divides the raw moments, so the first steps are far too large."""

import torch


class Adam:
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        self.params = list(params)
        self.lr = lr
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.weight_decay = weight_decay
        self.state = {}

    @torch.no_grad()
    def step(self):
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = p.grad + self.weight_decay * p
            s = self.state.setdefault(i, {"m": torch.zeros_like(p), "v": torch.zeros_like(p)})
            s["m"] = self.beta1 * s["m"] + (1 - self.beta1) * g
            s["v"] = self.beta2 * s["v"] + (1 - self.beta2) * g * g
            p -= self.lr * s["m"] / (s["v"].sqrt() + self.eps)

    def zero_grad(self):
        for p in self.params:
            p.grad = None

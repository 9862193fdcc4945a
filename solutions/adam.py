"""Instructor key: Adam with L2 weight decay, as torch.optim.Adam computes it."""

import math

import torch


class Adam:
    def __init__(self, params: list[torch.Tensor], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        self.params = list(params)
        self.lr = lr
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.weight_decay = weight_decay
        self.state: dict[int, dict] = {}

    @torch.no_grad()
    def step(self) -> None:
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            grad = p.grad
            if self.weight_decay != 0:
                grad = grad.add(p, alpha=self.weight_decay)
            state = self.state.setdefault(i, {"step": 0, "m": torch.zeros_like(p), "v": torch.zeros_like(p)})
            state["step"] += 1
            t = state["step"]
            m, v = state["m"], state["v"]
            m.mul_(self.beta1).add_(grad, alpha=1 - self.beta1)
            v.mul_(self.beta2).addcmul_(grad, grad, value=1 - self.beta2)
            bias_correction1 = 1 - self.beta1 ** t
            bias_correction2 = 1 - self.beta2 ** t
            denom = (v.sqrt() / math.sqrt(bias_correction2)).add_(self.eps)
            p.addcdiv_(m, denom, value=-self.lr / bias_correction1)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

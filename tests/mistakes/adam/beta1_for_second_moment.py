"""Uses beta1 for the second moment as well (v = beta1 * v + (1 - beta1) * g^2, corrected with 1 - beta1**t)."""

import torch


class Adam:
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        self.params = list(params)
        self.lr = lr
        self.beta = betas[0]
        self.eps = eps
        self.weight_decay = weight_decay
        self.state = {}

    @torch.no_grad()
    def step(self):
        b = self.beta
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = p.grad + self.weight_decay * p
            s = self.state.setdefault(i, {"t": 0, "m": torch.zeros_like(p), "v": torch.zeros_like(p)})
            s["t"] += 1
            s["m"] = b * s["m"] + (1 - b) * g
            s["v"] = b * s["v"] + (1 - b) * g ** 2
            m_hat = s["m"] / (1 - b ** s["t"])
            v_hat = s["v"] / (1 - b ** s["t"])
            p -= self.lr * m_hat / (v_hat.sqrt() + self.eps)

    def zero_grad(self):
        for p in self.params:
            p.grad = None

"""Correct, by another road: plain out-of-place arithmetic on m_hat and v_hat, one step count per parameter."""

import torch


class Adam:
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        self.params = list(params)
        self.lr = lr
        self.b1, self.b2 = betas
        self.eps = eps
        self.wd = weight_decay
        self.t = [0 for _ in self.params]
        self.m = [None for _ in self.params]
        self.v = [None for _ in self.params]

    def step(self):
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = p.grad.detach() + self.wd * p.detach()
            if self.m[i] is None:
                self.m[i] = torch.zeros_like(g)
                self.v[i] = torch.zeros_like(g)
            self.t[i] += 1
            self.m[i] = self.b1 * self.m[i] + (1 - self.b1) * g
            self.v[i] = self.b2 * self.v[i] + (1 - self.b2) * g ** 2
            m_hat = self.m[i] / (1 - self.b1 ** self.t[i])
            v_hat = self.v[i] / (1 - self.b2 ** self.t[i])
            p.data -= self.lr * m_hat / (torch.sqrt(v_hat) + self.eps)

    def zero_grad(self):
        for p in self.params:
            p.grad = None

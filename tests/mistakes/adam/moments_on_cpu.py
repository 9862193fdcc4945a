"""Creates the moment buffers with torch.zeros(p.shape, dtype=p.dtype): right dtype, but always on the CPU."""

import torch


class Adam:
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        self.params = list(params)
        self.lr = lr
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.weight_decay = weight_decay
        self.t = [0] * len(self.params)
        self.m = [torch.zeros(p.shape, dtype=p.dtype) for p in self.params]
        self.v = [torch.zeros(p.shape, dtype=p.dtype) for p in self.params]

    @torch.no_grad()
    def step(self):
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            self.t[i] += 1
            g = p.grad + self.weight_decay * p
            self.m[i].mul_(self.beta1).add_(g, alpha=1 - self.beta1)
            self.v[i].mul_(self.beta2).addcmul_(g, g, value=1 - self.beta2)
            m_hat = self.m[i] / (1 - self.beta1 ** self.t[i])
            v_hat = self.v[i] / (1 - self.beta2 ** self.t[i])
            p.sub_(self.lr * m_hat / (v_hat.sqrt() + self.eps))

    def zero_grad(self):
        for p in self.params:
            p.grad = None

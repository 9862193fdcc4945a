"""Wraps torch.optim.Adam instead of writing the update."""

import torch


class Adam:
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        self.opt = torch.optim.Adam(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    def step(self):
        self.opt.step()

    def zero_grad(self):
        self.opt.zero_grad()

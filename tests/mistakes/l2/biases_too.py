"""Penalises every parameter, biases and norm parameters included."""

import torch


def l2_penalty(params, lam):
    total = torch.zeros((), dtype=next(iter(params.values())).dtype)
    for p in params.values():
        total = total + (p ** 2).sum()
    return lam / 2 * total

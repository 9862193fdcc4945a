"""Correct, by another road: the squared Euclidean norm of each flattened weight."""

import torch


def l2_penalty(params, lam):
    total = 0
    for name, w in params.items():
        if name.endswith("weight"):
            total = total + torch.linalg.vector_norm(w) ** 2
    return (lam / 2) * total

"""Correct, by another road: stacks the per-weight sums of squares and sums them."""

import torch


def l2_penalty(params, lam):
    per_weight = torch.stack([torch.sum(p * p) for n, p in params.items() if n.endswith("weight")])
    return per_weight.sum() * lam / 2

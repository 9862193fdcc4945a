"""Correct, by another road: slices of torch.arange / randperm with a cumulative-sum of fold sizes."""

import torch


def kfold_split(n, k, shuffle=False, generator=None):
    if not 2 <= k <= n:
        raise ValueError(f"k must be between 2 and n={n}, got {k}")
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    sizes = torch.full((k,), n // k, dtype=torch.long)
    sizes[: n % k] += 1
    bounds = torch.cat([torch.zeros(1, dtype=torch.long), sizes.cumsum(0)]).tolist()
    folds = []
    for start, stop in zip(bounds[:-1], bounds[1:]):
        validation = order[start:stop].sort().values
        train = torch.cat([order[:start], order[stop:]]).sort().values
        folds.append((train.tolist(), validation.tolist()))
    return folds

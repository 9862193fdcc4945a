"""Off by one: the slice end is inclusive, so each fold also takes the next fold's first index."""

import torch


def kfold_split(n, k, shuffle=False, generator=None):
    if k < 2 or k > n:
        raise ValueError("need 2 <= k <= n")
    order = torch.randperm(n, generator=generator).tolist() if shuffle else list(range(n))
    folds = []
    start = 0
    for i in range(k):
        size = n // k + (1 if i < n % k else 0)
        validation = sorted(order[start:start + size + 1])
        train = sorted(set(range(n)) - set(validation))
        folds.append((train, validation))
        start += size
    return folds

"""Returns index tensors instead of Python lists of ints."""

import torch


def kfold_split(n, k, shuffle=False, generator=None):
    if k < 2 or k > n:
        raise ValueError("need 2 <= k <= n")
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    folds = []
    start = 0
    for i in range(k):
        size = n // k + (1 if i < n % k else 0)
        validation = order[start:start + size].sort().values
        train = torch.cat([order[:start], order[start + size:]]).sort().values
        folds.append((train, validation))
        start += size
    return folds

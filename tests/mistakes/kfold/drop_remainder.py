"""Every fold gets n // k indices, so the last n % k indices are never validated."""

import torch


def kfold_split(n, k, shuffle=False, generator=None):
    if k < 2 or k > n:
        raise ValueError("need 2 <= k <= n")
    order = torch.randperm(n, generator=generator).tolist() if shuffle else list(range(n))
    size = n // k
    folds = []
    for i in range(k):
        validation = sorted(order[i * size:(i + 1) * size])
        train = sorted(set(range(n)) - set(validation))
        folds.append((train, validation))
    return folds

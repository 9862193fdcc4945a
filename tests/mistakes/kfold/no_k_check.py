"""Never checks k: k = 1 returns one fold with nothing to train on, k > n returns empty folds."""

import torch


def kfold_split(n, k, shuffle=False, generator=None):
    order = torch.randperm(n, generator=generator).tolist() if shuffle else list(range(n))
    folds = []
    start = 0
    for i in range(k):
        size = n // k + (1 if i < n % k else 0)
        validation = sorted(order[start:start + size])
        train = sorted(set(range(n)) - set(validation))
        folds.append((train, validation))
        start += size
    return folds

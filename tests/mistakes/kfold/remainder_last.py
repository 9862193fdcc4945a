"""The last fold takes all the leftover indices, instead of one extra in each of the first n % k folds."""

import torch


def kfold_split(n, k, shuffle=False, generator=None):
    if k < 2 or k > n:
        raise ValueError("need 2 <= k <= n")
    order = torch.randperm(n, generator=generator).tolist() if shuffle else list(range(n))
    size = n // k
    folds = []
    for i in range(k):
        stop = n if i == k - 1 else (i + 1) * size
        validation = sorted(order[i * size:stop])
        train = sorted(set(range(n)) - set(validation))
        folds.append((train, validation))
    return folds

"""With shuffle, returns each fold's indices in permuted order instead of sorting them."""

import torch


def kfold_split(n, k, shuffle=False, generator=None):
    if k < 2 or k > n:
        raise ValueError("need 2 <= k <= n")
    order = torch.randperm(n, generator=generator).tolist() if shuffle else list(range(n))
    folds = []
    start = 0
    for i in range(k):
        size = n // k + (1 if i < n % k else 0)
        validation = order[start:start + size]
        train = order[:start] + order[start + size:]
        folds.append((train, validation))
        start += size
    return folds

"""Shuffles with Python's random module, which ignores the generator it is given."""

import random


def kfold_split(n, k, shuffle=False, generator=None):
    if k < 2 or k > n:
        raise ValueError("need 2 <= k <= n")
    order = list(range(n))
    if shuffle:
        random.shuffle(order)
    folds = []
    start = 0
    for i in range(k):
        size = n // k + (1 if i < n % k else 0)
        validation = sorted(order[start:start + size])
        train = sorted(set(range(n)) - set(validation))
        folds.append((train, validation))
        start += size
    return folds

"""Correct, by another road: a Python loop assigning each position of the order to its fold; returns tuples."""

import torch


def kfold_split(n, k, shuffle=False, generator=None):
    if k < 2:
        raise ValueError("k-fold needs at least 2 folds")
    if k > n:
        raise ValueError("cannot make more folds than samples")
    order = torch.randperm(n, generator=generator).tolist() if shuffle else range(n)
    fold_of = [0] * n
    fold, filled = 0, 0
    for index in order:
        capacity = n // k + (1 if fold < n % k else 0)
        if filled == capacity:
            fold, filled = fold + 1, 0
        fold_of[index] = fold
        filled += 1
    return tuple(
        (tuple(i for i in range(n) if fold_of[i] != f), tuple(i for i in range(n) if fold_of[i] == f))
        for f in range(k)
    )

"""Instructor key: the k-fold splitter (scikit-learn's KFold semantics)."""

import torch


def kfold_split(n: int, k: int, shuffle: bool = False,
                generator: torch.Generator | None = None) -> list[tuple[list[int], list[int]]]:
    if k < 2 or k > n:
        raise ValueError(f"k must satisfy 2 <= k <= n, got k={k} with n={n}")
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    folds = []
    start = 0
    for i in range(k):
        size = n // k + (1 if i < n % k else 0)
        in_fold = torch.zeros(n, dtype=torch.bool)
        in_fold[order[start:start + size]] = True
        folds.append((torch.nonzero(~in_fold).flatten().tolist(), torch.nonzero(in_fold).flatten().tolist()))
        start += size
    return folds

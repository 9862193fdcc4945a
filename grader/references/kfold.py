"""References for the k-fold splitter: scikit-learn's ``KFold`` in plain Python and torch.

``split`` reproduces ``sklearn.model_selection.KFold(n_splits=k).split(range(n))``
exactly, without importing scikit-learn at grading time (the tests prove the
equality). With ``shuffle=True`` the permutation is ``torch.randperm(n, generator=...)``
rather than NumPy's, so shuffled splits are judged by ``check_split``, a predicate
holding every property sklearn's shuffled splits have, and by ``split`` itself where
a test pins the exact permutation the spec documents.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import torch

Split = list[tuple[list[int], list[int]]]


def fold_sizes(n: int, k: int) -> list[int]:
    """KFold's fold sizes: the first ``n % k`` folds hold one index more than the others."""
    return [n // k + 1 if i < n % k else n // k for i in range(k)]


def split(n: int, k: int, shuffle: bool = False, generator: torch.Generator | None = None) -> Split:
    """k (train, validation) pairs of sorted index lists, as ``KFold`` returns them.

    Without shuffle, fold i validates a consecutive block of ``range(n)``. With shuffle the
    blocks are cut, in the same sizes, from ``torch.randperm(n, generator=generator)``,
    and each block is sorted, as sklearn sorts its shuffled folds.
    """
    if k < 2 or k > n:
        raise ValueError(f"k must satisfy 2 <= k <= n, got k={k} with n={n}")
    order = torch.randperm(n, generator=generator).tolist() if shuffle else list(range(n))
    folds: Split = []
    start = 0
    for size in fold_sizes(n, k):
        validation = set(order[start:start + size])
        folds.append(([i for i in range(n) if i not in validation], sorted(validation)))
        start += size
    return folds


def check_split(output: Any, n: int, k: int, shuffle: bool = False, generator: Any = None) -> list[str]:
    """Every way ``output`` fails to be a valid KFold split of ``range(n)`` into k folds.

    Valid means: k pairs (train, validation) of Python lists (or tuples) of ints, each
    sorted; fold i validates ``fold_sizes(n, k)[i]`` indices; every index is validated
    exactly once; train is the complement of validation. With ``shuffle`` the folds must
    also differ from the unshuffled ones (for the sizes used in tests the chance that a
    true shuffle reproduces them is negligible).
    """
    if not isinstance(output, (list, tuple)):
        return [f"the output is {_kind(output)}; return a list of k (train, validation) pairs of Python lists"]
    if len(output) != k:
        return [f"the output has {len(output)} folds, expected k = {k}"]
    sizes = fold_sizes(n, k)
    for i, pair in enumerate(output):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            return [f"fold {i} is {_kind(pair)}; each fold must be a pair (train, validation)"]
        for label, part in zip(("train", "validation"), pair):
            if not isinstance(part, (list, tuple)):
                return [f"fold {i}'s {label} indices are {_kind(part)}; return Python lists of ints "
                        "(call .tolist() on a tensor)"]
            odd = next((j for j in part if not isinstance(j, int) or isinstance(j, bool)), None)
            if odd is not None:
                return [f"fold {i}'s {label} indices hold {_kind(odd)} ({odd!r}); return Python lists of ints"]
    if all(len(t) == s and len(v) == n - s != s for (t, v), s in zip(output, sizes)):
        return ["every fold has its small part first: the pair is swapped; return (train, validation), "
                "with the validation fold second"]
    problems: list[str] = []
    got_sizes = [len(v) for _, v in output]
    if got_sizes != sizes:
        problems.append(f"the validation folds have sizes {got_sizes}, expected {sizes}: the first n % k = {n % k} "
                        f"folds get n // k + 1 = {n // k + 1} indices, the others {n // k}")
    unsorted = [i for i, (t, v) in enumerate(output) if list(t) != sorted(t) or list(v) != sorted(v)]
    if unsorted:
        problems.append(f"folds {_few(unsorted)} have indices that are not sorted; sort train and validation, "
                        "as sklearn does")
    not_complement = [i for i, (t, v) in enumerate(output)
                      if len(t) + len(v) != n or set(t) | set(v) != set(range(n))]
    if not_complement:
        problems.append(f"in folds {_few(not_complement)} the train indices are not the complement of the "
                        f"validation indices in range({n})")
    seen = [j for _, v in output for j in v]
    missing = sorted(set(range(n)) - set(seen))
    repeated = sorted(j for j, count in Counter(seen).items() if count > 1)
    if missing:
        problems.append(f"indices {_few(missing)} are never validated (dropped)")
    if repeated:
        problems.append(f"indices {_few(repeated)} are validated more than once: the folds overlap")
    if shuffle and not problems and [list(v) for _, v in output] == [v for _, v in split(n, k)]:
        problems.append("with shuffle=True the folds are the unshuffled consecutive blocks; permute the indices "
                        "with torch.randperm(n, generator=generator) first")
    return problems


def _kind(value: Any) -> str:
    """A short description of a value; NumPy arrays arrive here as tensors, named as such."""
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    return f"a {type(value).__name__}"


def _few(indices: list[int]) -> str:
    return ", ".join(map(str, indices[:5])) + (f" and {len(indices) - 5} more" if len(indices) > 5 else "")

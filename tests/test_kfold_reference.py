"""The k-fold reference is scikit-learn's KFold, and its predicate accepts what KFold returns.

The grader never imports scikit-learn; these tests are what entitles the reference to
say it reproduces ``KFold`` and the predicate to say it holds KFold's properties.
"""

from __future__ import annotations

import pytest
import torch
from sklearn.model_selection import KFold

from grader.references.kfold import check_split, fold_sizes, split

SIZES = [(n, k) for n in range(2, 41) for k in range(2, n + 1)]


def sklearn_split(n: int, k: int, **options: object) -> list[tuple[list[int], list[int]]]:
    """KFold's output with the arrays turned into lists of Python ints, as the grader sees them."""
    return [(train.tolist(), validation.tolist()) for train, validation in KFold(n_splits=k, **options).split(range(n))]


@pytest.mark.parametrize("n, k", SIZES)
def test_reference_equals_sklearn_without_shuffle(n: int, k: int) -> None:
    assert split(n, k) == sklearn_split(n, k)


@pytest.mark.parametrize("n, k", [(n, k) for n, k in SIZES if n % 3 == 0 or k in (2, 3, 7, n)])
def test_fold_sizes_match_sklearn_shuffled(n: int, k: int) -> None:
    got = [len(validation) for _, validation in sklearn_split(n, k, shuffle=True, random_state=n * 100 + k)]
    assert got == fold_sizes(n, k)


@pytest.mark.parametrize("n, k", [(23, 5), (50, 7), (17, 4), (20, 4), (12, 3), (30, 30)])
@pytest.mark.parametrize("random_state", range(5))
def test_predicate_accepts_sklearn_shuffled(n: int, k: int, random_state: int) -> None:
    assert check_split(sklearn_split(n, k, shuffle=True, random_state=random_state), n, k, shuffle=True) == []


@pytest.mark.parametrize("n, k", [(23, 5), (50, 7), (17, 4)])
@pytest.mark.parametrize("seed", range(5))
def test_reference_shuffled_satisfies_predicate(n: int, k: int, seed: int) -> None:
    folds = split(n, k, shuffle=True, generator=torch.Generator().manual_seed(seed))
    assert check_split(folds, n, k, shuffle=True) == []


def test_reference_shuffles_with_the_documented_permutation() -> None:
    perm = torch.randperm(17, generator=torch.Generator().manual_seed(5)).tolist()
    folds = split(17, 4, shuffle=True, generator=torch.Generator().manual_seed(5))
    assert [v for _, v in folds] == [sorted(perm[0:5]), sorted(perm[5:9]), sorted(perm[9:13]), sorted(perm[13:17])]


@pytest.mark.parametrize("n, k", [(10, 1), (3, 4), (0, 2), (5, 0)])
def test_reference_rejects_bad_k_like_sklearn(n: int, k: int) -> None:
    with pytest.raises(ValueError):
        split(n, k)
    with pytest.raises(ValueError):
        sklearn_split(n, k)


def test_predicate_rejects_unshuffled_folds_when_shuffling() -> None:
    assert any("unshuffled" in p for p in check_split(split(23, 5), 23, 5, shuffle=True))
    assert check_split(split(23, 5), 23, 5, shuffle=False) == []


@pytest.mark.parametrize("broken, phrase", [
    ([(v, t) for t, v in split(23, 5)], "swapped"),
    ([(t[::-1], v) for t, v in split(23, 5)], "not sorted"),
    ([(t, v[:-1]) for t, v in split(23, 5)], "dropped"),
    ([(t, v + [v[-1] + 1]) for t, v in split(23, 5)[:-1]] + [split(23, 5)[-1]], "overlap"),
    ([(torch.tensor(t), torch.tensor(v)) for t, v in split(23, 5)], "Python lists"),
    (split(23, 5)[:4], "expected k = 5"),
])
def test_predicate_names_what_is_wrong(broken: object, phrase: str) -> None:
    assert any(phrase in p for p in check_split(broken, 23, 5))

"""Statistical laws: thresholds come from the sample size, accept torch's own output, reject wrong scales."""

from __future__ import annotations

import math

import torch

from grader.references.xavier import normal_law, uniform_law
from grader.stats import DropoutLaw, Normal, Uniform, ks_distance, two_sided_bound


def test_bound_matches_dkw_formula():
    n, delta = 10_000, 1e-6
    assert math.isclose(two_sided_bound(n, delta), math.sqrt(math.log(2 / delta) / (2 * n)))
    assert two_sided_bound(4 * n, delta) < two_sided_bound(n, delta)


def test_ks_distance_of_a_perfect_grid_is_small():
    x = (torch.arange(1000, dtype=torch.float64) + 0.5) / 1000
    assert ks_distance(x, Uniform(0, 1).cdf) <= 0.0006


def test_torch_init_passes_the_reference_laws_for_many_seeds():
    for seed in range(20):
        g = torch.Generator().manual_seed(seed)
        w = torch.empty(64, 32, 3, 3)
        torch.nn.init.xavier_uniform_(w, gain=1.3, generator=g)
        assert uniform_law(w, 1.3).check(w, 1e-6) == []
        torch.nn.init.xavier_normal_(w, gain=0.7, generator=g)
        assert normal_law(w, 0.7).check(w, 1e-6) == []


def test_wrong_scale_is_rejected_with_the_std():
    g = torch.Generator().manual_seed(0)
    w = torch.randn(256, 512, generator=g) * 0.05
    [msg] = Normal(0.0, 0.0510).check(w, 1e-6) or ["passed"]
    assert msg == "passed"
    problems = Normal(0.0, 0.0441).check(w, 1e-6)
    assert problems and "std is 0.05" in problems[0]
    assert "outside the bound" in Uniform(-0.01, 0.01).check(w, 1e-6)[0]


def test_dropout_law():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(100_000, generator=g)
    keep = torch.rand(x.shape, generator=g) >= 0.3
    y = x * keep / 0.7
    assert DropoutLaw(x, 0.3).check(y, 1e-6) == []
    assert "1/(1-p)" in DropoutLaw(x, 0.3).check(x * keep, 1e-6)[0]
    too_many = x * (torch.rand(x.shape, generator=g) >= 0.35) / 0.7
    assert "dropped" in DropoutLaw(x, 0.3).check(too_many, 1e-6)[0]
    assert DropoutLaw(x, 1.0).check(torch.zeros_like(x), 1e-6) == []
    assert DropoutLaw(x, 0.0).check(x.clone(), 1e-6) == []

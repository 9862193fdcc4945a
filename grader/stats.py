"""Statistical tests for random outputs, each sized for a stated false-failure rate.

Every threshold is computed from the test's own sample size and the rate ``delta``
a spec allows (1e-6 by default) with a distribution-free inequality, so a correct
implementation fails a check with probability at most ``delta``, whatever its RNG:

* Dvoretzky-Kiefer-Wolfowitz (Massart's constant):
  ``P(sup |F_n - F| > eps) <= 2 exp(-2 n eps^2)``, so ``eps = sqrt(ln(2/delta) / (2n))``.
* Hoeffding, for a rate of Bernoulli events:
  ``P(|p_hat - p| >= t) <= 2 exp(-2 n t^2)``, the same ``t``.

A law is what a reference returns for a random function: it knows how to test a
sample and explains a failure in terms a student can act on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


def two_sided_bound(n: int, delta: float) -> float:
    """The deviation that DKW and Hoeffding allow for ``n`` samples at rate ``delta``."""
    return math.sqrt(math.log(2.0 / delta) / (2.0 * n))


def ks_distance(sample: torch.Tensor, cdf) -> float:
    """sup_x |F_n(x) - F(x)| for a sample against a continuous CDF."""
    x = sample.detach().flatten().to(torch.float64).sort().values
    n = x.numel()
    f = cdf(x)
    upper = torch.arange(1, n + 1, dtype=torch.float64) / n - f
    lower = f - torch.arange(0, n, dtype=torch.float64) / n
    return float(torch.maximum(upper, lower).max())


@dataclass(frozen=True)
class Uniform:
    """Every value in [low, high], and the empirical CDF close to the uniform one."""

    low: float
    high: float

    def cdf(self, x: torch.Tensor) -> torch.Tensor:
        return ((x - self.low) / (self.high - self.low)).clamp(0.0, 1.0)

    def check(self, sample: torch.Tensor, delta: float) -> list[str]:
        s = sample.detach().to(torch.float64)
        slack = (self.high - self.low) * 1e-6
        lo, hi = float(s.min()), float(s.max())
        problems = []
        if lo < self.low - slack or hi > self.high + slack:
            problems.append(f"values span [{lo:.4g}, {hi:.4g}], outside the bound [{self.low:.4g}, {self.high:.4g}]")
        problems += _dkw(s, self.cdf, delta, f"U({self.low:.4g}, {self.high:.4g})",
                         expected_std=(self.high - self.low) / math.sqrt(12))
        return problems


@dataclass(frozen=True)
class Normal:
    """The empirical CDF close to that of N(mean, std^2)."""

    mean: float
    std: float

    def cdf(self, x: torch.Tensor) -> torch.Tensor:
        return 0.5 * (1.0 + torch.erf((x - self.mean) / (self.std * math.sqrt(2.0))))

    def check(self, sample: torch.Tensor, delta: float) -> list[str]:
        return _dkw(sample.detach().to(torch.float64), self.cdf, delta, f"N({self.mean:.4g}, {self.std:.4g}^2)",
                    expected_std=self.std)


def _dkw(sample: torch.Tensor, cdf, delta: float, name: str, expected_std: float) -> list[str]:
    if not torch.isfinite(sample).all():
        return ["the values contain NaN or inf"]
    n = sample.numel()
    d, eps = ks_distance(sample, cdf), two_sided_bound(n, delta)
    if d <= eps:
        return []
    std = float(sample.std()) if n > 1 else float("nan")
    return [
        f"the {n} values do not follow {name}: Kolmogorov-Smirnov distance {d:.4f} > {eps:.4f} "
        f"(the bound for a false-failure rate of {delta:g}); their std is {std:.4g}, expected {expected_std:.4g}"
    ]


@dataclass(frozen=True)
class DropoutLaw:
    """Inverted dropout of ``x`` with drop probability ``p``.

    Each output is 0 or ``x / (1 - p)`` (within the dtype's rounding), and the share of
    zeros among the inputs that are non-zero is ``p`` within Hoeffding's bound.
    """

    x: torch.Tensor
    p: float

    def check(self, sample: torch.Tensor, delta: float) -> list[str]:
        x, y = self.x.to(torch.float64), sample.detach().to(torch.float64)
        if y.shape != x.shape:
            return [f"the output has shape {tuple(y.shape)}, expected {tuple(x.shape)}"]
        if not torch.isfinite(y).all():
            return ["the output contains NaN or inf"]
        if self.p >= 1.0:
            return [] if bool((y == 0).all()) else ["with p=1 every element must be dropped (all zeros)"]
        scale = 1.0 / (1.0 - self.p)
        eps = torch.finfo(sample.dtype).eps * 4
        kept = (y - x * scale).abs() <= eps * (x * scale).abs() + eps
        dropped = y == 0
        problems = []
        if not bool((kept | dropped).all()):
            bad = ~(kept | dropped)
            i = tuple(int(v) for v in bad.nonzero()[0])
            ratio = float(y[i] / x[i]) if float(x[i]) != 0 else float("nan")
            problems.append(
                f"{int(bad.sum())} kept value(s) are not the input times 1/(1-p) = {scale:.4g}; e.g. at {i} "
                f"the output is {ratio:.4g} times the input"
            )
        nonzero = x != 0
        n = int(nonzero.sum())
        if n and self.p > 0:
            rate = float((dropped & nonzero).sum()) / n
            t = two_sided_bound(n, delta)
            if abs(rate - self.p) > t:
                problems.append(
                    f"{rate:.4f} of the {n} elements were dropped, expected p={self.p:g} "
                    f"(allowed deviation {t:.4f} for a false-failure rate of {delta:g})"
                )
        elif self.p == 0 and not bool((y == x).all()):
            problems.append("with p=0 the output must equal the input")
        return problems

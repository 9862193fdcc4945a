"""References for inverted dropout: the law of a training-mode output, and PyTorch's own
``torch.nn.functional.dropout`` where its result is deterministic."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from grader.stats import DropoutLaw


def law(x: torch.Tensor, p: float = 0.5, training: bool = True, generator: torch.Generator | None = None) -> DropoutLaw:
    """What a training-mode output must look like: zeros, or ``x / (1 - p)``, with a share ``p`` of zeros."""
    return DropoutLaw(x, p)


def functional(x: torch.Tensor, p: float = 0.5, training: bool = True,
               generator: torch.Generator | None = None) -> torch.Tensor:
    """``F.dropout``, for the cases where it draws nothing that matters: eval mode, p=0 and p=1.

    The specs use it only there, so the global RNG it draws from cannot change the answer.
    """
    if training and 0.0 < p < 1.0:
        raise ValueError("functional is the reference for eval mode, p=0 and p=1 only; use law for 0 < p < 1")
    return F.dropout(x, p, training)

"""Reference for Adam: ``torch.optim.Adam`` itself, pinned to its single-tensor loop.

``foreach=False`` fixes which of torch's implementations runs, so the reference's
rounding does not change with the torch version's choice of default kernel.
"""

from __future__ import annotations

from typing import Any

import torch


def adam(params: list[torch.Tensor], **options: Any) -> torch.optim.Adam:
    """A ``torch.optim.Adam`` over ``params`` with the test's options (lr, betas, eps, weight_decay)."""
    return torch.optim.Adam(params, foreach=False, **options)

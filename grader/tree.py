"""Walking nested values (lists, tuples, dicts) the way inputs and results are shaped.

Both the trusted process and the worker use these, so a gradient's path name such as
``params['weight']`` means the same thing on both sides.
"""

from __future__ import annotations

from typing import Any, Callable


def tree_map(value: Any, fn: Callable[[Any], Any]) -> Any:
    """Apply ``fn`` to every leaf, rebuilding lists, tuples and dicts around the results."""
    if isinstance(value, list):
        return [tree_map(v, fn) for v in value]
    if isinstance(value, tuple):
        return tuple(tree_map(v, fn) for v in value)
    if isinstance(value, dict):
        return {k: tree_map(v, fn) for k, v in value.items()}
    return fn(value)


def flat_tensors(value: Any, path: str = "") -> list[tuple[str, Any]]:
    """(path, tensor) pairs in a fixed order; paths look like ``[0]`` or ``['weight']``."""
    import torch

    if isinstance(value, torch.Tensor):
        return [(path, value)]
    if isinstance(value, (list, tuple)):
        return [p for i, v in enumerate(value) for p in flat_tensors(v, f"{path}[{i}]")]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in flat_tensors(v, f"{path}[{k!r}]")]
    return []


def as_leaves(value: Any) -> Any:
    """A copy in which every tensor is a fresh leaf that requires grad."""
    import torch

    return tree_map(value, lambda t: t.detach().clone().requires_grad_(True) if isinstance(t, torch.Tensor) else t)


def detached(value: Any) -> Any:
    import torch

    return tree_map(value, lambda t: t.detach() if isinstance(t, torch.Tensor) else t)

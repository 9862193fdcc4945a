"""Comparing what the student's code returned with what the reference computed.

Tolerances depend on the dtype and default to those of ``torch.testing.assert_close``:

========== ========== ==========
dtype      rtol       atol
========== ========== ==========
float64    1e-7       1e-7
float32    1.3e-6     1e-5
float16    1e-3       1e-5
bfloat16   1.6e-2     1e-5
========== ========== ==========

Integers, booleans and strings compare exactly. Shape, dtype and device mismatches are
reported as such; a numeric mismatch reports the max absolute and relative error and
the worst index. Only plain CPU tensors decoded from the wire reach this module, so a
tensor subclass cannot bend the comparison.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from grader.protocol import Received
from grader.tree import tree_map

DEFAULT_TOLERANCES: dict[torch.dtype, tuple[float, float]] = {
    torch.float64: (1e-7, 1e-7),
    torch.float32: (1.3e-6, 1e-5),
    torch.float16: (1e-3, 1e-5),
    torch.bfloat16: (1.6e-2, 1e-5),
    torch.complex128: (1e-7, 1e-7),
    torch.complex64: (1.3e-6, 1e-5),
}


def tolerances(dtype: torch.dtype, rtol: float | None = None, atol: float | None = None) -> tuple[float, float]:
    """The (rtol, atol) for a dtype; explicit values from a spec win."""
    d_rtol, d_atol = DEFAULT_TOLERANCES.get(dtype, (0.0, 0.0))
    return (d_rtol if rtol is None else rtol, d_atol if atol is None else atol)


def mismatches(actual: Any, expected: Any, *, rtol: float | None = None, atol: float | None = None,
               where: str = "the output", device: str | None = None) -> list[str]:
    """Every way ``actual`` differs from ``expected``, as sentences; empty when they agree.

    ``device`` is the device the output should be on; by default it is not checked.
    """
    if isinstance(expected, torch.Tensor):
        return _tensor_mismatches(actual, expected, rtol, atol, where, device)
    if isinstance(expected, (list, tuple)):
        if not isinstance(actual, (list, tuple)):
            return [f"{where} is {_short(actual)}, expected a {type(expected).__name__} of {len(expected)} items"]
        if len(actual) != len(expected):
            return [f"{where} has {len(actual)} items, expected {len(expected)}"]
        out: list[str] = []
        for i, (a, e) in enumerate(zip(actual, expected)):
            out += mismatches(a, e, rtol=rtol, atol=atol, where=f"{where}[{i}]", device=device)
        return out
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where} is {_short(actual)}, expected a dict"]
        if set(actual) != set(expected):
            return [f"{where} has keys {sorted(actual)}, expected {sorted(expected)}"]
        return [m for k in expected for m in mismatches(actual[k], expected[k], rtol=rtol, atol=atol, where=f"{where}[{k!r}]", device=device)]
    if isinstance(expected, bool) or expected is None or isinstance(expected, str):
        return [] if actual == expected and type(actual) is type(expected) else [f"{where} is {_short(actual)}, expected {expected!r}"]
    if isinstance(expected, int) and not isinstance(actual, float):
        return [] if isinstance(actual, int) and not isinstance(actual, bool) and actual == expected else [f"{where} is {_short(actual)}, expected {expected}"]
    if isinstance(expected, (int, float)):
        return _float_mismatch(actual, float(expected), rtol, atol, where)
    raise TypeError(f"cannot compare against a reference of type {type(expected).__name__}")


def _float_mismatch(actual: Any, expected: float, rtol: float | None, atol: float | None, where: str) -> list[str]:
    if isinstance(actual, Received) and actual.tensor.numel() == 1:
        actual = actual.tensor.item()
    if isinstance(actual, bool) or not isinstance(actual, (int, float)):
        return [f"{where} is {_short(actual)}, expected the number {expected!r}"]
    r, a = tolerances(torch.float64, rtol, atol)
    if math.isnan(actual) and not math.isnan(expected):
        return [f"{where} is NaN, expected {expected!r}"]
    if actual == expected or abs(actual - expected) <= a + r * abs(expected):
        return []
    return [f"{where} is {actual!r}, expected {expected!r} (abs error {abs(actual - expected):.3g}; tolerance rtol={r:g} atol={a:g})"]


def _tensor_mismatches(actual: Any, expected: torch.Tensor, rtol: float | None, atol: float | None,
                       where: str, device: str | None) -> list[str]:
    if not isinstance(actual, Received):
        return [f"{where} is {_short(actual)}, expected a tensor of shape {tuple(expected.shape)}"]
    got = actual.tensor
    problems: list[str] = []
    if tuple(got.shape) != tuple(expected.shape):
        return [f"{where} has shape {tuple(got.shape)}, expected {tuple(expected.shape)}"]
    if got.dtype != expected.dtype:
        problems.append(f"{where} has dtype {_dt(got.dtype)}, expected {_dt(expected.dtype)}")
    if device is not None and actual.device != device:
        problems.append(f"{where} is on {actual.device}, expected {device} (the input's device)")
    if problems:
        return problems
    r, a = tolerances(expected.dtype, rtol, atol)
    if not (expected.is_floating_point() or expected.is_complex()):
        diff = got != expected
        if diff.any():
            idx = _index(diff.nonzero()[0])
            return [f"{where} differs in {int(diff.sum())} of {diff.numel()} elements; first at {idx}: got {got[idx].item()}, expected {expected[idx].item()}"]
        return []
    g, e = got.to(torch.float64), expected.to(torch.float64)
    nan_bad = torch.isnan(g) & ~torch.isnan(e)
    if nan_bad.any():
        idx = _index(nan_bad.nonzero()[0])
        return [f"{where} contains {int(nan_bad.sum())} NaN value(s) where the expected values are finite; first at {idx}"]
    inf_bad = torch.isinf(g) & (g != e)
    if inf_bad.any():
        idx = _index(inf_bad.nonzero()[0])
        return [f"{where} contains {int(inf_bad.sum())} infinite value(s) where finite values were expected; first at {idx}"]
    both_nan = torch.isnan(g) & torch.isnan(e)
    err = (g - e).abs().masked_fill(both_nan, 0.0).masked_fill(torch.isinf(e) & (g == e), 0.0)
    bad = err > a + r * e.abs()
    if not bad.any():
        return []
    worst = _index(torch.nonzero(err == err.max())[0])
    rel = err / e.abs().clamp_min(torch.finfo(torch.float64).tiny)
    return [
        f"{where} differs in {int(bad.sum())} of {bad.numel()} elements: max abs error {err.max().item():.3g} at index {worst} "
        f"(got {g[worst].item():.6g}, expected {e[worst].item():.6g}), max rel error {rel.max().item():.3g}; "
        f"tolerance rtol={r:g}, atol={a:g} for {_dt(expected.dtype)}"
    ]


def _index(idx: torch.Tensor) -> tuple[int, ...]:
    return tuple(int(i) for i in idx)


def _dt(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _short(value: Any) -> str:
    if isinstance(value, Received):
        return f"a tensor of shape {tuple(value.tensor.shape)} and dtype {_dt(value.tensor.dtype)}"
    text = repr(value)
    return text if len(text) < 60 else text[:57] + "..."


def plain(value: Any) -> Any:
    """Strip the :class:`Received` wrappers, for predicates that want plain tensors."""
    return tree_map(value, lambda v: v.tensor if isinstance(v, Received) else v)

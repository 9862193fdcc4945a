"""Tensor comparison: dtype-aware defaults, and messages that say what differs and where."""

from __future__ import annotations

import torch

from grader.compare import DEFAULT_TOLERANCES, mismatches, tolerances
from grader.protocol import Received


def r(t, device="cpu"):
    return Received(t, device)


def test_defaults_are_assert_close_defaults():
    assert tolerances(torch.float32) == (1.3e-6, 1e-5)
    assert tolerances(torch.float64) == (1e-7, 1e-7)
    assert tolerances(torch.float32, rtol=0.1) == (0.1, 1e-5)
    assert set(DEFAULT_TOLERANCES) >= {torch.float16, torch.bfloat16}


def test_equal_and_within_tolerance_pass():
    x = torch.randn(5, 5)
    assert mismatches(r(x.clone()), x) == []
    assert mismatches(r(x + 1e-7), x) == []


def test_numeric_mismatch_reports_max_errors_and_worst_index():
    x = torch.zeros(3, 4, dtype=torch.float64)
    y = x.clone()
    y[2, 1] = 0.5
    y[0, 0] = 0.1
    [msg] = mismatches(r(y), x)
    assert "differs in 2 of 12 elements" in msg
    assert "max abs error 0.5 at index (2, 1)" in msg
    assert "rtol=1e-07" in msg and "float64" in msg


def test_shape_dtype_and_device_are_reported_as_such():
    x = torch.zeros(3, 4)
    assert mismatches(r(torch.zeros(4, 3)), x) == ["the output has shape (4, 3), expected (3, 4)"]
    assert mismatches(r(torch.zeros(3, 4, dtype=torch.float64)), x) == ["the output has dtype float64, expected float32"]
    assert mismatches(r(x, "cuda:0"), x, device="cpu") == ["the output is on cuda:0, expected cpu (the input's device)"]


def test_nan_and_inf_are_named():
    x = torch.ones(4)
    [msg] = mismatches(r(torch.tensor([1.0, float("nan"), 1.0, 1.0])), x)
    assert "NaN" in msg and "(1,)" in msg
    [msg] = mismatches(r(torch.tensor([1.0, 1.0, float("inf"), 1.0])), x)
    assert "infinite" in msg
    both = torch.tensor([float("nan"), 1.0])
    assert mismatches(r(both.clone()), both) == []


def test_non_tensors_compare_by_kind():
    assert mismatches((3, 4), (3, 4)) == []
    assert mismatches([3, 4], (3, 4)) == []
    assert mismatches((3, 5), (3, 4)) == ["the output[1] is 5, expected 4"]
    assert mismatches(0.1 + 0.2, 0.3) == []
    assert mismatches(0.31, 0.3)[0].startswith("the output is 0.31, expected 0.3")
    assert mismatches(True, 1) != []
    assert mismatches("a", 1.0) == ["the output is 'a', expected the number 1.0"]
    assert mismatches(None, torch.zeros(2)) == ["the output is None, expected a tensor of shape (2,)"]


def test_integer_tensors_compare_exactly():
    x = torch.arange(6)
    y = x.clone()
    y[4] = 9
    [msg] = mismatches(r(y), x)
    assert "first at (4,): got 9, expected 4" in msg

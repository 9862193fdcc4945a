"""``compare``: deterministic functions, checked value by value against the reference.

Also checks, when the spec asks: the inputs a function updates in place (BatchNorm's
running statistics), that an in-place function returns its argument, that inputs meant
to be left alone are unchanged, and the autograd gradients through the output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from grader.checks import Outcome, comparable, fail
from grader.compare import mismatches
from grader.inputs import live, make_inputs, resolve
from grader.spec import CompareTest, ExerciseSpec
from grader.student_code import StudentCode
from grader.tree import as_leaves, detached, flat_tensors


@dataclass
class _Case:
    """One dtype of a test: the inputs, and what the reference made of them."""

    label: str
    inputs: dict[str, Any]
    ref_inputs: dict[str, Any]
    ref_grad_inputs: dict[str, torch.Tensor]
    expected: Any
    cotangent: torch.Tensor | None
    grad: dict[str, Any] | None


def run(test: CompareTest, exercise: ExerciseSpec, code: StudentCode) -> Outcome:
    problems: list[str] = []
    if test.sweep:
        for dtype in test.dtypes or [None]:
            got, expected = _sweep(test, exercise, code, make_inputs(test.inputs, test.seed, dtype))
            problems += mismatches(got, expected, rtol=test.rtol, atol=test.atol,
                                   where=f"the values{f' ({dtype})' if dtype else ''}")
        return fail(problems, "")
    cases = [_case(test, dtype) for dtype in test.dtypes or [None]]
    results = _call_cases(test, exercise, code, cases)
    for case, result in zip(cases, results):
        label = case.label
        problems += mismatches(comparable(result.value), detached(case.expected), rtol=test.rtol, atol=test.atol,
                               where=f"the output{label}", device=_device_of(case.inputs))
        for name in test.compare_inputs:
            problems += mismatches(result.args_after["kwargs"].get(name), detached(case.ref_inputs[name]),
                                   rtol=test.rtol, atol=test.atol, where=f"{name} after the call{label}")
        if test.in_place and result.returned_arg != test.in_place:
            problems.append(f"the function must modify {test.in_place} in place and return it, but returned another object")
        for name in test.unchanged:
            problems += [f"{name} was changed by the call{label}; work on a copy" for _ in
                         mismatches(result.args_after["kwargs"].get(name), case.inputs[name], rtol=0, atol=0)[:1]]
        if case.grad:
            assert case.cotangent is not None
            problems += _grad_problems(result.grads, case.expected, case.ref_grad_inputs, case.cotangent, test, label)
    return fail(problems, "".join(result.output for result in results))


def _case(test: CompareTest, dtype: str | None) -> _Case:
    inputs = make_inputs(test.inputs, test.seed, dtype)
    ref_inputs = live(inputs)
    for name in test.grad_wrt:
        ref_inputs[name] = as_leaves(ref_inputs[name])
    ref_grad_inputs = {f"{n}{path}": t for n in test.grad_wrt for path, t in flat_tensors(ref_inputs[n])}
    expected = resolve(test.reference)(**ref_inputs)
    cotangent = _cotangent(expected, test.seed) if test.grad_wrt else None
    grad = {"wrt": test.grad_wrt, "cotangent": cotangent} if test.grad_wrt else None
    return _Case(f" ({dtype})" if dtype else "", inputs, ref_inputs, ref_grad_inputs, expected, cotangent, grad)


def _call_cases(test: CompareTest, exercise: ExerciseSpec, code: StudentCode, cases: list[_Case]) -> list[Any]:
    """Every dtype's call (or chain of calls), all in one request."""
    if test.calls:
        return code.call_chains(exercise, test.calls, [case.inputs for case in cases], seed=test.seed,
                                return_args=[*test.compare_inputs, *test.unchanged], grads=[case.grad for case in cases])
    return code.call_many(exercise, test.function, [case.inputs for case in cases], seed=test.seed,
                          return_args=[*test.compare_inputs, *test.unchanged], grads=[case.grad for case in cases])


def call_chain(test: CompareTest, exercise: ExerciseSpec, code: StudentCode, inputs: dict[str, Any],
                grad: dict[str, Any] | None):
    """Call the function with every input as a keyword, or run the spec's chain of calls."""
    needs_args = [*test.compare_inputs, *test.unchanged]
    if not test.calls:
        return code.call(exercise, test.function, kwargs=inputs, return_args=needs_args, grad=grad, seed=test.seed)
    return code.call_chains(exercise, test.calls, [inputs], return_args=needs_args, grads=[grad], seed=test.seed)[0]


def _sweep(test: CompareTest, exercise: ExerciseSpec, code: StudentCode, inputs: dict[str, Any]):
    (arg, (start, stop)), = test.sweep.items()
    reference = resolve(test.reference)
    calls = [{**inputs, arg: value} for value in range(start, stop)]
    expected = [reference(**live(kwargs)) for kwargs in calls]
    got = [result.value for result in code.call_many(exercise, test.function, calls, seed=test.seed)]
    return got, expected


def _cotangent(expected: Any, seed: int) -> torch.Tensor:
    out = expected[0] if isinstance(expected, tuple) else expected
    g = torch.Generator().manual_seed(seed + 1)
    return torch.randn(out.shape, generator=g, dtype=torch.float64).to(out.dtype)


def _grad_problems(got: dict[str, Any] | None, expected: Any, ref_inputs: dict[str, torch.Tensor],
                   cotangent: torch.Tensor, test: CompareTest, label: str) -> list[str]:
    if got is None or "error" in got:
        return [f"gradients could not be computed{label}: {(got or {}).get('error', 'no gradients came back')}"]
    out = expected[0] if isinstance(expected, tuple) else expected
    names = list(ref_inputs)
    ref_grads = torch.autograd.grad(out, [ref_inputs[n] for n in names], cotangent, allow_unused=True)
    problems: list[str] = []
    for name, ref in zip(names, ref_grads):
        if ref is None:
            # The reference's output does not depend on this input: autograd's None is a zero
            # gradient, so the student's, if it has one, must be zero too (a bias left out of a penalty).
            if got.get(name) is not None:
                problems += mismatches(got[name], torch.zeros_like(ref_inputs[name]).detach(), rtol=test.rtol,
                                       atol=test.atol, where=f"the gradient wrt {name}{label}")
            continue
        if got.get(name) is None:
            problems.append(f"the output does not depend on {name} through autograd{label}")
            continue
        problems += mismatches(got[name], ref.detach(), rtol=test.rtol, atol=test.atol, where=f"the gradient wrt {name}{label}")
    return problems


def _device_of(inputs: dict[str, Any]) -> str | None:
    return next((str(v.device) for v in inputs.values() if isinstance(v, torch.Tensor)), None)

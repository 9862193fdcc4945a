"""``device``: the student's tensors must stay on the input's device, judged even without a GPU.

The check repeats the calls of another test of the exercise (named by ``like``) with
every tensor input on another device, and judges:

* without CUDA, on ``meta`` tensors under CUDA's rules (:mod:`grader.device_rules`): the
  judge is "meta, CUDA rules (no GPU)";
* with CUDA, on the GPU itself: the judge is "cuda".

It fails only on a positive sign of a device bug: a CPU tensor mixed in, ``.cpu()``
midway, or an output that is not on the input's device. Code that reads values
(``.item()``, ``bool(t)``) cannot be judged on data-less tensors and gets "not
applicable" with full points: correct code never loses a point here.
"""

from __future__ import annotations

import os
from typing import Any

import torch

from grader import devices

from grader.checks import Outcome, comparable, optimizer
from grader.checks.compare import call_chain
from grader.checks.cuda_agreement import to_cuda
from grader.inputs import make_inputs
from grader.protocol import MetaTensorInfo, Received
from grader.spec import DeviceTest, ExerciseSpec
from grader.student_code import StudentCode, StudentError
from grader.tree import tree_map

META_JUDGE = "meta, CUDA rules (no GPU)"
CUDA_JUDGE = "cuda"
#: Optimizer steps repeated on the other device: two exercise the state made at the first.
OPTIMIZER_STEPS = 2


def run(test: DeviceTest, exercise: ExerciseSpec, code: StudentCode) -> Outcome:
    base = exercise.test(test.like)
    judge = current_judge()
    try:
        if judge == CUDA_JUDGE:
            values, output = _repeat(base, exercise, code, to_cuda)
        else:
            with code.meta_device():
                values, output = _repeat(base, exercise, code, lambda v: v)
    except StudentError as exc:
        if exc.kind == "DeviceBug":
            return Outcome(False, f"{exc.function or 'the code'}: {exc.message} [judged by {judge}]", output=exc.output)
        if exc.kind == "DataDependent" or "meta" in exc.message.lower():
            return Outcome(True, f"{exc.message}; no device verdict, no points lost [judged by {judge}]",
                           status="not applicable", output=exc.output)
        raise
    stray = [f"output {i}" for i, v in enumerate(_tensors(values)) if isinstance(v, Received) and not v.device.startswith("cuda")]
    if stray:
        return Outcome(False, f"{', '.join(stray)} came back on the CPU, not on the input's device: create results "
                       f"with device=x.device or *_like functions [judged by {judge}]", output=output)
    return Outcome(True, f"tensors stayed on the input's device [judged by {judge}]", output=output)


def current_judge() -> str:
    """``cuda`` where the worker may use a GPU, else meta; ``GRADER_DEVICE_JUDGE=meta`` forces meta (to compare judges).

    With ``--device cpu`` the worker never sees the GPU, so device checks are judged on
    meta even on a machine that has one.
    """
    wanted = os.environ.get("GRADER_DEVICE_JUDGE", "auto")
    if wanted not in ("auto", "meta", "cuda"):
        raise ValueError(f"GRADER_DEVICE_JUDGE={wanted!r}: use auto, meta or cuda")
    if wanted == "cuda" or (wanted == "auto" and devices.requested() != "cpu" and torch.cuda.is_available()):
        return CUDA_JUDGE
    return META_JUDGE


def _repeat(base: Any, exercise: ExerciseSpec, code: StudentCode, move) -> tuple[list[Any], str]:
    """The student-side calls of ``base``, with inputs moved by ``move``; returns the values seen."""
    if base.kind == "optimizer":
        params = list(make_inputs(base.params, base.seed, base.dtypes[0]).values())
        rng = torch.Generator().manual_seed(base.seed + 1)
        grads = [torch.randn((OPTIMIZER_STEPS, *p.shape), generator=rng, dtype=torch.float64).to(p.dtype) for p in params]
        made = code.call(exercise, base.cls, [exercise.module, base.cls, move(params), dict(base.options), move(grads)],
                         program=optimizer.PROGRAM, seed=base.seed)
        return [made.value], made.output
    dtypes = getattr(base, "dtypes", None) or [None]
    inputs = tree_map(make_inputs(base.inputs, base.seed, dtypes[0]), move)
    if base.kind == "compare":
        result = call_chain(base, exercise, code, inputs, None)
    else:
        result = code.call(exercise, base.function, kwargs=inputs, seed=base.seed)
    return [comparable(result.value)], result.output


def _tensors(values: Any) -> list[Any]:
    out: list[Any] = []
    tree_map(values, lambda v: out.append(v) if isinstance(v, (Received, MetaTensorInfo)) else None)
    return out

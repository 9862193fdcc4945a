"""``cuda_agreement``: the student's code must give the same answers on CPU and CUDA.

The same inputs run once on each device with TF32 off (the worker turns it off before
every call). Without a CUDA device the check reports ``skipped: no CUDA device``; it is
never passed silently.
"""

from __future__ import annotations

from typing import Any

import torch

from grader.checks import Outcome, comparable, fail
from grader.compare import mismatches, plain
from grader.inputs import make_inputs
from grader.protocol import GeneratorSeed, Received
from grader.spec import CudaAgreementTest, ExerciseSpec
from grader.student_code import StudentCode
from grader.tree import tree_map


def run(test: CudaAgreementTest, exercise: ExerciseSpec, code: StudentCode) -> Outcome:
    if not torch.cuda.is_available():
        return Outcome(False, "no CUDA device", status="skipped")
    inputs = make_inputs(test.inputs, test.seed)
    on_cpu = code.call(exercise, test.function, kwargs=inputs, seed=test.seed)
    on_cuda = code.call(exercise, test.function, kwargs=to_cuda(inputs), seed=test.seed)
    # Opaque results (a cache kept in the worker) come back as handles; compare the rest.
    cpu_value, cuda_value = comparable(on_cpu.value), comparable(on_cuda.value)
    problems = _device_problems(cuda_value)
    if test.random:
        problems += [m for m in mismatches(_shapes(cuda_value), _shapes(cpu_value), where="the CUDA output")]
    else:
        problems += mismatches(cuda_value, plain(cpu_value), rtol=test.rtol, atol=test.atol, where="the CUDA output")
    outcome = fail(problems, on_cpu.output + on_cuda.output)
    if outcome.passed:
        outcome.message = (f"CUDA output on {torch.cuda.get_device_name()} has the CPU's shapes and dtypes (random "
                           "values differ by design)" if test.random else
                           f"CPU and CUDA agree; largest difference {_largest_difference(cpu_value, cuda_value):.3g}")
    return outcome


def _largest_difference(cpu_value: Any, cuda_value: Any) -> float:
    """The largest absolute difference between matching tensors of the two outputs."""
    cpu, cuda = _leaves(plain(cpu_value)), _leaves(plain(cuda_value))
    diffs = [float((a.double() - b.double()).abs().max()) for a, b in zip(cpu, cuda)
             if a.shape == b.shape and a.numel() and a.is_floating_point()]
    return max(diffs, default=0.0)


def _leaves(value: Any) -> list[torch.Tensor]:
    out: list[torch.Tensor] = []
    tree_map(value, lambda v: out.append(v) if isinstance(v, torch.Tensor) else None)
    return out


def to_cuda(value: Any) -> Any:
    """Tensors moved to CUDA and generators made there, through any nesting."""

    def move(v: Any) -> Any:
        if isinstance(v, torch.Tensor):
            return v.to("cuda")
        return GeneratorSeed(v.seed, "cuda") if isinstance(v, GeneratorSeed) else v

    return tree_map(value, move)


def _device_problems(value: Any) -> list[str]:
    values = value if isinstance(value, (list, tuple)) else [value]
    return [f"output {i} is on {v.device}, expected the input's device (cuda)" for i, v in enumerate(values)
            if isinstance(v, Received) and not v.device.startswith("cuda")]


def _shapes(value: Any) -> Any:
    if isinstance(value, Received):
        return [list(value.tensor.shape), str(value.tensor.dtype)]
    if isinstance(value, (list, tuple)):
        return [_shapes(v) for v in value]
    return value

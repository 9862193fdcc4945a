"""``optimizer``: step the student's optimizer and the reference on the same gradients.

The gradients for every step are drawn in the trusted process from the test's seed, so
both optimizers see identical inputs and any difference is the update rule's. The
worker steps the student's optimizer through all of them, for every dtype of the test,
in one request (:mod:`grader.training.trajectory`); the parameters are compared after
every step, and the first step that differs is reported.
"""

from __future__ import annotations

import torch

from grader.checks import Outcome
from grader.compare import mismatches
from grader.inputs import make_inputs, resolve
from grader.protocol import Received
from grader.spec import ExerciseSpec, OptimizerTest
from grader.student_code import StudentCode

PROGRAM = "grader.training.trajectory:trajectory"


def run(test: OptimizerTest, exercise: ExerciseSpec, code: StudentCode) -> Outcome:
    cases = [_case(test, dtype) for dtype in test.dtypes]
    made = code.call_many(exercise, test.cls, [{
        "module": exercise.module, "cls": test.cls, "params": [p.clone() for p in params],
        "options": dict(test.options), "grads": [torch.stack([step[i] for step in grads]) for i in range(len(params))],
    } for params, grads in cases], program=PROGRAM, seed=test.seed)
    output = "".join(m.output for m in made)
    for dtype, (params, grads), result in zip(test.dtypes, cases, made):
        ref_params = [p.clone().requires_grad_(True) for p in params]
        reference = resolve(test.reference)(ref_params, **test.options)
        got_stacked = result.value
        if (not isinstance(got_stacked, list) or len(got_stacked) != len(params)
                or not all(isinstance(g, Received) and g.tensor.shape[:1] == (test.steps,) for g in got_stacked)):
            return Outcome(False, "the optimizer's trajectory did not come back one step at a time", output=output)
        steps = [[Received(g.tensor[step], g.device) for g in got_stacked] for step in range(test.steps)]
        for step, (step_grads, got) in enumerate(zip(grads, steps), start=1):
            for p, g in zip(ref_params, step_grads):
                p.grad = g.clone()
            reference.step()
            problems = mismatches(got, [p.detach() for p in ref_params], rtol=test.rtol, atol=test.atol,
                                  where=f"the parameters after step {step} ({dtype})")
            if problems:
                return Outcome(False, f"diverged from the reference at step {step} of {test.steps}: " + "; ".join(problems[:2]), output=output)
    return Outcome(True, output=output)


def _case(test: OptimizerTest, dtype: str) -> tuple[list[torch.Tensor], list[list[torch.Tensor]]]:
    """One dtype's parameters, and the gradients of every step drawn from the test's seed."""
    params = list(make_inputs(test.params, test.seed, dtype).values())
    rng = torch.Generator().manual_seed(test.seed + 1)
    return params, [[torch.randn(p.shape, generator=rng, dtype=torch.float64).to(p.dtype) for p in params]
                    for _ in range(test.steps)]

"""``statistical``: a random function's output must follow the law the reference names.

The reference returns a law from :mod:`grader.stats` (``Uniform``, ``Normal``,
``DropoutLaw``), which sizes its own test for the spec's false-failure rate.
"""

from __future__ import annotations

from grader.checks import Outcome, fail
from grader.compare import mismatches
from grader.inputs import live, make_inputs, resolve
from grader.protocol import Received
from grader.spec import ExerciseSpec, StatisticalTest
from grader.student_code import StudentCode


def run(test: StatisticalTest, exercise: ExerciseSpec, code: StudentCode) -> Outcome:
    inputs = make_inputs(test.inputs, test.seed)
    law = resolve(test.reference)(**live(inputs))
    needs_args = list(test.unchanged)
    result = code.call(exercise, test.function, kwargs=inputs, return_args=needs_args, seed=test.seed)
    value = result.value
    if not isinstance(value, Received):
        return Outcome(False, f"the function returned {type(value).__name__}, expected a tensor", output=result.output)
    problems: list[str] = []
    if test.in_place and result.returned_arg != test.in_place:
        problems.append(f"the function must fill {test.in_place} in place and return it, but returned another object")
    template = inputs.get(test.in_place) if test.in_place else None
    if template is not None:
        if value.tensor.dtype != template.dtype or tuple(value.tensor.shape) != tuple(template.shape):
            problems.append(f"the result has shape {tuple(value.tensor.shape)} and dtype {value.tensor.dtype}; "
                            f"expected those of {test.in_place}: {tuple(template.shape)}, {template.dtype}")
            return fail(problems, result.output)
    for name in test.unchanged:
        if mismatches(result.args_after["kwargs"].get(name), inputs[name], rtol=0, atol=0):
            problems.append(f"{name} was changed by the call; work on a copy")
    problems += law.check(value.tensor, test.false_failure_rate)
    return fail(problems, result.output)

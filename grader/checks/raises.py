"""``raises``: invalid arguments must raise the documented exception."""

from __future__ import annotations

from grader.checks import Outcome
from grader.inputs import make_inputs
from grader.spec import ExerciseSpec, RaisesTest
from grader.student_code import ImportFailed, StudentCode, StudentError


def run(test: RaisesTest, exercise: ExerciseSpec, code: StudentCode) -> Outcome:
    inputs = make_inputs(test.inputs, test.seed)
    shown = ", ".join(f"{k}={v!r}" for k, v in inputs.items())
    try:
        result = code.call(exercise, test.function, kwargs=inputs, seed=test.seed)
    except StudentError as exc:
        if isinstance(exc, ImportFailed) or exc.kind in ("NotImplementedError", "ForbiddenCall", "MissingFunction"):
            raise
        if test.exception in exc.mro:
            return Outcome(True, output=exc.output)
        return Outcome(False, f"with {shown} it raised {exc.kind}: {exc.message}; expected {test.exception}", output=exc.output)
    return Outcome(False, f"with {shown} it returned instead of raising {test.exception}", output=result.output)

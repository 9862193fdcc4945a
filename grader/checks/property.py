"""``property``: the output must satisfy a predicate the grader owns.

For outputs with many right answers (a shuffled k-fold split): the predicate gets the
inputs and the plain output and returns the list of problems it found.
"""

from __future__ import annotations

from grader.checks import Outcome, fail
from grader.compare import plain
from grader.inputs import live, make_inputs, resolve
from grader.spec import ExerciseSpec, PropertyTest
from grader.student_code import StudentCode


def run(test: PropertyTest, exercise: ExerciseSpec, code: StudentCode) -> Outcome:
    inputs = make_inputs(test.inputs, test.seed)
    result = code.call(exercise, test.function, kwargs=inputs, seed=test.seed)
    predicate = resolve(test.predicate)
    return fail(list(predicate(plain(result.value), **live(inputs))), result.output)

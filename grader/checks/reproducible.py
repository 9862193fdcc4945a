"""``reproducible``: random output must come from the generator the caller passes.

The function is called three times: twice with generators seeded alike while the
global RNG is seeded differently, and once with another seed. The first two must be
identical (so the global RNG is not used) and the third must differ (so the generator is).
"""

from __future__ import annotations

from grader.checks import Outcome
from grader.compare import mismatches, plain
from grader.inputs import make_inputs
from grader.protocol import GeneratorSeed
from grader.spec import ExerciseSpec, ReproducibleTest
from grader.student_code import StudentCode


def run(test: ReproducibleTest, exercise: ExerciseSpec, code: StudentCode) -> Outcome:
    inputs = make_inputs(test.inputs, test.seed)
    gen = inputs.get(test.generator)
    if not isinstance(gen, GeneratorSeed):
        raise ValueError(f"test {test.name!r}: input {test.generator!r} must be a {{generator: SEED}} recipe")
    other_inputs = {**inputs, test.generator: GeneratorSeed(gen.seed + 1, gen.device)}
    first, again, other = code.call_many(exercise, test.function, [inputs, inputs, other_inputs], seeds=[1, 2, 1])
    output = first.output + again.output + other.output
    if mismatches(again.value, plain(first.value), rtol=0, atol=0):
        return Outcome(False, "two calls with generators seeded alike gave different results: the function draws "
                       "from the global RNG instead of the generator it is given", output=output)
    if not mismatches(other.value, plain(first.value), rtol=0, atol=0):
        return Outcome(False, "a generator with another seed gave the same result: the generator is not used", output=output)
    return Outcome(True, output=output)

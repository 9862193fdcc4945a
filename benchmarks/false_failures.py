"""Measure how often the statistical checks fail a correct submission.

    python benchmarks/false_failures.py [--seeds 1000] [--submission solutions]

Each statistical test is designed for a false-failure rate of at most 1e-6 (see
grader/stats.py). This grades the instructor solutions' random functions with fresh
inputs for every seed offset (the seeds of the test and of its generators are shifted)
in one worker, and prints the failures per test. With 1,000 seeds and about ten tests
the expected number of failures is about 1e-2: 0 is expected.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=1000)
    parser.add_argument("--submission", type=Path, default=ROOT / "solutions")
    args = parser.parse_args()

    from grader.checks import check_for
    from grader.inputs import SEED_OFFSET
    from grader.limits import DEFAULT_LIMITS
    from grader.spec import load_specs
    from grader.student_code import StudentCode
    from grader.submission import load_submission

    specs = load_specs(ROOT / "exercises")
    work = [(s.spec, t) for s in specs for t in s.spec.tests if t.kind == "statistical"]
    failures: dict[str, list[int]] = {f"{spec.id}: {t.name}": [] for spec, t in work}
    t0 = time.perf_counter()
    with StudentCode(load_submission(args.submission).files, DEFAULT_LIMITS.model_copy(
            update={"submission_seconds": 10**6, "worker_cpu_seconds": 10**6})) as code:
        for offset in range(args.seeds):
            token = SEED_OFFSET.set(offset)
            try:
                for spec, test in work:
                    outcome = check_for(test.kind)(test, spec, code)
                    if not outcome.passed:
                        failures[f"{spec.id}: {test.name}"].append(offset)
                        print(f"seed offset {offset}: {spec.id}: {test.name}: {outcome.message}")
            finally:
                SEED_OFFSET.reset(token)
    checks = args.seeds * len(work)
    total = sum(len(v) for v in failures.values())
    print(f"{'test':60} {'runs':>6} {'failures':>8}")
    for name, offsets in failures.items():
        print(f"{name:60} {args.seeds:6d} {len(offsets):8d}")
    print(f"{checks} statistical checks of a correct submission, {total} failures "
          f"(designed rate <= 1e-6 each, so about {checks * 1e-6:.3f} expected) in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()

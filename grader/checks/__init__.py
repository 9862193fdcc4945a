"""Check kinds: generic checks that apply to any exercise, the way scikit-learn's
``check_estimator`` applies to any estimator.

Each module holds one kind and exposes ``run(test, exercise, code) -> Outcome``. A spec
test names its kind; :data:`CHECKS` maps the name to the function. Checks run in the
trusted process: they make the inputs, call the reference, call the student's code
through :class:`grader.student_code.StudentCode`, and compare. Student exceptions,
timeouts and crashes propagate and become verdicts in :mod:`grader.grading`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from grader.protocol import Handle


@dataclass
class Outcome:
    """A check's verdict on code that ran: passed or not, and why."""

    passed: bool
    message: str = ""
    status: str | None = None  # "skipped" or "not applicable" for checks that could not judge
    output: str = ""
    metrics: dict[str, float | str] = field(default_factory=dict)  # figures a report shows, e.g. test accuracy
    curve: dict[str, list[float]] | None = None  # a training curve, for the reports' plots


def fail(problems: list[str], output: str = "") -> Outcome:
    """An outcome from a list of problems: passed when there are none."""
    if not problems:
        return Outcome(True, output=output)
    shown = problems[:5] + ([f"... and {len(problems) - 5} more"] if len(problems) > 5 else [])
    return Outcome(False, "; ".join(shown), output=output)


def comparable(value: Any) -> Any:
    """Drop handles (opaque results kept in the worker) from a returned tuple."""
    if isinstance(value, tuple) and any(isinstance(v, Handle) for v in value):
        rest = tuple(v for v in value if not isinstance(v, Handle))
        return rest[0] if len(rest) == 1 else rest
    return value


def _registry() -> dict[str, Callable[..., Outcome]]:
    from grader.checks import (compare, convergence, cuda_agreement, device, model, optimizer, parity, property, raises,
                               reproducible, statistical)

    return {
        "compare": compare.run,
        "raises": raises.run,
        "statistical": statistical.run,
        "reproducible": reproducible.run,
        "property": property.run,
        "optimizer": optimizer.run,
        "cuda_agreement": cuda_agreement.run,
        "device": device.run,
        "model": model.run,
        "parity": parity.run,
        "convergence": convergence.run,
    }


def check_for(kind: str) -> Callable[..., Outcome]:
    return _registry()[kind]

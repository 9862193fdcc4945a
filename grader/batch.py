"""Grading many submissions: one worker per submission, several at once.

Each submission gets its own worker process, so a submission that crashes, hangs or
attacks the grader is recorded with its verdict and cannot touch the others.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from grader.grading import grade
from grader.limits import DEFAULT_LIMITS, Limits
from grader.results import Report
from grader.spec import LoadedSpec
from grader.submission import Submission


def grade_batch(submissions: list[Submission], specs: list[LoadedSpec], *, hidden: bool = True,
                limits: Limits = DEFAULT_LIMITS, jobs: int = 2,
                on_report: Callable[[Report], None] | None = None) -> list[Report]:
    """Grade every submission (``jobs`` at a time); reports come back in the input's order."""

    def one(sub: Submission) -> Report:
        report = grade(sub, specs, hidden=hidden, limits=limits)
        if on_report:
            on_report(report)
        return report

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, submissions))

"""Gradescope's ``results.json``.

Top level: ``score``, ``execution_time``, ``output`` and ``tests``; each test has
``name``, ``score``, ``max_score``, ``status`` ("passed"/"failed"), ``output`` and
``visibility``. Gradescope's visibility words differ from ours: a hidden test is shown
``after_published``, so students see it once grades are released.
"""

from __future__ import annotations

import json

from grader.reports.text import header_lines, test_text
from grader.results import Report

_VISIBILITY = {"visible": "visible", "hidden": "after_published"}


def render_gradescope(report: Report) -> str:
    tests = []
    for result in report.tests():
        if result.status == "skipped":
            continue  # Gradescope has no "skipped"; the summary output says what was skipped
        tests.append({
            "name": f"{result.exercise}: {result.name}",
            "score": result.score,
            "max_score": result.max_score,
            "status": "passed" if result.score >= result.max_score else "failed",
            "output": test_text(result),
            "visibility": _VISIBILITY[result.visibility],
        })
    skipped = [f"{t.exercise}: {t.name} ({t.message})" for t in report.tests() if t.status == "skipped"]
    output = "\n".join(header_lines(report) + ([f"Skipped: {s}" for s in skipped]))
    data = {
        "score": report.score,
        "execution_time": report.execution_time,
        "output": output,
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    return json.dumps(data, indent=2) + "\n"

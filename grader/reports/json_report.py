"""The grader's own JSON report: every field of the results, for scripts and gradebooks.

Its schema is ``grader/schemas/report.schema.json``.
"""

from __future__ import annotations

import json

from grader.results import Report


def render_json(report: Report) -> str:
    data = report.model_dump(mode="json")
    data["score"] = report.score
    data["max_score"] = report.max_score
    for ex_data, ex in zip(data["exercises"], report.exercises):
        ex_data["score"], ex_data["max_score"] = ex.score, ex.max_score
    return json.dumps(data, indent=2, sort_keys=False) + "\n"

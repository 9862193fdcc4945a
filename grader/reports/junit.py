"""JUnit XML, which CI systems (GitHub Classroom, GitLab) read: one testsuite per exercise.

A test that lost points is a ``<failure>`` (with its message, hint and output); a test
skipped for want of a GPU is ``<skipped>``. Scores go in ``<properties>``, which JUnit
readers show but do not interpret.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from grader.reports.text import header_lines, test_text
from grader.results import Report


def render_junit(report: Report) -> str:
    root = ET.Element("testsuites", name=f"grader: {report.submission}", tests=str(len(report.tests())),
                      failures=str(sum(t.score < t.max_score for t in report.tests())),
                      time=f"{report.execution_time:.3f}")
    for exercise in report.exercises:
        suite = ET.SubElement(root, "testsuite", name=exercise.id, tests=str(len(exercise.tests)),
                              failures=str(sum(t.score < t.max_score for t in exercise.tests)),
                              skipped=str(sum(t.status == "skipped" for t in exercise.tests)),
                              time=f"{sum(t.seconds for t in exercise.tests):.3f}", timestamp=report.started_at)
        props = ET.SubElement(suite, "properties")
        for name, value in (("score", f"{exercise.score:g}"), ("max_score", f"{exercise.max_score:g}"),
                            ("spec_sha256", exercise.spec_sha256)):
            ET.SubElement(props, "property", name=name, value=value)
        for t in exercise.tests:
            case = ET.SubElement(suite, "testcase", classname=exercise.id, name=t.name, time=f"{t.seconds:.3f}")
            if t.status == "skipped":
                ET.SubElement(case, "skipped", message=t.message)
            elif t.score < t.max_score:
                failure = ET.SubElement(case, "failure", message=f"{t.status}: {t.message}"[:500], type=t.status)
                failure.text = test_text(t)
            elif t.message:
                ET.SubElement(case, "system-out").text = t.message
    system_out = ET.SubElement(root, "system-out")
    system_out.text = "\n".join(header_lines(report))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"

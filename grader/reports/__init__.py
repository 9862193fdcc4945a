"""Reports rendered from a :class:`grader.results.Report`: text, JSON, Gradescope, JUnit XML, HTML, Markdown."""

from __future__ import annotations

from typing import Callable

from grader.reports.feedback import render_html, render_markdown
from grader.reports.gradescope import render_gradescope
from grader.reports.json_report import render_json
from grader.reports.junit import render_junit
from grader.reports.text import render_text
from grader.results import Report

FORMATS: dict[str, Callable[[Report], str]] = {
    "text": render_text,
    "json": render_json,
    "gradescope": render_gradescope,
    "junit": render_junit,
    "html": render_html,
    "markdown": render_markdown,
}

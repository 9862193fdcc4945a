"""The text report: a rich table per exercise, readable in a terminal and when piped."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader.results import Report, TestResult

_STYLE = {"passed": "green", "failed": "red", "skipped": "yellow", "not applicable": "cyan"}


def header_lines(report: Report) -> list[str]:
    """Provenance every report starts with: what graded what, where, and how isolated."""
    return [
        f"Submission {report.submission} (sha256 {report.submission_sha256[:12]}), mode: {report.mode}",
        f"Score: {report.score:g} / {report.max_score:g}",
        f"grader {report.grader_version}, torch {report.torch_version}, Python {report.python_version}, device: {report.device}",
        f"Device checks judged by: {report.device_judge}",
        f"Isolation: {report.isolation}",
        f"Time: {report.execution_time:.2f} s (worker start-up {report.worker_startup_seconds:.2f} s, not charged)",
    ]


def test_text(result: TestResult) -> str:
    """One test's message, the spec's hint, and what the code printed."""
    parts = [f"{result.status}: {result.message}" if result.message else result.status]
    if result.feedback:
        parts.append(f"Hint: {result.feedback}")
    if result.output.strip():
        parts.append("Output:\n" + result.output.rstrip())
    return "\n".join(parts)


def render_text(report: Report, *, color: bool = False, width: int = 110) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=color, no_color=not color, highlight=False)
    for line in header_lines(report):
        console.print(line)
    for exercise in report.exercises:
        table = Table(title=f"{exercise.title} [{exercise.id}]: {exercise.score:g} / {exercise.max_score:g}",
                      title_justify="left", expand=True, show_lines=False)
        table.add_column("test", ratio=3)
        table.add_column("points", justify="right", no_wrap=True)
        table.add_column("result", ratio=5)
        for result in exercise.tests:
            style = _STYLE.get(result.status, "red")
            label = result.name + ("" if result.visibility == "visible" else " (hidden)")
            detail = Text(result.status, style=style)
            if result.message:
                detail.append(": " + result.message)
            if result.feedback:
                detail.append("\nHint: " + result.feedback, style="italic")
            if result.output.strip():
                detail.append("\nOutput: " + result.output.strip()[:500], style="dim")
            table.add_row(label, f"{result.score:g}/{result.max_score:g}", detail)
        console.print(table)
    if report.output.strip():
        console.print("Worker output:\n" + report.output.strip()[:2000])
    return buffer.getvalue()

"""Feedback pages a person would rather read: one per student, and one for the instructor.

Each student gets a self-contained HTML page and the same in Markdown: the score
breakdown, every test's message and hint, and any training curve embedded as a PNG.
The instructor's summary page shows the distribution of total scores and the pass rate
of every test, hardest first, so the tests most of the class fails stand out. Pages are
rendered from :class:`grader.results.Report` objects through the Jinja2 templates in
``templates/feedback/``; images are matplotlib PNGs inlined as data URIs, so a page is
one file that can be mailed or uploaded as it is.
"""

from __future__ import annotations

import base64
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import jinja2

from grader.reports.plots import training_curve_png
from grader.results import Report, TestResult

TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates" / "feedback"


def _status_class(result: TestResult) -> str:
    if result.status == "passed":
        return "passed"
    return "neutral" if result.status in ("skipped", "not applicable") else "lost"


def _curve_base64(result: TestResult) -> str:
    assert result.curve is not None
    title = f"{result.name}: {result.metrics.get('test_accuracy', '?')}% test accuracy"
    return base64.b64encode(training_curve_png(result.curve, title)).decode()


def _md_cell(text: str) -> str:
    """Text that stays inside one Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _environment(autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), undefined=jinja2.StrictUndefined,
                             autoescape=autoescape, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(status_class=_status_class, curve_base64=_curve_base64, md_cell=_md_cell)
    return env


def render_html(report: Report) -> str:
    """One student's self-contained feedback page."""
    return _environment(True).get_template("student.html.j2").render(report=report)


def render_markdown(report: Report) -> str:
    """The same feedback in Markdown, for platforms that show Markdown."""
    return _environment(False).get_template("student.md.j2").render(report=report)


@dataclass(frozen=True)
class TestRow:
    exercise: str
    test: str
    passed: int
    total: int
    common_failure: str

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 0.0


def pass_rates(reports: list[Report]) -> list[TestRow]:
    """Every test's pass count over the class, hardest first."""
    outcomes: dict[tuple[str, str], list[str]] = {}
    for report in reports:
        for t in report.tests():
            if t.status not in ("skipped", "not applicable"):
                outcomes.setdefault((t.exercise, t.name), []).append(t.status)
    rows = []
    for (exercise, test), statuses in outcomes.items():
        others = Counter(s for s in statuses if s != "passed").most_common(1)
        common = f"{others[0][0]} ({others[0][1]})" if others else ""
        rows.append(TestRow(exercise, test, statuses.count("passed"), len(statuses), common))
    return sorted(rows, key=lambda r: (r.rate, r.exercise, r.test))


def _png(fig: object) -> str:
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")  # type: ignore[attr-defined]
    return base64.b64encode(buffer.getvalue()).decode()


def _histogram(scores: list[float], max_score: float) -> str:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 3), dpi=100)
    ax = fig.subplots()
    ax.hist(scores, bins=min(20, max(5, len(set(scores)))), range=(0, max_score), color="tab:blue", edgecolor="white")
    ax.set_xlabel(f"total score (out of {max_score:g})")
    ax.set_ylabel("students")
    fig.tight_layout()
    return _png(fig)


def _pass_chart(rows: list[TestRow]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 0.28 * len(rows) + 1.2), dpi=100)
    ax = fig.subplots()
    labels = [f"{r.exercise}: {r.test[:50]}" for r in rows]
    rates = [100 * r.rate for r in rows]
    ax.barh(range(len(rows)), rates, color=["tab:red" if r.rate < 0.5 else "tab:green" for r in rows])
    ax.set_yticks(range(len(rows)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("students who passed (%)")
    fig.tight_layout()
    return _png(fig)


def render_summary(reports: list[Report]) -> str:
    """The instructor's page for a whole class."""
    if not reports:
        raise ValueError("no graded submissions to summarise")
    scores = [r.score for r in reports]
    max_score = max(r.max_score for r in reports)
    rows = pass_rates(reports)
    return _environment(True).get_template("summary.html.j2").render(
        students=len(reports), mean=statistics.fmean(scores), median=statistics.median(scores), max_score=max_score,
        full=sum(s >= max_score for s in scores), histogram=_histogram(scores, max_score), pass_chart=_pass_chart(rows),
        rows=rows)


def write_feedback(reports: dict[str, Report], folder: Path) -> list[Path]:
    """``<student>.html`` and ``<student>.md`` for each student, and ``summary.html``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for student, report in sorted(reports.items()):
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in student)
        for suffix, render in ((".html", render_html), (".md", render_markdown)):
            path = folder / f"{safe}{suffix}"
            path.write_text(render(report), encoding="utf-8")
            written.append(path)
    summary = folder / "summary.html"
    summary.write_text(render_summary(list(reports.values())), encoding="utf-8")
    return [*written, summary]

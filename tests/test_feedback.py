"""Feedback pages: per student (HTML and Markdown) and the instructor's summary, rendered for real.

The Chromium test opens each page in headless Chromium (Debian's `chromium`) and checks
that the screenshot shows something; it skips, saying why, where Chromium is absent.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from grader.gradebook import Gradebook
from grader.reports.feedback import pass_rates, render_html, render_markdown, render_summary, write_feedback
from grader import results
from tests.conftest import EXERCISES, ROOT, SOLUTIONS, grade_dir, solution_copy

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def reports(tmp_path_factory, xavier_spec):
    """A correct submission, a wrong one (with a training curve attached, as MNIST would), and a stub."""
    good = grade_dir(SOLUTIONS, xavier_spec)
    work = solution_copy(tmp_path_factory.mktemp("wrong"))
    shutil.copy(ROOT / "tests" / "mistakes" / "xavier" / "fan_in_only.py", work / "xavier_init.py")
    wrong = grade_dir(work, xavier_spec)
    curve = results.TrainingCurve(step=[20, 40, 60], loss=[2.0, 0.5, 0.2], lr=[0.001, 0.005, 0.002], epoch_step=[30, 60],
                          val_accuracy=[0.97, 0.99])
    wrong.exercises[0].tests.append(results.TestResult(
        exercise="xavier", name="a training run", kind="convergence", status="failed", score=0, max_score=1,
        visibility="visible", message="test accuracy 98.70% (pass mark 99%) <b>not bold</b>", curve=curve,
        metrics={"test_accuracy": 98.7}))
    build = tmp_path_factory.mktemp("build")
    subprocess.run([sys.executable, "-m", "grader.cli", "build", str(EXERCISES), "-o", str(build), "--exercise",
                    "xavier"], check=True, capture_output=True)
    return {"ada": good, "ben": wrong, "cy": grade_dir(build / "student", xavier_spec)}


def test_a_student_page_shows_the_breakdown_messages_hints_and_curve(reports):
    page = render_html(reports["ben"])
    assert f"{reports['ben'].score:g} / {reports['ben'].max_score:g} points" in page
    lost = [t for t in reports["ben"].tests() if t.status == "failed" and t.kind != "convergence"]
    assert lost and all(t.name in page for t in lost)
    assert "Hint:" in page and lost[0].feedback.split()[0] in page
    assert page.count("data:image/png;base64,") == 1
    assert "&lt;b&gt;not bold&lt;/b&gt;" in page and "<b>not bold</b>" not in page  # messages are escaped
    assert not re.search(r'(src|href)="(https?:)?//', page), "the page must be self-contained"


def test_the_markdown_page_holds_the_same_facts(reports):
    md = render_markdown(reports["ben"])
    assert md.startswith("# Feedback for")
    assert "| test | points | result |" in md and "![training curve of a training run](data:image/png;base64," in md
    rows = [line for line in md.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 1 + len(reports["ben"].tests())  # one row per test, none broken by a newline or a pipe


def test_pass_rates_put_the_hardest_tests_first(reports):
    rows = pass_rates(list(reports.values()))
    assert [r.rate for r in rows] == sorted(r.rate for r in rows)
    hardest = rows[0]
    assert hardest.passed < hardest.total and hardest.common_failure
    summary = render_summary(list(reports.values()))
    assert "3 submissions" in summary and summary.count("data:image/png;base64,") == 2
    assert 'class="hard"' in summary


def test_grader_feedback_writes_a_page_per_student_and_the_summary(tmp_path, reports):
    db = tmp_path / "gradebook.sqlite"
    with Gradebook(db) as book:
        for student, report in reports.items():
            book.record(student, report)
    out = tmp_path / "feedback"
    result = subprocess.run([sys.executable, "-m", "grader.cli", "feedback", "--gradebook", str(db), "-o", str(out)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["ada.html", "ada.md", "ben.html", "ben.md", "cy.html", "cy.md",
                                                     "summary.html"]
    assert "not implemented" in (out / "cy.html").read_text()


def test_grade_writes_html_and_markdown_reports(tmp_path):
    for fmt, marker in (("html", "<!DOCTYPE html>"), ("markdown", "# Feedback for")):
        out = tmp_path / f"report.{fmt}"
        result = subprocess.run([sys.executable, "-m", "grader.cli", "grade", str(SOLUTIONS), "--specs", str(EXERCISES),
                                 "--exercise", "l2", "--format", fmt, "-o", str(out)], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        assert out.read_text().startswith(marker)


@pytest.mark.skipif(CHROMIUM is None, reason="needs headless Chromium (Debian's chromium package) to render the pages")
def test_pages_render_in_headless_chromium(tmp_path, reports):
    import matplotlib.image

    write_feedback(reports, tmp_path)
    for page in ("ben.html", "summary.html"):
        shot = tmp_path / f"{page}.png"
        subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                        "--disable-dev-shm-usage", "--hide-scrollbars", "--window-size=1200,1600",
                        f"--screenshot={shot}", (tmp_path / page).as_uri()],
                       capture_output=True, timeout=120, check=True)
        pixels = matplotlib.image.imread(shot)
        assert pixels.shape[:2] == (1600, 1200)
        # A blank or failed render is one flat colour; a page with text, tables and charts is not.
        assert float(np.std(pixels[..., :3])) > 0.05, page
        assert len(np.unique(pixels[..., :3].reshape(-1, 3), axis=0)) > 50, page

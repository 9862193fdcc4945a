"""Batch grading into the gradebook: every student recorded, interrupted runs resume, exports agree."""

from __future__ import annotations

import csv
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.batch import discover, grade_folder, is_batch_folder
from grader.gradebook import Gradebook
from tests.conftest import EXERCISES, FAST_LIMITS, ROOT, SOLUTIONS

XAVIER = (SOLUTIONS / "xavier_init.py").read_text()


def make_batch(folder: Path, student_build: Path | None = None) -> dict[str, str]:
    """Submissions of every kind; returns student -> what it is."""
    kinds = {
        "ada": ("correct", XAVIER),
        "ben": ("wrong", (ROOT / "tests/mistakes/xavier/fan_in_only.py").read_text()),
        "cy": ("crash at import", "import os\nos._exit(3)\n"),
        "dee": ("hangs", XAVIER.replace("    fan_in, fan_out = fan_in_and_fan_out(tensor)\n    std =",
                                        "    while gain > 1.0:\n        pass\n    std =")),
        "eve": ("syntax error", XAVIER + "\ndef broken(:\n"),
    }
    for student, (_, source) in kinds.items():
        (folder / student).mkdir(parents=True)
        (folder / student / "xavier_init.py").write_text(source)
    shutil.make_archive(str(folder / "fay"), "zip", SOLUTIONS)
    (folder / "gus.zip").write_bytes(b"this is not a zip")
    info = {s: k for s, (k, _) in kinds.items()} | {"fay": "zip", "gus": "unreadable zip"}
    return info


@pytest.fixture()
def batch_dir(tmp_path):
    folder = tmp_path / "submissions"
    folder.mkdir()
    return folder, make_batch(folder)


def counts(db: Path) -> tuple[int, int, list[tuple[str, int]]]:
    con = sqlite3.connect(db)
    try:
        attempts = con.execute("SELECT COUNT(*) FROM attempts").fetchone()[0]
        results = con.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        per = con.execute("SELECT a.student, COUNT(r.test) FROM attempts a JOIN results r ON r.attempt_id = a.id "
                          "GROUP BY a.id ORDER BY a.student").fetchall()
    finally:
        con.close()
    return attempts, results, per


def test_a_batch_records_every_student_with_its_verdict(batch_dir, tmp_path, xavier_spec):
    folder, info = batch_dir
    assert is_batch_folder(folder) and not is_batch_folder(SOLUTIONS)
    n_tests = len(xavier_spec[0].spec.tests)
    with Gradebook(tmp_path / "gb.sqlite") as book:
        outcomes = grade_folder(folder, xavier_spec, book, jobs=2, limits=FAST_LIMITS)
        rows = {r.student: r for r in book.latest()}
    assert sorted(o.student for o in outcomes) == sorted(info)
    assert counts(tmp_path / "gb.sqlite")[:2] == (len(info), len(info) * n_tests)
    full = xavier_spec[0].spec.points
    assert rows["ada"].total == rows["fay"].total == full
    assert 0 < rows["ben"].total < full and 0 < rows["dee"].total < full
    assert rows["cy"].total == rows["eve"].total == rows["gus"].total == 0
    # Unchanged submissions are not graded again; --regrade grades them all again.
    with Gradebook(tmp_path / "gb.sqlite") as book:
        again = grade_folder(folder, xavier_spec, book, jobs=2, limits=FAST_LIMITS)
        assert all(o.skipped for o in again)
        grade_folder(folder, xavier_spec, book, jobs=2, limits=FAST_LIMITS, regrade=True)
    assert counts(tmp_path / "gb.sqlite")[0] == 2 * len(info)


def test_roster_maps_names_to_student_ids(batch_dir, tmp_path):
    folder, info = batch_dir
    roster = tmp_path / "roster.csv"
    roster.write_text("submission,student_id\nada,s001\nfay.zip,s006\n")
    ids = {e.path.name: e.student for e in discover(folder, roster)}
    assert ids["ada"] == "s001" and ids["fay.zip"] == "s006" and ids["ben"] == "ben"


def test_killed_mid_batch_leaves_no_partial_student_and_resumes(batch_dir, tmp_path, xavier_spec):
    folder, info = batch_dir
    db = tmp_path / "gb.sqlite"
    cmd = [sys.executable, "-m", "grader.cli", "grade", str(folder), "--specs", str(EXERCISES), "--exercise", "xavier",
           "--gradebook", str(db), "--jobs", "1"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not db.exists() or counts(db)[0] < 2):
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    n_tests = len(xavier_spec[0].spec.tests)
    attempts, results, per = counts(db)
    assert 2 <= attempts < len(info)
    assert results == attempts * n_tests and all(n == n_tests for _, n in per)
    done_before = {s for s, _ in per}
    subprocess.run(cmd, cwd=tmp_path, check=True, capture_output=True, timeout=600)
    attempts, results, per = counts(db)
    assert attempts == len(info) and results == len(info) * n_tests
    assert {s for s, _ in per} == set(info) >= done_before


def test_csv_export_matches_the_gradebook(batch_dir, tmp_path, xavier_spec):
    folder, info = batch_dir
    db = tmp_path / "gb.sqlite"
    with Gradebook(db) as book:
        grade_folder(folder, xavier_spec, book, jobs=2, limits=FAST_LIMITS)
        latest = {r.student: r for r in book.latest()}
    out = tmp_path / "grades.csv"
    subprocess.run([sys.executable, "-m", "grader.cli", "export", "csv", "--gradebook", str(db), "-o", str(out)],
                   check=True, capture_output=True)
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["student_id"] for r in rows] == sorted(info)
    for r in rows:
        assert float(r["xavier"]) == latest[r["student_id"]].scores["xavier"]
        assert float(r["total"]) == latest[r["student_id"]].total

"""Batch grading into the gradebook: every student recorded, interrupted runs resume, exports agree."""

from __future__ import annotations

import csv
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
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


def _attempts_so_far(db: Path) -> int:
    """Attempts recorded so far; 0 while the grader has not yet created the file or its tables."""
    try:
        return counts(db)[0] if db.exists() else 0
    except sqlite3.OperationalError:
        return 0


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
    while time.monotonic() < deadline and _attempts_so_far(db) < 2:
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


def _generated_class(folder: Path) -> dict[str, tuple[str, set[str] | None]]:
    """32 submissions: correct, wrong (from the catalogue), crashing, hanging, notebooks, zips, unreadable.

    Returns student -> (kind, the tests it must lose; None where any loss is right as long as it is total).
    """
    import nbformat
    import yaml

    catalogue = yaml.safe_load((ROOT / "tests" / "mistakes" / "xavier" / "catalogue.yaml").read_text())
    wrong = [v for v in catalogue if v.get("loses")]
    expected: dict[str, tuple[str, set[str] | None]] = {}

    def put(student: str, kind: str, source: str, loses: set[str] | None) -> None:
        (folder / student).mkdir()
        (folder / student / "xavier_init.py").write_text(source)
        expected[student] = (kind, loses)

    for i in range(8):
        put(f"correct{i:02d}", "correct", XAVIER + f"\n# student {i}\n", set())
    for i in range(8):
        v = wrong[i % len(wrong)]
        put(f"wrong{i:02d}", "wrong", (ROOT / "tests/mistakes/xavier" / v["file"]).read_text() + f"\n# {i}\n",
            set(v["loses"]))
    for i, crash in enumerate(["import os\nos._exit(3)\n", "raise RuntimeError('boom at import')\n",
                               "import ctypes\nctypes.string_at(0)\n", XAVIER + "\nimport sys\nsys.exit(1)\n"]):
        put(f"crash{i:02d}", "crash", crash, None)
    hang = XAVIER.replace("    fan_in, fan_out = fan_in_and_fan_out(tensor)\n    std =",
                          "    while True:\n        pass\n    std =")
    for i in range(4):
        put(f"hang{i:02d}", "hang", hang + f"\n# {i}\n", {"normal values on a Linear weight",
                                                           "normal values on a conv weight with gain",
                                                           "float64 weights stay float64", "normal draws only from "
                                                           "the given generator", "normal stays on the weight's device"})
    for i in range(4):  # notebooks: two with tagged cells, two of the student's own making
        nb = nbformat.v4.new_notebook()
        cell = nbformat.v4.new_code_cell(XAVIER)
        if i < 2:
            cell.metadata = {"tags": ["solution"], "grader": {"module": "xavier_init"}}
        nb.cells = [nbformat.v4.new_code_cell("print('scratch work')"), cell]
        (folder / f"nb{i:02d}.ipynb").write_text(nbformat.writes(nb))
        expected[f"nb{i:02d}"] = ("notebook", set())
    for i in range(3):
        with zipfile.ZipFile(folder / f"zip{i:02d}.zip", "w") as zf:
            zf.writestr("xavier_init.py", XAVIER + f"\n# {i}\n")
        expected[f"zip{i:02d}"] = ("zip", set())
    (folder / "junk.zip").write_bytes(b"not a zip at all")
    expected["junk"] = ("unreadable", None)
    return expected


def test_a_generated_class_of_32_is_graded_exactly_and_exports_agree(tmp_path, xavier_spec):
    from grader.reports.junit import render_junit

    folder = tmp_path / "class"
    folder.mkdir()
    expected = _generated_class(folder)
    assert len(expected) >= 30 and {k for k, _ in expected.values()} >= {"correct", "wrong", "crash", "hang",
                                                                          "notebook"}
    db = tmp_path / "gb.sqlite"
    limits = FAST_LIMITS.model_copy(update={"call_seconds": 2.0})
    with Gradebook(db) as book:
        outcomes = {o.student: o.report for o in grade_folder(folder, xavier_spec, book, jobs=2, limits=limits)}
        latest = {r.student: r for r in book.latest()}
    names = {t.name for t in xavier_spec[0].spec.tests if t.points > 0}  # 0-point CUDA checks cannot be lost
    full = xavier_spec[0].spec.points
    assert set(outcomes) == set(expected) == set(latest)
    for student, (kind, loses) in expected.items():
        report = outcomes[student]
        lost = {t.name for t in report.tests() if t.score < t.max_score}
        if loses is None:
            assert lost == names, (student, kind)
        else:
            assert lost == loses, (student, kind, lost ^ loses)
        if kind == "hang":
            assert {t.status for t in report.tests() if t.name in lost} == {"timeout"}
        assert latest[student].total == report.score == full - sum(t.max_score for t in report.tests()
                                                                   if t.name in lost)
        # JUnit: one failure or error per lost test, none for the rest.
        xml = render_junit(report)
        assert xml.count("<failure") + xml.count("<error") == len(lost), student
    rows = counts(db)
    assert rows[0] == len(expected) and rows[1] == len(expected) * len(xavier_spec[0].spec.tests)
    out = tmp_path / "grades.csv"
    subprocess.run([sys.executable, "-m", "grader.cli", "export", "csv", "--gradebook", str(db), "-o", str(out)],
                   check=True, capture_output=True)
    with open(out, newline="") as f:
        assert {r["student_id"]: float(r["total"]) for r in csv.DictReader(f)} == {
            s: latest[s].total for s in expected}


def test_a_dask_cluster_grades_the_batch_as_the_local_path_does(batch_dir, tmp_path, xavier_spec):
    distributed = pytest.importorskip("distributed", reason="needs Dask distributed (the [dask] extra)")
    folder, info = batch_dir
    with Gradebook(tmp_path / "local.sqlite") as book:
        grade_folder(folder, xavier_spec, book, jobs=2)
        local = {r.student: (r.scores, r.total) for r in book.latest()}
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        db = tmp_path / "dask.sqlite"
        address = "dask://" + cluster.scheduler_address.removeprefix("tcp://")
        result = subprocess.run([sys.executable, "-m", "grader.cli", "grade", str(folder), "--specs", str(EXERCISES),
                                 "--exercise", "xavier", "--gradebook", str(db), "--executor", address],
                                cwd=tmp_path, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr[-2000:]
        assert "grade_to_json" in cluster.scheduler.task_prefixes, "the submissions were not graded on the cluster"
    with Gradebook(db) as book:
        assert {r.student: (r.scores, r.total) for r in book.latest()} == local


def test_an_unknown_executor_is_a_clear_error(batch_dir, tmp_path):
    folder, _ = batch_dir
    result = subprocess.run([sys.executable, "-m", "grader.cli", "grade", str(folder), "--specs", str(EXERCISES),
                             "--exercise", "xavier", "--executor", "ray://x:1"], cwd=tmp_path, capture_output=True,
                            text=True)
    assert result.returncode == 2 and "use local or dask://HOST:PORT" in result.stderr

"""The gradebook: every test of every attempt, in SQLite, written one student at a time.

Each attempt is written in a single transaction, so a grader killed mid-batch (even
with SIGKILL) leaves either the whole attempt or nothing, and the next run resumes:
a submission whose bytes, specs and grader version match a recorded attempt is not
graded again unless asked to (``--regrade``).
"""

from __future__ import annotations

import datetime as _dt
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from grader.results import Report

SCHEMA = """
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY,
    student TEXT NOT NULL,
    submission TEXT NOT NULL,
    submission_sha256 TEXT NOT NULL,
    specs_key TEXT NOT NULL,
    grader_version TEXT NOT NULL,
    torch_version TEXT NOT NULL,
    device TEXT NOT NULL,
    isolation TEXT NOT NULL,
    mode TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    score REAL NOT NULL,
    max_score REAL NOT NULL,
    report_json TEXT
);
CREATE TABLE IF NOT EXISTS results (
    attempt_id INTEGER NOT NULL REFERENCES attempts(id) ON DELETE CASCADE,
    student TEXT NOT NULL,
    exercise TEXT NOT NULL,
    test TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    score REAL NOT NULL,
    max_score REAL NOT NULL,
    visibility TEXT NOT NULL,
    message TEXT NOT NULL,
    submission_sha256 TEXT NOT NULL,
    spec_sha256 TEXT NOT NULL,
    grader_version TEXT NOT NULL,
    device TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS attempts_by_student ON attempts(student, submission_sha256, specs_key);
"""


def specs_key(report: Report) -> str:
    """What the specs were: their ids and hashes, so a changed spec means a new grade."""
    return ",".join(f"{e.id}:{e.spec_sha256}" for e in sorted(report.exercises, key=lambda e: e.id))


@dataclass(frozen=True)
class StudentRow:
    student: str
    scores: dict[str, float]
    total: float
    max_total: float


class Gradebook:
    """A SQLite gradebook file; use as a context manager."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.db = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
        # Batch threads share this connection; one transaction at a time on it.
        self.lock = threading.Lock()
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.executescript(SCHEMA)
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(attempts)")}
        if "report_json" not in columns:  # a gradebook written before feedback pages existed
            self.db.execute("ALTER TABLE attempts ADD COLUMN report_json TEXT")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Gradebook":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def is_current(self, student: str, submission_sha256: str, key: str, grader_version: str) -> bool:
        """True when this exact submission was already graded with these specs by this grader."""
        with self.lock:
            row = self.db.execute(
                "SELECT 1 FROM attempts WHERE student=? AND submission_sha256=? AND specs_key=? AND grader_version=? "
                "LIMIT 1", (student, submission_sha256, key, grader_version)).fetchone()
        return row is not None

    def record(self, student: str, report: Report) -> int:
        """Write one attempt and all its test rows in one transaction; returns the attempt id."""
        finished = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        with self.lock:
            return self._record(student, report, finished)

    def _record(self, student: str, report: Report, finished: str) -> int:
        cur = self.db.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            cur.execute(
                "INSERT INTO attempts (student, submission, submission_sha256, specs_key, grader_version, torch_version,"
                " device, isolation, mode, started_at, finished_at, score, max_score, report_json)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (student, report.submission, report.submission_sha256, specs_key(report), report.grader_version,
                 report.torch_version, report.device, report.isolation, report.mode, report.started_at, finished,
                 report.score, report.max_score, report.model_dump_json()))
            attempt = int(cur.lastrowid)
            cur.executemany(
                "INSERT INTO results VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [(attempt, student, e.id, t.name, t.kind, t.status, t.score, t.max_score, t.visibility, t.message,
                  report.submission_sha256, e.spec_sha256, report.grader_version, report.device, report.started_at,
                  finished)
                 for e in report.exercises for t in e.tests])
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        return attempt

    def latest_reports(self) -> dict[str, Report]:
        """Each student's latest full report (what feedback pages are drawn from)."""
        rows = self.db.execute(
            "SELECT a.student, a.report_json FROM attempts a WHERE a.report_json IS NOT NULL"
            " AND a.id = (SELECT MAX(b.id) FROM attempts b WHERE b.student = a.student) ORDER BY a.student").fetchall()
        return {student: Report.model_validate_json(data) for student, data in rows}

    def latest(self) -> list[StudentRow]:
        """Each student's latest attempt: score per exercise and the total, sorted by student."""
        attempts = self.db.execute(
            "SELECT a.id, a.student, a.score, a.max_score FROM attempts a"
            " WHERE a.id = (SELECT MAX(b.id) FROM attempts b WHERE b.student = a.student) ORDER BY a.student").fetchall()
        rows = []
        for attempt, student, score, max_score in attempts:
            per = dict(self.db.execute("SELECT exercise, SUM(score) FROM results WHERE attempt_id=? GROUP BY exercise",
                                       (attempt,)).fetchall())
            rows.append(StudentRow(student, per, score, max_score))
        return rows

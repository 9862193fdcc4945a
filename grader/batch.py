"""Grading many submissions: one worker per submission, several at once, into a gradebook.

This module imports torch (through :mod:`grader.grading`) only when grading starts, so
that the CLI can start the worker before paying for ``import torch`` itself.

Each submission gets its own worker process, so a submission that crashes, hangs or
attacks the grader is recorded with its verdict and cannot touch the others. A
submission that cannot even be read (a zip bomb, a broken notebook) is recorded too,
with the reason on every test.
"""

from __future__ import annotations

import csv
import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from grader.executors import Executor, LocalExecutor
from grader.gradebook import Gradebook, specs_key
from grader.limits import DEFAULT_LIMITS, Limits
from grader.results import Report
from grader.spec import LoadedSpec, definition_owners
from grader.submission import Submission, SubmissionError, load_submission


def grade_batch(submissions: list[Submission], specs: list[LoadedSpec], *, hidden: bool = True,
                limits: Limits = DEFAULT_LIMITS, jobs: int = 2,
                on_report: Callable[[Report], None] | None = None) -> list[Report]:
    """Grade every submission (``jobs`` at a time); reports come back in the input's order."""
    from grader import sandbox
    from grader.grading import grade

    sandbox.prestart()

    def one(sub: Submission) -> Report:
        report = grade(sub, specs, hidden=hidden, limits=limits)
        if on_report:
            on_report(report)
        return report

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, submissions))


@dataclass(frozen=True)
class Entry:
    """One student's submission in a batch folder."""

    student: str
    path: Path


def is_batch_folder(path: Path) -> bool:
    """A folder of submissions (sub-folders, zips, notebooks) rather than one folder of .py files."""
    if not path.is_dir() or any(path.glob("*.py")):
        return False
    return any(_is_entry(p) for p in path.iterdir())


def _is_entry(p: Path) -> bool:
    return not p.name.startswith(".") and (p.is_dir() or p.suffix in (".zip", ".ipynb"))


def discover(folder: Path, roster: Path | None = None) -> list[Entry]:
    """Every submission in ``folder``; the student id is the entry's name, or the roster's mapping.

    A roster is a CSV with columns ``submission`` (the file or folder name, with or
    without extension) and ``student_id``.
    """
    names: dict[str, str] = {}
    if roster is not None:
        with open(roster, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            if not reader.fieldnames or not {"submission", "student_id"} <= set(reader.fieldnames):
                raise SubmissionError(f"{roster}: a roster needs the columns submission and student_id")
            names = {row["submission"].strip(): row["student_id"].strip() for row in reader}
    entries = []
    for p in sorted(folder.iterdir()):
        if _is_entry(p):
            student = names.get(p.name) or names.get(p.stem) or p.stem
            entries.append(Entry(student, p))
    return entries


@dataclass
class BatchOutcome:
    student: str
    report: Report | None  # None when the gradebook already held this exact attempt
    skipped: bool = False


def grade_folder(folder: Path, specs: list[LoadedSpec], gradebook: Gradebook, *, roster: Path | None = None,
                 jobs: int = 2, regrade: bool = False, limits: Limits = DEFAULT_LIMITS,
                 on_done: Callable[[BatchOutcome], None] | None = None,
                 executor: Executor | None = None, secret: bytes | None = None) -> list[BatchOutcome]:
    """Grade every submission in ``folder`` into ``gradebook``, skipping unchanged ones unless ``regrade``.

    ``executor`` says where each submission is graded (:mod:`grader.executors`); by
    default here, ``jobs`` at a time. With ``secret``, variant records are verified and
    must name the student (:mod:`grader.variants`).
    """
    from grader import __version__
    from grader.grading import unreadable_report

    run = executor or LocalExecutor(jobs)

    key = ",".join(f"{s.spec.id}:{s.sha256}" for s in sorted(specs, key=lambda s: s.spec.id))
    owners = definition_owners(specs)

    def one(entry: Entry) -> BatchOutcome:
        try:
            sub: Submission | None = load_submission(entry.path, owners)
            sha = sub.sha256
        except SubmissionError as exc:
            sub, reason = None, str(exc)
            sha = hashlib.sha256(entry.path.read_bytes()).hexdigest() if entry.path.is_file() else "0" * 64
        if not regrade and gradebook.is_current(entry.student, sha, key, __version__):
            outcome = BatchOutcome(entry.student, None, skipped=True)
            if on_done:
                on_done(outcome)
            return outcome
        report = (run(sub, specs, limits, secret=secret, student=entry.student) if sub
                  else unreadable_report(entry.path.name, specs, reason, sha))
        assert specs_key(report) == key
        gradebook.record(entry.student, report)
        outcome = BatchOutcome(entry.student, report)
        if on_done:
            on_done(outcome)
        return outcome

    with ThreadPoolExecutor(max_workers=run.slots) as pool:
        return list(pool.map(one, discover(folder, roster)))

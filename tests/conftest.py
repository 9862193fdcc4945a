"""Shared fixtures: the repository's specs and solutions, and helpers to grade files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader.grading import grade
from grader.limits import Limits
from grader.results import Report
from grader.spec import LoadedSpec, load_specs
from grader.submission import load_submission

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = ROOT / "exercises"
SOLUTIONS = ROOT / "solutions"
#: Short limits so that tests of hanging code stay quick.
FAST_LIMITS = Limits(call_seconds=3.0, submission_seconds=60.0)


def unit_specs() -> list[LoadedSpec]:
    """Every exercise but those that train on MNIST, whose minute-long runs live in test_mnist.py."""
    return [s for s in load_specs(EXERCISES) if not any(t.kind == "convergence" for t in s.spec.tests)]


@pytest.fixture(scope="session")
def all_specs() -> list[LoadedSpec]:
    """The seven unit exercises (see :func:`unit_specs`)."""
    return unit_specs()


@pytest.fixture(scope="session")
def xavier_spec() -> list[LoadedSpec]:
    return load_specs(EXERCISES, ["xavier"])


def solution_copy(tmp_path: Path) -> Path:
    """A copy of solutions/ to break one file of."""
    dest = tmp_path / "submission"
    shutil.copytree(SOLUTIONS, dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def grade_dir(path: Path, specs: list[LoadedSpec], *, hidden: bool = True, limits: Limits = FAST_LIMITS) -> Report:
    return grade(load_submission(path), specs, hidden=hidden, limits=limits)



# -- the CUDA run: `pytest -m cuda` ends with what ran, what it measured and on which device ---

CUDA_SUMMARY: list[str] = []
needs_cuda = pytest.mark.skipif(not __import__("torch").cuda.is_available(),
                                reason="needs CUDA: torch.cuda.is_available() is False on this machine")


@pytest.fixture()
def cuda_summary() -> list[str]:
    """Lines a CUDA test adds to the end-of-run summary."""
    return CUDA_SUMMARY


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    import torch

    cuda_reports = [r for key in ("passed", "failed", "skipped") for r in terminalreporter.stats.get(key, [])
                    if "cuda" in getattr(r, "keywords", {})]
    if not cuda_reports:
        return
    terminalreporter.section("CUDA summary")
    if torch.cuda.is_available():
        terminalreporter.write_line(f"device: {torch.cuda.get_device_name()}, torch {torch.__version__}")
    else:
        terminalreporter.write_line(f"no CUDA device: {len(cuda_reports)} CUDA test(s) skipped, none passed silently")
    for line in CUDA_SUMMARY:
        terminalreporter.write_line(line)


@pytest.fixture(autouse=True)
def _fresh_training_options(monkeypatch):
    """`grade --device/--data-dir` set environment variables for the checks; keep each test's to itself."""
    monkeypatch.delenv("GRADER_DEVICE", raising=False)
    monkeypatch.delenv("GRADER_MNIST_DIR", raising=False)

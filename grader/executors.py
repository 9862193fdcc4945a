"""Where a batch's per-submission grading runs: here (the default) or on a Dask cluster.

A batch always reads the submissions and writes the gradebook in this process; only
the grading of one submission (its worker, its checks) moves. ``--executor
dask://HOST:PORT`` sends each submission's files and the specs to a Dask distributed
scheduler; a Dask worker (with nn-grader installed) grades it exactly as the local path
does, sandboxed worker and all, and sends back the report as JSON, which is validated
here before it reaches the gradebook.
"""

from __future__ import annotations

from typing import Protocol

from grader.limits import Limits
from grader.results import Report
from grader.spec import LoadedSpec
from grader.submission import Submission


class Executor(Protocol):
    """Grades one submission somewhere; ``slots`` is how many it can grade at once."""

    slots: int

    def __call__(self, submission: Submission, specs: list[LoadedSpec], limits: Limits, *,
                 secret: bytes | None = None, student: str | None = None) -> Report: ...

    def close(self) -> None: ...


class LocalExecutor:
    """Grading in this process's threads (each submission still gets its own sandboxed worker)."""

    def __init__(self, slots: int) -> None:
        from grader import sandbox

        self.slots = max(1, slots)
        sandbox.prestart()

    def __call__(self, submission: Submission, specs: list[LoadedSpec], limits: Limits, *,
                 secret: bytes | None = None, student: str | None = None) -> Report:
        from grader.grading import grade

        return grade(submission, specs, hidden=True, limits=limits, secret=secret, student=student)

    def close(self) -> None:
        """Nothing to release: each submission's worker is closed by its own grading."""


def grade_to_json(submission: Submission, specs: list[LoadedSpec], limits: Limits, secret: bytes | None,
                  student: str | None) -> str:
    """The job a Dask worker runs: the local path, with the report returned as plain JSON."""
    from grader.grading import grade

    return grade(submission, specs, hidden=True, limits=limits, secret=secret, student=student).model_dump_json()


class DaskExecutor:
    """Grading on a Dask distributed cluster, one task per submission."""

    def __init__(self, address: str) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise RuntimeError("--executor dask:// needs Dask: pip install 'nn-grader[dask]'") from None
        self.client = Client(address, timeout="30s")
        self.slots = max(1, sum(self.client.nthreads().values()))

    def __call__(self, submission: Submission, specs: list[LoadedSpec], limits: Limits, *,
                 secret: bytes | None = None, student: str | None = None) -> Report:
        future = self.client.submit(grade_to_json, submission, specs, limits, secret, student, pure=False)
        return Report.model_validate_json(future.result())

    def close(self) -> None:
        self.client.close()


def executor_for(uri: str, jobs: int) -> Executor:
    """``local`` or ``dask://HOST:PORT`` (also ``tcp://``, as Dask writes it)."""
    if uri == "local":
        return LocalExecutor(jobs)
    for scheme in ("dask://", "tcp://"):
        if uri.startswith(scheme):
            return DaskExecutor("tcp://" + uri[len(scheme):])
    raise ValueError(f"--executor {uri!r}: use local or dask://HOST:PORT")

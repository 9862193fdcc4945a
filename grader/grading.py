"""Grading: spec + submission -> worker -> checks -> results.

:func:`grade` runs every selected test of every selected exercise against one
submission and returns a :class:`grader.results.Report`. One worker serves the whole
submission; a test that times out or crashes it scores 0 and the next test gets a
fresh worker. Whatever the student's code does, this function returns a report; it
raises only when the grader itself cannot run (a reference that fails, say).
"""

from __future__ import annotations

import datetime as _dt
import platform
import time
from typing import Callable

from grader import __version__, variants
from grader.checks import Outcome, check_for
from grader.limits import DEFAULT_LIMITS, Limits
from grader.results import ExerciseResult, Report, TestResult
from grader.sandbox import WorkerFailure
from grader.spec import ExerciseSpec, LoadedSpec
from grader.student_code import ImportFailed, StudentCode, StudentError
from grader.submission import Submission

ProgressHook = Callable[[TestResult], None]


def grade(submission: Submission, specs: list[LoadedSpec], *, hidden: bool = True,
          limits: Limits = DEFAULT_LIMITS, on_result: ProgressHook | None = None, secret: bytes | None = None,
          student: str | None = None) -> Report:
    """Grade ``submission`` against ``specs``; ``hidden=False`` runs only visible tests (``check``).

    An exercise with per-student variants runs with the values recorded in the
    submitted file (:mod:`grader.variants`); with ``secret`` the record must carry a
    valid HMAC (and name ``student``, when given), or the exercise scores 0 with why.
    """
    started = _dt.datetime.now(_dt.timezone.utc)
    t0 = time.perf_counter()
    merged = worker_limits(specs, limits)
    code = StudentCode(submission.files, merged)
    code.start()  # the worker imports torch while this process does the same
    import torch

    from grader.checks.device import current_judge

    exercises: list[ExerciseResult] = []
    try:
        for loaded in specs:
            loaded, refused = _with_variant(loaded, submission.files, secret, student)
            spec = loaded.spec
            code.call_limits = limits.merged(spec.limits)
            results = []
            for test in spec.tests:
                if not hidden and not test.visible:
                    continue
                result = run_test(test, spec, code) if refused is None else TestResult(
                    exercise=spec.id, name=test.name, kind=test.kind, status="forbidden", score=0.0,
                    max_score=test.points, visibility=test.visibility, message=refused)
                results.append(result)
                if on_result:
                    on_result(result)
            exercises.append(ExerciseResult(id=spec.id, title=spec.title, spec_sha256=loaded.sha256, tests=results,
                                            variant=loaded.variant))
        output = code.output()
    finally:
        code.close()
    return Report(
        submission=submission.name,
        submission_sha256=submission.sha256,
        mode="grade" if hidden else "check",
        grader_version=__version__,
        torch_version=code.torch_version or torch.__version__,
        python_version=platform.python_version(),
        device="cuda: " + torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu",
        device_judge=current_judge(),
        isolation=code.isolation,
        started_at=started.isoformat(timespec="seconds"),
        execution_time=round(time.perf_counter() - t0, 3),
        worker_startup_seconds=round(code.startup_seconds, 3),
        transfer_seconds=round(code.transfer_seconds, 3),
        exercises=exercises,
        output=output,
    )


def unreadable_report(name: str, specs: list[LoadedSpec], reason: str, sha256: str) -> Report:
    """A report for a submission that could not be read: every test scores 0 with the reason."""
    import torch

    from grader.checks.device import current_judge

    now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    exercises = [ExerciseResult(id=s.spec.id, title=s.spec.title, spec_sha256=s.sha256, tests=[
        TestResult(exercise=s.spec.id, name=t.name, kind=t.kind, status="error", score=0.0, max_score=t.points,
                   visibility=t.visibility, message=f"the submission could not be read: {reason}")
        for t in s.spec.tests]) for s in specs]
    return Report(submission=name, submission_sha256=sha256, mode="grade", grader_version=__version__,
                  torch_version=torch.__version__, python_version=platform.python_version(), device="none",
                  device_judge=current_judge(), isolation="not started: the submission could not be read",
                  started_at=now, execution_time=0.0, worker_startup_seconds=0.0, exercises=exercises)


def _with_variant(loaded: LoadedSpec, files: dict[str, bytes], secret: bytes | None,
                  student: str | None) -> tuple[LoadedSpec, str | None]:
    """The spec with the submission's recorded variant, or the reason the record is refused."""
    spec = loaded.spec
    if not spec.variants or f"{spec.module}.py" not in files:
        return loaded, None
    name = f"{spec.module}.py"
    restore = f"copy the GRADER_VARIANT line of your {name} stub back, unchanged"
    try:
        record = variants.read(files[name])
    except ValueError as exc:
        return loaded, f"{name}: {exc}; {restore}"
    if record is None:
        return (loaded, f"{name} has no GRADER_VARIANT line, so your variant is unknown; {restore}") if secret else (
            loaded, None)
    if record.exercise != spec.id or set(record.values) != set(spec.variants):
        return loaded, f"{name}: the GRADER_VARIANT line is not this exercise's; {restore}"
    if secret is not None and not variants.verify(record, secret):
        return loaded, f"{name}: the GRADER_VARIANT line was edited (its signature does not match); {restore}"
    if secret is not None and student is not None and record.student != student:
        return loaded, f"{name}: the GRADER_VARIANT line belongs to {record.student!r}, not {student!r}; {restore}"
    return loaded.with_variant(record.values), None


def worker_limits(specs: list[LoadedSpec], limits: Limits) -> Limits:
    """The worker's limits: the defaults, raised where any selected spec asks for more.

    One worker serves every exercise of a submission, so its memory, disk and total CPU
    must fit the most demanding one; per-call clocks follow each exercise's own spec.
    """
    merged = limits
    for loaded in specs:
        if loaded.spec.limits is not None:
            wanted = merged.merged(loaded.spec.limits)
            merged = merged.model_copy(update={k: max(getattr(merged, k), getattr(wanted, k)) for k in Limits.model_fields})
            merged = merged.model_copy(update={"threads": max(merged.resolved_threads(), wanted.resolved_threads())})
    return merged


def run_test(test, spec: ExerciseSpec, code: StudentCode) -> TestResult:
    """One test's verdict: its check, with student errors and worker failures turned into statuses."""
    t0 = time.perf_counter()
    try:
        outcome = check_for(test.kind)(test, spec, code)
    except StudentError as exc:
        outcome = _student_error_outcome(exc, test)
    except WorkerFailure as exc:
        outcome = Outcome(False, str(exc), status=exc.verdict, output=exc.output)
    status = outcome.status or ("passed" if outcome.passed else "failed")
    if status in ("skipped", "not applicable"):
        score, max_score = (test.points, test.points) if status == "not applicable" else (0.0, 0.0)
    else:
        score, max_score = (test.points if status == "passed" else 0.0), test.points
    return TestResult(
        exercise=spec.id, name=test.name, kind=test.kind, status=status, score=score, max_score=max_score,
        visibility=test.visibility, message=outcome.message,
        feedback=test.feedback if status not in ("passed", "skipped", "not applicable") else "",
        output=outcome.output[:4000], seconds=round(time.perf_counter() - t0, 4),
        metrics=outcome.metrics, curve=outcome.curve,
    )


#: OSErrors that mean the sandbox said no: read-only file system, disk or file size limit.
_REFUSED_ERRNOS = ("[Errno 30]", "[Errno 28]", "[Errno 27]", "[Errno 122]")


def _student_error_outcome(exc: StudentError, test) -> Outcome:
    where = f"{exc.function} " if exc.function else ""
    if exc.kind == "NotImplementedError":
        return Outcome(False, f"{where or 'the code '}is not implemented yet (it raises NotImplementedError)",
                       status="not implemented", output=exc.output)
    if exc.kind == "ForbiddenCall":
        return Outcome(False, f"{where}calls {exc.message}", status="forbidden", output=exc.output)
    if exc.kind == "OutputRefused":
        return Outcome(False, f"{exc.function or 'the code'}: {exc.message}", status="output refused", output=exc.output)
    if exc.kind == "SystemExit":
        return Outcome(False, f"{where}tried to end the worker: {exc.message}", status="crashed", output=exc.output)
    if exc.kind in ("PermissionError", "LeftRunning") or any(code in exc.message for code in _REFUSED_ERRNOS):
        return Outcome(False, f"{where}did something the sandbox refuses: {exc.kind}: {exc.message}",
                       status="forbidden", output=exc.output)
    if exc.kind == "MemoryError" or "can't allocate memory" in exc.message:
        return Outcome(False, f"{where}ran out of memory (the worker's memory limit): {exc.message}",
                       status="memory limit", output=exc.output)
    plain = isinstance(exc, ImportFailed) or exc.kind in ("MissingFunction", "WrongResult")
    message = exc.message if plain else f"{where}raised {exc.kind}: {exc.message}"
    if exc.traceback:
        message += "\n" + exc.traceback.rstrip()
    return Outcome(False, message, status="error", output=exc.output)


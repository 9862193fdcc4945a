"""The pytest plugin: ``pytest --grader-submission DIR`` runs the exercise specs as test items.

Students and course CI already know pytest, so the specs can run there too: each test
of each YAML spec becomes one item, named ``<spec file>::<test name>``, so ``-k``,
``--junitxml``, ``-x`` and the usual reports work as people expect. Items run through
the same trusted path as ``grader check``: one worker per session serves every item,
:func:`grader.grading.run_test` makes the verdict, and an item passes exactly when
that verdict is ``passed`` (``skipped`` and ``not applicable`` become pytest skips).
Hidden tests run only with ``--grader-hidden``, as with ``grader grade``.

Registered through the ``pytest11`` entry point; without ``--grader-submission`` it
adds nothing to a session.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from grader.limits import DEFAULT_LIMITS
from grader.spec import LoadedSpec, SpecError, definition_owners, load_specs
from grader.stubs import STUDENT_SPECS


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("grader", "exercise specs as tests (nn-grader)")
    group.addoption("--grader-submission", metavar="DIR", default=None,
                    help="run the exercise specs against this submission (a folder, .zip or .ipynb)")
    group.addoption("--grader-specs", metavar="DIR", default=None,
                    help="the folder of specs (default: SUBMISSION/.grader/exercises, then ./exercises)")
    group.addoption("--grader-hidden", action="store_true", default=False,
                    help="also run hidden tests, as `grader grade` does")


class GraderSession:
    """The submission, its worker and the specs, shared by every item of the session."""

    def __init__(self, submission: Path, specs: list[LoadedSpec]) -> None:
        from grader.grading import worker_limits
        from grader.student_code import StudentCode
        from grader.submission import load_submission

        self.specs = specs
        self.submission = load_submission(submission, definition_owners(specs))
        self.code = StudentCode(self.submission.files, worker_limits(specs, DEFAULT_LIMITS))

    def close(self) -> None:
        self.code.close()


def _specs_dir(config: pytest.Config, submission: Path) -> Path:
    named = config.getoption("--grader-specs")
    if named:
        return Path(named)
    inside = submission / STUDENT_SPECS if submission.is_dir() else submission.parent / STUDENT_SPECS
    return inside if inside.is_dir() else Path("exercises")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "grader: a test from an exercise spec, run by --grader-submission")
    submission = config.getoption("--grader-submission")
    if not submission:
        return
    path = Path(submission)
    try:
        specs = load_specs(_specs_dir(config, path))
    except SpecError as exc:
        raise pytest.UsageError(f"--grader-submission: {exc}") from None
    from grader.submission import SubmissionError

    try:
        config.stash[_SESSION] = GraderSession(path, specs)
    except SubmissionError as exc:
        raise pytest.UsageError(f"--grader-submission: {exc}") from None


def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(_SESSION, None)
    if session is not None:
        session.close()


_SESSION = pytest.StashKey[GraderSession]()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Add one item per spec test, before ``-k`` and ``-m`` deselect (hence tryfirst)."""
    state = config.stash.get(_SESSION, None)
    if state is None:
        return
    hidden = config.getoption("--grader-hidden")
    for loaded in state.specs:
        spec_file = SpecFile.from_parent(session, path=loaded.path.resolve(), loaded=loaded, hidden=hidden)
        items.extend(spec_file.collect())


class SpecFile(pytest.File):
    """A YAML spec, as a collector of its tests."""

    def __init__(self, *, loaded: LoadedSpec, hidden: bool, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.loaded, self.hidden = loaded, hidden

    def collect(self) -> Iterator["SpecItem"]:
        for test in self.loaded.spec.tests:
            if self.hidden or test.visible:
                yield SpecItem.from_parent(self, name=test.name, test=test)


class SpecFailed(Exception):
    """A spec test whose verdict was not ``passed``."""


class SpecItem(pytest.Item):
    """One test of one spec, judged by the grader's own check."""

    def __init__(self, *, test: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.test = test
        self.add_marker(pytest.mark.grader)
        self.user_properties.append(("points", test.points))

    def runtest(self) -> None:
        from grader.grading import run_test

        state = self.config.stash[_SESSION]
        spec = self.parent.loaded.spec  # type: ignore[attr-defined]
        state.code.call_limits = DEFAULT_LIMITS.merged(spec.limits)
        result = run_test(self.test, spec, state.code)
        self.user_properties.append(("score", result.score))
        if result.status in ("skipped", "not applicable"):
            pytest.skip(f"{result.status}: {result.message}")
        if result.status != "passed":
            hint = f"\nhint: {result.feedback}" if result.feedback else ""
            output = f"\noutput:\n{result.output}" if result.output else ""
            raise SpecFailed(f"{result.status}: {result.message}{hint}{output}")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, SpecFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"{self.parent.loaded.spec.id}: {self.name}"  # type: ignore[attr-defined]

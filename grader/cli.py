"""The ``grader`` command: thin click commands over typed module functions.

* ``grader build SPECS -o OUT``: stubs for students (:func:`grader.stubs.build`);
* ``grader check [SUBMISSION]``: the visible tests, for students;
* ``grader grade SUBMISSION``: every test, hidden ones included, for course staff.

Exit status is 0 whenever grading ran, whatever the score, and 2 when the grader
itself could not run (a bad spec, a missing path), with a one-line error.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from grader import __version__
from grader.limits import DEFAULT_LIMITS
from grader.spec import LoadedSpec, SpecError, load_specs
from grader.stubs import STUDENT_SPECS
from grader.submission import SubmissionError, load_submission

FORMAT = click.Choice(["text", "json", "gradescope"])


class GraderError(click.ClickException):
    """A one-line error for the user; exit status 2."""

    exit_code = 2

    def show(self, file=None) -> None:  # type: ignore[override]
        click.echo(f"error: {self.message}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="grader")
def main() -> None:
    """Exercises on training neural networks, and their autograder."""


@main.command()
@click.argument("specs_dir", type=click.Path(path_type=Path), default="exercises")
@click.option("-o", "--out", type=click.Path(path_type=Path), default=Path("build"), show_default=True,
              help="where to write; the student folder is OUT/student")
@click.option("--exercise", "exercises", multiple=True, help="build only this exercise (repeatable)")
def build(specs_dir: Path, out: Path, exercises: tuple[str, ...]) -> None:
    """Render the specs in SPECS_DIR into stubs, a notebook and a README for students."""
    from grader.stubs import build as build_stubs

    specs = _load(specs_dir, exercises)
    try:
        written = build_stubs(specs, out)
    except SpecError as exc:
        raise GraderError(str(exc)) from None
    click.echo(f"Wrote {len(written)} files for {len(specs)} exercises to {out / 'student'}")


def _grading_options(func):
    func = click.option("--specs", "specs_dir", type=click.Path(path_type=Path), default=None,
                        help="folder of exercise specs (default: SUBMISSION/.grader/exercises, then ./exercises)")(func)
    func = click.option("--exercise", "exercises", multiple=True, help="only this exercise (repeatable)")(func)
    func = click.option("--format", "fmt", type=FORMAT, default="text", show_default=True, help="report format")(func)
    func = click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
                        help="write the report to this file instead of the terminal")(func)
    return func


@main.command()
@click.argument("submission", type=click.Path(path_type=Path), default=".")
@_grading_options
def check(submission: Path, specs_dir: Path | None, exercises: tuple[str, ...], fmt: str, output: Path | None) -> None:
    """Run the visible tests on your work (a folder of .py files or a notebook)."""
    _run(submission, specs_dir, exercises, fmt, output, hidden=False)


@main.command()
@click.argument("submission", type=click.Path(path_type=Path))
@_grading_options
def grade(submission: Path, specs_dir: Path | None, exercises: tuple[str, ...], fmt: str, output: Path | None) -> None:
    """Grade a submission with every test, hidden ones included."""
    _run(submission, specs_dir, exercises, fmt, output, hidden=True)


def _run(submission: Path, specs_dir: Path | None, exercises: tuple[str, ...], fmt: str, output: Path | None,
         *, hidden: bool) -> None:
    from grader.grading import grade as grade_submission
    from grader.reports import FORMATS
    from grader.reports.text import render_text

    specs = _load(_specs_dir(submission, specs_dir), exercises)
    try:
        sub = load_submission(submission)
    except SubmissionError as exc:
        raise GraderError(str(exc)) from None
    report = grade_submission(sub, specs, hidden=hidden, limits=DEFAULT_LIMITS)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(FORMATS[fmt](report), encoding="utf-8")
        click.echo(f"Score {report.score:g} / {report.max_score:g}; {fmt} report written to {output}")
    elif fmt == "text":
        click.echo(render_text(report, color=sys.stdout.isatty()), nl=False)
    else:
        click.echo(FORMATS[fmt](report), nl=False)


@main.command()
@click.option("--specs", "specs_dir", type=click.Path(path_type=Path), default=None,
              help="also validate this folder of specs (default: ./exercises if present)")
def doctor(specs_dir: Path | None) -> None:
    """Print versions, CUDA, isolation and a worker start-up; exit 1 if grading cannot work."""
    from grader.doctor import diagnose

    if specs_dir is None and Path("exercises").is_dir():
        specs_dir = Path("exercises")
    diagnosis = diagnose(specs_dir)
    width = max(len(k) for k, _ in diagnosis.facts)
    for key, value in diagnosis.facts:
        click.echo(f"{key:<{width}}  {value}")
    for problem in diagnosis.problems:
        click.echo(f"problem: {problem}", err=True)
    if diagnosis.problems:
        raise SystemExit(1)
    click.echo("ok: grading can run")


@main.command()
@click.argument("folder", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--specs", "specs_dir", type=click.Path(path_type=Path), default=Path("exercises"), show_default=True)
@click.option("--exercise", "exercises", multiple=True, help="only this exercise (repeatable)")
@click.option("--jobs", type=int, default=2, show_default=True, help="variants graded at once")
def mistakes(folder: Path, specs_dir: Path, exercises: tuple[str, ...], jobs: int) -> None:
    """Grade a catalogue of wrong submissions and print which points each loses."""
    from grader.catalogue import render_table, run_catalogue

    specs = _load(specs_dir, ())
    try:
        results = run_catalogue(folder, specs, jobs=jobs, only=list(exercises) or None)
    except SpecError as exc:
        raise GraderError(str(exc)) from None
    click.echo(render_table(results), nl=False)
    bad = sum(not r.ok for r in results)
    click.echo(f"\n{len(results)} variants, {bad} not as catalogued")


def _specs_dir(submission: Path, given: Path | None) -> Path:
    if given is not None:
        return given
    base = submission if submission.is_dir() else submission.parent
    for candidate in (base / STUDENT_SPECS, Path("exercises")):
        if candidate.is_dir():
            return candidate
    raise GraderError(f"no exercise specs found in {base / STUDENT_SPECS} or ./exercises; pass --specs DIR")


def _load(specs_dir: Path, exercises: tuple[str, ...]) -> list[LoadedSpec]:
    try:
        return load_specs(specs_dir, list(exercises) or None)
    except SpecError as exc:
        raise GraderError(str(exc)) from None


if __name__ == "__main__":
    main()

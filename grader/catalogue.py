"""The mistake catalogue: realistic wrong submissions and the points each must lose.

A catalogue folder holds one subfolder per exercise id. Each has ``catalogue.yaml``
listing variants (a ``.py`` file graded as the exercise's module), the exact set of
tests each must lose, and a phrase the feedback of a lost test must contain, so a
failing variant is told the likely cause::

    - file: no_receptive_field.py
      mistake: fans computed without the conv receptive field
      loses: [fans of a conv weight, uniform values on a conv weight]
      cause: receptive field
    - file: raises_on_4d.py
      mistake: statistics over the wrong dimensions crash on 4-D input
      loses: [training forward on (N, C, H, W)]
      cause: per channel
      collateral: [forward stays on the input's device]   # the crash also stops the device check
    - file: correct_via_rand.py
      mistake: null            # correct but different: must score full marks
      loses: []
    - file: dropout_on_in_eval (patched solution)
      patch: [{find: "dropout(x, self.p, self.training)", replace: "dropout(x, self.p)"}]
      loses: [eval mode is deterministic]   # a one-line mistake in a long file: no copy of the rest

:func:`run_catalogue` grades every variant (hidden tests included) and reports, per
variant, which tests it lost and whether that matches. ``grader mistakes DIR`` prints
the table; the test suite asserts it.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from grader.limits import DEFAULT_LIMITS, Limits
from grader.spec import LoadedSpec, SpecError


class Patch(BaseModel):
    """One textual change to the instructor's solution: ``find`` must occur in it."""

    model_config = ConfigDict(extra="forbid")

    find: str
    replace: str


class Variant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file: str = Field(description="the variant's source file; with `patch`, the name the variant is shown under")
    patch: list[Patch] = Field([], description="instead of a file: changes to the solution's copy of the module, "
                               "for a mistake of a line or two in a long file")
    mistake: str | None = Field(None, description="what is wrong; null for a correct-but-different variant")
    loses: list[str] = Field([], description="the tests this mistake is meant to lose")
    cause: str | None = Field(None, description="a phrase the feedback of every test in `loses` must contain")
    collateral: list[str] = Field([], description="tests also lost as a side effect (code that crashes fails "
                                  "every test that runs it); the cause phrase is not required there")
    module: str | None = Field(None, description="the submission file this variant stands for (default: the "
                               "exercise's module); the rest of the submission is the instructor's solutions")
    skip: list[str] = Field([], description="tests not run for this variant (a slow training run that the "
                            "cheaper tests already decide)")


@dataclass
class VariantResult:
    exercise: str
    variant: Variant
    lost: list[str]
    statuses: dict[str, str]
    feedback: dict[str, str]
    score: float
    max_score: float
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def load_catalogue(folder: Path) -> dict[str, list[Variant]]:
    """Every ``<exercise>/catalogue.yaml`` under ``folder``, by exercise id."""
    out: dict[str, list[Variant]] = {}
    for path in sorted(Path(folder).glob("*/catalogue.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        try:
            out[path.parent.name] = [Variant.model_validate(v) for v in data]
        except Exception as exc:
            raise SpecError(f"{path}: {exc}") from None
    return out


def run_catalogue(folder: Path, specs: list[LoadedSpec], *, limits: Limits = DEFAULT_LIMITS,
                  jobs: int = 2, only: list[str] | None = None, solutions: Path | None = None) -> list[VariantResult]:
    """Grade every variant of every exercise in the catalogue against its spec.

    With ``solutions``, each variant is graded inside a copy of the instructor's
    solutions, so an exercise that imports other modules (the MNIST CNN) finds them.
    """
    from grader.checks.convergence import prepare_data
    from grader.grading import grade
    from grader.submission import Submission

    prepare_data([s for s in specs if not only or s.spec.id in only])
    by_id = {s.spec.id: s for s in specs}
    work = []
    for exercise, variants in load_catalogue(folder).items():
        if only and exercise not in only:
            continue
        if exercise not in by_id:
            raise SpecError(f"{folder / exercise}: no exercise spec with id {exercise!r}")
        for variant in variants:
            work.append((exercise, variant))

    def one(item: tuple[str, Variant]) -> VariantResult:
        exercise, variant = item
        loaded = by_id[exercise]
        module = f"{variant.module or loaded.spec.module}.py"
        files = {p.name: p.read_bytes() for p in sorted(Path(solutions).glob("*.py"))} if solutions else {}
        files[module] = _source(Path(folder) / exercise, variant, files.get(module))
        sub = Submission(name=f"{exercise}/{variant.file}", files=files, sha256="")
        unknown = set(variant.skip) - {t.name for t in loaded.spec.tests}
        if unknown:
            raise SpecError(f"{folder / exercise / 'catalogue.yaml'}: {variant.file}: skip names unknown tests "
                            f"{sorted(unknown)}")
        if variant.skip:
            kept = [t for t in loaded.spec.tests if t.name not in variant.skip]
            loaded = loaded.model_copy(update={"spec": loaded.spec.model_copy(update={"tests": kept})})
        report = grade(sub, [loaded], hidden=True, limits=limits)
        tests = report.tests()
        lost = [t.name for t in tests if t.score < t.max_score]
        result = VariantResult(exercise, variant, lost, {t.name: t.status for t in tests},
                               {t.name: f"{t.message} {t.feedback}" for t in tests if t.name in lost},
                               report.score, report.max_score)
        _judge(result, {t.name for t in tests})
        return result

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, work))


def _source(folder: Path, variant: Variant, solution: bytes | None) -> bytes:
    """The variant's file, or the solution with the variant's patches applied."""
    if not variant.patch:
        return (folder / variant.file).read_bytes()
    if solution is None:
        raise SpecError(f"{folder / 'catalogue.yaml'}: {variant.file}: a patch needs the solutions (--solutions)")
    text = solution.decode("utf-8")
    for change in variant.patch:
        if change.find not in text:
            raise SpecError(f"{folder / 'catalogue.yaml'}: {variant.file}: patch text {change.find!r} is not in the "
                            "solution; update the patch")
        text = text.replace(change.find, change.replace)
    return text.encode("utf-8")


def _judge(result: VariantResult, names: set[str]) -> None:
    expected, got = set(result.variant.loses) | set(result.variant.collateral), set(result.lost)
    unknown = expected - names
    if unknown:
        result.problems.append(f"catalogue names unknown tests: {sorted(unknown)}")
    if got - expected:
        result.problems.append(f"also lost: {sorted(got - expected)}")
    if expected - got:
        result.problems.append(f"did not lose: {sorted(expected - got)}")
    cause = result.variant.cause
    if cause:
        silent = [n for n in result.variant.loses if n in result.feedback and cause.lower() not in result.feedback[n].lower()]
        if silent:
            result.problems.append(f"feedback of {silent} does not mention {cause!r}")


def render_table(results: list[VariantResult]) -> str:
    """A Markdown table: each variant, what it gets wrong, the points it lost, and the tests."""
    lines = ["| exercise | variant | mistake | score | lost tests | as catalogued |", "| --- | --- | --- | --- | --- | --- |"]
    for r in results:
        mistake = r.variant.mistake or "(correct, different approach)"
        lost = ", ".join(f"{n} [{r.statuses[n]}]" for n in r.lost) or "none"
        verdict = "yes" if r.ok else "NO: " + "; ".join(r.problems)
        lines.append(f"| {r.exercise} | {r.variant.file} | {mistake} | {r.score:g}/{r.max_score:g} | {lost} | {verdict} |")
    return "\n".join(lines) + "\n"

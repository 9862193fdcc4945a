"""Per-student variants: drawn from the roster and the secret, recorded in the stub, verified when grading."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from grader import variants
from grader.grading import grade
from grader.spec import SpecError, load_spec, load_specs
from grader.stubs import build_roster
from grader.submission import Submission
from tests.conftest import EXERCISES, SOLUTIONS

SECRET = b"a course secret of enough bytes, for tests only"
VARIANT_TEST = "running statistics after a training step on (N, D)"


@pytest.fixture(scope="module")
def batchnorm():
    return load_specs(EXERCISES, ["batchnorm"])


@pytest.fixture(scope="module")
def built(tmp_path_factory, batchnorm):
    out = tmp_path_factory.mktemp("variants")
    drawn = build_roster(batchnorm, out, ["ada", "ben"], SECRET)
    return out, drawn


def submission_for(out: Path, student: str, source: str | None = None) -> Submission:
    """The student's own record line, kept on top of the instructor's solution (or ``source``)."""
    stub = (out / student / "batchnorm.py").read_text()
    record = next(line for line in stub.splitlines() if line.startswith("GRADER_VARIANT"))
    body = source if source is not None else (SOLUTIONS / "batchnorm.py").read_text()
    return Submission(name=student, files={"batchnorm.py": f"{body}\n{record}\n".encode()}, sha256="")


def variant_status(report) -> str:
    return next(t.status for t in report.tests() if t.name == VARIANT_TEST)


def test_each_student_gets_their_own_values_from_the_secret(built, batchnorm, tmp_path):
    out, drawn = built
    ada, ben = drawn["ada"]["batchnorm"], drawn["ben"]["batchnorm"]
    assert ada != ben
    params = batchnorm[0].spec.variants
    for values in (ada, ben):
        assert params["momentum"].min <= values["momentum"] <= params["momentum"].max
        assert params["eps"].min <= values["eps"] <= params["eps"].max
    again = build_roster(batchnorm, tmp_path, ["ada"], SECRET)
    other = build_roster(batchnorm, tmp_path / "other", ["ada"], b"another secret, just as long as it needs")
    assert again["ada"] == drawn["ada"] and other["ada"] != drawn["ada"]
    stub = (out / "ada" / "batchnorm.py").read_text()
    assert f"momentum = {variants._fmt(ada['momentum'])}" in stub and 'GRADER_VARIANT = "batchnorm|ada|' in stub
    assert "GRADER_VARIANT" in (out / "ada" / "exercises.ipynb").read_text()


def test_grading_uses_the_students_own_values(built, batchnorm):
    out, drawn = built
    report = grade(submission_for(out, "ada"), batchnorm, secret=SECRET, student="ada")
    assert report.score == report.max_score, [(t.name, t.message) for t in report.tests() if not t.passed]
    assert report.exercises[0].variant == drawn["ada"]["batchnorm"]


def test_code_that_hard_codes_one_students_values_passes_only_for_that_student(built, batchnorm):
    out, drawn = built
    ada = drawn["ada"]["batchnorm"]
    hard_coded = (SOLUTIONS / "batchnorm.py").read_text().replace(
        "    dims, shape = _channel_dims(x), _per_channel(x)\n",
        f"    dims, shape = _channel_dims(x), _per_channel(x)\n    momentum, eps = {ada['momentum']!r}, {ada['eps']!r}\n", 1)
    for_ada = grade(submission_for(out, "ada", hard_coded), batchnorm, secret=SECRET, student="ada")
    for_ben = grade(submission_for(out, "ben", hard_coded), batchnorm, secret=SECRET, student="ben")
    assert variant_status(for_ada) == "passed" and variant_status(for_ben) == "failed"


@pytest.mark.parametrize("change, phrase", [
    (lambda line: line.replace("momentum=", "momentum=0"), "was edited"),
    (lambda line: "", "has no GRADER_VARIANT line"),
    (lambda line: line.replace('"batchnorm|', '"batchnorm'), "not in its stub's form"),
])
def test_a_tampered_record_is_a_verdict(built, batchnorm, change, phrase):
    out, _ = built
    sub = submission_for(out, "ada")
    source = sub.files["batchnorm.py"].decode()
    record = next(line for line in source.splitlines() if line.startswith("GRADER_VARIANT"))
    tampered = Submission(name="ada", files={"batchnorm.py": source.replace(record, change(record)).encode()},
                          sha256="")
    report = grade(tampered, batchnorm, secret=SECRET, student="ada")
    assert report.score == 0
    assert all(t.status == "forbidden" and phrase in t.message and "GRADER_VARIANT" in t.message
               for t in report.tests())


def test_another_students_record_is_refused_in_a_batch(built, batchnorm):
    out, _ = built
    report = grade(submission_for(out, "ben"), batchnorm, secret=SECRET, student="ada")
    assert report.score == 0 and "belongs to 'ben', not 'ada'" in report.tests()[0].message


def test_without_a_record_the_defaults_apply(batchnorm):
    report = grade(Submission("key", {"batchnorm.py": (SOLUTIONS / "batchnorm.py").read_bytes()}, ""), batchnorm)
    assert report.score == report.max_score
    assert report.exercises[0].variant == {"momentum": 0.2, "eps": 1e-5}


def test_an_unknown_parameter_in_a_spec_names_its_line(tmp_path):
    text = (EXERCISES / "batchnorm.yaml").read_text().replace("${variant.eps}", "${variant.epsilon}", 1)
    path = tmp_path / "batchnorm.yaml"
    path.write_text(text)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "${variant.epsilon}" in row)
    with pytest.raises(SpecError, match=rf"batchnorm.yaml:{line}: \$\{{variant.epsilon\}}: no such variant parameter"):
        load_spec(path)


def test_build_with_a_roster_needs_the_secret(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id\nada\n")
    result = subprocess.run([sys.executable, "-m", "grader.cli", "build", str(EXERCISES), "-o", str(tmp_path / "out"),
                             "--roster", str(roster)], capture_output=True, text=True)
    assert result.returncode == 2 and "--roster needs --secret-file" in result.stderr
    key = tmp_path / "key"
    key.write_bytes(SECRET)
    result = subprocess.run([sys.executable, "-m", "grader.cli", "build", str(EXERCISES), "-o", str(tmp_path / "out"),
                             "--exercise", "batchnorm", "--roster", str(roster), "--secret-file", str(key)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "ada" / "batchnorm.py").is_file() and (tmp_path / "out" / "variants.json").is_file()

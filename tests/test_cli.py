"""The grader command end to end, as users run it: build, check and grade on real files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import EXERCISES, ROOT, SOLUTIONS

SCHEMAS = ROOT / "grader" / "schemas"


def grader(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("grader")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "grader.cli"]
    return subprocess.run([*cmd, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def student(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("build")
    result = grader("build", str(EXERCISES), "-o", str(out), "--exercise", "xavier")
    assert result.returncode == 0, result.stderr
    assert "Wrote" in result.stdout
    return out / "student"


def test_check_in_the_student_folder_uses_visible_specs(student):
    result = grader("check", ".", cwd=student)
    assert result.returncode == 0, result.stderr
    assert "mode: check" in result.stdout and "Score: 0 / 8" in result.stdout
    assert "not implemented" in result.stdout
    assert "\x1b[" not in result.stdout  # piped output has no colour codes


def test_check_after_the_student_fills_in_the_stub(student, tmp_path):
    work = tmp_path / "work"
    shutil.copytree(student, work)
    shutil.copy(SOLUTIONS / "xavier_init.py", work / "xavier_init.py")
    result = grader("check", str(work), "--format", "json")
    report = json.loads(result.stdout)
    assert report["score"] == report["max_score"] == 8
    assert all(t["visibility"] == "visible" for e in report["exercises"] for t in e["tests"])


def test_check_a_notebook(student):
    result = grader("check", "exercises.ipynb", "--format", "json", cwd=student)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["submission"] == "exercises.ipynb" and report["score"] == 0


def test_grade_json_matches_its_schema(tmp_path):
    out = tmp_path / "report.json"
    result = grader("grade", str(SOLUTIONS), "--exercise", "xavier", "--format", "json", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert f"report written to {out}" in result.stdout
    report = json.loads(out.read_text())
    jsonschema.validate(report, json.loads((SCHEMAS / "report.schema.json").read_text()))
    assert report["mode"] == "grade" and report["score"] == report["max_score"] == 18
    assert {t["visibility"] for e in report["exercises"] for t in e["tests"]} == {"visible", "hidden"}


def test_grade_gradescope_matches_gradescopes_schema(tmp_path):
    result = grader("grade", str(SOLUTIONS), "--exercise", "xavier", "--format", "gradescope")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    jsonschema.validate(data, json.loads((SCHEMAS / "gradescope.schema.json").read_text()))
    assert data["score"] == 18 and sum(t["max_score"] for t in data["tests"]) == 18
    assert all(t["status"] == "passed" for t in data["tests"])
    assert {t["visibility"] for t in data["tests"]} == {"visible", "after_published"}
    assert "Skipped: xavier: same results on CUDA as on CPU (no CUDA device)" in data["output"]


def test_gradescope_failures_carry_messages_and_hints(tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "xavier_init.py").write_text((ROOT / "tests/mistakes/xavier/no_receptive_field.py").read_text())
    data = json.loads(grader("grade", str(sub), "--specs", str(EXERCISES), "--exercise", "xavier", "--format", "gradescope").stdout)
    failed = [t for t in data["tests"] if t["status"] == "failed"]
    assert failed and all(t["score"] == 0 for t in failed)
    assert any("Hint:" in t["output"] and "receptive field" in t["output"] for t in failed)


def test_errors_exit_2_with_one_line(tmp_path):
    bad = tmp_path / "specs"
    bad.mkdir()
    text = (EXERCISES / "xavier.yaml").read_text().replace("points: 2\n", "points: two\n", 1)
    (bad / "xavier.yaml").write_text(text)
    result = grader("grade", str(SOLUTIONS), "--specs", str(bad))
    line = next(i + 1 for i, l in enumerate(text.splitlines()) if "points: two" in l)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"error: {bad / 'xavier.yaml'}:{line}: tests[4].points: must be a number"]
    missing = grader("grade", str(tmp_path / "nowhere"), "--exercise", "xavier")
    assert missing.returncode == 2 and "no such file or directory" in missing.stderr
    unknown = grader("grade", str(SOLUTIONS), "--exercise", "nope")
    assert unknown.returncode == 2 and "no exercise named nope" in unknown.stderr


def test_text_report_names_its_provenance():
    result = grader("grade", str(SOLUTIONS), "--exercise", "xavier")
    assert result.returncode == 0
    for needle in ("Score: 18 / 18", "grader 0.1.0", "torch 2.", "device: cpu", "Isolation:", "sha256"):
        assert needle in result.stdout


def test_every_report_format_names_the_device_judge():
    judge = "[judged by meta, CUDA rules (no GPU)]"
    report = json.loads(grader("grade", str(SOLUTIONS), "--exercise", "xavier", "--format", "json").stdout)
    device = [t for e in report["exercises"] for t in e["tests"] if t["kind"] == "device"]
    assert device and all(judge in t["message"] for t in device)
    gradescope = json.loads(grader("grade", str(SOLUTIONS), "--exercise", "xavier", "--format", "gradescope").stdout)
    assert sum(judge in t["output"] for t in gradescope["tests"]) == len(device)
    text = grader("grade", str(SOLUTIONS), "--exercise", "xavier").stdout
    assert "Device checks judged by: meta, CUDA rules (no GPU)" in text.splitlines()


def test_doctor_reports_and_exits_zero():
    result = grader("doctor")
    assert result.returncode == 0, result.stderr
    for needle in ("torch", "CUDA", "device checks judged by", "isolation", "worker", "ok: grading can run"):
        assert needle in result.stdout


def test_doctor_says_whether_mnist_is_here_without_fetching_it(tmp_path):
    env = {**os.environ, "GRADER_CACHE_DIR": str(tmp_path / "cache")}
    result = subprocess.run([sys.executable, "-m", "grader.cli", "doctor"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "MNIST" in result.stdout and "not prepared: run `grader data mnist`" in result.stdout
    assert not (tmp_path / "cache").exists()


def test_junit_xml_agrees_with_the_scores(tmp_path):
    import xml.etree.ElementTree as ET

    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "xavier_init.py").write_text((ROOT / "tests/mistakes/xavier/no_receptive_field.py").read_text())
    args = ("grade", str(sub), "--specs", str(EXERCISES), "--exercise", "xavier")
    report = json.loads(grader(*args, "--format", "json").stdout)
    root = ET.fromstring(grader(*args, "--format", "junit").stdout)
    tests = report["exercises"][0]["tests"]
    [suite] = root.findall("testsuite")
    assert suite.get("name") == "xavier" and int(suite.get("tests")) == len(tests)
    lost = {t["name"] for t in tests if t["score"] < t["max_score"]}
    failed = {c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None}
    skipped = {c.get("name") for c in suite.iter("testcase") if c.find("skipped") is not None}
    assert failed == lost and int(suite.get("failures")) == len(lost) > 0
    assert skipped == {t["name"] for t in tests if t["status"] == "skipped"}
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert float(props["score"]) == report["exercises"][0]["score"]

"""The pytest plugin: specs collected as items, the same verdicts as `grader check`, -k and --junitxml working."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.conftest import EXERCISES, ROOT, SOLUTIONS, solution_copy


def run_pytest(tmp_path: Path, submission: Path, *args: str) -> tuple[subprocess.CompletedProcess, ET.Element]:
    report = tmp_path / "junit.xml"
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
                             "--grader-submission", str(submission), "--grader-specs", str(EXERCISES),
                             f"--junitxml={report}", *args],
                            cwd=tmp_path, capture_output=True, text=True, timeout=600)
    return result, ET.parse(report).getroot()


def cases(root: ET.Element) -> dict[str, str]:
    """Test name -> passed / failed / skipped, from the JUnit XML."""
    out = {}
    for case in root.iter("testcase"):
        verdict = "failed" if case.find("failure") is not None or case.find("error") is not None else (
            "skipped" if case.find("skipped") is not None else "passed")
        out[case.get("name")] = verdict
    return out


def test_the_solutions_pass_every_visible_test_of_an_exercise(tmp_path):
    result, root = run_pytest(tmp_path, SOLUTIONS, "-k", "xavier and not mnist")
    assert result.returncode == 0, result.stdout[-3000:]
    from grader.spec import load_specs

    visible = [t.name for t in load_specs(EXERCISES, ["xavier"])[0].spec.tests if t.visible]
    assert sorted(cases(root)) == sorted(visible) and set(cases(root).values()) == {"passed"}
    assert "xavier.yaml::fans of a Linear weight" in result.stdout or "passed" in result.stdout


def test_verdicts_match_grader_check_and_k_selects(tmp_path):
    work = solution_copy(tmp_path)
    shutil.copy(ROOT / "tests" / "mistakes" / "xavier" / "fan_in_only.py", work / "xavier_init.py")
    result, root = run_pytest(tmp_path, work, "-k", "xavier and not mnist and not fans")
    assert result.returncode == 1
    got = cases(root)
    assert got and not any("fans" in name for name in got)
    check = subprocess.run([sys.executable, "-m", "grader.cli", "check", str(work), "--specs", str(EXERCISES),
                            "--exercise", "xavier", "--format", "json"], capture_output=True, text=True)
    statuses = {t["name"]: t["status"] for t in json.loads(check.stdout)["exercises"][0]["tests"]}
    for name, verdict in got.items():
        assert verdict == ("passed" if statuses[name] == "passed" else "failed"), name
    assert "failed" in got.values() and "hint:" in result.stdout


def test_hidden_tests_run_only_when_asked(tmp_path):
    _, visible = run_pytest(tmp_path, SOLUTIONS, "-k", "l2")
    _, everything = run_pytest(tmp_path, SOLUTIONS, "-k", "l2", "--grader-hidden")
    assert set(cases(visible)) < set(cases(everything))


def test_without_the_option_the_plugin_adds_nothing(tmp_path):
    (tmp_path / "test_one.py").write_text("def test_one():\n    pass\n")
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(tmp_path)],
                            cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0 and "1 passed" in result.stdout


def test_an_unreadable_submission_is_a_usage_error(tmp_path):
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--grader-submission",
                             str(tmp_path / "missing"), "--grader-specs", str(EXERCISES)],
                            cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 4 and "no such file or directory" in result.stderr

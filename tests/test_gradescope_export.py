"""`grader export gradescope`: the autograder.zip, unpacked and run against fake /autograder paths.

setup.sh needs Gradescope's image (apt, PyPI); here it is only checked for syntax and
content. run_autograder runs for real: AUTOGRADER_ROOT points it at a temporary
folder laid out like Gradescope's, GRADER_PYTHON at this Python, and PYTHONPATH at the
grader package inside the zip, so the code that grades is the code that was zipped.
"""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest

from grader.gradescope_export import render_scripts
from grader.spec import load_specs
from tests.conftest import EXERCISES, ROOT, SOLUTIONS

SCHEMA = json.loads((ROOT / "grader" / "schemas" / "gradescope.schema.json").read_text())


@pytest.fixture(scope="module")
def autograder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export") / "autograder.zip"
    result = subprocess.run([sys.executable, "-m", "grader.cli", "export", "gradescope", "--specs", str(EXERCISES),
                             "--exercise", "xavier", "-o", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert f"Wrote {out}: 1 exercises" in result.stdout
    return out


def unpack(zip_path: Path, root: Path) -> Path:
    source = root / "source"
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(source)
        for info in zf.infolist():  # zipfile drops the mode bits; Gradescope keeps them
            mode = info.external_attr >> 16
            if mode:
                (source / info.filename).chmod(stat.S_IMODE(mode))
    (root / "submission").mkdir(parents=True)
    return source


def run_autograder(root: Path) -> dict:
    env = {"PATH": "/usr/bin:/bin", "AUTOGRADER_ROOT": str(root), "GRADER_PYTHON": sys.executable,
           "PYTHONPATH": str(root / "source" / "grader-package"), "HOME": str(root)}
    result = subprocess.run([str(root / "source" / "run_autograder")], env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    data = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(data, SCHEMA)
    return data


def test_the_zip_holds_the_scripts_specs_and_grader(autograder):
    with zipfile.ZipFile(autograder) as zf:
        names = set(zf.namelist())
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
        setup = zf.read("setup.sh").decode()
    assert {"setup.sh", "run_autograder", "exercises/xavier.yaml", "grader-package/pyproject.toml",
            "grader-package/grader/cli.py", "grader-package/grader/worker.py"} <= names
    assert not any("__pycache__" in n for n in names) and "exercises/adam.yaml" not in names
    assert modes["setup.sh"] & 0o111 and modes["run_autograder"] & 0o111
    assert "download.pytorch.org/whl/cpu" in setup and "torch==" in setup and "grader data mnist" not in setup


def test_both_scripts_are_valid_bash(autograder, tmp_path):
    source = unpack(autograder, tmp_path)
    for script in ("setup.sh", "run_autograder"):
        assert subprocess.run(["bash", "-n", str(source / script)]).returncode == 0, script


def test_setup_fetches_mnist_only_when_an_exercise_trains_on_it():
    scripts = render_scripts(load_specs(EXERCISES, ["mnist_cnn"]), "2.13.0+cpu")
    assert "grader data mnist" in scripts["setup.sh"] and "torch==2.13.0\"" in scripts["setup.sh"]


def test_run_autograder_grades_a_correct_upload(autograder, tmp_path):
    unpack(autograder, tmp_path)
    shutil.copy(SOLUTIONS / "xavier_init.py", tmp_path / "submission")
    data = run_autograder(tmp_path)
    assert data["score"] == 18 and all(t["status"] == "passed" for t in data["tests"])


def test_run_autograder_grades_a_zip_unpacked_into_a_folder_and_a_wrong_answer(autograder, tmp_path):
    unpack(autograder, tmp_path)
    inner = tmp_path / "submission" / "my-work"
    inner.mkdir()
    shutil.copy(ROOT / "tests" / "mistakes" / "xavier" / "fan_in_only.py", inner / "xavier_init.py")
    data = run_autograder(tmp_path)
    assert 0 < data["score"] < 18
    assert any(t["status"] == "failed" and t.get("output") for t in data["tests"])


def test_run_autograder_grades_a_notebook_upload(autograder, tmp_path):
    unpack(autograder, tmp_path)
    subprocess.run([sys.executable, "-m", "grader.cli", "build", str(EXERCISES), "-o", str(tmp_path / "build"),
                    "--exercise", "xavier"], check=True, capture_output=True)
    shutil.copy(tmp_path / "build" / "student" / "exercises.ipynb", tmp_path / "submission")
    data = run_autograder(tmp_path)
    assert data["score"] == 0 and "not implemented" in json.dumps(data)


def test_an_unreadable_upload_still_gets_results_with_the_reason(autograder, tmp_path):
    unpack(autograder, tmp_path)
    (tmp_path / "submission" / "answers.txt").write_text("I wrote my answers in a text file")
    data = run_autograder(tmp_path)
    assert data["score"] == 0
    assert all("could not be read" in t["output"] for t in data["tests"])

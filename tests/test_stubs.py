"""grader build: deterministic stubs, a valid notebook with tagged cells, a README, visible specs only."""

from __future__ import annotations

import ast
import hashlib
import subprocess
import sys

import nbformat
import pytest
import yaml

from grader.spec import SpecError, load_specs
from grader.stubs import STUDENT_SPECS, build
from grader.submission import load_submission
from tests.conftest import EXERCISES, ROOT


def digest(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_build_is_byte_identical(tmp_path, all_specs):
    build(all_specs, tmp_path / "a")
    build(all_specs, tmp_path / "b")
    assert digest(tmp_path / "a") == digest(tmp_path / "b")


def test_every_stub_module_parses_and_raises_not_implemented(tmp_path, all_specs):
    build(all_specs, tmp_path)
    student = tmp_path / "student"
    for loaded in all_specs:
        source = (student / f"{loaded.spec.module}.py").read_text()
        tree = ast.parse(source)
        names = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        assert names == {f.name for f in loaded.spec.functions}
        assert "NotImplementedError" in source
    # Importing a stub works, and calling it raises NotImplementedError with a helpful message.
    code = "import xavier_init, torch\ntry:\n    xavier_init.xavier_uniform_(torch.empty(2, 2))\nexcept NotImplementedError as e:\n    print(e)"
    out = subprocess.run([sys.executable, "-c", code], cwd=student, capture_output=True, text=True, check=True)
    assert "xavier_uniform_ is not written yet" in out.stdout and "grader check" in out.stdout


def test_notebook_is_valid_and_its_tagged_cells_are_the_modules(tmp_path, all_specs):
    build(all_specs, tmp_path)
    student = tmp_path / "student"
    nb = nbformat.read(student / "exercises.ipynb", as_version=4)
    nbformat.validate(nb)
    tagged = [c for c in nb.cells if "solution" in c.metadata.get("tags", [])]
    assert [c.metadata["grader"]["exercise"] for c in tagged] == [s.spec.id for s in all_specs]
    sub = load_submission(student / "exercises.ipynb")
    for loaded in all_specs:
        module = f"{loaded.spec.module}.py"
        assert sub.files[module].decode().strip() == (student / module).read_text().strip()


def test_student_folder_has_readme_and_only_visible_tests(tmp_path, all_specs):
    build(all_specs, tmp_path)
    student = tmp_path / "student"
    readme = (student / "README.md").read_text()
    assert "grader check ." in readme
    for loaded in all_specs:
        assert loaded.spec.title in readme
        data = yaml.safe_load((student / STUDENT_SPECS / f"{loaded.spec.id}.yaml").read_text())
        assert data["tests"] and all(t["visibility"] == "visible" for t in data["tests"])
        hidden = [t.name for t in loaded.spec.tests if not t.visible]
        assert not set(hidden) & {t["name"] for t in data["tests"]}
    # The stripped specs are themselves valid specs.
    assert len(load_specs(student / STUDENT_SPECS)) == len(all_specs)


def test_missing_or_broken_templates_are_clear_errors(tmp_path, all_specs):
    with pytest.raises(SpecError, match="templates folder missing"):
        build(all_specs, tmp_path / "out", templates=tmp_path / "nope")
    broken = tmp_path / "templates"
    broken.mkdir()
    for t in (ROOT / "templates").iterdir():
        if t.is_file():  # the stub templates; sub-folders hold other commands' templates
            (broken / t.name).write_text(t.read_text())
    (broken / "README.md.j2").write_text("{% for s in specs %}")
    with pytest.raises(SpecError, match=r"README\.md\.j2:1: template syntax error"):
        build(all_specs, tmp_path / "out", templates=broken)
    (broken / "README.md.j2").unlink()
    with pytest.raises(SpecError, match=r"README\.md\.j2: template missing"):
        build(all_specs, tmp_path / "out", templates=broken)


def test_specs_directory_is_the_default_source():
    assert (EXERCISES / "xavier.yaml").exists()

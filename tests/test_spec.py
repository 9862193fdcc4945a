"""Spec loading: every shipped spec is valid, and bad specs say file:line: field: problem."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from grader.spec import SpecError, load_spec, load_specs
from tests.conftest import EXERCISES

GOOD = (EXERCISES / "xavier.yaml").read_text()


def write(tmp_path: Path, text: str, name: str = "xavier.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    lines = [i + 1 for i, line in enumerate(text.splitlines()) if needle in line]
    return lines[occurrence - 1]


def test_every_shipped_spec_loads_with_visible_and_hidden_tests():
    specs = load_specs(EXERCISES)
    assert specs, "no specs shipped"
    for loaded in specs:
        visibilities = {t.visibility for t in loaded.spec.tests}
        assert visibilities == {"visible", "hidden"}, loaded.path
        assert len(loaded.sha256) == 64


def test_rtol_that_is_not_a_number_names_file_line_and_field(tmp_path):
    text = GOOD.replace("    points: 1\n    visibility: visible\n    feedback: A conv", "    rtol: loose\n    points: 1\n    visibility: visible\n    feedback: A conv", 1)
    path = write(tmp_path, text)
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert str(err.value) == f"{path}:{line_of(text, 'rtol: loose')}: tests[1].rtol: must be a number"


def test_unknown_check_kind(tmp_path):
    text = GOOD.replace("kind: raises", "kind: rises")
    path = write(tmp_path, text)
    with pytest.raises(SpecError, match=rf"{re.escape(str(path))}:{line_of(text, 'kind: rises')}: tests\[3\]\.kind: unknown check kind"):
        load_spec(path)


def test_missing_field_and_unknown_field(tmp_path):
    text = GOOD.replace("title: Xavier/Glorot initialisation\n", "")
    with pytest.raises(SpecError, match=r":1: title: is required but missing"):
        load_spec(write(tmp_path, text))
    text = GOOD.replace("    exception: ValueError\n", "    exception: ValueError\n    expection: TypeError\n")
    path = write(tmp_path, text)
    with pytest.raises(SpecError, match=rf":{line_of(text, 'expection')}: tests\[3\]\.expection: is not a known field"):
        load_spec(path)


def test_yaml_syntax_error_has_a_line(tmp_path):
    text = GOOD.replace("module: xavier_init", "module: [xavier_init")
    with pytest.raises(SpecError, match=r"xavier\.yaml:\d+: YAML syntax error"):
        load_spec(write(tmp_path, text))


def test_test_naming_an_unknown_function(tmp_path):
    text = GOOD.replace("function: xavier_normal_\n    reference: grader.references.xavier.normal_law\n    inputs: {tensor: {empty: [256, 512]}",
                        "function: xavier_norm_\n    reference: grader.references.xavier.normal_law\n    inputs: {tensor: {empty: [256, 512]}")
    with pytest.raises(SpecError, match=r"names 'xavier_norm_', which is not among functions"):
        load_spec(write(tmp_path, text))


def test_bad_signature_and_id_mismatch(tmp_path):
    text = GOOD.replace('signature: "(tensor: torch.Tensor) -> tuple[int, int]"', 'signature: "(tensor torch.Tensor)"')
    path = write(tmp_path, text)
    with pytest.raises(SpecError, match=rf":{line_of(text, '(tensor torch.Tensor)')}: functions\[0\]\.signature: .*not a valid Python signature"):
        load_spec(path)
    with pytest.raises(SpecError, match=r"id: is 'xavier' but the file is other\.yaml"):
        load_spec(write(tmp_path, GOOD, "other.yaml"))


def test_load_specs_selects_and_reports_unknown_ids(tmp_path):
    assert [s.spec.id for s in load_specs(EXERCISES, ["xavier"])] == ["xavier"]
    with pytest.raises(SpecError, match="no exercise named nope"):
        load_specs(EXERCISES, ["nope"])
    with pytest.raises(SpecError, match="no such directory"):
        load_specs(tmp_path / "missing")
    with pytest.raises(SpecError, match="holds no .yaml"):
        load_specs(tmp_path)


def test_readme_states_the_course_total_and_each_exercise():
    readme = (EXERCISES.parent / "README.md").read_text()
    specs = load_specs(EXERCISES)
    total = sum(s.spec.points for s in specs)
    assert f"Course total: **{total:g} points**" in readme
    for loaded in specs:
        assert f"`{loaded.spec.module}.py` | {loaded.spec.points:g} |" in readme, loaded.spec.id

"""Reading submissions: folders, zips and notebooks, and one clear line for each bad one."""

from __future__ import annotations

import json
import os
import zipfile

import pytest

from grader.submission import MAX_FILE_BYTES, SubmissionError, load_submission
from tests.conftest import SOLUTIONS


def make_zip(path, entries: dict[str, bytes]):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return path


def test_folder_and_zip_give_the_same_files_and_hash(tmp_path):
    folder = load_submission(SOLUTIONS)
    entries = {f"answers/{name}": data for name, data in folder.files.items()}
    zipped = load_submission(make_zip(tmp_path / "sub.zip", entries))
    assert zipped.files == folder.files and zipped.sha256 == folder.sha256


@pytest.mark.parametrize("setup,needle", [
    (lambda d: None, "holds no .py files"),
    (lambda d: (d / "a.py").write_bytes(b"x = 1\0\0"), "a binary file"),
    (lambda d: (d / "a.py").write_bytes("x = 'é'".encode("latin-1")), "not UTF-8 text (byte 0xe9 at offset 5)"),
    (lambda d: (d / "a.py").write_bytes(b"#" * (MAX_FILE_BYTES + 1)), "too large for a source file"),
    (lambda d: os.symlink("/etc/hostname", d / "a.py"), "a symbolic link to /etc/hostname, outside the submission"),
])
def test_bad_folders(tmp_path, setup, needle):
    folder = tmp_path / "sub"
    folder.mkdir()
    setup(folder)
    with pytest.raises(SubmissionError) as err:
        load_submission(folder)
    message = str(err.value)
    assert needle in message and "\n" not in message and str(folder) in message


def test_zip_slip_is_refused_without_writing_anything(tmp_path):
    bad = make_zip(tmp_path / "slip.zip", {"../../evil.py": b"x = 1", "ok.py": b"y = 2"})
    before = set(os.listdir(tmp_path))
    with pytest.raises(SubmissionError, match=r"entry '\.\./\.\./evil\.py' points outside the archive"):
        load_submission(bad)
    assert set(os.listdir(tmp_path)) == before


def test_absolute_zip_entries_are_refused(tmp_path):
    with pytest.raises(SubmissionError, match="points outside"):
        load_submission(make_zip(tmp_path / "abs.zip", {"/etc/evil.py": b"x = 1"}))


def test_zip_bomb_is_refused_from_its_headers(tmp_path):
    bomb = make_zip(tmp_path / "bomb.zip", {"a.py": b"#" * (64 << 20)})
    assert bomb.stat().st_size < 1 << 20
    with pytest.raises(SubmissionError, match="unpacks to 67,108,864 bytes"):
        load_submission(bomb)


def test_not_a_zip_and_nested_folders(tmp_path):
    fake = tmp_path / "fake.zip"
    fake.write_bytes(b"not a zip at all")
    with pytest.raises(SubmissionError, match="not a readable zip"):
        load_submission(fake)
    with pytest.raises(SubmissionError, match="several folders"):
        load_submission(make_zip(tmp_path / "two.zip", {"a/x.py": b"x=1", "b/y.py": b"y=2"}))


def test_notebooks_that_do_not_parse_or_lack_tagged_cells(tmp_path):
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{ this is not json")
    with pytest.raises(SubmissionError, match="not a readable notebook"):
        load_submission(broken)
    untagged = tmp_path / "untagged.ipynb"
    untagged.write_text(json.dumps({"cells": [{"cell_type": "code", "id": "c1", "metadata": {}, "source": "x = 1",
                                               "outputs": [], "execution_count": None}],
                                    "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    with pytest.raises(SubmissionError, match="no cells tagged 'solution'"):
        load_submission(untagged)


def test_missing_path(tmp_path):
    with pytest.raises(SubmissionError, match="no such file or directory"):
        load_submission(tmp_path / "nope")


def _notebook(path, cells: list[str]):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    path.write_text(nbformat.writes(nb))
    return path


def test_an_untagged_notebook_is_graded_from_its_top_level_definitions(tmp_path, xavier_spec):
    from grader.grading import grade
    from grader.spec import definition_owners

    solution = (SOLUTIONS / "xavier_init.py").read_text()
    nb = _notebook(tmp_path / "mine.ipynb", [
        "%matplotlib inline\n" + solution,
        "x = xavier_uniform_(torch.empty(3, 4))\nraise SystemExit('a cell like this must never run')",
        "def xavier_normal_(t, gain=1.0, generator=None):\n    return t  # a first attempt, replaced below",
        solution.split("def xavier_normal_")[0].split("import torch")[0] + "import torch\nimport math\n\n"
        + "def xavier_normal_" + solution.split("def xavier_normal_")[1],
        "this cell is not python (",
    ])
    sub = load_submission(nb, definition_owners(xavier_spec))
    assert set(sub.files) == {"xavier_init.py"}
    source = sub.files["xavier_init.py"].decode()
    assert "SystemExit" not in source and "first attempt" not in source and "%matplotlib" not in source
    report = grade(sub, xavier_spec)
    assert report.score == report.max_score, [(t.name, t.message) for t in report.tests() if not t.passed]


def test_definitions_are_sorted_into_modules_and_helpers_shared():
    from grader.notebook_fallback import split_definitions

    files, unparsed = split_definitions(
        ["import torch\nEPS = 1e-5\ndef _helper(x):\n    return x\n", "def f(x):\n    return _helper(x)\n",
         "class G:\n    pass\nresult = f(2)\n", "def broken(:\n"],
        {"f": "mod_f", "G": "mod_g"})
    assert set(files) == {"mod_f.py", "mod_g.py"} and unparsed == [3]
    f_source = files["mod_f.py"].decode()
    assert "import torch" in f_source and "EPS = 1e-5" in f_source and "def _helper" in f_source
    assert "class G" not in f_source and "result = f(2)" not in f_source
    assert "class G" in files["mod_g.py"].decode()


def test_a_notebook_without_tags_or_definitions_names_what_to_define(tmp_path, xavier_spec):
    from grader.spec import definition_owners

    nb = _notebook(tmp_path / "empty.ipynb", ["x = 1", "print(x)"])
    with pytest.raises(SubmissionError, match="no top-level definition of an exercise's function.*xavier_normal_"):
        load_submission(nb, definition_owners(xavier_spec))

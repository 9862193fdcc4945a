"""Reading a submission: a directory of the student's ``.py`` files, or a notebook.

Only file contents leave this module; nothing is imported or executed here. From a
notebook, the cells tagged ``solution`` are taken, each carrying the module it belongs
to in its metadata (``grader.module``), exactly as ``grader build`` wrote them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

#: A student file larger than this is refused before it reaches the worker.
MAX_FILE_BYTES = 1 << 20
SOLUTION_TAG = "solution"


class SubmissionError(Exception):
    """The submission cannot be read at all; the message says what to do."""


@dataclass(frozen=True)
class Submission:
    name: str
    files: dict[str, bytes]
    sha256: str


def load_submission(path: Path) -> Submission:
    path = Path(path)
    if path.is_dir():
        files = _from_directory(path)
    elif path.suffix == ".ipynb" and path.is_file():
        files = _from_notebook(path)
    elif not path.exists():
        raise SubmissionError(f"{path}: no such file or directory; pass a folder of .py files or a .ipynb notebook")
    else:
        raise SubmissionError(f"{path}: not a folder or a .ipynb notebook; pass the folder that holds the .py files")
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return Submission(name=path.name or str(path), files=files, sha256=digest.hexdigest())


def _from_directory(path: Path) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for file in sorted(path.glob("*.py")):
        if not file.is_file() or file.is_symlink():
            continue
        size = file.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SubmissionError(f"{file}: {size >> 10} KiB is too large for a source file (limit {MAX_FILE_BYTES >> 10} KiB)")
        files[file.name] = file.read_bytes()
    return files


def _from_notebook(path: Path) -> dict[str, bytes]:
    import nbformat

    try:
        nb = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
    except (json.JSONDecodeError, UnicodeDecodeError, nbformat.reader.NotJSONError) as exc:
        raise SubmissionError(f"{path}: not a readable notebook ({type(exc).__name__}); re-download it from Jupyter") from None
    sources: dict[str, list[str]] = {}
    for cell in nb.cells:
        if cell.cell_type != "code" or SOLUTION_TAG not in cell.metadata.get("tags", []):
            continue
        module = cell.metadata.get("grader", {}).get("module")
        if module:
            sources.setdefault(f"{module}.py", []).append(cell.source)
    if not sources:
        raise SubmissionError(
            f"{path}: no cells tagged '{SOLUTION_TAG}'; write your answers in the tagged cells of the notebook you were given"
        )
    return {name: ("\n\n".join(parts) + "\n").encode() for name, parts in sources.items()}

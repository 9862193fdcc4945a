"""Reading a submission: a folder of the student's ``.py`` files, a zip of them, or a notebook.

Only file contents leave this module; nothing is imported, executed or extracted to
disk here. From a notebook, the cells tagged ``solution`` are taken, each carrying the
module it belongs to in its metadata (``grader.module``), exactly as ``grader build``
wrote them. Anything unusable (an empty folder, a binary or non-UTF-8 file, a file of
gigabytes, a symbolic link out of the submission, a zip with ``../`` paths or a zip bomb)
raises :class:`SubmissionError` with one line that names the file and what to do.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

#: A student source file larger than this is refused before it reaches the worker.
MAX_FILE_BYTES = 1 << 20
#: A notebook larger than this is refused (outputs with images make notebooks big, not gigabytes).
MAX_NOTEBOOK_BYTES = 32 << 20
#: All of a zip's files together, uncompressed; and the largest compression ratio believed.
MAX_ZIP_BYTES = 16 << 20
MAX_ZIP_RATIO = 200
SOLUTION_TAG = "solution"


class SubmissionError(Exception):
    """The submission cannot be read at all; the message says what to do."""


@dataclass(frozen=True)
class Submission:
    name: str
    files: dict[str, bytes]
    sha256: str


def load_submission(path: Path, owners: dict[str, str] | None = None) -> Submission:
    """Read a submission. ``owners`` (name -> module, from the specs) lets a notebook without
    tagged cells be graded from its top-level definitions (:mod:`grader.notebook_fallback`)."""
    path = Path(path)
    if path.is_dir():
        files = _from_directory(path)
    elif path.suffix == ".ipynb" and path.is_file():
        files = _from_notebook(path, owners or {})
    elif path.suffix == ".zip" and path.is_file():
        files = _from_zip(path)
    elif not path.exists():
        raise SubmissionError(f"{path}: no such file or directory; pass a folder of .py files, a .zip or a .ipynb notebook")
    else:
        raise SubmissionError(f"{path}: not a folder, a .zip or a .ipynb notebook; pass the folder that holds the .py files")
    if not files:
        raise SubmissionError(f"{path}: the submission holds no .py files; put your answers in the files the stubs "
                              "gave you (e.g. xavier_init.py)")
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return Submission(name=path.name or str(path), files=files, sha256=digest.hexdigest())


def _source(data: bytes, where: str) -> bytes:
    """Check that a file is Python source: UTF-8 text without NUL bytes."""
    if b"\0" in data:
        raise SubmissionError(f"{where}: a binary file, not Python source; submit the .py text file")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SubmissionError(f"{where}: not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start}); "
                              "save the file as UTF-8") from None
    return data


def _from_directory(path: Path) -> dict[str, bytes]:
    root = path.resolve()
    files: dict[str, bytes] = {}
    for file in sorted(path.glob("*.py")):
        if file.is_symlink() and root not in file.resolve().parents:
            raise SubmissionError(f"{file}: a symbolic link to {file.resolve()}, outside the submission; "
                                  "submit the file itself")
        if not file.is_file():
            continue
        size = file.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SubmissionError(f"{file}: {size:,} bytes is too large for a source file (limit "
                                  f"{MAX_FILE_BYTES:,}); submit only your code")
        files[file.name] = _source(file.read_bytes(), str(file))
    return files


def _from_zip(path: Path) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SubmissionError(f"{path}: not a readable zip ({exc}); zip the folder of .py files again") from None
    with archive:
        entries = [i for i in archive.infolist() if not i.is_dir()]
        for info in entries:
            parts = PurePosixPath(info.filename.replace("\\", "/")).parts
            if info.filename.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
                raise SubmissionError(f"{path}: entry {info.filename!r} points outside the archive; zip only your "
                                      "files, with plain relative names")
        total = sum(i.file_size for i in entries)
        packed = sum(i.compress_size for i in entries) or 1
        if total > MAX_ZIP_BYTES or total / packed > MAX_ZIP_RATIO:
            raise SubmissionError(f"{path}: unpacks to {total:,} bytes (ratio {total / packed:.0f}:1), over the "
                                  f"{MAX_ZIP_BYTES:,}-byte limit; zip only your .py files")
        sources = [i for i in entries if i.filename.endswith(".py") and not PurePosixPath(i.filename).name.startswith(".")]
        folders = {PurePosixPath(i.filename).parent for i in sources}
        if len(folders) > 1:
            raise SubmissionError(f"{path}: .py files in several folders ({', '.join(sorted(map(str, folders)))}); "
                                  "zip one folder of answers")
        files: dict[str, bytes] = {}
        for info in sources:
            if info.file_size > MAX_FILE_BYTES:
                raise SubmissionError(f"{path}: {info.filename} is {info.file_size:,} bytes, too large for a source file")
            data = archive.read(info)
            if len(data) != info.file_size:  # a header that lies about the size
                raise SubmissionError(f"{path}: {info.filename} does not match its own header; zip the files again")
            files[PurePosixPath(info.filename).name] = _source(data, f"{path}:{info.filename}")
        return files


def _from_notebook(path: Path, owners: dict[str, str]) -> dict[str, bytes]:
    import nbformat

    size = path.stat().st_size
    if size > MAX_NOTEBOOK_BYTES:
        raise SubmissionError(f"{path}: {size:,} bytes is too large for a notebook; clear its outputs and save again")
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
        return _from_definitions(path, [c.source for c in nb.cells if c.cell_type == "code"], owners)
    return {name: ("\n\n".join(parts) + "\n").encode() for name, parts in sources.items()}


def _from_definitions(path: Path, cells: list[str], owners: dict[str, str]) -> dict[str, bytes]:
    """The fallback for a notebook without tagged cells: its top-level definitions, no cell run."""
    from grader.notebook_fallback import split_definitions

    files, unparsed = split_definitions(cells, owners)
    if not files:
        wanted = ", ".join(sorted(owners)[:6]) + (", ..." if len(owners) > 6 else "")
        bad = f" ({len(unparsed)} code cell(s) do not parse as Python)" if unparsed else ""
        raise SubmissionError(
            f"{path}: no cells tagged '{SOLUTION_TAG}' and no top-level definition of an exercise's function or "
            f"class{bad}; write your answers in the tagged cells of the notebook you were given"
            + (f", or define {wanted} at the top level of a cell" if owners else ""))
    return files

"""``grader export gradescope``: an ``autograder.zip`` that Gradescope can build and run.

Gradescope unpacks the zip into ``/autograder/source``, runs ``setup.sh`` once on its
Ubuntu image, then ``run_autograder`` for every submission, which must leave
``/autograder/results/results.json``. The zip carries everything that needs: the
specs, this grader's own source (installed by ``setup.sh``, so the version that grades is
the version the instructor tried), and the two scripts, rendered from
``templates/gradescope/``. ``run_autograder`` honours ``AUTOGRADER_ROOT`` and
``GRADER_PYTHON``, so the same zip can be unpacked and run anywhere to try it.
"""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import jinja2

from grader import __version__
from grader.spec import LoadedSpec

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates" / "gradescope"
#: The grader's own files that `pip install` needs.
PACKAGE_FILES = ("pyproject.toml", "README.md")


def _package_entries() -> list[tuple[Path, str]]:
    """(file, name in the zip) for the grader package, without caches or compiled files."""
    entries = [(ROOT / name, f"grader-package/{name}") for name in PACKAGE_FILES]
    for path in sorted((ROOT / "grader").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            entries.append((path, f"grader-package/{path.relative_to(ROOT)}"))
    return entries


def render_scripts(specs: list[LoadedSpec], torch_version: str) -> dict[str, str]:
    """``setup.sh`` and ``run_autograder`` for these specs."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    context = {"version": __version__, "torch_version": torch_version.split("+")[0],
               "needs_mnist": any(t.kind == "convergence" for s in specs for t in s.spec.tests)}
    return {name: env.get_template(f"{name}.j2").render(context) for name in ("setup.sh", "run_autograder")}


def build_autograder(specs: list[LoadedSpec], out: Path, torch_version: str) -> Path:
    """Write ``out`` (a zip) with the scripts at its root, ``exercises/`` and ``grader-package/``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    executable = (stat.S_IFREG | 0o755) << 16
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, text in render_scripts(specs, torch_version).items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = executable
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, text)
        for loaded in specs:
            zf.write(loaded.path, f"exercises/{loaded.path.name}")
        for path, name in _package_entries():
            zf.write(path, name)
    return out

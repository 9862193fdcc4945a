"""Building what students get: spec -> stub module, notebook and README.

``build(specs, out)`` renders every spec through the Jinja2 templates in
``templates/`` into ``out/student/``:

* one importable module per exercise, whose functions raise ``NotImplementedError``;
* ``exercises.ipynb`` (nbformat v4) holding all of them, the cells a student edits
  tagged ``solution`` with the module they belong to, so the grader can extract them;
* ``README.md``, and ``.grader/exercises/`` with the specs stripped of hidden tests,
  which ``grader check`` uses.

Building is deterministic: same specs and templates, byte-identical files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
import nbformat
import yaml

from grader import variants
from grader.spec import FunctionSpec, LoadedSpec, SpecError
from grader.submission import SOLUTION_TAG

#: Where ``grader check`` finds the visible specs inside a student folder.
STUDENT_SPECS = Path(".grader") / "exercises"
DEFAULT_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def build(specs: list[LoadedSpec], out: Path, *, templates: Path = DEFAULT_TEMPLATES,
          course_title: str = "Training neural networks: exercises", folder: str = "student",
          records: dict[str, str] | None = None) -> list[Path]:
    """Render the student folder ``out/<folder>``; returns the files written.

    ``records`` (exercise id -> ``GRADER_VARIANT`` line) marks one student's variant in
    their stubs (:func:`build_roster`).
    """
    env = _environment(templates)
    student = Path(out) / folder
    (student / STUDENT_SPECS).mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    sources: dict[str, str] = {}
    for loaded in specs:
        spec = loaded.spec
        source = _render(env, "module.py.j2", spec=spec, record=(records or {}).get(spec.id))
        _compile_check(source, loaded.path)
        sources[spec.id] = source
        written.append(_write(student / f"{spec.module}.py", source))
        written.append(_write(student / STUDENT_SPECS / f"{spec.id}.yaml", visible_spec_yaml(loaded)))
    written.append(_write(student / "exercises.ipynb", _notebook(env, specs, sources, course_title)))
    summaries = [
        {"id": s.spec.id, "title": s.spec.title, "module": s.spec.module, "points": s.spec.points,
         "visible_points": sum(t.points for t in s.spec.tests if t.visible)}
        for s in specs
    ]
    written.append(_write(student / "README.md", _render(env, "README.md.j2", specs=summaries, course_title=course_title)))
    return written


def build_roster(specs: list[LoadedSpec], out: Path, students: list[str], secret: bytes, *,
                 templates: Path = DEFAULT_TEMPLATES) -> dict[str, dict[str, dict[str, float]]]:
    """One folder per student, ``out/<student>``, with their own variant of every exercise.

    Returns each student's values per exercise, for the instructor's records.
    """
    drawn: dict[str, dict[str, dict[str, float]]] = {}
    for student in students:
        if not student or student.startswith(".") or "/" in student or "|" in student or '"' in student:
            raise SpecError(f"roster: {student!r} cannot name a folder; use plain student ids")
        mine, records = [], {}
        for loaded in specs:
            if loaded.spec.variants:
                values = variants.draw(loaded.spec.variants, loaded.spec.id, student, secret)
                loaded = loaded.with_variant(values)
                records[loaded.spec.id] = variants.record_line(loaded.spec.id, student, values, secret)
            mine.append(loaded)
        build(mine, out, templates=templates, folder=student, records=records)
        drawn[student] = {s.spec.id: s.variant for s in mine if s.variant}
    return drawn


def visible_spec_yaml(loaded: LoadedSpec) -> str:
    """The spec as the student may see it: the hidden tests removed."""
    data = yaml.safe_load(loaded.path.read_text(encoding="utf-8"))
    data["tests"] = [t for t in data["tests"] if t.get("visibility", "hidden") == "visible"]
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def _notebook(env: jinja2.Environment, specs: list[LoadedSpec], sources: dict[str, str], title: str) -> str:
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                   "language_info": {"name": "python"}}
    cells = [_cell("markdown", f"# {title}\n\nWrite your answers in the cells tagged `{SOLUTION_TAG}`. "
                   "Check them with `grader check exercises.ipynb`.", "intro")]
    for loaded in specs:
        spec = loaded.spec
        cells.append(_cell("markdown", _render(env, "exercise.md.j2", spec=spec), f"{spec.id}-text"))
        code = _cell("code", sources[spec.id].rstrip("\n"), f"{spec.id}-solution")
        code.metadata = {"tags": [SOLUTION_TAG], "grader": {"exercise": spec.id, "module": spec.module}}
        cells.append(code)
    nb.cells = cells
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


def _cell(kind: str, source: str, cell_id: str) -> Any:
    cell = nbformat.v4.new_markdown_cell(source) if kind == "markdown" else nbformat.v4.new_code_cell(source)
    cell.id = cell_id.replace("_", "-")  # deterministic ids, so builds are byte-identical
    return cell


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path


def _render(env: jinja2.Environment, name: str, **context: Any) -> str:
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateNotFound:
        raise SpecError(f"{env.loader.searchpath[0]}/{name}: template missing; restore it from the grader's templates/") from None  # type: ignore[union-attr]
    except jinja2.TemplateSyntaxError as exc:
        raise SpecError(f"{exc.filename}:{exc.lineno}: template syntax error: {exc.message}") from None


def _compile_check(source: str, spec_path: Path) -> None:
    try:
        compile(source, "<stub>", "exec")
    except SyntaxError as exc:
        raise SpecError(f"{spec_path}: the rendered stub is not valid Python ({exc.msg} at stub line {exc.lineno}); "
                        "check the signatures and stub bodies") from None


# -- Jinja filters -----------------------------------------------------------------


def _environment(templates: Path) -> jinja2.Environment:
    if not Path(templates).is_dir():
        raise SpecError(f"{templates}: templates folder missing; pass --templates or restore templates/")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates)), undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, autoescape=False)
    env.filters.update(docstring=_docstring_safe, function_doc=_function_doc, stub_body=_stub_body,
                       params=_params, returns=_returns, points=lambda p: f"{p:g}")
    return env


def _docstring_safe(text: str) -> str:
    return text.replace('"""', "'''").strip()


def _split_signature(signature: str) -> tuple[str, str]:
    depth = 0
    for i, ch in enumerate(signature):
        depth += ch in "([{"
        depth -= ch in ")]}"
        if depth == 0:
            return signature[1:i], signature[i + 1:].strip()
    raise ValueError(f"unbalanced signature {signature!r}")


def _params(signature: str) -> str:
    return _split_signature(signature)[0]


def _returns(signature: str) -> str:
    rest = _split_signature(signature)[1]
    return f" {rest}" if rest else ""


def _function_doc(f: FunctionSpec) -> str:
    lines = [_docstring_safe(f.docstring)]
    if f.args:
        lines += ["", "Args:"]
        for a in f.args:
            meta = ", ".join(x for x in (f"shape {a.shape}" if a.shape else "", f"dtype {a.dtype}" if a.dtype else "") if x)
            lines.append(f"    {a.name} ({a.type}{', ' + meta if meta else ''}): {_docstring_safe(a.description)}")
    if f.returns:
        lines += ["", "Returns:", f"    {_docstring_safe(f.returns)}"]
    if f.hints:
        lines += ["", "Hints:"] + [f"    - {_docstring_safe(h)}" for h in f.hints]
    return "\n".join(lines)


def _stub_body(f: FunctionSpec, indent: int) -> str:
    body = f.body or (f'raise NotImplementedError("{f.name} is not written yet: read its docstring and hints, '
                      f'then run `grader check .`")')
    pad = " " * indent
    return "\n".join(pad + line if line.strip() else "" for line in body.rstrip().splitlines())

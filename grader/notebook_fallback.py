"""Notebooks without tagged cells: their top-level definitions, sorted into modules.

A student may answer in a notebook of their own, or lose the cell tags. Rather than
refuse it, the grader takes every top-level ``def`` and ``class`` from the code cells,
with the imports and literal constants they may need, and never runs a cell: statements
that compute something (``x = torch.randn(3)``, ``train()``) are left out. Each
definition goes to the module of the exercise that declares that name (``xavier_uniform_``
to ``xavier_init.py``); helpers that no spec names go to every module, so the
definitions that call them still find them. The last definition of a name wins, as it
would in the notebook's kernel.
"""

from __future__ import annotations

import ast


def _cell_tree(source: str) -> tuple[ast.Module | None, str]:
    """A cell's statements and its text, IPython magics and shell lines blanked; None if it does not parse."""
    text = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
    try:
        return ast.parse(text), text
    except SyntaxError:
        return None, text


def _kept(node: ast.stmt) -> bool:
    """Definitions, imports, and assignments of literal constants: nothing that runs anything."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)):
        return True
    if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
        try:
            ast.literal_eval(node.value)
        except ValueError:
            return False
        return True
    return False


def _name(node: ast.stmt) -> str | None:
    return node.name if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) else None


def split_definitions(cells: list[str], owners: dict[str, str]) -> tuple[dict[str, bytes], list[int]]:
    """Module sources built from the cells' top-level definitions, and the cells that did not parse.

    ``owners`` maps a name the exercises declare to its module (without ``.py``). Only
    modules that receive at least one owned definition are returned.
    """
    imports: list[str] = []
    owned: dict[str, tuple[str, str]] = {}  # name -> (module, source); later cells replace earlier ones
    shared: dict[str, str] = {}
    unparsed = []
    for index, source in enumerate(cells):
        tree, clean = _cell_tree(source)
        if tree is None:
            unparsed.append(index)
            continue
        for node in tree.body:
            if not _kept(node):
                continue
            text = ast.get_source_segment(clean, node, padded=True)
            if text is None:
                continue
            decorated = "".join(f"@{ast.unparse(d)}\n" for d in getattr(node, "decorator_list", []))
            name = _name(node)
            if name is None:
                if text not in imports:
                    imports.append(text)
            elif name in owners:
                owned[name] = (owners[name], decorated + text)
            else:
                shared[name] = decorated + text
    modules = sorted({module for module, _ in owned.values()})
    files = {}
    for module in modules:
        parts = [*imports, *shared.values(), *(src for m, src in owned.values() if m == module)]
        files[f"{module}.py"] = ("\n\n".join(parts) + "\n").encode()
    return files, unparsed

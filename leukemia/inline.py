"""Numbers in the prose: MyST inline expressions, ``{eval}`expr```, in the notebooks' Markdown cells.

A lesson's sentences are Markdown; a value a rerun could change is written as an inline expression
that the kernel evaluates after the code cells above it. jupyterlab-myst does this in JupyterLab
when a Markdown cell is run, and stores the results in the cell's ``metadata.user_expressions`` —
a list of ``{"expression": …, "result": …}``, the result being a Jupyter ``user_expressions`` reply
(``{"status": "ok", "data": {mime: text}, "metadata": {}}`` or an error with ``ename``/``evalue``).
Headless runs do the same (:func:`leukemia.kernels.execute_notebook`), so a committed notebook, a
run's notebook and the HTML report all carry the values.

- :func:`expressions`: the expressions of a Markdown text, in order of first appearance;
- :func:`display_text`: the text a result shows (a string's value, not its ``repr``);
- :func:`with_values`: a notebook whose Markdown shows the values in place of the expressions;
- :func:`failures`: the expressions that raised, for a run to fail on.
"""

from __future__ import annotations

import ast
import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass

import nbformat

__all__ = [
    "METADATA_KEY",
    "ROLE",
    "Failure",
    "InlineExpressionError",
    "display_text",
    "expressions",
    "failures",
    "values",
    "with_values",
]

#: The cell metadata field jupyterlab-myst reads and writes.
METADATA_KEY = "user_expressions"

#: ``{eval}`expr``` — MyST's inline-expression role (the expression holds no backtick).
ROLE = re.compile(r"\{eval\}`([^`]+)`")

#: Preferred representations of a result, richest first; text/plain is always there.
_MIME_ORDER = ("text/markdown", "text/plain")


class InlineExpressionError(RuntimeError):
    """An inline expression of a notebook's prose raised when it was evaluated."""


@dataclass(frozen=True)
class Failure:
    """One expression that raised: the Markdown cell (0-based index in the notebook) and the error."""

    cell: int
    expression: str
    ename: str
    evalue: str

    def __str__(self) -> str:
        return f"Markdown cell {self.cell}: {{eval}}`{self.expression}` raised {self.ename}: {self.evalue}"


def expressions(source: str) -> list[str]:
    """The inline expressions of a Markdown text, each once, in order of first appearance."""
    return list(dict.fromkeys(match.group(1) for match in ROLE.finditer(source)))


def display_text(result: Mapping[str, object]) -> str:
    """What a ``user_expressions`` result shows in the prose.

    Markdown if the value has a Markdown representation, else its plain text; a string's plain text is
    its ``repr`` (``"'31/34'"``), shown without the quotes (``31/34``), as jupyterlab-myst shows it.

    Raises
    ------
    ValueError
        The result is an error, or has no text representation.
    """
    if result.get("status") != "ok":
        raise ValueError(f"no value: {result.get('ename', 'error')}: {result.get('evalue', '')}")
    data = result.get("data")
    if not isinstance(data, Mapping):
        raise ValueError("no value: the result has no data")
    for mime in _MIME_ORDER:
        if mime in data:
            text = data[mime]
            text = "".join(text) if isinstance(text, list) else str(text)
            return _unquoted(text) if mime == "text/plain" else text
    raise ValueError(f"no text representation among {sorted(data)}")


def _unquoted(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return text
        if isinstance(value, str):
            return value
    return text


def values(cell: Mapping[str, object]) -> dict[str, Mapping[str, object]]:
    """A Markdown cell's stored results by expression (empty if it has none)."""
    metadata = cell.get("metadata", {})
    stored = metadata.get(METADATA_KEY, []) if isinstance(metadata, Mapping) else []
    return {entry["expression"]: entry["result"] for entry in stored}


def failures(notebook: nbformat.NotebookNode) -> list[Failure]:
    """Every inline expression of ``notebook`` whose stored result is an error or missing."""
    found = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "markdown":
            continue
        stored = values(cell)
        for expression in expressions(cell.source):
            result = stored.get(expression)
            if result is None:
                found.append(Failure(index, expression, "NotEvaluated", "no stored result"))
            elif result.get("status") != "ok":
                found.append(Failure(index, expression, str(result.get("ename")), str(result.get("evalue"))))
    return found


def with_values(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``notebook`` whose Markdown shows each inline expression's value in its place.

    Raises
    ------
    InlineExpressionError
        An expression has no value (it raised, or was never evaluated).
    """
    problems = failures(notebook)
    if problems:
        raise InlineExpressionError("; ".join(str(p) for p in problems))
    shown = copy.deepcopy(notebook)
    for cell in shown.cells:
        if cell.cell_type == "markdown" and ROLE.search(cell.source):
            cell.source = _substituted(cell.source, values(cell))
    return shown


def _substituted(source: str, stored: Mapping[str, Mapping[str, object]]) -> str:
    return ROLE.sub(lambda match: display_text(stored[match.group(1)]), source)


def main(argv: list[str] | None = None) -> int:
    """``python -m leukemia.inline NOTEBOOK...``: exit 1, naming each expression that has no value."""
    import sys

    paths = sys.argv[1:] if argv is None else argv
    status = 0
    for path in paths:
        for problem in failures(nbformat.read(path, as_version=4)):
            print(f"{path}: {problem}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    raise SystemExit(main())

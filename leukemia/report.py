"""Render a run directory's executed notebooks as one self-contained HTML page, and a sweep page.

The page needs no network: nbconvert's ``basic`` template gives bare HTML with the figures
embedded as data URIs, and the page brings its own style sheet (including the code colours).
"""

from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import pandas as pd
from nbconvert import HTMLExporter
from pygments.formatters import HtmlFormatter

from leukemia.config import NOTEBOOKS_DIR
from leukemia.inline import with_values
from leukemia.rundir import REPORT_FILE, write_atomic

__all__ = ["render_report", "render_sweep"]

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #1d1d1f;
       line-height: 1.5; }
nav { position: fixed; top: 0; left: 0; bottom: 0; width: 250px; overflow-y: auto; padding: 1.2em;
      background: #f5f5f7; border-right: 1px solid #ddd; box-sizing: border-box; font-size: 0.9em; }
nav ol { padding-left: 1.2em; } nav a { color: #0b5cad; text-decoration: none; }
main { margin-left: 270px; max-width: 1100px; padding: 1em 2em 4em; }
section { border-bottom: 2px solid #ddd; padding-bottom: 2em; margin-bottom: 2em; }
img { max-width: 100%; height: auto; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: right; }
th { background: #f0f0f0; }
pre { background: #f7f7f7; padding: 0.6em; overflow-x: auto; font-size: 0.85em; }
.jp-InputPrompt, .jp-OutputPrompt, .prompt { display: none; }  /* the "In [n]" and "Out[n]" prompts */
.anchor-link { display: none; }
details { background: #f5f8fc; border-left: 3px solid #0b5cad; padding: 0.3em 0.8em; margin: 0.6em 0; }
summary { cursor: pointer; font-weight: 600; }
"""


def _page(title: str, nav: str, body: str) -> str:
    css = _STYLE + HtmlFormatter(style="default").get_style_defs(".highlight")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{css}</style>\n</head>\n<body>\n"
        f"<nav>{nav}</nav>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def _title(notebook: nbformat.NotebookNode, fallback: str) -> str:
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+)$", cell.source, flags=re.MULTILINE)
            if match:
                return match.group(1).strip()
    return fallback


def report_title(dataset_name: str) -> str:
    """The report's title for a data set."""
    return (
        "Golub et al. (1999) leukemia analysis"
        if dataset_name == "golub"
        else f"{dataset_name}: expression analysis"
    )


def _run_dataset(directory: Path) -> str:
    """The data set named in a run's manifest (Golub's when it names none)."""
    import json

    try:
        return str(json.loads((Path(directory) / "manifest.json").read_text())["dataset"]["name"])
    except (OSError, ValueError, KeyError, TypeError):
        return "golub"


def _run_title(directory: Path) -> str:
    """The title for a finished run: the data set named in its manifest (Golub's when it names none)."""
    return report_title(_run_dataset(directory))


#: The notebook whose first section is the answer: a report on other data than Golub's opens with it.
ANSWER_NOTEBOOK = "11_summary"


def render_report(
    directory: Path, *, show_code: bool = False, title: str | None = None, answer_first: bool | None = None
) -> Path:
    """Write ``report.html`` in ``directory`` from its executed notebooks, in order.

    Parameters
    ----------
    directory
        A run directory holding executed ``NN_*.ipynb`` notebooks.
    show_code
        Include the code cells (by default only prose and outputs are shown).
    answer_first
        Open with :data:`ANSWER_NOTEBOOK` (the summary, whose first section is the answer), then the others in
        order. Default: for a run on other data than Golub's (its manifest says which); Golub's report keeps
        the course's order.

    Returns
    -------
    pathlib.Path
        The report, written under a temporary name and renamed into place.
    """

    notebooks = sorted(Path(directory).glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"no executed notebooks (NN_*.ipynb) in {directory}")
    if answer_first is None:
        answer_first = _run_dataset(directory) != "golub"
    if answer_first:  # stable: the answer's notebook first, the rest in course order
        notebooks.sort(key=lambda path: path.stem != ANSWER_NOTEBOOK)
    exporter = HTMLExporter(template_name="basic", exclude_input=not show_code)
    entries, sections = [], []
    for path in notebooks:
        notebook = with_values(nbformat.read(path, as_version=4))  # the prose's values, not its expressions
        body, _ = exporter.from_notebook_node(notebook)
        heading = _title(notebook, path.stem)
        if answer_first and path.stem == ANSWER_NOTEBOOK:
            heading = f"The answer — {heading}"
        anchor = f"nb-{path.stem}"
        entries.append(f'<li><a href="#{anchor}">{html.escape(heading)}</a></li>')
        sections.append(f'<section id="{anchor}">\n{body}\n</section>')
    glossary = _glossary_section(exporter)
    if glossary:
        entries.append(f'<li><a href="#{GLOSSARY_ANCHOR}">Glossary</a></li>')
        sections.append(glossary)
    nav = "<h2>Contents</h2>\n<ol>\n" + "\n".join(entries) + "\n</ol>"
    target = Path(directory) / REPORT_FILE
    body = _GLOSSARY_LINK.sub(_glossary_target, "\n".join(sections))  # links into the glossary file
    write_atomic(target, _page(title or _run_title(directory), nav, body))
    return target


#: The glossary the notebooks link to (``glossary.md#Term``); the report carries it as its last section.
GLOSSARY_FILE = NOTEBOOKS_DIR / "glossary.md"
GLOSSARY_ANCHOR = "glossary"
_GLOSSARY_LINK = re.compile(r'href="(?:\./)?glossary\.md(?:#([^"]*))?"')


def _glossary_target(link: re.Match[str]) -> str:
    """A link to ``glossary.md`` (or one of its entries) pointed at the report's own glossary section."""
    return f'href="#{link.group(1) or GLOSSARY_ANCHOR}"'


def _glossary_section(exporter: HTMLExporter) -> str:
    """The glossary rendered like a notebook's Markdown cell, so its headings get the same anchors."""
    if not GLOSSARY_FILE.exists():
        return ""
    cell = nbformat.v4.new_markdown_cell(GLOSSARY_FILE.read_text(), id=GLOSSARY_ANCHOR)  # fixed id: same page
    notebook = nbformat.v4.new_notebook(cells=[cell])
    body, _ = exporter.from_notebook_node(notebook)
    return f'<section id="{GLOSSARY_ANCHOR}">\n{body}\n</section>'


def _figure_data_uri(figure: plt.Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def render_sweep(metrics: pd.DataFrame, swept: list[str], target: Path) -> Path:
    """A comparison page across the runs of a sweep: accuracy with CI against the first swept parameter.

    Parameters
    ----------
    metrics
        The runs' metrics, with one column per swept parameter.
    swept
        The swept parameter names; the first is the x axis, the others make panels.
    target
        Where to write the page.
    """

    from leukemia.plotting import plot_sweep

    x, n_test = swept[0], int(metrics["n_test"].iloc[0])
    figures = []
    for fig in plot_sweep(metrics, swept):
        figures.append(f'<img alt="accuracy against {html.escape(x)}" src="{_figure_data_uri(fig)}">')
    columns = [
        *swept,
        "model",
        "protocol",
        "n_correct",
        "n_test",
        "accuracy",
        "ci_low",
        "ci_high",
        "chosen_on",
    ]
    table = metrics[columns].sort_values([*swept, "protocol", "model"]).round(4).to_html(index=False)
    body = (
        f'<section id="sweep"><h1>Sweep over {html.escape(", ".join(swept))}</h1>\n'
        f"<p>Each point is one run; accuracy is measured on the {n_test} test samples, with exact "
        "Clopper–Pearson 95% intervals. Overlapping intervals mean the setting makes no demonstrable "
        "difference on this test set.</p>\n"
        + "\n".join(figures)
        + f'\n<h2 id="table">All runs</h2>\n{table}</section>'
    )
    nav = (
        '<h2>Contents</h2>\n<ol><li><a href="#sweep">Figures</a></li><li><a href="#table">Table</a></li></ol>'
    )
    write_atomic(target, _page(f"Sweep over {', '.join(swept)}", nav, body))
    return target

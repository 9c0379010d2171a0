"""leukemia.inline and the runner's engine: the prose's {eval} expressions are evaluated, stored, shown."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import nbformat
import pytest

from leukemia import config
from leukemia.inline import (
    METADATA_KEY,
    InlineExpressionError,
    display_text,
    expressions,
    failures,
    values,
    with_values,
)


def _ok(text: str, mime: str = "text/plain") -> dict[str, object]:
    return {"status": "ok", "data": {mime: text}, "metadata": {}}


def _markdown(source: str, stored: dict[str, dict[str, object]] | None = None) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_markdown_cell(source)
    if stored is not None:
        cell.metadata[METADATA_KEY] = [{"expression": e, "result": r} for e, r in stored.items()]
    return cell


def test_expressions_are_found_once_each_in_order() -> None:
    source = "A {eval}`f'{x}/{n}'` and {eval}`n - x`; again {eval}`n - x`. Code `x` and {eval} alone are not."
    assert expressions(source) == ["f'{x}/{n}'", "n - x"]
    assert expressions("no values here") == []


@pytest.mark.parametrize(
    ("result", "shown"),
    [
        (_ok("'31/34'"), "31/34"),  # a string shows its value, not its repr
        (_ok('"it\'s"'), "it's"),
        (_ok("32"), "32"),
        (_ok("np.float64(0.5)"), "np.float64(0.5)"),  # not a string literal: as the kernel printed it
        (_ok("'a' + 'b'"), "'a' + 'b'"),
        (
            {"status": "ok", "data": {"text/plain": "<M>", "text/markdown": "**bold**"}, "metadata": {}},
            "**bold**",
        ),
        ({"status": "ok", "data": {"text/plain": ["'par", "ts'"]}, "metadata": {}}, "parts"),
    ],
)
def test_display_text_is_what_jupyterlab_myst_shows(result: dict[str, object], shown: str) -> None:
    assert display_text(result) == shown


def test_display_text_refuses_errors_and_results_without_text() -> None:
    with pytest.raises(ValueError, match="ZeroDivisionError: division by zero"):
        display_text({"status": "error", "ename": "ZeroDivisionError", "evalue": "division by zero"})
    with pytest.raises(ValueError, match=r"no text representation among \['image/png'\]"):
        display_text({"status": "ok", "data": {"image/png": "..."}, "metadata": {}})


def test_with_values_shows_the_values_and_leaves_the_notebook_alone() -> None:
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("x = 1"),
            _markdown(
                "Scores {eval}`f'{x}/{n}'`, twice: {eval}`f'{x}/{n}'`.", {"f'{x}/{n}'": _ok("'31/34'")}
            ),
            _markdown("No value here."),
        ]
    )
    shown = with_values(notebook)
    assert shown.cells[1].source == "Scores 31/34, twice: 31/34."
    assert shown.cells[2].source == "No value here."
    assert notebook.cells[1].source.startswith("Scores {eval}"), "the input is not modified"


def test_an_expression_without_a_good_value_is_a_failure() -> None:
    error = {"status": "error", "ename": "NameError", "evalue": "name 'y' is not defined", "traceback": []}
    notebook = nbformat.v4.new_notebook(
        cells=[
            _markdown("{eval}`x` and {eval}`y`", {"x": _ok("1"), "y": error}),
            nbformat.v4.new_code_cell("{eval}`not markdown`"),
            _markdown("{eval}`z`"),  # never evaluated
        ]
    )
    assert [str(f) for f in failures(notebook)] == [
        "Markdown cell 0: {eval}`y` raised NameError: name 'y' is not defined",
        "Markdown cell 2: {eval}`z` raised NotEvaluated: no stored result",
    ]
    with pytest.raises(InlineExpressionError, match=r"cell 0: \{eval\}`y` raised NameError"):
        with_values(notebook)


PROSE_NOTEBOOK = nbformat.v4.new_notebook(
    cells=[
        nbformat.v4.new_code_cell("x, n = 31, 34"),
        _markdown("Scores {eval}`f'{x}/{n}'`, so {eval}`n - x` errors."),
        nbformat.v4.new_code_cell("x = 5"),
        _markdown("Now {eval}`x`."),
        _markdown("Plain prose.", {"stale": _ok("1")}),
    ],
    metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
)


@pytest.mark.slow
def test_the_runner_evaluates_each_cells_expressions_after_the_code_above_it(tmp_path: Path) -> None:
    from leukemia.kernels import execute_notebook
    from leukemia.report import render_report

    source = tmp_path / "01_prose.ipynb"
    nbformat.write(PROSE_NOTEBOOK, source)
    run = tmp_path / "run"
    run.mkdir()
    execute_notebook(source, run / source.name)
    executed = nbformat.read(run / source.name, as_version=4)
    assert executed.cells[1].metadata[METADATA_KEY] == [
        {"expression": "f'{x}/{n}'", "result": _ok("'31/34'")},
        {"expression": "n - x", "result": _ok("3")},
    ]
    assert executed.cells[3].metadata[METADATA_KEY] == [{"expression": "x", "result": _ok("5")}]
    assert METADATA_KEY not in executed.cells[4].metadata, "a cell without expressions keeps no stale values"
    html = render_report(run).read_text()
    assert "Scores 31/34, so 3 errors." in html and "Now 5." in html and "{eval}" not in html


@pytest.mark.slow
def test_an_expression_that_raises_fails_the_notebook(tmp_path: Path) -> None:
    from leukemia.kernels import execute_notebook

    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("x = 1"), _markdown("{eval}`x / 0` is not a number")],
        metadata=PROSE_NOTEBOOK.metadata,
    )
    source = tmp_path / "bad.ipynb"
    nbformat.write(notebook, source)
    with pytest.raises(
        InlineExpressionError, match=r"out.ipynb: Markdown cell 1: \{eval\}`x / 0` raised Zero"
    ):
        execute_notebook(source, tmp_path / "out.ipynb")
    stored = nbformat.read(tmp_path / "out.ipynb", as_version=4).cells[1].metadata[METADATA_KEY]
    assert stored[0]["result"]["ename"] == "ZeroDivisionError", "the executed notebook keeps the error"


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_jupyterlab_shows_the_stored_values_in_headless_chromium(tmp_path: Path) -> None:
    """`make lab`: jupyterlab-myst renders a Markdown cell's stored values in place of its expressions."""
    import contextlib
    import os
    import signal
    import subprocess
    import sys
    import time
    import urllib.request

    from find_browser import find_browser, install_hint
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    chromium = find_browser()
    if chromium is None:
        pytest.fail(f"The JupyterLab browser test needs Chrome or Chromium. {install_hint()}", pytrace=False)
    notebook = nbformat.v4.new_notebook()
    notebook.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    prose = _markdown(
        "The model scores {eval}`f'{right}/{n}'` on the test set.", {"f'{right}/{n}'": _ok("'31/34'")}
    )
    notebook.cells = [nbformat.v4.new_code_cell("right, n = 31, 34"), prose]
    nbformat.write(notebook, tmp_path / "prose.ipynb")
    port = _free_port()
    home = {name: str(tmp_path / name) for name in ("config", "data", "runtime")}
    environment = os.environ | {
        "JUPYTER_CONFIG_DIR": home["config"], "JUPYTER_RUNTIME_DIR": home["runtime"],
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "ws"),
    }  # fmt: skip
    server = subprocess.Popen(
        [
            sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
            "--IdentityProvider.token=", "--ServerApp.password=", f"--ServerApp.root_dir={tmp_path}",
            "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--allow-root",  # CI's containers run as root
        ],
        env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        start_new_session=True,  # the server and the kernel it starts, stopped together
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api", timeout=2)
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "JupyterLab did not start"
                time.sleep(0.5)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(chromium), args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"http://127.0.0.1:{port}/lab/tree/prose.ipynb")
            shown = "() => document.querySelector('.jp-Notebook')?.innerText ?? ''"  # visible text only
            done = "text => text.includes('on the test set') && !text.includes('{eval}')"
            rendered = f"({done})(({shown})())"
            with contextlib.suppress(PlaywrightTimeout):  # the assertion below says what showed instead
                page.wait_for_function(rendered, timeout=90_000)
            text = page.evaluate(shown)
            browser.close()
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=30)
    assert "The model scores 31/34 on the test set." in text and "{eval}" not in text, text


# ---------------------------------------------------------------- the committed values are a rerun's

LESSONS = sorted(config.NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))
SOLUTIONS = sorted((config.NOTEBOOKS_DIR / "solutions").glob("[0-9][0-9]_*.ipynb"))


def _prose(path: Path) -> list[tuple[str, dict[str, str]]]:
    """Each Markdown cell with inline expressions: its source and what each expression shows."""

    def shown(result: Mapping[str, object]) -> str:
        try:
            return display_text(result)
        except ValueError as error:
            return f"<{error}>"

    cells = nbformat.read(path, as_version=4).cells
    return [
        (cell.source, {expression: shown(result) for expression, result in values(cell).items()})
        for cell in cells
        if cell.cell_type == "markdown" and expressions(cell.source)
    ]


@pytest.fixture(scope="module")
def rerun(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    """Every lesson rerun as `leukemia run` runs it (default parameters); every solution as well."""
    import subprocess
    import sys

    from leukemia.kernels import execute_notebook

    out = tmp_path_factory.mktemp("rerun") / "run"
    result = subprocess.run(
        [sys.executable, "-m", "leukemia.cli", "run", "--out", str(out), "-q"],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=3000,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    for path in SOLUTIONS:
        (out / "solutions").mkdir(exist_ok=True)
        execute_notebook(path, out / "solutions" / path.name)
    return out


@pytest.mark.slow
@pytest.mark.parametrize(
    "path", LESSONS + SOLUTIONS, ids=lambda p: p.relative_to(config.NOTEBOOKS_DIR).with_suffix("").as_posix()
)
def test_every_inline_value_is_what_a_rerun_computes(path: Path, rerun: Path) -> None:
    """nbval's counterpart for the prose: the values committed with a notebook are the ones a rerun shows."""
    committed = _prose(path)
    fresh = _prose(rerun / path.relative_to(config.NOTEBOOKS_DIR))
    assert committed, "the notebook's prose has inline values"
    assert [source for source, _ in fresh] == [source for source, _ in committed], "the same prose cells"
    for (source, now), (_, then) in zip(fresh, committed, strict=True):
        differ = [e for e in now.keys() | then.keys() if now.get(e) != then.get(e)]
        changed = {e: (then.get(e), now.get(e)) for e in sorted(differ)}
        assert not changed, f"committed → rerun {changed} in: {source[:200]}"


@pytest.mark.slow
def test_predict_on_the_independent_set_reproduces_the_runs_calls(
    rerun: Path, data_dir: Path, tmp_path: Path
) -> None:
    """`leukemia predict <the default run> <Golub's independent file>`: the run's calls and strengths,
    exactly."""
    import hashlib
    import json
    import subprocess
    import sys

    import numpy as np
    import pandas as pd

    out = tmp_path / "calls.csv"
    result = subprocess.run(
        [sys.executable, "-m", "leukemia.cli", "predict", str(rerun), str(data_dir / config.TEST_FILE),
         "--out", str(out)],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    run_calls = pd.read_csv(rerun / "model" / "test_predictions.csv", index_col="sample")
    new = pd.read_csv(out, index_col="sample")
    assert new.index.tolist() == run_calls.index.tolist() and len(new) == 34
    assert new["call"].tolist() == run_calls["call"].tolist()
    for column in [c for c in new.columns if c.startswith(("probability", "score")) or c == "confidence"]:
        assert np.array_equal(new[column].to_numpy(), run_calls[column].to_numpy(), equal_nan=True), column
    # The run's calls are the honest protocol's: its row of metrics.csv counts the same correct calls
    honest = pd.read_csv(rerun / "metrics.csv").query("protocol == 'honest'").iloc[0]
    assert int(run_calls["correct"].sum()) == honest["n_correct"]
    manifest = json.loads((rerun / "manifest.json").read_text())
    assert (
        manifest["model"]["sha256"]
        == hashlib.sha256((rerun / "model" / "model.skops").read_bytes()).hexdigest()
    )

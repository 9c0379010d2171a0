"""leukemia.kernels: notebooks run in this interpreter, with figures, whatever the user's environment says."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT

from leukemia.kernels import FigureError, execute_notebook, missing_figures

FIGURE_NOTEBOOK = nbformat.v4.new_notebook(
    cells=[
        nbformat.v4.new_code_cell(
            "import os, sys\nimport matplotlib.pyplot as plt\nfrom leukemia.plotting import set_style\n"
            "set_style()\nprint(sys.executable)\nprint(repr(os.environ.get('PYTHONWARNINGS')))"
        ),
        nbformat.v4.new_code_cell("plt.plot([1, 2], [3, 4])\nplt.show()"),
    ],
    metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
)


@pytest.fixture
def hostile_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A headless server's settings, and a user's own python3 kernel that is not this interpreter."""
    kernel = tmp_path / "jupyter" / "kernels" / "python3"
    kernel.mkdir(parents=True)
    spec = {
        "argv": ["/bin/false", "{connection_file}"],
        "display_name": "not this Python",
        "language": "python",
    }
    (kernel / "kernel.json").write_text(json.dumps(spec))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_PREFER_ENV_PATH", "0")  # the user's folder first, as outside a venv
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("PYTHONWARNINGS", "error")
    return tmp_path


@pytest.mark.slow
def test_notebook_runs_here_with_figures_in_a_hostile_environment(hostile_environment: Path) -> None:
    from jupyter_client.kernelspec import KernelSpecManager

    assert KernelSpecManager().get_kernel_spec("python3").argv[0] == "/bin/false", "the trap is set"
    source, target = hostile_environment / "in.ipynb", hostile_environment / "out.ipynb"
    nbformat.write(FIGURE_NOTEBOOK, source)
    execute_notebook(source, target)
    executed = nbformat.read(target, as_version=4)
    printed = executed.cells[0].outputs[0].text.splitlines()
    assert printed == [sys.executable, "''"], "this interpreter, with no inherited warning filters"
    assert missing_figures(executed) == []
    assert any("image/png" in output.get("data", {}) for output in executed.cells[1].outputs)


def test_a_figure_cell_without_an_image_is_found() -> None:
    shown = nbformat.v4.new_code_cell("plt.show()")
    shown.outputs = [
        nbformat.v4.new_output("display_data", data={"image/png": "AAAA", "text/plain": "<Figure>"})
    ]
    lost = nbformat.v4.new_code_cell("fig = plot()\nplt.show()")  # ran under Agg: no output at all
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("plt.show()"), shown, lost])
    assert missing_figures(notebook) == [2]


@pytest.mark.slow
def test_execute_notebook_refuses_lost_figures(tmp_path: Path) -> None:
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "import matplotlib\nmatplotlib.use('Agg')\n"
                "import matplotlib.pyplot as plt\nplt.plot([1])\nplt.show()"
            )
        ],
        metadata=FIGURE_NOTEBOOK.metadata,
    )
    nbformat.write(notebook, tmp_path / "in.ipynb")
    with pytest.raises(FigureError, match=r"out.ipynb: cell\(s\) \[0\] drew a figure but no image"):
        execute_notebook(tmp_path / "in.ipynb", tmp_path / "out.ipynb")


@pytest.mark.slow
def test_nbval_checks_the_figures_under_a_headless_backend() -> None:
    """`make test` on a server with MPLBACKEND=Agg: the notebooks' figure outputs still match."""
    import os
    import subprocess

    from leukemia import config

    notebook = config.NOTEBOOKS_DIR / "03_preprocessing.ipynb"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval", "--nbval-current-env",
         "--nbval-sanitize-with", str(ROOT / "tests" / "nbval_sanitize.cfg"), str(notebook)],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:]


@pytest.mark.slow
def test_cells_with_a_dropped_tag_are_left_out(tmp_path: Path) -> None:
    kept = nbformat.v4.new_code_cell("print('generic')")
    only = nbformat.v4.new_code_cell("print('golub only')", metadata={"tags": ["golub-only"]})
    notebook = nbformat.v4.new_notebook(cells=[kept, only], metadata=FIGURE_NOTEBOOK.metadata)
    nbformat.write(notebook, tmp_path / "in.ipynb")
    execute_notebook(tmp_path / "in.ipynb", tmp_path / "out.ipynb", drop_tags=("golub-only",))
    executed = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    assert [c.source for c in executed.cells] == ["print('generic')"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.ipynb", "out.ipynb"], "no temporary copy left"


@pytest.mark.slow
def test_what_the_kernel_prints_outside_the_notebook_goes_to_its_log(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """ipykernel copies what reaches a notebook through file descriptors (a worker process's warning, a C
    library) to its own stderr: with a log, that copy goes to the file, not the user's terminal."""
    monkeypatch.delenv("PYTEST_CURRENT_TEST")  # inside pytest, ipykernel does not capture file descriptors
    code = (
        "import subprocess, sys\n"
        "subprocess.run([sys.executable, '-c', 'import sys; sys.stderr.write(\"a worker warns\\\\n\")'])"
    )
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(code)], metadata=FIGURE_NOTEBOOK.metadata
    )
    source, log = tmp_path / "in.ipynb", tmp_path / "logs" / "in.log"
    log.parent.mkdir()
    nbformat.write(notebook, source)
    capfd.readouterr()
    execute_notebook(source, tmp_path / "logged.ipynb", log=log)
    assert "a worker warns" not in capfd.readouterr().err, "not on the terminal"
    assert "a worker warns" in log.read_text()
    shown = nbformat.read(tmp_path / "logged.ipynb", as_version=4).cells[0].outputs
    assert any("a worker warns" in output.get("text", "") for output in shown), "the notebook keeps it"
    execute_notebook(source, tmp_path / "unlogged.ipynb")  # without a log: ipykernel's terminal copy
    assert "a worker warns" in capfd.readouterr().err


@pytest.mark.slow
def test_the_output_notebook_is_written_at_the_start_and_the_end_not_per_cell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import papermill.engines

    writes = []
    original = papermill.engines.write_ipynb
    monkeypatch.setattr(
        papermill.engines, "write_ipynb", lambda nb, path: writes.append(path) or original(nb, path)
    )
    cells = [nbformat.v4.new_code_cell(f"x{i} = {i}\nprint(x{i})") for i in range(30)]
    source, target = tmp_path / "many.ipynb", tmp_path / "out" / "many.ipynb"
    target.parent.mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=cells, metadata=FIGURE_NOTEBOOK.metadata), source)
    execute_notebook(source, target)
    assert 1 <= len(writes) <= 3, f"{len(writes)} writes for 30 cells"  # the start; one more after 10 s
    outputs = ["".join(o.text for o in cell.outputs) for cell in nbformat.read(target, as_version=4).cells]
    assert outputs == [f"{i}\n" for i in range(30)], "the last write holds every cell's output"

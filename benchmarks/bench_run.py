"""A default full run against its floor: the same number of notebooks that only start a kernel and import.

The full run is ``leukemia run`` with default parameters into a fresh directory (cold cache): every
notebook, metrics.csv, manifest.json and report.html. The floor is the same number of notebooks
executed the same way (papermill, the ``python3`` kernel, one after another), each of which only
imports every module of the package — the cost no run can avoid. A third, informative line runs
the full analysis without the elastic net in the honest search, the model whose solver dominated
the search's time while it was scikit-learn's saga (glum's since 2026-11-25).

    python benchmarks/bench_run.py [--skip-variant]

Prints the times and ``full run / floor: N.Nx`` (target: at most 2x).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from leukemia.honest import SearchSpace
from leukemia.runner import select_notebooks

FLOOR_CELL = """\
import importlib
import pkgutil

import leukemia

for module in pkgutil.iter_modules(leukemia.__path__):
    importlib.import_module(f"leukemia.{module.name}")
"""


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
    return seconds


def floor(n_notebooks: int, folder: Path) -> float:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(FLOOR_CELL)])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    paths = []
    for i in range(n_notebooks):
        paths.append(folder / f"{i + 1:02d}_floor.ipynb")
        nbformat.write(notebook, paths[-1])
    script = (
        "import sys, papermill\n"
        "for path in sys.argv[1:]:\n"
        "    papermill.execute_notebook(path, path, kernel_name='python3', progress_bar=False)\n"
    )
    return timed([sys.executable, "-c", script, *map(str, paths)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-variant", action="store_true", help="only the full run and the floor")
    args = parser.parse_args(argv)
    n = len(select_notebooks(None))
    cli = [sys.executable, "-m", "leukemia.cli", "run", "-q"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "floor").mkdir()
        floor_s = floor(n, folder / "floor")
        print(f"floor ({n} notebooks: kernel start + import leukemia): {floor_s:7.1f} s", flush=True)
        full_s = timed([*cli, "--out", str(folder / "full")])
        print(f"full default run ({n} notebooks + metrics + report.html): {full_s:7.1f} s", flush=True)
        if not args.skip_variant:
            models = ",".join(m for m in SearchSpace().models if m != "elastic_net")
            variant_s = timed([*cli, "--out", str(folder / "variant"), "-p", "SEARCH_MODELS", models])
            print(
                f"same, honest search without elastic_net: {variant_s:7.1f} s "
                f"({variant_s / floor_s:.1f}x the floor)",
                flush=True,
            )
    print(f"full run / floor: {full_s / floor_s:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

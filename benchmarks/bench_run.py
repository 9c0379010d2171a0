"""A default full run against its floor: the same number of notebooks that only start a kernel and import.

The full run is ``leukemia run`` with default parameters into a fresh directory (cold cache): every
notebook, metrics.csv, manifest.json and report.html. The floor is the same number of notebooks
executed the way the run executes them (:func:`leukemia.kernels.execute_notebook`: papermill with the
engine that also evaluates the prose's inline values, the ``python3`` kernel, as many at a time as the
run starts — :func:`leukemia.runner.default_parallel`, two on two cores), each of which only imports
every module of the package — the cost no run can avoid. (Until 2026-12-06 the floor ran its notebooks
one after another while the run used both cores, which flattered the ratio by about 2×.) A third,
informative line runs the full analysis without the elastic net in the honest search, the model whose
solver dominated the search's time while it was scikit-learn's saga (glum's since 2026-11-25).

    python benchmarks/bench_run.py [--skip-variant]

Prints the times and ``full run / floor: N.NNx`` (target: at most 1.5x).
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
from leukemia.runner import default_parallel, select_notebooks

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


#: Executes the floor's notebooks as the runner does: its function, its number of notebooks at a time.
FLOOR_SCRIPT = """\
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from leukemia.kernels import execute_notebook
from leukemia.runner import default_parallel

paths = [Path(p) for p in sys.argv[1:]]
with ThreadPoolExecutor(max_workers=default_parallel()) as pool:
    list(pool.map(lambda path: execute_notebook(path, path), paths))
"""


def floor(n_notebooks: int, folder: Path) -> float:
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(FLOOR_CELL),
            nbformat.v4.new_markdown_cell("{eval}`len(leukemia.__name__)`"),
        ]
    )
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    paths = []
    for i in range(n_notebooks):
        paths.append(folder / f"{i + 1:02d}_floor.ipynb")
        nbformat.write(notebook, paths[-1])
    return timed([sys.executable, "-c", FLOOR_SCRIPT, *map(str, paths)])


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
        print(
            f"floor ({n} notebooks, {default_parallel()} at a time: kernel start + import leukemia): "
            f"{floor_s:7.1f} s",
            flush=True,
        )
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
    print(f"full run / floor: {full_s / floor_s:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The benchmark scripts run and their checks hold, at sizes small enough for every CI run.

Their timings are not asserted (benchmarks/README.md records those); what is asserted is what
they check: the fast path gives GridSearchCV's scores and choice, and the scale pipeline runs.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow  # runs the benchmarks at small sizes

BENCHMARKS = ROOT / "benchmarks"


def _run(script: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_selection_benchmark_agrees_with_grid_search() -> None:
    out = _run("bench_selection.py", "--n-repeats", "1", "--n-jobs", "1")
    assert "grid: 50 configurations x 5 folds" in out
    assert "warm-up (both paths, 5 folds, untimed)" in out and "(median of 3 runs: " in out
    assert "configurations compared: 50 of 50" in out
    # five folds leave several configurations tied at the best score; ours must be one of them
    assert "same scores: True; same choice: " in out and "ours among the best: True" in out
    assert out.strip().splitlines()[-1].startswith("speedup: ")


def test_scale_benchmark_runs_and_fits_a_slope() -> None:
    out = _run("bench_scale.py", "--sizes", "800x60,1600x120,3200x240")
    lines = out.strip().splitlines()
    assert [line.split()[:2] for line in lines[1:4]] == [["800", "60"], ["1600", "120"], ["3200", "240"]]
    assert "log-log slope of time against genes x samples" in out
    assert lines[-1].startswith("ratio to target: time ")


def test_study_benchmark_writes_a_study_and_times_each_notebook(tmp_path) -> None:
    import os

    env = {**os.environ, "LEUKEMIA_BENCH_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / "bench_study.py"), "--sizes", "1200x60", "--classes", "3",
         "--notebooks", "01,02"],
        capture_output=True, text=True, timeout=600, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert (tmp_path / "1200x60-3classes" / "expression.tsv.gz").exists()
    assert "1200 genes x 60 samples, 3 classes: read and check" in out
    rows = [line.split() for line in out.splitlines() if line.strip().startswith(("01_load", "02_eda"))]
    assert [row[0] for row in rows] == ["01_load", "02_eda"] and all(float(row[3]) > 0 for row in rows)
    assert all(0 < float(row[4]) <= float(row[5]) for row in rows), (
        "PSS: shared pages counted once, not per process"
    )
    assert out.strip().splitlines()[-1].startswith("ratio to target: run ")

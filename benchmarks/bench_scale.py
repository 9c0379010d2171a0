"""How the honest pipeline scales: load → Dudoit preprocessing → selection → three models → 5-fold CV.

Synthetic data (:func:`leukemia.synthetic.make_expression`, float32, 50 informative genes) at three
sizes up to 54,675 probes × 2,000 samples, the size of a whole-genome array study today. Each size
runs in a fresh process: the data is generated and saved as ``.npy`` first (not timed), then the
timed part loads it and cross-validates signal-to-noise selection of 50 genes with weighted
voting, k-NN and a linear SVM through :func:`leukemia.honest.cv_scores` (``n_jobs=2``).
Peak memory is the largest sum of resident memory over the process and its worker processes,
sampled every 20 ms (memory the workers share is counted once per worker, so this errs high).

    python benchmarks/bench_scale.py [--sizes 13669x500,27337x1000,54675x2000]

Prints one line per size, the fitted slope of log(time) against log(genes × samples), and the
largest size's time and memory against the targets (5 min, 6 GB).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_study import MemoryTrace  # the process and its workers, sampled in a thread

DEFAULT_SIZES = "13669x500,27337x1000,54675x2000"
TIME_LIMIT_S, MEMORY_LIMIT_GB = 300.0, 6.0


def one_size(n_genes: int, n_samples: int, folder: Path) -> dict[str, float]:
    """Generate, save, then time load → CV at one size (run in its own process)."""
    import pandas as pd

    from leukemia.honest import SearchSpace, cv_scores
    from leukemia.synthetic import make_expression

    X, y = make_expression(n_genes, n_samples)
    np.save(folder / "X.npy", X.to_numpy())
    y.to_csv(folder / "y.csv")
    del X, y
    space = SearchSpace(
        preprocessing=("dudoit",),
        selectors=("signal_to_noise",),
        ks=(50,),
        models=("weighted_voting", "knn", "linear_svm"),
        cv_folds=5,
        cv_repeats=1,
    )
    memory = MemoryTrace(os.getpid(), interval=0.02)
    start = time.perf_counter()
    labels = pd.read_csv(folder / "y.csv", index_col=0).iloc[:, 0]
    X = pd.DataFrame(np.load(folder / "X.npy"), index=labels.index, copy=False)
    loaded = time.perf_counter()
    scores = cv_scores(X, labels, space, n_jobs=2)
    seconds = time.perf_counter() - start
    memory.stop()
    return {
        "genes": n_genes,
        "samples": n_samples,
        "load_s": loaded - start,
        "seconds": seconds,
        "peak_gb": memory.peak(),
        "data_gb": X.to_numpy().nbytes / 1e9,
        "min_cv_accuracy": float(scores["cv_accuracy"].min()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help=f"GENESxSAMPLES,... (default {DEFAULT_SIZES})")
    parser.add_argument("--one", metavar="GENESxSAMPLES", help=argparse.SUPPRESS)  # the per-size child
    args = parser.parse_args(argv)
    if args.one:
        genes, samples = (int(part) for part in args.one.split("x"))
        with tempfile.TemporaryDirectory() as folder:
            print(json.dumps(one_size(genes, samples, Path(folder))))
        return 0

    rows = []
    print(
        f"{'genes':>7} {'samples':>7} {'cells (M)':>9} {'load s':>7} {'total s':>8} {'peak GB':>8} "
        f"{'data GB':>8} {'CV acc':>7}"
    )
    for size in args.sizes.split(","):
        child = subprocess.run(
            [sys.executable, __file__, "--one", size.strip()], capture_output=True, text=True, check=False
        )
        if child.returncode != 0:
            print(child.stderr, file=sys.stderr)
            return 1
        row = json.loads(child.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(
            f"{row['genes']:>7} {row['samples']:>7} {row['genes'] * row['samples'] / 1e6:>9.1f} "
            f"{row['load_s']:>7.2f} {row['seconds']:>8.2f} {row['peak_gb']:>8.2f} {row['data_gb']:>8.2f} "
            f"{row['min_cv_accuracy']:>7.3f}",
            flush=True,
        )
    by_size = sorted(rows, key=lambda r: r["genes"] * r["samples"])
    largest = by_size[-1]
    if len(by_size) > 1:
        cells = np.log([r["genes"] * r["samples"] for r in by_size])
        times = np.log([r["seconds"] for r in by_size])
        slope = np.polyfit(cells, times, 1)[0]
        line = f"log-log slope of time against genes x samples: {slope:.2f} over all sizes"
        if len(by_size) > 2:  # start-up costs weigh most at the smallest size
            line += f", {(times[-1] - times[-2]) / (cells[-1] - cells[-2]):.2f} between the two largest"
        print(line)
    print(
        f"largest ({largest['genes']} x {largest['samples']}): "
        f"{largest['seconds']:.1f} s of {TIME_LIMIT_S:.0f} s, "
        f"{largest['peak_gb']:.2f} GB of {MEMORY_LIMIT_GB:.0f} GB"
    )
    print(
        f"ratio to target: time {largest['seconds'] / TIME_LIMIT_S:.2f}x, "
        f"memory {largest['peak_gb'] / MEMORY_LIMIT_GB:.2f}x"
    )
    within = largest["seconds"] <= TIME_LIMIT_S and largest["peak_gb"] <= MEMORY_LIMIT_GB
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())

"""The whole analysis on a study-sized matrix, brought the way users bring one: time and memory per notebook.

For each size a synthetic study (:func:`leukemia.synthetic.make_study`: log2 values, K classes of
unequal size) is written as users have it — a gzip TSV of genes × samples, a ``samples.csv`` and a
``dataset.yaml`` — into a folder kept between runs (writing it is not timed). Then, each in a fresh
process and with an empty cache:

1. reading and checking the matrix: ``load_dataset`` of the ``dataset.yaml``, every check a run makes;
2. ``leukemia run --data dataset.yaml``: every notebook with default parameters, ``metrics.csv``,
   ``manifest.json`` and ``report.html``.

Memory is the largest total of the process tree (the runner, its kernels and their worker processes):
its proportional set size (PSS, sampled every 0.5 s; a page shared by several processes counted once
in all — the target) and, for comparison with earlier runs, its resident set sizes summed (RSS, every
50 ms; a shared page counted once per process that maps it, e.g. joblib's memory-mapped matrix once
per worker); each notebook's time and peak come from the executed
notebooks' papermill start and end times, so the slow step is named (and the longest notebook's
slowest cells).

    python benchmarks/bench_study.py [--sizes 13669x500,27337x1000,54675x2000] [--classes 2]
                                     [--folder DIR] [--keep DIR] [-p NAME VALUE ...]

Targets at the largest size: the run within 10 minutes and 8 GB, reading within 30 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import numpy as np

DEFAULT_SIZES = "13669x500,27337x1000,54675x2000"
RUN_LIMIT_S, MEMORY_LIMIT_GB, READ_LIMIT_S = 600.0, 8.0, 30.0
READ_SCRIPT = """\
import json, sys, time
start = time.perf_counter()
from leukemia.spec import load_dataset
imported = time.perf_counter()
data = load_dataset(sys.argv[1])
print(json.dumps({"read_s": time.perf_counter() - imported, "shape": [len(data.y_train) + len(data.y_test),
                  data.X_train.shape[1]], "classes": len(data.classes)}))
"""


def _pss(pid: int) -> int | None:
    """Proportional set size of a process in bytes (Linux ``smaps_rollup``), or None where unavailable."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


class MemoryTrace:
    """Samples the memory of a process and all its descendants, with the time of each sample.

    Two sums over the process tree: resident set sizes (RSS, every ``interval``), which count a page
    shared by n processes n times — joblib's memory-mapped matrix once per worker, the kernel's
    copy-on-write pages once per process —, and proportional set sizes (PSS, every ``pss_every``
    samples: reading them costs more), which split a shared page between the processes sharing it,
    so their sum is the memory the run occupies.
    """

    def __init__(self, pid: int, interval: float = 0.05, pss_every: int = 10) -> None:
        import psutil

        self.root, self.interval, self.pss_every = psutil.Process(pid), interval, pss_every
        self.samples: list[tuple[float, int]] = []  # (unix time, RSS bytes)
        self.pss_samples: list[tuple[float, int]] = []  # (unix time, PSS bytes)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        import psutil

        count = 0
        while not self._stop.is_set():
            try:
                processes = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                break  # the process ended
            rss, pss, pss_known = 0, 0, count % self.pss_every == 0
            for process in processes:
                try:
                    rss += process.memory_info().rss
                except psutil.Error:
                    continue  # a worker that just exited
                if pss_known:
                    share = _pss(process.pid)
                    pss, pss_known = (pss + share, True) if share is not None else (pss, False)
            now = time.time()
            self.samples.append((now, rss))
            if pss_known:
                self.pss_samples.append((now, pss))
            count += 1
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def peak(self, start: float = 0.0, end: float = float("inf")) -> float:
        """The largest RSS sum between two unix times, in GB."""
        return max((b for when, b in self.samples if start <= when <= end), default=0) / 1e9

    def peak_pss(self, start: float = 0.0, end: float = float("inf")) -> float:
        """The largest PSS sum between two unix times, in GB (NaN if PSS could not be read)."""
        inside = [b for when, b in self.pss_samples if start <= when <= end]
        return max(inside) / 1e9 if inside else float("nan")


def traced(command: list[str], environment: dict[str, str]) -> tuple[float, MemoryTrace, str]:
    """Run a command, sampling its memory: (seconds, trace, stdout)."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment
    )
    trace = MemoryTrace(process.pid)
    out, err = process.communicate()
    seconds = time.perf_counter() - start
    trace.stop()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{(out + err)[-3000:]}")
    return seconds, trace, out


def study(folder: Path, genes: int, samples: int, classes: int) -> Path:
    """The study's dataset.yaml, written first if the folder does not hold it yet."""
    spec = folder / f"{genes}x{samples}-{classes}classes" / "dataset.yaml"
    if not spec.exists():
        from leukemia.synthetic import make_study, write_study

        print(f"writing {spec.parent} (once; not timed) ...", flush=True)
        X, y = make_study(genes, samples, classes)
        partial = spec.parent.with_name(spec.parent.name + ".partial")
        write_study(partial, X, y, name=f"study-{genes}x{samples}-{classes}classes")
        partial.rename(spec.parent)
    return spec


def _unix(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def per_notebook(directory: Path, trace: MemoryTrace) -> list[tuple[str, float, float, float, float]]:
    """(notebook, start, end, peak RSS GB, peak PSS GB) from the papermill metadata; seconds since the first
    notebook started.

    A run executes two notebooks at a time, so a notebook's peak is that of the whole run while it ran
    (itself, the notebook beside it and the runner).
    """
    rows = []
    for path in sorted(directory.glob("[0-9][0-9]_*.ipynb")):
        meta = json.loads(path.read_text())["metadata"]["papermill"]
        start, end = _unix(meta["start_time"]), _unix(meta["end_time"])
        rows.append((path.stem, start, end, trace.peak(start, end), trace.peak_pss(start, end)))
    first = min((row[1] for row in rows), default=0.0)
    return [(name, start - first, end - first, rss, pss) for name, start, end, rss, pss in rows]


def slowest_cells(path: Path, n: int = 6) -> list[tuple[float, int, str]]:
    """The ``n`` longest cells of an executed notebook: (seconds, cell number, first line of its code)."""
    cells = json.loads(path.read_text())["cells"]
    timed = [
        (
            float(cell["metadata"]["papermill"].get("duration") or 0.0),
            number,
            "".join(cell["source"]).split("\n")[0],
        )
        for number, cell in enumerate(cells)
        if cell["cell_type"] == "code" and "papermill" in cell.get("metadata", {})
    ]
    return sorted(timed, reverse=True)[:n]


def busy_seconds(rows: list[tuple[str, float, float, float, float]]) -> float:
    """How long at least one notebook was running (the union of their intervals)."""
    total, reached = 0.0, float("-inf")
    for _, start, end, *_ in sorted(rows, key=lambda row: row[1]):
        total += max(0.0, end - max(start, reached))
        reached = max(reached, end)
    return total


def one_size(
    spec: Path, parameters: list[list[str]], notebooks: str | None = None, keep: Path | None = None
) -> dict[str, object]:
    environment = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        environment["LEUKEMIA_CACHE_DIR"] = str(Path(tmp) / "read-cache")
        _, read_trace, out = traced([sys.executable, "-c", READ_SCRIPT, str(spec)], environment)
        read = json.loads(out.strip().splitlines()[-1])
        environment["LEUKEMIA_CACHE_DIR"] = str(Path(tmp) / "cache")
        extra = [arg for name, value in parameters for arg in ("-p", name, value)]
        extra += ["--notebooks", notebooks] if notebooks else []
        command = [sys.executable, "-m", "leukemia.cli", "run", "-q", "--data", str(spec), *extra]
        seconds, trace, _ = traced([*command, "--out", str(Path(tmp) / "run")], environment)
        notebooks = per_notebook(Path(tmp) / "run", trace)
        longest = max(notebooks, key=lambda row: row[2] - row[1])[0]
        cells = slowest_cells(Path(tmp) / "run" / f"{longest}.ipynb")
        if keep is not None:  # the executed notebooks hold every cell's duration (papermill's metadata)
            skip = shutil.ignore_patterns(".cache")
            shutil.copytree(Path(tmp) / "run", keep / spec.parent.name, ignore=skip, dirs_exist_ok=True)
    return {
        "genes": read["shape"][1], "samples": read["shape"][0], "classes": read["classes"],
        "read_s": read["read_s"], "read_peak_gb": read_trace.peak(), "seconds": seconds,
        "peak_gb": trace.peak(), "pss_gb": trace.peak_pss(), "notebooks": notebooks, "longest": longest,
        "cells": cells,
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help=f"GENESxSAMPLES,... (default {DEFAULT_SIZES})")
    parser.add_argument("--classes", type=int, default=2, help="number of classes (default 2; MILE had 18)")
    parser.add_argument(
        "--folder",
        type=Path,
        default=Path(os.environ.get("LEUKEMIA_BENCH_DIR", Path.home() / ".cache" / "leukemia-bench")),
        help="where the studies are written, kept between runs (default $LEUKEMIA_BENCH_DIR, else "
        "~/.cache/leukemia-bench)",
    )
    parser.add_argument("--notebooks", metavar="NN,NN", help="only these notebooks (default: all)")
    parser.add_argument(
        "--keep", type=Path, metavar="DIR", help="keep each size's run (notebooks, report) in DIR/<study>"
    )
    parser.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="a notebook parameter for the runs (repeatable)")  # fmt: skip
    args = parser.parse_args(argv)
    rows = []
    for size in args.sizes.split(","):
        genes, samples = (int(part) for part in size.strip().split("x"))
        spec = study(args.folder, genes, samples, args.classes)
        row = one_size(spec, args.p, args.notebooks, args.keep)
        rows.append(row)
        print(
            f"\n{row['genes']} genes x {row['samples']} samples, {row['classes']} classes: "
            f"read and check {row['read_s']:.1f} s (peak {row['read_peak_gb']:.2f} GB); "
            f"full run {row['seconds']:.1f} s, peak {row['pss_gb']:.2f} GB PSS "
            f"({row['peak_gb']:.2f} GB RSS sum)",
            flush=True,
        )
        print(f"  {'notebook':<18} {'from s':>7} {'to s':>7} {'s':>7} {'PSS GB':>7} {'RSS GB':>7}")
        for name, start, end, rss, pss in row["notebooks"]:
            print(f"  {name:<18} {start:>7.1f} {end:>7.1f} {end - start:>7.1f} {pss:>7.2f} {rss:>7.2f}")
        rest = row["seconds"] - busy_seconds(row["notebooks"])
        print(
            f"  outside the notebooks (reading and checking before, metrics and report after): {rest:.1f} s"
        )
        print("  (two notebooks run at a time: a notebook's peak is the run's while it ran)")
        print(f"  slowest cells of {row['longest']} (cell number in the executed notebook, first line):")
        for seconds, number, line in row["cells"]:
            print(f"    {seconds:>7.1f} s  cell {number:>2}  {line[:80]}")
        print(flush=True)
    print(
        f"\n{'genes':>7} {'samples':>7} {'cells (M)':>9} {'read s':>7} {'run s':>8} "
        f"{'PSS GB':>7} {'RSS GB':>7}"
    )
    for row in rows:
        print(
            f"{row['genes']:>7} {row['samples']:>7} {row['genes'] * row['samples'] / 1e6:>9.1f} "
            f"{row['read_s']:>7.1f} {row['seconds']:>8.1f} {row['pss_gb']:>7.2f} {row['peak_gb']:>7.2f}"
        )
    by_size = sorted(rows, key=lambda r: r["genes"] * r["samples"])
    if len(by_size) > 1:
        cells = np.log([r["genes"] * r["samples"] for r in by_size])
        slope = np.polyfit(cells, np.log([r["seconds"] for r in by_size]), 1)[0]
        print(f"log-log slope of run time against genes x samples: {slope:.2f}")
    largest = by_size[-1]
    print(
        f"largest ({largest['genes']} x {largest['samples']}, {largest['classes']} classes): "
        f"run {largest['seconds']:.0f} s of {RUN_LIMIT_S:.0f} s, {largest['pss_gb']:.2f} GB of "
        f"{MEMORY_LIMIT_GB:.0f} GB (PSS; RSS sum {largest['peak_gb']:.2f} GB); "
        f"read {largest['read_s']:.1f} s of {READ_LIMIT_S:.0f} s"
    )
    print(
        f"ratio to target: run {largest['seconds'] / RUN_LIMIT_S:.2f}x, memory "
        f"{largest['pss_gb'] / MEMORY_LIMIT_GB:.2f}x (RSS sum {largest['peak_gb'] / MEMORY_LIMIT_GB:.2f}x), "
        f"read {largest['read_s'] / READ_LIMIT_S:.2f}x"
    )
    within = (
        largest["seconds"] <= RUN_LIMIT_S
        and largest["pss_gb"] <= MEMORY_LIMIT_GB
        and largest["read_s"] <= READ_LIMIT_S
    )
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())

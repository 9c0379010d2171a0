"""The study-size honest search on a Dask cluster: the same choice and scores, and what each worker adds.

The honest search (:func:`leukemia.honest.choose_configuration`, the default search space: 210
configurations × 10 folds) on a synthetic study of :mod:`bench_study` (by default 13,669 genes × 500
samples, 350 of them training samples), run three ways: on this machine with joblib (``n_jobs=2``, what
``leukemia run`` does), then on a ``distributed.LocalCluster`` on loopback with 1, 2, … single-threaded
worker processes, sent there through :func:`leukemia.cluster.joblib_backend` exactly as ``leukemia run
--scheduler`` sends it. Each cluster run must give the local run's scores for every configuration and
its choice; the script prints the times and the speed-up per worker count.

    python benchmarks/bench_cluster.py [--size 13669x500] [--workers 1,2] [--folder DIR]

On a machine of 2 cores more than 2 workers only share them; the point of a cluster is more machines,
each started with ``dask worker tcp://SCHEDULER:8786``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

from bench_study import study  # the same synthetic studies, written once into the same folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="13669x500", help="GENESxSAMPLES (default 13669x500)")
    parser.add_argument("--workers", default="1,2", help="worker counts to try (default 1,2)")
    parser.add_argument("--models", help="comma-separated models of the search (default: the default space)")
    parser.add_argument(
        "--folder",
        type=Path,
        default=Path(os.environ.get("LEUKEMIA_BENCH_DIR", Path.home() / ".cache" / "leukemia-bench")),
    )
    args = parser.parse_args(argv)
    from distributed import LocalCluster

    from leukemia.cluster import joblib_backend
    from leukemia.honest import SearchSpace, choose_configuration
    from leukemia.spec import load_dataset

    genes, samples = (int(part) for part in args.size.split("x"))
    data = load_dataset(study(args.folder, genes, samples, 2))
    space = SearchSpace(models=tuple(args.models.split(","))) if args.models else SearchSpace()
    print(
        f"honest search: {len(space.configurations())} configurations x {space.cv_folds * space.cv_repeats} "
        f"folds on {len(data.y_train)} training samples x {data.X_train.shape[1]} genes"
    )
    start = time.perf_counter()
    local = choose_configuration(data, space, n_jobs=2)
    local_s = time.perf_counter() - start
    print(f"this machine, joblib n_jobs=2: {local_s:8.1f} s   chose {local.describe()}", flush=True)
    same = True
    for n in (int(w) for w in args.workers.split(",")):
        with LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster:
            start = time.perf_counter()
            with joblib_backend(cluster.scheduler_address, scatter=[data.X_train]):
                remote = choose_configuration(data, space, n_jobs=-1)
            seconds = time.perf_counter() - start
            # Closing the cluster drops the matrix scattered to its workers: the scheduler logs an error.
            logging.getLogger("distributed.scheduler").setLevel(logging.CRITICAL)
        logging.getLogger("distributed.scheduler").setLevel(logging.WARNING)
        agree = remote.configuration == local.configuration and remote.scores.equals(local.scores)
        if not agree:
            difference = (remote.scores["cv_accuracy"] - local.scores["cv_accuracy"]).abs().max()
            print(f"  differs from the local run: largest |difference| in CV accuracy {difference}")
        same &= agree
        print(
            f"LocalCluster, {n} worker{'s' if n > 1 else ''}: {seconds:8.1f} s "
            f"({local_s / seconds:.2f}x this machine's run)   same scores and choice: {agree}",
            flush=True,
        )
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())

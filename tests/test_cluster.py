"""leukemia.cluster: the folds run on a Dask cluster (a LocalCluster on 127.0.0.1) with identical results."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import joblib
import pandas as pd
import pytest

from leukemia import cluster
from leukemia.data import GolubData
from leukemia.evaluate import evaluate_models
from leukemia.honest import SearchSpace, cv_scores, nested_cv, parse_search_space

pytestmark = pytest.mark.slow  # starts Dask clusters and runs notebooks on them

SPACE = SearchSpace(
    preprocessing=("none", "dudoit"),
    selectors=("f_test", "signal_to_noise"),
    ks=(5, 20),
    models=("weighted_voting", "knn", "linear_svm"),
    cv_folds=3,
    cv_repeats=2,
)


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as local:
        yield local.scheduler_address


def test_folds_on_the_cluster_give_identical_scores(
    golub: GolubData, scheduler: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from distributed import get_task_stream

    here = cv_scores(golub.X_train, golub.y_train, SPACE, n_jobs=1)
    monkeypatch.setenv(cluster.SCHEDULER_ENV_VAR, scheduler)
    with get_task_stream(cluster.connect(scheduler)) as stream:
        there = cv_scores(golub.X_train, golub.y_train, SPACE, n_jobs=1)
    pd.testing.assert_frame_equal(here, there, check_exact=True)
    workers = {task["worker"] for task in stream.data}
    assert len(stream.data) >= 6 and workers, "the six folds ran as tasks on the cluster's workers"


def test_nested_cv_on_the_cluster_is_the_local_one(golub: GolubData, scheduler: str) -> None:
    here = nested_cv(golub, SPACE, outer_folds=3)
    with cluster.joblib_backend(scheduler) as on_cluster:
        assert on_cluster
        there = nested_cv(golub, SPACE, outer_folds=3)
    pd.testing.assert_frame_equal(here, there, check_exact=True)


def test_no_address_means_local(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cluster.SCHEDULER_ENV_VAR, raising=False)
    assert cluster.scheduler_address() is None
    monkeypatch.setenv(cluster.SCHEDULER_ENV_VAR, "  ")
    with cluster.joblib_backend() as on_cluster:
        assert not on_cluster
    assert cluster.scheduler_address("tcp://h:1") == "tcp://h:1"


def _worker_environment(names: tuple[str, ...]) -> dict[str, str | None]:
    return {name: os.environ.get(name) for name in names}


def test_local_workers_keep_freed_memory_and_leave_the_caller_as_it_was(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from joblib import Parallel, delayed

    names = tuple(cluster.WORKER_ALLOCATOR)
    for name in names:
        monkeypatch.delenv(name, raising=False)
    with cluster.local_workers():
        seen = Parallel(n_jobs=2)(delayed(_worker_environment)(names) for _ in range(2))
    assert all(s == cluster.WORKER_ALLOCATOR for s in seen)  # in the worker processes
    assert _worker_environment(names) == dict.fromkeys(names)  # not left in this process
    monkeypatch.setenv(names[0], "7")  # a user's own setting wins: it is what new workers inherit
    with cluster.local_workers():
        assert os.environ[names[0]] == "7" and os.environ[names[1]] == cluster.WORKER_ALLOCATOR[names[1]]
    assert os.environ[names[0]] == "7" and names[1] not in os.environ
    with joblib.parallel_config(backend="threading"), cluster.local_workers():  # the caller's choice stays
        assert joblib.parallel.get_active_backend()[0].__class__.__name__ == "ThreadingBackend"
        assert names[1] not in os.environ


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "leukemia.cli", *args],
        capture_output=True, text=True, timeout=600, env={**os.environ, **env},
    )  # fmt: skip


def test_unreachable_scheduler_stops_a_run_before_it_starts(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = _cli(
        "run", "--notebooks", "01", "--scheduler", "tcp://127.0.0.1:9", "--out", str(out), "-q",
        DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT="1s",
    )  # fmt: skip
    assert result.returncode == 1
    assert "cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'" in result.stderr
    assert not out.exists(), "nothing ran, nothing was written"


def test_a_run_sends_its_search_to_the_cluster(golub: GolubData, scheduler: str, tmp_path: Path) -> None:
    from distributed import get_task_stream

    small = {
        "MODELS": "knn", "OUTER_FOLDS": "2",
        "SEARCH_PREPROCESSING": "none,dudoit", "SEARCH_SELECTORS": "signal_to_noise", "SEARCH_KS": "10,20",
        "SEARCH_MODELS": "weighted_voting,knn",
    }  # fmt: skip
    options = [part for name, value in small.items() for part in ("-p", name, value)]
    out = tmp_path / "run"
    with get_task_stream(cluster.connect(scheduler)) as stream:
        result = _cli(
            "run",
            "--notebooks",
            "09",
            *options,
            "--scheduler",
            scheduler,
            "--out",
            str(out),
            "--no-report",
            "-q",
        )
    assert result.returncode == 0, result.stderr
    assert json.loads((out / "manifest.json").read_text())["scheduler"] == scheduler
    assert len(stream.data) >= 10, "the folds of the honest search ran on the cluster"
    honest = pd.read_csv(out / "metrics.csv").query("protocol == 'honest'").iloc[0]
    space = parse_search_space(
        small["SEARCH_PREPROCESSING"], small["SEARCH_SELECTORS"], small["SEARCH_KS"], small["SEARCH_MODELS"]
    )
    local = evaluate_models(golub, "honest", space=space).table.iloc[0]
    assert (honest["model"], honest["n_correct"]) == (local["model"], local["n_correct"])
    assert honest["cv_accuracy"] == pytest.approx(local["cv_accuracy"], abs=1e-12)

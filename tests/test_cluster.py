"""leukemia.cluster: the folds run on a Dask cluster (a LocalCluster on 127.0.0.1) with identical results."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest

from leukemia import cluster
from leukemia.data import GolubData
from leukemia.honest import SearchSpace, cv_scores, nested_cv

SPACE = SearchSpace(
    preprocessing=("none", "dudoit"),
    selectors=("f_test", "signal_to_noise"),
    ks=(5, 20),
    models=("weighted_voting", "knn", "linear_svm"),
    n_splits=3,
    n_repeats=2,
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
    here = nested_cv(golub.X_train, golub.y_train, SPACE, outer_splits=3)
    with cluster.joblib_backend(scheduler) as on_cluster:
        assert on_cluster
        there = nested_cv(golub.X_train, golub.y_train, SPACE, outer_splits=3)
    pd.testing.assert_frame_equal(here, there, check_exact=True)


def test_no_address_means_local(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cluster.SCHEDULER_ENV_VAR, raising=False)
    assert cluster.scheduler_address() is None
    monkeypatch.setenv(cluster.SCHEDULER_ENV_VAR, "  ")
    with cluster.joblib_backend() as on_cluster:
        assert not on_cluster
    assert cluster.scheduler_address("tcp://h:1") == "tcp://h:1"


def test_unreachable_scheduler_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", "1s")
    with pytest.raises(cluster.ClusterError, match=r"cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'"):
        cluster.connect("tcp://127.0.0.1:9")

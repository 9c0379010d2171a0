"""leukemia.cache: results are computed once, keyed by arguments and source."""

from __future__ import annotations

from pathlib import Path

import pytest

from leukemia import cache
from leukemia.cache import cached, source_fingerprint

CALLS: list[int] = []


def square(x: int) -> int:
    CALLS.append(x)
    return x * x


def test_cached_computes_once_per_arguments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cache.CACHE_DIR_ENV_VAR, str(tmp_path))
    CALLS.clear()
    assert cached(square, 3) == 9
    assert cached(square, 3) == 9
    assert cached(square, 4) == 16
    assert CALLS == [3, 4]
    assert any(tmp_path.iterdir()), "results are written to the cache folder"


def test_cache_dir_default_and_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cache.CACHE_DIR_ENV_VAR, raising=False)
    assert cache.cache_dir().name == "cache" and cache.cache_dir().parent.name == "reports"
    monkeypatch.setenv(cache.CACHE_DIR_ENV_VAR, str(tmp_path))
    assert cache.cache_dir() == tmp_path.resolve()


def test_fingerprint_is_a_sha256() -> None:
    assert len(source_fingerprint()) == 64


def test_data_is_keyed_by_its_matrices_and_labels(
    golub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    monkeypatch.setenv(cache.CACHE_DIR_ENV_VAR, str(tmp_path))
    CALLS.clear()
    assert cached(len_of_train, golub) == 38
    assert cached(len_of_train, replace(golub, genes=golub.genes.iloc[:1])) == 38  # same matrices: cached
    assert (
        cached(len_of_train, replace(golub, X_train=golub.X_train.iloc[:10], y_train=golub.y_train.iloc[:10]))
        == 10
    )
    assert CALLS == [38, 10]


def len_of_train(data) -> int:
    CALLS.append(len(data.X_train))
    return len(data.X_train)

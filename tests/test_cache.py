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


def square_in_parallel(x: int, *, n_jobs: int | None = None) -> int:
    CALLS.append(x)
    return x * x


def test_how_many_processes_compute_a_result_is_not_part_of_its_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(cache.CACHE_DIR_ENV_VAR, str(tmp_path))
    CALLS.clear()
    assert cached(square_in_parallel, 3, n_jobs=2) == 9
    assert cached(square_in_parallel, 3) == cached(square_in_parallel, 3, n_jobs=1) == 9
    assert cached(square_in_parallel, 4, n_jobs=2) == 16
    assert CALLS == [3, 4]


def test_cache_dir_default_and_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cache.CACHE_DIR_ENV_VAR, raising=False)
    assert cache.cache_dir().name == "cache" and cache.cache_dir().parent.name == "reports"
    monkeypatch.setenv(cache.CACHE_DIR_ENV_VAR, str(tmp_path))
    assert cache.cache_dir() == tmp_path.resolve()


def test_editing_the_package_source_invalidates_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from leukemia import config

    copy = tmp_path / "leukemia"
    shutil.copytree(config.PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(config, "PACKAGE_DIR", copy)
    source_fingerprint.cache_clear()
    before = source_fingerprint()
    assert len(before) == 64
    (copy / "stats.py").write_text((copy / "stats.py").read_text() + "\n# an edit\n")
    source_fingerprint.cache_clear()
    after = source_fingerprint()
    assert after != before, "an edit to any module changes the fingerprint"
    # ... and with it every cached result is computed afresh.
    monkeypatch.setenv(cache.CACHE_DIR_ENV_VAR, str(tmp_path / "cache"))
    CALLS.clear()
    monkeypatch.setattr(cache, "source_fingerprint", lambda: before)
    cached(square, 5), cached(square, 5)
    monkeypatch.setattr(cache, "source_fingerprint", lambda: after)
    cached(square, 5)
    assert CALLS == [5, 5]
    source_fingerprint.cache_clear()


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


def test_a_data_set_read_from_its_files_and_from_the_cache_is_one_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run's notebooks get the data set parsed or read back from the cache: one cache entry for both."""
    from leukemia.spec import load_dataset
    from leukemia.synthetic import make_study, write_study

    monkeypatch.setenv(cache.CACHE_DIR_ENV_VAR, str(tmp_path / "cache"))
    spec = write_study(tmp_path / "study", *make_study(200, 60, 3, n_informative=9))
    parsed, from_cache = load_dataset(spec), load_dataset(spec)
    assert parsed is not from_cache
    CALLS.clear()
    assert cached(len_of_train, parsed) == cached(len_of_train, from_cache) == len(parsed.X_train)
    assert CALLS == [len(parsed.X_train)], "computed once"


def test_a_result_computed_with_other_library_versions_is_computed_afresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An upgraded scikit-learn (or numpy, xgboost, …) may compute something else: its cache entries are
    not the old environment's."""
    monkeypatch.setenv(cache.CACHE_DIR_ENV_VAR, str(tmp_path))
    installed = cache.library_versions()
    CALLS.clear()
    cached(square, 6), cached(square, 6)
    monkeypatch.setattr(cache, "library_versions", lambda: installed | {"scikit-learn": "0.0.1"})
    cached(square, 6), cached(square, 6)
    monkeypatch.setattr(cache, "library_versions", lambda: installed)
    cached(square, 6)
    assert CALLS == [6, 6], "once per environment, and the first environment's entry is still there"


def test_the_key_holds_the_versions_of_what_computes() -> None:
    from importlib.metadata import version

    versions = cache.library_versions()
    assert {"python", "numpy", "scipy", "pandas", "scikit-learn", "glum", "minisom", "joblib"} <= set(
        versions
    )
    assert versions["scikit-learn"] == version("scikit-learn") and versions["numpy"] == version("numpy")
    assert {versions["xgboost"], versions["xgboost-cpu"]} - {"not installed"}, "one xgboost is installed"


def test_the_tests_run_with_a_cache_of_their_own() -> None:
    """nbval's kernels and the tests inherit the session's cache: never the checkout's reports/cache."""
    import os

    from leukemia import config

    folder = Path(os.environ[cache.CACHE_DIR_ENV_VAR])
    assert folder == Path(os.environ["LEUKEMIA_TESTS_OWN_CACHE"]) and folder.is_dir()
    assert folder.name.startswith("leukemia-tests-cache-") and config.CHECKOUT not in folder.parents

"""An on-disk cache for slow, deterministic results shared between notebooks (joblib.Memory).

Entries are keyed by the function, its arguments, a fingerprint of the package's source and the versions
of Python and of the libraries that compute (:data:`COMPUTING_LIBRARIES`), so editing any module of
``leukemia`` or upgrading one of those libraries invalidates them: a result computed by another environment
is never replayed. The folder is ``$LEUKEMIA_CACHE_DIR`` or
:func:`leukemia.config.cache_dir`'s default (a checkout's ``reports/cache``, git-ignored; the user's cache
folder for an installed package); deleting it only costs time.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import platform
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TypeVar

from joblib import Memory

from leukemia import config

__all__ = [
    "CACHE_DIR_ENV_VAR",
    "COMPUTING_LIBRARIES",
    "NOT_IN_KEY",
    "cache_dir",
    "cached",
    "cached_in",
    "hash_value",
    "library_versions",
    "source_fingerprint",
]

CACHE_DIR_ENV_VAR = config.CACHE_DIR_ENV_VAR
T = TypeVar("T")


def cache_dir() -> Path:
    """``$LEUKEMIA_CACHE_DIR`` if set, else :func:`leukemia.config.cache_dir`'s default."""
    return config.cache_dir()


@functools.cache
def source_fingerprint() -> str:
    """sha256 over the source of every module of the package."""
    digest = hashlib.sha256()
    for path in sorted(config.PACKAGE_DIR.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


#: Distributions whose versions are part of every cached result's key: those whose code computes what is
#: cached (xgboost installs as xgboost-cpu on Linux and Windows; a missing one counts as "not installed").
COMPUTING_LIBRARIES: tuple[str, ...] = (
    "numpy",
    "scipy",
    "pandas",
    "scikit-learn",
    "xgboost",
    "xgboost-cpu",
    "glum",
    "minisom",
    "joblib",
)


@functools.cache
def library_versions() -> dict[str, str]:
    """Python's version and each of :data:`COMPUTING_LIBRARIES`'s, as a cached result's key holds them."""
    versions = {"python": platform.python_version()}
    for name in COMPUTING_LIBRARIES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _key(value: object) -> object:
    """What identifies an argument: for the data set, its matrices and labels only.

    Hashing the detection calls and probe descriptions (hundreds of thousands of strings) would
    cost over a second per call; no cached computation reads them.
    """
    from leukemia.dataset import Dataset  # GolubData is one

    if isinstance(value, Dataset):
        # Each matrix and labels on its own: a data set read from its files and the same one read back
        # from the cache (leukemia.spec.load_dataset) hash alike part by part, but not as one pickled
        # tuple (pickle shares their common parts differently), and a run's notebooks get one or the other.
        parts = (value.X_train, value.y_train, value.X_test, value.y_test)
        return ("Dataset", tuple(hash_value(part) for part in parts))
    return value


def hash_value(value: object) -> str:
    """joblib's content hash of a value."""
    import joblib

    return joblib.hash(value)


def _run(
    module: str,
    name: str,
    fingerprint: str,
    versions: dict[str, str],
    args_key: tuple,
    kwargs_key: dict,
    args: tuple,
    kwargs: dict,
) -> object:
    return getattr(importlib.import_module(module), name)(*args, **kwargs)


def cached(func: Callable[..., T], *args: object, **kwargs: object) -> T:
    """``func(*args, **kwargs)``, computed once per arguments, package source and library versions, then
    read from disk."""
    return cached_in(cache_dir(), func, *args, **kwargs)


#: Keyword arguments that say how to compute, not what: a result cached with any value serves every value.
NOT_IN_KEY: frozenset[str] = frozenset({"n_jobs"})


def cached_in(folder: Path, func: Callable[..., T], *args: object, **kwargs: object) -> T:
    """:func:`cached` with its entries in ``folder``; :data:`NOT_IN_KEY` arguments are not part of the key."""
    memory = Memory(folder, verbose=0)
    args_key = tuple(_key(a) for a in args)
    kwargs_key = {name: _key(value) for name, value in kwargs.items() if name not in NOT_IN_KEY}
    call = memory.cache(_run, ignore=["args", "kwargs"])
    key = (func.__module__, func.__qualname__, source_fingerprint(), library_versions(), args_key, kwargs_key)
    return call(*key, args, kwargs)

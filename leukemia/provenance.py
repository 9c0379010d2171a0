"""What a notebook ran with: package versions and data checksums, as deterministic text."""

from __future__ import annotations

import functools
import platform
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, packages_distributions, version

import pandas as pd

__all__ = ["CORE_PACKAGES", "provenance_table"]

#: Importable packages whose versions the appendix's provenance table and a run's manifest.json print: this
#: package, every library whose version keys a cached result (:data:`leukemia.cache.COMPUTING_LIBRARIES`:
#: glum solves the elastic net, minisom trains notebook 10's self-organising map), and those that draw and
#: fetch.
CORE_PACKAGES: tuple[str, ...] = (
    "leukemia",
    "numpy",
    "pandas",
    "scipy",
    "sklearn",
    "xgboost",
    "glum",
    "minisom",
    "joblib",
    "matplotlib",
    "seaborn",
    "pooch",
)


@functools.cache
def _distributions() -> Mapping[str, list[str]]:
    """Import name → distributions (a scan of every installed package: done once)."""
    return packages_distributions()


def _distribution(package: str) -> str:
    """The installed distribution that provides an import name (sklearn → scikit-learn)."""
    return _distributions().get(package, [package])[0]


def _installed_version(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"


def provenance_table(checksums: Mapping[str, str], packages: tuple[str, ...] = CORE_PACKAGES) -> pd.DataFrame:
    """Python and package versions followed by the sha256 of each data file read.

    Parameters
    ----------
    checksums
        File name → sha256, e.g. :attr:`leukemia.data.GolubData.checksums`.
    packages
        Import names to report; each row is named by the distribution that provides it
        (``sklearn`` → ``scikit-learn``, ``xgboost`` → ``xgboost-cpu`` where that is installed).

    Returns
    -------
    pandas.DataFrame
        Columns ``item`` and ``value``; one row per package, then one per data file.
    """
    rows = [("python", platform.python_version())]
    rows += [(name, _installed_version(name)) for name in map(_distribution, packages)]
    rows += [(f"sha256 {name}", digest) for name, digest in sorted(checksums.items())]
    return pd.DataFrame(rows, columns=["item", "value"])

"""What a notebook ran with: package versions and data checksums, as deterministic text."""

from __future__ import annotations

import functools
import platform
import subprocess
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, distribution, packages_distributions, version

import pandas as pd

from leukemia import config

__all__ = ["CORE_PACKAGES", "git_commit", "package_versions", "provenance_table"]

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


#: Import names whose distribution is named otherwise, with the candidates in order (xgboost-cpu on Linux and
#: Windows): looked up directly, without scanning every installed package (0.45 s).
_KNOWN_DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "sklearn": ("scikit-learn",),
    "xgboost": ("xgboost-cpu", "xgboost"),
}


def _distribution(package: str) -> str:
    """The installed distribution that provides an import name (sklearn → scikit-learn)."""
    for candidate in _KNOWN_DISTRIBUTIONS.get(package, (package,)):
        try:
            return str(distribution(candidate).metadata["Name"])  # as the package spells it (MiniSom)
        except PackageNotFoundError:
            continue
    return _distributions().get(package, [package])[0]


def _installed_version(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"


def package_versions(packages: tuple[str, ...] = CORE_PACKAGES) -> dict[str, str]:
    """Python's version, then each import name's installed distribution → its version."""
    return {"python": platform.python_version()} | {
        name: _installed_version(name) for name in map(_distribution, packages)
    }


def git_commit() -> str | None:
    """The checkout's commit; None for an installed package (whose version says what it is), or where
    git cannot say."""
    if config.CHECKOUT is None:
        return None
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=config.CHECKOUT, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


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
    rows = list(package_versions(packages).items())
    rows += [(f"sha256 {name}", digest) for name, digest in sorted(checksums.items())]
    return pd.DataFrame(rows, columns=["item", "value"])

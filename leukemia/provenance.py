"""What a notebook ran with: package versions and data checksums, as deterministic text."""

from __future__ import annotations

import platform
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version

import pandas as pd

__all__ = ["CORE_PACKAGES", "provenance_table"]

#: Distributions whose versions are printed at the end of every notebook.
CORE_PACKAGES: tuple[str, ...] = (
    "leukemia",
    "numpy",
    "pandas",
    "scipy",
    "scikit-learn",
    "matplotlib",
    "seaborn",
    "pooch",
)


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
        Distribution names to report.

    Returns
    -------
    pandas.DataFrame
        Columns ``item`` and ``value``; one row per package, then one per data file.
    """
    rows = [("python", platform.python_version())]
    rows += [(name, _installed_version(name)) for name in packages]
    rows += [(f"sha256 {name}", digest) for name, digest in sorted(checksums.items())]
    return pd.DataFrame(rows, columns=["item", "value"])

"""leukemia.provenance: the last cell of every notebook."""

from __future__ import annotations

import platform
from importlib.metadata import version

from leukemia.cache import COMPUTING_LIBRARIES
from leukemia.provenance import provenance_table


def test_provenance_rows() -> None:
    table = provenance_table({"b.csv": "22", "a.csv": "11"}, packages=("numpy", "sklearn", "no-such-dist"))
    assert table.columns.tolist() == ["item", "value"]
    items = ["python", "numpy", "scikit-learn", "no-such-dist", "sha256 a.csv", "sha256 b.csv"]
    assert table["item"].tolist() == items
    values = [
        platform.python_version(),
        version("numpy"),
        version("scikit-learn"),
        "not installed",
        "11",
        "22",
    ]
    assert table["value"].tolist() == values


def test_xgboost_reported_by_its_installed_distribution() -> None:
    item = provenance_table({}, packages=("xgboost",))["item"].iloc[1]
    assert item in {"xgboost", "xgboost-cpu"}
    assert provenance_table({}, packages=("xgboost",))["value"].iloc[1] == version(item)


def test_every_library_that_computes_a_result_has_a_row() -> None:
    """The libraries whose versions key a cached result compute the numbers the notebooks show (minisom the
    self-organising map of notebook 10, glum the elastic net): the provenance table names each of them."""
    items = {item.lower() for item in provenance_table({})["item"]}
    assert set(COMPUTING_LIBRARIES) - {"xgboost", "xgboost-cpu"} <= items
    assert items & {"xgboost", "xgboost-cpu"}, "one xgboost or the other"


def test_the_direct_lookup_names_each_distribution_as_the_scan_of_every_package_does() -> None:
    """Each import name's distribution is looked up by name (fast), spelt as it spells itself (MiniSom), and
    agrees with importlib's scan of every installed package."""
    from leukemia.provenance import CORE_PACKAGES, _distribution, _distributions

    for package in (*CORE_PACKAGES, "skops"):
        assert _distribution(package) == _distributions().get(package, [package])[0], package

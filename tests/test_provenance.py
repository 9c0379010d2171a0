"""leukemia.provenance: the last cell of every notebook."""

from __future__ import annotations

import platform
from importlib.metadata import version

from leukemia.provenance import provenance_table


def test_provenance_rows() -> None:
    table = provenance_table({"b.csv": "22", "a.csv": "11"}, packages=("numpy", "no-such-dist"))
    assert table.columns.tolist() == ["item", "value"]
    assert table["item"].tolist() == [
        "python",
        "numpy",
        "no-such-dist",
        "sha256 a.csv",
        "sha256 b.csv",
    ]
    assert table["value"].tolist() == [
        platform.python_version(),
        version("numpy"),
        "not installed",
        "11",
        "22",
    ]

"""leukemia.rundir: result tables recorded by notebooks, collected in order; the package's import layers."""

from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd
import pytest

from leukemia import config
from leukemia.rundir import RESULTS_DIR_ENV_VAR, collect_results, record_results, result_columns


def test_recorded_tables_are_collected_in_their_order(tmp_path: Path) -> None:
    columns = result_columns(("A", "B"))
    for name, model in (("honest", "knn"), ("extra", "x"), ("seed", "lr"), ("golub", "wv")):
        record_results(pd.DataFrame([{c: None for c in columns} | {"model": model}]), name, tmp_path)
    record_results(
        pd.DataFrame([{c: None for c in columns} | {"model": "svm"}]), "seed", tmp_path
    )  # replaces
    collected = collect_results(tmp_path, ("A", "B"))
    assert collected["model"].tolist() == ["svm", "wv", "knn", "x"]
    assert list(collected.columns) == columns
    assert not list(tmp_path.glob(".*.tmp")), "written through a temporary file, renamed"


def test_nothing_recorded_gives_the_empty_table_of_the_classes(tmp_path: Path) -> None:
    empty = collect_results(tmp_path, ("N", "B", "C"))
    assert empty.empty and "recall_B" in empty.columns and "roc_auc_C" in empty.columns


def test_results_go_where_the_run_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(RESULTS_DIR_ENV_VAR, str(tmp_path / "run" / "results"))
    path = record_results(pd.DataFrame({"model": ["knn"]}), "seed")
    assert path == tmp_path / "run" / "results" / "seed.csv"
    with pytest.raises(ValueError, match="letters, digits"):
        record_results(pd.DataFrame(), "../escape")


def _imports() -> dict[str, set[str]]:
    """Module → the package modules it imports (at the top or inside functions)."""
    graph = {}
    for path in sorted(config.PACKAGE_DIR.glob("*.py")):
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("leukemia"):
                names = [a.name for a in node.names] if node.module == "leukemia" else [node.module]
                deps |= {
                    n.split(".")[-1]
                    for n in names
                    if (config.PACKAGE_DIR / f"{n.split('.')[-1]}.py").exists()
                }
        graph[path.stem] = deps - {path.stem}
    return graph


def test_the_package_imports_in_layers_without_a_cycle() -> None:
    graph = _imports()
    done: list[str] = []
    while len(done) < len(graph):  # peel off modules whose imports are all done: fails on a cycle
        ready = sorted(m for m, deps in graph.items() if m not in done and deps <= set(done))
        assert ready, f"an import cycle among {sorted(set(graph) - set(done))}"
        done += ready
    assert "runner" not in graph["report"] and graph["rundir"] <= {"config"}
    assert "evaluate" not in graph["runner"], (
        "the runner collects what the notebooks recorded; it computes nothing"
    )

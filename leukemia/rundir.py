"""The run directory: its layout, atomic writes, and the result tables the notebooks record into it.

A run directory (``reports/<name>/`` or ``--out``) holds the executed notebooks, ``manifest.json``,
``results/`` (one CSV per result table a notebook recorded with :func:`record_results`),
``metrics.csv`` (those tables collected by the runner, :func:`collect_results`), ``model/`` (the chosen
model, saved by the summary notebook), ``report.html`` and ``.cache/``. A notebook run on its own
(JupyterLab, papermill, nbval) records into ``reports/results/`` and saves into ``reports/model/``.

This module imports nothing else of the package but ``config``: the runner, the report and the
notebooks all write through it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from leukemia import config

__all__ = [
    "LOGS_FOLDER",
    "MANIFEST_FILE",
    "METRICS_FILE",
    "MODEL_FOLDER",
    "REPORT_FILE",
    "RESULTS_DIR_ENV_VAR",
    "RESULTS_FOLDER",
    "RESULT_TABLES",
    "collect_results",
    "record_results",
    "result_columns",
    "results_dir",
    "write_atomic",
]

REPORT_FILE, METRICS_FILE, MANIFEST_FILE = "report.html", "metrics.csv", "manifest.json"
RESULTS_FOLDER = "results"
#: Where the summary notebook saves the chosen model, its card and its test-set calls (:mod:`leukemia.model`).
MODEL_FOLDER = "model"
#: What each notebook's kernel printed outside the notebook (a file per notebook, kept only when not empty).
LOGS_FOLDER = "logs"
#: Set by the runner for its kernels: the folder notebooks record their result tables into.
RESULTS_DIR_ENV_VAR = config.RESULTS_DIR_ENV_VAR
#: The result tables, in the order ``metrics.csv`` lists them (others follow, by name).
RESULT_TABLES = ("seed", "golub", "honest", "nested_cv")


def result_columns(classes: tuple[str, ...]) -> list[str]:
    """Column order of a result table (one row per model), with the per-class measures named by class.

    Per class: ``precision_<c>``, ``recall_<c>``, ``f1_<c>``; for more than two classes also the
    one-vs-rest ``roc_auc_<c>`` (for two classes each class's AUC is ``roc_auc`` itself).
    """
    per_class = [f"{measure}_{c}" for c in classes for measure in ("precision", "recall", "f1")]
    auc = [f"roc_auc_{c}" for c in classes] if len(classes) > 2 else []
    return [
        "model", "protocol", "train_accuracy", "cv_accuracy", "cv_std", "n_correct", "n_test",
        "accuracy", "ci_low", "ci_high", "balanced_accuracy", "macro_f1", *per_class, "roc_auc", *auc,
        "chosen_on",
    ]  # fmt: skip


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder, then rename."""
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    finally:  # nothing half-written is left behind, whatever failed
        temporary.unlink(missing_ok=True)


def results_dir() -> Path:
    """Where :func:`record_results` writes: a run's ``results/``, else ``reports/results``."""
    return config.results_dir()


def record_results(table: pd.DataFrame, name: str, folder: Path | None = None) -> Path:
    """Record a result table a notebook shows, as ``<folder>/<name>.csv`` (replacing an earlier one).

    Parameters
    ----------
    table
        One row per model (``Evaluation.table``).
    name
        The table's name: ``"seed"``, ``"golub"``, ``"honest"`` or another (letters, digits, ``_-``).
    folder
        Default :func:`results_dir`.
    """
    if not name or not all(c.isalnum() or c in "_-" for c in name):
        raise ValueError(f"a result table's name is letters, digits, _ and -; got {name!r}.")
    folder = results_dir() if folder is None else Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.csv"
    write_atomic(target, table.to_csv(index=False))
    return target


def collect_results(folder: Path, classes: tuple[str, ...]) -> pd.DataFrame:
    """Every table recorded in ``folder``, in :data:`RESULT_TABLES` order; an empty table if there is none."""
    paths = {path.stem: path for path in Path(folder).glob("*.csv")}
    order = [n for n in RESULT_TABLES if n in paths] + sorted(set(paths) - set(RESULT_TABLES))
    tables = [pd.read_csv(paths[name]) for name in order]
    if not tables:
        return pd.DataFrame(columns=result_columns(classes))
    return pd.concat(tables, ignore_index=True)

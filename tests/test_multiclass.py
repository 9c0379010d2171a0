"""K ≥ 2 classes: every model, the measures, the honest search and nested CV on planted problems; class sizes.

The data sets are written as a user has them (a TSV matrix, a sample table and a dataset.yaml) and read
with :func:`leukemia.spec.load_dataset`, so that the whole path from files to results is exercised.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from leukemia.dataset import Dataset
from leukemia.evaluate import evaluate_models
from leukemia.honest import SearchSpace, abstention, nested_cv
from leukemia.models import MODELS
from leukemia.runner import DataLimits, RunError, _check_ranges
from leukemia.spec import load_dataset


def write_study(folder: Path, sizes: dict[str, int], *, n_genes: int = 120, effect: float = 4.0) -> Path:
    """Log2 expression of samples in classes of the given sizes; genes 2c and 2c+1 are raised in class c."""
    rng = np.random.default_rng(7)
    labels = np.concatenate([[name] * n for name, n in sizes.items()])
    samples = [f"S{i:03d}" for i in range(labels.size)]
    X = rng.normal(8.0, 1.0, size=(labels.size, n_genes))
    for c, name in enumerate(sizes):
        X[labels == name, 2 * c : 2 * c + 2] += effect
    matrix = pd.DataFrame(X.T, index=[f"G{j:03d}" for j in range(n_genes)], columns=samples).round(4)
    matrix.index.name = "probe"
    matrix.to_csv(folder / "expression.tsv", sep="\t")
    pd.DataFrame({"sample": samples, "group": labels}).to_csv(folder / "samples.csv", index=False)
    description = {
        "name": "planted", "expression": "expression.tsv", "labels": "samples.csv", "class_column": "group",
        "classes": list(sizes),
    }  # fmt: skip
    (folder / "dataset.yaml").write_text(yaml.safe_dump(description))
    return folder / "dataset.yaml"


@pytest.fixture(scope="module", params=[3, 5], ids=lambda k: f"{k} classes")
def planted(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    sizes = {f"K{c}": 25 for c in range(request.param)}
    return load_dataset(write_study(tmp_path_factory.mktemp("planted"), sizes))


def test_every_model_finds_the_planted_classes(planted: Dataset) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no model may warn (convergence, a missing class, …)
        evaluation = evaluate_models(
            planted,
            "seed",
            models=list(MODELS),
            preprocessing="standard",
            selector="f_test",
            k=2 * len(planted.classes),  # as many genes as were planted
            cv_folds=3,
        )
    table = evaluation.table.set_index("model")
    assert list(table.index) == list(MODELS)
    low = table[table["accuracy"] < 0.8]
    assert low.empty, low[["accuracy", "balanced_accuracy"]]
    classes = planted.classes
    assert {f"{m}_{c}" for c in classes for m in ("precision", "recall", "f1", "roc_auc")} <= set(
        table.columns
    )
    assert table["roc_auc"].between(0.9, 1).all()
    # The measures, recomputed for one model from its predictions.
    predicted, truth = evaluation.predictions["knn"], evaluation.y_test.astype(str)
    recalls = [(predicted[truth == c] == c).mean() for c in classes]
    assert table.loc["knn", "balanced_accuracy"] == pytest.approx(np.mean(recalls))
    for c, recall in zip(classes, recalls, strict=True):
        assert table.loc["knn", f"recall_{c}"] == pytest.approx(recall)
    assert set(evaluation.predictions.stack().unique()) <= set(classes)


def test_signal_to_noise_and_weighted_voting_find_the_planted_classes(planted: Dataset) -> None:
    evaluation = evaluate_models(planted, "golub", models=["weighted_voting"], cv_folds=3)
    row = evaluation.table.iloc[0]
    assert row["accuracy"] == 1.0 and row["cv_accuracy"] == 1.0


def test_the_honest_search_nested_cv_and_abstention_with_k_classes(planted: Dataset) -> None:
    space = SearchSpace(
        preprocessing=("none", "standard"), ks=(4, 10), models=("weighted_voting", "knn", "elastic_net"),
        cv_folds=3, cv_repeats=1,
    )  # fmt: skip
    honest = evaluate_models(planted, "honest", space=space, cv_folds=3)
    assert honest.table.iloc[0]["accuracy"] >= 0.9
    nested = nested_cv(planted, space, outer_folds=3)
    assert nested["n_test"].sum() == len(planted.y_train) and nested["accuracy"].min() >= 0.75
    settings = {"preprocessing": "standard", "selector": "signal_to_noise", "k": 10}
    models = ["weighted_voting", "knn"]
    table = abstention(planted, models, settings, cv_folds=3)
    confident = table.dropna(subset=["test_confident"])
    assert (confident["test_confident"] + confident["test_uncertain"] == len(planted.y_test)).all()


def test_classes_of_very_different_sizes_are_handled_or_refused_clearly(tmp_path: Path) -> None:
    data = load_dataset(write_study(tmp_path, {"Rare": 5, "Common": 70}))
    assert data.y_train.value_counts()["Rare"] == 3
    with pytest.raises(ValueError, match=r"cv_folds must be between 2 and the smallest training class \(3\)"):
        evaluate_models(data, "seed", models=["knn"], cv_folds=5)
    with pytest.raises(RunError, match=r"CV_FOLDS = 5 is out of range: must be between 2 and 3"):
        _check_ranges({"CV_FOLDS": 5}, DataLimits.of(data))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        evaluation = evaluate_models(data, "seed", models=["knn", "naive_bayes", "xgboost"], cv_folds=3)
        space = SearchSpace(preprocessing=("standard",), selectors=("f_test",), ks=(4,), models=("knn",))
        nested = nested_cv(data, space, outer_folds=3)
    assert (evaluation.table["n_test"] == len(data.y_test)).all() and data.y_test.value_counts()["Rare"] == 2
    assert set(nested["inner_folds"]) == {2}  # 2 of the 3 Rare training samples in each outer training part
    # Too few to split at all: a clear refusal when the data are read.
    (tmp_path / "tiny").mkdir()
    with pytest.raises(Exception, match=r"too few to cross-validate|needs 2 per class"):
        load_dataset(write_study(tmp_path / "tiny", {"Rare": 2, "Common": 70}))


@pytest.mark.slow
def test_four_classes_with_a_class_of_five_run_every_notebook_with_defaults(tmp_path: Path) -> None:
    """The case that stopped real studies: defaults too large for a class of five (refused one by one), then
    a crash in nested CV on inner folds holding one or two of its samples. An easy data set (every model
    can be perfect) also checks that no notebook asserts a fact of Golub's data."""
    import json
    import subprocess
    import sys

    study = write_study(tmp_path, {"A": 30, "B": 25, "C": 20, "Small": 5}, n_genes=600, effect=4.0)
    out = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, "-m", "leukemia.cli", "run", "--data", str(study), "--out", str(out), "-q"],
        capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    for name in ("CV_FOLDS", "OUTER_FOLDS"):
        assert f"leukemia run: {name} lowered from 5 to 4: the smallest training class has 4" in result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["parameters"]["CV_FOLDS"] == 4
    assert set(manifest["adapted_parameters"]) == {"CV_FOLDS", "OUTER_FOLDS", "N_GENES"}
    assert (out / "report.html").is_file()

"""leukemia.dataset, and the modules below the notebooks on a data set that is not Golub's.

No module may know a class name, a sample count or a gene count of Golub's data: here the bladder
data (Normal vs Cancer, log2, 22,283 genes) go through selection, models, evaluation and figures.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import yaml

from leukemia.dataset import Dataset, class_order, labels_of, stratified_split
from leukemia.preprocessing import DudoitFilter
from leukemia.spec import load_dataset


@pytest.fixture(scope="module")
def bladder(bladder_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    path = tmp_path_factory.mktemp("bladder") / "dataset.yaml"
    fields = {
        "name": "bladder-2004", "expression": str(bladder_dir / "expression.tsv.gz"),
        "labels": str(bladder_dir / "samples.csv"), "class_column": "cancer", "classes": ["Normal", "Cancer"],
        "batch_column": "batch",
    }  # fmt: skip
    path.write_text(yaml.safe_dump(fields))
    return load_dataset(path)


def test_class_order_is_the_categories_not_the_alphabet() -> None:
    y = labels_of(["Cancer", "Normal"], ("Normal", "Cancer"), pd.Index(["a", "b"]))
    assert class_order(y) == ("Normal", "Cancer")
    assert class_order(pd.Series(["b", "a", "b"])) == ("a", "b")


def test_stratified_split_keeps_every_class() -> None:
    y = pd.Series(["A"] * 8 + ["B"] * 4, index=[f"s{i}" for i in range(12)])
    train, test = stratified_split(y, 0.25, 0)
    assert len(test) == 3 and set(y[test]) == {"A", "B"} and not set(train) & set(test)
    assert list(train) == [i for i in y.index if i in set(train)], "in the data's order"


def test_dudoit_filter_means_the_same_on_log2_data() -> None:
    rng = np.random.default_rng(0)
    linear = np.exp(rng.normal(6, 1.5, size=(20, 300)))
    on_linear = DudoitFilter().fit(linear)
    on_log = DudoitFilter().fit(np.log2(linear))
    assert on_linear.scale_ == "linear" and on_log.scale_ == "log2"
    assert (on_linear.support_ == on_log.support_).all() and on_linear.support_.sum() > 10
    np.testing.assert_allclose(on_log.transform(np.log2(linear)), on_linear.transform(linear))


def test_bladder_through_the_modelling_modules(bladder: Dataset) -> None:
    from leukemia.evaluate import evaluate_models

    evaluation = evaluate_models(bladder, "seed", models=["knn", "naive_bayes"], preprocessing="standard")
    table = evaluation.table
    assert {"precision_Normal", "recall_Normal", "precision_Cancer", "recall_Cancer"} <= set(table.columns)
    assert not any("ALL" in c or "AML" in c for c in table.columns)
    assert (table["n_test"] == len(bladder.y_test)).all()
    assert set(evaluation.predictions.stack()) <= {"Normal", "Cancer"}
    # The honest search's default preprocessing includes Dudoit's recipe: it must keep genes on log2 data.
    kept = DudoitFilter().fit(bladder.X_train).support_.sum()
    assert 0 < kept < bladder.X_train.shape[1]


def test_bladder_figures_name_its_classes(bladder: Dataset) -> None:
    from leukemia.eda import pca_projection, top_class_genes
    from leukemia.golub import neighbourhood_analysis
    from leukemia.plotting import PALETTE, plot_class_counts, plot_gene_heatmap, plot_neighbourhood, plot_pca

    fig = plot_class_counts(bladder)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["Normal", "Cancer"]
    fig = plot_pca(pca_projection(bladder, preprocessing="standard"))
    assert any("Normal, training" in t.get_text() for t in fig.axes[0].get_legend().get_texts())
    genes = top_class_genes(bladder.X_train, bladder.y_train, 10)
    fig = plot_gene_heatmap(bladder.X_train, bladder.y_train, genes, bladder.genes, title="t")
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["Normal", "Cancer"]
    table = neighbourhood_analysis(
        bladder.X_train.iloc[:, :2000], bladder.y_train, n_permutations=20, progress=False
    )
    assert set(table["side"]) == {"Normal", "Cancer"}
    fig = plot_neighbourhood(table)
    assert {ax.get_title() for ax in fig.axes} == {"Genes higher in Normal", "Genes higher in Cancer"}
    assert fig.axes[0].lines[0].get_color() in PALETTE
    plt.close("all")

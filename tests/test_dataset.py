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


def test_labels_keep_their_samples_and_name() -> None:
    from leukemia.dataset import decode_labels, encode_labels

    y = pd.Series(["AML", "ALL", "AML"], index=["p3", "p1", "p2"], name="cancer")
    codes = encode_labels(y, ("ALL", "AML"))
    assert codes.tolist() == [1, 0, 1] and list(codes.index) == ["p3", "p1", "p2"] and codes.name == "cancer"
    assert labels_of(["B", "A"], ("A", "B"), pd.Index(["s1", "s2"]), name="kind").name == "kind"
    assert labels_of(["B", "A"], ("A", "B"), pd.Index(["s1", "s2"])).name == "class"
    # Class names come back as Python objects (not fixed-width numpy text), whatever the codes' dtype.
    names = decode_labels(np.array([1.0, 0.0]), ("ALL", "AML"))
    assert names.dtype == object and names.tolist() == ["AML", "ALL"]
    names = decode_labels(np.array([0]), ("ALL", "AML-M5"))
    names[0] = "AML-M5"  # a fixed-width '<U3' array would truncate this
    assert names[0] == "AML-M5"


def test_class_counts_follow_the_class_order_with_zeros() -> None:
    index = pd.Index([f"s{i}" for i in range(6)])
    y = labels_of(["big", "big", "big", "small", "big", "big"], ("small", "big"), index)
    data = Dataset(
        X_train=pd.DataFrame(np.zeros((4, 1)), index=index[:4]), y_train=y[:4],
        X_test=pd.DataFrame(np.zeros((2, 1)), index=index[4:]), y_test=y[4:],
        genes=pd.DataFrame({"description": [""]}), classes=("small", "big"),
    )  # fmt: skip
    counts = data.class_counts()
    expected = pd.DataFrame(
        {"train": [1, 3, 4], "test": [0, 2, 2], "all": [1, 5, 6]},
        index=pd.Index(["small", "big", "total"], name="class"),
    )
    pd.testing.assert_frame_equal(counts, expected, check_dtype=False)
    assert (counts.dtypes.map(lambda d: d.kind) == "i").all(), "counts are integers"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (np.array([]), "log2"),  # nothing to judge: taken as already log
        (np.array([7.0]), "log2"),
        (np.full(10, 100.5), "linear"),  # 99th percentile just above 100
        (np.full(10, 99.5), "log2"),
        (np.array([1.0] * 8 + [51.0]), "log2"),  # range exactly 50: not more than 50
        (np.array([1.0] * 8 + [51.5]), "linear"),  # range 50.5 and 25th percentile positive
        (np.array([-40.0] + [1.0] * 8 + [15.0]), "linear"),  # the range, not the sum, of the extremes
        (np.array([-40.0] * 3 + [0.0] * 7 + [15.0]), "log2"),  # 25th percentile not positive
        (np.array([np.nan, np.inf, 1.0, 2.0]), "log2"),  # only the finite values count
        (np.array([np.nan, np.inf]), "log2"),
    ],
)
def test_detect_scale_is_geo2rs_rule(values: np.ndarray, expected: str) -> None:
    from leukemia.dataset import detect_scale

    assert detect_scale(values) == expected


@pytest.mark.parametrize("q", [0.0, 0.1, 0.25, 0.5, 0.9, 0.99, 1.0])
def test_quantile_exceeds_agrees_with_numpy(q: float) -> None:
    from leukemia.dataset import quantile_exceeds

    rng = np.random.default_rng(1)
    values = rng.integers(0, 20, size=(30, 7)).astype(float)  # ties at every threshold
    for threshold in [-1.0, 0.0, 3.5, 10.0, 19.0, 25.0, *np.quantile(values, [q])]:
        assert quantile_exceeds(values, q, threshold) == (np.quantile(values, q) > threshold), threshold
    # A quantile that interpolates to exactly the threshold does not exceed it.
    assert not quantile_exceeds(np.array([0.0, 10.0]), 0.5, 5.0)
    assert quantile_exceeds(np.array([0.0, 10.0]), 0.5, 4.999)


def test_cramers_v_by_hand() -> None:
    from leukemia.dataset import cramers_v

    a = pd.Series(list("aaabbbccc"))
    assert cramers_v(a, a) == pytest.approx(1.0)  # 3 × 3: V divides chi² by n·(3 − 1)
    b = pd.Series(list("xxyxyyzzz"))
    table = pd.crosstab(a, b).to_numpy()
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    chi2 = ((table - expected) ** 2 / expected).sum()
    assert cramers_v(a, b) == pytest.approx(np.sqrt(chi2 / (table.sum() * 2)))
    # 2 × 2: no continuity correction (V is 1 when one variable determines the other).
    assert cramers_v(pd.Series(list("aabb")), pd.Series(list("xxyy"))) == pytest.approx(1.0)
    assert np.isnan(cramers_v(pd.Series(list("aabb")), pd.Series(list("xxxx"))))


def test_batch_confounding_states_the_rule_and_the_value() -> None:
    from leukemia.dataset import CONFOUNDED_V, batch_confounding, cramers_v

    labels = pd.Series(list("aabbab"), index=list("pqrstu"))
    batch = pd.Series(list("xxyy"), index=list("pqrs"))  # the batch decides the class on p–s
    assert batch_confounding(labels, batch) == "confounded (Cramér's V = 1.000, at or above 0.5)"
    # Only the samples with a batch count: with t and u (a/b against x/y) V would be below 1.
    assert cramers_v(labels.loc[list("pqrstu")], pd.Series(list("xxyyyx"), index=list("pqrstu"))) < 1
    independent = pd.Series(list("xyxy"), index=list("pqrs"))
    assert batch_confounding(labels, independent) == "not confounded by the rule V ≥ 0.5 (Cramér's V = 0.000)"
    assert CONFOUNDED_V == 0.5
    # At the threshold itself: confounded (V ≥ threshold).
    partial = pd.Series(list("xyyyx"), index=list("pqrst"))
    v = cramers_v(labels.loc[partial.index], partial)
    assert 0 < v < 1
    assert batch_confounding(labels, partial, threshold=v).startswith("confounded")
    assert batch_confounding(labels, partial, threshold=v + 1e-9).startswith("not confounded")
    assert batch_confounding(labels, None) == "not checked (the data set names no batch)"
    one_batch = pd.Series(list("xxxx"), index=list("pqrs"))
    assert batch_confounding(labels, one_batch).startswith("not measurable")


def test_the_annotation_scan_flags_what_travels_with_the_class_and_skips_what_cannot_compete() -> None:
    from leukemia.dataset import NESTED_NOTE, annotation_scan

    y = pd.Series(["neg"] * 10 + ["pos"] * 10, index=[f"s{i}" for i in range(20)])
    annotations = pd.DataFrame(
        {
            # the case that fooled a real run: the negative class mostly T-lineage, the positive all B
            "lineage": ["T"] * 8 + ["B"] * 2 + ["B"] * 10,
            "sex": ["F", "M"] * 10,  # independent of the class
            "subtype": ["n1"] * 5 + ["n2"] * 5 + ["p1"] * 10,  # each value in one class: refines it
            "title": [f"patient {i}" for i in range(20)],
            "centre": ["A"] * 20,
            "age": [str(30 + i) if i < 19 else "NA" for i in range(20)],  # 19 values, one missing
        },
        index=y.index,
    )
    scan = annotation_scan(y, annotations)
    assert list(scan.index[scan["flagged"]]) == ["subtype", "lineage"], "strongest first"
    assert scan.loc["lineage", "test"] == "Fisher exact" and scan.loc["lineage", "p_value"] < 0.001
    assert scan.loc["lineage", "v"] == pytest.approx(0.8165, abs=1e-4)
    assert scan.loc["sex", "v"] == 0 and not scan.loc["sex", "flagged"]
    notes = scan["note"].to_dict()
    assert notes["subtype"] == NESTED_NOTE and scan.loc["subtype", "v"] == pytest.approx(1.0)
    assert notes["title"] == "a different value for every sample"
    assert notes["centre"] == "a single value"
    assert notes["age"] == "a different value for every sample" and scan.loc["age", "samples"] == 19
    assert annotation_scan(y, None).empty

"""leukemia.eda: summaries used by the exploration notebook."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leukemia.data import GolubData
from leukemia.eda import (
    LINEAGE_MARKERS,
    MARKER_GENES,
    class_agreement,
    class_correlation,
    class_correlations,
    intensity_summary,
    marker_table,
    pca_projection,
    top_class_genes,
)


def test_intensity_summary_counts() -> None:
    X = pd.DataFrame([[-5, 50, 150, 20000], [10, 200, 300, 400]], index=[7, 8])
    s = intensity_summary(X)
    assert s.loc[7, ["n_negative", "n_below_floor", "n_above_ceiling"]].tolist() == [1, 2, 1]
    assert s.loc[8, ["n_negative", "n_below_floor", "n_above_ceiling"]].tolist() == [0, 1, 0]
    assert s.loc[8, "pct_below_floor"] == 25
    assert s.loc[8, "median"] == 250


def test_class_correlation_sign_and_constant_gene() -> None:
    X = pd.DataFrame({"up": [1, 2, 8, 9], "down": [9, 8, 2, 1], "flat": [3, 3, 3, 3]}, index=[1, 2, 3, 4])
    y = pd.Series(["ALL", "ALL", "AML", "AML"], index=[1, 2, 3, 4])
    r = class_correlation(X, y)
    assert r["up"] > 0.9 and r["down"] < -0.9
    assert r["flat"] == 0


def test_class_correlation_aligns_labels_by_index() -> None:
    X = pd.DataFrame({"g": [1.0, 2.0, 8.0, 9.0]}, index=[1, 2, 3, 4])
    y = pd.Series(["AML", "AML", "ALL", "ALL"], index=[3, 4, 1, 2])  # same labels, other order
    assert class_correlation(X, y)["g"] > 0.9


def test_top_class_genes_is_balanced(golub: GolubData) -> None:
    top = top_class_genes(golub.X_train, golub.y_train, 10)
    r = class_correlation(golub.X_train, golub.y_train)
    assert len(top) == 10 and top.is_unique
    assert (r[top[:5]] < 0).all() and (r[top[5:]] > 0).all()
    assert "X95735_at" in top  # zyxin
    with pytest.raises(ValueError, match="between the number of classes"):
        top_class_genes(golub.X_train, golub.y_train, 1)


def test_top_class_genes_for_three_classes_take_turns_and_group_by_class() -> None:
    rng = np.random.default_rng(0)
    y = pd.Series(np.repeat(["A", "B", "C"], 6))
    X = pd.DataFrame(rng.normal(size=(18, 30)), columns=[f"g{i}" for i in range(30)])
    for c, name in enumerate("ABC"):  # g{2c}, g{2c+1} are high in class c
        X.loc[y == name, [f"g{2 * c}", f"g{2 * c + 1}"]] += 5
    top = top_class_genes(X, y, 7)  # uneven: A gets 3, B and C 2
    r = class_correlations(X, y)
    assert list(r.columns) == ["r_A", "r_B", "r_C"]
    assert set(top[:2]) == {"g0", "g1"} and set(top[3:5]) == {"g2", "g3"} and set(top[5:]) == {"g4", "g5"}
    assert len(top) == 7 and top.is_unique
    assert (r.loc[top[:3], "r_A"] > 0).all()


def test_marker_table_on_training_data(golub: GolubData) -> None:
    table = marker_table(golub)
    assert table.index.tolist() == list(MARKER_GENES)
    assert table.loc["X95735_at", "higher_in"] == "AML"
    assert table.loc["U05259_rna1_at", "higher_in"] == "ALL"
    zyxin = golub.X_train["X95735_at"]
    assert table.loc["X95735_at", "mean_AML"] == round(zyxin[golub.y_train == "AML"].mean())
    assert table.loc["X95735_at", "rank_abs_r"] <= 5


def test_lineage_markers_leave_out_golubs_own_genes(golub: GolubData) -> None:
    # Zyxin and the leptin receptor were found by ranking these samples: they cannot confirm the ranking.
    assert set(LINEAGE_MARKERS) < set(MARKER_GENES)
    assert {MARKER_GENES[a][0] for a in LINEAGE_MARKERS} == {"CD33", "CST3", "MPO", "MB-1", "c-myb"}
    table = marker_table(golub)
    lineage = [a for a in MARKER_GENES if a in LINEAGE_MARKERS]
    assert table.loc[table["lineage_marker"]].index.tolist() == lineage
    assert not table.loc[["X95735_at", "Y12670_at"], "lineage_marker"].any()
    # the ranks the course quotes: CD33 6, CST3 15, c-myb 40, MPO 81, MB-1 158 of 7129 (training samples)
    ranks = table.set_index("symbol").loc[["CD33", "CST3", "c-myb", "MPO", "MB-1"], "rank_abs_r"]
    assert ranks.tolist() == [6, 15, 40, 81, 158]


def test_pca_is_fitted_on_training_only(golub: GolubData) -> None:
    projection = pca_projection(golub, preprocessing="dudoit")
    scores = projection.scores
    assert scores.shape == (72, 4)
    train = scores[scores["split"] == "train"]
    test = scores[scores["split"] == "test"]
    # Training scores are centred (PCA fitted on them); projected test scores are not.
    np.testing.assert_allclose(train[["PC1", "PC2"]].mean(), 0, atol=1e-8)
    assert abs(test["PC1"].mean()) > 1
    assert projection.pipeline[-1].n_samples_ == 38
    assert (scores["cancer"] == pd.concat([golub.y_train, golub.y_test])).all()


def test_pca_is_deterministic(golub: GolubData) -> None:
    first = pca_projection(golub).scores[["PC1", "PC2"]].to_numpy()
    second = pca_projection(golub).scores[["PC1", "PC2"]].to_numpy()
    assert np.array_equal(first, second)


def test_class_agreement_by_hand() -> None:
    # Class means: g1 A 1, B 9; g2 A 2, B 8. Sample 3 (B) has g1 = 4: nearer A's mean 1 -> disagrees.
    X = pd.DataFrame({"g1": [0.0, 2, 4, 14], "g2": [2.0, 2, 8, 8]}, index=[1, 2, 3, 4])
    y = pd.Series(["A", "A", "B", "B"], index=[1, 2, 3, 4])
    agreement = class_agreement(X, y, pd.Index(["g1", "g2"]))
    assert agreement.to_dict() == {1: 1.0, 2: 1.0, 3: 0.5, 4: 1.0}
    assert agreement.name == "agreement"


def test_least_typical_training_patients_still_agree_mostly(golub: GolubData) -> None:
    genes = top_class_genes(golub.X_train, golub.y_train, 50)
    agreement = class_agreement(golub.X_train, golub.y_train, genes)
    assert agreement.index.equals(golub.X_train.index) and agreement.between(0, 1).all()
    assert agreement.median() > 0.8 and agreement.min() > 0.5


def test_a_study_sized_pca_uses_arpack_and_finds_the_full_svds_components(monkeypatch) -> None:
    import leukemia.eda as eda
    from leukemia.dataset import Dataset
    from leukemia.synthetic import make_study

    X, y = make_study(3000, 120, 2, n_informative=40)
    X = X.astype(float)
    genes = pd.DataFrame({"description": ""}, index=X.columns)
    data = Dataset(
        X_train=X.iloc[:90], y_train=y.iloc[:90], X_test=X.iloc[90:], y_test=y.iloc[90:], genes=genes
    )
    full = eda.pca_projection(data, preprocessing="none")
    monkeypatch.setattr(eda, "FULL_SVD_MAX_VALUES", 1000)
    study = eda.pca_projection(data, preprocessing="none")
    assert study.pipeline[-1].svd_solver == "arpack" and full.pipeline[-1].svd_solver == "full"
    np.testing.assert_allclose(study.explained_variance_ratio, full.explained_variance_ratio, rtol=1e-8)
    np.testing.assert_allclose(
        study.scores[["PC1", "PC2"]].to_numpy(), full.scores[["PC1", "PC2"]].to_numpy(), rtol=1e-6, atol=1e-8
    )

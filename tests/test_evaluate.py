"""leukemia.evaluate: the results table, CIs, McNemar, and no test sample in any fit."""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.model_selection import cross_val_score, learning_curve

from leukemia import config
from leukemia import models as model_module
from leukemia.data import GolubData, encode_labels
from leukemia.dataset import decode_labels, stratified_folds
from leukemia.evaluate import (
    Evaluation,
    errors_by_sample,
    evaluate_models,
    gene_importance,
    identical_predictions,
    learning_curves,
    mcnemar_pairs,
    mcnemar_table,
    protocol_settings,
)
from leukemia.models import SEED_REPORTED_ACCURACY, make_pipeline


@pytest.fixture(scope="module")
def seed(golub: GolubData) -> Evaluation:
    return evaluate_models(golub, "seed")


def test_seed_protocol_reproduces_the_reported_accuracies(seed: Evaluation) -> None:
    ours = seed.table.set_index("model")["accuracy"].round(4).to_dict()
    assert ours == SEED_REPORTED_ACCURACY


def test_table_columns_and_counts(seed: Evaluation) -> None:
    table = seed.table
    assert len(table) == 10
    for column in ["model", "train_accuracy", "cv_accuracy", "n_correct", "n_test", "accuracy",
                   "ci_low", "ci_high", "precision_AML", "recall_AML", "precision_ALL", "recall_ALL",
                   "roc_auc"]:  # fmt: skip
        assert column in table.columns
    assert (table["n_test"] == 34).all()
    assert np.allclose(table["accuracy"], table["n_correct"] / 34)
    assert ((table["ci_low"] <= table["accuracy"]) & (table["accuracy"] <= table["ci_high"])).all()
    assert table["roc_auc"].between(0.5, 1).all()
    assert seed.predictions.shape == (34, 10) and seed.scores.shape == (34, 10)


def test_precision_recall_are_each_models_own(seed: Evaluation) -> None:
    table = seed.table.set_index("model")
    for name in table.index:
        predicted, truth = seed.predictions[name], seed.y_test
        true_aml = ((predicted == "AML") & (truth == "AML")).sum()
        assert table.loc[name, "recall_AML"] == pytest.approx(true_aml / (truth == "AML").sum())
        assert table.loc[name, "precision_AML"] == pytest.approx(true_aml / (predicted == "AML").sum())
        true_all = ((predicted == "ALL") & (truth == "ALL")).sum()
        assert table.loc[name, "recall_ALL"] == pytest.approx(true_all / (truth == "ALL").sum())
    # The seed notebook's bug printed the last model's figures on every row.
    assert table[["precision_AML", "recall_AML"]].drop_duplicates().shape[0] > 1


def test_mcnemar_table_is_symmetric(seed: Evaluation) -> None:
    matrix = mcnemar_table(seed)
    assert np.allclose(matrix, matrix.T)
    assert (np.diag(matrix) == 1).all()
    pairs = mcnemar_pairs(seed)
    assert len(pairs) == 45 and pairs["pvalue"].is_monotonic_increasing
    first = pairs.iloc[0]
    assert matrix.loc[first["first"], first["second"]] == first["pvalue"]


def test_errors_by_sample(seed: Evaluation) -> None:
    errors = errors_by_sample(seed)
    correct = seed.correct()
    assert set(errors.index) == set(correct.index[~correct.all(axis=1)])
    assert (errors["n_models_wrong"] == (~correct.loc[errors.index]).sum(axis=1)).all()
    assert errors["n_models_wrong"].is_monotonic_decreasing
    # The first column is the true class, named like the labels ("class" when they have no name).
    assert errors.columns[0] == seed.y_test.name == "cancer"
    assert errors["cancer"].equals(seed.y_test.loc[errors.index])
    unnamed = errors_by_sample(replace(seed, y_test=seed.y_test.rename(None)))
    assert unnamed.columns[0] == "class" and unnamed["class"].equals(errors["cancer"].rename("class"))


def test_held_out_measures_by_hand() -> None:
    from leukemia.evaluate import held_out_measures
    from leukemia.stats import clopper_pearson

    y_test, predicted = np.array([0, 0, 1, 1, 1]), np.array([0, 1, 1, 1, 0])
    score = np.array([0.1, 0.6, 0.8, 0.7, 0.4])
    row = held_out_measures(y_test, predicted, score, ("A", "B"))
    assert (row["n_correct"], row["n_test"], row["accuracy"]) == (3, 5, 0.6)
    assert (row["ci_low"], row["ci_high"]) == clopper_pearson(3, 5)
    assert row["recall_A"] == 0.5 and row["recall_B"] == pytest.approx(2 / 3)
    assert row["precision_A"] == 0.5 and row["precision_B"] == pytest.approx(2 / 3)
    assert row["balanced_accuracy"] == pytest.approx((0.5 + 2 / 3) / 2)
    assert row["roc_auc"] == pytest.approx(5 / 6)  # of 6 (A, B) pairs, B scores higher in 5
    assert np.isnan(held_out_measures(y_test, predicted, None, ("A", "B"))["roc_auc"])
    # A class absent from the test set and never called still has its columns, and counts in macro-F1.
    three = held_out_measures(y_test, predicted, None, ("A", "B", "C"))
    assert (three["precision_C"], three["recall_C"], three["f1_C"]) == (0.0, 0.0, 0.0)
    assert three["macro_f1"] == pytest.approx((0.5 + 2 / 3 + 0) / 3)


class SpyScaler(TransformerMixin, BaseEstimator):
    """A pass-through preprocessing step that records the patients of every fit.

    Patients are recognised by their expression values (no two patients share a row), so the
    spy works whether the pipeline is given a DataFrame or a plain array.
    """

    seen: ClassVar[list[list[object]]] = []
    patient_of: ClassVar[dict[bytes, object]] = {}

    def fit(self, X: object, y: object = None) -> SpyScaler:
        rows = np.asarray(X, dtype=float)
        SpyScaler.seen.append([SpyScaler.patient_of[row.tobytes()] for row in rows])
        return self

    def transform(self, X: object) -> object:
        return X


def test_no_test_sample_is_ever_fitted(golub: GolubData, monkeypatch: pytest.MonkeyPatch) -> None:
    SpyScaler.seen.clear()
    everyone = pd.concat([golub.X_train, golub.X_test]).astype(float)
    SpyScaler.patient_of = {
        row.tobytes(): patient for patient, row in zip(everyone.index, everyone.to_numpy(), strict=True)
    }
    assert len(SpyScaler.patient_of) == 72, "every patient has a row of their own"
    original = model_module.make_preprocessor
    monkeypatch.setattr(
        model_module,
        "make_preprocessor",
        lambda name, **kw: SpyScaler() if name == "spy" else original(name, **kw),
    )
    evaluate_models(golub, "seed", models=["knn", "decision_tree"], preprocessing="spy", cv_folds=3)
    assert len(SpyScaler.seen) == 3 + 1  # three CV folds and one final fit, shared by both models
    training = set(golub.X_train.index)
    for rows in SpyScaler.seen:
        assert set(rows) <= training
    assert sorted(len(rows) for rows in SpyScaler.seen)[-1] == 38


def test_shared_steps_give_each_pipelines_own_cross_validation(golub: GolubData) -> None:
    names = ["knn", "random_forest", "elastic_net"]
    evaluation = evaluate_models(golub, "seed", models=names, cv_folds=4)
    y = encode_labels(golub.y_train)
    for name, row in evaluation.table.set_index("model").iterrows():
        alone = cross_val_score(
            make_pipeline(str(name)), golub.X_train.to_numpy(), y, cv=stratified_folds(4, config.RANDOM_SEED)
        )
        assert row["cv_accuracy"] == pytest.approx(alone.mean(), abs=1e-12)
        assert row["cv_std"] == pytest.approx(alone.std(), abs=1e-12)
        fitted = make_pipeline(str(name)).fit(golub.X_train.to_numpy(), y)
        expected = decode_labels(fitted.predict(golub.X_test.to_numpy()), golub.classes)
        assert evaluation.predictions[name].tolist() == list(expected)


def test_bad_arguments(golub: GolubData) -> None:
    with pytest.raises(ValueError, match=r"unknown protocol 'magic'"):
        evaluate_models(golub, "magic")
    with pytest.raises(
        ValueError, match=r"cv_folds must be between 2 and the smallest training class \(11\)"
    ):
        evaluate_models(golub, models=["knn"], cv_folds=12)
    with pytest.raises(ValueError, match=r"unknown model\(s\) \['svm'\]"):
        evaluate_models(golub, models=["svm"])


def test_encode_labels() -> None:
    from leukemia.dataset import decode_labels, labels_of

    assert encode_labels(pd.Series(["ALL", "AML", "AML"])).tolist() == [0, 1, 1]
    with pytest.raises(ValueError, match=r"labels must be \['ALL', 'AML'\], found \['CLL'\]"):
        encode_labels(pd.Series(["ALL", "CLL"]), ("ALL", "AML"))
    # An ordered categorical keeps its reference class first, whatever the alphabet says.
    y = labels_of(["Cancer", "Normal", "Cancer"], ("Normal", "Cancer"), pd.RangeIndex(3))
    assert encode_labels(y).tolist() == [1, 0, 1]
    assert decode_labels(np.array([1, 0]), ("Normal", "Cancer")).tolist() == ["Cancer", "Normal"]


def test_learning_curves_use_training_samples_only(golub: GolubData) -> None:
    curves = learning_curves(golub, ["logistic_regression"], train_sizes=(0.5, 1.0), cv_folds=3)
    assert set(curves["set"]) == {"training", "cross-validation"}
    assert curves["n_train"].max() <= 38 * 2 // 3 + 1
    assert curves["mean"].between(0, 1).all()


@pytest.mark.parametrize("protocol", ["seed", "golub"])
def test_learning_curves_fit_each_fold_on_a_share_of_its_own_part(golub: GolubData, protocol: str) -> None:
    """Written out: per fold, one permutation of its training part; its first int(f · n) samples fit."""
    models = ["logistic_regression", "knn", "random_forest", "weighted_voting"]
    sizes = (0.4, 0.7, 1.0)
    curves = learning_curves(
        golub, models, protocol, train_sizes=sizes, cv_folds=3, random_state=7
    ).set_index(["model", "set"])
    X, y = golub.X_train.to_numpy(), encode_labels(golub.y_train, golub.classes).to_numpy()
    splits = list(stratified_folds(3, 7).split(X, y))
    assert [len(train) for train, _ in splits] == [25, 25, 26], "unequal folds: the case that matters"
    rng = np.random.RandomState(7)
    orders = [rng.permutation(train) for train, _ in splits]
    per_fold = [[int(f * len(train)) for train, _ in splits] for f in sizes]
    for name in models:
        pipeline = make_pipeline(name, random_state=7, **protocol_settings(protocol))
        scores: dict[str, list[list[float]]] = {"training": [], "cross-validation": []}
        for n_per_fold in per_fold:
            train_acc, cv_acc = [], []
            for (_, test), order, n in zip(splits, orders, n_per_fold, strict=True):
                rows = np.sort(order[:n])
                fitted = clone(pipeline).fit(X[rows], y[rows])
                train_acc.append((fitted.predict(X[rows]) == y[rows]).mean())
                cv_acc.append((fitted.predict(X[test]) == y[test]).mean())
            scores["training"].append(train_acc)
            scores["cross-validation"].append(cv_acc)
        for label, values in scores.items():
            ours = curves.loc[(name, label)]
            assert ours["n_train"].tolist() == pytest.approx(np.mean(per_fold, axis=1).tolist())
            assert np.allclose(ours["mean"], np.mean(values, axis=1)), (name, label)
            assert np.allclose(ours["std"], np.std(values, axis=1)), (name, label)


def test_learning_curves_end_at_the_cross_validated_accuracy(golub: GolubData) -> None:
    """At the full size every fold fits on all of its training part: the numbers of evaluate_models.

    38 samples in 5 folds train on 30, 30, 30, 31 and 31; sizes taken from the first fold (scikit-learn's
    learning_curve) would leave one sample out of the last two folds, and the decision tree would score
    0.839 instead of 0.925.
    """
    models = ["decision_tree", "logistic_regression", "knn"]
    curves = learning_curves(golub, models, cv_folds=5)
    cv = evaluate_models(golub, "seed", models=models, cv_folds=5).table.set_index("model")
    full = curves[(curves["set"] == "cross-validation") & (curves["n_train"] == curves["n_train"].max())]
    assert full.set_index("model").loc["decision_tree", "mean"] == pytest.approx(0.925)
    assert np.allclose(full["mean"], cv.loc[models, "cv_accuracy"])
    assert np.allclose(full["std"], cv.loc[models, "cv_std"])
    assert full["n_train"].tolist() == [30.4] * 3, "the mean of 30, 30, 30, 31, 31"


def test_learning_curves_match_scikit_learns_when_the_folds_are_equal(golub: GolubData) -> None:
    """Two folds of 19: scikit-learn's sizes fit every fold whole, and models blind to sample order agree."""
    models, sizes = ["knn", "naive_bayes", "weighted_voting"], (0.4, 0.7, 1.0)
    curves = learning_curves(golub, models, train_sizes=sizes, cv_folds=2, random_state=3).set_index(
        ["model", "set"]
    )
    y = encode_labels(golub.y_train, golub.classes).to_numpy()
    for name in models:
        n, train, test = learning_curve(
            make_pipeline(name, random_state=3, **protocol_settings("seed")), golub.X_train.to_numpy(), y,
            train_sizes=np.array(sizes), cv=stratified_folds(2, 3), shuffle=True, random_state=3,
        )  # fmt: skip
        for label, scores in (("training", train), ("cross-validation", test)):
            ours = curves.loc[(name, label)]
            assert ours["n_train"].tolist() == n.tolist()
            assert np.allclose(ours["mean"], scores.mean(axis=1)), (name, label)


def test_evaluation_displays_as_its_table(seed: Evaluation) -> None:
    assert seed._repr_html_() == seed.table._repr_html_()
    assert "protocol='seed'" in repr(seed)


def test_identical_predictions_groups_models_that_agree_everywhere(seed: Evaluation) -> None:
    groups = identical_predictions(seed)
    for group in groups:
        first = seed.predictions[group[0]]
        assert all(seed.predictions[m].equals(first) for m in group[1:])
    grouped = {m for g in groups for m in g}
    others = [m for m in seed.predictions.columns if m not in grouped]
    assert seed.predictions[others].T.drop_duplicates().shape[0] == len(others), "ungrouped models all differ"
    # The seed's four tree-based winners are one rule: a split on zyxin.
    assert ["decision_tree", "adaboost", "gradient_boosting", "xgboost"] in groups


def test_gene_importance_names_the_split_gene(golub: GolubData) -> None:
    table = gene_importance(golub, ["decision_tree", "knn", "random_forest"])
    assert set(table["model"]) == {"decision_tree", "random_forest"}, "k-NN has no importances"
    tree = table[table["model"] == "decision_tree"]
    assert tree["gene"].tolist() == ["X95735_at"] and tree["share"].iloc[0] == pytest.approx(1.0)
    forest = table[table["model"] == "random_forest"]
    assert len(forest) > 5 and forest["share"].is_monotonic_decreasing and (forest["share"] >= 0.01).all()


def test_protocol_summary_labels_every_row_with_what_chose_it(golub: GolubData, seed: Evaluation) -> None:
    from leukemia.evaluate import (
        CHOSEN_ON_TEST,
        CHOSEN_ON_TRAINING,
        FIXED_IN_ADVANCE,
        NESTED_CV,
        protocol_summary,
    )
    from leukemia.honest import NestedEstimate, SearchSpace

    space = SearchSpace(preprocessing=("none",), selectors=("signal_to_noise",), ks=(10, 50), models=("knn",))
    honest = evaluate_models(golub, "honest", space=space)
    nested = NestedEstimate(30, 38, 30 / 38, 0.6, 0.9, 0.8, 0.1, 0.6, 1.0)
    summary = protocol_summary(seed, honest, nested, each_model=True, labels={"knn": "k-NN"})
    table = seed.table.set_index("model")
    assert list(summary["chosen_on"]).count(FIXED_IN_ADVANCE) == len(table)
    by_test = summary[summary["chosen_on"] == CHOSEN_ON_TEST].iloc[0]
    assert by_test["n_correct"] == table["n_correct"].max(), "the test-set choice is the top test count"
    by_cv = summary[summary["chosen_on"] == CHOSEN_ON_TRAINING].iloc[0]
    assert by_cv["n_correct"] == table.loc[table["cv_accuracy"].idxmax(), "n_correct"]
    assert summary.iloc[-1]["chosen_on"] == NESTED_CV and summary.iloc[-1]["n_test"] == 38
    assert "seed protocol: k-NN" in summary.index, "display names used"
    assert {f"seed protocol: {m}" for m in table.index if m != "knn"} < set(summary.index), "else model names"
    assert f"honest protocol ({honest.choice.describe()})" in summary.index
    unchosen = protocol_summary(seed, replace(honest, choice=None), nested)
    assert "honest protocol" in unchosen.index
    by_name = protocol_summary(seed, honest, nested, labels={}).index
    assert by_name[0] == f"seed protocol, best by test accuracy ({table['accuracy'].idxmax()})"
    assert by_name[1] == f"seed protocol, best by CV accuracy ({table['cv_accuracy'].idxmax()})"
    shout = {m: m.upper() for m in table.index}  # every model has a display name
    by_test, by_cv = table["accuracy"].idxmax(), table["cv_accuracy"].idxmax()
    assert protocol_summary(seed, honest, nested, labels=shout).index.tolist() == [
        f"seed protocol, best by test accuracy ({by_test.upper()})",
        f"seed protocol, best by CV accuracy ({by_cv.upper()})",
        f"honest protocol ({honest.choice.describe()})",
        "nested CV of the honest protocol (training set, pooled)",
    ]
    assert (summary["ci_low"] <= summary["accuracy"]).all() and (
        summary["accuracy"] <= summary["ci_high"]
    ).all()
    published = protocol_summary(seed, honest, nested, published=seed, labels={"knn": "k-NN"})
    others = [m for m in table.index if m != "knn"]
    assert {
        "Golub's genes, k-NN (project defaults, untuned)",
        *(f"Golub's genes, {m} (project defaults, untuned)" for m in others),
    } <= set(published.index), "models other than weighted voting are not Golub's own"
    assert len(protocol_summary(seed, honest, nested)) == 4, (
        "without each model: the three choices and nested CV"
    )


def test_identical_predictions_by_hand() -> None:
    predictions = pd.DataFrame(
        {
            "a": list("xyx"),
            "b": list("xyx"),
            "c": list("yyx"),
            "d": list("yyx"),
            "e": list("yyx"),
            "f": list("xxx"),
        }
    )
    evaluation = Evaluation(
        table=pd.DataFrame(), predictions=predictions, scores=predictions, y_test=pd.Series(list("xyx")),
        protocol="seed",
    )  # fmt: skip
    assert identical_predictions(evaluation) == [["a", "b"], ["c", "d", "e"]]


def test_gene_importance_is_each_fitted_models_share(golub: GolubData) -> None:
    settings = {
        "preprocessing": "dudoit",
        "selector": "signal_to_noise",
        "k": 20,
    }  # the filter changes the genes
    table = gene_importance(
        golub, ["random_forest", "decision_tree"], min_share=0.0, random_state=3, **settings
    )
    assert table["model"].unique().tolist() == ["random_forest", "decision_tree"], "in the order given"
    assert table.index.tolist() == list(range(len(table)))
    y = encode_labels(golub.y_train, golub.classes)
    forest = make_pipeline("random_forest", random_state=3, **settings).fit(golub.X_train.to_numpy(), y)
    share = forest.named_steps["model"].feature_importances_
    kept = golub.X_train.columns[forest[0].support_]  # Dudoit's filter first drops genes
    genes = kept[forest.named_steps["select"].get_support()]
    assert len(kept) < golub.X_train.shape[1]
    expected = pd.Series(share / share.sum(), index=genes).sort_values(ascending=False, kind="stable")
    got = table[table["model"] == "random_forest"].set_index("gene")["share"]
    pd.testing.assert_series_equal(got, expected, check_names=False)
    # A share equal to min_share is kept: the tree's single split gene holds all of its importance.
    tree = gene_importance(golub, ["decision_tree"], min_share=1.0, **settings)
    assert len(tree) == 1 and tree["share"].iloc[0] == 1.0
    empty = gene_importance(golub, ["knn"])
    assert empty.empty and empty.columns.tolist() == ["model", "gene", "share"]


def test_learning_curves_stop_at_the_largest_training_part(golub: GolubData) -> None:
    import inspect

    curves = learning_curves(golub, ["knn"], train_sizes=(0.5, 1.5, 1.0, 0.51), cv_folds=3)
    assert curves.index.tolist() == list(range(len(curves)))
    # 3 folds train on 25, 25, 26: half is 12, 12, 13 (0.51 gives the same and is dropped); 1.5 counts as 1
    assert sorted(curves["n_train"].unique()) == pytest.approx([37 / 3, 76 / 3])
    assert inspect.signature(learning_curves).parameters["cv_folds"].default == 5


def _hand_evaluation() -> Evaluation:
    """Four test samples, three models: a and b each wrong once (on different samples), c always right."""
    y_test = pd.Series(list("xyxy"), index=["p4", "p2", "p3", "p1"], name="cancer")
    predictions = pd.DataFrame({"a": list("yyxy"), "b": list("xyxx"), "c": list("xyxy")}, index=y_test.index)
    return Evaluation(
        table=pd.DataFrame(), predictions=predictions, scores=predictions, y_test=y_test, protocol="seed"
    )


def test_correct_errors_and_mcnemar_by_hand() -> None:
    evaluation = _hand_evaluation()
    correct = evaluation.correct()
    assert correct.to_dict("list") == {
        "a": [False, True, True, True], "b": [True, True, True, False], "c": [True] * 4
    }  # fmt: skip
    errors = errors_by_sample(evaluation)
    assert errors.index.tolist() == ["p1", "p4"], "one model wrong on each: by sample"
    pairs = mcnemar_pairs(evaluation)
    assert pairs.columns.tolist() == ["first", "second", "only_first_right", "only_second_right", "pvalue"]
    assert pairs.index.tolist() == [0, 1, 2]
    # All three p-values are 1 (one discordant sample at most): the pairs keep their order.
    assert list(zip(pairs["first"], pairs["second"], strict=True)) == [("a", "b"), ("a", "c"), ("b", "c")]
    assert pairs[["only_first_right", "only_second_right"]].to_numpy().tolist() == [[1, 1], [0, 1], [0, 1]]
    matrix = mcnemar_table(evaluation)
    assert matrix.index.name == "model" and matrix.columns.tolist() == ["a", "b", "c"]


def test_mcnemar_pairs_with_equal_p_values_keep_their_order() -> None:
    from leukemia.stats import mcnemar_exact

    # Model i is wrong on the first i of 12 samples: pairs with the same |i − j| share a p-value.
    predictions = pd.DataFrame({f"m{i}": ["y"] * i + ["x"] * (12 - i) for i in range(7)})
    evaluation = Evaluation(
        table=pd.DataFrame(), predictions=predictions, scores=predictions, y_test=pd.Series(["x"] * 12),
        protocol="seed",
    )  # fmt: skip
    pairs = mcnemar_pairs(evaluation)
    names = list(predictions.columns)
    generated = [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]
    pvalue = {
        (a, b): mcnemar_exact(predictions[a].eq("x").to_numpy(), predictions[b].eq("x").to_numpy()).pvalue
        for a, b in generated
    }
    expected = sorted(generated, key=lambda pair: pvalue[pair])  # Python's sort is stable
    assert list(zip(pairs["first"], pairs["second"], strict=True)) == expected
    assert pairs.index.tolist() == list(range(len(expected))), "renumbered after sorting"
    one = replace(evaluation, predictions=predictions[["m0"]], scores=predictions[["m0"]])
    assert mcnemar_pairs(one).empty and mcnemar_pairs(one).columns.tolist() == list(pairs.columns)


def test_evaluate_models_builds_every_model_with_the_seed(
    golub: GolubData, golub_genes, monkeypatch: pytest.MonkeyPatch
) -> None:
    from leukemia import evaluate

    seeds: list[object] = []
    factory = evaluate.make_pipeline
    monkeypatch.setattr(
        evaluate,
        "make_pipeline",
        lambda name, **kw: seeds.append(kw.get("random_state")) or factory(name, **kw),
    )
    small = golub_genes(300)
    evaluate_models(small, "seed", models=["random_forest", "knn"], random_state=7)
    assert seeds == [7, 7]


@pytest.mark.parametrize("n_classes", [2, 3])
def test_training_accuracy_and_scores_are_the_fitted_pipelines(n_classes: int, tmp_path) -> None:
    """Each model's training accuracy and test scores equal a plain pipeline fitted on the training set."""
    from leukemia.spec import load_dataset
    from leukemia.synthetic import make_study, write_study

    X, y = make_study(60, 45, n_classes, n_informative=6, effect=0.8, random_state=n_classes)
    data = load_dataset(write_study(tmp_path, X, y))
    models = ["logistic_regression", "knn", "naive_bayes"]  # decision function, probabilities, both
    settings = {"preprocessing": "standard", "selector": "f_test", "k": 10}
    evaluation = evaluate_models(data, "seed", models=models, **settings)
    table = evaluation.table.set_index("model")
    y_train = encode_labels(data.y_train, data.classes).to_numpy()
    for name in models:
        pipeline = make_pipeline(name, **settings).fit(data.X_train.to_numpy(), y_train)
        trained = (pipeline.predict(data.X_train.to_numpy()) == y_train).mean()
        assert table.loc[name, "train_accuracy"] == pytest.approx(trained)
        X_test = data.X_test.to_numpy()
        predicted = pipeline.predict(X_test)
        if hasattr(pipeline, "decision_function"):
            score = pipeline.decision_function(X_test)
        else:
            score = pipeline.predict_proba(X_test)
            score = score[:, 1] if n_classes == 2 else score
        if n_classes > 2:  # the score of the class called
            score = score[np.arange(len(predicted)), predicted]
        np.testing.assert_allclose(evaluation.scores[name].to_numpy(), score)
    assert evaluation.scores.index.equals(data.y_test.index)


class CallsOnly(ClassifierMixin, BaseEstimator):
    """A classifier with neither decision_function nor predict_proba: nearest centroid, calls only."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        self.centroids_ = np.stack([np.asarray(X)[y == c].mean(axis=0) for c in self.classes_])
        return self

    def predict(self, X):
        distances = ((np.asarray(X)[:, None, :] - self.centroids_[None]) ** 2).sum(axis=2)
        return self.classes_[distances.argmin(axis=1)]


def test_a_model_without_scores_gets_empty_scores(tmp_path) -> None:
    from leukemia.honest import SearchSpace
    from leukemia.spec import load_dataset
    from leukemia.synthetic import make_study, write_study

    X, y = make_study(60, 45, 2, n_informative=6, effect=0.8)
    data = load_dataset(write_study(tmp_path, X, y))
    space = SearchSpace(preprocessing=("standard",), selectors=("f_test",), ks=(10,), models=(CallsOnly(),))
    evaluation = evaluate_models(data, "honest", space=space)
    assert evaluation.scores.shape == (len(data.y_test), 1) and evaluation.scores.isna().all().all()
    assert np.isnan(evaluation.table["roc_auc"].iloc[0])
    assert (evaluation.scores.dtypes == "float64").all()


def test_evaluate_models_records_its_protocol_settings_and_seed(
    golub: GolubData, golub_genes, monkeypatch: pytest.MonkeyPatch
) -> None:
    import inspect

    from leukemia import evaluate
    from leukemia.honest import SearchSpace

    small = golub_genes(300)
    fixed = evaluate_models(
        small, "seed", models=["knn"], selector="signal_to_noise", k=7, cv_folds=3, random_state=7
    )
    assert fixed.protocol == "seed" and fixed.settings == protocol_settings(
        "seed", selector="signal_to_noise", k=7
    )
    assert fixed.settings["selector"] == "signal_to_noise" and fixed.settings["k"] == 7
    assert fixed.table["protocol"].tolist() == ["seed"]
    assert fixed.table["chosen_on"].tolist() == ["fixed in advance (seed protocol)"]
    y = encode_labels(small.y_train, small.classes).to_numpy()
    pipeline = make_pipeline("knn", random_state=7, **fixed.settings)
    cv = cross_val_score(pipeline, small.X_train.to_numpy(), y, cv=stratified_folds(3, 7))
    assert fixed.table["cv_accuracy"].iloc[0] == pytest.approx(cv.mean())
    assert inspect.signature(evaluate_models).parameters["cv_folds"].default == 5
    assert protocol_settings("seed", selector="signal_to_noise")["selector"] == "signal_to_noise"

    seeds: list[object] = []
    choose, pipeline_of = evaluate.choose_configuration, SearchSpace.pipeline
    monkeypatch.setattr(
        evaluate,
        "choose_configuration",
        lambda d, s, **kw: seeds.append(kw["random_state"]) or choose(d, s, **kw),
    )
    monkeypatch.setattr(
        SearchSpace, "pipeline", lambda self, c, r=42: seeds.append(r) or pipeline_of(self, c, r)
    )
    space = SearchSpace(
        preprocessing=("none",), selectors=("f_test",), ks=(5, 10), models=("knn",), cv_folds=3
    )
    honest = evaluate_models(small, "honest", space=space, random_state=7)
    assert seeds == [7, 7]
    assert honest.settings == honest.choice.settings and honest.protocol == "honest"
    assert honest.table["chosen_on"].tolist() == ["training data only (repeated CV)"]
    with pytest.raises(
        ValueError,
        match=r"^the honest protocol chooses the model and its settings; set the choices with space=\.$",
    ):
        evaluate_models(small, "honest", models=["knn"])


def test_fold_defaults_are_what_they_say(golub: GolubData, golub_genes) -> None:
    """A call that leaves cv_folds out equals one that passes the documented 5."""
    small = golub_genes(200)
    pd.testing.assert_frame_equal(
        evaluate_models(small, "seed", models=["knn"]).table,
        evaluate_models(small, "seed", models=["knn"], cv_folds=5).table,
    )
    pd.testing.assert_frame_equal(
        learning_curves(small, ["knn"], train_sizes=(0.5, 1.0)),
        learning_curves(small, ["knn"], train_sizes=(0.5, 1.0), cv_folds=5),
    )


def test_two_folds_are_enough(golub: GolubData, golub_genes) -> None:
    small = golub_genes(200)
    assert len(evaluate_models(small, "seed", models=["knn"], cv_folds=2).table) == 1
    with pytest.raises(
        ValueError, match=r"cv_folds must be between 2 and the smallest training class \(11\), got 1"
    ):
        evaluate_models(small, "seed", models=["knn"], cv_folds=1)


def test_protocol_summary_calls_only_weighted_voting_golubs_protocol(seed: Evaluation) -> None:
    """Shrinkage 1.0 and the elastic net's C = 1, l1 ratio 0.5 are this project's untuned defaults."""
    from leukemia.evaluate import FIXED_IN_ADVANCE, PROJECT_DEFAULTS, protocol_summary
    from leukemia.honest import NestedEstimate
    from leukemia.models import MODEL_LABELS
    from leukemia.plotting import CHOICE_COLORS

    models = ["weighted_voting", "nearest_shrunken_centroids", "elastic_net"]
    golub = replace(seed, table=seed.table.head(3).assign(model=models))
    nested = NestedEstimate(30, 38, 30 / 38, 0.6, 0.9, 0.8, 0.1, 0.6, 1.0)
    summary = protocol_summary(seed, seed, nested, published=golub, labels=MODEL_LABELS)
    rows = summary.iloc[:3]
    assert rows.index.tolist() == [
        "Golub's protocol: Weighted voting (Golub)",
        "Golub's genes, Nearest shrunken centroids (project defaults, untuned)",
        "Golub's genes, Elastic-net logistic (project defaults, untuned)",
    ]
    assert rows["chosen_on"].tolist() == [FIXED_IN_ADVANCE, PROJECT_DEFAULTS, PROJECT_DEFAULTS]
    assert rows["n_correct"].tolist() == seed.table["n_correct"].head(3).tolist()
    assert set(summary["chosen_on"]) <= set(CHOICE_COLORS), "every label has its colour in the figure"


def test_models_at_the_majority_class_floor_are_found_on_the_test_set_and_in_cv() -> None:
    from leukemia.dataset import majority_class
    from leukemia.evaluate import at_majority_floor

    y_train = pd.Series(["a"] * 6 + ["b"] * 4)
    y_test = pd.Series(["a"] * 3 + ["b"] * 2)  # always "a": 0.6 on both
    table = pd.DataFrame(
        {"accuracy": [0.6, 0.8, 1.0, 0.4], "cv_accuracy": [0.9, 0.6, 0.95, 0.9]}, index=["p", "q", "r", "s"]
    )
    found = at_majority_floor(table, y_train, y_test)
    assert list(found.index) == ["p", "q", "s"], "at the test floor, at the CV floor, below the test floor"
    assert (found["test_floor"] == 0.6).all() and (found["cv_floor"] == 0.6).all()
    assert at_majority_floor(table.loc[["r"]], y_train, y_test).empty
    tied = pd.Series(pd.Categorical(["b", "a", "b", "a"], categories=["b", "a"], ordered=True))
    assert majority_class(tied) == "b", "a tie goes to the first class in class order"
    assert majority_class(pd.Series(["b", "a", "a", "b"])) == "a", "sorted order without categories"


def test_accuracy_by_value_counts_each_value_of_a_flagged_annotation() -> None:
    from leukemia.evaluate import accuracy_by_value, within_mixed_values

    y = pd.Series(["a", "a", "b", "b", "b"], index=list("pqrst"))
    predicted = np.array(["a", "b", "b", "b", "a"])
    annotations = pd.DataFrame({"batch": ["1", "1", "2", "2", "1"], "sex": ["F"] * 5}, index=y.index)
    table = accuracy_by_value(y, predicted, annotations, ["batch"])
    assert table.loc[("batch", "1")].to_dict() == {
        "n_test": 3, "classes": "a 2, b 1", "n_classes": 2, "n_correct": 1, "accuracy": pytest.approx(1 / 3)
    }  # fmt: skip
    assert table.loc[("batch", "2"), "n_correct"] == 2 and list(table.index.names) == ["column", "value"]
    # only batch 1 holds both classes: its 3 samples, 1 called right, can show the classes told apart
    both = accuracy_by_value(y, predicted, annotations, ["batch", "sex"])
    assert within_mixed_values(both).to_dict("index") == {
        "batch": {"n_test": 5, "n_mixed": 3, "n_mixed_correct": 1},
        "sex": {"n_test": 5, "n_mixed": 5, "n_mixed_correct": 3},
    }
    assert accuracy_by_value(y, predicted, annotations, []).empty
    assert accuracy_by_value(y, predicted, None, ["batch"]).empty

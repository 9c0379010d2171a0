"""leukemia.honest: the chooser sees training data only, matches naive CV, and the lessons hold."""

from __future__ import annotations

import inspect
from dataclasses import replace

import numpy as np
import pytest
from sklearn.model_selection import RepeatedStratifiedKFold, cross_val_score

from leukemia.data import GolubData, encode_labels
from leukemia.evaluate import evaluate_models
from leukemia.honest import (
    SearchSpace,
    abstention,
    choose_configuration,
    cv_scores,
    nested_cv,
    selection_bias,
)
from leukemia.models import make_pipeline

SMALL = SearchSpace(
    preprocessing=("none", "dudoit"),
    selectors=("f_test", "signal_to_noise"),
    ks=(5, 20),
    models=("weighted_voting", "knn"),
    n_splits=3,
    n_repeats=1,
)


def test_fast_scores_equal_naive_pipeline_cv(golub: GolubData) -> None:
    fast = cv_scores(golub.X_train, golub.y_train, SMALL)
    y = encode_labels(golub.y_train)
    for row in fast.itertuples():
        folds = RepeatedStratifiedKFold(n_splits=3, n_repeats=1, random_state=42)
        pipeline = make_pipeline(row.model, preprocessing=row.preprocessing, selector=row.selector, k=row.k)
        naive = cross_val_score(pipeline, golub.X_train, y, cv=folds)
        assert row.cv_accuracy == pytest.approx(naive.mean())
        assert row.cv_std == pytest.approx(naive.std())


def test_chooser_takes_training_data_only() -> None:
    parameters = list(inspect.signature(choose_configuration).parameters)
    assert parameters == ["X_train", "y_train", "space", "random_state", "n_jobs"]


def test_choice_ignores_the_test_set(golub: GolubData) -> None:
    rng = np.random.default_rng(0)
    scrambled = replace(
        golub,
        X_test=golub.X_test.apply(lambda column: rng.normal(size=len(column))),
        y_test=golub.y_test.sample(frac=1, random_state=1).set_axis(golub.y_test.index),
    )
    first = evaluate_models(golub, "honest", space=SMALL)
    second = evaluate_models(scrambled, "honest", space=SMALL)
    assert first.choice.configuration == second.choice.configuration
    assert first.table.loc[0, "cv_accuracy"] == second.table.loc[0, "cv_accuracy"]
    assert first.table.loc[0, "chosen_on"] == "training data only (repeated CV)"


def test_choice_is_the_best_cv_score_with_documented_ties(golub: GolubData) -> None:
    choice = choose_configuration(golub.X_train, golub.y_train, SMALL)
    best = choice.scores.iloc[0]
    assert best["cv_accuracy"] == choice.scores["cv_accuracy"].max()
    tied = choice.scores[choice.scores["cv_accuracy"] == best["cv_accuracy"]]
    assert best["cv_std"] == tied["cv_std"].min()
    assert choice.configuration["model"] == best["model"]
    assert "genes after" in choice.describe()


def test_honest_protocol_refuses_overrides(golub: GolubData) -> None:
    with pytest.raises(ValueError, match="chooses the model"):
        evaluate_models(golub, "honest", models=["knn"], space=SMALL)


def test_search_space_validation() -> None:
    with pytest.raises(ValueError, match=r"unknown model \['svm'\]"):
        SearchSpace(models=("svm",))
    with pytest.raises(ValueError, match="ks must be"):
        SearchSpace(ks=(0,))
    assert len(SMALL.configurations()) == 2 * 2 * 2 * 2


def test_nested_cv_rows(golub: GolubData) -> None:
    result = nested_cv(golub.X_train, golub.y_train, SMALL, outer_splits=3)
    assert len(result) == 3
    assert result["n_test"].sum() == 38
    assert result["accuracy"].between(0, 1).all()
    assert set(result.columns) >= {"preprocessing", "selector", "k", "model"}


def test_selection_bias_lesson(golub: GolubData) -> None:
    result = selection_bias(golub.X_train, golub.y_train, n_permutations=6)
    inside = result["genes chosen inside CV"].mean()
    before = result["genes chosen before CV"].mean()
    assert 0.35 <= inside <= 0.65, "on permuted labels an honest CV estimate is at chance"
    assert before >= 0.75, "choosing genes before CV looks far better than chance"


def test_abstention(golub: GolubData) -> None:
    settings = {"preprocessing": "none", "selector": "signal_to_noise", "k": 50}
    table = abstention(
        golub.X_train, golub.y_train, golub.X_test, golub.y_test, ["weighted_voting", "linear_svm"], settings
    )
    assert table["model"].tolist() == ["weighted_voting"]  # the SVM has no predict_proba
    row = table.iloc[0]
    assert row["test_confident"] + row["test_uncertain"] == 34
    assert 0 <= row["threshold"] < 1
    assert row["train_confident_correct"] == row["train_confident"]  # the threshold's own criterion


def test_search_space_takes_estimators_and_names_them(golub: GolubData) -> None:
    from sklearn.neighbors import KNeighborsClassifier, NearestCentroid
    from sklearn.pipeline import make_pipeline as chain
    from sklearn.preprocessing import StandardScaler

    from leukemia.preprocessing import DudoitFilter

    space = SearchSpace(
        preprocessing=("standard", chain(DudoitFilter(), StandardScaler())),
        selectors=("f_test",),
        ks=(10,),
        models=(KNeighborsClassifier(3), NearestCentroid(), "weighted_voting"),
        n_splits=3,
        n_repeats=1,
    )
    assert space.preprocessing_labels == ("standard", "DudoitFilter()+StandardScaler()")
    labels = ("KNeighborsClassifier(n_neighbors=3)", "NearestCentroid()", "weighted_voting")
    assert space.model_labels == labels
    scores = cv_scores(golub.X_train, golub.y_train, space)
    y = encode_labels(golub.y_train)
    for row in scores.itertuples():
        pipeline = space.pipeline(row._asdict())
        assert pipeline.steps[-1][1] is not space.models[space.model_labels.index(row.model)], "a clone"
        naive = cross_val_score(pipeline, golub.X_train, y, cv=space.folds())
        assert row.cv_accuracy == naive.mean()


def test_search_space_refuses_repeated_or_unusable_options() -> None:
    from sklearn.neighbors import KNeighborsClassifier

    with pytest.raises(ValueError, match="the model options repeat one another"):
        SearchSpace(models=(KNeighborsClassifier(3), KNeighborsClassifier(3)))
    with pytest.raises(ValueError, match="unknown model"):
        SearchSpace(models=(object(),))
    with pytest.raises(ValueError, match="unknown preprocessing"):
        SearchSpace(preprocessing=(KNeighborsClassifier(),))


def test_honest_protocol_takes_a_space_of_estimators(golub: GolubData) -> None:
    from sklearn.neighbors import KNeighborsClassifier, NearestCentroid

    space = SearchSpace(
        preprocessing=("standard",), selectors=("f_test",), ks=(10, 50),
        models=(KNeighborsClassifier(3), NearestCentroid()), n_splits=3, n_repeats=1,
    )  # fmt: skip
    honest = evaluate_models(golub, "honest", space=space)
    row = honest.table.iloc[0]
    assert row["model"] == honest.choice.configuration["model"]
    assert row["model"] in space.model_labels and row["n_test"] == 34
    assert list(honest.predictions.columns) == [row["model"]]

"""leukemia.honest: the chooser sees training data only, matches naive CV, and the lessons hold."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold, cross_val_score

from leukemia.data import GolubData, encode_labels
from leukemia.evaluate import evaluate_models
from leukemia.honest import (
    SearchSpace,
    abstention,
    choose_configuration,
    clean_threshold,
    cv_scores,
    inner_fold_count,
    nested_cv,
    nested_summary,
    selection_bias,
)
from leukemia.models import make_pipeline

SMALL = SearchSpace(
    preprocessing=("none", "dudoit"),
    selectors=("f_test", "signal_to_noise"),
    ks=(5, 20),
    models=("weighted_voting", "knn"),
    cv_folds=3,
    cv_repeats=1,
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


@pytest.fixture(scope="module")
def scrambled(golub: GolubData) -> GolubData:
    """The Golub data with noise for test values and shuffled test labels; the training set untouched."""
    rng = np.random.default_rng(0)
    return replace(
        golub,
        X_test=golub.X_test.apply(lambda column: rng.normal(size=len(column))),
        y_test=golub.y_test.sample(frac=1, random_state=1).set_axis(golub.y_test.index),
    )


def test_choosing_nested_cv_and_selection_bias_read_training_samples_only(
    golub: GolubData, scrambled: GolubData
) -> None:
    """They take the whole data set; nothing they return may change when the test samples do."""
    assert (
        choose_configuration(golub, SMALL).configuration
        == choose_configuration(scrambled, SMALL).configuration
    )
    pd.testing.assert_frame_equal(
        nested_cv(golub, SMALL, outer_folds=3), nested_cv(scrambled, SMALL, outer_folds=3)
    )
    pd.testing.assert_frame_equal(
        selection_bias(golub, n_permutations=2), selection_bias(scrambled, n_permutations=2)
    )


def test_choice_ignores_the_test_set(golub: GolubData, scrambled: GolubData) -> None:
    first = evaluate_models(golub, "honest", space=SMALL)
    second = evaluate_models(scrambled, "honest", space=SMALL)
    assert first.choice.configuration == second.choice.configuration
    assert first.table.loc[0, "cv_accuracy"] == second.table.loc[0, "cv_accuracy"]
    assert first.table.loc[0, "chosen_on"] == "training data only (repeated CV)"


def test_choice_is_the_best_cv_score_with_documented_ties(golub: GolubData) -> None:
    choice = choose_configuration(golub, SMALL)
    best = choice.scores.iloc[0]
    assert best["cv_accuracy"] == choice.scores["cv_accuracy"].max()
    tied = choice.scores[choice.scores["cv_accuracy"] == best["cv_accuracy"]]
    assert best["cv_std"] == tied["cv_std"].min()
    assert choice.configuration["model"] == best["model"]
    assert "genes after" in choice.describe()


def test_ties_go_to_the_smaller_sd_then_the_smaller_k_then_the_earlier_entry() -> None:
    """The documented rule, on hand-made score tables: highest mean CV accuracy; among equal means the
    smaller SD over the folds; then fewer genes; then the configuration listed first in the space."""
    from leukemia.honest import _best

    def table(*rows: tuple[str, int, float, float]) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {"preprocessing": "p", "selector": "s", "model": m, "k": k, "cv_accuracy": a, "cv_std": sd}
                for m, k, a, sd in rows
            ]
        )

    assert (
        _best(table(("a", 10, 0.9, 0.05), ("b", 10, 0.9, 0.02), ("c", 10, 0.8, 0.0))).configuration["model"]
        == "b"
    )
    assert (
        _best(table(("a", 50, 0.9, 0.02), ("b", 10, 0.9, 0.02), ("c", 20, 0.9, 0.02))).configuration["model"]
        == "b"
    )
    first = _best(table(("b", 10, 0.9, 0.02), ("a", 10, 0.9, 0.02), ("c", 10, 0.9, 0.02)))
    assert first.configuration["model"] == "b", "a full tie goes to the earlier entry, not the name"
    assert first.scores["model"].tolist() == ["b", "a", "c"]
    assert list(first.scores.columns) == ["preprocessing", "selector", "model", "k", "cv_accuracy", "cv_std"]
    assert first.scores.index.tolist() == [0, 1, 2], "renumbered from the best, no helper column left"
    ranked = _best(table(("a", 10, 0.8, 0.0), ("b", 10, 0.95, 0.1), ("c", 10, 0.9, 0.0))).scores
    assert ranked["model"].tolist() == ["b", "c", "a"], "the scores come back ranked, best first"


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
    result = nested_cv(golub, SMALL, outer_folds=3)
    assert len(result) == 3
    assert result["n_test"].sum() == 38
    assert (result["accuracy"] == result["n_correct"] / result["n_test"]).all()
    assert set(result.columns) >= {"preprocessing", "selector", "k", "model"}


def test_nested_cv_equals_a_plain_scikit_learn_nested_loop(golub: GolubData) -> None:
    """Same outer folds => the same inner choices and the same outer predictions as the obvious loop."""
    X = golub.X_train.iloc[:, :800]  # a slice of the genes keeps the plain loop quick
    y = golub.y_train
    shuffled = y.sample(frac=1, random_state=0)  # labels are matched to samples by index
    fast = nested_cv(replace(golub, X_train=X, y_train=shuffled), SMALL, outer_folds=3, random_state=7)
    assert fast["fold"].tolist() == [0, 1, 2]
    outer = StratifiedKFold(n_splits=3, shuffle=True, random_state=7)
    for fold, (train, test) in enumerate(outer.split(X, y)):
        X_in, y_in = X.iloc[train].to_numpy(), encode_labels(y.iloc[train]).to_numpy()
        scored = []
        for position, row in enumerate(SMALL.configurations().itertuples(index=False)):
            configuration = row._asdict()
            accuracy = cross_val_score(SMALL.pipeline(configuration), X_in, y_in, cv=SMALL.folds(7))
            scored.append((-accuracy.mean(), accuracy.std(), configuration["k"], position, configuration))
        chosen = min(scored, key=lambda entry: entry[:4])[
            4
        ]  # best mean, then smallest SD, fewest genes, first
        pipeline = SMALL.pipeline(chosen).fit(X.iloc[train].to_numpy(), y.iloc[train])
        correct = int((pipeline.predict(X.iloc[test].to_numpy()) == y.iloc[test].to_numpy()).sum())
        row = fast.iloc[fold]
        assert {key: row[key] for key in chosen} == chosen, f"outer fold {fold}: another configuration"
        assert (row["n_test"], row["n_correct"]) == (len(test), correct), f"outer fold {fold}"


def test_nested_summary_pools_the_outer_folds() -> None:
    nested = pd.DataFrame({"n_test": [8, 8, 7], "n_correct": [8, 7, 7], "accuracy": [1.0, 0.875, 1.0]})
    pooled = nested_summary(nested)
    assert (pooled.n_correct, pooled.n_test) == (22, 23)
    assert pooled.accuracy == pytest.approx(22 / 23)
    assert pooled.ci_low < pooled.accuracy < pooled.ci_high <= 1.0, "the pooled interval stays inside [0, 1]"
    assert pooled.fold_mean + pooled.fold_sd > 1.0, "where mean ± SD of the folds runs past 1"
    assert (pooled.fold_min, pooled.fold_max) == (0.875, 1.0)


def test_selection_bias_lesson(golub: GolubData) -> None:
    result = selection_bias(golub, n_permutations=6)
    pd.testing.assert_frame_equal(selection_bias(golub, n_permutations=6, n_jobs=2), result)  # same draws
    inside = result["genes chosen inside CV"].mean()
    before = result["genes chosen before CV"].mean()
    assert 0.35 <= inside <= 0.65, "on permuted labels an honest CV estimate is at chance"
    assert before >= 0.75, "choosing genes before CV looks far better than chance"


def test_abstention(golub: GolubData) -> None:
    settings = {"preprocessing": "none", "selector": "signal_to_noise", "k": 50}
    table = abstention(golub, ["weighted_voting", "linear_svm"], settings)
    pd.testing.assert_frame_equal(
        abstention(golub, ["weighted_voting", "linear_svm"], settings, n_jobs=2), table
    )
    assert table["model"].tolist() == ["weighted_voting"]  # the SVM has no predict_proba
    row = table.iloc[0]
    assert row["test_confident"] + row["test_uncertain"] == 34
    assert 0 <= row["threshold"] < 1
    assert row["train_confident_correct"] == row["train_confident"]  # the threshold's own criterion


def test_clean_threshold_is_the_rule_the_notebook_states() -> None:
    grid = np.round(np.arange(0, 1, 0.05), 2)
    confidence = np.array([0.9, 0.6, 0.42, 0.3, 0.1])
    correct = np.array([True, True, False, True, False])
    assert clean_threshold(confidence, correct, grid) == 0.45  # first grid value above the wrong call at 0.42
    assert clean_threshold(confidence, np.ones(5, bool), grid) == 0.0
    # A wrong call at the top confidence: nothing on the grid qualifies, and the rule says so.
    assert np.isnan(clean_threshold(np.array([1.0, 0.5]), np.array([False, True]), grid))
    # Every call below the first clean threshold: it qualifies, with no confident call left.
    assert clean_threshold(np.array([0.7, 0.3]), np.array([False, True]), grid) == 0.75


def test_abstention_leaves_models_without_a_qualifying_threshold_empty(golub: GolubData) -> None:
    settings = {"preprocessing": "standard", "selector": "signal_to_noise", "k": 200}
    table = abstention(golub, ["decision_tree", "weighted_voting"], settings).set_index("model")
    tree = table.loc["decision_tree"]
    assert pd.isna(tree["threshold"]), "a pure tree's wrong training calls have confidence 1"
    assert tree["train_max_wrong_confidence"] == 1.0
    assert tree[["train_confident", "test_confident", "test_uncertain"]].isna().all()
    voting = table.loc["weighted_voting"]
    assert (
        pd.isna(voting["train_max_wrong_confidence"])
        or voting["threshold"] > voting["train_max_wrong_confidence"]
    )


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
        cv_folds=3,
        cv_repeats=1,
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
        models=(KNeighborsClassifier(3), NearestCentroid()), cv_folds=3, cv_repeats=1,
    )  # fmt: skip
    honest = evaluate_models(golub, "honest", space=space)
    row = honest.table.iloc[0]
    assert row["model"] == honest.choice.configuration["model"]
    assert row["model"] in space.model_labels and row["n_test"] == 34
    assert list(honest.predictions.columns) == [row["model"]]


def test_inner_fold_count_is_what_nested_cv_uses() -> None:
    """CV_FOLDS unless an outer training part holds fewer samples of the smallest class; then that many."""
    y = pd.Series(["a"] * 30 + ["b"] * 6)
    assert inner_fold_count(y, outer_folds=3, cv_folds=5) == 4  # each outer training part keeps 4 of the 6 b
    assert inner_fold_count(y, outer_folds=3, cv_folds=3) == 3
    assert inner_fold_count(y, outer_folds=6, cv_folds=10) == 5
    with pytest.raises(
        ValueError,
        match=r"single sample of a class: too few for an inner cross-validation; use fewer outer folds\.$",
    ):
        inner_fold_count(pd.Series(["a"] * 30 + ["b"] * 2), outer_folds=2, cv_folds=5)


def test_nested_cv_reports_the_inner_folds_it_used(golub: GolubData) -> None:
    few_aml = golub.y_train.index[golub.y_train == "AML"][:4].union(
        golub.y_train.index[golub.y_train == "ALL"]
    )
    small = replace(
        golub, X_train=golub.X_train.loc[few_aml].iloc[:, :300], y_train=golub.y_train.loc[few_aml]
    )
    nested = nested_cv(small, SMALL, outer_folds=2)
    expected = inner_fold_count(small.y_train, outer_folds=2, cv_folds=SMALL.cv_folds)
    assert expected < SMALL.cv_folds and set(nested["inner_folds"]) == {expected}


def test_margin_confidence_by_hand() -> None:
    from leukemia.honest import margin_confidence

    two = np.array([[0.2, 0.8], [0.5, 0.5], [0.9, 0.1]])
    np.testing.assert_allclose(margin_confidence(two), [0.6, 0.0, 0.8])
    three = np.array([[0.5, 0.3, 0.2], [0.1, 0.45, 0.45]])
    np.testing.assert_allclose(margin_confidence(three), [0.2, 0.0])


def test_abstention_equals_a_plain_scikit_learn_computation(golub: GolubData) -> None:
    """Out-of-fold probabilities on the training set choose the threshold; the test set is then called."""
    from sklearn.model_selection import cross_val_predict

    from leukemia.dataset import stratified_folds
    from leukemia.honest import margin_confidence

    settings = {"preprocessing": "standard", "selector": "f_test", "k": 10}
    models = ["knn", "weighted_voting", "logistic_regression"]
    table = abstention(golub, models, settings, cv_folds=4, random_state=3).set_index("model")
    y_tr, y_te = encode_labels(golub.y_train).to_numpy(), encode_labels(golub.y_test).to_numpy()
    for name in models:
        pipeline = make_pipeline(name, random_state=3, **settings)
        folds = stratified_folds(4, 3)
        oof = cross_val_predict(pipeline, golub.X_train, y_tr, cv=folds, method="predict_proba")
        oof_call, oof_conf = oof.argmax(axis=1), margin_confidence(oof)
        threshold = clean_threshold(oof_conf, oof_call == y_tr)
        row = table.loc[name]
        wrong = oof_call != y_tr
        assert row["train_max_confidence"] == pytest.approx(oof_conf.max())
        assert row["train_max_wrong_confidence"] == pytest.approx(oof_conf[wrong].max())
        if np.isnan(threshold):  # here knn: a wrong out-of-fold call at confidence 1
            assert (
                pd.isna(row["threshold"])
                and row.drop(["train_max_confidence", "train_max_wrong_confidence", "converged"]).isna().all()
            )
            continue
        assert row["threshold"] == threshold
        assert row["train_confident"] == (oof_conf >= threshold).sum()
        assert row["train_confident_correct"] == (~wrong & (oof_conf >= threshold)).sum()
        proba = pipeline.fit(golub.X_train, y_tr).predict_proba(golub.X_test)
        confident = margin_confidence(proba) >= threshold
        right = (proba.argmax(axis=1) == y_te) & confident
        assert (row["test_confident"], row["test_uncertain"]) == (confident.sum(), (~confident).sum())
        assert row["test_confident_correct"] == right.sum()
        assert row["test_confident_accuracy"] == pytest.approx(right.sum() / confident.sum())
    assert table["threshold"].notna().sum() == 2, "the test covers the confident calls of two models"
    counts = ["train_confident", "train_confident_correct", "test_confident", "test_confident_correct"]
    assert (table[[*counts, "test_uncertain"]].dtypes == "Int64").all(), "counts, missing where no threshold"
    assert list(table.columns) == [
        "threshold", "train_max_confidence", "train_max_wrong_confidence", "train_confident",
        "train_confident_correct", "test_confident", "test_confident_correct", "test_uncertain",
        "test_confident_accuracy", "converged",
    ]  # fmt: skip
    assert table["converged"].all(), "every solver converged here, and none printed a warning"


def test_parse_search_space_reads_every_list() -> None:
    from leukemia.honest import parse_search_space

    space = parse_search_space(" none, dudoit ", "f_test", "10, 50,", "knn", cv_folds=4, cv_repeats=3)
    assert (space.preprocessing, space.selectors, space.ks, space.models) == (
        ("none", "dudoit"), ("f_test",), (10, 50), ("knn",)
    )  # fmt: skip
    assert (space.cv_folds, space.cv_repeats) == (4, 3)
    with pytest.raises(ValueError, match=r"ks must be comma-separated whole numbers, got '10, five'"):
        parse_search_space("none", "f_test", "10, five", "knn")


def test_a_permutation_of_the_selection_bias_lesson_uses_the_folds_it_is_given() -> None:
    from leukemia.honest import _one_permutation
    from leukemia.select import make_selector

    rng = np.random.default_rng(5)
    X = rng.normal(size=(24, 60))
    shuffled = rng.permutation(np.repeat([0, 1], 12))
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=8)
    got = _one_permutation(X, shuffled, folds, k=6)
    chosen = make_selector("signal_to_noise", 6).fit(X, shuffled).get_support()
    from leukemia.models import make_model

    before = cross_val_score(make_model("weighted_voting"), X[:, chosen], shuffled, cv=folds).mean()
    pipeline = make_pipeline("weighted_voting", preprocessing="none", selector="signal_to_noise", k=6)
    inside = cross_val_score(pipeline, X, shuffled, cv=folds).mean()
    assert got == {"genes chosen before CV": before, "genes chosen inside CV": inside}


def test_a_test_call_exactly_at_the_threshold_is_confident() -> None:
    """Separable training classes give threshold 0; a test sample at the class midpoint has margin 0."""
    from leukemia.dataset import Dataset, labels_of

    rng = np.random.default_rng(0)
    train = np.vstack([rng.normal(0, 1, (10, 3)), rng.normal(10, 1, (10, 3))])
    midpoint = (train[:10].mean(axis=0) + train[10:].mean(axis=0)) / 2
    test = np.vstack([midpoint, np.zeros(3), np.full(3, 10.0)])
    i_train, i_test = pd.Index([f"t{i}" for i in range(20)]), pd.Index(["mid", "low", "high"])
    data = Dataset(
        X_train=pd.DataFrame(train, index=i_train),
        y_train=labels_of(["A"] * 10 + ["B"] * 10, ("A", "B"), i_train),
        X_test=pd.DataFrame(test, index=i_test), y_test=labels_of(["A", "A", "B"], ("A", "B"), i_test),
        genes=pd.DataFrame({"description": [""] * 3}), classes=("A", "B"),
    )  # fmt: skip
    settings = {"preprocessing": "none", "selector": "signal_to_noise", "k": 3}
    row = abstention(data, ["weighted_voting"], settings, cv_folds=4).iloc[0]
    assert row["threshold"] == 0.0
    assert (row["test_confident"], row["test_uncertain"]) == (3, 0), "margin 0 ≥ threshold 0"


def test_estimators_are_described_on_one_line() -> None:
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline as sk_pipeline
    from sklearn.preprocessing import StandardScaler

    from leukemia.honest import describe_estimator

    assert describe_estimator(KNeighborsClassifier(n_neighbors=3)) == "KNeighborsClassifier(n_neighbors=3)"
    long = KNeighborsClassifier(n_neighbors=3, weights="distance", metric="manhattan", leaf_size=10, p=1)
    assert "\n" not in describe_estimator(long) and "  " not in describe_estimator(long)
    assert describe_estimator(long) == " ".join(str(long).split())
    pipeline = sk_pipeline(StandardScaler(), KNeighborsClassifier())
    assert describe_estimator(pipeline) == "StandardScaler()+KNeighborsClassifier()"


def test_the_seed_reaches_every_fit(golub: GolubData, golub_genes, monkeypatch: pytest.MonkeyPatch) -> None:
    """choose_configuration, nested_cv and abstention pass their random_state to the folds and the models."""
    from leukemia import honest

    seen: list[object] = []
    scores = honest.cv_scores
    monkeypatch.setattr(
        honest, "cv_scores", lambda *a, **kw: seen.append(kw["random_state"]) or scores(*a, **kw)
    )
    small = golub_genes(200)
    honest.choose_configuration(small, SMALL, random_state=7)
    assert seen == [7]
    pipeline = SearchSpace.pipeline
    monkeypatch.setattr(
        SearchSpace, "pipeline", lambda self, c, r=42: seen.append(("pipeline", r)) or pipeline(self, c, r)
    )
    honest.nested_cv(small, SMALL, outer_folds=2, random_state=7)
    assert ("pipeline", 7) in seen and ("pipeline", 42) not in seen
    made: list[object] = []
    factory = honest.make_pipeline
    monkeypatch.setattr(
        honest, "make_pipeline", lambda name, **kw: made.append(kw.get("random_state")) or factory(name, **kw)
    )
    settings = {"preprocessing": "none", "selector": "f_test", "k": 5}
    honest.abstention(small, ["random_forest"], settings, random_state=7)
    assert made[0] == 7


def test_documented_defaults() -> None:
    import inspect

    from leukemia.honest import parse_search_space

    assert inspect.signature(nested_cv).parameters["outer_folds"].default == 5
    assert inspect.signature(abstention).parameters["cv_folds"].default == 5
    space = parse_search_space("none", "f_test", "10", "knn")
    assert (space.cv_folds, space.cv_repeats) == (SearchSpace().cv_folds, SearchSpace().cv_repeats) == (5, 2)


def test_abstention_matches_labels_by_sample(golub: GolubData) -> None:
    settings = {"preprocessing": "none", "selector": "signal_to_noise", "k": 20}
    table = abstention(golub, ["weighted_voting"], settings)
    shuffled = replace(
        golub,
        y_train=golub.y_train.sample(frac=1, random_state=1),
        y_test=golub.y_test.sample(frac=1, random_state=2),
    )
    pd.testing.assert_frame_equal(abstention(shuffled, ["weighted_voting"], settings), table)


def test_search_space_refuses_each_bad_field_by_name() -> None:
    with pytest.raises(
        ValueError, match=r"unknown selector \['lasso'\]; choose from \['f_test', 'signal_to_noise'\]"
    ):
        SearchSpace(selectors=("lasso",))
    with pytest.raises(ValueError, match=r"the preprocessing options repeat one another: \['none', 'none'\]"):
        SearchSpace(preprocessing=("none", "none"))
    assert SearchSpace(ks=(1, 5)).ks == (1, 5), "one gene is a valid k"
    message = r"^cv_folds must be >= 2 and cv_repeats >= 1\.$"
    with pytest.raises(ValueError, match=message):
        SearchSpace(cv_folds=1)
    with pytest.raises(ValueError, match=message):
        SearchSpace(cv_repeats=0)


def test_search_space_seeds_and_copies_what_it_builds() -> None:
    from leukemia.preprocessing import DudoitFilter

    space = SearchSpace(
        preprocessing=(DudoitFilter(),), models=("random_forest",), selectors=("f_test",), ks=(5,)
    )
    configuration = space.configurations().iloc[0].to_dict()
    pipeline = space.pipeline(configuration, 7)
    assert pipeline[-1].random_state == 7
    assert pipeline[0] is not space.preprocessing[0] and isinstance(pipeline[0], DudoitFilter), "a clone"
    assert space.estimators(7)[1][0].random_state == 7


def test_every_fold_of_the_search_builds_its_models_with_the_seed(
    golub: GolubData, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeds: list[int] = []
    estimators = SearchSpace.estimators
    monkeypatch.setattr(SearchSpace, "estimators", lambda self, r=42: seeds.append(r) or estimators(self, r))
    cv_scores(golub.X_train.iloc[:, :100], golub.y_train, SMALL, random_state=7)
    assert seeds and set(seeds) == {7}


def test_cv_scores_match_labels_by_sample(golub: GolubData) -> None:
    X = golub.X_train.iloc[:, :300]
    shuffled = golub.y_train.sample(frac=1, random_state=3)
    pd.testing.assert_frame_equal(cv_scores(X, shuffled, SMALL), cv_scores(X, golub.y_train, SMALL))


def test_selection_bias_equals_a_plain_loop_over_its_permutations(golub: GolubData, golub_genes) -> None:
    import inspect

    from leukemia.dataset import stratified_folds
    from leukemia.honest import _one_permutation

    small = golub_genes(400)
    shuffled = replace(small, y_train=small.y_train.sample(frac=1, random_state=4))  # matched by sample
    got = selection_bias(shuffled, k=10, n_permutations=3, cv_folds=3, random_state=9)
    rng = np.random.default_rng(9)
    y, X = small.y_train.to_numpy(), small.X_train.to_numpy()
    expected = []
    for _ in range(3):
        permuted, seed = rng.permutation(y), int(rng.integers(2**31))
        expected.append(_one_permutation(X, permuted, stratified_folds(3, seed), 10))
    pd.testing.assert_frame_equal(got, pd.DataFrame(expected))
    defaults = {n: p.default for n, p in inspect.signature(selection_bias).parameters.items() if n != "data"}
    assert defaults == {"k": 50, "n_permutations": 10, "cv_folds": 5, "random_state": 42, "n_jobs": None}


def test_defaults_are_what_they_say(golub: GolubData, golub_genes) -> None:
    """A call that leaves an argument out equals one that passes the documented default."""
    small = golub_genes(200)
    space = replace(SMALL, ks=(5,), models=("weighted_voting",))
    pd.testing.assert_frame_equal(nested_cv(small, space), nested_cv(small, space, outer_folds=5))
    pd.testing.assert_frame_equal(
        selection_bias(small, n_permutations=2), selection_bias(small, k=50, n_permutations=2, cv_folds=5)
    )
    assert len(selection_bias(small, k=5, cv_folds=3)) == 10, "ten permutations by default"
    settings = {"preprocessing": "none", "selector": "signal_to_noise", "k": 20}
    pd.testing.assert_frame_equal(
        abstention(small, ["weighted_voting"], settings),
        abstention(small, ["weighted_voting"], settings, cv_folds=5),
    )


def test_choose_index_breaks_ties_as_the_search_does() -> None:
    from leukemia.honest import choose_index

    results = {
        "mean_test_score": np.array([0.9, 0.95, 0.95, 0.95, 0.8]),
        "std_test_score": np.array([0.0, 0.1, 0.05, 0.05, 0.0]),
        "param_selectkbest__k": np.ma.masked_array([10, 20, 50, 100, 200], dtype=object),
    }
    # Best mean 0.95 three times: the smaller spread (50, 100), then fewer genes (50); scikit-learn's own
    # refit would take the first of the tied means (20).
    assert choose_index(results) == 2
    assert choose_index({**results, "std_test_score": np.array([0.0, 0.05, 0.05, 0.05, 0.0])}) == 1
    reordered = {  # fewer genes wins whatever the grid order
        "mean_test_score": np.array([0.95, 0.95]),
        "std_test_score": np.array([0.05, 0.05]),
        "param_svc__k": np.array([100, 50]),
    }
    assert choose_index(reordered, k_param="svc__k") == 1
    with pytest.raises(KeyError, match="param_selectkbest__k"):
        choose_index(reordered)


def test_a_grid_search_refitted_with_choose_index_chooses_as_nested_cv(golub: GolubData) -> None:
    """The nested loop written out in scikit-learn (notebook 08) gives nested_cv's choices and counts."""
    from sklearn.feature_selection import SelectKBest
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline as chain
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    from leukemia.dataset import stratified_folds
    from leukemia.honest import choose_index
    from leukemia.select import anova_f

    space = SearchSpace(
        ("standard",), ("f_test",), (5, 10, 20, 50), ("linear_svm",), cv_folds=3, cv_repeats=1
    )
    X, y = golub.X_train.to_numpy(), golub.y_train.reindex(golub.X_train.index).to_numpy()
    search = GridSearchCV(
        chain(SelectKBest(anova_f), StandardScaler(), SVC(kernel="linear", random_state=0)),
        {
            "selectkbest__k": sorted(space.ks, reverse=True)
        },  # scikit-learn's refit takes the first tied: more genes
        cv=stratified_folds(3, 0),
        refit=choose_index,
    )
    chosen, correct = [], []
    for train, test in stratified_folds(4, 0).split(X, y):
        search.fit(X[train], y[train])
        chosen.append(search.best_params_["selectkbest__k"])
        correct.append(int((search.predict(X[test]) == y[test]).sum()))
    package = nested_cv(golub, space, outer_folds=4, random_state=0)
    assert package["k"].tolist() == chosen and package["n_correct"].tolist() == correct


def test_abstention_outcome_names_what_each_threshold_did() -> None:
    from leukemia.honest import (
        ABSTAINS_ON_EVERY_TEST_SAMPLE,
        ABSTAINS_ON_NO_TEST_SAMPLE,
        ABSTAINS_ON_SOME_TEST_SAMPLES,
        NEVER_ABSTAINS,
        NO_THRESHOLD,
        abstention_outcome,
    )

    table = pd.DataFrame(
        {
            "threshold": [np.nan, 0.0, 0.8, 0.3, 0.45],
            "test_confident": pd.array([pd.NA, 34, 0, 34, 20], dtype="Int64"),
            "test_uncertain": pd.array([pd.NA, 0, 34, 0, 14], dtype="Int64"),
        },
        index=["a", "b", "c", "d", "e"],
    )
    outcome = abstention_outcome(table)
    assert outcome.name == "outcome" and outcome.index.tolist() == ["a", "b", "c", "d", "e"]
    assert outcome.tolist() == [
        NO_THRESHOLD,
        NEVER_ABSTAINS,
        ABSTAINS_ON_EVERY_TEST_SAMPLE,
        ABSTAINS_ON_NO_TEST_SAMPLE,
        ABSTAINS_ON_SOME_TEST_SAMPLES,
    ]
    # Threshold 0 with no test sample at all still reads as "never abstains": rule 2 before rule 3.
    empty = table.iloc[[1]].assign(test_confident=pd.array([0], dtype="Int64"))
    assert abstention_outcome(empty).tolist() == [NEVER_ABSTAINS]


def test_the_nested_loop_by_hand_matches_nested_cv_with_five_classes(bladder_dir, tmp_path) -> None:
    """Notebook 08's loop, on the bladder study's five outcome classes: with the labels coded as the
    package codes them (the data set's class order, not the alphabet), by which an SVM breaks tied votes."""
    import yaml
    from sklearn.feature_selection import SelectKBest
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline as chain
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    from leukemia import config
    from leukemia.dataset import stratified_folds
    from leukemia.honest import choose_index
    from leukemia.select import anova_f
    from leukemia.spec import load_dataset

    fields = {
        "name": "bladder-outcome", "expression": str(bladder_dir / "bladder_series_matrix.txt.gz"),
        "class_column": "outcome", "classes": ["Normal", "Biopsy", "mTCC", "sTCC-CIS", "sTCC+CIS"],
    }  # fmt: skip
    (tmp_path / "dataset.yaml").write_text(yaml.safe_dump(fields))
    data = load_dataset(tmp_path / "dataset.yaml")
    seed, ks = config.RANDOM_SEED, (10, 20, 50, 100, 200)
    space = SearchSpace(("standard",), ("f_test",), ks, ("linear_svm",), cv_folds=4, cv_repeats=1)
    package = nested_cv(data, space, outer_folds=5, random_state=seed)
    X = data.X_train.to_numpy()
    counts = {}
    for coding, y in (
        ("as the package", encode_labels(data.y_train).to_numpy()),
        ("alphabetical", data.y_train.astype(str).to_numpy()),
    ):
        search = GridSearchCV(
            chain(SelectKBest(anova_f), StandardScaler(), SVC(kernel="linear", random_state=seed)),
            {"selectkbest__k": list(ks)}, cv=stratified_folds(4, seed), refit=choose_index,
        )  # fmt: skip
        chosen, correct = [], []
        for train, test in stratified_folds(5, seed).split(X, y):
            search.fit(X[train], y[train])
            chosen.append(search.best_params_["selectkbest__k"])
            correct.append(int((search.predict(X[test]) == y[test]).sum()))
        counts[coding] = (chosen, correct)
    assert counts["as the package"] == (package["k"].tolist(), package["n_correct"].tolist())
    assert counts["alphabetical"] != counts["as the package"], "the class order decides tied votes here"


def test_a_solver_that_stops_early_is_recorded_with_the_results_not_printed(
    golub: GolubData, monkeypatch: pytest.MonkeyPatch
) -> None:
    import warnings

    from sklearn.linear_model import LogisticRegression

    from leukemia.models import MODELS

    monkeypatch.setitem(MODELS, "logistic_regression", lambda seed: LogisticRegression(max_iter=2))
    settings = {"preprocessing": "standard", "selector": "f_test", "k": 50}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a ConvergenceWarning reaching the caller would raise here
        table = abstention(golub, ["logistic_regression", "knn"], settings).set_index("model")
    assert table["converged"].to_dict() == {"logistic_regression": False, "knn": True}


def test_the_nested_estimate_is_one_row_of_metrics_with_its_exact_interval() -> None:
    from leukemia.honest import NESTED_PROTOCOL, nested_row
    from leukemia.rundir import result_columns

    nested = pd.DataFrame({"fold": [0, 1], "n_test": [5, 5], "n_correct": [4, 5], "accuracy": [0.8, 1.0]})
    row = nested_row(nested).iloc[0]
    assert (row["protocol"], row["n_correct"], row["n_test"]) == (NESTED_PROTOCOL, 9, 10)
    assert row["accuracy"] == 0.9 and row["ci_low"] == pytest.approx(0.5550, abs=1e-4)
    assert "held-out training samples" in row["chosen_on"]
    assert set(nested_row(nested).columns) <= set(result_columns(("a", "b")))


def test_every_function_given_a_data_set_tells_dudoit_its_scale(
    golub: GolubData, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Values given as log2 (RMA-like): the search, nested CV, the fixed protocols, the abstention table and
    the PCA all build Dudoit's filter for log values, never for the log2 of intensities."""
    from leukemia.dataset import LOG2_AS_GIVEN
    from leukemia.eda import pca_projection
    from leukemia.preprocessing import DudoitFilter

    logged = replace(
        golub,
        X_train=np.log2(golub.X_train.clip(lower=1.0)) + 3.0,
        X_test=np.log2(golub.X_test.clip(lower=1.0)) + 3.0,
        scale_detected="log2",
        scale_used=LOG2_AS_GIVEN,
    )
    assert logged.filter_scale == "log" and golub.filter_scale == "linear"
    seen: list[str] = []
    fit = DudoitFilter.fit
    monkeypatch.setattr(
        DudoitFilter, "fit", lambda self, X, y=None: seen.append(self.input_scale) or fit(self, X, y)
    )
    space = replace(SMALL, preprocessing=("dudoit",), models=("knn",), ks=(5,))
    choice = choose_configuration(logged, space)
    nested_cv(logged, space, outer_folds=3)
    evaluate_models(logged, "seed", models=["knn"], preprocessing="dudoit", cv_folds=3)
    abstention(logged, ["knn"], choice.settings, cv_folds=3)
    pca_projection(logged)
    assert seen and set(seen) == {"log"}, seen
    # and the search's scores are those of plain pipelines with the log filter
    scores = cv_scores(logged.X_train, logged.y_train, space.for_data(logged))
    folds = RepeatedStratifiedKFold(n_splits=3, n_repeats=1, random_state=42)
    plain = make_pipeline("knn", preprocessing="dudoit", selector="f_test", k=5, input_scale="log")
    naive = cross_val_score(plain, logged.X_train, encode_labels(logged.y_train), cv=folds)
    assert scores.loc[scores["selector"] == "f_test", "cv_accuracy"].item() == pytest.approx(naive.mean())
    with pytest.raises(ValueError, match="input_scale must be one of"):
        replace(SMALL, input_scale="ln")


def test_a_choice_in_words() -> None:
    from leukemia.honest import Choice

    def words(**configuration: object) -> str:
        return Choice(configuration, pd.DataFrame()).in_words()  # type: ignore[arg-type]

    assert words(preprocessing="dudoit", selector="signal_to_noise", k=10, model="weighted_voting") == (
        "Weighted voting (Golub) on 10 genes chosen by signal-to-noise score (an equal share per class), "
        "after Dudoit's filter"
    )
    assert words(preprocessing="none", selector="f_test", k=50, model="knn") == (
        "k-NN (k=5) on 50 genes of largest ANOVA F statistic, on the values as loaded"
    )
    unknown = words(preprocessing="mine", selector="other", k=5, model="x")
    assert unknown == "x on 5 genes chosen by other, after mine"

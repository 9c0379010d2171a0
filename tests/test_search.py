"""leukemia.search: the shared-work fast path predicts exactly what the plain pipelines predict."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.feature_selection import SelectKBest, f_classif
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier, NearestCentroid
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.svm import SVC

from leukemia import search
from leukemia.data import GolubData, encode_labels
from leukemia.golub import WeightedVoting
from leukemia.models import make_model
from leukemia.preprocessing import DudoitFilter, make_preprocessor
from leukemia.search import fold_predictions, nested_ranking, predictions_by_k
from leukemia.select import make_selector


def _toy(seed: int = 0, n: int = 40, genes: int = 300) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], n // 2)
    X = rng.normal(size=(n, genes))
    X[y == 1, :20] += 1.0  # twenty informative genes
    return X, y


@pytest.mark.parametrize("selector", ["f_test", "signal_to_noise"])
def test_nested_ranking_gives_the_selectors_genes_for_every_k(golub: GolubData, selector: str) -> None:
    X = golub.X_train.to_numpy(dtype=float)
    y = encode_labels(golub.y_train).to_numpy()
    order = nested_ranking(selector, X, y, 200)
    assert order is not None and len(set(order)) == 200
    for k in (1, 2, 3, 10, 25, 50, 51, 199, 200):
        expected = np.flatnonzero(make_selector(selector, k).fit(X, y).get_support())
        assert np.array_equal(np.sort(order[:k]), expected), f"{selector}, k={k}"


@pytest.mark.filterwarnings("ignore:Features .* are constant", "ignore:invalid value encountered")
@pytest.mark.parametrize("selector", ["f_test", "signal_to_noise"])
def test_nested_ranking_breaks_ties_and_nans_as_the_selectors_do(selector: str) -> None:
    X, y = _toy()
    X[:, 30:40] = X[:, [5]]  # ten copies of one informative gene: tied scores
    X[:, 50:60] = 7.0  # constant genes: F is NaN, P(g) is 0
    for k in range(1, 80):
        order = nested_ranking(selector, X, y, k)
        expected = np.flatnonzero(make_selector(selector, k).fit(X, y).get_support())
        assert np.array_equal(np.sort(order), expected), f"{selector}, k={k}"


def test_nested_ranking_declines_when_k_exceeds_the_genes() -> None:
    X, y = _toy(genes=30)
    assert nested_ranking("f_test", X, y, 31) is None
    assert nested_ranking("lasso", X, y, 5) is None


MODELS = [
    KNeighborsClassifier(),
    KNeighborsClassifier(3),
    KNeighborsClassifier(4),  # even: ties in the vote go to the first class
    NearestCentroid(),
    WeightedVoting(k=None),
    SVC(kernel="linear"),  # no shortcut: fitted for each k
    NearestCentroid(shrink_threshold=0.5),  # no shortcut either
    GaussianNB(),
]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: " ".join(str(m).split()))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_predictions_for_every_k_equal_the_fitted_pipeline(model, seed: int) -> None:
    X, y = _toy(seed)
    train, test = np.arange(0, 40, 2), np.arange(1, 40, 2)
    order = nested_ranking("f_test", X[train], y[train], 60)
    ks = [1, 2, 5, 20, 60]
    fast = predictions_by_k(model, X[train], y[train], X[test], order, ks)
    for row, k in zip(fast, ks, strict=True):
        pipeline = Pipeline([("select", SelectKBest(f_classif, k=k)), ("model", clone(model))])
        assert np.array_equal(row, pipeline.fit(X[train], y[train]).predict(X[test])), f"k={k}"
    assert not hasattr(model, "classes_"), "the model passed in stays unfitted"


def test_fold_predictions_equal_every_pipeline(golub: GolubData) -> None:
    X = golub.X_train.to_numpy(dtype=float)
    y = encode_labels(golub.y_train).to_numpy()
    train, test = np.arange(0, 38, 3) % 38, np.setdiff1d(np.arange(38), np.arange(0, 38, 3))
    steps = [
        make_preprocessor("none"),
        make_preprocessor("standard"),
        make_preprocessor("minmax"),
        Pipeline([("d", DudoitFilter()), ("s", StandardScaler())]),
    ]
    selectors, ks = ["f_test", "signal_to_noise"], [5, 30]
    models = [LogisticRegression(max_iter=5000), KNeighborsClassifier(3), WeightedVoting(k=None)]
    fast = fold_predictions(X[train], y[train], X[test], steps, selectors, ks, models)
    assert fast.shape == (4 * 2 * 2 * 3, len(test))
    _assert_every_pipeline_predicts(fast, X, y, train, test, steps, selectors, ks, models)


def _assert_every_pipeline_predicts(fast, X, y, train, test, steps, selectors, ks, models) -> None:
    """Row by row, ``fast`` is what each preprocess → select → model pipeline predicts, fitted on its own."""
    row = 0
    for step in steps:
        for selector in selectors:
            for k in ks:
                for model in models:
                    pipeline = Pipeline(
                        [("p", clone(step)), ("s", make_selector(selector, k)), ("m", clone(model))]
                    )
                    expected = pipeline.fit(X[train], y[train]).predict(X[test])
                    assert np.array_equal(fast[row], expected), (step, selector, k, model)
                    row += 1


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layout", ["C", "F"])
@pytest.mark.parametrize("scaler", [StandardScaler, MinMaxScaler])
def test_scaling_the_ranked_genes_alone_gives_the_scaled_matrix_columns(dtype, layout: str, scaler) -> None:
    rng = np.random.default_rng(4)
    X = rng.normal(100.0, 30.0, size=(301, 2000)) * rng.uniform(0.01, 50.0, size=2000)
    X = np.asarray(X, dtype=dtype, order=layout)
    columns = np.sort(rng.choice(2000, 200, replace=False))
    whole = scaler().fit(X).transform(X)[:, columns]
    part = search._columns(X, columns)
    assert np.array_equal(scaler().fit(part).transform(part), whole)  # bit for bit, not approximately


@pytest.mark.parametrize("layout", ["C", "F"])
def test_steps_that_shift_and_stretch_genes_share_one_ranking(monkeypatch, layout: str) -> None:
    X, y = _toy(3)
    X = np.asarray(X * np.linspace(0.5, 40.0, X.shape[1]) + 7.0, order=layout)
    train, test = np.arange(0, 40, 2), np.arange(1, 40, 2)
    steps = [
        make_preprocessor("none"),
        StandardScaler(),
        MinMaxScaler(),
        DudoitFilter(floor=1.0, ceiling=1e6),
    ]
    ranked = []  # the shape of every matrix whose genes are ranked

    def ranking(selector, X_ranked, *args):
        ranked.append(X_ranked.shape)
        return nested_ranking(selector, X_ranked, *args)

    monkeypatch.setattr(search, "nested_ranking", ranking)
    selectors, ks, models = (
        ["f_test", "signal_to_noise"],
        [3, 10, 40],
        [GaussianNB(), KNeighborsClassifier(3)],
    )
    fast = fold_predictions(X[train], y[train], X[test], steps, selectors, ks, models)
    # the three affine steps: one ranking per selector, of the untransformed genes; Dudoit its own
    assert ranked[:2] == [(20, 300)] * 2 and len(ranked) == 4
    _assert_every_pipeline_predicts(fast, X, y, train, test, steps, selectors, ks, models)


def test_a_model_that_standardises_first_is_fitted_once_for_all_affine_steps(
    golub: GolubData, monkeypatch
) -> None:
    X = golub.X_train.to_numpy(dtype=float)
    y = encode_labels(golub.y_train).to_numpy()
    train, test = np.arange(0, 38, 2), np.arange(1, 38, 2)
    steps = [make_preprocessor("none"), make_preprocessor("standard"), make_preprocessor("minmax")]
    selectors, ks = ["f_test", "signal_to_noise"], [5, 20, 50]
    models = [make_model("elastic_net", 0), make_model("linear_svm", 0)]
    fitted = []  # the model of every fit
    original = search.predictions_by_k

    def counted(model, *args):
        fitted.append(type(model[-1] if isinstance(model, Pipeline) else model).__name__)
        return original(model, *args)

    monkeypatch.setattr(search, "predictions_by_k", counted)
    fast = fold_predictions(X[train], y[train], X[test], steps, selectors, ks, models)
    # once per selector for the elastic net (it standardises itself), once per step and selector for the SVM
    assert fitted.count("ElasticNetLogistic") == 2 and fitted.count("SVC") == 6
    _assert_every_pipeline_predicts(fast, X, y, train, test, steps, selectors, ks, models)
    assert not search._standardises_first(Pipeline([("s", StandardScaler(with_std=False)), ("m", SVC())]))


def test_without_a_nested_order_every_k_is_fitted_as_a_pipeline() -> None:
    X, y = _toy(genes=40)
    train, test = np.arange(0, 40, 2), np.arange(1, 40, 2)
    ks = [5, 41]  # 41 > 40 genes: no nested ranking, and the F-test keeps all genes for k > n
    models = [KNeighborsClassifier(3), GaussianNB()]
    with pytest.warns(UserWarning, match="k=41 is greater than n_features=40"):
        fast = fold_predictions(X[train], y[train], X[test], [StandardScaler()], ["f_test"], ks, models)
    row = 0
    for k in ks:
        for model in models:
            pipeline = Pipeline(
                [("p", StandardScaler()), ("s", SelectKBest(f_classif, k=k)), ("m", clone(model))]
            )
            with pytest.warns(UserWarning) if k > 40 else contextlib.nullcontext():
                expected = pipeline.fit(X[train], y[train]).predict(X[test])
            assert np.array_equal(fast[row], expected), (k, model)
            row += 1


def _toy_classes(
    n_classes: int, seed: int = 0, n: int = 60, genes: int = 200
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` samples of ``n_classes`` classes, interleaved; genes 4c … 4c+3 are raised in class c."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % n_classes
    X = rng.normal(size=(n, genes))
    for c in range(n_classes):
        X[y == c, 4 * c : 4 * c + 4] += 1.5
    return X, y


@pytest.mark.parametrize("n_classes", [3, 5])
@pytest.mark.parametrize("selector", ["f_test", "signal_to_noise"])
def test_k_classes_fast_path_equals_the_fitted_pipeline(n_classes: int, selector: str) -> None:
    X, y = _toy_classes(n_classes)
    X[:, 100:104] = X[:, [1]]  # tied scores
    train, test = np.arange(0, 60, 2), np.arange(1, 60, 2)
    ks = [1, 2, 3, 5, 11, 40]
    order = nested_ranking(selector, X[train], y[train], max(ks))
    assert order is not None and len(set(order.tolist())) == max(ks)
    for model in MODELS:
        fast = predictions_by_k(model, X[train], y[train], X[test], order, ks)
        for row, k in zip(fast, ks, strict=True):
            pipeline = Pipeline([("select", make_selector(selector, k)), ("model", clone(model))])
            expected = pipeline.fit(X[train], y[train]).predict(X[test])
            assert np.array_equal(row, expected), f"{model}, k={k}"


def test_only_the_settings_the_one_pass_evaluators_reproduce_take_them() -> None:
    assert search._vectorised(KNeighborsClassifier()) is search._knn_by_k
    assert search._vectorised(KNeighborsClassifier(metric="euclidean")) is search._knn_by_k
    for other in (
        KNeighborsClassifier(weights="distance"),  # euclidean, but votes weighted by distance
        KNeighborsClassifier(metric="manhattan"),
        KNeighborsClassifier(p=1),
        KNeighborsClassifier(metric_params={"p": 2}),
        NearestCentroid(shrink_threshold=0.5),
        WeightedVoting(k=5),
        LogisticRegression(),
    ):
        assert search._vectorised(other) is None, other
    assert search._vectorised(NearestCentroid()) is search._centroid_by_k
    assert search._vectorised(WeightedVoting(k=None)) is search._voting_by_k  # weighs every gene it is given


def test_knn_takes_the_one_pass_path_when_it_can(monkeypatch: pytest.MonkeyPatch) -> None:
    X, y = _toy()
    calls = []

    def spy(*args):
        calls.append(result := one_pass(*args))
        return result

    one_pass = search._knn_by_k
    monkeypatch.setattr(search, "_knn_by_k", spy)
    order = np.arange(X.shape[1])
    predicted = predictions_by_k(KNeighborsClassifier(n_neighbors=3), X[:30], y[:30], X[30:], order, [5, 20])
    assert len(calls) == 1 and calls[0] is predicted, "one pass, its result returned"
    for row, k in zip(predicted, [5, 20], strict=True):
        fitted = KNeighborsClassifier(n_neighbors=3).fit(X[:30, :k], y[:30]).predict(X[30:, :k])
        np.testing.assert_array_equal(row, fitted)
    # More neighbours than training samples: declined, so the estimator raises its own error.
    assert one_pass(KNeighborsClassifier(n_neighbors=31), X[:30], y[:30], X[30:], [5]) is None
    assert one_pass(KNeighborsClassifier(n_neighbors=30), X[:30], y[:30], X[30:], [5]) is not None


@pytest.mark.parametrize(
    "model",
    [WeightedVoting(k=None, ddof=1), WeightedVoting(k=None, sigma_floor=0.35)],
    ids=["ddof 1", "σ floor"],
)
def test_weighted_voting_one_pass_keeps_its_ddof_and_sigma_floor(model: WeightedVoting) -> None:
    X, y = _toy(1)
    X += 3.0  # means near 3: a σ floor of 0.35·|μ| binds for some genes
    train = np.r_[0:12, 20:23]  # 12 and 3 samples: ddof = 1 moves the two classes' σ unequally
    test = np.setdiff1d(np.arange(40), train)
    order = nested_ranking("signal_to_noise", X[train], y[train], 60)
    ks = [1, 3, 10, 60]
    fast = predictions_by_k(model, X[train], y[train], X[test], order, ks)
    assert search._voting_by_k(model, X[train][:, order], y[train], X[test][:, order], ks) is not None
    for row, k in zip(fast, ks, strict=True):
        pipeline = Pipeline([("select", make_selector("signal_to_noise", k)), ("model", clone(model))])
        assert np.array_equal(row, pipeline.fit(X[train], y[train]).predict(X[test])), f"k={k}"
    plain = predictions_by_k(WeightedVoting(k=None), X[train], y[train], X[test], order, ks)
    assert not np.array_equal(fast, plain), "the setting changes some calls here"


@pytest.mark.parametrize("n_classes", [2, 5])
def test_weighted_voting_one_pass_at_a_class_midpoint(n_classes: int) -> None:
    """A sample exactly on class 0's midpoint: a 0 margin (two classes), no votes for or against (K)."""
    from leukemia.golub import class_midpoints

    X, y = _toy_classes(n_classes) if n_classes > 2 else _toy(4)
    labels = np.array(["T", "B", "M", "X", "Y"])[y]  # text labels, as a run's
    train = np.arange(0, len(y), 2)
    order = nested_ranking("signal_to_noise", X[train], labels[train], 5)
    on_midpoint = class_midpoints(X[train], labels[train] == np.unique(labels)[0])[None, :]
    X_test = np.vstack([on_midpoint, X[1::2][:5]])
    ks = [1, 2, 5]
    model = WeightedVoting(k=None)
    fast = predictions_by_k(model, X[train], labels[train], X_test, order, ks)
    for row, k in zip(fast, ks, strict=True):
        pipeline = Pipeline([("select", make_selector("signal_to_noise", k)), ("model", clone(model))])
        assert np.array_equal(row, pipeline.fit(X[train], labels[train]).predict(X_test)), f"k={k}"


def test_knn_one_pass_takes_one_neighbour_and_text_labels() -> None:
    X, y = _toy(5)
    labels = np.where(y == 1, "AML", "ALL")
    one = KNeighborsClassifier(n_neighbors=1)
    fast = search._knn_by_k(one, X[:30], labels[:30], X[30:], [5, 20])
    assert fast is not None and fast.dtype == labels.dtype
    for row, k in zip(fast, [5, 20], strict=True):
        fitted = KNeighborsClassifier(1).fit(X[:30, :k], labels[:30])
        np.testing.assert_array_equal(row, fitted.predict(X[30:, :k]))


def test_float_keeps_float32_uncopied_and_turns_the_rest_into_float64() -> None:
    X32 = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert search._float(X32) is X32 or np.shares_memory(search._float(X32), X32)
    as64 = search._float(np.arange(6).reshape(2, 3))
    assert as64.dtype == np.float64 and as64.tolist() == [[0, 1, 2], [3, 4, 5]]

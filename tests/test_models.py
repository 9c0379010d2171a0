"""leukemia.models: the model registry and the pipeline."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.feature_selection import SelectKBest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from leukemia import config
from leukemia.models import (
    MODEL_LABELS,
    MODELS,
    SEED_MODELS,
    SEED_REPORTED_ACCURACY,
    ElasticNetLogistic,
    make_model,
    make_pipeline,
    parse_model_names,
)
from leukemia.select import SignalToNoiseSelector


def test_registry_has_the_ten_seed_models_and_golubs() -> None:
    assert len(SEED_MODELS) == 10
    assert set(SEED_MODELS) == set(SEED_REPORTED_ACCURACY)
    assert (
        set(MODELS)
        == set(MODEL_LABELS)
        == set(SEED_MODELS)
        | {
            "weighted_voting",
            "nearest_shrunken_centroids",
            "elastic_net",
        }
    )


def test_elastic_net_mixes_l1_and_l2_on_standardised_genes() -> None:
    scaler, model = (step for _, step in make_model("elastic_net").steps)
    assert isinstance(scaler, StandardScaler)
    assert isinstance(model, ElasticNetLogistic) and 0 < model.l1_ratio < 1


def _two_class_genes(n_genes: int = 20) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y = np.repeat(["ALL", "AML"], 30)
    X = rng.normal(size=(60, n_genes)) + 0.8 * (y == "AML")[:, None]
    return X, y


def test_elastic_net_reaches_scikit_learns_optimum() -> None:
    # The same objective as LogisticRegression(C, l1_ratio); saga solved far past its default tolerance.
    X, y = _two_class_genes()
    for C in (0.05, 1.0):
        ours = ElasticNetLogistic(C=C).fit(X, y)
        exact = LogisticRegression(C=C, l1_ratio=0.5, solver="saga", tol=1e-12, max_iter=200_000).fit(X, y)
        assert list(ours.classes_) == ["ALL", "AML"]
        np.testing.assert_allclose(ours.coef_, exact.coef_, atol=1e-5)
        np.testing.assert_allclose(ours.predict_proba(X), exact.predict_proba(X), atol=1e-6)
        assert (ours.predict(X) == exact.predict(X)).all()
    assert np.count_nonzero(ElasticNetLogistic(C=0.05).fit(X, y).coef_) < X.shape[1]  # the L1 part


def test_elastic_net_with_three_classes_is_the_multinomial_model() -> None:
    X, y = _two_class_genes()
    y = np.where(np.arange(60) % 3 == 0, "T-ALL", y)
    X[y == "T-ALL", :5] += 1.5
    ours = ElasticNetLogistic(random_state=0).fit(X, y)
    saga = LogisticRegression(l1_ratio=0.5, solver="saga", max_iter=10000, random_state=0).fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), saga.predict_proba(X))
    assert ours.predict_proba(X).shape == (60, 3)


def test_elastic_net_standardises_raw_intensities() -> None:
    # Genes a thousand times apart in scale, as raw array intensities are: the registry's elastic net
    # gives the same calls as on genes standardised by hand, and the penalty leaves small genes in.
    X, y = _two_class_genes()
    raw = X * np.geomspace(1, 1000, X.shape[1]) + 5000
    fitted = make_model("elastic_net").fit(raw, y)
    by_hand = ElasticNetLogistic().fit(StandardScaler().fit_transform(raw), y)
    np.testing.assert_allclose(fitted[-1].coef_, by_hand.coef_)
    assert fitted[-1].coef_[0, 0] != 0


@pytest.mark.parametrize("name", list(MODELS))
def test_models_get_the_project_seed(name: str) -> None:
    model = make_model(name)
    seeds = {v for p, v in model.get_params().items() if p.split("__")[-1] == "random_state"}
    assert seeds <= {config.RANDOM_SEED}
    copy = clone(model)  # a proper scikit-learn estimator: an unfitted copy with the same settings
    assert copy is not model and repr(copy) == repr(model)


def test_linear_svm_is_svc_with_linear_kernel() -> None:
    model = make_model("linear_svm")
    assert type(model).__name__ == "SVC" and model.kernel == "linear"


def test_seed_pipeline_steps() -> None:
    pipeline = make_pipeline("rbf_svm")
    assert [name for name, _ in pipeline.steps] == ["preprocess", "select", "model"]
    assert isinstance(pipeline["preprocess"], MinMaxScaler)
    assert isinstance(pipeline["select"], SelectKBest) and pipeline["select"].k == 50


def test_pipeline_steps_are_parameters() -> None:
    pipeline = make_pipeline(
        make_model("knn"), preprocessing=StandardScaler(), selector="signal_to_noise", k=10
    )
    assert isinstance(pipeline["preprocess"], StandardScaler)
    assert isinstance(pipeline["select"], SignalToNoiseSelector) and pipeline["select"].k == 10


def test_unknown_model() -> None:
    with pytest.raises(ValueError, match=r"unknown model 'lasso'"):
        make_model("lasso")


def test_parse_model_names() -> None:
    assert parse_model_names("all") == list(MODELS)
    assert parse_model_names("seed") == list(SEED_MODELS)
    assert parse_model_names(" rbf_svm, xgboost ") == ["rbf_svm", "xgboost"]
    with pytest.raises(ValueError, match=r"unknown model\(s\) \['svm'\]"):
        parse_model_names("svm")
    with pytest.raises(ValueError, match="unknown model"):
        parse_model_names(" , ")


def test_the_elastic_net_passes_on_convergence_warnings_not_glums_step_notices(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """glum's "Line search failed" is about one step near the optimum (it reached a bladder report's
    stderr); "IRLS failed to converge" is about the fit and must reach the caller, who records it."""
    import warnings

    import glum
    from sklearn.exceptions import ConvergenceWarning

    from leukemia.models import ElasticNetLogistic

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 4)), np.repeat([0, 1], 15)
    fit = glum.GeneralizedLinearRegressor.fit

    def noisy(self, *args, **kwargs):
        warnings.warn("Line search failed. Next iteration", ConvergenceWarning, stacklevel=1)
        if self.max_iter < 100:
            warnings.warn("IRLS failed to converge. Increase max_iter", ConvergenceWarning, stacklevel=1)
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(glum.GeneralizedLinearRegressor, "fit", noisy)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ElasticNetLogistic().fit(X, y)
    assert not caught, [str(w.message) for w in caught]
    monkeypatch.setattr(glum.GeneralizedLinearRegressor, "__init__", _with_max_iter(3))
    with pytest.warns(ConvergenceWarning, match="IRLS failed to converge") as record:
        ElasticNetLogistic().fit(X, y)
    assert not any("Line search" in str(w.message) for w in record)


def _with_max_iter(max_iter: int):
    import glum

    init = glum.GeneralizedLinearRegressor.__init__

    def patched(self, *args, **kwargs):
        init(self, *args, **{**kwargs, "max_iter": max_iter})

    return patched

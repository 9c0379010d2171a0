"""leukemia.models: the model registry and the pipeline."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.feature_selection import SelectKBest
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from leukemia import config
from leukemia.models import (
    MODEL_LABELS,
    MODELS,
    SEED_MODELS,
    SEED_REPORTED_ACCURACY,
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
    assert 0 < model.l1_ratio < 1 and model.solver == "saga"


def test_elastic_net_reaches_the_optimum_on_raw_intensities() -> None:
    # Genes a thousand times apart in scale, as raw array intensities are: saga on the raw values
    # stops far from the optimum; standardised first, it agrees with a much tighter solve.
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 30)
    X = (rng.normal(size=(60, 20)) + 0.8 * y[:, None]) * np.geomspace(1, 1000, 20) + 5000
    fitted = make_model("elastic_net").fit(X, y)
    tight = clone(make_model("elastic_net")).set_params(logisticregression__tol=1e-10).fit(X, y)
    assert np.abs(fitted.predict_proba(X) - tight.predict_proba(X)).max() < 0.02
    assert fitted[-1].n_iter_[0] < fitted[-1].max_iter


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

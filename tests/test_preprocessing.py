"""leukemia.preprocessing: the four options, the Dudoit filter, fitting on training data only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline

from leukemia.data import GolubData
from leukemia.preprocessing import (
    COUNT_OPTIONS,
    PREPROCESSING,
    DudoitFilter,
    compare_preprocessing,
    make_preprocessor,
)

#: The options for microarray values (the count options, log_cpm, tmm and vst, are tested in test_counts.py).
MICROARRAY_OPTIONS = sorted(set(PREPROCESSING) - set(COUNT_OPTIONS))


@pytest.fixture
def small() -> pd.DataFrame:
    # gene a: 50..2000 (fold 20 after the floor, range 1900) -> kept
    # gene b: 200..900 (fold 4.5) -> dropped
    # gene c: 20000..30000 (clipped to 16000 everywhere: range 0) -> dropped
    # gene d: 100..520 (fold 5.2 but range 420) -> dropped
    return pd.DataFrame(
        {
            "a": [50, 2000, 700],
            "b": [200, 900, 500],
            "c": [20000, 30000, 25000],
            "d": [100, 520, 300],
        },
        index=[1, 2, 3],
    )


def test_dudoit_filter_rules(small: pd.DataFrame) -> None:
    f = DudoitFilter().fit(small)
    assert f.support_.tolist() == [True, False, False, False]
    out = f.transform(small)
    np.testing.assert_allclose(out[:, 0], np.log10([100, 2000, 700]))
    assert f.get_feature_names_out().tolist() == ["a"]


def test_dudoit_clips_test_values_to_the_training_thresholds(small: pd.DataFrame) -> None:
    f = DudoitFilter().fit(small)
    new = pd.DataFrame({"a": [-500, 50000], "b": [1, 1], "c": [1, 1], "d": [1, 1]})
    np.testing.assert_allclose(f.transform(new)[:, 0], [2.0, np.log10(16000)])


def test_dudoit_on_log_values_keeps_the_fold_rule_and_clips_nothing() -> None:
    # log2 values with no intensity units (RMA): a gene stays if max - min > log2 5, values are not clipped
    values = pd.DataFrame({"wide": [3.0, 6.0, 4.0], "narrow": [10.0, 12.0, 11.0], "low": [1.0, 2.0, 3.5]})
    f = DudoitFilter(input_scale="log").fit(values)
    assert f.scale_ == "log" and f.support_.tolist() == [True, False, True]
    np.testing.assert_allclose(f.transform(values), values[["wide", "low"]].to_numpy() * np.log10(2))
    np.testing.assert_allclose(
        DudoitFilter(input_scale="log", log=False).fit_transform(values)[:, 1], [1, 2, 3.5]
    )
    # the same numbers read as the log2 of intensities: 2**x is at most 12, all on the floor of 100
    with pytest.raises(ValueError, match="kept no gene"):
        DudoitFilter(input_scale="log2").fit(values)
    with pytest.raises(ValueError, match=r"kept no gene: no gene varies more than 5.0-fold"):
        DudoitFilter(input_scale="log").fit(values[["narrow"]])
    with pytest.raises(ValueError, match="input_scale must be one of auto, linear, log2, log"):
        DudoitFilter(input_scale="ln").fit(values)
    assert make_preprocessor("dudoit", input_scale="log").input_scale == "log"
    assert make_preprocessor("standard", input_scale="log").get_params()["with_mean"], "others ignore it"


def test_dudoit_without_log(small: pd.DataFrame) -> None:
    out = DudoitFilter(log=False).fit_transform(small)
    assert out[:, 0].tolist() == [100, 2000, 700]


@pytest.mark.parametrize("order", ["C", "F"])
def test_dudoit_output_is_row_major_and_leaves_the_input_alone(order: str) -> None:
    # Row-major output keeps later passes over the samples (F scores, scalers) from striding across
    # memory; the values must be those of the plain column mask, and the input must not change.
    rng = np.random.default_rng(0)
    X = np.asarray(rng.uniform(1, 20000, size=(30, 40)), order=order)
    before = X.copy()
    f = DudoitFilter().fit(X)
    out = f.transform(X)
    assert out.flags.c_contiguous
    expected = np.log10(np.clip(X[:, f.support_], f.floor, f.ceiling))
    assert np.array_equal(out, expected)
    assert np.array_equal(X, before)


def test_dudoit_keeps_nothing_is_an_error() -> None:
    flat = pd.DataFrame({"a": [500, 510], "b": [1, 2]})
    with pytest.raises(ValueError, match="kept no gene"):
        DudoitFilter().fit(flat)


def test_dudoit_bad_thresholds(small: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="0 < floor < ceiling"):
        DudoitFilter(floor=200, ceiling=100).fit(small)


def test_dudoit_checks_feature_names(small: pd.DataFrame) -> None:
    f = DudoitFilter().fit(small)
    with pytest.raises(ValueError, match="feature names"):
        f.transform(small[["b", "a", "c", "d"]])


def test_dudoit_on_real_data_matches_the_paper_and_a_plain_reimplementation(
    golub: GolubData,
) -> None:
    both = pd.concat([golub.X_train, golub.X_test])
    # Dudoit et al. (2002) filtered all 72 samples and report 3571 genes.
    assert DudoitFilter().fit(both).support_.sum() == 3571
    train = golub.X_train.clip(100, 16000)
    expected = (train.max() / train.min() > 5) & (train.max() - train.min() > 500)
    fitted = DudoitFilter().fit(golub.X_train)
    assert fitted.support_.tolist() == expected.tolist()
    assert fitted.support_.sum() == 3051


@pytest.mark.parametrize("name", MICROARRAY_OPTIONS)
def test_every_option_fits_on_training_and_keeps_names(name: str, golub: GolubData) -> None:
    step = make_preprocessor(name, pandas_output=True).fit(golub.X_train)
    out = step.transform(golub.X_test)
    assert isinstance(out, pd.DataFrame)
    assert out.index.equals(golub.X_test.index)
    assert set(out.columns) <= set(golub.X_train.columns)
    # Refitting on other samples changes the result: the fit really uses the samples given.
    other = clone(step).fit(golub.X_test).transform(golub.X_test)
    if name != "none":
        assert not np.allclose(out.to_numpy(), other.reindex(columns=out.columns).to_numpy())


@pytest.mark.parametrize("name", MICROARRAY_OPTIONS)
def test_no_option_changes_the_frame_it_is_given(name: str, small: pd.DataFrame) -> None:
    # The identity once returned the caller's frame with its columns relabelled in place (name dropped),
    # which changed a shared data set for every later user of it.
    frame = small.rename_axis(index="sample", columns="probe")
    before = frame.copy()
    out = make_preprocessor(name, pandas_output=True).fit(frame).transform(frame)
    assert isinstance(out, pd.DataFrame) and out.columns.name in ("probe", None)
    pd.testing.assert_frame_equal(frame, before)
    assert frame.columns.name == "probe" and frame.index.name == "sample"


@pytest.mark.parametrize("name", MICROARRAY_OPTIONS)
def test_every_option_works_inside_cross_validation(name: str, golub: GolubData) -> None:
    model = make_pipeline(make_preprocessor(name), KNeighborsClassifier(3))
    scores = cross_val_score(model, golub.X_train, golub.y_train, cv=3)
    assert scores.shape == (3,)
    assert scores.min() > 0.5


def test_unknown_preprocessing_lists_the_choices() -> None:
    with pytest.raises(
        ValueError,
        match=r"unknown preprocessing 'log2'; choose one of "
        r"\['dudoit', 'log_cpm', 'minmax', 'none', 'standard', 'tmm', 'vst'\]",
    ):
        make_preprocessor("log2")


def test_make_preprocessor_returns_fresh_objects() -> None:
    assert make_preprocessor("standard") is not make_preprocessor("standard")


def test_compare_preprocessing(golub: GolubData) -> None:
    table = compare_preprocessing(golub.X_train, golub.X_test)
    assert table.index.tolist() == ["none", "minmax", "standard", "dudoit"]
    assert table.loc["none", "genes_kept"] == 7129
    assert table.loc["dudoit", "genes_kept"] == 3051
    assert table.loc["minmax", "train_min"] == pytest.approx(0)
    assert table.loc["minmax", "train_max"] == pytest.approx(1)
    assert table.loc["minmax", "test_min"] < 0
    assert table.loc["dudoit", "test_min"] == pytest.approx(2.0)
    # Per-gene monotone scalings leave the same values outside the training range.
    assert table.loc["minmax", "test_outside_train_range_pct"] == pytest.approx(
        table.loc["none", "test_outside_train_range_pct"]
    )

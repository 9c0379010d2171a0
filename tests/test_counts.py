"""RNA-seq read counts: detection, edgeR's recipe and DESeq2's VST (leukemia.counts), fitted inside folds,
and a whole run.

The TMM factors are checked against rnanorm's (validated by its authors against edgeR); filterByExpr,
log-CPM, the size factors and the dispersions' likelihood against their definitions written out here; the
VST against PyDESeq2 itself, run in an environment of its own (the slow test). A simulated negative-binomial
study with library sizes varying five-fold runs through every notebook.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from leukemia.counts import (
    VST,
    LogCPM,
    dispersion_mle,
    dispersion_trend,
    filter_by_expr,
    median_of_ratios,
    tmm_factors,
)
from leukemia.data import DataError
from leukemia.dataset import COUNTS_AS_GIVEN, Dataset, is_counts
from leukemia.evaluate import evaluate_models
from leukemia.models import make_pipeline
from leukemia.preprocessing import make_preprocessor
from leukemia.spec import load_dataset
from leukemia.synthetic import make_count_study, write_study


@pytest.fixture(scope="module")
def study() -> tuple[pd.DataFrame, pd.Series]:
    return make_count_study(1500, 48, 40)


@pytest.fixture(scope="module")
def counts_data(study, tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    X, y = study
    return load_dataset(write_study(tmp_path_factory.mktemp("counts"), X, y, name="counts"))


def test_a_count_matrix_is_detected_and_kept_raw(counts_data: Dataset, study) -> None:
    X, _ = study
    assert counts_data.scale_detected == "counts" and counts_data.scale_used == COUNTS_AS_GIVEN
    assert counts_data.filter_scale == "counts"
    pd.testing.assert_frame_equal(counts_data.X_train, X.loc[counts_data.X_train.index], check_names=False)
    library = X.sum(axis=1)
    assert library.max() / library.min() > 4, "libraries differ up to five-fold"
    assert not is_counts(np.log2(X.to_numpy() + 1)), "log values are not counts"
    assert not is_counts(np.round(np.log2(X.to_numpy() + 1))), "nor rounded ones: GEO2R's rule calls them log"
    assert not is_counts(X.to_numpy() - 1), "nor values below zero"
    assert not is_counts(X.to_numpy() + 0.5), "nor fractions"


def test_scale_counts_on_values_that_are_not_counts_is_refused(study, tmp_path: Path) -> None:
    X, y = study
    X = X.copy()
    X.iloc[3, 5], X.iloc[7, 9] = -2.0, 3.5
    spec = write_study(tmp_path, X, y, name="bad")
    spec.write_text(spec.read_text() + "scale: counts\n")
    with pytest.raises(DataError) as refused:
        load_dataset(spec)
    message = str(refused.value)
    assert "scale: counts, but expression.tsv.gz does not hold raw read counts" in message
    assert f"1 value(s) are negative (the first: sample {X.index[3]!r}, gene {X.columns[5]!r}: -2)" in message
    assert (
        f"1 value(s) are not whole numbers (the first: sample {X.index[7]!r}, gene {X.columns[9]!r}: 3.5)"
        in message
    )
    spec.write_text(spec.read_text().replace("scale: counts", "scale: log2"))
    assert load_dataset(spec).scale_used == "log2, as given", "another scale: the values are used as said"


def test_filter_by_expr_follows_edger(study) -> None:
    X, y = study
    counts, labels = X.to_numpy(), y.to_numpy()
    library = counts.sum(axis=1)
    cpm = counts / library[:, None] * 1e6
    cutoff = 10 / np.median(library) * 1e6
    smallest = min(np.unique(labels, return_counts=True)[1])  # 19 here: above large.n = 10
    need = 10 + (smallest - 10) * 0.7
    expected = ((cpm >= cutoff).sum(axis=0) >= need - 1e-14) & (counts.sum(axis=0) >= 15)
    np.testing.assert_array_equal(filter_by_expr(counts, labels), expected)
    assert 0 < expected.sum() < counts.shape[1], "some genes are filtered, not all"
    small = np.array([[0, 5, 100, 20], [0, 9, 120, 0], [1, 7, 90, 30]], dtype=float)
    # median library 128 → cutoff 10/128e-6 ≈ 78,125 CPM; one group of 3 must all reach it, 15 reads in all
    np.testing.assert_array_equal(filter_by_expr(small), [False, False, True, False])


def test_tmm_factors_agree_with_rnanorm(study) -> None:
    from rnanorm import TMM

    X, y = study
    fitted = LogCPM("tmm").fit(X.to_numpy(), y.to_numpy())
    kept = X.to_numpy()[:, fitted.support_]
    ours = tmm_factors(kept, fitted.reference_) / fitted.scale_
    theirs = TMM().fit(kept).get_norm_factors(kept)
    # rnanorm writes the A values as log2(r·r_ref)/2, edgeR as (log2 r + log2 r_ref)/2: ties among
    # low counts can break differently at the trimming bounds, which moves a factor by ~1e-5.
    np.testing.assert_allclose(ours, theirs, rtol=1e-4)
    assert np.ptp(ours) > 0.05, "the factors differ between samples"
    rng = np.random.default_rng(3)  # large counts: no ties, the same factors to the last digits
    mean = rng.lognormal(7, 1, size=400)[None, :] * rng.uniform(1, 5, size=12)[:, None]
    deep = rng.negative_binomial(20, 20 / (20 + mean)).astype(float)
    big = LogCPM("tmm").fit(deep)
    kept = deep[:, big.support_]
    np.testing.assert_allclose(
        tmm_factors(kept, big.reference_) / big.scale_, TMM().fit(kept).get_norm_factors(kept), rtol=1e-12
    )


def test_log_cpm_is_edgers_definition() -> None:
    counts = np.array([[10, 0, 90, 900], [20, 5, 200, 1775], [0, 40, 100, 860]], dtype=float)
    fitted = LogCPM(min_count=0, min_total_count=0).fit(counts)
    assert fitted.support_.all()
    library = counts.sum(axis=1)
    prior = 2 * library / library.mean()
    expected = np.log2((counts + prior[:, None]) / (library + 2 * prior)[:, None] * 1e6)
    np.testing.assert_allclose(fitted.transform(counts), expected, rtol=1e-13)
    with pytest.raises(ValueError, match="needs raw read counts"):
        fitted.transform(np.log2(counts + 1))


def test_median_of_ratios_size_factors() -> None:
    counts = np.array([[10.0, 20.0], [20.0, 40.0], [40.0, 80.0]])  # geometric means 20 and 40
    log_means = np.log(counts).mean(axis=0)
    np.testing.assert_allclose(median_of_ratios(counts, log_means), [0.5, 1.0, 2.0], rtol=1e-12)
    np.testing.assert_allclose(median_of_ratios(counts[[2]] * 3, log_means), [6.0], rtol=1e-12)
    with pytest.raises(ValueError, match=r"1 sample\(s\) \(row 1 first\) have no reads in half or more"):
        median_of_ratios(np.array([[10.0, 20.0], [0.0, 40.0]]), log_means)


def nb_cox_reid_loss(log_alpha: float, counts: np.ndarray, mu: np.ndarray) -> float:
    """DESeq2's gene-wise objective written out with scipy's negative binomial (mean mu, variance
    mu + alpha mu^2): minus the log-likelihood plus the Cox-Reid term of an intercept design."""
    from scipy.stats import nbinom

    alpha = np.exp(log_alpha)
    size = 1 / alpha
    log_likelihood = nbinom.logpmf(counts, size, size / (size + mu)).sum()
    return float(-log_likelihood + 0.5 * np.log((mu / (1 + mu * alpha)).sum()))


def test_gene_wise_dispersions_maximise_the_cox_reid_likelihood(counts_data: Dataset) -> None:
    from scipy.optimize import minimize_scalar

    fitted = VST().fit(counts_data.X_train, counts_data.y_train)
    kept = counts_data.X_train.to_numpy()[:, fitted.support_]
    mu = np.maximum(fitted.size_factors_[:, None] * fitted.means_, 0.5)
    genes = np.random.default_rng(0).choice(kept.shape[1], 25, replace=False)
    ours = dispersion_mle(kept[:, genes], mu[:, genes], max_disp=float(len(kept)))
    np.testing.assert_array_equal(ours, fitted.dispersions_[genes])
    bounds = (np.log(1e-8), np.log(float(len(kept))))
    for gene, alpha in zip(genes, ours, strict=True):
        best = minimize_scalar(
            nb_cox_reid_loss, bounds=bounds, args=(kept[:, gene], mu[:, gene]), options={"xatol": 1e-10}
        )
        assert nb_cox_reid_loss(np.log(alpha), kept[:, gene], mu[:, gene]) <= best.fun + 1e-8
        assert abs(np.log(alpha) - best.x) < 1e-3


def test_vst_is_deseq2s_transformation_of_the_fitted_trend(counts_data: Dataset) -> None:
    fitted = VST().fit(counts_data.X_train, counts_data.y_train)
    assert fitted.trend_ is not None
    a0, a1 = fitted.trend_
    assert abs(a0 - 0.2) < 0.03, "the trend's asymptote is the study's simulated dispersion, 0.2"
    assert 1 < a1 < 3, "... and its 1/mean part the simulated one, 2"
    kept = counts_data.X_test.to_numpy()[:, fitted.support_]
    with np.errstate(divide="ignore"):  # log 0 = -inf: genes without reads in a sample
        reference = np.log(counts_data.X_train.to_numpy()[:, fitted.support_]).mean(axis=0)
        usable = np.isfinite(reference)  # genes with reads in every training sample
        ratios = np.log(kept[:, usable]) - reference[usable]
    q = kept / np.exp(np.median(ratios, axis=1))[:, None]
    by_hand = np.log2((1 + a1 + 2 * a0 * q + 2 * np.sqrt(a0 * q * (1 + a1 + a0 * q))) / (4 * a0))
    np.testing.assert_allclose(fitted.transform(counts_data.X_test), by_hand, rtol=1e-12)
    deep = q > 1e4  # far above the trend's Poisson part, the VST is log2 of the normalised count
    assert deep.any() and np.abs(by_hand[deep] - np.log2(q[deep])).max() < 1e-3


def test_without_a_trend_the_vst_uses_the_mean_dispersion_as_pydeseq2_does(counts_data: Dataset) -> None:
    means = np.geomspace(1, 1e4, 200)
    assert dispersion_trend(means, np.full(200, 0.2)) is None, "no 1/mean part: a₁ falls to its bound"
    np.testing.assert_allclose(dispersion_trend(means, 0.1 + 2 / means), [0.1, 2.0], rtol=1e-3)
    fitted = VST().fit(counts_data.X_train, counts_data.y_train)
    fitted.trend_ = None
    alpha = fitted.mean_dispersion_
    values = fitted.transform(counts_data.X_test)
    counts = counts_data.X_test.to_numpy()
    size = median_of_ratios(
        counts[:, fitted.support_][:, fitted.reference_genes_], fitted.log_means_[fitted.reference_genes_]
    )
    q = counts[:, fitted.support_] / size[:, None]
    np.testing.assert_allclose(
        values, (2 * np.arcsinh(np.sqrt(alpha * q)) - np.log(alpha) - np.log(4)) / np.log(2), rtol=1e-12
    )


def test_a_vst_model_is_saved_and_calls_new_samples_from_their_raw_counts(
    counts_data: Dataset, tmp_path: Path
) -> None:
    from test_model import _saved

    from leukemia.model import card_markdown, load

    folder = _saved(counts_data, tmp_path / "model", preprocessing="vst")
    model = load(folder)
    assert type(model.pipeline.named_steps["preprocess"]).__name__ == "VST"
    saved = pd.read_csv(folder / "test_predictions.csv", index_col=0)
    again = model.predict(counts_data.X_test.astype(np.int64))  # raw counts, as a user brings them
    assert again["call"].tolist() == saved.loc[again.index, "call"].tolist()
    kept = int(model.pipeline.named_steps["preprocess"].support_.sum())
    assert f"all {kept} genes edgeR's filter kept, whose counts make each sample's DESeq2 size factor" in (
        card_markdown(model.card)
    )


def test_the_vst_refuses_what_it_cannot_normalise() -> None:
    rng = np.random.default_rng(1)
    counts = rng.poisson(200, size=(10, 6)).astype(float)
    counts[np.arange(6), np.arange(6)] = 0  # every gene has no reads in one training sample
    with pytest.raises(ValueError, match="every gene edgeR's filter kept has a zero count in some training"):
        VST().fit(counts, np.repeat(["a", "b"], 5))
    fitted = VST().fit(counts[6:] + 1, ["a", "a", "b", "b"])
    with pytest.raises(ValueError, match="DESeq2's median-of-ratios size factor would be 0"):
        fitted.transform(np.vstack([counts[:1] * 0, counts[6:]]))
    with pytest.raises(ValueError, match="VST needs raw read counts"):
        fitted.transform(np.log2(counts[6:] + 1))


PYDESEQ2_SCRIPT = """
import sys
import numpy as np, pandas as pd
from pydeseq2.dds import DeseqDataSet

given = np.load(sys.argv[1] + "/counts.npz", allow_pickle=True)
train, test, labels = given["train"], given["test"], given["labels"]
samples = [f"s{i}" for i in range(len(train))]
counts = pd.DataFrame(train.astype(np.int64), index=samples, columns=[f"g{j}" for j in range(train.shape[1])])
metadata = pd.DataFrame({"condition": labels}, index=samples)
results = {}
for fit_type in ("parametric", "mean"):
    dds = DeseqDataSet(counts=counts, metadata=metadata, design="~condition", quiet=True, n_cpus=1)
    dds.vst_fit_type = fit_type
    dds.vst_fit(use_design=False)
    results[fit_type + "_test"] = dds.vst_transform(test.astype(float))
    results[fit_type + "_train"] = dds.vst_transform(train.astype(float))
results["size_factors"] = dds.obs["size_factors"].to_numpy()
results["dispersions"] = dds.var["vst_genewise_dispersions"].to_numpy()
dds = DeseqDataSet(counts=counts, metadata=metadata, design="~condition", quiet=True, n_cpus=1)
dds.vst_fit(use_design=False)
results["trend"] = dds.uns["vst_trend_coeffs"].to_numpy()
np.savez(sys.argv[1] + "/pydeseq2.npz", **results)
"""


@pytest.mark.slow
def test_the_vst_agrees_with_pydeseq2(reference_python: Path, counts_data: Dataset, tmp_path: Path) -> None:
    """PyDESeq2 0.5.4's ``vst_fit`` (intercept design) on the training samples' kept genes and its
    ``vst_transform`` of both sets, parametric and mean trends, against :class:`VST` fitted the same way."""
    ours = VST().fit(counts_data.X_train, counts_data.y_train)
    train = counts_data.X_train.to_numpy()[:, ours.support_]
    test = counts_data.X_test.to_numpy()[:, ours.support_]
    np.savez(tmp_path / "counts.npz", train=train, test=test, labels=counts_data.y_train.to_numpy(dtype=str))
    run = subprocess.run(  # PyDESeq2 imports matplotlib: not the notebooks' inline backend
        [str(reference_python), "-c", PYDESEQ2_SCRIPT, str(tmp_path)],
        capture_output=True, text=True, timeout=900, env={**os.environ, "MPLBACKEND": "Agg"},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    theirs = np.load(tmp_path / "pydeseq2.npz")
    np.testing.assert_allclose(ours.size_factors_, theirs["size_factors"], rtol=1e-12)
    # the same maximum of the likelihood: PyDESeq2's line search stops a little short of it on some genes
    np.testing.assert_allclose(ours.dispersions_, theirs["dispersions"], rtol=1e-2)
    assert ours.trend_ is not None
    np.testing.assert_allclose(ours.trend_, theirs["trend"], rtol=1e-3)
    for name, counts in (("train", counts_data.X_train), ("test", counts_data.X_test)):
        np.testing.assert_allclose(ours.transform(counts), theirs[f"parametric_{name}"], rtol=0, atol=1e-4)
    ours.trend_ = None  # the fall-back: the mean dispersion
    for name, counts in (("train", counts_data.X_train), ("test", counts_data.X_test)):
        np.testing.assert_allclose(ours.transform(counts), theirs[f"mean_{name}"], rtol=0, atol=1e-4)


@pytest.mark.parametrize("option", ["log_cpm", "tmm", "vst"])
def test_normalisation_is_fitted_on_training_samples_only(counts_data: Dataset, option: str) -> None:
    """A test set sequenced ten times deeper, or transformed one sample at a time, changes nothing it should
    not: the fit is the training samples', and each test sample is normalised by its own library size."""
    step = make_preprocessor(option, input_scale="counts").fit(counts_data.X_train, counts_data.y_train)
    before = step.transform(counts_data.X_test)
    alone = np.vstack([step.transform(counts_data.X_test.iloc[[i]]) for i in range(len(counts_data.X_test))])
    np.testing.assert_allclose(alone, before, rtol=0, atol=1e-12)
    deeper = step.transform(counts_data.X_test * 10)
    if option in ("log_cpm", "vst"):  # counts and library size (size factor) scale together
        np.testing.assert_allclose(deeper, before, rtol=0, atol=1e-9)
    else:  # TMM's weights depend on the counts' size: small moves only
        assert np.abs(deeper - before).max() < 0.2
    state = {k: v for k, v in vars(step).items() if k.endswith("_") and k != "feature_names_in_"}
    again = make_preprocessor(option, input_scale="counts").fit(counts_data.X_train, counts_data.y_train)
    for key, value in state.items():  # nothing of the test samples is in the fit
        np.testing.assert_array_equal(getattr(again, key), value)

    pipeline = make_pipeline(
        "logistic_regression", preprocessing=option, selector="f_test", k=20, input_scale="counts"
    )
    pipeline.fit(counts_data.X_train.to_numpy(), counts_data.y_train.to_numpy())
    calls = pipeline.predict(counts_data.X_test.to_numpy())
    np.testing.assert_array_equal(pipeline.predict(counts_data.X_test.to_numpy() * 10), calls)
    assert (calls == counts_data.y_test.to_numpy()).mean() > 0.7, "the informative genes are found"


def test_a_deeper_test_set_changes_no_cross_validated_figure(counts_data: Dataset) -> None:
    from dataclasses import replace

    deeper = replace(counts_data, X_test=counts_data.X_test * 10)
    settings = {
        "models": ["knn", "logistic_regression"],
        "preprocessing": "standard",
        "selector": "f_test",
        "k": 20,
    }
    a, b = (evaluate_models(d, "seed", **settings) for d in (counts_data, deeper))
    pd.testing.assert_frame_equal(a.table, b.table)


def test_options_that_do_not_apply_are_refused() -> None:
    with pytest.raises(ValueError, match=r"dudoit's thresholds .* are microarray intensities"):
        make_preprocessor("dudoit", input_scale="counts")
    with pytest.raises(
        ValueError, match="log_cpm normalises raw read counts by library size; these values are not"
    ):
        make_preprocessor("log_cpm", input_scale="log")
    standard = make_preprocessor("standard", input_scale="counts")
    assert [name for name, _ in standard.steps] == ["log_cpm", "standard"], "counts are normalised first"
    assert [name for name, _ in make_preprocessor("none", input_scale="counts").steps] == ["log_cpm"]


def test_a_run_on_counts_adapts_its_defaults_and_refuses_dudoit(counts_data: Dataset) -> None:
    from leukemia.runner import DataLimits, RunError, adapted_defaults, parameters, validate

    limits = DataLimits.of(counts_data)
    kept = int(LogCPM().fit(counts_data.X_train.to_numpy(), counts_data.y_train.to_numpy()).support_.sum())
    assert limits.counts and limits.genes == kept < counts_data.X_train.shape[1]
    specs = parameters()
    adapted = adapted_defaults({}, specs, limits)
    assert adapted["PREPROCESSING"] == "log_cpm" and adapted["SEARCH_PREPROCESSING"] == "log_cpm,tmm,vst"
    assert "PREPROCESSING" not in adapted_defaults({"PREPROCESSING": "tmm"}, specs, limits), (
        "a user's value stays"
    )
    with pytest.raises(RunError, match=r"PREPROCESSING = 'dudoit' is out of range: dudoit's thresholds"):
        validate({"PREPROCESSING": "dudoit"}, specs, limits)
    with pytest.raises(RunError, match=r"SEARCH_PREPROCESSING.*dudoit: dudoit's thresholds"):
        validate({"SEARCH_PREPROCESSING": "tmm,dudoit"}, specs, limits)


@pytest.mark.slow
def test_a_count_study_runs_through_every_notebook(study, tmp_path: Path) -> None:
    """The whole course on simulated RNA-seq counts; its saved model calls the test samples from the file."""
    X, y = study
    spec = write_study(tmp_path / "study", X, y, name="count-study")
    out = tmp_path / "run"
    run = subprocess.run(
        [sys.executable, "-m", "leukemia.cli", "run", "--data", str(spec), "--out", str(out), "-q"],
        capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert (
        "PREPROCESSING set to log_cpm" in run.stderr
        and "SEARCH_PREPROCESSING set to log_cpm,tmm,vst" in run.stderr
    )
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["dataset"]["scale_used"] == COUNTS_AS_GIVEN
    assert set(manifest["adapted_parameters"]) >= {
        "PREPROCESSING",
        "PCA_PREPROCESSING",
        "SEARCH_PREPROCESSING",
    }
    text = (out / "03_preprocessing.ipynb").read_text()
    assert "## Read counts: edgeR's and DESeq2's recipes" in text and "## The Dudoit recipe" not in text
    assert "'count-study'" in text, "notebook 03 shows the data set's own counts"
    card = json.loads((out / "model" / "model_card.json").read_text())
    assert card["pipeline"]["configuration"]["preprocessing"] in ("log_cpm", "tmm", "vst")
    # the saved model calls the held-out samples from the file's raw counts, as the run did
    data = load_dataset(spec)
    held_out = tmp_path / "held_out.tsv"
    data.X_test.T.astype(np.int64).to_csv(held_out, sep="\t", index_label="gene")
    calls = tmp_path / "calls.csv"
    predict = subprocess.run(
        [sys.executable, "-m", "leukemia.cli", "predict", str(out), str(held_out), "--out", str(calls)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert predict.returncode == 0, predict.stderr[-2000:]
    run_calls = pd.read_csv(out / "model" / "test_predictions.csv", index_col=0)
    new_calls = pd.read_csv(calls, index_col=0)
    assert new_calls["call"].tolist() == run_calls.loc[new_calls.index, "call"].tolist()
    logged = tmp_path / "logged.tsv"
    np.log2(data.X_test.T + 1).to_csv(logged, sep="\t", index_label="gene")
    refused = subprocess.run(
        [sys.executable, "-m", "leukemia.cli", "predict", str(out), str(logged)],
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 1 and "trained on raw read counts" in refused.stderr


def test_yaml_scale_counts_is_a_choice(tmp_path: Path) -> None:
    (tmp_path / "m.tsv").write_text("gene\tS1\tS2\nG1\t1\t2\n")
    fields = {
        "name": "x",
        "expression": "m.tsv",
        "labels": "m.tsv",
        "class_column": "c",
        "classes": ["a", "b"],
    }
    (tmp_path / "d.yaml").write_text(yaml.safe_dump({**fields, "scale": "raw"}))
    with pytest.raises(
        DataError, match=r"field 'scale' must be one of \['auto', 'linear', 'log2', 'counts'\]"
    ):
        load_dataset(tmp_path / "d.yaml")

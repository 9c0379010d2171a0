"""The saved model (leukemia.model) and `leukemia predict`: round trips, gene matching, scales, refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from leukemia import config
from leukemia.dataset import LOG2_OF_LINEAR, Dataset
from leukemia.evaluate import evaluate_models, model_genes
from leukemia.honest import SearchSpace, nested_cv, nested_summary
from leukemia.model import (
    CARD_FILE,
    MODEL_FILE,
    TEST_PREDICTIONS,
    TRUSTED_TYPES,
    ModelError,
    ModelVersionWarning,
    card_estimates,
    card_markdown,
    cautions,
    fit_final,
    load,
    model_card,
    model_threshold,
    save,
)

N_GENES = 600  # Golub's first genes: every step of the real pipeline, in seconds


def _saved(
    data: Dataset, folder: Path, model: str = "weighted_voting", preprocessing: str = "dudoit"
) -> Path:
    space = SearchSpace((preprocessing,), ("signal_to_noise",), (10,), (model,), cv_folds=3, cv_repeats=1)
    honest = evaluate_models(data, "honest", space=space, cv_folds=3, n_jobs=1)
    nested = nested_summary(nested_cv(data, space, outer_folds=3, n_jobs=1))
    final = fit_final(data, space.for_data(data).pipeline(honest.choice.configuration))
    threshold = model_threshold(data, honest.choice.configuration, cv_folds=3)
    card = model_card(
        data, final, honest, nested, threshold, cv_folds=3, cv_repeats=1, input_scale=data.filter_scale
    )
    return save(final, card, folder, data)


@pytest.fixture(scope="module")
def small(golub) -> Dataset:
    return replace(golub, X_train=golub.X_train.iloc[:, :N_GENES], X_test=golub.X_test.iloc[:, :N_GENES])


@pytest.fixture(scope="module")
def saved(small: Dataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _saved(small, tmp_path_factory.mktemp("run") / "model")


def _copy(folder: Path, tmp_path: Path) -> Path:
    target = tmp_path / "model"
    target.mkdir()
    for path in folder.iterdir():
        (target / path.name).write_bytes(path.read_bytes())
    return target


def _gct(path: Path, X: pd.DataFrame) -> Path:
    """samples × genes written as GCT 1.2, every value exactly (repr)."""
    lines = ["#1.2", f"{X.shape[1]}\t{X.shape[0]}", "Name\tDescription\t" + "\t".join(map(str, X.index))]
    lines += [f"{gene}\tna\t" + "\t".join(repr(float(v)) for v in X[gene]) for gene in X.columns]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_saved_model_calls_the_test_samples_as_the_fitted_pipeline_does(
    small: Dataset, saved: Path
) -> None:
    model = load(saved.parent)  # a run directory, as `leukemia predict RUN_DIR` takes it
    assert model.folder == saved
    table = model.predict(small.X_test, labels=small.y_test, loaded_as=small.scale_used)
    space = SearchSpace(
        ("dudoit",), ("signal_to_noise",), (10,), ("weighted_voting",), cv_folds=3, cv_repeats=1
    )
    pipeline = fit_final(small, space.for_data(small).pipeline(dict(model.card["pipeline"]["configuration"])))
    proba = pipeline.predict_proba(small.X_test.to_numpy())
    assert np.array_equal(table[["probability ALL", "probability AML"]].to_numpy(), proba)
    assert table["call"].tolist() == [small.classes[i] for i in proba.argmax(axis=1)]
    assert np.array_equal(table["confidence"].to_numpy(), np.abs(2 * proba[:, 1] - 1)), "Golub's strength"
    assert table["correct"].tolist() == (table["call"] == small.y_test.astype(str).to_numpy()).tolist()
    written = pd.read_csv(saved / TEST_PREDICTIONS, index_col="sample")
    assert written["call"].tolist() == table["call"].tolist()
    assert np.array_equal(written["confidence"].to_numpy(), table["confidence"].to_numpy()), (
        "every digit kept"
    )
    assert len(model.predict(small)) == 72, "a Dataset: every sample, training and test"


def test_the_card_says_what_the_model_is_and_how_good(small: Dataset, saved: Path) -> None:
    card = json.loads((saved / CARD_FILE).read_text())
    assert card["classes"] == ["ALL", "AML"]
    genes = [g["id"] for g in card["genes_used"]]
    assert len(genes) == 10 and set(genes) <= set(small.X_train.columns)
    model = load(saved)
    assert set(genes) == set(model_genes(small, model.pipeline).index), "the genes the fitted pipeline reads"
    assert card["training_data"]["files_sha256"] == dict(small.checksums)
    assert card["training_data"]["per_class"] == {"ALL": 27, "AML": 11}
    assert card["training_genes"] == list(small.X_train.columns)
    held = card["estimates"]["held_out"]
    assert held["n"] == 34 and held["ci_low"] < held["accuracy"] <= held["ci_high"]
    assert card["estimates"]["nested_cv"]["n"] == 38
    assert card["software"]["skops"] and card["software"]["scikit-learn"]
    assert card["git_commit"] is None or len(card["git_commit"]) == 40
    threshold = card["abstention"]["threshold"]
    assert threshold is None or 0 <= threshold < 1
    assert (
        card["confounding"]["batch"].startswith("not checked")
        and card["confounding"]["flagged_annotations"] == {}
    )
    assert cautions(card) == []
    estimates = card_estimates(card)
    assert estimates.loc["held-out test set", "correct"] == f"{held['n_correct']}/34"
    assert estimates.loc["nested CV", "ci_low"] == card["estimates"]["nested_cv"]["ci_low"]
    assert np.isnan(estimates.loc["CV of the chosen configuration", "ci_low"]), (
        "a CV mean has no exact interval"
    )
    text = card_markdown(card)
    assert card["model"]["sha256"] in text and card["model"]["sha256"] not in card_markdown(
        card, file_hash=False
    )
    assert "| held-out test set | " in text and "nested CV" in text and genes[0] in text


def test_new_samples_come_as_files_in_other_formats_with_genes_in_any_order(
    small: Dataset, saved: Path, tmp_path: Path
) -> None:
    model = load(saved)
    expected = model.predict(small.X_test, loaded_as=small.scale_used)
    shuffled = small.X_test.sample(frac=1.0, axis=1, random_state=0)  # genes in another order
    extra = shuffled.assign(NOT_A_GENE=1.0)
    (tmp_path / "new.tsv").write_text(extra.T.rename_axis("gene").to_csv(sep="\t"))
    by_tsv = model.call(tmp_path / "new.tsv")
    assert by_tsv.table["call"].tolist() == expected["call"].tolist()
    assert np.array_equal(by_tsv.table["confidence"].to_numpy(), expected["confidence"].to_numpy())
    assert by_tsv.genes_ignored == 1 and "linear" in by_tsv.scale
    by_gct = model.predict(_gct(tmp_path / "new.gct", small.X_test))
    assert by_gct["call"].tolist() == expected["call"].tolist()
    # Genes the model does not read may be missing: nothing they feed reaches the model.
    unused = [g for g in small.X_test.columns if g not in model.genes][:50]
    fewer = model.call(small.X_test.drop(columns=unused))
    assert fewer.table["call"].tolist() == expected["call"].tolist() and fewer.genes_found == N_GENES - 50


def test_missing_genes_are_refused_with_their_count_and_ids(small: Dataset, saved: Path) -> None:
    model = load(saved)
    gone = model.genes[:3]
    with pytest.raises(ModelError, match=r"3 of the 10 genes the model uses are missing") as error:
        model.predict(small.X_test.drop(columns=gone))
    assert all(gene in str(error.value) for gene in gone)
    with pytest.raises(ModelError, match="samples as rows and genes as columns"):
        model.predict(small.X_test.T)
    holes = small.X_test.copy()
    holes.iloc[2, holes.columns.get_loc(model.genes[0])] = np.nan
    with pytest.raises(
        ModelError, match=rf"sample '{holes.index[2]}' has no value for gene '{model.genes[0]}'"
    ):
        model.predict(holes)


def test_values_on_another_scale_are_refused_or_brought_to_the_models(
    small: Dataset, saved: Path, tmp_path: Path
) -> None:
    model = load(saved)  # trained on Golub's linear intensities, used as they are
    with pytest.raises(ModelError, match=r"log scale.*trained on linear intensities"):
        model.predict(np.log2(small.X_test.clip(lower=1)))
    # A model trained on log2 values (a linear file the loader took the log2 of) takes linear values too.
    logged = replace(
        small, X_train=np.log2(small.X_train.clip(lower=1)), X_test=np.log2(small.X_test.clip(lower=1)),
        scale_detected="linear", scale_used=LOG2_OF_LINEAR,
    )  # fmt: skip
    log_model = load(_saved(logged, tmp_path / "log", model="knn", preprocessing="standard"))
    on_log = log_model.call(logged.X_test)
    on_linear = log_model.call(small.X_test)
    assert "log2 taken" in on_linear.scale and "used as given" in on_log.scale
    assert on_linear.table["call"].tolist() == on_log.table["call"].tolist()
    assert on_log.table["confident"].notna().all() or log_model.threshold is None


@pytest.mark.parametrize("k", [5, 50])
def test_every_model_of_the_registry_is_saved_and_loaded_back(small: Dataset, k: int) -> None:
    """Every type a registry model holds (the F-test's score function, k-NN's search trees on few genes, the
    ensembles' trees, xgboost's booster) is one the loader trusts, and comes back calling as it did."""
    import skops.io as sio

    from leukemia.model import Model
    from leukemia.models import MODELS, make_pipeline

    for name in MODELS:
        pipeline = fit_final(small, make_pipeline(name, preprocessing="standard", selector="f_test", k=k))
        used = pipeline[:-1].get_feature_names_out(small.X_train.columns)
        card = {
            "classes": list(small.classes), "training_genes": list(small.X_train.columns),
            "abstention": {"threshold": None}, "training_data": {"scale_used": "linear"},
            "genes_used": [{"id": gene} for gene in used],
        }  # fmt: skip
        blob = sio.dumps(pipeline)
        untrusted = sio.get_untrusted_types(data=blob)
        assert set(untrusted) <= set(TRUSTED_TYPES), name
        before = Model(pipeline, card).predict(small.X_test)
        again = Model(sio.loads(blob, trusted=untrusted), card).predict(small.X_test)
        pd.testing.assert_frame_equal(before, again, obj=name)


def test_a_changed_or_foreign_model_file_is_refused(saved: Path, tmp_path: Path) -> None:
    import skops.io as sio
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    folder = _copy(saved, tmp_path)
    blob = (folder / MODEL_FILE).read_bytes()
    (folder / MODEL_FILE).write_bytes(blob[: len(blob) // 2])  # cut short
    with pytest.raises(ModelError, match="changed, cut short or replaced"):
        load(folder)
    flipped = bytearray(blob)
    flipped[len(blob) // 3] ^= 0xFF  # one byte changed
    (folder / MODEL_FILE).write_bytes(bytes(flipped))
    with pytest.raises(ModelError, match="sha256"):
        load(folder)
    # A foreign file whose card was made to vouch for it: its types are refused before anything is built.
    marker = tmp_path / "ran"
    evil = sio.dumps(make_pipeline(FunctionTransformer(os.system, kw_args={"command": f"touch {marker}"})))
    (folder / MODEL_FILE).write_bytes(evil)
    card = json.loads((folder / CARD_FILE).read_text())
    card["model"]["sha256"] = __import__("hashlib").sha256(evil).hexdigest()
    (folder / CARD_FILE).write_text(json.dumps(card))
    with pytest.raises(ModelError, match="does not trust"):
        load(folder)
    assert not marker.exists(), "nothing of the file ran"


def test_a_card_that_is_not_ours_or_missing_is_refused(saved: Path, tmp_path: Path) -> None:
    folder = _copy(saved, tmp_path)
    card = json.loads((folder / CARD_FILE).read_text())
    (folder / CARD_FILE).write_text(json.dumps({**card, "format": "someone else's"}))
    with pytest.raises(ModelError, match="not a model card this package wrote"):
        load(folder)
    (folder / CARD_FILE).write_text(json.dumps({**card, "format_version": 99}))
    with pytest.raises(ModelError, match="version 99"):
        load(folder)
    (folder / CARD_FILE).write_text("{not json")
    with pytest.raises(ModelError, match="not a readable model card"):
        load(folder)
    (folder / CARD_FILE).unlink()
    with pytest.raises(ModelError, match=r"no model_card\.json"):
        load(folder)
    with pytest.raises(ModelError, match="no such run directory"):
        load(tmp_path / "nowhere")


def test_a_model_saved_by_other_versions_warns(saved: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run under another scikit-learn than the one that saved it (the card is not edited: that is refused)."""
    import leukemia.model
    from leukemia.provenance import package_versions

    def other(packages: tuple[str, ...]) -> dict[str, str]:
        return package_versions(packages) | {"scikit-learn": "0.24.2"}

    monkeypatch.setattr(leukemia.model, "package_versions", other)
    with pytest.warns(ModelVersionWarning, match=r"scikit-learn \d+\.\d+\.\d+ → 0\.24\.2"):
        load(saved)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "leukemia.cli", *args], capture_output=True, text=True, timeout=300,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_predict_command_writes_the_table_whole_or_not_at_all(
    small: Dataset, saved: Path, data_dir: Path, tmp_path: Path
) -> None:
    # A dataset.yaml with labels: Golub's independent file in its own form, labels joined by patient number
    (tmp_path / "new.yaml").write_text(
        f"expression: {data_dir / config.TEST_FILE}\nlabels: {data_dir / config.LABELS_FILE}\n"
        "sample_column: patient\nclass_column: cancer\n"
    )
    out = tmp_path / "out" / "calls.csv"
    result = _cli("predict", str(saved.parent), str(tmp_path / "new.yaml"), "--out", str(out))
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(out, index_col="sample")
    expected = load(saved).predict(small.X_test, labels=small.y_test, loaded_as=small.scale_used)
    assert table.index.tolist() == [int(s) for s in expected.index]
    assert (
        table["call"].tolist() == expected["call"].tolist()
        and table["correct"].tolist() == expected["correct"].tolist()
    )
    n_correct = int(expected["correct"].sum())
    assert (
        f"accuracy on the 34 labelled sample(s) the model was not trained on: {n_correct}/34" in result.stdout
    )
    assert "exact 95% CI" in result.stdout and "ms per sample" in result.stdout
    # Without --out the table goes to standard output, the summary to standard error
    bare = _cli("predict", str(saved), str(data_dir / config.TEST_FILE))
    assert bare.returncode == 0 and bare.stdout.startswith("sample,call,probability ALL")
    assert "34 sample(s) called" in bare.stderr and "accuracy" not in bare.stderr
    # A refusal writes nothing and says why
    (tmp_path / "few.tsv").write_text(small.X_test.iloc[:, :5].T.rename_axis("gene").to_csv(sep="\t"))
    refused = _cli("predict", str(saved), str(tmp_path / "few.tsv"), "--out", str(tmp_path / "none.csv"))
    assert refused.returncode == 1 and "genes the model uses are missing" in refused.stderr
    assert not (tmp_path / "none.csv").exists() and not list(tmp_path.glob(".none.csv*"))
    gone = _cli("predict", str(tmp_path / "nowhere"), str(tmp_path / "few.tsv"))
    assert gone.returncode == 1 and "no such run directory" in gone.stderr
    folder = _cli("predict", str(saved), str(data_dir / config.TEST_FILE), "--out", str(tmp_path))
    assert (
        folder.returncode == 1 and "is a folder" in folder.stderr and not list(tmp_path.parent.glob(".*.tmp"))
    )
    (tmp_path / "nolabel.yaml").write_text(
        f"expression: {data_dir / config.TEST_FILE}\nlabels: {data_dir / config.LABELS_FILE}\n"
    )
    unnamed = _cli("predict", str(saved), str(tmp_path / "nolabel.yaml"))
    assert unnamed.returncode == 1 and "class_column: is not" in unnamed.stderr
    # Samples as rows in a file: the hint speaks of the file
    (tmp_path / "rows.tsv").write_text(small.X_test.rename_axis("sample").to_csv(sep="\t"))
    rows = _cli("predict", str(saved), str(tmp_path / "rows.tsv"))
    assert rows.returncode == 1 and "the file holds samples as rows" in rows.stderr


def test_a_run_whose_summary_saved_no_model_fails(tmp_path: Path) -> None:
    """A run that ran notebook 11 but has no loadable model lost part of its output: it does not succeed."""
    from types import SimpleNamespace

    from leukemia.runner import RunError, _saved_model

    manifest: dict[str, object] = {"status": "running"}
    plan = SimpleNamespace(paths=[Path("05_modeling.ipynb"), Path("11_summary.ipynb")], directory=tmp_path)
    with pytest.raises(RunError, match="model is missing or broken"):
        _saved_model(plan, manifest)  # type: ignore[arg-type]
    assert json.loads((tmp_path / "manifest.json").read_text())["status"] == "failed"
    without = SimpleNamespace(paths=[Path("05_modeling.ipynb")], directory=tmp_path)
    assert _saved_model(without, {}) is None, "a run without notebook 11 saves no model and needs none"  # type: ignore[arg-type]


def test_the_cautions_name_each_confounder_once() -> None:
    card: dict = {
        "confounding": {
            "batch": "confounded (Cramér's V = 0.730, at or above 0.5)", "batch_column": "batch",
            "flagged_annotations": {"outcome": 1.0, "batch": 0.73},
            "notes": {"outcome": "each value within one class: subtypes of the classes, or a confounder"},
        }
    }  # fmt: skip
    said = cautions(card)
    assert said[0].startswith("class and batch were confounded") and len(said) == 2
    assert "'outcome' (Cramér's V = 1.000)" in said[1] and "subtypes of the classes" in said[1]
    card["confounding"] |= {"batch": "not confounded by the rule V ≥ 0.5 (Cramér's V = 0.100)", "notes": {}}
    card["confounding"]["flagged_annotations"] = {"centre": 0.9}
    assert cautions(card) == [
        "the class was strongly associated with the sample annotation 'centre' (Cramér's V = 0.900) in the "
        "data the model was trained and tested on"
    ]
    assert cautions({}) == ["the model card does not record whether its data were checked for confounding"]


def test_a_changed_card_is_refused(saved: Path, tmp_path: Path) -> None:
    """The card decides the class names and the genes' order: the model file records its digest."""
    folder = _copy(saved, tmp_path)
    card = json.loads((folder / CARD_FILE).read_text())
    (folder / CARD_FILE).write_text(json.dumps({**card, "classes": card["classes"][::-1]}))
    with pytest.raises(ModelError, match="the model file records another card"):
        load(folder)


def test_samples_the_model_was_trained_on_are_marked_and_not_counted(small: Dataset, saved: Path) -> None:
    model = load(saved)
    prediction = model.call(small, labels=None)  # every sample: 38 training, 34 test
    table = prediction.table
    assert int(table["trained_on"].sum()) == 38
    assert table.loc[[str(s) for s in small.X_train.index], "trained_on"].all()
    n_correct, n, low, high = prediction.accuracy()  # type: ignore[misc]
    assert (
        n == 34
        and low < n_correct / n <= high
        and n_correct == int(table["correct"][~table["trained_on"]].sum())
    )


def test_new_samples_labelled_outside_the_models_classes_keep_their_label(
    small: Dataset, saved: Path
) -> None:
    labels = small.y_test.astype(str).copy()
    labels.iloc[:4] = "Biopsy"
    table = load(saved).predict(small.X_test, labels=labels)
    assert table["class"].iloc[:4].tolist() == ["Biopsy"] * 4 and table["correct"].iloc[:4].isna().all()
    assert table["correct"].iloc[4:].notna().all()

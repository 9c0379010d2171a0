"""The chosen model, saved for new samples: a skops file, its model card, and the calls it makes.

A run's summary notebook fits the honest protocol's chosen pipeline on every training sample and saves it
(:func:`save`) in the run directory's ``model/`` folder:

- ``model.skops``: the fitted scikit-learn pipeline in skops' format, which loads without running code: only
  the types skops trusts itself and those of :data:`TRUSTED_TYPES` are rebuilt, anything else is refused;
- ``model_card.json``: what the model is, what it was trained on and how good it is (:func:`model_card`),
  with the sha256 of ``model.skops``, so that a changed or foreign file is refused;
- ``model_card.md``: the card for people (:func:`card_markdown`);
- ``test_predictions.csv``: the model's calls of the test samples, as ``leukemia predict`` writes them.

:func:`load` reads a run directory, its ``model/`` folder or the ``.skops`` file back into a :class:`Model`,
whose :meth:`Model.predict` calls new samples: genes matched by id, the values brought to the training data's
scale as its loader did, one row per sample.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from leukemia import config
from leukemia.data import DataError
from leukemia.dataset import Dataset, detect_scale, encode_labels
from leukemia.provenance import git_commit, package_versions
from leukemia.rundir import MODEL_FOLDER, write_atomic

if TYPE_CHECKING:  # scikit-learn and skops are imported where they are used: the runner checks a saved
    from sklearn.pipeline import Pipeline  # model (verify) without loading either (2 s on the run's tail)

__all__ = [
    "CARD_FILE",
    "MODEL_FILE",
    "MODEL_FOLDER",
    "TRUSTED_TYPES",
    "Model",
    "ModelError",
    "ModelVersionWarning",
    "Prediction",
    "card_digest",
    "card_estimates",
    "card_markdown",
    "cautions",
    "fit_final",
    "load",
    "model_card",
    "model_threshold",
    "save",
    "verify",
]

MODEL_FILE, CARD_FILE = "model.skops", "model_card.json"
CARD_MARKDOWN, TEST_PREDICTIONS = "model_card.md", "test_predictions.csv"
#: What a model card says it is, and the layout's version (a reader refuses other versions).
CARD_FORMAT, CARD_VERSION = "leukemia model card", 1
#: The types a saved pipeline may hold beyond those skops trusts by default: this package's estimators and
#: the F-test selector's score function, the trees of scikit-learn's ensembles, the search trees of k-NN (on
#: few genes), xgboost's classifier. :func:`load` refuses a file holding any other.
TRUSTED_TYPES: tuple[str, ...] = (
    "leukemia.counts.LogCPM",
    "leukemia.counts.VST",
    "leukemia.golub.WeightedVoting",
    "leukemia.models.ElasticNetLogistic",
    "leukemia.preprocessing.DudoitFilter",
    "leukemia.select.SignalToNoiseSelector",
    "leukemia.select.anova_f",
    "sklearn.metrics._dist_metrics.EuclideanDistance64",
    "sklearn.neighbors._ball_tree.BallTree",
    "sklearn.neighbors._kd_tree.KDTree",
    "sklearn.tree._tree.Tree",
    "xgboost.core.Booster",
    "xgboost.sklearn.XGBClassifier",
)
#: The packages whose versions a card records and :func:`load` compares (a difference warns).
CHECKED_PACKAGES: tuple[str, ...] = ("leukemia", "sklearn", "skops", "numpy", "scipy")
#: The confidence of a call, as the card and the predictions table define it.
CONFIDENCE = (
    "how far the top class's probability is ahead of the runner-up's (|2p − 1| for two classes; for weighted "
    "voting, Golub's prediction strength)"
)


class ModelError(DataError):
    """A saved model that cannot be used (missing, changed, foreign), or samples it cannot call."""


class ModelVersionWarning(UserWarning):
    """The model was saved by other versions of this package or of the libraries it runs on."""


def fit_final(data: Dataset, pipeline: Pipeline) -> Pipeline:
    """``pipeline`` (unfitted) fitted on every training sample of ``data``, as the protocols fit it: on
    the genes in the data's order, the classes coded 0, 1, … in the order of ``data.classes``."""
    from sklearn.base import clone

    y = encode_labels(data.y_train.reindex(data.X_train.index), data.classes).to_numpy()
    return clone(pipeline).fit(data.X_train.to_numpy(), y)


def model_threshold(
    data: Dataset, configuration: Mapping[str, Any], *, cv_folds: int = 5
) -> tuple[float | None, str]:
    """The chosen model's abstention threshold, by notebook 09's rule on the training set alone, and how.

    Returns ``(threshold, how)``; the threshold is None when the model gives no class probabilities or no
    threshold of the grid qualifies (:func:`~leukemia.honest.abstention`).
    """
    from leukemia.honest import ABSTENTION_GRID, abstention
    from leukemia.models import make_pipeline

    name, settings = (
        str(configuration["model"]),
        {k: configuration[k] for k in ("preprocessing", "selector", "k")},
    )
    if not hasattr(make_pipeline(name, input_scale=data.filter_scale, **settings), "predict_proba"):
        return (
            None,
            "none: the model gives no class probabilities, so its calls have no confidence and no verdict",
        )
    row = abstention(data, [name], settings, cv_folds=cv_folds).iloc[0]  # type: ignore[arg-type]
    if np.isnan(row["threshold"]):
        return None, (
            "none: a wrong out-of-fold training call has confidence "
            f"{row['train_max_wrong_confidence']:.3f}, "
            f"at or above the grid's top of {ABSTENTION_GRID[-1]:g}, so no threshold keeps only right calls; "
            "calls carry no confident/uncertain verdict"
        )
    how = (
        f"chosen on the training samples alone: the smallest of 0, 0.05, …, 0.95 at which every out-of-fold "
        f"call ({cv_folds}-fold CV) that reaches it is right; {row['train_confident']} of the "
        f"{len(data.y_train)} out-of-fold calls reach it"
    )
    if row["threshold"] == 0:
        how += " (it is 0 because every out-of-fold call was right: the model never abstains)"
    return float(row["threshold"]), how


def model_card(
    data: Dataset,
    pipeline: Pipeline,
    honest: Any,
    nested: Any,
    threshold: tuple[float | None, str],
    *,
    cv_folds: int,
    cv_repeats: int,
    input_scale: str,
) -> dict[str, Any]:
    """What a saved model is, what it was trained on and how good it is, as a JSON-ready mapping.

    Parameters
    ----------
    data
        The data set the model was trained on (its training samples).
    pipeline
        The chosen pipeline, fitted (:func:`fit_final`).
    honest
        The honest protocol's :class:`~leukemia.evaluate.Evaluation` (its chosen configuration, CV scores and
        test-set row).
    nested
        The nested-CV estimate (:class:`~leukemia.honest.NestedEstimate`).
    threshold
        :func:`model_threshold`'s answer.
    """
    from leukemia.evaluate import model_genes

    row, choice = honest.table.iloc[0], honest.choice
    best = choice.scores.iloc[0]
    genes = model_genes(data, pipeline)
    names = data.gene_names(genes.index)
    used = [  # largest signal-to-noise score first
        {
            "id": gene, "symbol": names.loc[gene, "symbol"], "description": names.loc[gene, "description"],
            "higher_in": str(genes.loc[gene, "higher_in"]),
            "difference": float(genes.loc[gene, "difference"]),
            "signal_to_noise": float(genes.loc[gene, "signal_to_noise"]),
        }
        for gene in genes.index
    ]  # fmt: skip
    counts = data.y_train.value_counts().reindex(list(data.classes)).astype(int)
    return {
        "format": CARD_FORMAT,
        "format_version": CARD_VERSION,
        "classes": list(data.classes),
        "pipeline": {
            "in_words": choice.in_words(),
            "configuration": {k: (int(v) if k == "k" else str(v)) for k, v in choice.configuration.items()},
            "steps": {name: " ".join(repr(step).split()) for name, step in pipeline.steps},
            "input_scale": input_scale,  # what the preprocessing was told the values are
            "library_genes": _library_genes(pipeline),
            "chosen_from": f"{len(choice.scores)} configurations by mean accuracy in {cv_folds}-fold "
            f"stratified CV repeated {cv_repeats} times on the training samples",
            "random_state": config.RANDOM_SEED,
        },
        "genes_used": used,
        "training_data": {
            "name": data.name,
            "files_sha256": dict(data.checksums),
            "samples": len(data.y_train),
            "per_class": {str(c): int(n) for c, n in counts.items()},
            "genes": int(data.X_train.shape[1]),
            "split": data.split,
            "scale_detected": data.scale_detected,
            "scale_used": data.scale_used,
        },
        "estimates": {
            "cv": {
                "accuracy": float(best["cv_accuracy"]),
                "sd": float(best["cv_std"]),
                "set": "training samples: the chosen configuration's mean CV accuracy, the best of the "
                "search (optimistic: chosen for being best)",
            },
            "nested_cv": {
                "n_correct": nested.n_correct,
                "n": nested.n_test,
                "accuracy": nested.accuracy,
                "ci_low": nested.ci_low,
                "ci_high": nested.ci_high,
                "set": "held-out training samples: the whole choosing procedure rerun in each outer fold",
            },
            "held_out": {
                "n_correct": int(row["n_correct"]),
                "n": int(row["n_test"]),
                "accuracy": float(row["accuracy"]),
                "ci_low": float(row["ci_low"]),
                "ci_high": float(row["ci_high"]),
                "balanced_accuracy": float(row["balanced_accuracy"]),
                "set": "test samples, used once, after the choice",
            },
        },
        "abstention": {
            "confidence": CONFIDENCE if hasattr(pipeline, "predict_proba") else None,
            "threshold": threshold[0],
            "chosen_by": threshold[1],
        },
        "confounding": _confounding(data),
        "software": package_versions((*CHECKED_PACKAGES, "pandas", "xgboost", "glum")),
        "git_commit": git_commit(),
        "training_genes": [str(g) for g in data.X_train.columns],
        "training_samples": [str(s) for s in data.X_train.index],
    }


def _confounding(data: Dataset) -> dict[str, Any]:
    """What could fool the model: the batch verdict and the sample annotations flagged against the class."""
    from leukemia.dataset import CONFOUNDED_V, annotation_scan, batch_confounding

    scan = annotation_scan(data.y, data.annotations)
    flagged = scan[scan["flagged"]] if len(scan) else scan
    return {
        "rule": f"Cramér's V with the class at or above {CONFOUNDED_V:g}",
        "batch": batch_confounding(data.y, data.batch),
        "batch_column": None if data.batch is None else str(data.batch.name),
        "flagged_annotations": {str(column): round(float(v), 3) for column, v in flagged["v"].items()}
        if len(flagged)
        else {},
        "notes": {str(column): str(note) for column, note in flagged["note"].items() if note}
        if len(flagged)
        else {},
        "annotations_scanned": int(scan["v"].notna().sum()) if len(scan) else 0,
    }


def cautions(card: Mapping[str, Any]) -> list[str]:
    """What the card says could fool the model (confounding in its training data), one phrase each."""
    if "confounding" not in card:
        return ["the model card does not record whether its data were checked for confounding"]
    found = card["confounding"]
    batch = str(found.get("batch", ""))
    where = "in the data the model was trained and tested on"
    lines = [f"class and batch were {batch} {where}"] if batch.startswith("confounded") else []
    notes = found.get("notes", {})
    lines += [
        f"the class was strongly associated with the sample annotation '{column}' (Cramér's V = {v:.3f}) "
        + where
        + (f" ({notes[column]})" if column in notes else "")
        for column, v in found.get("flagged_annotations", {}).items()
        if not (lines and column == found.get("batch_column"))  # the batch, said already
    ]
    return lines


def _sha256(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()


def save(
    pipeline: Pipeline, card: Mapping[str, Any], folder: str | Path, data: Dataset | None = None
) -> Path:
    """Write ``model.skops``, ``model_card.json`` and ``model_card.md`` into ``folder``; with ``data``, also
    the model's calls of its test samples (``test_predictions.csv``). Returns the folder.

    The card and the model file vouch for each other: the file holds the pipeline and the sha256 of the card
    (all of it but the file's own sha256, :func:`card_digest`), the card the sha256 of the file, so that
    neither can be changed without :func:`load` noticing. Each file is written under a temporary name and
    renamed into place; the card is removed first and written last, so a folder is never left with a card
    that describes another file.

    Raises
    ------
    ValueError
        The pipeline holds a type :func:`load` would refuse (not in :data:`TRUSTED_TYPES`).
    """
    import skops.io as sio

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    blob = sio.dumps({"pipeline": pipeline, "card_sha256": card_digest(card)})
    foreign = sorted(set(sio.get_untrusted_types(data=blob)) - set(TRUSTED_TYPES))
    if foreign:
        raise ValueError(f"the pipeline holds types a saved model may not: {foreign}; see TRUSTED_TYPES.")
    card = {**card, "model": {"file": MODEL_FILE, "sha256": _sha256(blob), "bytes": len(blob)}}
    (folder / CARD_FILE).unlink(missing_ok=True)
    temporary = folder / f".{MODEL_FILE}.tmp"
    temporary.write_bytes(blob)
    os.replace(temporary, folder / MODEL_FILE)
    if data is not None:
        model = Model(pipeline, card)
        table = model.predict(data.X_test, labels=data.y_test, loaded_as=data.scale_used)
        write_atomic(folder / TEST_PREDICTIONS, table.to_csv())
    write_atomic(folder / CARD_MARKDOWN, card_markdown(card))
    write_atomic(folder / CARD_FILE, json.dumps(card, indent=1, ensure_ascii=False) + "\n")
    return folder


def card_digest(card: Mapping[str, Any]) -> str:
    """The sha256 of a model card without its ``model`` entry (the file's own sha256), as sorted JSON."""
    content = {key: value for key, value in card.items() if key != "model"}
    return _sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode("utf-8"))


def _model_folder(path: Path) -> Path:
    if path.is_file():
        return path.parent
    if (path / MODEL_FOLDER / CARD_FILE).exists() or (path / MODEL_FOLDER / MODEL_FILE).exists():
        return path / MODEL_FOLDER
    return path


def verify(path: str | Path) -> tuple[dict[str, Any], Path]:
    """The model card of a saved model, checked, and the model file it vouches for; nothing is loaded.

    ``path`` is a run directory, its ``model/`` folder or the ``model.skops`` file. The card must be one this
    package wrote (its format and version) and the model file must have the sha256 the card records. Cheap:
    neither scikit-learn nor skops is imported (the runner checks a run's model so).

    Raises
    ------
    ModelError
        Naming the file and what is wrong with it.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise ModelError(f"{path}: no such run directory or model file.")
    folder = _model_folder(path)
    card_path, model_path = folder / CARD_FILE, folder / MODEL_FILE
    if not card_path.is_file():
        raise ModelError(
            f"{folder}: no {CARD_FILE}; a run saves its model in <run>/{MODEL_FOLDER}/ when it runs "
            "notebook 11 (`leukemia run`, all notebooks)."
        )
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"{card_path}: not a readable model card ({exc}).") from None
    if not isinstance(card, dict) or card.get("format") != CARD_FORMAT:
        raise ModelError(f"{card_path}: not a model card this package wrote (no 'format: {CARD_FORMAT}').")
    if card.get("format_version") != CARD_VERSION:
        raise ModelError(
            f"{card_path}: model card version {card.get('format_version')!r}; this package reads version "
            f"{CARD_VERSION}. Rerun the analysis with this version to save the model again."
        )
    if not model_path.is_file():
        raise ModelError(f"{folder}: no {MODEL_FILE} beside its model card.")
    expected, actual = card.get("model", {}).get("sha256"), _sha256(model_path.read_bytes())
    if actual != expected:
        raise ModelError(
            f"{model_path}: its sha256 is {actual[:16]}…, the model card records {str(expected)[:16]}…: "
            "the file was changed, cut short or replaced after the run saved it. Nothing of it was loaded; "
            "rerun the analysis (or restore the file) to get a model you can trust."
        )
    return card, model_path


def load(path: str | Path) -> Model:
    """The model saved in a run directory, its ``model/`` folder, or the ``model.skops`` file itself.

    The card and the file's sha256 are checked first (:func:`verify`); the file may hold no type beyond
    skops' own and :data:`TRUSTED_TYPES`, and nothing in it is executed. A model saved by other versions of
    the packages in :data:`CHECKED_PACKAGES` loads with a :class:`ModelVersionWarning`.

    Raises
    ------
    ModelError
        Naming the file and what is wrong with it.
    """
    import skops.io as sio
    from sklearn.pipeline import Pipeline

    card, model_path = verify(path)
    blob = model_path.read_bytes()
    try:
        untrusted = sio.get_untrusted_types(data=blob)
    except (zipfile.BadZipFile, KeyError, ValueError, json.JSONDecodeError) as exc:
        raise ModelError(f"{model_path}: not a skops model file ({exc}).") from None
    foreign = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if foreign:
        raise ModelError(
            f"{model_path}: holds types this package does not trust {foreign[:5]}; it was not saved by "
            "leukemia, and is not loaded (loading could run its code)."
        )
    try:
        saved = sio.loads(blob, trusted=untrusted)
    except Exception as exc:  # skops raises many kinds on a damaged file; the card vouched for it, so say so
        raise ModelError(f"{model_path}: cannot be loaded ({type(exc).__name__}: {exc}).") from None
    if not isinstance(saved, dict) or saved.get("card_sha256") != card_digest(card):
        raise ModelError(
            f"{model_path.parent / CARD_FILE}: the model file records another card: the card was changed "
            "after the run saved it (its classes, genes and figures decide the calls). Restore it or rerun "
            "the analysis."
        )
    pipeline = saved.get("pipeline")
    genes = card.get("training_genes", [])
    if not isinstance(pipeline, Pipeline) or getattr(pipeline, "n_features_in_", None) != len(genes):
        raise ModelError(f"{model_path}: not the pipeline its model card describes.")
    _warn_versions(card, model_path)
    return Model(pipeline, card, model_path.parent)


def _warn_versions(card: Mapping[str, Any], model_path: Path) -> None:
    saved = card.get("software", {})
    now = package_versions(CHECKED_PACKAGES)
    differ = [f"{name} {saved.get(name, '?')} → {now[name]}" for name in now if saved.get(name) != now[name]]
    differ = [d for d in differ if not d.startswith("python ")]
    if differ:
        warnings.warn(
            f"{model_path} was saved with other versions ({'; '.join(differ)}): its calls may differ from "
            "the run's. Rerun the analysis with these versions to be sure.",
            ModelVersionWarning,
            stacklevel=3,
        )


@dataclass(frozen=True)
class Prediction:
    """The calls of :meth:`Model.call` and what was done to get them."""

    table: pd.DataFrame
    """One row per sample (index ``sample``): ``call``; ``probability <class>`` for each class (or
    ``score <class>``, the decision function, for a model without probabilities); ``confidence`` (empty
    without probabilities); ``confident`` (True/False by the model's threshold, empty without one);
    ``trained_on`` (the sample's id is one of the model's training samples'); with labels, ``class`` (the
    label as given) and ``correct`` (empty where the label is not one of the model's classes)."""
    scale: str
    """What was done to the values to bring them to the training data's scale."""
    genes_found: int
    """The model's training genes found in the input (the others, which it does not read, were absent)."""
    genes_ignored: int
    """Genes of the input the model was not trained on (ignored)."""
    left_out: pd.DataFrame = field(default_factory=pd.DataFrame)

    def accuracy(self) -> tuple[int, int, float, float] | None:
        """Correct calls among the labelled samples the model was not trained on, their number and the exact
        95% interval; None when there are none."""
        if "correct" not in self.table:
            return None
        labelled = self.table["correct"][~self.table["trained_on"]].dropna()
        if labelled.empty:
            return None
        from leukemia.stats import clopper_pearson

        n_correct, n = int(labelled.astype(bool).sum()), len(labelled)
        return (n_correct, n, *clopper_pearson(n_correct, n))


@dataclass(frozen=True)
class Model:
    """A fitted ``preprocess → select → model`` pipeline and its model card (:func:`load`)."""

    pipeline: Pipeline
    card: Mapping[str, Any]
    folder: Path | None = None

    @property
    def classes(self) -> tuple[str, ...]:
        """The classes, in the order of the model's codes (the reference class first)."""
        return tuple(self.card["classes"])

    @property
    def genes(self) -> list[str]:
        """The ids of the genes the model reads."""
        return [gene["id"] for gene in self.card["genes_used"]]

    @property
    def threshold(self) -> float | None:
        """The confidence a call needs to count as confident; None if the model has none."""
        return self.card["abstention"]["threshold"]

    def predict(
        self, samples: object, labels: pd.Series | None = None, *, loaded_as: str | None = None
    ) -> pd.DataFrame:
        """Call ``samples``: a :class:`~leukemia.dataset.Dataset`, a samples × genes DataFrame, or the path of
        an expression file or ``dataset.yaml`` (:func:`~leukemia.spec.read_new_samples`). The table of
        :class:`Prediction`; see :meth:`call`."""
        return self.call(samples, labels, loaded_as=loaded_as).table

    def call(
        self, samples: object, labels: pd.Series | None = None, *, loaded_as: str | None = None
    ) -> Prediction:
        """Call ``samples`` (see :meth:`predict`) and say what was done.

        ``labels``: the true class of each sample, for a DataFrame. ``loaded_as``: the values are already as a
        data set's loader made them (its :attr:`~leukemia.dataset.Dataset.scale_used`); otherwise their scale
        is detected (GEO2R's rule) or, for a ``dataset.yaml``, taken from its ``scale:``.

        Raises
        ------
        ModelError
            Samples on another scale than the model's, a gene the model uses missing or without a value.
        """
        from leukemia.spec import read_new_samples

        source, forced, left_out = "the samples", "auto", pd.DataFrame()
        if isinstance(samples, Dataset):
            X, labels, loaded_as = pd.concat([samples.X_train, samples.X_test]), samples.y, samples.scale_used
            source = samples.name
        elif isinstance(samples, pd.DataFrame):
            X = samples
        elif isinstance(samples, (str, Path)):
            new = read_new_samples(samples)
            X, labels, forced, source, left_out = (
                new.X,
                new.labels,
                new.scale,
                Path(samples).name,
                new.left_out,
            )
        else:
            raise TypeError(
                f"samples must be a Dataset, a DataFrame or a path, got {type(samples).__name__}."
            )
        X = X.copy()
        X.columns = X.columns.astype(str)
        X.index = pd.Index(X.index.astype(str), name="sample")
        values, scale = self._on_training_scale(X, source, forced, loaded_as)
        matrix, found, ignored = self._matrix(values, source, from_file=isinstance(samples, (str, Path)))
        table = self._table(matrix, X.index)
        table["trained_on"] = X.index.isin([str(s) for s in self.card.get("training_samples", [])])
        if labels is not None:
            given = pd.Series(np.asarray(labels, dtype=object), index=pd.Index(labels.index.astype(str)))
            given = given.reindex(X.index)
            known = given.isin(self.classes)
            table["class"] = given
            table["correct"] = (table["call"] == given).where(known).astype("boolean")
        return Prediction(table, scale, found, ignored, left_out)

    def _on_training_scale(
        self, X: pd.DataFrame, source: str, forced: str, loaded_as: str | None
    ) -> tuple[pd.DataFrame, str]:
        """The values on the scale the model was trained on, and what was done to them."""
        from leukemia.dataset import COUNTS_AS_GIVEN

        if (
            self.card["training_data"]["scale_used"] == COUNTS_AS_GIVEN
        ):  # the pipeline normalises counts itself
            values = X.to_numpy(dtype=float)  # a few deep samples may have no zero: whole and >= 0 will do
            whole = bool(
                np.isfinite(values).all() and (values >= 0).all() and np.array_equal(values, np.round(values))
            )
            given = loaded_as == COUNTS_AS_GIVEN if loaded_as is not None else (
                forced == "counts" or (forced == "auto" and whole)
            )  # fmt: skip
            if not given:
                raise ModelError(
                    f"{source}: the model was trained on raw read counts "
                    f"({self.card['training_data']['name']}) and normalises them itself (by each "
                    "sample's library size or size factor), but these values are not raw counts "
                    "(whole numbers, none negative). Give the samples' raw counts."
                )
            return X, "read counts, used as given (the model normalises each sample by its library size)"
        trained_linear = self.card["training_data"]["scale_used"] == "linear"
        if loaded_as is not None:
            if (loaded_as == "linear") != trained_linear:
                raise ModelError(
                    f"{source}: loaded as {loaded_as!r}, the model's training data as "
                    f"{self.card['training_data']['scale_used']!r}."
                )
            return X, "as loaded"
        detected = detect_scale(X.to_numpy(dtype=float)) if forced == "auto" else forced
        how = "detected by GEO2R's rule" if forced == "auto" else "as the dataset.yaml's scale: says"
        if trained_linear:
            if detected != "linear":
                raise ModelError(
                    f"{source}: its values are on a log scale ({how}), but the model was trained on linear "
                    f"intensities used as they are ({self.card['training_data']['name']}). Give the linear "
                    "values (2 to the power of these, if they are log2 of the same kind of intensities); if "
                    "the detection is wrong, describe the file in a dataset.yaml with scale: linear."
                )
            return X, f"linear ({how}), used as given, as the training data were"
        if detected == "linear":
            return np.log2(X.clip(lower=1.0)), (
                f"linear ({how}): log2 taken (floored at 1), as the training data's loader does"
            )
        return X, f"log2 ({how}), used as given, as the training data were"

    def _matrix(self, X: pd.DataFrame, source: str, from_file: bool = False) -> tuple[np.ndarray, int, int]:
        """The samples × training-genes matrix the pipeline takes, with the genes found and ignored."""
        trained = pd.Index(self.card["training_genes"])
        used = self.genes
        missing = [g for g in used if g not in X.columns]
        if missing:
            hint = ""
            if X.index.isin(used).sum() > len(used) - len(
                missing
            ):  # the genes are where the samples should be
                hint = (
                    " Its sample ids are gene ids: the file holds samples as rows; an expression file holds "
                    "genes as rows and samples as columns (or say orientation: samples-by-genes in a "
                    "dataset.yaml)."
                    if from_file
                    else " Its row names are gene ids: pass samples as rows and genes as columns."
                )
            raise ModelError(
                f"{source}: {len(missing)} of the {len(used)} genes the model uses are missing (first: "
                f"{missing[:10]}); genes are matched by id, and the input's gene ids begin "
                f"{list(X.columns[:3])}. The model needs every one (model_card.json lists them; a gene left "
                f"out for missing values counts as missing).{hint}"
            )
        empty = X[used].isna()
        if empty.any().any():
            sample, gene = empty.stack().loc[lambda s: s].index[0]
            raise ModelError(
                f"{source}: sample {sample!r} has no value for gene {gene!r}, which the model uses."
            )
        frame = X.reindex(columns=trained)
        absent = trained[~trained.isin(X.columns)]
        values = frame.to_numpy(dtype=float)
        if len(absent):  # genes the model does not read: any value will do; check that it does
            columns = trained.get_indexer(absent)
            low, high = values.copy(), values.copy()
            low[:, columns], high[:, columns] = 0.0, 1.0
            steps = self.pipeline[:-1]
            if not np.array_equal(steps.transform(low), steps.transform(high)):
                raise ModelError(
                    f"{source}: lacks {len(absent)} of the model's {len(trained)} training genes, and its "
                    "preprocessing combines genes (read counts: each sample's library size or size factor "
                    "comes from its counts of the genes edgeR's filter kept), so it needs all of them."
                )
            values = low
        ignored = int((~X.columns.isin(trained)).sum())
        return values, int(len(trained) - len(absent)), ignored

    def _table(self, values: np.ndarray, samples: pd.Index) -> pd.DataFrame:
        from leukemia.dataset import decode_labels
        from leukemia.honest import margin_confidence

        codes = self.pipeline.predict(values)
        table = pd.DataFrame(
            {"call": decode_labels(np.asarray(codes, dtype=int), self.classes)}, index=samples
        )
        if hasattr(self.pipeline, "predict_proba"):
            proba = self.pipeline.predict_proba(values)
            for i, name in enumerate(self.classes):
                table[f"probability {name}"] = proba[:, i]
            table["confidence"] = margin_confidence(proba)
        else:
            scores = np.asarray(self.pipeline.decision_function(values), dtype=float)
            if scores.ndim == 1:  # two classes: positive for the second
                scores = np.column_stack([-scores, scores])
            for i, name in enumerate(self.classes):
                table[f"score {name}"] = scores[:, i]
            table["confidence"] = np.nan
        threshold = self.threshold
        confident = pd.Series(pd.NA, index=samples, dtype="boolean")
        if threshold is not None and table["confidence"].notna().all():
            confident = (table["confidence"] >= threshold).astype("boolean")
        table["confident"] = confident
        return table


def _number(value: float) -> str:
    return f"{value:.3f}"


def _cell(text: str, width: int = 40) -> str:
    """``text`` for a Markdown table cell: cut to ``width`` characters, pipes escaped, a dash for nothing."""
    text = " ".join(str(text).split())
    text = text if len(text) <= width else text[: width - 1] + "…"
    return text.replace("|", "\\|") or "–"


#: How :func:`card_estimates` names the chosen configuration's own CV estimate.
CV_ESTIMATE = "CV of the chosen configuration"


def card_estimates(card: Mapping[str, Any]) -> pd.DataFrame:
    """A card's three estimates, one row each (index ``estimate``): ``correct`` (calls, as text; "–" for the
    CV mean), ``accuracy``, ``ci_low`` and ``ci_high`` (the exact 95% interval; NaN for the CV mean) and
    ``samples``, the set the figure comes from."""
    held, nested, cv = (card["estimates"][key] for key in ("held_out", "nested_cv", "cv"))
    rows = [
        ("held-out test set", f"{held['n_correct']}/{held['n']}", held["accuracy"], held["ci_low"],
         held["ci_high"], held["set"]),
        ("nested CV", f"{nested['n_correct']}/{nested['n']}", nested["accuracy"], nested["ci_low"],
         nested["ci_high"], nested["set"]),
        (CV_ESTIMATE, "–", cv["accuracy"], np.nan, np.nan, cv["set"]),
    ]  # fmt: skip
    columns = ["estimate", "correct", "accuracy", "ci_low", "ci_high", "samples"]
    return pd.DataFrame(rows, columns=columns).set_index("estimate")


def _library_genes(pipeline: Pipeline) -> int | None:
    """For a pipeline on read counts: how many genes edgeR's filter kept, whose counts make a sample's
    library size or size factor (so new samples need all of them); None for other pipelines."""
    from leukemia.counts import COUNT_TRANSFORMERS

    step = pipeline.named_steps["preprocess"]
    first = step.steps[0][1] if hasattr(step, "steps") else step
    return int(first.support_.sum()) if isinstance(first, COUNT_TRANSFORMERS) else None


def card_markdown(card: Mapping[str, Any], *, file_hash: bool = True) -> str:
    """The model card for people, as Markdown: the model, its genes (the first 20), the training data, the
    estimates with the set each comes from, the abstention threshold, the software.

    ``file_hash=False`` leaves out the model file's sha256, which differs from run to run (skops names the
    arrays inside the file by memory address), for a notebook whose text must not change.
    """
    pipeline, data, cv = card["pipeline"], card["training_data"], card["estimates"]["cv"]
    configuration = ", ".join(f"{k} = {v}" for k, v in pipeline["configuration"].items())
    per_class = ", ".join(f"{c} {n}" for c, n in data["per_class"].items())
    lines = [
        f"**Model**: {pipeline['in_words']} ({configuration}); classes, in order: "
        f"{', '.join(card['classes'])}.",
        "",
        f"**Chosen** from {pipeline['chosen_from']}; seed {pipeline['random_state']}.",
        "",
        f"**Trained on** {data['name']}: {data['samples']} training samples ({per_class}), {data['genes']} "
        f"genes; scale detected {data['scale_detected']}, used {data['scale_used']}; split: {data['split']}.",
        "",
        "**How good** (each figure with the samples it comes from):",
        "",
        "| estimate | correct | accuracy | exact 95% CI | samples |",
        "|---|---|---|---|---|",
    ]
    for name, row in card_estimates(card).iterrows():
        interval = "–" if np.isnan(row["ci_low"]) else f"{_number(row['ci_low'])}–{_number(row['ci_high'])}"
        spread = f" (SD {_number(cv['sd'])})" if name == CV_ESTIMATE else ""
        accuracy = f"{_number(row['accuracy'])}{spread}"
        lines.append(f"| {name} | {row['correct']} | {accuracy} | {interval} | {row['samples']} |")
    lines.append("")
    threshold, confidence = card["abstention"]["threshold"], card["abstention"]["confidence"]
    if confidence is None:
        lines += [f"**Confidence**: {card['abstention']['chosen_by']}.", ""]
    else:
        lines += [
            f"**Confidence** of a call: {confidence}. **Threshold**: "
            + (f"{threshold:g}, " if threshold is not None else "")
            + f"{card['abstention']['chosen_by']}.",
            "",
        ]
    found = card["confounding"]
    notes = found.get("notes", {})
    flagged = (
        ", ".join(
            f"{c} (V = {v:.3f}" + (f"; {notes[c]}" if c in notes else "") + ")"
            for c, v in found["flagged_annotations"].items()
        )
        or "none"
    )
    scanned = found["annotations_scanned"]
    annotations = (
        f"sample annotations flagged, of {scanned} scanned: {flagged}"
        if scanned
        else "no sample annotations to scan"
    )
    lines += [
        f"**Confounding** ({found['rule']}): class and batch, {found['batch']}; {annotations}."
        + (
            " **Caution**: a model can score by recognising what travels with the class rather than the "
            "biology; calls of new samples from one batch or centre only are not evidence that it tells the "
            "classes apart."
            if cautions(card)
            else ""
        ),
        "",
    ]
    used = card["genes_used"]
    library_genes = card["pipeline"].get("library_genes")
    makes = (
        "counts make each sample's DESeq2 size factor"
        if card["pipeline"]["configuration"].get("preprocessing") == "vst"
        else "total is each sample's library size"
    )
    library = (
        f"; and, the values being read counts, so must all {library_genes} genes edgeR's filter kept, "
        f"whose {makes}"
        if library_genes
        else ""
    )
    from leukemia.dataset import COUNTS_AS_GIVEN

    units = {"linear": "intensity", COUNTS_AS_GIVEN: "log2 CPM"}.get(data["scale_used"], "log2")
    symbols = any(g["symbol"].strip() for g in used)  # a column only when some gene has a value in it
    described = any(g["description"].strip() for g in used)
    lines += [
        f"**Genes** the model reads: {len(used)} of the {data['genes']} it was trained on (matched by id; "
        f"every one must be in new samples{library}); "
        f"{'the first 20' if len(used) > 20 else 'all of them'}, largest signal-to-noise score first, with "
        "the class each is higher in and the difference of the training means:",
        "",
        "| gene |"
        + " symbol |" * symbols
        + " description |" * described
        + f" higher in | difference ({units}) | signal-to-noise |",
        "|---|" + "---|" * (symbols + described) + "---|---|---|",
    ]
    lines += [
        f"| {g['id']} |"
        + f" {_cell(g['symbol'])} |" * symbols
        + f" {_cell(g['description'])} |" * described
        + f" {g['higher_in']} | {_number(g['difference'])} | {_number(g['signal_to_noise'])} |"
        for g in used[:20]
    ]
    software = ", ".join(f"{name} {version}" for name, version in card["software"].items())
    files = "; ".join(f"{name} sha256 {digest[:12]}…" for name, digest in data["files_sha256"].items())
    lines += [
        "",
        f"**Software**: {software}; git commit {card['git_commit'] or 'unknown (installed package)'}.",
    ]
    lines += ["", f"**Data files** (the data set the model was trained and tested on): {files}."]
    if file_hash and "model" in card:
        lines += ["", f"**Model file**: {card['model']['file']}, sha256 {card['model']['sha256']}."]
    return "\n".join(lines) + "\n"

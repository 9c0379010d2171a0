"""Fit, cross-validate and test models under a protocol; compare them honestly.

Every number is labelled with the set it comes from: ``train_accuracy`` (the 38 training samples
the model was fitted on), ``cv_accuracy`` (stratified k-fold cross-validation on the training set,
with preprocessing and selection refitted inside each fold) and ``accuracy`` (the 34 independent
samples, used once, after fitting).
"""

from __future__ import annotations

from dataclasses import dataclass

import joblib
import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import balanced_accuracy_score, precision_recall_fscore_support, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from leukemia import config
from leukemia.cluster import local_workers
from leukemia.data import CLASSES
from leukemia.dataset import Dataset, decode_labels, encode_labels, majority_class, stratified_folds
from leukemia.honest import Choice, NestedEstimate, SearchSpace, choose_configuration
from leukemia.models import MODELS, PROTOCOLS, SEED_MODELS, PipelineSettings, make_pipeline, shared_features
from leukemia.registry import lookup
from leukemia.rundir import result_columns
from leukemia.select import signal_to_noise_ovr
from leukemia.stats import clopper_pearson, mcnemar_exact

__all__ = [
    "Evaluation",
    "accuracy_by_value",
    "at_majority_floor",
    "errors_by_sample",
    "evaluate_models",
    "gene_importance",
    "held_out_measures",
    "identical_predictions",
    "learning_curves",
    "mcnemar_pairs",
    "mcnemar_table",
    "model_genes",
    "protocol_settings",
    "protocol_summary",
    "recall_by_class",
    "result_columns",
    "within_mixed_values",
]


#: The columns for the Golub data (``precision_ALL`` … ``recall_AML``).
RESULT_COLUMNS = result_columns(CLASSES)


def protocol_settings(
    protocol: str, *, preprocessing: str | None = None, selector: str | None = None, k: int | None = None
) -> PipelineSettings:
    """The pipeline settings of a protocol, with any non-``None`` overrides applied.

    Raises
    ------
    ValueError
        For an unknown protocol, listing the valid ones.
    """
    base = lookup(PROTOCOLS, protocol, "protocol")
    return PipelineSettings(
        preprocessing=base["preprocessing"] if preprocessing is None else preprocessing,
        selector=base["selector"] if selector is None else selector,
        k=base["k"] if k is None else k,
    )


def _check_folds(cv_folds: int, y: pd.Series) -> None:
    smallest = int(y.value_counts().min())
    if not 2 <= cv_folds <= smallest:
        raise ValueError(
            f"cv_folds must be between 2 and the smallest training class ({smallest}), got {cv_folds}."
        )


def _scores(model: Pipeline, X: np.ndarray) -> np.ndarray | None:
    """Continuous class scores for ROC analysis (decision function, else probabilities), else None.

    Two classes: one score per sample, for the second class (AML in Golub's data). K classes: one
    column per class.
    """
    if hasattr(model, "decision_function"):
        return np.asarray(model.decision_function(X), dtype=float)
    if hasattr(model, "predict_proba"):
        proba = np.asarray(model.predict_proba(X), dtype=float)
        return proba[:, 1] if proba.shape[1] == 2 else proba
    return None


def held_out_measures(
    y_test: np.ndarray, predicted: np.ndarray, score: np.ndarray | None, classes: tuple[str, ...]
) -> dict[str, float]:
    """The test-set measures of one model (labels encoded 0 … K−1 in the order of ``classes``).

    Accuracy with its exact 95% interval, balanced accuracy (the mean of the per-class recalls), per-class
    precision / recall / F1 and macro-F1 (their unweighted mean over classes), and ROC AUC: for two classes
    the AUC of the second class's score; for K classes each class's one-vs-rest AUC (its score against
    all others) and their macro mean, as ``roc_auc_score(..., multi_class="ovr")`` on probabilities.
    """
    labels = list(range(len(classes)))
    n_correct, n_test = int((predicted == y_test).sum()), len(y_test)
    low, high = clopper_pearson(n_correct, n_test)
    precision, recall, f1, _ = precision_recall_fscore_support(
        y_test, predicted, labels=labels, zero_division=0
    )
    row: dict[str, float] = {
        "n_correct": n_correct, "n_test": n_test, "accuracy": n_correct / n_test, "ci_low": low,
        "ci_high": high, "balanced_accuracy": float(balanced_accuracy_score(y_test, predicted)),
        "macro_f1": float(f1.mean()),
    }  # fmt: skip
    for i, c in enumerate(classes):
        row |= {
            f"precision_{c}": float(precision[i]),
            f"recall_{c}": float(recall[i]),
            f"f1_{c}": float(f1[i]),
        }
    if len(classes) == 2:
        row["roc_auc"] = float(roc_auc_score(y_test, score)) if score is not None else np.nan
        return row
    for i, c in enumerate(classes):
        row[f"roc_auc_{c}"] = float(roc_auc_score(y_test == i, score[:, i])) if score is not None else np.nan
    row["roc_auc"] = float(np.mean([row[f"roc_auc_{c}"] for c in classes]))
    return row


@dataclass(frozen=True)
class Evaluation:
    """What :func:`evaluate_models` returns; displays as its results table in a notebook."""

    table: pd.DataFrame
    """One row per model, columns :data:`RESULT_COLUMNS`."""
    predictions: pd.DataFrame
    """Test samples × models: the predicted class."""
    scores: pd.DataFrame
    """Test samples × models: score of the second class (decision function or probability); for K
    classes, the score of the class called."""
    y_test: pd.Series
    protocol: str
    settings: PipelineSettings | None = None
    choice: Choice | None = None
    """For the honest protocol: the configuration chosen on training data and its CV scores."""

    def correct(self) -> pd.DataFrame:
        """Independent patients × models: whether each prediction was right."""
        return self.predictions.eq(self.y_test, axis=0)

    def _repr_html_(self) -> str:
        return self.table._repr_html_()

    def __repr__(self) -> str:
        return f"Evaluation(protocol={self.protocol!r}, settings={self.settings})\n{self.table}"


def evaluate_models(
    data: Dataset,
    protocol: str = "seed",
    *,
    models: list[str] | None = None,
    preprocessing: str | None = None,
    selector: str | None = None,
    k: int | None = None,
    cv_folds: int = 5,
    space: SearchSpace | None = None,
    random_state: int = config.RANDOM_SEED,
    n_jobs: int | None = None,
) -> Evaluation:
    """Fit every model on the training set, cross-validate it there, and test it once.

    Parameters
    ----------
    data
        From :func:`leukemia.data.load_golub`.
    protocol
        ``"seed"``: min-max scaling, ANOVA F-test, 50 genes, default hyper-parameters.
        ``"golub"``: 50 signal-to-noise genes on the published intensities (pass
        ``models=["weighted_voting"]`` for Golub's classifier). ``"honest"``: preprocessing,
        selector, number of genes and model chosen by :func:`leukemia.honest.choose_configuration`
        on the training set alone (``space`` sets the choices); one row, the chosen model.
    models
        Names from :data:`leukemia.models.MODELS` (default: the ten seed models).
    preprocessing, selector, k
        Override the protocol's pipeline settings (not with ``"honest"``).
    cv_folds
        Folds of the stratified cross-validation on the training set (2 to the smallest class).
    random_state
        Seed of the models and of the fold shuffling.
    space
        The search space of the honest protocol (default :class:`~leukemia.honest.SearchSpace`).
    n_jobs
        Parallel jobs for the cross-validation folds.

    Returns
    -------
    Evaluation
        ``table`` (one row per model), ``predictions`` and ``scores`` on the independent set,
        and for ``"honest"`` the :class:`~leukemia.honest.Choice`.
    """
    _check_folds(cv_folds, data.y_train)
    if protocol == "honest":
        if any(value is not None for value in (models, preprocessing, selector, k)):
            raise ValueError(
                "the honest protocol chooses the model and its settings; set the choices with space=."
            )
        space = (space or SearchSpace()).for_data(data)
        chosen = choose_configuration(data, space, random_state=random_state, n_jobs=n_jobs)
        choice: Choice | None = chosen
        settings = chosen.settings
        pipelines = {chosen.configuration["model"]: space.pipeline(chosen.configuration, random_state)}
        chosen_on = "training data only (repeated CV)"
    else:
        choice, settings = (
            None,
            protocol_settings(protocol, preprocessing=preprocessing, selector=selector, k=k),
        )
        pipelines = _fixed_pipelines(
            list(SEED_MODELS) if models is None else list(models), settings, random_state, data.filter_scale
        )
        chosen_on = f"fixed in advance ({protocol} protocol)"
    table, predictions, scores = _score_pipelines(
        data, pipelines, stratified_folds(cv_folds, random_state), n_jobs
    )
    table.insert(1, "protocol", protocol)
    table["chosen_on"] = chosen_on
    return Evaluation(
        table=table[result_columns(data.classes)],
        predictions=predictions,
        scores=scores,
        y_test=data.y_test,
        protocol=protocol,
        settings=settings,
        choice=choice,
    )


def _fixed_pipelines(
    names: list[str], settings: PipelineSettings, random_state: int, input_scale: str = "auto"
) -> dict[str, Pipeline]:
    """One pipeline per model name, all with the same settings."""
    unknown = [n for n in names if n not in MODELS]
    if unknown or not names:
        raise ValueError(f"unknown model(s) {unknown}; choose from {list(MODELS)}.")
    return {
        name: make_pipeline(name, random_state=random_state, input_scale=input_scale, **settings)
        for name in names
    }


def _score_pipelines(
    data: Dataset, pipelines: dict[str, Pipeline], folds: object, n_jobs: int | None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Cross-validate each pipeline on the training set, fit it there, test it once.

    Pipelines whose steps before the model are equal (the seed protocol's ten models all share
    preprocessing and selector) share them: each fold's preprocessing and selector are fitted once
    and every model is fitted on their output — the same fits ``cross_val_score`` of each pipeline
    makes, without repeating the gene scoring for every model. Returns the results table (without
    ``protocol`` and ``chosen_on``), the predictions and the scores.
    """
    classes = data.classes
    y_train, y_test = encode_labels(data.y_train, classes), encode_labels(data.y_test, classes)
    # Plain arrays: scikit-learn checks a DataFrame's 7129 column dtypes on every fit and predict.
    X_train, X_test, y = data.X_train.to_numpy(), data.X_test.to_numpy(), y_train.to_numpy()
    splits = list(folds.split(X_train, y))  # type: ignore[attr-defined]
    cv: dict[str, np.ndarray] = {}
    fitted: dict[str, tuple[Pipeline, np.ndarray]] = {}
    for names in _sharing_steps(pipelines):
        prefix, models = pipelines[names[0]][:-1], [pipelines[name][-1] for name in names]
        with local_workers():
            per_fold = Parallel(n_jobs=n_jobs)(
                delayed(_fold_accuracies)(prefix, models, X_train, y, train, test) for train, test in splits
            )
        cv |= dict(zip(names, np.array(per_fold).T, strict=True))
        shared = clone(prefix).fit(X_train, y)
        T_train = shared.transform(X_train)
        for name, model in zip(names, models, strict=True):
            fitted[name] = (
                Pipeline([*shared.steps, (pipelines[name].steps[-1][0], clone(model).fit(T_train, y))]),
                T_train,
            )
    rows, predictions, scores = [], {}, {}
    for name in pipelines:
        pipeline, T_train = fitted[name]
        predicted = np.asarray(pipeline.predict(X_test))
        score = _scores(pipeline, X_test)
        rows.append(
            {
                "model": name,
                "train_accuracy": float((pipeline[-1].predict(T_train) == y).mean()),
                "cv_accuracy": float(cv[name].mean()),
                "cv_std": float(cv[name].std()),
                **held_out_measures(y_test.to_numpy(), predicted, score, classes),
            }
        )
        predictions[name] = decode_labels(predicted, classes)
        if score is not None and score.ndim == 2:  # K classes: the score of the class called
            score = score[np.arange(len(predicted)), predicted]
        scores[name] = score if score is not None else np.full(len(predicted), np.nan)
    index = data.y_test.index
    return pd.DataFrame(rows), pd.DataFrame(predictions, index=index), pd.DataFrame(scores, index=index)


def _sharing_steps(pipelines: dict[str, Pipeline]) -> list[list[str]]:
    """The pipelines' names grouped by their steps before the model (equal unfitted steps hash alike)."""
    groups: dict[str, list[str]] = {}
    for name, pipeline in pipelines.items():
        groups.setdefault(joblib.hash(pipeline[:-1]), []).append(name)
    return list(groups.values())


def _fold_accuracies(
    prefix: Pipeline, models: list, X: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray
) -> list[float]:
    """Accuracy of each model on one fold, after the shared steps fitted on the fold's training part."""
    T_train, T_test = shared_features(prefix, X, y, train, test)
    return [
        float((clone(model).fit(T_train, y[train]).predict(T_test) == y[test]).mean()) for model in models
    ]


def identical_predictions(evaluation: Evaluation) -> list[list[str]]:
    """Groups of two or more models that make the same prediction for every independent sample.

    Such models are one classifier as far as the independent set can tell: counting each of them
    as a separate success counts one result several times.
    """
    groups: dict[tuple, list[str]] = {}
    for name in evaluation.predictions.columns:
        groups.setdefault(tuple(evaluation.predictions[name]), []).append(name)
    return [names for names in groups.values() if len(names) > 1]


def gene_importance(
    data: Dataset,
    models: list[str],
    protocol: str = "seed",
    *,
    min_share: float = 0.01,
    random_state: int = config.RANDOM_SEED,
    preprocessing: str | None = None,
    selector: str | None = None,
    k: int | None = None,
) -> pd.DataFrame:
    """The genes each tree-based model relies on, fitted on the training set as in :func:`evaluate_models`.

    Parameters
    ----------
    models
        Model names; those without ``feature_importances_`` (not tree-based) are skipped.
    min_share
        Genes below this share of a model's total importance are left out.
    preprocessing, selector, k
        Override the protocol's settings, as for :func:`evaluate_models`.

    Returns
    -------
    pandas.DataFrame
        One row per model and gene: ``model``, ``gene``, ``share`` (of the model's importance),
        sorted by model (in the given order) and share.
    """
    settings = protocol_settings(protocol, preprocessing=preprocessing, selector=selector, k=k)
    y = encode_labels(data.y_train, data.classes)
    rows = []
    for name in models:
        pipeline = make_pipeline(name, random_state=random_state, input_scale=data.filter_scale, **settings)
        pipeline.fit(data.X_train.to_numpy(), y)
        importance = getattr(pipeline.named_steps["model"], "feature_importances_", None)
        if importance is None:
            continue
        # The genes reaching the model, named through every step before it: a filter (Dudoit's) drops genes
        # before the selector, so the selector's positions do not index the data's columns.
        genes = pipeline[:-1].get_feature_names_out(data.X_train.columns.to_numpy())
        share = importance / importance.sum()
        rows += [
            {"model": name, "gene": g, "share": float(v)}
            for g, v in zip(genes, share, strict=True)
            if v >= min_share
        ]
    table = pd.DataFrame(rows, columns=["model", "gene", "share"])
    order = {name: i for i, name in enumerate(models)}
    return table.sort_values(
        ["model", "share"], key=lambda c: c.map(order) if c.name == "model" else -c, ignore_index=True
    )


def recall_by_class(y_true: pd.Series, predicted: pd.Series, classes: tuple[str, ...]) -> pd.DataFrame:
    """Per class with samples in ``y_true``: ``samples``, ``called_correctly``, ``recall`` and its exact 95%
    interval (``ci_low``, ``ci_high``; each class's recall is a proportion of its own samples). Their mean
    recall is the balanced accuracy."""
    truth, calls = y_true.astype(str), predicted.reindex(y_true.index).astype(str)
    rows = []
    for name in classes:
        mine = truth == name
        n, k = int(mine.sum()), int((mine & (calls == name)).sum())
        if n:
            rows.append((name, n, k, k / n, *clopper_pearson(k, n)))
    columns = ["class", "samples", "called_correctly", "recall", "ci_low", "ci_high"]
    return pd.DataFrame(rows, columns=columns).set_index("class")


def model_genes(data: Dataset, pipeline: Pipeline) -> pd.DataFrame:
    """The genes a ``preprocess → select → model`` pipeline uses when fitted on the training samples, and
    what each one says there. ``pipeline`` is used as it is if fitted, else fitted on the training samples.

    Returns
    -------
    pandas.DataFrame
        Indexed by gene id, largest score first: the gene's ``symbol`` and ``description`` where the data
        have them (:meth:`~leukemia.dataset.Dataset.gene_annotation`); ``higher_in``, the class whose
        one-vs-rest signal-to-noise score is largest (for two classes, the one with the larger mean);
        ``difference``, that class's mean minus the other training samples' mean on the values as loaded
        (log2 units for a ``dataset.yaml``: a log2 fold change; for read counts, on their log2 counts per
        million, :class:`~leukemia.counts.LogCPM`); and ``signal_to_noise``,
        ``(μ_class − μ_rest) / (σ_class + σ_rest)`` (Golub's score; σ floored as in selection).
    """
    try:  # a fitted pipeline is used as it is (the saved model's); an unfitted one is fitted here
        check_is_fitted(pipeline)
        fitted = pipeline
    except NotFittedError:
        fitted = clone(pipeline).fit(data.X_train.to_numpy(), encode_labels(data.y_train, data.classes))
    genes = pd.Index(fitted[:-1].get_feature_names_out(data.X_train.columns.to_numpy()), name="gene")
    from leukemia.preprocessing import analysis_values

    loaded, _ = analysis_values(data)  # read counts: their log2 counts per million
    values = loaded[genes].to_numpy(dtype=float)
    labels = data.y_train.reindex(data.X_train.index).astype(str).to_numpy()
    scores, classes = signal_to_noise_ovr(values, labels)
    best = np.argmax(scores, axis=0)
    higher_in = classes[best]
    inside = labels[:, None] == higher_in[None, :]
    difference = (np.where(inside, values, 0).sum(0) / inside.sum(0)) - (
        np.where(~inside, values, 0).sum(0) / (~inside).sum(0)
    )
    table = data.gene_annotation(genes).assign(
        higher_in=higher_in, difference=difference, signal_to_noise=scores[best, np.arange(len(genes))]
    )
    return table.sort_values("signal_to_noise", ascending=False, kind="stable")


def at_majority_floor(table: pd.DataFrame, y_train: pd.Series, y_test: pd.Series) -> pd.DataFrame:
    """The models of an evaluation table that do no better than always answering the majority class.

    The majority class is the training set's (:func:`~leukemia.dataset.majority_class`). Always answering
    it scores its share of the test set on the test set (the *test floor*) and, across stratified folds,
    which keep the class shares, its share of the training set (the *CV floor*). A model at or below
    either floor has learnt nothing a reader could use there, whatever its other numbers.

    Returns
    -------
    pandas.DataFrame
        The flagged rows of ``table`` (same index): ``accuracy``, ``test_floor``, ``cv_accuracy`` and
        ``cv_floor``; empty when no model is at a floor.
    """
    majority = majority_class(y_train)
    test_floor = float((y_test.astype(str) == majority).mean())
    cv_floor = float((y_train.astype(str) == majority).mean())
    tolerance = 1e-12  # equal shares computed as different fractions
    flagged = (table["accuracy"] <= test_floor + tolerance) | (table["cv_accuracy"] <= cv_floor + tolerance)
    found = table.loc[flagged, ["accuracy", "cv_accuracy"]].copy()
    found.insert(1, "test_floor", test_floor)
    found["cv_floor"] = cv_floor
    return found


def accuracy_by_value(
    y_true: pd.Series, y_pred: pd.Series | np.ndarray, annotations: pd.DataFrame | None, columns: list[str]
) -> pd.DataFrame:
    """Test accuracy for each value of each of ``columns`` of ``annotations`` (a sample annotation).

    Where an annotation travels with the class (:func:`~leukemia.dataset.annotation_scan`), an accuracy
    that holds only for some of its values was earned, at least partly, by recognising it.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``(column, value)``: ``n_test``, ``classes`` (the test samples' classes, counted),
        ``n_classes`` (how many: only a value holding more than one class can show the classes told apart
        within it), ``n_correct`` and ``accuracy``; samples without a value are left out. Empty without
        columns.
    """
    index = pd.MultiIndex.from_tuples([], names=["column", "value"])
    columns_out = ["n_test", "classes", "n_classes", "n_correct", "accuracy"]
    if annotations is None or not columns:
        return pd.DataFrame(columns=columns_out, index=index)
    right = pd.Series(np.asarray(y_pred) == y_true.to_numpy(), index=y_true.index)
    rows = {}
    for column in columns:
        values = annotations[column].reindex(y_true.index).dropna()
        for value, samples in values.groupby(values).groups.items():
            counts = y_true.loc[samples].astype(str).value_counts()
            rows[(column, str(value))] = {
                "n_test": len(samples),
                "classes": ", ".join(f"{c} {n}" for c, n in counts.items()),
                "n_classes": len(counts),
                "n_correct": int(right.loc[samples].sum()),
                "accuracy": float(right.loc[samples].mean()),
            }
    table = pd.DataFrame.from_dict(rows, orient="index", columns=columns_out)
    table.index = pd.MultiIndex.from_tuples(list(rows), names=["column", "value"])
    return table


def within_mixed_values(by_value: pd.DataFrame) -> pd.DataFrame:
    """Per column of :func:`accuracy_by_value`'s table: ``n_test`` (test samples with a value), ``n_mixed``
    (of them, in values holding more than one class) and ``n_mixed_correct`` (of those, called correctly) —
    the only calls that can show the classes told apart rather than the value recognised."""
    mixed = by_value["n_classes"] > 1
    grouped = by_value.assign(
        n_mixed=by_value["n_test"].where(mixed, 0), n_mixed_correct=by_value["n_correct"].where(mixed, 0)
    ).groupby(level="column", sort=False)
    return grouped[["n_test", "n_mixed", "n_mixed_correct"]].sum().astype(int)


def errors_by_sample(evaluation: Evaluation) -> pd.DataFrame:
    """Independent patients misclassified by at least one model.

    Returns
    -------
    pandas.DataFrame
        Rows: those samples, with their true class in the first column (named like the labels,
        ``cancer`` for Golub's); one boolean column per model (``True`` = wrong) and
        ``n_models_wrong``; sorted by that count, then sample.
    """
    wrong = ~evaluation.correct()
    wrong["n_models_wrong"] = wrong.sum(axis=1)
    wrong.insert(0, evaluation.y_test.name or "class", evaluation.y_test)
    wrong = wrong[wrong["n_models_wrong"] > 0]
    order = wrong.assign(_p=wrong.index).sort_values(["n_models_wrong", "_p"], ascending=[False, True])
    return wrong.loc[order.index]


def mcnemar_pairs(evaluation: Evaluation) -> pd.DataFrame:
    """Exact McNemar test of every pair of models on the independent set.

    Returns
    -------
    pandas.DataFrame
        One row per pair: ``first``, ``second``, ``only_first_right``, ``only_second_right``,
        ``pvalue``; sorted by p-value (smallest first).
    """
    correct = evaluation.correct()
    names = list(correct.columns)
    rows = [
        {"first": a, "second": b, **mcnemar_exact(correct[a].to_numpy(), correct[b].to_numpy())._asdict()}
        for i, a in enumerate(names)
        for b in names[i + 1 :]
    ]
    columns = ["first", "second", "only_first_right", "only_second_right", "pvalue"]
    return pd.DataFrame(rows, columns=columns).sort_values("pvalue", kind="stable", ignore_index=True)


def mcnemar_table(evaluation: Evaluation) -> pd.DataFrame:
    """Models × models matrix of exact McNemar p-values on the independent set (1 on the diagonal)."""
    names = list(evaluation.predictions.columns)
    matrix = pd.DataFrame(1.0, index=pd.Index(names, name="model"), columns=names)
    for pair in mcnemar_pairs(evaluation).itertuples():
        matrix.loc[pair.first, pair.second] = matrix.loc[pair.second, pair.first] = pair.pvalue
    return matrix


def learning_curves(
    data: Dataset,
    models: list[str],
    protocol: str = "seed",
    *,
    settings: PipelineSettings | None = None,
    train_sizes: tuple[float, ...] = (0.4, 0.55, 0.7, 0.85, 1.0),
    cv_folds: int = 5,
    random_state: int = config.RANDOM_SEED,
) -> pd.DataFrame:
    """Training and cross-validated accuracy against the number of training samples (training set only).

    Each model is built with ``settings`` (preprocessing, selector, k) if given, else with ``protocol``'s,
    and scored on the folds of :func:`evaluate_models` (same ``cv_folds`` and ``random_state``). Sizes are
    relative to each fold: for a fraction ``f`` of ``train_sizes`` (values above 1 count as 1), a fold with
    ``n`` training samples fits the pipeline on ``max(1, int(f * n))`` of them — the first ones of one
    random permutation of its training part (drawn per fold with ``random_state``, as scikit-learn's
    ``learning_curve(..., shuffle=True)`` draws it), kept in the fold's order. At ``f = 1`` every fold
    fits on its whole training part, so the cross-validated accuracy there is :func:`evaluate_models`'s
    ``cv_accuracy`` (tested). scikit-learn's ``learning_curve`` instead takes absolute sizes from the first
    fold's training part, so a fold with one sample more never uses it. A fraction that gives every fold
    the same size as a smaller fraction is dropped. Models that share their steps before the model share
    their fits per fold and size, as in :func:`evaluate_models`.

    Returns
    -------
    pandas.DataFrame
        Tidy: ``model``, ``n_train`` (training samples fitted, the mean over the folds: folds of unequal
        size fit unequal numbers), ``set`` (``"training"`` or ``"cross-validation"``), ``mean``, ``std``
        over the folds.
    """
    settings = settings or protocol_settings(protocol)
    _check_folds(cv_folds, data.y_train)
    X, y = data.X_train.to_numpy(), encode_labels(data.y_train, data.classes).to_numpy()
    splits = list(stratified_folds(cv_folds, random_state).split(X, y))
    fractions = np.clip(np.asarray(train_sizes, dtype=float), 0.0, 1.0)
    # sizes × folds; unique rows come out in increasing order, since each fold's size grows with f
    sizes = np.unique([[max(1, int(f * len(train))) for train, _ in splits] for f in fractions], axis=0)
    shuffle = np.random.RandomState(random_state)  # one permutation per fold, as learning_curve draws them
    orders = [shuffle.permutation(train) for train, _ in splits]
    parts = [
        (np.sort(order[:n]), test)
        for (_, test), order, per_size in zip(splits, orders, sizes.T, strict=True)
        for n in per_size
    ]  # fold by fold, size by size
    pipelines = {
        name: make_pipeline(name, random_state=random_state, input_scale=data.filter_scale, **settings)
        for name in models
    }
    accuracy: dict[str, np.ndarray] = {}  # model → (training, cross-validation) × parts
    for names in _sharing_steps(pipelines):
        prefix, fits = pipelines[names[0]][:-1], [pipelines[name][-1] for name in names]
        per_part = []
        for train, test in parts:
            T_train, T_test = shared_features(prefix, X, y, train, test)
            fitted = [clone(model).fit(T_train, y[train]) for model in fits]
            per_part.append(
                [
                    [(m.predict(T) == y[rows]).mean() for T, rows in ((T_train, train), (T_test, test))]
                    for m in fitted
                ]
            )
        accuracy |= dict(zip(names, np.array(per_part).transpose(1, 2, 0), strict=True))
    frames = []
    for name in models:
        for label, values in zip(("training", "cross-validation"), accuracy[name], strict=True):
            by_size = values.reshape(len(splits), len(sizes)).T  # sizes × folds
            frames.append(
                pd.DataFrame(
                    {
                        "model": name,
                        "n_train": sizes.mean(axis=1),
                        "set": label,
                        "mean": by_size.mean(axis=1),
                        "std": by_size.std(axis=1),
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


#: How each row of :func:`protocol_summary` was chosen, which says whether its accuracy is an honest estimate.
CHOSEN_ON_TEST = "the test set (optimistic)"
CHOSEN_ON_TRAINING = "training data only"
FIXED_IN_ADVANCE = "fixed in advance"
PROJECT_DEFAULTS = "project defaults, untuned"
NESTED_CV = "nested CV (training set)"
#: The one model of Golub's protocol that is Golub et al.'s own; the others run on its genes at this
#: project's default settings (shrinkage 1.0, the elastic net's C = 1 and l1 ratio 0.5), never tuned.
GOLUB_OWN_MODEL = "weighted_voting"


def protocol_summary(
    seed: Evaluation,
    honest: Evaluation,
    nested: NestedEstimate,
    *,
    published: Evaluation | None = None,
    each_model: bool = False,
    labels: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Every protocol's accuracy with its exact 95% CI, labelled with what chose it.

    Parameters
    ----------
    seed
        The seed protocol's models (``evaluate_models(data, "seed", ...)``).
    honest
        The honest protocol (chosen by cross-validation on the training set).
    nested
        Nested CV of the honest protocol (:func:`leukemia.honest.nested_summary`), measured on the
        training set.
    published
        Optionally Golub's protocol (``evaluate_models(data, "golub", ...)``). Its weighted voting is
        Golub et al.'s own classifier, fixed in advance (``FIXED_IN_ADVANCE``); any other model run on
        its genes (nearest shrunken centroids, the elastic net) has this project's default settings,
        untuned (``PROJECT_DEFAULTS``).
    each_model
        Also one row per seed model (each a protocol fixed in advance).
    labels
        Display names of the models.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``what``; ``chosen_on`` (one of ``CHOSEN_ON_TEST``, ``CHOSEN_ON_TRAINING``,
        ``FIXED_IN_ADVANCE``, ``PROJECT_DEFAULTS``, ``NESTED_CV``), ``n_correct``, ``n_test``,
        ``accuracy``, ``ci_low``, ``ci_high``.
        Every row but the nested one is measured on the test set.
    """
    name = (labels or {}).get
    table = seed.table.set_index("model")
    measures = ["n_correct", "n_test", "accuracy", "ci_low", "ci_high"]
    by_test, by_cv = table["accuracy"].idxmax(), table["cv_accuracy"].idxmax()
    rows: list[tuple[str, str, pd.Series]] = []
    if each_model:
        rows += [(f"seed protocol: {name(m, m)}", FIXED_IN_ADVANCE, table.loc[m]) for m in table.index]
    if published is not None:
        for m, row in published.table.set_index("model").iterrows():
            label = name(str(m), str(m))
            if m == GOLUB_OWN_MODEL:
                rows.append((f"Golub's protocol: {label}", FIXED_IN_ADVANCE, row))
            else:
                rows.append((f"Golub's genes, {label} ({PROJECT_DEFAULTS})", PROJECT_DEFAULTS, row))
    honest_what = f"honest protocol ({honest.choice.describe()})" if honest.choice else "honest protocol"
    rows += [
        (
            f"seed protocol, best by test accuracy ({name(by_test, by_test)})",
            CHOSEN_ON_TEST,
            table.loc[by_test],
        ),
        (f"seed protocol, best by CV accuracy ({name(by_cv, by_cv)})", CHOSEN_ON_TRAINING, table.loc[by_cv]),
        (honest_what, CHOSEN_ON_TRAINING, honest.table.iloc[0]),
    ]
    frame = pd.DataFrame(
        [{"what": what, "chosen_on": chosen_on, **row[measures].to_dict()} for what, chosen_on, row in rows]
    )
    frame.loc[len(frame)] = {
        "what": "nested CV of the honest protocol (training set, pooled)", "chosen_on": NESTED_CV,
        "n_correct": nested.n_correct, "n_test": nested.n_test, "accuracy": nested.accuracy,
        "ci_low": nested.ci_low, "ci_high": nested.ci_high,
    }  # fmt: skip
    return frame.astype({"n_correct": int, "n_test": int}).set_index("what")

"""An honest protocol: every choice made on the training set, the independent set opened once.

:func:`choose_configuration` receives only training samples. It scores every configuration
(preprocessing × selector × number of genes × model) by repeated stratified cross-validation,
with every fitted step refitted inside each fold, and returns the best. :func:`nested_cv`
estimates how good this whole *choosing procedure* is, by running it inside the training folds
of an outer cross-validation. :func:`selection_bias` shows what happens when genes are chosen
before cross-validation (Ambroise & McLachlan 2002).
"""

from __future__ import annotations

import contextlib
import itertools
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import ClassifierMixin, TransformerMixin, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import (
    RepeatedStratifiedKFold,
    cross_val_score,
)
from sklearn.pipeline import Pipeline
from sklearn.utils import as_float_array

from leukemia import config
from leukemia.cluster import joblib_backend, local_workers
from leukemia.dataset import Dataset, class_order, encode_labels, stratified_folds
from leukemia.models import (
    MODEL_LABELS,
    MODELS,
    Configuration,
    PipelineSettings,
    make_model,
    make_pipeline,
    shared_features,
)
from leukemia.preprocessing import INPUT_SCALES, PREPROCESSING, analysis_values, make_preprocessor
from leukemia.search import fold_predictions
from leukemia.select import SELECTORS, make_selector
from leukemia.stats import clopper_pearson

__all__ = [
    "Choice",
    "NestedEstimate",
    "SearchSpace",
    "abstention",
    "abstention_outcome",
    "choose_configuration",
    "choose_index",
    "clean_threshold",
    "cv_scores",
    "describe_estimator",
    "inner_fold_count",
    "margin_confidence",
    "nested_cv",
    "nested_summary",
    "parse_search_space",
    "selection_bias",
]

CONFIG_KEYS = ("preprocessing", "selector", "k", "model")


def describe_estimator(estimator: object) -> str:
    """A short label for an estimator given in place of a registry name.

    ``KNeighborsClassifier(n_neighbors=3)``; a pipeline is its steps joined by ``+``.
    """
    steps = getattr(estimator, "steps", None)
    if steps is not None:
        return "+".join(describe_estimator(step) for _, step in steps)
    return " ".join(str(estimator).split())


@dataclass(frozen=True)
class SearchSpace:
    """The configurations the honest protocol chooses among, and how it scores them.

    ``preprocessing`` and ``models`` hold registry names (:data:`~leukemia.preprocessing.PREPROCESSING`,
    :data:`~leukemia.models.MODELS`) or unfitted scikit-learn estimators, which appear in tables
    under :func:`describe_estimator`. The default models are the fast ones of the registry; the
    tree ensembles add minutes to a search (add them with ``models=`` if you want them). Plain
    logistic regression is left out because its default solver does not converge on unscaled
    intensities; the elastic net covers penalised logistic regression.
    """

    preprocessing: tuple[str | TransformerMixin, ...] = ("none", "standard", "dudoit")
    selectors: tuple[str, ...] = ("f_test", "signal_to_noise")
    ks: tuple[int, ...] = (10, 20, 50, 100, 200)
    models: tuple[str | ClassifierMixin, ...] = (
        "weighted_voting", "nearest_shrunken_centroids", "elastic_net", "linear_svm", "rbf_svm",
        "knn", "naive_bayes",
    )  # fmt: skip
    cv_folds: int = 5
    cv_repeats: int = 2
    input_scale: str = "auto"
    """What the values are, for Dudoit's filter (:attr:`~leukemia.dataset.Dataset.filter_scale`); the
    functions that take a data set fill it in from the data when it is ``"auto"`` (:meth:`for_data`)."""

    def __post_init__(self) -> None:
        for values, registry, what, method in (
            (self.preprocessing, PREPROCESSING, "preprocessing", "transform"),
            (self.selectors, SELECTORS, "selector", None),  # names only
            (self.models, MODELS, "model", "predict"),
        ):
            known = [
                v in registry if isinstance(v, str) else method is not None and hasattr(v, method)
                for v in values
            ]
            unknown = [v for v, ok in zip(values, known, strict=True) if not ok]
            if unknown or not values:
                raise ValueError(f"unknown {what} {unknown or values}; choose from {sorted(registry)}.")
        for labels, what in ((self.preprocessing_labels, "preprocessing"), (self.model_labels, "model")):
            if len(set(labels)) < len(labels):
                raise ValueError(f"the {what} options repeat one another: {list(labels)}.")
        if not self.ks or min(self.ks) < 1:
            raise ValueError(f"ks must be numbers of genes >= 1, got {self.ks}.")
        if self.cv_folds < 2 or self.cv_repeats < 1:
            raise ValueError("cv_folds must be >= 2 and cv_repeats >= 1.")
        if self.input_scale not in (*INPUT_SCALES, "counts"):
            raise ValueError(
                f"input_scale must be one of {', '.join((*INPUT_SCALES, 'counts'))}, "
                f"got {self.input_scale!r}."
            )

    def for_data(self, data: Dataset) -> SearchSpace:
        """This space with ``input_scale`` set from ``data`` (unless it was set)."""
        return self if self.input_scale != "auto" else replace(self, input_scale=data.filter_scale)

    @property
    def preprocessing_labels(self) -> tuple[str, ...]:
        """How each preprocessing option is named in tables."""
        return tuple(p if isinstance(p, str) else describe_estimator(p) for p in self.preprocessing)

    @property
    def model_labels(self) -> tuple[str, ...]:
        """How each model is named in tables."""
        return tuple(m if isinstance(m, str) else describe_estimator(m) for m in self.models)

    def configurations(self) -> pd.DataFrame:
        """Every configuration, one row each, in the order ties are broken (``k`` ascending)."""
        grid = itertools.product(
            self.preprocessing_labels, self.selectors, sorted(self.ks), self.model_labels
        )
        return pd.DataFrame(list(grid), columns=list(CONFIG_KEYS))

    def folds(self, random_state: int = config.RANDOM_SEED) -> RepeatedStratifiedKFold:
        """The repeated stratified folds every configuration is scored on."""
        return RepeatedStratifiedKFold(
            n_splits=self.cv_folds, n_repeats=self.cv_repeats, random_state=random_state
        )

    def pipeline(self, configuration: Configuration, random_state: int = config.RANDOM_SEED) -> Pipeline:
        """The unfitted ``preprocess → select → model`` pipeline of one configuration (a row's labels)."""
        step = self.preprocessing[self.preprocessing_labels.index(str(configuration["preprocessing"]))]
        model = self.models[self.model_labels.index(str(configuration["model"]))]
        return make_pipeline(
            model if isinstance(model, str) else clone(model),
            preprocessing=step if isinstance(step, str) else clone(step),
            selector=str(configuration["selector"]),
            k=configuration["k"],
            random_state=random_state,
            input_scale=self.input_scale,
        )

    def estimators(self, random_state: int = config.RANDOM_SEED) -> tuple[list, list]:
        """Unfitted preprocessing steps and models, registry names resolved."""
        steps = [
            make_preprocessor(p, input_scale=self.input_scale) if isinstance(p, str) else p
            for p in self.preprocessing
        ]
        models = [make_model(m, random_state) if isinstance(m, str) else m for m in self.models]
        return steps, models


def _score_fold(
    X: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray, space: SearchSpace, seed: int
) -> np.ndarray:
    """Accuracy of every configuration on one fold, through the shared-work fast path."""
    steps, models = space.estimators(seed)
    predicted = fold_predictions(
        X[train], y[train], X[test], steps, space.selectors, sorted(space.ks), models
    )
    return (predicted == y[test]).mean(axis=1)


def cv_scores(
    X_train: pd.DataFrame,
    y_train: pd.Series,
    space: SearchSpace = SearchSpace(),
    *,
    random_state: int = config.RANDOM_SEED,
    n_jobs: int | None = None,
) -> pd.DataFrame:
    """Repeated stratified CV accuracy of every configuration, on training samples only.

    Equal to ``cross_val_score(space.pipeline(row), X_train, y_train, cv=space.folds(random_state))``
    for each configuration (up to the rounding caveat of :mod:`leukemia.search`), but computed by
    :func:`leukemia.search.fold_predictions`, which shares each fold's preprocessing and gene scores
    across the grid. Folds run in parallel through
    joblib (``n_jobs``), or on the Dask cluster named by ``$LEUKEMIA_SCHEDULER``
    (:func:`leukemia.cluster.joblib_backend`). Labels are encoded AML = 1 as everywhere else.

    Returns
    -------
    pandas.DataFrame
        :meth:`SearchSpace.configurations` plus ``cv_accuracy`` (mean over folds) and ``cv_std``.
    """
    X, y = _arrays(X_train, y_train)
    (per_fold,) = _score_all(X, y, [np.arange(len(y))], space, random_state, n_jobs)
    return _table(space, per_fold)


def _arrays(X_train: pd.DataFrame, y_train: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """The matrix as an array (float32 stays float32, uncopied) and the labels encoded AML = 1."""
    y = encode_labels(y_train.reindex(X_train.index)).to_numpy()  # reference class 0, the other 1
    return as_float_array(X_train.to_numpy(), copy=False, ensure_all_finite=False), y


def _score_all(
    X: np.ndarray, y: np.ndarray, subsets: list[np.ndarray], space: SearchSpace, seed: int, n_jobs: int | None
) -> list[np.ndarray]:
    """Every fold of the training sets ``X[rows]`` (one per ``rows`` of ``subsets``) as one batch of
    parallel tasks; folds × configurations each.

    The tasks index ``X`` themselves, so ``X`` is sent to the workers once (joblib memory-maps it)
    and no set is copied in this process: nested CV's five outer training parts at study scale
    would be 2.4 GB of copies.
    """
    jobs = [
        delayed(_score_fold)(X, y, rows[train], rows[test], space, seed)
        for rows in subsets
        for train, test in space.folds(seed).split(rows, y[rows])
    ]
    with joblib_backend() as on_cluster:
        results = np.array(Parallel(n_jobs=-1 if on_cluster else n_jobs)(jobs))
    return np.split(results, len(subsets))  # every set has the same number of folds


def _table(space: SearchSpace, accuracy: np.ndarray) -> pd.DataFrame:
    table = space.configurations()
    table["cv_accuracy"] = accuracy.mean(axis=0)
    table["cv_std"] = accuracy.std(axis=0)
    return table


@dataclass(frozen=True)
class Choice:
    """The configuration chosen on training data, and the scores it was chosen from."""

    configuration: Configuration
    scores: pd.DataFrame = field(repr=False)
    input_scale: str = "auto"
    """What the values were (:attr:`~leukemia.dataset.Dataset.filter_scale`): on ``"counts"`` every option
    comes after edgeR's log counts per million."""

    @property
    def settings(self) -> PipelineSettings:
        """The chosen preprocessing, selector and number of genes, without the model."""
        c = self.configuration
        return PipelineSettings(preprocessing=c["preprocessing"], selector=c["selector"], k=c["k"])

    def describe(self) -> str:
        """One line: ``model on k genes by selector after preprocessing``."""
        c = self.configuration
        return f"{c['model']} on {c['k']} {c['selector']} genes after {c['preprocessing']}"

    def in_words(self) -> str:
        """The configuration for a reader: "Weighted voting (Golub) on 10 genes chosen by signal-to-noise
        score (an equal share per class), after Dudoit's filter" (names the words do not know are kept)."""
        c = self.configuration
        model, selector, step = (str(c[key]) for key in ("model", "selector", "preprocessing"))
        after = PREPROCESSING_WORDS.get(step, f"after {step}")
        if self.input_scale == "counts" and step in ("none", "minmax", "standard"):
            after = PREPROCESSING_WORDS["log_cpm"] + ("" if step == "none" else f", then {after[6:]}")
        chosen_by = SELECTOR_WORDS.get(selector, f"chosen by {selector}")
        return f"{MODEL_LABELS.get(model, model)} on {c['k']} genes {chosen_by}, {after}"


#: How :meth:`Choice.in_words` says how the selectors choose genes (:data:`leukemia.select.SELECTORS`).
SELECTOR_WORDS = {
    "f_test": "of largest ANOVA F statistic",
    "signal_to_noise": "chosen by signal-to-noise score (an equal share per class)",
}
PREPROCESSING_WORDS = {
    "none": "on the values as loaded",
    "minmax": "after min-max scaling",
    "standard": "after standard scaling",
    "dudoit": "after Dudoit's filter",
    "log_cpm": "after edgeR's filter and log counts per million",
    "tmm": "after edgeR's filter and TMM-normalised log counts per million",
    "vst": "after edgeR's filter and DESeq2's variance-stabilising transformation",
}


def choose_configuration(
    data: Dataset,
    space: SearchSpace = SearchSpace(),
    *,
    random_state: int = config.RANDOM_SEED,
    n_jobs: int | None = None,
) -> Choice:
    """Choose preprocessing, selector, number of genes and model from the training set alone.

    The best mean repeated-CV accuracy wins; ties go to the smaller standard deviation over
    folds, then to fewer genes, then to the earlier entry of the search space. Only ``data``'s
    training samples are read.
    """
    space = space.for_data(data)
    return _best(
        cv_scores(data.X_train, data.y_train, space, random_state=random_state, n_jobs=n_jobs),
        space.input_scale,
    )


def _ranked(scores: pd.DataFrame) -> pd.DataFrame:
    """``scores`` best first: mean CV accuracy, then the smaller spread, fewer genes, the earlier row."""
    return scores.assign(_order=np.arange(len(scores))).sort_values(
        ["cv_accuracy", "cv_std", "k", "_order"], ascending=[False, True, True, True], kind="stable"
    )


def _best(scores: pd.DataFrame, input_scale: str = "auto") -> Choice:
    ranked = _ranked(scores)
    best = ranked.iloc[0]
    configuration = Configuration(
        preprocessing=str(best["preprocessing"]), selector=str(best["selector"]), k=int(best["k"]),
        model=str(best["model"]),
    )  # fmt: skip
    return Choice(configuration, ranked.drop(columns="_order").reset_index(drop=True), input_scale)


def choose_index(cv_results: Mapping[str, Any], *, k_param: str = "selectkbest__k") -> int:
    """The candidate of a ``GridSearchCV`` that :func:`choose_configuration`'s rule takes.

    Pass it as ``GridSearchCV(..., refit=choose_index)``: the best mean CV accuracy wins, ties go to the
    smaller standard deviation over folds, then to fewer genes (the parameter ``k_param``), then to the
    earlier candidate — where scikit-learn's own rule takes the earliest of the tied best means. A search
    written out in scikit-learn then chooses as the project's search does, given the labels coded as the
    package codes them (:func:`~leukemia.dataset.encode_labels`: with three classes or more an SVM breaks
    tied votes by the class order).

    Parameters
    ----------
    cv_results
        ``GridSearchCV.cv_results_``: ``mean_test_score``, ``std_test_score`` and ``param_<k_param>``.
    k_param
        The pipeline parameter that holds the number of genes.

    Raises
    ------
    KeyError
        ``cv_results`` has no ``param_<k_param>``.
    """
    column = f"param_{k_param}"
    if column not in cv_results:
        raise KeyError(f"cv_results has no {column!r}; name the number-of-genes parameter with k_param=.")
    scores = pd.DataFrame(
        {
            "cv_accuracy": np.asarray(cv_results["mean_test_score"], dtype=float),
            "cv_std": np.asarray(cv_results["std_test_score"], dtype=float),
            "k": np.asarray(cv_results[column], dtype=float),
        }
    )
    return int(_ranked(scores).index[0])


def nested_cv(
    data: Dataset,
    space: SearchSpace = SearchSpace(),
    *,
    outer_folds: int = 5,
    random_state: int = config.RANDOM_SEED,
    n_jobs: int | None = None,
) -> pd.DataFrame:
    """Estimate the accuracy of :func:`choose_configuration` itself, on training samples only.

    Each outer fold runs the whole choice on its training part and tests the chosen pipeline on
    its held-out part. Only ``data``'s training samples are read.

    Returns
    -------
    pandas.DataFrame
        One row per outer fold: ``fold``, ``n_test``, ``n_correct``, ``accuracy``, the chosen
        configuration (:func:`nested_summary` pools them) and ``inner_folds``: ``space.cv_folds``, or fewer
        when the smallest class has fewer samples than that in an outer training part.
    """
    X_train, y_train = data.X_train, data.y_train
    y = y_train.reindex(X_train.index)
    X, encoded = _arrays(X_train, y_train)
    outer = list(stratified_folds(outer_folds, random_state).split(X, y))
    inner_folds = inner_fold_count(
        y, outer_folds=outer_folds, cv_folds=space.cv_folds, random_state=random_state
    )
    space = replace(space.for_data(data), cv_folds=inner_folds)
    # The inner searches of all outer folds form one batch of tasks: no core idles between folds.
    inner = _score_all(X, encoded, [train for train, _ in outer], space, random_state, n_jobs)
    rows = []
    for fold, ((train, test), per_fold) in enumerate(zip(outer, inner, strict=True)):
        choice = _best(_table(space, per_fold), space.input_scale)
        pipeline = space.pipeline(choice.configuration, random_state)
        pipeline.fit(X[train], y.iloc[train])
        n_correct = int((pipeline.predict(X[test]) == y.iloc[test].to_numpy()).sum())
        rows.append(
            {"fold": fold, "n_test": len(test), "n_correct": n_correct, "accuracy": n_correct / len(test)}
            | choice.configuration
            | {"inner_folds": space.cv_folds}
        )
    return pd.DataFrame(rows)


def inner_fold_count(
    y_train: pd.Series, *, outer_folds: int, cv_folds: int, random_state: int = config.RANDOM_SEED
) -> int:
    """The folds each inner search of :func:`nested_cv` uses: ``cv_folds``, or fewer for a small class.

    Stratified folds need a sample of every class in each fold; with a small class the outer split leaves
    fewer of it than ``cv_folds`` in some outer training part, and the inner searches use that many folds.

    Raises
    ------
    ValueError
        An outer training part holds a single sample of a class.
    """
    y = y_train.to_numpy()
    parts = stratified_folds(outer_folds, random_state).split(np.zeros(len(y)), y)
    smallest = min(int(np.unique(y[train], return_counts=True)[1].min()) for train, _ in parts)
    if smallest < 2:
        raise ValueError(
            "an outer training part holds a single sample of a class: too few for an inner cross-validation; "
            "use fewer outer folds."
        )
    return min(cv_folds, smallest)


@dataclass(frozen=True)
class NestedEstimate:
    """Nested CV pooled over its outer folds (:func:`nested_summary`)."""

    n_correct: int
    n_test: int
    accuracy: float
    ci_low: float
    ci_high: float
    fold_mean: float
    fold_sd: float
    """Sample SD of the outer-fold accuracies."""
    fold_min: float
    fold_max: float


def nested_summary(nested: pd.DataFrame) -> NestedEstimate:
    """The nested-CV estimate: pooled over outer folds with its exact CI, beside the folds' spread.

    Every training sample is held out by exactly one outer fold, so the pooled accuracy is
    ``correct / n`` over all of them, and its Clopper–Pearson interval stays inside [0, 1] — unlike
    a mean ± SD over a few unequal folds. (The interval treats the outer-fold predictions as
    independent tests, which they nearly are: each comes from a model that never saw the sample.)

    Parameters
    ----------
    nested
        :func:`nested_cv` output.
    """
    n_correct, n_test = int(nested["n_correct"].sum()), int(nested["n_test"].sum())
    low, high = clopper_pearson(n_correct, n_test)
    folds = nested["accuracy"]
    return NestedEstimate(
        n_correct, n_test, n_correct / n_test, low, high,
        float(folds.mean()), float(folds.std()), float(folds.min()), float(folds.max()),
    )  # fmt: skip


#: The ``protocol`` of the nested-CV row a run's metrics.csv carries (:func:`nested_row`).
NESTED_PROTOCOL = "nested_cv"


def nested_row(nested: pd.DataFrame) -> pd.DataFrame:
    """The pooled nested-CV estimate as one row of a result table (``metrics.csv``'s columns).

    Its counts are held-out *training* samples (each held out once by the outer folds), not test samples;
    ``chosen_on`` says so. The interval is the exact one of :func:`nested_summary`.
    """
    pooled = nested_summary(nested)
    return pd.DataFrame(
        [
            {
                "model": "honest protocol, as a procedure",
                "protocol": NESTED_PROTOCOL,
                "n_correct": pooled.n_correct,
                "n_test": pooled.n_test,
                "accuracy": pooled.accuracy,
                "ci_low": pooled.ci_low,
                "ci_high": pooled.ci_high,
                "chosen_on": f"nested CV ({len(nested)} outer folds) on held-out training samples",
            }
        ]
    )


def selection_bias(
    data: Dataset,
    *,
    k: int = 50,
    n_permutations: int = 10,
    cv_folds: int = 5,
    random_state: int = config.RANDOM_SEED,
    n_jobs: int | None = None,
) -> pd.DataFrame:
    """Cross-validated accuracy on *permuted* labels, genes chosen outside vs inside the folds.

    With the labels shuffled there is nothing to learn, so an honest estimate sits at chance.
    Choosing the ``k`` signal-to-noise genes on all samples first and cross-validating weighted
    voting on them afterwards looks far better than chance — the selection bias of Ambroise &
    McLachlan (2002). Choosing them inside each fold does not.

    The permutations run in parallel through joblib (``n_jobs``); the results do not depend on it.

    Returns
    -------
    pandas.DataFrame
        One row per permutation: ``genes chosen before CV`` and ``genes chosen inside CV``.
    """
    rng = np.random.default_rng(random_state)
    y = data.y_train.reindex(data.X_train.index).to_numpy()  # training samples only
    X = analysis_values(data)[0].to_numpy()  # read counts: their log counts per million
    draws = [(rng.permutation(y), int(rng.integers(2**31))) for _ in range(n_permutations)]  # in this order
    with local_workers():
        rows = Parallel(n_jobs=n_jobs)(
            delayed(_one_permutation)(X, shuffled, stratified_folds(cv_folds, seed), k)
            for shuffled, seed in draws
        )
    return pd.DataFrame(rows)


def _one_permutation(X: np.ndarray, shuffled: np.ndarray, folds: object, k: int) -> dict[str, float]:
    """:func:`selection_bias` for one permutation of the labels."""
    chosen = make_selector("signal_to_noise", k).fit(X, shuffled).get_support()
    before = cross_val_score(make_model("weighted_voting"), X[:, chosen], shuffled, cv=folds)
    inside = cross_val_score(
        make_pipeline("weighted_voting", preprocessing="none", selector="signal_to_noise", k=k),
        X, shuffled, cv=folds,
    )  # fmt: skip
    return {"genes chosen before CV": before.mean(), "genes chosen inside CV": inside.mean()}


#: Confidence thresholds :func:`abstention` chooses among.
ABSTENTION_GRID = np.round(np.arange(0, 1, 0.05), 2)


def clean_threshold(confidence: np.ndarray, correct: np.ndarray, grid: np.ndarray = ABSTENTION_GRID) -> float:
    """The smallest threshold of ``grid`` at which every call with ``confidence ≥ threshold`` is correct.

    This project's rule for an abstention threshold (not a published one: Golub et al. 1999 fixed theirs
    at a prediction strength of 0.3). It puts the threshold just above the most confident wrong call, so
    it returns 0 — every call confident, no abstention — exactly when every call is correct: with no
    wrong call to go by, it cannot tell where the weak calls begin.
    Returns NaN when no threshold of the grid qualifies (a wrong call at the top confidence).
    A threshold above every confidence qualifies trivially, with no call left.
    """
    clean = [t for t in grid if correct[confidence >= t].all()]
    return float(clean[0]) if clean else float("nan")


def margin_confidence(proba: np.ndarray) -> np.ndarray:
    """How far the top class's probability is ahead of the runner-up's, in [0, 1].

    For two classes ``|2·p₁ − 1|`` (computed so, exactly); for weighted voting this is Golub's
    prediction strength, for any K (:meth:`~leukemia.golub.WeightedVoting.predict_proba`).
    """
    if proba.shape[1] == 2:
        return np.abs(2 * proba[:, 1] - 1)
    ordered = np.sort(proba, axis=1)
    return ordered[:, -1] - ordered[:, -2]


def abstention(
    data: Dataset,
    models: list[str],
    settings: PipelineSettings,
    *,
    cv_folds: int = 5,
    random_state: int = config.RANDOM_SEED,
    n_jobs: int | None = None,
) -> pd.DataFrame:
    """Confident calls only: a confidence threshold per model chosen on training CV, then tested.

    Confidence is the margin of the top class's probability over the runner-up's from ``predict_proba``
    (:func:`margin_confidence`: ``|2·P(AML) − 1|`` for two classes; for weighted voting exactly Golub's
    prediction strength). Each model's threshold is the smallest of 0, 0.05, …, 0.95 at
    which all its out-of-fold calls on the training set that reach it are correct — this project's
    rule (:func:`clean_threshold`), which gives 0 when every out-of-fold call is correct. When no
    threshold qualifies, the model gets
    none: its test columns are empty (``<NA>``). When the only qualifying thresholds lie above every
    out-of-fold confidence, no training call is confident and the model abstains on nearly every
    test sample. Models without ``predict_proba`` are skipped. The folds' preprocessing and selection
    run in parallel through joblib (``n_jobs``); the results do not depend on it.

    Returns
    -------
    pandas.DataFrame
        One row per model: ``threshold`` (chosen on training CV; NaN if none qualifies),
        ``train_max_confidence`` and ``train_max_wrong_confidence`` (the highest out-of-fold confidence
        overall and among wrong calls: a qualifying threshold must exceed the latter),
        ``train_confident`` and ``train_confident_correct`` (out-of-fold),
        ``test_confident``, ``test_confident_correct``, ``test_uncertain``, ``test_confident_accuracy``,
        and ``converged``: False when the model's solver stopped before converging in any of its fits
        (a ``ConvergenceWarning``, recorded here instead of printed).
    """
    classes = class_order(data.y_train)
    y_tr = encode_labels(data.y_train.reindex(data.X_train.index), classes).to_numpy()
    y_te = encode_labels(data.y_test.reindex(data.X_test.index), classes).to_numpy()
    X_tr, X_te = data.X_train.to_numpy(), data.X_test.to_numpy()  # arrays: fast input checks
    scale = data.filter_scale
    pipelines = {
        name: make_pipeline(name, random_state=random_state, input_scale=scale, **settings) for name in models
    }
    pipelines = {name: p for name, p in pipelines.items() if hasattr(p, "predict_proba")}
    # Preprocessing and selector are the same for every model: fitted once per fold (and once on all
    # training samples), where cross_val_predict of each pipeline would refit them for every model.
    steps = make_pipeline(models[0], input_scale=scale, **settings)[:-1]
    splits = list(stratified_folds(cv_folds, random_state).split(X_tr, y_tr))
    with local_workers():
        *features, (F_tr, F_te) = Parallel(n_jobs=n_jobs)(
            [delayed(shared_features)(steps, X_tr, y_tr, train, test) for train, test in splits]
            + [delayed(_fitted_features)(steps, X_tr, y_tr, X_te)]
        )
    rows = []
    for name, pipeline in pipelines.items():
        model = pipeline[-1]
        oof = np.zeros((len(y_tr), len(classes)))
        with _solver_warnings() as stopped:
            for (train, test), (T_train, T_test) in zip(splits, features, strict=True):
                oof[test] = clone(model).fit(T_train, y_tr[train]).predict_proba(T_test)
        oof_call, oof_conf = oof.argmax(axis=1), margin_confidence(oof)
        threshold = clean_threshold(oof_conf, oof_call == y_tr)
        row: dict[str, object] = {
            "model": name,
            "threshold": threshold,
            "train_max_confidence": float(oof_conf.max()),
            "train_max_wrong_confidence": float(oof_conf[oof_call != y_tr].max())
            if (oof_call != y_tr).any()
            else np.nan,
            "train_confident": pd.NA,
            "train_confident_correct": pd.NA,
            "test_confident": pd.NA,
            "test_confident_correct": pd.NA,
            "test_uncertain": pd.NA,
            "test_confident_accuracy": np.nan,
        }
        if not np.isnan(threshold):
            with _solver_warnings() as stopped_on_all:
                proba = clone(model).fit(F_tr, y_tr).predict_proba(F_te)
            stopped += stopped_on_all
            call, conf = proba.argmax(axis=1), margin_confidence(proba)
            confident = conf >= threshold
            n_right = int((call[confident] == y_te[confident]).sum())
            row |= {
                "train_confident": int((oof_conf >= threshold).sum()),
                "train_confident_correct": int((oof_call == y_tr)[oof_conf >= threshold].sum()),
                "test_confident": int(confident.sum()),
                "test_confident_correct": n_right,
                "test_uncertain": int((~confident).sum()),
                "test_confident_accuracy": n_right / confident.sum() if confident.any() else np.nan,
            }
        row["converged"] = not stopped
        rows.append(row)
    table = pd.DataFrame(rows)
    counts = [
        c for c in table.columns if c.startswith(("train_confident", "test_confident", "test_uncertain"))
    ]
    counts.remove("test_confident_accuracy")
    return table.astype({c: "Int64" for c in counts})


#: What a model's abstention threshold did, as :func:`abstention_outcome` names it.
NO_THRESHOLD = "no threshold on the grid"
NEVER_ABSTAINS = "threshold 0: never abstains"
ABSTAINS_ON_EVERY_TEST_SAMPLE = "abstains on every test sample"
ABSTAINS_ON_NO_TEST_SAMPLE = "threshold above 0, abstains on no test sample"
ABSTAINS_ON_SOME_TEST_SAMPLES = "abstains on some test samples"


@contextlib.contextmanager
def _solver_warnings() -> Iterator[list[str]]:
    """Collect the solvers' ``ConvergenceWarning``s of the fits inside the block, instead of printing them.

    The list yielded holds their messages; other warnings pass as usual. A model keeps its settings
    (the seed's logistic regression stops at scikit-learn's 100 iterations): that it stopped early is
    recorded with its results, where the reader sees it, not printed into the report.
    """
    stopped: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        yield stopped
    for warning in caught:
        if issubclass(warning.category, ConvergenceWarning):
            stopped.append(str(warning.message))
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)


def abstention_outcome(table: pd.DataFrame) -> pd.Series:
    """What each model's threshold did, one label per row of an :func:`abstention` table.

    The first rule that holds names the row:

    1. :data:`NO_THRESHOLD`: no threshold of the grid qualifies (``threshold`` is NaN);
    2. :data:`NEVER_ABSTAINS`: the threshold is 0, so every call is confident (the rule gives 0 exactly
       when every out-of-fold training call is correct);
    3. :data:`ABSTAINS_ON_EVERY_TEST_SAMPLE`: no test call reaches the threshold;
    4. :data:`ABSTAINS_ON_NO_TEST_SAMPLE`: every test call reaches it;
    5. :data:`ABSTAINS_ON_SOME_TEST_SAMPLES`: the threshold separates confident from uncertain test calls.

    Returns
    -------
    pandas.Series
        Indexed like ``table``, named ``outcome``.
    """
    threshold = table["threshold"].astype(float)
    confident = table["test_confident"].astype("Float64")
    uncertain = table["test_uncertain"].astype("Float64")
    outcome = np.select(
        [
            threshold.isna().to_numpy(),
            (threshold == 0).to_numpy(),
            (confident == 0).fillna(False).to_numpy(dtype=bool),
            (uncertain == 0).fillna(False).to_numpy(dtype=bool),
        ],
        [NO_THRESHOLD, NEVER_ABSTAINS, ABSTAINS_ON_EVERY_TEST_SAMPLE, ABSTAINS_ON_NO_TEST_SAMPLE],
        default=ABSTAINS_ON_SOME_TEST_SAMPLES,
    )
    return pd.Series(outcome, index=table.index, name="outcome")


def _fitted_features(steps: Pipeline, X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray) -> tuple:
    """``steps`` fitted on all of ``X_train``: their output on it and on ``X_test``."""
    fitted = clone(steps).fit(X_train, y_train)
    return fitted.transform(X_train), fitted.transform(X_test)


def parse_search_space(
    preprocessing: str, selectors: str, ks: str, models: str, *, cv_folds: int = 5, cv_repeats: int = 2
) -> SearchSpace:
    """Build a :class:`SearchSpace` from comma-separated notebook parameters.

    Example: ``parse_search_space("none,dudoit", "signal_to_noise", "10,50", "weighted_voting,knn")``.
    """

    def items(text: str) -> tuple[str, ...]:
        return tuple(part.strip() for part in text.split(",") if part.strip())

    try:
        numbers = tuple(int(k) for k in items(ks))
    except ValueError:
        raise ValueError(f"ks must be comma-separated whole numbers, got {ks!r}.") from None
    return SearchSpace(items(preprocessing), items(selectors), numbers, items(models), cv_folds, cv_repeats)

"""The fast path of honest model selection: share every fold's work across the whole grid.

Cross-validating a grid of ``preprocess → select k genes → model`` pipelines the plain
scikit-learn way refits the preprocessing and rescores all 7129 genes for every configuration
of every fold. Within one fold most of that work is the same for every configuration:

- the preprocessing is fitted once per option (not once per option × k × model);
- the genes are scored once per selector and put in a *nested ranking*: an order in which the
  first ``k`` genes are exactly the ones the selector keeps with ``k``, for every ``k`` at once;
- options that only shift and stretch each gene (no preprocessing, standardising, min-max
  scaling) leave every gene's F statistic and signal-to-noise ratio as they were, so they share
  one ranking of the untransformed genes and are fitted on the ranked genes alone (at study scale,
  54,675 genes, the ≤ 200 ranked ones instead of all); a model that standardises the genes itself
  (the elastic net) sees the same matrix after each of them, and is fitted once for all;
- models whose prediction is a sum over genes (weighted voting, nearest centroid, k-nearest
  neighbours) are evaluated for every ``k`` from one pass over the ranked genes; every other
  model is fitted as scikit-learn would, on the same columns in the same order.

:func:`fold_predictions` does this for one fold; :func:`leukemia.honest.cv_scores` runs it over
the folds. Both are tested to give the same predictions as the plain pipelines. One caveat, of
floating point and not of the method: an option's ranking is computed on the untransformed genes,
so two genes whose scores agree to the last digits could change places (not seen on Golub's data,
whose notebooks give the same outputs, nor in a fold of a 54,675-gene synthetic study).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.base import ClassifierMixin, TransformerMixin, clone
from sklearn.neighbors import KNeighborsClassifier, NearestCentroid
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, MinMaxScaler, StandardScaler
from sklearn.utils import as_float_array

from leukemia.golub import WeightedVoting, class_midpoints
from leukemia.select import anova_f, make_selector, signal_to_noise_ovr, top_genes_per_class

__all__ = ["fold_predictions", "nested_ranking", "predictions_by_k"]


def nested_ranking(selector: str, X: np.ndarray, y: np.ndarray, max_k: int) -> np.ndarray | None:
    """Column indices, best first, whose first ``k`` are the genes ``selector`` keeps with ``k``.

    For ``"f_test"`` this is scikit-learn's ``SelectKBest(f_classif)`` order (NaN scores last, ties
    to the later column); for ``"signal_to_noise"`` the classes' one-vs-rest orders interleaved
    (class 0's best, class 1's best, …, class 0's second, …; :func:`top_genes_per_class`), so any first
    ``k`` are the genes :class:`SignalToNoiseSelector` keeps with ``k``.

    Returns
    -------
    ndarray of int, shape (max_k,), or None
        ``None`` when no nested order exists (``max_k`` larger than the number of genes, or an
        unknown selector); the caller then fits the selector for each ``k``.
    """
    n_genes = X.shape[1]
    if max_k > n_genes:
        return None
    if selector == "f_test":
        scores = anova_f(X, y)  # f_classif's F values, without its copies of the matrix
        scores[np.isnan(scores)] = np.finfo(scores.dtype).min  # as SelectKBest does
        return np.argsort(scores, kind="mergesort")[::-1][:max_k]
    if selector == "signal_to_noise":
        return top_genes_per_class(signal_to_noise_ovr(X, y)[0], max_k)
    return None


def _squared_distances(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances between the rows of ``A`` and ``B``."""
    d = (A * A).sum(axis=1)[:, None] + (B * B).sum(axis=1)[None, :] - 2.0 * A @ B.T
    return np.maximum(d, 0.0, out=d)


def _knn_by_k(model: KNeighborsClassifier, R_train, y, R_test, ks) -> np.ndarray | None:
    classes, y_index = np.unique(y, return_inverse=True)
    n = model.n_neighbors
    if not 1 <= n <= len(R_train):
        return None  # let the estimator raise its own error
    out = np.empty((len(ks), len(R_test)), dtype=y.dtype)
    for i, k in enumerate(ks):
        d = _squared_distances(R_test[:, :k], R_train[:, :k])
        nearest = np.argsort(d, axis=1, kind="stable")[:, :n]
        votes = np.stack([(y_index[nearest] == c).sum(axis=1) for c in range(classes.size)], axis=1)
        out[i] = classes[votes.argmax(axis=1)]  # a tie goes to the first class, as scikit-learn's mode
    return out


def _centroid_by_k(model: NearestCentroid, R_train, y, R_test, ks) -> np.ndarray:
    classes = np.unique(y)
    centroids = np.stack([R_train[y == c].mean(axis=0) for c in classes])
    per_gene = (R_test[:, None, :] - centroids[None, :, :]) ** 2  # samples × classes × genes
    cumulative = per_gene.cumsum(axis=2)
    return np.stack([classes[cumulative[:, :, k - 1].argmin(axis=1)] for k in ks])


def _voting_by_k(model: WeightedVoting, R_train, y, R_test, ks) -> np.ndarray | None:
    class_scores, classes = signal_to_noise_ovr(R_train, y, ddof=model.ddof, sigma_floor=model.sigma_floor)
    if classes.size == 2:
        midpoints = class_midpoints(R_train, y == classes[0])
        margin = (class_scores[0] * (R_test - midpoints)).cumsum(axis=1)  # V_0 − V_1 over the first k genes
        return np.stack([classes[(margin[:, k - 1] < 0).astype(int)] for k in ks])
    # K classes: each one-vs-rest predictor's votes for and against its class, over the first k genes.
    strengths = np.empty((len(ks), len(R_test), classes.size))
    for c, scores in enumerate(class_scores):
        votes = scores * (R_test - class_midpoints(R_train, y == classes[c]))
        for_class = np.clip(votes, 0, None).cumsum(axis=1)[:, np.asarray(ks) - 1]
        against = np.clip(-votes, 0, None).cumsum(axis=1)[:, np.asarray(ks) - 1]
        total = for_class + against
        strengths[:, :, c] = np.divide(
            for_class - against, total, out=np.zeros_like(total), where=total > 0
        ).T
    return classes[strengths.argmax(axis=2)]


def _vectorised(model: ClassifierMixin):
    """The one-pass evaluator for ``model``, or None when it must be fitted for each ``k``."""
    params = model.get_params()
    if type(model) is KNeighborsClassifier and (
        params["weights"] == "uniform"
        and params["metric"] in ("minkowski", "euclidean")
        and params["p"] == 2
        and params["metric_params"] is None
    ):
        return _knn_by_k
    if type(model) is NearestCentroid and (
        params["metric"] == "euclidean"
        and params["shrink_threshold"] is None
        and isinstance(params["priors"], str)
        and params["priors"] == "uniform"
    ):
        return _centroid_by_k
    if type(model) is WeightedVoting and params["k"] is None:
        return _voting_by_k
    return None


def predictions_by_k(
    model: ClassifierMixin,
    P_train: np.ndarray,
    y_train: np.ndarray,
    P_test: np.ndarray,
    order: np.ndarray,
    ks: Sequence[int],
) -> np.ndarray:
    """Predictions of ``model`` on ``P_test`` using the first ``k`` genes of ``order``, for each ``k``.

    Parameters
    ----------
    model
        An unfitted classifier (never modified; fitted copies are made).
    P_train, P_test
        Preprocessed samples × genes.
    order
        A nested ranking from :func:`nested_ranking`.
    ks
        Numbers of genes, each at most ``len(order)``.

    Returns
    -------
    ndarray, shape (len(ks), n_test)
    """
    evaluator = _vectorised(model)
    if evaluator is not None:
        R_train, R_test = P_train[:, order], P_test[:, order]
        predicted = evaluator(model, R_train, y_train, R_test, ks)
        if predicted is not None:
            return predicted
    rows = []
    for k in ks:
        columns = np.sort(order[:k])  # the selector's columns, in their original order
        fitted = clone(model).fit(P_train[:, columns], y_train)
        rows.append(fitted.predict(P_test[:, columns]))
    return np.stack(rows)


def _shifts_and_stretches(step: TransformerMixin) -> bool:
    """Whether ``step`` maps every gene to ``a + b * gene`` with ``b > 0`` (``a``, ``b`` learnt per gene).

    Such a step changes no gene's F statistic or signal-to-noise ratio, hence no ranking.
    """
    if type(step) is FunctionTransformer:
        return step.func is None  # the identity
    if type(step) is MinMaxScaler:
        low, high = step.feature_range
        return low < high
    return type(step) is StandardScaler


def _float(X: np.ndarray) -> np.ndarray:
    """``X`` as floats: float32 stays float32 (uncopied), anything else becomes float64."""
    return as_float_array(np.asarray(X), copy=False, ensure_all_finite=False)


def _columns(X: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """``X[:, columns]`` laid out in memory as ``X`` is (row- or column-major).

    A scaler's column sums then add the same numbers in the same order as on the whole of ``X``:
    the scaled columns are those of the scaled matrix, bit for bit.
    """
    part = X[:, columns]
    if X.flags.f_contiguous and not X.flags.c_contiguous:
        return np.asfortranarray(part)
    return np.ascontiguousarray(part)


def _standardises_first(model: ClassifierMixin) -> bool:
    """Whether ``model`` is a pipeline that starts by standardising every gene (e.g. the elastic net)."""
    if not isinstance(model, Pipeline) or type(model[0]) is not StandardScaler:
        return False
    return bool(model[0].with_mean and model[0].with_std)


def _predictions_on_ranked(
    step, selector_order, X_train, y_train, X_test, ks, models, standardised: dict[int, np.ndarray]
) -> list[np.ndarray]:
    """Every model's predictions for every ``k`` with ``step`` fitted on the ranked genes alone.

    A model that standardises the genes first sees the same matrix after any shift-and-stretch step
    (to rounding), so its predictions are made once per ranking and reused (``standardised``, by model
    position): a third of the elastic net's fits in the default search, which were 60% of its time.
    """
    columns = np.sort(selector_order)  # in their original order, as a pipeline's selector keeps them
    fitted = clone(step).fit(_columns(X_train, columns), y_train)
    P_train, P_test = (_float(fitted.transform(_columns(X, columns))) for X in (X_train, X_test))
    order = np.searchsorted(columns, selector_order)  # the ranking, as positions among ``columns``
    predictions = []
    for position, model in enumerate(models):
        if not _standardises_first(model):
            predictions.append(predictions_by_k(model, P_train, y_train, P_test, order, ks))
            continue
        if position not in standardised:
            standardised[position] = predictions_by_k(model, P_train, y_train, P_test, order, ks)
        predictions.append(standardised[position])
    return predictions


def _models_by_k(per_model: list[np.ndarray], n_test: int) -> np.ndarray:
    """models × ks × samples → (ks × models) × samples (k varies slower than model)."""
    return np.stack(per_model).transpose(1, 0, 2).reshape(-1, n_test)


def fold_predictions(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_test: np.ndarray,
    preprocessing: Sequence[TransformerMixin],
    selectors: Sequence[str],
    ks: Sequence[int],
    models: Sequence[ClassifierMixin],
) -> np.ndarray:
    """Predictions of every configuration on one fold's test samples.

    Configurations are ordered preprocessing × selector × k × model (``ks`` as given), the order
    of :meth:`leukemia.honest.SearchSpace.configurations`.

    Returns
    -------
    ndarray, shape (n_configurations, n_test)
    """
    ks, X_train, X_test = list(ks), np.asarray(X_train), np.asarray(X_test)
    blocks = []
    raw_orders: list[np.ndarray | None] | None = None  # per selector, of the untransformed genes; made once
    standardised: dict[int, dict[int, np.ndarray]] = {}  # per selector: models that standardise first
    for step in preprocessing:
        if _shifts_and_stretches(step):
            if raw_orders is None:
                X_float = _float(X_train)
                raw_orders = [nested_ranking(selector, X_float, y_train, max(ks)) for selector in selectors]
            if all(order is not None for order in raw_orders):
                for position, order in enumerate(raw_orders):
                    shared = standardised.setdefault(position, {})
                    per_model = _predictions_on_ranked(
                        step, order, X_train, y_train, X_test, ks, models, shared
                    )
                    blocks.append(_models_by_k(per_model, len(X_test)))
                continue
        fitted = clone(step).fit(X_train, y_train)
        P_train, P_test = (_float(fitted.transform(X)) for X in (X_train, X_test))
        for selector in selectors:
            order = nested_ranking(selector, P_train, y_train, max(ks))
            if order is not None:
                per_model = [predictions_by_k(m, P_train, y_train, P_test, order, ks) for m in models]
            else:  # no nested order: the selector fitted once for every k, as a pipeline would
                chosen = [make_selector(selector, k).fit(P_train, y_train) for k in ks]
                selected = [(c.transform(P_train), c.transform(P_test)) for c in chosen]
                per_model = [
                    np.stack([clone(m).fit(S_train, y_train).predict(S_test) for S_train, S_test in selected])
                    for m in models
                ]
            blocks.append(_models_by_k(per_model, len(X_test)))
        del fitted, P_train, P_test  # at study scale 0.6 GB: gone before the next option's copy is made
    return np.concatenate(blocks)

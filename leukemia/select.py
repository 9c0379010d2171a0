"""Gene selection: the ANOVA F-test the seed notebook used, and Golub's signal-to-noise score.

Both are scikit-learn selectors, so inside a :class:`~sklearn.pipeline.Pipeline` they are fitted on the
training samples of each fold only — choosing genes on all samples before cross-validation is the
selection bias described by Ambroise & McLachlan (2002, PNAS 99:6562).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.feature_selection import SelectKBest, SelectorMixin
from sklearn.utils import as_float_array
from sklearn.utils.validation import check_is_fitted, validate_data

from leukemia.registry import lookup

__all__ = [
    "GENEPATTERN_SIGMA_FLOOR",
    "SELECTORS",
    "SignalToNoiseSelector",
    "anova_f",
    "compare_selectors",
    "finite_ratio",
    "make_selector",
    "selected_genes",
    "signal_to_noise",
    "signal_to_noise_ovr",
    "top_genes_per_class",
]


#: GenePattern's weighted voting floors each class's σ at this fraction of |μ| (Slonim et al. 2000).
GENEPATTERN_SIGMA_FLOOR = 0.2


def finite_ratio(
    difference: np.ndarray, spread: np.ndarray, mean_a: np.ndarray, mean_b: np.ndarray
) -> np.ndarray:
    """``difference / spread`` for signal-to-noise scores, finite for every gene.

    A gene constant within both groups (``spread`` 0) whose means differ would score ±∞; its σs are
    floored as GenePattern floors them, ``σ = max(σ, 0.2·|μ|)``, which gives the spread
    ``0.2·(|μ_a| + |μ_b|)`` (> 0, since the means differ). Such genes appear in small folds: a class
    of two or three samples can share one value. A gene constant everywhere scores 0.
    """
    degenerate = (spread == 0) & (difference != 0)
    if np.any(degenerate):
        floor = GENEPATTERN_SIGMA_FLOOR * (np.abs(mean_a) + np.abs(mean_b))
        spread = np.where(degenerate, floor, spread)
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = np.asarray(difference / spread)
    scores[np.isnan(scores)] = 0.0
    return scores


def signal_to_noise(
    X: np.ndarray, y: np.ndarray, *, ddof: int = 0, sigma_floor: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Golub et al.'s signal-to-noise score of every gene for a two-class problem.

    ``P(g) = (μ₀ − μ₁) / (σ₀ + σ₁)`` where class 0 is the first of the two sorted labels
    (``"ALL"`` before ``"AML"``, or 0 before 1 with AML encoded as 1): positive scores mark genes
    higher in ALL, negative scores genes higher in AML.

    Parameters
    ----------
    X
        Samples × genes.
    y
        Exactly two distinct labels.
    ddof
        Delta degrees of freedom of the standard deviations (0: population σ, as numpy).
    sigma_floor
        Floor each class's σ at this fraction of the absolute class mean, ``σ = max(σ, f·|μ|)``, as
        GenePattern's weighted-voting module does with ``f = 0.2`` (Slonim et al. 2000); 0 (the
        default) leaves σ as it is.

    Returns
    -------
    scores : ndarray of shape (n_genes,)
        ``P(g)``, finite: a gene constant within both classes scores 0 if the means agree, else its σs
        are floored as GenePattern floors them (:func:`finite_ratio`).
    classes : ndarray of shape (2,)
        The two labels, in the order used for the sign.

    Raises
    ------
    ValueError
        If ``y`` does not hold exactly two classes, or a class has too few samples for ``ddof``.
    """
    X = as_float_array(np.asarray(X), copy=False, ensure_all_finite=False)  # float32 stays float32
    y = np.asarray(y)
    classes = np.unique(y)
    if classes.size != 2:
        raise ValueError(f"signal-to-noise needs exactly two classes, got {classes.tolist()}.")
    rows = y == classes[0], y == classes[1]
    if min(int(rows[0].sum()), int(rows[1].sum())) <= ddof:
        raise ValueError(f"each class needs more than ddof={ddof} samples.")
    means, sigmas = zip(*(_mean_and_std(X, r, ddof) for r in rows), strict=True)
    if sigma_floor:
        sigmas = tuple(np.maximum(sd, sigma_floor * np.abs(mu)) for sd, mu in zip(sigmas, means, strict=True))
    return finite_ratio(means[0] - means[1], sigmas[0] + sigmas[1], means[0], means[1]), classes


def signal_to_noise_ovr(
    X: np.ndarray, y: np.ndarray, *, ddof: int = 0, sigma_floor: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """One-vs-rest signal-to-noise scores: for each class, ``P_c(g) = (μ_c − μ_rest) / (σ_c + σ_rest)``.

    The rest is every sample of the other classes, pooled. For two classes the rows are Golub's
    ``P(g)`` and ``−P(g)`` exactly (the rest of one class is the other class).

    Parameters
    ----------
    X, y, ddof, sigma_floor
        As for :func:`signal_to_noise`; ``y`` may hold any number K ≥ 2 of classes.

    Returns
    -------
    scores : ndarray of shape (K, n_genes)
        Row ``c``: genes higher in class ``c`` than in the rest score positive.
    classes : ndarray of shape (K,)
        The sorted labels, in the order of the rows.
    """
    y = np.asarray(y)
    classes = np.unique(y)
    if classes.size < 2:
        raise ValueError(f"signal-to-noise needs at least two classes, got {classes.tolist()}.")
    if classes.size == 2:
        scores, classes = signal_to_noise(X, y, ddof=ddof, sigma_floor=sigma_floor)
        return np.stack([scores, -scores]), classes
    rows = [
        signal_to_noise(X, np.where(y == c, 0, 1), ddof=ddof, sigma_floor=sigma_floor)[0] for c in classes
    ]
    return np.stack(rows), classes


def anova_f(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The one-way ANOVA F of every gene: ``f_classif(X, y)[0]`` bit for bit, with fewer copies.

    ``f_classif`` copies each class's rows twice and squares each copy; at study scale (1,120 × 54,675)
    that is about 1.5 GB of fresh memory per call, and filling it costs more than the arithmetic. Here
    the same sums are taken in the same order over the rows of each class in place (a masked
    reduction, squares one row at a time), so the F values are identical and so is any
    ranking made from them. No p-values; constant genes give NaN (0/0) or inf, as there.
    """
    X = as_float_array(np.asarray(X), copy=False, ensure_all_finite=False)  # float32 stays float32
    y = np.asarray(y)
    masks = [y == label for label in np.unique(y)]
    n_per_class = np.array([int(mask.sum()) for mask in masks])
    n_samples = np.sum(n_per_class)
    ss_alldata = sum(_sum_of_squares(X, mask) for mask in masks)
    sums = [X.sum(axis=0, where=mask[:, None]) for mask in masks]
    square_of_sums_alldata = sum(sums) ** 2
    sstot = ss_alldata - square_of_sums_alldata / float(n_samples)
    ssbn = 0.0
    for k, class_sum in enumerate(sums):
        ssbn += class_sum**2 / n_per_class[k]
    ssbn -= square_of_sums_alldata / float(n_samples)
    msb = ssbn / float(len(masks) - 1)
    msw = (sstot - ssbn) / float(n_samples - len(masks))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(msb / msw).ravel()


def _sum_of_squares(X: np.ndarray, rows: np.ndarray, center: np.ndarray | None = None) -> np.ndarray:
    """``((X[rows] - center) ** 2).sum(axis=0)`` with the same additions in the same order, a row at a time.

    numpy reduces a C-ordered matrix over its rows by adding row after row, so this equals the
    vectorised expression bit for bit without its two copies of the rows.
    """
    total = np.zeros(X.shape[1], dtype=X.dtype)
    for i in np.flatnonzero(rows):
        total += np.square(X[i] if center is None else X[i] - center)
    return total


def _mean_and_std(X: np.ndarray, rows: np.ndarray, ddof: int) -> tuple[np.ndarray, np.ndarray]:
    """``X[rows].mean(axis=0)`` and ``X[rows].std(axis=0, ddof=ddof)`` bit for bit, without copying rows."""
    n = int(rows.sum())
    mean = X.sum(axis=0, where=rows[:, None]) / n
    return mean, np.sqrt(_sum_of_squares(X, rows, mean) / max(n - ddof, 0))


def top_genes_per_class(class_scores: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` genes chosen in turn by each class, best first: Golub's "half per class" for K classes.

    Class 0 takes the gene with its largest score, then class 1 its largest, …, each skipping genes
    already taken, until ``k`` genes are chosen; for an uneven ``k`` the first classes get one more.
    For two classes with ``[P, −P]`` this is Golub's rule: the ``k − k//2`` largest ``P(g)`` and the
    ``k//2`` smallest. Ties within a class go to the gene that comes first, except for the second of
    two classes: its ranking is the first's read backwards, so its ties go to the gene that comes last.
    The first ``j`` genes of the result are the choice for ``j``, so one call serves every smaller ``k``.

    Parameters
    ----------
    class_scores
        ``(K, n_genes)``, as :func:`signal_to_noise_ovr` returns.
    k
        Genes to choose (1 to ``n_genes``).

    Returns
    -------
    ndarray of int, shape (k,)
        Column indices in the order they were chosen.
    """
    n_classes, n_genes = class_scores.shape
    if not 1 <= k <= n_genes:
        raise ValueError(f"k must be between 1 and the number of genes ({n_genes}), got {k}.")
    # Each class's ranking; k entries always suffice (fewer than k genes are ever taken before it).
    rankings = [np.argsort(-row, kind="stable")[:k] for row in class_scores]
    if n_classes == 2:  # the second class's ranking is the first's reversed, as Golub's rule reads
        rankings[1] = np.argsort(-class_scores[0], kind="stable")[::-1][:k]
    taken = np.zeros(n_genes, dtype=bool)
    chosen = np.empty(k, dtype=np.intp)
    position = [0] * n_classes
    for i in range(k):
        c, ranking = i % n_classes, rankings[i % n_classes]
        while taken[ranking[position[c]]]:
            position[c] += 1
        chosen[i] = ranking[position[c]]
        taken[chosen[i]] = True
    return chosen


class SignalToNoiseSelector(SelectorMixin, BaseEstimator):
    """Keep the ``k`` genes with the most extreme signal-to-noise scores, an equal share for each class.

    Golub et al. (1999) chose their 50 "informative genes" as the 25 with the largest ``P(g)``
    (highest in class 0, ALL) and the 25 with the smallest (highest in class 1, AML). For K classes
    each class takes its genes in turn by its one-vs-rest score (:func:`top_genes_per_class`), so
    ``k`` is split evenly; an uneven remainder goes to the first classes.

    Parameters
    ----------
    k
        Number of genes to keep (1 to the number of genes).
    ddof
        Passed to :func:`signal_to_noise_ovr`.

    Attributes
    ----------
    class_scores_ : ndarray of shape (n_classes, n_features_in_)
        One-vs-rest ``P_c(g)`` on the training samples.
    scores_ : ndarray of shape (n_features_in_,)
        Two classes: Golub's signed ``P(g)`` (positive: higher in class 0). More: each gene's largest
        one-vs-rest score.
    classes_ : ndarray of shape (n_classes,)
    """

    def __init__(self, k: int = 50, ddof: int = 0) -> None:
        self.k = k
        self.ddof = ddof

    def fit(self, X, y):
        """Score every gene on the (training) samples ``X`` with labels ``y``."""
        X, y = validate_data(self, X, y, dtype=np.float64)
        if not 1 <= self.k <= X.shape[1]:
            raise ValueError(f"k must be between 1 and the number of genes ({X.shape[1]}), got {self.k}.")
        self.class_scores_, self.classes_ = signal_to_noise_ovr(X, y, ddof=self.ddof)
        two = self.classes_.size == 2
        self.scores_ = self.class_scores_[0] if two else self.class_scores_.max(axis=0)
        return self

    def _get_support_mask(self) -> np.ndarray:
        check_is_fitted(self, "class_scores_")
        mask = np.zeros(self.class_scores_.shape[1], dtype=bool)
        mask[top_genes_per_class(self.class_scores_, self.k)] = True
        return mask


def _anova(k: int) -> SelectKBest:
    return SelectKBest(anova_f, k=k)  # f_classif's scores bit for bit, so its choice of genes; no p-values


#: Selector name → factory taking the number of genes.
SELECTORS: dict[str, Callable[[int], SelectorMixin]] = {
    "f_test": _anova,
    "signal_to_noise": lambda k: SignalToNoiseSelector(k=k),
}


def make_selector(name: str, k: int) -> SelectorMixin:
    """A fresh, unfitted selector: ``"f_test"`` (ANOVA F, the seed's) or ``"signal_to_noise"``.

    Raises
    ------
    ValueError
        For an unknown name (listing the valid ones) or ``k < 1``.
    """
    factory = lookup(SELECTORS, name, "selector")
    if k < 1:
        raise ValueError(f"the number of genes k must be at least 1, got {k}.")
    return factory(k)


def compare_selectors(X: pd.DataFrame, y: pd.Series, k: int = 50) -> pd.DataFrame:
    """Score every gene with both selectors and mark the ``k`` each one keeps.

    Parameters
    ----------
    X
        Samples × genes, already preprocessed (training samples only).
    y
        Class labels on the same index.
    k
        Genes kept by each selector.

    Returns
    -------
    pandas.DataFrame
        Indexed by gene: ``f_score`` and ``f_rank`` (1 = largest F), ``snr`` and ``snr_rank``
        (1 = largest ``|P(g)|``; for K classes the largest one-vs-rest score), ``higher_in`` (the class
        whose one-vs-rest score is largest: for two classes, the one with the larger mean), and the boolean
        columns ``f_test`` and ``signal_to_noise`` (kept by that selector); sorted by ``f_rank``.
    """
    labels = y.reindex(X.index).to_numpy()
    f_test = make_selector("f_test", k).fit(X, labels)
    snr = make_selector("signal_to_noise", k).fit(X, labels)
    f_scores = np.nan_to_num(f_test.scores_, nan=0.0)
    table = pd.DataFrame(
        {
            "f_score": f_scores,
            "f_rank": pd.Series(-f_scores).rank(method="first").astype(int).to_numpy(),
            "snr": snr.scores_,
            "snr_rank": pd.Series(-(np.abs(snr.scores_) if snr.classes_.size == 2 else snr.scores_))
            .rank(method="first")
            .astype(int)
            .to_numpy(),
            "higher_in": snr.classes_[np.argmax(snr.class_scores_, axis=0)],
            "f_test": f_test.get_support(),
            "signal_to_noise": snr.get_support(),
        },
        index=X.columns,
    )
    return table.sort_values("f_rank")


def selected_genes(X: pd.DataFrame, y: pd.Series, selector: str, k: int) -> pd.Index:
    """The genes (columns of ``X``) that ``selector`` keeps when fitted on ``X``, ``y``."""
    fitted = make_selector(selector, k).fit(X, y.reindex(X.index).to_numpy())
    return X.columns[fitted.get_support()]

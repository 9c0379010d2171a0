"""The method of Golub et al. (1999, Science 286:531): weighted voting and neighbourhood analysis.

Both use the signal-to-noise score ``P(g) = (μ_ALL − μ_AML) / (σ_ALL + σ_AML)`` of
:func:`leukemia.select.signal_to_noise`, computed on training samples only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from tqdm.auto import tqdm

from leukemia import config
from leukemia.dataset import Dataset
from leukemia.select import GENEPATTERN_SIGMA_FLOOR, finite_ratio, signal_to_noise_ovr, top_genes_per_class

__all__ = [
    "GENEPATTERN_SIGMA_FLOOR",
    "NULL_LEVELS",
    "NULL_MEDIAN",
    "PAPER_INDEPENDENT_CALLS",
    "PAPER_TRAINING_CALLS",
    "WeightedVoting",
    "calls_from_decision",
    "class_midpoints",
    "neighbourhood_analysis",
    "significant_from",
    "weighted_voting_calls",
]

#: What Golub et al. report for the 34 independent samples at prediction strength 0.3.
PAPER_INDEPENDENT_CALLS = {"strong": 29, "strong_correct": 29, "uncertain": 5, "threshold": 0.3}
#: ... and for leave-one-out cross-validation on the 38 training samples.
PAPER_TRAINING_CALLS = {"strong": 36, "strong_correct": 36, "uncertain": 2}
#: Columns of :func:`neighbourhood_analysis` holding the permutation null's 95th and 99th percentiles, by the
#: significance level each stands for: a count that only 5% (1%) of the permutations reach.
NULL_LEVELS = {"5%": "null 95th pct (5% level)", "1%": "null 99th pct (1% level)"}
#: ... and the null's median.
NULL_MEDIAN = "null median"


class WeightedVoting(ClassifierMixin, BaseEstimator):
    """Golub's weighted-voting classifier, for two classes and, one-vs-rest, for K classes.

    **Two classes** (Golub et al. 1999). Each informative gene ``g`` casts the vote
    ``v_g = P(g) · (x_g − b_g)`` with ``b_g = (μ_0 + μ_1) / 2``: positive votes go to class 0 (ALL),
    negative ones to class 1 (AML). The class with the larger total wins, and the *prediction
    strength* ``|V_win − V_lose| / (V_win + V_lose)`` says how clear the win was.

    **K classes** (the one-vs-rest extension of Yeang et al. 2001, Bioinformatics 17:S316). One such
    predictor per class ``c``, "``c`` against the rest", with the one-vs-rest score ``P_c(g)`` and
    ``b_g = (μ_c + μ_rest) / 2``; it gives the signed strength ``s_c = (V_c − V_rest)/(V_c + V_rest)``
    in [−1, 1]. The call is the class with the largest ``s_c``, and the prediction strength is half
    the margin to the runner-up, ``(s_best − s_second) / 2``, in [0, 1]. For two classes the two
    predictors are one predictor with opposite signs (``s_1 = −s_0``), so the call is Golub's and
    the strength ``(s_0 − (−s_0))/2 = |s_0|`` is exactly Golub's prediction strength; the class
    fits that one predictor only.

    Parameters
    ----------
    k
        Informative genes of each predictor: the ``k − k//2`` with the largest and the ``k//2``
        with the smallest score. ``None`` uses every input gene, for use after a
        selection step in a pipeline.
    ddof
        Delta degrees of freedom of the class standard deviations in ``P(g)``.
    sigma_floor
        Floor each class's σ at this fraction of its absolute mean before computing ``P(g)``
        (GenePattern's weighted voting and Slonim et al. 2000 use 0.2); 0 leaves σ as it is.

    Attributes
    ----------
    classes_ : ndarray of shape (K,)
    genes_ : ndarray of int, shape (n_predictors, n_informative)
        Column indices of each predictor's informative genes (one predictor, class 0 against class 1,
        for two classes; one per class otherwise).
    weights_, midpoints_ : ndarray, shape (n_predictors, n_informative)
        ``P(g)`` and ``b_g`` of those genes.
    """

    def __init__(self, k: int | None = 50, ddof: int = 0, sigma_floor: float = 0.0) -> None:
        self.k = k
        self.ddof = ddof
        self.sigma_floor = sigma_floor

    def fit(self, X, y):
        """Choose each predictor's informative genes and their weights from the (training) samples."""
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        classes = np.unique(y)
        if classes.size < 2:
            raise ValueError(f"WeightedVoting needs at least 2 classes, got 1 class: {classes.tolist()}.")
        if self.k is not None and not 1 <= self.k <= X.shape[1]:
            raise ValueError(f"k must be between 1 and the number of genes ({X.shape[1]}), got {self.k}.")
        class_scores, self.classes_ = signal_to_noise_ovr(X, y, ddof=self.ddof, sigma_floor=self.sigma_floor)
        predictors = class_scores[:1] if classes.size == 2 else class_scores
        genes, weights, midpoints = [], [], []
        for c, scores in enumerate(predictors):
            chosen = (
                np.arange(X.shape[1])
                if self.k is None
                else np.sort(top_genes_per_class(np.stack([scores, -scores]), self.k))
            )
            genes.append(chosen)
            weights.append(scores[chosen])
            midpoints.append(class_midpoints(X[:, chosen], y == self.classes_[c]))
        self.genes_, self.weights_, self.midpoints_ = np.stack(genes), np.stack(weights), np.stack(midpoints)
        return self

    def votes(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Each predictor's total votes for its class and against it, ``(V_c, V_rest)``.

        Both of shape (n_samples, n_predictors), both ≥ 0. For two classes the one column is
        ``(V_0, V_1)``: the votes for class 0 and for class 1.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        for_class, against = [], []
        for genes, weights, midpoints in zip(self.genes_, self.weights_, self.midpoints_, strict=True):
            v = weights * (X[:, genes] - midpoints)
            for_class.append(np.clip(v, 0, None).sum(axis=1))
            against.append(np.clip(-v, 0, None).sum(axis=1))
        return np.column_stack(for_class), np.column_stack(against)

    def class_strengths(self, X) -> np.ndarray:
        """Signed strength ``s_c = (V_c − V_rest)/(V_c + V_rest)`` of every class, shape (n_samples, K)."""
        for_class, against = self.votes(X)
        total = for_class + against
        s = np.divide(for_class - against, total, out=np.zeros_like(total), where=total > 0)
        return np.column_stack([s[:, 0], -s[:, 0]]) if self.classes_.size == 2 else s

    def decision_function(self, X) -> np.ndarray:
        """Two classes: ``(V_1 − V_0)/(V_1 + V_0)`` in [−1, 1], positive favours ``classes_[1]``.

        K classes: :meth:`class_strengths`, one column per class (scikit-learn's convention).
        """
        strengths = self.class_strengths(X)
        return strengths[:, 1] if self.classes_.size == 2 else strengths

    def prediction_strength(self, X) -> np.ndarray:
        """Half the margin between the best and the runner-up class, in [0, 1] (Golub's for two)."""
        return calls_from_decision(self.decision_function(X), self.classes_)[1]

    def predict(self, X) -> np.ndarray:
        """The class with the largest strength (on an exact tie, the first of them)."""
        return calls_from_decision(self.decision_function(X), self.classes_)[0]

    def predict_proba(self, X) -> np.ndarray:
        """``(1 + s_c) / Σ_j (1 + s_j)`` (uniform if every ``s_c = −1``): not a calibrated probability.

        For two classes this is ``(1 ∓ signed strength)/2``; the margin between the top two columns
        is then exactly the prediction strength.
        """
        shifted = 1 + self.class_strengths(X)
        total = shifted.sum(axis=1, keepdims=True)
        uniform = np.full_like(shifted, 1 / shifted.shape[1])  # every predictor votes fully against
        return np.divide(shifted, total, out=uniform, where=total > 0)


def calls_from_decision(decision: np.ndarray, classes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The calls and prediction strengths of :meth:`WeightedVoting.decision_function` output.

    Two classes: ``decision`` is the signed strength (positive: the second class). K classes: one
    column of signed strengths per class; the call is the largest, the strength half the margin
    to the runner-up, as :meth:`WeightedVoting.predict` and :meth:`~WeightedVoting.prediction_strength`.
    """
    decision = np.asarray(decision, dtype=float)
    if decision.ndim == 1:
        return np.where(decision > 0, classes[1], classes[0]), np.abs(decision)
    ordered = np.sort(decision, axis=1)
    return classes[np.argmax(decision, axis=1)], (ordered[:, -1] - ordered[:, -2]) / 2


def class_midpoints(X: np.ndarray, in_class: np.ndarray) -> np.ndarray:
    """Per gene, the point halfway between the mean of a class and the mean of the rest (``b_g``).

    For two classes, the rest is the other class: Golub's decision boundary.
    """
    return (X[in_class].mean(axis=0) + X[~in_class].mean(axis=0)) / 2


class _PermutedScores:
    """One-vs-rest signal-to-noise scores for many permutations of the labels at once.

    A permutation keeps the class sizes, so each class's sums over its samples are one matrix product
    of the permutations' class indicators with the (centred) data, and the rest's sums are the total
    minus the class's: a batch of permutations costs two BLAS products instead of a pass over the
    matrix per class and permutation (54,675 genes × 1,400 samples: ≈ 0.1 s a permutation, not ≈ 1 s).
    The standard deviations are those of :func:`signal_to_noise` (ddof = 0) from the centred sums;
    they agree with its two-pass ones to rounding.
    """

    def __init__(self, values: np.ndarray, labels: np.ndarray, classes: np.ndarray) -> None:
        self.mean = values.mean(axis=0)
        self.centred = values - self.mean
        self.squares = self.centred**2
        self.total, self.total_squares = self.centred.sum(axis=0), self.squares.sum(axis=0)
        self.classes = classes
        self.counts = np.array([(labels == c).sum() for c in classes], dtype=float)[:, None]
        self.n = float(len(labels))
        # ≈ 2 MB of sums a batch: the temporaries stay in cache and are reused. 64 MB batches took 3 s
        # on their first call (fresh pages) where these take 0.2 s; at 54,675 genes both take 0.2 s a
        # permutation.
        self.size = max(1, int(2**18 // (len(classes) * values.shape[1])))

    def scores(self, permutations: list[np.ndarray]) -> np.ndarray:
        """(len(permutations), K, genes) scores; rows as :func:`signal_to_noise_ovr` orders them."""
        k = len(self.classes)
        indicator = np.concatenate([np.stack([p == c for c in self.classes]) for p in permutations]).astype(
            float
        )
        sums = (indicator @ self.centred).reshape(len(permutations), k, -1)
        squares = (indicator @ self.squares).reshape(len(permutations), k, -1)
        n_in, n_out = self.counts, self.n - self.counts
        mean_in, mean_out = sums / n_in, (self.total - sums) / n_out
        var_in = np.maximum(squares / n_in - mean_in**2, 0.0)
        var_out = np.maximum((self.total_squares - squares) / n_out - mean_out**2, 0.0)
        # the means of the centred values: the floor of a constant gene needs the real ones
        offset = self.mean
        return finite_ratio(
            mean_in - mean_out, np.sqrt(var_in) + np.sqrt(var_out), mean_in + offset, mean_out + offset
        )


def neighbourhood_analysis(
    X: pd.DataFrame,
    y: pd.Series,
    *,
    n_permutations: int = 400,
    radii: np.ndarray | None = None,
    random_state: int = config.RANDOM_SEED,
    progress: bool = True,
) -> pd.DataFrame:
    """How many genes lie closer to the class pattern than they would by chance (Golub's Fig. 2).

    For every radius ``r`` and every class ``c`` it counts the genes whose one-vs-rest score
    ``P_c(g)`` exceeds ``r``: genes that look like the idealised pattern "high in ``c``, low in the
    rest". For two classes these are Golub's two sides, ``P(g) > r`` (the first class, ALL) and
    ``P(g) < −r`` (the second, AML). The counts are made on the real labels and on ``n_permutations``
    random permutations of them (the permutation null); the 5% and 1% significance levels are the
    counts that only 5% / 1% of the permutations reach: the null's 95th and 99th percentiles.

    Returns
    -------
    pandas.DataFrame
        One row per radius and class (``side``): ``radius``, ``side``, ``observed``, and the null's
        median and 95th and 99th percentiles, in the columns :data:`NULL_MEDIAN`,
        ``NULL_LEVELS["5%"]`` (``"null 95th pct (5% level)"``) and ``NULL_LEVELS["1%"]``.
    """
    values = X.to_numpy(dtype=float)
    labels = y.reindex(X.index).to_numpy()
    radii = np.round(np.arange(0.1, 1.51, 0.05), 2) if radii is None else np.asarray(radii, dtype=float)
    rng = np.random.default_rng(random_state)

    def counts(class_scores: np.ndarray) -> np.ndarray:
        # (K, n_radii): genes beyond each radius on each class's side.
        return (class_scores[:, None, :] > radii[None, :, None]).sum(axis=2)

    scores, classes = signal_to_noise_ovr(values, labels)
    observed = counts(scores)
    permuted = np.empty((n_permutations, *observed.shape))
    batches = _PermutedScores(values, labels, classes)
    done = 0
    with tqdm(total=n_permutations, desc="permutations", disable=not progress, leave=False) as bar:
        while done < n_permutations:
            batch = [rng.permutation(labels) for _ in range(min(batches.size, n_permutations - done))]
            for i, batch_scores in enumerate(batches.scores(batch)):
                permuted[done + i] = counts(batch_scores)
            done += len(batch)
            bar.update(len(batch))
    rows = []
    for side_index, side in enumerate(str(c) for c in classes):
        sample = permuted[:, side_index, :]
        rows.append(
            pd.DataFrame(
                {
                    "radius": radii,
                    "side": side,
                    "observed": observed[side_index],
                    NULL_MEDIAN: np.median(sample, axis=0),
                    NULL_LEVELS["5%"]: np.percentile(sample, 95, axis=0),
                    NULL_LEVELS["1%"]: np.percentile(sample, 99, axis=0),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def significant_from(table: pd.DataFrame, level: str = "1%") -> pd.Series:
    """Per side, the smallest radius from which the observed count stays above a permutation level.

    "Stays above" means at every radius from there up to the last radius at which any gene is
    observed; radii beyond it (no gene that far out, nor in the permutations) are not counted
    against it. NaN for a side whose last observed radius is not above the level.

    Parameters
    ----------
    table
        :func:`neighbourhood_analysis` output.
    level
        ``"1%"`` or ``"5%"``: the null's 99th or 95th percentile (:data:`NULL_LEVELS`).

    Raises
    ------
    ValueError
        For another level.
    """
    if level not in NULL_LEVELS:
        raise ValueError(f"level must be one of {sorted(NULL_LEVELS)}, got {level!r}.")
    column = NULL_LEVELS[level]
    onset = {}
    for side, part in table.groupby("side", sort=False):
        part = part.sort_values("radius")
        part = part[part["radius"] <= part.loc[part["observed"] > 0, "radius"].max()]
        above = (part["observed"] > part[column]).to_numpy()
        below = np.flatnonzero(~above)
        start = 0 if below.size == 0 else below[-1] + 1
        onset[side] = float(part["radius"].iloc[start]) if start < len(part) else np.nan
    return pd.Series(onset, name=f"significant from (above the {level} level)")


def weighted_voting_calls(
    data: Dataset,
    preprocessing: tuple[str, ...] = ("none", "standard", "dudoit"),
    *,
    k: int = 50,
    threshold: float = PAPER_INDEPENDENT_CALLS["threshold"],
    sigma_floor: float = 0.0,
) -> pd.DataFrame:
    """Golub's strong/uncertain call counts for weighted voting under several preprocessings.

    For each option: leave-one-out cross-validation on the 38 training samples (as the paper
    did) and the independent set, each split into strong calls (prediction strength ≥
    ``threshold``) and uncertain ones. The preprocessing, genes and weights are fitted on the
    training samples only (on the other 37 inside each leave-one-out step). ``sigma_floor`` is
    passed to :class:`WeightedVoting` (GenePattern's σ floor: 0.2).

    Returns
    -------
    pandas.DataFrame
        One row per option: ``train_strong``, ``train_strong_correct``, ``train_uncertain``,
        ``test_strong``, ``test_strong_correct``, ``test_uncertain``, ``test_correct``.
    """
    from sklearn.model_selection import LeaveOneOut, cross_val_predict
    from sklearn.pipeline import make_pipeline

    from leukemia.preprocessing import make_preprocessor

    rows = []
    X_train, X_test = data.X_train.to_numpy(), data.X_test.to_numpy()  # arrays: fast input checks
    y_train = data.y_train.astype(str).to_numpy()
    for option in preprocessing:
        pipeline = make_pipeline(make_preprocessor(option), WeightedVoting(k=k, sigma_floor=sigma_floor))
        loo = cross_val_predict(pipeline, X_train, y_train, cv=LeaveOneOut(), method="decision_function")
        pipeline.fit(X_train, y_train)
        classes = pipeline[-1].classes_
        test = pipeline.decision_function(X_test)
        row: dict[str, object] = {"preprocessing": option}
        for split, decision, truth in (("train", loo, data.y_train), ("test", test, data.y_test)):
            call, strength = calls_from_decision(decision, classes)
            strong = strength >= threshold
            right = call == truth.astype(str).to_numpy()
            row |= {
                f"{split}_strong": int(strong.sum()),
                f"{split}_strong_correct": int((strong & right).sum()),
                f"{split}_uncertain": int((~strong).sum()),
            }
        row["test_correct"] = int(
            (calls_from_decision(test, classes)[0] == data.y_test.astype(str).to_numpy()).sum()
        )
        rows.append(row)
    return pd.DataFrame(rows).set_index("preprocessing")

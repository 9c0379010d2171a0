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
from leukemia.select import signal_to_noise

__all__ = [
    "GENEPATTERN_SIGMA_FLOOR",
    "PAPER_INDEPENDENT_CALLS",
    "PAPER_TRAINING_CALLS",
    "WeightedVoting",
    "neighbourhood_analysis",
    "significant_from",
    "weighted_voting_calls",
]

#: What Golub et al. report for the 34 independent samples at prediction strength 0.3.
PAPER_INDEPENDENT_CALLS = {"strong": 29, "strong_correct": 29, "uncertain": 5, "threshold": 0.3}
#: ... and for leave-one-out cross-validation on the 38 training samples.
PAPER_TRAINING_CALLS = {"strong": 36, "strong_correct": 36, "uncertain": 2}
#: GenePattern's weighted voting floors each class's σ at this fraction of |μ| (Slonim et al. 2000).
GENEPATTERN_SIGMA_FLOOR = 0.2


class WeightedVoting(ClassifierMixin, BaseEstimator):
    """Golub's weighted-voting classifier (two classes).

    Each informative gene ``g`` casts the vote ``v_g = P(g) · (x_g − b_g)`` with
    ``b_g = (μ_0 + μ_1) / 2``: positive votes go to class 0 (ALL), negative ones to class 1
    (AML). The class with the larger total wins, and the *prediction strength*
    ``|V_win − V_lose| / (V_win + V_lose)`` says how clear the win was.

    Parameters
    ----------
    n_genes
        Informative genes: the ``n_genes/2`` with the largest and the ``n_genes/2`` with the
        smallest ``P(g)`` (odd: the extra one to class 0). ``None`` uses every input gene, for
        use after a selection step in a pipeline.
    ddof
        Delta degrees of freedom of the class standard deviations in ``P(g)``.
    sigma_floor
        Floor each class's σ at this fraction of its absolute mean before computing ``P(g)``
        (GenePattern's weighted voting and Slonim et al. 2000 use 0.2); 0 leaves σ as it is.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
    genes_ : ndarray of int
        Column indices of the informative genes.
    weights_, midpoints_ : ndarray
        ``P(g)`` and ``b_g`` of those genes.
    """

    def __init__(self, n_genes: int | None = 50, ddof: int = 0, sigma_floor: float = 0.0) -> None:
        self.n_genes = n_genes
        self.ddof = ddof
        self.sigma_floor = sigma_floor

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False  # Golub's vote is between two classes
        return tags

    def fit(self, X, y):
        """Choose the informative genes and their weights from the (training) samples."""
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        classes = np.unique(y)
        if classes.size > 2:
            raise ValueError(
                f"Only binary classification is supported. WeightedVoting got {classes.size} classes: "
                f"{classes.tolist()[:5]}."
            )
        if classes.size < 2:
            raise ValueError(f"WeightedVoting needs 2 classes, got 1 class: {classes.tolist()}.")
        scores, self.classes_ = signal_to_noise(X, y, ddof=self.ddof, sigma_floor=self.sigma_floor)
        if self.n_genes is None:
            genes = np.arange(X.shape[1])
        elif 1 <= self.n_genes <= X.shape[1]:
            order = np.argsort(-scores, kind="stable")
            n_second = self.n_genes // 2
            genes = np.concatenate([order[: self.n_genes - n_second], order[::-1][:n_second]])
        else:
            raise ValueError(
                f"n_genes must be between 1 and the number of genes ({X.shape[1]}), got {self.n_genes}."
            )
        if not np.isfinite(scores[genes]).all():
            raise ValueError(
                "a gene is constant within both classes but differs between them: P(g) is infinite."
            )
        self.genes_ = np.sort(genes)
        self.weights_ = scores[self.genes_]
        self.midpoints_ = class_midpoints(X[:, self.genes_], y, self.classes_)
        return self

    def votes(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Total votes ``(V_0, V_1)`` for class 0 and class 1, one pair per sample (both ≥ 0)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        v = self.weights_ * (X[:, self.genes_] - self.midpoints_)
        return np.clip(v, 0, None).sum(axis=1), np.clip(-v, 0, None).sum(axis=1)

    def decision_function(self, X) -> np.ndarray:
        """Signed strength in [−1, 1]: ``(V_1 − V_0)/(V_1 + V_0)``; positive favours ``classes_[1]``."""
        v0, v1 = self.votes(X)
        total = v0 + v1
        return np.divide(v1 - v0, total, out=np.zeros_like(total), where=total > 0)

    def prediction_strength(self, X) -> np.ndarray:
        """Golub's prediction strength ``|V_win − V_lose| / (V_win + V_lose)`` in [0, 1]."""
        return np.abs(self.decision_function(X))

    def predict(self, X) -> np.ndarray:
        """The class with the larger total vote (class 0 on an exact tie)."""
        check_is_fitted(self)
        return self.classes_[(self.decision_function(X) > 0).astype(int)]

    def predict_proba(self, X) -> np.ndarray:
        """``(1 ∓ signed strength)/2``: not a calibrated probability, a rescaled vote margin."""
        p1 = (1 + self.decision_function(X)) / 2
        return np.column_stack([1 - p1, p1])


def class_midpoints(X: np.ndarray, y: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Per gene, the point halfway between the two class means: Golub's decision boundary ``b_g``."""
    return (X[y == classes[0]].mean(axis=0) + X[y == classes[1]].mean(axis=0)) / 2


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

    For every radius ``r`` it counts the genes with ``P(g) > r`` (the side of the first class, ALL
    for Golub) and ``P(g) < −r`` (the second class's side, AML), on the real labels and on
    ``n_permutations`` random permutations of them.
    The 1% and 5% significance levels are the counts that only 1% / 5% of the permutations reach.

    Returns
    -------
    pandas.DataFrame
        One row per radius and side: ``radius``, ``side`` (the class name), ``observed``,
        ``median``, ``5%`` and ``1%`` (the 95th and 99th percentiles of the permuted counts).
    """
    values = X.to_numpy(dtype=float)
    labels = y.reindex(X.index).to_numpy()
    radii = np.round(np.arange(0.1, 1.51, 0.05), 2) if radii is None else np.asarray(radii, dtype=float)
    rng = np.random.default_rng(random_state)

    def counts(scores: np.ndarray) -> np.ndarray:
        # (2, n_radii): genes beyond each radius on the first (positive) and second (negative) side.
        return np.stack(
            [(scores[None, :] > radii[:, None]).sum(1), (scores[None, :] < -radii[:, None]).sum(1)]
        )

    scores, classes = signal_to_noise(values, labels)
    observed = counts(scores)
    permuted = np.empty((n_permutations, *observed.shape))
    for i in tqdm(range(n_permutations), desc="permutations", disable=not progress, leave=False):
        permuted[i] = counts(signal_to_noise(values, rng.permutation(labels))[0])
    rows = []
    for side_index, side in enumerate(str(c) for c in classes):
        sample = permuted[:, side_index, :]
        rows.append(
            pd.DataFrame(
                {
                    "radius": radii,
                    "side": side,
                    "observed": observed[side_index],
                    "median": np.median(sample, axis=0),
                    "5%": np.percentile(sample, 95, axis=0),
                    "1%": np.percentile(sample, 99, axis=0),
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
        ``"1%"`` or ``"5%"``.
    """
    onset = {}
    for side, part in table.groupby("side", sort=False):
        part = part.sort_values("radius")
        part = part[part["radius"] <= part.loc[part["observed"] > 0, "radius"].max()]
        above = (part["observed"] > part[level]).to_numpy()
        below = np.flatnonzero(~above)
        start = 0 if below.size == 0 else below[-1] + 1
        onset[side] = float(part["radius"].iloc[start]) if start < len(part) else np.nan
    return pd.Series(onset, name=f"significant from (above the {level} level)")


def weighted_voting_calls(
    data: Dataset,
    preprocessing: tuple[str, ...] = ("none", "standard", "dudoit"),
    *,
    n_genes: int = 50,
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
        pipeline = make_pipeline(
            make_preprocessor(option), WeightedVoting(n_genes=n_genes, sigma_floor=sigma_floor)
        )
        loo = cross_val_predict(pipeline, X_train, y_train, cv=LeaveOneOut(), method="decision_function")
        pipeline.fit(X_train, y_train)
        classes = pipeline[-1].classes_  # the decision function favours the second of these
        test = pipeline.decision_function(X_test)
        row: dict[str, object] = {"preprocessing": option}
        for split, signed, truth in (("train", loo, data.y_train), ("test", test, data.y_test)):
            call = np.where(signed > 0, classes[1], classes[0])
            strong = np.abs(signed) >= threshold
            right = call == truth.to_numpy()
            row |= {
                f"{split}_strong": int(strong.sum()),
                f"{split}_strong_correct": int((strong & right).sum()),
                f"{split}_uncertain": int((~strong).sum()),
            }
        row["test_correct"] = int(
            (np.where(test > 0, classes[1], classes[0]) == data.y_test.astype(str).to_numpy()).sum()
        )
        rows.append(row)
    return pd.DataFrame(rows).set_index("preprocessing")

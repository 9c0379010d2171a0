"""Summaries for exploring the data: intensity ranges, class-correlated genes, markers, PCA."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.feature_selection import r_regression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from leukemia import config
from leukemia.dataset import Dataset, class_order
from leukemia.preprocessing import make_preprocessor

__all__ = [
    "LINEAGE_MARKERS",
    "MARKER_GENES",
    "PCAProjection",
    "class_agreement",
    "class_correlation",
    "class_correlations",
    "intensity_summary",
    "marker_table",
    "pca_projection",
    "top_class_genes",
]

#: Well-known markers of the two leukemias on the Hu6800 array: accession → (symbol, role).
MARKER_GENES: dict[str, tuple[str, str]] = {
    "X95735_at": ("Zyxin", "cell adhesion; Golub's strongest AML gene"),
    "M23197_at": ("CD33", "myeloid surface antigen, the AML marker used in the clinic"),
    "M27891_at": ("CST3", "cystatin C, myeloid"),
    "M19507_at": ("MPO", "myeloperoxidase, the classical AML stain"),
    "Y12670_at": ("LEPR", "leptin receptor, among Golub's AML genes"),
    "U05259_rna1_at": ("MB-1", "CD79A, B-cell receptor component (B-lineage ALL)"),
    "U22376_cds2_s_at": ("c-myb", "transcription factor, lymphoid progenitors"),
}

#: The markers of :data:`MARKER_GENES` whose lineage role was established apart from Golub's samples (clinical
#: immunophenotyping, cytochemistry, the biology of blood cells): CD33, cystatin C, myeloperoxidase, MB-1 and
#: c-myb. Zyxin and the leptin receptor are left out: they are known as AML genes because Golub et al. found
#: them by ranking these very samples, so their rank here cannot confirm anything.
LINEAGE_MARKERS: tuple[str, ...] = (
    "M23197_at",
    "M27891_at",
    "M19507_at",
    "U05259_rna1_at",
    "U22376_cds2_s_at",
)


def intensity_summary(X: pd.DataFrame, *, floor: float = 100.0, ceiling: float = 16000.0) -> pd.DataFrame:
    """Per-sample counts of implausible intensities and the spread of the rest.

    Parameters
    ----------
    X
        Samples × genes raw intensities.
    floor, ceiling
        Values below ``floor`` are at noise level; values above ``ceiling`` are saturated.

    Returns
    -------
    pandas.DataFrame
        One row per sample: ``n_negative``, ``n_below_floor`` (incl. negatives),
        ``n_above_ceiling``, ``pct_below_floor``, ``median``, ``q25``, ``q75``.
    """
    values = X.to_numpy(dtype=float)
    quartiles = np.percentile(values, [25, 50, 75], axis=1)
    return pd.DataFrame(
        {
            "n_negative": (values < 0).sum(axis=1),
            "n_below_floor": (values < floor).sum(axis=1),
            "n_above_ceiling": (values > ceiling).sum(axis=1),
            "pct_below_floor": 100.0 * (values < floor).mean(axis=1),
            "median": quartiles[1],
            "q25": quartiles[0],
            "q75": quartiles[2],
        },
        index=X.index,
    )


def class_correlation(X: pd.DataFrame, y: pd.Series) -> pd.Series:
    """Pearson correlation of every gene with the indicator of the second class (AML = 1, ALL = 0 for Golub).

    Positive values: higher in the second class; negative: higher in the reference class. Genes
    that are constant over the samples get 0. The series is named ``r_<second class>``.
    """
    second = class_order(y)[1]
    indicator = (y.reindex(X.index).astype(str) == second).to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = r_regression(X.to_numpy(dtype=float), indicator)
    return pd.Series(np.nan_to_num(r), index=X.columns, name=f"r_{second}")


def class_correlations(X: pd.DataFrame, y: pd.Series) -> pd.DataFrame:
    """One-vs-rest Pearson correlation of every gene with each class indicator (1 in the class, 0 elsewhere).

    Genes × classes, columns ``r_<class>`` in class order; for two classes the columns are ``−r`` and
    ``r`` of :func:`class_correlation`.
    """
    classes = class_order(y)
    labels = y.reindex(X.index).astype(str).to_numpy()
    values = X.to_numpy(dtype=float)
    columns = {}
    for c in classes:
        with np.errstate(divide="ignore", invalid="ignore"):
            r = r_regression(values, (labels == c).astype(float))
        columns[f"r_{c}"] = np.nan_to_num(r)
    return pd.DataFrame(columns, index=X.columns)


def top_class_genes(X: pd.DataFrame, y: pd.Series, k: int = 50) -> pd.Index:
    """The ``k`` genes most correlated with the class, shared among the classes as equally as k allows.

    Each class takes in turn the gene most correlated with its indicator (one-vs-rest) that no class has
    taken yet (:func:`leukemia.select.top_genes_per_class`); the result lists the first class's genes
    (strongest first), then the second's, and so on. For two classes: the ``k − k//2`` most negative and the
    ``k//2`` most positive correlations with the second class's indicator, as Golub's half per class.

    Parameters
    ----------
    k
        Number of genes, at least the number of classes.
    """
    from leukemia.select import top_genes_per_class

    r = class_correlations(X, y)
    if not r.shape[1] <= k <= r.shape[0]:
        raise ValueError(f"k must be between the number of classes ({r.shape[1]}) and of genes, got {k}.")
    if r.shape[1] == 2:  # exactly −r and r, so that ties fall as for a single correlation
        r.iloc[:, 0] = -r.iloc[:, 1]
    chosen = top_genes_per_class(r.to_numpy().T, k)
    n_classes = r.shape[1]
    return X.columns[np.concatenate([chosen[c::n_classes] for c in range(n_classes)])]


def class_agreement(X: pd.DataFrame, y: pd.Series, genes: pd.Index) -> pd.Series:
    """Per sample, the share of ``genes`` whose value is nearer its own class's mean than another's.

    A gene "agrees" with a sample's label when the sample's value lies closer to the mean of the
    sample's class than to the mean of any other class (means over the samples given). A typical
    sample agrees in most genes; a low share marks a sample that looks like another class.

    Returns
    -------
    pandas.Series
        Share in [0, 1] per sample (index of ``X``), named ``agreement``.
    """
    values = X.loc[:, genes]
    labels = y.reindex(values.index)
    means = values.groupby(labels).mean()  # classes × genes
    distance = np.abs(
        values.to_numpy()[:, None, :] - means.to_numpy()[None, :, :]
    )  # samples × classes × genes
    rows, own_class = np.arange(len(values)), means.index.get_indexer(labels)
    own = distance[rows, own_class].copy()
    distance[rows, own_class] = np.inf
    agreement = (own < distance.min(axis=1)).mean(axis=1)
    return pd.Series(agreement, index=values.index, name="agreement")


def marker_table(data: Dataset) -> pd.DataFrame:
    """Known leukemia marker genes (Golub's array) with their mean training intensity per class.

    Returns
    -------
    pandas.DataFrame
        Indexed by accession: ``symbol``, ``role``, ``lineage_marker`` (True for the
        :data:`LINEAGE_MARKERS`, known apart from these samples), ``mean_<class>`` for both
        classes, ``higher_in``, ``r_<second class>`` (correlation with its indicator) and
        ``rank_abs_r`` (1 = the most class-correlated of all genes), all on the
        training samples only.
    """
    first, second = data.classes[:2]
    accessions = [a for a in MARKER_GENES if a in data.X_train.columns]
    X = data.X_train[accessions]
    means = X.groupby(data.y_train).mean().T
    table = pd.DataFrame(
        {
            "symbol": [MARKER_GENES[a][0] for a in accessions],
            "role": [MARKER_GENES[a][1] for a in accessions],
            "lineage_marker": [a in LINEAGE_MARKERS for a in accessions],
            **{f"mean_{c}": means[c].round(0) for c in (first, second)},
        },
        index=pd.Index(accessions, name="probe"),
    )
    table["higher_in"] = np.where(table[f"mean_{second}"] > table[f"mean_{first}"], second, first)
    r_all = class_correlation(data.X_train, data.y_train)
    ranks = r_all.abs().rank(ascending=False, method="min").astype(int)
    table[r_all.name] = r_all[accessions].round(2)
    table["rank_abs_r"] = ranks[accessions]
    return table


@dataclass(frozen=True)
class PCAProjection:
    """Scores of training and test samples on the first principal components."""

    scores: pd.DataFrame
    """Index sample; columns ``PC1``, ``PC2``, …, ``split``, and the class (named like the labels)."""
    explained_variance_ratio: np.ndarray
    pipeline: Pipeline
    """Preprocessing → scaling → PCA, fitted on the training samples only."""


#: Training matrices up to this many values get the PCA's full SVD (Golub's 38 × 7,129, the bladder data's
#: 39 × 22,283); larger ones ARPACK.
FULL_SVD_MAX_VALUES = 5_000_000


def pca_projection(data: Dataset, *, preprocessing: str = "dudoit", n_components: int = 2) -> PCAProjection:
    """Fit preprocessing, standard scaling and PCA on the training set; project both sets.

    The test samples are only projected, never used in fitting, so their position shows
    how well the training structure carries over.
    """
    # Exact components: the full SVD, or for a study ARPACK (exact to its tolerance, seeded; the full SVD of
    # 1,400 × 54,675 took 113 s). "auto" would pick a randomised solver.
    solver = "full" if data.X_train.size <= FULL_SVD_MAX_VALUES else "arpack"
    pipeline = make_pipeline(
        make_preprocessor(preprocessing, input_scale=data.filter_scale),
        StandardScaler(),
        PCA(n_components=n_components, svd_solver=solver, random_state=config.RANDOM_SEED),
    )
    pipeline.fit(data.X_train)
    columns = [f"PC{i + 1}" for i in range(n_components)]
    parts = []
    for split, X, y in (("train", data.X_train, data.y_train), ("test", data.X_test, data.y_test)):
        part = pd.DataFrame(pipeline.transform(X), index=X.index, columns=columns)
        part["split"] = split
        part[y.name or "class"] = y
        parts.append(part)
    return PCAProjection(
        scores=pd.concat(parts),
        explained_variance_ratio=pipeline[-1].explained_variance_ratio_,
        pipeline=pipeline,
    )

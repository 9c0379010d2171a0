"""Class discovery: clustering the samples without their labels, as in Golub et al. (1999).

Golub et al. asked whether the two leukemias could have been found without knowing them: a 2-node
self-organising map (SOM) on the normalised genes split the 38 training samples into two groups that
largely matched ALL and AML. This module repeats that kind of analysis with three clustering methods
and asks of every result the questions that make it credible:

- :func:`variable_genes`, :func:`standardize_genes`: label-free gene filtering and Golub's normalisation;
- :func:`cluster_samples`: a SOM, k-means or average-linkage hierarchical clustering of the samples,
  with labels numbered canonically (:func:`canonical_labels`) so that a partition always reads the same;
- :func:`contingency`, :func:`agreement`: how the clusters line up with the known classes;
- :func:`silhouette`: how well separated the clusters are, measured with the distance the method
  clustered with (:data:`DISTANCES`);
- :func:`stability`: do the clusters survive leaving out some of the samples?
- :func:`null_distribution`: is there more structure than in data without gene–gene correlation, and
  more agreement with the classes than by chance?
- :func:`discovery_table`: one row per method.

Everything random is seeded by one ``random_state`` argument (default :data:`leukemia.config.RANDOM_SEED`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from minisom import MiniSom
from numpy.typing import ArrayLike
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from leukemia.config import RANDOM_SEED

__all__ = [
    "DISTANCES",
    "METHODS",
    "SOM_EPOCHS",
    "SOM_MAX_UPDATES",
    "SOM_MIN_EPOCHS",
    "NullComparison",
    "agreement",
    "canonical_labels",
    "cluster_samples",
    "contingency",
    "discovery_table",
    "null_distribution",
    "silhouette",
    "som_epochs",
    "stability",
    "standardize_genes",
    "variable_genes",
]

#: The clustering methods :func:`cluster_samples` knows.
METHODS: tuple[str, ...] = ("som", "kmeans", "hierarchical")

#: The distance each method clusters with, as a :func:`sklearn.metrics.silhouette_score` metric name:
#: the SOM and k-means assign samples by Euclidean distance, the hierarchy joins them by 1 − Pearson r
#: ("correlation"). A clustering's silhouette is measured with its own method's distance.
DISTANCES: dict[str, str] = {"som": "euclidean", "kmeans": "euclidean", "hierarchical": "correlation"}

#: Passes of the SOM over the samples (each pass in a new random order): 100 × n_samples updates, ...
SOM_EPOCHS = 100
#: ... but no more than this many updates, in at least :data:`SOM_MIN_EPOCHS` passes: a study of 1,400
#: samples gets 7 passes (9,800 updates, ≈ 1.0 s a map instead of 10 s); up to 100 samples, 100 passes.
#: Still more than Golub's 38 samples get (3,800 updates, after which the learning rate is 0).
SOM_MAX_UPDATES = 10_000
SOM_MIN_EPOCHS = 5


def som_epochs(n_samples: int) -> int:
    """The passes a SOM makes over ``n_samples`` samples (:data:`SOM_EPOCHS`, fewer for large studies)."""
    return int(np.clip(SOM_MAX_UPDATES // max(n_samples, 1), SOM_MIN_EPOCHS, SOM_EPOCHS))


def variable_genes(X: pd.DataFrame, n: int) -> pd.Index:
    """The ``n`` genes whose values vary most across the samples of ``X`` (no labels are used).

    Parameters
    ----------
    X
        Samples × genes.
    n
        How many genes to keep, between 1 and the number of genes.

    Returns
    -------
    pandas.Index
        Gene names, largest variance first; equal variances keep the column order of ``X``.
    """
    n_genes = X.shape[1]
    if not 1 <= n <= n_genes:
        raise ValueError(f"n must be between 1 and the number of genes ({n_genes}), got {n}.")
    variance = X.var(axis=0, ddof=0)
    return variance.sort_values(ascending=False, kind="stable").index[:n]


def standardize_genes(X: pd.DataFrame) -> pd.DataFrame:
    """Centre every gene to mean 0 and scale it to standard deviation 1 across the samples of ``X``.

    Golub et al. normalised the genes before clustering, so that every gene weighs the same in the
    Euclidean distance of a SOM or k-means. The standard deviation is the population one (``ddof=0``,
    as :class:`sklearn.preprocessing.StandardScaler`). A gene that is constant over the samples becomes
    exactly 0 (not NaN).
    """
    values = X.to_numpy(dtype=float)
    scaled = StandardScaler().fit_transform(values)
    scaled[:, (values == values[:1]).all(axis=0)] = 0.0  # exactly 0, not the scaler's rounding residue
    return pd.DataFrame(scaled, index=X.index, columns=X.columns)


def canonical_labels(labels: ArrayLike, index: pd.Index | None = None) -> pd.Series:
    """Renumber cluster labels 0, 1, … in the order in which the clusters first appear.

    The first sample (row) is in cluster 0, the first sample outside cluster 0 in cluster 1, and so on,
    so the same partition of the same rows always gets the same numbers, whatever a method called them.

    Returns
    -------
    pandas.Series
        Integer labels on ``index`` (default 0, 1, …), named ``cluster``.
    """
    codes, _ = pd.factorize(np.asarray(labels), sort=False)
    return pd.Series(codes.astype(int), index=index, name="cluster")


def cluster_samples(
    X: pd.DataFrame, method: str, n_clusters: int, *, random_state: int = RANDOM_SEED
) -> pd.Series:
    """Cluster the samples (rows) of ``X`` into at most ``n_clusters`` groups.

    ``"som"``
        A 1 × ``n_clusters`` self-organising map (:class:`minisom.MiniSom`), the 2- or 4-node map of
        Golub et al.: Gaussian neighbourhood of initial width 1 (shrinking to 1/3), learning rate 0.5
        decreasing linearly to 0. The nodes start at randomly chosen samples (MiniSom's PCA
        initialisation does not suit a map one node wide) and are trained for :data:`SOM_EPOCHS` passes
        over the samples, each in a new random order (100 × n_samples updates: long enough for the
        weights to settle, since the learning rate ends at 0; well under a second for 38 × 7000); above
        100 samples for fewer passes, 10,000 updates in all (:func:`som_epochs`), at least 5.
        Each sample goes to its nearest node (Euclidean). A node that wins no sample is left out, so a
        SOM can return fewer than ``n_clusters`` clusters.
    ``"kmeans"``
        :class:`sklearn.cluster.KMeans` with 10 initialisations, on one thread (for a few dozen samples
        the thread pool costs far more than it saves: 0.04 s instead of 1.2 s for 38 × 7000 on 2 cores).
    ``"hierarchical"``
        Average linkage on the correlation distance 1 − r (Pearson r between samples, Eisen et al. 1998),
        cut into ``n_clusters`` groups (``fcluster(criterion="maxclust")``). Deterministic.

    The SOM and k-means use Euclidean distances on ``X`` as given: standardise the genes first
    (:func:`standardize_genes`) to weigh them equally.

    Parameters
    ----------
    X
        Samples × genes.
    method
        One of :data:`METHODS`.
    n_clusters
        Between 2 and the number of samples.
    random_state
        Seed of the SOM and of k-means (hierarchical clustering is not random).

    Returns
    -------
    pandas.Series
        Cluster of every sample, 0, 1, … numbered by first appearance (:func:`canonical_labels`),
        indexed like the rows of ``X``, named ``cluster``.
    """
    _check_request(method, n_clusters, len(X))
    values = X.to_numpy(dtype=float)
    if method == "som":
        raw = _som(values, n_clusters, random_state)
    elif method == "kmeans":
        with threadpool_limits(limits=1):  # a few dozen samples: threads cost ~30× more than they save
            raw = KMeans(n_clusters=n_clusters, n_init=10, random_state=random_state).fit_predict(values)
    else:
        raw = _hierarchical(X, n_clusters)
    return canonical_labels(raw, X.index)


def _check_request(method: str, n_clusters: int, n_samples: int) -> None:
    if method not in METHODS:
        raise ValueError(f"unknown clustering method {method!r}; choose one of {', '.join(METHODS)}.")
    if not 2 <= n_clusters <= n_samples:
        raise ValueError(
            f"n_clusters must be between 2 and the number of samples ({n_samples}), got {n_clusters}."
        )


def _som(values: np.ndarray, n_clusters: int, random_state: int) -> np.ndarray:
    som = MiniSom(
        1,
        n_clusters,
        values.shape[1],
        sigma=1.0,
        learning_rate=0.5,
        decay_function="linear_decay_to_zero",
        sigma_decay_function="asymptotic_decay",
        random_seed=random_state,
    )
    som.random_weights_init(values)
    som.train(values, som_epochs(len(values)), random_order=True, use_epochs=True)
    return np.array([som.winner(sample)[1] for sample in values])


def _hierarchical(X: pd.DataFrame, n_clusters: int) -> np.ndarray:
    flat = X.to_numpy(dtype=float)
    constant = np.ptp(flat, axis=1) == 0
    if constant.any():
        raise ValueError(
            "the correlation distance is undefined for samples whose values are all equal: "
            f"{list(X.index[constant])}."
        )
    # 1 − r as a condensed distance vector, from numpy's correlation matrix (matrix products: 0.14 s for
    # 1,400 samples × 1,000 genes, where scipy's pdist, pair by pair, takes 0.65 s; same values to 1e-15)
    distances = squareform(np.clip(1.0 - np.corrcoef(flat), 0.0, 2.0), checks=False)
    tree = linkage(distances, method="average")
    return fcluster(tree, t=n_clusters, criterion="maxclust")


def _labels_for(y: pd.Series, index: pd.Index) -> pd.Series:
    """``y`` on the samples of ``index``; every sample must have a label."""
    labels = y.reindex(index)
    if labels.isna().any():
        raise ValueError(f"no class label for samples {list(index[labels.isna().to_numpy()])}.")
    return labels


def contingency(clusters: pd.Series, y: pd.Series) -> pd.DataFrame:
    """Counts of samples per cluster (rows) and class (columns).

    Every cluster that occurs is a row, every class a column (all categories of a categorical ``y``,
    in their order, even if absent; else the sorted labels); no margins. ``y`` is matched to the
    clusters by index.
    """
    labels = _labels_for(y, clusters.index)
    if isinstance(labels.dtype, pd.CategoricalDtype):
        classes = list(labels.cat.categories)
    else:
        classes = sorted(pd.unique(labels))
    table = pd.crosstab(clusters.to_numpy(), labels.to_numpy())
    table = table.reindex(index=sorted(pd.unique(clusters)), columns=classes, fill_value=0)
    table.index.name, table.columns.name = "cluster", y.name or "class"
    return table


def agreement(clusters: pd.Series, y: pd.Series) -> float:
    """Adjusted Rand index between the clusters and the classes (``y`` matched by index).

    1 for the same partition, about 0 for a partition no better than chance, negative if worse.
    """
    labels = _labels_for(y, clusters.index)
    return float(adjusted_rand_score(labels.astype(str).to_numpy(), clusters.to_numpy()))


def silhouette(X: pd.DataFrame, clusters: pd.Series, metric: str = "euclidean") -> float:
    """Mean silhouette width of a clustering of the rows of ``X`` (Rousseeuw 1987).

    Sample i's width is (b − a) / max(a, b), with a its mean distance to the other samples of its
    cluster and b its mean distance to the samples of the nearest other cluster; 0 for a sample alone
    in its cluster (:func:`sklearn.metrics.silhouette_score`).

    Parameters
    ----------
    X
        Samples × genes.
    clusters
        A cluster per sample, matched to the rows of ``X`` by index.
    metric
        The distance: ``"euclidean"`` or ``"correlation"`` (1 − Pearson r between samples), or any
        other metric :func:`sklearn.metrics.silhouette_score` accepts. Use the distance the clustering
        used (:data:`DISTANCES`).

    Returns
    -------
    float
        Between −1 and 1; NaN when undefined: a single cluster, or every sample in its own cluster.
    """
    labels = clusters.reindex(X.index).to_numpy()
    if not 2 <= len(np.unique(labels)) <= len(labels) - 1:
        return float("nan")
    return float(silhouette_score(X.to_numpy(dtype=float), labels, metric=metric))


def stability(
    X: pd.DataFrame,
    method: str,
    n_clusters: int,
    *,
    n_runs: int = 20,
    fraction: float = 0.8,
    y: pd.Series | None = None,
    random_state: int = RANDOM_SEED,
) -> pd.DataFrame:
    """How well the clustering of all samples survives clustering a random subsample of them.

    Run ``r`` draws ``round(fraction × n_samples)`` samples without replacement (a numpy Generator
    seeded with ``(random_state, r)``), clusters them with seed ``random_state + r`` and compares the
    result with the clustering of all samples (seed ``random_state``) on the samples drawn. The
    subsample makes even the deterministic hierarchical method vary.

    Returns
    -------
    pandas.DataFrame
        One row per run: ``run``, ``ari_with_full`` (adjusted Rand index with the full clustering)
        and, if ``y`` is given, ``ari_with_classes``.
    """
    if not 0 < fraction <= 1 or n_runs < 1:
        raise ValueError(f"need 0 < fraction <= 1 and n_runs >= 1, got fraction={fraction}, n_runs={n_runs}.")
    size = round(fraction * len(X))
    if size < n_clusters:
        raise ValueError(f"a subsample of {size} samples cannot hold {n_clusters} clusters; raise fraction.")
    full = cluster_samples(X, method, n_clusters, random_state=random_state)
    rows = []
    for run in range(n_runs):
        chosen = np.sort(np.random.default_rng([random_state, run]).choice(len(X), size, replace=False))
        clusters = cluster_samples(X.iloc[chosen], method, n_clusters, random_state=random_state + run)
        row = {"run": run, "ari_with_full": adjusted_rand_score(full.iloc[chosen], clusters)}
        if y is not None:
            row["ari_with_classes"] = agreement(clusters, y)
        rows.append(row)
    return pd.DataFrame(rows)


@dataclass(frozen=True, eq=False)
class NullComparison:
    """A clustering against two permutation nulls (:func:`null_distribution`).

    p-values are ``(1 + #{null >= observed}) / (1 + n_permutations)``; a null clustering whose
    silhouette is undefined (a single cluster) counts as reaching the observed value, which can only
    make ``p_structure`` larger. An undefined observed silhouette gives ``p_structure`` NaN.
    """

    method: str
    n_clusters: int
    observed_silhouette: float
    null_silhouettes: np.ndarray
    """Silhouette of the clustering of each gene-wise permuted matrix."""
    p_structure: float
    observed_ari: float
    null_aris: np.ndarray
    """Adjusted Rand index of the observed clusters with each permutation of the class labels."""
    p_agreement: float

    def summary(self) -> pd.Series:
        """Observed values, null means and 95th percentiles (over defined values) and p-values."""
        silhouette_mean, silhouette_q95 = _mean_and_q95(self.null_silhouettes)
        ari_mean, ari_q95 = _mean_and_q95(self.null_aris)
        return pd.Series(
            {
                "observed_silhouette": self.observed_silhouette,
                "null_silhouette_mean": silhouette_mean,
                "null_silhouette_q95": silhouette_q95,
                "p_structure": self.p_structure,
                "observed_ari": self.observed_ari,
                "null_ari_mean": ari_mean,
                "null_ari_q95": ari_q95,
                "p_agreement": self.p_agreement,
                "n_permutations": float(len(self.null_aris)),
            },
            name=f"{self.method}, k={self.n_clusters}",
        )


def _mean_and_q95(values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if not finite.size:
        return float("nan"), float("nan")
    return float(finite.mean()), float(np.percentile(finite, 95))


def _p_value(observed: float, null: np.ndarray) -> float:
    if np.isnan(observed):
        return float("nan")
    reached = np.count_nonzero(~(null < observed))  # NaN null values count as reaching it
    return (1 + reached) / (1 + len(null))


def null_distribution(
    X: pd.DataFrame,
    y: pd.Series,
    method: str,
    n_clusters: int,
    *,
    n_permutations: int = 100,
    random_state: int = RANDOM_SEED,
) -> NullComparison:
    """Is the cluster structure real, and does it match the classes more than by chance?

    Structure null: every gene's values are permuted across the samples independently of the other
    genes, which keeps each gene's distribution but destroys the correlation between genes — and so
    any grouping of the samples. Each permuted matrix is clustered like ``X`` (same method, number of
    clusters and seed); the statistic is the silhouette (:func:`silhouette`) with the method's own
    distance (:data:`DISTANCES`: 1 − r for the hierarchy, Euclidean otherwise). A small ``p_structure``
    says that ``X`` has more structure than independent genes would give, not that the clusters are
    the classes (a batch effect is structure too).

    Agreement null: the adjusted Rand index of the observed clusters with randomly permuted class
    labels, against the observed one.

    The two nulls draw from two independent generators spawned from
    ``numpy.random.default_rng(random_state)``.
    """
    if n_permutations < 1:
        raise ValueError(f"n_permutations must be at least 1, got {n_permutations}.")
    observed = cluster_samples(X, method, n_clusters, random_state=random_state)
    labels = _labels_for(y, X.index).astype(str).to_numpy()
    structure_rng, label_rng = np.random.default_rng(random_state).spawn(2)  # independent streams
    null_silhouettes = np.array(
        [
            _permuted_silhouette(X, method, n_clusters, rng=structure_rng, random_state=random_state)
            for _ in range(n_permutations)
        ]
    )
    null_aris = np.array(
        [adjusted_rand_score(label_rng.permutation(labels), observed) for _ in range(n_permutations)]
    )
    observed_silhouette = silhouette(X, observed, DISTANCES[method])
    observed_ari = agreement(observed, y)
    return NullComparison(
        method=method,
        n_clusters=n_clusters,
        observed_silhouette=observed_silhouette,
        null_silhouettes=null_silhouettes,
        p_structure=_p_value(observed_silhouette, null_silhouettes),
        observed_ari=observed_ari,
        null_aris=null_aris,
        p_agreement=_p_value(observed_ari, null_aris),
    )


def _permuted_silhouette(
    X: pd.DataFrame, method: str, n_clusters: int, *, rng: np.random.Generator, random_state: int
) -> float:
    permuted = pd.DataFrame(rng.permuted(X.to_numpy(dtype=float), axis=0), index=X.index, columns=X.columns)
    clusters = cluster_samples(permuted, method, n_clusters, random_state=random_state)
    return silhouette(permuted, clusters, DISTANCES[method])


def discovery_table(
    X: pd.DataFrame,
    y: pd.Series,
    methods: Sequence[str] = METHODS,
    n_clusters: int = 2,
    *,
    random_state: int = RANDOM_SEED,
) -> pd.DataFrame:
    """One row per clustering method: clusters asked for and found, agreement with the classes, silhouette.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``method``: ``n_clusters``, ``n_found``, ``ari`` (:func:`agreement`), ``silhouette``
        (:func:`silhouette` with the method's own distance), ``distance`` (its name, :data:`DISTANCES`)
        and ``sizes``, the cluster sizes in label order, e.g. ``"25 / 13"``.
    """
    rows = {}
    for method in methods:
        clusters = cluster_samples(X, method, n_clusters, random_state=random_state)
        sizes = clusters.value_counts().sort_index()
        rows[method] = {
            "n_clusters": n_clusters,
            "n_found": len(sizes),
            "ari": agreement(clusters, y),
            "silhouette": silhouette(X, clusters, DISTANCES[method]),
            "distance": DISTANCES[method],
            "sizes": " / ".join(str(int(size)) for size in sizes),
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("method")

"""leukemia.discovery: clustering recovers planted groups, finds nothing in noise, and says so."""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import silhouette_score

from leukemia.discovery import (
    DISTANCES,
    METHODS,
    agreement,
    canonical_labels,
    cluster_samples,
    contingency,
    discovery_table,
    null_distribution,
    silhouette,
    stability,
    standardize_genes,
    variable_genes,
)
from leukemia.discovery import stability as discovery_stability


def _planted(
    n_groups: int, *, n_samples: int = 30, n_genes: int = 200, n_informative: int = 20, seed: int = 0
) -> tuple[pd.DataFrame, pd.Series]:
    """Groups of equal size in shuffled row order; group j is raised by 3 on its own block of genes."""
    rng = np.random.default_rng(seed)
    groups = rng.permutation(np.repeat(np.arange(n_groups), n_samples // n_groups))
    values = rng.normal(size=(n_samples, n_genes))
    block = n_informative // n_groups
    for j in range(n_groups):
        values[groups == j, j * block : (j + 1) * block] += 3.0
    samples = pd.Index([f"s{i:02d}" for i in range(n_samples)], name="sample")
    X = pd.DataFrame(values, index=samples, columns=[f"g{i:03d}" for i in range(n_genes)])
    y = pd.Series(np.array(["ALL", "AML", "T"])[groups], index=samples, name="class")
    return X, y


@pytest.fixture(scope="module")
def two_groups() -> tuple[pd.DataFrame, pd.Series]:
    return _planted(2)


@pytest.fixture(scope="module")
def noise(two_groups) -> pd.DataFrame:
    X, _ = two_groups
    return pd.DataFrame(np.random.default_rng(5).normal(size=X.shape), index=X.index, columns=X.columns)


@pytest.mark.parametrize("method", METHODS)
def test_each_method_recovers_two_planted_groups(two_groups, method: str) -> None:
    X, y = two_groups
    clusters = cluster_samples(X, method, 2)
    assert agreement(clusters, y) == 1.0
    assert clusters.name == "cluster" and clusters.index.equals(X.index)
    assert sorted(clusters.unique()) == [0, 1]


@pytest.mark.parametrize("method", METHODS)
def test_each_method_recovers_three_planted_groups(method: str) -> None:
    X, y = _planted(3, n_informative=30, seed=1)
    assert agreement(cluster_samples(X, method, 3), y) == 1.0


@pytest.mark.parametrize("method", METHODS)
def test_standardised_genes_keep_the_two_groups(two_groups, method: str) -> None:
    X, y = two_groups
    assert agreement(cluster_samples(standardize_genes(X), method, 2), y) == 1.0


def test_canonical_labels_number_clusters_by_first_appearance() -> None:
    labels = canonical_labels([5, 5, 2, 7, 2, 5], pd.Index(list("abcdef")))
    assert labels.tolist() == [0, 0, 1, 2, 1, 0]
    assert labels.index.tolist() == list("abcdef") and labels.name == "cluster"


@pytest.mark.parametrize("method", METHODS)
def test_reordered_rows_give_the_same_partition_numbered_by_first_appearance(two_groups, method: str) -> None:
    X, _ = two_groups
    order = np.random.default_rng(3).permutation(len(X))
    shuffled = cluster_samples(X.iloc[order], method, 2)
    original = cluster_samples(X, method, 2)
    assert shuffled.iloc[0] == 0
    assert pd.unique(shuffled).tolist() == list(range(shuffled.nunique()))
    pd.testing.assert_series_equal(shuffled, canonical_labels(original.iloc[order], X.index[order]))


@pytest.mark.parametrize("method", METHODS)
def test_each_method_is_deterministic_given_the_seed(noise, method: str) -> None:
    first = cluster_samples(noise, method, 3, random_state=7)
    pd.testing.assert_series_equal(first, cluster_samples(noise, method, 3, random_state=7))


def test_som_with_identical_samples_leaves_a_node_empty_and_the_silhouette_undefined() -> None:
    X = pd.DataFrame(np.ones((6, 4)), index=[f"s{i}" for i in range(6)])
    y = pd.Series(["A", "B"] * 3, index=X.index)
    clusters = cluster_samples(X, "som", 2)
    assert clusters.tolist() == [0] * 6  # the node that wins no sample does not appear
    assert np.isnan(silhouette(X, clusters))
    result = null_distribution(X, y, "som", 2, n_permutations=3)
    assert np.isnan(result.observed_silhouette) and np.isnan(result.p_structure)
    assert np.isnan(result.null_silhouettes).all() and np.isnan(result.summary()["null_silhouette_mean"])


def test_variable_genes_picks_the_high_variance_genes_without_labels() -> None:
    rng = np.random.default_rng(2)
    values = rng.normal(size=(25, 100))
    values[:, [7, 30, 55, 90]] *= 10.0
    X = pd.DataFrame(values, columns=[f"g{i}" for i in range(100)])
    assert set(variable_genes(X, 4)) == {"g7", "g30", "g55", "g90"}
    assert list(inspect.signature(variable_genes).parameters) == ["X", "n"]


def test_variable_genes_breaks_ties_by_column_order() -> None:
    column = np.arange(10.0)
    X = pd.DataFrame({"c": column, "a": 2 * column, "b": column, "d": column / 2})
    assert variable_genes(X, 3).tolist() == ["a", "c", "b"]


@pytest.mark.parametrize("n", [0, 201])
def test_variable_genes_rejects_impossible_counts(two_groups, n: int) -> None:
    with pytest.raises(ValueError, match=r"number of genes \(200\)"):
        variable_genes(two_groups[0], n)


def test_standardize_genes_centres_scales_and_zeroes_constant_genes() -> None:
    rng = np.random.default_rng(4)
    X = pd.DataFrame({"x": rng.normal(5, 3, 20), "const": np.full(20, 3.7), "y": rng.normal(size=20)})
    Z = standardize_genes(X)
    assert Z.index.equals(X.index) and Z.columns.equals(X.columns)
    assert (Z["const"] == 0).all()
    np.testing.assert_allclose(Z.mean(), 0, atol=1e-12)
    np.testing.assert_allclose(Z[["x", "y"]].std(ddof=0), 1)


def test_contingency_counts_every_sample_and_shows_every_class(two_groups) -> None:
    X, y = two_groups
    classes = pd.Series(pd.Categorical(y, categories=["ALL", "AML", "T"], ordered=True), index=y.index)
    clusters = cluster_samples(X, "hierarchical", 3)
    table = contingency(clusters, classes)
    assert table.to_numpy().sum() == len(X)
    assert table.columns.tolist() == ["ALL", "AML", "T"] and (table["T"] == 0).all()
    assert table.index.tolist() == sorted(clusters.unique())


def test_agreement_matches_labels_by_index(two_groups) -> None:
    X, y = two_groups
    clusters = cluster_samples(X, "kmeans", 2)
    assert agreement(clusters, y.iloc[::-1]) == 1.0
    with pytest.raises(ValueError, match="no class label"):
        agreement(clusters, y.iloc[1:])


@pytest.mark.parametrize("method", ["kmeans", "hierarchical"])
def test_stability_is_near_one_for_planted_groups_and_low_for_noise(two_groups, noise, method: str) -> None:
    X, y = two_groups
    planted = stability(X, method, 2, n_runs=5, y=y)
    assert planted.columns.tolist() == ["run", "ari_with_full", "ari_with_classes"]
    assert planted["run"].tolist() == list(range(5))
    assert planted["ari_with_full"].mean() > 0.95 and planted["ari_with_classes"].mean() > 0.95
    assert stability(noise, method, 2, n_runs=5)["ari_with_full"].mean() < 0.5


def test_stability_varies_for_the_deterministic_method_and_repeats_exactly(noise) -> None:
    runs = stability(noise, "hierarchical", 2, n_runs=8)
    assert runs["ari_with_full"].std() > 0  # the subsample makes hierarchical clustering vary
    pd.testing.assert_frame_equal(runs, stability(noise, "hierarchical", 2, n_runs=8))


def test_stability_of_the_som_on_planted_groups(two_groups) -> None:
    X, _ = two_groups
    assert stability(X, "som", 2, n_runs=3)["ari_with_full"].tolist() == [1.0, 1.0, 1.0]


def test_null_distribution_finds_planted_structure_and_agreement(two_groups) -> None:
    X, y = two_groups
    result = null_distribution(X, y, "hierarchical", 2, n_permutations=50)
    assert result.p_structure <= 0.05 and result.p_agreement <= 0.05
    assert result.observed_ari == 1.0 and len(result.null_silhouettes) == len(result.null_aris) == 50
    reached = np.count_nonzero(result.null_silhouettes >= result.observed_silhouette)
    assert result.p_structure == (1 + reached) / 51
    summary = result.summary()
    assert summary["null_silhouette_q95"] < summary["observed_silhouette"]
    assert summary["null_ari_mean"] == pytest.approx(result.null_aris.mean())


def test_null_distribution_finds_no_structure_in_noise(two_groups, noise) -> None:
    _, y = two_groups
    result = null_distribution(noise, y, "hierarchical", 2, n_permutations=50)
    assert result.p_structure > 0.05
    again = null_distribution(noise, y, "hierarchical", 2, n_permutations=50)
    np.testing.assert_array_equal(result.null_silhouettes, again.null_silhouettes)
    np.testing.assert_array_equal(result.null_aris, again.null_aris)


def test_null_distribution_with_kmeans(two_groups, noise) -> None:
    X, y = two_groups
    assert null_distribution(X, y, "kmeans", 2, n_permutations=19).p_structure == 0.05  # the smallest p
    assert null_distribution(noise, y, "kmeans", 2, n_permutations=19).p_structure > 0.05


def test_discovery_table_has_one_row_per_method(two_groups) -> None:
    X, y = two_groups
    table = discovery_table(X, y, METHODS, 2)
    assert table.index.tolist() == list(METHODS)
    assert (table["ari"] == 1.0).all() and (table["sizes"] == "15 / 15").all()
    assert (table["n_found"] == 2).all() and (table["silhouette"] > 0).all()


@pytest.mark.parametrize(
    ("method", "n_clusters", "message"),
    [
        ("dbscan", 2, "som, kmeans, hierarchical"),
        ("kmeans", 31, r"number of samples \(30\), got 31"),
        ("som", 1, r"between 2 and the number of samples \(30\)"),
    ],
)
def test_cluster_samples_rejects_bad_requests(two_groups, method: str, n_clusters: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        cluster_samples(two_groups[0], method, n_clusters)


def test_stability_and_null_reject_bad_arguments(two_groups) -> None:
    X, y = two_groups
    with pytest.raises(ValueError, match="fraction"):
        stability(X, "kmeans", 2, fraction=0)
    with pytest.raises(ValueError, match="cannot hold 2 clusters"):
        stability(X.iloc[:3], "kmeans", 2, fraction=0.2)
    with pytest.raises(ValueError, match="n_permutations"):
        null_distribution(X, y, "kmeans", 2, n_permutations=0)


def test_hierarchical_rejects_constant_samples(two_groups) -> None:
    X = two_groups[0].copy()
    X.iloc[4] = 1.0
    with pytest.raises(ValueError, match="s04"):
        cluster_samples(X, "hierarchical", 2)


def test_a_large_study_trains_its_som_on_a_fixed_budget_of_updates() -> None:
    from leukemia.discovery import SOM_EPOCHS, SOM_MAX_UPDATES, SOM_MIN_EPOCHS, som_epochs

    assert som_epochs(38) == som_epochs(57) == som_epochs(100) == SOM_EPOCHS, "Golub, bladder: unchanged"
    assert som_epochs(1400) == SOM_MAX_UPDATES // 1400 and som_epochs(10**6) == SOM_MIN_EPOCHS
    for n in (101, 150, 1400, 2000, 10**6):  # never fewer updates than Golub's 38 samples get
        assert n * som_epochs(n) >= 38 * SOM_EPOCHS


@pytest.mark.parametrize("n_clusters", [2, 3, 5])
def test_hierarchical_is_average_linkage_on_scipys_correlation_distance(noise, n_clusters: int) -> None:
    # The distances come from numpy's correlation matrix, not scipy's pair-by-pair pdist: same clusters.
    from scipy.cluster.hierarchy import fcluster, linkage

    for X in (noise, _planted(3, n_samples=60, seed=2)[0]):
        tree = linkage(X.to_numpy(), method="average", metric="correlation")
        expected = canonical_labels(fcluster(tree, t=n_clusters, criterion="maxclust"), X.index)
        pd.testing.assert_series_equal(cluster_samples(X, "hierarchical", n_clusters), expected)


def test_kmeans_and_the_som_are_seeded_with_random_state(monkeypatch: pytest.MonkeyPatch) -> None:
    import leukemia.discovery as discovery

    seen: list[tuple[str, object, object]] = []
    kmeans, som = discovery.KMeans, discovery.MiniSom

    def spy_kmeans(*args, **kwargs):
        seen.append(("kmeans", kwargs.get("random_state"), kwargs.get("n_init")))
        return kmeans(*args, **kwargs)

    def spy_som(*args, **kwargs):
        seen.append(("som", kwargs.get("random_seed"), None))
        return som(*args, **kwargs)

    monkeypatch.setattr(discovery, "KMeans", spy_kmeans)
    monkeypatch.setattr(discovery, "MiniSom", spy_som)
    X = pd.DataFrame(np.random.default_rng(0).normal(size=(12, 5)))
    cluster_samples(X, "kmeans", 2, random_state=7)
    cluster_samples(X, "som", 2, random_state=8)
    assert seen == [("kmeans", 7, 10), ("som", 8, None)], "k-means: ten initialisations, as documented"


def test_stability_runs_draw_their_own_subsamples_and_seeds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run r clusters the samples drawn by default_rng((random_state, r)) with seed random_state + r."""
    import leukemia.discovery as discovery

    calls: list[tuple[list[int], int]] = []
    real = discovery.cluster_samples

    def spy(X, method, n_clusters, *, random_state):
        calls.append((list(X.index), random_state))
        return real(X, method, n_clusters, random_state=random_state)

    monkeypatch.setattr(discovery, "cluster_samples", spy)
    X = pd.DataFrame(np.random.default_rng(1).normal(size=(10, 4)))
    table = discovery.stability(X, "kmeans", 2, n_runs=3, fraction=0.6, random_state=5)
    assert calls[0] == (list(range(10)), 5), "the full clustering"
    for run, (index, seed) in enumerate(calls[1:]):
        expected = sorted(np.random.default_rng([5, run]).choice(10, 6, replace=False).tolist())
        assert (index, seed) == (expected, 5 + run), run
    assert table["run"].tolist() == [0, 1, 2]


def test_stability_takes_its_documented_arguments_and_refuses_others() -> None:
    X = pd.DataFrame(np.random.default_rng(2).normal(size=(10, 3)))
    assert len(discovery_stability(X, "hierarchical", 2)) == 20, "20 runs by default"
    assert len(discovery_stability(X, "hierarchical", 2, n_runs=1, fraction=1.0)) == 1, (
        "one run of all samples"
    )
    assert len(discovery_stability(X, "hierarchical", 2, n_runs=2, fraction=0.2)) == 2, (
        "2 samples, 2 clusters"
    )
    for fraction, n_runs in ((0.0, 3), (1.01, 3), (0.5, 0)):
        with pytest.raises(ValueError, match=r"need 0 < fraction <= 1 and n_runs >= 1"):
            discovery_stability(X, "hierarchical", 2, n_runs=n_runs, fraction=fraction)
    with pytest.raises(ValueError, match="a subsample of 1 samples cannot hold 2 clusters"):
        discovery_stability(X, "hierarchical", 2, fraction=0.1)


def test_variable_genes_keeps_column_order_among_many_ties() -> None:
    # 40 genes in two tied groups: an unstable sort would not keep their column order.
    X = pd.DataFrame(
        np.outer(np.arange(6.0), (np.arange(40) % 2) + 1.0), columns=[f"g{i}" for i in range(40)]
    )  # odd genes vary twice as much as even genes
    assert variable_genes(X, 24).tolist() == [f"g{i}" for i in range(1, 40, 2)] + ["g0", "g2", "g4", "g6"]


def test_contingency_names_its_axes() -> None:
    clusters = pd.Series([0, 1, 1], index=["a", "b", "c"])
    named = contingency(clusters, pd.Series(["X", "Y", "Y"], index=["a", "b", "c"], name="lineage"))
    assert (named.index.name, named.columns.name) == ("cluster", "lineage")
    unnamed = contingency(clusters, pd.Series(["X", "Y", "Y"], index=["a", "b", "c"]))
    assert unnamed.columns.name == "class"


def test_silhouette_is_undefined_for_one_cluster_or_a_cluster_per_sample() -> None:
    X = pd.DataFrame(np.arange(8.0).reshape(4, 2), index=list("abcd"))
    assert np.isnan(silhouette(X, pd.Series([0, 1, 2, 3], index=X.index)))
    assert np.isnan(silhouette(X, pd.Series([0, 0, 0, 0], index=X.index)))
    assert silhouette(X, pd.Series([0, 0, 1, 2], index=X.index)) == pytest.approx(
        silhouette_score(X.to_numpy(), [0, 0, 1, 2])
    )  # three clusters of four samples: defined


def test_null_summary_and_discovery_table_fields(two_groups) -> None:
    X, y = two_groups
    summary = null_distribution(X, y, "hierarchical", 2, n_permutations=5).summary()
    assert summary.index.tolist() == [
        "observed_silhouette", "null_silhouette_mean", "null_silhouette_q95", "p_structure", "observed_ari",
        "null_ari_mean", "null_ari_q95", "p_agreement", "n_permutations",
    ]  # fmt: skip
    assert summary.name == "hierarchical, k=2" and summary["n_permutations"] == 5
    assert discovery_table(X, y, ("kmeans",), 2).index.name == "method"


def test_variable_genes_takes_one_gene_up_to_every_gene() -> None:
    X = pd.DataFrame({"a": [0.0, 1.0, 2.0], "b": [0.0, 5.0, 10.0], "c": [1.0, 1.0, 1.5]})
    assert variable_genes(X, 1).tolist() == ["b"]
    assert variable_genes(X, 3).tolist() == ["b", "a", "c"]


@pytest.mark.parametrize("n_clusters", [3, 4])
def test_the_som_is_minisom_trained_as_documented(noise, n_clusters: int) -> None:
    """1 × k map, width 1 shrinking asymptotically, rate 0.5 falling linearly to 0, epochs in random order."""
    from minisom import MiniSom

    from leukemia.discovery import som_epochs

    values = noise.to_numpy()
    som = MiniSom(
        1, n_clusters, values.shape[1], sigma=1.0, learning_rate=0.5, decay_function="linear_decay_to_zero",
        sigma_decay_function="asymptotic_decay", random_seed=11,
    )  # fmt: skip
    som.random_weights_init(values)
    som.train(values, som_epochs(len(values)), random_order=True, use_epochs=True)
    expected = canonical_labels([som.winner(sample)[1] for sample in values], noise.index)
    pd.testing.assert_series_equal(cluster_samples(noise, "som", n_clusters, random_state=11), expected)


def test_hierarchical_says_why_a_constant_sample_is_refused(two_groups) -> None:
    X = two_groups[0].copy()
    X.iloc[[2, 7]] = 0.5
    message = r"^the correlation distance is undefined for samples whose values are all equal: \['s02', 's07"
    with pytest.raises(ValueError, match=message):
        cluster_samples(X, "hierarchical", 2)


def test_canonical_labels_are_integers() -> None:
    labels = canonical_labels(np.array(["b", "a", "b"]))
    assert labels.dtype.kind == "i" and labels.tolist() == [0, 1, 0]


def test_silhouette_and_contingency_match_clusters_and_classes_by_sample(two_groups) -> None:
    X, y = two_groups
    clusters = cluster_samples(X, "kmeans", 3)
    shuffled = clusters.sample(frac=1.0, random_state=3)
    assert silhouette(X, shuffled) == silhouette(X, clusters)
    shuffled_classes = y.sample(frac=1.0, random_state=4)
    pd.testing.assert_frame_equal(contingency(clusters, shuffled_classes), contingency(clusters, y))


def test_the_null_permutes_each_gene_across_samples_with_the_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every clustering (observed, null) gets random_state; a null matrix is X with each column shuffled."""
    import leukemia.discovery as discovery

    real, seen = discovery.cluster_samples, []

    def spy(X, method, n_clusters, *, random_state):
        seen.append((X, random_state))
        return real(X, method, n_clusters, random_state=random_state)

    monkeypatch.setattr(discovery, "cluster_samples", spy)
    X, y = _planted(2, n_samples=12, n_genes=6)
    discovery.null_distribution(X, y, "kmeans", 2, n_permutations=4, random_state=9)
    assert len(seen) == 5 and all(seed == 9 for _, seed in seen)
    assert seen[0][0] is X
    for permuted, _ in seen[1:]:
        assert permuted.index.equals(X.index) and permuted.columns.equals(X.columns)
        for gene in X:  # the same values in every gene, in another order
            np.testing.assert_array_equal(np.sort(permuted[gene]), np.sort(X[gene]))
        assert not permuted.equals(X)
    rows = np.sort(X.to_numpy(), axis=1)
    assert any(not np.array_equal(np.sort(p.to_numpy(), axis=1), rows) for p, _ in seen[1:]), "not row-wise"
    seen.clear()
    discovery.discovery_table(X, y, ("kmeans", "som"), random_state=9)
    assert [seed for _, seed in seen] == [9, 9]


def test_null_distribution_defaults_and_ties(two_groups) -> None:
    X, y = two_groups[0].iloc[:10, :4], two_groups[1].iloc[:10]
    default = null_distribution(X, y, "hierarchical", 2)
    assert len(default.null_silhouettes) == len(default.null_aris) == 100, "100 permutations by default"
    one = null_distribution(X, y, "hierarchical", 2, n_permutations=1)
    assert len(one.null_aris) == 1 and one.p_agreement in (0.5, 1.0)
    result = null_distribution(X, y, "hierarchical", 2, n_permutations=40)
    ties = np.count_nonzero(result.null_aris == result.observed_ari)
    assert ties > 0, "this small case must have null values equal to the observed one"
    assert result.p_agreement == (1 + np.count_nonzero(result.null_aris >= result.observed_ari)) / 41
    again = null_distribution(X, y.iloc[::-1], "hierarchical", 2, n_permutations=40)
    np.testing.assert_array_equal(again.null_aris, result.null_aris)  # labels matched to X by sample
    summary = result.summary()
    assert summary["null_ari_q95"] == np.percentile(result.null_aris, 95)
    assert summary["null_silhouette_q95"] == np.percentile(result.null_silhouettes, 95)


def test_discovery_table_columns_and_default_clusters(two_groups) -> None:
    X, y = two_groups
    table = discovery_table(X, y, ("kmeans",))
    assert table.columns.tolist() == ["n_clusters", "n_found", "ari", "silhouette", "distance", "sizes"]
    pd.testing.assert_frame_equal(table, discovery_table(X, y, ("kmeans",), 2))
    assert table.loc["kmeans", "n_clusters"] == 2


def test_every_method_has_the_distance_it_clusters_with() -> None:
    assert DISTANCES == {"som": "euclidean", "kmeans": "euclidean", "hierarchical": "correlation"}
    assert set(DISTANCES) == set(METHODS)


def test_silhouette_takes_the_distance(two_groups) -> None:
    X, y = two_groups
    shifted = X.add(np.random.default_rng(6).normal(0, 5, len(X)), axis=0)  # a per-sample offset: r unchanged
    for metric in ("euclidean", "correlation"):
        assert silhouette(shifted, y, metric) == pytest.approx(silhouette_score(shifted, y, metric=metric))
    assert silhouette(shifted, y) == silhouette(shifted, y, "euclidean"), "Euclidean by default"
    assert silhouette(shifted, y, "correlation") > silhouette(shifted, y, "euclidean") + 0.1


def test_each_method_is_scored_with_the_distance_it_clustered_with(
    two_groups, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hierarchy joins samples by 1 − r: its silhouette is measured with 1 − r, in the discovery table
    and in both the observed and every permuted clustering of the structure null; k-means and the SOM by
    Euclidean distance."""
    import leukemia.discovery as discovery

    X, y = two_groups
    X = X.add(np.random.default_rng(6).normal(0, 5, len(X)), axis=0)  # offsets change Euclidean, not 1 − r
    table = discovery_table(X, y, METHODS, 2)
    for method in METHODS:
        clusters = cluster_samples(X, method, 2)
        expected = silhouette_score(X, clusters, metric=DISTANCES[method])
        assert table.loc[method, "silhouette"] == pytest.approx(expected), method
        assert table.loc[method, "distance"] == DISTANCES[method]
    assert table.loc["hierarchical", "silhouette"] != pytest.approx(
        silhouette_score(X, cluster_samples(X, "hierarchical", 2))
    )
    real, metrics = discovery.silhouette_score, []

    def spy(values, labels, *, metric):
        metrics.append(metric)
        return real(values, labels, metric=metric)

    monkeypatch.setattr(discovery, "silhouette_score", spy)
    result = null_distribution(X, y, "hierarchical", 2, n_permutations=4)
    assert metrics == ["correlation"] * 5, "four permuted clusterings and the observed one"
    assert result.observed_silhouette == pytest.approx(table.loc["hierarchical", "silhouette"])
    metrics.clear()
    null_distribution(X, y, "kmeans", 2, n_permutations=2)
    assert metrics == ["euclidean"] * 3

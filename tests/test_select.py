"""leukemia.select: signal-to-noise, the two selectors, and their comparison."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_selection import f_classif

from leukemia.data import GolubData
from leukemia.preprocessing import make_preprocessor
from leukemia.select import (
    SignalToNoiseSelector,
    anova_f,
    compare_selectors,
    make_selector,
    selected_genes,
    signal_to_noise,
    signal_to_noise_ovr,
    top_genes_per_class,
)


@pytest.fixture
def toy() -> tuple[pd.DataFrame, np.ndarray]:
    # g_all: high in ALL; g_aml: high in AML; g_noise: no difference; g_all2: weaker ALL gene.
    X = pd.DataFrame(
        {
            "g_all": [10.0, 11, 12, 1, 2, 3],
            "g_aml": [1.0, 2, 3, 10, 11, 12],
            "g_noise": [5.0, 1, 9, 5, 9, 1],
            "g_all2": [6.0, 7, 8, 4, 5, 6],
        }
    )
    y = np.array(["ALL", "ALL", "ALL", "AML", "AML", "AML"])
    return X, y


def test_signal_to_noise_by_hand(toy) -> None:
    X, y = toy
    scores, classes = signal_to_noise(X.to_numpy(), y)
    assert classes.tolist() == ["ALL", "AML"]
    sd = np.std([10, 11, 12])  # population SD, the same in both classes here
    assert scores[0] == pytest.approx((11 - 2) / (2 * sd))
    assert scores[1] == pytest.approx(-(11 - 2) / (2 * sd))
    assert scores[2] == pytest.approx(0)
    sample_sd = signal_to_noise(X.to_numpy(), y, ddof=1)[0]
    assert sample_sd[0] == pytest.approx((11 - 2) / (2 * np.std([10, 11, 12], ddof=1)))


def test_signal_to_noise_constant_genes() -> None:
    X = np.array([[1.0, 5.0, 0.0], [1.0, 5.0, 0.0], [2.0, 5.0, -3.0], [2.0, 5.0, -3.0]])
    scores, _ = signal_to_noise(X, np.array([0, 0, 1, 1]))
    # perfectly separated with no spread: the σs floored as GenePattern floors them, 0.2·|μ| each
    assert scores[0] == pytest.approx((1 - 2) / (0.2 * 1 + 0.2 * 2))
    assert scores[2] == pytest.approx((0 + 3) / (0.2 * 0 + 0.2 * 3))
    assert scores[1] == 0  # constant everywhere
    three = signal_to_noise_ovr(np.vstack([X, [[9.0, 5.0, 1.0]]]), np.array([0, 0, 1, 1, 2]))[0]
    assert np.isfinite(three).all(), "a class of one sample has no spread either"


def test_a_small_class_with_no_spread_fits_every_signal_to_noise_user() -> None:
    """Inner folds of a study with a class of five samples hold one or two of them: genes without spread
    in both groups are common there. Weighted voting, the selector and the fast search all take them."""
    from leukemia.golub import WeightedVoting, neighbourhood_analysis
    from leukemia.search import nested_ranking, predictions_by_k

    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 30))
    y = np.array(["a"] * 5 + ["b"] * 5 + ["c"] * 2)
    X[10:, :5] = 7.0  # class c: two identical samples on five genes…
    X[:10, :5] = 3.0  # …and the rest constant there too: P(g) was ±∞ and weighted voting refused it
    model = WeightedVoting(k=6).fit(X, y)
    assert np.isfinite(model.weights_).all()
    assert (model.predict(X[10:]) == "c").all()
    assert SignalToNoiseSelector(k=6).fit(X, y).get_support().sum() == 6
    order = nested_ranking("signal_to_noise", X, y, 10)
    fast = predictions_by_k(WeightedVoting(k=None), X, y, X, order, [2, 6])
    columns = np.sort(order[:6])
    assert (fast[1] == WeightedVoting(k=None).fit(X[:, columns], y).predict(X[:, columns])).all()
    table = neighbourhood_analysis(pd.DataFrame(X), pd.Series(y), n_permutations=100, progress=False)
    assert np.isfinite(table.drop(columns="side").to_numpy(dtype=float)).all()


def test_signal_to_noise_needs_two_classes() -> None:
    with pytest.raises(ValueError, match="exactly two classes"):
        signal_to_noise(np.ones((3, 2)), np.array(["ALL", "ALL", "ALL"]))


def test_selector_takes_half_from_each_class(toy) -> None:
    X, y = toy
    selector = SignalToNoiseSelector(k=2).fit(X, y)
    assert selector.get_feature_names_out().tolist() == ["g_all", "g_aml"]
    three = SignalToNoiseSelector(k=3).fit(X, y)  # odd k: the extra gene goes to ALL
    assert set(three.get_feature_names_out()) == {"g_all", "g_all2", "g_aml"}
    assert SignalToNoiseSelector(k=2).fit_transform(X, y).shape == (6, 2)


def test_selector_rejects_bad_k(toy) -> None:
    X, y = toy
    with pytest.raises(ValueError, match=r"k must be between 1 and the number of genes \(4\), got 5"):
        SignalToNoiseSelector(k=5).fit(X, y)
    with pytest.raises(ValueError, match="at least 1"):
        make_selector("f_test", 0)
    with pytest.raises(
        ValueError, match=r"unknown selector 'lasso'; choose one of \['f_test', 'signal_to_noise'\]"
    ):
        make_selector("lasso", 5)


def test_f_test_selector_is_selectkbest_f_classif(golub: GolubData) -> None:
    f, _ = f_classif(golub.X_train, golub.y_train)
    expected = golub.X_train.columns[np.argsort(-f)[:10]]
    assert set(selected_genes(golub.X_train, golub.y_train, "f_test", 10)) == set(expected)


def test_selectors_are_invariant_to_per_gene_scaling(golub: GolubData) -> None:
    scaled = make_preprocessor("minmax", pandas_output=True).fit_transform(golub.X_train)
    for name in ("f_test", "signal_to_noise"):
        raw = selected_genes(golub.X_train, golub.y_train, name, 50)
        assert set(selected_genes(scaled, golub.y_train, name, 50)) == set(raw)


def test_compare_selectors_on_training_data(golub: GolubData) -> None:
    table = compare_selectors(golub.X_train, golub.y_train, 50)
    assert table["f_test"].sum() == 50 and table["signal_to_noise"].sum() == 50
    kept = table[table["signal_to_noise"]]
    assert kept["higher_in"].value_counts().to_dict() == {"ALL": 25, "AML": 25}
    assert table["f_rank"].tolist() == list(range(1, len(table) + 1))
    assert table.loc["X95735_at", "f_test"]  # zyxin
    assert (table.loc[table["f_test"], "f_rank"] <= 50).all()


def test_selector_aligns_labels_by_index(golub: GolubData) -> None:
    shuffled = golub.y_train.sample(frac=1, random_state=0)
    assert set(selected_genes(golub.X_train, shuffled, "signal_to_noise", 20)) == set(
        selected_genes(golub.X_train, golub.y_train, "signal_to_noise", 20)
    )


def test_one_vs_rest_scores_are_golubs_for_two_classes_and_by_hand_for_three(toy) -> None:
    X, y = toy
    two, classes = signal_to_noise_ovr(X.to_numpy(), y)
    P = signal_to_noise(X.to_numpy(), y)[0]
    assert classes.tolist() == ["ALL", "AML"]
    assert np.array_equal(two, np.stack([P, -P]))
    # Three classes: A = 1, 2; B = 5, 7; C = 10, 12 on one gene.
    g = np.array([[1.0], [2], [5], [7], [10], [12]])
    labels = np.array(["A", "A", "B", "B", "C", "C"])
    three, classes = signal_to_noise_ovr(g, labels)
    assert classes.tolist() == ["A", "B", "C"]
    rest_a = np.array([5.0, 7, 10, 12])
    assert three[0, 0] == pytest.approx((1.5 - rest_a.mean()) / (0.5 + rest_a.std()))
    rest_b = np.array([1.0, 2, 10, 12])
    assert three[1, 0] == pytest.approx((6 - rest_b.mean()) / (1 + rest_b.std()))
    with pytest.raises(ValueError, match="at least two classes"):
        signal_to_noise_ovr(g, np.array(["A"] * 6))


def test_genes_are_taken_in_turn_by_each_class_skipping_genes_already_taken() -> None:
    scores = np.array(
        [
            [9.0, 8, 0, 0, 0, 7],  # class 0: genes 0, 1, 5
            [9.5, 0, 8, 7, 0, 0],  # class 1 also likes gene 0, which class 0 takes first
            [0.0, 0, 0, 0, 9, 0],  # class 2: gene 4, then the rest in column order (ties)
        ]
    )
    assert top_genes_per_class(scores, 6).tolist() == [0, 2, 4, 1, 3, 5]
    for k in range(1, 7):  # uneven k: the first classes get one more; nested in k
        assert top_genes_per_class(scores, k).tolist() == [0, 2, 4, 1, 3, 5][:k]
    with pytest.raises(ValueError, match="between 1 and the number of genes"):
        top_genes_per_class(scores, 7)


@pytest.mark.parametrize("n_classes", [3, 5])
def test_selector_splits_k_evenly_over_k_classes(n_classes: int) -> None:
    rng = np.random.default_rng(0)
    y = np.repeat([f"C{c}" for c in range(n_classes)], 6)
    X = rng.normal(size=(y.size, 50))
    noise = rng.normal(size=y.size)  # one noise column for the planted genes: spreads equal, means rank
    for c in range(n_classes):  # genes 3c, 3c+1, 3c+2 are high in class c, by 6, 5, 4
        for i, shift in enumerate([6, 5, 4]):
            X[:, 3 * c + i] = noise + shift * (y == f"C{c}")
    selector = SignalToNoiseSelector(k=2 * n_classes).fit(X, y)
    expected = sorted(3 * c + i for c in range(n_classes) for i in (0, 1))
    assert np.flatnonzero(selector.get_support()).tolist() == expected
    assert selector.class_scores_.shape == (n_classes, 50)
    table = compare_selectors(pd.DataFrame(X), pd.Series(y), k=2 * n_classes)
    kept = table[table["signal_to_noise"]]
    assert kept["higher_in"].value_counts().to_dict() == {f"C{c}": 2 for c in range(n_classes)}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_classes", [2, 3, 5])
def test_anova_f_is_f_classif_bit_for_bit(dtype: type, n_classes: int) -> None:
    rng = np.random.default_rng(n_classes)
    X = (rng.lognormal(5, 2, size=(61, 300)) * rng.uniform(0.1, 50, size=300)).astype(dtype)
    X[:, 7] = 3.0  # a constant gene: 0/0
    X[:, 11] = X[:, 12]  # two identical genes: an exact tie, kept exact
    y = rng.permutation(np.arange(61) % n_classes)
    with np.errstate(divide="ignore", invalid="ignore"), pytest.warns(UserWarning, match="constant"):
        expected = f_classif(X, y)[0]
    got = anova_f(X, y)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)  # NaN where NaN, every other value identical


def test_anova_f_on_golub_is_f_classif(golub: GolubData) -> None:
    X, y = golub.X_train.to_numpy(dtype=float), golub.y_train.to_numpy()
    np.testing.assert_array_equal(anova_f(X, y), f_classif(X, y)[0])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("ddof", [0, 1])
def test_signal_to_noise_is_the_vectorised_formula_bit_for_bit(dtype: type, ddof: int) -> None:
    rng = np.random.default_rng(ddof)
    X = (rng.lognormal(5, 2, size=(45, 200)) * rng.uniform(0.1, 50, size=200)).astype(dtype)
    y = rng.permutation(np.arange(45) % 2)
    first, second = X[y == 0], X[y == 1]
    spread = first.std(axis=0, ddof=ddof) + second.std(axis=0, ddof=ddof)
    expected = (first.mean(axis=0) - second.mean(axis=0)) / spread
    np.testing.assert_array_equal(signal_to_noise(X, y, ddof=ddof)[0], expected)


def test_ties_go_to_the_first_gene_and_golubs_second_class_reads_the_ranking_backwards() -> None:
    # 40 genes in two tied groups: numpy's default sort does not keep column order within them.
    tied = (np.arange(40) % 2).astype(float)  # odd genes score 1, even genes 0
    three = np.stack([tied, tied, tied])
    assert top_genes_per_class(three, 6).tolist() == [1, 3, 5, 7, 9, 11]
    # Two classes: class 1's ranking is class 0's reversed, so among tied genes it takes the last.
    two = np.stack([tied, -tied])
    assert top_genes_per_class(two, 6).tolist() == [1, 38, 3, 36, 5, 34]


def test_selector_defaults_and_settings_reach_the_scores(toy) -> None:
    X, y = toy
    assert SignalToNoiseSelector().get_params() == {"k": 50, "ddof": 0}  # Golub's 50 genes, population SD
    assert SignalToNoiseSelector(k=4).fit(X, y).get_support().all(), "k may be every gene"
    sample_sd = SignalToNoiseSelector(k=2, ddof=1).fit(X, y)
    np.testing.assert_array_equal(sample_sd.scores_, signal_to_noise(X.to_numpy(), y, ddof=1)[0])
    # Two classes: the signed P(g) of the first class. float32 input is scored in float64.
    fitted = SignalToNoiseSelector(k=2).fit(X.astype(np.float32), y)
    np.testing.assert_array_equal(fitted.scores_, signal_to_noise(X.to_numpy(np.float32).astype(float), y)[0])
    assert fitted.scores_.dtype == np.float64
    # Three classes: each gene's largest one-vs-rest score.
    labels = np.array(["A", "A", "B", "B", "C", "C"])
    ovr = signal_to_noise_ovr(X.to_numpy(), labels)[0]
    np.testing.assert_array_equal(SignalToNoiseSelector(k=2).fit(X, labels).scores_, ovr.max(axis=0))


def test_the_f_test_selector_uses_the_low_memory_anova() -> None:
    assert make_selector("f_test", 3).score_func is anova_f


def test_compare_selectors_by_hand(toy) -> None:
    X, y = toy
    X = X.assign(g_flat=1.0)  # constant: F is 0/0, shown as 0
    labels = pd.Series(y, index=X.index).sample(frac=1, random_state=0)  # aligned by sample, not position
    table = compare_selectors(X, labels, k=2)
    with np.errstate(invalid="ignore"), pytest.warns(UserWarning, match="constant"):
        f = np.nan_to_num(f_classif(X, y)[0], nan=0.0)
    snr = signal_to_noise(X.to_numpy(), y)[0]
    assert table.index.tolist() == ["g_all", "g_aml", "g_all2", "g_noise", "g_flat"]  # by F
    np.testing.assert_array_equal(table["f_score"], f[[0, 1, 3, 2, 4]])
    assert table["f_rank"].tolist() == [1, 2, 3, 4, 5] and table["f_rank"].dtype.kind == "i"
    assert table["snr_rank"].dtype.kind == "i"
    np.testing.assert_array_equal(table["snr"], snr[[0, 1, 3, 2, 4]])
    # |P(g)| ranks: g_all and g_aml tie (first wins), then g_all2; noise and the flat gene score 0.
    assert table["snr_rank"].to_dict() == {"g_all": 1, "g_aml": 2, "g_all2": 3, "g_noise": 4, "g_flat": 5}
    assert table["higher_in"].tolist() == ["ALL", "AML", "ALL", "ALL", "ALL"]
    assert table["f_test"].tolist() == [True, True, False, False, False]
    assert table["signal_to_noise"].tolist() == [True, True, False, False, False]
    assert inspect.signature(compare_selectors).parameters["k"].default == 50  # Golub's 50 genes


def test_one_vs_rest_passes_ddof_for_two_classes(toy) -> None:
    X, y = toy
    scores = signal_to_noise_ovr(X.to_numpy(), y, ddof=1)[0]
    P = signal_to_noise(X.to_numpy(), y, ddof=1)[0]
    np.testing.assert_array_equal(scores, np.stack([P, -P]))


def test_anova_f_is_quiet_about_degenerate_genes_and_keeps_missing_values() -> None:
    X = np.array(
        [[1.0, 5.0, 1.0, 2.0], [1.0, 5.0, 2.0, np.nan], [2.0, 5.0, 3.0, 1.0], [2.0, 5.0, 5.0, 3.0]]
    )  # gene 0 constant within each class (F = inf), gene 1 constant (0/0), gene 3 with a missing value
    y = np.array([0, 0, 1, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division warnings: they are expected and documented
        F = anova_f(X, y)
    assert F[0] == np.inf and np.isnan(F[1]) and np.isfinite(F[2]) and np.isnan(F[3])


def test_each_class_needs_more_samples_than_ddof() -> None:
    X = np.arange(10.0).reshape(5, 2)
    with pytest.raises(ValueError, match=r"each class needs more than ddof=1 samples"):
        signal_to_noise(X, np.array([0, 1, 1, 1, 1]), ddof=1)  # the first class is the small one
    with pytest.raises(ValueError, match=r"more than ddof=2"):
        signal_to_noise(X, np.array([0, 0, 1, 1, 1]), ddof=2)  # exactly ddof samples is not enough
    assert np.isfinite(signal_to_noise(X, np.array([0, 0, 1, 1, 1]), ddof=1)[0]).all()


def test_one_vs_rest_passes_its_settings_for_three_classes() -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(5, 2, size=(9, 4))
    y = np.repeat(["A", "B", "C"], 3)
    scores = signal_to_noise_ovr(X, y, ddof=1, sigma_floor=0.5)[0]
    for row, c in zip(scores, "ABC", strict=True):
        expected = signal_to_noise(X, np.where(y == c, 0, 1), ddof=1, sigma_floor=0.5)[0]
        np.testing.assert_array_equal(row, expected)
    assert not np.array_equal(scores, signal_to_noise_ovr(X, y)[0])


def test_compare_selectors_keeps_50_genes_by_default() -> None:
    rng = np.random.default_rng(6)
    X = pd.DataFrame(rng.normal(size=(12, 80)))
    y = pd.Series(np.repeat(["a", "b"], 6))
    table = compare_selectors(X, y)
    assert table["f_test"].sum() == table["signal_to_noise"].sum() == 50

"""leukemia.golub: weighted voting (checked by hand) and neighbourhood analysis."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import cross_val_score

from leukemia.data import GolubData
from leukemia.golub import NULL_LEVELS, NULL_MEDIAN, WeightedVoting, neighbourhood_analysis

NULL_95, NULL_99 = NULL_LEVELS["5%"], NULL_LEVELS["1%"]


@pytest.fixture
def hand_made() -> tuple[pd.DataFrame, np.ndarray]:
    # g1: ALL 9, 11 (mean 10, sd 1); AML 1, 3 (mean 2, sd 1) -> P = 8 / 2 = 4, b = 6
    # g2: the mirror image -> P = -4, b = 6
    X = pd.DataFrame({"g1": [9.0, 11, 1, 3], "g2": [1.0, 3, 9, 11]})
    return X, np.array(["ALL", "ALL", "AML", "AML"])


def test_weighted_voting_by_hand(hand_made) -> None:
    X, y = hand_made
    wv = WeightedVoting(k=2).fit(X, y)
    np.testing.assert_allclose(wv.weights_, [[4, -4]])  # two classes: one predictor
    np.testing.assert_allclose(wv.midpoints_, [[6, 6]])
    new = pd.DataFrame({"g1": [8.0, 7, 6], "g2": [5.0, 8, 6]})
    # [8, 5]: votes 4*2 = 8 and -4*-1 = 4, both for ALL -> ALL, strength 1
    # [7, 8]: 4*1 = 4 for ALL, -4*2 = -8 -> 8 for AML -> AML, strength (8 - 4) / 12
    # [6, 6]: no votes -> tie, class 0 (ALL), strength 0
    v_all, v_aml = wv.votes(new)
    np.testing.assert_allclose(v_all[:, 0], [12, 4, 0])
    np.testing.assert_allclose(v_aml[:, 0], [0, 8, 0])
    assert wv.predict(new).tolist() == ["ALL", "AML", "ALL"]
    np.testing.assert_allclose(wv.prediction_strength(new), [1, 1 / 3, 0])
    np.testing.assert_allclose(wv.decision_function(new), [-1, 1 / 3, 0])
    np.testing.assert_allclose(wv.predict_proba(new)[:, 1], [0, 2 / 3, 0.5])


def test_weighted_voting_picks_half_the_genes_per_class() -> None:
    rng = np.random.default_rng(0)
    y = np.array(["ALL"] * 10 + ["AML"] * 10)
    X = rng.normal(size=(20, 30))
    X[:10, 0] += 5  # strongly ALL
    X[:10, 1] += 3  # ALL
    X[10:, 2] += 5  # strongly AML
    wv = WeightedVoting(k=2).fit(X, y)
    assert wv.genes_.tolist() == [[0, 2]]
    assert WeightedVoting(k=None).fit(X, y).genes_.size == 30
    with pytest.raises(ValueError, match=r"k must be between 1 and the number of genes \(30\)"):
        WeightedVoting(k=31).fit(X, y)


def test_prediction_strength_bounds(golub: GolubData) -> None:
    wv = WeightedVoting(50).fit(golub.X_train, golub.y_train)
    strength = wv.prediction_strength(golub.X_test)
    assert ((strength >= 0) & (strength <= 1)).all()
    proba = wv.predict_proba(golub.X_test)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    untied = proba[:, 1] != 0.5
    assert untied.sum() > 30
    assert (wv.predict(golub.X_test)[untied] == wv.classes_[proba[untied].argmax(axis=1)]).all()
    np.testing.assert_allclose(np.ptp(proba, axis=1), strength)  # the margin of the two columns
    assert wv.genes_.shape == (1, 50)
    assert (np.sign(wv.weights_) > 0).sum() == 25


def test_weighted_voting_is_a_scikit_learn_classifier(golub: GolubData) -> None:
    scores = cross_val_score(clone(WeightedVoting(20)), golub.X_train, golub.y_train, cv=3)
    assert scores.mean() > 0.8


def test_neighbourhood_analysis_finds_planted_genes() -> None:
    rng = np.random.default_rng(1)
    y = pd.Series(["ALL"] * 20 + ["AML"] * 20)
    X = pd.DataFrame(rng.normal(size=(40, 200)))
    X.iloc[:20, :10] += 3  # ten genes high in ALL
    table = neighbourhood_analysis(X, y, n_permutations=50, radii=np.array([0.5, 1.0]), progress=False)
    assert table.shape == (4, 6)
    assert table.columns.tolist() == [
        "radius", "side", "observed", "null median", "null 95th pct (5% level)", "null 99th pct (1% level)",
    ], "the null's percentiles are named for what they are, not for the level alone"  # fmt: skip
    strong = table[(table["side"] == "ALL") & (table["radius"] == 1.0)].iloc[0]
    assert strong["observed"] >= 10 > strong[NULL_99]
    again = neighbourhood_analysis(X, y, n_permutations=50, radii=np.array([0.5, 1.0]), progress=False)
    pd.testing.assert_frame_equal(table, again)  # seeded


def test_neighbourhood_analysis_on_real_data_exceeds_chance(golub: GolubData) -> None:
    table = neighbourhood_analysis(golub.X_train, golub.y_train, n_permutations=100, progress=False)
    at_half = table[table["radius"] == 0.5].set_index("side")
    assert (at_half["observed"] > at_half[NULL_99]).all()


def test_weighted_voting_passes_scikit_learns_estimator_checks() -> None:
    from sklearn.utils.estimator_checks import check_estimator

    # Every feature: with one gene per one-vs-rest predictor, the checks' 3-class blobs in two dimensions
    # are not separable (accuracy below their 0.83); the gene choice is checked by hand above.
    for estimator in (WeightedVoting(k=None), WeightedVoting(k=None, sigma_floor=0.2)):
        results = check_estimator(estimator, on_fail=None)
        failed = [r["check_name"] for r in results if r["status"] == "failed"]
        assert failed == [], failed
        assert sum(r["status"] == "passed" for r in results) > 40


def test_weighted_voting_errors_are_scikit_learns(hand_made) -> None:
    from sklearn.exceptions import NotFittedError

    X, _ = hand_made
    with pytest.raises(NotFittedError):
        WeightedVoting(k=2).predict(X)
    with pytest.raises(ValueError, match="Unknown label type"):
        WeightedVoting(k=2).fit(X, [0.1, 0.7, 2.5, 3.3])
    with pytest.raises(ValueError, match="got 1 class"):
        WeightedVoting(k=2).fit(X, ["A"] * 4)


def test_sigma_floor_by_hand() -> None:
    # g1: class A 99, 101 (mean 100, sd 1), class B 9, 11 (mean 10, sd 1).
    # No floor: P = 90 / 2 = 45. Floor 0.2|mu|: sigma_A = 20, sigma_B = max(1, 2) = 2 -> P = 90 / 22.
    X = np.array([[99.0], [101.0], [9.0], [11.0]])
    y = np.array(["A", "A", "B", "B"])
    assert WeightedVoting(k=1).fit(X, y).weights_[0] == pytest.approx(45)
    assert WeightedVoting(k=1, sigma_floor=0.2).fit(X, y).weights_[0] == pytest.approx(90 / 22)
    # A floor that never binds changes nothing.
    assert WeightedVoting(k=1, sigma_floor=0.001).fit(X, y).weights_[0] == pytest.approx(45)


def test_significant_from_reads_the_table() -> None:
    from leukemia.golub import significant_from

    radii = [0.1, 0.2, 0.3, 0.4, 0.5]
    table = pd.DataFrame(
        {
            "radius": radii * 2,
            "side": ["ALL"] * 5 + ["AML"] * 5,
            "observed": [50, 30, 20, 5, 0, 50, 30, 20, 2, 1],
            NULL_99: [60, 20, 10, 1, 0, 40, 35, 10, 3, 0],
        }
    )
    onset = significant_from(table)
    # ALL: above from 0.2 to 0.4, the last radius with an observed gene. AML: below at 0.4, above at 0.5.
    assert onset.to_dict() == {"ALL": 0.2, "AML": 0.5}
    table.loc[9, "observed"] = 0  # AML's last observed radius (0.4) is below the level: never
    assert np.isnan(significant_from(table)["AML"])
    # The sides keep the table's order (its class order), not the alphabet's.
    reordered = table.assign(side=table["side"].map({"ALL": "normal", "AML": "cancer"}))
    assert significant_from(reordered).index.tolist() == ["normal", "cancer"]
    assert significant_from(table).name == "significant from (above the 1% level)"
    # Above at every radius: from the first. Equal to the level is not above it.
    every = table.assign(observed=[50, 30, 20, 5, 0, 50, 36, 20, 4, 1])
    assert significant_from(every).to_dict() == {"ALL": 0.2, "AML": 0.1}
    tie = every.assign(observed=[61, 30, 20, 5, 0, 50, 35, 20, 4, 1])
    assert significant_from(tie).to_dict() == {"ALL": 0.1, "AML": 0.3}
    # The 5% level reads the null's 95th percentile, not its 99th; a level without a column is refused.
    lower = every.assign(**{NULL_95: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0], NULL_99: [99] * 10})
    assert significant_from(lower, "5%").to_dict() == {"ALL": 0.1, "AML": 0.1}
    assert significant_from(lower, "5%").name == "significant from (above the 5% level)"
    assert np.isnan(significant_from(lower, "1%")).all()
    with pytest.raises(ValueError, match=r"level must be one of \['1%', '5%'\], got '10%'"):
        significant_from(table, "10%")


def test_permuted_scores_are_exact_for_values_far_from_zero() -> None:
    """The batched sums work on centred values: an offset of 10⁷ does not cost the variance its digits."""
    from leukemia.golub import _PermutedScores
    from leukemia.select import signal_to_noise_ovr

    rng = np.random.default_rng(4)
    values = 1e7 + rng.normal(size=(12, 30))
    labels = np.repeat(["A", "B", "C"], 4)
    permutations = [rng.permutation(labels) for _ in range(3)]
    got = _PermutedScores(values, labels, np.array(["A", "B", "C"])).scores(permutations)
    for scores, permuted in zip(got, permutations, strict=True):
        np.testing.assert_allclose(scores, signal_to_noise_ovr(values, permuted)[0], rtol=1e-6, atol=1e-8)


def _planted(n_classes: int, per_class: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Samples of ``n_classes`` classes; genes 2c and 2c+1 are raised by 4 in class c, the rest noise."""
    rng = np.random.default_rng(seed)
    y = np.repeat([f"C{c}" for c in range(n_classes)], per_class)
    X = rng.normal(size=(y.size, 40))
    for c in range(n_classes):
        X[y == f"C{c}", 2 * c : 2 * c + 2] += 4
    return X, y


@pytest.mark.parametrize("n_classes", [3, 5])
def test_weighted_voting_with_k_classes_finds_the_planted_classes(n_classes: int) -> None:
    X, y = _planted(n_classes)
    X_new, y_new = _planted(n_classes, per_class=4, seed=1)
    wv = WeightedVoting(k=4).fit(X, y)
    assert wv.classes_.tolist() == [f"C{c}" for c in range(n_classes)]
    assert wv.genes_.shape == (n_classes, 4)
    for c in range(n_classes):  # each predictor's two "for" genes are its own planted ones
        assert {2 * c, 2 * c + 1} <= set(wv.genes_[c].tolist())
    assert (wv.predict(X_new) == y_new).all()
    strength = wv.prediction_strength(X_new)
    assert ((strength > 0) & (strength <= 1)).all()
    proba = wv.predict_proba(X_new)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    assert (wv.classes_[proba.argmax(axis=1)] == y_new).all()


@pytest.mark.parametrize("n_classes", [2, 3])
def test_weighted_voting_is_one_vs_rest_with_a_half_margin_strength(n_classes: int) -> None:
    """The definition, checked against binary predictors fitted on "class c against the rest" labels;
    for two classes this is Golub's call and Golub's prediction strength."""
    X, y = _planted(n_classes)
    X_new = _planted(n_classes, per_class=5, seed=2)[0] * 1.5  # some uncertain calls
    wv = WeightedVoting(k=None).fit(X, y)
    classes = np.unique(y)
    signed = np.column_stack(
        [-WeightedVoting(k=None).fit(X, np.where(y == c, "a", "b")).decision_function(X_new) for c in classes]
    )  # s_c: positive for class c ("a" is the first label, so the binary decision favours "b")
    best = signed.argmax(axis=1)
    ordered = np.sort(signed, axis=1)
    assert (wv.predict(X_new) == classes[best]).all()
    np.testing.assert_allclose(wv.prediction_strength(X_new), (ordered[:, -1] - ordered[:, -2]) / 2)
    if n_classes == 2:  # the two one-vs-rest predictors are one: strength |s_0|, Golub's
        np.testing.assert_allclose(signed[:, 1], -signed[:, 0])
        np.testing.assert_allclose(wv.prediction_strength(X_new), np.abs(wv.decision_function(X_new)))


def test_neighbourhood_analysis_counts_each_class_against_the_rest() -> None:
    X, y = _planted(3, per_class=10)
    frame = pd.DataFrame(X, columns=[f"g{i}" for i in range(X.shape[1])])
    labels = pd.Series(y, index=frame.index)
    table = neighbourhood_analysis(frame, labels, n_permutations=50, radii=np.array([1.0]), progress=False)
    assert table["side"].tolist() == ["C0", "C1", "C2"]
    assert (table["observed"] == 2).all()  # exactly the two planted genes of each class
    assert (table["observed"] > table[NULL_99]).all()


@pytest.mark.parametrize("batch", [None, 7], ids=["one batch", "batches of 7"])
def test_neighbourhood_null_is_a_plain_loop_over_fresh_permutations(
    batch: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batched null equals the obvious loop: one new permutation of the labels per repetition, drawn
    from the seeded generator in turn, scored one-vs-rest, counted beyond each radius. Batches of 7 (60 =
    8 × 7 + 4) check that the batches fill the null in order, the last one short."""
    import leukemia.golub as golub
    from leukemia.golub import signal_to_noise_ovr

    if batch is not None:
        init = golub._PermutedScores.__init__

        def small_batches(self, *args, **kwargs) -> None:
            init(self, *args, **kwargs)
            self.size = batch

        monkeypatch.setattr(golub._PermutedScores, "__init__", small_batches)

    rng = np.random.default_rng(5)
    y = pd.Series(np.repeat(["a", "b", "c"], [7, 6, 5]))
    X = pd.DataFrame(rng.normal(size=(18, 40)))
    X.loc[(y == "a").to_numpy(), 0] += 2
    radii = np.array([0.3, 0.6, 0.9])
    n = 60
    table = neighbourhood_analysis(X, y, n_permutations=n, radii=radii, random_state=11, progress=False)
    assert table.index.tolist() == list(range(len(table))), "one row per class and radius, numbered"

    draw = np.random.default_rng(11)
    permuted = []
    for _ in range(n):
        scores, classes = signal_to_noise_ovr(X.to_numpy(), draw.permutation(y.to_numpy()))
        permuted.append((scores[:, None, :] > radii[None, :, None]).sum(axis=2))
    null = np.array(permuted)  # (permutation, class, radius)
    for c, side in enumerate(classes):
        part = table[table["side"] == side]
        assert part[NULL_MEDIAN].tolist() == np.median(null[:, c], axis=0).tolist(), side
        assert part[NULL_95].tolist() == np.percentile(null[:, c], 95, axis=0).tolist(), side
        assert part[NULL_99].tolist() == np.percentile(null[:, c], 99, axis=0).tolist(), side
    few = neighbourhood_analysis(X, y, n_permutations=3, radii=radii, random_state=11, progress=False)
    first_three = np.array(permuted[:3])
    for c, side in enumerate(classes):
        assert (
            few.loc[few["side"] == side, NULL_99].tolist()
            == np.percentile(first_three[:, c], 99, axis=0).tolist()
        )
    other = neighbourhood_analysis(X, y, n_permutations=n, radii=radii, random_state=12, progress=False)
    null_columns = [NULL_MEDIAN, NULL_95, NULL_99]
    assert not other[null_columns].equals(table[null_columns]), "the seed is used"


def test_neighbourhood_counts_genes_strictly_beyond_each_radius_and_aligns_labels_by_sample() -> None:
    """Gene g0 scores exactly P = 0.5 (means 2 and 1, SDs 1 and 1): beyond 0.49, not beyond 0.5."""
    X = pd.DataFrame({"g0": [1.0, 3.0, 0.0, 2.0], "g1": [0.0, 0.1, 0.0, 0.1]}, index=["s1", "s2", "s3", "s4"])
    y = pd.Series(["a", "a", "b", "b"], index=X.index)
    table = neighbourhood_analysis(X, y, n_permutations=2, radii=np.array([0.49, 0.5]), progress=False)
    assert table.loc[table["side"] == "a", "observed"].tolist() == [1, 0]
    shuffled = neighbourhood_analysis(
        X, y.iloc[::-1], n_permutations=2, radii=np.array([0.49, 0.5]), progress=False
    )
    assert shuffled["observed"].tolist() == table["observed"].tolist(), (
        "labels are matched to samples by name"
    )


def test_neighbourhood_defaults_are_golubs_radii_and_a_progress_bar(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(8, 5)))
    y = pd.Series(list("aaaabbbb"))
    table = neighbourhood_analysis(X, y, n_permutations=7)
    assert table.loc[table["side"] == "a", "radius"].tolist() == [round(0.1 + 0.05 * i, 2) for i in range(29)]
    bar = capsys.readouterr().err
    assert "permutations:" in bar and "0/7" in bar, "a bar named for its work, counting up to the total"
    assert "7/7" not in bar and bar.endswith("\r"), "and cleared when done, not left on the screen"
    neighbourhood_analysis(X, y, n_permutations=7, progress=False)
    assert capsys.readouterr().err == "", "progress=False: no bar"
    neighbourhood_analysis(X, y, radii=np.array([1.0]))
    assert "0/400" in capsys.readouterr().err, "400 permutations by default, as Golub et al."


def test_weighted_voting_calls_equal_a_plain_leave_one_out_loop(tmp_path) -> None:
    import inspect

    from leukemia.golub import calls_from_decision, weighted_voting_calls
    from leukemia.preprocessing import make_preprocessor
    from leukemia.spec import load_dataset
    from leukemia.synthetic import make_study, write_study

    X, y = make_study(40, 36, 2, n_informative=5, effect=0.9, random_state=2)
    data = load_dataset(write_study(tmp_path, X, y))
    table = weighted_voting_calls(data, ("none", "standard"), k=6, threshold=0.25, sigma_floor=0.2)
    assert table.index.tolist() == ["none", "standard"]
    X_train, y_train = data.X_train.to_numpy(), data.y_train.astype(str).to_numpy()
    X_test, y_test = data.X_test.to_numpy(), data.y_test.astype(str).to_numpy()
    for option in ("none", "standard"):

        def fitted(rows: np.ndarray, option: str = option):
            scaler = make_preprocessor(option).fit(X_train[rows])
            model = WeightedVoting(k=6, sigma_floor=0.2).fit(scaler.transform(X_train[rows]), y_train[rows])
            return lambda Z: model.decision_function(scaler.transform(Z)), model.classes_

        loo = []
        for i in range(len(y_train)):
            decide, classes = fitted(np.arange(len(y_train)) != i)
            loo.append(decide(X_train[i : i + 1])[0])
        decide, classes = fitted(np.ones(len(y_train), dtype=bool))
        expected = {}
        for split, decision, truth in (("train", np.array(loo), y_train), ("test", decide(X_test), y_test)):
            call, strength = calls_from_decision(decision, classes)
            strong, right = strength >= 0.25, call == truth
            expected |= {
                f"{split}_strong": int(strong.sum()),
                f"{split}_strong_correct": int((strong & right).sum()),
                f"{split}_uncertain": int((~strong).sum()),
            }
        expected["test_correct"] = int((calls_from_decision(decide(X_test), classes)[0] == y_test).sum())
        assert table.loc[option].to_dict() == expected, option
        assert 0 < expected["train_uncertain"] < len(y_train), "the threshold splits the calls"
        weakest = calls_from_decision(decide(X_test), classes)[1].min()  # equal to the threshold: strong
        at = weighted_voting_calls(data, (option,), k=6, threshold=weakest, sigma_floor=0.2)
        assert at.loc[option, "test_strong"] == len(y_test), option
    # Defaults by behaviour: leaving k and the σ floor out equals passing Golub's 50 and no floor.
    wide = load_dataset(
        write_study(tmp_path / "wide", *make_study(80, 36, 2, n_informative=5, random_state=3))
    )
    pd.testing.assert_frame_equal(
        weighted_voting_calls(wide, ("none",)), weighted_voting_calls(wide, ("none",), k=50, sigma_floor=0.0)
    )
    fifty = load_dataset(
        write_study(tmp_path / "fifty", *make_study(50, 36, 2, n_informative=5, random_state=4))
    )
    assert len(weighted_voting_calls(fifty, ("none",))) == 1, "k = 50 fits a study of exactly 50 genes"
    defaults = inspect.signature(weighted_voting_calls).parameters
    assert defaults["k"].default == 50 and defaults["threshold"].default == 0.3
    assert defaults["preprocessing"].default == ("none", "standard", "dudoit")
    assert defaults["sigma_floor"].default == 0.0


def test_neighbourhood_constant_genes_count_nowhere_and_raise_no_warning() -> None:
    """A gene constant overall (0/0) scores 0, in the real and in the permuted labels; a gene constant
    within each class of a permutation that equals the labels (x/0) scores with GenePattern's σ floor,
    here ±1.67, beyond both radii. Neither warns."""
    import warnings

    rng = np.random.default_rng(3)
    y = pd.Series(list("aabb"))  # 6 orderings: 40 permutations repeat the real labels
    X = pd.DataFrame(rng.normal(size=(4, 6)))
    radii = np.array([0.2, 0.9])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plain = neighbourhood_analysis(X, y, n_permutations=40, radii=radii, progress=False)
        flat = neighbourhood_analysis(X.assign(flat=1.5), y, n_permutations=40, radii=radii, progress=False)
        step = neighbourhood_analysis(
            X.assign(step=[1.0, 1.0, 2.0, 2.0]), y, n_permutations=40, radii=radii, progress=False
        )
    pd.testing.assert_frame_equal(flat, plain)
    np.testing.assert_array_equal(step["observed"] - plain["observed"], [0, 0, 1, 1])  # class b: +1.67

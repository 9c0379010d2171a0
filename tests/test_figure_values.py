"""leukemia.plotting: each figure draws the values it is given, where and in the colour it should.

test_plotting checks that figures exist and are labelled; these tests read back what matplotlib drew (bar
heights, point positions, heatmap cells, annotations, colours, reference lines) and compare it with values
computed here from the inputs, on small hand-made tables where the right picture is known in advance.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection, PathCollection, QuadMesh
from matplotlib.colors import to_hex

from leukemia.dataset import Dataset
from leukemia.plotting import class_colors as _class_colors

pytestmark = pytest.mark.usefixtures("close_figures")


def class_colors(classes: tuple[str, ...]) -> dict[str, str]:
    """The package's class colours as matplotlib reports them (lower-case hex)."""
    return {c: to_hex(v) for c, v in _class_colors(classes).items()}


def hexes(colours) -> list[str]:
    return [to_hex(c, keep_alpha=False) for c in colours]


def offsets(collection: PathCollection) -> np.ndarray:
    return np.asarray(collection.get_offsets(), dtype=float)


def horizontal_ends(ax: plt.Axes) -> np.ndarray:
    """Every horizontal error bar in ``ax`` as a row (y, left end, right end), from the lowest."""
    segments = [s for c in ax.collections if isinstance(c, LineCollection) for s in c.get_segments()]
    return np.array(sorted((s[0][1], s[0][0], s[1][0]) for s in segments if s[0][1] == s[1][1]), dtype=float)


def tiny_dataset() -> Dataset:
    """Six training and four test samples of two classes, five genes; sample 't1' holds negative values."""
    rng = np.random.default_rng(3)
    genes = [f"g{i}" for i in range(5)]
    X_train = pd.DataFrame(rng.uniform(50, 20000, (6, 5)), index=[f"r{i}" for i in range(6)], columns=genes)
    X_test = pd.DataFrame(rng.uniform(50, 20000, (4, 5)), index=[f"t{i}" for i in range(4)], columns=genes)
    X_test.loc["t1", ["g0", "g1", "g2"]] = [-40.0, -5.0, 30.0]
    classes = ["A", "B"]
    y_train = pd.Series(pd.Categorical(list("BABABA"), categories=classes, ordered=True), index=X_train.index)
    y_test = pd.Series(pd.Categorical(list("ABBA"), categories=classes, ordered=True), index=X_test.index)
    annotation = pd.DataFrame({"description": [f"gene {g}" for g in genes]}, index=pd.Index(genes))
    return Dataset(X_train, y_train, X_test, y_test, annotation, name="tiny", classes=("A", "B"))


# ------------------------------------------------------------------------------------- exploring the data


def test_intensity_counts_bars_are_each_samples_counts_in_split_then_class_order() -> None:
    from leukemia.eda import intensity_summary
    from leukemia.plotting import plot_intensity_counts

    data = tiny_dataset()
    summary = pd.concat([intensity_summary(data.X_train), intensity_summary(data.X_test)])
    fig = plot_intensity_counts(summary, data)
    ax = fig.axes[0]
    order = [
        "r1",
        "r3",
        "r5",
        "r0",
        "r2",
        "r4",
        "t0",
        "t3",
        "t1",
        "t2",
    ]  # training first, by class, then name
    assert [t.get_text() for t in ax.get_xticklabels()] == order
    light, dark = ax.containers
    assert [b.get_height() for b in light] == summary.loc[order, "n_below_floor"].tolist()
    assert [b.get_height() for b in dark] == summary.loc[order, "n_negative"].tolist()
    assert dark[order.index("t1")].get_height() == 2, "t1's two negative values"
    colours = class_colors(("A", "B"))
    y = pd.concat([data.y_train, data.y_test]).astype(str)
    assert hexes(b.get_facecolor() for b in dark) == [colours[c] for c in y.loc[order]]
    boundary = [line.get_xdata()[0] for line in ax.lines]
    assert boundary == [5.5], "the line between the six training and the four test samples"


def test_sample_distributions_box_each_samples_clipped_log_quartiles() -> None:
    from leukemia.plotting import plot_sample_distributions

    data = tiny_dataset()
    fig = plot_sample_distributions(data, floor=100, ceiling=16000)
    ax = fig.axes[0]
    order = [t.get_text() for t in ax.get_xticklabels()]
    X = pd.concat([data.X_train, data.X_test]).loc[order]
    expected = np.percentile(np.log10(np.clip(X.to_numpy(), 100, 16000)), [25, 75], axis=1).T
    boxes = [p for p in ax.patches if p.get_path().vertices.size]
    drawn = np.array([[p.get_path().vertices[:, 1].min(), p.get_path().vertices[:, 1].max()] for p in boxes])
    assert drawn == pytest.approx(expected)
    assert drawn[order.index("t1"), 0] == pytest.approx(2.0), "negative values are clipped to the floor, 100"
    y = pd.concat([data.y_train, data.y_test]).astype(str)
    colours = class_colors(("A", "B"))
    assert hexes(p.get_facecolor() for p in boxes) == [colours[c] for c in y.loc[order]]


def test_pca_draws_each_sample_at_its_scores_filled_for_training_hollow_for_test(golub) -> None:
    from leukemia.eda import pca_projection
    from leukemia.plotting import plot_pca

    projection = pca_projection(golub)
    scores = projection.scores
    fig = plot_pca(projection)
    collections = fig.axes[0].collections
    assert len(collections) == 4
    colours = class_colors(golub.classes)
    groups = [(c, s) for c in golub.classes for s in ("train", "test")]
    for collection, (cls, split) in zip(collections, groups, strict=True):
        part = scores[(scores["cancer"].astype(str) == cls) & (scores["split"] == split)]
        assert offsets(collection) == pytest.approx(part[["PC1", "PC2"]].to_numpy()), (cls, split)
        assert hexes(collection.get_edgecolor()) == [colours[cls]]
        face = collection.get_facecolor()
        assert (hexes(face) == [colours[cls]]) if split == "train" else (len(face) == 0 or face[0][3] == 0)


def test_heatmap_cells_are_the_genes_z_scores_over_class_ordered_samples(golub) -> None:
    from leukemia.eda import top_class_genes
    from leukemia.plotting import plot_gene_heatmap

    genes = top_class_genes(golub.X_train, golub.y_train, 6)
    fig = plot_gene_heatmap(golub.X_train, golub.y_train, genes, golub.probes, title="t")
    mesh = next(c for c in fig.axes[1].collections if isinstance(c, QuadMesh))
    order = golub.y_train.sort_values(kind="stable").index
    block = golub.X_train.loc[order, genes].to_numpy().T
    z = (block - block.mean(axis=1, keepdims=True)) / block.std(axis=1, keepdims=True)
    drawn = np.asarray(mesh.get_array()).reshape(len(genes), len(order))
    assert drawn == pytest.approx(np.clip(z, -3, 3)), "rows are genes in order, columns samples by class"
    assert [t.get_text() for t in fig.axes[1].get_xticklabels()] == [str(p) for p in order]


# ---------------------------------------------------------------------------------------- preprocessing


def test_dudoit_figure_places_each_gene_at_its_clipped_fold_and_range(golub) -> None:
    from leukemia.plotting import plot_dudoit_filter
    from leukemia.preprocessing import DudoitFilter

    fitted = DudoitFilter().fit(golub.X_train)
    fig = plot_dudoit_filter(golub.X_train, fitted)
    ax = fig.axes[0]
    clipped = np.clip(golub.X_train.to_numpy(dtype=float), 100, 16000)
    high, low = clipped.max(axis=0), clipped.min(axis=0)
    dropped, kept = ax.collections
    for collection, mask in ((dropped, ~fitted.support_), (kept, fitted.support_)):
        assert offsets(collection) == pytest.approx(
            np.column_stack([high[mask] / low[mask], (high - low)[mask]])
        )
    assert offsets(kept)[:, 0].min() > 5 and offsets(kept)[:, 1].min() > 500, (
        "kept genes pass both thresholds"
    )
    lines = {(tuple(line.get_xdata()), tuple(line.get_ydata())) for line in ax.lines}
    assert ((5, 5), (0, 1)) in lines and ((0, 1), (500, 500)) in lines, "the thresholds, dashed"


def test_value_distributions_count_every_training_value_before_and_after() -> None:
    from leukemia.plotting import plot_value_distributions

    rng = np.random.default_rng(0)
    before = pd.DataFrame(rng.normal(1000, 300, (10, 8)))
    after = np.log2(before.clip(lower=100)).iloc[:, :5]
    fig = plot_value_distributions(before, after, name="log2")
    for ax, frame in zip(fig.axes, (before, after), strict=True):
        counts, edges = np.histogram(frame.to_numpy().ravel(), bins=100)
        assert [p.get_height() for p in ax.patches] == counts.tolist()
        assert ax.patches[0].get_x() == pytest.approx(edges[0])
    assert [ax.get_title() for ax in fig.axes] == ["Before: 8 genes", "After: 5 genes"]


# -------------------------------------------------------------------------------------- gene selection


def test_vst_figure_draws_each_genes_dispersion_the_trend_and_each_transformations_spread() -> None:
    from leukemia.counts import VST
    from leukemia.plotting import plot_vst
    from leukemia.synthetic import make_count_study

    X, y = make_count_study(400, 24, 10)
    fitted = VST().fit(X, y)
    log_cpm = np.random.default_rng(0).normal(size=(24, int(fitted.support_.sum())))
    vst = fitted.transform(X)
    fig = plot_vst(fitted, log_cpm, vst)
    left, right = fig.axes
    np.testing.assert_allclose(
        offsets(left.collections[0]), np.column_stack([fitted.means_, fitted.dispersions_])
    )
    assert fitted.trend_ is not None
    trend = left.lines[0].get_xydata()
    np.testing.assert_allclose(trend[:, 1], fitted.trend_[0] + fitted.trend_[1] / trend[:, 0])
    assert trend[0, 0] == pytest.approx(fitted.means_.min()) and trend[-1, 0] == pytest.approx(
        fitted.means_.max()
    )
    for collection, values in zip(right.collections, (log_cpm, vst), strict=True):
        np.testing.assert_allclose(
            offsets(collection), np.column_stack([fitted.means_, values.std(axis=0, ddof=1)])
        )
    edges = np.geomspace(fitted.means_.min(), fitted.means_.max() * (1 + 1e-9), 13)
    first = fitted.means_ < edges[1]  # the genes of the lowest bin: the lines' first points
    for line, values in zip(right.lines, (log_cpm, vst), strict=True):
        assert line.get_xydata()[0, 1] == pytest.approx(np.median(values.std(axis=0, ddof=1)[first]))
    fitted.trend_ = None
    flat = plot_vst(fitted, log_cpm, vst).axes[0].lines[0].get_ydata()
    assert np.allclose(flat, fitted.mean_dispersion_), "no trend: the mean dispersion, level"


def test_selector_scores_put_each_gene_in_its_group_at_its_scores() -> None:
    from leukemia.plotting import plot_selector_scores

    table = pd.DataFrame(
        {
            "snr": [-1.2, 0.1, 0.9, 1.5, -0.3],
            "f_score": [30.0, 1.0, 12.0, 40.0, 20.0],
            "f_test": [True, False, False, True, True],
            "signal_to_noise": [True, False, True, True, False],
            "higher_in": ["A", "B", "B", "B", "A"],
        }
    )
    fig = plot_selector_scores(table)
    ax = fig.axes[0]
    neither, f_only, snr_only, both = ax.collections
    assert offsets(neither).tolist() == [[0.1, 1.0]]
    assert offsets(f_only).tolist() == [[-0.3, 20.0]]
    assert offsets(snr_only).tolist() == [[0.9, 12.0]]
    assert offsets(both).tolist() == [[-1.2, 30.0], [1.5, 40.0]]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "neither (1)", "F-test only (1)", "signal-to-noise only (1)", "both (2)",
    ]  # fmt: skip
    assert "< 0: higher in A, > 0: higher in B" in ax.get_xlabel()


# ---------------------------------------------------------------------------------- comparing models


def model_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model": ["b", "a", "c"],
            "accuracy": [0.70, 0.90, 0.80],
            "ci_low": [0.50, 0.75, 0.62],
            "ci_high": [0.85, 0.98, 0.93],
            "train_accuracy": [1.0, 0.95, 0.9],
            "cv_accuracy": [0.6, 0.97, 0.8],
            "cv_std": [0.1, 0.05, 0.25],
        }
    )


def test_train_cv_test_draws_three_accuracies_per_model_with_cut_spreads() -> None:
    from leukemia.plotting import plot_train_cv_test

    fig = plot_train_cv_test(model_table())
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b", "c", "a"], (
        "lowest test accuracy at the bottom"
    )
    assert offsets(ax.collections[0]) == pytest.approx(np.array([[1.0, 0.2], [0.9, 1.2], [0.95, 2.2]]))
    cv = next(line for line in ax.lines if line.get_marker() == "^")
    test = next(line for line in ax.lines if line.get_marker() == "o")
    assert cv.get_xydata() == pytest.approx(np.array([[0.6, 0], [0.8, 1], [0.97, 2]]))
    assert test.get_xydata() == pytest.approx(np.array([[0.7, -0.2], [0.8, 0.8], [0.9, 1.8]]))
    ends = horizontal_ends(ax)
    assert ends == pytest.approx(
        np.array(
            [
                (-0.2, 0.5, 0.85),
                (0, 0.5, 0.7),
                (0.8, 0.62, 0.93),
                (1, 0.55, 1.0),
                (1.8, 0.75, 0.98),
                (2, 0.92, 1.0),
            ]
        )
    ), "test CIs as given; CV mean ± SD, cut at 1"


def test_error_grid_cells_are_the_models_errors_most_shared_first() -> None:
    from leukemia.plotting import plot_error_grid

    wrong = pd.DataFrame(
        {"m1": [True, False, True], "m2": [False, False, True], "m3": [True, True, True]}, index=[7, 3, 9]
    )
    errors = pd.concat([pd.Series(["A", "B", "A"], index=wrong.index, name="class"), wrong], axis=1)
    errors["n_models_wrong"] = wrong.sum(axis=1)
    fig = plot_error_grid(errors)
    ax = fig.axes[0]
    mesh = next(c for c in ax.collections if isinstance(c, QuadMesh))
    drawn = np.asarray(mesh.get_array()).reshape(3, 3)
    assert drawn.tolist() == [[1, 1, 1], [1, 0, 1], [0, 0, 1]], "rows: patients 9, 7, 3; columns m1..m3"
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "9 (A, 3 wrong)",
        "7 (A, 2 wrong)",
        "3 (B, 1 wrong)",
    ]


def test_mcnemar_annotates_each_pair_once_with_its_p_value() -> None:
    from leukemia.plotting import plot_mcnemar

    names = ["a", "b", "c"]
    matrix = pd.DataFrame(
        [[1.0, 0.25, 0.031], [0.25, 1.0, 0.5], [0.031, 0.5, 1.0]], index=names, columns=names
    )
    fig = plot_mcnemar(matrix)
    cells = [(t.get_text(), *t.get_position()) for t in fig.axes[0].texts]  # (text, column, row) centres
    assert cells == [("0.25", 0.5, 1.5), ("0.03", 0.5, 2.5), ("0.50", 1.5, 2.5)], "(b,a), (c,a), (c,b)"


def test_learning_curves_draw_each_models_means_and_spreads() -> None:
    from leukemia.plotting import plot_learning_curves

    rows = []
    for model, shift in (("m1", 0.0), ("m2", -0.1)):
        for n, train, cv in ((10, 1.0, 0.7), (20, 0.98, 0.8), (30, 0.97, 0.85)):
            rows += [
                {"model": model, "set": "training", "n_train": n, "mean": train + shift, "std": 0.01},
                {"model": model, "set": "cross-validation", "n_train": n, "mean": cv + shift, "std": 0.05},
            ]
    curves = pd.DataFrame(rows)
    fig = plot_learning_curves(curves)
    assert [ax.get_title() for ax in fig.axes] == ["m1", "m2"]
    for ax, shift in zip(fig.axes, (0.0, -0.1), strict=True):
        training, cv = ax.lines
        assert training.get_xydata() == pytest.approx(
            np.array([[10, 1.0], [20, 0.98], [30, 0.97]]) + np.array([0, shift])
        )
        assert cv.get_xydata() == pytest.approx(
            np.array([[10, 0.7], [20, 0.8], [30, 0.85]]) + np.array([0, shift])
        )
        band = ax.collections[1].get_paths()[0].vertices[:, 1]
        assert band.min() == pytest.approx(0.65 + shift) and band.max() == pytest.approx(0.9 + shift)


# ---------------------------------------------------------------------------------------- Golub's method


def test_neighbourhood_draws_observed_and_permutation_curves_per_class() -> None:
    from leukemia.plotting import plot_neighbourhood

    radii = [0.5, 1.0, 1.5]
    table = pd.concat(
        [
            pd.DataFrame(
                {"side": side, "radius": radii, "observed": obs, "null median": [20, 5, 1],
                 "null 95th pct (5% level)": [40, 10, 2], "null 99th pct (1% level)": [60, 15, 3]}
            )
            for side, obs in (("ALL", [300, 120, 30]), ("AML", [500, 200, 50]))
        ]
    )  # fmt: skip
    fig = plot_neighbourhood(table)
    colours = class_colors(("ALL", "AML"))
    for ax, side, obs in zip(fig.axes, ("ALL", "AML"), ([300, 120, 30], [500, 200, 50]), strict=True):
        observed, one, five, median = ax.lines
        assert observed.get_xydata().tolist() == [[r, o] for r, o in zip(radii, obs, strict=True)]
        assert list(one.get_ydata()) == [60, 15, 3] and list(five.get_ydata()) == [40, 10, 2]
        assert list(median.get_ydata()) == [20, 5, 1]
        assert [line.get_label() for line in (one, five)] == [
            "null 99th pct (1% level)", "null 95th pct (5% level)",
        ], "the legend names the percentiles of the permutation null"  # fmt: skip
        assert to_hex(observed.get_color()) == colours[side]


def test_prediction_strength_bars_point_towards_the_call_and_mark_wrong_ones() -> None:
    from leukemia.plotting import plot_prediction_strength

    index = pd.Index([11, 12, 13, 14, 15])
    strength = pd.Series([0.8, 0.1, 0.5, 0.3, 0.9], index=index)
    predicted = pd.Series(["B", "A", "A", "B", "A"], index=index)
    truth = pd.Series(pd.Categorical(["B", "A", "B", "B", "A"], categories=["A", "B"]), index=index)
    fig = plot_prediction_strength(strength, predicted, truth, threshold=0.2, title="t")
    ax = fig.axes[0]
    bars = list(ax.containers[0])
    assert [b.get_width() for b in bars] == [-0.9, -0.5, -0.1, 0.3, 0.8], (
        "A calls left, B calls right, sorted"
    )
    assert [t.get_text() for t in ax.get_yticklabels()] == ["15", "13", "12", "14", "11"]
    colours = class_colors(("A", "B"))
    assert hexes(b.get_facecolor() for b in bars) == [colours[c] for c in "ABABB"], (
        "coloured by the true class"
    )
    assert [b.get_hatch() for b in bars] == [None, "///", None, None, None], "patient 13 is a wrong call"
    band = next(p for p in ax.patches if p not in bars and p.get_width() > 0)
    assert (band.get_x(), band.get_x() + band.get_width()) == pytest.approx((-0.2, 0.2))


def test_prediction_strength_of_many_samples_counts_right_calls_per_class_and_bin() -> None:
    from leukemia.plotting import MANY_SAMPLES, plot_prediction_strength

    rng = np.random.default_rng(1)
    n = MANY_SAMPLES + 40
    truth = pd.Series(pd.Categorical(rng.choice(["A", "B"], n), categories=["A", "B"]))
    predicted = truth.astype(str).where(rng.random(n) < 0.85, "X").replace("X", None)
    predicted = predicted.fillna(truth.map({"A": "B", "B": "A"}).astype(str))
    strength = pd.Series(rng.random(n))
    fig = plot_prediction_strength(strength, predicted, truth, threshold=0.3, title="t")
    ax = fig.axes[0]
    signed = np.where(predicted == "B", strength, -strength)
    right = (predicted == truth.astype(str)).to_numpy()
    bins = np.linspace(-1, 1, 41)
    for container, cls in zip(ax.containers, ("A", "B"), strict=True):
        expected = np.histogram(signed[right & (truth == cls).to_numpy()], bins)[0]
        assert [b.get_height() for b in container] == expected.tolist(), cls
    assert "wrong calls" in [t.get_text() for t in ax.get_legend().get_texts()]


# --------------------------------------------------------------------------------------- honest protocol


def test_selection_bias_puts_one_point_per_permutation_in_each_row() -> None:
    from leukemia.plotting import plot_selection_bias

    result = pd.DataFrame({"before CV": [0.9, 0.8, 0.85], "inside CV": [0.5, 0.4, 0.55]})
    fig = plot_selection_bias(result, chance=1 / 3)
    ax = fig.axes[0]
    points = np.vstack([offsets(c) for c in ax.collections if len(c.get_offsets())])
    rows = {round(y): [] for y in points[:, 1]}
    for x, y in points:
        rows[round(y)].append(x)
    assert {k: sorted(v) for k, v in rows.items()} == {0: [0.8, 0.85, 0.9], 1: [0.4, 0.5, 0.55]}
    assert [line.get_xdata()[0] for line in ax.lines] == [pytest.approx(1 / 3)], "chance, 1/K"


def test_nested_vs_test_draws_folds_the_pooled_estimate_and_the_test_set() -> None:
    from leukemia.plotting import plot_nested_vs_test
    from leukemia.stats import clopper_pearson

    nested = pd.DataFrame({"n_test": [8, 8, 7], "n_correct": [6, 8, 7], "accuracy": [0.75, 1.0, 1.0]})
    fig = plot_nested_vs_test(nested, 0.9, (0.76, 0.98))
    ax = fig.axes[0]
    folds = ax.collections[0]
    assert offsets(folds)[:, 0].tolist() == [0.75, 1.0, 1.0]
    assert folds.get_sizes().tolist() == [96, 96, 84], "sized by held-out samples"
    pooled = next(line for line in ax.lines if line.get_marker() == "D")
    test = next(line for line in ax.lines if line.get_marker() == "o")
    assert pooled.get_xydata().tolist() == [[pytest.approx(21 / 23), 0]], "pooled: 21 of 23 correct"
    assert test.get_xydata().tolist() == [[0.9, 1]]
    nested_bar, test_bar = horizontal_ends(ax)
    assert nested_bar == pytest.approx(np.array([0, *clopper_pearson(21, 23)])), "the pooled exact interval"
    assert test_bar == pytest.approx(np.array([1, 0.76, 0.98]))


def test_protocol_summary_draws_each_accuracy_and_interval_and_the_floor() -> None:
    from leukemia.plotting import plot_protocol_summary

    summary = pd.DataFrame(
        {
            "chosen_on": ["fixed in advance", "the test set (optimistic)"],
            "n_correct": [28, 31], "n_test": [34, 34], "accuracy": [28 / 34, 31 / 34],
            "ci_low": [0.65, 0.76], "ci_high": [0.93, 0.98],
        },
        index=["first", "second"],
    )  # fmt: skip
    fig = plot_protocol_summary(summary, floor=20 / 34)
    ax = fig.axes[0]
    points = sorted(
        (float(y), float(x)) for line in ax.lines if line.get_marker() == "o" for x, y in line.get_xydata()
    )
    assert points == [(0, pytest.approx(31 / 34)), (1, pytest.approx(28 / 34))], "first row at the top"
    assert horizontal_ends(ax) == pytest.approx(np.array([(0, 0.76, 0.98), (1, 0.65, 0.93)]))
    floor = [line for line in ax.lines if line.get_linestyle() == "--"]
    assert [line.get_xdata()[0] for line in floor] == [pytest.approx(20 / 34)]


# ------------------------------------------------------------------------------------------- discovery


def test_cluster_composition_stacks_each_clusters_classes_in_their_colours() -> None:
    from leukemia.plotting import plot_cluster_composition

    table = pd.DataFrame(
        {"B": [24, 3, 0], "T": [1, 10, 0], "AML": [2, 0, 5]}, index=pd.Index([0, 1, 2], name="cluster")
    )
    fig = plot_cluster_composition({"k-means": table})
    ax = fig.axes[0]
    colours = class_colors(("B", "T", "AML"))
    left = np.zeros(3)
    for container, cls in zip(ax.containers, table.columns, strict=True):
        assert [b.get_width() for b in container] == table[cls].tolist(), cls
        assert [b.get_x() for b in container] == left.tolist(), f"{cls} starts where the classes before end"
        assert set(hexes(b.get_facecolor() for b in container)) == {colours[cls]}
        left += table[cls]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["cluster 0", "cluster 1", "cluster 2"]


def test_discovery_checks_draw_the_nulls_the_observed_values_and_the_subsample_runs() -> None:
    from leukemia.discovery import NullComparison
    from leukemia.plotting import plot_discovery_checks

    silhouettes = np.array([0.01, np.nan, 0.03, 0.02])
    aris = np.array([0.1, -0.05, 0.0, 0.2])
    nulls = {
        "som": NullComparison("som", 2, 0.11, silhouettes, 1 / 5, 0.7, aris, 1 / 5),
        "k-means": NullComparison("k-means", 2, 0.02, silhouettes, 3 / 5, 0.1, aris, 3 / 5),
    }
    stability = {
        "som": pd.DataFrame({"run": range(3), "ari_with_full": [1.0, 0.9, 0.8]}),
        "k-means": pd.DataFrame({"run": range(3), "ari_with_full": [0.5, 0.6, 0.4]}),
    }
    fig = plot_discovery_checks(nulls, stability)
    structure, agreement, stable = fig.axes
    null, observed = structure.collections[2:4]  # the second method, k-means, on row 1
    assert offsets(null)[:, 0].tolist() == [0.01, 0.03, 0.02], "an undefined null silhouette is left out"
    assert offsets(observed).tolist() == [[0.02, 1]]
    assert offsets(agreement.collections[1]).tolist() == [[0.7, 0]]
    assert offsets(stable.collections[1])[:, 0].tolist() == [0.5, 0.6, 0.4]
    assert np.allclose(offsets(stable.collections[1])[:, 1].mean(), 1)


# -------------------------------------------------------------------------------------------- sweeps


def test_sweep_draws_one_figure_per_setting_and_each_models_accuracies_in_order() -> None:
    from leukemia.plotting import plot_sweep

    rows = []
    for scaling in ("minmax", "standard"):
        for k, accuracy in ((50, 0.8), (10, 0.9), (200, 0.7)):
            for model, delta in (("m1", 0.0), ("m2", -0.05)):
                acc = accuracy + delta + (0.02 if scaling == "standard" else 0)
                rows.append(
                    {"K": k, "SCALING": scaling, "model": model, "protocol": "seed", "accuracy": acc,
                     "ci_low": acc - 0.1, "ci_high": min(1.0, acc + 0.1), "n_test": 34}
                )  # fmt: skip
    figures = plot_sweep(pd.DataFrame(rows), ["K", "SCALING"])
    assert [f.axes[0].get_title() for f in figures] == [
        "Independent-set accuracy (95% CI) against K (SCALING=minmax)",
        "Independent-set accuracy (95% CI) against K (SCALING=standard)",
    ]
    for fig, bump in zip(figures, (0.0, 0.02), strict=True):
        m1, m2 = (line for line in fig.axes[0].lines if line.get_marker() == "o")
        assert m1.get_ydata() == pytest.approx([0.9 + bump, 0.8 + bump, 0.7 + bump]), "k = 10, 50, 200"
        assert m2.get_ydata() == pytest.approx([0.85 + bump, 0.75 + bump, 0.65 + bump])
        assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["10", "50", "200"]

"""leukemia.plotting: every figure is drawn, titled and labelled."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from leukemia.data import GolubData
from leukemia.eda import intensity_summary, pca_projection, top_class_genes
from leukemia.plotting import (
    CLASS_COLORS,
    plot_class_counts,
    plot_dudoit_filter,
    plot_gene_heatmap,
    plot_intensity_counts,
    plot_pca,
    plot_sample_distributions,
    plot_value_distributions,
    set_style,
)
from leukemia.preprocessing import DudoitFilter


def labelled(fig: plt.Figure) -> bool:
    """A title somewhere, and every axes that carries a data x label also carries a y label."""
    data_axes = [ax for ax in fig.axes if ax.get_xlabel()]
    titled = bool(fig._suptitle) or any(ax.get_title() for ax in fig.axes)
    return bool(data_axes) and titled and all(ax.get_ylabel() for ax in data_axes)


def bar_ends(fig: plt.Figure) -> list[float]:
    """The x coordinates of every error bar's ends in the first axes."""
    from matplotlib.collections import LineCollection

    collections = [c for c in fig.axes[0].collections if isinstance(c, LineCollection)]
    return [float(x) for c in collections for segment in c.get_segments() for x, _ in segment]


pytestmark = pytest.mark.usefixtures("close_figures")


def test_class_counts_bars(golub: GolubData) -> None:
    fig = plot_class_counts(golub)
    heights = sorted(p.get_height() for p in fig.axes[0].patches if p.get_height() > 0)
    assert heights == [11, 14, 20, 27]
    assert labelled(fig)


def test_intensity_and_sample_figures(golub: GolubData) -> None:
    import pandas as pd

    summary = pd.concat([intensity_summary(golub.X_train), intensity_summary(golub.X_test)])
    fig = plot_intensity_counts(summary, golub)
    assert len(fig.axes[0].get_xticklabels()) == 72
    assert labelled(fig)
    fig = plot_sample_distributions(golub)
    assert len(fig.axes[0].get_xticklabels()) == 72
    assert labelled(fig)


def test_pca_figure_uses_class_colours(golub: GolubData) -> None:
    fig = plot_pca(pca_projection(golub))
    edge = {tuple(c.get_edgecolor()[0][:3]) for c in fig.axes[0].collections}
    expected = {tuple(int(h[i : i + 2], 16) / 255 for i in (1, 3, 5)) for h in CLASS_COLORS.values()}
    assert {tuple(round(v, 3) for v in e) for e in edge} == {tuple(round(v, 3) for v in e) for e in expected}
    assert "PC1 (" in fig.axes[0].get_xlabel()
    assert labelled(fig)


def test_heatmap_rows_and_columns(golub: GolubData) -> None:
    genes = top_class_genes(golub.X_train, golub.y_train, 6)
    fig = plot_gene_heatmap(golub.X_train, golub.y_train, genes, golub.probes, title="t")
    heat = fig.axes[1]
    assert len(heat.get_yticklabels()) == 6
    assert [t.get_text() for t in heat.get_xticklabels()][:3] == ["1", "2", "3"]
    assert labelled(fig)


@pytest.mark.parametrize("n_genes", [6, 50])
def test_heatmap_class_strip_lines_up_with_the_columns(golub: GolubData, n_genes: int) -> None:
    """The strip spans the heatmap's width and changes colour at the first column of the second class."""
    genes = top_class_genes(golub.X_train, golub.y_train, n_genes)
    fig = plot_gene_heatmap(golub.X_train, golub.y_train, genes, golub.probes, title="t")
    fig.canvas.draw()
    strip, heat = fig.axes[0], fig.axes[1]
    strip_box, heat_box = strip.get_window_extent(), heat.get_window_extent()
    assert strip_box.x0 == pytest.approx(heat_box.x0, abs=0.5) and strip_box.x1 == pytest.approx(
        heat_box.x1, abs=0.5
    )
    assert strip.get_xlim() == heat.get_xlim()

    order = golub.y_train.sort_values(kind="stable")
    first_aml = int((order == "ALL").sum())  # column index of the first AML patient (27: patient 28)
    assert heat.get_xticklabels()[first_aml].get_text() == str(order.index[first_aml])
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3] / 255
    height = pixels.shape[0]
    y_strip = height - int((strip_box.y0 + strip_box.y1) / 2)  # buffer rows run top to bottom
    column = heat_box.width / len(order)

    def colour_at(x_data: float) -> tuple[float, ...]:
        x_pixel = heat.transData.transform((x_data, 0))[0]
        return tuple(np.round(pixels[y_strip, int(x_pixel)], 2))

    expected = {
        c: tuple(np.round([int(CLASS_COLORS[c][i : i + 2], 16) / 255 for i in (1, 3, 5)], 2))
        for c in CLASS_COLORS
    }
    assert colour_at(first_aml - 0.25) == expected["ALL"], "last ALL column"
    assert colour_at(first_aml + 0.25) == expected["AML"], "first AML column"
    assert colour_at(0.5) == expected["ALL"] and colour_at(len(order) - 0.5) == expected["AML"]
    assert column > 4, "columns wide enough for the quarter-column probes above"


def test_set_style_ignores_the_users_matplotlibrc() -> None:
    import matplotlib

    set_style()
    ours = dict(matplotlib.rcParams)
    matplotlib.rcParams.update(
        {"font.size": 30, "axes.grid": False, "figure.figsize": (2, 2), "lines.linewidth": 9}
    )
    set_style()
    changed = {k for k, v in ours.items() if matplotlib.rcParams[k] != v}
    assert changed == set(), changed


def test_filter_and_distribution_figures(golub: GolubData) -> None:
    fitted = DudoitFilter().fit(golub.X_train)
    fig = plot_dudoit_filter(golub.X_train, fitted)
    assert "kept (3051 genes)" in [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labelled(fig)
    after = fitted.set_output(transform="pandas").transform(golub.X_train)
    fig = plot_value_distributions(golub.X_train, after, name="dudoit")
    assert fig.axes[1].get_title() == "After: 3051 genes"
    assert labelled(fig)


def test_model_comparison_figures(golub: GolubData) -> None:
    from leukemia.evaluate import errors_by_sample, evaluate_models, learning_curves, mcnemar_table
    from leukemia.models import MODEL_LABELS, SEED_REPORTED_ACCURACY
    from leukemia.plotting import (
        plot_accuracy_ci,
        plot_confusion_matrices,
        plot_error_grid,
        plot_learning_curves,
        plot_mcnemar,
        plot_train_cv_test,
    )

    evaluation = evaluate_models(golub, models=["knn", "rbf_svm", "naive_bayes"], cv_folds=3)
    fig = plot_accuracy_ci(evaluation.table, reference=SEED_REPORTED_ACCURACY, baseline=("ALL", 20 / 34))
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()][-1] == "rbf_svm"  # best on top
    assert labelled(fig)
    fig = plot_confusion_matrices(evaluation.predictions, evaluation.y_test, labels=MODEL_LABELS)
    assert sum(ax.get_visible() for ax in fig.axes) == 3
    assert fig.axes[0].get_title() == "k-NN (k=5)"
    counts = [int(t.get_text()) for t in fig.axes[1].texts]
    assert sum(counts) == 34
    assert labelled(fig)
    errors = errors_by_sample(evaluation)
    assert len(plot_error_grid(errors).axes[0].get_yticklabels()) == len(errors)
    fig = plot_train_cv_test(evaluation.table)
    assert labelled(fig)
    ends = bar_ends(fig)
    assert ends and 0 <= min(ends) and max(ends) <= 1.0, "the SD bars are cut at 0 and 1"
    assert labelled(plot_mcnemar(mcnemar_table(evaluation)))
    curves = learning_curves(golub, ["knn"], train_sizes=(0.6, 1.0), cv_folds=3)
    assert labelled(plot_learning_curves(curves))


def test_selector_scores_figure(golub: GolubData) -> None:
    from leukemia.plotting import plot_selector_scores
    from leukemia.select import compare_selectors

    fig = plot_selector_scores(compare_selectors(golub.X_train, golub.y_train, 50))
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend[-1].startswith("both (") and labelled(fig)


def test_golub_and_honest_figures(golub: GolubData) -> None:
    import pandas as pd

    from leukemia.golub import WeightedVoting, neighbourhood_analysis
    from leukemia.plotting import (
        plot_neighbourhood,
        plot_nested_vs_test,
        plot_prediction_strength,
        plot_selection_bias,
    )

    table = neighbourhood_analysis(golub.X_train, golub.y_train, n_permutations=20, progress=False)
    fig = plot_neighbourhood(table)
    assert [ax.get_title() for ax in fig.axes] == ["Genes higher in ALL", "Genes higher in AML"]
    assert labelled(fig)

    wv = WeightedVoting(50).fit(golub.X_train, golub.y_train)
    signed = pd.Series(wv.decision_function(golub.X_test), index=golub.X_test.index)
    called = pd.Series(wv.predict(golub.X_test), index=golub.X_test.index)
    fig = plot_prediction_strength(signed.abs(), called, golub.y_test, threshold=0.3, title="t")
    bars = fig.axes[0].patches
    assert sum(1 for bar in bars if bar.get_hatch() == "///") == int((called != golub.y_test).sum())
    assert labelled(fig)

    bias = pd.DataFrame({"genes chosen before CV": [0.9, 0.8], "genes chosen inside CV": [0.5, 0.4]})
    assert labelled(plot_selection_bias(bias))
    nested = pd.DataFrame({"n_test": [8, 8, 8], "n_correct": [6, 8, 7], "accuracy": [0.75, 1.0, 0.875]})
    fig = plot_nested_vs_test(nested, 0.9, (0.76, 0.98))
    assert labelled(fig)
    ends = bar_ends(fig)
    assert len(ends) == 4 and max(ends) <= 1.0, "two intervals, and no accuracy bar runs past 1"


def test_class_colours_stay_distinct_for_many_classes() -> None:
    from matplotlib.colors import to_rgb

    from leukemia.plotting import PALETTE, class_colors

    assert list(class_colors(["a", "b", "c"]).values()) == list(PALETTE[:3])  # Okabe–Ito up to eight
    for n in (9, 12, 18, 23):
        colours = class_colors([f"class {i}" for i in range(n)])
        assert len(set(colours.values())) == n, n
        rgb = np.array([to_rgb(c) for c in colours.values()])
        closest = min(np.abs(a - b).sum() for i, a in enumerate(rgb) for b in rgb[i + 1 :])
        assert closest > 0.1, f"{n} classes: two colours nearly equal"
    with pytest.warns(UserWarning, match="30 classes: only 23 colours"):
        class_colors([str(i) for i in range(30)])


def test_k_class_figures() -> None:
    import pandas as pd

    from leukemia.golub import WeightedVoting, calls_from_decision, neighbourhood_analysis
    from leukemia.plotting import plot_confusion_matrices, plot_neighbourhood, plot_prediction_strength

    rng = np.random.default_rng(0)
    classes = ["N", "B", "T1", "T2", "T3"]
    y = pd.Series(pd.Categorical(np.repeat(classes, 8), categories=classes, ordered=True), name="class")
    X = pd.DataFrame(rng.normal(size=(40, 30)), columns=[f"g{i}" for i in range(30)])
    for c, name in enumerate(classes):
        X.loc[(y == name).to_numpy(), [f"g{2 * c}", f"g{2 * c + 1}"]] += 3
    table = neighbourhood_analysis(X, y, n_permutations=20, radii=np.array([0.5, 1.0]), progress=False)
    fig = plot_neighbourhood(table)
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles == [f"Genes higher in {c} than in the rest" for c in sorted(classes)] and labelled(fig)

    wv = WeightedVoting(k=4).fit(X, y.astype(str))
    called, strength = calls_from_decision(wv.decision_function(X), wv.classes_)
    called = pd.Series(called, index=X.index)
    called.iloc[0] = "B"  # one wrong call
    fig = plot_prediction_strength(pd.Series(strength, index=X.index), called, y, threshold=0.3, title="t")
    bars = list(fig.axes[0].containers[0])
    assert len(bars) == 40 and sum(bar.get_hatch() == "///" for bar in bars) == int(
        (called != y.astype(str)).sum()
    )
    assert min(bar.get_x() for bar in bars) >= 0 and labelled(fig)  # strengths in [0, 1], no sign
    assert {t.get_text() for t in fig.axes[0].texts} == {f"called {c}" for c in classes}

    predictions = pd.DataFrame({"a": called, "b": y.astype(str)}, index=X.index)
    fig = plot_confusion_matrices(predictions, y)
    assert [len(ax.get_xticklabels()) for ax in fig.axes[:2]] == [5, 5]


def test_course_figures() -> None:
    """The summary figure, and the two figures of class discovery (notebook 10)."""
    import matplotlib
    import pandas as pd

    from leukemia.discovery import METHODS, NullComparison
    from leukemia.plotting import (
        CHOICE_COLORS,
        plot_cluster_composition,
        plot_discovery_checks,
        plot_protocol_summary,
    )

    summary = pd.DataFrame(
        {
            "chosen_on": ["fixed in advance", "the test set (optimistic)", "nested CV (training set)"],
            "n_correct": [28, 31, 33], "n_test": [34, 34, 38], "accuracy": [28 / 34, 31 / 34, 33 / 38],
            "ci_low": [0.65, 0.76, 0.72], "ci_high": [0.93, 0.98, 0.96],
        },
        index=pd.Index(["a", "b", "c"], name="what"),
    )  # fmt: skip
    fig = plot_protocol_summary(summary, floor=0.59)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["c", "b", "a"], "first row on top"
    assert {t.get_text() for t in ax.texts} == {"28/34", "31/34", "33/38"}
    colours = {
        matplotlib.colors.to_hex(line.get_color()) for line in ax.get_lines() if line.get_marker() in "oD"
    }
    assert colours == {CHOICE_COLORS[c].lower() for c in summary["chosen_on"]}
    assert labelled(fig)

    table = pd.DataFrame({"ALL": [24, 3], "AML": [0, 11]}, index=pd.Index([0, 1], name="cluster"))
    fig = plot_cluster_composition({m: table for m in METHODS})
    assert [ax.get_title() for ax in fig.axes] == list(METHODS)
    assert sum(bar.get_width() for bar in fig.axes[0].patches) == 38, "every sample in one bar segment"

    rng = np.random.default_rng(0)
    null = NullComparison(
        "som", 2, 0.11, rng.uniform(0, 0.02, 20), 1 / 21, 0.7, rng.uniform(-0.1, 0.2, 20), 1 / 21
    )
    stability = pd.DataFrame({"run": range(5), "ari_with_full": [1.0, 0.9, 0.8, 1.0, 0.7]})
    fig = plot_discovery_checks({"som": null}, {"som": stability})
    assert [ax.get_title() for ax in fig.axes] == [
        "silhouette",
        "agreement with the classes",
        "stability on 80% subsamples",
    ]
    assert all(ax.get_xlabel() for ax in fig.axes)


def test_figures_of_a_study_summarise_its_samples_instead_of_drawing_each() -> None:
    """2,000 samples: no sample names under the heatmap, a capped error grid, a histogram of strengths."""
    import pandas as pd

    from leukemia.plotting import MANY_SAMPLES, plot_error_grid, plot_prediction_strength
    from leukemia.synthetic import make_study

    X, y = make_study(60, 600, 3, n_informative=30)
    genes = X.columns[:20]
    probes = pd.DataFrame({"description": ""}, index=X.columns)
    fig = plot_gene_heatmap(X, y, genes, probes, title="study")
    heatmap = fig.axes[1]
    assert heatmap.get_xticklabels() == [] and "600 samples" in heatmap.get_xlabel()
    assert labelled(fig)

    rng = np.random.default_rng(0)
    wrong = pd.DataFrame(rng.random((150, 3)) < 0.4, columns=["a", "b", "c"], index=X.index[:150])
    errors = pd.concat([y[:150].rename("class"), wrong, wrong.sum(axis=1).rename("n_models_wrong")], axis=1)
    fig = plot_error_grid(errors.sort_values("n_models_wrong", ascending=False), max_rows=40)
    assert len(fig.axes[0].get_yticklabels()) == 40
    assert "The 40 of 150 misclassified" in fig.axes[0].get_title()
    assert all(
        "3 wrong" in t.get_text()
        for t in fig.axes[0].get_yticklabels()[: int((errors.n_models_wrong == 3).sum())]
    )

    strength = pd.Series(rng.random(len(y)), index=y.index)
    predicted = y.where(rng.random(len(y)) < 0.9, "C01")
    fig = plot_prediction_strength(strength, predicted, y, threshold=0.3, title="calls")
    assert fig.get_size_inches()[1] < 5, "a histogram, not a bar per sample"
    counted = sum(
        p.get_height() for p in fig.axes[0].patches if p.get_facecolor()[3] > 0 and p.get_height() > 0
    )
    assert counted >= (predicted == y).sum(), "every right call is counted in a bin"
    assert f"{len(y)} samples" in fig.axes[0].get_title() and len(y) > MANY_SAMPLES


# ------------------------------------------------------------- what the figures draw, not only their labels


def test_accuracy_figure_draws_each_models_accuracy_and_interval_in_order() -> None:
    """Points at the accuracies, error bars from ci_low to ci_high, models bottom to top by accuracy."""
    import pandas as pd

    from leukemia.plotting import plot_accuracy_ci

    table = pd.DataFrame(
        {
            "model": ["b", "a", "c"],
            "accuracy": [0.70, 0.90, 0.80],
            "ci_low": [0.50, 0.75, 0.62],
            "ci_high": [0.85, 0.98, 0.93],
            "n_test": [30, 30, 30],
        }
    )
    fig = plot_accuracy_ci(table, baseline=("X", 0.6))
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b", "c", "a"], "lowest accuracy at the bottom"
    points = ax.lines[0].get_xydata()
    assert np.allclose(points, [[0.70, 0], [0.80, 1], [0.90, 2]])
    assert sorted(bar_ends(fig)) == sorted([0.50, 0.85, 0.62, 0.93, 0.75, 0.98])
    dashed = [line for line in ax.lines if line.get_linestyle() == "--"]
    assert [tuple(line.get_xdata()) for line in dashed] == [(0.6, 0.6)], "the majority-class baseline"
    assert ax.get_xlim()[0] <= 0.4 and ax.get_xlim()[1] == pytest.approx(1.02)


def test_confusion_matrices_show_scikit_learns_counts_true_by_row() -> None:
    import pandas as pd
    from sklearn.metrics import confusion_matrix

    from leukemia.plotting import plot_confusion_matrices

    truth = pd.Series(["A", "A", "A", "B", "B", "C"])
    predictions = pd.DataFrame({"m1": ["A", "B", "A", "B", "C", "C"], "m2": ["A"] * 6})
    fig = plot_confusion_matrices(predictions, truth)
    for ax, name in zip(fig.axes, predictions.columns, strict=True):
        shown = np.array([int(t.get_text()) for t in ax.texts]).reshape(3, 3)  # seaborn annotates row by row
        expected = confusion_matrix(truth, predictions[name], labels=["A", "B", "C"])
        assert (shown == expected).all(), name
        assert [t.get_text() for t in ax.get_yticklabels()] == ["A", "B", "C"] and ax.get_ylabel() == "true"


def test_class_counts_bars_are_in_each_classs_colour_and_height(golub: GolubData) -> None:
    from matplotlib.colors import to_hex

    fig = plot_class_counts(golub)
    bars = [p for p in fig.axes[0].patches if p.get_height() > 0]
    by_colour: dict[str, list[int]] = {}
    for bar in sorted(bars, key=lambda p: p.get_x()):
        by_colour.setdefault(to_hex(bar.get_facecolor()), []).append(int(bar.get_height()))
    counts = golub.class_counts()
    expected = {
        to_hex(CLASS_COLORS[c]): [int(counts.loc[c, s]) for s in ("train", "test")] for c in golub.classes
    }
    assert by_colour == expected, "training then independent set, one colour per class"


@pytest.mark.parametrize(("outer", "inner"), [(5, 5), (10, 4), (2, 3)])
def test_nested_cv_diagram_draws_each_fold_and_its_held_out_block(outer: int, inner: int) -> None:
    import matplotlib

    from leukemia.plotting import NESTED_CV_COLORS, plot_nested_cv

    fig = plot_nested_cv(outer, inner)
    ax = fig.axes[0]
    blocks: dict[str, list] = {part: [] for part in NESTED_CV_COLORS}
    for patch in ax.patches:
        colour = matplotlib.colors.to_hex(patch.get_facecolor())
        blocks[next(p for p, c in NESTED_CV_COLORS.items() if c.lower() == colour)].append(patch)
    assert len(blocks["outer test"]) == outer and len(blocks["outer train"]) == outer * (outer - 1)
    assert len(blocks["inner test"]) == inner and len(blocks["inner train"]) == inner * (inner - 1)
    # Outer fold r holds out the r-th block; the inner folds split the first outer fold's training part.
    starts = sorted(
        (round(p.get_y() + p.get_height() / 2), round(p.get_x(), 6)) for p in blocks["outer test"]
    )
    assert starts == [(r, round(r / outer, 6)) for r in range(outer)]
    inner_blocks = blocks["inner test"] + blocks["inner train"]
    assert min(p.get_x() for p in inner_blocks) == pytest.approx(1 / outer)
    assert max(p.get_x() + p.get_width() for p in inner_blocks) == pytest.approx(1.0)
    names = [t.get_text() for t in ax.get_yticklabels()]
    assert names == [f"outer fold {r + 1}" for r in range(outer)] + [
        f"inner fold {r + 1}" for r in range(inner)
    ]
    assert labelled(fig)


def test_nested_cv_diagram_needs_two_folds() -> None:
    from leukemia.plotting import plot_nested_cv

    with pytest.raises(ValueError, match="outer_folds=1"):
        plot_nested_cv(1, 5)
    with pytest.raises(ValueError, match="inner_folds=1"):
        plot_nested_cv(5, 1)

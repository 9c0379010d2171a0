"""Figures used by the notebooks: one look, the same class colours everywhere.

Every function returns the :class:`matplotlib.figure.Figure` it drew, titled and with
labelled axes, and leaves showing it to the caller.
"""

from __future__ import annotations

import textwrap
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.colors import ListedColormap
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from leukemia.counts import VST
from leukemia.data import CLASSES
from leukemia.dataset import Dataset, class_order
from leukemia.eda import PCAProjection
from leukemia.golub import NULL_LEVELS, NULL_MEDIAN
from leukemia.preprocessing import DudoitFilter

__all__ = [
    "CLASS_COLORS",
    "MAX_DISTINCT_CLASSES",
    "PALETTE",
    "class_colors",
    "plot_accuracy_ci",
    "plot_class_counts",
    "plot_cluster_composition",
    "plot_confusion_matrices",
    "plot_discovery_checks",
    "plot_dudoit_filter",
    "plot_error_grid",
    "plot_gene_heatmap",
    "plot_intensity_counts",
    "plot_learning_curves",
    "plot_mcnemar",
    "plot_neighbourhood",
    "plot_nested_cv",
    "plot_nested_vs_test",
    "plot_pca",
    "plot_prediction_strength",
    "plot_protocol_summary",
    "plot_sample_distributions",
    "plot_selection_bias",
    "plot_selector_scores",
    "plot_sweep",
    "plot_train_cv_test",
    "plot_value_distributions",
    "set_style",
]

#: Okabe–Ito's colour-blind-safe colours, in the order classes get them (blue, vermillion, …).
PALETTE: tuple[str, ...] = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#CC79A7",
    "#E69F00",
    "#56B4E9",
    "#F0E442",
    "#000000",
)
#: Most classes Paul Tol's discrete rainbow tells apart (his scheme when a qualitative set is too small).
MAX_DISTINCT_CLASSES = 23


#: Above this many samples a figure does not draw or name each sample (a label per sample of 2,000 is
#: unreadable, and a bar or row per sample makes a figure metres tall): it summarises them and says so.
MANY_SAMPLES = 80


def class_colors(classes: tuple[str, ...] | list[str]) -> dict[str, str]:
    """A colour per class, by the class's position: the same classes get the same colours in every figure.

    Up to eight classes: Okabe & Ito's colour-blind-safe set (:data:`PALETTE`). Nine to 23: Paul Tol's
    discrete rainbow with that many colours, which his technical note designs to stay distinct in
    colour-blind vision. Beyond 23 the colours repeat (with a warning).
    """
    names = [str(c) for c in classes]
    if len(names) <= len(PALETTE):
        return {c: PALETTE[i] for i, c in enumerate(names)}
    import warnings

    import tol_colors
    from matplotlib.colors import to_hex

    n = min(len(names), MAX_DISTINCT_CLASSES)
    if len(names) > n:
        warnings.warn(
            f"{len(names)} classes: only {n} colours can be told apart; class colours repeat.", stacklevel=2
        )
    scheme = tol_colors.rainbow_discrete(n)
    colours = [to_hex(scheme(i)) for i in range(n)]
    return {c: colours[i % n] for i, c in enumerate(names)}


#: The Golub data's class colours (ALL blue, AML vermillion).
CLASS_COLORS: dict[str, str] = class_colors(CLASSES)
SPLIT_ORDER = ("train", "test")


def set_style() -> None:
    """Apply the project's plot style: inline figures in a notebook, matplotlib's defaults, seaborn on top.

    In a Jupyter kernel figures are always shown inline, even when ``MPLBACKEND`` (e.g. ``Agg`` on a
    headless server) says otherwise. The style starts from matplotlib's own defaults, so a user's
    ``matplotlibrc`` does not change the figures; then seaborn's whitegrid, readable sizes, a fixed DPI.
    """
    _inline_in_kernel()
    matplotlib.rcdefaults()
    sns.set_theme(style="whitegrid", context="notebook")
    plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100, "figure.autolayout": True})


def _inline_in_kernel() -> None:
    """``%matplotlib inline`` when running in a Jupyter kernel; nothing elsewhere (scripts, tests)."""
    try:
        from IPython import get_ipython
    except ImportError:  # IPython is not installed: not a kernel
        return
    shell = get_ipython()
    if shell is not None and getattr(shell, "kernel", None) is not None:
        shell.run_line_magic("matplotlib", "inline")


def _class_legend(ax: plt.Axes, classes: tuple[str, ...], **kwargs: Any) -> None:
    colors = class_colors(classes)
    handles = [Patch(color=colors[c], label=c) for c in classes]
    ax.legend(handles=handles, title="class", **kwargs)


def plot_class_counts(data: Dataset) -> Figure:
    """Bar chart of patients per class in the training and independent sets."""
    counts = data.class_counts().drop(index="total")[list(SPLIT_ORDER)]
    tidy = counts.reset_index().melt(id_vars="class", var_name="split", value_name="patients")
    fig, ax = plt.subplots(figsize=(5, 3.5))
    sns.barplot(
        tidy,
        x="split",
        y="patients",
        hue="class",
        palette=class_colors(data.classes),
        hue_order=list(data.classes),
        order=list(SPLIT_ORDER),
        saturation=1,  # seaborn would pale the bars: a class has exactly its colour in every figure
        ax=ax,
    )
    for container in ax.containers:
        if isinstance(container, BarContainer):
            ax.bar_label(container)
    ax.set(title="Samples per class and split", xlabel="split", ylabel="samples (count)")
    return fig


def _sample_order(data: Dataset) -> tuple[pd.Index, pd.Series, pd.Series]:
    """Patients ordered by split then class, with their split and class."""
    y = pd.concat([data.y_train, data.y_test])
    split = pd.Series(
        ["train"] * len(data.y_train) + ["test"] * len(data.y_test), index=y.index, name="split"
    )
    key = pd.DataFrame({"split": split.map({"train": 0, "test": 1}), "cls": y, "p": y.index})
    order = pd.Index(key.sort_values(["split", "cls", "p"]).index, name="patient")
    return order, split, y


def plot_intensity_counts(summary: pd.DataFrame, data: Dataset) -> Figure:
    """Per patient, how many of the raw intensities are negative or below the floor."""
    order, split, y = _sample_order(data)
    table = summary.loc[order]
    fig, ax = plt.subplots(figsize=(12, 3.8))
    positions = np.arange(len(order))
    palette = class_colors(data.classes)
    colors = [palette[c] for c in y.loc[order]]
    ax.bar(positions, table["n_below_floor"], color=colors, alpha=0.45)
    ax.bar(positions, table["n_negative"], color=colors)
    ax.set_xticks(positions, [str(p) for p in order], rotation=90, fontsize=7)
    boundary = (split.loc[order] == "train").sum() - 0.5
    ax.axvline(boundary, color="black", linewidth=1)
    ax.text(boundary - 0.5, ax.get_ylim()[1] * 0.98, "training ", ha="right", va="top")
    ax.text(boundary + 0.5, ax.get_ylim()[1] * 0.98, " independent", ha="left", va="top")
    ax.set(
        title="Raw intensities at noise level per patient (dark: negative; light: below 100)",
        xlabel="patient number (ordered by split, then class)",
        ylabel=f"probes (count of {data.X_train.shape[1]})",
    )
    _class_legend(ax, data.classes, loc="lower right")
    return fig


def plot_sample_distributions(data: Dataset, *, floor: float = 100.0, ceiling: float = 16000.0) -> Figure:
    """Box plot per patient of log10 intensities (clipped to [floor, ceiling]).

    Differences in the boxes' height show per-chip scaling differences that a
    per-gene method has to live with.
    """
    order, split, y = _sample_order(data)
    X = pd.concat([data.X_train, data.X_test]).loc[order]
    logged = np.log10(np.clip(X.to_numpy(dtype=float), floor, ceiling))
    fig, ax = plt.subplots(figsize=(12, 4))
    boxes = ax.boxplot(
        list(logged),
        positions=np.arange(len(order)),
        widths=0.7,
        patch_artist=True,
        showfliers=False,
        medianprops={"color": "black"},
    )
    palette = class_colors(data.classes)
    for patch, cls in zip(boxes["boxes"], y.loc[order], strict=True):
        patch.set_facecolor(palette[cls])
        patch.set_alpha(0.7)
    ax.set_xticks(np.arange(len(order)), [str(p) for p in order], rotation=90, fontsize=7)
    ax.axvline((split.loc[order] == "train").sum() - 0.5, color="black", linewidth=1)
    ax.set(
        title=f"Per-patient distribution of log10 intensity (clipped to [{floor:g}, {ceiling:g}])",
        xlabel="patient number (training | independent, each ordered by class)",
        ylabel="log10 intensity (avg. difference units)",
    )
    _class_legend(ax, data.classes, loc="upper right")
    return fig


def plot_pca(projection: PCAProjection) -> Figure:
    """Training (filled) and projected independent (hollow) samples on PC1 and PC2."""
    scores = projection.scores
    ratio = projection.explained_variance_ratio
    label = next(c for c in scores.columns if not str(c).startswith("PC") and c != "split")
    classes = class_order(scores[label])
    palette = class_colors(classes)
    fig, ax = plt.subplots(figsize=(6.5, 5))
    many = len(scores) > 4 * MANY_SAMPLES  # smaller, translucent markers where they would cover each other
    for cls in classes:
        for split, filled in (("train", True), ("test", False)):
            part = scores[(scores[label].astype(str) == cls) & (scores["split"] == split)]
            ax.scatter(
                part["PC1"],
                part["PC2"],
                s=10 if many else 45,
                alpha=0.6 if many else 1.0,
                linewidths=0.8 if many else 1.5,
                facecolors=palette[cls] if filled else "none",
                edgecolors=palette[cls],
                label=f"{cls}, {'training' if filled else 'independent (projected)'}",
            )
    ax.set(
        title="PCA fitted on the training set; independent set projected",
        xlabel=f"PC1 ({100 * ratio[0]:.1f}% of training variance)",
        ylabel=f"PC2 ({100 * ratio[1]:.1f}% of training variance)",
    )
    ax.legend(fontsize=8)
    return fig


def plot_gene_heatmap(
    X: pd.DataFrame, y: pd.Series, genes: pd.Index, names: pd.Series, *, title: str
) -> Figure:
    """Heatmap of ``genes`` (rows, z-scored over samples) × samples ordered by class.

    ``names`` labels the rows: gene id → symbol or description (:meth:`leukemia.dataset.Dataset.gene_labels`),
    shown with the id.

    A strip above the heatmap shows each sample's class. The strip and the heatmap share one
    column of the layout (the colour bar has a column of its own), and column ``i`` of both spans
    ``[i, i + 1]`` in data units, so each class colour sits exactly above its samples.
    """
    order = y.sort_values(kind="stable").index
    block = X.loc[order, genes].T
    z = block.sub(block.mean(axis=1), axis=0).div(block.std(axis=1, ddof=0).replace(0, 1), axis=0)
    labels = [g if str(names.get(g, g)) == g else f"{str(names[g])[:28]} ({g})" for g in genes]
    height = max(4.0, 0.17 * len(genes) + 1.5)
    fig = plt.figure(figsize=(11, height), layout="none")  # laid out when complete: seaborn draws on the way
    grid = fig.add_gridspec(2, 2, height_ratios=[0.4, len(genes) / 4 + 1], width_ratios=[1, 0.02])
    strip, ax, colorbar = (
        fig.add_subplot(grid[0, 0]),
        fig.add_subplot(grid[1, 0]),
        fig.add_subplot(grid[1, 1]),
    )
    named = len(order) <= MANY_SAMPLES
    sns.heatmap(
        z.clip(-3, 3), ax=ax, cbar_ax=colorbar, cmap="vlag", center=0, vmin=-3, vmax=3, yticklabels=labels,
        xticklabels=[str(p) for p in order] if named else False, cbar_kws={"label": "z-score over samples"},
        rasterized=not named,
    )  # fmt: skip
    palette = class_colors(class_order(y))
    classes = y.loc[order].astype(str).to_numpy()
    levels = list(dict.fromkeys(classes))  # the classes present, in the order of the columns
    codes = np.array([levels.index(c) for c in classes])
    strip.imshow(
        codes[None, :], aspect="auto", interpolation="nearest", extent=(0, len(order), 0, 1),
        cmap=ListedColormap([palette[c] for c in levels]), vmin=-0.5, vmax=len(levels) - 0.5,
    )  # fmt: skip
    strip.set(xlim=ax.get_xlim(), xticks=[], yticks=[])
    strip.set_title(title)
    ax.grid(False)
    strip.grid(False)
    ax.tick_params(axis="y", labelsize=6)
    ax.tick_params(axis="x", labelsize=7)
    xlabel = (
        "patient number (ordered by class)"
        if named
        else f"{len(order)} samples, ordered by class (too many to name each)"
    )
    ax.set(xlabel=xlabel, ylabel="gene (accession)")
    handles = [Patch(color=palette[c], label=c) for c in levels]
    fig.set_layout_engine("constrained")  # one column for strip and heatmap, one for the colour bar
    fig.legend(
        handles=handles, title="class", loc="outside upper right", ncols=min(len(levels), 9), fontsize=7
    )
    return fig


def plot_dudoit_filter(X_train: pd.DataFrame, fitted: DudoitFilter) -> Figure:
    """Where each gene falls against the Dudoit filter's thresholds (training samples).

    On intensities (or their log2) the two thresholds, fold and range; on values given on a log scale
    (``fitted.scale_ == "log"``) the one rule the filter keeps there, a range above log2 of the fold.
    """
    values = X_train.to_numpy(dtype=float)
    if fitted.scale_ == "log":
        spread = values.max(axis=0) - values.min(axis=0)
        fig, ax = plt.subplots(figsize=(6.5, 4))
        bins = np.linspace(0.0, max(float(spread.max()), 1e-9), 80)
        for kept, colour, label in ((False, "0.6", "dropped"), (True, "#009E73", "kept")):
            mask = fitted.support_ == kept
            ax.hist(spread[mask], bins=list(bins), color=colour, label=f"{label} ({mask.sum()} genes)")
        ax.axvline(np.log2(fitted.min_fold), color="black", linestyle="--", linewidth=1)
        ax.set(
            title=f"Dudoit's fold rule on the {len(X_train)} training samples (values given as log2)",
            xlabel=f"max − min over the training samples (log2 units; dashed: log2 {fitted.min_fold:g})",
            ylabel="genes",
        )
        ax.legend(loc="upper right")
        return fig
    values = np.exp2(values) if fitted.scale_ == "log2" else values  # the thresholds are intensities
    clipped = np.clip(values, fitted.floor, fitted.ceiling)
    high, low = clipped.max(axis=0), clipped.min(axis=0)
    fig, ax = plt.subplots(figsize=(6.5, 5))
    for kept, colour, label in ((False, "0.6", "dropped"), (True, "#009E73", "kept")):
        mask = fitted.support_ == kept
        ax.scatter(
            high[mask] / low[mask],
            high[mask] - low[mask],
            s=4,
            color=colour,
            alpha=0.5,
            label=f"{label} ({mask.sum()} genes)",
        )
    ax.axvline(fitted.min_fold, color="black", linestyle="--", linewidth=1)
    ax.axhline(fitted.min_range, color="black", linestyle="--", linewidth=1)
    ax.set(
        xscale="log",
        yscale="log",
        title=f"Dudoit filter on the {len(X_train)} training samples",
        xlabel="max / min over the training samples (ratio, log scale)",
        ylabel="max − min (intensity units, log scale)",
    )
    ax.legend(loc="lower right", markerscale=3)
    return fig


def plot_vst(fitted: VST, log_cpm: np.ndarray, vst: np.ndarray) -> Figure:
    """DESeq2's VST fitted on training counts: each kept gene's dispersion against its mean normalised count,
    with the trend (left); each gene's standard deviation over the training samples after log-CPM and after
    the VST, against the same mean (right). ``log_cpm`` and ``vst`` are the training samples' values, the
    same genes in the same order (the genes ``fitted`` keeps)."""
    means = fitted.means_
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    ax = axes[0]
    ax.scatter(means, fitted.dispersions_, s=4, color="0.45", alpha=0.5, label="each gene's dispersion")
    grid = np.geomspace(means.min(), means.max(), 200)
    if fitted.trend_ is not None:
        a0, a1 = fitted.trend_
        ax.plot(grid, a0 + a1 / grid, color="#D55E00", label=f"trend {a0:.3g} + {a1:.3g} / mean")
    else:
        ax.axhline(fitted.mean_dispersion_, color="#D55E00", label="mean dispersion (no trend fitted)")
    ax.set(
        xscale="log", yscale="log", xlabel="mean normalised count (training samples, log scale)",
        ylabel="dispersion α (log scale)", title=f"Dispersions of {means.size} genes",
    )  # fmt: skip
    ax.legend(loc="lower left", markerscale=3)
    ax = axes[1]
    edges = np.geomspace(means.min(), means.max() * (1 + 1e-9), 13)
    bins = np.digitize(means, edges) - 1
    for values, colour, label in ((log_cpm, "#0072B2", "log-CPM"), (vst, "#D55E00", "VST")):
        sd = values.std(axis=0, ddof=1)
        ax.scatter(means, sd, s=3, color=colour, alpha=0.2)
        centres = [np.sqrt(edges[b] * edges[b + 1]) for b in range(12) if (bins == b).any()]
        medians = [np.median(sd[bins == b]) for b in range(12) if (bins == b).any()]
        ax.plot(centres, medians, color=colour, marker="o", label=f"{label} (line: median in each bin)")
    ax.set(
        xscale="log", xlabel="mean normalised count (training samples, log scale)",
        ylabel="SD over the training samples (log2 units)",
        title="Spread of each gene after each transformation",
    )  # fmt: skip
    ax.legend(loc="upper right")
    fig.tight_layout()
    return fig


def plot_value_distributions(before: pd.DataFrame, after: pd.DataFrame, *, name: str) -> Figure:
    """Histograms of all training values before and after a preprocessing step."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    for ax, frame, label in (
        (axes[0], before, "value as loaded (before preprocessing)"),
        (axes[1], after, f"value after '{name}'"),
    ):
        values = frame.to_numpy(dtype=float).ravel()
        ax.hist(values, bins=100, color="0.35")
        ax.set(xlabel=label, ylabel="values (count)", yscale="log")
    axes[0].set_title(f"Before: {before.shape[1]} genes")
    axes[1].set_title(f"After: {after.shape[1]} genes")
    fig.suptitle("Training-set values before and after preprocessing")
    return fig


def plot_selector_scores(table: pd.DataFrame) -> Figure:
    """Every gene's F statistic against its signal-to-noise score; each selector's picks marked.

    ``table`` is :func:`leukemia.select.compare_selectors` output.
    """
    fig, ax = plt.subplots(figsize=(7, 5))
    groups = (
        (~table["f_test"] & ~table["signal_to_noise"], "0.75", "neither", 6),
        (table["f_test"] & ~table["signal_to_noise"], "#CC79A7", "F-test only", 22),
        (~table["f_test"] & table["signal_to_noise"], "#009E73", "signal-to-noise only", 22),
        (table["f_test"] & table["signal_to_noise"], "black", "both", 22),
    )
    for mask, colour, label, size in groups:
        ax.scatter(
            table.loc[mask, "snr"],
            table.loc[mask, "f_score"],
            s=size,
            color=colour,
            alpha=0.8,
            label=f"{label} ({int(mask.sum())})",
        )
    if table["higher_in"].nunique() <= 2:  # two classes: the signed score, each sign a class
        positive = table.loc[table["snr"].idxmax(), "higher_in"]
        negative = table.loc[table["snr"].idxmin(), "higher_in"]
        xlabel = f"signal-to-noise P(g) (< 0: higher in {negative}, > 0: higher in {positive})"
        ax.axvline(0, color="0.3", linewidth=0.8)
    else:
        xlabel = "signal-to-noise: the gene's largest one-vs-rest P_c(g)"
    ax.set(title="Gene scores on the training samples", xlabel=xlabel, ylabel="ANOVA F statistic")
    ax.legend(title="selected by", fontsize=8)
    return fig


def _ordered(table: pd.DataFrame, labels: dict[str, str] | None) -> tuple[pd.DataFrame, list[str]]:
    ordered = table.sort_values(["accuracy", "model"], ascending=[True, False])
    names = [labels.get(m, m) if labels else m for m in ordered["model"]]
    return ordered, names


def plot_accuracy_ci(
    table: pd.DataFrame,
    *,
    reference: dict[str, float] | None = None,
    baseline: tuple[str, float] | None = None,
    labels: dict[str, str] | None = None,
    title: str = "Independent-set accuracy with exact 95% confidence intervals",
) -> Figure:
    """Accuracy per model on the independent set, with Clopper–Pearson intervals.

    Parameters
    ----------
    table
        :attr:`leukemia.evaluate.Evaluation.table`.
    reference
        Optional model → accuracy reported elsewhere (drawn as hollow diamonds).
    baseline
        Optional ``(class, accuracy)`` of always predicting the majority class (dashed line).
    """
    ordered, names = _ordered(table, labels)
    positions = np.arange(len(ordered))
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(ordered) + 1.6))
    ax.errorbar(
        ordered["accuracy"],
        positions,
        xerr=[ordered["accuracy"] - ordered["ci_low"], ordered["ci_high"] - ordered["accuracy"]],
        fmt="o",
        color="black",
        ecolor="0.4",
        capsize=3,
        label="ours (95% CI)",
    )
    if reference:
        ax.scatter(
            [reference.get(m, np.nan) for m in ordered["model"]],
            positions,
            marker="D",
            facecolors="none",
            edgecolors="#D55E00",
            s=60,
            label="reported by the seed notebook",
        )
    if baseline is not None:
        majority, share = baseline
        ax.axvline(share, color="0.5", linestyle="--", label=f"always '{majority}' ({share:.3f})")
    ax.set_yticks(positions, names)
    n_test = int(ordered["n_test"].iloc[0])
    lowest = min(0.4, float(ordered["ci_low"].min()) - 0.05)
    ax.set(title=title, xlabel=f"accuracy on the {n_test} test samples", ylabel="model", xlim=(lowest, 1.02))
    ax.legend(loc="upper left", fontsize=8)
    return fig


def plot_confusion_matrices(
    predictions: pd.DataFrame, y_true: pd.Series, *, labels: dict[str, str] | None = None
) -> Figure:
    """One small confusion matrix (rows: true class, columns: predicted) per model."""
    from sklearn.metrics import ConfusionMatrixDisplay, confusion_matrix

    names = list(predictions.columns)
    classes = list(class_order(y_true))
    columns = 5 if len(names) > 4 else len(names)
    rows = int(np.ceil(len(names) / columns))
    size = 2.6 * max(1.0, len(classes) / 3)  # K×K cells stay readable
    fig, axes = plt.subplots(
        rows, columns, figsize=(size * columns, (size - 0.1) * rows + 0.6), squeeze=False
    )
    for ax, name in zip(axes.ravel(), names, strict=False):
        matrix = confusion_matrix(y_true.astype(str), predictions[name].astype(str), labels=classes)
        # scikit-learn's display draws each matrix on its own axes; seaborn's heatmap redraws the whole
        # figure once per call to check its tick labels, which made ten matrices take 2 s instead of 0.2 s.
        display = ConfusionMatrixDisplay(matrix, display_labels=classes).plot(
            ax=ax,
            cmap="Blues",
            colorbar=False,
            im_kw={"vmin": 0, "vmax": len(y_true)},
            text_kw={"fontsize": 12 if len(classes) <= 4 else 9},
        )
        for text, count in zip(display.text_.ravel(), matrix.ravel(), strict=True):
            # scikit-learn picks the colour from each matrix's own range; the shared scale decides here
            text.set_color("white" if count > len(y_true) / 2 else "black")
        ax.grid(False)
        ax.set(title=labels.get(name, name) if labels else name, xlabel="predicted", ylabel="true")
        ax.title.set_fontsize(9)
    for ax in axes.ravel()[len(names) :]:
        ax.set_visible(False)
    fig.suptitle(f"Confusion matrices on the {len(y_true)} test samples")
    return fig


def plot_error_grid(
    errors: pd.DataFrame, *, labels: dict[str, str] | None = None, max_rows: int = 40
) -> Figure:
    """Which independent samples each model gets wrong (``errors_by_sample`` output).

    At most ``max_rows`` samples, those most models get wrong (the title says how many are left out).
    """
    truth = errors.columns[0]  # errors_by_sample puts the true class first
    models = [c for c in errors.columns[1:] if c != "n_models_wrong"]
    n_wrong = len(errors)
    errors = errors.sort_values("n_models_wrong", ascending=False, kind="stable").head(max_rows)
    grid = errors[models].astype(int)
    fig, ax = plt.subplots(figsize=(0.6 * len(models) + 3, 0.4 * len(grid) + 2))
    sns.heatmap(
        grid,
        cmap=sns.color_palette(["#f0f0f0", "#333333"], as_cmap=True),
        cbar=False,
        linewidths=0.5,
        linecolor="white",
        vmin=0,
        vmax=1,
        ax=ax,
        xticklabels=[labels.get(m, m) if labels else m for m in models],
        yticklabels=[
            f"{p} ({c}, {n} wrong)"
            for p, c, n in zip(errors.index, errors[truth], errors["n_models_wrong"], strict=True)
        ],
    )
    ax.grid(False)
    title = "Independent samples misclassified (dark = wrong)"
    if n_wrong > max_rows:
        title = f"The {max_rows} of {n_wrong} misclassified independent samples most models get wrong"
    ax.set(
        title=title,
        xlabel="model",
        ylabel="patient (true class, models wrong)",
    )
    ax.tick_params(axis="x", rotation=45)
    for tick in ax.get_xticklabels():
        tick.set_horizontalalignment("right")
    return fig


def plot_train_cv_test(table: pd.DataFrame, *, labels: dict[str, str] | None = None) -> Figure:
    """Training, cross-validated and independent-set accuracy side by side for each model."""
    ordered, names = _ordered(table, labels)
    positions = np.arange(len(ordered))
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(ordered) + 1.6))
    ax.scatter(
        ordered["train_accuracy"],
        positions + 0.2,
        marker="s",
        color="0.6",
        label="training (the samples it was fitted on)",
    )
    cv, sd = ordered["cv_accuracy"], ordered["cv_std"]
    ax.errorbar(
        cv,
        positions,
        xerr=[np.minimum(sd, cv), np.minimum(sd, 1 - cv)],  # an accuracy bar never runs past 0 or 1
        fmt="^",
        color="#0072B2",
        capsize=3,
        label="cross-validation on training: mean ± SD of the folds (a spread, not a CI; cut at 1)",
    )
    ax.errorbar(
        ordered["accuracy"],
        positions - 0.2,
        xerr=[ordered["accuracy"] - ordered["ci_low"], ordered["ci_high"] - ordered["accuracy"]],
        fmt="o",
        color="#D55E00",
        capsize=3,
        label="independent set (95% CI)",
    )
    ax.set_yticks(positions, names)
    lowest = min(ordered["train_accuracy"].min(), (cv - np.minimum(sd, cv)).min(), ordered["ci_low"].min())
    ax.set(
        title="Training vs cross-validated vs independent-set accuracy",
        xlabel="accuracy",
        ylabel="model",
        xlim=(min(0.4, lowest - 0.05), 1.02),
    )
    ax.legend(loc="upper left", fontsize=8)
    return fig


def plot_mcnemar(matrix: pd.DataFrame, *, labels: dict[str, str] | None = None) -> Figure:
    """Heatmap of pairwise exact McNemar p-values (lower triangle)."""
    names = [labels.get(m, m) if labels else m for m in matrix.index]
    mask = np.triu(np.ones(matrix.shape, dtype=bool))
    fig, ax = plt.subplots(figsize=(8, 6.5))
    sns.heatmap(
        matrix,
        mask=mask,
        annot=True,
        fmt=".2f",
        cmap="rocket",
        vmin=0,
        vmax=1,
        xticklabels=names,
        yticklabels=names,
        annot_kws={"size": 8},
        cbar_kws={"label": "p-value (exact McNemar)"},
        ax=ax,
    )
    ax.grid(False)
    ax.set(
        title="Pairwise tests on the test samples (p < 0.05 would be significant)",
        xlabel="model",
        ylabel="model",
    )
    ax.title.set_fontsize(10)
    return fig


def plot_learning_curves(curves: pd.DataFrame, *, labels: dict[str, str] | None = None) -> Figure:
    """Training and cross-validated accuracy against training-set size, one panel per model."""
    models = list(dict.fromkeys(curves["model"]))
    lowest = min(0.4, float((curves["mean"] - curves["std"]).min()) - 0.03)
    fig, axes = plt.subplots(1, len(models), figsize=(5 * len(models), 3.8), sharey=True, squeeze=False)
    for ax, name in zip(axes.ravel(), models, strict=True):
        for label, colour in (("training", "0.5"), ("cross-validation", "#0072B2")):
            part = curves[(curves["model"] == name) & (curves["set"] == label)]
            ax.plot(part["n_train"], part["mean"], marker="o", color=colour, label=label)
            ax.fill_between(
                part["n_train"],
                part["mean"] - part["std"],
                part["mean"] + part["std"],
                color=colour,
                alpha=0.15,
            )
        ax.set(
            title=labels.get(name, name) if labels else name,
            xlabel="training samples used (count)",
            ylabel="accuracy",
            ylim=(lowest, 1.03),
        )
        ax.legend(loc="lower right", fontsize=8)
    fig.suptitle("Learning curves on the training set (cross-validation, ± SD over folds)")
    return fig


def plot_neighbourhood(table: pd.DataFrame) -> Figure:
    """Golub's Fig. 2: genes beyond each signal-to-noise radius, observed vs permutations; a panel per class.

    ``table`` is :func:`leukemia.golub.neighbourhood_analysis` output.
    """
    sides = list(dict.fromkeys(table["side"]))
    two = len(sides) == 2
    columns = min(len(sides), 3)
    rows = int(np.ceil(len(sides) / columns))
    fig, axes = plt.subplots(
        rows, columns, figsize=(11 if two else 4.2 * columns, 4 * rows), sharey=True, squeeze=False
    )
    palette = class_colors(sides)
    for ax, side in zip(axes.ravel(), sides, strict=False):
        part = table[table["side"] == side]
        ax.plot(part["radius"], part["observed"], color=palette[side], linewidth=2.5, label="observed")
        ax.plot(part["radius"], part[NULL_LEVELS["1%"]], color="0.2", linestyle="--", label=NULL_LEVELS["1%"])
        ax.plot(part["radius"], part[NULL_LEVELS["5%"]], color="0.5", linestyle=":", label=NULL_LEVELS["5%"])
        ax.plot(part["radius"], part[NULL_MEDIAN], color="0.7", label=NULL_MEDIAN)
        ax.set(
            yscale="symlog",
            title=f"Genes higher in {side}" + ("" if two else " than in the rest"),
            xlabel="signal-to-noise radius r " + ("(|P(g)| > r)" if two else "(one-vs-rest P(g) > r)"),
            ylabel="genes beyond radius (count)",
        )
        ax.legend(fontsize=8)
    for ax in axes.ravel()[len(sides) :]:
        ax.set_visible(False)
    fig.suptitle("Neighbourhood analysis on the training set: observed vs permuted labels")
    return fig


def plot_prediction_strength(
    strength: pd.Series, predicted: pd.Series, truth: pd.Series, *, threshold: float, title: str
) -> Figure:
    """Golub's Fig. 4: prediction strength per sample, towards the predicted class.

    Two classes: bars point right for calls of the second class (AML for Golub) and left for the
    first. More classes: one block of bars per called class, labelled on the right. Bars are coloured
    by the true class; wrong calls are hatched and calls weaker than ``threshold`` fall in the grey band.
    """
    classes = class_order(truth)
    palette = class_colors(classes)
    predicted, truth = predicted.astype(str), truth.astype(str)
    two = len(classes) == 2
    if len(strength) > MANY_SAMPLES:
        return _prediction_strength_histogram(strength, predicted, truth, threshold, title, classes)
    if two:
        position_of = np.where(predicted == classes[1], strength, -strength)
        order = np.argsort(position_of, kind="stable")
    else:  # grouped by the class called, weakest call first within each group
        called = predicted.map({c: i for i, c in enumerate(classes)}).to_numpy()
        order = np.lexsort((strength.to_numpy(), called))
        position_of = strength.to_numpy()
    fig, ax = plt.subplots(figsize=(7, 0.22 * len(strength) + 1.8))
    positions = np.arange(len(strength))
    bars = ax.barh(positions, position_of[order], color=[palette[c] for c in truth.to_numpy()[order]])
    for bar, right in zip(bars, (predicted == truth).to_numpy()[order], strict=True):
        if not right:
            bar.set_hatch("///")
            bar.set_edgecolor("black")
    low = -threshold if two else 0
    ax.axvspan(low, threshold, color="0.85", zorder=0, label=f"uncertain (strength < {threshold:g})")
    ax.set_yticks(positions, [str(p) for p in strength.index.to_numpy()[order]], fontsize=7)
    if two:
        xlabel, xlim = f"prediction strength (← {classes[0]} call | {classes[1]} call →)", (-1.05, 1.05)
    else:
        xlabel, xlim = "prediction strength (half the margin to the runner-up class)", (0, 1.3)
        called_sorted = predicted.to_numpy()[order]
        for c in classes:
            rows = np.flatnonzero(called_sorted == c)
            if rows.size:
                ax.text(1.02, rows.mean(), f"called {c}", va="center", fontsize=8)
                ax.axhline(rows.max() + 0.5, color="0.6", linewidth=0.6)
    ax.set(title=title, xlabel=xlabel, ylabel="sample", xlim=xlim)
    handles = [Patch(color=palette[c], label=f"truly {c}") for c in classes]
    handles += [Patch(facecolor="white", edgecolor="black", hatch="///", label="wrong call"),
                Patch(color="0.85", label=f"uncertain (< {threshold:g})")]  # fmt: skip
    ax.legend(handles=handles, fontsize=8, loc="lower right")
    return fig


def _prediction_strength_histogram(
    strength: pd.Series, predicted: pd.Series, truth: pd.Series, threshold: float, title: str,
    classes: tuple[str, ...],
) -> Figure:  # fmt: skip
    """:func:`plot_prediction_strength` for many samples: counts of calls per strength bin, not a bar each."""
    palette = class_colors(classes)
    two = len(classes) == 2
    values = np.where(predicted == classes[1], strength, -strength) if two else strength.to_numpy()
    bins = list(np.linspace(-1.0, 1.0, 41) if two else np.linspace(0.0, 1.0, 21))
    right = (predicted == truth).to_numpy()
    fig, ax = plt.subplots(figsize=(7, 4))
    stacks = [values[right & (truth.to_numpy() == c)] for c in classes]
    ax.hist(stacks, bins=bins, stacked=True, color=[palette[c] for c in classes], label=[f"truly {c}, right"
            for c in classes])  # fmt: skip
    if (~right).any():
        ax.hist(values[~right], bins=bins, histtype="step", hatch="///", color="black", label="wrong calls")
    low = -threshold if two else 0
    ax.axvspan(low, threshold, color="0.85", zorder=0, label=f"uncertain (strength < {threshold:g})")
    xlabel = (
        f"prediction strength (← {classes[0]} call | {classes[1]} call →)"
        if two
        else "prediction strength (half the margin to the runner-up class)"
    )
    ax.set(
        title=f"{title} — {len(strength)} samples, counted per bin", xlabel=xlabel, ylabel="samples (count)"
    )
    ax.legend(fontsize=7, ncols=2 if len(classes) > 4 else 1)
    return fig


def plot_selection_bias(result: pd.DataFrame, *, chance: float = 0.5) -> Figure:
    """CV accuracy on permuted labels: genes chosen before CV vs inside each fold; ``chance`` dashed (1/K)."""
    tidy = result.melt(var_name="where the genes were chosen", value_name="accuracy")
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    sns.swarmplot(  # deterministic layout (stripplot jitters at random)
        tidy,
        x="accuracy",
        y="where the genes were chosen",
        size=8,
        alpha=0.8,
        ax=ax,
        hue="where the genes were chosen",
        palette=["#D55E00", "#0072B2"],
        legend=False,
    )
    ax.axvline(chance, color="0.4", linestyle="--")
    ax.set(
        title="Cross-validated accuracy when the labels are random",
        xlabel="CV accuracy on permuted training labels (one point per permutation)",
        ylabel="where the genes were chosen",
        xlim=(0, 1),
    )
    return fig


#: Colours of :func:`plot_nested_cv`'s blocks: what each part of the training set is used for.
NESTED_CV_COLORS = {
    "outer test": "#D55E00",
    "outer train": "#0072B2",
    "inner test": "#E69F00",
    "inner train": "#56B4E9",
}


def plot_nested_cv(outer_folds: int = 5, inner_folds: int = 5) -> Figure:
    """A diagram of nested cross-validation: outer folds, the inner folds of one, and where choices happen.

    Each row is the training set (or one outer fold's training part) cut into equal blocks, one per
    fold; a fold's held-out block moves along the row as in scikit-learn's cross-validation figures.
    The inner rows split the first outer fold's training part, where every configuration is fitted
    and scored; the outer fold's held-out block is used once, to test the configuration chosen there.

    Raises
    ------
    ValueError
        Fewer than two outer or inner folds.
    """
    if outer_folds < 2 or inner_folds < 2:
        raise ValueError(f"need two folds or more, got outer_folds={outer_folds}, inner_folds={inner_folds}.")
    colours = NESTED_CV_COLORS
    fig, ax = plt.subplots(figsize=(10, 0.36 * (outer_folds + inner_folds) + 2.6))
    width = 1 / outer_folds
    for row in range(outer_folds):
        for block in range(outer_folds):
            part = "outer test" if block == row else "outer train"
            ax.barh(row, width, left=block * width, height=0.7, color=colours[part], edgecolor="white")
    top = outer_folds + 1.2  # the inner rows, below a gap
    inner_width = (1 - width) / inner_folds
    for row in range(inner_folds):
        for block in range(inner_folds):
            part = "inner test" if block == row else "inner train"
            ax.barh(
                top + row, inner_width, left=width + block * inner_width, height=0.7, color=colours[part],
                edgecolor="white",
            )  # fmt: skip
    for x in (width, 1.0):  # the first outer fold's training part, opened up into its inner folds
        ax.plot([x, x], [0.35, top - 0.35], color="0.5", linestyle=":", linewidth=1)
    notes = (
        (0, "1. inner loop, on the blue part only: score every\n"
            "   configuration (preprocessing, genes, model)\n"
            "2. choose the best; refit it on the blue part\n3. test it once on the held-out block"),
        (outer_folds - 1, "4. pool the held-out calls of all outer folds:\n   the nested estimate"),
        (top + (inner_folds - 1) / 2, "each configuration: genes chosen and model fitted\n"
            "on the light-blue part, scored on the orange fold;\nits score is the mean over inner folds"),
    )  # fmt: skip
    for y, text in notes:
        ax.annotate(text, (1.03, y), va="center", fontsize=8, annotation_clip=False)
    ticks = [*range(outer_folds), *(top + r for r in range(inner_folds))]
    names = [f"outer fold {r + 1}" for r in range(outer_folds)] + [
        f"inner fold {r + 1}" for r in range(inner_folds)
    ]
    ax.set_yticks(ticks, names, fontsize=8)
    ax.set_xticks([])
    ax.grid(False)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.62)
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    labels = {
        "outer test": "held out by the outer fold: tests the chosen configuration",
        "outer train": "outer training part: every choice is made here",
        "inner test": "inner validation fold: scores each configuration",
        "inner train": "inner training part: preprocessing, genes, model fitted",
    }
    ax.legend(
        handles=[Patch(color=colours[part], label=label) for part, label in labels.items()], fontsize=8,
        loc="upper center", bbox_to_anchor=(0.4, -0.06), ncols=2, frameon=False,
    )  # fmt: skip
    ax.set(
        title="Nested cross-validation: choose inside, test outside",
        xlabel="training samples, in blocks of one fold each",
        ylabel="fold",
    )
    fig.tight_layout()
    return fig


def plot_nested_vs_test(nested: pd.DataFrame, test_accuracy: float, ci: tuple[float, float]) -> Figure:
    """Nested CV beside the independent set: pooled accuracies with exact 95% CIs, and the outer folds.

    ``nested`` is :func:`leukemia.honest.nested_cv` output. No bar extends past 1: the nested
    estimate is pooled over the outer folds (correct / samples) with its Clopper–Pearson interval,
    and each fold is a point sized by its number of held-out samples.
    """
    from leukemia.honest import nested_summary

    pooled = nested_summary(nested)
    fig, ax = plt.subplots(figsize=(7.5, 2.9))
    ax.scatter(
        nested["accuracy"], np.full(len(nested), -0.25), s=12 * nested["n_test"], color="#0072B2",
        alpha=0.5, label="one outer fold (size: its held-out samples)",
    )  # fmt: skip
    for row, (accuracy, low, high), colour, label in (
        (0, (pooled.accuracy, pooled.ci_low, pooled.ci_high), "#0072B2", "nested CV, pooled (95% CI)"),
        (1, (test_accuracy, *ci), "#D55E00", "independent set (95% CI)"),
    ):
        ax.errorbar(
            [accuracy], [row], xerr=[[accuracy - low], [high - accuracy]], fmt="D" if row == 0 else "o",
            color=colour, capsize=4, label=label,
        )  # fmt: skip
    lowest = min(pooled.fold_min, pooled.ci_low, ci[0])
    ax.set_yticks([0, 1], ["training set\n(nested CV)", "independent set"])
    ax.set(
        title="How good is the choosing procedure?",
        xlabel="accuracy (share of held-out samples called correctly)",
        ylabel="estimate from",
        xlim=(min(0.4, lowest - 0.05), 1.02),
        ylim=(-0.7, 1.6),
    )
    ax.legend(fontsize=8, loc="lower left")
    return fig


def plot_cluster_composition(tables: dict[str, pd.DataFrame], *, title: str | None = None) -> Figure:
    """One panel per clustering method: each cluster's samples as a bar, coloured by their known class.

    ``tables`` maps a method's name to its clusters × classes counts (:func:`leukemia.discovery.contingency`).
    """
    classes = tuple(str(c) for c in next(iter(tables.values())).columns)
    colours = class_colors(classes)
    n_rows = max(len(t) for t in tables.values())
    fig, axes = plt.subplots(
        1, len(tables), figsize=(3.6 * len(tables), 0.45 * n_rows + 1.9), sharex=True, squeeze=False
    )
    for ax, (method, table) in zip(axes[0], tables.items(), strict=True):
        left = np.zeros(len(table))
        for c in table.columns:
            counts = table[c].to_numpy(dtype=float)
            ax.barh(range(len(table)), counts, left=left, color=colours[str(c)], label=str(c))
            left += counts
        ax.set_yticks(range(len(table)), [f"cluster {i}" for i in table.index])
        ax.invert_yaxis()
        ax.set(title=method, xlabel="samples")
    _class_legend(axes[0][-1], classes, loc="upper left", bbox_to_anchor=(1.02, 1), fontsize=8)
    fig.suptitle(title or "Clusters found without labels, coloured by the known class")
    fig.tight_layout()
    return fig


def plot_discovery_checks(nulls: dict[str, Any], stability: dict[str, pd.DataFrame]) -> Figure:
    """Three checks of a clustering per method: structure and agreement against their nulls, and stability.

    ``nulls`` maps a method to its :class:`leukemia.discovery.NullComparison`; ``stability`` to its
    :func:`leukemia.discovery.stability` table. Grey points: the null (or the subsample runs); red diamond:
    the observed value.
    """
    methods = list(nulls)
    panels = (
        (
            "silhouette",
            "null_silhouettes",
            "observed_silhouette",
            "silhouette, each method's distance (genes permuted independently)",
        ),
        ("agreement with the classes", "null_aris", "observed_ari", "adjusted Rand index (labels permuted)"),
    )
    fig, axes = plt.subplots(1, 3, figsize=(13, 0.6 * len(methods) + 2.2), sharey=True)
    for ax, (title, null_field, observed_field, xlabel) in zip(axes[:2], panels, strict=True):
        for y, method in enumerate(methods):
            values = np.asarray(getattr(nulls[method], null_field), dtype=float)
            values = values[np.isfinite(values)]
            ax.scatter(values, y + np.linspace(-0.25, 0.25, len(values)), s=8, color="0.6", alpha=0.6)
            ax.scatter(
                [getattr(nulls[method], observed_field)], [y], marker="D", s=60, color="#D55E00", zorder=3
            )
        ax.set(title=title, xlabel=xlabel)
    for y, method in enumerate(methods):
        runs = stability[method]["ari_with_full"].to_numpy(dtype=float)
        axes[2].scatter(runs, y + np.linspace(-0.25, 0.25, len(runs)), s=10, color="#0072B2", alpha=0.7)
    axes[2].set(
        title="stability on 80% subsamples",
        xlabel="adjusted Rand index with the full clustering",
        xlim=(-0.1, 1.05),
    )
    axes[0].set_yticks(range(len(methods)), methods)
    axes[0].invert_yaxis()
    null = plt.Line2D([], [], marker="o", linestyle="", color="0.6", label="null (one point per permutation)")
    observed = plt.Line2D([], [], marker="D", linestyle="", color="#D55E00", label="observed")
    axes[0].legend(
        handles=[null, observed],
        fontsize=8, loc="lower left", bbox_to_anchor=(0, 1.08), ncols=2, frameon=False,
    )  # fmt: skip
    fig.tight_layout()
    return fig


#: Colours of :func:`plot_protocol_summary` by how a row was chosen (keys: ``evaluate.CHOSEN_ON_*`` etc.).
CHOICE_COLORS = {
    "the test set (optimistic)": "#D55E00",
    "training data only": "#0072B2",
    "fixed in advance": "#777777",
    "project defaults, untuned": "#CC79A7",
    "nested CV (training set)": "#009E73",
}


def plot_protocol_summary(summary: pd.DataFrame, *, floor: float | None = None) -> Figure:
    """Every protocol's accuracy with its exact 95% CI, coloured by what chose it.

    ``summary`` is :func:`leukemia.evaluate.protocol_summary` output (one row per protocol, indexed by its
    description). ``floor``, if given, is drawn dashed: what always calling the largest class scores.
    """
    rows = summary.iloc[::-1]  # first row at the top
    fig, ax = plt.subplots(figsize=(9, 0.42 * len(rows) + 2.2))
    for y, (_, row) in enumerate(rows.iterrows()):
        colour = CHOICE_COLORS.get(str(row["chosen_on"]), "#000000")
        below, above = row["accuracy"] - row["ci_low"], row["ci_high"] - row["accuracy"]
        ax.errorbar(
            [row["accuracy"]], [y], xerr=[[below], [above]], color=colour, capsize=3,
            fmt="D" if row["chosen_on"] == "nested CV (training set)" else "o",
        )  # fmt: skip
        ax.annotate(
            f"{int(row['n_correct'])}/{int(row['n_test'])}", (row["ci_high"], y), xytext=(5, 0),
            textcoords="offset points", va="center", fontsize=8,
        )  # fmt: skip
    if floor is not None:
        ax.axvline(floor, color="0.5", linestyle="--", linewidth=1)
    labels = [textwrap.shorten(str(w), 60, placeholder=" …") for w in rows.index]  # one line each
    ax.set_yticks(range(len(rows)), labels, fontsize=8)
    present = [c for c in CHOICE_COLORS if c in set(summary["chosen_on"])]
    handles: list[Any] = [Patch(color=CHOICE_COLORS[c], label=f"chosen on: {c}") for c in present]
    if floor is not None:
        handles.append(plt.Line2D([], [], color="0.5", linestyle="--", label="always the largest class"))
    ax.legend(
        handles=handles, fontsize=8, loc="upper center", bbox_to_anchor=(0.4, -0.09), ncols=2, frameon=False
    )
    ax.set(
        xlabel="accuracy with exact 95% CI (test set; the nested-CV row: held-out training samples)",
        xlim=(min(0.4, float(summary["ci_low"].min()) - 0.05, floor or 1.0), 1.08),
        ylim=(-0.6, len(rows) - 0.4),
        ylabel="how the classifier was arrived at",
        title="Honest and optimistic accuracies, side by side",
    )
    return fig


def plot_sweep(metrics: pd.DataFrame, swept: list[str]) -> list[Figure]:
    """Independent-set accuracy (95% CI) against the first swept parameter; one figure per other setting.

    ``metrics`` holds the runs of a sweep, one column per swept parameter.
    """
    x, n_test = swept[0], int(metrics["n_test"].iloc[0])
    panels = metrics.groupby(swept[1:], sort=True) if len(swept) > 1 else [("", metrics)]
    figures = []
    for key, part in panels:
        fig, ax = plt.subplots(figsize=(8, 4.5))
        palette = sns.color_palette("tab20", part["model"].nunique())
        for colour, (model, rows) in zip(palette, part.groupby("model", sort=True), strict=True):
            rows = rows.sort_values(x)
            ax.errorbar(
                rows[x].astype(str), rows["accuracy"],
                yerr=[rows["accuracy"] - rows["ci_low"], rows["ci_high"] - rows["accuracy"]],
                marker="o", capsize=3, color=colour, label=f"{model} ({rows['protocol'].iloc[0]})", alpha=0.8,
            )  # fmt: skip
        labels = key if isinstance(key, tuple) else (key,)
        fixed = ", ".join(f"{name}={value}" for name, value in zip(swept[1:], labels, strict=False))
        suffix = f" ({fixed})" if fixed else ""
        lowest = min(0.4, float(part["ci_low"].min()) - 0.05)
        ax.set(title=f"Independent-set accuracy (95% CI) against {x}{suffix}", xlabel=x,
               ylabel=f"accuracy on the {n_test} test samples", ylim=(lowest, 1.02))  # fmt: skip
        ax.legend(fontsize=7, bbox_to_anchor=(1.01, 1), loc="upper left")
        fig.tight_layout()
        figures.append(fig)
    return figures

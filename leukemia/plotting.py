"""Figures used by the notebooks: one look, the same class colours everywhere.

Every function returns the :class:`matplotlib.figure.Figure` it drew, titled and with
labelled axes, and leaves showing it to the caller.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from leukemia.data import CLASSES, GolubData
from leukemia.eda import PCAProjection
from leukemia.preprocessing import DudoitFilter

__all__ = [
    "CLASS_COLORS",
    "plot_class_counts",
    "plot_dudoit_filter",
    "plot_gene_heatmap",
    "plot_intensity_counts",
    "plot_pca",
    "plot_sample_distributions",
    "plot_value_distributions",
    "set_style",
]

#: Colour-blind-safe class colours (Okabe–Ito blue and vermillion), used in every figure.
CLASS_COLORS: dict[str, str] = {"ALL": "#0072B2", "AML": "#D55E00"}
SPLIT_ORDER = ("train", "test")


def set_style() -> None:
    """Apply the project's plot style (seaborn whitegrid, readable sizes, fixed DPI)."""
    sns.set_theme(style="whitegrid", context="notebook")
    plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100, "figure.autolayout": True})


def _class_legend(ax: plt.Axes, **kwargs: object) -> None:
    handles = [Patch(color=CLASS_COLORS[c], label=c) for c in CLASSES]
    ax.legend(handles=handles, title="class", **kwargs)


def plot_class_counts(data: GolubData) -> Figure:
    """Bar chart of patients per class in the training and independent sets."""
    counts = data.class_counts().drop(index="total")[list(SPLIT_ORDER)]
    tidy = counts.reset_index().melt(id_vars="class", var_name="split", value_name="patients")
    fig, ax = plt.subplots(figsize=(5, 3.5))
    sns.barplot(
        tidy,
        x="split",
        y="patients",
        hue="class",
        palette=CLASS_COLORS,
        hue_order=list(CLASSES),
        order=list(SPLIT_ORDER),
        ax=ax,
    )
    for container in ax.containers:
        ax.bar_label(container)
    ax.set(title="Patients per class and split", xlabel="split", ylabel="patients (count)")
    return fig


def _sample_order(data: GolubData) -> tuple[pd.Index, pd.Series, pd.Series]:
    """Patients ordered by split then class, with their split and class."""
    y = pd.concat([data.y_train, data.y_test])
    split = pd.Series(
        ["train"] * len(data.y_train) + ["test"] * len(data.y_test), index=y.index, name="split"
    )
    key = pd.DataFrame({"split": split.map({"train": 0, "test": 1}), "cls": y, "p": y.index})
    order = pd.Index(key.sort_values(["split", "cls", "p"]).index, name="patient")
    return order, split, y


def plot_intensity_counts(summary: pd.DataFrame, data: GolubData) -> Figure:
    """Per patient, how many of the 7129 raw intensities are negative or below the floor."""
    order, split, y = _sample_order(data)
    table = summary.loc[order]
    fig, ax = plt.subplots(figsize=(12, 3.8))
    positions = np.arange(len(order))
    colors = [CLASS_COLORS[c] for c in y.loc[order]]
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
        ylabel="probes (count of 7129)",
    )
    _class_legend(ax, loc="lower right")
    return fig


def plot_sample_distributions(data: GolubData, *, floor: float = 100.0, ceiling: float = 16000.0) -> Figure:
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
    for patch, cls in zip(boxes["boxes"], y.loc[order], strict=True):
        patch.set_facecolor(CLASS_COLORS[cls])
        patch.set_alpha(0.7)
    ax.set_xticks(np.arange(len(order)), [str(p) for p in order], rotation=90, fontsize=7)
    ax.axvline((split.loc[order] == "train").sum() - 0.5, color="black", linewidth=1)
    ax.set(
        title=f"Per-patient distribution of log10 intensity (clipped to [{floor:g}, {ceiling:g}])",
        xlabel="patient number (training | independent, each ordered by class)",
        ylabel="log10 intensity (avg. difference units)",
    )
    _class_legend(ax, loc="upper right")
    return fig


def plot_pca(projection: PCAProjection) -> Figure:
    """Training (filled) and projected independent (hollow) samples on PC1 and PC2."""
    scores = projection.scores
    ratio = projection.explained_variance_ratio
    fig, ax = plt.subplots(figsize=(6.5, 5))
    for cls in CLASSES:
        for split, filled in (("train", True), ("test", False)):
            part = scores[(scores["cancer"] == cls) & (scores["split"] == split)]
            ax.scatter(
                part["PC1"],
                part["PC2"],
                s=45,
                linewidths=1.5,
                facecolors=CLASS_COLORS[cls] if filled else "none",
                edgecolors=CLASS_COLORS[cls],
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
    X: pd.DataFrame, y: pd.Series, genes: pd.Index, probes: pd.DataFrame, *, title: str
) -> Figure:
    """Heatmap of ``genes`` (rows, z-scored over samples) × samples ordered by class.

    A strip above the heatmap shows each sample's class.
    """
    order = y.sort_values(kind="stable").index
    block = X.loc[order, genes].T
    z = block.sub(block.mean(axis=1), axis=0).div(block.std(axis=1, ddof=0).replace(0, 1), axis=0)
    labels = [f"{probes.loc[g, 'description'][:28]} ({g})" for g in genes]
    height = max(4.0, 0.17 * len(genes) + 1.5)
    fig, (strip, ax) = plt.subplots(
        2,
        1,
        figsize=(11, height),
        sharex=True,
        gridspec_kw={"height_ratios": [0.4, len(genes) / 4 + 1]},
    )
    classes = y.loc[order]
    strip.imshow(
        [[0 if c == CLASSES[0] else 1 for c in classes]],
        aspect="auto",
        cmap=plt.matplotlib.colors.ListedColormap([CLASS_COLORS[c] for c in CLASSES]),
        vmin=0,
        vmax=1,
    )
    strip.set_yticks([])
    strip.set_title(title)
    sns.heatmap(
        z.clip(-3, 3),
        ax=ax,
        cmap="vlag",
        center=0,
        vmin=-3,
        vmax=3,
        yticklabels=labels,
        xticklabels=[str(p) for p in order],
        cbar_kws={"label": "z-score over samples", "shrink": 0.5},
    )
    ax.tick_params(axis="y", labelsize=6)
    ax.tick_params(axis="x", labelsize=7)
    ax.set(xlabel="patient number (ordered by class)", ylabel="gene (accession)")
    _class_legend(strip, loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=7)
    return fig


def plot_dudoit_filter(X_train: pd.DataFrame, fitted: DudoitFilter) -> Figure:
    """Where each gene falls against the Dudoit filter's two thresholds (training samples)."""
    clipped = np.clip(X_train.to_numpy(dtype=float), fitted.floor, fitted.ceiling)
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
        title="Dudoit filter on the 38 training samples",
        xlabel="max / min over the training samples (ratio, log scale)",
        ylabel="max − min (avg. difference units, log scale)",
    )
    ax.legend(loc="lower right", markerscale=3)
    return fig


def plot_value_distributions(before: pd.DataFrame, after: pd.DataFrame, *, name: str) -> Figure:
    """Histograms of all training values before and after a preprocessing step."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    for ax, frame, label in (
        (axes[0], before, "raw intensity (avg. difference units)"),
        (axes[1], after, f"value after '{name}'"),
    ):
        values = frame.to_numpy(dtype=float).ravel()
        ax.hist(values, bins=100, color="0.35")
        ax.set(xlabel=label, ylabel="values (count)", yscale="log")
    axes[0].set_title(f"Before: {before.shape[1]} genes")
    axes[1].set_title(f"After: {after.shape[1]} genes")
    fig.suptitle("Training-set values before and after preprocessing")
    return fig

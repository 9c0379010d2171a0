"""The one data object every stage takes: :class:`Dataset`, and what is decided about any data set.

A :class:`Dataset` holds the training and test matrices (samples × genes, float), their labels as an
ordered categorical of the classes (reference class first), gene annotations, and metadata: where the
data came from (files and sha256), the scale detected and used, how the split was made, the
processing batch of each sample if known, and the samples that were left out and why. The Golub loader
(:func:`leukemia.data.load_golub`) and the ``dataset.yaml`` loader (:func:`leukemia.spec.load_dataset`)
both return one.

This module also holds the decisions that do not depend on the file format: the log-scale rule of
GEO2R (:func:`detect_scale`), the seeded stratified hold-out (:func:`stratified_split`) and the
confounding of class with batch (:func:`cramers_v`, :func:`batch_confounding`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency, fisher_exact

__all__ = [
    "CONFOUNDED_V",
    "COUNTS_AS_GIVEN",
    "LOG2_AS_GIVEN",
    "LOG2_OF_LINEAR",
    "Dataset",
    "annotation_scan",
    "batch_confounding",
    "class_order",
    "cramers_v",
    "decode_labels",
    "detect_scale",
    "encode_labels",
    "is_counts",
    "labels_of",
    "majority_class",
    "quantile_exceeds",
    "stratified_folds",
    "stratified_split",
]


def class_order(y: pd.Series) -> tuple[str, ...]:
    """The classes of ``y`` in order: an ordered categorical's categories, else the sorted values."""
    if isinstance(y.dtype, pd.CategoricalDtype):
        return tuple(str(c) for c in y.cat.categories)
    return tuple(sorted(str(v) for v in pd.unique(y)))


def majority_class(y: pd.Series) -> str:
    """The class with the most samples in ``y``; on a tie, the first in class order (:func:`class_order`).

    Always answering it is the floor a classifier must beat: it scores that class's share of any set.
    """
    counts = y.astype(str).value_counts().reindex(list(class_order(y)), fill_value=0)
    return str(counts.idxmax())  # idxmax takes the first of equal counts: class order breaks the tie


def encode_labels(y: pd.Series, classes: tuple[str, ...] | None = None) -> pd.Series:
    """Each label's position among the classes (reference class 0, the other 1; AML = 1 for Golub's data).

    Raises
    ------
    ValueError
        For a label that is not one of ``classes``.
    """
    classes = class_order(y) if classes is None else tuple(classes)
    labels = y.astype(str)
    unknown = sorted(set(labels) - set(classes))
    if unknown:  # checked first: pandas 4 will refuse a Categorical of values outside its categories
        raise ValueError(f"labels must be {list(classes)}, found {unknown}.")
    codes = pd.Categorical(labels, categories=list(classes)).codes
    return pd.Series(codes.astype(int), index=y.index, name=y.name)


def decode_labels(codes: np.ndarray, classes: tuple[str, ...]) -> np.ndarray:
    """Class names from positions (the inverse of :func:`encode_labels`)."""
    return np.asarray(classes, dtype=object)[np.asarray(codes, dtype=int)]


def labels_of(values: object, classes: tuple[str, ...], index: pd.Index, name: str = "class") -> pd.Series:
    """Labels as an ordered categorical of ``classes`` on ``index``."""
    return pd.Series(pd.Categorical(values, categories=list(classes), ordered=True), index=index, name=name)


#: ``Dataset.scale_used`` of values given on a log scale, and of a linear file the loader took the log2 of.
LOG2_AS_GIVEN = "log2, as given"
LOG2_OF_LINEAR = "log2 of the linear values (floored at 1)"
#: ``Dataset.scale_used`` of raw read counts: kept as they are, normalised inside every fold
#: (:class:`~leukemia.counts.LogCPM`).
COUNTS_AS_GIVEN = "counts, as given (normalised for library size within each fold)"


@dataclass(frozen=True)
class Dataset:
    """An expression data set split into training and test samples.

    ``X_*`` are samples × genes DataFrames (float); ``y_*`` the class of each sample, an ordered
    categorical whose categories are :attr:`classes` (reference class first).
    """

    X_train: pd.DataFrame
    y_train: pd.Series
    X_test: pd.DataFrame
    y_test: pd.Series
    genes: pd.DataFrame
    """One row per gene id: ``description`` (empty where the files have none) and, for a ``dataset.yaml``,
    ``symbol`` (from its annotation table; empty where it has none)."""
    name: str = "golub"
    classes: tuple[str, ...] = ("ALL", "AML")
    checksums: Mapping[str, str] = field(default_factory=dict)
    """sha256 of the files that were read, by file name."""
    sources: Mapping[str, str] = field(default_factory=dict)
    """The URL each downloaded file came from, by file name (a GEO series given by accession)."""
    scale_detected: str = "linear"
    scale_used: str = "linear"
    split: str = "given"
    """How training and test samples were separated (a sentence for people)."""
    batch: pd.Series | None = None
    """Processing batch of every sample (training and test), if known."""
    left_out: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            {"reason": pd.Series(dtype=str)}, index=pd.Index([], name="sample")
        )
    )
    """Samples of the files not in the data set, with the reason."""
    calls_train: pd.DataFrame | None = None
    """Golub's detection calls (A/P/M), where the files have them."""
    calls_test: pd.DataFrame | None = None
    annotations: pd.DataFrame | None = None
    """What the files say of every sample besides its class (labels-table columns, GEO characteristics),
    as text, one row per sample of the data set; None when they say nothing (a CLS file, Golub's files)."""

    @property
    def filter_scale(self) -> str:
        """What the values are, for Dudoit's filter (:class:`~leukemia.preprocessing.DudoitFilter`).

        ``"linear"``: intensities (Golub's files); ``"log2"``: the log2 of intensities (a linear file, which
        the loader took the log2 of); ``"log"``: values given on a log scale (RMA and other normalised
        arrays), which have no intensity units for the filter's thresholds; ``"counts"``: raw read counts,
        which the filter refuses (they are normalised by :class:`~leukemia.counts.LogCPM` instead).
        """
        if self.scale_used == LOG2_AS_GIVEN:
            return "log"
        if self.scale_used == COUNTS_AS_GIVEN:
            return "counts"
        return "linear" if self.scale_used == "linear" else "log2"

    def gene_names(self, genes: Sequence[str] | pd.Index | None = None) -> pd.DataFrame:
        """``symbol`` and ``description`` of ``genes`` (default: every gene), as text, empty where unknown."""
        table = self.genes.reindex(columns=["symbol", "description"], fill_value="")
        if genes is not None:
            table = table.reindex(pd.Index(genes, name="gene"), fill_value="")
        return table.astype(object).where(table.notna(), "").astype(str)

    def gene_annotation(self, genes: Sequence[str] | pd.Index) -> pd.DataFrame:
        """``symbol`` and ``description`` of ``genes``; a column empty for all of them is left out."""
        table = self.gene_names(genes)
        return table.loc[:, [c for c in table.columns if table[c].str.strip().ne("").any()]]

    def gene_labels(self, genes: Sequence[str] | pd.Index, width: int = 30) -> pd.Series:
        """How figures name ``genes``: the symbol, else the start of the description, else the id."""
        table = self.gene_names(genes)
        label = table["symbol"].where(
            table["symbol"].str.strip() != "", table["description"].str.slice(0, width)
        )
        return label.where(label.str.strip() != "", table.index.to_series()).rename("label")

    @property
    def probes(self) -> pd.DataFrame:
        """The gene annotations (the Golub files call the genes probes)."""
        return self.genes

    @property
    def y(self) -> pd.Series:
        """Labels of all samples, training first."""
        return pd.concat([self.y_train, self.y_test])

    def class_counts(self) -> pd.DataFrame:
        """Samples per class and split, with totals."""
        counts = pd.DataFrame(
            {
                "train": self.y_train.value_counts().reindex(self.classes, fill_value=0),
                "test": self.y_test.value_counts().reindex(self.classes, fill_value=0),
            }
        )
        counts.index = pd.Index(list(self.classes), name="class")
        counts.loc["total"] = counts.sum()
        counts["all"] = counts.sum(axis=1)
        return counts


def detect_scale(values: np.ndarray) -> str:
    """``"log2"`` or ``"linear"`` by GEO2R's rule on the quantiles of all values.

    GEO2R log-transforms when the 99th percentile exceeds 100, or when max − min exceeds 50 and the
    25th percentile is positive; such data are ``"linear"``, anything else is taken as already log.
    The percentiles are compared with their thresholds by counting (:func:`quantile_exceeds`), with
    no sorted copy of the matrix.
    """
    values = np.asarray(values)
    if values.size == 0:
        return "log2"
    low, high = float(values.min()), float(values.max())  # NaN or ±inf if any value is not finite
    if not (np.isfinite(low) and np.isfinite(high)):
        values = values[np.isfinite(values)]
        if values.size == 0:
            return "log2"
        low, high = float(values.min()), float(values.max())
    if quantile_exceeds(values, 0.99, 100.0):
        return "linear"
    return "linear" if high - low > 50 and quantile_exceeds(values, 0.25, 0.0) else "log2"


def is_counts(values: np.ndarray) -> bool:
    """Whether ``values`` look like raw read counts: whole numbers, none negative, some of them 0 (a gene with
    no read in a sample; intensities are rarely exactly 0), and linear by GEO2R's rule (a log-scale matrix
    rounded to whole numbers is not counts). ``scale:`` in ``dataset.yaml`` overrides the rule either way
    (``scale: counts`` for a matrix filtered of every zero, ``scale: linear`` for whole-number
    intensities)."""
    values = np.asarray(values, dtype=float)
    if values.size == 0 or not np.isfinite(values).all() or (values < 0).any() or not (values == 0).any():
        return False
    return bool(np.array_equal(values, np.round(values))) and detect_scale(values) == "linear"


def quantile_exceeds(values: np.ndarray, q: float, threshold: float) -> bool:
    """Whether ``np.quantile(values, q) > threshold`` (linear interpolation), without sorting ``values``.

    The quantile lies between the order statistics ``v[j]`` and ``v[j + 1]`` (``j = ⌊(n − 1)q⌋``), so
    counting the values at or below the threshold decides it, except when the threshold falls between
    those two; then only they are needed: the largest value at or below it and the smallest above it.
    """
    flat = np.ravel(values)
    position = (flat.size - 1) * q
    j, fraction = int(np.floor(position)), position - np.floor(position)
    block = 1 << 20  # counted a block at a time: no comparison array the size of the matrix
    at_most = sum(int(np.count_nonzero(flat[i : i + block] <= threshold)) for i in range(0, flat.size, block))
    if at_most <= j:  # v[j] is above the threshold
        return True
    if at_most >= j + 2 or fraction == 0:  # v[j + 1] is not above it, or the quantile is v[j]
        return False
    below, above = float(flat[flat <= threshold].max()), float(flat[flat > threshold].min())
    return below + fraction * (above - below) > threshold


def stratified_split(y: pd.Series, test_size: float, random_state: int) -> tuple[pd.Index, pd.Index]:
    """A seeded hold-out that keeps the class proportions: (training index, test index)."""
    from sklearn.model_selection import train_test_split

    # Positions, not labels: scikit-learn cannot index a pyarrow-backed string index (pandas 3 with pyarrow).
    train, test = train_test_split(
        np.arange(len(y)), test_size=test_size, stratify=y.to_numpy(), random_state=random_state
    )
    return y.index[np.sort(train)], y.index[np.sort(test)]  # in the order of y


def stratified_folds(n_folds: int, random_state: int):  # -> StratifiedKFold
    """The project's cross-validation folds: stratified by class, shuffled with ``random_state``."""
    from sklearn.model_selection import StratifiedKFold

    return StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=random_state)


def cramers_v(a: pd.Series, b: pd.Series) -> float:
    """Cramér's V of two categorical variables: 0 independent, 1 one determines the other."""
    table = pd.crosstab(a, b)
    if min(table.shape) < 2:
        return float("nan")
    chi2 = chi2_contingency(table, correction=False)[0]
    return float(np.sqrt(chi2 / (table.to_numpy().sum() * (min(table.shape) - 1))))


#: Cramér's V between class and batch at or above which they count as confounded (as ``leukemia data check``).
CONFOUNDED_V = 0.5

#: Columns with more values than this are not scanned (free text, dates, ids; :func:`annotation_scan`).
SCAN_MAX_LEVELS = 20


def annotation_scan(labels: pd.Series, annotations: pd.DataFrame | None) -> pd.DataFrame:
    """Every sample annotation against the class: could a classifier score by recognising it?

    Each column is cross-tabulated with the class over the samples that have a value there (empty and
    ``NA``-like text counts as missing). Cramér's V (:func:`cramers_v`) measures the association, with a
    p-value: Fisher's exact test for a 2 × 2 table, else the chi-square test. A column at or above
    :data:`CONFOUNDED_V` is *flagged*, the rule :func:`batch_confounding` applies to the batch. A column is
    not scanned (``v`` NaN, ``note`` says why) when it has a single value, a different value for every
    sample (an id or a title), or more than :data:`SCAN_MAX_LEVELS` values (free text, dates, numbers). A
    column each of whose values occurs in one class only (V = 1) is flagged with :data:`NESTED_NOTE`: it may
    hold subtypes of the classes, or be a perfect confounder (every Normal from one centre, every tumour from
    another); the data cannot tell which, the reader can.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``column``, strongest association first: ``levels``, ``samples`` (with a value),
        ``v``, ``p_value``, ``test``, ``flagged`` and ``note``.
    """
    columns = ["levels", "samples", "v", "p_value", "test", "flagged", "note"]
    if annotations is None or annotations.empty:
        return pd.DataFrame(columns=columns).rename_axis("column")
    rows = {}
    for column in annotations.columns:
        values = annotations[column].astype(str).str.strip()
        values = values[~values.str.lower().isin(_MISSING_TEXT)].reindex(labels.index).dropna()
        levels, n = int(values.nunique()), len(values)
        row: dict[str, object] = {"levels": levels, "samples": n, "v": np.nan, "p_value": np.nan, "test": ""}
        if levels < 2:
            row["note"] = "a single value"
        elif levels == n:
            row["note"] = "a different value for every sample"
        elif levels > SCAN_MAX_LEVELS:
            row["note"] = f"more than {SCAN_MAX_LEVELS} values"
        else:
            table = pd.crosstab(labels.loc[values.index].astype(str), values)
            if min(table.shape) < 2:
                row["note"] = "a single class among the samples with a value"
            else:
                row["v"] = cramers_v(labels.loc[values.index].astype(str), values)
                if table.shape == (2, 2):
                    row["p_value"], row["test"] = float(fisher_exact(table.to_numpy())[1]), "Fisher exact"
                else:
                    row["p_value"], row["test"] = float(chi2_contingency(table)[1]), "chi-square"
                nested = ((table > 0).sum(axis=0) == 1).all()  # every value within one class (V = 1)
                row["note"] = NESTED_NOTE if nested else ""
        rows[column] = row
    scan = pd.DataFrame.from_dict(rows, orient="index", columns=columns).rename_axis("column")
    scan["flagged"] = scan["v"] >= CONFOUNDED_V
    return scan.sort_values("v", ascending=False, na_position="last", kind="stable")


#: The scan's note on a column each of whose values lies within one class.
NESTED_NOTE = "each value within one class: subtypes of the classes, or a perfect confounder"
#: Text that means "no value" in a samples table or a GEO characteristics line.
_MISSING_TEXT = frozenset({"", "na", "n/a", "nan", "none", "null", "<na>", "--", "-", "?", "unknown"})


def batch_confounding(labels: pd.Series, batch: pd.Series | None, threshold: float = CONFOUNDED_V) -> str:
    """The verdict on class and processing batch, as a phrase a report inlines after "class and batch: ".

    The rule: over the samples with a batch (those of ``batch``'s index also in ``labels``), Cramér's V
    between class and batch (:func:`cramers_v`) at or above ``threshold`` means *confounded*: a classifier
    can score by recognising the batch, and the data cannot tell that apart from the biology. Below it they
    are not confounded by this rule.

    Returns
    -------
    str
        ``"confounded (Cramér's V = 0.830, at or above 0.5)"``, ``"not confounded by the rule V ≥ 0.5
        (Cramér's V = 0.120)"``, ``"not measurable (the samples with a batch hold a single class or a single
        batch)"``, or ``"not checked (the data set names no batch)"`` when ``batch`` is ``None``.
    """
    if batch is None:
        return "not checked (the data set names no batch)"
    v = cramers_v(labels, batch)  # crosstab aligns them: the samples with a batch count
    if np.isnan(v):
        return "not measurable (the samples with a batch hold a single class or a single batch)"
    if v >= threshold:
        return f"confounded (Cramér's V = {v:.3f}, at or above {threshold:g})"
    return f"not confounded by the rule V ≥ {threshold:g} (Cramér's V = {v:.3f})"

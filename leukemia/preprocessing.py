"""Preprocessing options as scikit-learn transformers, always fitted on training samples only.

For microarray values (intensities, or their logs):

``none``      leave the intensities as they are;
``minmax``    scale every gene to [0, 1] on the training samples (what the seed notebook did);
``standard``  centre every gene and scale it to unit variance;
``dudoit``    the recipe of Dudoit, Fridlyand & Speed (2002, JASA 97:77-87) for this data:
              floor at 100, ceiling at 16000, keep genes with max/min > 5 and max − min > 500,
              then log10. The thresholds are intensities in Affymetrix (MAS4/MAS5) units. They
              keep that meaning on the log2 of such intensities (``input_scale="log2"``: the
              filter works on 2**x, as for a linear file the loader took the log2 of). Values
              given on a log scale (RMA and other normalised arrays, ``input_scale="log"``) have
              no such units: there the floor, the ceiling and the 500-unit range are not applied
              (on RMA data the floor alone would flatten most values) and only the unit-free rule
              is kept — a gene stays if it varies more than five-fold (max − min > log2 5).

For RNA-seq read counts (a data set whose :attr:`~leukemia.dataset.Dataset.filter_scale` is ``"counts"``),
edgeR's recipe (:class:`~leukemia.counts.LogCPM`: ``filterByExpr``, library sizes, log2 counts per million
with a prior count of 2):

``log_cpm``   library sizes as they are (edgeR's ``cpm(log=TRUE)``);
``tmm``       library sizes scaled by TMM factors against a training reference sample;

or DESeq2's (:class:`~leukemia.counts.VST`, after the same filter):

``vst``       median-of-ratios size factors and the variance-stabilising transformation of the training
              samples' dispersion trend.

On counts, ``none``, ``minmax`` and ``standard`` come after ``log_cpm`` (raw counts are never used as
features), and ``dudoit`` is refused: its thresholds are microarray intensities. The count options refuse
values that are not counts.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import FunctionTransformer, MinMaxScaler, StandardScaler
from sklearn.utils.validation import check_is_fitted, validate_data

from leukemia.counts import VST, LogCPM, kept_feature_names
from leukemia.dataset import Dataset, detect_scale
from leukemia.registry import lookup

__all__ = [
    "COUNT_OPTIONS",
    "INPUT_SCALES",
    "PREPROCESSING",
    "DudoitFilter",
    "analysis_values",
    "applicable",
    "compare_preprocessing",
    "make_preprocessor",
]


class DudoitFilter(TransformerMixin, BaseEstimator):
    """Threshold, filter and log-transform intensities (Dudoit et al. 2002).

    Parameters
    ----------
    floor, ceiling
        Intensities are clipped to ``[floor, ceiling]`` (Affymetrix average-difference
        units; values below ~100 are noise and the scanner saturates near 16000).
    min_fold
        Keep a gene only if ``max / min > min_fold`` over the training samples.
    min_range
        ... and ``max - min > min_range``.
    log
        Apply ``log10`` after clipping.
    input_scale
        ``"linear"`` (intensities), ``"log2"`` (log2 of intensities: turned back with ``2**x`` before
        the thresholds, which are linear), ``"log"`` (log2-scale values with no intensity units, such
        as RMA: only the fold rule, ``max - min > log2(min_fold)``, no clipping), or ``"auto"``
        (GEO2R's rule on the training values: ``"linear"`` or ``"log2"``).
        :attr:`leukemia.dataset.Dataset.filter_scale` says which one a data set's values are.

    Attributes
    ----------
    support_ : ndarray of bool, shape (n_features_in_,)
        Which genes passed the filter on the training samples.
    scale_ : str
        The input scale used (``"linear"``, ``"log2"`` or ``"log"``).
    n_features_in_, feature_names_in_
        As for every scikit-learn transformer.
    """

    def __init__(
        self,
        floor: float = 100.0,
        ceiling: float = 16000.0,
        min_fold: float = 5.0,
        min_range: float = 500.0,
        log: bool = True,
        input_scale: str = "auto",
    ) -> None:
        self.floor = floor
        self.ceiling = ceiling
        self.min_fold = min_fold
        self.min_range = min_range
        self.log = log
        self.input_scale = input_scale

    def fit(self, X, y=None):
        """Learn which genes pass the filter, from the (training) samples in ``X``."""
        if not 0 < self.floor < self.ceiling:
            raise ValueError(
                f"DudoitFilter needs 0 < floor < ceiling, got floor={self.floor}, ceiling={self.ceiling}."
            )
        if self.input_scale not in INPUT_SCALES:
            raise ValueError(
                f"input_scale must be one of {', '.join(INPUT_SCALES)}, got {self.input_scale!r}."
            )
        values = validate_data(self, X, reset=True, dtype=(np.float64, np.float32))
        self.scale_ = detect_scale(values) if self.input_scale == "auto" else self.input_scale
        # max and min of the clipped values, without a clipped copy of the whole matrix
        high, low = values.max(axis=0).astype(np.float64), values.min(axis=0).astype(np.float64)
        if self.scale_ == "log":
            self.support_ = high - low > np.log2(self.min_fold)
            if not self.support_.any():
                raise ValueError(
                    f"DudoitFilter kept no gene: no gene varies more than {self.min_fold}-fold "
                    f"(max - min > log2 {self.min_fold}) on these samples."
                )
            return self
        if self.scale_ == "log2":  # 2**x is monotone: the max and min of the intensities
            high, low = np.exp2(high), np.exp2(low)
        high, low = np.clip(high, self.floor, self.ceiling), np.clip(low, self.floor, self.ceiling)
        self.support_ = (high / low > self.min_fold) & (high - low > self.min_range)
        if not self.support_.any():
            raise ValueError(
                "DudoitFilter kept no gene: no gene has max/min > "
                f"{self.min_fold} and max - min > {self.min_range} on these samples."
            )
        return self

    def transform(self, X):
        """Clip, keep the genes chosen in :meth:`fit`, and take log10."""
        check_is_fitted(self, "support_")
        values = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        # A new, row-major array (safe to change in place). ``values[:, mask]`` would be column-major, and
        # every later pass over the rows (F and signal-to-noise scores, scalers) would stride across it:
        # at study scale 2-3 times slower. The values are the same either way.
        kept = np.take(values, np.flatnonzero(self.support_), axis=1)
        if self.scale_ == "log":  # no intensity units: nothing to clip; log10 units, as the other scales give
            return np.multiply(kept, float(np.log10(2.0)), out=kept) if self.log else kept
        if self.scale_ == "log2" and self.log:
            # log10(clip(2**x, floor, ceiling)) = clip(x, log2 floor, log2 ceiling) * log10(2): the same
            # values up to the last bit or two, without computing 2**x and its log for every entry (at
            # study scale most of this step's time). Python floats keep float32 input float32.
            np.clip(kept, float(np.log2(self.floor)), float(np.log2(self.ceiling)), out=kept)
            return np.multiply(kept, float(np.log10(2.0)), out=kept)
        if self.scale_ == "log2":
            np.exp2(kept, out=kept)
        np.clip(kept, self.floor, self.ceiling, out=kept)
        return np.log10(kept, out=kept) if self.log else kept

    def get_feature_names_out(self, input_features=None):
        """Names of the genes kept (so ``set_output(transform="pandas")`` works)."""
        return kept_feature_names(self, input_features)


#: What :class:`DudoitFilter` can be told its input is.
INPUT_SCALES = ("auto", "linear", "log2", "log")

#: Preprocessing name → factory of a fresh, unfitted transformer.
PREPROCESSING: dict[str, Callable[[], TransformerMixin]] = {
    "none": lambda: FunctionTransformer(feature_names_out="one-to-one"),
    "minmax": MinMaxScaler,
    "standard": StandardScaler,
    "dudoit": DudoitFilter,
    "log_cpm": LogCPM,
    "tmm": lambda: LogCPM(normalization="tmm"),
    "vst": VST,
}
#: The options that take raw read counts (and only them).
COUNT_OPTIONS = ("log_cpm", "tmm", "vst")
#: The option that comes first on counts when another (``none``, ``minmax``, ``standard``) is asked for.
DEFAULT_COUNT_OPTION = "log_cpm"


def applicable(name: str, input_scale: str) -> str | None:
    """Why option ``name`` cannot take values of ``input_scale``, or None if it can."""
    if input_scale == "counts" and name == "dudoit":
        return (
            "dudoit's thresholds (floor 100, ceiling 16000, range 500) are microarray intensities in "
            "Affymetrix units; read counts have no such units and depend on each sample's library size. "
            "Use log_cpm or tmm (edgeR's filter and log counts per million) or vst (DESeq2's "
            "variance-stabilising transformation)"
        )
    if input_scale != "counts" and name in COUNT_OPTIONS:
        return (
            f"{name} normalises raw read counts by library size; these values are not counts (scale "
            f"{input_scale!r}). Use none, minmax, standard or dudoit"
        )
    return None


def make_preprocessor(
    name: str, *, pandas_output: bool = False, input_scale: str = "auto"
) -> TransformerMixin:
    """Return a fresh, unfitted transformer for one of :data:`PREPROCESSING`.

    Parameters
    ----------
    name
        ``"none"``, ``"minmax"``, ``"standard"`` or ``"dudoit"``; on counts also ``"log_cpm"``, ``"tmm"``
        or ``"vst"``.
    pandas_output
        Make ``transform`` return a DataFrame with the gene names kept.
    input_scale
        What the values are, for Dudoit's filter (see :class:`DudoitFilter`; the other options
        ignore it). Pass a data set's :attr:`~leukemia.dataset.Dataset.filter_scale`.

    Raises
    ------
    ValueError
        For an unknown name, listing the valid ones.
    """
    transformer = lookup(PREPROCESSING, name, "preprocessing")()
    why_not = applicable(name, input_scale)
    if why_not is not None:
        raise ValueError(f"preprocessing {name!r} does not apply: {why_not}.")
    if input_scale == "counts" and name not in COUNT_OPTIONS:  # counts are normalised first, always
        from sklearn.pipeline import Pipeline

        steps = [(DEFAULT_COUNT_OPTION, PREPROCESSING[DEFAULT_COUNT_OPTION]())]
        if name != "none":
            steps.append((name, transformer))
        transformer = Pipeline(steps)
    if isinstance(transformer, DudoitFilter):
        transformer.set_params(input_scale=input_scale)
    # "none" returns its input itself, so a DataFrame stays one; scikit-learn's pandas output would
    # relabel that very frame's columns in place (dropping their name), changing the caller's data.
    if pandas_output and not (name == "none" and input_scale != "counts"):
        transformer.set_output(transform="pandas")
    return transformer


def compare_preprocessing(
    X_train: pd.DataFrame, X_test: pd.DataFrame, *, input_scale: str = "auto"
) -> pd.DataFrame:
    """Fit every :data:`PREPROCESSING` option on ``X_train``; describe both sets after it.

    Returns
    -------
    pandas.DataFrame
        One row per option that applies to ``input_scale`` (:func:`applicable`): ``genes_kept``, the
        training and test value ranges, and
        ``test_outside_train_range_pct`` — the share of test values outside the range
        each gene had on the training samples (what fitting on training data only implies).
    """

    rows = []
    for name in PREPROCESSING:
        if applicable(name, input_scale) is not None:
            continue
        fitted = make_preprocessor(name, input_scale=input_scale).fit(X_train)
        train, test = fitted.transform(X_train), fitted.transform(X_test)
        train, test = np.asarray(train, dtype=float), np.asarray(test, dtype=float)
        low, high = train.min(axis=0), train.max(axis=0)
        outside = (test < low) | (test > high)
        rows.append(
            {
                "preprocessing": name,
                "genes_kept": train.shape[1],
                "train_min": train.min(),
                "train_max": train.max(),
                "test_min": test.min(),
                "test_max": test.max(),
                "test_outside_train_range_pct": 100.0 * outside.mean(),
            }
        )
    return pd.DataFrame(rows).set_index("preprocessing")


def analysis_values(data: Dataset) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Training and test values for analyses made gene by gene outside a pipeline (correlations with the
    class, neighbourhood analysis, the genes a model uses): the values as loaded, or, for read counts, their
    log2 counts per million (:class:`~leukemia.counts.LogCPM`, fitted on the training samples and their
    labels, the genes edgeR's filter keeps), since raw counts mix each sample's library size into every
    gene."""
    if data.filter_scale != "counts":
        return data.X_train, data.X_test
    fitted = LogCPM().set_output(transform="pandas").fit(data.X_train, data.y_train)
    return fitted.transform(data.X_train), fitted.transform(data.X_test)

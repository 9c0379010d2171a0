"""RNA-seq read counts: edgeR's filter, TMM factors and log-CPM, as one scikit-learn transformer.

Raw counts cannot go into a classifier as they are: a sample sequenced twice as deeply has every count
doubled. edgeR's answer (Robinson, McCarthy & Smyth 2010; Chen, Lun & Smyth 2016) is, in order:

1. ``filterByExpr``: keep a gene if its counts-per-million reach ``min_count`` reads at the median library
   size (CPM ≥ 10 / median library size × 10⁶) in at least as many samples as the smallest class has
   (above ``large_n`` = 10 samples, 10 + 0.7 × (n − 10)), and its total count is at least 15;
2. library sizes recomputed over the genes kept, and, for ``normalization="tmm"``, multiplied by TMM
   factors (Robinson & Oshlack 2010): each sample's trimmed, weighted mean of log-ratios against a reference
   sample (the one whose upper-quartile factor is nearest the mean), scaled to a geometric mean of 1;
3. ``cpm(log=TRUE, prior.count=2)``: log2((count + p_s) / (L_s + 2 p_s) × 10⁶), where L_s is the
   (effective) library size and the prior count p_s = 2 × L_s / mean library size.

Fitted on the training samples of a fold, :class:`LogCPM` keeps what edgeR would compute from them — the genes
kept, the TMM reference sample and geometric mean, the mean library size — and applies them unchanged to any
sample: a test sample's own counts give its library size and its TMM factor against the *training* reference,
and nothing it holds changes how another sample is transformed. The definitions follow edgeR's source
(``filterByExpr.default``, ``calcNormFactors``' ``.calcFactorTMM``, ``cpm.default`` with ``addPriorCount``);
a test checks the TMM factors against rnanorm's (which its authors validated against edgeR to 10 decimals).
rnanorm itself is not used here: its ``TMM.transform`` drops the genes that are zero in the samples being
transformed, so it fails on a test set or a single sample whose zeros differ from the training samples'.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["NORMALIZATIONS", "LogCPM", "filter_by_expr", "kept_feature_names", "tmm_factors"]

#: What :class:`LogCPM` can scale library sizes by.
NORMALIZATIONS = ("none", "tmm")


def filter_by_expr(
    counts: np.ndarray,
    y: np.ndarray | None = None,
    *,
    min_count: float = 10.0,
    min_total_count: float = 15.0,
    large_n: int = 10,
    min_prop: float = 0.7,
) -> np.ndarray:
    """edgeR's ``filterByExpr``: which genes (columns of samples × genes ``counts``) are expressed enough.

    ``y``: each sample's class (the smallest class sets how many samples must pass); None: one group.
    """
    if y is None:
        smallest = float(counts.shape[0])
    else:
        _, sizes = np.unique(np.asarray(y), return_counts=True)
        smallest = float(sizes.min())
    if smallest > large_n:
        smallest = large_n + (smallest - large_n) * min_prop
    library = counts.sum(axis=1)
    cutoff = min_count / np.median(library) * 1e6
    cpm = counts / library[:, None] * 1e6
    tolerance = 1e-14
    enough = (cpm >= cutoff).sum(axis=0) >= smallest - tolerance
    return enough & (counts.sum(axis=0) >= min_total_count - tolerance)


def _upper_quartile_factors(counts: np.ndarray) -> np.ndarray:
    """calcNormFactors' upper-quartile factors (R's default quantile), used to choose the TMM reference."""
    return np.quantile(counts, 0.75, axis=1) / counts.sum(axis=1)


def _tmm_factor(
    sample: np.ndarray, reference: np.ndarray, *, log_ratio_trim: float = 0.3, sum_trim: float = 0.05
) -> float:
    """edgeR's ``.calcFactorTMM`` of one sample against the reference (doWeighting, no A cutoff)."""
    n_obs, n_ref = sample.sum(), reference.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = np.log2((sample / n_obs) / (reference / n_ref))
        abundance = (np.log2(sample / n_obs) + np.log2(reference / n_ref)) / 2
        variance = (n_obs - sample) / n_obs / sample + (n_ref - reference) / n_ref / reference
    finite = np.isfinite(log_ratio) & np.isfinite(abundance)
    log_ratio, abundance, variance = log_ratio[finite], abundance[finite], variance[finite]
    if log_ratio.size == 0 or np.max(np.abs(log_ratio)) < 1e-6:
        return 1.0
    n = log_ratio.size
    low_ratio = np.floor(n * log_ratio_trim) + 1
    high_ratio = n + 1 - low_ratio
    low_sum = np.floor(n * sum_trim) + 1
    high_sum = n + 1 - low_sum
    ratio_rank, sum_rank = rankdata(log_ratio), rankdata(abundance)
    keep = (
        (ratio_rank >= low_ratio)
        & (ratio_rank <= high_ratio)
        & (sum_rank >= low_sum)
        & (sum_rank <= high_sum)
    )
    factor = np.nansum(log_ratio[keep] / variance[keep]) / np.nansum(1 / variance[keep])
    return float(2.0 ** (factor if np.isfinite(factor) else 0.0))


def tmm_factors(counts: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """TMM factor of every sample (row) of ``counts`` against ``reference`` (not yet scaled)."""
    return np.array([_tmm_factor(row, reference) for row in counts])


class LogCPM(TransformerMixin, BaseEstimator):
    """edgeR's filter, (TMM-)normalised library sizes and log2 counts per million, fitted on training samples.

    Parameters
    ----------
    normalization
        ``"none"``: library size = the sample's total count over the genes kept (``log_cpm``);
        ``"tmm"``: times its TMM factor against the training reference (``tmm``).
    prior_count
        edgeR's ``prior.count`` (2): added to every count, scaled by the sample's library size relative to
        the training samples' mean, so that a zero count has a finite log and low counts are shrunk.
    min_count, min_total_count
        ``filterByExpr``'s thresholds (10 reads at the median library size; 15 reads in total).

    Attributes
    ----------
    support_ : ndarray of bool, shape (n_features_in_,)
        The genes ``filterByExpr`` kept on the training samples.
    reference_ : ndarray or None
        The TMM reference sample's counts over the genes kept (``"tmm"`` only).
    scale_ : float
        The geometric mean of the training samples' TMM factors (1 for ``"none"``).
    mean_library_ : float
        The training samples' mean (effective) library size, which scales the prior count.
    """

    def __init__(
        self,
        normalization: str = "none",
        prior_count: float = 2.0,
        min_count: float = 10.0,
        min_total_count: float = 15.0,
    ) -> None:
        self.normalization = normalization
        self.prior_count = prior_count
        self.min_count = min_count
        self.min_total_count = min_total_count

    def _counts(self, X, reset: bool) -> np.ndarray:
        values = validate_data(self, X, reset=reset, dtype=np.float64)
        if (values < 0).any() or not np.array_equal(values, np.round(values)):
            raise ValueError(
                "LogCPM needs raw read counts (whole numbers, not negative); these values are not: "
                "they are already normalised or on a log scale."
            )
        return values

    def _effective_library(self, kept: np.ndarray) -> np.ndarray:
        library = kept.sum(axis=1)
        if (library <= 0).any():
            raise ValueError("a sample has no reads in the genes kept: its library size is 0.")
        if self.normalization == "tmm":
            return library * tmm_factors(kept, self.reference_) / self.scale_
        return library

    def fit(self, X, y=None):
        """Choose the genes, the TMM reference and the prior's scale from the (training) samples in ``X``."""
        if self.normalization not in NORMALIZATIONS:
            raise ValueError(
                f"normalization must be one of {', '.join(NORMALIZATIONS)}, got {self.normalization!r}."
            )
        if self.prior_count <= 0:
            raise ValueError(f"prior_count must be positive, got {self.prior_count}.")
        counts = self._counts(X, reset=True)
        self.support_ = filter_by_expr(
            counts, y, min_count=self.min_count, min_total_count=self.min_total_count
        )
        if not self.support_.any():
            raise ValueError(
                f"filterByExpr kept no gene: none reaches {self.min_count:g} reads at the median library "
                "size in enough samples."
            )
        kept = counts[:, self.support_]
        self.reference_, self.scale_ = None, 1.0
        if self.normalization == "tmm":
            quartiles = _upper_quartile_factors(kept)
            self.reference_ = kept[int(np.argmin(np.abs(quartiles - quartiles.mean())))].copy()
            factors = tmm_factors(kept, self.reference_)
            self.scale_ = float(np.exp(np.mean(np.log(factors))))
        self.mean_library_ = float(self._effective_library(kept).mean())
        return self

    def transform(self, X):
        """log2 CPM of the genes kept, each sample by its own library size and the training samples' fit."""
        check_is_fitted(self, "support_")
        kept = self._counts(X, reset=False)[:, self.support_]
        library = self._effective_library(kept)
        prior = self.prior_count * library / self.mean_library_
        return np.log2((kept + prior[:, None]) / (library + 2 * prior)[:, None] * 1e6)

    def get_feature_names_out(self, input_features=None):
        """Names of the genes kept (so ``set_output(transform="pandas")`` works)."""
        return kept_feature_names(self, input_features)


def kept_feature_names(transformer: BaseEstimator, input_features=None) -> np.ndarray:
    """The names of the input features a fitted filtering transformer keeps (its boolean ``support_``):
    ``get_feature_names_out`` of :class:`LogCPM` and :class:`~leukemia.preprocessing.DudoitFilter`."""
    check_is_fitted(transformer, "support_")
    if input_features is None:
        n_features = transformer.n_features_in_
        input_features = getattr(
            transformer, "feature_names_in_", np.array([f"x{i}" for i in range(n_features)])
        )
    return np.asarray(input_features, dtype=object)[transformer.support_]

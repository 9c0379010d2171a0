"""RNA-seq read counts: edgeR's filter with log-CPM or TMM, or DESeq2's VST, as scikit-learn transformers.

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

DESeq2's answer (Love, Huber & Anders 2014; the variance-stabilising transformation of Anders & Huber 2010) is
:class:`VST`: after the same ``filterByExpr``, size factors by the median of ratios to the training samples'
geometric means, a negative-binomial dispersion per gene, the trend a₀ + a₁/mean through them, and the
transformation under which values whose dispersion follows that trend have the same variance at every mean.
It follows PyDESeq2's ``vst_fit`` / ``vst_transform`` (intercept design, ``fit_type="parametric"``, with
PyDESeq2's fall-back to the mean dispersion where no trend can be fitted; R's DESeq2 substitutes a local
regression there). PyDESeq2 split DESeq2's VST into a fit on training samples and a transform of any sample
for this very use; it needs pandas < 3 and cannot be installed beside this package, so a test runs it in an
environment of its own and compares.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.special import gammaln
from scipy.stats import rankdata, trim_mean
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = [
    "NORMALIZATIONS",
    "VST",
    "LogCPM",
    "dispersion_mle",
    "dispersion_trend",
    "filter_by_expr",
    "kept_feature_names",
    "median_of_ratios",
    "tmm_factors",
]

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


def _raw_counts(transformer: BaseEstimator, X, reset: bool) -> np.ndarray:
    """``X`` validated as raw read counts (whole numbers, none negative) for ``transformer``."""
    values = validate_data(transformer, X, reset=reset, dtype=np.float64)
    if (values < 0).any() or not np.array_equal(values, np.round(values)):
        raise ValueError(
            f"{type(transformer).__name__} needs raw read counts (whole numbers, not negative); these "
            "values are not: they are already normalised or on a log scale."
        )
    return values


def _kept_genes(transformer: BaseEstimator, counts: np.ndarray, y) -> np.ndarray:
    """``filterByExpr``'s genes on the training ``counts`` (set as ``support_``), refusing to keep none."""
    transformer.support_ = filter_by_expr(
        counts, y, min_count=transformer.min_count, min_total_count=transformer.min_total_count
    )
    if not transformer.support_.any():
        raise ValueError(
            f"filterByExpr kept no gene: none reaches {transformer.min_count:g} reads at the median library "
            "size in enough samples."
        )
    return counts[:, transformer.support_]


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
        return _raw_counts(self, X, reset)

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
        kept = _kept_genes(self, self._counts(X, reset=True), y)
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


def median_of_ratios(counts: np.ndarray, log_means: np.ndarray) -> np.ndarray:
    """DESeq2's size factors: each sample's (row's) median ratio of its counts to the genes' geometric means
    (``exp(log_means)``, from the training samples; genes with a zero there are left out beforehand).

    Raises
    ------
    ValueError
        If a sample has no reads in half or more of those genes (its median ratio would be 0).
    """
    with np.errstate(divide="ignore"):
        log_ratios = np.log(counts) - log_means
    factors = np.exp(np.median(log_ratios, axis=1))
    if not (factors > 0).all():
        empty = np.flatnonzero(~(factors > 0))
        raise ValueError(
            f"{len(empty)} sample(s) (row {int(empty[0])} first) have no reads in half or more of the "
            f"{counts.shape[1]} genes every training sample has reads in: DESeq2's median-of-ratios size "
            "factor would be 0. Use log_cpm or tmm."
        )
    return factors


def _negative_log_likelihood(
    log_alpha: np.ndarray, counts: np.ndarray, mu: np.ndarray, constant: np.ndarray
) -> np.ndarray:
    """Each gene's negative-binomial negative log-likelihood at dispersion ``exp(log_alpha)`` plus the
    Cox–Reid adjustment for an intercept design (½ log Σ μ/(1 + μα)); ``constant`` = Σ (log Γ(y + 1) −
    y log μ), the part that does not depend on α."""
    alpha = np.exp(log_alpha)
    inverse = 1.0 / alpha
    n = counts.shape[0]
    nll = (
        n * (inverse * log_alpha + gammaln(inverse))
        + constant
        + ((counts + inverse) * np.log(inverse + mu) - gammaln(counts + inverse)).sum(axis=0)
    )
    return nll + 0.5 * np.log((mu / (1.0 + mu * alpha)).sum(axis=0))


def dispersion_mle(
    counts: np.ndarray,
    mu: np.ndarray,
    *,
    min_disp: float = 1e-8,
    max_disp: float = 10.0,
    grid: int = 15,
    tolerance: float = 1e-7,
) -> np.ndarray:
    """Each gene's (column's) negative-binomial dispersion α maximising the Cox–Reid adjusted likelihood
    (DESeq2's gene-wise estimate for an intercept design), given its means ``mu`` (samples × genes).

    Every gene at once: a grid of ``grid`` values of log α over [log ``min_disp``, log ``max_disp``], then
    golden-section search between the best grid point's neighbours to a width of ``tolerance`` in log α
    (α to a relative 10⁻⁷). (DESeq2 and
    PyDESeq2 run a line search per gene from a moments estimate, with a grid as fall-back; where the
    likelihood has one maximum in the range, as it has for the genes seen here, both find the same.)
    """
    constant = (gammaln(counts + 1.0) - counts * np.log(mu)).sum(axis=0)
    points = np.linspace(np.log(min_disp), np.log(max_disp), grid)
    losses = np.array(
        [_negative_log_likelihood(np.full(counts.shape[1], x), counts, mu, constant) for x in points]
    )
    best = np.argmin(losses, axis=0)
    low = points[np.maximum(best - 1, 0)]
    high = points[np.minimum(best + 1, grid - 1)]
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    left, right = high - ratio * (high - low), low + ratio * (high - low)
    loss_left = _negative_log_likelihood(left, counts, mu, constant)
    loss_right = _negative_log_likelihood(right, counts, mu, constant)
    while (high - low).max() > tolerance:
        go_left = loss_left < loss_right  # the minimum lies in [low, right]
        high = np.where(go_left, right, high)
        low = np.where(go_left, low, left)
        new_left, new_right = high - ratio * (high - low), low + ratio * (high - low)
        moved = np.where(go_left, new_left, new_right)
        loss_moved = _negative_log_likelihood(moved, counts, mu, constant)
        loss_right, loss_left = (
            np.where(go_left, loss_left, loss_moved),
            np.where(go_left, loss_moved, loss_right),
        )
        left, right = np.where(go_left, new_left, right), np.where(go_left, left, new_right)
    return np.clip(np.exp((low + high) / 2.0), min_disp, max_disp)


def _gamma_trend(inverse_means: np.ndarray, dispersions: np.ndarray) -> tuple[np.ndarray, bool]:
    """The gamma-family GLM dispersion ≈ a₀ + a₁/mean with identity link, as PyDESeq2 fits it (L-BFGS-B
    from (1, 1), coefficients at least 1e-12): its coefficients and whether the fit converged."""
    design = np.column_stack([np.ones_like(inverse_means), inverse_means])

    def loss(coefficients: np.ndarray) -> float:
        fitted = design @ coefficients
        return float(np.mean(dispersions / fitted + np.log(fitted)))

    def gradient(coefficients: np.ndarray) -> np.ndarray:
        fitted = design @ coefficients
        return -np.mean(((dispersions / fitted - 1.0) / fitted)[:, None] * design, axis=0)

    result = minimize(
        loss, x0=np.array([1.0, 1.0]), jac=gradient, method="L-BFGS-B", bounds=[(1e-12, np.inf)] * 2
    )
    return result.x, bool(result.success)


def dispersion_trend(means: np.ndarray, dispersions: np.ndarray) -> np.ndarray | None:
    """DESeq2's parametric trend of dispersion on mean normalised count, α(μ) = a₀ + a₁/μ: a gamma GLM,
    refitted without the genes whose dispersion is under 1e-4 or at least 15 times the fitted one until the
    coefficients settle (Σ log(new/old)² < 1e-6). Returns (a₀, a₁), or None where PyDESeq2 falls back to
    the mean dispersion: the fit did not converge, or a coefficient fell to 1e-10 — as a₁ does when the
    dispersions do not fall with the mean. (R's DESeq2 substitutes a local regression there.)"""
    inverse, targets = 1.0 / means, dispersions
    old, coefficients = np.array([0.1, 0.1]), np.array([1.0, 1.0])
    while (coefficients > 1e-10).all() and (np.log(np.abs(coefficients / old)) ** 2).sum() >= 1e-6:
        old = coefficients
        coefficients, converged = _gamma_trend(inverse, targets)
        if not converged or (coefficients <= 1e-10).any():
            return None
        ratios = targets / (coefficients[0] + coefficients[1] * inverse)
        near = (ratios >= 1e-4) & (ratios < 15)
        inverse, targets = inverse[near], targets[near]
    return coefficients


class VST(TransformerMixin, BaseEstimator):
    """edgeR's filter, then DESeq2's size factors and variance-stabilising transformation, fitted on
    training samples.

    Fitting on the training samples (as PyDESeq2's ``vst_fit`` with ``use_design=False``): the genes
    ``filterByExpr`` keeps; each kept gene's mean log count (the geometric means the median-of-ratios size
    factors divide by; genes with a zero count in a training sample take no part in them); the training
    samples' size factors and normalised counts q; each gene's dispersion (:func:`dispersion_mle`, means from
    the intercept-only model, at least 0.5); and the trend a₀ + a₁/mean through them
    (:func:`dispersion_trend`). Transforming any sample: its size factor against the training geometric
    means, q = counts / size factor, and

        log2((1 + a₁ + 2a₀q + 2√(a₀q(1 + a₁ + a₀q))) / (4a₀)),

    or, where no trend could be fitted and PyDESeq2 uses the mean dispersion ᾱ instead,
    (2 asinh √(ᾱq) − log ᾱ − log 4) / log 2.

    Parameters
    ----------
    min_count, min_total_count
        ``filterByExpr``'s thresholds (as :class:`LogCPM`).

    Attributes
    ----------
    support_ : ndarray of bool
        The genes ``filterByExpr`` kept on the training samples.
    log_means_ : ndarray
        The kept genes' mean log counts over the training samples (−inf where a sample had none).
    reference_genes_ : ndarray of bool
        Which kept genes the size factors use (those with reads in every training sample).
    size_factors_ : ndarray
        The training samples' size factors.
    dispersions_ : ndarray
        Each kept gene's dispersion.
    means_ : ndarray
        Each kept gene's mean normalised count over the training samples.
    trend_ : ndarray or None
        (a₀, a₁), or None where the mean dispersion ``mean_dispersion_`` is used instead.
    """

    min_disp = 1e-8
    min_mu = 0.5

    def __init__(self, min_count: float = 10.0, min_total_count: float = 15.0) -> None:
        self.min_count = min_count
        self.min_total_count = min_total_count

    def fit(self, X, y=None):
        """Choose the genes, and fit the size factors' references, the dispersions and their trend."""
        kept = _kept_genes(self, _raw_counts(self, X, reset=True), y)
        with np.errstate(divide="ignore"):
            self.log_means_ = np.log(kept).mean(axis=0)
        self.reference_genes_ = np.isfinite(self.log_means_)
        if not self.reference_genes_.any():
            raise ValueError(
                "every gene edgeR's filter kept has a zero count in some training sample, so DESeq2's "
                "median-of-ratios size factors cannot be computed. Use log_cpm or tmm."
            )
        self.size_factors_ = self._size_factors(kept)
        normalised = kept / self.size_factors_[:, None]
        self.means_ = normalised.mean(axis=0)
        mu = np.maximum(self.size_factors_[:, None] * self.means_, self.min_mu)
        max_disp = max(10.0, float(kept.shape[0]))
        self.dispersions_ = dispersion_mle(kept, mu, min_disp=self.min_disp, max_disp=max_disp)
        self.trend_ = dispersion_trend(self.means_, self.dispersions_)
        above = self.dispersions_[self.dispersions_ > 10 * self.min_disp]
        self.mean_dispersion_ = float(trim_mean(above, proportiontocut=0.001)) if above.size else np.nan
        return self

    def _size_factors(self, kept: np.ndarray) -> np.ndarray:
        return median_of_ratios(kept[:, self.reference_genes_], self.log_means_[self.reference_genes_])

    def transform(self, X):
        """The variance-stabilised values of the kept genes, each sample by its own size factor."""
        check_is_fitted(self, "trend_")
        kept = _raw_counts(self, X, reset=False)[:, self.support_]
        q = kept / self._size_factors(kept)[:, None]
        if self.trend_ is None:
            alpha = self.mean_dispersion_
            return (2 * np.arcsinh(np.sqrt(alpha * q)) - np.log(alpha) - np.log(4)) / np.log(2)
        a0, a1 = self.trend_
        return np.log2((1 + a1 + 2 * a0 * q + 2 * np.sqrt(a0 * q * (1 + a1 + a0 * q))) / (4 * a0))

    def get_feature_names_out(self, input_features=None):
        """Names of the genes kept (so ``set_output(transform="pandas")`` works)."""
        return kept_feature_names(self, input_features)


#: The transformers that take raw counts (their ``support_`` is the genes edgeR's filter kept).
COUNT_TRANSFORMERS = (LogCPM, VST)


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

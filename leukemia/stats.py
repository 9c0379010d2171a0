"""Small-sample statistics for accuracies measured on a few dozen patients.

- :func:`clopper_pearson`: the exact confidence interval of an accuracy ``k/n``;
- :func:`mcnemar_exact`: the exact McNemar test of two classifiers on the same samples, and
  :func:`smallest_mcnemar_pvalue`, the smallest p-value it can give with ``n`` discordant samples —
  which says how much power a comparison on a small test set can have at all.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.stats import binomtest

__all__ = ["McNemarResult", "clopper_pearson", "mcnemar_exact", "smallest_mcnemar_pvalue"]


def clopper_pearson(n_correct: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper–Pearson) confidence interval for an accuracy of ``n_correct / n``."""
    interval = binomtest(n_correct, n).proportion_ci(confidence_level=confidence, method="exact")
    return float(interval.low), float(interval.high)


class McNemarResult(NamedTuple):
    """Exact McNemar test of two classifiers on the same samples."""

    only_first_right: int
    only_second_right: int
    pvalue: float


def mcnemar_exact(correct_a: np.ndarray, correct_b: np.ndarray) -> McNemarResult:
    """Exact McNemar test: are the discordant samples split evenly between two models?

    Only samples where exactly one model is right carry information; under the null hypothesis
    of equal accuracy each of them is equally likely to favour either model, so the count
    favouring the first is Binomial(n_discordant, 1/2) (two-sided ``scipy.stats.binomtest``).
    With no discordant sample (identical predictions) the p-value is 1.

    Parameters
    ----------
    correct_a, correct_b
        Boolean arrays: whether each model got each sample right.
    """
    a, b = np.asarray(correct_a, dtype=bool), np.asarray(correct_b, dtype=bool)
    if a.shape != b.shape:
        raise ValueError(f"both models must be scored on the same samples, got {a.shape} and {b.shape}.")
    first, second = int((a & ~b).sum()), int((~a & b).sum())
    discordant = first + second
    pvalue = 1.0 if discordant == 0 else float(binomtest(first, discordant, 0.5).pvalue)
    return McNemarResult(first, second, pvalue)


def smallest_mcnemar_pvalue(n_discordant: int) -> float:
    """The smallest two-sided p-value the exact McNemar test can reach with ``n_discordant`` samples.

    It is reached when every discordant sample favours the same model: ``min(1, 2 · 0.5ⁿ)``. Below
    6 discordant samples it is above 0.05, so no split, however lopsided, is significant.
    """
    if n_discordant < 0:
        raise ValueError(f"n_discordant must be >= 0, got {n_discordant}.")
    return 1.0 if n_discordant == 0 else float(binomtest(n_discordant, n_discordant, 0.5).pvalue)

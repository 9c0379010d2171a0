"""Synthetic expression data of any size, for benchmarks and tests (never mistaken for the real data).

A whole-genome array study today has ~54,675 probes (Affymetrix HG-U133 Plus 2) and thousands of
samples, two orders of magnitude more than Golub's 7129 × 72. :func:`make_expression` makes data
of that size with the same character: positive intensities, log-normal per gene, a floor of noise,
and a chosen number of genes whose level differs between ALL and AML. It is float32 and made in
place, so 54,675 × 2,000 takes 437 MB and no more.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leukemia import config
from leukemia.data import CLASSES

__all__ = ["make_expression"]


def make_expression(
    n_genes: int,
    n_samples: int,
    n_informative: int = 50,
    *,
    aml_fraction: float = 25 / 72,
    effect: float = 1.0,
    random_state: int = config.RANDOM_SEED,
) -> tuple[pd.DataFrame, pd.Series]:
    """Samples × genes intensities and their ALL/AML labels.

    Each gene ``g`` has a log-intensity centre ``μ_g ~ N(log 300, 1.2)`` and spread
    ``σ_g ~ U(0.2, 0.8)``; a sample's value is ``exp(μ_g + σ_g·z)`` with ``z ~ N(0, 1)``. The first
    ``n_informative`` genes are shifted by ``± effect·σ_g`` in AML (alternating up and down), so
    that the classes are separable but not trivially so.

    Parameters
    ----------
    n_genes, n_samples
        Size of the matrix.
    n_informative
        Genes whose level differs between the classes (0 to ``n_genes``).
    aml_fraction
        Share of AML samples (Golub's 25 of 72 by default); at least one sample of each class.
    effect
        Class difference of an informative gene, in units of its spread.
    random_state
        Seed; the same arguments give the same data.

    Returns
    -------
    X : pandas.DataFrame, float32, shape (n_samples, n_genes)
        Columns ``SYN00000``, …; index ``S0000``, … . The frame wraps one float32 array (no copy).
    y : pandas.Series
        ``"ALL"`` / ``"AML"`` on the same index, in random order.

    Raises
    ------
    ValueError
        For sizes below 1, fewer than two samples, or ``n_informative`` out of range.
    """
    if n_genes < 1 or n_samples < 2:
        raise ValueError(f"need at least 1 gene and 2 samples, got {n_genes} × {n_samples}.")
    if not 0 <= n_informative <= n_genes:
        raise ValueError(f"n_informative must be between 0 and n_genes ({n_genes}), got {n_informative}.")
    if not 0 < aml_fraction < 1:
        raise ValueError(f"aml_fraction must be between 0 and 1, got {aml_fraction}.")
    rng = np.random.default_rng(random_state)
    n_aml = min(max(round(n_samples * aml_fraction), 1), n_samples - 1)
    is_aml = np.zeros(n_samples, dtype=bool)
    is_aml[rng.choice(n_samples, size=n_aml, replace=False)] = True

    centre = rng.normal(np.log(300.0), 1.2, size=n_genes).astype(np.float32)
    spread = rng.uniform(0.2, 0.8, size=n_genes).astype(np.float32)
    values = rng.standard_normal((n_samples, n_genes), dtype=np.float32)  # the only full-size array
    values *= spread
    values += centre
    if n_informative:
        signs = np.where(np.arange(n_informative) % 2 == 0, 1.0, -1.0).astype(np.float32)
        values[np.ix_(is_aml, np.arange(n_informative))] += effect * signs * spread[:n_informative]
    np.exp(values, out=values)

    index = pd.Index([f"S{i:04d}" for i in range(n_samples)], name="sample")
    columns = pd.Index([f"SYN{j:05d}" for j in range(n_genes)], name="gene")
    X = pd.DataFrame(values, index=index, columns=columns, copy=False)
    y = pd.Series(np.where(is_aml, CLASSES[1], CLASSES[0]), index=index, name="cancer")
    return X, y

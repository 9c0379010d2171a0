"""Synthetic expression data of any size, for benchmarks and tests (never mistaken for the real data).

A whole-genome array study today has ~54,675 probes (Affymetrix HG-U133 Plus 2) and thousands of
samples, two orders of magnitude more than Golub's 7129 × 72. :func:`make_expression` makes data
of that size with the same character: positive intensities, log-normal per gene, a floor of noise,
and a chosen number of genes whose level differs between ALL and AML. It is float32 and made in
place, so 54,675 × 2,000 takes 437 MB and no more.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd

from leukemia import config
from leukemia.data import CLASSES

__all__ = ["make_count_study", "make_expression", "make_study", "write_study"]


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


def make_study(
    n_genes: int,
    n_samples: int,
    n_classes: int = 2,
    n_informative: int = 50,
    *,
    effect: float = 1.0,
    random_state: int = config.RANDOM_SEED,
) -> tuple[pd.DataFrame, pd.Series]:
    """log2 intensities of ``n_classes`` classes of unequal size, as a processed array study has them.

    Values are ``log2`` of :func:`make_expression`'s intensities (float32). With two classes the
    labels are ALL/AML as there; with more, ``C01`` … ``CK``, the largest class twice the smallest
    (class ``c`` has a share proportional to ``2 − c/(K − 1)``; MILE's 18 subtypes ranged more
    widely). Informative gene ``j`` is shifted by ``± effect·σ_j`` in class ``j mod K``.
    """
    if n_classes < 2:
        raise ValueError(f"n_classes must be at least 2, got {n_classes}.")
    X, y = make_expression(n_genes, n_samples, 0, effect=effect, random_state=random_state)
    values = np.log2(X.to_numpy())
    X = pd.DataFrame(values, index=X.index, columns=X.columns, copy=False)
    if n_classes == 2:
        labels = y.to_numpy()
        classes = list(CLASSES)
    else:
        weights = 2.0 - np.arange(n_classes) / (n_classes - 1)
        counts = np.floor(n_samples * weights / weights.sum()).astype(int)
        counts[: n_samples - counts.sum()] += 1
        if counts.min() < 1:
            raise ValueError(f"{n_samples} samples are too few for {n_classes} classes.")
        classes = [f"C{c + 1:02d}" for c in range(n_classes)]
        rng = np.random.default_rng(random_state + 1)
        labels = rng.permutation(np.repeat(np.array(classes, dtype=object), counts))
    spread = values.std(axis=0)
    for j in range(min(n_informative, n_genes)):
        in_class = labels == classes[j % n_classes]
        values[in_class, j] += np.float32(effect * (1 if (j // n_classes) % 2 == 0 else -1) * spread[j])
    return X, pd.Series(labels, index=X.index, name="class")


def make_count_study(
    n_genes: int,
    n_samples: int,
    n_informative: int = 50,
    *,
    library_range: float = 5.0,
    dispersion: float = 0.2,
    low_count_dispersion: float = 2.0,
    dispersion_scatter: float = 0.3,
    effect: float = 1.0,
    minority_fraction: float = 0.4,
    random_state: int = config.RANDOM_SEED,
) -> tuple[pd.DataFrame, pd.Series]:
    """RNA-seq read counts of two classes (``A``, the larger, and ``B``), negative binomial as real ones are.

    Gene ``g``'s expected share of a library is proportional to ``exp(N(0, 2))`` (a few genes take most
    reads, many get few); sample ``i``'s depth is ``10⁶ × U(1, library_range)`` reads, so that libraries
    differ up to ``library_range``-fold; a count is ``NB(mean = depth_i × share_g × fold, α_g)`` (variance
    ``μ + α_g·μ²``). Gene dispersions follow the trend DESeq2 fits to real studies, high for genes with few
    reads: ``α_g = (dispersion + low_count_dispersion / m_g) × exp(N(0, dispersion_scatter))``, where ``m_g``
    is the gene's mean count at the mean depth. The first ``n_informative`` genes are ``2**effect`` times
    higher (alternately lower) in ``B``. Samples × genes, float64 holding whole numbers.
    """
    rng = np.random.default_rng(random_state)
    share = np.exp(rng.normal(0.0, 2.0, size=n_genes))
    share /= share.sum()
    depth = 1e6 * rng.uniform(1.0, library_range, size=n_samples)
    n_minority = max(2, round(n_samples * minority_fraction))
    labels = np.array(["A"] * (n_samples - n_minority) + ["B"] * n_minority, dtype=object)
    labels = rng.permutation(labels)
    fold = np.ones((n_samples, n_genes))
    signs = np.where(np.arange(min(n_informative, n_genes)) % 2 == 0, 1.0, -1.0)
    fold[np.ix_(labels == "B", np.arange(signs.size))] = 2.0 ** (effect * signs)
    mean = depth[:, None] * share[None, :] * fold
    typical = depth.mean() * share
    alpha = (dispersion + low_count_dispersion / typical) * np.exp(
        rng.normal(0.0, dispersion_scatter, n_genes)
    )
    size = 1.0 / alpha
    counts = rng.negative_binomial(size, size / (size + mean)).astype(np.float64)
    samples = pd.Index([f"S{i + 1:03d}" for i in range(n_samples)], name="sample")
    genes = pd.Index([f"GENE{j + 1:05d}" for j in range(n_genes)], name="gene")
    return pd.DataFrame(counts, index=samples, columns=genes), pd.Series(labels, index=samples, name="class")


def write_study(folder: str | Path, X: pd.DataFrame, y: pd.Series, *, name: str | None = None) -> Path:
    """Write a study the way users bring one: a gzip TSV (genes × samples), ``samples.csv``, ``dataset.yaml``.

    Returns the ``dataset.yaml``. Values are written with 4 decimals (as processed log2 arrays are
    exported), whole numbers (counts) as integers; gzip level 1, since this is for benchmarks and tests, not
    for keeping.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    counts = bool(np.array_equal(X.to_numpy(), np.round(X.to_numpy())))  # whole numbers: written as such
    with gzip.open(folder / "expression.tsv.gz", "wt", compresslevel=1, newline="") as handle:
        table = X.T.astype(np.int64) if counts else X.T
        table.to_csv(handle, sep="\t", float_format=None if counts else "%.4f", index_label="probe")
    y.rename("class").to_csv(folder / "samples.csv", index_label="sample")
    classes = ", ".join(sorted(pd.unique(y)))
    spec = folder / "dataset.yaml"
    spec.write_text(
        f"name: {name or f'study-{X.shape[1]}x{X.shape[0]}'}\n"
        "expression: expression.tsv.gz\nlabels: samples.csv\nclass_column: class\n"
        f"classes: [{classes}]\n"
    )
    return spec

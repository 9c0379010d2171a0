"""Your own data: a ``dataset.yaml`` that describes an expression matrix and its labels, read into a Dataset.

The fields (defaults in brackets; paths are relative to the YAML file)::

    name: bladder-2004             # titles, the run directory, the manifest
    expression: expression.tsv.gz  # the matrix file, or a GEO series accession (GSE3167: downloaded)
    format: auto                   # [auto] | csv | tsv | gct | geo-series-matrix | golub-csv | h5ad
    layer: counts                  # [none: X] an h5ad file's layer to read
    orientation: genes-by-samples  # [genes-by-samples] | samples-by-genes   (csv/tsv only)
    labels: samples.csv            # a csv/tsv with one row per sample, or a Broad .cls file; omitted when
                                   #   the matrix file describes its samples (a GEO series matrix's
                                   #   !Sample_ lines, a GCT 1.3's column fields, an h5ad's obs)
    sample_column: sample          # [the first column] of the labels table
    class_column: cancer           # the labels column, or the key of a GEO "characteristics" line
                                   # (not needed with a CLS labels file)
    classes: [Normal, Biopsy, Cancer]  # K ≥ 2 classes, reference first; or {Class: [raw values, ...], ...}
    split_column: null             # a labels column of train/test values; [null]: seeded stratified hold-out
    test_size: 0.3                 # [0.3] the held-out fraction when there is no split column
    scale: auto                    # [auto] | linear | log2 | counts   (auto: whole non-negative numbers that
                                   #   GEO2R's rule calls linear are counts; else GEO2R's rule)
    batch_column: batch            # [none] processing batch / centre / date, checked for confounding
    missing: error                 # [error] | drop-genes   (genes with a missing value)
    subset: {lineage: [B]}         # [none] only samples with these values in these annotation columns
    annotation: GPL96.annot.gz     # [none] gene id → symbol [and name]: a CSV/TSV table, or GEO's platform
                                   #   table (.annot, SOFT, GPL…-tbl); or {file: ..., id_column: ...,
                                   #   symbol_column: ..., name_column: ...} to name the columns

:func:`load_dataset` reads it (or ``"golub"``, the default everywhere, for the Golub files) and returns
a :class:`~leukemia.dataset.Dataset`. Every problem is a :class:`~leukemia.data.DataError` that names
the file, the field, the row or the sample, and nothing is written.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from leukemia import config
from leukemia.cache import cached_in
from leukemia.data import DataError
from leukemia.dataset import (
    CONFOUNDED_V,
    COUNTS_AS_GIVEN,
    LOG2_AS_GIVEN,
    LOG2_OF_LINEAR,
    Dataset,
    annotation_scan,
    cramers_v,
    detect_scale,
    is_counts,
    labels_of,
    stratified_split,
)
from leukemia.readers import FORMATS, ExpressionMatrix, read_annotation, read_cls, read_matrix

__all__ = [
    "GOLUB",
    "DatasetSpec",
    "NewSamples",
    "check_report",
    "load_dataset",
    "read_new_samples",
    "read_spec",
]

#: The name that means the Golub et al. (1999) files (``load_golub``).
GOLUB = "golub"
SPLIT_VALUES = {
    "train": "train",
    "training": "train",
    "test": "test",
    "independent": "test",
    "held-out": "test",
}
#: The name of the labels read from a CLS file when ``class_column`` does not give one.
CLS_CLASS_COLUMN = "class"
#: Fewest samples a class may have in the training set: two folds of cross-validation need two.
MIN_PER_CLASS = 2


@dataclass(frozen=True)
class DatasetSpec:
    """A checked ``dataset.yaml``."""

    path: Path
    name: str
    expression: Path
    format: str = "auto"
    orientation: str = "genes-by-samples"
    layer: str | None = None
    """An h5ad file's layer to read instead of ``X``."""
    labels: Path | None = None
    sample_column: str | None = None
    class_column: str = ""
    classes: dict[str, list[str]] = field(default_factory=dict)
    """Class → the raw label values that mean it, in class order (reference first)."""
    split_column: str | None = None
    test_size: float = 0.3
    scale: str = "auto"
    batch_column: str | None = None
    missing: str = "error"
    subset: dict[str, list[str]] = field(default_factory=dict)
    """Annotation column → the values a sample must have there to be analysed (all columns must match)."""
    annotation: Path | None = None
    """A gene annotation table (:func:`~leukemia.readers.read_annotation`)."""
    annotation_columns: dict[str, str] = field(default_factory=dict)
    """``id_column``, ``symbol_column``, ``name_column`` as given (the others are found by name)."""
    sources: dict[str, str] = field(default_factory=dict)
    """File name → the URL it was downloaded from (``expression: GSE…``: :mod:`leukemia.geo`)."""


#: Field → (the types YAML may give it, required).
_FIELDS: dict[str, tuple[tuple[type, ...], bool]] = {
    "name": ((str,), True),
    "expression": ((str,), True),
    "format": ((str,), False),
    "orientation": ((str,), False),
    "layer": ((str, type(None)), False),
    "labels": ((str, type(None)), False),
    "sample_column": ((str, type(None)), False),
    "class_column": ((str,), False),  # required unless the labels are a CLS file (see read_spec)
    "classes": ((list, dict), True),
    "split_column": ((str, type(None)), False),
    "test_size": ((float, int), False),
    "scale": ((str,), False),
    "batch_column": ((str, type(None)), False),
    "missing": ((str,), False),
    "subset": ((dict,), False),
    "annotation": ((str, dict), False),
}
_ANNOTATION_KEYS = ("file", "id_column", "symbol_column", "name_column")
_CHOICES = {
    "format": ("auto", *FORMATS),
    "orientation": ("genes-by-samples", "samples-by-genes"),
    "scale": ("auto", "linear", "log2", "counts"),
    "missing": ("error", "drop-genes"),
}


def _classes(path: Path, value: object) -> dict[str, list[str]]:
    if isinstance(value, list):
        mapping = {str(c): [str(c)] for c in value}
        if len(mapping) != len(value):
            raise DataError(f"{path.name}: classes repeats a class: {value}.")
    elif isinstance(value, dict):
        mapping = {}
        for name, raw in value.items():
            raw_values = raw if isinstance(raw, list) else [raw]
            mapping[str(name)] = [str(v) for v in raw_values]
        seen = [v for values in mapping.values() for v in values]
        twice = sorted({v for v in seen if seen.count(v) > 1})
        if twice:
            raise DataError(f"{path.name}: classes: the raw value(s) {twice} belong to more than one class.")
    else:
        raise DataError(f"{path.name}: classes must be a list or a mapping, got {value!r}.")
    if len(mapping) < 2:
        raise DataError(f"{path.name}: classes must name at least two classes, got {list(mapping)}.")
    return mapping


def _subset(path: Path, value: object) -> dict[str, list[str]]:
    """``subset:`` as column → allowed values (a single value is a list of one)."""
    assert isinstance(value, dict)  # read_spec checked the type
    subset = {}
    for column, allowed in value.items():
        values = allowed if isinstance(allowed, list) else [allowed]
        if not values or any(isinstance(v, (dict, list)) or v is None for v in values):
            raise DataError(
                f"{path.name}: subset: '{column}' must list the values to keep, "
                f"e.g. subset: {{{column}: [B]}}; got {allowed!r}."
            )
        subset[str(column)] = [str(v) for v in values]
    if not subset:
        raise DataError(f"{path.name}: subset is empty; omit it to keep every sample.")
    return subset


def read_spec(path: str | Path, *, for_prediction: bool = False) -> DatasetSpec:
    """Read and check a ``dataset.yaml``: known fields, right types, allowed values, files that exist.

    ``for_prediction``: the description of new samples for ``leukemia predict``, where only ``expression`` is
    required (``name`` defaults to the file's stem; without ``class_column`` the samples have no labels, and
    without ``classes`` a label is taken as the class of that name).

    Raises
    ------
    DataError
        Naming the file and the field.
    """
    import yaml

    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise DataError(f"{path}: no such dataset description (a dataset.yaml file).")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DataError(f"{path.name}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise DataError(
            f"{path.name}: expected a mapping of fields (name:, expression:, …), got {type(raw).__name__}."
        )
    unknown = sorted(set(raw) - set(_FIELDS))
    if unknown:
        raise DataError(f"{path.name}: unknown field(s) {unknown}; the fields are {sorted(_FIELDS)}.")
    for name, (types, required) in _FIELDS.items():
        required = required and (name == "expression" or not for_prediction)
        if required and raw.get(name) is None:
            raise DataError(f"{path.name}: the field '{name}' is required.")
        if name in raw and (not isinstance(raw[name], types) or isinstance(raw[name], bool)):
            expected = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            raise DataError(f"{path.name}: field '{name}' must be {expected}, got {raw[name]!r}.")
    for name, allowed in _CHOICES.items():
        if name in raw and raw[name] not in allowed:
            raise DataError(f"{path.name}: field '{name}' must be one of {list(allowed)}, got {raw[name]!r}.")
    test_size = float(raw.get("test_size", 0.3))
    if not 0 < test_size < 1:
        raise DataError(f"{path.name}: field 'test_size' must be between 0 and 1, got {test_size}.")
    folder = path.parent
    annotation = raw.get("annotation")
    if isinstance(annotation, dict):
        wrong = sorted(set(map(str, annotation)) - set(_ANNOTATION_KEYS))
        if wrong or not isinstance(annotation.get("file"), str):
            raise DataError(
                f"{path.name}: field 'annotation' must be a file name or a mapping with 'file' and "
                f"optionally {list(_ANNOTATION_KEYS[1:])}; got {annotation!r}."
            )
        raw = {**raw, "annotation": annotation["file"]}
    sources: dict[str, str] = {}
    given = str(raw["expression"])
    if not (folder / given).is_file() and _geo_accession(given):
        raw, sources = _from_geo(path, raw, given)
    files = {
        key: (folder / str(raw[key])).resolve()
        for key in ("expression", "labels", "annotation")
        if raw.get(key)
    }
    for key, file in files.items():
        if not file.is_file():
            raise DataError(f"{path.name}: field '{key}': no such file {file}.")
    cls = "labels" in files and files["labels"].suffix.lower() == ".cls"
    if raw.get("class_column") is None and not cls and not for_prediction:
        raise DataError(
            f"{path.name}: the field 'class_column' is required (the labels column, or the key of a GEO "
            "characteristics line); only a CLS labels file, whose labels are one column, needs none."
        )
    return DatasetSpec(
        path=path,
        name=str(raw.get("name") or path.stem),
        expression=files["expression"],
        format=str(raw.get("format", "auto")),
        orientation=str(raw.get("orientation", "genes-by-samples")),
        layer=raw.get("layer"),
        labels=files.get("labels"),
        sample_column=raw.get("sample_column"),
        class_column=str(raw.get("class_column") or (CLS_CLASS_COLUMN if cls or not for_prediction else "")),
        classes=_classes(path, raw["classes"]) if "classes" in raw else {},
        split_column=raw.get("split_column"),
        test_size=test_size,
        scale=str(raw.get("scale", "auto")),
        batch_column=raw.get("batch_column"),
        missing=str(raw.get("missing", "error")),
        subset=_subset(path, raw["subset"]) if "subset" in raw else {},
        annotation=files.get("annotation"),
        annotation_columns={
            k: str(v) for k, v in (annotation if isinstance(annotation, dict) else {}).items() if k != "file"
        },
        sources=sources,
    )


def _geo_accession(text: str) -> bool:
    from leukemia.geo import is_accession

    return is_accession(text)


def _from_geo(path: Path, raw: dict, accession: str) -> tuple[dict, dict[str, str]]:
    """``expression: GSE…``: the series matrix downloaded (:func:`leukemia.geo.fetch_series`), and, unless
    ``annotation:`` is given, the annotation table of the platform it names; their URLs by file name."""
    import sys

    from leukemia.geo import fetch_platform_annotation, fetch_series, platform_of

    if raw.get("format", "auto") not in ("auto", "geo-series-matrix"):
        raise DataError(
            f"{path.name}: expression: {accession} is a GEO series, read as format geo-series-matrix; "
            f"format: {raw['format']} does not apply."
        )
    progressbar = sys.stderr.isatty()
    matrix, url = fetch_series(accession, progressbar=progressbar)
    raw = {**raw, "expression": str(matrix), "format": "geo-series-matrix"}
    sources = {matrix.name: url}
    platform = platform_of(matrix) if not raw.get("annotation") else None
    if platform is not None:
        try:
            table, table_url = fetch_platform_annotation(platform, progressbar=progressbar)
        except DataError as exc:  # symbols are a help, not a need: the analysis runs on probe ids
            warnings.warn(f"{path.name}: no gene symbols: {exc}", stacklevel=3)
        else:
            raw = {**raw, "annotation": str(table)}
            sources[table.name] = table_url
    return raw, sources


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_matrix(spec: DatasetSpec) -> tuple[ExpressionMatrix, pd.DataFrame | None]:
    return read_matrix(
        spec.expression, spec.format, orientation=spec.orientation, missing=spec.missing, layer=spec.layer
    )


def _annotations(spec: DatasetSpec, matrix: ExpressionMatrix, geo: pd.DataFrame | None) -> pd.DataFrame:
    """One row per sample named in the labels source, indexed by sample id, as text."""
    if spec.labels is None:
        if geo is None:
            raise DataError(
                f"{spec.path.name}: field 'labels' is required unless the matrix file describes its samples "
                "(a GEO series matrix, a GCT 1.3 with column fields, an h5ad file's obs)."
            )
        return geo.astype(str)
    if spec.labels.suffix.lower() == ".cls":
        labels = read_cls(spec.labels, matrix.X.index)
        return labels.rename(spec.class_column).to_frame()
    kind = spec.labels.name.lower().removesuffix(".gz")  # samples.tsv.gz is a tab-separated table too
    sep = "\t" if kind.endswith((".tsv", ".txt")) else ","
    table = pd.read_csv(spec.labels, sep=sep, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    column = spec.sample_column or table.columns[0]
    if column not in table.columns:
        raise DataError(f"{spec.labels.name}: no sample column '{column}' (columns: {list(table.columns)}).")
    ids = table[column].str.strip()
    repeated = ids[ids.duplicated()].unique().tolist()
    if repeated:
        rows = [int(i) + 2 for i in ids.index[ids.isin(repeated[:1])]]
        raise DataError(
            f"{spec.labels.name}: sample {repeated[0]!r} is listed more than once (lines {rows})."
        )
    return table.set_index(ids).drop(columns=column).rename_axis("sample")


def _column(spec: DatasetSpec, annotations: pd.DataFrame, name: str, field_name: str) -> pd.Series:
    if name not in annotations.columns:
        source = spec.labels.name if spec.labels else spec.expression.name
        raise DataError(
            f"{source}: no column '{name}' (field '{field_name}'); it has {sorted(annotations.columns)[:12]}."
        )
    return annotations[name].astype(str).str.strip()


def load_dataset(
    source: str | Path = GOLUB,
    *,
    data_dir: str | Path | None = None,
    verify: bool | None = None,
    random_state: int = config.RANDOM_SEED,
) -> Dataset:
    """``"golub"`` (the verified Golub files) or the path of a ``dataset.yaml``, as a :class:`Dataset`.

    Raises
    ------
    DataError
        Anything wrong with the description, the files, or the samples, named precisely.
    """
    if str(source).strip().lower() == GOLUB:
        from leukemia.data import load_golub

        return load_golub(config.data_dir(data_dir), verify=verify)
    spec = read_spec(source)
    files = [spec.expression] + [f for f in (spec.labels, spec.annotation) if f]
    checksums = {f.name: _sha256(f) for f in files}
    data, caught = cached_in(config.dataset_cache_dir(), _read_checked, spec, checksums, random_state)
    for message, category in caught:  # a reader's warnings, also when the cache answers
        warnings.warn(message, category, stacklevel=2)
    return data


@dataclass(frozen=True)
class NewSamples:
    """Samples to call with a saved model (:func:`read_new_samples`): the values as their file gives them."""

    X: pd.DataFrame
    """samples × genes, as in the file (no transformation: the model decides, from its training data)."""
    labels: pd.Series | None
    """Each sample's class where the description gives one (NaN where it gives none); None without labels."""
    scale: str
    """``auto``, or the ``scale:`` a ``dataset.yaml`` forces (``linear`` or ``log2``)."""
    name: str
    checksums: dict[str, str]
    """sha256 of the files read, by file name."""
    left_out: pd.DataFrame
    """Samples of the file not called (outside a ``subset:``), with the reason."""


def read_new_samples(source: str | Path) -> NewSamples:
    """The samples of an expression file (any format :func:`~leukemia.readers.read_matrix` reads) or of a
    ``dataset.yaml`` (labels optional: ``read_spec(..., for_prediction=True)``), to call with a saved model.

    Every sample of the file is kept — there is no split — except those a ``subset:`` leaves out. With a
    ``classes:`` mapping, labels are mapped to class names (a label mapped to none is NaN); without one, a
    label is its own class name.

    Raises
    ------
    DataError
        Anything wrong with the description or the files, named as :func:`load_dataset` names it.
    """
    path = Path(source).expanduser()
    if path.suffix.lower() not in (".yaml", ".yml"):
        matrix, _ = read_matrix(path)
        none = pd.DataFrame({"reason": pd.Series(dtype=str)}, index=pd.Index([], name="sample"))
        return NewSamples(matrix.X, None, "auto", path.name, {path.name: _sha256(path)}, none)
    spec = read_spec(path, for_prediction=True)
    if spec.labels is not None and not spec.class_column:
        raise DataError(
            f"{path.name}: labels: is given but class_column: is not; name the labels table's column that "
            "holds each sample's class (a CLS file needs none)."
        )
    matrix, geo = _read_matrix(spec)
    samples, left_out = matrix.X.index, []
    labels = None
    if spec.labels is not None or (geo is not None and (spec.class_column or spec.subset)):
        annotations = _annotations(spec, matrix, geo).reindex(samples)
        for column, allowed in spec.subset.items():
            values = _column(spec, annotations, column, f"subset: {column}").loc[samples]
            outside = ~values.isin(allowed)
            left_out += [
                (s, f"'{column}' is {values[s]!r}, not in the subset {allowed}") for s in samples[outside]
            ]
            samples = samples[~outside.to_numpy()]
        if spec.class_column:
            raw = _column(spec, annotations, spec.class_column, "class_column").loc[samples]
            raw = raw.where(annotations.loc[samples, spec.class_column].notna())  # NaN: not in the labels
            to_class = {value: name for name, values in spec.classes.items() for value in values}
            labels = (raw.map(to_class) if to_class else raw).rename("class")
    files = [spec.expression] + [f for f in (spec.labels,) if f]
    return NewSamples(
        matrix.X.loc[samples], labels, spec.scale, spec.name, {f.name: _sha256(f) for f in files},
        pd.DataFrame(left_out, columns=["sample", "reason"]).set_index("sample"),
    )  # fmt: skip


def _read_checked(
    spec: DatasetSpec, checksums: dict[str, str], random_state: int
) -> tuple[Dataset, list[tuple[str, type[Warning]]]]:
    """Read and check the files of ``spec`` (whose sha256 are ``checksums``): the data set and its warnings.

    Cached on disk by :func:`load_dataset` (key: the spec, the files' sha256, the seed and the package's
    source): a run reads a study's text matrix once, not once per notebook (54,675 × 2,000 as gzip
    TSV: ≈ 25 s to parse and check, ≈ 2 s from the cache).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = _read_files(spec, checksums, random_state)
    return data, [(str(w.message), w.category) for w in caught]


def _read_files(spec: DatasetSpec, checksums: dict[str, str], random_state: int) -> Dataset:
    matrix, geo = _read_matrix(spec)
    annotations = _annotations(spec, matrix, geo)
    raw_class = _column(spec, annotations, spec.class_column, "class_column")
    in_matrix, in_labels = matrix.X.index, annotations.index
    left_out = [
        *((s, "in the matrix but not in the labels") for s in in_matrix.difference(in_labels)),
        *((s, "in the labels but not in the matrix") for s in in_labels.difference(in_matrix)),
    ]
    samples = in_matrix.intersection(in_labels, sort=False)
    for column, allowed in spec.subset.items():  # the study's own restriction, e.g. one lineage only
        values = _column(spec, annotations, column, f"subset: {column}").loc[samples]
        outside = ~values.isin(allowed)
        left_out += [
            (s, f"'{column}' is {values[s]!r}, not in the subset {allowed}") for s in samples[outside]
        ]
        samples = samples[~outside.to_numpy()]
    to_class = {raw: name for name, values in spec.classes.items() for raw in values}
    mapped = raw_class.loc[samples].map(to_class)
    left_out += [
        (s, f"class value {raw_class[s]!r} is in none of the classes") for s in samples[mapped.isna()]
    ]
    samples = samples[mapped.notna()]
    classes = tuple(spec.classes)
    y = labels_of(mapped.loc[samples], classes, samples)
    _check_classes(spec, y, raw_class)
    X = matrix.X.loc[samples]
    detected = "counts" if is_counts(X.to_numpy()) else detect_scale(X.to_numpy())
    chosen = detected if spec.scale == "auto" else spec.scale
    if chosen == "counts":
        _check_counts(spec, X)
        used = COUNTS_AS_GIVEN
    elif chosen == "linear":
        X, used = np.log2(X.clip(lower=1.0)), LOG2_OF_LINEAR
    else:
        used = LOG2_AS_GIVEN
    train, test, split = _split(spec, annotations, y, random_state)
    batch = (
        _column(spec, annotations, spec.batch_column, "batch_column").loc[samples]
        if spec.batch_column
        else None
    )
    # Everything else the files say of the samples, for the confounding scan (not the class, nor the split).
    design = [c for c in (spec.class_column, spec.split_column) if c]
    described = annotations.loc[samples].drop(columns=design, errors="ignore").astype(str)
    return Dataset(
        X_train=X.loc[train], y_train=y.loc[train], X_test=X.loc[test], y_test=y.loc[test],
        genes=_annotated(spec, matrix), name=spec.name, classes=classes, checksums=dict(checksums),
        scale_detected=detected, scale_used=used, split=split, batch=batch, sources=dict(spec.sources),
        annotations=described if len(described.columns) else None,
        left_out=pd.DataFrame(left_out, columns=["sample", "reason"]).set_index("sample"),
    )  # fmt: skip


def _annotated(spec: DatasetSpec, matrix: ExpressionMatrix) -> pd.DataFrame:
    """The matrix's genes with ``description`` and ``symbol``, from the annotation table if there is one.

    A gene the table does not list keeps an empty symbol; a description the matrix file gives (a GCT's)
    is kept, else the table's gene name is used.
    """
    genes = matrix.genes.copy()
    if "symbol" not in genes:  # a GCT 1.3's or an h5ad's own symbols are kept where the table has none
        genes["symbol"] = ""
    if spec.annotation is None:
        return genes
    table = read_annotation(spec.annotation, **spec.annotation_columns)
    listed = genes.index.intersection(table.index)
    if listed.empty:
        raise DataError(
            f"{spec.annotation.name}: none of its {len(table)} gene ids is a gene id of "
            f"{spec.expression.name} (the table's ids begin {list(table.index[:3])}, "
            f"the matrix's {list(genes.index[:3])}); "
            "name the id column with annotation: {file: ..., id_column: ...}."
        )
    from_table = table.loc[listed, "symbol"]
    genes.loc[listed, "symbol"] = from_table.where(from_table != "", genes.loc[listed, "symbol"])
    empty = genes["description"].eq("") & genes.index.isin(listed)
    genes.loc[empty, "description"] = table["name"].reindex(genes.index[empty]).to_numpy()
    return genes


def _check_counts(spec: DatasetSpec, X: pd.DataFrame) -> None:
    """``scale: counts`` on values that are not read counts: the count of each kind and the first of each."""
    values = X.to_numpy()
    problems = []
    for what, bad in (("negative", values < 0), ("not whole numbers", values != np.round(values))):
        if bad.any():
            row, column = (int(i) for i in np.argwhere(bad)[0])
            problems.append(
                f"{int(bad.sum())} value(s) are {what} (the first: sample {X.index[row]!r}, gene "
                f"{X.columns[column]!r}: {values[row, column]:g})"
            )
    if problems:
        raise DataError(
            f"{spec.path.name}: scale: counts, but {spec.expression.name} does not hold raw read counts: "
            f"{'; '.join(problems)}. Counts are whole numbers, never negative; for normalised or log values "
            "set scale: auto, linear or log2."
        )


def _check_classes(spec: DatasetSpec, y: pd.Series, raw: pd.Series) -> None:
    counts = y.value_counts().reindex(list(spec.classes), fill_value=0)
    empty = counts.index[counts == 0].tolist()
    if empty:
        raise DataError(
            f"{spec.path.name}: no sample of class(es) {empty} among the samples in both files; the column "
            f"'{spec.class_column}' holds {sorted(raw.unique().tolist())[:10]}. Name those values in "
            "classes: "
            "e.g. classes: {A: [value, ...], B: [value, ...]}."
        )


def _split(
    spec: DatasetSpec, annotations: pd.DataFrame, y: pd.Series, seed: int
) -> tuple[pd.Index, pd.Index, str]:
    if spec.split_column:
        given = _column(spec, annotations, spec.split_column, "split_column").loc[y.index].str.lower()
        unknown = sorted(set(given) - set(SPLIT_VALUES))
        if unknown:
            raise DataError(
                f"{spec.path.name}: split column '{spec.split_column}' holds {unknown[:5]}; expected "
                "train or test."
            )
        role = given.map(SPLIT_VALUES)
        train, test = y.index[role == "train"], y.index[role == "test"]
        policy = f"given by the column '{spec.split_column}'"
    else:
        smallest = int(y.value_counts().min())
        if smallest < 2:
            raise DataError(
                f"{spec.path.name}: a class has {smallest} sample; a stratified hold-out needs 2 per class."
            )
        train, test = stratified_split(y, spec.test_size, seed)
        policy = f"a stratified hold-out of {spec.test_size:.0%}, seeded with {seed}"
    for part, index in (("training", train), ("test", test)):
        counts = y.loc[index].value_counts().reindex(y.cat.categories, fill_value=0)
        if (counts < (MIN_PER_CLASS if part == "training" else 1)).any():
            raise DataError(
                f"{spec.path.name}: the {part} set has {counts.to_dict()} samples per class; too few to "
                f"{'cross-validate' if part == 'training' else 'test'} every class."
            )
    return train, test, policy


def _annotation_line(data: Dataset) -> str:
    """How many genes have a symbol and a description."""
    genes = data.gene_names()
    symbols, described = (int(genes[c].str.strip().ne("").sum()) for c in ("symbol", "description"))
    hint = " (an annotation table in dataset.yaml gives symbols: docs/data.md)"
    hint = "" if symbols or described else hint
    return f"gene annotation: {symbols} of {len(genes)} genes have a symbol, {described} a description{hint}"


def check_report(data: Dataset, notes: Sequence[str] = ()) -> str:
    """What ``leukemia data check`` prints: samples per class and split, genes, scale, batch, left out,
    and ``notes`` (what reading the files warned of) under "warnings"."""
    n_train, n_test = len(data.y_train), len(data.y_test)
    lines = [
        f"data set: {data.name}",
        f"genes: {data.X_train.shape[1]}",
        f"samples: {n_train + n_test} (training {n_train}, test {n_test}); split: {data.split}",
        "",
        data.class_counts().to_string(),
        "",
        f"scale: detected {data.scale_detected}, used {data.scale_used}",
        _annotation_line(data),
    ]
    if data.batch is not None:
        y = data.y.loc[data.batch.index]
        table = pd.crosstab(y, data.batch.rename("batch"))
        v = cramers_v(y, data.batch)
        lines += ["", "class × batch:", table.to_string(), f"Cramér's V (class, batch) = {v:.2f}"]
        if v >= CONFOUNDED_V:
            lines.append(
                "WARNING: class and batch are confounded: a classifier can score by recognising the batch, "
                "not the biology."
            )
    if len(data.left_out):
        reasons = data.left_out["reason"].value_counts()
        lines += ["", f"left out: {len(data.left_out)} sample(s)"] + [
            f"  {n} {reason}" for reason, n in reasons.items()
        ]
    scan = annotation_scan(data.y, data.annotations)
    flagged = scan[scan["flagged"]]
    if len(scan):
        scanned = scan.dropna(subset=["v"])
        lines += ["", f"sample annotations against the class: {len(scan)} column(s), {len(scanned)} scanned"]
        lines += [
            f"  {column}: Cramér's V = {row.v:.2f} ({row.test} p = {row.p_value:.2g}, {row.levels} values)"
            + (f"; {row.note}" if row.note else "")
            for column, row in scanned.iterrows()
        ]
        lines += [
            f"WARNING: the class is strongly associated with '{column}' (V ≥ {CONFOUNDED_V:g}): a classifier "
            "can score by recognising it; see the summary's accuracy per value."
            for column in flagged.index
        ]
    unique = list(dict.fromkeys(notes))
    if unique:
        lines += ["", f"warnings: {len(unique)}"] + [f"  {note}" for note in unique]
    lines += ["", "files:"] + [
        f"  {name}  sha256 {digest}" + (f"  from {data.sources[name]}" if name in data.sources else "")
        for name, digest in data.checksums.items()
    ]
    return "\n".join(lines)


#: The formats :func:`export_dataset` writes, by the output file's suffix.
EXPORT_FORMATS = {".h5ad": "h5ad", ".gct": "gct"}


def export_dataset(data: Dataset, path: str | Path) -> Path:
    """Write a data set as AnnData (``.h5ad``) or GCT 1.3 (``.gct``), to read back with a ``dataset.yaml``.

    The values are the data set's own (after the loader's scale step: :attr:`Dataset.scale_used`), every
    sample, training first. Each sample's ``class``, ``split`` (``train``/``test``), ``batch`` (when known)
    and every other annotation the files gave go in ``obs`` (GCT: column fields); each gene's ``symbol`` and
    ``description`` in ``var`` (GCT: row fields). An h5ad's ``uns["leukemia"]`` records the name, the
    classes in order, the scale detected and used, how the split was made, the files' sha256 and this
    package's version. The file is written whole or not at all.

    Raises
    ------
    DataError
        An output name with another suffix.
    """
    from importlib.metadata import version

    from leukemia.h5ad import write_h5ad
    from leukemia.readers import write_gct

    path = Path(path)
    kind = EXPORT_FORMATS.get(path.suffix.lower())
    if kind is None:
        raise DataError(f"{path.name}: export writes {sorted(EXPORT_FORMATS)} files; name the output so.")
    X = pd.concat([data.X_train, data.X_test])
    obs = pd.DataFrame(
        {
            "class": data.y,  # categorical, the classes in order
            "split": ["train"] * len(data.y_train) + ["test"] * len(data.y_test),
        },
        index=X.index,
    )
    if data.batch is not None:
        obs["batch"] = data.batch.reindex(X.index).fillna("").astype(str)
    if data.annotations is not None:
        others = data.annotations.drop(columns=[c for c in obs.columns if c in data.annotations])
        obs = obs.join(others.reindex(X.index).fillna("").astype(str))
    var = data.gene_names(X.columns)
    if kind == "gct":
        write_gct(path, X, var, obs)
        return path
    uns = {
        "leukemia": {
            "name": data.name,
            "classes": ", ".join(data.classes),
            "scale_detected": data.scale_detected,
            "scale_used": data.scale_used,
            "split": data.split,
            "files_sha256": dict(data.checksums),
            "leukemia_version": version("leukemia"),
        }
    }
    write_h5ad(path, X, obs, var, uns)
    return path

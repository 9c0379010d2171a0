"""AnnData's ``.h5ad`` files, read and written with h5py by the on-disk format anndata documents.

An ``.h5ad`` file is HDF5: ``X`` (samples × genes, dense or a ``csr_matrix``/``csc_matrix`` group),
``layers/<name>`` (other matrices of the same shape, e.g. raw counts), ``obs`` and ``var`` (data frames:
one dataset or group per column, the ids in the dataset ``attrs["_index"]`` names, columns in
``attrs["column-order"]``; a text column with few values is a ``categorical`` group of ``codes`` and
``categories``; a ``nullable-*`` group holds ``values`` and a ``mask``) and ``uns`` (a dictionary).
Format: https://anndata.readthedocs.io/en/latest/fileformat-prose.html.

Why not anndata itself: anndata 0.12 requires pandas < 3 and anndata 0.13 requires Python 3.12, while this
project pins pandas 3 on Python 3.11. The subset read here (what a classifier needs) is small and
documented; a slow test checks it both ways against anndata in an environment of its own
(``tests/test_h5ad.py``): files anndata writes are read here identically, and files written here are read
by anndata identically.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from leukemia.data import DataError

__all__ = ["is_h5ad", "read_h5ad", "write_h5ad"]

_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def is_h5ad(path: Path) -> bool:
    """Whether ``path`` is an HDF5 file (an h5ad is one), by its signature."""
    try:
        with open(path, "rb") as handle:
            return handle.read(8) == _SIGNATURE
    except OSError:
        return False


def _text(values: np.ndarray) -> list[str]:
    return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in values]


def _column(node: Any, where: str) -> list[str]:
    """One ``obs``/``var`` column (or an ``_index``) as text; a missing value is ``""``."""
    import h5py

    kind = node.attrs.get("encoding-type", "")
    if isinstance(node, h5py.Group):
        if kind == "categorical":
            codes = node["codes"][()]
            categories = _text(node["categories"][()])
            return ["" if code < 0 else categories[code] for code in codes]
        if str(kind).startswith("nullable") and "values" in node and "mask" in node:
            values, mask = node["values"][()], node["mask"][()]
            return ["" if missing else text for text, missing in zip(_text(values), mask, strict=True)]
        raise DataError(f"{where}: a column of encoding {kind!r}, which this reader does not know.")
    values = node[()]
    if values.ndim != 1:
        raise DataError(f"{where}: a column of shape {values.shape}; expected one value per row.")
    if values.dtype.kind == "f":
        return ["" if np.isnan(v) else repr(float(v)).removesuffix(".0") for v in values]
    if values.dtype.kind == "b":
        return ["True" if v else "False" for v in values]
    return _text(values)


def _frame(group: Any, path: Path, name: str) -> tuple[list[str], pd.DataFrame]:
    """``obs`` or ``var``: the ids and the columns, as text."""
    import h5py

    if not isinstance(group, h5py.Group) or group.attrs.get("encoding-type") != "dataframe":
        raise DataError(
            f"{path.name}: '{name}' is not a data frame in AnnData's format (encoding-type 'dataframe'); "
            "files written by anndata before 0.7 are not read: open and save them again with a newer anndata."
        )
    index = str(group.attrs.get("_index", "_index"))
    if index not in group:
        raise DataError(f"{path.name}: '{name}' has no index '{index}' (its ids).")
    ids = _column(group[index], f"{path.name}: {name}/{index}")
    order = [str(c) for c in np.atleast_1d(group.attrs.get("column-order", []))]
    columns = {c: _column(group[c], f"{path.name}: {name}/{c}") for c in order if c in group}
    return ids, pd.DataFrame(columns, index=pd.Index(ids, dtype=object), dtype=object)


def _matrix(node: Any, path: Path, name: str) -> np.ndarray:
    """``X`` or a layer as a dense float64 array (samples × genes)."""
    import h5py
    import scipy.sparse

    kind = node.attrs.get("encoding-type", "array" if isinstance(node, h5py.Dataset) else "")
    if isinstance(node, h5py.Dataset):
        values = node[()]
        if values.ndim != 2:
            raise DataError(f"{path.name}: '{name}' has shape {values.shape}; expected samples × genes.")
    elif kind in ("csr_matrix", "csc_matrix"):
        shape = tuple(int(n) for n in node.attrs["shape"])
        parts = (node["data"][()], node["indices"][()], node["indptr"][()])
        sparse = scipy.sparse.csr_matrix if kind == "csr_matrix" else scipy.sparse.csc_matrix
        values = sparse(parts, shape=shape).toarray()
    else:
        raise DataError(f"{path.name}: '{name}' is of encoding {kind!r}; expected a dense or sparse matrix.")
    if values.dtype.kind not in "fiub":
        raise DataError(f"{path.name}: '{name}' holds {values.dtype} values; expected numbers.")
    return values.astype(np.float64)


def read_h5ad(
    path: str | Path, *, layer: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The values (``X``, or ``layers/<layer>``), ``obs`` and ``var`` of an ``.h5ad`` file.

    Returns
    -------
    values : pandas.DataFrame
        samples (``obs`` ids) × genes (``var`` ids), float64, as stored (missing values as NaN).
    obs, var : pandas.DataFrame
        Every column as text, indexed by the ids.

    Raises
    ------
    DataError
        Not an HDF5 file (or a damaged one), no ``X`` or no such layer (naming those there are), a matrix
        whose shape disagrees with ``obs`` and ``var``, or columns of an encoding it does not know.
    """
    import h5py

    path = Path(path)
    if not is_h5ad(path):
        raise DataError(f"{path}: not an HDF5 file (an .h5ad file starts with HDF5's signature).")
    try:
        with h5py.File(path, "r") as handle:
            obs_ids, obs = _frame(handle.get("obs"), path, "obs")
            var_ids, var = _frame(handle.get("var"), path, "var")
            if layer is None:
                if "X" not in handle:
                    raise DataError(f"{path.name}: no matrix 'X'; name one of its layers with layer:.")
                values, name = _matrix(handle["X"], path, "X"), "X"
            else:
                layers = sorted(handle["layers"]) if "layers" in handle else []
                if layer not in layers:
                    raise DataError(f"{path.name}: no layer {layer!r}; its layers are {layers}.")
                values, name = _matrix(handle["layers"][layer], path, f"layers/{layer}"), f"layers/{layer}"
    except OSError as exc:  # h5py's word for a damaged or truncated file
        raise DataError(
            f"{path}: cannot be read as HDF5 ({exc}); the file may be damaged or cut short."
        ) from exc
    if values.shape != (len(obs_ids), len(var_ids)):
        raise DataError(
            f"{path.name}: '{name}' is {values.shape[0]} × {values.shape[1]}, but obs lists {len(obs_ids)} "
            f"samples and var {len(var_ids)} genes."
        )
    frame = pd.DataFrame(
        values, index=pd.Index(obs_ids, name="sample"), columns=pd.Index(var_ids, name="gene")
    )
    return frame, obs, var


def _write_text(group: Any, name: str, values: list[str]) -> None:
    import h5py

    data = group.create_dataset(name, data=np.array(values, dtype=object), dtype=h5py.string_dtype())
    data.attrs.update({"encoding-type": "string-array", "encoding-version": "0.2.0"})


def _write_frame(group: Any, frame: pd.DataFrame) -> None:
    """A data frame of text columns; a column with fewer distinct values than rows is categorical."""
    import h5py

    group.attrs.update({"encoding-type": "dataframe", "encoding-version": "0.2.0", "_index": "_index"})
    order = np.array([str(c) for c in frame.columns], dtype=object)
    group.attrs.create("column-order", order, dtype=h5py.string_dtype())
    _write_text(group, "_index", [str(i) for i in frame.index])
    for column in frame.columns:
        dtype = frame[column].dtype
        values = frame[column].astype(object).where(frame[column].notna(), "").astype(str)
        if isinstance(dtype, pd.CategoricalDtype):  # its order kept (the classes: reference first)
            categories = [str(c) for c in dtype.categories if str(c) in set(values)]
        else:
            categories = sorted(set(values) - {""})
        if len(categories) < len(values):
            codes = values.map({c: i for i, c in enumerate(categories)}).fillna(-1).astype(np.int32)
            node = group.create_group(str(column))
            node.attrs.update({"encoding-type": "categorical", "encoding-version": "0.2.0", "ordered": False})
            node.create_dataset("codes", data=codes.to_numpy())
            node["codes"].attrs.update({"encoding-type": "array", "encoding-version": "0.2.0"})
            _write_text(node, "categories", categories)
        else:
            _write_text(group, str(column), values.tolist())


def _write_dict(group: Any, values: Mapping[str, object]) -> None:
    import h5py

    group.attrs.update({"encoding-type": "dict", "encoding-version": "0.1.0"})
    for key, value in values.items():
        if isinstance(value, Mapping):
            _write_dict(group.create_group(key), value)
        else:
            node = group.create_dataset(key, data=str(value), dtype=h5py.string_dtype())
            node.attrs.update({"encoding-type": "string", "encoding-version": "0.2.0"})


def write_h5ad(
    path: str | Path, values: pd.DataFrame, obs: pd.DataFrame, var: pd.DataFrame, uns: Mapping[str, object]
) -> None:
    """Write an ``.h5ad`` file anndata reads: dense float64 ``X`` (``values``, samples × genes), ``obs`` and
    ``var`` (text columns, indexed by ``values``' ids) and ``uns`` (nested dictionaries of text).

    The file is written beside ``path`` and moved into place whole (nothing half-written is left).
    """
    import os

    import h5py

    path = Path(path)
    if not (obs.index.equals(values.index) and var.index.equals(values.columns)):
        raise ValueError("obs and var must be indexed by the values' samples and genes.")
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        with h5py.File(temporary, "w") as handle:
            handle.attrs.update({"encoding-type": "anndata", "encoding-version": "0.1.0"})
            handle.create_dataset("X", data=values.to_numpy(dtype=np.float64))
            handle["X"].attrs.update({"encoding-type": "array", "encoding-version": "0.2.0"})
            _write_frame(handle.create_group("obs"), obs)
            _write_frame(handle.create_group("var"), var)
            _write_dict(handle.create_group("uns"), uns)
            for empty in ("layers", "obsm", "obsp", "varm", "varp"):
                _write_dict(handle.create_group(empty), {})
        os.replace(temporary, path)
    finally:  # nothing half-written is left behind, whatever failed
        temporary.unlink(missing_ok=True)

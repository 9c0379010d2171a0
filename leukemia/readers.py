"""Readers for the expression-matrix formats people bring: CSV/TSV, GCT 1.2/1.3 + CLS, GEO series matrix.

Every reader returns an :class:`ExpressionMatrix` — samples × genes floats, sample and gene ids, gene
descriptions where the file has them — after the same checks: no duplicated gene or sample id, every
value a number, no missing value (unless ``missing="drop-genes"``). Errors name the file, the line or
column, and what was expected. pandas parses the tables; the Broad formats (GCT 1.2, CLS) and the
GEO series-matrix header are simple line formats parsed here (no maintained Python library reads
them: GenePattern's own readers are R/Java, and GEOparse parses the full SOFT format, not this table).
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from leukemia.data import ACCESSION_COLUMN, DataError
from leukemia.h5ad import is_h5ad, read_h5ad

__all__ = [
    "FORMATS",
    "ExpressionMatrix",
    "detect_format",
    "mangled_gene_ids",
    "read_anndata",
    "read_annotation",
    "read_cls",
    "read_gct",
    "read_geo_series_matrix",
    "read_golub_csv",
    "read_matrix",
    "read_table",
    "write_gct",
]

#: The formats a ``dataset.yaml`` may name (``golub-csv``: the Golub files' form, an intensity and a ``call``
#: column per sample).
FORMATS = ("csv", "tsv", "gct", "geo-series-matrix", "golub-csv", "h5ad")
MISSING_POLICIES = ("error", "drop-genes")
_MISSING_TEXT = {"", "na", "nan", "null", "none", "#n/a", "n/a"}

# Spreadsheet programs turn gene symbols such as SEPT2 or MARCH1 into dates (Ziemann et al. 2016).
_MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
_DATE_LIKE = re.compile(
    rf"^(\d{{1,2}}-({_MONTHS})|({_MONTHS})-\d{{1,2}}|\d{{4}}-\d{{2}}-\d{{2}}.*)$", re.IGNORECASE
)


@dataclass(frozen=True)
class ExpressionMatrix:
    """One expression file, parsed and checked."""

    X: pd.DataFrame
    """samples × genes, float64; index: sample ids (``sample``), columns: gene ids (``gene``)."""
    genes: pd.DataFrame
    """One row per gene id, column ``description`` (empty where the file has none)."""
    path: Path
    samples: pd.DataFrame | None = None
    """Annotations the file carries of its samples (a GCT 1.3's column fields, an h5ad's ``obs``), one row per
    sample id, as text; None for formats that carry none."""


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def _first_lines(path: Path, n: int = 5) -> list[str]:
    try:
        with _open_text(path) as handle:
            return [line for _, line in zip(range(n), handle, strict=False)]
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise DataError(f"{path}: cannot be read as text ({exc}).") from exc


def detect_format(path: Path) -> str:
    """The format of an expression file, from its name and first lines.

    Raises
    ------
    DataError
        When neither the name nor the content says which of :data:`FORMATS` it is.
    """
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(".h5ad") or is_h5ad(path):
        return "h5ad"
    lines = _first_lines(path)
    if name.endswith(".gct") or (lines and lines[0].startswith("#1.2")):
        return "gct"
    if "series_matrix" in name or any(line.startswith("!Series_") for line in lines):
        return "geo-series-matrix"
    if lines and lines[0].startswith("#1.3"):
        return "gct"
    if lines and ACCESSION_COLUMN in lines[0] and re.search(r"(^|[,\t])\"?call\"?([,\t]|$)", lines[0]):
        return "golub-csv"
    if name.endswith((".tsv", ".txt", ".tab")) or (lines and lines[0].count("\t") > lines[0].count(",")):
        return "tsv"
    if name.endswith(".csv") or (lines and lines[0].count(",") > 0):
        return "csv"
    raise DataError(
        f"{path}: cannot tell its format from the name or content; set format: one of {list(FORMATS)}."
    )


def mangled_gene_ids(ids: Sequence[str]) -> list[str]:
    """Gene ids that look like dates a spreadsheet made of symbols (``1-Mar``, ``2-Sep``, ``2006-09-02``)."""
    return [i for i in ids if _DATE_LIKE.match(str(i).strip())]


def _where(text: pd.DataFrame, row: int, column: str, first_line: int, transposed: bool) -> str:
    """Where cell (``row``, ``column``) of the genes × samples ``text`` is in its file.

    ``transposed``: the file holds samples in rows and genes in columns (it was transposed on reading).
    """
    gene = text.index[row]
    if transposed:
        line = first_line + text.columns.get_loc(column)
        return f"gene column '{gene}', line {line} (sample {column})"
    return f"sample column '{column}', line {first_line + row} (gene {gene})"


def _numbers(text: pd.DataFrame, path: Path, first_line: int, missing: str, transposed: bool) -> pd.DataFrame:
    """Convert a genes × samples frame of text to floats; refuse non-numbers and (unless told) gaps."""
    stripped = text.apply(lambda column: column.str.strip())
    gaps = stripped.isna() | stripped.apply(lambda column: column.str.lower().isin(_MISSING_TEXT))
    numbers = stripped.apply(lambda column: pd.to_numeric(column, errors="coerce")).astype("float64")
    bad = numbers.isna() & ~gaps
    if bad.to_numpy().any():
        row, column = _first_true(bad)
        found = text.iloc[row][column]
        raise DataError(
            f"{path.name}: {int(bad.to_numpy().sum())} value(s) are not numbers; the first is in "
            f"{_where(text, row, column, first_line, transposed)}: {found!r}."
        )
    if gaps.to_numpy().any():
        row, column = _first_true(gaps)
        n_genes, n_values = int(gaps.any(axis=1).sum()), int(gaps.to_numpy().sum())
        if missing != "drop-genes":
            raise DataError(
                f"{path.name}: {n_values} missing value(s) in {n_genes} gene(s); the first is in "
                f"{_where(text, row, column, first_line, transposed)}. Fill them, or set "
                "`missing: drop-genes` in dataset.yaml to leave those genes out."
            )
        warnings.warn(
            f"{path.name}: left out {n_genes} gene(s) with missing values (missing: drop-genes).",
            stacklevel=4,  # _numbers < _matrix < the reader < its caller (the date warning: 3 from _matrix)
        )
        numbers = numbers[~gaps.any(axis=1)]
    if not np.isfinite(numbers.to_numpy()).all():
        row, column = _first_true(~np.isfinite(numbers))
        raise DataError(
            f"{path.name}: infinite value in "
            f"{_where(text, text.index.get_loc(numbers.index[row]), column, first_line, transposed)}."
        )
    return numbers + 0.0  # -0 becomes 0


def _fast_numbers(
    source: Path | io.StringIO, sep: str, skiprows: int | list[int], text_columns: int, n_columns: int
) -> pd.DataFrame | None:
    """The whole table parsed as numbers in one pass of pandas' C parser, or None if it is not clean.

    Reading every cell as text first (what :func:`_numbers` needs to say which cell is wrong) makes a
    Python string of each of them: 110 million for a 54,675 × 2,000 study, minutes and over 10 GB.
    Clean files take this path; a file with a cell that is not a finite number, or a gap, returns
    None here, and the caller reads it the checked way, which finds the cell and names it. pandas
    parses a number the same way on both paths (a test compares them on real files).
    """
    dtypes: dict[int, type | str] = {i: str for i in range(text_columns)}
    dtypes.update(dict.fromkeys(range(text_columns, n_columns), "float64"))
    try:
        table = pd.read_csv(
            source,
            sep=sep,
            dtype=dtypes,
            keep_default_na=False,
            na_values=[""],
            skiprows=skiprows,
            encoding="utf-8-sig",
            quotechar='"',
            engine="c",
        )
    except (ValueError, pd.errors.ParserError, OSError, UnicodeDecodeError, EOFError):
        return None
    finally:
        if isinstance(source, io.StringIO):
            source.seek(0)
    values = table.iloc[:, text_columns:]
    if table.shape[1] != n_columns or not all(t == np.float64 for t in values.dtypes):
        return None
    if not np.isfinite(values.to_numpy()).all():
        return None
    return table


def _first_true(mask: pd.DataFrame) -> tuple[int, str]:
    array = np.asarray(mask)
    row, col = np.argwhere(array)[0]
    return int(row), str(mask.columns[col])


def _check_ids(ids: pd.Index, path: Path, what: str) -> None:
    empty = np.flatnonzero(ids.isna() | (ids.astype(str).str.strip() == ""))
    if empty.size:
        raise DataError(f"{path.name}: an empty {what} id (the {what} at position {int(empty[0]) + 1}).")
    repeated = ids[ids.duplicated()].unique().tolist()
    if repeated:
        raise DataError(
            f"{path.name}: duplicated {what} id(s) {repeated[:5]}{' …' if len(repeated) > 5 else ''}."
        )


def _matrix(
    text: pd.DataFrame,
    descriptions: pd.Series | None,
    path: Path,
    first_line: int,
    missing: str,
    transposed: bool = False,
) -> ExpressionMatrix:
    """genes × samples text (index: gene ids) → checked :class:`ExpressionMatrix`.

    ``transposed``: the file has samples in rows (errors then name a gene column and a sample's line).
    """
    if missing not in MISSING_POLICIES:
        raise DataError(f"missing must be one of {list(MISSING_POLICIES)}, got {missing!r}.")
    if text.shape[0] == 0 or text.shape[1] == 0:
        raise DataError(f"{path.name}: no {'gene rows' if text.shape[0] == 0 else 'sample columns'}.")
    text.index = pd.Index(text.index.astype(str).str.strip(), name="gene")
    text.columns = pd.Index([str(c).strip() for c in text.columns], name="sample")
    _check_ids(text.index, path, "gene")
    _check_ids(text.columns, path, "sample")
    mangled = mangled_gene_ids(text.index.tolist())
    if mangled:
        warnings.warn(
            f"{path.name}: {len(mangled)} gene id(s) look like dates a spreadsheet made of gene symbols "
            f"(e.g. {mangled[:3]}; Ziemann et al. 2016): check the file's origin.",
            stacklevel=3,
        )
    if all(dtype == np.float64 for dtype in text.dtypes):  # read by _fast_numbers: clean already
        numbers = text + 0.0  # -0 becomes 0, as in _numbers
    else:
        numbers = _numbers(text, path, first_line, missing, transposed)
    X = numbers.T
    X.index.name, X.columns.name = "sample", "gene"
    if descriptions is None:
        descriptions = pd.Series("", index=text.index)
    genes = descriptions.reindex(X.columns).fillna("").astype(str).rename("description").to_frame()
    genes.index.name = "gene"
    return ExpressionMatrix(X, genes, path)


def _header(path: Path, sep: str, skiprows: int = 0) -> list[str]:
    """The header line's cells as written (pandas renames repeated names, hiding duplicates)."""
    lines = _first_lines(path, skiprows + 1)
    if len(lines) <= skiprows:
        return []
    return [cell.strip() for cell in next(csv.reader([lines[skiprows]], delimiter=sep))]


def _read_text_table(path: Path, sep: str, skiprows: int = 0, text_columns: int = 1) -> pd.DataFrame:
    """The table: its values as floats if every one is a finite number, else all cells as text."""
    header = _header(path, sep, skiprows)
    repeated = sorted({cell for cell in header[1:] if header.count(cell) > 1})
    if repeated:
        raise DataError(f"{path.name}: duplicated id(s) {repeated[:5]} in the header line.")
    if len(header) > text_columns:
        fast = _fast_numbers(path, sep, skiprows, text_columns, len(header))
        if fast is not None:
            return fast
    try:
        return pd.read_csv(
            path, sep=sep, dtype=str, keep_default_na=False, encoding="utf-8-sig", skiprows=skiprows
        )
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{path}: the file is empty.") from exc
    except pd.errors.ParserError as exc:
        raise DataError(
            f"{path}: not a readable {'tab' if sep == chr(9) else 'comma'}-separated table: {exc}"
        ) from exc
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise DataError(f"{path}: cannot be read ({exc}).") from exc


def read_table(
    path: str | Path, *, sep: str | None = None, orientation: str = "genes-by-samples", missing: str = "error"
) -> ExpressionMatrix:
    """A CSV or TSV matrix (gzip too): the first column holds the ids, the header the other axis's ids.

    Parameters
    ----------
    sep
        ``","`` or ``"\\t"``; by default from the header line.
    orientation
        ``"genes-by-samples"`` (one row per gene, the usual export) or ``"samples-by-genes"``.
    missing
        ``"error"`` or ``"drop-genes"`` (leave out genes with a missing value, with a warning).
    """
    path = Path(path)
    if orientation not in ("genes-by-samples", "samples-by-genes"):
        raise DataError(f"orientation must be genes-by-samples or samples-by-genes, got {orientation!r}.")
    if sep is None:
        header = _first_lines(path, 1)
        sep = "\t" if header and header[0].count("\t") > header[0].count(",") else ","
    raw = _read_text_table(path, sep)
    if raw.shape[1] < 2:
        raise DataError(
            f"{path.name}: one column only; expected ids in the first column and values after it."
        )
    raw = raw.set_index(raw.columns[0])
    if orientation == "samples-by-genes":
        return _matrix(raw.T, None, path, first_line=2, missing=missing, transposed=True)
    return _matrix(raw, None, path, first_line=2, missing=missing)


def read_gct(path: str | Path, *, missing: str = "error") -> ExpressionMatrix:
    """A Broad GCT file, version 1.2 or 1.3, one row per gene.

    1.2: ``#1.2``, ``genes samples``, ``Name  Description  sample…``, then the genes.
    1.3: ``#1.3``, ``genes samples row-fields column-fields``, ``id  row-field…  sample…``, one line per
    column field (its name, a placeholder per row field, a value per sample), then the genes. The column
    fields become :attr:`ExpressionMatrix.samples` (sample annotations, as a GEO series matrix's are); of
    the row fields, a symbol column (:data:`ANNOTATION_COLUMNS`, or CMap's ``pr_gene_symbol``) gives
    ``symbol`` and a title or description column gives ``description``.

    Raises
    ------
    DataError
        A wrong version line, a dimension line that disagrees with the table, or any check of
        :func:`read_table`.
    """
    path = Path(path)
    head = _first_lines(path, 3)
    version = head[0].strip() if head else ""
    if version not in ("#1.2", "#1.3"):
        raise DataError(
            f"{path.name}: line 1 must be '#1.2' or '#1.3' (the GCT version), found {version[:20]!r}."
        )
    wanted = 2 if version == "#1.2" else 4
    try:
        dimensions = [int(x) for x in head[1].split()[:wanted]]
        if len(dimensions) < wanted or min(dimensions) < 0:
            raise ValueError
    except (IndexError, ValueError):
        what = "genes and samples" if wanted == 2 else "genes, samples, row fields and column fields"
        found = head[1].strip() if len(head) > 1 else ""
        raise DataError(
            f"{path.name}: line 2 must give the numbers of {what} (GCT {version[1:]}), found {found!r}."
        ) from None
    if version == "#1.3":
        return _read_gct_13(path, *dimensions, missing=missing)
    n_rows, n_columns = dimensions
    raw = _read_text_table(path, "\t", skiprows=2, text_columns=2)
    if list(raw.columns[:2]) != ["Name", "Description"]:
        raise DataError(
            f"{path.name}: line 3 must start with 'Name<TAB>Description', found {list(raw.columns[:2])}."
        )
    if raw.shape != (n_rows, n_columns + 2):
        raise DataError(
            f"{path.name}: line 2 says {n_rows} genes × {n_columns} samples, the table holds "
            f"{raw.shape[0]} × {raw.shape[1] - 2}."
        )
    raw = raw.set_index("Name")
    descriptions = raw.pop("Description").replace({"na": "", "NA": ""})
    return _matrix(raw, descriptions, path, first_line=4, missing=missing)


def _read_gct_13(
    path: Path, n_rows: int, n_columns: int, n_row_fields: int, n_column_fields: int, *, missing: str
) -> ExpressionMatrix:
    header = _header(path, "\t", 2)
    if len(header) != 1 + n_row_fields + n_columns:
        raise DataError(
            f"{path.name}: line 2 says {n_row_fields} row field(s) and {n_columns} samples, so line 3 must "
            f"hold 1 + {n_row_fields} + {n_columns} = {1 + n_row_fields + n_columns} cells; it holds "
            f"{len(header)}."
        )
    repeated = sorted({cell for cell in header[1:] if header.count(cell) > 1})
    if repeated:
        raise DataError(f"{path.name}: duplicated id(s) {repeated[:5]} in the header line.")
    lines = _first_lines(path, 3 + n_column_fields)
    if len(lines) < 3 + n_column_fields:
        raise DataError(
            f"{path.name}: line 2 says {n_column_fields} column field(s), but the file ends after "
            f"{len(lines)} lines."
        )
    fields = [next(csv.reader([line.rstrip("\r\n")], delimiter="\t")) for line in lines[3:]]
    for number, cells in enumerate(fields, start=4):
        if len(cells) != len(header):
            raise DataError(
                f"{path.name}: line {number} (column field {cells[0]!r}) holds {len(cells)} cells, the "
                f"header {len(header)}; line 2 says {n_column_fields} column field(s)."
            )
    placeholder = {"na", "-666"}  # how GCT writers (CMap's, write_gct) mark a missing value
    samples = pd.DataFrame(
        {
            cells[0].strip(): [
                "" if c.strip() in placeholder else c.strip() for c in cells[1 + n_row_fields :]
            ]
            for cells in fields
        },
        index=pd.Index(header[1 + n_row_fields :], name="sample"),
    )
    skip = [0, 1, *range(3, 3 + n_column_fields)]  # the header (line 3) stays
    text_columns = 1 + n_row_fields
    raw = _fast_numbers(path, "\t", skip, text_columns, len(header))
    if raw is None:
        raw = pd.read_csv(
            path, sep="\t", dtype=str, keep_default_na=False, encoding="utf-8-sig", skiprows=skip
        )
    if raw.shape != (n_rows, len(header)):
        raise DataError(
            f"{path.name}: line 2 says {n_rows} genes × {n_columns} samples, the table holds "
            f"{raw.shape[0]} × {raw.shape[1] - text_columns} after its {n_column_fields} column-field "
            "line(s)."
        )
    raw = raw.set_index(raw.columns[0])
    row_fields = raw.iloc[:, :n_row_fields].astype(str)
    raw = raw.iloc[:, n_row_fields:]
    by_key = {_key(c): c for c in reversed(list(row_fields.columns))}

    def field(role: str) -> pd.Series | None:
        found = next((by_key[k] for k in (*ANNOTATION_COLUMNS[role], f"prgene{role}") if k in by_key), None)
        if found is None and role == "name":
            found = by_key.get("prgenetitle")
        if found is None:
            return None
        values = row_fields[found].str.strip()
        return values.where(~values.str.lower().isin(_NO_VALUE), "")

    descriptions = field("name")
    matrix = _matrix(raw, descriptions, path, first_line=4 + n_column_fields, missing=missing)
    symbols = field("symbol")
    genes = matrix.genes
    if symbols is not None:
        symbols.index = symbols.index.astype(str).str.strip()
        genes = genes.assign(symbol=symbols.reindex(genes.index).fillna("").to_numpy())
    return ExpressionMatrix(matrix.X, genes, path, samples)


def write_gct(path: str | Path, X: pd.DataFrame, genes: pd.DataFrame, samples: pd.DataFrame) -> None:
    """Write GCT 1.3: ``X`` (samples × genes) with ``genes``' columns as row fields and ``samples``' as column
    fields (text; an empty value is written ``na``), whole or not at all. :func:`read_gct` reads it back."""
    import os

    path = Path(path)
    rows, columns = genes.astype(str).replace("", "na"), samples.astype(str).replace("", "na")
    filler = ["na"] * len(rows.columns)
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8", newline="") as handle:
            out = csv.writer(handle, delimiter="\t", lineterminator="\n")
            handle.write(f"#1.3\n{X.shape[1]}\t{X.shape[0]}\t{len(rows.columns)}\t{len(columns.columns)}\n")
            out.writerow(["id", *rows.columns, *X.index])
            for field in columns.columns:
                out.writerow([field, *filler, *columns.loc[X.index, field]])
            table = X.T.astype(float).map(lambda v: repr(float(v)))  # repr: the shortest exact text
            for gene, values in zip(X.columns, table.to_numpy(), strict=True):
                out.writerow([gene, *rows.loc[gene], *values])
        os.replace(temporary, path)
    finally:  # nothing half-written is left behind, whatever failed
        temporary.unlink(missing_ok=True)


def read_golub_csv(path: str | Path) -> ExpressionMatrix:
    """A file in the Golub files' form (``Gene Description``, ``Gene Accession Number``, then per sample an
    intensity column named by its number and a ``call`` column), read by :func:`leukemia.data.read_expression`
    with its checks; the detection calls are not kept."""
    from leukemia.data import read_expression

    path = Path(path)
    parsed = read_expression(path)
    X = parsed.intensities.copy()
    X.index = pd.Index(X.index.astype(str), name="sample")
    X.columns = pd.Index(X.columns.astype(str), name="gene")
    genes = parsed.descriptions.fillna("").astype(str).rename("description").to_frame()
    genes.index = pd.Index(genes.index.astype(str), name="gene")
    return ExpressionMatrix(X, genes, path)


def read_cls(path: str | Path, samples: Sequence[str]) -> pd.Series:
    """A Broad CLS file: ``n_samples n_classes 1``, ``# name…``, one label per sample (names or numbers).

    The labels are in the order of the expression file's samples, given as ``samples``.

    Raises
    ------
    DataError
        A header that disagrees with the labels, or a count that differs from ``samples``.
    """
    path = Path(path)
    lines = [line.strip() for line in _first_lines(path, 4) if line.strip()]
    if len(lines) < 3:
        raise DataError(
            f"{path.name}: a CLS file has three lines (counts, '# class names', labels); found {len(lines)}."
        )
    try:
        n_samples, n_classes = (int(x) for x in lines[0].split()[:2])
    except ValueError:
        raise DataError(f"{path.name}: line 1 must be '<samples> <classes> 1', found {lines[0]!r}.") from None
    if not lines[1].startswith("#"):
        raise DataError(f"{path.name}: line 2 must list the class names after '#', found {lines[1][:40]!r}.")
    names = lines[1].lstrip("#").split()
    labels = lines[2].split()
    if len(names) != n_classes:
        raise DataError(f"{path.name}: line 1 says {n_classes} classes, line 2 names {len(names)}: {names}.")
    if len(labels) != n_samples:
        raise DataError(f"{path.name}: line 1 says {n_samples} samples, line 3 holds {len(labels)} labels.")
    if all(label.isdigit() for label in labels):
        if max(int(label) for label in labels) >= len(names):
            raise DataError(f"{path.name}: a label number is larger than the {len(names)} class names allow.")
        labels = [names[int(label)] for label in labels]
    unknown = sorted(set(labels) - set(names))
    if unknown:
        raise DataError(f"{path.name}: label(s) {unknown[:5]} are not among the class names {names}.")
    if len(labels) != len(samples):
        raise DataError(
            f"{path.name}: {len(labels)} labels for {len(samples)} samples in the expression file "
            "(a CLS file lists one label per sample, in the expression file's order)."
        )
    return pd.Series(labels, index=pd.Index(list(samples), name="sample"), name="class")


def read_geo_series_matrix(
    path: str | Path, *, missing: str = "error"
) -> tuple[ExpressionMatrix, pd.DataFrame]:
    """A GEO series-matrix text file (gzip too): the table and the samples' ``!Sample_`` annotations.

    Returns
    -------
    matrix : ExpressionMatrix
    samples : pandas.DataFrame
        One row per sample (GEO accession), one column per ``!Sample_`` field; the ``key: value`` pairs of
        the ``!Sample_characteristics_ch1`` lines become one column per key, whatever line each is on
        (:func:`_characteristics`).

    Raises
    ------
    DataError
        No ``!series_matrix_table_begin`` / ``_end``, or any check of :func:`read_table`.
    """
    path = Path(path)
    header: list[list[str]] = []
    table: list[str] = []
    state = "header"
    with _open_text(path) as handle:
        for number, line in enumerate(handle, start=1):
            if line.startswith("!series_matrix_table_begin"):
                state, begin = "table", number
            elif line.startswith("!series_matrix_table_end"):
                state = "end"
                break
            elif state == "table":
                table.append(line)
            elif line.startswith("!Sample_"):
                header.append([cell.strip().strip('"') for cell in line.rstrip("\r\n").split("\t")])
    if state == "header":
        raise DataError(f"{path.name}: no '!series_matrix_table_begin' line: not a GEO series matrix.")
    if state != "end":
        raise DataError(
            f"{path.name}: the table has no '!series_matrix_table_end' line (the file is cut short?)."
        )
    text = io.StringIO("".join(table))
    n_columns = len(next(csv.reader([table[0]], delimiter="\t"))) if table else 0
    raw = _fast_numbers(text, "\t", 0, 1, n_columns) if n_columns > 1 else None
    if raw is None:
        raw = pd.read_csv(text, sep="\t", dtype=str, keep_default_na=False, quotechar='"')
    raw = raw.set_index(raw.columns[0])
    matrix = _matrix(raw, None, path, first_line=begin + 2, missing=missing)
    columns: dict[str, list[str]] = {}
    n_samples = max((len(cells) - 1 for cells in header), default=0)
    for cells in header:
        field, values = cells[0].removeprefix("!Sample_"), cells[1:]
        if field.startswith("characteristics"):
            _characteristics(columns, field, values, n_samples)
        else:
            columns.setdefault(field, values + [""] * (n_samples - len(values)))
    samples = pd.DataFrame(columns)
    if "geo_accession" in samples:
        samples = samples.set_index("geo_accession")
    else:
        samples.index = matrix.X.index[: len(samples)]
    samples.index.name = "sample"
    return matrix, samples


def _characteristics(columns: dict[str, list[str]], field: str, values: list[str], n_samples: int) -> None:
    """Add one ``!Sample_characteristics_ch1`` line to ``columns``, a column per key.

    GEO writes one ``key: value`` per sample on each such line, but not always the same key on a line
    (samples annotated differently), and a sample may carry one key twice (two treatments). Each value
    goes to its own key's column; a sample's second value for a key is joined to its first with ``"; "``;
    a sample without that key on any line has ``""``. A value with no ``key:`` goes to the line's name.
    """
    for sample, cell in enumerate(values):
        if not cell.strip():
            continue
        key, value = cell.split(":", 1) if ":" in cell else (field, cell)
        key, value = key.strip() or field, value.strip()
        column = columns.setdefault(key, [""] * n_samples)
        column[sample] = f"{column[sample]}; {value}" if column[sample] else value


def read_anndata(path: str | Path, *, layer: str | None = None, missing: str = "error") -> ExpressionMatrix:
    """An AnnData ``.h5ad`` file (:func:`leukemia.h5ad.read_h5ad`): ``X`` or ``layers/<layer>``, samples as
    ``obs`` and genes as ``var``; ``obs`` becomes :attr:`ExpressionMatrix.samples`, and ``var``'s symbol and
    title columns (found by name as in :func:`read_annotation`; also CELLxGENE's ``feature_name``) the genes'
    ``symbol`` and ``description``. The same checks as every reader; a missing value (NaN) is refused, or its
    gene left out with ``missing="drop-genes"``.
    """
    path = Path(path)
    values, obs, var = read_h5ad(path, layer=layer)
    where = "X" if layer is None else f"layers/{layer}"
    bad = ~np.isfinite(values.to_numpy())
    if bad.any():
        row, column = (int(i) for i in np.argwhere(bad)[0])
        sample, gene = values.index[row], values.columns[column]
        nan = np.isnan(values.to_numpy())
        infinite = bool((bad & ~nan).any())
        if missing != "drop-genes" or infinite:
            hint = "" if infinite else " Fill them, or set `missing: drop-genes` to leave those genes out."
            raise DataError(
                f"{path.name}: {int(bad.sum())} value(s) of '{where}' are missing or infinite; the first is "
                f"sample {sample!r} (obs row {row + 1}), gene {gene!r} (var row {column + 1}): "
                f"{values.to_numpy()[row, column]}.{hint}"
            )
        dropped = values.columns[nan.any(axis=0)]
        warnings.warn(
            f"{path.name}: left out {len(dropped)} gene(s) with missing values (missing: drop-genes).",
            stacklevel=3,
        )
        values = values.drop(columns=dropped)
    by_key = {_key(c): c for c in reversed(list(var.columns))}

    def field(keys: tuple[str, ...]) -> pd.Series | None:
        found = next((by_key[k] for k in keys if k in by_key), None)
        if found is None:
            return None
        text = var[found].astype(str).str.strip()
        return text.where(~text.str.lower().isin(_NO_VALUE), "")

    var.index = pd.Index([str(i).strip() for i in var.index])
    descriptions = field(ANNOTATION_COLUMNS["name"])
    matrix = _matrix(values.T.copy(), descriptions, path, first_line=0, missing=missing)
    symbols = field((*ANNOTATION_COLUMNS["symbol"], "featurename"))  # CELLxGENE's name for the symbol
    genes = matrix.genes
    if symbols is not None:
        genes = genes.assign(symbol=symbols.reindex(genes.index).fillna("").to_numpy())
    obs.index = pd.Index([str(i).strip() for i in obs.index], name="sample")
    return ExpressionMatrix(matrix.X, genes, path, obs.loc[matrix.X.index].astype(str))


def read_matrix(
    path: str | Path,
    format: str = "auto",
    *,
    orientation: str = "genes-by-samples",
    missing: str = "error",
    layer: str | None = None,
) -> tuple[ExpressionMatrix, pd.DataFrame | None]:
    """An expression file in any of :data:`FORMATS` (``"auto"``: :func:`detect_format`), and the samples'
    annotations where the file has them (a GEO series matrix's ``!Sample_`` lines, a GCT 1.3's column
    fields, an h5ad's ``obs``), else None. ``layer``: an h5ad file's layer to read instead of ``X``."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file.")
    kind = detect_format(path) if format == "auto" else format
    if layer is not None and kind != "h5ad":
        raise DataError(f"{path.name}: layer: {layer!r} is given, but only an h5ad file has layers.")
    if kind == "h5ad":
        matrix = read_anndata(path, layer=layer, missing=missing)
        return matrix, matrix.samples
    if kind == "geo-series-matrix":
        return read_geo_series_matrix(path, missing=missing)
    if kind == "gct":
        matrix = read_gct(path, missing=missing)
        return matrix, matrix.samples
    if kind == "golub-csv":
        return read_golub_csv(path), None
    if kind not in ("csv", "tsv"):
        raise DataError(f"{path}: unknown format {kind!r}; choose from {list(FORMATS)}.")
    sep = "\t" if kind == "tsv" else ","
    return read_table(path, sep=sep, orientation=orientation, missing=missing), None


#: Column names :func:`read_annotation` takes for each role, compared without case, spaces or punctuation
#: (GEO's platform tables say "ID", "Gene Symbol", "Gene Title"; its .annot files "Gene symbol", "Gene title";
#: Ensembl's BioMart "Gene stable ID", "Gene name" for the symbol).
ANNOTATION_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id", "idref", "probe", "probeid", "probeset", "probesetid", "geneid", "genestableid", "gene"),
    "symbol": ("symbol", "genesymbol", "hgncsymbol", "genesymbols", "genename"),
    "name": ("genetitle", "name", "genedescription", "description", "definition", "title"),
}
_NO_VALUE = {"", "---", "na", "n/a", "nan", "null", "none", "-", "-666"}  # -666: CMap's "no value"


def _key(column: str) -> str:
    return re.sub(r"[^a-z0-9]", "", column.lower())


def read_annotation(
    path: str | Path,
    *,
    id_column: str | None = None,
    symbol_column: str | None = None,
    name_column: str | None = None,
) -> pd.DataFrame:
    """A gene annotation table: gene id → ``symbol`` and ``name`` (empty text where the table has none).

    Takes a CSV or tab-separated table (gzip or not), GEO's platform tables (``GPL…-tbl`` text with ``#``
    comment lines) and GEO's SOFT/.annot files (the table between ``!platform_table_begin`` and
    ``!platform_table_end``). Columns are found by name (:data:`ANNOTATION_COLUMNS`; the id column is
    else the first) unless given. A gene listed on several rows keeps every distinct symbol and name,
    joined with `` /// `` as GEO joins them.

    Raises
    ------
    DataError
        An unreadable file, a named column it does not have, or neither a symbol nor a name column.
    """
    path = Path(path)
    try:
        with _open_text(path) as handle:
            lines = handle.read().splitlines()
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise DataError(f"{path}: cannot be read as text ({exc}).") from exc
    starts = [i for i, line in enumerate(lines) if line.lower().startswith("!platform_table_begin")]
    if starts:
        ends = [i for i, line in enumerate(lines) if line.lower().startswith("!platform_table_end")]
        lines = lines[starts[0] + 1 : next((e for e in ends if e > starts[0]), len(lines))]
    else:
        lines = [line for line in lines if not line.startswith(("#", "!", "^"))]
    lines = [line for line in lines if line.strip()]
    if not lines:
        raise DataError(f"{path}: no annotation table in the file (a header line, then one line per gene).")
    sep = "\t" if lines[0].count("\t") >= lines[0].count(",") else ","
    try:
        table = pd.read_csv(
            io.StringIO("\n".join(lines)),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            quoting=csv.QUOTE_MINIMAL,
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise DataError(f"{path}: not a table ({exc}).") from exc
    columns = list(table.columns)

    def find(role: str, given: str | None, fallback: str | None = None) -> str | None:
        if given is not None:
            if given not in columns:
                raise DataError(
                    f"{path}: no column {given!r} (annotation {role}_column); columns: {columns[:20]}."
                )
            return given
        by_key = {_key(c): c for c in reversed(columns)}  # the first column of a name wins
        return next((by_key[k] for k in ANNOTATION_COLUMNS[role] if k in by_key), fallback)

    ids = find("id", id_column, columns[0])
    symbol = find("symbol", symbol_column)
    name = find("name", name_column)
    if symbol == ids:
        symbol = None
    if symbol is None and name is None:
        raise DataError(
            f"{path}: no gene symbol or name column (looked for {list(ANNOTATION_COLUMNS['symbol'])} and "
            f"{list(ANNOTATION_COLUMNS['name'])}, any case); columns: {columns[:20]}. "
            "Name them: annotation: {file: ..., symbol_column: ..., name_column: ...}."
        )
    assert ids is not None
    frame = pd.DataFrame(
        {
            "gene": table[ids].str.strip(),
            "symbol": table[symbol].str.strip() if symbol else "",
            "name": table[name].str.strip() if name else "",
        }
    )
    frame = frame[frame["gene"] != ""]
    for column in ("symbol", "name"):
        frame.loc[frame[column].str.lower().isin(_NO_VALUE), column] = ""

    if not frame["gene"].duplicated().any():
        return frame.set_index("gene")

    def joined(values: pd.Series) -> str:
        return " /// ".join(dict.fromkeys(v for v in values if v))

    return frame.groupby("gene", sort=False).agg(joined)

"""Fetch, verify and load the Golub et al. (1999) leukemia data (Kaggle CSV form).

The expression files hold one row per Affymetrix probe and, for every patient, an intensity
column followed by its detection ``call`` column.  The patient columns are *not* in numeric
order, so labels from ``actual.csv`` are always joined on the patient number, never by position.
"""

from __future__ import annotations

import re
import shutil
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pooch

from leukemia import config
from leukemia.dataset import Dataset, encode_labels, labels_of

__all__ = [
    "CLASSES",
    "DataError",
    "GolubData",
    "encode_labels",
    "fetch",
    "load_golub",
    "read_expression",
    "read_labels",
]

#: The two classes, in the order used everywhere (ALL is the majority class).
CLASSES: tuple[str, str] = ("ALL", "AML")

DESCRIPTION_COLUMN = "Gene Description"
ACCESSION_COLUMN = "Gene Accession Number"
LABEL_COLUMNS = ("patient", "cancer")

_CALL_COLUMN = re.compile(r"^call(\.\d+)?$")
_PATIENT_COLUMN = re.compile(r"^\d+$")
_MANGLED_DUPLICATE = re.compile(r"^(\d+)\.\d+$")


class DataError(ValueError):
    """The data files are missing, corrupt or not what the analysis expects."""


# --------------------------------------------------------------------------------------
# Fetch
# --------------------------------------------------------------------------------------


class _LocalCopy:
    """A pooch downloader that takes a file from a folder or a zip (e.g. the Kaggle download).

    pooch calls it with a temporary output path; pooch then checks the hash and moves the
    file into place, so a local copy goes through exactly the same checks as a download.
    """

    def __init__(self, source: Path) -> None:
        self.source = source

    def __call__(self, url: str, output_file: str, _pooch: object) -> None:
        name = url.rsplit("/", 1)[-1]
        if self.source.is_dir():
            candidate = self.source / name
            if not candidate.is_file():
                raise DataError(
                    f"{name} is not in {self.source}: the folder given with --from must hold "
                    f"{', '.join(sorted(config.DATA_SHA256))}."
                )
            shutil.copyfile(candidate, output_file)
            return
        with zipfile.ZipFile(self.source) as archive:
            members = [m for m in archive.namelist() if m.rsplit("/", 1)[-1] == name]
            if not members:
                raise DataError(
                    f"{name} is not in the zip file {self.source}: expected the Kaggle download "
                    f"({config.KAGGLE_URL}) holding {', '.join(sorted(config.DATA_SHA256))}."
                )
            with archive.open(members[0]) as src, open(output_file, "wb") as dst:
                shutil.copyfileobj(src, dst)


def fetch(
    data_dir: str | Path | None = None,
    *,
    source: str | Path | None = None,
    base_url: str = config.DATA_BASE_URL,
    force: bool = False,
    retries: int = 2,
    progressbar: bool = True,
) -> dict[str, Path]:
    """Put the three CSV files into ``data_dir``, each verified by its sha256.

    Files already present with the right checksum are left alone.  Every new file is
    written to a temporary name, checked, and only then renamed into place, so a failed
    or corrupt transfer never leaves a partial file behind.

    Parameters
    ----------
    data_dir
        Destination folder; default :func:`leukemia.config.data_dir`.
    source
        ``None`` to download from ``base_url``; otherwise a folder holding the three files
        or a zip file containing them (the Kaggle download ``archive.zip``).
    base_url
        Where to download from when ``source`` is ``None`` (the pinned public copy).
    force
        Replace a file already in ``data_dir`` whose checksum is wrong.  Without it such a
        file is an error, so that nobody's own copy is silently overwritten.
    retries
        How many times a failed download is tried again.
    progressbar
        Show a tqdm progress bar while downloading.

    Returns
    -------
    dict
        File name to absolute path, for the three files.

    Raises
    ------
    DataError
        A source file is missing, a checksum does not match, or the download failed.
    """
    target = Path(data_dir) if data_dir is not None else config.data_dir()
    target = target.expanduser().resolve()
    local: _LocalCopy | None = None
    if source is not None:
        source_path = Path(source).expanduser().resolve()
        if not source_path.exists():
            raise DataError(f"--from {source_path}: no such file or folder.")
        if not (source_path.is_dir() or zipfile.is_zipfile(source_path)):
            raise DataError(
                f"--from {source_path}: expected a folder or a .zip file holding "
                f"{', '.join(sorted(config.DATA_SHA256))}."
            )
        local = _LocalCopy(source_path)

    for name, sha in config.DATA_SHA256.items():
        existing = target / name
        if existing.exists() and not force and pooch.file_hash(str(existing)) != sha:
            raise DataError(
                f"{existing} exists but its sha256 is not the expected {sha}. "
                "Delete it, or fetch again with --force to replace it."
            )

    if local is not None:
        base_url = local.source.as_uri()
    store = pooch.create(
        path=target,
        base_url=base_url if base_url.endswith("/") else base_url + "/",
        registry={name: f"sha256:{sha}" for name, sha in config.DATA_SHA256.items()},
        retry_if_failed=retries if local is None else 0,  # a local copy will not heal itself
        allow_updates=True,
    )
    downloader = local or pooch.HTTPDownloader(progressbar=progressbar, timeout=60)
    paths: dict[str, Path] = {}
    for name in config.DATA_SHA256:
        paths[name] = Path(_fetch_one(store, name, downloader, source))
    return paths


def _fetch_one(store: pooch.Pooch, name: str, downloader: object, source: object) -> str:
    import requests  # pooch's own HTTP library; imported here to keep start-up light

    origin = str(source) if source is not None else store.get_url(name)
    try:
        return store.fetch(name, downloader=downloader)
    except DataError:
        raise
    except ValueError as exc:  # pooch: the hash of the new file does not match
        raise DataError(
            f"{name} from {origin} does not have the expected sha256 "
            f"{config.DATA_SHA256[name]}; it was not kept. The copy is corrupt or a "
            f"different version: download it again, or get the Kaggle zip ({config.KAGGLE_URL}) "
            "and run `leukemia fetch --from archive.zip`."
        ) from exc
    except requests.exceptions.RequestException as exc:
        raise DataError(
            f"Could not download {name} from {origin} ({type(exc).__name__}). "
            f"Check the network, or download the Kaggle zip by hand ({config.KAGGLE_URL}) "
            "and run `leukemia fetch --from archive.zip`."
        ) from exc
    except OSError as exc:  # after RequestException, which is an OSError too
        raise DataError(
            f"Cannot write {name} into {store.abspath}: {exc.strerror or exc}. "
            f"Choose a writable folder with --data-dir or ${config.DATA_DIR_ENV_VAR}."
        ) from exc


# --------------------------------------------------------------------------------------
# Load
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpressionFile:
    """One expression file, parsed: intensities, detection calls and probe descriptions."""

    intensities: pd.DataFrame
    """patients × probes intensities (float64); index ``patient`` (int, sorted)."""
    calls: pd.DataFrame
    """patients × probes detection calls (``A``/``P``/``M``), same index and columns."""
    descriptions: pd.Series
    """probe accession → gene description."""


#: The Golub data are a :class:`~leukemia.dataset.Dataset` like any other (the name is kept for readers).
GolubData = Dataset


def _expected_checksum_error(path: Path, expected: str, actual: str) -> DataError:
    return DataError(
        f"{path} has sha256 {actual}, not the expected {expected}. "
        "It is not the pinned copy of the data: run `leukemia fetch --force` to replace it "
        "with a verified copy."
    )


def _verify(folder: Path, verify: bool) -> dict[str, str]:
    checksums: dict[str, str] = {}
    for name, expected in config.DATA_SHA256.items():
        path = folder / name
        if not path.is_file():
            raise DataError(
                f"{path} is missing. Run `leukemia fetch` (or `make report`) to download the "
                f"data, or point ${config.DATA_DIR_ENV_VAR} at a folder that holds it."
            )
        actual = pooch.file_hash(str(path))
        checksums[name] = actual
        if actual != expected:
            if verify:
                raise _expected_checksum_error(path, expected, actual)
            warnings.warn(
                f"{path} differs from the pinned copy (sha256 {actual}); loading it anyway "
                "because verify=False.",
                stacklevel=3,
            )
    return checksums


def _delimiter(path: Path) -> str:
    """Tab if the header line has more tabs than commas (a TSV copy of the data), else comma."""
    with open(path, encoding="utf-8-sig", errors="replace") as handle:
        header = handle.readline()
    return "\t" if header.count("\t") > header.count(",") else ","


def _read_csv_as_text(path: Path) -> pd.DataFrame:
    """Every cell as text; accepts CRLF, quoted fields, tabs and a UTF-8 byte-order mark."""
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, sep=_delimiter(path), encoding="utf-8-sig")
        raw.columns = [str(c).strip() for c in raw.columns]
        return raw
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{path} is empty.") from exc
    except pd.errors.ParserError as exc:
        raise DataError(f"{path} is not a readable CSV file: {exc}") from exc


def read_expression(path: str | Path) -> ExpressionFile:
    """Read one expression file (training or independent) and check its structure.

    Parameters
    ----------
    path
        A CSV with ``Gene Description``, ``Gene Accession Number`` and, per patient, an
        intensity column named by the patient number followed by a ``call`` column.

    Returns
    -------
    ExpressionFile

    Raises
    ------
    DataError
        Naming the file and the column or row: a missing column, a duplicated patient or
        probe, a patient column without its call column, or a cell that is not a number.
    """
    path = Path(path)
    raw = _read_csv_as_text(path)
    for required in (DESCRIPTION_COLUMN, ACCESSION_COLUMN):
        if required not in raw.columns:
            raise DataError(f"{path.name}: no '{required}' column (found {list(raw.columns[:4])}...).")
    if raw.empty:
        raise DataError(f"{path.name}: no probe rows.")
    accessions = raw[ACCESSION_COLUMN]
    duplicated = accessions[accessions.duplicated()]
    if not duplicated.empty:
        row = int(duplicated.index[0]) + 2
        raise DataError(f"{path.name}: probe '{duplicated.iloc[0]}' appears twice (again at line {row}).")
    columns = [c for c in raw.columns if c not in (DESCRIPTION_COLUMN, ACCESSION_COLUMN)]
    patients = _patient_columns(path, columns)
    numbers = _numbers(path, raw[patients], accessions)
    call_columns = [columns[columns.index(p) + 1] for p in patients]
    numbers_of_patients = np.array([int(p) for p in patients])
    order = np.argsort(numbers_of_patients, kind="stable")  # patients in numeric order
    index = pd.Index(numbers_of_patients[order], name="patient")
    probe_index = pd.Index(accessions.to_numpy(), name="probe")
    values = pd.DataFrame(numbers.to_numpy().T[order], index=index, columns=probe_index)
    # One object block: as 7129 separate string columns every later operation on the calls is slow.
    call_text = raw[call_columns].to_numpy(dtype=object).T[order]
    calls = pd.DataFrame(call_text, index=index, columns=probe_index, dtype=object)
    descriptions = pd.Series(raw[DESCRIPTION_COLUMN].to_numpy(), index=probe_index, name="description")
    return ExpressionFile(values, calls, descriptions)


def _patient_columns(path: Path, columns: list[str]) -> list[str]:
    """The patient columns, each checked to be a number followed by its ``call`` column."""
    patients: list[str] = []
    for position, column in enumerate(columns):
        if _CALL_COLUMN.match(column):
            continue
        mangled = _MANGLED_DUPLICATE.match(column)
        if mangled:
            raise DataError(f"{path.name}: patient column '{mangled.group(1)}' appears twice.")
        if not _PATIENT_COLUMN.match(column):
            raise DataError(
                f"{path.name}: unexpected column '{column}' (expected patient numbers, "
                "each followed by a 'call' column)."
            )
        following = columns[position + 1] if position + 1 < len(columns) else None
        if following is None or not _CALL_COLUMN.match(following):
            raise DataError(f"{path.name}: patient column '{column}' has no 'call' column after it.")
        patients.append(column)
    if not patients:
        raise DataError(f"{path.name}: no patient columns.")
    return patients


def _numbers(path: Path, text: pd.DataFrame, accessions: pd.Series) -> pd.DataFrame:
    """The patient columns as floats; the first cell that is not a number is named (column, line, probe)."""
    # + 0.0 turns the -0 some copies write for zero into 0.0, so every copy gives the same matrix.
    numbers = (
        text.apply(lambda column: pd.to_numeric(column.str.strip(), errors="coerce")).astype("float64") + 0.0
    )
    bad = numbers.isna()
    if bad.to_numpy().any():
        column = bad.any(axis=0).idxmax()
        row = int(bad[column].to_numpy().argmax())
        raise DataError(
            f"{path.name}: patient column '{column}', line {row + 2} "
            f"(probe {accessions.iloc[row]}): expected a number, found {text[column].iloc[row]!r}."
        )
    return numbers


def read_labels(path: str | Path) -> pd.Series:
    """Read ``actual.csv``: one class label per patient number.

    Returns
    -------
    pandas.Series
        ``"ALL"``/``"AML"`` indexed by patient number (int, sorted), named ``cancer``.

    Raises
    ------
    DataError
        Wrong column names, a patient number that is not an integer, a patient listed
        twice, or a class other than ALL/AML — naming the file and line.
    """
    path = Path(path)
    raw = _read_csv_as_text(path)
    if tuple(raw.columns) != LABEL_COLUMNS:
        raise DataError(
            f"{path.name}: expected the columns {list(LABEL_COLUMNS)}, found {list(raw.columns)}."
        )
    numeric = raw["patient"].str.fullmatch(r"\s*\d+\s*")
    if not numeric.all():
        row = int((~numeric).to_numpy().argmax())
        raise DataError(f"{path.name}: line {row + 2}: patient {raw['patient'].iloc[row]!r} is not a number.")
    patients = raw["patient"].astype(int)
    repeated = patients[patients.duplicated()]
    if not repeated.empty:
        raise DataError(
            f"{path.name}: patient {repeated.iloc[0]} is listed twice "
            f"(again at line {int(repeated.index[0]) + 2})."
        )
    labels = raw["cancer"].str.strip()
    unknown = ~labels.isin(CLASSES)
    if unknown.any():
        row = int(unknown.to_numpy().argmax())
        raise DataError(
            f"{path.name}: line {row + 2}: class {labels.iloc[row]!r} for patient "
            f"{patients.iloc[row]} is not one of {list(CLASSES)}."
        )
    series = pd.Series(labels.to_numpy(), index=pd.Index(patients, name="patient"), name="cancer")
    return series.sort_index()


def _attach_labels(split: str, values: pd.DataFrame, labels: pd.Series) -> pd.Series:
    y = labels.reindex(values.index)
    if y.isna().any():
        missing = y.index[y.isna()].tolist()
        raise DataError(f"{config.LABELS_FILE}: no label for {split} patient(s) {missing[:10]}.")
    return labels_of(y.astype(str), CLASSES, values.index, name="cancer")


def load_golub(
    data_dir: str | Path | None = None, *, verify: bool | None = None, common_probes: bool = False
) -> GolubData:
    """Load the training (38) and independent (34) sets with labels joined by patient number.

    Parameters
    ----------
    data_dir
        Folder holding the three CSV files; default :func:`leukemia.config.data_dir`.
    verify
        Check every file's sha256 against the pinned copy (default).  ``False`` loads other
        copies of the data with a warning naming each file that differs.  ``None`` reads
        ``$LEUKEMIA_VERIFY`` (``0`` means ``False``; set by ``leukemia run --no-verify``).
    common_probes
        Keep only the probes present in both expression files (with a warning saying how many
        were dropped) instead of refusing files whose probes differ.

    Returns
    -------
    GolubData

    Raises
    ------
    DataError
        A file is missing or differs from the pinned copy, or its contents fail a check.
    """
    folder = Path(data_dir) if data_dir is not None else config.data_dir()
    if verify is None:
        verify = config.verify_checksums()
    checksums = _verify(folder, verify)
    train = read_expression(folder / config.TRAIN_FILE)
    test = read_expression(folder / config.TEST_FILE)
    labels = read_labels(folder / config.LABELS_FILE)

    shared = train.intensities.index.intersection(test.intensities.index)
    if len(shared):
        raise DataError(
            f"patient(s) {shared.tolist()[:10]} appear in both {config.TRAIN_FILE} and {config.TEST_FILE}."
        )
    train_probes, test_probes = train.intensities.columns, test.intensities.columns
    if set(train_probes) != set(test_probes) or len(train_probes) != len(test_probes):
        only_train = train_probes.difference(test_probes).tolist()
        only_test = test_probes.difference(train_probes).tolist()
        if not common_probes:
            raise DataError(
                f"the two expression files hold different probes: only in {config.TRAIN_FILE}: "
                f"{only_train[:5]} ({len(only_train)}); only in {config.TEST_FILE}: "
                f"{only_test[:5]} ({len(only_test)}). load_golub(common_probes=True) keeps the shared ones."
            )
        warnings.warn(
            f"keeping the {len(train_probes) - len(only_train)} probes present in both files; dropped "
            f"{len(only_train)} only in {config.TRAIN_FILE} and {len(only_test)} only in {config.TEST_FILE}.",
            stacklevel=2,
        )
        train_probes = train_probes[train_probes.isin(test_probes)]
    unused = labels.index.difference(train.intensities.index.union(test.intensities.index))
    if len(unused):
        raise DataError(
            f"{config.LABELS_FILE}: label(s) for patient(s) {unused.tolist()[:10]} "
            "who are in neither expression file."
        )

    return Dataset(
        X_train=train.intensities[train_probes],
        y_train=_attach_labels("training", train.intensities, labels),
        X_test=test.intensities[train_probes],
        y_test=_attach_labels("independent", test.intensities, labels),
        genes=train.descriptions.loc[train_probes].to_frame(),
        name="golub",
        classes=CLASSES,
        checksums=checksums,
        scale_detected="linear",
        scale_used="linear",
        split="given: Golub et al.'s 38 training and 34 independent samples",
        calls_train=train.calls[train_probes],
        calls_test=test.calls[train_probes],
    )

"""Bad input never gives a wrong answer: every row of the table in data/README.md is a test here.

Copies of the data in other formats must load to exactly the canonical matrices and labels;
broken copies must be refused with an error naming the file and the place.
"""

from __future__ import annotations

import csv
import io
import random
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leukemia import config
from leukemia.data import DataError, GolubData, load_golub


def rows_of(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return [row for row in csv.reader(handle) if row]


def write_rows(path: Path, rows: list[list[str]], **dialect: object) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n", **dialect).writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def load_copy(folder: Path) -> GolubData:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return load_golub(folder, verify=False)


def assert_same(data: GolubData, reference: GolubData) -> None:
    pd.testing.assert_frame_equal(data.X_train, reference.X_train)
    pd.testing.assert_frame_equal(data.X_test, reference.X_test)
    pd.testing.assert_series_equal(data.y_train, reference.y_train)
    pd.testing.assert_series_equal(data.y_test, reference.y_test)
    pd.testing.assert_frame_equal(data.calls_train, reference.calls_train)
    pd.testing.assert_frame_equal(data.probes, reference.probes)
    assert not np.signbit(data.X_train.to_numpy()[data.X_train.to_numpy() == 0]).any(), "no -0.0 left"


def _crlf(path: Path) -> None:
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))


def _quoted(path: Path) -> None:
    write_rows(path, rows_of(path), quoting=csv.QUOTE_ALL)


def _tabs(path: Path) -> None:
    write_rows(path, rows_of(path), delimiter="\t")


def _minus_zero(path: Path) -> None:
    rows = rows_of(path)
    for row in rows[1:]:
        row[2:] = ["-0" if cell == "0" else cell for cell in row[2:]]
    write_rows(path, rows)


def _bom(path: Path) -> None:
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())


def _trailing_blank_lines(path: Path) -> None:
    path.write_text(path.read_text() + "\n\n")


def _shuffled_probe_rows(path: Path) -> None:
    rows = rows_of(path)
    body = rows[1:]
    random.Random(0).shuffle(body)
    write_rows(path, [rows[0], *body])


@pytest.fixture(scope="module")
def canonical(golub: GolubData) -> GolubData:
    return golub


@pytest.mark.parametrize(
    "change",
    [_crlf, _quoted, _tabs, _minus_zero, _bom, _trailing_blank_lines],
    ids=["CRLF", "every field quoted", "tab-separated", "-0 for zero", "UTF-8 BOM", "trailing empty lines"],
)
def test_other_copies_load_to_the_same_data(change, data_copy: Path, canonical: GolubData) -> None:
    for name in config.DATA_SHA256:
        if name == config.LABELS_FILE and change is _minus_zero:
            continue
        change(data_copy / name)
    assert_same(load_copy(data_copy), canonical)


def test_minus_zero_really_occurs_in_the_copy(data_copy: Path) -> None:
    _minus_zero(data_copy / config.TRAIN_FILE)
    assert ",-0," in (data_copy / config.TRAIN_FILE).read_text()


def test_probe_rows_in_another_order_are_aligned_by_accession(data_copy: Path, canonical: GolubData) -> None:
    _shuffled_probe_rows(data_copy / config.TEST_FILE)
    assert_same(load_copy(data_copy), canonical)


def test_label_rows_in_any_order(data_copy: Path, canonical: GolubData) -> None:
    lines = (data_copy / config.LABELS_FILE).read_text().strip().split("\n")
    body = lines[1:]
    random.Random(1).shuffle(body)
    (data_copy / config.LABELS_FILE).write_text("\n".join([lines[0], *body]) + "\n")
    assert_same(load_copy(data_copy), canonical)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(list(range(38))))
def test_patient_column_pairs_in_any_order(order: list[int], data_copy: Path, canonical: GolubData) -> None:
    path = data_copy / config.TRAIN_FILE
    rows = rows_of(path)
    reordered = []
    for row in rows:
        pairs = [row[2 + 2 * i : 4 + 2 * i] for i in range(38)]
        reordered.append(row[:2] + [cell for i in order for cell in pairs[i]])
    write_rows(path, reordered)
    assert_same(load_copy(data_copy), canonical)


def test_a_copy_whose_checksum_differs_needs_the_opt_in(data_copy: Path) -> None:
    _crlf(data_copy / config.LABELS_FILE)
    with pytest.raises(DataError, match=r"actual\.csv has sha256 .* not the expected"):
        load_golub(data_copy)
    with pytest.warns(UserWarning, match=r"actual\.csv differs from the pinned copy"):
        load_golub(data_copy, verify=False)


def test_opt_in_through_the_environment(data_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _crlf(data_copy / config.LABELS_FILE)
    monkeypatch.setenv(config.VERIFY_ENV_VAR, "0")
    with pytest.warns(UserWarning, match="differs from the pinned copy"):
        load_golub(data_copy)
    monkeypatch.setenv(config.VERIFY_ENV_VAR, "1")
    with pytest.raises(DataError):
        load_golub(data_copy)


# ------------------------------------------------------------------- refused inputs


def test_truncated_file_is_refused(data_copy: Path) -> None:
    path = data_copy / config.TRAIN_FILE
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    with pytest.raises(DataError, match=r"data_set_ALL_AML_train\.csv has sha256"):
        load_golub(data_copy)
    with pytest.raises(
        DataError, match=r"data_set_ALL_AML_train\.csv: patient column '\d+', line \d+ .*expected a number"
    ):
        load_copy(data_copy)


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        (config.TEST_FILE, "Gene Accession Number", "Accession",
         r"data_set_ALL_AML_independent\.csv: no 'Gene Accession Number' column"),
        (config.TEST_FILE, "AFFX-BioB-5_at,", "AFFX-BioB-5_x,",
         r"different probes: only in .*\['AFFX-BioB-5_at'\].*\['AFFX-BioB-5_x'\]"),
        (config.LABELS_FILE, "72,ALL\n", "72,ALL\n73,ALL\n",
         r"patient\(s\) \[73\] who are in neither expression file"),
        (config.LABELS_FILE, "72,ALL\n", "72,ALL\n72,ALL\n", r"actual\.csv: patient 72 is listed twice"),
    ],
    ids=["no accession column", "probe in one file only", "label without data", "patient labelled twice"],
)  # fmt: skip
def test_broken_copies_are_refused(name: str, old: str, new: str, message: str, data_copy: Path) -> None:
    path = data_copy / name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(DataError, match=message):
        load_copy(data_copy)


def test_probe_intersection_is_an_explicit_opt_in(data_copy: Path, canonical: GolubData) -> None:
    path = data_copy / config.TEST_FILE
    path.write_text(path.read_text().replace("AFFX-BioB-5_at,", "AFFX-BioB-5_x,", 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.warns(
            UserWarning, match=r"keeping the 7128 probes present in both files; dropped 1 only"
        ):
            data = load_golub(data_copy, verify=False, common_probes=True)
    assert data.X_train.shape == (38, 7128) and data.X_test.shape == (34, 7128)
    assert data.X_train.columns.equals(data.X_test.columns) and data.probes.index.equals(data.X_train.columns)
    pd.testing.assert_frame_equal(data.X_train, canonical.X_train.drop(columns="AFFX-BioB-5_at"))

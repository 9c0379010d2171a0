"""leukemia.data: loading, validation, the label join, and checksums."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, write_expression_csv, write_labels_csv

from leukemia import config
from leukemia.data import DataError, GolubData, load_golub, read_expression, read_labels


def load_unverified(folder: Path) -> GolubData:
    """Load synthetic files (whose checksums cannot match) without the checksum warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return load_golub(folder, verify=False)


# ---------------------------------------------------------------------------- real data


def test_real_data_shapes_and_counts(golub: GolubData) -> None:
    assert golub.X_train.shape == (38, 7129)
    assert golub.X_test.shape == (34, 7129)
    assert golub.y_train.value_counts().to_dict() == {"ALL": 27, "AML": 11}
    assert golub.y_test.value_counts().to_dict() == {"ALL": 20, "AML": 14}
    assert golub.X_train.index.tolist() == list(range(1, 39))
    assert golub.X_test.index.tolist() == list(range(39, 73))
    assert golub.X_train.columns.equals(golub.X_test.columns)
    assert golub.probes.shape == (7129, 1)
    assert golub.calls_train.shape == golub.X_train.shape
    assert set(np.unique(golub.calls_test.to_numpy())) == {"A", "P", "M"}
    assert golub.X_train.dtypes.eq("float64").all()
    assert not golub.X_train.isna().any().any()


def test_real_data_known_values(golub: GolubData) -> None:
    """Spot values read straight off the CSV (first probe row; patient columns out of order)."""
    assert golub.X_train.loc[1, "AFFX-BioB-5_at"] == -214
    assert golub.X_train.loc[34, "AFFX-BioB-5_at"] == -20  # 28th column of the training file
    assert golub.X_test.loc[39, "AFFX-BioB-5_at"] == -342
    assert golub.X_test.loc[41, "AFFX-BioB-5_at"] == -62  # 7th column of the independent file
    assert golub.X_train.to_numpy().min() == -28400
    assert golub.X_test.to_numpy().max() == 71369
    assert golub.probes.loc["M23197_at", "description"].startswith("CD33")


def test_labels_are_joined_by_patient_number(golub: GolubData, data_dir: Path) -> None:
    labels = pd.read_csv(data_dir / config.LABELS_FILE).set_index("patient")["cancer"]
    assert (golub.y_train == labels.loc[golub.y_train.index]).all()
    assert (golub.y_test == labels.loc[golub.y_test.index]).all()
    # What a positional join would do: the n-th label of 39..72 to the n-th column of the file.
    header = pd.read_csv(data_dir / config.TEST_FILE, nrows=0).columns
    file_order = [int(c) for c in header if c.isdigit()]
    positional = pd.Series(labels.loc[39:72].to_numpy(), index=file_order).sort_index()
    assert (positional != golub.y_test).sum() == 14


def test_checksums_recorded(golub: GolubData) -> None:
    assert dict(golub.checksums) == config.DATA_SHA256


def test_class_counts_table(golub: GolubData) -> None:
    counts = golub.class_counts()
    assert counts.loc["ALL"].tolist() == [27, 20, 47]
    assert counts.loc["AML"].tolist() == [11, 14, 25]
    assert counts.loc["total"].tolist() == [38, 34, 72]


def test_checksum_mismatch_is_an_error(data_copy: Path) -> None:
    path = data_copy / config.LABELS_FILE
    path.write_text(path.read_text().replace("72,ALL", "72,AML"))
    with pytest.raises(DataError, match=r"actual\.csv has sha256 .* not the expected"):
        load_golub(data_copy)


def test_verify_false_warns_and_loads(data_copy: Path) -> None:
    path = data_copy / config.LABELS_FILE
    path.write_text(path.read_text().replace("72,ALL", "72,AML"))
    with pytest.warns(UserWarning, match=r"actual\.csv differs from the pinned copy"):
        data = load_golub(data_copy, verify=False)
    assert data.y_test.loc[72] == "AML"


def test_missing_file_names_file_and_remedy(data_copy: Path) -> None:
    (data_copy / config.TRAIN_FILE).unlink()
    with pytest.raises(DataError, match=r"data_set_ALL_AML_train\.csv is missing.*leukemia fetch"):
        load_golub(data_copy)


def test_data_dir_from_environment(monkeypatch: pytest.MonkeyPatch, tiny_dir: Path) -> None:
    monkeypatch.setenv(config.DATA_DIR_ENV_VAR, str(tiny_dir))
    assert config.data_dir() == tiny_dir.resolve()
    assert config.data_dir("elsewhere") == Path("elsewhere").resolve()
    assert load_unverified(None).X_train.shape == (4, 3)  # type: ignore[arg-type]
    monkeypatch.delenv(config.DATA_DIR_ENV_VAR)
    assert config.data_dir() == config.DEFAULT_DATA_DIR
    assert config.DEFAULT_DATA_DIR == ROOT / "data" / "raw"


# ---------------------------------------------------------------------- synthetic files


def test_tiny_load_sorts_patients_and_joins_labels(tiny_dir: Path) -> None:
    data = load_unverified(tiny_dir)
    assert data.X_train.index.tolist() == [1, 2, 3, 4]
    assert data.X_train["P1_at"].tolist() == [10, 20, 30, 40]
    assert data.X_test.index.tolist() == [5, 6, 7]
    assert data.X_test["P2_at"].tolist() == [-25, -30, -35]
    assert data.y_train.tolist() == ["ALL", "ALL", "AML", "AML"]
    assert data.y_test.tolist() == ["ALL", "AML", "AML"]
    assert data.calls_train.loc[3, "P3_at"] == "P"


def test_test_probes_are_aligned_to_training_order(tiny_dir: Path) -> None:
    write_expression_csv(
        tiny_dir / config.TEST_FILE,
        [5, 6, 7],
        ["P3_at", "P1_at", "P2_at"],
        [[500, 600, 700], [50, 60, 70], [-25, -30, -35]],
    )
    data = load_unverified(tiny_dir)
    assert data.X_test.columns.tolist() == ["P1_at", "P2_at", "P3_at"]
    assert data.X_test.loc[7].tolist() == [70, -35, 700]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Gene Description,Probe,1,call", r"no 'Gene Accession Number' column"),
        (
            "Gene Description,Gene Accession Number,1,call,1,call",
            r"patient column '1' appears twice",
        ),
        ("Gene Description,Gene Accession Number,1,call,2", r"patient column '2' has no 'call'"),
        ("Gene Description,Gene Accession Number,1,call,x,call", r"unexpected column 'x'"),
    ],
)
def test_structure_errors(tmp_path: Path, header: str, message: str) -> None:
    n = header.count(",") + 1
    path = tmp_path / "bad.csv"
    path.write_text(header + "\n" + ",".join(["d", "P1_at"] + ["1"] * (n - 2)) + "\n")
    with pytest.raises(DataError, match=rf"bad\.csv: {message}"):
        read_expression(path)


def test_non_numeric_cell_names_column_line_and_probe(tmp_path: Path) -> None:
    path = write_expression_csv(tmp_path / "x.csv", [1, 2], ["P1_at", "P2_at"], [[1, 2], [3, "n/a"]])
    with pytest.raises(DataError, match=r"x\.csv: patient column '2', line 3 \(probe P2_at\).*'n/a'"):
        read_expression(path)


def test_empty_cell_is_an_error(tmp_path: Path) -> None:
    path = write_expression_csv(tmp_path / "x.csv", [1, 2], ["P1_at"], [["", 2]])
    with pytest.raises(DataError, match=r"patient column '1', line 2 .*found ''"):
        read_expression(path)


def test_duplicated_probe_is_an_error(tmp_path: Path) -> None:
    path = write_expression_csv(tmp_path / "x.csv", [1], ["P1_at", "P1_at"], [[1], [2]])
    with pytest.raises(DataError, match=r"probe 'P1_at' appears twice \(again at line 3\)"):
        read_expression(path)


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(DataError, match=r"empty\.csv is empty"):
        read_expression(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("patient,class\n1,ALL\n", r"expected the columns \['patient', 'cancer'\]"),
        ("patient,cancer\n1,ALL\n1,AML\n", r"patient 1 is listed twice \(again at line 3\)"),
        ("patient,cancer\n1,ALL\n2,CLL\n", r"line 3: class 'CLL' for patient 2 is not one of"),
        ("patient,cancer\none,ALL\n", r"line 2: patient 'one' is not a number"),
    ],
)
def test_label_file_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "actual.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=rf"actual\.csv: {message}"):
        read_labels(path)


def test_labels_sorted_and_trailing_blank_line_ignored(tmp_path: Path) -> None:
    path = write_labels_csv(tmp_path / "actual.csv", {3: "AML", 1: "ALL", 2: "ALL"})
    labels = read_labels(path)
    assert labels.index.tolist() == [1, 2, 3]
    assert labels.tolist() == ["ALL", "ALL", "AML"]


def test_patient_without_label(tiny_dir: Path) -> None:
    write_labels_csv(
        tiny_dir / config.LABELS_FILE, {1: "ALL", 2: "ALL", 3: "AML", 4: "AML", 5: "ALL", 6: "AML"}
    )
    with pytest.raises(DataError, match=r"no label for independent patient\(s\) \[7\]"):
        load_unverified(tiny_dir)


def test_label_for_unknown_patient(tiny_dir: Path) -> None:
    labels = {1: "ALL", 2: "ALL", 3: "AML", 4: "AML", 5: "ALL", 6: "AML", 7: "AML", 99: "ALL"}
    write_labels_csv(tiny_dir / config.LABELS_FILE, labels)
    with pytest.raises(DataError, match=r"patient\(s\) \[99\] who are in neither expression file"):
        load_unverified(tiny_dir)


def test_probe_sets_must_match(tiny_dir: Path) -> None:
    write_expression_csv(
        tiny_dir / config.TEST_FILE,
        [5, 6, 7],
        ["P1_at", "P2_at", "P9_at"],
        [[1, 2, 3], [1, 2, 3], [1, 2, 3]],
    )
    with pytest.raises(DataError, match=r"different probes: only in .*train\.csv: \['P3_at'\].*\['P9_at'\]"):
        load_unverified(tiny_dir)


def test_patient_in_both_files(tiny_dir: Path) -> None:
    write_expression_csv(
        tiny_dir / config.TEST_FILE,
        [4, 6, 7],
        ["P1_at", "P2_at", "P3_at"],
        [[1, 2, 3], [1, 2, 3], [1, 2, 3]],
    )
    with pytest.raises(DataError, match=r"patient\(s\) \[4\] appear in both"):
        load_unverified(tiny_dir)

"""leukemia.spec: dataset.yaml in every format gives the same Dataset; every bad input is refused clearly.

Each row of the "your own data" table in data/README.md is a test here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import UNDER_MUTMUT

from leukemia import config
from leukemia.data import DataError
from leukemia.dataset import cramers_v, detect_scale, quantile_exceeds
from leukemia.spec import check_report, load_dataset, read_spec


def describe(folder: Path, **fields: object) -> Path:
    path = folder / "dataset.yaml"
    path.write_text(yaml.safe_dump(fields, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def bladder_yaml(bladder_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The bladder data through each of its three formats, Normal vs Cancer, batch checked."""
    common = {"class_column": "cancer", "classes": ["Normal", "Cancer"], "batch_column": "batch"}
    variants = {
        "tsv": {"expression": "expression.tsv.gz", "labels": "samples.csv", "sample_column": "sample"},
        "gct": {"expression": "bladder.gct.gz", "labels": "bladder_cancer.cls"},
        "geo": {"expression": "bladder_series_matrix.txt.gz"},
    }
    paths = {}
    for kind, fields in variants.items():
        folder = tmp_path_factory.mktemp(kind)
        fields = {k: str(bladder_dir / v) if k in ("expression", "labels") else v for k, v in fields.items()}
        batch = {} if kind == "gct" else {"batch_column": "batch"}  # a CLS file has no batch
        paths[kind] = describe(folder, name=f"bladder-{kind}", **fields, **{**common, **batch})
    # GenePattern users have no column to name: a CLS file's labels need no class_column
    paths["gct"].write_text(
        paths["gct"].read_text().replace("batch_column: batch\n", "").replace("class_column: cancer\n", "")
    )
    assert "class_column" not in paths["gct"].read_text()
    return paths


def test_bladder_loads_identically_from_three_formats(bladder_yaml: dict[str, Path]) -> None:
    loaded = {kind: load_dataset(path) for kind, path in bladder_yaml.items()}
    reference = loaded["tsv"]
    assert reference.X_train.shape[1] == 22283 and reference.classes == ("Normal", "Cancer")
    assert len(reference.y_train) + len(reference.y_test) == 48, "40 Cancer + 8 Normal; 9 Biopsy left out"
    assert (reference.left_out["reason"] == "class value 'Biopsy' is in none of the classes").sum() == 9
    for other in loaded.values():
        pd.testing.assert_frame_equal(other.X_train, reference.X_train)
        pd.testing.assert_frame_equal(other.X_test, reference.X_test)
        pd.testing.assert_series_equal(other.y_train, reference.y_train, check_names=False)
        pd.testing.assert_series_equal(other.y_test, reference.y_test, check_names=False)
    assert reference.y_train.cat.ordered and list(reference.y_train.cat.categories) == ["Normal", "Cancer"]
    assert reference.scale_detected == "log2" and reference.scale_used == "log2, as given"
    assert reference.filter_scale == "log", "RMA values: no intensity units for Dudoit's thresholds"
    assert set(reference.checksums) == {"expression.tsv.gz", "samples.csv"}


def test_the_hold_out_is_stratified_seeded_and_disjoint(bladder_yaml: dict[str, Path]) -> None:
    data = load_dataset(bladder_yaml["tsv"])
    again = load_dataset(bladder_yaml["tsv"])
    assert data.X_test.index.equals(again.X_test.index), "seeded"
    assert not set(data.X_train.index) & set(data.X_test.index)
    share = data.y_test.value_counts(normalize=True)
    overall = data.y.value_counts(normalize=True)
    assert (share - overall).abs().max() < 0.1, "stratified"
    assert "stratified hold-out of 30%" in data.split


def test_batch_confounding_is_reported(bladder_yaml: dict[str, Path]) -> None:
    data = load_dataset(bladder_yaml["tsv"])
    report = check_report(data)
    assert "class × batch:" in report and "Cramér's V (class, batch) = 0.73" in report
    assert "confounded" in report
    assert cramers_v(pd.Series(list("aabb")), pd.Series([1, 1, 2, 2])) == pytest.approx(1.0)
    assert cramers_v(pd.Series(list("abab")), pd.Series([1, 1, 2, 2])) == pytest.approx(0.0)


def test_check_command(bladder_yaml: dict[str, Path]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "leukemia.cli", "data", "check", str(bladder_yaml["geo"])],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "data set: bladder-geo" in result.stdout and "genes: 22283" in result.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "leukemia.cli", "data", "check", str(bladder_yaml["geo"].with_name("x.yaml"))],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert bad.returncode == 1 and "no such dataset description" in bad.stderr


def test_scale_rule_of_geo2r() -> None:
    rng = np.random.default_rng(0)
    log_values = rng.normal(8, 2, size=(20, 100)).clip(1, 16)
    assert detect_scale(log_values) == "log2"
    assert detect_scale(2**log_values) == "linear"  # 99th percentile > 100
    assert detect_scale(np.array([[0.5, 60.0], [1.0, 2.0]])) == "linear"  # range > 50 with q25 > 0
    assert detect_scale(np.array([[np.nan, 3.0], [np.inf, 2.0]])) == "log2"  # non-finite values are left out
    assert detect_scale(np.array([[1.0, 2.0], [3.0, np.inf]])) == "log2"  # ... and of the range
    assert detect_scale(np.array([[np.nan, np.inf]])) == "log2"  # nothing finite to judge


@pytest.mark.parametrize("size", [1, 2, 7, 100, 1001, (1 << 20) + 3])  # the last spans two counting blocks
def test_quantile_exceeds_agrees_with_numpy(size: int) -> None:
    rng = np.random.default_rng(size)
    values = rng.integers(-5, 6, size=size).astype(float) + rng.choice([0.0, 0.5], size=size)  # many ties
    for q in (0.0, 0.25, 0.5, 0.99, 1.0):
        quantile = float(np.quantile(values, q))
        ordered = np.unique(values)
        # thresholds at, between and around the values, and just either side of the quantile itself
        for threshold in [
            *ordered,
            *(ordered[:-1] + np.diff(ordered) / 3),
            quantile - 1e-9,
            quantile + 1e-9,
            -9.0,
            9.0,
        ]:
            assert quantile_exceeds(values, q, threshold) == (quantile > threshold), (q, threshold)


def test_linear_data_are_log_transformed(tmp_path: Path) -> None:
    values = {f"S{i}": [2.0**k for k in range(6, 12)] for i in range(8)}
    table = pd.DataFrame(values, index=[f"G{j}" for j in range(6)])
    table.index.name = "gene"
    table.to_csv(tmp_path / "m.csv")
    pd.DataFrame({"sample": list(values), "kind": list("AABBABAB")}).to_csv(tmp_path / "s.csv", index=False)
    path = describe(tmp_path, name="t", expression="m.csv", labels="s.csv", class_column="kind", classes=["A", "B"],  # noqa: E501
                    test_size=0.5)  # fmt: skip
    data = load_dataset(path)
    assert data.scale_detected == "linear" and data.scale_used.startswith("log2 of the linear values")
    assert sorted(np.unique(pd.concat([data.X_train, data.X_test]).to_numpy())) == list(range(6, 12))
    forced = load_dataset(describe(tmp_path, **{**yaml.safe_load(path.read_text()), "scale": "log2"}))
    assert forced.scale_used == "log2, as given" and forced.X_train.to_numpy().max() == 2.0**11
    # what Dudoit's filter is told: the log2 of intensities for the linear file, log values for the forced one
    assert data.filter_scale == "log2" and forced.filter_scale == "log"


# ------------------------------------------------------------------------- bad input, row by row


@pytest.fixture
def small(tmp_path: Path) -> dict[str, object]:
    """A tiny valid data set: 6 genes × 10 samples, classes A/B, a batch and a split column."""
    rng = np.random.default_rng(1)
    samples = [f"S{i}" for i in range(10)]
    matrix = pd.DataFrame(rng.normal(8, 1, size=(6, 10)), index=[f"G{j}" for j in range(6)], columns=samples)
    matrix.index.name = "gene"
    matrix.to_csv(tmp_path / "m.tsv", sep="\t")
    labels = pd.DataFrame(
        {
            "sample": samples,
            "kind": list("AAAAABBBBB"),
            "role": ["train"] * 3 + ["test"] * 2 + ["train"] * 3 + ["test"] * 2,
        }
    )
    labels.to_csv(tmp_path / "s.csv", index=False)
    return {
        "name": "small",
        "expression": "m.tsv",
        "labels": "s.csv",
        "class_column": "kind",
        "classes": ["A", "B"],
    }


def test_the_small_data_set_loads(tmp_path: Path, small: dict[str, object]) -> None:
    data = load_dataset(describe(tmp_path, **small, split_column="role"))
    assert (len(data.y_train), len(data.y_test)) == (6, 4)
    assert data.split == "given by the column 'role'"


def _edit_labels(tmp_path: Path, edit) -> None:
    table = pd.read_csv(tmp_path / "s.csv", dtype=str)
    edit(table).to_csv(tmp_path / "s.csv", index=False)


BAD = [
    # (what, change to the fields, change to the labels table, error message pattern)
    ("an unknown field", {"colour": "red"}, None, r"unknown field\(s\) \['colour'\]; the fields are"),
    (
        "a field of the wrong type",
        {"test_size": "a third"},
        None,
        r"field 'test_size' must be float or int, got 'a third'",
    ),
    ("a required field missing", {"class_column": None}, None, r"the field 'class_column' is required"),
    (
        "an unknown format",
        {"format": "xlsx"},
        None,
        r"field 'format' must be one of \['auto', 'csv', 'tsv', 'gct'",
    ),
    (
        "a file that is not there",
        {"expression": "nothing.tsv"},
        None,
        r"field 'expression': no such file .*nothing.tsv",
    ),
    ("one class only", {"classes": ["A"]}, None, r"classes must name at least two classes, got \['A'\]"),
    (
        "a third class too small to split",
        {"classes": ["A", "B", "C"]},
        lambda t: t.assign(kind=list("AAAAABBBBC")),
        r"a class has 1 sample; a stratified hold-out needs 2 per class",
    ),
    (
        "a raw value in two classes",
        {"classes": {"A": ["A", "B"], "B": ["B"]}},
        None,
        r"the raw value\(s\) \['B'\] belong to more than one class",
    ),
    (
        "a class with no sample",
        {"classes": ["A", "Z"]},
        None,
        r"no sample of class\(es\) \['Z'\] .*holds \['A', 'B'\]",
    ),
    (
        "no such class column",
        {"class_column": "type"},
        None,
        r"s.csv: no column 'type' \(field 'class_column'\); it has \['kind', 'role'\]",
    ),
    (
        "a duplicated sample in the labels",
        {},
        lambda t: pd.concat([t, t.iloc[[3]]]),
        r"s.csv: sample 'S3' is listed more than once \(lines \[5, 12\]\)",
    ),
    (
        "a split column with other values",
        {"split_column": "role"},
        lambda t: t.assign(role="validation"),
        r"split column 'role' holds \['validation'\]; expected train or test",
    ),
    (
        "a class too small for cross-validation",
        {"split_column": "role"},
        lambda t: t.assign(role=["train"] + ["test"] * 4 + ["train"] * 3 + ["test"] * 2),
        r"the training set has \{'A': 1, 'B': 3\} samples per class; too few to cross-validate",
    ),
    ("a test_size out of range", {"test_size": 1.5}, None, r"'test_size' must be between 0 and 1"),
    (
        "no such split column",
        {"split_column": "phase"},
        None,
        r"s.csv: no column 'phase' \(field 'split_column'\); it has \['kind', 'role'\]",
    ),
    (
        "a split column with many other values",
        {"split_column": "role"},
        lambda t: t.assign(role=[f"v{i}" for i in range(10)]),
        r"split column 'role' holds \['v0', 'v1', 'v2', 'v3', 'v4'\]; expected train or test",
    ),
    (
        "a class of two samples, one of which the hold-out takes",
        {},
        lambda t: t.assign(kind=list("AAAAAAAABB")),
        r"the training set has \{'A': \d, 'B': 1\} samples per class; too few to cross-validate",
    ),
    (
        "a boolean for a number",
        {"test_size": True},
        None,
        r"field 'test_size' must be float or int, got True",
    ),
    ("a boolean for a name", {"class_column": False}, None, r"field 'class_column' must be str, got False"),
    (
        "a test set without one of the classes",
        {"split_column": "role"},
        lambda t: t.assign(role=["train"] * 3 + ["test"] * 2 + ["train"] * 5),
        r"the test set has \{'A': 2, 'B': 0\} samples per class; too few to test every class",
    ),
]


@pytest.mark.parametrize(("what", "fields", "labels", "message"), BAD, ids=[row[0] for row in BAD])
def test_bad_input_is_refused(
    tmp_path: Path, small: dict[str, object], what: str, fields, labels, message
) -> None:
    if labels is not None:
        _edit_labels(tmp_path, labels)
    described = {**small, **fields}
    path = describe(
        tmp_path, **{k: v for k, v in described.items() if not (k == "class_column" and v is None)}
    )
    if fields.get("class_column", "") is None:
        path.write_text(path.read_text().replace("class_column: kind\n", ""))
    with pytest.raises(DataError, match=message):
        load_dataset(path)


@pytest.mark.parametrize(("test_size", "n_test"), [(0.2, 2), (0.4, 4), (0.5, 5)])
def test_the_hold_out_holds_test_size_of_the_samples(
    tmp_path: Path, small: dict[str, object], test_size: float, n_test: int
) -> None:
    data = load_dataset(describe(tmp_path, **small, test_size=test_size))
    assert (len(data.y_train), len(data.y_test)) == (10 - n_test, n_test)
    assert f"a stratified hold-out of {test_size:.0%}" in data.split


def test_every_split_synonym_means_its_set(tmp_path: Path, small: dict[str, object]) -> None:
    """train/training and test/independent/held-out, in any case, give the split that train/test give."""
    plain = load_dataset(describe(tmp_path, **small, split_column="role"))
    roles = [
        "Training",
        "train",
        "TRAINING",
        "held-out",
        "Independent",
        *["training"] * 3,
        "test",
        "Held-Out",
    ]
    _edit_labels(tmp_path, lambda t: t.assign(role=roles))
    synonyms = load_dataset(describe(tmp_path, **small, split_column="role"))
    assert list(synonyms.y_train.index) == list(plain.y_train.index)
    assert list(synonyms.y_test.index) == list(plain.y_test.index)


def test_samples_missing_from_one_file_are_left_out_and_counted(
    tmp_path: Path, small: dict[str, object]
) -> None:
    _edit_labels(
        tmp_path,
        lambda t: pd.concat([t.iloc[1:], pd.DataFrame({"sample": ["X9"], "kind": ["A"], "role": ["train"]})]),
    )
    data = load_dataset(describe(tmp_path, **small))
    reasons = data.left_out["reason"].to_dict()
    assert reasons == {
        "S0": "in the matrix but not in the labels",
        "X9": "in the labels but not in the matrix",
    }
    assert "left out: 2 sample(s)" in check_report(data)


def test_three_classes_load_in_their_order_or_grouped_into_two(
    tmp_path: Path, small: dict[str, object]
) -> None:
    _edit_labels(tmp_path, lambda t: t.assign(kind=list("ABCABABCCA")))  # 2 of each class to train
    data = load_dataset(describe(tmp_path, **{**small, "classes": ["C", "A", "B"]}, split_column="role"))
    assert data.classes == ("C", "A", "B") and list(data.y_train.cat.categories) == ["C", "A", "B"]
    grouped = load_dataset(describe(tmp_path, **{**small, "classes": {"A": ["A"], "BC": ["B", "C"]}}))
    assert grouped.classes == ("A", "BC") and grouped.y.value_counts().to_dict() == {"BC": 6, "A": 4}


def test_read_spec_resolves_paths_relative_to_the_file(tmp_path: Path, small: dict[str, object]) -> None:
    spec = read_spec(describe(tmp_path, **small))
    assert spec.expression == (tmp_path / "m.tsv").resolve() and spec.classes == {"A": ["A"], "B": ["B"]}


def test_read_spec_keeps_every_field_it_is_given(tmp_path: Path, small: dict[str, object]) -> None:
    fields = {**small, "format": "tsv", "orientation": "samples-by-genes", "sample_column": "sample",
              "split_column": "role", "test_size": 0.25, "scale": "log2", "batch_column": "role",
              "missing": "drop-genes"}  # fmt: skip
    spec = read_spec(describe(tmp_path, **fields))
    assert (spec.name, spec.format, spec.orientation, spec.sample_column) == (
        "small", "tsv", "samples-by-genes", "sample",
    )  # fmt: skip
    assert (spec.split_column, spec.test_size, spec.scale, spec.batch_column, spec.missing) == (
        "role", 0.25, "log2", "role", "drop-genes",
    )  # fmt: skip
    defaults = read_spec(describe(tmp_path, **small))
    assert (defaults.format, defaults.orientation, defaults.sample_column, defaults.missing) == (
        "auto", "genes-by-samples", None, "error",
    )  # fmt: skip


def test_a_samples_by_genes_matrix_loads_as_its_transpose(tmp_path: Path, small: dict[str, object]) -> None:
    plain = load_dataset(describe(tmp_path, **small, split_column="role"))
    matrix = pd.read_csv(tmp_path / "m.tsv", sep="\t", index_col=0)
    matrix.T.rename_axis("sample").to_csv(tmp_path / "t.tsv", sep="\t")
    fields = {**small, "expression": "t.tsv", "orientation": "samples-by-genes", "split_column": "role"}
    transposed = load_dataset(describe(tmp_path, **fields))
    pd.testing.assert_frame_equal(transposed.X_train, plain.X_train)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: [unclosed\n", r"dataset.yaml: not valid YAML: "),
        (
            "- name\n- expression\n",
            r"dataset.yaml: expected a mapping of fields \(name:, expression:, …\), got list",
        ),
    ],
)
def test_a_description_that_is_not_a_mapping_of_fields_is_refused(
    tmp_path: Path, text: str, message: str
) -> None:
    (tmp_path / "dataset.yaml").write_text(text)
    with pytest.raises(DataError, match=message):
        read_spec(tmp_path / "dataset.yaml")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"labels": 3}, r"field 'labels' must be str or null, got 3"),
        ({"test_size": 0}, r"field 'test_size' must be between 0 and 1, got 0.0"),
        ({"test_size": 1}, r"field 'test_size' must be between 0 and 1, got 1.0"),
    ],
)
def test_field_values_at_the_edges_are_refused(
    tmp_path: Path, small: dict[str, object], fields: dict[str, object], message: str
) -> None:
    with pytest.raises(DataError, match=message):
        read_spec(describe(tmp_path, **{**small, **fields}))


def test_a_data_set_is_read_once_and_its_warnings_repeat_from_the_cache(
    tmp_path: Path, small: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every notebook of a run loads the data set: the files are parsed once, then read from the cache."""
    import leukemia.spec as spec_module

    monkeypatch.setenv("LEUKEMIA_CACHE_DIR", str(tmp_path / "cache"))
    matrix = tmp_path / "m.tsv"
    matrix.write_text(matrix.read_text().replace("G1", "1-Mar", 1))
    path = describe(tmp_path, **small, split_column="role")
    with pytest.warns(UserWarning, match="look like dates"):
        first = load_dataset(path)
    calls: list[object] = []
    read_files = spec_module._read_files
    monkeypatch.setattr(spec_module, "_read_files", lambda *a: calls.append(a) or read_files(*a))
    with pytest.warns(UserWarning, match="look like dates"):
        again = load_dataset(path)
    assert calls == [], "the second load came from the cache"
    pd.testing.assert_frame_equal(again.X_train, first.X_train)
    assert again.checksums == first.checksums and again.y_test.equals(first.y_test)
    matrix.write_text(matrix.read_text() + "G9" + "\t8.5" * 10 + "\n")  # a changed file is read again
    with pytest.warns(UserWarning, match="look like dates"):
        changed = load_dataset(path)
    assert len(calls) == 1 and changed.checksums != first.checksums


def test_a_subset_keeps_the_samples_named_and_counts_the_rest_as_left_out(
    tmp_path: Path, small: dict[str, object]
) -> None:
    labels = pd.read_csv(tmp_path / "s.csv")
    labels["lineage"] = ["B", "B", "T", "B", "T"] * 2  # each class keeps 2 training and 1 test sample
    labels.to_csv(tmp_path / "s.csv", index=False)
    everything = load_dataset(describe(tmp_path, **small, split_column="role"))
    only_b = load_dataset(describe(tmp_path, **small, split_column="role", subset={"lineage": "B"}))
    kept = labels.set_index(labels.columns[0])["lineage"]
    assert set(only_b.y.index) == set(kept.index[kept == "B"]) & set(everything.y.index)
    reasons = only_b.left_out["reason"]
    t_samples = kept.index[kept == "T"]
    assert (reasons.loc[t_samples] == "'lineage' is 'T', not in the subset ['B']").all()
    assert "left out:" in check_report(only_b) and "not in the subset ['B']" in check_report(only_b)
    with pytest.raises(DataError, match=r"s.csv: no column 'tissue' \(field 'subset: tissue'\)"):
        load_dataset(describe(tmp_path, **small, split_column="role", subset={"tissue": ["blood"]}))
    with pytest.raises(DataError, match=r"subset: 'lineage' must list the values to keep"):
        read_spec(describe(tmp_path, **small, subset={"lineage": []}))
    with pytest.raises(DataError, match=r"field 'subset' must be dict"):
        read_spec(describe(tmp_path, **small, subset=["B"]))


def test_the_bladder_data_restricted_to_superficial_tumours(
    bladder_yaml: dict[str, Path], tmp_path: Path
) -> None:
    text = bladder_yaml["tsv"].read_text() + "subset:\n  outcome: [Normal, sTCC-CIS, sTCC+CIS]\n"
    (tmp_path / "dataset.yaml").write_text(text)
    data = load_dataset(tmp_path / "dataset.yaml")
    assert data.y.value_counts().to_dict() == {"Cancer": 28, "Normal": 8}, "the 12 mTCC tumours are left out"
    reasons = data.left_out["reason"].value_counts()
    assert reasons["'outcome' is 'mTCC', not in the subset ['Normal', 'sTCC-CIS', 'sTCC+CIS']"] == 12
    assert reasons["'outcome' is 'Biopsy', not in the subset ['Normal', 'sTCC-CIS', 'sTCC+CIS']"] == 9


def test_data_check_says_what_reading_warned_of_in_its_summary(
    tmp_path: Path, small: dict[str, object]
) -> None:
    matrix = tmp_path / "m.tsv"
    matrix.write_text(matrix.read_text().replace("G1", "1-Mar", 1))
    path = describe(tmp_path, **small, split_column="role")
    checked = subprocess.run(
        [sys.executable, "-m", "leukemia.cli", "data", "check", str(path)],
        capture_output=True, text=True, env={**os.environ, "LEUKEMIA_CACHE_DIR": str(tmp_path / "cache")},
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    assert "warnings: 1\n  m.tsv: 1 gene id(s) look like dates" in checked.stdout
    assert checked.stdout.index("warnings:") > checked.stdout.index("scale:"), "in the summary, not above it"
    assert "UserWarning" not in checked.stderr and "look like dates" not in checked.stderr


def test_samples_keep_the_matrix_order_and_tab_labels_are_read_as_tabs(
    tmp_path: Path, small: dict[str, object]
) -> None:
    matrix = pd.read_csv(tmp_path / "m.tsv", sep="\t", index_col="gene")
    order = ["S7", "S2", "S9", "S0", "S5", "S1", "S8", "S3", "S6", "S4"]
    matrix[order].to_csv(tmp_path / "m.tsv", sep="\t")
    labels = pd.read_csv(tmp_path / "s.csv").assign(note=["a, b"] * 10)  # a comma inside a tab-separated cell
    for name in ("s.tsv", "s.TXT"):
        labels.to_csv(tmp_path / name, sep="\t", index=False)
        data = load_dataset(describe(tmp_path, **{**small, "labels": name}, split_column="role"))
        assert data.X_train.index.tolist() == [s for s in order if s in {"S0", "S1", "S2", "S5", "S6", "S7"}]
        assert data.y.index.tolist() == data.X_train.index.tolist() + data.X_test.index.tolist()
        assert data.X_train.index.name == data.y_train.index.name == data.y_test.index.name == "sample"


def test_a_geo_series_matrix_passes_on_the_missing_value_policy(tmp_path: Path) -> None:
    samples, kinds, roles = (
        [f"S{i}" for i in range(10)],
        ["A"] * 5 + ["B"] * 5,
        (["train"] * 3 + ["test"] * 2) * 2,
    )

    def line(field: str, values: list[str]) -> str:
        return f"!Sample_{field}\t" + "\t".join(f'"{v}"' for v in values) + "\n"

    rows = "".join(f'"G{j}"\t' + "\t".join(str(8 + j + i % 3) for i in range(10)) + "\n" for j in range(4))
    (tmp_path / "g_series_matrix.txt").write_text(
        line("geo_accession", samples)
        + line("characteristics_ch1", [f"kind: {k}" for k in kinds])
        + line("characteristics_ch1", [f"role: {r}" for r in roles])
        + '!series_matrix_table_begin\n"ID_REF"\t'
        + "\t".join(f'"{s}"' for s in samples)
        + "\n"
        + rows
        + '"G9"\tnull'
        + "\t1" * 9
        + "\n!series_matrix_table_end\n"
    )
    fields = {"name": "g", "expression": "g_series_matrix.txt", "class_column": "kind", "classes": ["A", "B"]}
    with pytest.raises(DataError, match="G9"):
        load_dataset(describe(tmp_path, **fields, split_column="role"))
    with pytest.warns(UserWarning, match=r"left out 1 gene\(s\) with missing values"):
        data = load_dataset(describe(tmp_path, **fields, split_column="role", missing="drop-genes"))
    assert data.X_train.columns.tolist() == ["G0", "G1", "G2", "G3"]


def test_a_readers_warning_is_passed_on_with_its_category_at_the_callers_line(
    tmp_path: Path, small: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    import leukemia.spec as spec_module

    path = describe(tmp_path, **small, split_column="role")
    data = load_dataset(path)
    monkeypatch.setattr(
        spec_module, "cached_in", lambda *args: (data, [("a reader's remark", RuntimeWarning)])
    )
    with pytest.warns(RuntimeWarning, match="a reader's remark") as record:
        load_dataset(path)
    assert [w.category for w in record] == [RuntimeWarning]
    assert UNDER_MUTMUT or record[0].filename == __file__, "the warning points at the load_dataset call"


def test_check_report_states_every_count_in_order(tmp_path: Path, small: dict[str, object]) -> None:
    """``leukemia data check``'s text, line by line: a confounded batch, one sample left out."""
    _edit_labels(
        tmp_path,
        lambda t: pd.concat([t, pd.DataFrame({"sample": ["S99"], "kind": ["A"], "role": ["train"]})]).assign(
            lab=["x"] * 5 + ["y"] * 5 + ["x"]
        ),
    )
    data = load_dataset(describe(tmp_path, **small, split_column="role", batch_column="lab"))
    lines = check_report(data).split("\n")
    assert lines[:3] == [
        "data set: small",
        "genes: 6",
        "samples: 10 (training 6, test 4); split: given by the column 'role'",
    ]
    assert lines[3] == ""
    table = [line.split() for line in lines[4:9]]
    assert table == [
        ["train", "test", "all"],
        ["class"],
        ["A", "3", "2", "5"],
        ["B", "3", "2", "5"],
        ["total", "6", "4", "10"],
    ]
    assert lines[9:14] == [
        "",
        f"scale: detected {data.scale_detected}, used {data.scale_used}",
        f"gene annotation: 0 of {data.X_train.shape[1]} genes have a symbol, 0 a description (an annotation "
        "table in dataset.yaml gives symbols: docs/data.md)",
        "",
        "class × batch:",
    ]
    del lines[11]  # the rest, in the order it comes
    assert [line.split() for line in lines[13:17]] == [
        ["batch", "x", "y"],
        ["class"],
        ["A", "5", "0"],
        ["B", "0", "5"],
    ]
    assert lines[17:19] == [
        "Cramér's V (class, batch) = 1.00",
        "WARNING: class and batch are confounded: a classifier can score by recognising the batch, "
        "not the biology.",
    ]
    assert lines[19:22] == ["", "left out: 1 sample(s)", "  1 in the labels but not in the matrix"]
    assert lines[22:26] == [  # the batch is scanned too; the split column 'role' is not
        "",
        "sample annotations against the class: 1 column(s), 1 scanned",
        "  lab: Cramér's V = 1.00 (Fisher exact p = 0.0079, 2 values); each value within one class: "
        "subtypes of the classes, or a perfect confounder",
        "WARNING: the class is strongly associated with 'lab' (V ≥ 0.5): a classifier can score by "
        "recognising it; see the summary's accuracy per value.",
    ]
    assert lines[26:28] == ["", "files:"]
    assert lines[28:] == [f"  {name}  sha256 {digest}" for name, digest in data.checksums.items()]
    assert len(lines) == 30, "two files"


def test_a_class_without_samples_is_refused_with_the_values_to_name(
    tmp_path: Path, small: dict[str, object]
) -> None:
    with pytest.raises(DataError) as refused:
        load_dataset(describe(tmp_path, **{**small, "classes": ["A", "Z"]}))
    assert str(refused.value) == (
        "dataset.yaml: no sample of class(es) ['Z'] among the samples in both files; the column 'kind' holds "
        "['A', 'B']. Name those values in classes: e.g. classes: {A: [value, ...], B: [value, ...]}."
    )
    samples = [f"S{i}" for i in range(12)]  # twelve raw values: the message shows the first ten
    matrix = pd.DataFrame(np.arange(36.0).reshape(3, 12), index=["G0", "G1", "G2"], columns=samples)
    matrix.rename_axis("gene").to_csv(tmp_path / "m.tsv", sep="\t")
    pd.DataFrame({"sample": samples, "kind": list("ABCDEFGHIJKL")}).to_csv(tmp_path / "s.csv", index=False)
    with pytest.raises(DataError, match=r"holds \['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J'\]\. Name"):
        load_dataset(describe(tmp_path, **{**small, "classes": ["A", "Z"]}))


def test_a_missing_column_lists_twelve_of_the_columns_there(tmp_path: Path, small: dict[str, object]) -> None:
    _edit_labels(tmp_path, lambda t: t.assign(**{f"c{i:02d}": "x" for i in range(12)}))
    with pytest.raises(DataError) as refused:
        load_dataset(describe(tmp_path, **{**small, "class_column": "type"}))
    twelve = sorted(["kind", "role", *(f"c{i:02d}" for i in range(12))])[:12]
    assert str(refused.value) == f"s.csv: no column 'type' (field 'class_column'); it has {twelve}."


def test_a_geo_files_missing_column_is_named_after_the_geo_file(tmp_path: Path) -> None:
    names = [f"GSM{i}" for i in range(6)]
    geo = (
        "!Sample_geo_accession\t" + "\t".join(f'"{n}"' for n in names) + "\n"
        "!Sample_characteristics_ch1\t" + "\t".join(f'"kind: {k}"' for k in "AAABBB") + "\n"
        '!series_matrix_table_begin\n"ID_REF"\t'
        + "\t".join(f'"{n}"' for n in names)
        + "\n"
        + "".join(f'"G{g}"\t' + "\t".join(str(g + i) for i in range(6)) + "\n" for g in range(4))
        + "!series_matrix_table_end\n"
    )
    (tmp_path / "x_series_matrix.txt").write_text(geo)
    fields = {
        "name": "geo",
        "expression": "x_series_matrix.txt",
        "class_column": "type",
        "classes": ["A", "B"],
    }
    with pytest.raises(DataError, match=r"^x_series_matrix.txt: no column 'type' \(field 'class_column'\)"):
        load_dataset(describe(tmp_path, **fields))


def test_the_given_format_overrides_what_the_name_suggests(tmp_path: Path, small: dict[str, object]) -> None:
    pd.read_csv(tmp_path / "m.tsv", sep="\t").to_csv(tmp_path / "m.txt", index=False)  # commas in a .txt
    fields = {**small, "expression": "m.txt"}
    with pytest.raises(DataError, match="one column only"):
        load_dataset(describe(tmp_path, **fields))  # read as tab-separated, from its name
    assert load_dataset(describe(tmp_path, **fields, format="csv")).X_train.shape[1] == 6


def test_a_gct_passes_on_the_missing_value_policy(tmp_path: Path, small: dict[str, object]) -> None:
    matrix = pd.read_csv(tmp_path / "m.tsv", sep="\t", index_col=0)
    body = matrix.round(3).astype(str)
    body.iloc[2, 4] = ""
    lines = ["#1.2", f"{len(body)}\t{body.shape[1]}", "Name\tDescription\t" + "\t".join(body.columns)]
    lines += [f"{gene}\tprobe {gene}\t" + "\t".join(row) for gene, row in body.iterrows()]
    (tmp_path / "m.gct").write_text("\n".join(lines) + "\n")
    with pytest.warns(UserWarning, match=r"left out 1 gene\(s\) with missing values"):
        data = load_dataset(describe(tmp_path, **{**small, "expression": "m.gct", "missing": "drop-genes"}))
    assert data.X_train.columns.tolist() == ["G0", "G1", "G3", "G4", "G5"]
    assert data.genes.loc["G4", "description"] == "probe G4", "the GCT's descriptions annotate the genes"


def test_a_tab_separated_labels_file_is_split_on_tabs_only(tmp_path: Path, small: dict[str, object]) -> None:
    table = pd.read_csv(tmp_path / "s.csv", dtype=str).assign(**{"note, a, b": "x, y, z, w"})
    table.to_csv(tmp_path / "s.tsv", sep="\t", index=False)  # as many commas as tabs on every line
    data = load_dataset(describe(tmp_path, **{**small, "labels": "s.tsv"}))
    assert data.y.value_counts().to_dict() == {"A": 5, "B": 5}


def test_labels_keep_their_text_and_their_refusals_say_what_is_missing(
    tmp_path: Path, small: dict[str, object]
) -> None:
    """Ids like 007 and a class called NA stay text; a missing sample column or labels file is named."""
    matrix = pd.read_csv(tmp_path / "m.tsv", sep="\t", index_col=0)
    ids = [f"{i:03d}" for i in range(10)]
    matrix.set_axis(ids, axis=1).to_csv(tmp_path / "m.tsv", sep="\t")
    _edit_labels(tmp_path, lambda t: t.assign(sample=ids, kind=["NA"] * 5 + ["B"] * 5))
    data = load_dataset(describe(tmp_path, **{**small, "classes": ["NA", "B"]}))
    assert sorted(data.y.index) == ids and data.y.value_counts().to_dict() == {"NA": 5, "B": 5}
    with pytest.raises(DataError) as refused:
        load_dataset(describe(tmp_path, **small, sample_column="id"))
    assert str(refused.value) == "s.csv: no sample column 'id' (columns: ['sample', 'kind', 'role'])."
    without = {key: value for key, value in small.items() if key != "labels"}
    with pytest.raises(DataError) as refused:
        load_dataset(describe(tmp_path, **without))
    assert str(refused.value) == (
        "dataset.yaml: field 'labels' is required unless the matrix file describes its samples "
        "(a GEO series matrix, a GCT 1.3 with column fields, an h5ad file's obs)."
    )


def test_a_table_passes_on_the_missing_value_policy(tmp_path: Path, small: dict[str, object]) -> None:
    text = (tmp_path / "m.tsv").read_text().split("\n")
    cells = text[3].split("\t")
    text[3] = "\t".join([*cells[:4], "", *cells[5:]])  # gene G2 loses a value
    (tmp_path / "m.tsv").write_text("\n".join(text))
    with pytest.warns(UserWarning, match=r"left out 1 gene\(s\) with missing values"):
        data = load_dataset(describe(tmp_path, **small, missing="drop-genes"))
    assert data.X_train.columns.tolist() == ["G0", "G1", "G3", "G4", "G5"]


def test_linear_values_below_one_are_floored_before_the_log(tmp_path: Path) -> None:
    values = {
        f"S{i}": [2.0**k for k in range(6, 12)] + [0.5, 1.5, -3.0, 4.0][i % 4 : i % 4 + 1] for i in range(8)
    }
    table = pd.DataFrame(values, index=[f"G{j}" for j in range(7)]).rename_axis("gene")
    table.to_csv(tmp_path / "m.csv")
    pd.DataFrame({"sample": list(values), "kind": list("AABBABAB")}).to_csv(tmp_path / "s.csv", index=False)
    fields = {
        "name": "t",
        "expression": "m.csv",
        "labels": "s.csv",
        "class_column": "kind",
        "classes": ["A", "B"],
    }
    data = load_dataset(describe(tmp_path, **fields))
    assert data.scale_detected == "linear"
    logged = pd.concat([data.X_train, data.X_test])["G6"]
    np.testing.assert_allclose(logged, np.log2(np.maximum(table.loc["G6", logged.index].to_numpy(), 1.0)))


def test_a_missing_batch_column_is_named_as_the_batch_column(
    tmp_path: Path, small: dict[str, object]
) -> None:
    with pytest.raises(DataError) as refused:
        load_dataset(describe(tmp_path, **small, batch_column="run"))
    assert str(refused.value) == "s.csv: no column 'run' (field 'batch_column'); it has ['kind', 'role']."


def test_only_the_first_repeated_sample_is_located(tmp_path: Path, small: dict[str, object]) -> None:
    _edit_labels(tmp_path, lambda t: pd.concat([t, t.iloc[[6, 3]]]))  # S6 and S3 twice; S6 repeats first
    with pytest.raises(DataError) as refused:
        load_dataset(describe(tmp_path, **small))
    assert str(refused.value) == "s.csv: sample 'S6' is listed more than once (lines [8, 12])."


def test_classes_take_a_single_raw_value_and_refuse_a_repeated_class(
    tmp_path: Path, small: dict[str, object]
) -> None:
    _edit_labels(tmp_path, lambda t: t.assign(kind=["B-ALL"] * 5 + ["T-ALL"] * 5))
    data = load_dataset(describe(tmp_path, **{**small, "classes": {"B": "B-ALL", "T": ["T-ALL"]}}))
    assert data.y.value_counts().to_dict() == {"B": 5, "T": 5}, "a raw value need not be in a list"
    with pytest.raises(DataError) as refused:
        load_dataset(describe(tmp_path, **{**small, "classes": ["A", "B", "A"]}))
    assert str(refused.value) == "dataset.yaml: classes repeats a class: ['A', 'B', 'A']."


def test_golub_is_named_in_any_case_and_its_verification_is_passed_on(data_copy: Path) -> None:
    with open(data_copy / config.LABELS_FILE, "a") as labels:
        labels.write("\n")  # another copy of the files: its sha256 differs
    with pytest.raises(DataError, match="sha256"):
        load_dataset(" Golub ", data_dir=data_copy, verify=True)
    with pytest.warns(UserWarning, match=config.LABELS_FILE):
        data = load_dataset(" Golub ", data_dir=data_copy, verify=False)
    assert data.X_train.shape == (38, 7129)


def test_dudoit_on_the_bladder_data_keeps_their_values(bladder_yaml: dict[str, Path]) -> None:
    """RMA log2 values: turned into 2**x and floored at 100, most of them would sit on the floor; told
    they are log values, the filter keeps the genes that vary more than five-fold and clips nothing."""
    from leukemia.preprocessing import DudoitFilter, make_preprocessor

    data = load_dataset(bladder_yaml["tsv"])
    X = data.X_train.to_numpy()
    as_intensities = DudoitFilter(input_scale="log2").fit(X)
    assert (X <= np.log2(100)).mean() > 0.5, "the floor of 100 is above half of all RMA values"
    kept = make_preprocessor("dudoit", input_scale=data.filter_scale).fit(data.X_train)
    spread = X.max(axis=0) - X.min(axis=0)
    assert kept.scale_ == "log" and (kept.support_ == (spread > np.log2(5))).all()
    assert kept.support_.sum() > as_intensities.support_.sum()
    out = kept.transform(X)
    np.testing.assert_allclose(out, X[:, kept.support_] * np.log10(2))
    floor = np.log10(100)
    assert (out <= floor + 1e-12).mean() == pytest.approx((X[:, kept.support_] <= np.log2(100)).mean())


def test_the_bladder_data_with_a_geo_annotation_table(bladder_yaml: dict[str, Path], tmp_path: Path) -> None:
    """A GEO .annot-style platform table (made here: made-up symbols for the bladder probes) names the genes:
    symbols and titles joined by probe id, in check, in the genes a model uses, in figure labels."""
    from leukemia.evaluate import model_genes
    from leukemia.models import make_pipeline

    probes = load_dataset(bladder_yaml["tsv"]).X_train.columns
    annotated = probes[::2]  # half the probes; the others keep an empty symbol
    lines = [
        "^Annotation = GPL96",
        "!Annotation_platform = GPL96",
        "#ID = probe set",
        "!platform_table_begin",
    ]
    lines += ["ID\tGene title\tGene symbol\tGene ID"]
    lines += [f"{p}\tgene number {i}\tSYM{i}\t{1000 + i}" for i, p in enumerate(annotated)]
    lines += ["NOT_ON_THE_ARRAY\tother\tOTHER\t1", "!platform_table_end"]
    (tmp_path / "GPL96.annot").write_text("\n".join(lines) + "\n")
    fields = yaml.safe_load(bladder_yaml["tsv"].read_text())
    fields["subset"] = {"outcome": ["Normal", "sTCC-CIS", "sTCC+CIS"]}  # and superficial tumours only
    data = load_dataset(describe(tmp_path, **fields, annotation="GPL96.annot"))
    assert len(data.y) == 36 and len(data.left_out) == 21, "8 Normal + 28 superficial; 12 mTCC, 9 Biopsy out"
    assert data.genes.loc[annotated[3], "symbol"] == "SYM3"
    assert data.genes.loc[annotated[3], "description"] == "gene number 3"
    assert data.genes.loc[probes[1], "symbol"] == "" and data.genes.loc[probes[1], "description"] == ""
    assert "gene annotation: 11142 of 22283 genes have a symbol, 11142 a description" in check_report(data)
    assert "GPL96.annot" in data.checksums
    labels = data.gene_labels([annotated[0], probes[1]])
    assert labels.tolist() == ["SYM0", probes[1]], "the symbol, else the id"
    genes = model_genes(data, make_pipeline("knn", preprocessing="none", selector="f_test", k=10))
    assert len(genes) == 10 and list(genes.columns[:1]) in (["symbol"], ["higher_in"])
    assert set(genes["higher_in"]) <= {"Normal", "Cancer"}
    assert (genes["signal_to_noise"] > 0).all() and genes["signal_to_noise"].is_monotonic_decreasing
    # the difference is the named class's mean minus the other training samples', on the log2 values
    gene = genes.index[0]
    inside = data.y_train.reindex(data.X_train.index) == genes.loc[gene, "higher_in"]
    column = data.X_train[gene]
    assert genes.loc[gene, "difference"] == pytest.approx(column[inside].mean() - column[~inside].mean())
    # a mapping names the columns; ids that match no gene are refused with both kinds of id
    table = pd.DataFrame({"probe_set": annotated, "hgnc": [f"H{i}" for i in range(len(annotated))]})
    table.to_csv(tmp_path / "mine.csv", index=False)
    named = load_dataset(
        describe(
            tmp_path,
            **fields,
            annotation={"file": "mine.csv", "id_column": "probe_set", "symbol_column": "hgnc"},
        )
    )
    assert named.genes.loc[annotated[5], "symbol"] == "H5"
    pd.DataFrame({"id": ["x1", "x2"], "symbol": ["A", "B"]}).to_csv(tmp_path / "foreign.csv", index=False)
    with pytest.raises(
        DataError, match=r"foreign.csv: none of its 2 gene ids is a gene id of expression.tsv.gz"
    ):
        load_dataset(describe(tmp_path, **fields, annotation="foreign.csv"))


def test_annotation_tables_people_have(tmp_path: Path) -> None:
    from leukemia.readers import read_annotation

    # GEO's platform full table: '#' comment lines, then a tab-separated header ("Gene Symbol", "Gene Title")
    (tmp_path / "GPL96-57554.txt").write_text(
        "#ID = Affymetrix Probe Set ID\n#Gene Symbol = symbol\n"
        "ID\tGB_ACC\tGene Title\tGene Symbol\n"
        "1007_s_at\tU48705\tdiscoidin domain receptor\tDDR1 /// MIR4640\n"
        "1053_at\tM87338\treplication factor C\tRFC2\nAFFX-BioB-5_at\tJ04423\t---\t---\n"
    )
    table = read_annotation(tmp_path / "GPL96-57554.txt")
    assert (
        table.loc["1007_s_at", "symbol"] == "DDR1 /// MIR4640"
        and table.loc["1053_at", "name"] == "replication factor C"
    )
    assert table.loc["AFFX-BioB-5_at"].tolist() == ["", ""], "GEO's '---' is no value"
    # a BioMart export: one row per (gene, symbol) pair, comma-separated
    (tmp_path / "mart.csv.gz").write_bytes(__import__("gzip").compress(
        b"Gene stable ID,Gene name\nENSG1,TP53\nENSG2,BRCA1\nENSG2,BRCA1\nENSG3,\nENSG4,A\nENSG4,B\n"
    ))  # fmt: skip
    mart = read_annotation(tmp_path / "mart.csv.gz")
    assert mart["symbol"].to_dict() == {"ENSG1": "TP53", "ENSG2": "BRCA1", "ENSG3": "", "ENSG4": "A /// B"}
    (tmp_path / "bare.tsv").write_text("probe\tvalue\nP1\t3\n")
    with pytest.raises(
        DataError, match=r"bare.tsv: no gene symbol or name column .* columns: \['probe', 'value'\]"
    ):
        read_annotation(tmp_path / "bare.tsv")
    with pytest.raises(DataError, match=r"no column 'Symbol' \(annotation symbol_column\)"):
        read_annotation(tmp_path / "bare.tsv", symbol_column="Symbol")
    (tmp_path / "empty.annot").write_text("^Annotation = GPL1\n!platform_table_begin\n!platform_table_end\n")
    with pytest.raises(DataError, match="no annotation table in the file"):
        read_annotation(tmp_path / "empty.annot")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"symbol_column": "x"}, "must be a file name or a mapping with 'file'"),
        ({"file": "a.csv", "colour": "x"}, "must be a file name or a mapping with 'file'"),
        ("missing.csv", r"field 'annotation': no such file"),
    ],
)
def test_the_annotation_field_is_checked(tmp_path: Path, value: object, message: str) -> None:
    (tmp_path / "m.csv").write_text("gene,S1,S2\nG1,1,2\n")
    (tmp_path / "s.csv").write_text("sample,kind\nS1,A\nS2,B\n")
    path = describe(tmp_path, name="t", expression="m.csv", labels="s.csv", class_column="kind",
                    classes=["A", "B"], annotation=value)  # fmt: skip
    with pytest.raises(DataError, match=message):
        read_spec(path)


@pytest.mark.parametrize("name", ["s.tsv", "s.tsv.gz", "s.txt.gz", "s.csv.gz"])
def test_a_labels_table_is_read_by_its_kind_gzip_or_not(
    tmp_path: Path, small: dict[str, object], name: str
) -> None:
    """The separator comes from the table's kind, not from a last suffix .gz (samples.tsv.gz was read as
    CSV)."""
    table = pd.read_csv(tmp_path / "s.csv", dtype=str)
    table.to_csv(tmp_path / name, sep="," if ".csv" in name else "\t", index=False)
    data = load_dataset(describe(tmp_path, **(small | {"labels": name}), split_column="role"))
    assert (len(data.y_train), len(data.y_test)) == (6, 4) and list(data.classes) == ["A", "B"]

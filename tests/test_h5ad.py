"""AnnData (.h5ad) and GCT 1.3: read, written by ``leukemia data export``, and read back as the same data set.

The slow test checks the h5py reader and writer against anndata itself, installed in an environment of its
own (anndata 0.12 needs pandas < 3; the project pins pandas 3): files anndata writes give the identical
data set, and anndata reads the files this package writes with the same values and annotations.
"""

from __future__ import annotations

import json
import subprocess
import warnings
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
import yaml

from leukemia.cli import main
from leukemia.data import DataError
from leukemia.dataset import Dataset
from leukemia.h5ad import write_h5ad
from leukemia.readers import read_anndata, read_matrix
from leukemia.spec import export_dataset, load_dataset


def describe(folder: Path, file: str = "dataset.yaml", **fields: object) -> Path:
    (folder / file).write_text(yaml.safe_dump(fields))
    return folder / file


@pytest.fixture(scope="module")
def bladder(bladder_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    folder = tmp_path_factory.mktemp("bladder")
    path = describe(
        folder, expression=str(bladder_dir / "expression.tsv.gz"), labels=str(bladder_dir / "samples.csv"),
        name="bladder-2004", class_column="cancer", classes=["Normal", "Biopsy", "Cancer"],
        batch_column="batch",
    )  # fmt: skip
    return load_dataset(path)


def assert_same_dataset(got: Dataset, expected: Dataset) -> None:
    """Everything but the files' names and checksums, and the sentence saying how the split was made."""
    for part in ("X_train", "X_test"):
        pd.testing.assert_frame_equal(getattr(got, part), getattr(expected, part))
    for part in ("y_train", "y_test"):
        pd.testing.assert_series_equal(getattr(got, part), getattr(expected, part))
    assert got.classes == expected.classes and got.name == expected.name
    assert (got.scale_detected, got.scale_used) == (expected.scale_detected, expected.scale_used)
    assert expected.batch is not None and got.batch is not None
    # the same value for every sample (an export lists the training samples first)
    pd.testing.assert_series_equal(got.batch.loc[expected.batch.index], expected.batch, check_names=False)
    assert expected.annotations is not None and got.annotations is not None
    columns = list(expected.annotations.columns)
    pd.testing.assert_frame_equal(
        got.annotations.loc[expected.annotations.index, columns], expected.annotations
    )


@pytest.mark.parametrize("suffix", [".h5ad", ".gct"])
def test_an_exported_data_set_reads_back_identical(bladder: Dataset, tmp_path: Path, suffix: str) -> None:
    path = export_dataset(bladder, tmp_path / f"bladder{suffix}")
    again = load_dataset(
        describe(
            tmp_path, expression=path.name, name="bladder-2004", class_column="class",
            classes=list(bladder.classes), split_column="split", batch_column="batch",
        )
    )  # fmt: skip
    assert_same_dataset(again, bladder)
    assert again.split == "given by the column 'split'"
    assert not list(tmp_path.glob(".*.tmp")), "no temporary file is left"


def test_export_from_the_command_line(
    bladder_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    spec = describe(
        tmp_path, expression=str(bladder_dir / "bladder.gct.gz"), name="b",
        labels=str(bladder_dir / "bladder_cancer.cls"), classes=["Normal", "Biopsy", "Cancer"],
    )  # fmt: skip
    assert main(["data", "export", str(spec), str(tmp_path / "b.h5ad")]) == 0
    out = capsys.readouterr().out
    assert "wrote" in out and "57 samples × 22283 genes" in out and "split_column: split" in out
    with h5py.File(tmp_path / "b.h5ad") as handle:
        assert handle.attrs["encoding-type"] == "anndata"
        uns = handle["uns/leukemia"]
        assert uns["classes"][()].decode() == "Normal, Biopsy, Cancer"
        assert uns["scale_used"][()].decode() == "log2, as given"
        assert set(uns["files_sha256"]) == {"bladder.gct.gz", "bladder_cancer.cls"}
    assert main(["data", "export", str(spec), str(tmp_path / "b.csv")]) == 1
    assert "export writes ['.gct', '.h5ad'] files" in capsys.readouterr().err
    assert not (tmp_path / "b.csv").exists()


def small(tmp_path: Path, X: np.ndarray | None = None, **obs: list[str]) -> Path:
    X = np.arange(12, dtype=float).reshape(4, 3) + 1 if X is None else X
    values = pd.DataFrame(X, index=[f"S{i}" for i in range(4)], columns=["G1", "G2", "G3"])
    frame = pd.DataFrame(obs or {"kind": ["A", "A", "B", "B"]}, index=values.index)
    var = pd.DataFrame({"gene_symbols": ["TP53", "", "KRT20"]}, index=values.columns)
    write_h5ad(tmp_path / "s.h5ad", values, frame, var, {})
    return tmp_path / "s.h5ad"


def test_h5ad_symbols_and_obs(tmp_path: Path) -> None:
    matrix, samples = read_matrix(small(tmp_path))
    assert matrix.genes["symbol"].tolist() == ["TP53", "", "KRT20"]
    assert samples is not None and samples["kind"].tolist() == ["A", "A", "B", "B"]
    assert matrix.X.loc["S1", "G2"] == 5.0


def test_h5ad_missing_values_are_named_or_their_genes_left_out(tmp_path: Path) -> None:
    X = np.arange(12, dtype=float).reshape(4, 3) + 1
    X[2, 1] = np.nan
    path = small(tmp_path, X)
    first = r"the first is sample 'S2' \(obs row 3\), gene 'G2' \(var row 2\): nan. Fill them, or set"
    with pytest.raises(DataError, match=r"s.h5ad: 1 value\(s\) of 'X' are missing or infinite; " + first):
        read_anndata(path)
    with pytest.warns(UserWarning, match=r"left out 1 gene\(s\) with missing values"):
        assert read_anndata(path, missing="drop-genes").X.columns.tolist() == ["G1", "G3"]
    X[2, 1] = np.inf
    with pytest.raises(DataError, match=r"missing or infinite.*: inf\.$"):
        read_anndata(small(tmp_path, X), missing="drop-genes")


def test_broken_h5ad_files_are_refused_precisely(tmp_path: Path) -> None:
    path = small(tmp_path)
    truncated = tmp_path / "cut.h5ad"
    truncated.write_bytes(path.read_bytes()[:3000])
    with pytest.raises(DataError, match=r"cut.h5ad: cannot be read as HDF5 .*damaged or cut short"):
        read_matrix(truncated)
    text = tmp_path / "text.h5ad"
    text.write_text("gene,S1\nG1,1\n")
    with pytest.raises(DataError, match=r"text.h5ad: not an HDF5 file"):
        read_matrix(text)
    with pytest.raises(DataError, match=r"s.h5ad: no layer 'counts'; its layers are \[\]"):
        read_matrix(path, layer="counts")
    with pytest.raises(DataError, match=r"only an h5ad file has layers"):
        read_matrix(tmp_path / "text.h5ad", "csv", layer="counts")
    with h5py.File(path, "r+") as handle:  # obs lists one sample too many
        del handle["obs/_index"]
        handle["obs"].create_dataset("_index", data=np.array(["a", "b", "c", "d", "e"], dtype=object),
                                     dtype=h5py.string_dtype())  # fmt: skip
        del handle["obs/kind"]
        handle["obs"].attrs.create("column-order", np.array([], dtype=object), dtype=h5py.string_dtype())
    with pytest.raises(DataError, match=r"'X' is 4 × 3, but obs lists 5 samples and var 3 genes"):
        read_matrix(path)
    with h5py.File(path, "r+") as handle:  # the layout of anndata before 0.7: obs a compound array
        del handle["obs"]
        handle.create_dataset("obs", data=np.zeros(4, dtype=[("index", "S4"), ("kind", "S1")]))
    with pytest.raises(DataError, match=r"'obs' is not a data frame in AnnData's format .* before 0.7"):
        read_matrix(path)


def test_h5ad_labels_from_obs_in_a_dataset_yaml(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(8, 1, size=(12, 3))
    values = pd.DataFrame(X, index=[f"S{i}" for i in range(12)], columns=["G1", "G2", "G3"])
    obs = pd.DataFrame({"kind": ["A", "B"] * 6, "centre": ["x"] * 6 + ["y"] * 6}, index=values.index)
    write_h5ad(tmp_path / "s.h5ad", values, obs, pd.DataFrame(index=values.columns), {})
    fields = {"name": "s", "expression": "s.h5ad", "class_column": "kind", "classes": ["A", "B"]}
    data = load_dataset(describe(tmp_path, **fields, subset={"centre": ["x", "y"]}, test_size=0.34))
    assert data.classes == ("A", "B") and len(data.y) == 12
    assert data.annotations is not None and data.annotations.columns.tolist() == ["centre"]
    with pytest.raises(DataError, match=r"s.h5ad: no column 'cancer' \(field 'class_column'\)"):
        load_dataset(
            describe(tmp_path, name="s", expression="s.h5ad", class_column="cancer", classes=["A", "B"])
        )


ANNDATA_SCRIPT = """
import json, sys
import anndata as ad, numpy as np, pandas as pd, scipy.sparse as sp
folder, bladder, exported = sys.argv[1:4]
X = pd.read_csv(bladder + "/expression.tsv.gz", sep="\\t", index_col=0).T
obs = pd.read_csv(bladder + "/samples.csv", index_col=0, dtype=str).loc[X.index]
obs["batch"] = obs["batch"].astype(int)  # a number column, as users have them
obs["cancer"] = obs["cancer"].astype("category")
ad.AnnData(X=X.to_numpy(), obs=obs, var=pd.DataFrame(index=X.columns)).write_h5ad(folder + "/dense.h5ad")
layered = ad.AnnData(X=None, obs=obs, var=pd.DataFrame(index=X.columns), shape=X.shape)
layered.layers["values"] = sp.csr_matrix(X.to_numpy())
layered.write_h5ad(folder + "/layered.h5ad")
ours = ad.read_h5ad(exported)
print(json.dumps({
    "X": ours.X.tolist(), "obs": ours.obs.astype(str).to_dict("list"), "obs_names": list(ours.obs_names),
    "var_names": list(ours.var_names), "class_order": list(ours.obs["class"].cat.categories),
    "uns": {k: str(v) for k, v in ours.uns["leukemia"].items()},
}))
"""


@pytest.mark.slow
def test_anndata_and_this_reader_agree_both_ways(
    reference_python: Path, bladder_dir: Path, bladder: Dataset, tmp_path: Path
) -> None:
    small_set = load_dataset(
        describe(
            tmp_path, name="bladder-2004", expression=str(bladder_dir / "expression.tsv.gz"),
            labels=str(bladder_dir / "samples.csv"), class_column="cancer", classes=["Normal", "Cancer"],
            batch_column="batch",
        )
    )  # fmt: skip
    exported = export_dataset(small_set, tmp_path / "ours.h5ad")
    run = subprocess.run(
        [str(reference_python), "-c", ANNDATA_SCRIPT, str(tmp_path), str(bladder_dir), str(exported)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    seen = json.loads(run.stdout)
    # anndata reads the exported file: the same values, samples, genes and annotations, classes in order
    X = pd.concat([small_set.X_train, small_set.X_test])
    np.testing.assert_array_equal(np.array(seen["X"]), X.to_numpy())
    assert seen["obs_names"] == X.index.tolist() and seen["var_names"] == X.columns.tolist()
    assert seen["obs"]["class"] == small_set.y.astype(str).tolist() and seen["class_order"] == [
        "Normal",
        "Cancer",
    ]
    assert seen["obs"]["split"] == ["train"] * len(small_set.y_train) + ["test"] * len(small_set.y_test)
    assert small_set.batch is not None and seen["obs"]["batch"] == small_set.batch.loc[X.index].tolist()
    assert seen["uns"]["scale_used"] == small_set.scale_used and seen["uns"]["name"] == "bladder-2004"
    # files anndata wrote (dense X; a sparse layer) give the identical data set
    for name, layer in (("dense.h5ad", None), ("layered.h5ad", "values")):
        fields = {
            "name": "bladder-2004", "expression": name, "class_column": "cancer",
            "classes": ["Normal", "Biopsy", "Cancer"], "batch_column": "batch",
        }  # fmt: skip
        if layer:
            fields["layer"] = layer
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # nothing to warn of
            again = load_dataset(describe(tmp_path, f"{name}.yaml", **fields))
        assert_same_dataset(again, bladder)

"""leukemia.readers: the three formats give the same matrix; broken files are refused precisely."""

from __future__ import annotations

import contextlib
import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import UNDER_MUTMUT

from leukemia.data import DataError
from leukemia.readers import (
    detect_format,
    mangled_gene_ids,
    read_cls,
    read_gct,
    read_geo_series_matrix,
    read_table,
)


@pytest.fixture(scope="module")
def bladder_tsv(bladder_dir: Path):
    return read_table(bladder_dir / "expression.tsv.gz")


def test_three_formats_give_the_identical_matrix(bladder_dir: Path, bladder_tsv) -> None:
    gct = read_gct(bladder_dir / "bladder.gct.gz")
    geo, samples = read_geo_series_matrix(bladder_dir / "bladder_series_matrix.txt.gz")
    assert bladder_tsv.X.shape == (57, 22283)
    for other in (gct, geo):
        pd.testing.assert_frame_equal(other.X, bladder_tsv.X)
    assert bladder_tsv.X.index[0] == "GSM71019" and bladder_tsv.X.columns[0] == "1007_s_at"
    assert (
        2.7 < bladder_tsv.X.to_numpy().min() and bladder_tsv.X.to_numpy().max() < 14.1
    )  # README: 2.77-14.03
    # The GEO header's characteristics become columns, one row per sample, in the matrix's order.
    assert list(samples.index) == list(bladder_tsv.X.index)
    assert samples["cancer"].value_counts().to_dict() == {"Cancer": 40, "Biopsy": 9, "Normal": 8}
    assert samples["outcome"].value_counts()["sTCC-CIS"] == 16


def test_cls_labels_in_the_gct_order(bladder_dir: Path, bladder_tsv) -> None:
    cancer = read_cls(bladder_dir / "bladder_cancer.cls", bladder_tsv.X.index)
    outcome = read_cls(bladder_dir / "bladder_outcome.cls", bladder_tsv.X.index)
    table = pd.read_csv(bladder_dir / "samples.csv", index_col="sample")
    assert (cancer == table.loc[cancer.index, "cancer"]).all()
    assert (outcome == table.loc[outcome.index, "outcome"]).all()


def test_formats_are_told_apart(bladder_dir: Path) -> None:
    assert detect_format(bladder_dir / "expression.tsv.gz") == "tsv"
    assert detect_format(bladder_dir / "bladder.gct.gz") == "gct"
    assert detect_format(bladder_dir / "bladder_series_matrix.txt.gz") == "geo-series-matrix"


def write(path: Path, text: str) -> Path:
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def test_small_csv_either_orientation(tmp_path: Path) -> None:
    genes_by_samples = write(tmp_path / "a.csv", "gene,S1,S2\nG1,1.5,2\nG2,-0,4\n")
    samples_by_genes = write(tmp_path / "b.csv", "sample,G1,G2\nS1,1.5,0\nS2,2,4\n")
    first = read_table(genes_by_samples)
    second = read_table(samples_by_genes, orientation="samples-by-genes")
    pd.testing.assert_frame_equal(first.X, second.X)
    assert not np.signbit(first.X.to_numpy()).any(), "-0 is read as 0"
    assert first.X.loc["S1", "G1"] == 1.5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("gene,S1,S2\nG1,1,2\nG1,3,4\n", r"a.csv: duplicated gene id\(s\) \['G1'\]"),
        ("gene,S1,S1\nG1,1,2\nG2,3,4\n", r"a.csv: duplicated id\(s\) \['S1'\] in the header line"),
        (
            "gene,S1,S2\nG1,1,x\nG2,3,y\n",
            r"2 value\(s\) are not numbers; the first is in sample column 'S2', line 2 \(gene G1\): 'x'",
        ),
        (
            "gene,S1,S2\nG1,1,\nG2,NA,4\n",
            r"2 missing value\(s\) in 2 gene\(s\); the first is in sample column 'S2', line 2 "
            r".*missing: drop-genes",
        ),
        ("gene\nG1\n", r"one column only"),
        ("gene,S1\n", r"no gene rows"),
    ],
)
def test_broken_tables_are_refused(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        read_table(write(tmp_path / "a.csv", text))


def test_missing_values_can_drop_their_genes(tmp_path: Path) -> None:
    path = write(tmp_path / "a.tsv", "gene\tS1\tS2\nG1\t1\t\nG2\t3\t4\nG3\tnan\t5\n")
    with pytest.warns(UserWarning, match=r"left out 2 gene\(s\) with missing values"):
        matrix = read_table(path, missing="drop-genes")
    assert list(matrix.X.columns) == ["G2"]


def test_spreadsheet_dates_among_gene_ids_are_reported(tmp_path: Path) -> None:
    assert mangled_gene_ids(["1-Mar", "2-SEP", "Sep-2", "2006-09-02", "SEPT2", "MARCH1", "1007_s_at"]) == [
        "1-Mar", "2-SEP", "Sep-2", "2006-09-02",
    ]  # fmt: skip
    with pytest.warns(UserWarning, match=r"2 gene id\(s\) look like dates .*'1-Mar', '2-Sep'"):
        read_table(write(tmp_path / "a.csv", "gene,S1,S2\n1-Mar,1,2\n2-Sep,3,4\nTP53,5,6\n"))


def test_gct_header_is_checked(tmp_path: Path) -> None:
    body = "Name\tDescription\tS1\tS2\nG1\tna\t1\t2\nG2\tsome gene\t3\t4\n"
    good = read_gct(write(tmp_path / "a.gct", f"#1.2\n2\t2\n{body}"))
    assert good.genes.loc["G2", "description"] == "some gene" and good.genes.loc["G1", "description"] == ""
    with pytest.raises(DataError, match=r"line 2 says 3 genes × 2 samples, the table holds 2 × 2"):
        read_gct(write(tmp_path / "b.gct", f"#1.2\n3\t2\n{body}"))
    with pytest.raises(DataError, match=r"line 2 must give the numbers of genes, samples, row fields"):
        read_gct(write(tmp_path / "c.gct", f"#1.3\n2\t2\n{body}"))  # a 1.3 file needs four numbers
    with pytest.raises(DataError, match=r"line 2 says 2 genes × 3 samples, the table holds 2 × 2"):
        read_gct(write(tmp_path / "d.gct", f"#1.2\n2\t3\n{body}"))


def test_gct_header_errors_quote_what_they_found(tmp_path: Path) -> None:
    body = "Name\tDescription\tS1\tS2\nG1\tNA\t1\t2\nG2\t7157\t3\t4\n"
    good = read_gct(write(tmp_path / "a.gct", f"#1.2\n2\t2\t0\n{body}"))  # a third number on line 2: ignored
    assert good.genes["description"].tolist() == ["", "7157"], "'NA' is no description"
    entrez = read_gct(write(tmp_path / "e.gct", f"#1.2\n2\t2\n{body.replace('NA', '672')}"))
    assert entrez.genes["description"].tolist() == ["672", "7157"], (
        "descriptions that look like numbers stay text"
    )
    with pytest.raises(
        DataError, match=r"line 1 must be '#1.2' or '#1.3' \(the GCT version\), found '#1.3 and a long comm'"
    ):
        read_gct(write(tmp_path / "b.gct", f"#1.3 and a long comment\n2\t2\n{body}"))
    with pytest.raises(
        DataError, match=r"line 2 must give the numbers of genes and samples \(GCT 1.2\), found 'two\\ttwo'"
    ):
        read_gct(write(tmp_path / "c.gct", f"#1.2\ntwo\ttwo\n{body}"))
    header = "Gene\tDesc\tS1\tS2\n"
    with pytest.raises(
        DataError, match=r"line 3 must start with 'Name<TAB>Description', found \['Gene', 'Desc'\]\."
    ):
        read_gct(write(tmp_path / "d.gct", f"#1.2\n2\t2\n{header}{body.split(chr(10), 1)[1]}"))


def test_gct_and_geo_errors_name_the_line_of_the_file(tmp_path: Path) -> None:
    """The line numbers count the file's own lines: a GCT's two header lines, a GEO file's metadata."""
    gct = "#1.2\n3\t2\nName\tDescription\tS1\tS2\nG1\tna\t1\t2\nG2\tna\t3\t4\nG3\tna\t5\tbad\n"
    with pytest.raises(DataError, match=r"sample column 'S2', line 6 \(gene G3\): 'bad'"):
        read_gct(write(tmp_path / "a.gct", gct))
    geo = (
        '!Series_title\t"t"\n!Sample_geo_accession\t"S1"\t"S2"\n!Sample_title\t"a"\t"b"\n'
        '!series_matrix_table_begin\n"ID_REF"\t"S1"\t"S2"\n"G1"\t1\t2\n"G2"\t3\tbad\n!series_matrix_table_end\n'
    )
    with pytest.raises(DataError, match=r"sample column 'S2', line 7 \(gene G2\): 'bad'"):
        read_geo_series_matrix(write(tmp_path / "b.txt", geo))


def test_cls_counts_are_checked(tmp_path: Path) -> None:
    samples = ["S1", "S2", "S3"]
    numeric = read_cls(write(tmp_path / "a.cls", "3 2 1\n# Normal Tumour\n0 1 1\n"), samples)
    assert numeric.tolist() == ["Normal", "Tumour", "Tumour"]
    with pytest.raises(DataError, match=r"line 1 says 4 samples, line 3 holds 3 labels"):
        read_cls(write(tmp_path / "b.cls", "4 2 1\n# A B\nA B B\n"), samples)
    with pytest.raises(DataError, match=r"2 labels for 3 samples in the expression file"):
        read_cls(write(tmp_path / "c.cls", "2 2 1\n# A B\nA B\n"), samples)
    with pytest.raises(DataError, match=r"label\(s\) \['C'\] are not among the class names"):
        read_cls(write(tmp_path / "d.cls", "3 2 1\n# A B\nA B C\n"), samples)


def test_cls_names_and_labels_by_hand(tmp_path: Path) -> None:
    labels = read_cls(write(tmp_path / "a.cls", "3 2 1\n#XL Normal\n1 0 0\n"), ["S1", "S2", "S3"])
    assert labels.tolist() == ["Normal", "XL", "XL"], "only the '#' is taken off the names line"
    assert (
        labels.name == "class"
        and labels.index.name == "sample"
        and labels.index.tolist() == ["S1", "S2", "S3"]
    )


def test_geo_characteristics_become_columns_by_their_key(tmp_path: Path) -> None:
    geo = (
        '!Sample_geo_accession\t"S1"\t"S2"\n'
        '!Sample_characteristics_ch1\t"tissue: bladder"\t"tissue: urethra"\n'
        '!Sample_characteristics_ch1\t"grade 2"\t"grade 3"\n'  # no "key:": kept under the line's own name
        '!series_matrix_table_begin\n"ID_REF"\t"S1"\t"S2"\n"G1"\t1\t2\n!series_matrix_table_end\n'
    )
    _, samples = read_geo_series_matrix(write(tmp_path / "a_series_matrix.txt", geo))
    assert samples.index.tolist() == ["S1", "S2"]
    assert samples["tissue"].tolist() == ["bladder", "urethra"]
    assert samples["characteristics_ch1"].tolist() == ["grade 2", "grade 3"]
    assert "" not in samples.columns


def test_geo_series_matrix_without_its_table_end(tmp_path: Path) -> None:
    text = '!Sample_geo_accession\t"S1"\t"S2"\n!series_matrix_table_begin\n"ID_REF"\t"S1"\t"S2"\n"G1"\t1\t2\n'
    with pytest.raises(DataError, match="no '!series_matrix_table_end' line"):
        read_geo_series_matrix(write(tmp_path / "a_series_matrix.txt", text))
    with pytest.raises(DataError, match="not a GEO series matrix"):
        read_geo_series_matrix(write(tmp_path / "b.txt", "gene\tS1\nG1\t1\n"))


@pytest.mark.parametrize("reader", ["tsv", "gct", "geo"])
def test_the_fast_path_gives_the_checked_paths_numbers_bit_for_bit(
    bladder_dir: Path, reader: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Clean files are parsed as numbers in one pass; the text path (which names bad cells) agrees exactly."""
    import leukemia.readers as readers

    def read() -> pd.DataFrame:
        if reader == "tsv":
            return read_table(bladder_dir / "expression.tsv.gz").X
        if reader == "gct":
            return read_gct(bladder_dir / "bladder.gct.gz").X
        return read_geo_series_matrix(bladder_dir / "bladder_series_matrix.txt.gz")[0].X

    calls: list[int] = []
    fast_numbers = readers._fast_numbers
    monkeypatch.setattr(readers, "_fast_numbers", lambda *args: calls.append(1) or fast_numbers(*args))
    fast = read()
    assert calls, "a clean file takes the fast path"
    monkeypatch.setattr(readers, "_fast_numbers", lambda *args: None)
    checked = read()
    assert fast.to_numpy().dtype == np.float64
    assert np.array_equal(fast.to_numpy().view(np.int64), checked.to_numpy().view(np.int64))
    assert fast.index.equals(checked.index) and fast.columns.equals(checked.columns)


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        (
            "oops",
            r"1 value\(s\) are not numbers; the first is in sample column 'S2', line 3 \(gene G2\): 'oops'",
        ),
        ("inf", r"infinite value in sample column 'S2', line 3 \(gene G2\)"),
        ("", r"1 missing value\(s\) in 1 gene\(s\); the first is in sample column 'S2', line 3"),
    ],
)
def test_a_file_the_fast_path_cannot_take_is_read_the_checked_way(
    tmp_path: Path, cell: str, message: str
) -> None:
    body = (
        "gene\tS1\tS2\nG1\t1.5\t-0\nG2\t3\t"
        + cell
        + "\n"
        + "".join(f"G{i}\t{i}\t{i}\n" for i in range(3, 50))
    )
    with pytest.raises(DataError, match=message):
        read_table(write(tmp_path / "a.tsv", body))
    clean = read_table(write(tmp_path / "b.tsv", body.replace("\t" + cell + "\n", "\t2\n", 1)))
    assert clean.X.loc["S2", "G1"] == 0 and not np.signbit(clean.X.loc["S2", "G1"]), "-0 becomes 0"


def test_a_csv_is_told_apart_and_its_byte_order_mark_dropped(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_bytes("\ufeffgene,S1,S2\nG1,1,2\nG2,3,4\n".encode())
    assert detect_format(path) == "csv"
    matrix = read_table(path)
    assert matrix.X.index.tolist() == ["S1", "S2"] and matrix.X.columns.tolist() == ["G1", "G2"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("3 2 1\n# A B\n", "a CLS file has three lines (counts, '# class names', labels); found 2."),
        ("three 2 1\n# A B\nA B B\n", "line 1 must be '<samples> <classes> 1', found 'three 2 1'."),
        (
            "3 2 1\nNormal Tumour and a long remark after the names\nA B B\n",
            "line 2 must list the class names after '#', found 'Normal Tumour and a long remark after th'.",
        ),
        ("3 3 1\n# A B\nA B B\n", "line 1 says 3 classes, line 2 names 2: ['A', 'B']."),
        ("3 2 1\n# A B\n0 2 1\n", "a label number is larger than the 2 class names allow."),
        (
            "7 2 1\n# A B\nC D E F G H I\n",
            "label(s) ['C', 'D', 'E', 'F', 'G'] are not among the class names ['A', 'B'].",
        ),
        (
            "2 2 1\n# A B\nA B\n",
            "2 labels for 3 samples in the expression file (a CLS file lists one label per sample, in the "
            "expression file's order).",
        ),
    ],
)
def test_cls_refusals_name_the_file_and_quote_what_they_found(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(DataError) as refused:
        read_cls(write(tmp_path / "x.cls", text), ["S1", "S2", "S3"])
    assert str(refused.value) == f"x.cls: {message}"


def test_geo_sample_fields_keep_their_values_whole(tmp_path: Path) -> None:
    geo = (
        '!Sample_title\t"Case X"\tControl X\n'  # a value may end in X, and the last one is unquoted
        '!Sample_geo_accession\t"GSM1"\t"GSM2"\n'
        '!Sample_description\t"first"\t\n'  # an empty last value is a value
        '!Sample_characteristics_ch1\t"time: 10:30"\t"time: 9:05"\n'  # a colon inside the value
        '!series_matrix_table_begin\n"ID_REF"\t"GSM1"\t"GSM2"\n"G1"\t1\t2\n!series_matrix_table_end\n'
    )
    _, samples = read_geo_series_matrix(write(tmp_path / "a_series_matrix.txt", geo))
    assert samples.index.name == "sample" and samples.index.tolist() == ["GSM1", "GSM2"]
    assert samples.columns.tolist() == ["title", "description", "time"], "the accession is the index"
    assert samples["title"].tolist() == ["Case X", "Control X"]
    assert samples["description"].tolist() == ["first", ""]
    assert samples["time"].tolist() == ["10:30", "9:05"]


def test_geo_samples_without_accessions_take_the_tables_names(tmp_path: Path) -> None:
    geo = (
        '!Sample_title\t"a"\t"b"\n'
        '!series_matrix_table_begin\n"ID_REF"\t"S1"\t"S2"\n"G1"\t1\t2\n!series_matrix_table_end\n'
    )
    _, samples = read_geo_series_matrix(write(tmp_path / "a_series_matrix.txt", geo))
    assert samples.index.name == "sample" and samples.index.tolist() == ["S1", "S2"]
    assert samples["title"].tolist() == ["a", "b"]


def test_dropped_genes_are_reported_at_the_callers_line_and_minus_zero_read_as_zero(tmp_path: Path) -> None:
    """The slow path (a gap sends the file there) turns -0 into 0 as the fast path does."""
    path = write(tmp_path / "a.tsv", "gene\tS1\tS2\nG1\t1.5\t\nG2\t-0.0\t4\n")  # S1 parses as floats: -0.0
    with pytest.warns(UserWarning) as record:
        matrix = read_table(path, missing="drop-genes")
    assert [str(w.message) for w in record] == [
        "a.tsv: left out 1 gene(s) with missing values (missing: drop-genes)."
    ]
    assert UNDER_MUTMUT or record[0].filename == __file__, "the warning points at the read_table call"
    assert matrix.X.loc["S1", "G2"] == 0 and not np.signbit(matrix.X.loc["S1", "G2"])
    with pytest.warns(UserWarning, match="look like dates") as record:
        read_table(write(tmp_path / "b.csv", "gene,S1,S2\n1-Mar,1,2\nTP53,5,6\n"))
    assert UNDER_MUTMUT or record[0].filename == __file__
    with pytest.raises(DataError) as refused:
        read_table(path)
    assert str(refused.value).endswith(
        "Fill them, or set `missing: drop-genes` in dataset.yaml to leave those genes out."
    )


def test_a_broken_tab_separated_table_is_called_tab_separated(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not a readable tab-separated table"):
        read_table(write(tmp_path / "a.tsv", "gene\tS1\nG1\t1\nG2\t3\t4\t5\n"))
    with pytest.raises(DataError, match="not a readable comma-separated table"):
        read_table(write(tmp_path / "a.csv", "gene,S1\nG1,1\nG2,3,4,5\n"))


@pytest.mark.parametrize("gap", [False, True], ids=["fast path", "checked path"])
def test_gene_ids_stay_text_on_both_paths(tmp_path: Path, gap: bool) -> None:
    """Ids such as NA, null or 007 are names, not missing values or numbers, in a table and a GEO file."""
    last = "\t" if gap else "\t5"
    table = f"gene\tS1\tS2\nNA\t1\t2\nnull\t3\t4\n007\t5{last}\n"
    geo = (
        '!Sample_geo_accession\t"S1"\t"S2"\n!series_matrix_table_begin\n"ID_REF"\t"S1"\t"S2"\n'
        f'"NA"\t1\t2\n"null"\t3\t4\n"007"\t5{last}\n!series_matrix_table_end\n'
    )
    with pytest.warns(UserWarning, match="left out 1 gene") if gap else contextlib.nullcontext():
        matrix = read_table(write(tmp_path / "a.tsv", table), missing="drop-genes")
    with pytest.warns(UserWarning, match="left out 1 gene") if gap else contextlib.nullcontext():
        from_geo, _ = read_geo_series_matrix(
            write(tmp_path / "b_series_matrix.txt", geo), missing="drop-genes"
        )
    expected = ["NA", "null"] if gap else ["NA", "null", "007"]
    assert matrix.X.columns.tolist() == expected and from_geo.X.columns.tolist() == expected


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("x.gct", "Name\tDescription\tS1\n", "gct"),  # by its name
        ("X.GCT.GZ", "Name\tDescription\tS1\n", "gct"),  # any case, gzipped
        ("x.data", "#1.2\n3\t2\nName\tDescription\tS1\tS2\n", "gct"),  # by its first line
        ("x.data", "gene\t#1.2\n#1.2\t1\n", "tsv"),  # the first line only
        ("GSE1_series_matrix.txt.gz", "gene\tS1\n", "geo-series-matrix"),
        ("x.data", '!Sample_title\t"a"\n!Series_title\t"t"\n', "geo-series-matrix"),
        ("x.data", "!series_title,x\n", "csv"),  # GEO writes !Series_, capitalised
        ("x.tsv", "gene,S1,S2\n", "tsv"),
        ("X.TXT", "gene,S1,S2\n", "tsv"),
        ("x.tab", "gene,S1,S2\n", "tsv"),
        ("x.data", "gene\tS1\nG1,1,2,3\n", "tsv"),  # more tabs than commas on the first line
        ("x.data", "gene\tS1,x\n", "csv"),  # as many: not tab-separated
        ("x.csv", "gene\n", "csv"),  # by its name alone
        ("X.CSV.gz", "gene\n", "csv"),
        ("x.data", "gene,S1\nG1\t1\t2\t3\n", "csv"),
    ],
)
def test_a_format_is_told_from_the_name_then_the_first_lines(
    tmp_path: Path, name: str, text: str, expected: str
) -> None:
    assert detect_format(write(tmp_path / name, text)) == expected


def test_a_file_neither_name_nor_content_explains_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "x.data", "gene S1 S2\n")
    with pytest.raises(DataError) as refused:
        detect_format(path)
    assert str(refused.value) == (
        f"{path}: cannot tell its format from the name or content; set format: one of "
        "['csv', 'tsv', 'gct', 'geo-series-matrix', 'golub-csv', 'h5ad']."
    )


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        (
            "x",
            r"1 value\(s\) are not numbers; the first is in gene column 'G2', line 3 \(sample S2\): 'x'\.$",
        ),
        (
            "",
            r"1 missing value\(s\) in 1 gene\(s\); the first is in gene column 'G2', line 3 \(sample S2\)",
        ),
        ("-inf", r"infinite value in gene column 'G2', line 3 \(sample S2\)\.$"),
    ],
)
def test_a_samples_by_genes_file_names_the_gene_column_and_the_samples_line(
    tmp_path: Path, cell: str, message: str
) -> None:
    path = write(tmp_path / "a.csv", f"sample,G1,G2,G3\nS1,1,2,3\nS2,4,{cell},6\nS3,7,8,9\n")
    with pytest.raises(DataError, match=message):
        read_table(path, orientation="samples-by-genes")


def test_an_infinite_value_is_located_after_genes_with_gaps_are_dropped(tmp_path: Path) -> None:
    path = write(tmp_path / "a.tsv", "gene\tS1\tS2\nG1\t1\t\nG2\t3\tinf\n")
    with pytest.warns(UserWarning, match="left out 1 gene"), pytest.raises(DataError) as refused:
        read_table(path, missing="drop-genes")
    assert str(refused.value) == "a.tsv: infinite value in sample column 'S2', line 3 (gene G2)."


def test_reading_rules_of_a_plain_table(tmp_path: Path) -> None:
    """The separator, the header's repeated ids, an empty file, the orientation: each refusal in full."""
    with pytest.raises(DataError, match="not numbers"):  # as many tabs as commas: comma-separated
        read_table(write(tmp_path / "a.data", "gene,S1\tS2\nG1,1\t2\n"))
    assert read_table(write(tmp_path / "b.data", "id\tnote,S1,S2\nG1\tn,1,2\n")).X.shape == (2, 1)
    with pytest.raises(DataError) as refused:
        read_table(write(tmp_path / "c.csv", "S1,S1,S2\nG1,1,2\n"))  # the id column's name repeated
    assert str(refused.value) == "c.csv: duplicated id(s) ['S1'] in the header line."
    many = "gene," + ",".join(f"S{i},S{i}" for i in range(6)) + "\n"
    with pytest.raises(DataError) as refused:
        read_table(write(tmp_path / "d.csv", many + "G1" + ",1" * 12 + "\n"))
    assert str(refused.value) == "d.csv: duplicated id(s) ['S0', 'S1', 'S2', 'S3', 'S4'] in the header line."
    with pytest.raises(DataError) as refused:
        read_table(write(tmp_path / "e.csv", ""))
    assert str(refused.value) == f"{tmp_path / 'e.csv'}: the file is empty."
    with pytest.raises(DataError) as refused:
        read_table(write(tmp_path / "f.csv", "gene,S1\nG1,1\n"), orientation="genes by samples")
    assert str(refused.value) == (
        "orientation must be genes-by-samples or samples-by-genes, got 'genes by samples'."
    )


def test_ids_must_be_present_and_unique(tmp_path: Path) -> None:
    with pytest.raises(DataError) as refused:
        read_table(write(tmp_path / "a.csv", "gene,S1,S2\nG1,1,2\n ,3,4\nG3,5,6\n"))
    assert str(refused.value) == "a.csv: an empty gene id (the gene at position 2)."
    five = "".join(f"G{i},{i},{i}\nG{i},{i},{i}\n" for i in range(5))
    with pytest.raises(DataError) as refused:
        read_table(write(tmp_path / "b.csv", "gene,S1,S2\n" + five))
    assert str(refused.value) == "b.csv: duplicated gene id(s) ['G0', 'G1', 'G2', 'G3', 'G4']."
    with pytest.raises(DataError) as refused:
        read_table(write(tmp_path / "c.csv", "gene,S1,S2\n" + five + "G5,1,1\nG5,1,1\n"))
    assert str(refused.value) == "c.csv: duplicated gene id(s) ['G0', 'G1', 'G2', 'G3', 'G4'] …."


def test_a_file_that_is_not_text_is_refused_as_such(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(b"gene,S1\n\xff\xfe\xfa,1\n")
    with pytest.raises(DataError, match=r"a.csv: cannot be read as text \(.*codec can't decode"):
        detect_format(path)


def test_a_file_in_golubs_form_is_read_as_any_matrix(golub, data_dir: Path, tmp_path: Path) -> None:
    """Golub's form (an intensity and a ``call`` column per sample) is recognised and read with the Golub
    reader's checks: the same numbers as load_golub's, the calls dropped, the descriptions kept."""
    from leukemia.readers import read_golub_csv, read_matrix
    from leukemia.spec import load_dataset

    path = data_dir / "data_set_ALL_AML_independent.csv"
    assert detect_format(path) == "golub-csv"
    matrix, annotations = read_matrix(path)
    assert annotations is None and matrix.X.index.tolist() == [str(p) for p in golub.X_test.index]
    assert np.array_equal(matrix.X.to_numpy(), golub.X_test.to_numpy())
    assert matrix.genes["description"].tolist() == golub.genes["description"].tolist()
    assert read_golub_csv(path).X.shape == (34, 7129)
    (tmp_path / "independent.yaml").write_text(
        f"name: independent\nexpression: {path}\nlabels: {data_dir / 'actual.csv'}\nsample_column: patient\n"
        "class_column: cancer\nclasses: [ALL, AML]\n"
    )
    data = load_dataset(tmp_path / "independent.yaml")
    assert data.scale_detected == "linear" and len(data.y) == 34


def test_geo_characteristics_with_different_keys_on_one_line(tmp_path: Path) -> None:
    """Samples annotated differently share a line; a key may come twice. Nothing is dropped or overwritten."""
    geo = (
        '!Sample_geo_accession\t"S1"\t"S2"\t"S3"\n'
        '!Sample_characteristics_ch1\t"tissue: bladder"\t"cell line: T24"\t"tissue: urethra"\n'
        '!Sample_characteristics_ch1\t"treatment: BCG"\t"tissue: bladder"\t"treatment: BCG"\n'
        '!Sample_characteristics_ch1\t"treatment: mitomycin"\t""\t"grade 3"\n'
        '!series_matrix_table_begin\n"ID_REF"\t"S1"\t"S2"\t"S3"\n"G1"\t1\t2\t3\n!series_matrix_table_end\n'
    )
    _, samples = read_geo_series_matrix(write(tmp_path / "a_series_matrix.txt", geo))
    assert samples["tissue"].tolist() == ["bladder", "bladder", "urethra"]
    assert samples["cell line"].tolist() == ["", "T24", ""]
    assert samples["treatment"].tolist() == ["BCG; mitomycin", "", "BCG"]
    assert samples["characteristics_ch1"].tolist() == ["", "", "grade 3"]


GCT13 = (
    "#1.3\n3\t2\t2\t2\n"
    "id\tpr_gene_symbol\tpr_gene_title\tS1\tS2\n"
    "cancer\tna\tna\tNormal\tCancer\n"
    "batch\tna\tna\tA\tB\n"
    "G1\tTP53\ttumor protein p53\t1.5\t2\n"
    "G2\t-666\tna\t3\t4\n"
    "G3\tKRT20\tkeratin 20\t5\t6.25\n"
)


def test_gct_13_reads_its_row_and_column_fields(tmp_path: Path) -> None:
    path = write(tmp_path / "a.gct", GCT13)
    assert detect_format(path) == "gct" and detect_format(write(tmp_path / "b.txt", GCT13)) == "gct"
    matrix = read_gct(path)
    expected = pd.DataFrame(
        [[1.5, 3.0, 5.0], [2.0, 4.0, 6.25]], index=["S1", "S2"], columns=["G1", "G2", "G3"]
    )
    np.testing.assert_array_equal(matrix.X.to_numpy(), expected.to_numpy())
    assert matrix.X.index.tolist() == ["S1", "S2"] and matrix.X.columns.tolist() == ["G1", "G2", "G3"]
    assert matrix.genes["symbol"].tolist() == ["TP53", "", "KRT20"], "CMap's -666 is no symbol"
    assert matrix.genes["description"].tolist() == ["tumor protein p53", "", "keratin 20"]
    assert matrix.samples is not None
    assert matrix.samples.to_dict("list") == {"cancer": ["Normal", "Cancer"], "batch": ["A", "B"]}
    assert matrix.samples.index.tolist() == ["S1", "S2"]


def test_gct_13_without_fields_is_a_plain_matrix(tmp_path: Path) -> None:
    matrix = read_gct(write(tmp_path / "a.gct", "#1.3\n2\t2\t0\t0\nid\tS1\tS2\nG1\t1\t2\nG2\t3\t4\n"))
    assert matrix.X.shape == (2, 2) and matrix.samples is not None and matrix.samples.shape == (2, 0)


@pytest.mark.parametrize(
    ("dimensions", "message"),
    [
        (
            "3\t2\t2",
            r"line 2 must give the numbers of genes, samples, row fields and column fields \(GCT 1.3\)",
        ),
        (
            "3\t2\t1\t2",
            r"line 2 says 1 row field\(s\) and 2 samples, so line 3 must hold 1 \+ 1 \+ 2 = 4 cells",
        ),
        ("4\t2\t2\t2", r"line 2 says 4 genes × 2 samples, the table holds 3 × 2"),
        ("3\t3\t2\t2", r"line 3 must hold 1 \+ 2 \+ 3 = 6 cells; it holds 5"),
        ("3\t2\t2\t3", r"says 3 genes × 2 samples, the table holds 2 × 2 after its 3 column-field line"),
    ],
)
def test_gct_13_wrong_dimension_line_is_refused(tmp_path: Path, dimensions: str, message: str) -> None:
    text = GCT13.replace("3\t2\t2\t2", dimensions, 1)
    with pytest.raises(DataError, match=message):
        read_gct(write(tmp_path / "a.gct", text))


def test_gct_13_bad_value_names_its_line(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"sample column 'S2', line 8 \(gene G3\): 'x'"):
        read_gct(write(tmp_path / "a.gct", GCT13.replace("6.25", "x")))

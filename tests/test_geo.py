"""``expression: GSE…``: the series matrix and the platform's annotation downloaded from a GEO server.

The server is a loopback HTTP server laid out as GEO's (``$LEUKEMIA_GEO_URL`` points at it), serving the
bladder series (GSE3167) and a small annotation table made here.
"""

from __future__ import annotations

import functools
import gzip
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml

from leukemia.data import DataError
from leukemia.geo import platform_url, series_url
from leukemia.spec import check_report, load_dataset


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # no request lines in the test output
        pass


@pytest.fixture
def geo_server(tmp_path: Path, bladder_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict]:
    root = tmp_path / "server"
    series = root / "geo/series/GSE3nnn/GSE3167/matrix"
    series.mkdir(parents=True)
    text = gzip.decompress((bladder_dir / "bladder_series_matrix.txt.gz").read_bytes()).decode()
    first, rest = text.split("\n", 1)  # the shared copy names no platform: GEO's files do
    (series / "GSE3167_series_matrix.txt.gz").write_bytes(
        gzip.compress(f'{first}\n!Series_platform_id\t"GPL96"\n{rest}'.encode())
    )
    platform = root / "geo/platforms/GPLnnn/GPL96/annot"
    platform.mkdir(parents=True)
    genes = pd.read_csv(bladder_dir / "expression.tsv.gz", sep="\t", usecols=[0]).iloc[:, 0].tolist()
    table = "\n".join(
        ["ID\tGene symbol\tGene title"] + [f"{g}\tSYM{i}\tgene {i}" for i, g in enumerate(genes[:50])]
    )
    (platform / "GPL96.annot.gz").write_bytes(
        gzip.compress(f"!platform_table_begin\n{table}\n!platform_table_end\n".encode())
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("LEUKEMIA_GEO_URL", url)
    monkeypatch.setenv("LEUKEMIA_GEO_DIR", str(tmp_path / "downloads"))
    monkeypatch.setenv("LEUKEMIA_DATASET_CACHE_DIR", str(tmp_path / "cache"))
    yield {"url": url, "root": root, "downloads": tmp_path / "downloads", "server": server}
    server.shutdown()
    server.server_close()


def describe(folder: Path, **fields: object) -> Path:
    path = folder / "dataset.yaml"
    path.write_text(yaml.safe_dump(fields))
    return path


def test_a_series_by_accession_is_downloaded_once_and_recorded(
    geo_server: dict, tmp_path: Path, bladder_dir: Path
) -> None:
    url = geo_server["url"]
    assert series_url("GSE3167") == f"{url}/geo/series/GSE3nnn/GSE3167/matrix/GSE3167_series_matrix.txt.gz"
    assert platform_url("GPL10558").endswith("/geo/platforms/GPL10nnn/GPL10558/annot/GPL10558.annot.gz")
    fields = {"name": "bladder", "class_column": "cancer", "classes": ["Normal", "Cancer"]}
    data = load_dataset(describe(tmp_path, expression="GSE3167", **fields))
    local = load_dataset(
        describe(tmp_path / "server", expression=str(bladder_dir / "bladder_series_matrix.txt.gz"), **fields)
    )
    pd.testing.assert_frame_equal(data.X_train, local.X_train)
    pd.testing.assert_series_equal(data.y_test, local.y_test)
    assert data.sources == {
        "GSE3167_series_matrix.txt.gz": series_url("GSE3167"),
        "GPL96.annot.gz": platform_url("GPL96"),
    }
    assert set(data.checksums) == set(data.sources)
    assert data.gene_names()["symbol"].ne("").sum() == 50, "symbols from the platform's table"
    report = check_report(data)
    assert (
        f"GSE3167_series_matrix.txt.gz  sha256 {data.checksums['GSE3167_series_matrix.txt.gz']}  from {url}"
        in report
    )
    # Once there, the files are used as they are: the server may go.
    geo_server["server"].shutdown()
    again = load_dataset(describe(tmp_path, expression="gse3167", **fields))
    pd.testing.assert_frame_equal(again.X_test, data.X_test)


def test_an_unknown_series_and_no_network_are_one_clear_error(geo_server: dict, tmp_path: Path) -> None:
    fields = {"name": "x", "class_column": "cancer", "classes": ["Normal", "Cancer"]}
    with pytest.raises(DataError) as refused:
        load_dataset(describe(tmp_path, expression="GSE999999", **fields))
    message = str(refused.value)
    assert message.startswith(
        f"GEO has no series matrix at {series_url('GSE999999')} (HTTP 404). Check the accession."
    )
    assert "GSE999999-GPL…_series_matrix.txt.gz" in message
    assert not list(geo_server["downloads"].glob("*GSE999999*")), "nothing half-written is kept"
    geo_server["server"].shutdown()
    geo_server["server"].server_close()
    with pytest.raises(DataError) as refused:
        load_dataset(describe(tmp_path, expression="GSE42", **fields))
    message = str(refused.value)
    assert f"Could not download the series matrix from {series_url('GSE42')} (ConnectionError)" in message
    assert "Download it by hand" in message and f"curl -O {series_url('GSE42')}" in message


def test_a_platform_without_an_annotation_table_only_warns(geo_server: dict, tmp_path: Path) -> None:
    (geo_server["root"] / "geo/platforms/GPLnnn/GPL96/annot/GPL96.annot.gz").unlink()
    fields = {"name": "x", "class_column": "cancer", "classes": ["Normal", "Cancer"]}
    with pytest.warns(
        UserWarning, match=r"no gene symbols: GEO has no annotation table for GPL96 at .*HTTP 404"
    ):
        data = load_dataset(describe(tmp_path, expression="GSE3167", **fields))
    assert list(data.sources) == ["GSE3167_series_matrix.txt.gz"]
    with pytest.raises(
        DataError, match=r"expression: GSE3167 is a GEO series, read as format geo-series-matrix"
    ):
        load_dataset(describe(tmp_path, expression="GSE3167", format="tsv", **fields))

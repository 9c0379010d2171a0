"""leukemia.data.fetch: downloads from a local HTTP server (never the internet), zips, folders."""

from __future__ import annotations

import functools
import threading
import zipfile
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pooch
import pytest

from leukemia import config
from leukemia.data import DataError, fetch


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[callable]:
    """Start HTTP servers on 127.0.0.1 serving a folder; yields a function folder -> base URL."""
    servers: list[ThreadingHTTPServer] = []

    def start(folder: Path) -> str:
        handler = functools.partial(_QuietHandler, directory=str(folder))
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def assert_verified(folder: Path) -> None:
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(config.DATA_SHA256), f"unexpected files: {names}"
    for name, sha in config.DATA_SHA256.items():
        assert pooch.file_hash(str(folder / name)) == sha


def test_download_from_local_server(serve, data_dir: Path, tmp_path: Path) -> None:
    url = serve(data_dir)
    target = tmp_path / "raw"
    paths = fetch(target, base_url=url, retries=0, progressbar=False)
    assert set(paths) == set(config.DATA_SHA256)
    assert_verified(target)
    # A second fetch finds the files verified and does not need the server at all.
    assert fetch(target, base_url="http://127.0.0.1:9/", retries=0, progressbar=False) == paths


def test_corrupt_download_is_refused_and_not_kept(serve, data_copy: Path, tmp_path: Path) -> None:
    train = data_copy / config.TRAIN_FILE
    train.write_bytes(train.read_bytes().replace(b"-214,A", b"-215,A", 1))
    url = serve(data_copy)
    target = tmp_path / "raw"
    with pytest.raises(
        DataError,
        match=r"data_set_ALL_AML_train\.csv from http://127\.0\.0\.1.* does not have the expected sha256",
    ):
        fetch(target, base_url=url, retries=1, progressbar=False)
    assert not (target / config.TRAIN_FILE).exists()
    assert all(p.name in config.DATA_SHA256 for p in target.iterdir()), "no temporary file left"


def test_server_down_gives_clear_message(tmp_path: Path) -> None:
    target = tmp_path / "raw"
    with pytest.raises(DataError, match=r"Could not download actual\.csv .*--from archive\.zip"):
        fetch(target, base_url="http://127.0.0.1:9/", retries=0, progressbar=False)
    assert not target.exists() or not any(target.iterdir())


def test_missing_file_on_server(serve, data_copy: Path, tmp_path: Path) -> None:
    (data_copy / config.TEST_FILE).unlink()
    with pytest.raises(DataError, match=r"Could not download data_set_ALL_AML_independent\.csv"):
        fetch(tmp_path / "raw", base_url=serve(data_copy), retries=0, progressbar=False)


def test_from_folder(data_dir: Path, tmp_path: Path) -> None:
    fetch(tmp_path / "raw", source=data_dir)
    assert_verified(tmp_path / "raw")


@pytest.mark.parametrize(
    ("zip_name", "folder_inside"), [("archive.zip", ""), ("gene-expression.zip", "gene-expression/")]
)
def test_from_kaggle_zip(data_dir: Path, tmp_path: Path, zip_name: str, folder_inside: str) -> None:
    archive = tmp_path / zip_name
    with zipfile.ZipFile(archive, "w") as z:
        for name in config.DATA_SHA256:
            z.write(data_dir / name, arcname=folder_inside + name)
    fetch(tmp_path / "raw", source=archive)
    assert_verified(tmp_path / "raw")


def test_from_folder_missing_a_file(data_copy: Path, tmp_path: Path) -> None:
    (data_copy / config.LABELS_FILE).unlink()
    with pytest.raises(DataError, match=r"actual\.csv is not in .*must hold"):
        fetch(tmp_path / "raw", source=data_copy)
    assert not (tmp_path / "raw" / config.LABELS_FILE).exists()


def test_from_zip_missing_a_file(data_dir: Path, tmp_path: Path) -> None:
    archive = tmp_path / "archive.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(data_dir / config.LABELS_FILE, arcname=config.LABELS_FILE)
    with pytest.raises(DataError, match=r"data_set_ALL_AML_independent\.csv is not in the zip file"):
        fetch(tmp_path / "raw", source=archive)


def test_from_corrupt_copy_is_refused(data_copy: Path, tmp_path: Path) -> None:
    (data_copy / config.LABELS_FILE).write_text("patient,cancer\n1,AML\n")
    with pytest.raises(DataError, match=r"actual\.csv from .* does not have the expected sha256"):
        fetch(tmp_path / "raw", source=data_copy)
    assert not (tmp_path / "raw" / config.LABELS_FILE).exists()


def test_from_path_that_is_neither_folder_nor_zip(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("hello")
    with pytest.raises(DataError, match=r"expected a folder or a \.zip file"):
        fetch(tmp_path / "raw", source=bogus)
    with pytest.raises(DataError, match=r"no such file or folder"):
        fetch(tmp_path / "raw", source=tmp_path / "nowhere")


def test_existing_wrong_file_is_kept_unless_forced(data_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "raw"
    target.mkdir()
    mine = target / config.LABELS_FILE
    mine.write_text("patient,cancer\n1,ALL\n")
    with pytest.raises(DataError, match=r"actual\.csv exists but its sha256 .*--force"):
        fetch(target, source=data_dir)
    assert mine.read_text() == "patient,cancer\n1,ALL\n", "a user's file is never overwritten silently"
    fetch(target, source=data_dir, force=True)
    assert_verified(target)


def test_unwritable_data_dir(data_dir: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(DataError, match=r"Cannot write actual\.csv into .*a-file/raw.*writable folder"):
        fetch(blocker / "raw", source=data_dir)


class _DroppingHandler(_QuietHandler):
    """Promises the whole file, sends half of it, then closes the connection; counts the requests."""

    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.requests.append(self.path)
        body = (Path(self.directory) / self.path.lstrip("/")).read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        self.close_connection = True


@pytest.mark.parametrize("retries", [0, 1])
def test_connection_dropped_mid_file_is_retried_then_refused(
    data_dir: Path, tmp_path: Path, retries: int
) -> None:
    _DroppingHandler.requests = []
    handler = functools.partial(_DroppingHandler, directory=str(data_dir))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    target = tmp_path / "raw"
    try:
        with pytest.raises(DataError, match=r"Could not download actual\.csv .*--from archive\.zip"):
            fetch(
                target,
                base_url=f"http://127.0.0.1:{server.server_address[1]}/",
                retries=retries,
                progressbar=False,
            )
    finally:
        server.shutdown()
        server.server_close()
    assert _DroppingHandler.requests == ["/actual.csv"] * (1 + retries), "tried once, then retries more times"
    assert not target.exists() or not any(target.iterdir()), "no partial file is left"

"""A GEO series by accession: ``expression: GSE12345`` in a ``dataset.yaml``.

GEOquery's ``getGEO("GSE…")`` and GEO2R start from the series matrix GEO keeps for every series; no
maintained Python library fetches it. pooch downloads it (and the platform's annotation table, for gene
symbols) into a cache folder, once: a file already there is used as it is. The server root is
``$LEUKEMIA_GEO_URL`` (default GEO's own, :data:`GEO_URL`); below it the paths are GEO's layout::

    /geo/series/GSE12nnn/GSE12345/matrix/GSE12345_series_matrix.txt.gz
    /geo/platforms/GPLnnn/GPL96/annot/GPL96.annot.gz

The folder is ``$LEUKEMIA_GEO_DIR``, else ``geo/`` beside the cache's default folder (the checkout's
``reports/``, or the user's cache directory). The data set records each file's URL and sha256.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

from leukemia import config
from leukemia.data import DataError

__all__ = [
    "GEO_URL",
    "fetch_platform_annotation",
    "fetch_series",
    "is_accession",
    "platform_of",
    "platform_url",
    "series_url",
]

#: GEO's server; ``$LEUKEMIA_GEO_URL`` replaces it (a mirror, or a loopback server in the tests).
GEO_URL = "https://ftp.ncbi.nlm.nih.gov"
GEO_URL_ENV_VAR = "LEUKEMIA_GEO_URL"
GEO_DIR_ENV_VAR = "LEUKEMIA_GEO_DIR"
_SERIES = re.compile(r"^GSE[1-9]\d*$", re.IGNORECASE)
_PLATFORM = re.compile(r"^GPL[1-9]\d*$")


def is_accession(text: str) -> bool:
    """Whether ``text`` is a GEO series accession (``GSE`` and a number)."""
    return bool(_SERIES.match(text.strip()))


def _root() -> str:
    return (config._variable(GEO_URL_ENV_VAR) or GEO_URL).rstrip("/")


def _folder() -> Path:
    chosen = config._variable(GEO_DIR_ENV_VAR)
    return Path(chosen).expanduser().resolve() if chosen else config._own_folder() / "geo"


def _stem(accession: str) -> str:
    """GEO's grouping folder: GSE12345 → GSE12nnn, GSE123 → GSEnnn, GPL96 → GPLnnn."""
    prefix, number = accession[:3], accession[3:]
    return f"{prefix}{number[:-3]}nnn"


def series_url(accession: str) -> str:
    """The series matrix's URL (GEO's layout below :data:`GEO_URL` or ``$LEUKEMIA_GEO_URL``)."""
    accession = accession.strip().upper()
    return f"{_root()}/geo/series/{_stem(accession)}/{accession}/matrix/{accession}_series_matrix.txt.gz"


def platform_url(platform: str) -> str:
    """The platform's annotation table (GEO's ``.annot.gz``)."""
    return f"{_root()}/geo/platforms/{_stem(platform)}/{platform}/annot/{platform}.annot.gz"


def _download(url: str, name: str, what: str, hint: str, progressbar: bool) -> Path:
    import pooch
    import requests  # pooch's own HTTP library

    folder = _folder()
    target = folder / name
    if target.is_file():
        return target
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = pooch.retrieve(
            url, known_hash=None, fname=name, path=folder,
            downloader=pooch.HTTPDownloader(progressbar=progressbar, timeout=60),
        )  # fmt: skip
    except requests.exceptions.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "?"
        raise DataError(f"GEO has no {what} at {url} (HTTP {status}). {hint}") from exc
    except requests.exceptions.RequestException as exc:
        raise DataError(
            f"Could not download the {what} from {url} ({type(exc).__name__}): no network, or the server "
            f"is down. Download it by hand (a browser, or `curl -O {url}`) and give the file's path in "
            "dataset.yaml instead of the accession."
        ) from exc
    except OSError as exc:  # after RequestException, which is an OSError too
        raise DataError(
            f"Cannot write the {what} into {folder}: {exc.strerror or exc}. "
            f"Set ${GEO_DIR_ENV_VAR} to a writable folder."
        ) from exc
    return Path(path)


def fetch_series(accession: str, *, progressbar: bool = True) -> tuple[Path, str]:
    """The series matrix of ``accession`` (downloaded once into the GEO folder), and its URL.

    Raises
    ------
    DataError
        The accession is malformed, GEO has no such file (a series GEO splits by platform keeps
        ``GSE…-GPL…_series_matrix.txt.gz`` files instead: the message says so), or the download failed
        (naming the URL and how to download it by hand).
    """
    if not is_accession(accession):
        raise DataError(f"{accession!r} is not a GEO series accession (GSE and a number, e.g. GSE3167).")
    accession = accession.strip().upper()
    url = series_url(accession)
    folder = url.rsplit("/", 1)[0] + "/"
    hint = (
        f"Check the accession. A series with samples on several platforms has one matrix per platform "
        f"({accession}-GPL…_series_matrix.txt.gz in {folder}): download the one you want and give its path."
    )
    return _download(url, f"{accession}_series_matrix.txt.gz", "series matrix", hint, progressbar), url


def platform_of(series_matrix: Path) -> str | None:
    """The platform (``GPL…``) a series matrix names, if it names exactly one."""
    found: set[str] = set()
    with gzip.open(series_matrix, "rt", encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if line.startswith("!series_matrix_table_begin"):
                break
            if line.startswith(("!Series_platform_id", "!Sample_platform_id")):
                found.update(cell.strip().strip('"') for cell in line.rstrip("\n").split("\t")[1:])
    found = {p for p in found if _PLATFORM.match(p)}
    return found.pop() if len(found) == 1 else None


def fetch_platform_annotation(platform: str, *, progressbar: bool = True) -> tuple[Path, str]:
    """The platform's ``.annot.gz`` table (gene symbols and titles by probe id), and its URL."""
    url = platform_url(platform)
    hint = (
        "Not every platform has one: give a gene annotation table yourself (annotation: in dataset.yaml, "
        "e.g. the platform's full table from its GEO page)."
    )
    return _download(url, f"{platform}.annot.gz", f"annotation table for {platform}", hint, progressbar), url

"""Project-wide settings: where things live, the one random seed, the data checksums — and the environment.

The package runs in one of two places, and the paths follow:

- **from a source checkout** (the clone's ``make`` workflow, an editable install): the notebooks are
  the checkout's ``notebooks/``, run directories and the disk cache go to its ``reports/``, Golub's
  files to its ``data/raw/``;
- **installed** (``pip install``, ``pipx``, a conda environment): the notebooks ship inside the
  package (``leukemia/notebooks``, found with :mod:`importlib.resources`), run directories go to
  ``reports/`` in the current directory (or ``--out``), the cache to the user's cache directory and
  Golub's files to the user's data directory (both from :mod:`platformdirs`).

This is the one module that reads environment variables: the functions at its end
(:func:`data_dir`, :func:`cache_dir`, :func:`results_dir`, :func:`reports_dir`,
:func:`verify_checksums`, :func:`scheduler`) are what every other module asks. ``LEUKEMIA_DATA_DIR``
moves the data (CI points it at a read-only shared copy); the runner hands the other variables to the
kernels it starts.
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

import platformdirs

#: The package's name, which is also its folder in the user's cache and data directories.
APP_NAME = "leukemia"

PACKAGE_DIR: Path = Path(__file__).resolve().parent


def _checkout(package_dir: Path) -> Path | None:
    """The source checkout that holds ``package_dir``, or None for an installed package."""
    root = package_dir.parent
    return root if (root / "pyproject.toml").is_file() and (root / "notebooks").is_dir() else None


#: The source checkout the package runs from (an editable install, the ``make`` workflow), or None
#: when it is installed: then nothing is read from, or written beside, the installed package.
CHECKOUT: Path | None = _checkout(PACKAGE_DIR)

#: The numbered notebooks and the glossary: the checkout's ``notebooks/``, or the copy an installed
#: package carries as package data.
NOTEBOOKS_DIR: Path = (
    CHECKOUT / "notebooks" if CHECKOUT is not None else Path(str(files(APP_NAME) / "notebooks"))
)
#: Where Golub's files are fetched to when neither a parameter nor ``$LEUKEMIA_DATA_DIR`` says.
DEFAULT_DATA_DIR: Path = (
    CHECKOUT / "data" / "raw" if CHECKOUT is not None else Path(platformdirs.user_data_dir(APP_NAME))
)

#: Environment variable that, when set and non-empty, replaces :data:`DEFAULT_DATA_DIR`.
DATA_DIR_ENV_VAR = "LEUKEMIA_DATA_DIR"

#: Environment variable: ``0`` lets :func:`leukemia.data.load_golub` read copies whose checksums differ.
VERIFY_ENV_VAR = "LEUKEMIA_VERIFY"
#: Environment variable: the disk cache's folder (a run sets its own ``.cache/``).
CACHE_DIR_ENV_VAR = "LEUKEMIA_CACHE_DIR"
#: Environment variable: where parsed data sets are kept (a run points its kernels at the runner's, so that
#: the matrix the runner read and checked is not parsed again by each notebook).
DATASET_CACHE_DIR_ENV_VAR = "LEUKEMIA_DATASET_CACHE_DIR"
#: Environment variable: where notebooks record their result tables (a run sets its ``results/``).
RESULTS_DIR_ENV_VAR = "LEUKEMIA_RESULTS_DIR"
#: Environment variable: the folder the summary notebook saves the chosen model into (a run's ``model/``).
MODEL_DIR_ENV_VAR = "LEUKEMIA_MODEL_DIR"
#: Environment variable: a Dask scheduler address that runs the cross-validation folds.
SCHEDULER_ENV_VAR = "LEUKEMIA_SCHEDULER"

#: The one seed that every random thing in the project is given.
RANDOM_SEED = 42

#: File names of the Kaggle copy of the data set and their sha256 checksums.
TRAIN_FILE = "data_set_ALL_AML_train.csv"
TEST_FILE = "data_set_ALL_AML_independent.csv"
LABELS_FILE = "actual.csv"
DATA_SHA256: dict[str, str] = {
    LABELS_FILE: "af291eced4116e257af0b73043e83b55d9b42f0d815440a4c5bc72424d2f44e1",
    TEST_FILE: "38bd56674360e5765840c579622fc0be2650780c0d6ef46f8601074e96677bd3",
    TRAIN_FILE: "7c8b432b4af99e68f923c53e289c73f1834986b05d80c2c43502053d8fca9f2c",
}

#: Public copy of the three files, pinned to one commit so that the bytes cannot change.
DATA_BASE_URL = (
    "https://raw.githubusercontent.com/tkhan11/Gene-Expression-Classification/"
    "e6a1d8be4d763c9e4d9d71348abfaabd61a32131/"
)
#: Where a user can get the same files by hand (needs a Kaggle login).
KAGGLE_URL = "https://www.kaggle.com/datasets/crawford/gene-expression"


def data_dir(override: str | Path | None = None) -> Path:
    """Return the data directory: ``override``, else ``$LEUKEMIA_DATA_DIR``, else :data:`DEFAULT_DATA_DIR`
    (the checkout's ``data/raw``, or the user's data directory for an installed package).

    Parameters
    ----------
    override
        An explicit folder (e.g. a notebook parameter); ``None`` or ``""`` means not given.

    Returns
    -------
    pathlib.Path
        An absolute path; it need not exist yet.
    """
    chosen = str(override or "").strip() or _variable(DATA_DIR_ENV_VAR)
    if chosen:
        return Path(chosen).expanduser().resolve()
    return DEFAULT_DATA_DIR


def _variable(name: str) -> str:
    return os.environ.get(name, "").strip()


def reports_dir() -> Path:
    """Where run directories go by default: the checkout's ``reports/``, else ``reports/`` in the
    current directory."""
    return (CHECKOUT if CHECKOUT is not None else Path.cwd()) / "reports"


def _own_folder() -> Path:
    """The checkout's ``reports/``, else the user's cache directory (never the installed package)."""
    return CHECKOUT / "reports" if CHECKOUT is not None else Path(platformdirs.user_cache_dir(APP_NAME))


def cache_dir() -> Path:
    """``$LEUKEMIA_CACHE_DIR`` if set, else ``reports/cache`` in the checkout, else the user's cache
    directory (e.g. ``~/.cache/leukemia/cache`` on Linux)."""
    chosen = _variable(CACHE_DIR_ENV_VAR)
    return Path(chosen).expanduser().resolve() if chosen else _own_folder() / "cache"


def dataset_cache_dir() -> Path:
    """``$LEUKEMIA_DATASET_CACHE_DIR`` if set, else :func:`cache_dir`."""
    chosen = _variable(DATASET_CACHE_DIR_ENV_VAR)
    return Path(chosen).expanduser().resolve() if chosen else cache_dir()


def results_dir() -> Path:
    """``$LEUKEMIA_RESULTS_DIR`` if set (a run's ``results/``), else ``results`` beside the cache's
    default folder (the checkout's ``reports/``, or the user's cache directory)."""
    chosen = _variable(RESULTS_DIR_ENV_VAR)
    return Path(chosen).expanduser().resolve() if chosen else _own_folder() / "results"


def model_dir() -> Path:
    """``$LEUKEMIA_MODEL_DIR`` if set (a run's ``model/``), else ``model`` beside the default results."""
    chosen = _variable(MODEL_DIR_ENV_VAR)
    return Path(chosen).expanduser().resolve() if chosen else _own_folder() / "model"


def verify_checksums() -> bool:
    """False only when ``$LEUKEMIA_VERIFY`` is ``0`` (``leukemia run --no-verify``)."""
    return _variable(VERIFY_ENV_VAR) != "0"


def scheduler() -> str | None:
    """``$LEUKEMIA_SCHEDULER``, or None: run the cross-validation folds on this machine."""
    return _variable(SCHEDULER_ENV_VAR) or None

"""Shared fixtures: the real data (from $LEUKEMIA_DATA_DIR or data/raw) and small synthetic files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import matplotlib
import pytest

from leukemia import config
from leukemia.cache import CACHE_DIR_ENV_VAR
from leukemia.data import GolubData, load_golub
from leukemia.kernels import KERNEL_ENVIRONMENT

#: The checkout these tests run in.
ROOT = Path(__file__).resolve().parents[1]

#: True when the package is mutmut's copy (``make mutation``): its trampolines add stack frames, so a
#: warning's stack level cannot be checked there; the normal test run checks it.
UNDER_MUTMUT = Path(config.__file__).resolve().parents[1].name == "mutants"

#: Set by the process that starts the test session, to the disk cache it made for the session.
OWN_CACHE_VAR = "LEUKEMIA_TESTS_OWN_CACHE"

matplotlib.use("Agg")  # figures drawn by the tests themselves
# The kernels nbval starts inherit this process's environment: give them what the runner's kernels get,
# so that a user's MPLBACKEND or PYTHONWARNINGS cannot change what the notebooks show.
os.environ.update(KERNEL_ENVIRONMENT)


def pytest_configure(config: pytest.Config) -> None:
    """The session's own disk cache, so that neither a test nor a notebook nbval runs replays a result
    that another run of this checkout cached (``reports/cache``), perhaps with other library versions. The
    first process makes it; pytest-xdist's workers and every kernel inherit the variables."""
    if os.environ.get(OWN_CACHE_VAR):
        return
    folder = tempfile.mkdtemp(prefix="leukemia-tests-cache-")
    os.environ[OWN_CACHE_VAR] = os.environ[CACHE_DIR_ENV_VAR] = folder
    config.stash[_MADE_CACHE] = folder


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = config.stash.get(_MADE_CACHE, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
        os.environ.pop(OWN_CACHE_VAR, None)


_MADE_CACHE = pytest.StashKey[str]()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """nbval's cells execute the committed notebooks: they belong to the slow tier with the notebook runs."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def close_figures():
    """The package's figure style for a test's figures, and every figure closed after it."""
    import matplotlib.pyplot as plt

    from leukemia.plotting import set_style

    set_style()
    yield
    plt.close("all")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The folder holding the three real CSV files; the suite fails loudly if it is missing."""
    folder = config.data_dir()
    missing = [name for name in config.DATA_SHA256 if not (folder / name).is_file()]
    if missing:
        pytest.fail(
            f"data files {missing} not found in {folder}: run `leukemia fetch` or set "
            f"{config.DATA_DIR_ENV_VAR} (make test does both)",
            pytrace=False,
        )
    return folder


@pytest.fixture(scope="session")
def bladder_dir() -> Path:
    """The second real data set: ../shared/data/bladder2004 or $LEUKEMIA_BLADDER_DIR (fails if missing)."""
    folder = Path(
        os.environ.get("LEUKEMIA_BLADDER_DIR", "").strip() or ROOT.parent / "shared/data/bladder2004"
    )
    if not (folder / "expression.tsv.gz").is_file():
        pytest.fail(f"the bladder data are not in {folder}: set LEUKEMIA_BLADDER_DIR", pytrace=False)
    return folder


#: The libraries the slow tests check this package against that cannot be installed beside it (anndata
#: 0.12, and PyDESeq2 which needs it, require pandas < 3; the project pins pandas 3).
REFERENCE_PACKAGES = ("anndata==0.12.19", "pydeseq2==0.5.4")


@pytest.fixture(scope="session")
def reference_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Python with :data:`REFERENCE_PACKAGES`, in a virtual environment of its own."""
    venv = tmp_path_factory.mktemp("reference") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", *REFERENCE_PACKAGES],
        capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr[-2000:]
    return python


@pytest.fixture(scope="session")
def golub(data_dir: Path) -> GolubData:
    """The real data set, loaded once per test session."""
    return load_golub(data_dir)


@pytest.fixture
def golub_genes(golub: GolubData):
    """Golub's data cut to its first ``n`` genes (training and test alike): quick runs of slow functions."""
    from dataclasses import replace

    def first(n: int) -> GolubData:
        return replace(golub, X_train=golub.X_train.iloc[:, :n], X_test=golub.X_test.iloc[:, :n])

    return first


@pytest.fixture
def data_copy(data_dir: Path, tmp_path: Path) -> Path:
    """A writable copy of the real files, for tests that alter or remove one."""
    target = tmp_path / "copy"
    target.mkdir()
    for name in config.DATA_SHA256:
        shutil.copyfile(data_dir / name, target / name)
    return target


def write_expression_csv(
    path: Path,
    patients: list[int],
    probes: list[str],
    values: list[list[object]],
    calls: str = "P",
) -> Path:
    """Write a small expression file in the Kaggle layout (values[probe][patient])."""
    header = ["Gene Description", "Gene Accession Number"]
    for patient in patients:
        header += [str(patient), "call"]
    lines = [",".join(header)]
    for probe, row in zip(probes, values, strict=True):
        cells = [f"{probe} description", probe]
        for value in row:
            cells += [str(value), calls]
        lines.append(",".join(cells))
    path.write_text("\n".join(lines) + "\n")
    return path


def write_labels_csv(path: Path, labels: dict[int, str]) -> Path:
    """Write a small actual.csv."""
    rows = ["patient,cancer"] + [f"{p},{c}" for p, c in labels.items()]
    path.write_text("\n".join(rows) + "\n\n")
    return path


@pytest.fixture
def tiny_dir(tmp_path: Path) -> Path:
    """A synthetic data folder: 4 training and 3 independent patients, 3 probes, out of order."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    probes = ["P1_at", "P2_at", "P3_at"]
    write_expression_csv(
        folder / config.TRAIN_FILE,
        [1, 3, 2, 4],
        probes,
        [[10, 30, 20, 40], [-5, -15, -10, -20], [100, 300, 200, 400]],
    )
    write_expression_csv(
        folder / config.TEST_FILE,
        [7, 5, 6],
        probes,
        [[70, 50, 60], [-35, -25, -30], [700, 500, 600]],
    )
    write_labels_csv(
        folder / config.LABELS_FILE,
        {1: "ALL", 2: "ALL", 3: "AML", 4: "AML", 5: "ALL", 6: "AML", 7: "AML"},
    )
    return folder

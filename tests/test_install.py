"""A plain, non-editable ``pip install`` works from any folder, as a user who wants the tool and not the
repository installs it (pipx, a conda environment, a cluster module).

The wheel is built from this checkout and installed into a fresh virtual environment with the lock
file's versions (pip's cache makes that about a minute); then, from an empty folder and with the user's
folders moved into the test's own, Golub's files are fetched to the user's data folder and two notebooks
run from the copies the package carries. Nothing may be written beside the installed package, and the
terminal shows the progress bar and where the report is, not the kernels' start-up and shutdown notices.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow  # builds and installs the wheel, runs notebooks


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if "__pycache__" not in p.parts}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel of this checkout installed (not editable)."""
    where = tmp_path_factory.mktemp("install")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
         "--wheel-dir", str(where / "dist"), str(ROOT)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr
    (wheel,) = (where / "dist").glob("leukemia-*.whl")
    venv = where / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    install = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--constraint", str(ROOT / "requirements-lock.txt"), str(wheel)],
        capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr[-3000:]
    return venv


@pytest.fixture
def user(tmp_path: Path) -> dict[str, str]:
    """The environment of a user whose home, cache and data folders are the test's own."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("LEUKEMIA_", "VIRTUAL_ENV"))}
    home = tmp_path / "home"
    environment |= {
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "PATH": os.pathsep.join(p for p in environment.get("PATH", "").split(os.pathsep) if ".venv" not in p),
    }
    return environment


def _in(venv: Path, *args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "bin" / args[0]), *args[1:]],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=900,
    )


def test_the_wheel_carries_the_notebooks_and_finds_them_from_any_folder(
    installed: Path, user: dict[str, str], tmp_path: Path
) -> None:
    code = "from leukemia import config; print(config.CHECKOUT, config.NOTEBOOKS_DIR)"
    where = _in(installed, "python", "-c", code, cwd=tmp_path, env=user)
    assert where.returncode == 0, where.stderr
    checkout, notebooks = where.stdout.split()
    assert checkout == "None"
    assert Path(notebooks).is_relative_to(installed) and Path(notebooks, "glossary.md").is_file()
    assert sorted(p.name for p in Path(notebooks).glob("[0-9][0-9]_*.ipynb")) == sorted(
        p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")
    )
    params = _in(installed, "leukemia", "params", "01", cwd=tmp_path, env=user)
    assert params.returncode == 0, params.stderr
    assert params.stdout.startswith("01_load.ipynb\n") and "DATASET" in params.stdout


def test_an_installed_package_runs_notebooks_from_an_empty_folder(
    installed: Path, user: dict[str, str], tmp_path: Path, data_dir: Path
) -> None:
    package = next((installed / "lib").glob("python3*/site-packages/leukemia"))
    before = _files(package)
    work = tmp_path / "work"
    work.mkdir()

    fetched = _in(installed, "leukemia", "fetch", "--from", str(data_dir), "--quiet", cwd=work, env=user)
    assert fetched.returncode == 0, fetched.stderr
    user_data = Path(user["XDG_DATA_HOME"]) / "leukemia"
    assert sys.platform != "linux" or str(user_data) in fetched.stdout, (
        fetched.stdout
    )  # the user's data folder

    run = _in(installed, "leukemia", "run", "--notebooks", "01,02", cwd=work, env=user)
    assert run.returncode == 0, run.stderr
    report = work / "reports" / "default" / "report.html"
    assert run.stdout.strip().splitlines() == [str(report)], "stdout says where the report is, and only that"
    assert report.is_file() and (work / "reports" / "default" / "02_eda.ipynb").is_file()
    # The terminal shows the progress bar only: no kernel start-up warning, no shutdown notice.
    noise = re.sub(r"notebooks:[^\r\n]*", "", run.stderr).strip()
    assert noise == "", noise
    assert _files(package) == before, "nothing is written beside the installed package"
    assert list(work.iterdir()) == [work / "reports"], "the run writes only its run directory"

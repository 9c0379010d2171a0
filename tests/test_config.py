"""Where things live: a source checkout keeps everything in the checkout; an installed package writes
nothing beside itself (its notebooks come from the package, the rest goes to the user's folders or the
current one)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT

from leukemia import config


def test_a_checkout_is_recognised_by_its_pyproject_and_notebooks(tmp_path: Path) -> None:
    package = tmp_path / "leukemia"
    package.mkdir()
    assert config._checkout(package) is None, "a bare package folder (site-packages) is no checkout"
    (tmp_path / "pyproject.toml").write_text("[project]\n")
    assert config._checkout(package) is None, "a pyproject without notebooks is no checkout"
    (tmp_path / "notebooks").mkdir()
    assert config._checkout(package) == tmp_path


def test_these_tests_run_from_the_checkout() -> None:
    assert config.CHECKOUT == ROOT
    assert config.NOTEBOOKS_DIR == ROOT / "notebooks"
    assert config.reports_dir() == ROOT / "reports"


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The configuration as an installed package sees it, with the user's folders in ``tmp_path``."""
    monkeypatch.setattr(config, "CHECKOUT", None)
    for name in (config.CACHE_DIR_ENV_VAR, config.RESULTS_DIR_ENV_VAR, config.DATASET_CACHE_DIR_ENV_VAR):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(config.platformdirs, "user_cache_dir", lambda name: str(tmp_path / "cache" / name))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return tmp_path


def test_an_installed_package_writes_to_the_user_folders_and_the_current_one(installed: Path) -> None:
    assert config.reports_dir() == installed / "work" / "reports"
    assert config.cache_dir() == installed / "cache" / "leukemia" / "cache"
    assert config.dataset_cache_dir() == config.cache_dir()
    assert config.results_dir() == installed / "cache" / "leukemia" / "results"


def test_the_variables_still_win_when_installed(installed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(config.CACHE_DIR_ENV_VAR, str(installed / "mine"))
    monkeypatch.setenv(config.RESULTS_DIR_ENV_VAR, str(installed / "results"))
    assert config.cache_dir() == installed / "mine"
    assert config.results_dir() == installed / "results"

"""environment.yml (conda) and pyproject.toml (pip) must name the same packages."""

from __future__ import annotations

import re
import tomllib

import yaml

from leukemia import config

# pip distribution -> conda-forge package, where the names differ.
PIP_TO_CONDA = {"xgboost-cpu": "xgboost"}


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[]", requirement.strip(), maxsplit=1)[0].lower()


def pip_packages() -> set[str]:
    project = tomllib.loads((config.PROJECT_DIR / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + project["optional-dependencies"]["test"]
    return {PIP_TO_CONDA.get(_name(r), _name(r)) for r in requirements}


def conda_packages() -> set[str]:
    env = yaml.safe_load((config.PROJECT_DIR / "environment.yml").read_text())
    names = {_name(d) for d in env["dependencies"] if isinstance(d, str)}
    return names - {"python", "pip"}


def test_environment_yml_matches_pyproject() -> None:
    assert conda_packages() == pip_packages()


def test_environment_yml_installs_the_project() -> None:
    env = yaml.safe_load((config.PROJECT_DIR / "environment.yml").read_text())
    assert env["name"] == "leukemia"
    assert env["channels"] == ["conda-forge"]
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert any(line.endswith("-e .") for line in pip_section)


def test_xgboost_is_cpu_only_on_linux_and_windows() -> None:
    deps = tomllib.loads((config.PROJECT_DIR / "pyproject.toml").read_text())["project"]["dependencies"]
    xgb = {d.split(";")[0].split(">")[0].strip(): d.split(";")[1].strip() for d in deps if "xgboost" in d}
    assert xgb == {"xgboost-cpu": "sys_platform != 'darwin'", "xgboost": "sys_platform == 'darwin'"}

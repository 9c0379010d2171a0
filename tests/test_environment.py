"""environment.yml (conda) and pyproject.toml (pip) must name the same packages."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions

import yaml
from conftest import ROOT

# pip distribution -> conda-forge package, where the names differ.
PIP_TO_CONDA = {"xgboost-cpu": "xgboost"}


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[]", requirement.strip(), maxsplit=1)[0].lower()


def pip_packages() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + project["optional-dependencies"]["test"]
    return {PIP_TO_CONDA.get(_name(r), _name(r)) for r in requirements}


def conda_packages() -> set[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    names = {_name(d) for d in env["dependencies"] if isinstance(d, str)}
    return names - {"python", "pip"}


def test_environment_yml_matches_pyproject() -> None:
    assert conda_packages() == pip_packages()


def test_environment_yml_installs_the_project() -> None:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["name"] == "leukemia"
    assert env["channels"] == ["conda-forge"]
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert any(line.endswith("-e .") for line in pip_section)


def test_xgboost_is_cpu_only_on_linux_and_windows() -> None:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    xgb = {d.split(";")[0].split(">")[0].strip(): d.split(";")[1].strip() for d in deps if "xgboost" in d}
    assert xgb == {"xgboost-cpu": "sys_platform != 'darwin'", "xgboost": "sys_platform == 'darwin'"}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_library_the_package_imports_is_a_declared_dependency() -> None:
    """An installed package must not rely on a library arriving through another one (pyyaml came only
    with papermill): each third-party import in leukemia/ is named in [project] dependencies."""
    imported: set[str] = set()
    for path in (ROOT / "leukemia").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    # Under make mutation the tests read mutmut's copy of the package, whose trampolines import mutmut.
    third_party = imported - set(sys.stdlib_module_names) - {"leukemia", "mutmut"}
    assert {"numpy", "yaml", "platformdirs"} <= third_party  # the scan sees the imports
    provided_by = packages_distributions()
    declared = {
        _normal(_name(d))
        for d in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    }
    missing = {
        module: provided_by.get(module)
        for module in third_party
        if not {_normal(d) for d in provided_by.get(module, [module])} & declared
    }
    assert not missing, f"imported by leukemia/ but not declared in pyproject.toml: {missing}"


def test_citation_and_license_agree_with_the_package() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0"
    assert citation["version"] == project["version"]
    assert citation["license"] == project["license"]["text"] == "MIT"
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    golub = next(r for r in citation["references"] if r["authors"][0]["family-names"] == "Golub")
    assert golub["doi"] == "10.1126/science.286.5439.531" and golub["year"] == 1999

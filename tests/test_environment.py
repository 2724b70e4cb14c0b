"""pyproject.toml and environment.yml ask for the same packages with the same bounds."""

from __future__ import annotations

import re
import tomllib

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from widgets.sandbox.paths import REPO_ROOT

# conda-forge names that differ from PyPI names.
CONDA_TO_PIP = {"python-graphviz": "graphviz"}
# Conda entries that are not Python packages from PyPI: the interpreter, the
# Graphviz programs (conda's "graphviz" is the binary) and pip itself.
CONDA_ONLY = {"python", "graphviz", "pip"}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.fixture(scope="module")
def pyproject() -> dict:
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def environment() -> dict:
    return yaml.safe_load((REPO_ROOT / "environment.yml").read_text(encoding="utf-8"))


def conda_specs(environment: dict) -> dict[str, SpecifierSet]:
    """Return conda's dependencies (pip ones included) as name -> version bounds."""
    specs = {}
    for entry in environment["dependencies"]:
        lines = entry["pip"] if isinstance(entry, dict) else [entry]
        for line in lines:
            match = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*(.*)", str(line).strip())
            assert match, f"cannot read the environment.yml entry {line!r}"
            specs[normalise(match.group(1))] = SpecifierSet(match.group(2).replace(" ", ""))
    return specs


def pip_specs(pyproject: dict) -> dict[str, SpecifierSet]:
    """Return [project] dependencies plus the test extra as name -> version bounds."""
    lines = pyproject["project"]["dependencies"] + pyproject["project"]["optional-dependencies"]["test"]
    requirements = [Requirement(line) for line in lines]
    return {normalise(r.name): r.specifier for r in requirements}


def test_the_two_files_ask_for_the_same_packages_with_the_same_bounds(pyproject, environment):
    conda = conda_specs(environment)
    python_packages = {CONDA_TO_PIP.get(name, name): spec for name, spec in conda.items() if name not in CONDA_ONLY}
    pip = pip_specs(pyproject)
    assert sorted(python_packages) == sorted(pip), "the two files list different packages"
    for name, spec in pip.items():
        assert python_packages[name] == spec, (
            f"{name}: pyproject.toml says {spec}, environment.yml says {python_packages[name]}"
        )


def test_every_dependency_has_a_lower_and_an_upper_bound(pyproject):
    for name, spec in pip_specs(pyproject).items():
        operators = {s.operator for s in spec}
        assert operators & {">=", ">", "~=", "=="}, f"{name} has no lower bound"
        assert operators & {"<", "<=", "~=", "=="}, f"{name} has no upper bound"


def test_the_python_versions_agree(pyproject, environment):
    assert conda_specs(environment)["python"] == SpecifierSet(pyproject["project"]["requires-python"])


def test_environment_yml_uses_conda_forge_and_the_graphviz_program(environment):
    assert "conda-forge" in environment["channels"]
    conda = conda_specs(environment)
    assert "graphviz" in conda, "the graphviz binary (dot) is missing"
    assert "python-graphviz" in conda, "the graphviz Python package is python-graphviz on conda-forge"
    assert "pip" in conda


def test_binder_sees_environment_yml_and_installs_the_kit():
    # repo2docker reads only binder/ when that folder exists, and would then miss environment.yml.
    assert not (REPO_ROOT / "binder").exists()
    post_build = (REPO_ROOT / "postBuild").read_text(encoding="utf-8")
    assert "pip install --no-deps -e ." in post_build

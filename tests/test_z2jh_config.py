"""docs/z2jh-config.yaml: Helm values for Zero to JupyterHub that parse and say what docs/classroom.md promises."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from packaging.requirements import Requirement

from widgets.sandbox.paths import REPO_ROOT

VALUES = REPO_ROOT / "docs" / "z2jh-config.yaml"
DOCKERFILE = REPO_ROOT / "classroom" / "Dockerfile"
# The placeholder the lead replaces with the measured figure.
MEMORY_NOTE = "# from bench/results.md classroom section: 200 MiB per learner measured"
SIZES = {"K": 2**10, "M": 2**20, "G": 2**30}


@pytest.fixture(scope="module")
def values() -> dict:
    return yaml.safe_load(VALUES.read_text(encoding="utf-8"))


def size(text: str) -> int:
    """Return the bytes of a Kubernetes-style size such as 256M."""
    match = re.fullmatch(r"(\d+)([KMG])", str(text))
    assert match, f"{text!r} is not a size such as 256M"
    return int(match.group(1)) * SIZES[match.group(2)]


def test_each_learner_gets_a_memory_guarantee_below_a_limit(values) -> None:
    memory = values["singleuser"]["memory"]
    assert (memory["guarantee"], memory["limit"]) == ("256M", "512M")
    assert size(memory["guarantee"]) < size(memory["limit"])
    cpu = values["singleuser"]["cpu"]
    assert 0 < cpu["guarantee"] <= cpu["limit"]
    assert MEMORY_NOTE in VALUES.read_text(encoding="utf-8")


def test_each_learner_keeps_sandboxes_in_their_persistent_home(values) -> None:
    workspace = values["singleuser"]["extraEnv"]["MIGRATION_KIT_WORKSPACE"]
    assert workspace.startswith("/home/jovyan/"), "the workspace must be on the learner's home volume"
    assert f"ENV MIGRATION_KIT_WORKSPACE={workspace}" in DOCKERFILE.read_text(encoding="utf-8")


def test_the_nbgitpuller_link_pulls_the_lessons_of_the_image_release(values) -> None:
    link = urlsplit(values["singleuser"]["defaultUrl"])
    assert link.path == "/git-pull"
    query = {key: value[0] for key, value in parse_qs(link.query).items()}
    assert query["repo"].endswith("/django-migrations-kit")
    assert query["branch"] == values["singleuser"]["image"]["tag"], "notebooks and kit come from different releases"
    opens = query["urlpath"].removeprefix("lab/tree/django-migrations-kit/")
    assert opens.startswith("notebooks/") and (REPO_ROOT / opens).is_file(), f"{opens} is not a lesson"


def test_idle_servers_are_culled(values) -> None:
    cull = values["cull"]
    assert cull["enabled"] is True
    assert 0 < cull["every"] < cull["timeout"]


def test_the_image_is_built_from_this_repository_with_nbgitpuller(values) -> None:
    assert values["singleuser"]["image"]["name"].endswith("/django-migrations-kit")
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    assert "COPY . /opt/django-migrations-kit" in dockerfile
    install = next(line for line in dockerfile.splitlines() if "pip install" in line)
    assert "-e /opt/django-migrations-kit" in install
    requirements = {r.name: r.specifier for r in map(Requirement, re.findall(r'"([^"]+)"', install))}
    assert "nbgitpuller" in requirements
    # jupyterhub-singleuser must be of the hub's major version: chart 4.x runs JupyterHub 5.
    assert "5.5.0" in requirements["jupyterhub"] and "6.0.0" not in requirements["jupyterhub"]
    assert re.search(r"apt-get install .*\bgit\b", dockerfile), "nbgitpuller needs git"


def test_the_class_logs_in_with_a_password_that_is_not_in_the_file(values) -> None:
    assert values["hub"]["config"]["JupyterHub"]["authenticator_class"] == "shared-password"
    assert "SharedPasswordAuthenticator" not in values["hub"]["config"], "set the password with --set, not in git"

"""environment.yml (the cluster's conda environment) must install what pyproject.toml pins."""

from __future__ import annotations

import tomllib

import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from tests.conftest import REPO

# The extras a cluster node needs: the SLURM executor, DVC, and vLLM for generation.
CLUSTER_EXTRAS = ("slurm", "dvc", "gpu")


def requirements(lines: list[str]) -> dict[str, SpecifierSet]:
    parsed = [Requirement(line) for line in lines]
    return {canonicalize_name(r.name): r.specifier for r in parsed}


def pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def conda_pip_section() -> list[str]:
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(sections) == 1, "environment.yml: expected one pip section"
    return sections[0]


def test_environment_pins_what_pyproject_pins():
    project = pyproject()
    wanted = requirements(project["dependencies"])
    for extra in CLUSTER_EXTRAS:
        wanted |= requirements(project["optional-dependencies"][extra])
    listed = [line for line in conda_pip_section() if not line.startswith(("-", "--"))]
    assert requirements(listed) == wanted


def test_environment_installs_the_package_and_cuda_torch():
    pip = conda_pip_section()
    assert "-e ." in pip
    # The CUDA build of the pinned torch comes from PyTorch's index.
    assert any(
        line.startswith("--extra-index-url https://download.pytorch.org/whl/cu") for line in pip
    )


def test_environment_python_satisfies_requires_python():
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python="))
    version = python.split("=", 1)[1]
    assert SpecifierSet(pyproject()["requires-python"]).contains(f"{version}.0")

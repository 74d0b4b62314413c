"""environment.yml (the cluster's conda environment) must install what pyproject.toml requires,
with versions vLLM accepts; requirements.lock (the CPU path) must too."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from tests.conftest import REPO

# The extras a cluster node needs: the SLURM executor, DVC, and vLLM for generation.
CLUSTER_EXTRAS = ("slurm", "dvc", "gpu")
# vLLM's own Requires-Dist, as PyPI publishes it (the file names its source).
VLLM_REQUIRES = Path(__file__).parent / "data" / "vllm-0.33.0.requires.txt"


def requirements(lines: list[str]) -> dict[str, SpecifierSet]:
    parsed = [Requirement(line) for line in lines]
    return {canonicalize_name(r.name): r.specifier for r in parsed}


def pinned(lines: list[str]) -> dict[str, str]:
    """name -> version of the exact (==) pins among requirement lines."""
    out = {}
    for name, spec in requirements(lines).items():
        exact = [s.version for s in spec if s.operator == "=="]
        if exact:
            out[name] = exact[0]
    return out


def lock_pins() -> dict[str, str]:
    lines = (REPO / "requirements.lock").read_text().splitlines()
    return pinned([line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()])


def pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def cluster_requirements() -> dict[str, SpecifierSet]:
    project = pyproject()
    wanted = requirements(project["dependencies"])
    for extra in CLUSTER_EXTRAS:
        wanted |= requirements(project["optional-dependencies"][extra])
    return wanted


def conda_pip_section() -> list[str]:
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(sections) == 1, "environment.yml: expected one pip section"
    return sections[0]


def environment_lines() -> list[str]:
    return [line for line in conda_pip_section() if not line.startswith(("-", "--"))]


def vllm_requirements() -> list[Requirement]:
    """vLLM's unconditional requirements and those whose marker holds on a Linux x86-64 node
    with the environment's Python (extras left out)."""
    lines = [line for line in VLLM_REQUIRES.read_text().splitlines() if line and line[0] != "#"]
    node = {
        "platform_machine": "x86_64",
        "platform_system": "Linux",
        "python_version": "3.11",
        "sys_platform": "linux",
        "extra": "",
    }
    reqs = [Requirement(line) for line in lines]
    return [r for r in reqs if r.marker is None or r.marker.evaluate(node)]


def test_environment_lists_exactly_what_the_cluster_needs_each_pin_inside_pyproject():
    wanted = cluster_requirements()
    listed = requirements(environment_lines())
    assert sorted(listed) == sorted(wanted)
    for name, version in pinned(environment_lines()).items():
        assert wanted[name].contains(version), (
            f"environment.yml: {name}=={version} outside {wanted[name]}"
        )
    unpinned = [name for name, spec in listed.items() if not any(s.operator == "==" for s in spec)]
    assert unpinned == ["safetensors", "tqdm"]  # floors in pyproject too


def test_the_cpu_lock_pins_inside_pyproject():
    lock = lock_pins()
    for name, spec in requirements(pyproject()["dependencies"]).items():
        assert name in lock, f"requirements.lock has no pin for {name}"
        assert spec.contains(lock[name]), f"requirements.lock: {name}=={lock[name]} outside {spec}"


def test_environment_pins_satisfy_what_the_pinned_vllm_requires():
    env = pinned(environment_lines())
    assert env["vllm"] == VLLM_REQUIRES.name.split("-")[1].removesuffix(".requires.txt")
    checked = []
    for req in vllm_requirements():
        name = canonicalize_name(req.name)
        if name in env:
            assert req.specifier.contains(env[name]), (
                f"environment.yml pins {name}=={env[name]}; vLLM {env['vllm']} requires {req}"
            )
            checked.append(name)
    # The pins that matter most are among those checked (a renamed file would check nothing).
    assert {"torch", "transformers", "numpy", "jsonschema"} <= set(checked)


def test_a_version_vllm_refuses_would_be_caught():
    """The check above can fail: the CPU path's transformers (5.23.0) is outside vLLM's range."""
    transformers = next(r for r in vllm_requirements() if r.name == "transformers")
    lock = lock_pins()
    assert not transformers.specifier.contains(lock["transformers"])


def test_environment_installs_the_package_and_torch_from_pypi():
    pip = conda_pip_section()
    assert "-e ." in pip
    # vLLM's wheels are built against PyPI's CUDA build of torch: no other torch index.
    assert not any("--extra-index-url" in line or "--index-url" in line for line in pip)


def test_environment_python_satisfies_requires_python():
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python="))
    version = python.split("=", 1)[1]
    assert SpecifierSet(pyproject()["requires-python"]).contains(f"{version}.0")

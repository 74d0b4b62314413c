"""Shared fixtures: a tiny random Llama made on the fly, and an MLflow store per test."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

REPO = Path(__file__).resolve().parents[1]
# environment.yml: every rule names it (`conda:`), and Snakemake hashes it into job metadata.
# `slurm`: the link to profiles/slurm that makes `snakemake --profile slurm` work as typed.
WORKFLOW_FILES = ("Snakefile", "rules", "config", "seeds", "profiles", "slurm", "environment.yml")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    from reprolab.models import prepare_model

    out = tmp_path_factory.mktemp("models") / "tiny-random-llama"
    return prepare_model("tiny-random-llama", {"source": "random_llama"}, out)


@pytest.fixture
def mlflow_uri(tmp_path, monkeypatch) -> str:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    # Tracking spooled while a server is away lands in the test's folder, never the project's.
    monkeypatch.setenv("REPROLAB_TRACKING_SPOOL", str(tmp_path / "spool"))
    monkeypatch.delenv("REPROLAB_TRACKING_OFFLINE", raising=False)
    monkeypatch.delenv("REPROLAB_TRACKING_DEFER", raising=False)
    return uri


@pytest.fixture
def smoke_config(mlflow_uri) -> dict:
    from reprolab.config import load_config

    cfg = load_config("sgd_rlvr", "smoke", REPO / "config")
    cfg["suite"]["tracking"]["uri"] = mlflow_uri
    return cfg


def copy_workflow(workdir: Path) -> Path:
    """The workflow's files in a fresh folder, so runs never touch the repository."""
    for name in WORKFLOW_FILES:
        src = REPO / name
        if src.is_symlink():
            (workdir / name).symlink_to(src.readlink())
        else:
            (shutil.copytree if src.is_dir() else shutil.copy)(src, workdir / name)
    return workdir


def snakemake(workdir: Path, *args: str, timeout: float = 1200) -> subprocess.CompletedProcess:
    """Snakemake as a user runs it, with this interpreter's environment first on PATH.

    Jobs (also those SLURM starts) find `reprolab` and Python through that PATH.
    """
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    env.pop("MLFLOW_TRACKING_URI", None)  # the workflow's own config decides
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2", *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """The smoke suite run locally once per session; other tests compare against it."""
    workdir = copy_workflow(tmp_path_factory.mktemp("suite"))
    run = snakemake(workdir, "--config", "scale=smoke")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return workdir, run


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    """A real `mlflow server` on 127.0.0.1 for the whole session."""
    from tests.system.pipeline import MlflowServer

    server = MlflowServer(tmp_path_factory.mktemp("mlflow-server")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def dvc_suite(tmp_path_factory, mlflow_server):
    """Two papers of the smoke suite (DVC_PAPERS) built once by `dvc repro` in a fresh git
    repository, tracked by the live
    MLflow server, committed and pushed to the default (local-directory) DVC remote.

    Shared by the DVC tests and the MLflow browser test: one smoke run serves both.
    """
    from tests.system.pipeline import DVC_PAPERS, commit_all, git_repo_of_project, run, user_env

    base = tmp_path_factory.mktemp("dvc")
    repo = git_repo_of_project(base / "repo", scale="smoke", papers=DVC_PAPERS)
    env = user_env(MLFLOW_TRACKING_URI=mlflow_server.url)
    started = time.monotonic()
    first = run(["dvc", "repro"], repo, env)
    seconds = time.monotonic() - started
    second = run(["dvc", "repro"], repo, env)
    commit_all(repo, "smoke results")
    pushed = run(["dvc", "push"], repo, env)
    return SimpleNamespace(
        base=base, repo=repo, env=env, first=first, second=second, pushed=pushed, seconds=seconds
    )

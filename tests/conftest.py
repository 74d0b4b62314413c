"""Shared fixtures: a tiny random Llama made on the fly, and an MLflow store per test."""

from __future__ import annotations

import os
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    from reprolab.models import prepare_model

    out = tmp_path_factory.mktemp("models") / "tiny-random-llama"
    return prepare_model("tiny-random-llama", {"source": "random_llama"}, out, seed=0)


@pytest.fixture
def mlflow_uri(tmp_path, monkeypatch) -> str:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    return uri


@pytest.fixture
def smoke_config(mlflow_uri) -> dict:
    from reprolab.config import load_config

    cfg = load_config("sgd_rlvr", "smoke", REPO / "config")
    cfg["suite"]["tracking"]["uri"] = mlflow_uri
    return cfg


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    """A real `mlflow server` on 127.0.0.1 for the whole session."""
    from .pipeline import MlflowServer

    server = MlflowServer(tmp_path_factory.mktemp("mlflow-server")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def dvc_suite(tmp_path_factory, mlflow_server):
    """The smoke suite built once by `dvc repro` in a fresh git repository, tracked by the live
    MLflow server, committed and pushed to the default (local-directory) DVC remote.

    Shared by the DVC tests and the MLflow browser test: one smoke run serves both.
    """
    from .pipeline import commit_all, git_repo_of_project, run, user_env

    base = tmp_path_factory.mktemp("dvc")
    repo = git_repo_of_project(base / "repo", scale="smoke")
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

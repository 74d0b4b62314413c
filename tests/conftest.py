"""Shared fixtures: a tiny random Llama made on the fly, and an MLflow store per test."""

from __future__ import annotations

import os
from pathlib import Path

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

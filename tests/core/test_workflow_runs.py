"""Parent runs per workflow execution: jobs nest under them, empty ones vanish, status is kept."""

from __future__ import annotations

import json
import os

import pytest

from reprolab.tracking import PARENT_RUNS_ENV, parent_run_id, tracked_run
from reprolab.workflow_runs import finish_parent_runs, start_parent_runs


@pytest.fixture
def parents(smoke_config, monkeypatch):
    # Registered with monkeypatch first, so the id that start_parent_runs exports is undone.
    monkeypatch.setenv(PARENT_RUNS_ENV, "")
    return start_parent_runs({"sgd_rlvr": smoke_config})


def all_runs(uri: str):
    import mlflow
    from mlflow.entities import ViewType

    client = mlflow.MlflowClient(uri)
    exp = client.get_experiment_by_name("reprolab/sgd_rlvr")
    return client, client.search_runs([exp.experiment_id], run_view_type=ViewType.ALL)


def test_jobs_nest_under_the_parent_of_their_execution(parents, smoke_config, mlflow_uri, tmp_path):
    assert json.loads(os.environ[PARENT_RUNS_ENV]) == parents
    with tracked_run(smoke_config, "evaluate:base"):
        pass
    (tmp_path / "sgd_rlvr").mkdir()
    (tmp_path / "sgd_rlvr" / "metrics.json").write_text(json.dumps({"base.accuracy": 0.25}))
    assert finish_parent_runs({"sgd_rlvr": smoke_config}, tmp_path) == {"sgd_rlvr": "FINISHED"}

    client, runs = all_runs(mlflow_uri)
    parent = client.get_run(parents["sgd_rlvr"])
    child = next(r for r in runs if r.data.tags["rule"] == "evaluate:base")
    assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["rule"] == "workflow"
    # The paper's settings, flat.
    assert parent.data.params["grpo.arms.sgd.lr"] == str(smoke_config["grpo"]["arms"]["sgd"]["lr"])
    assert parent.data.metrics == {"base.accuracy": 0.25}


def test_a_parent_without_jobs_is_deleted(parents, smoke_config, mlflow_uri, tmp_path):
    assert finish_parent_runs({"sgd_rlvr": smoke_config}, tmp_path) == {
        "sgd_rlvr": "deleted (no jobs)"
    }
    client, _ = all_runs(mlflow_uri)
    assert client.get_run(parents["sgd_rlvr"]).info.lifecycle_stage == "deleted"


def test_a_failed_execution_marks_its_parent_failed(parents, smoke_config, mlflow_uri, tmp_path):
    with pytest.raises(RuntimeError), tracked_run(smoke_config, "train:grpo_sgd"):
        raise RuntimeError("boom")
    finish_parent_runs({"sgd_rlvr": smoke_config}, tmp_path, status="FAILED")
    client, _ = all_runs(mlflow_uri)
    assert client.get_run(parents["sgd_rlvr"]).info.status == "FAILED"


def test_outside_a_workflow_a_run_has_no_parent(smoke_config, mlflow_uri, monkeypatch):
    monkeypatch.delenv(PARENT_RUNS_ENV, raising=False)
    assert parent_run_id("sgd_rlvr") is None
    monkeypatch.setenv(PARENT_RUNS_ENV, "not json")
    assert parent_run_id("sgd_rlvr") is None
    with tracked_run(smoke_config, "metrics"):
        pass
    _, (run,) = all_runs(mlflow_uri)
    assert "mlflow.parentRunId" not in run.data.tags

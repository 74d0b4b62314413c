"""Parent runs per workflow execution: jobs nest under them, empty ones vanish, status is kept."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from reprolab.tracking import DEFER_ENV, PARENT_RUNS_ENV, parent_run_id, tracked_run
from reprolab.workflow_runs import (
    defer_job_tracking,
    finish_execution,
    finish_parent_runs,
    start_parent_runs,
)


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


def test_deferred_jobs_spool_and_the_execution_end_writes_them_under_their_parent(
    parents, smoke_config, mlflow_uri, tmp_path, monkeypatch
):
    """With tracking.defer a job's run waits in the spool (nothing in the store while the
    workflow runs), and the execution's end replays it, nested, before closing the parent."""
    monkeypatch.delenv(DEFER_ENV, raising=False)
    assert defer_job_tracking(smoke_config["suite"]["tracking"] | {"defer": True})
    with tracked_run(smoke_config, "evaluate:base") as job:
        job.log_metrics({"accuracy": 0.5})
    assert job.run_id.startswith("spool-")
    _, runs = all_runs(mlflow_uri)
    assert [r.data.tags["rule"] for r in runs] == ["workflow"]  # the parent alone, so far
    assert finish_execution({"sgd_rlvr": smoke_config}, tmp_path) == {"sgd_rlvr": "FINISHED"}
    assert DEFER_ENV not in os.environ
    client, runs = all_runs(mlflow_uri)
    child = next(r for r in runs if r.data.tags["rule"] == "evaluate:base")
    assert child.data.tags["mlflow.parentRunId"] == parents["sgd_rlvr"]
    assert child.data.metrics == {"accuracy": 0.5}
    assert client.get_run(parents["sgd_rlvr"]).info.status == "FINISHED"
    assert not defer_job_tracking({"uri": "none", "defer": True})  # tracking off: nothing


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


def test_a_finished_parent_holds_the_papers_verdicts(
    parents, smoke_config, mlflow_uri, tmp_path, monkeypatch
):
    from reprolab.io import write_json
    from tests.conftest import REPO

    monkeypatch.chdir(tmp_path)  # the store's artifacts go to ./mlruns
    with tracked_run(smoke_config, "score:base"):
        pass
    paper = tmp_path / "results" / "sgd_rlvr"
    claims = {
        "claims": [
            {"id": "c1", "kind": "science", "text": "SGD matches AdamW", "verdict": "reproduced"},
            {"id": "c2", "kind": "science", "text": "fewer updated", "verdict": "not testable"},
            {"id": "s1", "kind": "sanity", "text": "no state", "verdict": "pass"},
        ],
        "summary": {"science": {"reproduced": 1, "not testable": 1}, "sanity": {"pass": 1}},
    }
    write_json(paper / "claims.json", claims)
    (paper / "figures").mkdir()
    (paper / "figures" / "final_accuracy.png").write_bytes(b"png")
    (paper / "figures" / "final_accuracy.csv").write_text("arm,accuracy\n")
    finish_parent_runs({"sgd_rlvr": smoke_config}, paper.parent, cards=REPO / "seeds")

    client, _ = all_runs(mlflow_uri)
    parent = client.get_run(parents["sgd_rlvr"])
    assert parent.info.run_name.startswith("workflow ")  # the experiment names the paper
    assert parent.data.tags["mlflow.source.git.commit"] == parent.data.tags["git_commit"]
    metrics = parent.data.metrics
    assert metrics["claims.science.reproduced"] == 1
    assert metrics["claims.science.not_testable"] == 1
    assert metrics["claims.science.contradicted"] == 0  # every verdict named: parents line up
    assert metrics["claims.sanity.pass"] == 1 and metrics["claims.sanity.fail"] == 0
    run_id = parent.info.run_id
    names = {a.path for a in client.list_artifacts(run_id)}
    assert {"claims.json", "scorecard.md", "figures"} <= names
    figures = {a.path for a in client.list_artifacts(run_id, "figures")}
    assert figures == {"figures/final_accuracy.png", "figures/final_accuracy.csv"}
    section = Path(client.download_artifacts(run_id, "scorecard.md", str(tmp_path))).read_text()
    assert section.startswith("## sgd_rlvr")
    assert "| SGD matches AdamW |" in section and "reproduced" in section
    assert "[final_accuracy](figures/final_accuracy.png)" in section  # resolves beside it


def test_a_failed_execution_logs_no_verdicts(parents, smoke_config, mlflow_uri, tmp_path):
    with tracked_run(smoke_config, "score:base"):
        pass
    from reprolab.io import write_json

    write_json(tmp_path / "sgd_rlvr" / "claims.json", {"claims": [], "summary": {}})
    finish_parent_runs({"sgd_rlvr": smoke_config}, tmp_path, status="FAILED")
    client, _ = all_runs(mlflow_uri)
    parent = client.get_run(parents["sgd_rlvr"])
    assert parent.info.status == "FAILED" and not parent.data.metrics

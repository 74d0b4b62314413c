"""MLflow: one experiment per paper, one tagged run per rule, safe with parallel jobs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from reprolab.tracking import flatten, tracked_run


def runs_of(uri, experiment="reprolab/sgd_rlvr"):
    import mlflow

    client = mlflow.MlflowClient(uri)
    exp = client.get_experiment_by_name(experiment)
    return client, client.search_runs([exp.experiment_id])


def test_a_run_carries_tags_params_and_step_metrics(smoke_config, mlflow_uri):
    with tracked_run(
        smoke_config, "train:grpo_sgd", {"optimizer": {"name": "sgd", "lr": 0.1}}
    ) as t:
        t.log_metrics({"reward": 0.1}, step=1)
        t.log_metrics({"reward": 0.3}, step=2)
    client, runs = runs_of(mlflow_uri)
    (run,) = runs
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "sgd_rlvr/train:grpo_sgd"
    assert {k: run.data.tags[k] for k in ("paper", "scale", "rule", "seed")} == {
        "paper": "sgd_rlvr",
        "scale": "smoke",
        "rule": "train:grpo_sgd",
        "seed": "0",
    }
    assert len(run.data.tags["git_commit"]) in (7, 40) or run.data.tags["git_commit"] == "unknown"
    assert run.data.params == {"optimizer.name": "sgd", "optimizer.lr": "0.1"}
    history = client.get_metric_history(run.info.run_id, "reward")
    assert [(m.step, m.value) for m in history] == [(1, 0.1), (2, 0.3)]


def test_a_failing_step_marks_its_run_failed(smoke_config, mlflow_uri):
    with pytest.raises(RuntimeError), tracked_run(smoke_config, "evaluate:base"):
        raise RuntimeError("boom")
    _, (run,) = runs_of(mlflow_uri)
    assert run.info.status == "FAILED"


WRITER = """
import json, sys
from reprolab.tracking import tracked_run
cfg = json.loads(sys.argv[1])
with tracked_run(cfg, sys.argv[2], {"arm": sys.argv[2]}) as t:
    for step in range(15):
        t.log_metrics({"reward": step / 10}, step=step)
"""


def test_parallel_jobs_on_a_fresh_sqlite_store(smoke_config, mlflow_uri, tmp_path):
    cfg = json.dumps(smoke_config)
    jobs = [
        subprocess.Popen([sys.executable, "-c", WRITER, cfg, f"job{i}"], cwd=tmp_path)
        for i in range(3)
    ]
    assert [job.wait(timeout=180) for job in jobs] == [0, 0, 0]
    client, runs = runs_of(mlflow_uri)
    assert sorted(r.data.tags["rule"] for r in runs) == ["job0", "job1", "job2"]
    for run in runs:
        assert run.info.status == "FINISHED"
        assert len(client.get_metric_history(run.info.run_id, "reward")) == 15


def test_flatten():
    assert flatten({"a": {"b": 1, "c": {"d": 2}}, "e": 3}) == {"a.b": 1, "a.c.d": 2, "e": 3}

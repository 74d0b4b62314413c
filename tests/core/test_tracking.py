"""MLflow: one experiment per paper, one tagged run per rule, safe with parallel jobs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from reprolab.tracking import (
    OFFLINE_ENV,
    Tracker,
    flatten,
    input_datasets,
    package_versions,
    sync_spool,
    tracked_run,
)


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
    assert run.info.run_name == "train:grpo_sgd"
    assert {k: run.data.tags[k] for k in ("paper", "scale", "rule", "seed")} == {
        "paper": "sgd_rlvr",
        "scale": "smoke",
        "rule": "train:grpo_sgd",
        "seed": "0",
    }
    assert len(run.data.tags["git_commit"]) in (7, 40) or run.data.tags["git_commit"] == "unknown"
    # What MLflow's UI reads (its Source column, the run page's commit) and the versions.
    assert run.data.tags["mlflow.source.git.commit"] == run.data.tags["git_commit"]
    assert run.data.tags["mlflow.source.type"] == "LOCAL"
    assert run.data.tags["mlflow.source.name"] == "reprolab sgd_rlvr"
    assert run.data.tags["package.torch"] == version("torch")
    assert run.data.tags["package.reprolab"] == version("reprolab")
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


def test_claims_provenance_and_run_tags_share_one_package_list():
    from reprolab.cli import run_provenance

    assert run_provenance([0])["packages"] == package_versions()
    assert {"torch", "transformers", "trl", "reprolab"} <= set(package_versions())


def test_a_deferred_job_never_imports_mlflow(mlflow_uri, tmp_path):
    """The point of deferring: a job's tracking costs no MLflow import (seconds a job)."""
    code = (
        "import sys\n"
        "from reprolab.tracking import Tracker\n"
        "t = Tracker(sys.argv[1])\n"
        "t.start('reprolab/x', 'job', {'rule': 'job'})\n"
        "t.log_params({'a': 1}); t.log_metrics({'m': 1.0}); t.end('FINISHED')\n"
        "print('mlflow' in sys.modules, t.run_id)\n"
    )
    env = {**os.environ, "REPROLAB_TRACKING_DEFER": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code, mlflow_uri], env=env, capture_output=True, text=True
    )
    imported, run_id = out.stdout.split()
    assert (imported, run_id[:6]) == ("False", "spool-"), out.stderr
    assert sync_spool()["replayed"] == 4
    _, (run,) = runs_of(mlflow_uri, "reprolab/x")
    assert (run.data.params, run.data.metrics) == ({"a": "1"}, {"m": 1.0})


def test_inputs_and_text_spooled_while_away_replay_into_the_run(
    smoke_config, mlflow_uri, tmp_path, monkeypatch
):
    from reprolab.io import write_jsonl

    monkeypatch.chdir(tmp_path)  # the store's artifacts go to ./mlruns
    # A folder named like the paper inside its own (toolr0's variant toolr0) keeps its place.
    data = Path("results/smoke/sgd_rlvr/seeds/1/data/sgd_rlvr/test.jsonl")
    write_jsonl(data, [{"q": "1+1"}])
    plain = Path("results/smoke/sgd_rlvr/eval/base.json")
    plain.parent.mkdir(parents=True)
    plain.write_text("{}")
    datasets = input_datasets({"data": [data], "evals": [plain]}, smoke_config["suite"])
    monkeypatch.setenv(OFFLINE_ENV, "1")
    with tracked_run(smoke_config, "score:base@seeds/1") as tracker:
        tracker.log_inputs(datasets)
        tracker.log_text("## sgd_rlvr", "scorecard.md")
    assert tracker.run_id.startswith("spool-")
    monkeypatch.delenv(OFFLINE_ENV)
    assert sync_spool()["left"] == 0
    client, (run,) = runs_of(mlflow_uri)
    assert run.info.run_name == "score:base@seeds/1"
    by_name = {d.dataset.name: d for d in run.inputs.dataset_inputs}
    assert set(by_name) == {"seeds/1/data/sgd_rlvr/test.jsonl", "eval/base.json"}
    import hashlib

    assert by_name["eval/base.json"].dataset.digest == hashlib.sha256(b"{}").hexdigest()[:32]
    assert by_name["eval/base.json"].tags[0].value == "evals"
    local = client.download_artifacts(run.info.run_id, "scorecard.md", str(tmp_path))
    assert Path(local).read_text() == "## sgd_rlvr"


def test_two_jobs_creating_one_dataset_at_once_is_retried_and_never_fails_a_job(
    smoke_config, mlflow_uri, monkeypatch, caplog
):
    from mlflow.exceptions import RestException

    race = RestException(
        {"error_code": "BAD_REQUEST", "message": "(sqlite3.IntegrityError) UNIQUE constraint "
         "failed: datasets.experiment_id, datasets.name, datasets.digest"}
    )  # fmt: skip
    calls = []

    def lose_once(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise race
        return "logged"

    tracker = Tracker(mlflow_uri)
    monkeypatch.setattr("reprolab.tracking.time.sleep", lambda seconds: None)
    assert tracker._call(lose_once) == "logged" and len(calls) == 2

    def refuse(*args, **kwargs):
        raise RestException({"error_code": "BAD_REQUEST", "message": "no"})

    monkeypatch.setattr("mlflow.MlflowClient.log_inputs", refuse)
    dataset = {"name": "d", "digest": "0", "source": "{}", "profile": "{}", "context": "data"}
    with tracked_run(smoke_config, "score:base") as run:
        run.log_inputs([dataset])  # warned, not raised
    assert "input datasets not logged" in caplog.text
    _, (logged,) = runs_of(mlflow_uri)
    assert logged.info.status == "FINISHED"

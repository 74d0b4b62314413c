"""Tracking never costs a job: calls a dead server cannot take are spooled, then synced."""

from __future__ import annotations

import os
import time

import pytest

from reprolab.tracking import (
    OFFLINE_ENV,
    PARENT_RUNS_ENV,
    Tracker,
    check_tracking,
    sync_spool,
    tracked_run,
)
from reprolab.workflow_runs import start_parent_runs
from tests.system.pipeline import MlflowServer


def runs_by_name(uri: str, experiment: str = "reprolab/sgd_rlvr") -> dict:
    import mlflow

    client = mlflow.MlflowClient(uri)
    exp = client.get_experiment_by_name(experiment)
    return {r.info.run_name: r for r in client.search_runs([exp.experiment_id])}, client


@pytest.mark.slow
def test_a_server_killed_mid_run_loses_no_metric_and_fails_no_job(smoke_config, tmp_path):
    server = MlflowServer(tmp_path / "server").start()
    smoke_config["suite"]["tracking"]["uri"] = server.url
    os.environ["MLFLOW_TRACKING_URI"] = server.url
    try:
        with tracked_run(smoke_config, "train:grpo_sgd", {"lr": 0.1}) as tracker:
            tracker.log_metrics({"reward": 0.1}, step=1)
            server.stop()  # the outage
            started = time.monotonic()
            tracker.log_metrics({"reward": 0.2}, step=2)
            tracker.log_metrics({"reward": 0.3, "accuracy": 0.5}, step=3)
            waited = time.monotonic() - started
        assert waited < 60, f"a dead server held the job for {waited:.0f} s"
        assert tracker.spool is not None and tracker.spool.exists()
        assert sync_spool()["left"] == 1  # still away: the spool stays
        server.start()  # the same store and port: the server is back
        assert sync_spool() == {"replayed": 3, "left": 0}
        runs, client = runs_by_name(server.url)
        run = runs["train:grpo_sgd"]
        history = client.get_metric_history(run.info.run_id, "reward")
        assert sorted((m.step, m.value) for m in history) == [(1, 0.1), (2, 0.2), (3, 0.3)]
        assert run.data.metrics["accuracy"] == 0.5
        assert client.get_run(run.info.run_id).info.status == "FINISHED"
    finally:
        server.stop()
        os.environ.pop("MLFLOW_TRACKING_URI", None)


def test_offline_from_the_start_spools_parent_and_child_and_sync_nests_them(
    smoke_config, mlflow_uri, monkeypatch
):
    monkeypatch.setenv(OFFLINE_ENV, "1")
    monkeypatch.setenv(PARENT_RUNS_ENV, "")
    parents = start_parent_runs({"sgd_rlvr": smoke_config})
    assert parents["sgd_rlvr"].startswith("spool-")
    with tracked_run(smoke_config, "metrics") as tracker:
        tracker.log_metrics({"accuracy": 0.75})
    monkeypatch.delenv(OFFLINE_ENV)
    assert sync_spool()["left"] == 0
    runs, _ = runs_by_name(mlflow_uri)
    child, parent = runs["metrics"], next(r for n, r in runs.items() if "workflow" in n)
    assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert child.data.metrics == {"accuracy": 0.75}


def test_tracking_none_is_off_and_an_unreachable_server_is_said_at_once(
    smoke_config, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    smoke_config["suite"]["tracking"]["uri"] = "none"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "none")
    with tracked_run(smoke_config, "metrics") as tracker:
        tracker.log_metrics({"accuracy": 1.0})
    assert tracker.run_id is None and not list(tmp_path.glob("mlflow.db*"))
    assert check_tracking("none") == "off"
    started = time.monotonic()
    assert check_tracking("http://127.0.0.1:9", timeout=2) == "offline"  # nothing listens there
    assert time.monotonic() - started < 10


def test_runs_left_running_by_a_crash_are_closed_at_the_next_start(
    smoke_config, mlflow_uri, monkeypatch
):
    monkeypatch.setenv(PARENT_RUNS_ENV, "")
    crashed = Tracker(mlflow_uri)
    crashed.start("reprolab/sgd_rlvr", "train:killed", {"workdir": str(__import__("os").getcwd())})
    start_parent_runs({"sgd_rlvr": smoke_config})
    runs, client = runs_by_name(mlflow_uri)
    assert client.get_run(crashed.run_id).info.status == "KILLED"

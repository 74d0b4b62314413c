"""MLflow tracking: one experiment per paper, one run per rule execution.

Files are the source of truth (metrics.json and friends); MLflow mirrors them for comparison in
its UI. SQLite is the default store; concurrent jobs serialise their writes through a file lock
next to the database and retry on "database is locked", so parallel rules cannot break it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

# JSON {paper: run id} of the parent runs of the current workflow execution; set by the
# Snakefile's onstart (reprolab.workflow_runs) and inherited by every job it starts.
PARENT_RUNS_ENV = "REPROLAB_PARENT_RUN_IDS"


def parent_run_id(paper: str) -> str | None:
    """The run of this workflow execution that a job of `paper` nests under, if any."""
    raw = os.environ.get(PARENT_RUNS_ENV, "")
    if not raw:
        return None
    try:
        return json.loads(raw).get(paper)
    except (json.JSONDecodeError, AttributeError):
        log.warning("ignoring %s: not a JSON object: %r", PARENT_RUNS_ENV, raw)
        return None


def tracking_uri(suite: dict) -> str:
    """MLFLOW_TRACKING_URI wins over the config, so a server can be chosen per invocation."""
    return os.environ.get("MLFLOW_TRACKING_URI", suite["tracking"]["uri"])


def experiment_name(suite: dict, paper: str) -> str:
    return f"{suite['tracking']['experiment_prefix']}/{paper}"


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        )
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _lock_path(uri: str) -> Path | None:
    if uri.startswith("sqlite:///"):
        return Path(uri.removeprefix("sqlite:///") + ".lock")
    return None


class Tracker:
    """A thin, lock-guarded handle on one MLflow run."""

    def __init__(self, uri: str):
        import mlflow

        self.mlflow = mlflow
        self.uri = uri
        self.lock = _lock_path(uri)
        self.run_id: str | None = None

    def _call(self, fn: Callable[..., T], *args, **kwargs) -> T:
        for attempt in range(8):
            try:
                with self._locked():
                    return fn(*args, **kwargs)
            except Exception as err:  # MLflow wraps sqlite errors in several types
                if "locked" not in str(err).lower() or attempt == 7:
                    raise
                time.sleep(0.5 * (attempt + 1))
        raise AssertionError("unreachable")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        if self.lock is None:
            yield
            return
        self.lock.parent.mkdir(parents=True, exist_ok=True)
        with self.lock.open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def start(self, experiment: str, run_name: str, tags: dict[str, str]) -> str:
        def _start() -> str:
            self.mlflow.set_tracking_uri(self.uri)
            found = self.mlflow.get_experiment_by_name(experiment)
            exp_id = found.experiment_id if found else self.mlflow.create_experiment(experiment)
            client = self.mlflow.MlflowClient(self.uri)
            run = client.create_run(exp_id, run_name=run_name, tags=tags)
            return run.info.run_id

        self.run_id = self._call(_start)
        return self.run_id

    def log_params(self, params: dict[str, Any]) -> None:
        from mlflow.entities import Param

        flat = {k: str(v)[:6000] for k, v in flatten(params).items()}
        client = self.mlflow.MlflowClient(self.uri)
        items = [Param(k, v) for k, v in flat.items()]
        for start in range(0, len(items), 100):
            self._call(client.log_batch, self.run_id, params=items[start : start + 100])

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        items = [
            Metric(k, float(v), now, step or 0)
            for k, v in metrics.items()
            if isinstance(v, int | float) and not isinstance(v, bool)
        ]
        client = self.mlflow.MlflowClient(self.uri)
        for start in range(0, len(items), 500):
            self._call(client.log_batch, self.run_id, metrics=items[start : start + 500])

    def log_artifact(self, path: Path, artifact_path: str | None = None) -> None:
        client = self.mlflow.MlflowClient(self.uri)
        self._call(client.log_artifact, self.run_id, str(path), artifact_path)

    def end(self, status: str) -> None:
        client = self.mlflow.MlflowClient(self.uri)
        self._call(client.set_terminated, self.run_id, status)

    def has_children(self, experiment: str) -> bool:
        """Whether any run of `experiment` names this run as its parent."""
        client = self.mlflow.MlflowClient(self.uri)
        exp = self._call(client.get_experiment_by_name, experiment)
        found = self._call(
            client.search_runs,
            [exp.experiment_id],
            filter_string=f"tags.mlflow.parentRunId = '{self.run_id}'",
            max_results=1,
        )
        return bool(found)

    def delete(self) -> None:
        client = self.mlflow.MlflowClient(self.uri)
        self._call(client.delete_run, self.run_id)


def flatten(data: dict, prefix: str = "") -> dict[str, Any]:
    """{'a': {'b': 1}} -> {'a.b': 1}: flat params compare side by side in the MLflow UI."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


@contextlib.contextmanager
def tracked_run(cfg: dict, rule: str, params: dict | None = None) -> Iterator[Tracker]:
    """An MLflow run for one rule execution of one paper, tagged for comparison.

    cfg is a resolved paper config (reprolab.config.load_paper_config). Inside a workflow execution
    the run is a child of that execution's parent run for the paper. The run ends FINISHED, or
    FAILED if the body raises.
    """
    suite = cfg["suite"]
    uri = tracking_uri(suite)
    tracker = Tracker(uri)
    tags = {
        "paper": suite["paper"],
        "scale": suite["scale"],
        "rule": rule,
        "seed": str(suite["seed"]),
        "git_commit": git_commit(),
        "slurm_job_id": os.environ.get("SLURM_JOB_ID", ""),
    }
    parent = parent_run_id(suite["paper"])
    if parent:
        tags["mlflow.parentRunId"] = parent  # the UI nests the run under its workflow execution
    experiment = experiment_name(suite, suite["paper"])
    tracker.start(experiment, f"{suite['paper']}/{rule}", tags)
    log.info("MLflow run %s in experiment %s (%s)", tracker.run_id, experiment, uri)
    if params:
        tracker.log_params(params)
    try:
        yield tracker
    except BaseException:
        tracker.end("FAILED")
        raise
    tracker.end("FINISHED")


def log_figures(cfg: dict, paths: list[Path], rule: str = "plot") -> None:
    """One run for a paper's plot step, holding each figure and the CSV of its data."""
    with tracked_run(cfg, rule) as tracker:
        for path in paths:
            tracker.log_artifact(path, "figures")
            tracker.log_artifact(path.with_suffix(".csv"), "figures")

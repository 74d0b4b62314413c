"""Parent MLflow runs: one per paper for each workflow execution, the jobs' runs nested under it.

Experiments are per paper and the MLflow UI nests runs only within an experiment, so one
execution of the workflow opens one parent run in each enabled paper's experiment. The Snakefile's
`onstart` opens them and exports their ids (tracking.PARENT_RUNS_ENV) to the jobs it starts;
`onsuccess` / `onerror` close them. A parent that got no child (its paper had nothing to do in
this execution) is deleted, so the runs page lists only executions that did something.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

from reprolab.tracking import (
    PARENT_RUNS_ENV,
    Tracker,
    check_tracking,
    close_stale_runs,
    experiment_name,
    git_commit,
    tracking_uri,
)

PARENT_RULE = "workflow"


def start_parent_runs(paper_configs: dict[str, dict]) -> dict[str, str]:
    """Open a parent run per paper, export {paper: run id} to the environment and return it.

    Each parent carries the paper's whole resolved config as flat params, so two executions
    compare side by side by their settings.
    """
    execution = uuid.uuid4().hex[:12]
    ids: dict[str, str] = {}
    checked: dict[str, str] = {}
    for paper, cfg in paper_configs.items():
        suite = cfg["suite"]
        uri = tracking_uri(suite)
        if uri not in checked:
            checked[uri] = check_tracking(uri)
        if checked[uri] == "off":
            continue
        if checked[uri] == "ok":
            close_stale_runs(uri, experiment_name(suite, paper), os.getcwd())
        tracker = Tracker(uri)
        tags = {
            "paper": paper,
            "scale": suite["scale"],
            "rule": PARENT_RULE,
            "seed": str(suite["seed"]),
            "git_commit": git_commit(),
            "workflow_execution": execution,
            "slurm_job_id": os.environ.get("SLURM_JOB_ID", ""),
            "workdir": os.getcwd(),
        }
        ids[paper] = tracker.start(
            experiment_name(suite, paper), f"{paper}/{PARENT_RULE} {execution}", tags
        )
        tracker.log_params({k: v for k, v in cfg.items() if k != "suite"})
    os.environ[PARENT_RUNS_ENV] = json.dumps(ids)
    return ids


def finish_parent_runs(
    paper_configs: dict[str, dict], results: Path, status: str = "FINISHED"
) -> dict[str, str]:
    """Close the parents opened by start_parent_runs; return {paper: what became of its parent}.

    On success a parent also receives the paper's metrics.json as it stands after the execution,
    under the same names (`<arm>.<quantity>`), so executions compare at the parent level too.
    """
    ids = json.loads(os.environ.get(PARENT_RUNS_ENV) or "{}")
    outcome: dict[str, str] = {}
    for paper, run_id in ids.items():
        suite = paper_configs[paper]["suite"]
        tracker = Tracker(tracking_uri(suite))
        tracker.run_id = run_id
        if not tracker.has_children(experiment_name(suite, paper)):
            tracker.delete()
            outcome[paper] = "deleted (no jobs)"
            continue
        metrics = results / paper / "metrics.json"
        if status == "FINISHED" and metrics.exists():
            tracker.log_metrics(json.loads(metrics.read_text()))
        tracker.end(status)
        outcome[paper] = status
    return outcome

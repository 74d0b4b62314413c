"""Parent MLflow runs: one per paper for each workflow execution, the jobs' runs nested under it.

Experiments are per paper and the MLflow UI nests runs only within an experiment, so one
execution of the workflow opens one parent run in each enabled paper's experiment. The Snakefile's
`onstart` opens them and exports their ids (tracking.PARENT_RUNS_ENV) to the jobs it starts;
`onsuccess` / `onerror` close them. A parent that got no child (its paper had nothing to do in
this execution) is deleted, so the runs page lists only executions that did something. A parent
that finished holds the paper's verdicts: claims.json, its counts as metrics, its scorecard
section and figures.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from pathlib import Path

from reprolab.claims import SANITY_VERDICTS, SCIENCE_VERDICTS
from reprolab.tracking import (
    DEFER_ENV,
    PARENT_RUNS_ENV,
    Tracker,
    check_tracking,
    close_stale_runs,
    experiment_name,
    provenance_tags,
    sync_spool,
    tracking_off,
    tracking_uri,
)

log = logging.getLogger(__name__)
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
            "workflow_execution": execution,
            "slurm_job_id": os.environ.get("SLURM_JOB_ID", ""),
            "workdir": os.getcwd(),
            **provenance_tags("Snakefile"),
        }
        # `workflow <id>`: the experiment names the paper, the id the execution.
        ids[paper] = tracker.start(
            experiment_name(suite, paper), f"{PARENT_RULE} {execution}", tags
        )
        tracker.log_params({k: v for k, v in cfg.items() if k != "suite"})
    os.environ[PARENT_RUNS_ENV] = json.dumps(ids)
    return ids


def defer_job_tracking(tracking: dict) -> bool:
    """With `tracking.defer` (the default), the jobs this execution starts spool their runs
    instead of writing them: each job saves MLflow's import and the database lock (seconds
    a job, most of a short job's time), and finish_execution replays them all at the end.
    The parents stay live, so the runs page shows the execution from its start."""
    deferred = bool(tracking.get("defer", True)) and not tracking_off(tracking["uri"])
    if deferred:
        os.environ[DEFER_ENV] = "1"
    return deferred


def finish_execution(
    paper_configs: dict[str, dict], results: Path, status: str = "FINISHED"
) -> dict[str, str]:
    """The workflow's end (onsuccess / onerror): replay the jobs' spooled runs into the
    store, then close the parents (a parent is deleted only when no child reached the store
    and none waits in the spool)."""
    os.environ.pop(DEFER_ENV, None)
    sync_spool()
    return finish_parent_runs(paper_configs, results, status=status)


def verdict_metrics(claims: dict) -> dict[str, int]:
    """claims.json's verdict counts as metrics, every verdict named (zeros too), so that the
    parents of two executions line up: `claims.science.reproduced`, `claims.sanity.pass`."""
    counts: dict[str, int] = {}
    for kind, verdicts in (("science", SCIENCE_VERDICTS), ("sanity", SANITY_VERDICTS)):
        found = claims.get("summary", {}).get(kind, {})
        for verdict in verdicts:
            counts[f"claims.{kind}.{verdict.replace(' ', '_')}"] = found.get(verdict, 0)
    return counts


def log_verdicts(tracker: Tracker, results: Path, paper: str, cards: Path) -> bool:
    """The paper's claims.json, verdict counts, scorecard section (scorecard.md, its figure
    links resolving to the figures logged beside it) and figures on its parent run; False when
    the paper has no claims.json yet."""
    from reprolab.config import load_yaml
    from reprolab.io import read_json
    from reprolab.report import paper_section

    folder = results / paper
    claims_path = folder / "claims.json"
    if not claims_path.exists():
        return False
    tracker.log_metrics(verdict_metrics(read_json(claims_path)))
    tracker.log_artifact(claims_path)
    card_path = cards / f"{paper}.yaml"
    card = load_yaml(card_path) if card_path.exists() else {}
    tracker.log_text("\n".join(paper_section(results, paper, card, folder)), "scorecard.md")
    for figure in sorted((folder / "figures").glob("*.png")):
        tracker.log_artifact(figure, "figures")
        if figure.with_suffix(".csv").exists():
            tracker.log_artifact(figure.with_suffix(".csv"), "figures")
    return True


def finish_parent_runs(
    paper_configs: dict[str, dict],
    results: Path,
    status: str = "FINISHED",
    cards: Path = Path("seeds"),
) -> dict[str, str]:
    """Close the parents opened by start_parent_runs; return {paper: what became of its parent}.

    On success a parent also receives the paper's metrics.json as it stands after the execution,
    under the same names (`<arm>.<quantity>`), so executions compare at the parent level too,
    and its verdicts (log_verdicts; `cards` holds the papers' cards, seeds/<paper>.yaml).
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
        if status == "FINISHED":
            try:
                log_verdicts(tracker, results, paper, cards)
            except (OSError, ValueError, KeyError) as err:  # tracking never costs a workflow
                log.warning("%s: verdicts not logged to its MLflow run: %s", paper, err)
        tracker.end(status)
        outcome[paper] = status
    return outcome

"""partnr_dialogue's smoke run through Snakemake: what is particular to this paper (the generic
outputs are checked by tests/papers/test_contract.py)."""

from __future__ import annotations

import json

import pytest


@pytest.mark.slow
def test_smoke_suite_runs_partnr_dialogue(smoke_run):
    workdir, _ = smoke_run
    paper = workdir / "results" / "smoke" / "partnr_dialogue"
    metrics = json.loads((paper / "metrics.json").read_text())
    for arm in ("heuristic", "llm", "tiny-random-llama"):
        for condition in ("silent", "dialogue"):
            assert 0.0 <= metrics[f"{arm}.{condition}.success"] <= 1.0
            assert 0.0 <= metrics[f"{arm}.{condition}.oc_auc"] <= 1.0
            assert metrics[f"{arm}.{condition}.episodes"] == 4.0  # one per task type
        assert f"{arm}.dialogue_minus_silent.conflict_rate_pp" in metrics
    assert metrics["heuristic.silent.messages_per_episode"] == 0.0  # no channel when silent
    assert metrics["heuristic.dialogue.messages_per_episode"] > 0.0
    logs = paper / "eval" / "logs"
    rows = [json.loads(line) for line in (logs / "heuristic" / "dialogue.jsonl").open()]
    step = next(r for r in rows if r["kind"] == "step")
    assert set(step["graphs"]) == {"robot", "human"} and step["truth"]  # both graphs, every step
    claims = json.loads((paper / "claims.json").read_text())
    by_id = {c["id"]: c for c in claims["claims"]}
    assert by_id["heuristic_solves_constraint_free"]["verdict"] == "pass"  # a sanity check
    assert by_id["dialogue_reduces_conflicts"]["verdict"] == "not checked at this scale"
    units = json.loads((paper / "units.json").read_text())
    silent, dialogue = (units["samples"][f"llm.{c}.conflict"] for c in ("silent", "dialogue"))
    assert silent["unit"] == "episode" and silent["ids"] == dialogue["ids"]  # paired
    summary = json.loads((paper / "eval" / "summary.json").read_text())  # the score step's
    assert summary["heuristic"]["dialogue"]["success"] == metrics["heuristic.dialogue.success"]


@pytest.mark.slow
def test_smoke_runs_are_tracked_in_mlflow(smoke_run):
    import mlflow

    workdir, _ = smoke_run
    client = mlflow.MlflowClient(f"sqlite:///{workdir / 'mlflow.db'}")
    exp = client.get_experiment_by_name("reprolab/partnr_dialogue")
    rules = {r.data.tags["rule"] for r in client.search_runs([exp.experiment_id])}
    assert {
        "data",
        "run_heuristic:silent",
        "run_llm:tiny-random-llama:dialogue",
        "score",
        "metrics",
        "plot",
    } <= rules

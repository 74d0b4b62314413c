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
    # The hybrid and the scripted messengers run dialogue only; their silent run is the
    # scripted pair's (the same planner, silent).
    for arm in ("hybrid", "random_messenger", "random_messenger_b", "oracle_messenger"):
        assert metrics[f"{arm}.dialogue.episodes"] == 4.0
        assert metrics[f"{arm}.silent.success"] == metrics["heuristic.silent.success"]
    # The probe: hand-placed states of each kind, every rule's share of right choices.
    assert metrics["probe.llm.states"] == 6.0  # 2 a kind at smoke
    for rule in ("pmi", "loglik", "sum"):
        assert 0.0 <= metrics[f"probe.llm.{rule}.right_rate"] <= 1.0
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
    hybrid, control = (
        units["samples"][f"{a}.dialogue.bsm_counts"] for a in ("hybrid", "random_messenger")
    )
    assert hybrid["ids"] == control["ids"]  # the LLM's messaging against the control: paired
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
        "run_hybrid:tiny-random-llama:dialogue",
        "run_messengers:dialogue",
        "run_probe:tiny-random-llama",
        "score",
        "metrics",
        "plot",
    } <= rules

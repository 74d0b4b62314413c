"""gar's smoke run through Snakemake: what is particular to this paper (the generic
outputs are checked by tests/papers/test_contract.py)."""

from __future__ import annotations

import json

import pytest


@pytest.mark.slow
def test_smoke_suite_runs_gar(smoke_run):
    workdir, _ = smoke_run
    paper = workdir / "results" / "smoke" / "gar"
    metrics = json.loads((paper / "metrics.json").read_text())
    # Smoke decodes five jobs (wiring only): the sweep on fact5, probe5, one persona condition.
    for condition in ("full", "w_small", "w_main"):
        assert 0.0 <= metrics[f"fact5.{condition}.recall"] <= 1.0
    assert -1.0 <= metrics["fact5.full.gar_tau"] <= 1.0
    assert "probe.auc_peak" not in metrics  # a random model recalls nothing: one class, no AUC
    assert metrics["fact5.w_main.gar_after"] == 0.0  # the closed channel carries no attention
    assert metrics["fact5.w_main.crossed_fraction"] == 1.0
    assert metrics["crossover.predicted_slope"] > 0  # wider windows close later
    # Replies cut at 4 tokens are not scored: with none ended, no violation rate is reported.
    for condition in ("closed_passive",):
        ended = metrics[f"persona.{condition}.ended"]
        assert 0.0 <= ended <= 1.0
        assert (f"persona.{condition}.violation_rate" in metrics) == (ended > 0)
    assert metrics["probe.n"] == 4  # one sample per probe5 episode, all of w_probe
    # One decode job per condition, each with every episode.
    traces = sorted((paper / "eval" / "traces" / "fact5").glob("*.jsonl"))
    assert len(traces) == 3
    assert all(len(path.read_text().splitlines()) == 2 for path in traces)
    units = json.loads((paper / "units.json").read_text())
    recall = units["samples"]["fact5.w_main.recall_after"]
    assert recall["unit"] == "episode" and len(recall["ids"]) == 2  # (answered, asked) each
    assert all(len(v) == 2 and 0 <= v[0] <= v[1] for v in recall["values"])
    claims = json.loads((paper / "claims.json").read_text())
    by_id = {c["id"]: c for c in claims["claims"]}
    assert by_id["closure_zeroes_goal_attention"]["kind"] == "sanity"
    assert by_id["closure_zeroes_goal_attention"]["verdict"] == "pass"
    assert by_id["gar_declines"]["verdict"] == "not checked at this scale"


@pytest.mark.slow
def test_smoke_runs_are_tracked_in_mlflow(smoke_run):
    import mlflow

    workdir, _ = smoke_run
    client = mlflow.MlflowClient(f"sqlite:///{workdir / 'mlflow.db'}")
    exp = client.get_experiment_by_name("reprolab/gar")
    runs = client.search_runs([exp.experiment_id])
    rules = {r.data.tags["rule"] for r in runs}
    # One run per decode job, named by its task and condition.
    assert {"data", "generate:fact5:w_main", "generate:persona:closed_passive", "score"} <= rules
    assert {"metrics", "plot"} <= rules
    assert all(r.info.status == "FINISHED" and r.data.tags["scale"] == "smoke" for r in runs)
    decode = next(r for r in runs if r.data.tags["rule"] == "generate:fact5:w_main")
    assert decode.data.metrics["traces"] == 2
    assert decode.data.metrics["generate_seconds"] > 0  # the core times every step

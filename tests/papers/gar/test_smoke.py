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
    assert all(isinstance(v, float) for v in metrics.values())
    for condition in ("full", "w_small", "w_mid", "w_main", "w_large", "restated", "random_span"):
        assert 0.0 <= metrics[f"fact5.{condition}.recall"] <= 1.0
    assert -1.0 <= metrics["fact5.full.gar_tau"] <= 1.0
    assert "probe.auc_peak" not in metrics  # a random model recalls nothing: one class, no AUC
    assert metrics["fact5.w_main.gar_after"] == 0.0  # the closed channel carries no attention
    assert metrics["fact5.w_main.crossed_fraction"] == 1.0
    assert metrics["crossover.predicted_slope"] > 0  # wider windows close later
    assert 0.0 <= metrics["persona.closed_passive.violation_rate"] <= 1.0
    assert metrics["probe.n"] >= 4
    # One decode job per condition, each with every episode.
    traces = sorted((paper / "eval" / "traces" / "fact5").glob("*.jsonl"))
    assert len(traces) == 8
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
    for figure in ("gar_vs_turn", "recall_vs_turn", "crossover_vs_window", "probe_auc",
                   "persona_violations"):  # fmt: skip
        assert (paper / "figures" / f"{figure}.png").stat().st_size > 5000
        assert (paper / "figures" / f"{figure}.csv").exists()

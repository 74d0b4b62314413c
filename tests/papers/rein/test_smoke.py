"""rein's smoke run through Snakemake: what is particular to this paper (the generic outputs
are checked by tests/papers/test_contract.py)."""

from __future__ import annotations

import json

import pytest

SETTINGS = ("none", "npi", "self_refine", "rein_oracle", "rein_llm", "rein_llm_fixed",
            "rein_oracle_notools", "placebo")  # fmt: skip


@pytest.mark.slow
def test_smoke_run_steps_every_setting_through_the_runner(smoke_run):
    workdir, _ = smoke_run
    paper = workdir / "results" / "smoke" / "rein"
    metrics = json.loads((paper / "metrics.json").read_text())
    n = metrics["n_instances"]
    for setting in SETTINGS:
        assert metrics[f"{setting}.n.all"] == n
        assert 0 <= metrics[f"{setting}.pass.all"] <= 1
    assert metrics["prompt_identical"] == 1.0
    assert metrics["rein_oracle_notools.recovery_rate"] == 0.0
    assert metrics["rein_oracle.inception.activation"] == 1.0
    assert "rein_llm.inception.false_positive" in metrics
    rows = [json.loads(x) for x in (paper / "eval" / "episodes.jsonl").read_text().splitlines()]
    kinds = {r["kind"] for r in rows}
    assert {"score_calibrated", "generate"} <= kinds  # calibrated actions, Self-Refine feedback
    assert any(k.startswith("judge:") for k in kinds)  # the LLM inception module
    units = json.loads((paper / "units.json").read_text())["samples"]
    assert units["none.pass.seen"]["ids"] == units["rein_llm.pass.seen"]["ids"]

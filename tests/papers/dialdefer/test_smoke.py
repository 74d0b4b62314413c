"""dialdefer's smoke run through Snakemake: what is particular to this paper (the generic
outputs are checked by tests/papers/test_contract.py)."""

from __future__ import annotations

import json

import pytest


@pytest.mark.slow
def test_smoke_suite_runs_dialdefer(smoke_run):
    workdir, _ = smoke_run
    paper = workdir / "results" / "smoke" / "dialdefer"
    metrics = json.loads((paper / "metrics.json").read_text())
    domains = ["arithmetic", "comparison", "unit_conversion", "element_symbol", "atomic_number",
               "social_rules", "social_verdict", "social_judgment"]  # fmt: skip
    for mode in ("forced_choice", "parsed"):
        for domain in domains:
            assert -200.0 <= metrics[f"{mode}.base.{domain}.dds"] <= 200.0
        assert 0.0 <= metrics[f"{mode}.base.macro.acc_c1"] <= 1.0
    assert metrics["forced_choice.base.macro.unparseable_c2"] == 0.0  # forced choice always answers
    assert "forced_choice.noise_floor.mean_abs" in metrics
    assert "forced_choice.ablation_swing" in metrics
    assert "forced_choice.be_honest.macro.ddds" in metrics
    assert "forced_choice.sft.macro.abs_dds_change" in metrics
    assert "forced_choice.dpo.macro.abs_dds_change" in metrics
    units = json.loads((paper / "units.json").read_text())
    # 4 candidates a domain, the calibration keeps 3 (its yield in metrics.json).
    assert len(units["samples"]["forced_choice.base.dds_continuous"]["ids"]) == 24  # 3 x 8
    assert metrics["calibration.social_judgment.candidates"] == 4.0
    assert metrics["calibration.social_judgment.kept"] == 3.0
    # The per-domain null (every paraphrase on every item) and both controls on every item.
    assert len(units["samples"]["forced_choice.noise_floor.format_shift_continuous"]["ids"]) == 24
    assert len(units["samples"]["forced_choice.control_zero.dds_continuous"]["ids"]) == 24
    assert set(units["samples"]["forced_choice.control_zero.dds_continuous"]["values"]) == {0.0}
    assert "forced_choice.para1.macro.acc_c1_ci_low" in metrics
    assert len(units["nulls"]["forced_choice.base.max_abs_domain_dds_continuous"]["null"]) == 1999
    claims = json.loads((paper / "claims.json").read_text())
    by_id = {c["id"]: c for c in claims["claims"]}
    assert by_id["dds_is_sum_of_yes_shifts"]["verdict"] == "pass"
    assert by_id["human_vs_llm_swing"]["verdict"] == "not checked at this scale"
    # The shift planted in the scores (C2 P(yes) + 0.10) is a condition with per-item values;
    # smoke gives no science verdict (test_contract), tiny judges it.
    assert len(units["samples"]["forced_choice.planted_shift.dds_continuous"]["ids"]) == 24
    assert by_id["control_planted_shift_detected"]["verdict"] == "not checked at this scale"


@pytest.mark.slow
def test_smoke_runs_are_tracked_in_mlflow(smoke_run):
    import mlflow

    workdir, _ = smoke_run
    client = mlflow.MlflowClient(f"sqlite:///{workdir / 'mlflow.db'}")
    exp = client.get_experiment_by_name("reprolab/dialdefer")
    runs = client.search_runs([exp.experiment_id])
    rules = {r.data.tags["rule"] for r in runs}
    assert {
        "data",
        "data_calibrate",
        "score:forced_choice",
        "score:parsed",
        "train:sft",
        "score_finetuned:forced_choice:sft",
        "train:dpo",
        "score_finetuned:forced_choice:dpo",
        "metrics_summary",
        "metrics",
        "plot",
    } <= rules
    assert all(r.info.status == "FINISHED" for r in runs)

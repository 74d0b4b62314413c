"""sgd_rlvr's smoke run through Snakemake: what is particular to this paper (the generic
outputs are checked by tests/papers/test_contract.py)."""

from __future__ import annotations

import json

import pytest


@pytest.mark.slow
def test_smoke_suite_writes_every_promised_output(smoke_run):
    workdir, run = smoke_run
    paper = workdir / "results" / "smoke" / "sgd_rlvr"
    metrics = json.loads((paper / "metrics.json").read_text())
    # Smoke trains the two RL arms its sanity checks read (config skip_arms): no SFT arm, so
    # the base model is scored on the RL task only.
    arms = ["base", "grpo_adamw", "grpo_sgd"]
    for arm in arms:
        assert 0.0 <= metrics[f"{arm}.accuracy"] <= 1.0
    assert not any(k.startswith(("sft_", "base_sft.", "grpo_rmsprop.")) for k in metrics)
    assert all(isinstance(v, float) for v in metrics.values())  # flat and numeric, for DVC
    assert metrics["grpo_sgd.optimizer_state_bytes"] == 0
    assert metrics["grpo_adamw.optimizer_state_per_parameter_byte"] == 2.0
    # Sparsity is measured (a GRPO step whose rollouts all score alike moves no weight).
    assert 0.0 <= metrics["grpo_adamw.updated_fraction_fp32"] <= 1.0
    # The learning-rate grid: chosen on validation items, here at its one point.
    grid = json.loads((paper / "grid.json").read_text())
    assert [p["factor"] for p in grid["grpo_sgd"]["points"]] == [1]
    assert metrics["grid.grpo_sgd.config_is_selected"] == 1.0
    test_items = {json.loads(line)["question"] for line in (paper / "data" / "test.jsonl").open()}
    val_items = {json.loads(line)["question"] for line in (paper / "data" / "val.jsonl").open()}
    assert val_items and not val_items & test_items
    claims = json.loads((paper / "claims.json").read_text())
    by_id = {c["id"]: c for c in claims["claims"]}
    assert by_id["sgd_keeps_no_state"]["kind"] == "sanity"
    assert by_id["sgd_keeps_no_state"]["verdict"] == "pass"
    assert by_id["sgd_matches_adamw_in_rl"]["verdict"] == "not checked at this scale"
    units = json.loads((paper / "units.json").read_text())["samples"]
    correct = units["grpo_sgd.correct"]
    assert correct["unit"] == "item" and len(correct["ids"]) == 8
    assert units["grpo_sgd.updated_fraction_bf16"]["unit"] == "seed"
    for figure in ("training_curves", "final_accuracy", "updated_fraction", "per_layer_sparsity"):
        assert (paper / "figures" / f"{figure}.png").stat().st_size > 5000
        assert (paper / "figures" / f"{figure}.csv").exists()
    assert "mlflow ui --backend-store-uri sqlite:///mlflow.db" in run.stdout + run.stderr


@pytest.mark.slow
def test_smoke_runs_are_tracked_in_mlflow(smoke_run):
    import mlflow

    workdir, _ = smoke_run
    client = mlflow.MlflowClient(f"sqlite:///{workdir / 'mlflow.db'}")
    exp = client.get_experiment_by_name("reprolab/sgd_rlvr")
    runs = client.search_runs([exp.experiment_id])
    rules = {r.data.tags["rule"] for r in runs}
    assert {"train:grpo_sgd", "score:grpo_adamw", "metrics", "plot"} <= rules
    assert all(r.info.status == "FINISHED" and r.data.tags["scale"] == "smoke" for r in runs)
    train = next(r for r in runs if r.data.tags["rule"] == "train:grpo_sgd")
    assert train.data.params["optimizer_used.class"] == "SGD"
    assert "train/reward" in train.data.metrics
    assert train.data.metrics["train_seconds"] > 0  # the core times every step

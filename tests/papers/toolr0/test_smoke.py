"""toolr0's smoke run through Snakemake: what is particular to this paper (the generic
outputs are checked by tests/papers/test_contract.py)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import copy_workflow, snakemake


@pytest.mark.slow
def test_smoke_suite_runs_toolr0(smoke_run):
    workdir, _ = smoke_run
    paper = workdir / "results" / "smoke" / "toolr0"
    metrics = json.loads((paper / "metrics.json").read_text())
    for arm in ("base", "toolr0", "oracle", "toolr0.iter1"):
        assert 0.0 <= metrics[f"{arm}.ast_accuracy"] <= metrics[f"{arm}.exec_accuracy"] <= 1.0
    assert metrics["toolr0.iter1.n_items"] == 6.0
    assert not any(k.startswith("ablation.oracle") for k in metrics)  # a control
    stats = json.loads((paper / "data" / "toolr0" / "stats_iter1.json").read_text())
    assert stats["n_candidates"] == 4 and sum(stats["rejected"].values()) <= 4
    # The generator is a random model: no task survives, the solver is carried over untrained.
    summary = json.loads(
        (paper / "models" / "toolr0" / "solver_1" / "train_summary.json").read_text()
    )
    assert summary["steps"] == 0 or stats["n_selected"] > 0
    assert (paper / "models" / "toolr0" / "generator_1" / "train_log.jsonl").exists()
    # The oracle's template tasks are all valid and pass (agreement_min 0 at smoke): its solver
    # trains on them, with no generator model at all.
    oracle = json.loads((paper / "data" / "oracle" / "stats_iter1.json").read_text())
    assert oracle["n_valid"] == oracle["n_candidates"] == 4 and oracle["valid_yield"] == 1.0
    assert oracle["n_selected"] > 0 and oracle["difficulty_labels"] == "judge"
    trained = json.loads(
        (paper / "models" / "oracle" / "solver_1" / "train_summary.json").read_text()
    )
    assert trained["steps"] == 1
    assert not (paper / "models" / "oracle" / "generator_1").exists()
    assert metrics["oracle.iter1.valid_yield"] == 1.0
    claims = json.loads((paper / "claims.json").read_text())
    by_id = {c["id"]: c for c in claims["claims"]}
    assert by_id["exec_at_least_ast"]["kind"] == "sanity"
    assert by_id["exec_at_least_ast"]["verdict"] == "pass"
    units = json.loads((paper / "units.json").read_text())["samples"]
    assert units["toolr0.ast_correct"]["ids"] == units["base.ast_correct"]["ids"]
    assert len(units["base.exec_correct"]["values"]) == 6


@pytest.mark.slow
def test_smoke_runs_are_tracked_in_mlflow(smoke_run):
    import mlflow

    workdir, _ = smoke_run
    client = mlflow.MlflowClient(f"sqlite:///{workdir / 'mlflow.db'}")
    exp = client.get_experiment_by_name("reprolab/toolr0")
    runs = client.search_runs([exp.experiment_id])
    rules = {r.data.tags["rule"] for r in runs}
    assert {
        "data",
        "train_generator:toolr0:1",
        "generate:oracle:1",
        "train_solver:oracle:1",
        "train_solver:toolr0:1",
        "score:base",
        "score:toolr0/iter1",
        "metrics",
        "plot",
    } <= rules
    assert all(r.info.status == "FINISHED" for r in runs)
    score = next(r for r in runs if r.data.tags["rule"] == "score:toolr0/iter1")
    assert 0.0 <= score.data.metrics["ast_accuracy"] <= 1.0
    generate = next(r for r in runs if r.data.tags["rule"] == "generate:toolr0:1")
    assert generate.data.metrics["n_candidates"] == 4
    assert generate.data.metrics["generate_seconds"] > 0  # the core times every step


def test_toolr0_tiny_plans_one_rule_per_role_and_iteration(tmp_path):
    copy_workflow(tmp_path)
    run = snakemake(tmp_path, "-n", "--config", "scale=tiny", "papers=[toolr0]")
    assert run.returncode == 0, run.stderr[-2000:]
    out = run.stdout + run.stderr
    counts = {
        rule: sum(1 for line in out.splitlines() if line.startswith(f"rule {rule}:"))
        for rule in ("toolr0_train_generator", "toolr0_generate", "toolr0_train_solver",
                     "toolr0_score")
    }  # fmt: skip
    # 1 iteration of Tool-R0 and the oracle control (no generator to train); both generate,
    # train a solver and are scored, and the base model once.
    assert counts == {
        "toolr0_train_generator": 1,
        "toolr0_generate": 2,
        "toolr0_train_solver": 2,
        "toolr0_score": 2 + 1,
    }

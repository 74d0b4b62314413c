"""The whole smoke suite through Snakemake in a temporary directory, as a user runs it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reprolab.cli import main

from .conftest import REPO

WORKFLOW_FILES = ("Snakefile", "rules", "config", "seeds", "profiles")


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    env.pop("MLFLOW_TRACKING_URI", None)  # the workflow's own config decides
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2", *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("suite")
    for name in WORKFLOW_FILES:
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, workdir / name)
    run = snakemake(workdir, "--config", "scale=smoke")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return workdir, run


@pytest.mark.slow
def test_smoke_suite_writes_every_promised_output(smoke_run):
    workdir, run = smoke_run
    paper = workdir / "results" / "smoke" / "sgd_rlvr"
    metrics = json.loads((paper / "metrics.json").read_text())
    arms = [
        "base",
        "grpo_adamw",
        "grpo_sgd",
        "grpo_sgd_momentum",
        "grpo_rmsprop",
        "sft_adamw",
        "sft_sgd",
    ]
    for arm in arms:
        assert 0.0 <= metrics[f"{arm}.accuracy"] <= 1.0
    assert all(isinstance(v, float) for v in metrics.values())  # flat and numeric, for DVC
    assert metrics["grpo_sgd.optimizer_state_bytes"] == 0
    assert metrics["grpo_adamw.optimizer_state_per_parameter_byte"] == 2.0
    assert metrics["sft_sgd.updated_fraction_fp32"] > 0  # supervised steps always move weights
    claims = json.loads((paper / "claims.json").read_text())
    by_id = {c["id"]: c for c in claims["claims"]}
    assert by_id["sgd_keeps_no_state"]["verdict"] == "reproduced"
    assert by_id["sgd_matches_adamw_in_rl"]["verdict"] == "not checked at this scale"
    for figure in ("training_curves", "final_accuracy", "updated_fraction", "per_layer_sparsity"):
        assert (paper / "figures" / f"{figure}.png").stat().st_size > 5000
        assert (paper / "figures" / f"{figure}.csv").exists()
    scorecard = (workdir / "results" / "smoke" / "scorecard.md").read_text()
    assert "| [sgd_rlvr](#sgd_rlvr) | 2 | 0 | 5 | 0 |" in scorecard
    # dialdefer checks only the exact DDS identity at smoke scale.
    assert "| [dialdefer](#dialdefer) | 1 | 0 | 10 | 0 |" in scorecard
    assert "mlflow ui --backend-store-uri sqlite:///mlflow.db" in run.stdout + run.stderr


@pytest.mark.slow
def test_smoke_suite_runs_dialdefer(smoke_run):
    workdir, _ = smoke_run
    paper = workdir / "results" / "smoke" / "dialdefer"
    metrics = json.loads((paper / "metrics.json").read_text())
    assert all(isinstance(v, float) for v in metrics.values())
    domains = ["arithmetic", "comparison", "unit_conversion", "element_symbol", "atomic_number",
               "social_rules", "social_verdict"]  # fmt: skip
    for mode in ("forced_choice", "parsed"):
        for domain in domains:
            assert -200.0 <= metrics[f"{mode}.base.{domain}.dds"] <= 200.0
        assert 0.0 <= metrics[f"{mode}.base.macro.acc_c1"] <= 1.0
    assert metrics["forced_choice.base.macro.unparseable_c2"] == 0.0  # forced choice always answers
    assert "forced_choice.noise_floor.mean_abs" in metrics
    assert "forced_choice.ablation_swing" in metrics
    assert "forced_choice.be_honest.macro.ddds" in metrics
    assert "forced_choice.sft.macro.abs_dds_change" in metrics
    claims = json.loads((paper / "claims.json").read_text())
    by_id = {c["id"]: c for c in claims["claims"]}
    assert by_id["dds_is_sum_of_yes_shifts"]["verdict"] == "reproduced"
    assert by_id["human_vs_llm_swing"]["verdict"] == "not checked at this scale"
    for figure in ("dds_per_domain", "accuracy_vs_dds", "ablation_mitigation"):
        assert (paper / "figures" / f"{figure}.png").stat().st_size > 5000
        assert (paper / "figures" / f"{figure}.csv").exists()


@pytest.mark.slow
def test_smoke_suite_is_tracked_in_mlflow(smoke_run):
    import mlflow

    workdir, _ = smoke_run
    client = mlflow.MlflowClient(f"sqlite:///{workdir / 'mlflow.db'}")
    exp = client.get_experiment_by_name("reprolab/sgd_rlvr")
    runs = client.search_runs([exp.experiment_id])
    rules = {r.data.tags["rule"] for r in runs}
    assert {"train:grpo_sgd", "evaluate:grpo_adamw", "metrics", "plot"} <= rules
    assert all(r.info.status == "FINISHED" and r.data.tags["scale"] == "smoke" for r in runs)
    train = next(r for r in runs if r.data.tags["rule"] == "train:grpo_sgd")
    assert train.data.params["optimizer_used.class"] == "SGD"
    assert "train/reward" in train.data.metrics
    exp = client.get_experiment_by_name("reprolab/dialdefer")
    runs = client.search_runs([exp.experiment_id])
    rules = {r.data.tags["rule"] for r in runs}
    assert {"judge:forced_choice", "judge:parsed", "train:sft", "judge:forced_choice:sft"} <= rules
    assert all(r.info.status == "FINISHED" for r in runs)


@pytest.mark.slow
def test_second_run_has_nothing_to_do(smoke_run):
    workdir, _ = smoke_run
    run = snakemake(workdir, "--config", "scale=smoke")
    assert run.returncode == 0
    assert "Nothing to be done" in run.stdout + run.stderr


def test_steps_run_by_hand_outside_snakemake(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    train, test = tmp_path / "train.jsonl", tmp_path / "test.jsonl"
    assert (
        main(["sgd_rlvr", "data", "--scale", "smoke", "--train", str(train), "--test", str(test)])
        == 0
    )
    assert len(train.read_text().splitlines()) == 16
    items = tmp_path / "items.jsonl"
    argv = ["dialdefer", "data", "--scale", "smoke", "--eval", str(items), "--train", str(train)]
    assert main(argv) == 0
    assert len(items.read_text().splitlines()) == 7 * 3
    assert main(["prepare-model", "no-such-model", "--out", str(tmp_path / "m")]) == 2


def planned_resources(output: str) -> dict[str, set[str]]:
    """rule name -> the 'resources:' lines of its planned jobs, from a dry run's output."""
    plans: dict[str, set[str]] = {}
    rule = None
    for line in output.splitlines():
        if line.startswith(("rule ", "localrule ")):
            rule = line.split()[1].rstrip(":")
            plans.setdefault(rule, set())
        elif line.strip().startswith("resources:") and rule:
            plans[rule].add(line.strip())
    return plans


def test_full_scale_plans_gpu_jobs_only_where_needed(tmp_path):
    for name in WORKFLOW_FILES:
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / name)
    run = snakemake(tmp_path, "-n", "--config", "scale=full")
    assert run.returncode == 0, run.stderr[-2000:]
    plans = planned_resources(run.stdout + run.stderr)
    assert "gpu=4" in next(iter(plans["sgd_rlvr_train"]))
    assert "gpu=1" in next(iter(plans["sgd_rlvr_evaluate"]))
    for cpu_rule in ("sgd_rlvr_data", "sgd_rlvr_metrics", "sgd_rlvr_plot", "sgd_rlvr_claims"):
        assert all("gpu=" not in line for line in plans[cpu_rule]), cpu_rule
    assert "runtime=2880" in next(iter(plans["sgd_rlvr_train"]))
    assert "gpu=1" in next(iter(plans["dialdefer_judge"]))
    assert "gpu=4" in next(iter(plans["dialdefer_train_sft"]))
    for cpu_rule in ("dialdefer_data", "dialdefer_metrics", "dialdefer_plot", "dialdefer_claims"):
        assert all("gpu=" not in line for line in plans[cpu_rule]), cpu_rule


def test_one_paper_alone_plans_only_its_rules(tmp_path):
    """The budget script enables one paper; the other papers' rules must not be read."""
    for name in WORKFLOW_FILES:
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / name)
    run = snakemake(tmp_path, "-n", "--config", "scale=smoke", "papers=[dialdefer]")
    assert run.returncode == 0, run.stderr[-2000:]
    plans = planned_resources(run.stdout + run.stderr)
    assert "dialdefer_judge" in plans
    assert not any(rule.startswith("sgd_rlvr") for rule in plans)

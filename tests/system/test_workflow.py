"""The whole smoke suite through Snakemake in a temporary directory, as a user runs it."""

from __future__ import annotations

import importlib.util
import json

import pytest
import yaml

from reprolab.cli import main

from tests.conftest import REPO, copy_workflow, snakemake


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
    scorecard = (workdir / "results" / "smoke" / "scorecard.md").read_text()
    for name in yaml.safe_load((REPO / "config" / "config.yaml").read_text())["papers"]:
        verdicts = json.loads((workdir / "results" / "smoke" / name / "claims.json").read_text())
        # Smoke checks plumbing: no science verdict there, and every sanity check passes.
        for c in verdicts["claims"]:
            expected = "not checked at this scale" if c["kind"] == "science" else "pass"
            assert c["verdict"] in (expected, "not checked at this scale"), (name, c["id"])
        science, sanity = verdicts["summary"]["science"], verdicts["summary"]["sanity"]
        unchecked, passed = science.get("not checked at this scale", 0), sanity.get("pass", 0)
        row = f"| [{name}](#{name}) | 0 | 0 | 0 | 0 | {unchecked} | 0 | {passed} | 0 |"
        assert row in scorecard, name
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
    assert "forced_choice.dpo.macro.abs_dds_change" in metrics
    units = json.loads((paper / "units.json").read_text())
    assert len(units["samples"]["forced_choice.base.dds_continuous"]["ids"]) == 21  # 3 x 7
    assert len(units["nulls"]["forced_choice.base.max_abs_domain_dds_continuous"]["null"]) == 1999
    claims = json.loads((paper / "claims.json").read_text())
    by_id = {c["id"]: c for c in claims["claims"]}
    assert by_id["dds_is_sum_of_yes_shifts"]["verdict"] == "pass"
    assert by_id["human_vs_llm_swing"]["verdict"] == "not checked at this scale"
    for figure in ("dds_per_domain", "accuracy_vs_dds", "ablation_mitigation"):
        assert (paper / "figures" / f"{figure}.png").stat().st_size > 5000
        assert (paper / "figures" / f"{figure}.csv").exists()


@pytest.mark.slow
def test_smoke_suite_runs_partnr_dialogue(smoke_run):
    workdir, _ = smoke_run
    paper = workdir / "results" / "smoke" / "partnr_dialogue"
    metrics = json.loads((paper / "metrics.json").read_text())
    assert all(isinstance(v, float) for v in metrics.values())
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
    for figure in ("convergence", "conflicts_success", "novelty_bsm"):
        assert (paper / "figures" / f"{figure}.png").stat().st_size > 5000
        assert (paper / "figures" / f"{figure}.csv").exists()


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


@pytest.mark.slow
def test_smoke_suite_runs_toolr0(smoke_run):
    workdir, _ = smoke_run
    paper = workdir / "results" / "smoke" / "toolr0"
    metrics = json.loads((paper / "metrics.json").read_text())
    assert all(isinstance(v, float) for v in metrics.values())
    for arm in ("base", "toolr0", "frozen_gen", "toolr0.iter1"):
        assert 0.0 <= metrics[f"{arm}.ast_accuracy"] <= metrics[f"{arm}.exec_accuracy"] <= 1.0
    assert metrics["toolr0.iter1.n_items"] == 6.0
    assert "ablation.frozen_gen.ast_accuracy_drop" in metrics
    stats = json.loads((paper / "data" / "toolr0" / "stats_iter1.json").read_text())
    assert stats["n_candidates"] == 4 and sum(stats["rejected"].values()) <= 4
    # The generator is a random model: no task survives, the solver is carried over untrained.
    summary = json.loads(
        (paper / "models" / "toolr0" / "solver_1" / "train_summary.json").read_text()
    )
    assert summary["steps"] == 0 or stats["n_selected"] > 0
    assert (paper / "models" / "toolr0" / "generator_1" / "train_log.jsonl").exists()
    claims = json.loads((paper / "claims.json").read_text())
    by_id = {c["id"]: c for c in claims["claims"]}
    assert by_id["exec_at_least_ast"]["kind"] == "sanity"
    assert by_id["exec_at_least_ast"]["verdict"] == "pass"
    assert by_id["toolr0_beats_base_ast"]["verdict"] == "not checked at this scale"
    units = json.loads((paper / "units.json").read_text())["samples"]
    assert units["toolr0.ast_correct"]["ids"] == units["base.ast_correct"]["ids"]
    assert len(units["base.exec_correct"]["values"]) == 6
    for figure in ("curriculum", "accuracy_per_iteration"):
        assert (paper / "figures" / f"{figure}.png").stat().st_size > 5000
        assert (paper / "figures" / f"{figure}.csv").exists()


def test_toolr0_tiny_plans_one_rule_per_role_and_iteration(tmp_path):
    copy_workflow(tmp_path)
    run = snakemake(tmp_path, "-n", "--config", "scale=tiny", "papers=[toolr0]")
    assert run.returncode == 0, run.stderr[-2000:]
    out = run.stdout + run.stderr
    counts = {
        rule: sum(1 for line in out.splitlines() if line.startswith(f"rule {rule}:"))
        for rule in ("toolr0_train_generator", "toolr0_generate", "toolr0_train_solver",
                     "toolr0_evaluate", "toolr0_evaluate_base")
    }  # fmt: skip
    # 2 iterations; the frozen generator never trains; 4 variants generate, train and evaluate.
    assert counts == {
        "toolr0_train_generator": 3 * 2,
        "toolr0_generate": 4 * 2,
        "toolr0_train_solver": 4 * 2,
        "toolr0_evaluate": 4 * 2,
        "toolr0_evaluate_base": 1,
    }


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
    assert {
        "judge:forced_choice",
        "judge:parsed",
        "train:sft",
        "judge:forced_choice:sft",
        "train:dpo",
        "judge:forced_choice:dpo",
    } <= rules
    assert all(r.info.status == "FINISHED" for r in runs)
    exp = client.get_experiment_by_name("reprolab/partnr_dialogue")
    rules = {r.data.tags["rule"] for r in client.search_runs([exp.experiment_id])}
    assert {"run:heuristic:silent", "run:llm:dialogue:tiny-random-llama", "metrics"} <= rules


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
    episodes = tmp_path / "episodes.jsonl"
    assert main(["partnr_dialogue", "episodes", "--scale", "smoke", "--out", str(episodes)]) == 0
    assert len(episodes.read_text().splitlines()) == 4  # one per task type
    episodes = tmp_path / "gar"
    assert main(["gar", "data", "--scale", "smoke", "--out-dir", str(episodes)]) == 0
    assert len((episodes / "fact5.jsonl").read_text().splitlines()) == 2
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
    copy_workflow(tmp_path)
    run = snakemake(tmp_path, "-n", "--config", "scale=full")
    assert run.returncode == 0, run.stderr[-2000:]
    plans = planned_resources(run.stdout + run.stderr)
    assert "gpu=4" in next(iter(plans["sgd_rlvr_train"]))
    assert "gpu=1" in next(iter(plans["sgd_rlvr_evaluate"]))
    for cpu_rule in ("sgd_rlvr_data", "sgd_rlvr_metrics", "sgd_rlvr_plot", "claims"):
        assert all("gpu=" not in line for line in plans[cpu_rule]), cpu_rule
    assert "runtime=2880" in next(iter(plans["sgd_rlvr_train"]))
    assert "gpu=1" in next(iter(plans["dialdefer_judge"]))
    assert "gpu=4" in next(iter(plans["dialdefer_train"]))
    for gpu_rule in ("toolr0_train_generator", "toolr0_train_solver"):
        assert "gpu=4" in next(iter(plans[gpu_rule])), gpu_rule
    for gpu_rule in ("toolr0_generate", "toolr0_evaluate", "toolr0_evaluate_base"):
        assert "gpu=1" in next(iter(plans[gpu_rule])), gpu_rule
    for cpu_rule in ("toolr0_data", "toolr0_metrics", "toolr0_plot"):
        assert all("gpu=" not in line for line in plans[cpu_rule]), cpu_rule
    for cpu_rule in ("dialdefer_data", "dialdefer_metrics", "dialdefer_plot"):
        assert all("gpu=" not in line for line in plans[cpu_rule]), cpu_rule
    # partnr_dialogue trains nothing: its LLM episodes are its GPU step, two models x 2 conditions
    assert "gpu=1" in next(iter(plans["partnr_dialogue_generate"]))
    partnr_cpu = ("episodes", "heuristic", "metrics", "plot")
    for cpu_rule in (f"partnr_dialogue_{step}" for step in partnr_cpu):
        assert all("gpu=" not in line for line in plans[cpu_rule]), cpu_rule
    # gar trains nothing: its decode runs are its GPU steps, one per task.
    assert not any(rule.startswith("gar_train") for rule in plans)
    assert len(plans["gar_generate"]) == 1 and "gpu=1" in next(iter(plans["gar_generate"]))
    for cpu_rule in ("gar_data", "gar_metrics", "gar_plot"):
        assert all("gpu=" not in line for line in plans[cpu_rule]), cpu_rule


def planned_jobs(output: str) -> dict[str, list[dict[str, str]]]:
    """From a dry run: rule -> the resources of each of its jobs."""
    jobs: dict[str, list[dict[str, str]]] = {}
    rule = None
    for line in output.splitlines():
        if line.startswith(("rule ", "localrule ")):
            rule = line.split()[1].rstrip(":")
        elif line.strip().startswith("resources:") and rule:
            pairs = line.strip().removeprefix("resources:").split(",")
            jobs.setdefault(rule, []).append(dict(p.strip().split("=", 1) for p in pairs))
    return jobs


# Steps that need GPUs at full scale, by the naming convention of rules/<paper>.smk.
GPU_KINDS = {
    "_train": "train",
    "_evaluate": "generate",
    "_generate": "generate",
    "_judge": "generate",
}


def gpu_kind(rule: str) -> str | None:
    return next((kind for part, kind in GPU_KINDS.items() if part in rule), None)


@pytest.mark.skipif(
    importlib.util.find_spec("snakemake_executor_plugin_slurm") is None,
    reason="snakemake-executor-plugin-slurm is not installed (pip install -e '.[slurm]')",
)
def test_slurm_profile_plans_full_scale_with_cluster_resources(tmp_path):
    copy_workflow(tmp_path)
    run = snakemake(tmp_path, "-n", "--profile", "profiles/slurm", "--config", "scale=full")
    assert run.returncode == 0, run.stderr[-2000:]
    jobs = planned_jobs(run.stdout + run.stderr)
    suite = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    full = suite["resources"]["full"]
    for paper in suite["papers"]:
        # Every paper runs a model somewhere, and that step must reach a GPU.
        assert any(rule.startswith(paper) and gpu_kind(rule) for rule in jobs), paper
    # One claims job per paper, run on the submitting node (a localrule, like the scorecard).
    assert len(jobs["claims"]) == len(suite["papers"])
    for rule, planned in jobs.items():
        if rule in ("claims", "scorecard"):
            continue
        kind = gpu_kind(rule)
        for resources in planned:
            # The partition and account of profiles/slurm reach every submitted job.
            assert resources["slurm_partition"] == "gpu", rule
            assert resources["slurm_account"] == "my_project", rule
            if kind is None:
                assert "gpu" not in resources and "gpu_model" not in resources, rule
            else:
                assert int(resources["gpu"]) == full[kind]["gpus"] > 0, rule
                assert resources["gpu_model"] == full[kind]["gpu_model"], rule
                assert int(resources["mem_mb"]) == full[kind]["mem_mb"], rule


def test_one_paper_alone_plans_only_its_rules(tmp_path):
    """The budget script enables one paper; the other papers' rules must not be read."""
    copy_workflow(tmp_path)
    run = snakemake(tmp_path, "-n", "--config", "scale=smoke", "papers=[dialdefer]")
    assert run.returncode == 0, run.stderr[-2000:]
    plans = planned_resources(run.stdout + run.stderr)
    assert "dialdefer_judge" in plans
    assert not any(rule.startswith("sgd_rlvr") for rule in plans)

"""The whole smoke suite through Snakemake in a temporary directory, as a user runs it."""

from __future__ import annotations

import importlib.util
import re
import shutil

import pytest
import yaml

from reprolab.cli import main
from reprolab.papers import manifest
from reprolab.steps import load_paper
from tests.conftest import REPO, copy_workflow, snakemake


@pytest.mark.slow
def test_second_run_has_nothing_to_do(smoke_run):
    workdir, _ = smoke_run
    run = snakemake(workdir, "--config", "scale=smoke")
    assert run.returncode == 0
    assert "Nothing to be done" in run.stdout + run.stderr


@pytest.mark.slow
def test_job_logs_hold_progress_lines_and_no_carriage_return_bars(smoke_run):
    """Every job's log (stderr, `2> {log}`) is read as lines: the libraries' tqdm bars are off
    in jobs (reprolab.progress.quiet_progress_bars), progress comes as log lines."""
    workdir, _ = smoke_run
    logs = sorted((workdir / "results" / "smoke" / "logs").rglob("*.log"))
    logs += sorted((workdir / "models" / "logs").glob("*.log"))
    assert len(logs) > 20
    # Bytes: read_text would turn each '\r' into a newline.
    with_bars = [str(log.relative_to(workdir)) for log in logs if b"\r" in log.read_bytes()]
    assert with_bars == []
    train = (workdir / "results" / "smoke" / "logs" / "sgd_rlvr" / "train_grpo_sgd.log").read_text()
    assert re.search(r"step \d+/\d+ \(\d+s, [\d.]+ steps/s, ETA \S+\)", train), train


@pytest.mark.slow
def test_another_suite_seed_reuses_the_base_models(smoke_run):
    """Base models depend on no run's seed: the suite at seed 1 plans every paper's steps again,
    in its own results folder, and prepares no model."""
    workdir, _ = smoke_run
    run = snakemake(workdir, "-n", "--config", "scale=smoke", "seed=1", "results_dir=results-seed1")
    plan = run.stdout + run.stderr
    assert run.returncode == 0, plan[-2000:]
    assert "rule sgd_rlvr_data:" in plan and "results-seed1/smoke/sgd_rlvr" in plan
    assert "prepare_model" not in plan


def test_steps_run_by_hand_outside_snakemake(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    train, test = tmp_path / "train.jsonl", tmp_path / "test.jsonl"
    split = ["--split", "train"]  # the RL task's split (sft_train: the SFT control's)
    assert main(["sgd_rlvr", "data", "--scale", "smoke", *split, "--train", str(train)]) == 0
    assert main(["sgd_rlvr", "data-test", "--scale", "smoke", *split, "--test", str(test)]) == 0
    assert len(train.read_text().splitlines()) == 16
    assert len(test.read_text().splitlines()) == 8
    assert main(["prepare-model", "no-such-model", "--out", str(tmp_path / "m")]) == 2
    # Another seed by hand, as the workflow runs a paper's further seeds: other items.
    seeded = tmp_path / "train-seed1.jsonl"
    assert (
        main(
            ["sgd_rlvr", "data", "--scale", "smoke", "--seed", "1", *split, "--train", str(seeded)]
        )
        == 0
    )
    assert seeded.read_text() != train.read_text()
    inline = '{"suite": {"paper": "sgd_rlvr"}}'
    assert (
        main(
            ["sgd_rlvr", "data", "--config", inline, "--seed", "1", *split, "--train", str(seeded)]
        )
        == 2
    )


@pytest.fixture(scope="module")
def sgd_rlvr_smoke(smoke_run, tmp_path_factory):
    """A copy of the finished smoke suite (outputs with their times, Snakemake's records) whose
    config the tests edit: no second run needed."""
    workdir = tmp_path_factory.mktemp("edited") / "suite"
    shutil.copytree(smoke_run[0], workdir, symlinks=True)
    return workdir


def set_smoke_data(workdir, **values: int) -> None:
    """Change keys of sgd_rlvr's smoke `data` block in the copy's config file."""
    path = workdir / "config" / "papers" / "sgd_rlvr.yaml"
    cfg = yaml.safe_load(path.read_text())
    cfg["smoke"]["data"].update(values)
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))


@pytest.mark.slow
def test_a_test_set_change_reruns_no_training(sgd_rlvr_smoke):
    """The test set is its own job (data_test): a new n_test plans that job and what reads the
    test set (scores, metrics, claims), no training; a new n_train retrains. The dry run uses
    the profile's rerun triggers (mtime, params, input, software-env)."""
    workdir = sgd_rlvr_smoke
    original = (workdir / "config" / "papers" / "sgd_rlvr.yaml").read_text()
    args = ("-n", "--config", "scale=smoke", "papers=[sgd_rlvr]")
    set_smoke_data(workdir, n_test=6)
    run = snakemake(workdir, *args)
    assert run.returncode == 0, run.stderr[-2000:]
    jobs = planned_jobs(run.stdout + run.stderr)
    assert {"sgd_rlvr_data_test", "sgd_rlvr_score", "sgd_rlvr_metrics", "claims"} <= set(jobs), jobs
    assert "sgd_rlvr_train" not in jobs and "sgd_rlvr_data" not in jobs, jobs
    (workdir / "config" / "papers" / "sgd_rlvr.yaml").write_text(original)
    set_smoke_data(workdir, n_train=12)
    run = snakemake(workdir, *args)
    assert run.returncode == 0, run.stderr[-2000:]
    jobs = planned_jobs(run.stdout + run.stderr)
    assert {"sgd_rlvr_data", "sgd_rlvr_train", "sgd_rlvr_data_test"} <= set(jobs), jobs


def planned_jobs(output: str) -> dict[str, list[dict[str, str]]]:
    """From a dry run: rule -> the resources of each of its jobs."""
    jobs: dict[str, list[dict[str, str]]] = {}
    rule = None
    for line in output.splitlines():
        if line.startswith(("rule ", "localrule ")):
            rule = line.split()[1].rstrip(":")
            jobs.setdefault(rule, [])
        elif line.strip().startswith("resources:") and rule:
            pairs = line.strip().removeprefix("resources:").split(",")
            jobs[rule].append(dict(p.strip().split("=", 1) for p in pairs))
    return jobs


def declared_kind(rule: str) -> str | None:
    """The job kind a rule's step declares (rules are named <paper>_<step>[_<what>])."""
    for paper in manifest():
        if rule.startswith(f"{paper}_"):
            steps = load_paper(paper).steps
            rest = rule.removeprefix(f"{paper}_")
            name = max((s for s in steps if rest == s or rest.startswith(f"{s}_")), key=len)
            return steps[name].kind
    return None


def test_full_scale_plans_gpu_jobs_exactly_where_steps_declare_them(tmp_path):
    copy_workflow(tmp_path)
    run = snakemake(tmp_path, "-n", "--config", "scale=full")
    assert run.returncode == 0, run.stderr[-2000:]
    jobs = planned_jobs(run.stdout + run.stderr)
    full = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["resources"]["full"]
    for paper in manifest():
        # Every paper runs a model somewhere, and that step must reach a GPU.
        assert any(declared_kind(r) in ("generate", "train") for r in jobs if paper in r), paper
    for rule, planned in jobs.items():
        kind = declared_kind(rule)
        for resources in planned:
            if kind in ("generate", "train"):
                assert int(resources["gpu"]) == full[kind]["gpus"] > 0, rule
                assert int(resources["runtime"]) == full[kind]["runtime"], rule
            else:
                assert "gpu" not in resources, rule


@pytest.mark.skipif(
    importlib.util.find_spec("snakemake_executor_plugin_slurm") is None,
    reason="snakemake-executor-plugin-slurm is not installed (pip install -e '.[slurm]')",
)
def test_slurm_profile_plans_full_scale_with_cluster_resources(tmp_path):
    copy_workflow(tmp_path)
    run = snakemake(tmp_path, "-n", "--profile", "slurm", "--config", "scale=full")
    assert run.returncode == 0, run.stderr[-2000:]
    jobs = planned_jobs(run.stdout + run.stderr)
    suite = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    full = suite["resources"]["full"]
    # One claims job per paper, run on the submitting node (a localrule, like the scorecard).
    assert len(jobs["claims"]) == len(suite["papers"])
    for rule, planned in jobs.items():
        if rule in ("claims", "scorecard", "all"):
            continue
        kind = declared_kind(rule)
        for resources in planned:
            # The partition and account of profiles/slurm reach every submitted job.
            assert resources["slurm_partition"] == "gpu", rule
            assert resources["slurm_account"] == "my_project", rule
            if kind not in ("generate", "train"):
                assert "gpu" not in resources and "gpu_model" not in resources, rule
            else:
                assert int(resources["gpu"]) == full[kind]["gpus"] > 0, rule
                assert resources["gpu_model"] == full[kind]["gpu_model"], rule
                assert int(resources["mem_mb"]) == full[kind]["mem_mb"], rule


def test_one_paper_alone_plans_only_its_rules(tmp_path):
    """The budget script enables one paper; the other papers' rules must not be read."""
    copy_workflow(tmp_path)
    run = snakemake(tmp_path, "-n", "--config", "scale=smoke", "papers=[sgd_rlvr]")
    assert run.returncode == 0, run.stderr[-2000:]
    jobs = planned_jobs(run.stdout + run.stderr)
    assert "sgd_rlvr_train" in jobs
    assert not any(rule.startswith(("dialdefer", "gar", "toolr0", "partnr")) for rule in jobs)


def test_the_dry_run_a_user_reads_is_short(tmp_path):
    """Jobs get a config file, not the config, and the console shows each job's block, not its
    command (that opens its log): a fresh clone's smoke plan was 306 KB for 70 jobs with inline
    JSON (4.4 KB a job); it is under 1 KB a job, most of it the job's files and Snakemake's
    reasons."""
    copy_workflow(tmp_path)
    run = snakemake(tmp_path, "-n", "--config", "scale=smoke")
    assert run.returncode == 0, run.stderr[-2000:]
    plan = run.stdout + run.stderr
    jobs = len(re.findall(r"^(local)?rule \w+:", plan, re.M))
    assert jobs > 50
    assert len(plan.encode()) < 1000 * jobs
    assert "--config @" not in plan and "Shell command" not in plan

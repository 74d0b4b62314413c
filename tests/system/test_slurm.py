"""The smoke suite through a real single-node SLURM cluster, as a user runs it on a cluster.

tests/slurm/start_cluster.sh installs SLURM from Debian's packages and starts it on 127.0.0.1
with two fake GPUs; the suite then runs with `snakemake --profile slurm`, as a user types it.
Needs root and apt-get (CI has both); skipped otherwise.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess

import mlflow
import pytest
import yaml

from reprolab.papers import manifest
from reprolab.steps import load_paper
from tests.conftest import REPO, snakemake
from tests.system import pipeline
from tests.system.pipeline import git_repo_of_project, user_env

SCRIPT = REPO / "tests" / "slurm" / "start_cluster.sh"
SLURM_PAPERS = ("sgd_rlvr", "psibench")
SUBMITTED = re.compile(r"Job (\d+) has been submitted with SLURM jobid (\d+) \(log: (\S+)\)\.")


def missing_requirement() -> str | None:
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        return "snakemake-executor-plugin-slurm is not installed (pip install -e '.[slurm]')"
    if os.geteuid() != 0:
        return "installing and starting SLURM (tests/slurm/start_cluster.sh) needs root"
    if shutil.which("sbatch") is None and shutil.which("apt-get") is None:
        return "SLURM is not installed and there is no apt-get to install it"
    return None


def cluster_is_up() -> bool:
    if shutil.which("sinfo") is None:
        return False
    state = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True)
    return state.returncode == 0 and state.stdout.strip() in ("idle", "mixed")


@pytest.fixture(scope="module")
def slurm_cluster():
    reason = missing_requirement()
    if reason:
        pytest.skip(reason)
    already_up = cluster_is_up()
    started = subprocess.run([SCRIPT, "start"], capture_output=True, text=True, timeout=900)
    assert started.returncode == 0, started.stdout[-2000:] + started.stderr[-2000:]
    yield
    if not already_up:  # leave a cluster someone else started alone
        subprocess.run([SCRIPT, "stop"], capture_output=True, timeout=60)


def configure_for_test_cluster(workdir) -> None:
    """What a user edits for their cluster: the profile's partition and account, a GPU model.

    The test cluster has the partition 'debug', no accounts, and GPUs of type 'fake'; smoke
    evaluation jobs ask for one so that the GPU request goes through sbatch too.
    """
    profile = workdir / "profiles" / "slurm" / "config.yaml"
    text = profile.read_text().replace("slurm_partition: gpu", "slurm_partition: debug")
    profile.write_text(re.sub(r"\n\s*slurm_account: .*", "", text))
    config_file = workdir / "config" / "config.yaml"
    config = yaml.safe_load(config_file.read_text())
    config["resources"]["smoke"]["generate"].update(gpus=1, gpu_model="fake")
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))


def scontrol_job(job_id: str) -> str:
    shown = subprocess.run(
        ["scontrol", "-o", "show", "job", job_id], capture_output=True, text=True
    )
    assert shown.returncode == 0, shown.stderr
    return shown.stdout


@pytest.mark.slow
def test_smoke_suite_through_slurm_matches_a_local_run(slurm_cluster, smoke_run, tmp_path):
    local_dir, local_run = smoke_run
    # A git repository of the project, so that DVC can record the cluster run afterwards.
    workdir = git_repo_of_project(tmp_path / "repo", scale="smoke", papers=SLURM_PAPERS)
    configure_for_test_cluster(workdir)
    run = snakemake(
        workdir,
        "--profile",
        "slurm",  # the repository's link to profiles/slurm
        "--config",
        "scale=smoke",
        # Two papers keep CI short and still send every job kind through sbatch: data, training
        # and scoring (sgd_rlvr), a GPU simulation, and a second seed (psibench).
        f"papers=[{','.join(SLURM_PAPERS)}]",
        # No slurmdbd here, so no sacct; MinJobAge keeps finished jobs visible to squeue.
        "--slurm-status-command",
        "squeue",
        "--slurm-init-seconds-before-status-checks",
        "2",
        timeout=1800,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]

    # Every job of the local run but the local rules went through sbatch, each with its own
    # SLURM job id and a kept log; the scorecard ran here.
    submitted = SUBMITTED.findall(output)
    local_jobs = re.findall(r"^localrule (\w+):", local_run.stdout + local_run.stderr, re.M)
    # The workflow's local rules (all, scorecard, claims) ran here in the SLURM run too.
    ran_here = set(re.findall(r"^localrule (\w+):", output, re.M))
    assert {"all", "scorecard", "claims"} <= ran_here
    remote_jobs = [
        rule
        for rule in local_jobs
        if rule not in ran_here and rule.startswith(("prepare_model", *SLURM_PAPERS))
    ]
    assert len(submitted) == len(remote_jobs) > 10
    assert len({slurm_id for _, slurm_id, _ in submitted}) == len(submitted)
    assert "localrule scorecard:" in output
    assert not any("rule_scorecard" in log for _, _, log in submitted)
    gpu_rules = {
        f"{name}_{step.name}"
        for name in manifest()
        for step in load_paper(name).steps.values()
        if step.kind == "generate"
    }
    assert gpu_rules & set(remote_jobs)
    for _, slurm_id, log in submitted:
        assert (workdir / log).is_file(), log  # an absolute path stays absolute
        job = scontrol_job(slurm_id)
        assert "JobState=COMPLETED" in job, job
        gpus = re.search(r"TresPerJob=(\S+)", job)
        # The executor names the rule in the comment; the steps declared of the generate kind
        # are the GPU jobs here.
        rule = re.search(r"Comment=rule_(\w+?)(?:_wildcards_\S*)?\s", job).group(1)
        if rule in gpu_rules:
            assert gpus and "gpu:fake:1" in gpus.group(1), job
        else:
            assert not gpus or "gpu" not in gpus.group(1), job

    # The same outputs as the local run: data and predictions byte for byte, every metric but
    # the wall-clock ones.
    paper = "results/smoke/sgd_rlvr"
    files = ["data/train.jsonl", "data/test.jsonl"]
    files += [p.relative_to(local_dir / paper) for p in (local_dir / paper).glob("eval/*.jsonl")]
    assert len(files) > 2
    for name in files:
        assert (workdir / paper / name).read_bytes() == (local_dir / paper / name).read_bytes()
    metrics = json.loads((workdir / paper / "metrics.json").read_text())
    expected = json.loads((local_dir / paper / "metrics.json").read_text())
    assert metrics.keys() == expected.keys()
    for key, value in expected.items():
        if not key.endswith("_seconds"):
            assert metrics[key] == pytest.approx(value, rel=1e-6, abs=1e-9), key
    claims = json.loads((workdir / paper / "claims.json").read_text())
    local_claims = json.loads((local_dir / paper / "claims.json").read_text())
    assert [c["verdict"] for c in claims["claims"]] == [
        c["verdict"] for c in local_claims["claims"]
    ]

    # MLFLOW_TRACKING_URI reached the jobs: their runs are in the workflow's store, each tagged
    # with the SLURM job it ran in.
    client = mlflow.MlflowClient(f"sqlite:///{workdir / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("reprolab/sgd_rlvr")
    runs = client.search_runs([experiment.experiment_id])
    # The workflow's parent run is opened on the submitting host, outside any SLURM job.
    jobs = [r for r in runs if r.data.tags.get("rule") != "workflow"]
    slurm_ids = {slurm_id for _, slurm_id, _ in submitted}
    assert jobs and {r.data.tags.get("slurm_job_id") for r in jobs} <= slurm_ids

    # DVC with the cluster profile (README): the report, then `dvc commit` records the run as
    # the stages' results, and `dvc repro` finds nothing to do.
    env = user_env()
    pipeline.run(["snakemake", "--report", "results/smoke/report.html"], workdir, env)
    pipeline.run(["dvc", "commit", "--force"], workdir, env)
    assert "up to date" in pipeline.run(["dvc", "status"], workdir, env)
    repro = pipeline.run(["dvc", "repro"], workdir, env)
    assert "Running stage" not in repro
    for stage in [f"paper@{p}" for p in SLURM_PAPERS] + ["report"]:
        assert f"Stage '{stage}' didn't change, skipping" in repro

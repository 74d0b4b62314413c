# reprolab: each paper's steps as Snakemake rules. See README.md.
#   snakemake --cores all                      # tiny scale (the default)
#   snakemake --cores all --config scale=smoke # seconds per stage, for tests
#   snakemake --profile slurm --config scale=full            # a SLURM GPU cluster
import json
import os
from pathlib import Path

from reprolab.claims import validate_paper_card
from reprolab.config import load_paper_config, load_yaml, validate_suite_config
from reprolab.wiring import Wiring

# Read first by the project, so that a YAML syntax error names the file, line and column.
load_yaml("config/config.yaml")


configfile: "config/config.yaml"


# `snakemake --report report.html`: every paper's figures and claims, and the scorecard.
report: "docs/report/workflow.rst"


validate_suite_config(config, "config/config.yaml (with --config overrides)")

SCALE = config["scale"]
RESULTS = f"{config['results_dir']}/{SCALE}"
MODELS = config["models_dir"]
PAPER_CONFIG = {paper: load_paper_config(paper, config) for paper in config["papers"]}
# Paths, resources, job configs and command lines of every step, from the papers' declarations.
W = Wiring(config, PAPER_CONFIG)
# What each paper's metrics and plot steps read: filled by its rules file (rules/paper.smk).
PAPER_INPUTS = {}
# `--use-conda`: every job in the cluster environment (its last line installs this package).
CONDA_ENV = "../environment.yml"
# Every card readable (claims, tests, thresholds with their sources) before any job runs.
for _paper in config["papers"]:
    validate_paper_card(_paper, f"seeds/{_paper}.yaml")

# Below full scale every step switches the hub off for itself (reprolab.steps.resolve_config).
os.environ.setdefault("MLFLOW_TRACKING_URI", config["tracking"]["uri"])


# Passed on to every job, also where jobs do not inherit this process's environment (cluster
# executors); set it to the MLflow server (http://login01:5000) before starting a cluster run.
envvars:
    "MLFLOW_TRACKING_URI",


include: "rules/models.smk"


# Only the enabled papers' rules: a paper's rules read its config, absent when it is disabled.
for _paper in config["papers"]:

    include: f"rules/{_paper}.smk"


include: "rules/paper.smk"
include: "rules/report.smk"


rule all:
    input:
        f"{RESULTS}/scorecard.md",
        expand(f"{RESULTS}/{{paper}}/claims.json", paper=config["papers"]),


# One MLflow parent run per paper for this execution; each job's run nests under it.
onstart:
    from reprolab.workflow_runs import defer_job_tracking, start_parent_runs

    start_parent_runs(PAPER_CONFIG)
    defer_job_tracking(config["tracking"])


onsuccess:
    from pathlib import Path
    from reprolab.report import run_summary
    from reprolab.workflow_runs import finish_execution

    finish_execution(PAPER_CONFIG, Path(RESULTS))
    print(
        run_summary(
            Path(RESULTS), config["papers"], os.environ["MLFLOW_TRACKING_URI"]
        )
    )


onerror:
    from pathlib import Path
    from reprolab.workflow_runs import finish_execution

    finish_execution(PAPER_CONFIG, Path(RESULTS), status="FAILED")

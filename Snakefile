# reprolab: each paper's steps as Snakemake rules. See README.md.
#   snakemake --cores all                      # tiny scale (the default)
#   snakemake --cores all --config scale=smoke # seconds per stage, for tests
import os

from reprolab.config import load_paper_config, validate_suite_config


configfile: "config/config.yaml"


validate_suite_config(config, "config/config.yaml (with --config overrides)")

SCALE = config["scale"]
RESULTS = f"{config['results_dir']}/{SCALE}"
MODELS = config["models_dir"]
PAPER_CONFIG = {paper: load_paper_config(paper, config) for paper in config["papers"]}

if SCALE != "full":
    # smoke and tiny never touch the network; every job inherits this.
    os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("MLFLOW_TRACKING_URI", config["tracking"]["uri"])


include: "rules/common.smk"
include: "rules/models.smk"


# Only the enabled papers' rules: a paper's rules read its config, absent when it is disabled.
for _paper in config["papers"]:

    include: f"rules/{_paper}.smk"


include: "rules/report.smk"


rule all:
    input:
        f"{RESULTS}/scorecard.md",
        expand(f"{RESULTS}/{{paper}}/claims.json", paper=config["papers"]),


onsuccess:
    from pathlib import Path
    from reprolab.report import run_summary

    print(
        run_summary(
            Path(RESULTS), config["papers"], os.environ["MLFLOW_TRACKING_URI"]
        )
    )

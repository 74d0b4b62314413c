# Helpers shared by every paper's rules.
import json
from pathlib import Path


def step_config(paper, **sections):
    """The JSON a step receives: the suite keys plus only the sections it reads.

    Passing just those sections as params makes Snakemake rerun a step when, and only when, a
    setting it uses changes. Returned as a function so that the JSON's braces are not taken for
    wildcards.
    """
    cfg = PAPER_CONFIG[paper]
    text = json.dumps(
        {"suite": cfg["suite"], "model": cfg.get("model"), **sections}, sort_keys=True
    )
    return lambda wildcards: text


def job(kind):
    """Threads and resources of a kind of job (light, generate, train) at this scale."""
    return config["resources"][SCALE][kind]


def job_resources(kind):
    """A rule's resources in the names the SLURM executor reads.

    GPU keys appear only on jobs that get GPUs: the executor turns `gpu` into `--gpus=N`, or
    with `gpu_model` into `--gpus=<model>:N` (and would ask for one GPU if given a model alone).
    """
    spec = job(kind)
    resources = {"mem_mb": spec["mem_mb"], "runtime": spec["runtime"]}
    if spec["gpus"] > 0:
        resources["gpu"] = spec["gpus"]
        if spec.get("gpu_model"):
            resources["gpu_model"] = spec["gpu_model"]
    if spec.get("partition"):
        resources["slurm_partition"] = spec["partition"]
    return resources


def model_dir(name):
    return f"{MODELS}/{name}"


def log_path(paper, name):
    return f"{RESULTS}/logs/{paper}/{name}.log"


def benchmark_path(paper, name):
    """Snakemake records each job's time and memory here; benchmarks/ scripts read them."""
    return f"{RESULTS}/benchmarks/{paper}/{name}.tsv"


def paper_figure(paper, path):
    """A figure flagged for `snakemake --report`, under its paper, captioned by its own .rst.

    Captions live in docs/report/<paper>/<figure>.rst (paths relative to this rules folder).
    """
    name = Path(path).stem
    return report(
        path,
        caption=f"../docs/report/{paper}/{name}.rst",
        category=paper,
        subcategory="figures",
        labels={"paper": paper, "figure": name},
    )


def paper_claims(paper, path):
    """claims.json of a paper, in its category of the report."""
    return report(
        path,
        caption="../docs/report/claims.rst",
        category=paper,
        subcategory="claims",
        labels={"paper": paper, "figure": "claims"},
    )

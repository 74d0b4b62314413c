# Helpers shared by every paper's rules.
import hashlib
import json
from pathlib import Path


def step_config(paper, **sections):
    """The config a step receives: the suite keys plus only the sections it reads, as a small
    JSON file named by its content hash (`@<path>` on the job's command line).

    The path is the rule's param, so Snakemake reruns a step when, and only when, a setting it
    reads changes (a changed setting is a new hash, a new path); the job line stays short.
    """
    cfg = PAPER_CONFIG[paper]
    text = json.dumps(
        {"suite": cfg["suite"], "model": cfg.get("model"), **sections}, sort_keys=True
    )
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    path = Path(RESULTS) / "configs" / paper / f"{digest}.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text + "\n")
        tmp.replace(path)
    return lambda wildcards: f"@{path}"


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

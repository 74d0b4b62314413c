"""What the Snakemake rules need from a step's declaration, so that rules only wire the DAG.

The Snakefile makes one `Wiring` and every rule reads it:

    rule sgd_rlvr_train:
        input: data=..., model=...
        output: out=directory(...)
        log: W.log("sgd_rlvr", "train_{arm}")
        benchmark: W.benchmark("sgd_rlvr", "train_{arm}")
        threads: W.threads("sgd_rlvr", "train")
        resources: **W.resources("sgd_rlvr", "train")
        params: cfg=W.cfg("sgd_rlvr", "train"), checkpoints=...
        shell: W.shell("sgd_rlvr", "train")

The command line comes from the declaration (reprolab.steps.command); the job's config is a small
JSON file named by the hash of the sections the step reads, so Snakemake reruns a step when, and
only when, a setting it reads changes, and the job line a user sees stays short.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reprolab.distributed import launch_prefix
from reprolab.steps import Paper, Step, command, flag_of, job_config, load_paper


class Wiring:
    """Paths, resources and commands of every enabled paper's steps at one scale."""

    def __init__(self, config: dict, paper_configs: dict[str, dict]):
        self.config = config
        self.scale = config["scale"]
        self.results = f"{config['results_dir']}/{self.scale}"
        self.models = config["models_dir"]
        self.paper_configs = paper_configs
        self.papers: dict[str, Paper] = {name: load_paper(name) for name in paper_configs}

    # --- paths -------------------------------------------------------------------------
    def out(self, paper: str) -> str:
        """results/<scale>/<paper>{seed}: everything one seed of a paper makes.

        `{seed}` is a wildcard: empty for the paper's first seed, `/seeds/<seed>` for each further
        one (config key `seeds`), so that every step runs once per seed.
        """
        return f"{self.results}/{paper}{{seed}}"

    def paper_dir(self, paper: str) -> str:
        """results/<scale>/<paper>: the first seed's run, its claims and figures."""
        return f"{self.results}/{paper}"

    def seeds(self, paper: str) -> list[int]:
        return self.paper_configs[paper]["seeds"]

    def seed_dirs(self, paper: str) -> list[str]:
        """The `{seed}` wildcard's value for each of the paper's seeds, the first one's empty."""
        return ["", *(f"/seeds/{seed}" for seed in self.seeds(paper)[1:])]

    def every_seed(self, pattern: str, paper: str) -> list[str]:
        """A path pattern with `{seed}`, once per seed of the paper (other wildcards kept)."""
        return [pattern.replace("{seed}", seed_dir) for seed_dir in self.seed_dirs(paper)]

    @staticmethod
    def first_seed(pattern: str) -> str:
        return pattern.replace("{seed}", "")

    def model(self, name: str) -> str:
        """A registry model's prepared folder (rule prepare_model)."""
        return f"{self.models}/{name}"

    def log(self, paper: str, name: str) -> str:
        return f"{self.results}/logs/{paper}{{seed}}/{name}.log"

    def benchmark(self, paper: str, name: str) -> str:
        """Snakemake records each job's time and memory here; benchmarks/ scripts read them."""
        return f"{self.results}/benchmarks/{paper}{{seed}}/{name}.tsv"

    def figures(self, paper: str) -> list[str]:
        """The declared figures' PNG files of a paper (each with a CSV beside it)."""
        return [f"{self.out(paper)}/figures/{n}.png" for n in self.papers[paper].figures]

    def figure_data(self, paper: str) -> list[str]:
        return [f"{self.out(paper)}/figures/{n}.csv" for n in self.papers[paper].figures]

    # --- jobs --------------------------------------------------------------------------
    def step(self, paper: str, name: str) -> Step:
        return self.papers[paper].step(name)

    def job(self, kind: str) -> dict:
        """Threads and resources of a kind of job (light, generate, train) at this scale."""
        return self.config["resources"][self.scale][kind]

    def threads(self, paper: str, name: str) -> int:
        return self.job(self.step(paper, name).kind)["threads"]

    def resources(self, paper: str, name: str) -> dict[str, Any]:
        return self.kind_resources(self.step(paper, name).kind)

    def kind_resources(self, kind: str) -> dict[str, Any]:
        """A job's resources in the names the SLURM executor reads.

        GPU keys appear only on jobs that get GPUs: the executor turns `gpu` into `--gpus=N`,
        or with `gpu_model` into `--gpus=<model>:N` (and would ask for one GPU if given a model
        alone).
        """
        spec = self.job(kind)
        resources = {"mem_mb": spec["mem_mb"], "runtime": spec["runtime"]}
        if spec["gpus"] > 0:
            resources["gpu"] = spec["gpus"]
            if spec.get("gpu_model"):
                resources["gpu_model"] = spec["gpu_model"]
        if spec.get("partition"):
            resources["slurm_partition"] = spec["partition"]
        return resources

    def shell(self, paper: str, name: str) -> str:
        """The job's command line; a job of several processes (a train job on several GPUs)
        starts through `accelerate launch` (reprolab.distributed)."""
        step = self.step(paper, name)
        line = command(paper, step)
        prefix = launch_prefix(self.job(step.kind), step.kind)
        return f"{prefix}{line.removeprefix('reprolab')}" if prefix else line

    def flags(self, paper: str, name: str, **params: Callable[[Any], str]) -> Callable:
        """The step's flags as a rule param, for a rule made in a loop over papers
        (rules/paper.smk): Snakemake evaluates a `shell:` expression again when the job runs,
        when the loop variable names the last paper, but params when the rule is defined.
        `params` gives each declared param from the job's outputs."""
        step = self.step(paper, name)

        def build(wildcards, input, output) -> str:
            values = {n: wildcards[n] for n in step.wildcards}
            values |= {n: getattr(input, n) for n in step.inputs}
            values |= {n: getattr(output, n) for n in step.outputs}
            values |= {n: params[n](output) for n in step.params}
            parts = []
            for flag, value in values.items():
                paths = [value] if isinstance(value, str) else list(value)
                parts.append(" ".join([flag_of(flag), *map(shlex.quote, map(str, paths))]))
            return " ".join(parts)

        return build

    def cfg(self, paper: str, name: str) -> Callable[[Any], str]:
        """`@<path>` of the JSON file holding the suite keys and the sections the step reads
        (narrowed to the job's wildcards where the step says so); a rule's `cfg` param."""
        step = self.step(paper, name)
        cfg = self.paper_configs[paper]

        def path(wildcards) -> str:
            picked = {w: str(wildcards[w]) for w in step.wildcards}
            seed_dir = wildcards.get("seed", "")
            seed = int(seed_dir.rsplit("/", 1)[1]) if seed_dir else None
            return f"@{self._write_config(paper, job_config(cfg, step, picked, seed))}"

        return path

    def _write_config(self, paper: str, job: dict) -> Path:
        text = json.dumps(job, sort_keys=True)
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        path = Path(self.results) / "configs" / paper / f"{digest}.json"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(text + "\n")
            tmp.replace(path)
        return path

"""How long one paper takes at a scale, from scratch, against its time budget.

    python benchmarks/paper_budget.py sgd_rlvr --scale tiny            # budget from config.yaml
    python benchmarks/paper_budget.py sgd_rlvr --scale tiny --budget-minutes 15

Runs the paper's Snakemake target into a fresh results folder (the prepared model in models/ is
reused, as a user's second paper would) and prints wall time and each job's time and peak memory
from Snakemake's benchmark files. The tiny budgets live in config/config.yaml
(`tiny_budget_minutes`, from each paper's issue); benchmarks/suite_budget.py runs every paper.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

CONFIG = Path(__file__).resolve().parents[1] / "config" / "config.yaml"


@dataclass
class Job:
    name: str
    wall_s: float
    cpu_s: float
    max_rss_mb: str


@dataclass
class PaperTime:
    paper: str
    wall_min: float
    jobs: list[Job]

    @property
    def cpu_min(self) -> float:
        # CPU seconds tell what a job costs even when other work shares the machine.
        return sum(job.cpu_s for job in self.jobs) / 60


def budget_minutes(paper: str, scale: str) -> float | None:
    """The paper's wall-time budget at this scale from config.yaml (tiny only), or None."""
    if scale != "tiny":
        return None
    budgets = yaml.safe_load(CONFIG.read_text()).get("tiny_budget_minutes", {})
    return budgets.get(paper)


def run_paper(paper: str, scale: str, results: str, cores: str = "all") -> PaperTime:
    """Run the paper's claims target from scratch into `results` and time it."""
    if Path(results).resolve() == CONFIG.parents[1] / "results":
        raise SystemExit("refusing to time into results/: it holds the committed results")
    shutil.rmtree(Path(results) / scale / paper, ignore_errors=True)
    shutil.rmtree(Path(results) / scale / "benchmarks" / paper, ignore_errors=True)
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "--cores",
        cores,
        f"{results}/{scale}/{paper}/claims.json",
        "--config",
        f"scale={scale}",
        f"results_dir={results}",
        f"papers=[{paper}]",
    ]
    print("running:", " ".join(command), flush=True)
    started = time.monotonic()
    subprocess.run(command, check=True)
    wall = (time.monotonic() - started) / 60
    jobs = []
    for tsv in sorted((Path(results) / scale / "benchmarks" / paper).glob("*.tsv")):
        with tsv.open() as f:
            row = next(csv.DictReader(f, delimiter="\t"))
        jobs.append(Job(tsv.stem, float(row["s"]), float(row["cpu_time"]), row["max_rss"]))
    return PaperTime(paper, wall, jobs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paper")
    parser.add_argument("--scale", default="tiny")
    parser.add_argument("--budget-minutes", type=float, help="default: config.yaml's, at tiny")
    parser.add_argument("--results", default="results-benchmark")
    parser.add_argument("--cores", default="all")
    args = parser.parse_args()
    budget = args.budget_minutes or budget_minutes(args.paper, args.scale)
    if budget is None:
        parser.error(f"no budget for {args.paper} at {args.scale}: give --budget-minutes")

    timing = run_paper(args.paper, args.scale, args.results, args.cores)
    print(f"\n{'job':<32}{'wall s':>10}{'CPU s':>10}{'max RSS MB':>12}")
    for job in timing.jobs:
        print(f"{job.name:<32}{job.wall_s:>10.1f}{job.cpu_s:>10.1f}{job.max_rss_mb:>12}")
    print(f"CPU time of the paper's jobs: {timing.cpu_min:.1f} min")
    verdict = "within" if timing.wall_min <= budget else "OVER"
    print(
        f"\n{args.paper} at {args.scale}: {timing.wall_min:.1f} min wall, "
        f"{verdict} the {budget:g}-min budget"
    )
    return 0 if timing.wall_min <= budget else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""How long one paper takes at a scale, from scratch, against its time budget.

    python benchmarks/paper_budget.py sgd_rlvr --scale tiny --budget-minutes 15

Runs the paper's Snakemake target into a fresh results folder (the prepared model in models/ is
reused, as a user's second paper would) and prints wall time and each job's time and peak memory
from Snakemake's benchmark files.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paper")
    parser.add_argument("--scale", default="tiny")
    parser.add_argument("--budget-minutes", type=float, required=True)
    parser.add_argument("--results", default="results-benchmark")
    parser.add_argument("--cores", default="all")
    args = parser.parse_args()

    shutil.rmtree(args.results, ignore_errors=True)
    target = f"{args.results}/{args.scale}/{args.paper}/claims.json"
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "--cores",
        args.cores,
        target,
        "--config",
        f"scale={args.scale}",
        f"results_dir={args.results}",
        f"papers=[{args.paper}]",
    ]
    print("running:", " ".join(command), flush=True)
    started = time.monotonic()
    subprocess.run(command, check=True)
    minutes = (time.monotonic() - started) / 60

    # CPU seconds tell what a job costs even when other work shares the machine.
    print(f"\n{'job':<32}{'wall s':>10}{'CPU s':>10}{'max RSS MB':>12}")
    folder = Path(args.results) / args.scale / "benchmarks" / args.paper
    cpu_total = 0.0
    for tsv in sorted(folder.glob("*.tsv")):
        with tsv.open() as f:
            row = next(csv.DictReader(f, delimiter="\t"))
        cpu = float(row["cpu_time"])
        cpu_total += cpu
        print(f"{tsv.stem:<32}{float(row['s']):>10.1f}{cpu:>10.1f}{row['max_rss']:>12}")
    print(f"CPU time of the paper's jobs: {cpu_total / 60:.1f} min")
    verdict = "within" if minutes <= args.budget_minutes else "OVER"
    budget = f"{args.budget_minutes:g}-min budget"
    print(f"\n{args.paper} at {args.scale}: {minutes:.1f} min wall, {verdict} the {budget}")
    return 0 if minutes <= args.budget_minutes else 1


if __name__ == "__main__":
    raise SystemExit(main())

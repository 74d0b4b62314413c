"""The whole suite at one scale: each paper's wall and CPU time, against its budget.

    python benchmarks/suite_budget.py                       # every paper at tiny (about an hour)
    python benchmarks/suite_budget.py --scale smoke         # the smoke workflows (minutes)
    python benchmarks/suite_budget.py --papers gar rein

Papers run one after another from scratch (benchmarks/paper_budget.py's run_paper), each
using every core, as `make run` would one paper at a time. Prints a row per paper (wall
minutes, CPU minutes of its jobs, its budget from config.yaml at tiny), the totals, and the
average per paper against issue 29's goal (9 minutes a paper on 2 idle cores at tiny). Figures
measured on a loaded machine are labelled so by the load average printed with them.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from paper_budget import CONFIG, budget_minutes, run_paper  # noqa: E402

AVERAGE_GOAL_MINUTES = 9.0  # issue 29: the tiny suite at <= 9 minutes a paper on average


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", default="tiny")
    parser.add_argument("--papers", nargs="+", help="default: config.yaml's papers")
    parser.add_argument("--results", default="results-suite-benchmark")
    parser.add_argument("--cores", default="all")
    args = parser.parse_args()
    papers = args.papers or yaml.safe_load(CONFIG.read_text())["papers"]

    rows = []
    for paper in papers:
        load_before = os.getloadavg()[0]
        timing = run_paper(paper, args.scale, args.results, args.cores)
        rows.append((timing, budget_minutes(paper, args.scale), load_before, os.getloadavg()[0]))

    print(f"\n{'paper':<18}{'wall min':>10}{'CPU min':>10}{'budget':>8}{'':>7}{'load':>12}")
    for timing, budget, before, after in rows:
        verdict = "" if budget is None else ("ok" if timing.wall_min <= budget else "OVER")
        shown = "-" if budget is None else f"{budget:g}"
        print(
            f"{timing.paper:<18}{timing.wall_min:>10.1f}{timing.cpu_min:>10.1f}{shown:>8}"
            f"{verdict:>7}{before:>6.1f}-{after:<5.1f}"
        )
    wall = sum(t.wall_min for t, *_ in rows)
    cpu = sum(t.cpu_min for t, *_ in rows)
    average = wall / len(rows)
    print(f"{'total':<18}{wall:>10.1f}{cpu:>10.1f}")
    print(f"average wall per paper: {average:.1f} min", end="")
    if args.scale == "tiny":
        verdict = "within" if average <= AVERAGE_GOAL_MINUTES else "OVER"
        print(f" ({verdict} the {AVERAGE_GOAL_MINUTES:g}-minute goal)")
        return 0 if average <= AVERAGE_GOAL_MINUTES else 1
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

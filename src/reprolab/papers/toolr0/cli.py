"""Steps of toolr0: data, train-generator, generate, train-solver, evaluate, metrics, plot."""

from __future__ import annotations

import argparse
import logging
from functools import partial
from pathlib import Path

from reprolab.cli import add_step, publish_metrics, resolve_config

PAPER = "toolr0"
log = logging.getLogger(__name__)


def _run_name(path: str) -> str:
    """eval/base.json -> base; eval/toolr0/iter2.json -> toolr0.iter2 (also for stats files and
    eval/<...>.predictions.jsonl)."""
    p = Path(path)
    stem = p.stem.removeprefix("stats_").removesuffix(".predictions")
    return stem if p.parent.name in ("eval", "data") else f"{p.parent.name}.{stem}"


def data(args) -> None:
    from reprolab.io import write_json, write_jsonl
    from reprolab.papers.toolr0.data import split_tools, test_items
    from reprolab.papers.toolr0.evaluate import add_gold_results
    from reprolab.papers.toolr0.tools import TOOLS

    cfg = resolve_config(args, PAPER)
    items = add_gold_results(test_items(cfg, cfg["suite"]["seed"]), cfg["sandbox"])
    write_jsonl(Path(args.test), items)
    train, test = split_tools(cfg["tools"])
    write_json(
        Path(args.tools),
        {
            "train": {n: TOOLS[n].schema() for n in train},
            "test": {n: TOOLS[n].schema() for n in test},
            "domains": {n: TOOLS[n].domain for n in TOOLS},
        },
    )
    log.info("wrote %d held-out items over %d unseen tools", len(items), len(test))


def train_generator(args) -> None:
    from reprolab.papers.toolr0.train import train_generator as run
    from reprolab.tracking import tracked_run

    cfg = resolve_config(args, PAPER)
    rule = f"train_generator:{args.variant}:{args.iteration}"
    params = {"variant": args.variant, "iteration": args.iteration, "generator": cfg["generator"]}
    with tracked_run(cfg, rule, params) as tracker:
        summary = run(cfg, args.variant, args.iteration, Path(args.model), Path(args.solver),
                      Path(args.out), Path(args.checkpoints), tracker)  # fmt: skip
        tracker.log_metrics({"train_seconds": summary["train_seconds"]})


def generate(args) -> None:
    from reprolab.io import write_json, write_jsonl
    from reprolab.papers.toolr0.tasks import build_tasks
    from reprolab.tracking import tracked_run

    cfg = resolve_config(args, PAPER)
    rule = f"generate:{args.variant}:{args.iteration}"
    with tracked_run(cfg, rule, {"variant": args.variant, "generate": cfg["generate"]}) as tracker:
        tasks, stats = build_tasks(cfg, args.iteration, args.generator, args.solver)
        write_jsonl(Path(args.out), tasks)
        write_json(Path(args.stats), stats)
        tracker.log_metrics({k: float(v) for k, v in stats.items() if isinstance(v, int | float)})


def train_solver(args) -> None:
    from reprolab.io import read_jsonl
    from reprolab.papers.toolr0.train import train_solver as run
    from reprolab.tracking import tracked_run

    cfg = resolve_config(args, PAPER)
    tasks = read_jsonl(Path(args.tasks))
    rule = f"train_solver:{args.variant}:{args.iteration}"
    params = {"variant": args.variant, "iteration": args.iteration, "solver": cfg["solver"]}
    with tracked_run(cfg, rule, params) as tracker:
        summary = run(cfg, tasks, Path(args.model), Path(args.out), Path(args.checkpoints),
                      args.iteration, tracker)  # fmt: skip
        tracker.log_metrics({"train_seconds": summary["train_seconds"], "n_tasks": len(tasks)})


def evaluate(args) -> None:
    from reprolab.io import read_jsonl, write_json, write_jsonl
    from reprolab.papers.toolr0.evaluate import evaluate_model
    from reprolab.tracking import tracked_run

    cfg = resolve_config(args, PAPER)
    items = read_jsonl(Path(args.data))
    with tracked_run(cfg, f"evaluate:{args.arm}", {"arm": args.arm}) as tracker:
        summary, predictions = evaluate_model(Path(args.model), items, cfg)
        write_jsonl(Path(args.predictions), predictions)
        write_json(Path(args.out), summary)
        tracker.log_metrics(summary)
        log.info("%s: AST %.3f, execution %.3f", args.arm, summary["ast_accuracy"],
                 summary["exec_accuracy"])  # fmt: skip


def metrics(args) -> None:
    from reprolab.io import read_json, read_jsonl
    from reprolab.papers.toolr0.evaluate import combine, item_units

    cfg = resolve_config(args, PAPER)
    iterations = cfg["selfplay"]["iterations"]
    evals = {_run_name(p): read_json(Path(p)) for p in args.evals}
    stats = {_run_name(p): read_json(Path(p)) for p in args.stats}
    predictions = {_run_name(p): read_jsonl(Path(p)) for p in args.predictions}
    result = combine(evals, stats, iterations)
    publish_metrics(cfg, result, Path(args.out), units=item_units(predictions, evals, iterations))


def plot(args) -> None:
    from reprolab.io import read_json
    from reprolab.papers.toolr0 import plot as figures
    from reprolab.tracking import log_figures

    cfg = resolve_config(args, PAPER)
    stats = {_run_name(p): read_json(Path(p)) for p in args.stats}
    out = Path(args.out_dir)
    made = [
        figures.curriculum(stats, out / "curriculum.png"),
        figures.accuracy_per_iteration(
            read_json(Path(args.metrics)),
            cfg["selfplay"]["variants"],
            cfg["selfplay"]["iterations"],
            out / "accuracy_per_iteration.png",
        ),
    ]
    log_figures(cfg, made)


def add_steps(steps: argparse._SubParsersAction) -> None:
    step = partial(add_step, steps)  # step(name, func, help) -> its argument parser

    p = step("data", data, "the held-out test set (gold results run in the sandbox)")
    p.add_argument("--test", required=True)
    p.add_argument("--tools", required=True, help="the tool split, as JSON")

    for name, func, text in (
        ("train-generator", train_generator, "one iteration of generator GRPO"),
        ("train-solver", train_solver, "one iteration of solver GRPO on generated tasks"),
    ):
        p = step(name, func, text)
        p.add_argument("--variant", required=True)
        p.add_argument("--iteration", required=True, type=int)
        p.add_argument("--model", required=True, help="the model this step starts from")
        p.add_argument("--out", required=True)
        p.add_argument("--checkpoints", required=True, help="kept across failures for resume")
        if name == "train-generator":
            p.add_argument("--solver", required=True, help="the solver that gives p and s")
        else:
            p.add_argument("--tasks", required=True)

    p = step("generate", generate, "sample and filter one iteration's tasks")
    p.add_argument("--variant", required=True)
    p.add_argument("--iteration", required=True, type=int)
    p.add_argument("--generator", required=True)
    p.add_argument("--solver", required=True, help="the previous solver (verification)")
    p.add_argument("--out", required=True)
    p.add_argument("--stats", required=True)

    p = step("evaluate", evaluate, "AST and execution accuracy on the held-out set")
    p.add_argument("--arm", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--predictions", required=True)

    p = step("metrics", metrics, "join evaluations and curriculum stats into metrics.json")
    p.add_argument("--evals", nargs="+", required=True)
    p.add_argument("--stats", nargs="+", required=True)
    p.add_argument(
        "--predictions", nargs="+", required=True, help="per-item predictions of the --evals"
    )
    p.add_argument("--out", required=True)

    p = step("plot", plot, "draw the figures")
    p.add_argument("--metrics", required=True)
    p.add_argument("--stats", nargs="+", required=True)
    p.add_argument("--out-dir", required=True)

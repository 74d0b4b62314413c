"""Steps of sgd_rlvr: data, train, evaluate, metrics, plot (claims are the core's)."""

from __future__ import annotations

import argparse
import logging
from functools import partial
from pathlib import Path

from reprolab.cli import add_step, publish_metrics, resolve_config

PAPER = "sgd_rlvr"
log = logging.getLogger(__name__)


def data(args) -> None:
    from reprolab.io import write_jsonl
    from reprolab.papers.sgd_rlvr.data import load

    cfg = resolve_config(args, PAPER)
    train, test = load(cfg["data"], cfg["suite"]["seed"])
    write_jsonl(Path(args.train), train)
    write_jsonl(Path(args.test), test)
    log.info("wrote %d train and %d test problems", len(train), len(test))


def train(args) -> None:
    from reprolab.io import read_jsonl
    from reprolab.papers.sgd_rlvr.train import train_arm
    from reprolab.tracking import tracked_run

    cfg = resolve_config(args, PAPER)
    kind, arm = args.arm.split("_", 1)
    rows = read_jsonl(Path(args.data))
    params = {
        "arm": args.arm,
        "optimizer": cfg[kind]["arms"].get(arm, {}),
        "trainer": cfg[kind]["trainer"],
    }
    with tracked_run(cfg, f"train:{args.arm}", params) as tracker:
        summary = train_arm(
            cfg, kind, arm, rows, Path(args.model), Path(args.out), Path(args.checkpoints), tracker
        )
        tracker.log_params({"optimizer_used": summary["optimizer"]})
        tracker.log_metrics(
            {
                "optimizer_state_bytes": summary["optimizer_state_bytes"],
                "train_seconds": summary["train_seconds"],
            }
        )


def evaluate(args) -> None:
    from reprolab.io import read_json, read_jsonl, write_json, write_jsonl
    from reprolab.papers.sgd_rlvr import evaluate as ev
    from reprolab.tracking import tracked_run

    cfg = resolve_config(args, PAPER)
    settings = cfg["evaluate"]
    rows = read_jsonl(Path(args.data))
    with tracked_run(
        cfg, f"evaluate:{args.arm}", {"arm": args.arm, "evaluate": settings}
    ) as tracker:
        result = ev.accuracy(Path(args.model), rows, settings, cfg["suite"]["seed"])
        write_jsonl(Path(args.predictions), result.pop("predictions"))
        if args.arm != "base":
            result.update(ev.weight_update(Path(args.base), Path(args.model), settings))
            summary = read_json(Path(args.model) / "train_summary.json")
            result["optimizer_state_bytes"] = summary["optimizer_state_bytes"]
            result["optimizer_state_per_parameter_byte"] = (
                summary["optimizer_state_bytes"] / summary["parameter_bytes"]
            )
            result["train_steps"] = summary["steps"]
            result["train_seconds"] = summary["train_seconds"]
        tracker.log_metrics({k: v for k, v in result.items() if not isinstance(v, dict)})
        write_json(Path(args.out), result)
        log.info("%s: accuracy %.3f", args.arm, result["accuracy"])


def metrics(args) -> None:
    from reprolab.io import read_json, read_jsonl
    from reprolab.papers.sgd_rlvr.evaluate import evidence, summarize

    cfg = resolve_config(args, PAPER)
    evals = {Path(p).stem: read_json(Path(p)) for p in args.evals}
    predictions = {
        Path(p).name.removesuffix(".predictions.jsonl"): read_jsonl(Path(p))
        for p in args.predictions
    }
    result = summarize(evals)
    units = evidence(evals, predictions, cfg["suite"]["seed"])
    publish_metrics(cfg, result, Path(args.out), units=units)


def plot(args) -> None:
    from reprolab.io import read_json, read_jsonl
    from reprolab.papers.sgd_rlvr import plot as figures
    from reprolab.tracking import log_figures

    cfg = resolve_config(args, PAPER)
    evals = {Path(p).stem: read_json(Path(p)) for p in args.evals}
    logs = {Path(p).parent.name: read_jsonl(Path(p)) for p in args.logs}
    out = Path(args.out_dir)
    made = [
        figures.training_curves(logs, out / "training_curves.png"),
        figures.final_accuracy(evals, out / "final_accuracy.png"),
        figures.updated_fraction(evals, out / "updated_fraction.png"),
        figures.per_layer_sparsity(evals, out / "per_layer_sparsity.png"),
    ]
    log_figures(cfg, made)


def add_steps(steps: argparse._SubParsersAction) -> None:
    step = partial(add_step, steps)  # step(name, func, help) -> its argument parser

    p = step("data", data, "generate the train/test problems")
    p.add_argument("--train", required=True)
    p.add_argument("--test", required=True)

    p = step("train", train, "train one arm (grpo_<optimizer> or sft_<optimizer>)")
    p.add_argument("--arm", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--model", required=True, help="prepared base model folder")
    p.add_argument("--out", required=True)
    p.add_argument("--checkpoints", required=True, help="kept across failures for resume")

    p = step("evaluate", evaluate, "accuracy, update sparsity and rank of one arm")
    p.add_argument("--arm", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--base", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--predictions", required=True)

    p = step("metrics", metrics, "join the evaluations into metrics.json and units.json")
    p.add_argument("--evals", nargs="+", required=True)
    p.add_argument("--predictions", nargs="+", required=True, help="<arm>.predictions.jsonl")
    p.add_argument("--out", required=True)

    p = step("plot", plot, "draw the figures")
    p.add_argument("--evals", nargs="+", required=True)
    p.add_argument("--logs", nargs="+", required=True)
    p.add_argument("--out-dir", required=True)

"""Steps of gar: data, generate (one task), metrics, plot (claims are the core's)."""

from __future__ import annotations

import argparse
import logging
from functools import partial
from pathlib import Path

from reprolab.cli import add_step, publish_metrics, resolve_config

PAPER = "gar"
log = logging.getLogger(__name__)


def data(args) -> None:
    from reprolab.io import write_jsonl
    from reprolab.papers.gar.data import make_episodes

    cfg = resolve_config(args, PAPER)
    for task, spec in cfg["data"]["tasks"].items():
        episodes = make_episodes({"name": task, **spec}, cfg["suite"]["seed"])
        write_jsonl(Path(args.out_dir) / f"{task}.jsonl", episodes)
        log.info("%s: wrote %d episodes", task, len(episodes))


def generate(args) -> None:
    import time

    import numpy as np
    import torch

    from reprolab.io import read_jsonl, write_jsonl
    from reprolab.models import load_model
    from reprolab.papers.gar.run import generate as run_task
    from reprolab.tracking import tracked_run

    cfg = resolve_config(args, PAPER)
    settings = cfg["generate"]
    if settings["backend"] != "transformers":
        raise ValueError(
            f"generate.backend '{settings['backend']}': only 'transformers' returns attention "
            "weights (eager attention); vLLM cannot"
        )
    if args.condition not in settings["tasks"].get(args.task, []):
        raise ValueError(
            f"generate.tasks.{args.task}: condition '{args.condition}' is not run for this "
            f"task; expected one of {settings['tasks'].get(args.task, [])}"
        )
    episodes = read_jsonl(Path(args.data))
    params = {"task": args.task, "condition": args.condition}
    with tracked_run(cfg, f"generate:{args.task}:{args.condition}", params) as tracker:
        torch.set_num_threads(max(1, args.threads))
        model, tokenizer = load_model(
            args.model, dtype=getattr(torch, settings["dtype"]), attn="eager"
        )
        # A GPU where there is one (full scale); the loop keeps its bookkeeping on the same device.
        model.to("cuda" if torch.cuda.is_available() else "cpu").eval()
        started = time.monotonic()
        rows, hidden = run_task(
            model, tokenizer, episodes, settings, args.task, [args.condition], cfg["suite"]["seed"]
        )
        seconds = time.monotonic() - started
        write_jsonl(Path(args.out), rows)
        np.savez_compressed(Path(args.hidden), **hidden)
        tracker.log_metrics({"generate_seconds": seconds, "traces": len(rows)})
        log.info("%s/%s: %d traces in %.0f s", args.task, args.condition, len(rows), seconds)


def metrics(args) -> None:
    import numpy as np

    from reprolab.io import read_jsonl, write_json
    from reprolab.papers.gar.evaluate import evaluate

    cfg = resolve_config(args, PAPER)
    rows_by_task: dict[str, list[dict]] = {}
    for path in args.traces:
        for row in read_jsonl(Path(path)):
            rows_by_task.setdefault(row["task"], []).append(row)
    hidden: dict = {}
    for path in args.hidden:
        with np.load(path) as stored:
            hidden.update({k: stored[k] for k in stored.files})
    flat, summary, units = evaluate(rows_by_task, hidden, cfg["evaluate"], cfg["suite"]["seed"])
    write_json(Path(args.summary), summary)
    publish_metrics(cfg, flat, Path(args.out), units=units)


def plot(args) -> None:
    from reprolab.io import read_json
    from reprolab.papers.gar import plot as figures
    from reprolab.tracking import log_figures

    cfg = resolve_config(args, PAPER)
    settings = cfg["evaluate"]
    summary = read_json(Path(args.summary))
    out = Path(args.out_dir)
    made = [
        figures.gar_vs_turn(summary, out / "gar_vs_turn.png"),
        figures.recall_vs_turn(
            summary,
            settings["sweep_task"],
            settings["sweep"],
            settings["reference"],
            out / "recall_vs_turn.png",
        ),
        figures.crossover_vs_window(summary, out / "crossover_vs_window.png"),
        figures.probe_auc(summary, out / "probe_auc.png"),
        figures.persona_violations(summary, out / "persona_violations.png"),
    ]
    log_figures(cfg, made)


def add_steps(steps: argparse._SubParsersAction) -> None:
    step = partial(add_step, steps)  # step(name, func, help) -> its argument parser

    p = step("data", data, "generate the seeded episodes of every task, <task>.jsonl each")
    p.add_argument("--out-dir", required=True)

    p = step("generate", generate, "decode one condition of one task, recording attention")
    p.add_argument("--task", required=True)
    p.add_argument("--condition", required=True, help="a condition listed for the task")
    p.add_argument("--model", required=True, help="prepared model folder")
    p.add_argument("--data", required=True, help="the task's episodes.jsonl")
    p.add_argument("--out", required=True, help="traces (JSONL)")
    p.add_argument("--hidden", required=True, help="residual states kept for the probes (.npz)")
    p.add_argument("--threads", type=int, default=2)

    p = step("metrics", metrics, "GAR trend, recall, crossover, probes, persona -> metrics.json")
    p.add_argument("--traces", nargs="+", required=True, help="traces of any tasks and conditions")
    p.add_argument("--hidden", nargs="+", required=True, help="their residual states (.npz)")
    p.add_argument("--out", required=True)
    p.add_argument("--summary", required=True, help="the nested metrics, for the figures")

    p = step("plot", plot, "draw the figures")
    p.add_argument("--summary", required=True)
    p.add_argument("--out-dir", required=True)

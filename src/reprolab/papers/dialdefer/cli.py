"""Steps of dialdefer: data, judge (one scoring mode), metrics, plot (claims are the core's)."""

from __future__ import annotations

import argparse
import logging
from functools import partial
from pathlib import Path

from reprolab.cli import add_step, publish_metrics, resolve_config
from reprolab.papers.dialdefer import METHODS

PAPER = "dialdefer"
MODES = ("forced_choice", "parsed")
log = logging.getLogger(__name__)


def data(args) -> None:
    from reprolab.io import write_jsonl
    from reprolab.papers.dialdefer.data import load

    cfg = resolve_config(args, PAPER)
    evaluation, train = load(cfg["data"], cfg["suite"]["seed"])
    write_jsonl(Path(args.eval), evaluation)
    write_jsonl(Path(args.train), train)
    log.info("wrote %d eval and %d train items", len(evaluation), len(train))


def judge(args) -> None:
    import time

    from reprolab.inference import get_backend
    from reprolab.io import read_jsonl, write_jsonl
    from reprolab.papers.dialdefer import judge as judges
    from reprolab.tracking import tracked_run

    cfg = resolve_config(args, PAPER)
    settings = cfg["judge"]
    items = read_jsonl(Path(args.data))
    if args.arm == "base":
        plans = judges.plans_for(items, settings, args.mode)
    else:  # a fine-tuned judge, on the paper's prompt only, named after its arm
        n = cfg[args.arm]["judge_items_per_domain"]
        plans = {args.arm: (settings["conditions"]["base"], judges.first_per_domain(items, n))}
    params = {"mode": args.mode, "arm": args.arm, "conditions": sorted(plans)}
    rule = f"judge:{args.mode}" if args.arm == "base" else f"judge:{args.mode}:{args.arm}"
    with tracked_run(cfg, rule, params) as tracker:
        backend = get_backend(
            settings["backend"], args.model, **settings.get("backend_options", {})
        )
        started = time.monotonic()
        if args.mode == "forced_choice":
            records = judges.forced_choice(backend, plans, settings)
        else:
            records = judges.parsed(backend, plans, settings, cfg["suite"]["seed"])
        seconds = time.monotonic() - started
        write_jsonl(Path(args.out), records)
        tracker.log_metrics({"judge_seconds": seconds, "records": len(records)})
        log.info("%s: %d verdicts in %.0f s", args.mode, len(records), seconds)


def train(args) -> None:
    from reprolab.io import read_jsonl
    from reprolab.papers.dialdefer.train import train_mitigation
    from reprolab.tracking import tracked_run

    cfg = resolve_config(args, PAPER)
    items = read_jsonl(Path(args.data))
    params = {args.method: cfg[args.method], "n_items": len(items)}
    with tracked_run(cfg, f"train:{args.method}", params) as tracker:
        summary = train_mitigation(
            args.method,
            cfg,
            items,
            Path(args.model),
            Path(args.out),
            Path(args.checkpoints),
            tracker,
        )
        tracker.log_metrics({"train_seconds": summary["train_seconds"], "steps": summary["steps"]})


def metrics(args) -> None:
    from reprolab.evidence import Units
    from reprolab.io import read_jsonl, write_json
    from reprolab.papers.dialdefer.evaluate import flatten_metrics, record_units, summarize_mode

    cfg = resolve_config(args, PAPER)
    # <mode>.jsonl holds the base model's verdicts, <mode>.<arm>.jsonl a fine-tuned judge's.
    records: dict[str, list[dict]] = {}
    for path in args.records:
        records.setdefault(Path(path).name.split(".")[0], []).extend(read_jsonl(Path(path)))
    by_mode = {
        mode: summarize_mode(rows, cfg["evaluate"], cfg["suite"]["seed"])
        for mode, rows in records.items()
    }
    write_json(Path(args.summary), by_mode)
    flat = flatten_metrics(by_mode)
    # Per-item values behind the claims, and the framing-permutation nulls (units.json).
    units = Units()
    for mode, rows in records.items():
        record_units(units, mode, rows, cfg["evaluate"], cfg["suite"]["seed"])
    publish_metrics(cfg, flat, Path(args.out), units=units)


def plot(args) -> None:
    from reprolab.io import read_json
    from reprolab.papers.dialdefer import plot as figures
    from reprolab.tracking import log_figures

    cfg = resolve_config(args, PAPER)
    summary = read_json(Path(args.summary))
    out = Path(args.out_dir)
    made = [
        figures.dds_per_domain(summary, out / "dds_per_domain.png"),
        figures.accuracy_vs_dds(summary, out / "accuracy_vs_dds.png"),
        figures.conditions(summary, cfg["evaluate"], out / "ablation_mitigation.png"),
    ]
    log_figures(cfg, made)


def add_steps(steps: argparse._SubParsersAction) -> None:
    step = partial(add_step, steps)  # step(name, func, help) -> its argument parser

    p = step("data", data, "generate the judged items (eval) and the SFT split (train)")
    p.add_argument("--eval", required=True)
    p.add_argument("--train", required=True)

    p = step("judge", judge, "judge every condition's C1 and C2 prompts in one scoring mode")
    p.add_argument("--mode", required=True, choices=MODES)
    p.add_argument("--arm", default="base", choices=["base", *METHODS], help="which judge model")
    p.add_argument("--model", required=True, help="prepared or fine-tuned model folder")
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)

    p = step("train", train, "a fine-tuning mitigation (SFT or DPO) on the held-out train items")
    p.add_argument("--method", required=True, choices=METHODS)
    p.add_argument("--data", required=True, help="train.jsonl")
    p.add_argument("--model", required=True, help="prepared base model folder")
    p.add_argument("--out", required=True)
    p.add_argument("--checkpoints", required=True, help="kept across failures for resume")

    p = step("metrics", metrics, "DDS, accuracy, CIs, nulls -> metrics.json, units.json")
    p.add_argument("--records", nargs="+", required=True, help="<mode>.jsonl files")
    p.add_argument("--out", required=True)
    p.add_argument("--summary", required=True, help="the nested metrics, for the figures")

    p = step("plot", plot, "draw the figures")
    p.add_argument("--summary", required=True)
    p.add_argument("--out-dir", required=True)

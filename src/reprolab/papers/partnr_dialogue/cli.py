"""Steps of partnr_dialogue: episodes, run (heuristic or LLM agents, one condition), metrics,
plot (claims are the core's)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from reprolab.cli import add_step, publish_metrics, resolve_config

PAPER = "partnr_dialogue"
log = logging.getLogger(__name__)


def episodes(args) -> None:
    from reprolab.io import write_jsonl
    from reprolab.papers.partnr_dialogue.data import make_episodes

    cfg = resolve_config(args, PAPER)
    made = make_episodes(cfg["episodes"], cfg["suite"]["seed"])
    write_jsonl(Path(args.out), made)
    log.info("wrote %d episodes to %s", len(made), args.out)


def run(args) -> None:
    import time

    from reprolab.io import read_jsonl, write_jsonl
    from reprolab.papers.partnr_dialogue import runner
    from reprolab.tracking import tracked_run

    cfg = resolve_config(args, PAPER)
    settings = cfg["sim"] | {"llm": cfg.get("llm", {})}
    specs = read_jsonl(Path(args.episodes))
    agent = "heuristic" if args.model is None else "llm"
    rule = f"run:{agent}:{args.condition}" + (f":{Path(args.model).name}" if args.model else "")
    params = {
        "condition": args.condition,
        "agent": agent,
        "n_episodes": len(specs),
        "sim": cfg["sim"],
        "llm": cfg.get("llm", {}) if args.model else {},
    }
    with tracked_run(cfg, rule, params) as tracker:
        backend = None
        if args.model is not None:
            import torch

            from reprolab.inference import get_backend

            # The job's threads: more threads than cores spin badly on a shared machine.
            torch.set_num_threads(args.threads)
            llm = cfg["llm"]
            backend = get_backend(llm["backend"], args.model, **llm.get("backend_options", {}))
        started = time.monotonic()
        rows = runner.run(specs, args.condition, settings, agent, backend, cfg["suite"]["seed"])
        seconds = time.monotonic() - started
        write_jsonl(Path(args.out), rows)
        tracker.log_metrics({"run_seconds": seconds, "log_rows": len(rows)})
        log.info("%s %s: %d episodes in %.0f s", agent, args.condition, len(specs), seconds)


def metrics(args) -> None:
    from reprolab.io import read_jsonl, write_json
    from reprolab.papers.partnr_dialogue.metrics import (
        evidence_units,
        flatten,
        per_episode,
        summarize_episodes,
    )

    cfg = resolve_config(args, PAPER)
    per: dict[str, dict[str, list[dict]]] = {}
    for path in args.logs:  # <arm>/<condition>.jsonl
        arm, condition = Path(path).parent.name, Path(path).stem
        log.info("summarising %s %s", arm, condition)
        per.setdefault(arm, {})[condition] = per_episode(read_jsonl(Path(path)), cfg["evaluate"])
    summary = {
        arm: {condition: summarize_episodes(eps) for condition, eps in by_condition.items()}
        for arm, by_condition in per.items()
    }
    write_json(Path(args.summary), summary)
    primary = cfg["llm"]["models"][0]
    # In metrics.json and units.json the first LLM also answers to 'llm', the name the claims use.
    if primary in summary:
        summary, per = {"llm": summary[primary], **summary}, {"llm": per[primary], **per}
    draws = cfg["evaluate"]["null_draws"]
    units = evidence_units(per, draws, cfg["suite"]["seed"])
    publish_metrics(cfg, flatten(summary), Path(args.out), units=units)


def plot(args) -> None:
    from reprolab.io import read_json
    from reprolab.papers.partnr_dialogue.plot import FIGURES
    from reprolab.tracking import log_figures

    cfg = resolve_config(args, PAPER)
    summary = read_json(Path(args.summary))
    out = Path(args.out_dir)
    log_figures(cfg, [draw(summary, out / f"{name}.png") for name, draw in FIGURES.items()])


def add_steps(steps: argparse._SubParsersAction) -> None:
    p = add_step(steps, "episodes", episodes, "generate seeded houses and tasks")
    p.add_argument("--out", required=True)

    p = add_step(steps, "run", run, "run every episode in one condition, in lockstep")
    p.add_argument("--episodes", required=True)
    p.add_argument("--condition", required=True, choices=["silent", "dialogue"])
    p.add_argument("--model", help="prepared model folder; without it the heuristic agents run")
    p.add_argument("--threads", type=int, default=1, help="torch threads of an LLM run")
    p.add_argument("--out", required=True, help="the step log (JSONL)")

    p = add_step(
        steps,
        "metrics",
        metrics,
        "success, conflicts, OC, novelty, BSM -> metrics.json, units.json",
    )
    p.add_argument("--logs", nargs="+", required=True, help="<arm>/<condition>.jsonl step logs")
    p.add_argument("--out", required=True)
    p.add_argument("--summary", required=True)

    p = add_step(steps, "plot", plot, "draw the figures")
    p.add_argument("--summary", required=True)
    p.add_argument("--out-dir", required=True)

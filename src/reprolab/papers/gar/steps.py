"""gar's steps: data, generate (one condition of one task), score (the traces into GAR, recall,
crossover, probes and persona), metrics, plot."""

from __future__ import annotations

import logging
import math
from pathlib import Path

from reprolab.steps import Published, Step
from reprolab.tracking import Tracker

log = logging.getLogger(__name__)

FIGURES = [
    "gar_vs_turn",
    "recall_vs_turn",
    "crossover_vs_window",
    "probe_auc",
    "persona_violations",
]


def tasks(cfg: dict) -> list[str]:
    """The tasks decoded, in config order (each has its episodes, data/<task>.jsonl)."""
    return list(cfg["generate"]["tasks"])


def conditions(cfg: dict) -> list[str]:
    """Every defined condition (how attention is closed, what the user says)."""
    return list(cfg["generate"]["conditions"])


def runs(cfg: dict) -> list[tuple[str, str]]:
    """One decode job per (task, condition): small batches of like rows pad least, the jobs
    spread over the cores, and a rerun resumes per condition."""
    return [
        (task, condition) for task, names in cfg["generate"]["tasks"].items() for condition in names
    ]


def generate_threads(cfg: dict, default: int) -> int:
    """Threads of a decode job: generate.threads where set (one at smoke and tiny: on a CPU the
    decode loop is many small ops, so jobs run side by side), else the generate kind's."""
    return cfg["generate"].get("threads", default)


def data(cfg: dict, tracker: Tracker, *, episodes: list[Path]) -> dict:
    """The seeded episodes of every task, each to the file named <task>.jsonl."""
    from reprolab.io import write_jsonl
    from reprolab.papers.gar.data import make_episodes

    specs = cfg["data"]["tasks"]
    unknown = [p.name for p in episodes if p.stem not in specs]
    if unknown:
        raise ValueError(f"--episodes {unknown}: expected <task>.jsonl of a task in {list(specs)}")
    counts = {}
    for path in episodes:
        task = path.stem
        rows = make_episodes({"name": task, **specs[task]}, cfg["suite"]["seed"])
        write_jsonl(path, rows)
        log.info("%s: wrote %d episodes", task, len(rows))
        counts[f"{task}_episodes"] = len(rows)
    return counts


def one_run(cfg: dict, wildcards: dict[str, str]) -> dict:
    """Only the job's task and condition settings, so that another condition's change keeps it."""
    task, condition = wildcards["task"], wildcards["condition"]
    section = dict(cfg["generate"])
    listed = section["tasks"].get(task, [])
    section["tasks"] = {task: [condition] if condition in listed else listed}
    section["conditions"] = {k: v for k, v in section["conditions"].items() if k == condition}
    section["keep_hidden"] = [c for c in section.get("keep_hidden", []) if c == condition]
    for per_task in ("max_new_tokens", "task_temperature"):
        if per_task in section:
            section[per_task] = {k: v for k, v in section[per_task].items() if k == task}
    section.pop("threads", None)  # the job's threads come as --threads
    return {"generate": section}


def generate(
    cfg: dict,
    tracker: Tracker,
    *,
    task: str,
    condition: str,
    data: Path,
    model: Path,
    traces: Path,
    hidden: Path,
    threads: int,
) -> dict:
    """Decode one condition of one task, recording attention (traces) and the residual states
    kept for the probes (hidden)."""
    import numpy as np
    import torch

    from reprolab.io import read_jsonl, write_jsonl
    from reprolab.models import load_model
    from reprolab.papers.gar.run import generate as run_task

    settings = cfg["generate"]
    if settings["backend"] != "transformers":
        raise ValueError(
            f"generate.backend '{settings['backend']}': only 'transformers' returns attention "
            "weights (eager attention); vLLM cannot"
        )
    if condition not in settings["tasks"].get(task, []):
        raise ValueError(
            f"generate.tasks.{task}: condition '{condition}' is not run for this "
            f"task; expected one of {settings['tasks'].get(task, [])}"
        )
    episodes = read_jsonl(data)
    torch.set_num_threads(max(1, threads))
    loaded, tokenizer = load_model(model, dtype=getattr(torch, settings["dtype"]), attn="eager")
    # A GPU where there is one (full scale); the loop keeps its bookkeeping on the same device.
    loaded.to("cuda" if torch.cuda.is_available() else "cpu").eval()
    rows, states = run_task(
        loaded, tokenizer, episodes, settings, task, [condition], cfg["suite"]["seed"]
    )
    write_jsonl(traces, rows)
    np.savez_compressed(hidden, **states)
    log.info("%s/%s: %d traces", task, condition, len(rows))
    return {"traces": len(rows)}


def score(
    cfg: dict,
    tracker: Tracker,
    *,
    traces: list[Path],
    hidden: list[Path],
    summary: Path,
    scores: Path,
    evidence: Path,
) -> dict:
    """GAR trend, recall, crossover, probes and persona from the traces of any tasks and
    conditions: the flat scores, the nested summary the figures read and the per-unit evidence."""
    import numpy as np

    from reprolab.io import read_jsonl, write_json
    from reprolab.papers.gar.evaluate import evaluate

    rows_by_task: dict[str, list[dict]] = {}
    for path in traces:
        for row in read_jsonl(path):
            rows_by_task.setdefault(row["task"], []).append(row)
    states: dict = {}
    for path in hidden:
        with np.load(path) as stored:
            states.update({k: stored[k] for k in stored.files})
    flat, nested, units = evaluate(rows_by_task, states, cfg["evaluate"], cfg["suite"]["seed"])
    # Undefined at this scale (NaN: a probe with one class, a window that never closes): left
    # out here, so scores.json stays strict JSON, and "missing" for the claims on them.
    defined = {k: v for k, v in flat.items() if not math.isnan(v)}
    if len(defined) < len(flat):
        log.info("undefined at this scale, left out: %s", sorted(set(flat) - set(defined)))
    write_json(summary, nested)
    write_json(scores, defined)
    units.write(evidence)
    return defined


def metrics(
    cfg: dict, tracker: Tracker, *, scores: Path, evidence: Path, metrics: Path
) -> Published:
    from reprolab.evidence import Units
    from reprolab.io import read_json

    return Published(read_json(scores), Units.read(evidence))


def plot(cfg: dict, tracker: Tracker, *, summary: Path, figures: Path) -> list[Path]:
    from reprolab.io import read_json
    from reprolab.papers.gar import plot as draw

    settings = cfg["evaluate"]
    nested = read_json(summary)
    return [
        draw.gar_vs_turn(nested, figures / "gar_vs_turn.png"),
        draw.recall_vs_turn(
            nested,
            settings["sweep_task"],
            settings["sweep"],
            settings["reference"],
            figures / "recall_vs_turn.png",
        ),
        draw.crossover_vs_window(nested, figures / "crossover_vs_window.png"),
        draw.probe_auc(nested, figures / "probe_auc.png"),
        draw.persona_violations(nested, figures / "persona_violations.png"),
    ]


STEPS = [
    Step("data", data, "generate the seeded episodes of every task, <task>.jsonl each",
         outputs=("episodes",), reads=("data",)),
    Step("generate", generate, "decode one condition of one task, recording attention",
         wildcards=("task", "condition"), inputs=("data", "model"), outputs=("traces", "hidden"),
         params=("threads",), reads=("generate",), sections=one_run, kind="generate"),
    Step("score", score, "GAR trend, recall, crossover, probes, persona from the traces",
         inputs=("traces", "hidden"), outputs=("summary", "scores", "evidence"),
         reads=("evaluate",)),
    Step("metrics", metrics, "the scores and their evidence -> metrics.json, units.json",
         inputs=("scores", "evidence"), outputs=("metrics",)),
    Step("plot", plot, "draw the figures", inputs=("summary",), params=("figures",),
         reads=("evaluate",)),
]  # fmt: skip

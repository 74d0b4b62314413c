"""toolr0's steps: data, train_generator, generate, train_solver (one variant and iteration
each), score (one arm: base or <variant>/iter<i>), metrics, plot.

The rules wire the self-play chain with the path functions below (which model each role starts
from in each variant).
"""

from __future__ import annotations

import logging
from pathlib import Path

from reprolab.steps import Published, Step
from reprolab.tracking import Tracker

log = logging.getLogger(__name__)

FIGURES = ["curriculum", "accuracy_per_iteration", "task_yield"]
# The variant whose generator never trains (it keeps the base model).
FROZEN = "frozen_gen"
# The control with no generator: its tasks come from the registry's templates.
ORACLE = "oracle"


def variants(cfg: dict) -> list[str]:
    """The self-play variants (the paper's ablations), in config order."""
    return list(cfg["selfplay"]["variants"])


def iterations(cfg: dict) -> list[int]:
    return list(range(1, cfg["selfplay"]["iterations"] + 1))


def arms(cfg: dict) -> list[str]:
    """Every scored arm: base, then <variant>/iter<i> (its path under eval/)."""
    return ["base"] + [f"{v}/iter{i}" for v in variants(cfg) for i in iterations(cfg)]


def solver_path(out: str, base: str, variant: str, i: int) -> str:
    """The solver after iteration i (the base model before the first)."""
    return base if i == 0 else f"{out}/models/{variant}/solver_{i}"


def generator_path(out: str, base: str, variant: str, i: int) -> str:
    """The generator that writes iteration i's tasks; the frozen ablation keeps the base (the
    oracle control reads no generator: the base stands in as the step's input, unused)."""
    return base if variant in (FROZEN, ORACLE) else f"{out}/models/{variant}/generator_{i}"


def generator_init(out: str, base: str, variant: str, i: int) -> str:
    """Where generator training starts; with shared weights, from the one shared model."""
    if i == 1:
        return base
    if variant == "shared":
        return solver_path(out, base, variant, i - 1)
    return generator_path(out, base, variant, i - 1)


def solver_init(out: str, base: str, variant: str, i: int) -> str:
    """Where solver training starts; with shared weights, from the generator just trained."""
    if variant == "shared":
        return generator_path(out, base, variant, i)
    return solver_path(out, base, variant, i - 1)


def scored_model(out: str, base: str, arm: str) -> str:
    """The model an arm scores: base, or the solver of <variant>/iter<i>."""
    if arm == "base":
        return base
    variant, iteration = arm.split("/iter")
    return solver_path(out, base, variant, int(iteration))


def arm_of(path: Path | str) -> str:
    """eval/base.json -> base; eval/toolr0/iter2.json -> toolr0.iter2 (also for stats files and
    eval/<...>.predictions.jsonl): the keys of the metrics."""
    p = Path(path)
    stem = p.stem.removeprefix("stats_").removesuffix(".predictions")
    return stem if p.parent.name in ("eval", "data") else f"{p.parent.name}.{stem}"


def scored_solver(cfg: dict, wildcards: dict[str, str]) -> dict:
    """The scoring sections and, for a trained arm, the solver's training settings: its run
    names them, and the arm's score is stale when its training changes."""
    sections = {k: cfg[k] for k in SCORE_SECTIONS}
    return sections if wildcards["arm"] == "base" else {**sections, "solver": cfg["solver"]}


def solver_settings(cfg: dict, wildcards: dict[str, str]) -> dict:
    """A solver under one name on its train_solver and score runs (`variant`, `iteration`,
    `optimizer.lr`, `trainer.max_steps`), so that accuracy compares by its training."""
    arm = wildcards.get("arm")
    if arm == "base":
        return {"variant": "base", "iteration": 0}
    if arm is None:
        variant, iteration = wildcards["variant"], wildcards["iteration"]
    else:
        variant, iteration = arm.split("/iter")
    solver = cfg["solver"]
    return {
        "variant": variant,
        "iteration": int(iteration),
        "optimizer": solver["optimizer"],
        "trainer": solver["trainer"],
    }


def data(cfg: dict, tracker: Tracker, *, test: Path, tools: Path) -> dict:
    from reprolab.io import write_json, write_jsonl
    from reprolab.papers.toolr0.data import split_tools, test_items
    from reprolab.papers.toolr0.evaluate import add_gold_results
    from reprolab.papers.toolr0.tools import TOOLS

    items = add_gold_results(test_items(cfg, cfg["suite"]["seed"]), cfg["sandbox"])
    write_jsonl(test, items)
    train, held_out = split_tools(cfg["tools"])
    write_json(
        tools,
        {
            "train": {n: TOOLS[n].schema() for n in train},
            "test": {n: TOOLS[n].schema() for n in held_out},
            "domains": {n: TOOLS[n].domain for n in TOOLS},
        },
    )
    log.info("wrote %d held-out items over %d unseen tools", len(items), len(held_out))
    return {"test_items": len(items), "train_tools": len(train), "test_tools": len(held_out)}


def _trained(summary: dict) -> dict:
    """A training summary's numbers for the run (its wall clock is the core's)."""
    keys = ("steps", "resumed_from_step", "optimizer_state_bytes", "parameter_count")
    return {k: summary[k] for k in keys if isinstance(summary.get(k), int | float)}


def train_generator(
    cfg: dict,
    tracker: Tracker,
    *,
    variant: str,
    iteration: int,
    model: Path,
    solver: Path,
    out: Path,
    checkpoints: Path,
) -> dict:
    from reprolab.papers.toolr0.train import train_generator as run
    from reprolab.papers.toolr0.upstream import resolve

    summary = run(resolve(cfg), variant, iteration, model, solver, out, checkpoints, tracker)
    return _trained(summary)


def generate(
    cfg: dict,
    tracker: Tracker,
    *,
    variant: str,
    iteration: int,
    generator: Path,
    solver: Path,
    tasks: Path,
    stats: Path,
) -> dict:
    from reprolab.io import write_json, write_jsonl
    from reprolab.papers.toolr0.tasks import build_tasks
    from reprolab.papers.toolr0.upstream import resolve

    selected, counts = build_tasks(resolve(cfg), iteration, str(generator), str(solver), variant)
    write_jsonl(tasks, selected)
    write_json(stats, counts)
    return {k: float(v) for k, v in counts.items() if isinstance(v, int | float)}


def train_solver(
    cfg: dict,
    tracker: Tracker,
    *,
    variant: str,
    iteration: int,
    tasks: Path,
    model: Path,
    out: Path,
    checkpoints: Path,
) -> dict:
    from reprolab.io import read_jsonl
    from reprolab.papers.toolr0.train import train_solver as run
    from reprolab.papers.toolr0.upstream import resolve

    rows = read_jsonl(tasks)
    summary = run(resolve(cfg), rows, model, out, checkpoints, iteration, tracker)
    return {**_trained(summary), "n_tasks": len(rows)}


def score(
    cfg: dict, tracker: Tracker, *, arm: str, model: Path, data: Path, out: Path, predictions: Path
) -> dict:
    """AST and execution accuracy of one arm on the held-out set."""
    from reprolab.io import read_jsonl, write_json, write_jsonl
    from reprolab.papers.toolr0.evaluate import evaluate_model
    from reprolab.papers.toolr0.upstream import resolve

    summary, replies = evaluate_model(model, read_jsonl(data), resolve(cfg))
    write_jsonl(predictions, replies)
    write_json(out, summary)
    log.info("%s: AST %.3f, execution %.3f", arm, summary["ast_accuracy"],
             summary["exec_accuracy"])  # fmt: skip
    return summary


def metrics(
    cfg: dict,
    tracker: Tracker,
    *,
    evals: list[Path],
    stats: list[Path],
    predictions: list[Path],
    metrics: Path,
) -> Published:
    from reprolab.io import read_json, read_jsonl
    from reprolab.papers.toolr0.evaluate import combine, item_units

    n = cfg["selfplay"]["iterations"]
    by_arm = {arm_of(p): read_json(p) for p in evals}
    counts = {arm_of(p): read_json(p) for p in stats}
    rows = {arm_of(p): read_jsonl(p) for p in predictions}
    return Published(combine(by_arm, counts, n), item_units(rows, by_arm, n))


def plot(
    cfg: dict, tracker: Tracker, *, metrics: Path, stats: list[Path], figures: Path
) -> list[Path]:
    from reprolab.io import read_json
    from reprolab.papers.toolr0 import plot as draw

    counts = {arm_of(p): read_json(p) for p in stats}
    return [
        draw.curriculum(counts, figures / "curriculum.png"),
        draw.task_yield(counts, figures / "task_yield.png"),
        draw.accuracy_per_iteration(
            read_json(metrics),
            cfg["selfplay"]["variants"],
            cfg["selfplay"]["iterations"],
            figures / "accuracy_per_iteration.png",
        ),
    ]


ROLE_SECTIONS = ("tools", "spec", "prompts", "selfplay", "evaluate", "sandbox")
SCORE_SECTIONS = ("prompts", "evaluate", "sandbox")

STEPS = [
    Step("data", data, "the held-out test set (gold results run in the sandbox)",
         outputs=("test", "tools"), reads=("tools", "test", "sandbox")),
    Step("train_generator", train_generator, "one iteration of generator GRPO",
         wildcards=("variant", "iteration"), inputs=("model", "solver"), outputs=("out",),
         params=("checkpoints",), reads=(*ROLE_SECTIONS, "generator"), kind="train"),
    Step("generate", generate, "sample and filter one iteration's tasks",
         wildcards=("variant", "iteration"), inputs=("generator", "solver"),
         outputs=("tasks", "stats"), reads=(*ROLE_SECTIONS, "generate"), kind="generate"),
    Step("train_solver", train_solver, "one iteration of solver GRPO on generated tasks",
         wildcards=("variant", "iteration"), inputs=("tasks", "model"), outputs=("out",),
         params=("checkpoints",), reads=("prompts", "solver"), describes=solver_settings,
         kind="train"),
    Step("score", score, "AST and execution accuracy of one arm on the held-out set",
         wildcards=("arm",), inputs=("model", "data"), outputs=("out", "predictions"),
         reads=(*SCORE_SECTIONS, "solver"), sections=scored_solver, describes=solver_settings,
         kind="generate"),
    Step("metrics", metrics, "join the scores and curriculum stats into metrics.json",
         inputs=("evals", "stats", "predictions"), outputs=("metrics",), reads=("selfplay",)),
    Step("plot", plot, "draw the figures", inputs=("metrics", "stats"), params=("figures",),
         reads=("selfplay",)),
]  # fmt: skip

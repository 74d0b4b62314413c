"""sgd_rlvr's steps: data (train set), data_test, data_val, train (one arm or learning-rate
grid point), score (one arm, test items), score_val (one arm or grid point, validation items),
metrics_grid (the learning-rate choice on validation), metrics, plot."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from reprolab.steps import Published, Step
from reprolab.tracking import Tracker

log = logging.getLogger(__name__)

FIGURES = ["training_curves", "final_accuracy", "updated_fraction", "per_layer_sparsity"]


GRID_ARM = re.compile(r"^(?P<arm>(grpo|sft)_[a-z0-9_]+?)_lr(?P<index>[0-9]+)$")


def arms(cfg: dict, first_seed: bool = True) -> list[str]:
    """The trained arms (grpo_<optimizer>, sft_<optimizer>) of one seed, in config order, but
    `skip_arms` (smoke: all but the two its sanity checks read): every arm on the first seed,
    the others leave out `first_seed_only` (the ablations at tiny)."""
    every = [f"grpo_{arm}" for arm in cfg["grpo"]["arms"]] + [
        f"sft_{arm}" for arm in cfg["sft"]["arms"]
    ]
    every = [arm for arm in every if arm not in cfg.get("skip_arms", [])]
    if first_seed:
        return every
    return [arm for arm in every if arm not in cfg.get("first_seed_only", [])]


def seed_arms(cfg: dict, seed_dir: str, scored: bool = False) -> list[str]:
    """The arms one seed trains (`seed_dir` '' is the first seed's), or scores: the base model
    on each task an arm trains on ('base' the RL task, 'base_sft' the SFT task) and the trained
    arms."""
    trained = arms(cfg, first_seed=seed_dir == "")
    if not scored:
        return trained
    tasks = {("base" if arm.startswith("grpo_") else "base_sft") for arm in trained}
    bases = [base for base in ("base", "base_sft") if base in tasks]
    return [*bases, *trained]


def task_file(out: str, seed_dir: str, arm: str, split: str) -> str:
    """The data file (split train, test or val) of the arm's task, in a seed's output folder
    (`out` holds the `{seed}` wildcard)."""
    from reprolab.papers.sgd_rlvr.data import task_of

    return f"{out.replace('{seed}', seed_dir)}/data/{task_of(arm)}{split}.jsonl"


def grid_arms(cfg: dict) -> list[str]:
    """The learning-rate grid's extra points, '<arm>_lr<k>' (factor k of grid.factors; factor 1
    is the arm itself, trained anyway). First seed only: the choice is made once."""
    grid = cfg["grid"]
    return [
        f"{arm}_lr{k}"
        for arm in grid["arms"]
        for k, factor in enumerate(grid["factors"])
        if factor != 1
    ]


def is_base(arm: str) -> bool:
    """The untrained model, scored on the RL task ('base') and on the SFT task ('base_sft')."""
    return arm in ("base", "base_sft")


def optimizer_of(cfg: dict, arm: str) -> tuple[str, str, dict]:
    """(kind, optimizer name, optimizer settings) of an arm or grid point: a grid point is its
    arm's optimizer with the learning rate times the grid factor."""
    match = GRID_ARM.match(arm)
    base = match["arm"] if match else arm
    kind, name = base.split("_", 1)
    optimizer = dict(cfg[kind]["arms"][name])
    if match:
        # Rounded to 12 significant digits: 0.1 x 3 is 0.3, not 0.30000000000000004.
        optimizer["lr"] = float(
            f"{optimizer['lr'] * cfg['grid']['factors'][int(match['index'])]:.12g}"
        )
    return kind, name, optimizer


def data(cfg: dict, tracker: Tracker, *, split: str, train: Path) -> dict:
    """One task's training problems (split 'train' is RL's, 'sft_train' SFT's); the job's data
    section is already the task's (`task_data`)."""
    from reprolab.io import write_counted
    from reprolab.papers.sgd_rlvr.data import train_set

    return write_counted(train, train_set(cfg["data"], cfg["suite"]["seed"]), "train_problems")


def data_test(cfg: dict, tracker: Tracker, *, split: str, test: Path) -> dict:
    from reprolab.io import write_counted
    from reprolab.papers.sgd_rlvr.data import test_set

    return write_counted(test, test_set(cfg["data"], cfg["suite"]["seed"]), "test_problems")


def data_val(cfg: dict, tracker: Tracker, *, split: str, val: Path) -> dict:
    from reprolab.io import write_counted
    from reprolab.papers.sgd_rlvr.data import val_set

    return write_counted(val, val_set(cfg["data"], cfg["suite"]["seed"]), "validation_problems")


def task_data(cfg: dict, wildcards: dict[str, str]) -> dict:
    """The task's data section (the SFT task's overrides merged), and nothing of the other's;
    the split ('train', 'sft_test', ...) names the task by its prefix."""
    from reprolab.papers.sgd_rlvr.data import task_settings

    task = "sft_" if wildcards.get("split", "").startswith("sft_") else ""
    return {"data": task_settings(cfg["data"], task)}


def train_data(cfg: dict, wildcards: dict[str, str]) -> dict:
    """The task's data section without the test and validation sets' own keys, so that they
    never retrain an arm."""
    from reprolab.papers.sgd_rlvr.data import train_settings

    return {"data": train_settings(task_data(cfg, wildcards)["data"])}


def test_data(cfg: dict, wildcards: dict[str, str]) -> dict:
    """The task's data section without the validation size, so that it never rescores an arm."""
    from reprolab.papers.sgd_rlvr.data import test_settings

    return {"data": test_settings(task_data(cfg, wildcards)["data"])}


def _arm_section(cfg: dict, arm: str) -> dict[str, dict]:
    """{grpo|sft: {trainer, arms: {<arm or grid point>: optimizer}}} of one trained arm; a grid
    point's optimizer carries its own learning rate, so the grid's other factors keep it."""
    kind, _, optimizer = optimizer_of(cfg, arm)
    section = cfg[kind]
    return {kind: {"trainer": section["trainer"], "arms": {arm.split("_", 1)[1]: optimizer}}}


def one_arm(cfg: dict, wildcards: dict[str, str]) -> dict:
    """Only the trained arm's optimizer settings, so that another arm's change keeps it."""
    return {**_arm_section(cfg, wildcards["arm"]), "reward": cfg["reward"]}


def scored_arm(cfg: dict, wildcards: dict[str, str]) -> dict:
    """The evaluation settings and the scored arm's training settings (none for base): its
    run names them, and an arm's score is stale when its training changes."""
    arm = wildcards["arm"]
    return {"evaluate": cfg["evaluate"], **({} if is_base(arm) else _arm_section(cfg, arm))}


def arm_settings(cfg: dict, wildcards: dict[str, str]) -> dict:
    """What an arm is, under one name for every arm (`optimizer.lr`, `trainer.max_steps`), on
    its train and score runs, so that accuracy plots against the learning rate in MLflow."""
    arm = wildcards["arm"]
    if is_base(arm):
        return {"method": "base"}
    kind = arm.split("_", 1)[0]
    return {
        "method": kind,
        "optimizer": cfg[kind]["arms"][arm.split("_", 1)[1]],
        "trainer": cfg[kind]["trainer"],
    }


def train(
    cfg: dict, tracker: Tracker, *, arm: str, data: Path, model: Path, out: Path, checkpoints: Path
) -> dict:
    from reprolab.io import read_jsonl
    from reprolab.papers.sgd_rlvr.train import train_arm

    kind, name = arm.split("_", 1)
    summary = train_arm(cfg, kind, name, read_jsonl(data), model, out, checkpoints, tracker)
    tracker.log_params({"optimizer_used": summary["optimizer"]})
    return {"optimizer_state_bytes": summary["optimizer_state_bytes"]}


def score(
    cfg: dict,
    tracker: Tracker,
    *,
    arm: str,
    model: Path,
    base: Path,
    data: Path,
    result: Path,
    predictions: Path,
) -> dict:
    """Greedy accuracy on the test problems; for a trained arm, its update's sparsity and rank."""
    from reprolab.io import read_json, read_jsonl, write_json, write_jsonl
    from reprolab.papers.sgd_rlvr import evaluate as ev

    settings = cfg["evaluate"]
    scored = ev.accuracy(model, read_jsonl(data), settings, cfg["suite"]["seed"])
    write_jsonl(predictions, scored.pop("predictions"))
    if not is_base(arm):
        # The update's rank where the rank claim reads it (evaluate.rank_arms); sparsity for all.
        scored.update(ev.weight_update(base, model, settings, ranks=arm in settings["rank_arms"]))
        summary = read_json(model / "train_summary.json")
        scored["optimizer_state_bytes"] = summary["optimizer_state_bytes"]
        scored["optimizer_state_per_parameter_byte"] = (
            summary["optimizer_state_bytes"] / summary["parameter_bytes"]
        )
        scored["train_steps"] = summary["steps"]
        scored["train_seconds"] = summary["train_seconds"]
    write_json(result, scored)
    log.info("%s: accuracy %.3f", arm, scored["accuracy"])
    return {k: v for k, v in scored.items() if not isinstance(v, dict)}


def score_val(
    cfg: dict, tracker: Tracker, *, arm: str, model: Path, data: Path, result: Path
) -> dict:
    """Greedy accuracy on the validation problems: what the learning-rate grid is chosen on."""
    from reprolab.io import read_jsonl, write_json
    from reprolab.papers.sgd_rlvr import evaluate as ev

    scored = ev.accuracy(model, read_jsonl(data), cfg["evaluate"], cfg["suite"]["seed"])
    scored.pop("predictions")
    kind, name = arm.split("_", 1)
    scored["lr"] = cfg[kind]["arms"][name]["lr"]
    write_json(result, scored)
    log.info("%s: validation accuracy %.3f at lr %g", arm, scored["accuracy"], scored["lr"])
    return {"val_accuracy": scored["accuracy"], "lr": scored["lr"]}


def scored_val_arm(cfg: dict, wildcards: dict[str, str]) -> dict:
    """The evaluation settings and the arm's (or grid point's) training settings."""
    return {"evaluate": cfg["evaluate"], **_arm_section(cfg, wildcards["arm"])}


def metrics_grid(cfg: dict, tracker: Tracker, *, vals: list[Path], grid: Path) -> dict:
    """The learning rate each tuned arm would take: the best validation accuracy over the grid
    (ties keep the configured rate), and whether the config already holds it."""
    from reprolab.io import read_json, write_json
    from reprolab.papers.sgd_rlvr.evaluate import select_learning_rates

    results = {p.stem: read_json(p) for p in vals}
    chosen = select_learning_rates(results, cfg["grid"])
    write_json(grid, chosen)
    return {f"{arm}.selected_factor": c["selected_factor"] for arm, c in chosen.items()}


def metrics(
    cfg: dict,
    tracker: Tracker,
    *,
    evals: list[Path],
    predictions: list[Path],
    grid: Path,
    metrics: Path,
) -> Published:
    from reprolab.io import read_json, read_jsonl
    from reprolab.papers.sgd_rlvr.evaluate import evidence, grid_metrics, summarize

    by_arm = {p.stem: read_json(p) for p in evals}
    rows = {p.name.removesuffix(".predictions.jsonl"): read_jsonl(p) for p in predictions}
    flat = {**summarize(by_arm), **grid_metrics(read_json(grid))}
    return Published(flat, evidence(by_arm, rows, cfg["suite"]["seed"]))


def plot(
    cfg: dict, tracker: Tracker, *, evals: list[Path], models: list[Path], figures: Path
) -> list[Path]:
    from reprolab.io import read_json, read_jsonl
    from reprolab.papers.sgd_rlvr import plot as draw

    by_arm = {p.stem: read_json(p) for p in evals}
    logs = {m.name: read_jsonl(m / "train_log.jsonl") for m in models}
    return [
        draw.training_curves(logs, figures / "training_curves.png"),
        draw.final_accuracy(by_arm, figures / "final_accuracy.png"),
        draw.updated_fraction(by_arm, figures / "updated_fraction.png"),
        draw.per_layer_sparsity(by_arm, figures / "per_layer_sparsity.png"),
    ]


STEPS = [
    Step("data", data, "generate one task's training problems (split train or sft_train)",
         wildcards=("split",), outputs=("train",), reads=("data",), sections=train_data),
    Step("data_test", data_test, "generate one task's test problems (after the training ones)",
         wildcards=("split",), outputs=("test",), reads=("data",), sections=test_data),
    Step("data_val", data_val, "generate one task's validation problems (after the test ones)",
         wildcards=("split",), outputs=("val",), reads=("data",), sections=task_data),
    Step("train", train,
         "train one arm (grpo_<optimizer>, sft_<optimizer>) or grid point (<arm>_lr<k>)",
         wildcards=("arm",), inputs=("data", "model"), outputs=("out",),
         params=("checkpoints",), reads=("grpo", "sft", "reward", "grid"), sections=one_arm,
         describes=arm_settings, kind="train"),
    Step("score", score, "accuracy, update sparsity and rank of one arm", wildcards=("arm",),
         inputs=("model", "base", "data"), outputs=("result", "predictions"),
         reads=("evaluate", "grpo", "sft"), sections=scored_arm, describes=arm_settings,
         kind="generate"),
    Step("score_val", score_val, "validation accuracy of one arm or grid point",
         wildcards=("arm",), inputs=("model", "data"), outputs=("result",),
         reads=("evaluate", "grpo", "sft", "grid"), sections=scored_val_arm,
         describes=arm_settings, kind="generate"),
    Step("metrics_grid", metrics_grid, "choose each tuned arm's learning rate on validation",
         inputs=("vals",), outputs=("grid",), reads=("grid",)),
    Step("metrics", metrics, "join the scores into metrics.json and units.json",
         inputs=("evals", "predictions", "grid"), outputs=("metrics",)),
    Step("plot", plot, "draw the figures", inputs=("evals", "models"), params=("figures",)),
]  # fmt: skip

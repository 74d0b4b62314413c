"""sgd_rlvr's steps: data (train set), data_test, train (one arm), score (one arm), metrics,
plot."""

from __future__ import annotations

import logging
from pathlib import Path

from reprolab.steps import Published, Step
from reprolab.tracking import Tracker

log = logging.getLogger(__name__)

FIGURES = ["training_curves", "final_accuracy", "updated_fraction", "per_layer_sparsity"]


def arms(cfg: dict) -> list[str]:
    """Every trained arm (grpo_<optimizer>, sft_<optimizer>) in config order."""
    return [f"grpo_{arm}" for arm in cfg["grpo"]["arms"]] + [
        f"sft_{arm}" for arm in cfg["sft"]["arms"]
    ]


def data(cfg: dict, tracker: Tracker, *, train: Path) -> dict:
    from reprolab.io import write_counted
    from reprolab.papers.sgd_rlvr.data import train_set

    return write_counted(train, train_set(cfg["data"], cfg["suite"]["seed"]), "train_problems")


def data_test(cfg: dict, tracker: Tracker, *, test: Path) -> dict:
    from reprolab.io import write_counted
    from reprolab.papers.sgd_rlvr.data import test_set

    return write_counted(test, test_set(cfg["data"], cfg["suite"]["seed"]), "test_problems")


def train_data(cfg: dict, wildcards: dict[str, str]) -> dict:
    """The data section without the test set's own keys, so that they never retrain an arm."""
    from reprolab.papers.sgd_rlvr.data import train_settings

    return {"data": train_settings(cfg["data"])}


def _arm_section(cfg: dict, arm: str) -> dict[str, dict]:
    """{grpo|sft: {trainer, arms: {<optimizer>: ...}}} of one trained arm."""
    kind, name = arm.split("_", 1)
    section = cfg[kind]
    return {kind: {"trainer": section["trainer"], "arms": {name: section["arms"][name]}}}


def one_arm(cfg: dict, wildcards: dict[str, str]) -> dict:
    """Only the trained arm's optimizer settings, so that another arm's change keeps it."""
    return {**_arm_section(cfg, wildcards["arm"]), "reward": cfg["reward"]}


def scored_arm(cfg: dict, wildcards: dict[str, str]) -> dict:
    """The evaluation settings and the scored arm's training settings (none for base): its
    run names them, and an arm's score is stale when its training changes."""
    arm = wildcards["arm"]
    return {"evaluate": cfg["evaluate"], **({} if arm == "base" else _arm_section(cfg, arm))}


def arm_settings(cfg: dict, wildcards: dict[str, str]) -> dict:
    """What an arm is, under one name for every arm (`optimizer.lr`, `trainer.max_steps`), on
    its train and score runs, so that accuracy plots against the learning rate in MLflow."""
    arm = wildcards["arm"]
    if arm == "base":
        return {"method": "base"}
    kind, name = arm.split("_", 1)
    return {
        "method": kind,
        "optimizer": cfg[kind]["arms"][name],
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
    if arm != "base":
        scored.update(ev.weight_update(base, model, settings))
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


def metrics(
    cfg: dict, tracker: Tracker, *, evals: list[Path], predictions: list[Path], metrics: Path
) -> Published:
    from reprolab.io import read_json, read_jsonl
    from reprolab.papers.sgd_rlvr.evaluate import evidence, summarize

    by_arm = {p.stem: read_json(p) for p in evals}
    rows = {p.name.removesuffix(".predictions.jsonl"): read_jsonl(p) for p in predictions}
    return Published(summarize(by_arm), evidence(by_arm, rows, cfg["suite"]["seed"]))


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
    Step("data", data, "generate the training problems", outputs=("train",), reads=("data",),
         sections=train_data),
    Step("data_test", data_test, "generate the test problems (after the training ones)",
         outputs=("test",), reads=("data",)),
    Step("train", train, "train one arm (grpo_<optimizer> or sft_<optimizer>)",
         wildcards=("arm",), inputs=("data", "model"), outputs=("out",),
         params=("checkpoints",), reads=("grpo", "sft", "reward"), sections=one_arm,
         describes=arm_settings, kind="train"),
    Step("score", score, "accuracy, update sparsity and rank of one arm", wildcards=("arm",),
         inputs=("model", "base", "data"), outputs=("result", "predictions"),
         reads=("evaluate", "grpo", "sft"), sections=scored_arm, describes=arm_settings,
         kind="generate"),
    Step("metrics", metrics, "join the scores into metrics.json and units.json",
         inputs=("evals", "predictions"), outputs=("metrics",)),
    Step("plot", plot, "draw the figures", inputs=("evals", "models"), params=("figures",)),
]  # fmt: skip

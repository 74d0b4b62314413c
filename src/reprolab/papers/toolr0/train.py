"""GRPO for each role through the core's TRL wrapper; the roles are separate models unless the
shared-weights ablation chains them (the rules choose which model each step starts from)."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from reprolab.io import building_dir, write_json
from reprolab.papers.toolr0.data import generator_rows, solver_prompt, split_tools
from reprolab.papers.toolr0.selfplay import generator_reward_funcs, solver_reward_funcs
from reprolab.training.trainers import train

log = logging.getLogger(__name__)
VARIANTS = ("toolr0", "shared", "no_rdiff", "frozen_gen", "oracle")
TRAINED_GENERATORS = ("toolr0", "shared", "no_rdiff")


def _trainer_args(section: dict) -> dict:
    return dict(section["trainer"])


def train_generator(
    cfg: dict,
    variant: str,
    iteration: int,
    init_model: Path,
    solver_model: Path,
    out_dir: Path,
    checkpoint_dir: Path,
    tracker=None,
) -> dict:
    """One iteration of generator GRPO: r_format + r_valid + r_curr, p from solver_model."""
    if variant not in TRAINED_GENERATORS:
        raise ValueError(f"variant '{variant}': the generator trains in {TRAINED_GENERATORS}")
    seed = cfg["suite"]["seed"]
    train_pool, _ = split_tools(cfg["tools"])
    rows = generator_rows(cfg, cfg["generator"]["n_prompts"], seed * 1000 + iteration, train_pool)
    rows = [{"prompt": r["prompt"], "menu": r["menu"]} for r in rows]
    rewards = generator_reward_funcs(
        cfg, str(solver_model), use_difficulty=variant != "no_rdiff", seed=seed * 100 + iteration
    )
    return train(
        "grpo",
        init_model,
        rows,
        out_dir,
        checkpoint_dir,
        trainer_args=_trainer_args(cfg["generator"]),
        optimizer=cfg["generator"]["optimizer"],
        seed=seed + iteration,
        reward_funcs=rewards,
        tracker=tracker,
    )


def train_solver(
    cfg: dict,
    tasks: list[dict],
    init_model: Path,
    out_dir: Path,
    checkpoint_dir: Path,
    iteration: int,
    tracker=None,
) -> dict:
    """One iteration of solver GRPO on the generator's tasks (r_fmt + r_acc).

    With no task left after filtering there is nothing to learn from: the solver is carried over
    unchanged and the summary says so (a weak generator can produce no valid task at all).
    """
    if not tasks:
        log.warning("no generated task survived filtering: the solver is carried over untrained")
        with building_dir(out_dir) as tmp:
            shutil.copytree(init_model, tmp, ignore=shutil.ignore_patterns("train_*"))
        summary = {"kind": "grpo", "steps": 0, "skipped": "no tasks", "train_seconds": 0.0}
        write_json(out_dir / "train_summary.json", summary)
        return summary
    rows = [
        {
            "prompt": solver_prompt(t["question"], t["tools"], cfg["prompts"]),
            "gold": json.dumps(t["gold"]),
        }
        for t in tasks
    ]
    return train(
        "grpo",
        init_model,
        rows,
        out_dir,
        checkpoint_dir,
        trainer_args=_trainer_args(cfg["solver"]),
        optimizer=cfg["solver"]["optimizer"],
        seed=cfg["suite"]["seed"] + 50 + iteration,
        reward_funcs=solver_reward_funcs(cfg["prompts"]),
        tracker=tracker,
    )

"""The arms: GRPO with AdamW, SGD, SGD+momentum and RMSprop, and the SFT control (SGD vs AdamW)."""

from __future__ import annotations

from pathlib import Path

from reprolab.papers.sgd_rlvr.answers import correctness_reward, make_format_reward
from reprolab.training.trainers import train


def train_arm(
    cfg: dict,
    kind: str,
    arm: str,
    rows: list[dict],
    model_dir: Path,
    out_dir: Path,
    checkpoint_dir: Path,
    tracker=None,
    callbacks=(),
) -> dict:
    """Train one arm; `kind` is grpo or sft, `arm` a key of cfg[kind]['arms']."""
    section = cfg[kind]
    if arm not in section["arms"]:
        raise ValueError(f"{kind}.arms: no arm '{arm}'; expected one of {sorted(section['arms'])}")
    if kind == "grpo":
        rewards = [correctness_reward, make_format_reward(cfg["reward"]["format_bonus"])]
        rows = [{"prompt": r["prompt"], "answer": r["answer"]} for r in rows]
    else:
        rewards = []
        rows = [{"prompt": r["prompt"], "completion": r["completion"]} for r in rows]
    return train(
        kind,
        model_dir,
        rows,
        out_dir,
        checkpoint_dir,
        trainer_args=section["trainer"],
        optimizer=section["arms"][arm],
        seed=cfg["suite"]["seed"],
        reward_funcs=rewards,
        tracker=tracker,
        callbacks=callbacks,
    )

"""The fine-tuning mitigations: teach the judge the right verdict in both framings, so that who
states a claim carries no signal [recon: the note names SFT and DPO, not their data].

Each train item yields its four cells (C1/C2 x true/false answer), each in one option order
(seeded, both orders equally often), with the reply the paper's JSON asks for. SFT imitates the
right reply; DPO prefers it to the same reply with the other option number.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

from reprolab.papers.dialdefer import METHODS
from reprolab.papers.dialdefer.judge import CELLS, item_orders
from reprolab.papers.dialdefer.templates import conversation
from reprolab.papers.dialdefer.upstream import resolve
from reprolab.training.trainers import train


def _cells(items: list[dict], judge_cfg: dict, seed: int) -> Iterator[tuple[list[dict], str]]:
    """(prompt, number of the right option) for every cell of every item."""
    orders = item_orders(items, seed)
    base = judge_cfg["conditions"]["base"]
    for item in items:
        order = orders[item["id"]]
        for framing, truth in CELLS:
            right = "1" if truth == (order == "yes_first") else "2"
            yield conversation(item, framing, truth, order, base, judge_cfg), right


def _reply(choice: str, reasoning: str) -> list[dict]:
    content = json.dumps({"chosen_answer": choice, "reasoning": reasoning})
    return [{"role": "assistant", "content": content}]


def sft_rows(items: list[dict], judge_cfg: dict, reasoning: str, seed: int) -> list[dict]:
    """Prompt/completion rows: the right option number, as JSON, for every cell of every item."""
    rows = [
        {"prompt": prompt, "completion": _reply(right, reasoning)}
        for prompt, right in _cells(items, judge_cfg, seed)
    ]
    random.Random(seed).shuffle(rows)
    return rows


def dpo_rows(items: list[dict], judge_cfg: dict, reasoning: str, seed: int) -> list[dict]:
    """Preference rows: the right option's reply chosen over the wrong one's, same reasoning."""
    rows = [
        {
            "prompt": prompt,
            "chosen": _reply(right, reasoning),
            "rejected": _reply("2" if right == "1" else "1", reasoning),
        }
        for prompt, right in _cells(items, judge_cfg, seed)
    ]
    random.Random(seed).shuffle(rows)
    return rows


def train_mitigation(
    method: str,
    cfg: dict,
    items: list[dict],
    model_dir: Path,
    out_dir: Path,
    checkpoints: Path,
    tracker=None,
) -> dict:
    """Fine-tune the judge with `method` (sft or dpo) on the held-out train items."""
    if method not in METHODS:
        raise ValueError(f"train: unknown method '{method}'; expected one of {METHODS}")
    section = cfg[method]
    if not items:
        raise ValueError(f"{method}: no train items; set data.n_train_per_domain above 0")
    make_rows = sft_rows if method == "sft" else dpo_rows
    judge_cfg = resolve(cfg["judge"])  # the authors' prompts at full scale
    rows = make_rows(items, judge_cfg, section["reasoning"], cfg["suite"]["seed"])
    return train(
        method,
        model_dir,
        rows,
        out_dir,
        checkpoints,
        trainer_args=section["trainer"],
        optimizer=section["optimizer"],
        seed=cfg["suite"]["seed"],
        tracker=tracker,
    )

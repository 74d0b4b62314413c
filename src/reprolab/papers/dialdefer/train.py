"""The SFT mitigation: fine-tune the judge on held-out items to give the right verdict in both
framings, so that who states a claim carries no signal [recon: the note names SFT, not its data].

Each train item yields its four cells (C1/C2 x true/false answer), each in one option order
(seeded, both orders equally often), with the reply the paper's JSON asks for.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from reprolab.papers.dialdefer.judge import CELLS, item_orders
from reprolab.papers.dialdefer.templates import conversation
from reprolab.training.trainers import train


def sft_rows(items: list[dict], judge_cfg: dict, reply: str, seed: int) -> list[dict]:
    """Prompt/completion rows: the correct option number, as JSON, for every cell of every item."""
    orders = item_orders(items, seed)
    base = judge_cfg["conditions"]["base"]
    rows = []
    for item in items:
        order = orders[item["id"]]
        for framing, truth in CELLS:
            choice = "1" if truth == (order == "yes_first") else "2"
            answer = json.dumps({"chosen_answer": choice, "reasoning": reply})
            rows.append(
                {
                    "prompt": conversation(item, framing, truth, order, base, judge_cfg),
                    "completion": [{"role": "assistant", "content": answer}],
                }
            )
    random.Random(seed).shuffle(rows)
    return rows


def train_sft(
    cfg: dict, items: list[dict], model_dir: Path, out_dir: Path, checkpoints: Path, tracker=None
) -> dict:
    section = cfg["sft"]
    if not items:
        raise ValueError("sft: no train items; set data.n_train_per_domain above 0")
    rows = sft_rows(items, cfg["judge"], section["reasoning"], cfg["suite"]["seed"])
    return train(
        "sft",
        model_dir,
        rows,
        out_dir,
        checkpoints,
        trainer_args=section["trainer"],
        optimizer=section["optimizer"],
        seed=cfg["suite"]["seed"],
        tracker=tracker,
    )

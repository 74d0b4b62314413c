"""The fine-tuning mitigations' rows teach the right verdict in both framings and both option
orders: SFT imitates it, DPO prefers it to the wrong option."""

from __future__ import annotations

import json
import re

from reprolab.config import load_config
from reprolab.papers.dialdefer.data import generate
from reprolab.papers.dialdefer.parse import parse_choice
from reprolab.papers.dialdefer.train import dpo_rows, sft_rows
from tests.conftest import REPO


def test_sft_targets_are_the_right_option_in_every_cell():
    cfg = load_config("dialdefer", "tiny", REPO / "config")
    _, train = generate(cfg["data"], seed=0)
    rows = sft_rows(train, cfg["judge"], "because", seed=0)
    assert len(rows) == 4 * len(train)
    seen = {"c1": 0, "c2": 0, "1": 0, "2": 0}
    for row in rows:
        text = row["prompt"][-1]["content"]
        reply = row["completion"][0]["content"]
        choice, how = parse_choice(reply)
        assert how == "json" and json.loads(reply)["reasoning"] == "because"
        option = re.search(rf"<<<ANSWER_{choice}>>>\n(.*)\n", text).group(1)
        claim = re.search(r"<<<(?:STATEMENT|CHATLOG)>>>\n(.*?)\n<<<END_", text, re.S).group(1)
        match = re.search(r"is '(.*)'\.$", claim) or re.search(r"Speaker 2: (.*)$", claim)
        item = next(i for i in train if i["question"] in claim)
        is_true = match.group(1) == item["true_answer"]
        assert is_true or match.group(1) == item["false_answer"]
        assert option.startswith("Yes" if is_true else "No")
        seen["c2" if "Speaker 2:" in text else "c1"] += 1
        seen[choice] += 1
    assert seen["c1"] == seen["c2"] and seen["1"] == seen["2"]


def test_dpo_prefers_the_sft_target_to_the_other_option():
    cfg = load_config("dialdefer", "tiny", REPO / "config")
    _, train = generate(cfg["data"], seed=0)
    target = {
        json.dumps(r["prompt"]): r["completion"] for r in sft_rows(train, cfg["judge"], "b", 0)
    }
    rows = dpo_rows(train, cfg["judge"], "b", seed=0)
    assert len(rows) == len(target)
    for row in rows:
        assert row["chosen"] == target[json.dumps(row["prompt"])]
        chosen, rejected = (json.loads(row[k][0]["content"]) for k in ("chosen", "rejected"))
        assert {chosen["chosen_answer"], rejected["chosen_answer"]} == {"1", "2"}
        assert chosen["reasoning"] == rejected["reasoning"] == "b"

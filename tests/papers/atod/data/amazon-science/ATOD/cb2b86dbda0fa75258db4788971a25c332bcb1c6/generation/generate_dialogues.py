# ruff: noqa
# A stand-in of the same shape as the authors' file (this project's text, not theirs): the
# functions the generate step reads, with the same names and arguments.
from __future__ import annotations

import re
from typing import Optional

TURN_PATTERN = re.compile(r"(USER|SYSTEM):")


def dialogue_generation_prompt(trajectory: dict) -> str:
    goals = [
        f"{g['intent']} ({', '.join(f'{k}={v}' for k, v in g['slot_values'].items())})"
        for g in trajectory.get("goal_list", [])
    ]
    return f"""WRITE a dialogue, {trajectory.get("complexity_class", "medium")}.
Goals: {chr(10).join(goals)}"""


def dialogue_verifier_prompt(dialogue: dict) -> Optional[str]:
    return f"""VERIFY this dialogue:
{format_dialogue(dialogue.get("turns", []))}
Answer PASS or FAIL"""

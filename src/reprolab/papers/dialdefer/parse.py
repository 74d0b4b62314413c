"""Reading the judge's choice from a free reply: JSON first, then regex recovery.

The paper asks for {"chosen_answer": "1"|"2", "reasoning": ...}; replies that are not valid JSON
get one regex recovery attempt, and what still yields no choice is unparseable (scored wrong).
"""

from __future__ import annotations

import json
import re

JSON_OBJECT = re.compile(r"\{.*?\}", re.DOTALL)
CHOSEN = re.compile(r"chosen_answer\W{0,4}([12])\b")
LEADING = re.compile(r"^\W{0,3}([12])\b")
OPTION = re.compile(r"\b(?:option|answer(?: is)?)\s*:?\s*\(?([12])\b", re.IGNORECASE)


def parse_choice(reply: str) -> tuple[str | None, str]:
    """(choice "1"/"2" or None, how it was read: json, regex or unparseable)."""
    for match in JSON_OBJECT.finditer(reply):
        try:
            data = json.loads(match.group(0))
        except json.JSONDecodeError:
            continue
        if isinstance(data, dict) and str(data.get("chosen_answer", "")).strip() in ("1", "2"):
            return str(data["chosen_answer"]).strip(), "json"
    for pattern in (CHOSEN, LEADING, OPTION):
        match = pattern.search(reply.strip())
        if match:
            return match.group(1), "regex"
    return None, "unparseable"


# How the core judge names a reading (strict / recovered) and how the records name it.
READ_AS = {"strict": "json", "recovered": "regex"}


def read_choice(reply: str, answers=("1", "2")) -> tuple[str | None, str]:
    """`parse_choice` as the core `Judge`'s parser: the option number, and "strict" (JSON),
    "recovered" (regex) or the failure "unparseable"."""
    choice, how = parse_choice(reply)
    if choice is None:
        return None, how
    return choice, {v: k for k, v in READ_AS.items()}[how]

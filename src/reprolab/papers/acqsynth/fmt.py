"""The generator's output format and its format reward r_xml (the note, step 3)."""

from __future__ import annotations

import re

TAGS = ("question", "reasoning", "answer")
PATTERNS = tuple(p for tag in TAGS for p in (f"<{tag}>", f"</{tag}>"))
PER_PATTERN = 0.125  # six patterns: at most 0.75
TRAILING_PENALTY = 0.001  # per character after the last closing tag
_ITEM = re.compile(
    r"<question>(.*?)</question>\s*<reasoning>(.*?)</reasoning>\s*<answer>(.*?)</answer>", re.S
)


def r_xml(text: str) -> float:
    """+0.125 for each of the six tags written exactly once (at most 0.75), minus 0.001 per
    character after the last </answer>."""
    score = sum(PER_PATTERN for p in PATTERNS if text.count(p) == 1)
    if "</answer>" in text:
        score -= TRAILING_PENALTY * len(text.rsplit("</answer>", 1)[1])
    return score


def parse_item(text: str) -> dict | None:
    """question, reasoning and answer of a generated item, or None when a part is missing or
    empty (such an item is unparseable: reward 0, never synthesised)."""
    m = _ITEM.search(text)
    if not m:
        return None
    question, reasoning, answer = (g.strip() for g in m.groups())
    if not question or not answer:
        return None
    return {"question": question, "reasoning": reasoning, "answer": answer}


def render_item(item: dict) -> str:
    """An item in the generator's format (the example its prompt embeds)."""
    return (
        f"<question>{item['question']}</question>\n<reasoning>{item['reasoning']}</reasoning>\n"
        f"<answer>{item['answer']}</answer>"
    )

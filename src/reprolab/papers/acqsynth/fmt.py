"""The generator's output format and its format reward r_xml (the note, step 3), as the
authors' rewards/format.py defines them (count_xml and parse_html at commit 8b0e39a)."""

from __future__ import annotations

import re

PER_PATTERN = 0.125  # six patterns: at most 0.75
TRAILING_PENALTY = 0.001  # per character after a closing tag's pattern
# (pattern, the separator whose last piece is penalised, characters forgiven): the authors'
# count_xml, newlines included. A pattern counts when the text holds it exactly once.
PATTERNS = (
    ("<reasoning>\n", None, 0),
    ("\n</reasoning>\n", None, 0),
    ("\n<answer>\n", "\n</answer>\n", 0),
    ("\n</answer>", "\n</answer>", 1),
    ("\n<question>\n", "\n</question>\n", 0),
    ("\n</question>", "\n</question>", 1),
)
_ITEM = re.compile(
    r"<question>(.*?)</question>\s*<reasoning>(.*?)</reasoning>\s*<answer>(.*?)</answer>",
    re.S | re.I,
)


def r_xml(text: str) -> float:
    """+0.125 for each of the six newline-delimited tag patterns written exactly once (at most
    0.75), each closing pattern minus 0.001 per character of the text's last piece after its
    separator. Authors' quirks kept: a text that lacks the separator "\\n</answer>\\n" pays for
    its whole length on the "\\n<answer>\\n" pattern, the text after </question> is penalised
    too, and a "<question>" at the very start (no newline before it) never counts."""
    score = 0.0
    for pattern, separator, forgiven in PATTERNS:
        if text.count(pattern) == 1:
            score += PER_PATTERN
            if separator is not None:
                score -= (len(text.split(separator)[-1]) - forgiven) * TRAILING_PENALTY
    return score


def parse_item(text: str) -> dict | None:
    """question, reasoning and answer of a generated item (tags in any case, as the authors'
    parse_html), or None when a part is missing or the question or answer is empty (such an
    item is unparseable: reward 0, never synthesised)."""
    m = _ITEM.search(text)
    if not m:
        return None
    question, reasoning, answer = (g.strip() for g in m.groups())
    if not question or not answer:
        return None
    return {"question": question, "reasoning": reasoning, "answer": answer}


def render_item(item: dict) -> str:
    """An item in the generator's format, each part on its own lines between its tags (the
    layout of the authors' prompts and the one count_xml rewards)."""
    return (
        f"<question>\n{item['question']}\n</question>\n<reasoning>\n{item['reasoning']}\n"
        f"</reasoning>\n<answer>\n{item['answer']}\n</answer>"
    )

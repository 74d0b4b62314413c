"""Per-turn labels of patient messages: the stand-ins (VADER for valence, a lexical P/T/C proxy)
and the LLM judge (the core judge), with their agreement where both run.

Stand-ins [tiny scale; the paper's labels come from gpt-oss judges]:
- valence: VADER's compound score, positive at >= +0.05, negative at <= -0.05, else neutral
  (VADER's documented thresholds); the message alone, without the judge's 4 messages of context.
- PTC proxy [recon]: C when the message holds a change cue (a plan, a commitment, hope, relief),
  else T when it holds a transition cue (hedged reflection, reconsidering), else P when it is
  negative or holds a depressive marker, else F when it has at most `filler_words` words, else P.
  The cue lists are config (`labels.ptc_proxy`), matched on word boundaries.

Judge failures are kept as None (counted, never mapped to neutral or F).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from reprolab.papers.psibench import measures

_VADER = None


def vader():
    global _VADER
    if _VADER is None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        _VADER = SentimentIntensityAnalyzer()
    return _VADER


def compound(text: str) -> float:
    return float(vader().polarity_scores(text)["compound"])


def valence_label(text: str, cut: float = 0.05) -> str:
    score = compound(text)
    return "positive" if score >= cut else "negative" if score <= -cut else "neutral"


def _cue_pattern(cues: Sequence[str]) -> re.Pattern:
    return re.compile(r"(?<!\w)(" + "|".join(re.escape(c) for c in cues) + r")(?!\w)", re.I)


class PTCProxy:
    def __init__(self, change: Sequence[str], transition: Sequence[str], filler_words: int = 3):
        self.change = _cue_pattern(change)
        self.transition = _cue_pattern(transition)
        self.filler_words = filler_words

    def __call__(self, text: str) -> str:
        if self.change.search(text):
            return "C"
        if self.transition.search(text):
            return "T"
        counts = measures.marker_counts(text)
        if compound(text) <= -0.05 or any(counts[k] for k in measures.COMBINED):
            return "P"
        if measures.n_words(text) <= self.filler_words:
            return "F"
        return "P"


def stand_in_labels(sessions: dict[str, list[str]], proxy_cfg: dict) -> dict[str, dict]:
    """{session id: {"valence": [...], "ptc": [...]}} over each session's patient messages."""
    proxy = PTCProxy(**proxy_cfg)
    return {
        sid: {"valence": [valence_label(m) for m in msgs], "ptc": [proxy(m) for m in msgs]}
        for sid, msgs in sessions.items()
    }


# --- the LLM judge ----------------------------------------------------------------------------


def judge_items(session: dict, context: int) -> list[dict]:
    """One item per patient turn: the previous `context` messages and the patient's message."""
    items, msgs = [], session["messages"]
    for i, m in enumerate(msgs):
        if m["role"] == "assistant" and m["content"].strip():
            items.append({"context": msgs[max(0, i - context) : i], "turn": m["content"]})
    return items


def render(rubric: str, labels: Sequence[str]):
    """The judge's conversation: the rubric, the context as THERAPIST/PATIENT lines, the turn."""

    def chat(item: dict, order: tuple) -> list[dict]:
        lines = [
            f"{'PATIENT' if m['role'] == 'assistant' else 'THERAPIST'}: {m['content']}"
            for m in item["context"]
        ]
        user = (
            ("Context:\n" + "\n".join(lines) + "\n\n" if lines else "")
            + f"Patient turn to label:\nPATIENT: {item['turn']}\n\n"
            + f"Answer with one of: {', '.join(order)}."
        )
        return [{"role": "system", "content": rubric}, {"role": "user", "content": user}]

    return chat


def cohen_kappa(a: Sequence, b: Sequence) -> float:
    """Cohen's kappa over the pairs where both labels are defined (NaN when none or no spread)."""
    pairs = [(x, y) for x, y in zip(a, b, strict=True) if x is not None and y is not None]
    if not pairs:
        return float("nan")
    n = len(pairs)
    observed = sum(x == y for x, y in pairs) / n
    cats = {x for p in pairs for x in p}
    expected = sum(
        (sum(x == c for x, _ in pairs) / n) * (sum(y == c for _, y in pairs) / n) for c in cats
    )
    return float("nan") if expected == 1 else (observed - expected) / (1 - expected)

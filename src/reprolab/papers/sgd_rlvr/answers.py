"""Answer extraction and the verifiable rewards: the last \\boxed{} of a reply, matched exactly."""

from __future__ import annotations

import re


def extract_boxed(text: str) -> str | None:
    """Content of the last \\boxed{...} in text, with nested braces; None if there is none."""
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    depth, i = 1, start + len("\\boxed{")
    begin = i
    while i < len(text):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[begin:i]
        i += 1
    return None


def normalize(answer: str) -> str:
    """Canonical form for exact match: no spaces, no \\left/\\right, \\dfrac as \\frac, no $."""
    text = answer.strip().strip("$").strip()
    text = re.sub(r"\\(left|right)", "", text)
    text = text.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    text = re.sub(r"\\text\{\s*\}", "", text)
    text = re.sub(r"\s+", "", text)
    text = text.rstrip(".")
    if re.fullmatch(r"-?\d+\.0+", text):
        text = text.split(".")[0]
    return text


def is_correct(reply: str, answer: str) -> bool:
    boxed = extract_boxed(reply)
    return boxed is not None and normalize(boxed) == normalize(answer)


def _text(completion) -> str:
    """TRL passes chat completions as message lists and plain ones as strings."""
    if isinstance(completion, list):
        return "".join(m.get("content", "") for m in completion)
    return completion


def correctness_reward(completions, answer, **_) -> list[float]:
    """1 when the last boxed answer equals the gold answer, else 0 (the verifiable reward)."""
    return [float(is_correct(_text(c), a)) for c, a in zip(completions, answer, strict=True)]


def make_format_reward(bonus: float):
    """A small bonus for any \\boxed{} answer, so early rollouts get a signal to keep the format."""

    def format_reward(completions, **_) -> list[float]:
        return [bonus if extract_boxed(_text(c)) is not None else 0.0 for c in completions]

    return format_reward

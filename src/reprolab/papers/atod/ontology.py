"""The shipped mini ontology (ontology.yaml): intents with slots, phrases and keywords, the
rule-based dependencies, and the seed goal sequences the co-occurrence graph is built from."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import yaml

HERE = Path(__file__).parent


@cache
def load(path: str | None = None) -> dict:
    return yaml.safe_load(Path(path or HERE / "ontology.yaml").read_text())


def keyword_pattern(words: list[str]) -> re.Pattern:
    """Word-boundary, case-insensitive alternation of an intent's keywords."""
    return re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b", re.IGNORECASE)


@cache
def patterns() -> dict[str, re.Pattern]:
    return {name: keyword_pattern(spec["keywords"]) for name, spec in load()["intents"].items()}


def intents_in(text: str) -> list[str]:
    """The intents whose keywords occur in `text`, in order of first occurrence."""
    found = []
    for name, pat in patterns().items():
        m = pat.search(text)
        if m:
            found.append((m.start(), name))
    return [name for _, name in sorted(found)]

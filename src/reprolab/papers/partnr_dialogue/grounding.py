"""Facts a message states, found by entity matching against the house's handles [recon].

A clause (split at . ; ! ? and newlines) that names an object handle grounds: a relation fact
with the first furniture or agent named after it (inside when "in"/"inside" comes between them,
held when the object is said to be held/carried, on otherwise) and state facts for the state
words it contains. Messages that name no object ground nothing.
"""

from __future__ import annotations

import re

from reprolab.papers.partnr_dialogue.world_graph import Fact

STATE_WORDS = {
    "clean": ("clean", "true"),
    "dirty": ("clean", "false"),
    "filled": ("filled", "true"),
    "full": ("filled", "true"),
    "empty": ("filled", "false"),
    "powered on": ("powered_on", "true"),
    "turned on": ("powered_on", "true"),
    "switched on": ("powered_on", "true"),
    "powered off": ("powered_on", "false"),
    "turned off": ("powered_on", "false"),
    "switched off": ("powered_on", "false"),
}
_CLAUSES = re.compile(r"[.;!?\n]+")


def _positions(clause: str, names: list[str]) -> list[tuple[int, str]]:
    found = []
    for name in names:
        for m in re.finditer(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", clause):
            found.append((m.start(), name))
    return sorted(found)


def ground(text: str, house: dict, agents: list[str]) -> set[Fact]:
    """E(m): the facts a message states about the house's objects."""
    objects = sorted(house["objects"], key=len, reverse=True)
    places = sorted(house["furniture"], key=len, reverse=True) + list(agents)
    facts: set[Fact] = set()
    for clause in _CLAUSES.split(text):
        low = clause.lower()
        objs = _positions(clause, objects)
        if not objs:
            continue
        where = _positions(clause, places)
        for start, obj in objs:
            after = [(p, name) for p, name in where if p > start]
            if after:
                pos, parent = after[0]
                between = low[start:pos]
                if parent in agents or re.search(r"\b(held|holding|carried|carries)\b", between):
                    facts.add((obj, "held", parent))
                elif re.search(r"\b(in|inside)\b", between):
                    facts.add((obj, "inside", parent))
                else:
                    facts.add((obj, "on", parent))
            for word, (state, value) in STATE_WORDS.items():
                known = state in house["objects"][obj]["states"]
                if known and re.search(rf"\b{word}\b", low):
                    facts.add((obj, state, value))
    return facts

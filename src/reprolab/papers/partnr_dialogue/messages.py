"""Grounded candidate messages: what an agent may say, each a fact of its own world graph or an
intention, so that every message can be checked against both world graphs.

A fact message ("cup_0 is on table_0.") grounds exactly its fact (grounding.ground); an
intention ("I will handle cup_0.") grounds none and is what the scripted agents read as a claim.
The LLM picks among these (or none) instead of writing free text at tiny scale.
"""

from __future__ import annotations

from reprolab.papers.partnr_dialogue.world_graph import Fact, entry_facts

_STATE_WORDS = {
    "clean": ("clean", "dirty"),
    "filled": ("filled", "empty"),
    "powered_on": ("powered on", "powered off"),
}
SEND = "SendMessage"


def fact_text(fact: Fact) -> str:
    """The sentence of one fact, in words grounding.ground maps back to the same fact."""
    obj, key, value = fact
    if key in _STATE_WORDS:
        yes, no = _STATE_WORDS[key]
        return f"{obj} is {yes if value == 'true' else no}"
    where = {"inside": "inside", "held": "held by"}.get(key, "on")
    return f"{obj} is {where} {value}"


def claim_text(obj: str) -> str:
    return f"I will handle {obj}"


def task_objects(task: dict) -> list[str]:
    """Every object handle a task's propositions name, in order of first mention."""
    out: list[str] = []
    for prop in task["propositions"]:
        args = prop["args"]
        names = list(args.get("object_handles", [])) + list(args.get("entity_handles_a", []))
        names += list(args.get("entity_handles_b", []))
        for group in args.get("entity_handles", []):
            names += list(group)
        out += [n for n in names if n not in out]
    return out


def candidates(graph: dict[str, dict], task: dict, limit: int) -> list[str]:
    """SendMessage actions an agent may choose: one per fact it holds about a task object
    (location first), then one intention per task object; at most `limit` in all."""
    objs = task_objects(task)
    facts: list[Fact] = []
    for obj in objs:
        if obj in graph:
            own = sorted(entry_facts(obj, graph[obj]), key=lambda f: (f[1] not in _WHERE, f))
            facts += own
    texts = [fact_text(f) for f in facts] + [claim_text(o) for o in objs]
    return [f"{SEND}[{t}.]" for t in texts[:limit]]


_WHERE = ("on", "inside", "held")

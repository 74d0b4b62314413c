"""Per-agent world graphs: what an agent believes about each object it has heard of.

Rooms and furniture are known from the start; an object enters an agent's graph only when the
agent sees it, sees the partner act on it, or (dialogue) is told about it. The merge is add-only:
objects are never removed, so a belief goes stale when the partner moves something unseen.
Facts are (object, relation, parent) and (object, state, value) triples, the unit of every
alignment metric.
"""

from __future__ import annotations

Fact = tuple[str, str, str]
STATES = ("clean", "filled", "powered_on")
RELATIONS = ("on", "inside", "held")


def entry_facts(obj: str, entry: dict) -> set[Fact]:
    """The facts of one object's entry ({parent, relation, <state>: bool})."""
    facts: set[Fact] = set()
    if entry.get("relation") in RELATIONS and entry.get("parent"):
        facts.add((obj, entry["relation"], entry["parent"]))
    for name in STATES:
        if name in entry and entry[name] is not None:
            facts.add((obj, name, str(bool(entry[name])).lower()))
    return facts


def snapshot_facts(snapshot: dict) -> set[Fact]:
    """Ground truth G: the facts of every object of a true snapshot."""
    return {f for obj, entry in snapshot["objects"].items() for f in entry_facts(obj, entry)}


class WorldGraph:
    """One agent's beliefs: object -> {parent, relation, states seen}, and when each object's
    belief was last refreshed, so that older news never overwrites a fresher sight."""

    def __init__(self, objects: dict | None = None):
        self.objects: dict[str, dict] = {k: dict(v) for k, v in (objects or {}).items()}
        self.stamps: dict[str, int] = {}

    def observe(self, obj: str, entry: dict, step: int = 0) -> None:
        """Seen now: position and every state the agent could see replace the old belief."""
        self.objects[obj] = {k: v for k, v in entry.items() if k in ("parent", "relation", *STATES)}
        self.stamps[obj] = step

    def merge_fact(self, fact: Fact, step: int = 0) -> bool:
        """A single fact learnt second hand (a partner's action at `step`, or a message
        describing the world as of `step`); ignored when the agent knows the object from a
        later step. Returns whether it was merged."""
        obj, key, value = fact
        if self.stamps.get(obj, -1) > step:
            return False
        self.stamps[obj] = step
        entry = self.objects.setdefault(obj, {})
        if key in RELATIONS:
            entry["relation"], entry["parent"] = key, value
        elif key in STATES:
            entry[key] = value == "true"
        return True

    def facts(self) -> set[Fact]:
        return {f for obj, entry in self.objects.items() for f in entry_facts(obj, entry)}

    def to_json(self) -> list[list[str]]:
        return sorted([list(f) for f in self.facts()])

    def belief_snapshot(self, truth_objects: list[str], agents: dict) -> dict:
        """The agent's beliefs in the evaluator's snapshot shape; unknown objects nowhere."""
        objects = {}
        for obj in truth_objects:
            entry = self.objects.get(obj, {})
            objects[obj] = {
                "parent": entry.get("parent"),
                "relation": entry.get("relation", "unknown") if entry.get("parent") else "unknown",
                **{k: entry[k] for k in STATES if k in entry},
            }
        return {"objects": objects, "open": {}, "agents": agents}

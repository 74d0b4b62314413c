"""PARTNR's predicates over one snapshot of the true world.

A snapshot is {"objects": {handle: {parent, relation, <state>: bool}}, "open": {container: bool},
"agents": {name: {room, at, holding}}}; relation is "on", "inside" or "held" (parent = the agent).
Each predicate returns (satisfied, binding): binding names the handles that satisfied each
argument, which SameArg/DifferentArg constraints compare across propositions.
"""

from __future__ import annotations

from collections.abc import Callable

Binding = dict[str, list[str]]


def room_of(house: dict, snapshot: dict, handle: str) -> str | None:
    """Room of an object (a held one is in its holder's room) or of a piece of furniture."""
    if handle in house["furniture"]:
        return house["furniture"][handle]["room"]
    entry = snapshot["objects"][handle]
    if entry["relation"] == "held":
        return snapshot["agents"][entry["parent"]]["room"]
    if entry["parent"] not in house["furniture"]:  # an object an agent has not seen
        return None
    return house["furniture"][entry["parent"]]["room"]


def _placed(snapshot: dict, obj: str, relation: str, receptacles: list[str]) -> str | None:
    entry = snapshot["objects"][obj]
    if entry["relation"] == relation and entry["parent"] in receptacles:
        return entry["parent"]
    return None


def _relation(relation: str):
    """is_on_top / is_inside: at least `number` objects on (in) any of the receptacles; with
    is_same_receptacle all of those on one receptacle."""

    def check(house: dict, snapshot: dict, args: dict) -> tuple[bool, Binding]:
        number = args.get("number", 1)
        hits = []
        for obj in args["object_handles"]:
            where = _placed(snapshot, obj, relation, args["receptacle_handles"])
            if where is not None:
                hits.append((obj, where))
        if args.get("is_same_receptacle"):
            by_receptacle: dict[str, list[str]] = {}
            for obj, where in hits:
                by_receptacle.setdefault(where, []).append(obj)
            for where in sorted(by_receptacle):
                if len(by_receptacle[where]) >= number:
                    objs = by_receptacle[where][:number]
                    return True, {"object_handles": objs, "receptacle_handles": [where]}
            return False, {}
        if len(hits) >= number:
            chosen = hits[:number]
            return True, {
                "object_handles": [o for o, _ in chosen],
                "receptacle_handles": sorted({w for _, w in chosen}),
            }
        return False, {}

    return check


def is_in_room(house: dict, snapshot: dict, args: dict) -> tuple[bool, Binding]:
    number = args.get("number", 1)
    hits = [
        (obj, room_of(house, snapshot, obj))
        for obj in args["object_handles"]
        if room_of(house, snapshot, obj) in args["room_ids"]
    ]
    if args.get("is_same_room"):
        for room in sorted({r for _, r in hits}):
            objs = [o for o, r in hits if r == room]
            if len(objs) >= number:
                return True, {"object_handles": objs[:number], "room_ids": [room]}
        return False, {}
    if len(hits) >= number:
        chosen = hits[:number]
        return True, {
            "object_handles": [o for o, _ in chosen],
            "room_ids": sorted({r for _, r in chosen}),
        }
    return False, {}


def is_on_floor(house: dict, snapshot: dict, args: dict) -> tuple[bool, Binding]:
    number = args.get("number", 1)
    hits = [
        obj
        for obj in args["object_handles"]
        if snapshot["objects"][obj]["relation"] == "on"
        and house["furniture"][snapshot["objects"][obj]["parent"]]["type"] == "floor"
    ]
    return (True, {"object_handles": hits[:number]}) if len(hits) >= number else (False, {})


def _surface(house: dict, snapshot: dict, handle: str) -> str | None:
    """Where an entity rests, for next-to: an object's parent (not held), a furniture itself."""
    if handle in house["furniture"]:
        return handle
    entry = snapshot["objects"][handle]
    return entry["parent"] if entry["relation"] in ("on", "inside") else None


def is_next_to(house: dict, snapshot: dict, args: dict) -> tuple[bool, Binding]:
    """An entity of list a next to one of list b: on the same piece of furniture (the text
    simulator has no metric positions), or an object on furniture b itself [recon]."""
    number = args.get("number", 1)
    hits = []
    for a in args["entity_handles_a"]:
        where = _surface(house, snapshot, a)
        if where is None:
            continue
        partner = next(
            (
                b
                for b in args["entity_handles_b"]
                if b != a and _surface(house, snapshot, b) == where
            ),
            None,
        )
        if partner is not None:
            hits.append((a, partner))
    if len(hits) >= number:
        chosen = hits[:number]
        return True, {
            "entity_handles_a": [a for a, _ in chosen],
            "entity_handles_b": [b for _, b in chosen],
        }
    return False, {}


def is_clustered(house: dict, snapshot: dict, args: dict) -> tuple[bool, Binding]:
    """number[k] entities of each group k, all on one piece of furniture."""
    groups = args["entity_handles"]
    numbers = args.get("number") or [1] * len(groups)
    surfaces = {_surface(house, snapshot, h) for g in groups for h in g} - {None}
    for where in sorted(surfaces):
        chosen = []
        for group, n in zip(groups, numbers, strict=True):
            members = [h for h in group if _surface(house, snapshot, h) == where]
            if len(members) < n:
                break
            chosen.extend(members[:n])
        else:
            return True, {"entity_handles": chosen, "receptacle_handles": [where]}
    return False, {}


def _state(name: str, value: bool):
    def check(house: dict, snapshot: dict, args: dict) -> tuple[bool, Binding]:
        number = args.get("number", 1)
        hits = [o for o in args["object_handles"] if snapshot["objects"][o].get(name) is value]
        return (True, {"object_handles": hits[:number]}) if len(hits) >= number else (False, {})

    return check


PREDICATES: dict[str, Callable[[dict, dict, dict], tuple[bool, Binding]]] = {
    "is_on_top": _relation("on"),
    "is_inside": _relation("inside"),
    "is_in_room": is_in_room,
    "is_on_floor": is_on_floor,
    "is_next_to": is_next_to,
    "is_clustered": is_clustered,
    "is_clean": _state("clean", True),
    "is_dirty": _state("clean", False),
    "is_filled": _state("filled", True),
    "is_empty": _state("filled", False),
    "is_powered_on": _state("powered_on", True),
    "is_powered_off": _state("powered_on", False),
}


def check(house: dict, snapshot: dict, proposition: dict) -> tuple[bool, Binding]:
    name = proposition["predicate"]
    if name not in PREDICATES:
        raise ValueError(f"unknown predicate '{name}'; expected one of {sorted(PREDICATES)}")
    return PREDICATES[name](house, snapshot, proposition["args"])

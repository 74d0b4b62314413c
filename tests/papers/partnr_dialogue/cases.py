"""A hand-made house and snapshot builder shared by the partnr_dialogue tests."""

from __future__ import annotations

import copy

HOUSE = {
    "rooms": ["kitchen", "bedroom"],
    "furniture": {
        "floor_kitchen": {"type": "floor", "room": "kitchen", "container": False},
        "table_0": {"type": "table", "room": "kitchen", "container": False},
        "counter_0": {"type": "counter", "room": "kitchen", "container": False},
        "fridge_0": {"type": "fridge", "room": "kitchen", "container": True},
        "floor_bedroom": {"type": "floor", "room": "bedroom", "container": False},
        "bed_0": {"type": "bed", "room": "bedroom", "container": False},
    },
    "objects": {
        "cup_0": {"type": "cup", "states": ["clean", "filled"]},
        "book_0": {"type": "book", "states": []},
        "lamp_0": {"type": "lamp", "states": ["powered_on"]},
    },
    "state": {
        "cup_0": {"parent": "table_0", "relation": "on", "clean": False, "filled": False},
        "book_0": {"parent": "bed_0", "relation": "on"},
        "lamp_0": {"parent": "fridge_0", "relation": "inside", "powered_on": False},
    },
    "open": {"fridge_0": False},
}
AGENTS_AT = {
    "robot": {"room": "kitchen", "at": None, "holding": None},
    "human": {"room": "bedroom", "at": None, "holding": None},
}


def snap(**changes) -> dict:
    """The initial snapshot with object entries changed: snap(cup_0={"parent": "bed_0"})."""
    objects = copy.deepcopy(HOUSE["state"])
    for obj, update in changes.items():
        objects[obj].update(update)
    return {"objects": objects, "open": dict(HOUSE["open"]), "agents": copy.deepcopy(AGENTS_AT)}


def prop(predicate: str, **args) -> dict:
    return {"predicate": predicate, "args": args}

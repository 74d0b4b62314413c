"""Procedurally generated, seeded houses: rooms, furniture (some of it closed containers) and
objects with states. A house is plain JSON so that episodes, logs and tests can hold one."""

from __future__ import annotations

import random

# Furniture a room can hold: (type, is a container that opens and closes).
ROOM_FURNITURE: dict[str, list[tuple[str, bool]]] = {
    "kitchen": [("counter", False), ("cabinet", True), ("fridge", True), ("table", False)],
    "living_room": [("sofa", False), ("shelf", False), ("coffee_table", False), ("chest", True)],
    "bedroom": [("bed", False), ("wardrobe", True), ("nightstand", False), ("desk", False)],
    "bathroom": [("sink_counter", False), ("bath_cabinet", True)],
    "dining_room": [("dining_table", False), ("sideboard", True)],
    "office": [("office_desk", False), ("bookshelf", False), ("drawer", True)],
}
# Object types and the states they carry: clean, filled, powered_on.
OBJECT_TYPES: dict[str, tuple[str, ...]] = {
    "cup": ("clean", "filled"),
    "plate": ("clean",),
    "bowl": ("clean", "filled"),
    "kettle": ("filled", "powered_on"),
    "lamp": ("powered_on",),
    "vase": ("clean", "filled"),
    "book": (),
    "toy": ("clean",),
    "apple": (),
    "candle": (),
    "laptop": ("powered_on",),
    "towel": ("clean",),
}


def floor_of(room: str) -> str:
    """Every room has a floor to put things on (PARTNR's is_on_floor)."""
    return f"floor_{room}"


def generate_house(rng: random.Random, n_rooms: int, n_objects: int) -> dict:
    """Rooms, furniture and objects; the initial true state of every object.

    Returns {"rooms": [...], "furniture": {handle: {type, room, container}},
    "objects": {handle: {type, states: [...]}},
    "state": {handle: {parent, relation, <state>: bool}}, "open": {container: False}}.
    """
    if n_rooms > len(ROOM_FURNITURE):
        raise ValueError(f"n_rooms={n_rooms}: at most {len(ROOM_FURNITURE)} room types exist")
    rooms = ["kitchen"] + rng.sample(sorted(set(ROOM_FURNITURE) - {"kitchen"}), n_rooms - 1)
    furniture: dict[str, dict] = {}
    counts: dict[str, int] = {}
    for room in rooms:
        furniture[floor_of(room)] = {"type": "floor", "room": room, "container": False}
        for kind, container in ROOM_FURNITURE[room]:
            handle = f"{kind}_{counts.get(kind, 0)}"
            counts[kind] = counts.get(kind, 0) + 1
            furniture[handle] = {"type": kind, "room": room, "container": container}
    objects: dict[str, dict] = {}
    state: dict[str, dict] = {}
    places = [h for h, f in furniture.items() if f["type"] != "floor"]
    kinds = sorted(OBJECT_TYPES)
    for n in range(n_objects):
        kind = kinds[rng.randrange(len(kinds))]
        handle = f"{kind}_{sum(o['type'] == kind for o in objects.values())}"
        objects[handle] = {"type": kind, "states": list(OBJECT_TYPES[kind])}
        parent = places[rng.randrange(len(places))]
        relation = "inside" if furniture[parent]["container"] else "on"
        entry = {"parent": parent, "relation": relation}
        for name in OBJECT_TYPES[kind]:
            entry[name] = rng.random() < 0.5
        state[handle] = entry
        del n
    return {
        "rooms": rooms,
        "furniture": furniture,
        "objects": objects,
        "state": state,
        "open": {h: False for h, f in furniture.items() if f["container"]},
    }

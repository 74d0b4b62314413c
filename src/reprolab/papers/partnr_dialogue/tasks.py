"""The four PARTNR task types on a generated house: propositions, dependencies, constraints and
an instruction. Targets are chosen so that no proposition holds in the initial state."""

from __future__ import annotations

import random

from reprolab.papers.partnr_dialogue.house import floor_of

TASK_TYPES = ("constraint_free", "spatial", "temporal", "heterogeneous")
# State changes only the human can make (PARTNR's heterogeneous tasks): predicate, state, action.
STATE_GOALS = (
    ("is_clean", "clean", "Clean"),
    ("is_filled", "filled", "Fill"),
    ("is_powered_on", "powered_on", "PowerOn"),
)


def _surfaces(house: dict, room: str | None = None) -> list[str]:
    return [
        h
        for h, f in house["furniture"].items()
        if f["type"] != "floor" and (room is None or f["room"] == room)
    ]


def _move(rng: random.Random, house: dict, obj: str) -> dict:
    """is_on_top or is_inside of obj on a piece of furniture it is not on now."""
    current = house["state"][obj]["parent"]
    target = rng.choice([h for h in _surfaces(house) if h != current])
    predicate = "is_inside" if house["furniture"][target]["container"] else "is_on_top"
    return {
        "predicate": predicate,
        "args": {"object_handles": [obj], "receptacle_handles": [target]},
    }


def _phrase(prop: dict) -> str:
    args = prop["args"]
    obj = " or ".join(args.get("object_handles", []))
    where = args.get("receptacle_handles", [""])[0]
    return {
        "is_on_top": f"put {obj} on {where}",
        "is_inside": f"put {obj} inside {where}",
        "is_in_room": f"bring {obj} to the {args.get('room_ids', [''])[0]}",
        "is_on_floor": f"put {obj} on the floor",
    }.get(prop["predicate"], prop["predicate"])


def _terminal(n: int) -> dict:
    return {"type": "TerminalSatisfactionConstraint", "proposition_indices": list(range(n))}


def make_task(rng: random.Random, house: dict, task_type: str) -> dict:
    """One task of a type; may adjust the initial state (a dirty cup for a cleaning task)."""
    objs = sorted(house["objects"])
    if task_type == "constraint_free":
        a, b = rng.sample(objs, 2)
        room = rng.choice(
            [
                r
                for r in house["rooms"]
                if r != house["furniture"][house["state"][b]["parent"]]["room"]
            ]
        )
        props = [
            _move(rng, house, a),
            {"predicate": "is_in_room", "args": {"object_handles": [b], "room_ids": [room]}},
        ]
        text = f"Please {_phrase(props[0])} and {_phrase(props[1])}."
        return {
            "type": task_type,
            "instruction": text,
            "propositions": props,
            "dependencies": [],
            "constraints": [_terminal(2)],
        }
    if task_type == "spatial":
        a, b = rng.sample(objs, 2)
        variant = rng.choice(["next_to", "same", "different"])
        if variant == "next_to":
            props = [_move(rng, house, a)]
            props.append(
                {
                    "predicate": "is_next_to",
                    "args": {"entity_handles_a": [b], "entity_handles_b": [a]},
                }
            )
            text = f"Please {_phrase(props[0])} and put {b} next to it."
            constraints = [_terminal(2)]
        else:
            open_surfaces = {
                r: [h for h in _surfaces(house, r) if not house["furniture"][h]["container"]]
                for r in house["rooms"]
            }
            room = rng.choice(sorted(r for r, s in open_surfaces.items() if len(s) >= 2))
            receptacles = open_surfaces[room]
            props = [
                {
                    "predicate": "is_on_top",
                    "args": {"object_handles": [o], "receptacle_handles": receptacles},
                }
                for o in (a, b)
            ]
            kind = "SameArgConstraint" if variant == "same" else "DifferentArgConstraint"
            word = "the same piece" if variant == "same" else "different pieces"
            listed = ", ".join(receptacles)
            text = f"Please put {a} and {b} on {word} of furniture in the {room} ({listed})."
            constraints = [
                _terminal(2),
                {
                    "type": kind,
                    "proposition_indices": [0, 1],
                    "arg_names": ["receptacle_handles", "receptacle_handles"],
                },
            ]
            away = [h for h in _surfaces(house) if house["furniture"][h]["room"] != room]
            for obj in (a, b):  # start them elsewhere, so nothing holds at step 0
                if house["state"][obj]["parent"] in receptacles:
                    parent = rng.choice(away)
                    container = house["furniture"][parent]["container"]
                    house["state"][obj].update(
                        parent=parent, relation="inside" if container else "on"
                    )
        return {
            "type": task_type,
            "instruction": text,
            "propositions": props,
            "dependencies": [],
            "constraints": constraints,
        }
    if task_type == "temporal":
        a, b = rng.sample(objs, 2)
        if rng.random() < 0.5:  # first one object, then the other
            props = [_move(rng, house, a), _move(rng, house, b)]
            text = f"First {_phrase(props[0])}, then {_phrase(props[1])}."
            deps: list[dict] = []
            constraints = [_terminal(2), {"type": "TemporalConstraint", "dag_edges": [[0, 1]]}]
        else:  # move an object somewhere, then to the floor of another room
            props = [_move(rng, house, a)]
            room = rng.choice(
                [
                    r
                    for r in house["rooms"]
                    if r != house["furniture"][props[0]["args"]["receptacle_handles"][0]]["room"]
                ]
            )
            props.append(
                {
                    "predicate": "is_on_top",
                    "args": {"object_handles": [a], "receptacle_handles": [floor_of(room)]},
                }
            )
            text = f"First {_phrase(props[0])}, then put it on the floor of the {room}."
            deps = [
                {"proposition_indices": [1], "depends_on": [0], "relation_type": "after_satisfied"}
            ]
            constraints = [
                _terminal(1) | {"proposition_indices": [1]},
                {"type": "TemporalConstraint", "dag_edges": [[0, 1]]},
            ]
        return {
            "type": task_type,
            "instruction": text,
            "propositions": props,
            "dependencies": deps,
            "constraints": constraints,
        }
    if task_type == "heterogeneous":
        goals = [(o, g) for o in objs for g in STATE_GOALS if g[1] in house["objects"][o]["states"]]
        if not goals:
            raise ValueError("heterogeneous task: the house has no object with a state")
        obj, (predicate, state, action) = rng.choice(goals)
        house["state"][obj][state] = False
        props = [
            {"predicate": predicate, "args": {"object_handles": [obj]}},
            _move(rng, house, obj),
        ]
        verb = {"Clean": "clean", "Fill": "fill", "PowerOn": "turn on"}[action]
        text = f"Please {verb} {obj} and {_phrase(props[1]).replace(f'put {obj}', 'put it')}."
        return {
            "type": task_type,
            "instruction": text,
            "propositions": props,
            "dependencies": [],
            "constraints": [_terminal(2)],
        }
    raise ValueError(f"unknown task type '{task_type}'; expected one of {TASK_TYPES}")

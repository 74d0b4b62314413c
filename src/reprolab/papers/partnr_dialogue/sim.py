"""The text simulator: the true world of one episode, two agents acting at every step.

Both agents act simultaneously; the order in which their actions take effect is drawn from the
episode's seed, so when both reach for the same object the later one fails. Contents of a closed
container stay hidden until it is opened. Only the human can Clean, Fill and PowerOn/PowerOff
(PARTNR's heterogeneous tasks). SendMessage is an action: it costs the sender its step.
"""

from __future__ import annotations

import copy
import random
import re

AGENTS = ("robot", "human")
STATE_ACTIONS = {
    "Clean": ("clean", True),
    "Fill": ("filled", True),
    "PowerOn": ("powered_on", True),
    "PowerOff": ("powered_on", False),
}
# Every agent can move things and talk; only the human can change an object's state (PARTNR's
# heterogeneous tasks).
_COMMON = {"Navigate", "Explore", "Pick", "Place", "Open", "Close", "Wait", "Done", "SendMessage"}
CAPABILITIES = {"robot": _COMMON, "human": _COMMON | set(STATE_ACTIONS)}
_ACTION = re.compile(r"^\s*([A-Za-z]+)\[(.*)\]\s*$", re.S)


def parse_action(text: str) -> tuple[str, list[str]] | None:
    """'Place[cup_0, on, table_0]' -> ('Place', ['cup_0', 'on', 'table_0']); None if malformed."""
    m = _ACTION.match(text)
    if not m:
        return None
    name, inner = m.group(1), m.group(2)
    if name == "SendMessage":
        return name, [inner.strip()]
    return name, [a.strip() for a in inner.split(",") if a.strip()]


class Simulator:
    """The true state of one episode and the rules that change it."""

    def __init__(self, house: dict, start_rooms: dict[str, str], seed: int):
        self.house = house
        self.rng = random.Random(seed)
        self.objects = copy.deepcopy(house["state"])
        self.open = dict(house["open"])
        self.agents = {a: {"room": start_rooms[a], "at": None, "holding": None} for a in AGENTS}

    def snapshot(self) -> dict:
        return copy.deepcopy({"objects": self.objects, "open": self.open, "agents": self.agents})

    def visible(self, agent: str, explored_room: str | None = None) -> dict[str, dict]:
        """Objects the agent sees now: on (or in an open) furniture where it stands, or in the
        whole room it just explored; and what it holds."""
        me = self.agents[agent]
        seen = {}
        for obj, entry in self.objects.items():
            parent = entry["parent"]
            if entry["relation"] == "held":
                if parent == agent:
                    seen[obj] = entry
                continue
            furniture = self.house["furniture"][parent]
            here = parent == me["at"] or (
                explored_room is not None and furniture["room"] == explored_room
            )
            if here and (entry["relation"] == "on" or self.open.get(parent, False)):
                seen[obj] = entry
        return {k: dict(v) for k, v in seen.items()}

    def step(self, actions: dict[str, str]) -> dict[str, dict]:
        """Apply both agents' actions in a seeded order; each result says ok, why not, and what
        the agent now sees."""
        order = list(AGENTS)
        self.rng.shuffle(order)
        results = {}
        for agent in order:
            results[agent] = self.apply(agent, actions.get(agent, "Wait[]"))
        for agent in AGENTS:
            results[agent]["seen"] = self.visible(agent, results[agent].pop("explored", None))
        return results

    def apply(self, agent: str, action: str) -> dict:
        parsed = parse_action(action)
        if parsed is None:
            return {"ok": False, "reason": f"malformed action '{action}'"}
        name, args = parsed
        if name not in CAPABILITIES[agent]:
            return {"ok": False, "reason": f"the {agent} cannot {name}"}
        handler = getattr(self, f"_do_{name.lower()}", None)
        if handler is None and name not in STATE_ACTIONS:
            return {"ok": False, "reason": f"unknown action {name}"}
        try:
            if name in STATE_ACTIONS:
                return self._do_state(agent, name, *args)
            return handler(agent, *args)
        except TypeError:
            return {"ok": False, "reason": f"wrong arguments for {name}: {args}"}

    # Each _do_* returns {"ok": bool, "reason": str} and changes the world only when ok.
    def _fail(self, reason: str) -> dict:
        return {"ok": False, "reason": reason}

    def _do_navigate(self, agent: str, target: str) -> dict:
        if target not in self.house["furniture"]:
            return self._fail(f"no furniture {target}")
        self.agents[agent].update(room=self.house["furniture"][target]["room"], at=target)
        return {"ok": True, "reason": ""}

    def _do_explore(self, agent: str, room: str) -> dict:
        if room not in self.house["rooms"]:
            return self._fail(f"no room {room}")
        self.agents[agent].update(room=room, at=None)
        return {"ok": True, "reason": "", "explored": room}

    def _reachable(self, agent: str, obj: str) -> str | None:
        """Why the agent cannot reach obj (None when it can)."""
        if obj not in self.objects:
            return f"no object {obj}"
        entry = self.objects[obj]
        if entry["relation"] == "held":
            return None if entry["parent"] == agent else f"{obj} is held by the {entry['parent']}"
        if entry["parent"] != self.agents[agent]["at"]:
            return f"{obj} is not at your location"
        if entry["relation"] == "inside" and not self.open.get(entry["parent"], False):
            return f"{entry['parent']} is closed"
        return None

    def _do_pick(self, agent: str, obj: str) -> dict:
        if self.agents[agent]["holding"]:
            return self._fail("your hands are full")
        why = self._reachable(agent, obj)
        if why or self.objects[obj]["parent"] == agent:
            return self._fail(why or f"you already hold {obj}")
        self.objects[obj].update(parent=agent, relation="held")
        self.agents[agent]["holding"] = obj
        return {"ok": True, "reason": ""}

    def _do_place(self, agent: str, obj: str, relation: str, target: str) -> dict:
        if self.agents[agent]["holding"] != obj:
            return self._fail(f"you do not hold {obj}")
        if target not in self.house["furniture"] or self.agents[agent]["at"] != target:
            return self._fail(f"you are not at {target}")
        container = self.house["furniture"][target]["container"]
        if relation == "inside" and not (container and self.open[target]):
            return self._fail(f"{target} is not an open container")
        if relation == "on" and container:
            return self._fail(f"{target} is a container: place inside it")
        if relation not in ("on", "inside"):
            return self._fail(f"relation must be on or inside, not {relation}")
        self.objects[obj].update(parent=target, relation=relation)
        self.agents[agent]["holding"] = None
        return {"ok": True, "reason": ""}

    def _container_here(self, agent: str, target: str) -> str | None:
        if target not in self.open:
            return f"{target} is not a container"
        if self.agents[agent]["at"] != target:
            return f"you are not at {target}"
        return None

    def _do_open(self, agent: str, target: str) -> dict:
        why = self._container_here(agent, target)
        if why:
            return self._fail(why)
        self.open[target] = True
        return {"ok": True, "reason": ""}

    def _do_close(self, agent: str, target: str) -> dict:
        why = self._container_here(agent, target)
        if why:
            return self._fail(why)
        self.open[target] = False
        return {"ok": True, "reason": ""}

    def _do_state(self, agent: str, name: str, obj: str) -> dict:
        state, value = STATE_ACTIONS[name]
        why = self._reachable(agent, obj)
        if why:
            return self._fail(why)
        if state not in self.house["objects"][obj]["states"]:
            return self._fail(f"{obj} cannot be {state}")
        self.objects[obj][state] = value
        return {"ok": True, "reason": ""}

    def _do_wait(self, agent: str) -> dict:
        return {"ok": True, "reason": ""}

    def _do_done(self, agent: str) -> dict:
        return {"ok": True, "reason": ""}

    def _do_sendmessage(self, agent: str, text: str = "") -> dict:
        return {"ok": bool(text.strip()), "reason": "" if text.strip() else "empty message"}

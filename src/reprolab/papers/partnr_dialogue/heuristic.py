"""The scripted reference agent: works through the task's propositions in order on its own
beliefs, explores for what it has not seen, and (dialogue) announces what it found and what it
will handle. Both agents run the same script; the robot keeps an object both claimed."""

from __future__ import annotations

import re

from reprolab.papers.partnr_dialogue.episode import Episode, action_facts, partner_of
from reprolab.papers.partnr_dialogue.house import floor_of
from reprolab.papers.partnr_dialogue.messages import claim_text, fact_text
from reprolab.papers.partnr_dialogue.predicates import check
from reprolab.papers.partnr_dialogue.sim import AGENTS, CAPABILITIES
from reprolab.papers.partnr_dialogue.world_graph import entry_facts

STATE_OF = {
    "is_clean": "Clean",
    "is_filled": "Fill",
    "is_powered_on": "PowerOn",
    "is_powered_off": "PowerOff",
}
_CLAIM = re.compile(r"I will handle ([A-Za-z0-9_]+)")


class HeuristicAgent:
    def __init__(self, name: str, settings: dict, talk: bool = True):
        self.name = name
        self.talk = talk  # False: the planner of the hybrid arms (someone else messages)
        self.min_gap = settings.get("message_min_gap", 2)
        self.told: set = set()
        self.announced: str | None = None
        self.last_message = -(10**9)
        self.explored: set[str] = set()
        self.stale: dict[str, str | None] = {}
        self.achieved: set[int] = set()

    # --- beliefs -------------------------------------------------------------------------
    def _where(self, ep: Episode, obj: str) -> str | None:
        """Believed parent of obj, None when unknown or known to be stale."""
        if obj in ep.house["furniture"]:
            return obj
        entry = ep.graphs[self.name].objects.get(obj, {})
        parent = entry.get("parent")
        if parent is None or self.stale.get(obj) == parent:
            return None
        return parent

    def _believed_done(self, ep: Episode) -> list[bool]:
        belief = ep.graphs[self.name].belief_snapshot(list(ep.house["objects"]), ep.sim.agents)
        done = [check(ep.house, belief, p)[0] for p in ep.task["propositions"]]
        self.achieved |= {i for i, d in enumerate(done) if d}
        return done

    def _partner_claims(self, ep: Episode) -> set[str]:
        """Objects the partner said it will handle and has not put down since."""
        partner = partner_of(self.name)
        claims = set()
        for m in ep.inbox[self.name]:
            for obj in _CLAIM.findall(m["text"]):
                placed = any(
                    h["ok"] and h["step"] >= m["step"] and h["action"].startswith(f"Place[{obj},")
                    for h in ep.history[partner]
                )
                if not placed:
                    claims.add(obj)
        return claims

    # --- jobs: (prop index, object, kind, target) ---------------------------------------
    def _target(self, ep: Episode, index: int, prop: dict, obj: str) -> str | None:
        args = prop["args"]
        if prop["predicate"] in ("is_on_top", "is_inside"):
            receptacles = args["receptacle_handles"]
            for c in ep.task.get("constraints", []):
                if index in c.get("proposition_indices", []) and c["type"] == "SameArgConstraint":
                    return receptacles[0]
                if (
                    index in c.get("proposition_indices", [])
                    and c["type"] == "DifferentArgConstraint"
                ):
                    return receptacles[c["proposition_indices"].index(index) % len(receptacles)]
            return receptacles[0]
        if prop["predicate"] == "is_in_room":
            room = args["room_ids"][0]
            return sorted(
                h
                for h, f in ep.house["furniture"].items()
                if f["room"] == room and not f["container"] and f["type"] != "floor"
            )[0]
        if prop["predicate"] == "is_on_floor":
            where = self._where(ep, obj)
            return (
                floor_of(ep.house["furniture"][where]["room"])
                if where in ep.house["furniture"]
                else floor_of(ep.sim.agents[self.name]["room"])
            )
        if prop["predicate"] == "is_next_to":
            return self._where(ep, args["entity_handles_b"][0])
        if prop["predicate"] == "is_clustered":
            return self._where(ep, args["entity_handles"][0][0])
        return None

    def _jobs(self, ep: Episode) -> list[tuple[int, str, str, str | None]]:
        done = self._believed_done(ep)
        jobs = []
        # A proposition others wait on counts once achieved (the object may move on after it).
        stepping_stones = {
            b
            for c in ep.task.get("constraints", [])
            if c["type"] == "TemporalConstraint"
            for b, _ in c["dag_edges"]
        }
        stepping_stones |= {d for dep in ep.task.get("dependencies", []) for d in dep["depends_on"]}
        for i, prop in enumerate(ep.task["propositions"]):
            if done[i] or (i in stepping_stones and i in self.achieved):
                continue
            blocked = any(
                i == after and before not in self.achieved
                for c in ep.task.get("constraints", [])
                if c["type"] == "TemporalConstraint"
                for before, after in c["dag_edges"]
            ) or any(
                i in d["proposition_indices"]
                and not all(x in self.achieved for x in d["depends_on"])
                for d in ep.task.get("dependencies", [])
            )
            if blocked:
                continue
            args = prop["args"]
            objs = (
                args.get("object_handles")
                or args.get("entity_handles_a")
                or [h for g in args.get("entity_handles", []) for h in g][1:]
            )
            for obj in objs:
                if prop["predicate"] in STATE_OF:
                    jobs.append((i, obj, STATE_OF[prop["predicate"]], None))
                else:
                    jobs.append((i, obj, "move", self._target(ep, i, prop, obj)))
                break
        return jobs

    # --- acting --------------------------------------------------------------------------
    def act(self, ep: Episode) -> str:
        me = ep.sim.agents[self.name]
        last = ep.history[self.name][-1] if ep.history[self.name] else None
        if last and not last["ok"] and last["action"].startswith("Pick"):
            obj = last["action"][5:-1]
            self.stale[obj] = ep.graphs[self.name].objects.get(obj, {}).get("parent")
        jobs = self._jobs(ep)
        if not jobs:
            return "Done[]"
        partner = partner_of(self.name)
        claims = self._partner_claims(ep)
        if self.name == AGENTS[0]:  # the robot keeps an object both claimed
            claims.discard(self.announced)
        held = me["holding"]
        doable = [j for j in jobs if j[2] == "move" or j[2] in CAPABILITIES[self.name]]
        mine = [j for j in doable if j[1] == held] if held else []
        free = [
            j
            for j in doable
            if ep.graphs[self.name].objects.get(j[1], {}).get("parent") != partner
            and not (j[2] == "move" and j[1] in claims)
        ]
        job = (mine or free or [None])[0]
        if job is None and not doable and not held:  # what is left is the partner's to do
            return self._message(ep, None) or "Wait[]"
        message = self._message(ep, job)
        if message:
            return message
        if held and not mine:
            return self._put_down(ep, held)
        if job is None:
            return self._explore(ep)
        _, obj, kind, target = job
        if kind == "move" and held == obj:
            if target is None:
                return self._explore(ep)
            if me["at"] != target:
                return f"Navigate[{target}]"
            if target in ep.sim.open and not ep.sim.open[target]:
                return f"Open[{target}]"
            rel = "inside" if ep.house["furniture"][target]["container"] else "on"
            return f"Place[{obj}, {rel}, {target}]"
        where = self._where(ep, obj)
        if where is None:
            return self._explore(ep)
        if where != self.name and me["at"] != where:
            return f"Navigate[{where}]"
        if where in ep.sim.open and not ep.sim.open[where]:
            return f"Open[{where}]"
        if kind == "move":
            return f"Pick[{obj}]"
        return f"{kind}[{obj}]"

    def _put_down(self, ep: Episode, held: str) -> str:
        me = ep.sim.agents[self.name]
        floor = floor_of(me["room"])
        return f"Place[{held}, on, {floor}]" if me["at"] == floor else f"Navigate[{floor}]"

    def _explore(self, ep: Episode) -> str:
        """Unexplored rooms first (from its own), then closed containers not yet opened."""
        me = ep.sim.agents[self.name]
        rooms = ep.house["rooms"]
        start = rooms.index(me["room"])
        for room in rooms[start:] + rooms[:start]:
            if room not in self.explored:
                self.explored.add(room)
                return f"Explore[{room}]"
        for handle, is_open in ep.sim.open.items():
            if not is_open and handle not in self.explored:
                if me["at"] != handle:
                    return f"Navigate[{handle}]"
                self.explored.add(handle)
                return f"Open[{handle}]"
        return "Wait[]"

    def _message(self, ep: Episode, job) -> str | None:
        """Dialogue: tell the partner new facts about the task's objects and what I will handle,
        leaving out what it already knows from watching me."""
        if not self.talk or ep.condition != "dialogue" or ep.t - self.last_message < self.min_gap:
            return None
        partner = partner_of(self.name)
        for h in ep.history[self.name]:
            if h["ok"]:
                self.told |= set(action_facts(self.name, h["action"]))
        task_objs = {o for p in ep.task["propositions"] for o in _objects(p)}
        mine = ep.graphs[self.name].objects
        new = sorted(
            f
            for o in task_objs & set(mine)
            for f in entry_facts(o, mine[o])
            if f not in self.told and f[2] != partner
        )
        claim = job[1] if job else None
        if not new and claim == self.announced:
            return None
        parts = [fact_text(f) for f in new]
        if claim and claim != self.announced:
            parts.append(claim_text(claim))
            self.announced = claim
        if not parts:
            return None
        self.told |= set(new)
        self.last_message = ep.t
        return "SendMessage[" + ". ".join(parts) + ".]"


def _objects(prop: dict) -> list[str]:
    args = prop["args"]
    out = list(args.get("object_handles", [])) + list(args.get("entity_handles_a", []))
    out += list(args.get("entity_handles_b", []))
    for group in args.get("entity_handles", []):
        out += list(group)
    return out

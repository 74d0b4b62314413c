"""One episode in one condition: the simulator, both agents' world graphs, what each has seen of
the other, the messages in transit, and a JSONL-ready row per step.

Silent (PARTNR's baseline): an agent sees the partner's actions when it can observe them
(`partner_visibility: same_room`, the default: both in one room after the step; `always`: every
action, the earlier variant), and an observed successful Pick, Place or state change of the
partner enters its world graph. What it does not see leaves its beliefs stale. Dialogue adds
SendMessage, delivered by a configurable rule (delay in steps; to any room or only when both
share a room); the facts a delivered message grounds are merged into the recipient's graph
when merge_messages is on.
"""

from __future__ import annotations

import re

from reprolab.papers.partnr_dialogue.grounding import ground
from reprolab.papers.partnr_dialogue.sim import (
    AGENTS,
    CAPABILITIES,
    STATE_ACTIONS,
    Simulator,
    parse_action,
)
from reprolab.papers.partnr_dialogue.world_graph import WorldGraph, snapshot_facts

CONDITIONS = ("silent", "dialogue")
VISIBILITY = ("same_room", "always")


def partner_of(agent: str) -> str:
    return AGENTS[1 - AGENTS.index(agent)]


def action_facts(agent: str, action: str) -> list[tuple[str, str, str]]:
    """What a successful action tells an onlooker about the world."""
    parsed = parse_action(action)
    if parsed is None:
        return []
    name, args = parsed
    if name == "Pick" and len(args) == 1:
        return [(args[0], "held", agent)]
    if name == "Place" and len(args) == 3:
        return [(args[0], args[1], args[2])]
    if name in STATE_ACTIONS and len(args) == 1:
        state, value = STATE_ACTIONS[name]
        return [(args[0], state, str(value).lower())]
    return []


class Episode:
    def __init__(self, spec: dict, condition: str, settings: dict):
        if condition not in CONDITIONS:
            raise ValueError(f"unknown condition '{condition}'; expected one of {CONDITIONS}")
        self.spec, self.condition = spec, condition
        self.house, self.task = spec["house"], spec["task"]
        self.budget = settings["action_budget"]
        self.delivery = settings.get("delivery", {"delay": 0, "scope": "any"})
        self.merge_messages = settings.get("merge_messages", True)
        self.visibility = settings.get("partner_visibility", "same_room")
        if self.visibility not in VISIBILITY:
            raise ValueError(
                f"sim.partner_visibility '{self.visibility}': expected one of {VISIBILITY}"
            )
        self.sim = Simulator(self.house, spec["start_rooms"], spec["seed"])
        self.graphs = {a: WorldGraph() for a in AGENTS}
        self.history: dict[str, list[dict]] = {a: [] for a in AGENTS}
        # The partner's actions each agent observed (its own view of the partner's history).
        self.observed: dict[str, list[dict]] = {a: [] for a in AGENTS}
        self.inbox: dict[str, list[dict]] = {a: [] for a in AGENTS}
        self.pending: list[dict] = []
        self.done = {a: False for a in AGENTS}
        self.t = 0
        for agent in AGENTS:  # each starts having looked around its start room
            for obj, entry in self.sim.visible(agent, spec["start_rooms"][agent]).items():
                self.graphs[agent].observe(obj, entry)
        self.rows: list[dict] = [self._row({}, {}, [], {})]

    @property
    def finished(self) -> bool:
        return all(self.done.values()) or self.t >= self.budget

    def active(self, agent: str) -> bool:
        return not self.finished and not self.done[agent]

    def valid_actions(self, agent: str) -> list[str]:
        """What the agent may try now, from where it stands and what it believes."""
        me = self.sim.agents[agent]
        graph = self.graphs[agent].objects
        acts = [f"Explore[{r}]" for r in self.house["rooms"]]
        words = set(re.findall(r"[A-Za-z0-9_]+", self.task["instruction"]))
        mentioned = set(self.house["furniture"]) & words
        believed = {e.get("parent") for e in graph.values()} & set(self.house["furniture"])
        for handle, f in self.house["furniture"].items():
            if handle != me["at"] and (f["room"] == me["room"] or handle in mentioned | believed):
                acts.append(f"Navigate[{handle}]")
        at = me["at"]
        if me["holding"]:
            held = me["holding"]
            if at is not None:
                rel = "inside" if self.house["furniture"][at]["container"] else "on"
                acts.append(f"Place[{held}, {rel}, {at}]")
        elif at is not None:
            for obj, entry in sorted(graph.items()):
                if entry.get("parent") == at:
                    acts.append(f"Pick[{obj}]")
        if at in self.sim.open:
            acts.append(f"Close[{at}]" if self.sim.open[at] else f"Open[{at}]")
        near = [
            o
            for o, e in sorted(graph.items())
            if e.get("parent") == agent or (at is not None and e.get("parent") == at)
        ]
        for name, (state, _) in STATE_ACTIONS.items():
            if name in CAPABILITIES[agent]:
                acts += [
                    f"{name}[{o}]" for o in near if state in self.house["objects"][o]["states"]
                ]
        acts += ["Wait[]", "Done[]"]
        return acts

    def step(self, actions: dict[str, str], meta: dict[str, dict] | None = None) -> dict:
        """Advance one step; agents that are done wait. Returns the logged row."""
        meta = meta or {}
        actions = {a: (actions.get(a, "Wait[]") if not self.done[a] else "Wait[]") for a in AGENTS}
        for a, act in actions.items():
            if act.startswith("SendMessage") and self.condition != "dialogue":
                actions[a] = "Wait[]"
        results = self.sim.step(actions)
        self.t += 1
        sent = []
        for agent in AGENTS:
            for obj, entry in results[agent].pop("seen").items():
                self.graphs[agent].observe(obj, entry, self.t)
            act, ok = actions[agent], results[agent]["ok"]
            self.history[agent].append(
                {"step": self.t, "action": act, "ok": ok, "reason": results[agent]["reason"]}
            )
            partner = partner_of(agent)
            if self.sees(partner, agent):
                self.observed[partner].append(self.history[agent][-1])
                if ok:
                    for fact in action_facts(agent, act):  # the partner watches it happen
                        self.graphs[partner].merge_fact(fact, self.t)
            if ok and act.startswith("SendMessage"):
                text = parse_action(act)[1][0]
                sent.append(self._send(agent, text))
            if ok and act.startswith("Done"):
                self.done[agent] = True
        delivered = self._deliver()
        self.rows.append(self._row(actions, results, sent, meta, delivered))
        return self.rows[-1]

    def sees(self, watcher: str, actor: str) -> bool:
        """Whether `watcher` observes `actor`'s action of this step."""
        if self.visibility == "always":
            return True
        return self.sim.agents[watcher]["room"] == self.sim.agents[actor]["room"]

    def _send(self, agent: str, text: str) -> dict:
        to = partner_of(agent)
        same_room = self.sim.agents[agent]["room"] == self.sim.agents[to]["room"]
        lost = self.delivery.get("scope", "any") == "same_room" and not same_room
        message = {
            "from": agent,
            "to": to,
            "text": text,
            "sent": self.t,
            "arrives": None if lost else self.t + self.delivery.get("delay", 0),
            # What the recipient believed when it was sent: the base of novelty and BSM.
            "recipient_facts": self.graphs[to].to_json(),
            "sender_facts": self.graphs[agent].to_json(),
        }
        if not lost:
            self.pending.append(message)
        return message

    def _deliver(self) -> list[dict]:
        arrived = [m for m in self.pending if m["arrives"] <= self.t]
        self.pending = [m for m in self.pending if m["arrives"] > self.t]
        for m in arrived:
            self.inbox[m["to"]].append({"from": m["from"], "text": m["text"], "step": m["sent"]})
            if self.merge_messages:  # the sender wrote it knowing the world up to the last step
                for fact in ground(m["text"], self.house, list(AGENTS)):
                    self.graphs[m["to"]].merge_fact(fact, m["sent"] - 1)
        return [{"from": m["from"], "to": m["to"], "sent": m["sent"]} for m in arrived]

    def _row(self, actions, results, sent, meta, delivered=()) -> dict:
        snapshot = self.sim.snapshot()
        return {
            "kind": "step",
            "episode": self.spec["id"],
            "condition": self.condition,
            "step": self.t,
            "actions": actions,
            "results": {a: {"ok": r["ok"], "reason": r["reason"]} for a, r in results.items()},
            "messages": sent,
            "delivered": list(delivered),
            "meta": meta,
            "graphs": {a: self.graphs[a].to_json() for a in AGENTS},
            "truth": sorted([list(f) for f in snapshot_facts(snapshot)]),
            "snapshot": snapshot,
            "done": dict(self.done),
        }

    def header(self) -> dict:
        return {
            "kind": "episode",
            "episode": self.spec["id"],
            "condition": self.condition,
            "task_type": self.task["type"],
            "house": self.house,
            "task": self.task,
            "budget": self.budget,
        }

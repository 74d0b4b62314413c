"""The note's stages 5-6 with an LLM (full scale): each planned trajectory (a template
dialogue's goal list, dependencies and agentic attributes) is written as a dialogue by the
model from the authors' generation prompt, screened by their PASS/FAIL verifier (a rejected or
too short dialogue is written again, up to `tries` times, each try with its own seed), and the
accepted dialogue's gold statuses are annotated turn by turn with the authors' status prompt,
as their annotate_dialogue_status.py does. Every trajectory is one episode of the core runner:
all trajectories step in lockstep, one batched call per request kind and sampling setting.

The prompts are the authors' functions read at the pinned commit (upstream.py); what is this
project's is the plumbing: the turn parser, the JSON reading of the status reply and the
transition check against this paper's lifecycle."""

from __future__ import annotations

import re
from collections.abc import Callable

from reprolab.episodes import Episode, Request
from reprolab.inference import SamplingParams
from reprolab.papers.atod import lifecycle as lc
from reprolab.tools import json_object

TURN = re.compile(r"(USER|SYSTEM)\s*:\s*(.+?)(?=(?:USER|SYSTEM)\s*:|$)", re.DOTALL | re.IGNORECASE)


def parse_turns(reply: str) -> list[dict]:
    """USER/SYSTEM utterances of a reply, in order, empty ones dropped."""
    out = []
    for speaker, text in TURN.findall(reply):
        text = " ".join(text.split())
        if text:
            out.append({"speaker": speaker.upper(), "utterance": text})
    return out


def trajectory(plan: dict) -> dict:
    """A template dialogue as the authors' generator input: its goal list (ids, domains,
    intents, slot values, dependencies, contents), complexity, and the agentic attributes it
    shows (asynchronous completion, interleaving, proactivity, dependencies, failures)."""
    turns = plan["turns"]
    pending: set[str] = set()
    interleaved = False
    for t in turns:
        for ch in t["goal_status_changes"]:
            if ch["to"] == lc.OPEN and pending:
                interleaved = True
            if ch["to"] == lc.PENDING:
                pending.add(ch["goal_id"])
            elif ch["to"] in lc.TERMINAL:
                pending.discard(ch["goal_id"])
    proactive = any(t["proactive_goals"] for t in turns)
    keep = ("id", "domain", "intent", "slot_values", "content", "core_content", "dependencies")
    return {
        "dialogue_id": plan["dialogue_id"],
        "complexity_class": plan["complexity_class"],
        "goal_list": [{k: g[k] for k in keep} for g in plan["goal_list"]],
        "metadata": {
            "async_execution": proactive,
            "interleaving": interleaved,
            "proactivity": proactive,
            "estimated_turns": len(turns),
        },
        "dependency_label": plan["n_dependencies"] > 0,
        "defectiveness_label": any(g["status"] == lc.FAILED for g in plan["goal_list"]),
        "planned": {g["id"]: g["status"] for g in plan["goal_list"]},
    }


def steps_to(before: str, after: str) -> list[str] | None:
    """The lifecycle steps from `before` to `after` ([] when equal), through the statuses in
    between when the model skips them (not_mentioned -> pending passes open); None when the
    lifecycle does not lead there (backwards, or out of a terminal status)."""
    if after == before:
        return []
    frontier: list[list[str]] = [[before]]
    while frontier:
        path = frontier.pop(0)
        for nxt in sorted(lc.ALLOWED[path[-1]]):
            if nxt == after:
                return path[1:] + [nxt]
            frontier.append(path + [nxt])
    return None


def read_statuses(reply: str, current: dict[str, str]) -> dict[str, str] | None:
    """The statuses a status reply names ({goal_id: {"status": s}} or {goal_id: s}, the outermost
    JSON object of the reply); goals it leaves out keep theirs; None when no JSON object."""
    data = json_object(reply)
    if data is None:
        return None
    out = dict(current)
    for gid in current:
        value = data.get(gid)
        if isinstance(value, dict):
            value = value.get("status")
        if isinstance(value, str) and value.strip().lower() in lc.STATUSES:
            out[gid] = value.strip().lower()
    return out


class Writer(Episode):
    """One trajectory: write, verify (again on FAIL, up to `tries`), then annotate each
    utterance's goal statuses in order. `prompts` are the authors' builders."""

    def __init__(self, traj: dict, prompts: dict[str, Callable], settings: dict, seed: int):
        self.traj = traj
        self.id = traj["dialogue_id"]
        self.p = prompts
        self.s = settings
        self.seed = seed
        self.tries = 0
        self.state = "write"
        self.turns: list[dict] = []
        self.current = {g["id"]: lc.NOT_MENTIONED for g in traj["goal_list"]}
        self.goals = {
            g["id"]: {**g, "status": lc.NOT_MENTIONED, "status_history": [],
                      "first_mentioned_turn": None, "completion_turn": None}
            for g in traj["goal_list"]
        }  # fmt: skip
        self.verdicts: list[str] = []
        self.unread = 0  # status replies without a JSON object (statuses kept)
        self.refused = 0  # transitions the lifecycle does not allow (statuses kept)
        self.done = False

    def _params(self, key: str, offset: int = 0) -> SamplingParams:
        p = self.s[key]
        return SamplingParams(
            max_new_tokens=p["max_new_tokens"], temperature=p["temperature"],
            top_p=p.get("top_p", 1.0), seed=self.seed + offset,
        )  # fmt: skip

    def requests(self) -> list[Request]:
        if self.state == "write":
            prompt = self.p["dialogue_generation_prompt"](self.traj)
            chat = [{"role": "user", "content": prompt}]
            return [Request("generate", "generator", chat, self._params("generate", self.tries))]
        if self.state == "verify":
            shown = {**self.traj, "turns": self.turns}
            chat = [{"role": "user", "content": self.p["dialogue_verifier_prompt"](shown)}]
            return [Request("generate", "verifier", chat, self._params("verify"))]
        t = len(self.annotated)
        turn = self.turns[t]
        who = "User" if turn["speaker"] == "USER" else "System"
        goals = list(self.traj["goal_list"])
        prompt = self.p["status_prompt"](f"{who}: {turn['utterance']}", goals, self.current)
        chat = [{"role": "user", "content": prompt}]
        return [Request("generate", "annotator", chat, self._params("annotate"))]

    def _retry(self, why: str) -> None:
        self.verdicts.append(why)
        self.tries += 1
        if self.tries >= self.s["tries"]:
            self.done = True
        else:
            self.state = "write"

    def receive(self, replies: list) -> None:
        reply = replies[0]
        if self.state == "write":
            # A reply longer than max_turns is cut there (the annotation's step budget).
            self.turns = parse_turns(reply)[: self.s["max_turns"]]
            if len(self.turns) < self.s["min_turns"]:
                self._retry("short")
            elif self.s["use_verifier"]:
                self.state = "verify"
            else:
                self._accept()
        elif self.state == "verify":
            if self.p["one_word_verdict"](reply):
                self.verdicts.append("PASS")
                self._accept()
            else:
                self._retry("FAIL")
        else:
            self._annotate(reply)

    def _accept(self) -> None:
        self.state = "annotate"
        self.annotated: list[dict] = []

    def _annotate(self, reply: str) -> None:
        t = len(self.annotated)
        said = read_statuses(reply, self.current)
        if said is None:
            self.unread += 1
            said = dict(self.current)
        changes = []
        for gid, status in said.items():
            path = steps_to(self.current[gid], status)
            if path is None:
                self.refused += 1
                continue
            g = self.goals[gid]
            changes += [lc.move(g, gid, step, t) for step in path]
            self.current[gid] = g["status"]
        self.annotated.append(
            {
                "turn_id": t,
                **self.turns[t],
                "goal_status_changes": changes,
                "proactive_goals": [],
                "all_goals": dict(self.current),
            }
        )
        if len(self.annotated) == len(self.turns):
            self.done = True

    @property
    def accepted(self) -> bool:
        return self.state == "annotate" and self.done

    def result(self) -> dict:
        """The annotated dialogue in the template dialogues' schema (and how it was made)."""
        goals = list(self.goals.values())
        n = len(goals)
        return {
            "dialogue_id": self.id,
            "n_goals": n,
            "n_dependencies": sum(len(g["dependencies"]) for g in goals),
            "complexity_class": self.traj["complexity_class"],
            "goal_list": goals,
            "turns": self.annotated,
            "generation": {
                "tries": self.tries + 1,
                "verdicts": self.verdicts,
                "unread_status_replies": self.unread,
                "refused_transitions": self.refused,
                "planned": self.traj["planned"],
            },
        }


def write(plans: list[dict], handlers: dict, prompts: dict[str, Callable], settings: dict,
          seed: int) -> tuple[list[dict], list[dict], list]:  # fmt: skip
    """(accepted dialogues, rejected trajectories with their verdicts, the runner's log rows):
    every trajectory an episode, stepped in lockstep."""
    from reprolab.episodes import Runner
    from reprolab.papers.atod.atod_eval import proactive_turns

    eps = [Writer(trajectory(p), prompts, settings, seed) for p in plans]
    # Each try: write and verify; then one step per utterance (max_turns bounds a reply).
    steps = 2 * settings["tries"] + settings["max_turns"] + 1
    rows = Runner(handlers).run(eps, steps, name="atod llm generator")
    accepted, rejected = [], []
    for e in eps:
        if e.accepted:
            d = e.result()
            for turn, gid in proactive_turns(d):
                turn["proactive_goals"].append(gid)
            for g in d["goal_list"]:
                lc.check_history(g["status_history"])
            accepted.append(d)
        else:
            rejected.append({"dialogue_id": e.id, "tries": e.tries, "verdicts": e.verdicts,
                             "finished": e.done})  # fmt: skip
    return accepted, rejected, rows

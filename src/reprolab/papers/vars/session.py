"""Multi-session collaboration episodes: one episode per (method, profile) walks through every
session of that profile (z_L and the memory carry over, z_S resets), and all episodes step in
lockstep through the core runner. Each agent turn is five runner steps, the same in every
episode (an episode with nothing to ask returns []): embed (the user's turn, the rewritten
query, new cards; the previous turn's reward and update happen here), rerank (log p(yes | q,
note) of the dense candidates), draft (the backbone's answer), user (the LLM simulator at full
scale, with the compliance judge of preferences that have no checker; the rule-based user
answers on the spot), extract (the LLM extractor at full scale; at a session's end under the
LLM user, the success judge of its final draft and Reflection's note rewrite)."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

import numpy as np

from reprolab.episodes import Episode, Request
from reprolab.inference import SamplingParams
from reprolab.papers.vars import agent as ag
from reprolab.papers.vars import benchmark as bm
from reprolab.papers.vars import harness as hz
from reprolab.papers.vars.simulator import UserSim
from reprolab.tools import json_object

PHASES = ("embed", "rerank", "draft", "user", "extract")
# A stated preference: "When <condition>, <action>." up to the next one or the message's end.
WHEN = re.compile(r"When ([^,]{1,128}), (.{1,256}?)\.(?=\s+When |\s*$)")


def rule_extract(message: str) -> list[dict]:
    """The rule-based extractor (tiny): every 'When <condition>, <action>.' the user states."""
    return [
        {"condition": c.strip(), "action": a.strip(), "confidence": 1.0}
        for c, a in WHEN.findall(message)
    ]


def parse_extraction(reply: str) -> list[dict]:
    """The LLM extractor's {"preferences": [{condition, action, confidence}]} (invalid: [])."""
    prefs = (json_object(reply) or {}).get("preferences")
    out = []
    for p in prefs if isinstance(prefs, list) else []:
        if isinstance(p, dict) and p.get("condition") and p.get("action"):
            out.append(
                {
                    "condition": str(p["condition"])[:128],
                    "action": str(p["action"])[:256],
                    "confidence": float(p.get("confidence", 1.0) or 0.0),
                }
            )
    return out


@dataclass
class Card:
    condition: str
    action: str
    origin: str  # extracted or decoy
    e: np.ndarray | None = None
    v: np.ndarray | None = None

    @property
    def note(self) -> str:
        return f"When {self.condition}, {self.action}."


@dataclass(frozen=True)
class Note:
    """A Reflection note injected whole: a rule's note (rule-based) or the rewritten notes."""

    note: str


@dataclass
class Method:
    name: str
    memory: bool = False  # extract cards into a memory
    retrieval: bool = False  # retrieve from it (else: reflection notes or nothing)
    vectors: bool = False  # the VARS score and update
    reflection: bool = False
    shuffle_reward: bool = False
    hyper: ag.Hyper = field(default_factory=ag.Hyper)


def methods(cfg: dict) -> dict[str, Method]:
    """The methods of the config's `methods` block (flags and overrides of the VARS defaults)."""
    base = cfg["vars"]
    out = {}
    for name, spec in cfg["methods"].items():
        spec = dict(spec)
        flags = {
            k: spec.pop(k)
            for k in ("memory", "retrieval", "vectors", "reflection", "shuffle_reward")
            if k in spec
        }
        out[name] = Method(name, **flags, hyper=ag.Hyper(**{**base, **spec}))
    return out


@dataclass
class Turn:
    """What the update of a turn needs once the user's next turn is embedded."""

    e_query: np.ndarray
    vectors: np.ndarray
    chosen: list[int]
    probs: np.ndarray
    max_cos: float


class Collab(Episode):
    def __init__(self, method, profile, rules, tasks, settings, projection, sim: UserSim, seed):
        self.id = f"{method.name}/{profile['id']}"
        self.method = method
        self.profile = profile
        self.rules = rules  # the profile's hz.Rule objects
        self.tasks = tasks
        self.cfg = settings
        self.projection = projection
        self.sim = sim
        self.rng = random.Random(f"{seed}-{self.id}")
        self.state = ag.UserState.zeros(projection.components.shape[0])
        self.memory: list[Card] = []
        self.notes: list[Note] = []  # reflection's session-end notes
        self.agent_notes = ""  # the LLM rewrite's notes (the benchmark starts from "")
        self.roles: list[str] = []  # the roles of the last requests (to split their replies)
        for d in settings.get("decoys_of", {}).get(profile["id"], []) if method.memory else []:
            self.memory.append(Card(d["condition"], d["action"], "decoy"))
        self.by_note = {r.note: r for r in hz.library()}
        self.sessions: list[dict] = []
        self.turns: list[dict] = []  # per-turn rewards, gates, norms
        self.session = -1
        self.phase = 0
        self.pending: Turn | None = None
        self.ended = False  # the current session ended; its last reward is still to come
        self._start_session()

    # --- sessions -------------------------------------------------------------------------
    def _start_session(self) -> None:
        self.session += 1
        if self.session >= len(self.tasks):
            self.done = True
            return
        self.task = self.tasks[self.session]
        self.state.new_session()
        self.query = self.task["text"]
        self.e_query = None
        self.turn = 0
        self.attempt = 0
        self.wrong = 0
        self.terminated = False  # the LLM user said TERMINATE
        self.enforced: list[hz.Rule] = []
        self.injected_before: list[hz.Rule] = []
        self.record = {
            "session": self.session,
            "task": self.task["id"],
            "domain": self.task["domain"],
            "user_tokens": len(self.query.split()),
            "enforced_rules": 0,
            "enforcing_turns": 0,
            "turns": 0,
            "success": 0,
            "timeout": 0,
            "gave_up": 0,
            "z_long_norm_start": float(np.linalg.norm(self.state.z_long)),
            "z_short_norm_start": float(np.linalg.norm(self.state.z_short)),
        }
        self.record.update(self.sim.judge_counters(self))
        self.sim.start(self)

    def _end_session(self) -> None:
        self.record["z_long_norm"] = float(np.linalg.norm(self.state.z_long))
        self.record["z_short_norm"] = float(np.linalg.norm(self.state.z_short))
        self.sessions.append(self.record)
        if not self.method.reflection:
            return
        r = self.cfg.get("reflection")
        if r is not None and r["kind"] == "llm":  # the rewritten notes, injected whole
            self.notes = [Note(self.agent_notes)] if self.agent_notes else []
            return
        seen = {c.note for c in self.notes}  # rule-based: every preference enforced so far
        for rule in self.enforced:
            if rule.note not in seen:
                self.notes.append(Note(rule.note))
                seen.add(rule.note)
        self.notes = self.notes[-self.cfg["reflection_max_notes"] :]

    # --- the runner's protocol -------------------------------------------------------------
    def requests(self) -> list[Request]:
        asked = getattr(self, f"_ask_{PHASES[self.phase]}")()
        self.roles = [r.role for r in asked]
        return asked

    def _of(self, replies: list, role: str) -> list:
        """The replies to the last requests of one role, in order."""
        return [x for x, r in zip(replies, self.roles, strict=True) if r == role]

    def receive(self, replies: list) -> None:
        getattr(self, f"_got_{PHASES[self.phase]}")(replies)
        self.phase = (self.phase + 1) % len(PHASES)

    # embed: the user's turn, the rewritten query, cards without an embedding
    def _texts(self) -> list[str]:
        rewritten = f"user preferences for {self.task['domain']} tasks: {self.query}"
        fresh = [c.note for c in self.memory if c.e is None]
        return [self.query, rewritten, *fresh]

    def _ask_embed(self):
        return [Request("embed", "embed", t) for t in self._texts()]

    def _got_embed(self, replies):
        e_q, e_rq, *cards = [np.asarray(x, dtype=np.float64) for x in replies]
        for card, e in zip([c for c in self.memory if c.e is None], cards, strict=True):
            card.e, card.v = e, self.projection(e)[0]
        if self.pending is not None:  # the previous turn's reward from this user turn
            self._learn(e_q)
        if self.ended:
            self.ended = False
            self._end_session()
            self._start_session()
            if self.done:
                return
            self.phase = -1  # embed again: the new session's opening turn
            return
        self.e_query, self.e_rquery = e_q, e_rq
        self._retrieve()

    def _learn(self, e_next: np.ndarray) -> None:
        t, self.pending = self.pending, None
        cos = float(t.e_query @ e_next)
        r = ag.keyword_reward(
            self.last_user, cos, self.cfg["keywords"]["negative"], self.cfg["keywords"]["positive"]
        )
        g = ag.gate(r, t.max_cos)
        self.state.history.append(r)
        used = self.rng.choice(self.state.history) if self.method.shuffle_reward else r
        step = np.zeros(1)
        if self.method.vectors and len(t.chosen):
            step = ag.update(self.state, t.vectors, t.chosen, t.probs, used, g, self.method.hyper)
        self.turns.append(
            {
                "session": self.record["session"],
                "reward": r,
                "gate": g,
                "step_norm": float(np.linalg.norm(step)),
            }
        )

    def _retrieve(self) -> None:
        """The injected cards (globals directly; the rest by dense top-k and, after rerank, by
        the score), and what the update will need."""
        self.candidates: list[Card] = []
        self.globals: list[Card] = []
        self.chosen_cards: list[Card] = []
        if self.method.reflection:
            self.globals = list(self.notes)
        if not (self.method.memory and self.method.retrieval):
            return
        self.globals = [c for c in self.memory if ag.is_global(c.condition)][
            : self.cfg["max_global"]
        ]
        rest = [c for c in self.memory if not ag.is_global(c.condition)]
        if not rest:
            return
        keys = np.stack([c.e for c in rest])
        dense = np.maximum(keys @ self.e_query, keys @ self.e_rquery)
        top = np.argsort(-dense, kind="stable")[: self.cfg["dense_top_k"]]
        self.candidates = [rest[i] for i in top]

    def _rerank_prompt(self, card: Card) -> list[dict]:
        return [
            {"role": "system", "content": self.cfg["rerank_instruction"]},
            {"role": "user", "content": f"<Query>: {self.query}\n<Document>: {card.note}"},
        ]

    def _ask_rerank(self):
        if not self.candidates or not self.cfg["reranker"]:
            return []
        return [
            Request("score_candidates", "rerank", (self._rerank_prompt(c), [" yes", " no"]))
            for c in self.candidates
        ]

    def _got_rerank(self, replies):
        self.chosen_cards: list[Card] = []
        if not self.candidates:
            return
        if replies:
            pairs = np.asarray(replies, dtype=np.float64)
            s0 = pairs[:, 0] - np.logaddexp(pairs[:, 0], pairs[:, 1])  # log p(yes) of {yes, no}
        else:
            s0 = np.zeros(len(self.candidates))
        vectors = np.stack([c.v for c in self.candidates])
        h = self.method.hyper
        s = ag.scores(s0, vectors, self.state, h) if self.method.vectors else s0
        probs = ag.softmax(s, h.tau)
        j = self.cfg["slots"][self.task["domain"]]
        chosen = [int(i) for i in np.argsort(-s, kind="stable")[:j]]
        self.chosen_cards = [self.candidates[i] for i in chosen]
        mem = np.stack([c.e for c in self.memory])
        self.pending = Turn(self.e_query, vectors, chosen, probs, float((mem @ self.e_query).max()))

    # draft: the backbone's answer (the executor adds the style lines of the rules in context)
    def injected(self) -> list[Card]:
        return [*self.globals, *self.chosen_cards]

    def _ask_draft(self):
        return self.sim.draft_requests(self)

    def _got_draft(self, replies):
        self.reply = self.sim.reply_from(self, replies)

    def _ask_user(self):
        return self.sim.user_requests(self)

    def _got_user(self, replies):
        self.sim.user_turn(self, replies)

    def _ask_extract(self):
        return [
            *self.sim.extract_requests(self),
            *self.sim.success_requests(self),
            *self.sim.reflection_requests(self),
        ]

    def _got_extract(self, replies):
        for v in self._of(replies, "success"):
            self.sim.settle(self, v.label == bm.ACCURACY_LABELS[0], failed=v.label is None)
        for reply in self._of(replies, "reflect"):
            notes = bm.parse_notes(reply)
            if notes is None:
                self.record["reflection_failures"] = 1
            else:
                self.agent_notes = notes
        if self.method.memory:
            known = {c.note for c in self.memory}
            for p in self.sim.extracted(self, self._of(replies, "extract")):
                card = Card(p["condition"], p["action"], "extracted")
                if card.note not in known:
                    self.memory.append(card)
                    known.add(card.note)
        self.query = self.last_user


def draft_params(cfg: dict, attempt: int, seed: int) -> SamplingParams:
    """Greedy first drafts; a seeded sample for each retry after the user said it was wrong."""
    temperature = 0.0 if attempt == 0 else cfg["retry_temperature"]
    return SamplingParams(cfg["max_new_tokens"], temperature, 1.0, seed + attempt)

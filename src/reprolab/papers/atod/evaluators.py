"""The three evaluators the paper compares, as lockstep episodes (core episodes.Runner), one
dialogue each, reading the dialogue utterance by utterance:

* `memory` (the paper's): a dual goal store (symbolic record: id, intent, status,
  dependencies, links; a MiniLM vector of its core content). Per utterance: goal extraction
  (ontology keywords; the clause that mentions the goal is its core content), existence check
  (exact core content, then cosine >= threshold over the top-k stored goals, then the model's
  equivalence judgement), update or add and link (top-3 related goals), and status tracking of
  every goal the utterance mentions, system turns included (the proactive tracker). The store
  keeps the lifecycle: a status only moves forward, a blocked goal cannot complete.
* `full_context`: at every gold status change (and at the end) reads the whole dialogue so far,
  cut to its last `window` tokens (the context the judge can take), and asks for the status.
* `summary`: the same over a recursive summary (rewritten by the model every `every`
  utterances) plus the utterances since.

Statuses are read by a reader (readers.py): `cue` or `lm`. Every evaluator reports its recalled
status at each gold status change (MRA), its final goals (detection, status accuracy,
dependencies) and the tokens it read."""

from __future__ import annotations

import numpy as np

from reprolab.episodes import Episode, Request
from reprolab.inference import SamplingParams
from reprolab.papers.atod import lifecycle as lc
from reprolab.papers.atod import ontology
from reprolab.papers.atod import readers as rd

RANK = {lc.NOT_MENTIONED: 0, lc.OPEN: 1, lc.PENDING: 2}


def lines(turns: list[dict]) -> list[str]:
    return [f"{t['speaker']}: {t['utterance']}" for t in turns if t["utterance"]]


def clip(texts: list[str], window: int | None, count) -> list[str]:
    """The last lines that fit in `window` tokens (all of them when window is None)."""
    if window is None:
        return texts
    kept, used = [], 0
    for line in reversed(texts):
        n = count(line)
        if used + n > window:
            break
        kept.append(line)
        used += n
    return kept[::-1]


def split_dependency(sentence: str) -> tuple[str, str] | None:
    """'<dependent part> once <prerequisite part>' -> both parts; None without the cue."""
    low = sentence.lower()
    if " once " not in low:
        return None
    i = low.index(" once ")
    return sentence[:i], sentence[i + 6 :]


def text_dependencies(text: str) -> list[tuple[str, str]]:
    """(prerequisite intent, dependent intent) pairs the text states."""
    out = []
    for sent in rd.sentences(text):
        parts = split_dependency(sent)
        if parts:
            for dep in ontology.intents_in(parts[0]):
                for pre in ontology.intents_in(parts[1]):
                    if dep != pre:
                        out.append((pre, dep))
    return out


def advance(current: str, new: str | None) -> str:
    """The store's update: a status moves forward only (terminal statuses stay)."""
    if new is None or current in lc.TERMINAL:
        return current
    if new in lc.TERMINAL or RANK.get(new, 0) > RANK.get(current, 0):
        return new
    return current


class _Base(Episode):
    def __init__(self, dialogue: dict, system: str, reader: str, settings: dict, count):
        self.id = dialogue["dialogue_id"]
        self.dialogue = dialogue
        self.system = system
        self.reader = reader
        self.s = settings
        self.count = count
        self.turns = dialogue["turns"]
        self.goals = {g["id"]: g for g in dialogue["goal_list"]}
        self.t = 0
        self.tokens = 0
        self.checkpoints: list[dict] = []
        self.final: dict[str, dict] = {}
        self.done = not self.turns

    def changes(self, t: int) -> list[dict]:
        return self.turns[t]["goal_status_changes"]

    def result(self) -> dict:
        return {
            "dialogue_id": self.id,
            "system": self.system,
            "n_goals": self.dialogue["n_goals"],
            "n_turns": len(self.turns),
            "tokens": self.tokens,
            "checkpoints": self.checkpoints,
            "final": [{"intent": i.split("#")[0], **v} for i, v in self.final.items()],
        }


class ContextJudge(_Base):
    """full_context and summary: a judge that reads a text view of the dialogue."""

    def __init__(self, dialogue, system, reader, settings, count, summarise: bool):
        super().__init__(dialogue, system, reader, settings, count)
        self.summarise = summarise
        self.summary = ""
        self.since = 0  # first utterance not yet folded into the summary
        self.asks: list[tuple] = []

    def view(self) -> str:
        recent = lines(self.turns[self.since if self.summarise else 0 : self.t + 1])
        head = [f"SUMMARY: {self.summary}"] if self.summarise and self.summary else []
        return "\n".join(clip(head + recent, self.s.get("window"), self.count))

    def requests(self) -> list[Request]:
        text = self.view()
        last = self.t == len(self.turns) - 1
        self.asks = []
        for ch in self.changes(self.t):
            goal = self.goals[ch["goal_id"]]
            self.asks.append(("cp", ch, goal["intent"], goal["core_content"]))
        if last:
            for intent in ontology.intents_in(text):
                self.asks.append(("final", None, intent, intent.replace("_", " ")))
        out, self.local = [], {}
        for k, (_, _, intent, goal) in enumerate(self.asks):
            self.tokens += self.count(text) + self.count(goal)
            seen = rd.cue_status(text, intent, self.s["lexicon"])
            if seen is None:
                self.local[k] = None  # not in the view: not mentioned, nothing to ask
            elif self.reader == "cue":
                self.local[k] = seen
            else:
                out.append(rd.lm_request(text, goal, self.s["prompts"], self.system))
        self.want_summary = (
            self.summarise and not last and (self.t + 1 - self.since) >= self.s["every"]
        )
        if self.want_summary:
            req = Request(
                "generate",
                f"{self.system}:summary",
                [
                    {
                        "role": "user",
                        "content": self.s["prompts"]["summary"].format(
                            summary=self.summary or "(none)",
                            turns="\n".join(lines(self.turns[self.since : self.t + 1])),
                        ),
                    }
                ],
                SamplingParams(self.s["summary_tokens"], 0.0, 1.0, self.s["seed"]),
            )
            self.tokens += rd.prompt_tokens(req, self.count)
            out.append(req)
        self.text = text
        return out

    def receive(self, replies: list) -> None:
        replies = list(replies)
        if self.want_summary:
            self.summary = str(replies.pop()).strip()
            self.since = self.t + 1
        it = iter(replies)
        for k, (kind, ch, intent, _) in enumerate(self.asks):
            status = self.local[k] if k in self.local else rd.lm_status(next(it))
            if kind == "cp":
                self.checkpoints.append(
                    {"turn": self.t, "goal_id": ch["goal_id"], "gold": ch["to"], "pred": status}
                )
            elif status is not None:
                self.final[intent] = {"status": status, "dependencies": []}
        if self.t == len(self.turns) - 1:
            for pre, dep in text_dependencies(self.text):
                if dep in self.final and pre in self.final:
                    self.final[dep]["dependencies"].append(pre)
            self.done = True
        self.t += 1


class Memory(_Base):
    """The memory-based evaluator: three runner phases per utterance (embed, equivalence,
    status), so that every episode's calls of a phase are one batch."""

    def __init__(self, dialogue, system, reader, settings, count):
        super().__init__(dialogue, system, reader, settings, count)
        self.store: list[dict] = []  # {intent, core, status, deps, links}
        self.vectors: list[np.ndarray] = []
        self.phase = 0

    # --- phase 0: extraction ------------------------------------------------------
    def _mentions(self) -> list[dict]:
        out = []
        for sent in rd.sentences(self.turns[self.t]["utterance"]):
            parts = split_dependency(sent)
            pieces = [(parts[0], "dependent"), (parts[1], "prerequisite")] if parts else []
            for text, role in pieces or [(sent, None)]:
                for intent in ontology.intents_in(text):
                    out.append({"intent": intent, "text": text.strip(), "role": role})
        return out

    def requests(self) -> list[Request]:
        if self.phase == 0:
            self.mentions = self._mentions()
            return [Request("embed", "memory:embed", m["text"]) for m in self.mentions]
        if self.phase == 1:
            return self._existence()
        return self._status()

    def _existence(self) -> list[Request]:
        out = []
        for m in self.mentions:
            m["goal"], m["candidates"] = None, []
            exact = [i for i, g in enumerate(self.store) if g["core"] == m["text"]]
            if exact:
                m["goal"] = exact[0]
                continue
            if not self.store:
                continue
            sims = np.stack(self.vectors) @ m["vector"]
            order = np.argsort(-sims, kind="stable")[: self.s["top_k"]]
            close = [int(i) for i in order if sims[i] >= self.s["cosine"]]
            if not close:
                continue
            m["candidates"] = close
            if self.reader == "cue":  # rule equivalence: the closest stored goal of the intent
                same = [i for i in close if self.store[i]["intent"] == m["intent"]]
                m["goal"] = same[0] if same else None
            else:  # the model judges each close candidate; the closest judged equal wins
                m["candidates"] = close[: self.s["judge_k"]]
                for i in m["candidates"]:
                    req = rd.equivalence_request(
                        self.store[i]["core"], m["text"], self.s["prompts"], "memory:equivalence"
                    )
                    self.tokens += self.count(self.store[i]["core"]) + self.count(m["text"])
                    out.append(req)
        return out

    def _add(self, m: dict) -> int:
        links = []
        if self.vectors:
            sims = np.stack(self.vectors) @ m["vector"]
            links = [int(i) for i in np.argsort(-sims, kind="stable")[:3]]
        self.store.append(
            {
                "intent": m["intent"],
                "core": m["text"],
                "status": lc.OPEN,
                "deps": [],
                "links": links,
            }
        )
        self.vectors.append(m["vector"])
        return len(self.store) - 1

    def _status(self) -> list[Request]:
        out = []
        utterance = self.turns[self.t]["utterance"]
        for m in self.mentions:
            g = self.store[m["goal"]]
            if self.reader == "cue":
                m["read"] = rd.cue_status(m["text"], m["intent"], self.s["lexicon"])
                self.tokens += self.count(m["text"]) + self.count(g["core"])
            else:
                req = rd.lm_request(utterance, g["core"], self.s["prompts"], "memory:status")
                self.tokens += self.count(utterance) + self.count(g["core"])
                out.append(req)
        return out

    def _blocked(self, goal: dict) -> bool:
        return any(self.store[d]["status"] != lc.COMPLETED for d in goal["deps"])

    def receive(self, replies: list) -> None:
        if self.phase == 0:
            for m, v in zip(self.mentions, replies, strict=True):
                m["vector"] = np.asarray(v, dtype=np.float32)
            self.phase = 1
            return
        if self.phase == 1:
            it = iter(replies)
            for m in self.mentions:
                if m["goal"] is None and self.reader != "cue":
                    verdicts = [next(it) for _ in m["candidates"]]
                    same = [
                        i
                        for i, (yes, no) in zip(m["candidates"], verdicts, strict=True)
                        if yes > no
                    ]
                    m["goal"] = same[0] if same else None
                if m["goal"] is None:
                    m["goal"] = self._add(m)
            dependent = [m["goal"] for m in self.mentions if m["role"] == "dependent"]
            for m in self.mentions:
                if m["role"] == "prerequisite":
                    for d in dependent:
                        if m["goal"] != d and m["goal"] not in self.store[d]["deps"]:
                            self.store[d]["deps"].append(m["goal"])
            self.phase = 2
            return
        it = iter(replies)
        for m in self.mentions:
            read = m["read"] if self.reader == "cue" else rd.lm_status(next(it))
            if m["role"] == "prerequisite":
                continue  # named as what another goal waits for: no news about it
            g = self.store[m["goal"]]
            new = advance(g["status"], read)
            if new == lc.COMPLETED and self._blocked(g):
                new = g["status"]  # a blocked goal cannot complete
            g["status"] = new
        for ch in self.changes(self.t):
            intent = self.goals[ch["goal_id"]]["intent"]
            held = next((g["status"] for g in self.store if g["intent"] == intent), None)
            self.checkpoints.append(
                {"turn": self.t, "goal_id": ch["goal_id"], "gold": ch["to"], "pred": held}
            )
        self.phase = 0
        self.t += 1
        if self.t >= len(self.turns):
            self.done = True
            self._finish()

    def _finish(self) -> None:
        self.final = {}
        for k, g in enumerate(self.store):
            key = g["intent"] if g["intent"] not in self.final else f"{g['intent']}#{k}"
            self.final[key] = {
                "status": g["status"],
                "dependencies": [self.store[d]["intent"] for d in g["deps"]],
            }
